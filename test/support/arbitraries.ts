import fc from 'fast-check';
import { cidrCovers, parseCidr } from '../../src/api/ip.js';
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
  type Operator,
  type Peer,
  type Pod,
  type PodSet,
  type Policy,
  type PortMatch,
  type Protocol,
  type Requirement,
  type Rule,
  type Selector,
  type Snapshot,
  type Tier,
} from '../../src/api/model.js';
import { canonicalSelector } from '../../src/api/selector.js';
import type { Endpoint, Flow } from '../../src/semantics/flow.js';

// Random clusters and policy sets for property-based tests of any backend against the reference
// evaluator: namespaces, pods (including host-network pods), nodes, ClusterNetworkPolicies of both
// tiers with every peer kind (pods, namespaces, nodes, networks, domainNames), action, protocol,
// port ranges and named ports, fail-closed rules, and NetworkPolicies.
//
// Everything is drawn from small vocabularies so that selectors, CIDRs and names overlap often
// (ties in priority, names that sort differently once mapped, CIDRs that cover pod and node IPs).
// Few `chain`s, so parts shrink independently. Addresses are assigned from positions, so a
// scenario is a plain value; `flowsFor` lists the flows worth asking about.

export type Family = 4 | 6;

export interface ScenarioOptions {
  /** Address family of pods and flows (nodes always have one address of each family). Default: both, drawn. */
  readonly family?: Family;
  readonly maxPods?: number;
  readonly maxPolicies?: number;
  readonly maxRules?: number;
  readonly maxNetworkPolicies?: number;
  /** Include host-network pods (default true). */
  readonly hostNetworkPods?: boolean;
  /** Include rules replaced by their fail-closed form (default true). */
  readonly failClosedRules?: boolean;
  /** Include domainNames peers in Accept rules (default true). */
  readonly domainNames?: boolean;
  /** Include nodes peers (default true). */
  readonly nodePeers?: boolean;
  /** Include named ports in CNP rules (default true). */
  readonly namedPorts?: boolean;
}

/** A cluster and its policies; ask about `flowsFor(snapshot, family)` (kept out of the value so counterexamples stay short). */
export interface Scenario {
  readonly family: Family;
  readonly snapshot: Snapshot;
}

export const LABEL_KEYS = ['app', 'team', 'tier'] as const;
export const LABEL_VALUES = ['a', 'b', 'c'] as const;
export const NAMESPACE_NAMES = ['ns-0', 'ns-1', 'ns-2'] as const;
export const NODE_NAMES = ['node-0', 'node-1'] as const;
/** CNP names chosen so that name order, Calico name mapping and Felix's tie-break disagree. */
export const POLICY_NAMES = ['a', 'a-b', 'a.b', 'b', 'b0', 'deny.all', 'x'.repeat(250), `${'y'.repeat(60)}.z`] as const;
export const PRIORITIES = [0, 1, 5, 5, 1000] as const;
export interface FlowPort {
  readonly port: number;
  readonly protocol: Protocol;
}
/** Default ports the flows use: web (TCP 80, 8080), dns (UDP 53), SCTP 9003. */
export const FLOW_PORTS: readonly FlowPort[] = [
  { port: 80, protocol: 'TCP' },
  { port: 8080, protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
  { port: 9003, protocol: 'SCTP' },
];
/** Port numbers around the edges of the generated ranges and container ports. */
export const EDGE_PORTS = [53, 54, 79, 80, 81, 82, 8080, 8081, 9003] as const;
/** A few (port, protocol) pairs per scenario, drawn so that range edges and protocols vary. */
export const flowPortsArb: fc.Arbitrary<FlowPort[]> = fc.uniqueArray(
  fc.record({ port: fc.constantFrom(...EDGE_PORTS), protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP') }),
  { minLength: 2, maxLength: 5, selector: (p) => `${p.protocol}/${p.port}` },
);

export function podIp(index: number, family: Family): string {
  return family === 4 ? `10.244.${index % 2}.${10 + index}` : `fd00:10:244:${index % 2}::${(10 + index).toString(16)}`;
}

export function nodeIps(index: number): string[] {
  return [`172.18.0.${2 + index}`, `fc00:f853::${2 + index}`];
}

export const OUTSIDE_IP: Record<Family, string> = { 4: '192.0.2.7', 6: '2001:db8::7' };

/** CIDRs that cover pods, nodes, both, everything, or nothing of interest. */
export const CIDR_TEXTS = [
  '0.0.0.0/0',
  '::/0',
  '10.244.0.0/16',
  '10.244.1.0/24',
  '10.244.0.10/32',
  '10.244.1.11/32',
  '10.244.0.12/31',
  '172.18.0.2/32',
  '172.18.0.0/16',
  '192.0.2.0/24',
  'fd00:10:244::/48',
  'fd00:10:244:1::/64',
  'fd00:10:244::a/128',
  'fd00:10:244:1::b/128',
  'fc00:f853::2/128',
  'fc00::/8',
  '2001:db8::/32',
] as const;

const cidrOf = (text: string): Cidr => parseCidr(text)!.cidr;

// ---- selectors ----

export const requirementArb: fc.Arbitrary<Requirement> = fc
  .record({
    key: fc.constantFrom(...LABEL_KEYS),
    operator: fc.constantFrom<Operator>('In', 'NotIn', 'Exists', 'DoesNotExist'),
    values: fc.uniqueArray(fc.constantFrom(...LABEL_VALUES), { minLength: 1, maxLength: 2 }),
  })
  .map((r) => ({ ...r, values: r.operator === 'Exists' || r.operator === 'DoesNotExist' ? [] : [...r.values].sort() }));

export const selectorArb: fc.Arbitrary<Selector> = fc
  .array(requirementArb, { maxLength: 2 })
  .map((reqs) => canonicalSelector(reqs));

/** Selectors on `kubernetes.io/metadata.name` too, as namespace selectors often are. */
export const namespaceSelectorArb: fc.Arbitrary<Selector> = fc.oneof(
  { weight: 3, arbitrary: selectorArb },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(fc.constantFrom(...NAMESPACE_NAMES), { minLength: 1, maxLength: 2 })
      .map((names) => canonicalSelector([{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...names].sort() }])),
  },
);

export const labelsArb: fc.Arbitrary<Record<string, string>> = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: 3 });

