import fc from 'fast-check';
import { parseCidr } from '../../src/api/ip.js';
import { failClosedRule } from '../../src/api/cnp.js';
import {
  EMPTY_SELECTOR,
  type Action,
  type Cidr,
  type ContainerPort,
  type Direction,
  type Namespace,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type NetworkPolicyRule,
  type Node,
  type Peer,
  type Pod,
  type Policy,
  type PortMatch,
  type Protocol,
  type Rule,
  type Selector,
  type Snapshot,
  type Tier,
} from '../../src/api/model.js';
import { canonicalSelector } from '../../src/api/selector.js';
import {
  labelsArb,
  namespaceSelectorArb,
  NAMESPACE_NAMES,
  NODE_NAMES,
  nodeIps,
  podIp,
  podSetArb,
  POLICY_NAMES,
  PRIORITIES,
  selectorArb,
  type Family,
  type Scenario,
} from './arbitraries.js';

// Random scenarios within what Cilium can express exactly (for the differential test of
// the Cilium translation, which must then match the reference evaluator on every flow):
//
// - every peer kind, action, tier, protocol, port ranges, named ports, fail-closed rules;
// - label selectors on labels Cilium keeps in identities (app, team, tier, namespace labels);
// - `networks` whose CIDRs contain every pod and node address or none of them (addresses
//   outside the cluster, or everything: Cilium only matches CIDRs outside the cluster);
// - `nodes` selectors that select every node or none (Cilium sees a pod's own node only as
//   `host`, whatever its labels);
// - container ports that give each name one number everywhere (web 80/TCP, dns 53/UDP) on
//   every pod, so named ports resolve to the same number on every destination;
// - NetworkPolicies Cilium enforces as Kubernetes specifies them: ipBlocks outside the
//   cluster, named ports only on ingress (Cilium up to 1.19 resolves egress names cluster-wide).

/** CIDR lists by what they contain: outside the cluster, every pod, every node, everything. */
const CIDR_SETS: readonly (readonly string[])[] = [
  ['192.0.2.0/24'],
  ['192.0.2.7/32', '198.51.100.0/24'],
  ['2001:db8::/32'],
  ['192.0.2.0/25', '2001:db8::7/128'],
  ['0.0.0.0/0', '::/0'],
  ['10.244.0.0/16', 'fd00:10:244::/48'],
  ['172.18.0.0/16', 'fc00::/8'],
  ['10.244.0.0/16', 'fd00:10:244::/48', '172.18.0.0/16', 'fc00::/8', '192.0.2.0/24'],
  ['0.0.0.0/0', '::/0', '192.0.2.0/24'],
];

const cidrOf = (text: string): Cidr => parseCidr(text)!.cidr;

/** Node selectors that select every node, or none. */
const NODE_SELECTORS: readonly Selector[] = [
  EMPTY_SELECTOR,
  canonicalSelector([{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }]),
  canonicalSelector([{ key: 'zone', operator: 'In', values: ['nowhere'] }]),
  canonicalSelector([{ key: 'kubernetes.io/os', operator: 'Exists', values: [] }]),
];

const PORTS: readonly ContainerPort[] = [
  { name: 'web', port: 80, protocol: 'TCP' },
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: undefined, port: 9003, protocol: 'SCTP' },
];

export const CILIUM_FLOW_PORTS = [
  { port: 80, protocol: 'TCP' },
  { port: 81, protocol: 'TCP' },
  { port: 8080, protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
  { port: 5353, protocol: 'UDP' },
  { port: 9003, protocol: 'SCTP' },
] as const satisfies readonly { port: number; protocol: Protocol }[];

const portMatchArb: fc.Arbitrary<PortMatch> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
        start: fc.constantFrom(1, 53, 54, 79, 80, 81, 1024, 5353, 8080, 9003),
        width: fc.constantFrom(0, 0, 1, 10, 10_000, 65_534),
      })
      .map(({ protocol, start, width }): PortMatch => ({ kind: 'range', protocol, start, end: Math.min(65535, start + width) })),
  },
  { weight: 1, arbitrary: fc.constantFrom<PortMatch>({ kind: 'named', name: 'web' }, { kind: 'named', name: 'dns' }, { kind: 'named', name: 'none' }) },
);

