import fc from 'fast-check';
import type { ContainerPort, Namespace, NetworkPolicy, Node, Pod, Policy, Snapshot } from '../../src/api/model.js';
import { labelsArb, networkPolicyArb, NAMESPACE_NAMES, NODE_NAMES, podIp, policyArb, POLICY_NAMES, PRIORITIES, scenarioArb, type Family, type ScenarioOptions } from './arbitraries.js';

// Random sequences of cluster changes, as an operator sees them one after another: CNPs added,
// changed (new rules, a new priority, or the same content as a new object) and deleted; pods
// added, deleted, relabelled, given new addresses or new container ports; NetworkPolicies
// added, changed and deleted; node labels and addresses; namespace labels. Changes pick their
// target by position (modulo what exists), so any change applies to any snapshot.

export type Change =
  | { readonly kind: 'cnp-set'; readonly policy: Policy }
  | { readonly kind: 'cnp-copy'; readonly pick: number }
  | { readonly kind: 'cnp-priority'; readonly pick: number; readonly priority: number }
  | { readonly kind: 'cnp-delete'; readonly pick: number }
  | { readonly kind: 'pod-add'; readonly namespace: number; readonly labels: Record<string, string>; readonly ports: number; readonly hostNetwork: boolean; readonly dualStack: boolean }
  | { readonly kind: 'pod-delete'; readonly pick: number }
  | { readonly kind: 'pod-labels'; readonly pick: number; readonly labels: Record<string, string> }
  | { readonly kind: 'pod-address'; readonly pick: number; readonly address: number; readonly dualStack: boolean }
  | { readonly kind: 'pod-ports'; readonly pick: number; readonly ports: number }
  | { readonly kind: 'np-set'; readonly np: NetworkPolicy }
  | { readonly kind: 'np-delete'; readonly pick: number }
  | { readonly kind: 'node-labels'; readonly pick: number; readonly labels: Record<string, string> }
  | { readonly kind: 'node-addresses'; readonly pick: number; readonly addresses: readonly string[] }
  | { readonly kind: 'namespace-labels'; readonly pick: number; readonly labels: Record<string, string> };

/** Container port sets: one name with two numbers across pods, names on different protocols, none. */
export const PORT_SETS: readonly (readonly ContainerPort[])[] = [
  [],
  [{ name: 'web', port: 80, protocol: 'TCP' }],
  [{ name: 'web', port: 8080, protocol: 'TCP' }],
  [
    { name: 'web', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ],
  [
    { name: 'dns', port: 53, protocol: 'TCP' },
    { name: undefined, port: 9003, protocol: 'SCTP' },
  ],
];

const NODE_ADDRESS_SETS: readonly (readonly string[])[] = [['172.18.0.2', 'fc00:f853::2'], ['172.18.0.3'], ['172.18.0.9', 'fc00:f853::9'], ['fc00:f853::3']];

export function changeArb(options: ScenarioOptions = {}): fc.Arbitrary<Change> {
  const pick = fc.nat({ max: 1000 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...POLICY_NAMES).chain((name) => policyArb(name, options)).map((policy): Change => ({ kind: 'cnp-set', policy })) },
    { weight: 1, arbitrary: pick.map((p): Change => ({ kind: 'cnp-copy', pick: p })) },
    { weight: 1, arbitrary: fc.record({ pick, priority: fc.constantFrom(...PRIORITIES) }).map((c): Change => ({ kind: 'cnp-priority', ...c })) },
    { weight: 1, arbitrary: pick.map((p): Change => ({ kind: 'cnp-delete', pick: p })) },
    {
      weight: 3,
      arbitrary: fc
        .record({ namespace: fc.nat({ max: NAMESPACE_NAMES.length - 1 }), labels: labelsArb, ports: fc.nat({ max: PORT_SETS.length - 1 }), hostNetwork: fc.boolean(), dualStack: fc.boolean() })
        .map((c): Change => ({ kind: 'pod-add', ...c, hostNetwork: c.hostNetwork && c.ports === 0 })),
    },
    { weight: 2, arbitrary: pick.map((p): Change => ({ kind: 'pod-delete', pick: p })) },
    { weight: 3, arbitrary: fc.record({ pick, labels: labelsArb }).map((c): Change => ({ kind: 'pod-labels', ...c })) },
    { weight: 2, arbitrary: fc.record({ pick, address: fc.nat({ max: 40 }), dualStack: fc.boolean() }).map((c): Change => ({ kind: 'pod-address', ...c })) },
    { weight: 2, arbitrary: fc.record({ pick, ports: fc.nat({ max: PORT_SETS.length - 1 }) }).map((c): Change => ({ kind: 'pod-ports', ...c })) },
    { weight: 2, arbitrary: fc.constantFrom('np-1', 'np-2', 'np-3').chain(networkPolicyArb).map((np): Change => ({ kind: 'np-set', np })) },
    { weight: 1, arbitrary: pick.map((p): Change => ({ kind: 'np-delete', pick: p })) },
    {
      weight: 1,
      arbitrary: fc.record({ pick, labels: fc.dictionary(fc.constantFrom('zone', 'role'), fc.constantFrom('a', 'b'), { maxKeys: 2 }) }).map((c): Change => ({ kind: 'node-labels', ...c })),
    },
    { weight: 1, arbitrary: fc.record({ pick, addresses: fc.constantFrom(...NODE_ADDRESS_SETS) }).map((c): Change => ({ kind: 'node-addresses', ...c })) },
    { weight: 1, arbitrary: fc.record({ pick, labels: labelsArb }).map((c): Change => ({ kind: 'namespace-labels', ...c })) },
  );
}