export const podSetArb: fc.Arbitrary<PodSet> = fc.oneof(
  // `namespaces: {…}`
  namespaceSelectorArb.map((namespaces) => ({ namespaces, pods: EMPTY_SELECTOR })),
  // `pods: {namespaceSelector?, podSelector}` (omitted namespaceSelector = every namespace)
  fc.record({ namespaces: fc.oneof(fc.constant(EMPTY_SELECTOR), namespaceSelectorArb), pods: selectorArb }),
);

// ---- ClusterNetworkPolicy rules ----

export const portMatchArb = (namedPorts: boolean): fc.Arbitrary<PortMatch> => {
  const range = fc
    .record({
      protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
      start: fc.constantFrom(53, 54, 79, 80, 81, 82, 1024, 8080, 9003),
      width: fc.constantFrom(0, 0, 1, 2, 10, 10_000),
    })
    .map(({ protocol, start, width }): PortMatch => ({ kind: 'range', protocol, start, end: Math.min(65535, start + width) }));
  if (!namedPorts) return range;
  return fc.oneof({ weight: 3, arbitrary: range }, { weight: 1, arbitrary: fc.constantFrom<PortMatch>({ kind: 'named', name: 'web' }, { kind: 'named', name: 'dns' }, { kind: 'named', name: 'none' }) });
};

function peerArb(direction: Direction, action: Action, options: ScenarioOptions): fc.Arbitrary<Peer> {
  const pods = podSetArb.map((p): Peer => ({ kind: 'pods', pods: p }));
  if (direction === 'ingress') return pods;
  const choices: fc.WeightedArbitrary<Peer>[] = [
    { weight: 3, arbitrary: pods },
    {
      weight: 2,
      arbitrary: fc.uniqueArray(fc.constantFrom(...CIDR_TEXTS), { minLength: 1, maxLength: 3 }).map((texts): Peer => ({ kind: 'networks', cidrs: texts.map(cidrOf) })),
    },
  ];
  if (options.nodePeers !== false) choices.push({ weight: 1, arbitrary: selectorArb.map((nodes): Peer => ({ kind: 'nodes', nodes })) });
  if (options.domainNames !== false && action === 'Accept') {
    choices.push({ weight: 1, arbitrary: fc.constantFrom<Peer>({ kind: 'domainNames', names: ['example.com'] }, { kind: 'domainNames', names: ['*.example.org', 'kubernetes.io'] }) });
  }
  return fc.oneof(...choices);
}