function peerArb(direction: Direction, action: Action): fc.Arbitrary<Peer> {
  const pods = podSetArb.map((p): Peer => ({ kind: 'pods', pods: p }));
  if (direction === 'ingress') return pods;
  const choices: fc.WeightedArbitrary<Peer>[] = [
    { weight: 4, arbitrary: pods },
    { weight: 2, arbitrary: fc.constantFrom(...CIDR_SETS).map((texts): Peer => ({ kind: 'networks', cidrs: texts.map(cidrOf) })) },
    { weight: 1, arbitrary: fc.constantFrom(...NODE_SELECTORS).map((nodes): Peer => ({ kind: 'nodes', nodes })) },
  ];
  if (action === 'Accept') choices.push({ weight: 1, arbitrary: fc.constant<Peer>({ kind: 'domainNames', names: ['example.com', '*.example.org'] }) });
  return fc.oneof(...choices);
}

function ruleArb(direction: Direction, index: number): fc.Arbitrary<Rule> {
  return fc
    .record({
      action: fc.constantFrom<Action>('Accept', 'Deny', 'Pass'),
      name: fc.option(fc.constantFrom('r', 'allow-web'), { nil: undefined }),
      failClosed: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .chain(({ action, name, failClosed }) => {
      if (failClosed) return fc.constant(failClosedRule(index, name, action, 'generated: a field this operator does not understand'));
      return fc
        .record({
          peers: fc.array(peerArb(direction, action), { minLength: 1, maxLength: 3 }),
          ports: fc.option(fc.array(portMatchArb, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        })
        .map(({ peers, ports }): Rule => {
          // Named ports only with pod peers (the CRD's rule for egress).
          const named = ports?.some((p) => p.kind === 'named') ?? false;
          const fixed = named && direction === 'egress' && peers.some((p) => p.kind !== 'pods') ? ports!.filter((p) => p.kind !== 'named') : ports;
          return { index, name, action, peers, ports: fixed !== undefined && fixed.length === 0 ? undefined : fixed };
        });
    });
}

function rulesArb(direction: Direction, max: number): fc.Arbitrary<Rule[]> {
  return fc.integer({ min: 0, max }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(direction, i))));
}

function policyArb(name: string, maxRules: number): fc.Arbitrary<Policy> {
  return fc.record({
    name: fc.constant(name),
    uid: fc.constant(`uid-${name.slice(0, 20)}`),
    generation: fc.constant(1),
    tier: fc.constantFrom<Tier>('Admin', 'Baseline'),
    priority: fc.constantFrom(...PRIORITIES),
    subject: podSetArb,
    ingress: rulesArb('ingress', maxRules),
    egress: rulesArb('egress', maxRules),
  });
}

const npPortArb = (direction: Direction): fc.Arbitrary<NetworkPolicyPort> =>
  fc.oneof(
    fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'), port: fc.constant(undefined), endPort: fc.constant(undefined) }),
    fc.record({
      protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
      port: direction === 'ingress' ? fc.constantFrom<number | string>(80, 53, 8080, 9003, 'web', 'dns') : fc.constantFrom<number | string>(80, 53, 8080, 9003),
      endPort: fc.constant(undefined),
    }),
    fc.record({ protocol: fc.constant<Protocol>('TCP'), port: fc.constant(80), endPort: fc.constant(8080) }),
  );

const npPeerArb: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('pods' as const), namespaces: fc.option(namespaceSelectorArb, { nil: undefined }), pods: selectorArb }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('192.0.2.0/24', '2001:db8::/32').map((text): NetworkPolicyPeer => ({ kind: 'ipBlock', cidr: cidrOf(text), except: [] })),
  },
);