/** A starting scenario and the changes that follow it. */
export function changeSequenceArb(options: ScenarioOptions = {}, maxChanges = 8): fc.Arbitrary<{ family: Family; snapshot: Snapshot; changes: Change[] }> {
  return fc.record({ start: scenarioArb(options), changes: fc.array(changeArb(options), { minLength: 1, maxLength: maxChanges }) }).map(({ start, changes }) => ({ family: start.family, snapshot: start.snapshot, changes }));
}

const at = <T>(list: readonly T[], pick: number): number => (list.length === 0 ? -1 : pick % list.length);

function replaceAt<T>(list: readonly T[], i: number, item: T): T[] {
  return list.map((x, j) => (j === i ? item : x));
}

/** A pod's addresses: one of the family, or both families (a dual-stack pod). */
function addresses(index: number, family: Family, dualStack: boolean): string[] {
  return dualStack ? [podIp(index, 4), podIp(index, 6)] : [podIp(index, family)];
}

/**
 * The snapshot after a change. Unchanged objects stay the same objects (as the operator's
 * caches keep them); `serial` numbers new pods and addresses.
 */
export function applyChange(s: Snapshot, change: Change, family: Family, serial: number): Snapshot {
  switch (change.kind) {
    case 'cnp-set': {
      const i = s.policies.findIndex((p) => p.name === change.policy.name);
      return { ...s, policies: i < 0 ? [...s.policies, change.policy] : replaceAt(s.policies, i, change.policy) };
    }
    case 'cnp-copy': {
      const i = at(s.policies, change.pick);
      return i < 0 ? s : { ...s, policies: replaceAt(s.policies, i, structuredClone(s.policies[i]!)) };
    }
    case 'cnp-priority': {
      const i = at(s.policies, change.pick);
      return i < 0 ? s : { ...s, policies: replaceAt(s.policies, i, { ...s.policies[i]!, priority: change.priority, generation: (s.policies[i]!.generation ?? 0) + 1 }) };
    }
    case 'cnp-delete': {
      const i = at(s.policies, change.pick);
      return i < 0 ? s : { ...s, policies: s.policies.filter((_, j) => j !== i) };
    }
    case 'pod-add': {
      const node = NODE_NAMES[serial % NODE_NAMES.length]!;
      const nodeAddresses = s.nodes.find((n) => n.name === node)?.addresses ?? [];
      const pod: Pod = {
        namespace: NAMESPACE_NAMES[change.namespace]!,
        name: `pod-new-${serial}`,
        labels: change.labels,
        hostNetwork: change.hostNetwork,
        nodeName: node,
        ips: change.hostNetwork ? nodeAddresses.slice(0, 1) : addresses(20 + serial, family, change.dualStack),
        ports: PORT_SETS[change.ports]!,
      };
      return { ...s, pods: [...s.pods, pod] };
    }
    case 'pod-delete': {
      const i = at(s.pods, change.pick);
      return i < 0 ? s : { ...s, pods: s.pods.filter((_, j) => j !== i) };
    }
    case 'pod-labels': {
      const i = at(s.pods, change.pick);
      return i < 0 ? s : { ...s, pods: replaceAt(s.pods, i, { ...s.pods[i]!, labels: change.labels }) };
    }
    case 'pod-address': {
      const i = at(s.pods, change.pick);
      if (i < 0 || s.pods[i]!.hostNetwork) return s;
      // Addresses from a small range, so that pods come to share or swap them as they are reused.
      return { ...s, pods: replaceAt(s.pods, i, { ...s.pods[i]!, ips: addresses(change.address, family, change.dualStack) }) };
    }
    case 'pod-ports': {
      const i = at(s.pods, change.pick);
      return i < 0 || s.pods[i]!.hostNetwork ? s : { ...s, pods: replaceAt(s.pods, i, { ...s.pods[i]!, ports: PORT_SETS[change.ports]! }) };
    }
    case 'np-set': {
      const i = s.networkPolicies.findIndex((n) => n.name === change.np.name && n.namespace === change.np.namespace);
      return { ...s, networkPolicies: i < 0 ? [...s.networkPolicies, change.np] : replaceAt(s.networkPolicies, i, change.np) };
    }
    case 'np-delete': {
      const i = at(s.networkPolicies, change.pick);
      return i < 0 ? s : { ...s, networkPolicies: s.networkPolicies.filter((_, j) => j !== i) };
    }
    case 'node-labels': {
      const i = at(s.nodes, change.pick);
      return i < 0 ? s : { ...s, nodes: replaceAt<Node>(s.nodes, i, { ...s.nodes[i]!, labels: { ...change.labels, 'kubernetes.io/hostname': s.nodes[i]!.name } }) };
    }
    case 'node-addresses': {
      const i = at(s.nodes, change.pick);
      return i < 0 ? s : { ...s, nodes: replaceAt<Node>(s.nodes, i, { ...s.nodes[i]!, addresses: change.addresses }) };
    }
    case 'namespace-labels': {
      const i = at(s.namespaces, change.pick);
      return i < 0 ? s : { ...s, namespaces: replaceAt<Namespace>(s.namespaces, i, { name: s.namespaces[i]!.name, labels: { ...change.labels, 'kubernetes.io/metadata.name': s.namespaces[i]!.name } }) };
    }
  }
}