export function ruleArb(direction: Direction, index: number, options: ScenarioOptions = {}): fc.Arbitrary<Rule> {
  return fc
    .record({
      action: fc.constantFrom<Action>('Accept', 'Deny', 'Pass'),
      name: fc.option(fc.constantFrom('r', 'allow-web', 'a rule name with spaces'), { nil: undefined }),
      failClosed: options.failClosedRules === false ? fc.constant(false) : fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .chain(({ action, name, failClosed }) => {
      if (failClosed) return fc.constant(failClosedRule(index, name, action, 'generated: a field this operator does not understand'));
      return fc
        .record({
          peers: fc.array(peerArb(direction, action, options), { minLength: 1, maxLength: 3 }),
          ports: fc.option(fc.array(portMatchArb(options.namedPorts !== false), { minLength: 1, maxLength: 3 }), { nil: undefined }),
        })
        .map(({ peers, ports }): Rule => {
          // The CRD's rule: named ports only when every peer is a pod peer (egress).
          const named = ports?.some((p) => p.kind === 'named') ?? false;
          const fixedPorts = named && direction === 'egress' && peers.some((p) => p.kind !== 'pods') ? ports!.filter((p) => p.kind !== 'named') : ports;
          return { index, name, action, peers, ports: fixedPorts !== undefined && fixedPorts.length === 0 ? undefined : fixedPorts };
        });
    });
}

function rulesArb(direction: Direction, options: ScenarioOptions): fc.Arbitrary<Rule[]> {
  const max = options.maxRules ?? 3;
  return fc.integer({ min: 0, max }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(direction, i, options))));
}

export function policyArb(name: string, options: ScenarioOptions = {}): fc.Arbitrary<Policy> {
  return fc.record({
    name: fc.constant(name),
    uid: fc.constant(`uid-${name.slice(0, 20)}`),
    generation: fc.constant(1),
    tier: fc.constantFrom<Tier>('Admin', 'Baseline'),
    priority: fc.constantFrom(...PRIORITIES),
    subject: podSetArb,
    ingress: rulesArb('ingress', options),
    egress: rulesArb('egress', options),
  });
}

export function policiesArb(options: ScenarioOptions = {}): fc.Arbitrary<Policy[]> {
  return fc
    .uniqueArray(fc.constantFrom(...POLICY_NAMES), { minLength: options.maxPolicies === 0 ? 0 : 1, maxLength: options.maxPolicies ?? 4 })
    .chain((names) => fc.tuple(...names.map((n) => policyArb(n, options))));
}

// ---- NetworkPolicies ----

const npPeerArb: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ kind: fc.constant('pods' as const), namespaces: fc.option(namespaceSelectorArb, { nil: undefined }), pods: selectorArb }),
  fc
    .record({ cidr: fc.constantFrom('10.244.0.0/16', '0.0.0.0/0', '172.18.0.0/16', 'fd00:10:244::/48', '::/0'), except: fc.boolean() })
    .map(({ cidr, except }): NetworkPolicyPeer => {
      const c = cidrOf(cidr);
      const ex = except ? [cidrOf(c.family === 4 ? '10.244.1.0/24' : 'fd00:10:244:1::/64')] : [];
      return { kind: 'ipBlock', cidr: c, except: ex.filter((e) => e.prefix > c.prefix && cidrCovers(c, e)) };
    }),
);

const npPortArb: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'), port: fc.constant(undefined), endPort: fc.constant(undefined) }),
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'), port: fc.constantFrom<number | string>(80, 53, 8080, 9003, 'web', 'dns'), endPort: fc.constant(undefined) }),
  fc.record({ protocol: fc.constant<Protocol>('TCP'), port: fc.constant(80), endPort: fc.constant(8080) }),
);