const npRuleArb = (direction: Direction): fc.Arbitrary<NetworkPolicyRule> =>
  fc.record({
    peers: fc.option(fc.array(npPeerArb, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    ports: fc.option(fc.array(npPortArb(direction), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  });

const networkPolicyArb = (name: string): fc.Arbitrary<NetworkPolicy> =>
  fc.record({
    namespace: fc.constantFrom(...NAMESPACE_NAMES),
    name: fc.constant(name),
    podSelector: selectorArb,
    policyTypes: fc.constantFrom<Direction[]>(['ingress'], ['egress'], ['ingress', 'egress']),
    ingress: fc.array(npRuleArb('ingress'), { maxLength: 2 }),
    egress: fc.array(npRuleArb('egress'), { maxLength: 2 }),
  });

export interface CiliumScenarioOptions {
  readonly maxPods?: number;
  readonly maxPolicies?: number;
  readonly maxRules?: number;
  readonly maxNetworkPolicies?: number;
}

export function expressibleScenarioArb(options: CiliumScenarioOptions = {}): fc.Arbitrary<Scenario> {
  return fc.constantFrom<Family>(4, 6).chain((family) =>
    fc
      .record({
        namespaceLabels: fc.tuple(...NAMESPACE_NAMES.map(() => labelsArb)),
        pods: fc.array(
          fc.record({
            namespace: fc.integer({ min: 0, max: NAMESPACE_NAMES.length - 1 }),
            labels: labelsArb,
            hostNetwork: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
            node: fc.integer({ min: 0, max: NODE_NAMES.length - 1 }),
          }),
          { minLength: 2, maxLength: options.maxPods ?? 6 },
        ),
        policies: fc
          .uniqueArray(fc.constantFrom(...POLICY_NAMES), { minLength: 1, maxLength: options.maxPolicies ?? 4 })
          .chain((names) => fc.tuple(...names.map((n) => policyArb(n, options.maxRules ?? 3)))),
        networkPolicies: fc.uniqueArray(fc.constantFrom('np-1', 'np-2', 'np-3'), { maxLength: options.maxNetworkPolicies ?? 2 }).chain((names) => fc.tuple(...names.map(networkPolicyArb))),
      })
      .map(({ namespaceLabels, pods, policies, networkPolicies }): Scenario => {
        const namespaces: Namespace[] = NAMESPACE_NAMES.map((name, i) => ({ name, labels: { ...namespaceLabels[i], 'kubernetes.io/metadata.name': name } }));
        const nodes: Node[] = NODE_NAMES.map((name, i) => ({
          name,
          labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, zone: i === 0 ? 'a' : 'b' },
          addresses: nodeIps(i),
        }));
        const snapshotPods: Pod[] = pods.map((d, i) => {
          const node = nodeIps(d.node);
          return {
            namespace: NAMESPACE_NAMES[d.namespace]!,
            name: `pod-${i}`,
            labels: d.labels,
            hostNetwork: d.hostNetwork,
            nodeName: NODE_NAMES[d.node],
            ips: d.hostNetwork ? [family === 4 ? node[0]! : node[1]!] : [podIp(i, family)],
            ports: d.hostNetwork ? [] : PORTS,
          };
        });
        const snapshot: Snapshot = { policies, networkPolicies, namespaces, pods: snapshotPods, nodes };
        return { family, snapshot };
      }),
  );
}

// ---- unrestricted scenarios ----

function renameSelector(s: Selector, from: string, to: string): Selector {
  return canonicalSelector(s.requirements.map((r) => (r.key === from ? { ...r, key: to } : r)));
}

function renamePolicy(p: Policy, from: string, to: string): Policy {
  const podSet = (set: Policy['subject']) => ({ namespaces: set.namespaces, pods: renameSelector(set.pods, from, to) });
  const rule = (r: Rule): Rule => ({ ...r, peers: r.peers.map((peer): Peer => (peer.kind === 'pods' ? { kind: 'pods', pods: podSet(peer.pods) } : peer)) });
  return { ...p, subject: podSet(p.subject), ingress: p.ingress.map(rule), egress: p.egress.map(rule) };
}

/**
 * A scenario where one pod label key is one Cilium leaves out of identities
 * (`pod-template-hash`): on the pods and in every CNP pod selector.
 */
export function withUnselectableLabel(scenario: Scenario, key = 'tier', unselectable = 'pod-template-hash'): Scenario {
  const s = scenario.snapshot;
  return {
    family: scenario.family,
    snapshot: {
      ...s,
      pods: s.pods.map((pod) => {
        if (!(key in pod.labels)) return pod;
        const { [key]: value, ...rest } = pod.labels;
        return { ...pod, labels: { ...rest, [unselectable]: value! } };
      }),
      policies: s.policies.map((p) => renamePolicy(p, key, unselectable)),
    },
  };
}