const npRuleArb: fc.Arbitrary<NetworkPolicyRule> = fc.record({
  peers: fc.option(fc.array(npPeerArb, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  ports: fc.option(fc.array(npPortArb, { minLength: 1, maxLength: 2 }), { nil: undefined }),
});

export const networkPolicyArb = (name: string): fc.Arbitrary<NetworkPolicy> =>
  fc.record({
    namespace: fc.constantFrom(...NAMESPACE_NAMES),
    name: fc.constant(name),
    podSelector: selectorArb,
    policyTypes: fc.constantFrom<Direction[]>(['ingress'], ['egress'], ['ingress', 'egress']),
    ingress: fc.array(npRuleArb, { maxLength: 2 }),
    egress: fc.array(npRuleArb, { maxLength: 2 }),
  });

// ---- the cluster ----

interface PodDraft {
  readonly namespace: number;
  readonly labels: Record<string, string>;
  readonly hostNetwork: boolean;
  readonly node: number;
  readonly ports: readonly ContainerPort[];
}

const CONTAINER_PORTS: readonly ContainerPort[][] = [
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

function podDraftArb(options: ScenarioOptions): fc.Arbitrary<PodDraft> {
  return fc.record({
    namespace: fc.integer({ min: 0, max: NAMESPACE_NAMES.length - 1 }),
    labels: labelsArb,
    hostNetwork: options.hostNetworkPods === false ? fc.constant(false) : fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    node: fc.integer({ min: 0, max: NODE_NAMES.length - 1 }),
    ports: fc.constantFrom(...CONTAINER_PORTS),
  });
}

export function snapshotArb(family: Family, options: ScenarioOptions = {}): fc.Arbitrary<Snapshot> {
  return fc
    .record({
      namespaceLabels: fc.tuple(...NAMESPACE_NAMES.map(() => labelsArb)),
      nodeLabels: fc.tuple(...NODE_NAMES.map(() => fc.dictionary(fc.constantFrom('zone', 'role'), fc.constantFrom('a', 'b'), { maxKeys: 2 }))),
      pods: fc.array(podDraftArb(options), { minLength: 2, maxLength: Math.max(2, options.maxPods ?? 6) }),
      policies: policiesArb(options),
      networkPolicies: fc.uniqueArray(fc.constantFrom('np-1', 'np-2', 'np-3'), { maxLength: options.maxNetworkPolicies ?? 2 }).chain((names) => fc.tuple(...names.map(networkPolicyArb))),
    })
    .map(({ namespaceLabels, nodeLabels, pods, policies, networkPolicies }): Snapshot => {
      const namespaces: Namespace[] = NAMESPACE_NAMES.map((name, i) => ({ name, labels: { ...namespaceLabels[i], 'kubernetes.io/metadata.name': name } }));
      const nodes: Node[] = NODE_NAMES.map((name, i) => ({ name, labels: { ...nodeLabels[i], 'kubernetes.io/hostname': name }, addresses: nodeIps(i) }));
      const snapshotPods: Pod[] = pods.map((d, i) => {
        const node = nodeIps(d.node);
        return {
          namespace: NAMESPACE_NAMES[d.namespace]!,
          name: `pod-${i}`,
          labels: d.labels,
          hostNetwork: d.hostNetwork,
          nodeName: NODE_NAMES[d.node],
          ips: d.hostNetwork ? [family === 4 ? node[0]! : node[1]!] : [podIp(i, family)],
          ports: d.ports,
        };
      });
      return { policies, networkPolicies, namespaces, pods: snapshotPods, nodes };
    });
}

/**
 * Every ordered pair of endpoints (each pod, each node address, one outside address) × ports,
 * except pairs of two addresses, which no policy can govern.
 */
export function flowsFor(snapshot: Snapshot, family: Family, ports: readonly FlowPort[] = FLOW_PORTS): Flow[] {
  const endpoints: Endpoint[] = [
    ...snapshot.pods.map((p): Endpoint => ({ kind: 'pod', namespace: p.namespace, name: p.name })),
    ...snapshot.nodes.flatMap((n) => n.addresses.filter((a) => a.includes(':') === (family === 6)).map((ip): Endpoint => ({ kind: 'ip', ip }))),
    { kind: 'ip', ip: OUTSIDE_IP[family] },
  ];
  const flows: Flow[] = [];
  for (const from of endpoints) {
    for (const to of endpoints) {
      if (from.kind === 'ip' && to.kind === 'ip') continue;
      for (const p of ports) flows.push({ from, to, port: p.port, protocol: p.protocol });
    }
  }
  return flows;
}

export function scenarioArb(options: ScenarioOptions = {}): fc.Arbitrary<Scenario> {
  const family = options.family === undefined ? fc.constantFrom<Family>(4, 6) : fc.constant(options.family);
  return family.chain((f) => snapshotArb(f, options).map((snapshot): Scenario => ({ family: f, snapshot })));
}
