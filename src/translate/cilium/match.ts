import { cidrContains, parseIp, type Ip } from '../../api/ip.js';
import type { Cidr, Direction, NetworkPolicy, Node, Peer as CnpPeer, Pod, PodSet, PortMatch, Rule, Selector, Snapshot } from '../../api/model.js';
import { selectorMatches } from '../../api/selector.js';
import type { FindingKind } from '../types.js';
import { ALL_IPS, cidr, ipSetHas, ipSetOf, ipsDisjoint, ipsKey, subtractIps, type IpBlock, type IpSet } from './ipset.js';
import { cubeKey, cubeMatches, cubeOf, intersectCube, UNIVERSAL_CUBE, type LabelCube } from './labels.js';
import type { ResolvedCiliumOptions } from './options.js';
import { ALL_PORTS, isEmptyPorts, portSetOf, unionPorts as union, type NamedPorts, type PortSet, type PortValue } from './ports.js';
import { coverageCounts, coverageOf, CoverageTally, ipKey, KeyTally, NamedTally, OverlapTally, PodWatch, portValueKey, type Coverage, type PodFacts, type PodTally } from './pod-watch.js';
import type { Ask, Reads, Watch } from './reads.js';
import type { Cube, Peer, Space } from './space.js';

// What a CNP rule matches, as cubes of the compilation space: exactly where Cilium
// can express it, otherwise as an under-approximation (for Accept) and an
// over-approximation (for Deny, and for the uncertain part of a Pass), with the
// reasons, which become findings.

/** Cilium identity label keys (source `k8s:`). */
export const POD_NAMESPACE_KEY = 'k8s:io.kubernetes.pod.namespace';
export const NAMESPACE_LABEL_PREFIX = 'k8s:io.cilium.k8s.namespace.labels.';
export const podLabelKey = (k: string): string => `k8s:${k}`;
export const namespaceLabelKey = (k: string): string => `${NAMESPACE_LABEL_PREFIX}${k}`;

/** Every pod endpoint: Cilium's non-pod endpoints (health, ingress, …) have no namespace. */
export const ALL_PODS_CUBE: LabelCube = [[POD_NAMESPACE_KEY, { absent: false, notIn: true, values: [] }]];

export interface Issue {
  readonly kind: FindingKind;
  readonly message: string;
}

export interface RuleMatch {
  /** Matches at most what the rule matches. */
  readonly under: Cube[];
  /** Matches at least what the rule matches. */
  readonly over: Cube[];
  readonly issues: Issue[];
}

interface Approx<T> {
  readonly under: T;
  readonly over: T;
  readonly issues: Issue[];
}

interface IndexedPod extends PodFacts {
  readonly pod: Pod;
  /** Identity labels: namespace, namespace labels, pod labels (unfiltered). */
  readonly labels: Record<string, string>;
}

/** The named-port values of the pods a destination stands for (see rulePorts). */
export interface NamedValues {
  /** Every declaration of the name, one per container port that has it. */
  readonly values: readonly PortValue[];
  /** How many pods the destination holds. */
  readonly pods: number;
}

const hostBlock = (ip: Ip): IpBlock => ({ base: cidr(ip.family, ip.value, ip.family === 4 ? 32 : 128), except: [] });
const blocksOf = (ips: readonly Ip[]): IpBlock[] => ipSetOf(ips.map((ip) => hostBlock(ip).base));
const valuesKey = (values: readonly PortValue[]): string => [...new Set(values.map(portValueKey))].sort().join(',');

/**
 * The snapshot, indexed for the compiler. Everything the compiler asks about pods, nodes and
 * namespaces goes through a method here that notes the question in `reads` (when a step of
 * the incremental compiler is recording): a step depends on the cluster only through them.
 */
export class Cluster {
  /** Non-host-network pods with their identity labels. */
  private readonly pods: IndexedPod[];
  /** Node addresses, parsed. */
  private readonly nodeIps: readonly (readonly Ip[])[];
  /** Each namespace's name and labels as identity labels. */
  private readonly namespaceLabels: Record<string, string>[];
  private readonly namedValues: Map<string, PortValue[]>;
  readonly names: NamedPorts;
  /** How cubes relate in this cluster, for these agents. */
  readonly space: Space;
  /** Set while a step of the incremental compiler runs: the questions it asks. */
  reads: Reads<Cluster> | undefined;
  private readonly answers: Map<string, string>;
  private readonly cache: Map<string, unknown>;
  /** Pods by identity label key and value, built on first use. */
  private readonly byLabel: Map<string, Map<string, IndexedPod[]>>;

  /** Identity labels every pod of a namespace has (the namespace's own), by namespace. */
  private readonly namespaceBase: Map<string, Record<string, string>>;

  /**
   * `previous`: the cluster of an earlier snapshot. When this one has the same pods, namespaces
   * and nodes (as the compiler sees them), all it knows about them is taken over, answers
   * included: a policy change then costs nothing on the pods' side.
   */
  constructor(
    readonly snapshot: Snapshot,
    readonly options: ResolvedCiliumOptions,
    previous?: Cluster,
  ) {
    // Questions are kept with the steps that asked them, long after this cluster is gone: their
    // closures are made in methods that do not hold on to the cluster (or to `previous`).
    this.names = { values: (name) => this.valuesOf(name), overlap: (a, b) => this.overlapOf(a, b) };
    this.space = options.agent.cidrPods ? { names: this.names, podAddresses: (cube) => this.podAddresses(cube) } : { names: this.names };
    if (previous !== undefined && previous.options === options && sameClusterObjects(previous.snapshot, snapshot)) {
      this.inherited = true;
      this.pods = previous.pods;
      this.nodeIps = previous.nodeIps;
      this.namespaceLabels = previous.namespaceLabels;
      this.namedValues = previous.namedValues;
      this.answers = previous.answers;
      this.cache = previous.cache;
      this.byLabel = previous.byLabel;
      this.namespaceBase = previous.namespaceBase;
      this.podOrder = previous.podOrder;
      return;
    }
    this.inherited = false;
    this.pods = [];
    this.namedValues = new Map();
    this.nodeIps = snapshot.nodes.map((n) => parsed(n.addresses));
    this.namespaceLabels = snapshot.namespaces.map((n) => {
      const labels: Record<string, string> = { [POD_NAMESPACE_KEY]: n.name };
      for (const [k, v] of Object.entries(n.labels)) labels[namespaceLabelKey(k)] = v;
      return labels;
    });
    this.answers = new Map();
    this.cache = new Map();
    this.byLabel = new Map();
    this.namespaceBase = new Map();
    for (const n of snapshot.namespaces) {
      const base: Record<string, string> = { [POD_NAMESPACE_KEY]: n.name };
      for (const [k, v] of Object.entries(n.labels)) base[namespaceLabelKey(k)] = v;
      this.namespaceBase.set(n.name, base);
    }
    this.changes = this.indexPods(snapshot, previous);
  }

  /** Indexes the snapshot's pods, reusing what `previous` indexed of pods that did not change; the changes. */
  private indexPods(snapshot: Snapshot, previous: Cluster | undefined): Cluster['changes'] {
    // Pods unchanged since the previous cluster (same content, same namespace labels) keep their indexed form.
    const reusable = previous !== undefined && previous.options === this.options ? new Map(previous.pods.map((p) => [`${p.pod.namespace}/${p.pod.name}`, p])) : undefined;
    const sameNamespace = new Map<string, boolean>();
    const unchanged = (ns: string): boolean => {
      let same = sameNamespace.get(ns);
      if (same === undefined) {
        const a = previous!.namespaceBase.get(ns);
        const b = this.namespaceBase.get(ns);
        same = a !== undefined && b !== undefined && sameRecord(a, b);
        sameNamespace.set(ns, same);
      }
      return same;
    };
    const kept = new Set<IndexedPod>();
    const added: IndexedPod[] = [];
    for (const pod of snapshot.pods) {
      const before = reusable?.get(`${pod.namespace}/${pod.name}`);
      const reuse = before !== undefined && samePod(before.pod, pod) && unchanged(pod.namespace);
      const indexed = reuse ? before : this.facts(pod);
      if (indexed === undefined) continue;
      if (reuse) kept.add(indexed);
      else added.push(indexed);
      this.pods.push(indexed);
      for (const cp of pod.ports) {
        if (cp.name === undefined) continue;
        const list = this.namedValues.get(cp.name) ?? [];
        if (!list.some((v) => v.port === cp.port && v.protocol === cp.protocol)) list.push({ protocol: cp.protocol, port: cp.port });
        this.namedValues.set(cp.name, list);
      }
    }
    // Some answers depend on nodes as well as pods (addresses in the cluster, whole identities): only
    // with the same nodes do pod changes alone tell what moved.
    const sameNodes = (a: readonly Node[], b: readonly Node[]) => a.length === b.length && a.every((x, i) => x === b[i] || (x.name === b[i]!.name && sameRecord(x.labels, b[i]!.labels) && sameList(x.addresses, b[i]!.addresses)));
    if (previous !== undefined && previous.options === this.options && sameNodes(previous.snapshot.nodes, snapshot.nodes)) return { removed: previous.pods.filter((p) => !kept.has(p)), added };
    return undefined;
  }

  /** Whether this cluster took over an earlier one's pods, namespaces and nodes (they are the same). */
  readonly inherited: boolean;

  /** When built after another cluster (and not inherited): its pods this one does not have, and the pods it has anew. */
  readonly changes: { readonly removed: readonly PodFacts[]; readonly added: readonly PodFacts[] } | undefined;

  /**
   * Records an answer known to hold here without asking (a tally of the pods behind the
   * question showed it cannot have changed).
   */
  knownAnswer(key: string, answer: string): void {
    if (!this.answers.has(key)) this.answers.set(key, answer);
  }

  /** A pod as the compilation sees it; undefined for host-network pods, which it leaves out. */
  private facts(pod: Pod): IndexedPod | undefined {
    if (pod.hostNetwork) return undefined;
    const labels: Record<string, string> = { ...(this.namespaceBase.get(pod.namespace) ?? { [POD_NAMESPACE_KEY]: pod.namespace }) };
    for (const [k, v] of Object.entries(pod.labels)) labels[podLabelKey(k)] = v;
    return { pod, labels, ips: parsed(pod.ips), ports: pod.ports };
  }

  /** A PodWatch over tallies of this cluster's pods (see Answered.watch), to judge later pod events by. */
  podWatch(tallies: readonly PodTally[]): PodWatch {
    return new PodWatch(tallies, (pod) => this.facts(pod));
  }

  /** The answer to a question about this cluster, computed once. */
  answer(key: string, ask: Ask<Cluster>): string {
    let a = this.answers.get(key);
    if (a === undefined) {
      a = ask(this);
      this.answers.set(key, a);
    }
    return a;
  }

  private read(key: string, ask: Ask<Cluster>, watch?: Watch<Cluster>): void {
    if (this.reads !== undefined && !this.reads.has(key)) this.reads.note(key, ask, watch);
  }

  private cached<T>(key: string, compute: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = compute();
    this.cache.set(key, v);
    return v;
  }

  private valuesOf(name: string): readonly PortValue[] {
    this.read(
      `values\u0000${name}`,
      (c) => valuesKey(c.namedValues.get(name) ?? []),
      (c) => new KeyTally((p) => p.ports.filter((cp) => cp.name === name).map(portValueKey)).seeded(c.pods),
    );
    return this.namedValues.get(name) ?? [];
  }

  private overlapOf(a: string, b: string): boolean {
    this.read(
      `overlap\u0000${a}\u0000${b}`,
      (c) => (c.overlapNow(a, b) ? '1' : '0'),
      (c) => new OverlapTally(a, b, c.pods),
    );
    return this.overlapNow(a, b);
  }

  private overlapNow(a: string, b: string): boolean {
    return this.cached(`overlap\u0000${a}\u0000${b}`, () =>
      this.pods.some(({ pod }) => {
        const pa = pod.ports.find((p) => p.name === a);
        const pb = pod.ports.find((p) => p.name === b);
        return pa !== undefined && pb !== undefined && pa.port === pb.port && pa.protocol === pb.protocol;
      }),
    );
  }

  /** The pods a cube selects, through the index of one of its In constraints where it has one. */
  private matching(cube: LabelCube): IndexedPod[] {
    return this.cached(`in\u0000${cubeKey(cube)}`, () => {
      const indexed = cube.find(([k, c]) => k === POD_NAMESPACE_KEY && !c.notIn && !c.absent) ?? cube.find(([, c]) => !c.notIn && !c.absent);
      if (indexed === undefined) return this.pods.filter((p) => cubeMatches(cube, p.labels));
      const [key, constraint] = indexed;
      let index = this.byLabel.get(key);
      if (index === undefined) {
        index = new Map();
        for (const p of this.pods) {
          const v = p.labels[key];
          if (v === undefined || !Object.prototype.hasOwnProperty.call(p.labels, key)) continue;
          const list = index.get(v) ?? [];
          list.push(p);
          index.set(v, list);
        }
        this.byLabel.set(key, index);
      }
      const out: IndexedPod[] = [];
      for (const v of constraint.values) for (const p of index.get(v) ?? []) if (cubeMatches(cube, p.labels)) out.push(p);
      // Pod order, as a scan would give it.
      return out.length <= 1 ? out : out.sort((a, b) => this.order(a) - this.order(b));
    });
  }

  private podOrder: Map<IndexedPod, number> | undefined = undefined;

  private order(p: IndexedPod): number {
    if (this.podOrder === undefined) this.podOrder = new Map(this.pods.map((x, i) => [x, i]));
    return this.podOrder.get(p)!;
  }

  /** The addresses of the pods a cube selects, each its own /32 or /128 block. */
  podAddresses(cube: LabelCube): IpBlock[] {
    this.read(
      `podAddresses\u0000${cubeKey(cube)}`,
      (c) => ipsKey(c.podAddressesNow(cube)),
      (c) => new KeyTally((p) => (cubeMatches(cube, p.labels) ? p.ips.map(ipKey) : [])).seeded(c.matching(cube)),
    );
    return this.podAddressesNow(cube);
  }

  private podAddressesNow(cube: LabelCube): IpBlock[] {
    return this.cached(`podAddresses\u0000${cubeKey(cube)}`, () => blocksOf(this.matching(cube).flatMap((p) => p.ips)));
  }

  /** Whether some namespace of the snapshot satisfies the cube's namespace constraints. */
  namespaceExists(cube: LabelCube): boolean {
    const part = cube.filter(([k]) => k === POD_NAMESPACE_KEY || k.startsWith(NAMESPACE_LABEL_PREFIX));
    if (part.length === 0) return true;
    const key = `namespaceExists\u0000${cubeKey(part)}`;
    const ask: Ask<Cluster> = (c) => (c.cached(key, () => c.namespaceLabels.some((labels) => cubeMatches(part, labels))) ? '1' : '0');
    this.read(key, ask);
    return ask(this) === '1';
  }

  /** The values of a container port name on the pods of a destination (by labels, or by address). */
  namedValuesAt(destination: Destination & object, name: string): NamedValues {
    const where = destination.kind === 'pods' ? `pods\u0000${cubeKey(destination.cube)}` : `addresses\u0000${ipsKey(destination.ips)}`;
    const key = `named\u0000${where}\u0000${name}`;
    const now = (c: Cluster): NamedValues =>
      c.cached(key, () => {
        const pods = destination.kind === 'pods' ? c.matching(destination.cube) : c.pods.filter((p) => p.ips.some((ip) => ipSetHas(destination.ips, ip)));
        const values = pods.flatMap(({ pod }) => pod.ports.filter((cp) => cp.name === name).map((cp): PortValue => ({ protocol: cp.protocol, port: cp.port })));
        return { values, pods: pods.length };
      });
    const holds = (p: PodFacts): boolean => (destination.kind === 'pods' ? cubeMatches(destination.cube, p.labels) : p.ips.some((ip) => ipSetHas(destination.ips, ip)));
    this.read(
      key,
      (c) => {
        // What rulePorts uses: whether any pod declares the name, whether every pod declares it
        // once with one value, and the values.
        const v = now(c);
        const distinct = valuesKey(v.values);
        const kind = v.values.length === 0 ? 'none' : !distinct.includes(',') && v.values.length === v.pods ? 'uniform' : 'mixed';
        return `${kind}|${distinct}`;
      },
      (c) => new NamedTally(holds, name, destination.kind === 'pods' ? c.matching(destination.cube) : c.pods.filter(holds)),
    );
    return now(this);
  }

  /** Whether the CIDRs hold every pod address, none, or some. */
  podCoverage(cidrs: readonly Cidr[]): Coverage {
    const key = `podCoverage\u0000${cidrs.map((c) => c.text).join(',')}`;
    const contains = (ip: Ip): boolean => cidrs.some((x) => cidrContains(x, ip));
    const counts = (c: Cluster) => c.cached(key, () => coverageCounts(c.pods, contains));
    this.read(
      key,
      (c) => coverageOf(counts(c)),
      (c) => new CoverageTally(contains, counts(c)),
    );
    return coverageOf(counts(this));
  }

  /** Whether the CIDRs hold every node address, none, or some. */
  nodeCoverage(cidrs: readonly Cidr[]): Coverage {
    const key = `nodeCoverage\u0000${cidrs.map((c) => c.text).join(',')}`;
    const ask: Ask<Cluster> = (c) => c.cached(key, () => coverage(c.nodeIps, (ip) => cidrs.some((x) => cidrContains(x, ip))));
    this.read(key, ask);
    return ask(this) as Coverage;
  }

  /** The nodes a selector selects, and how many nodes there are. */
  nodesSelected(selector: Selector): { readonly total: number; readonly selected: readonly Node[] } {
    const key = `nodes\u0000${JSON.stringify(selector.requirements)}`;
    const now = (c: Cluster) => c.cached(key, () => ({ total: c.snapshot.nodes.length, selected: c.snapshot.nodes.filter((n) => selectorMatches(selector, n.labels)) }));
    this.read(key, (c) => {
      const v = now(c);
      return `${v.total}|${ipsKey(nodeAddresses(v.selected))}|${v.selected.map((n) => n.name).join(',')}`;
    });
    return now(this);
  }

  /** Every node address, as /32 and /128 blocks. */
  allNodeAddresses(): IpSet {
    const ask: Ask<Cluster> = (c) => ipsKey(c.cached('allNodeAddresses', () => nodeAddresses(c.snapshot.nodes)));
    this.read('allNodeAddresses', ask);
    return this.cached('allNodeAddresses', () => nodeAddresses(this.snapshot.nodes));
  }

  /**
   * Address sets CIDR selectors see as one identity: pods with several addresses (mode
   * `pods`) and nodes with several (mode `nodes`: the host identity has all its node's).
   */
  get wholes(): readonly IpSet[] {
    const now = (c: Cluster): IpSet[] =>
      c.cached('wholes', () => [
        ...(c.options.agent.cidrPods ? c.pods.filter((p) => p.ips.length > 1).map((p) => blocksOf(p.ips)) : []),
        ...(c.options.agent.cidrNodes ? c.nodeIps.filter((n) => n.length > 1).map((n) => blocksOf(n)) : []),
      ]);
    // Any pod with several addresses that comes, goes or changes them may change the list (its order too).
    this.read(
      'wholes',
      (c) => now(c).map(ipsKey).join(';'),
      (c) => {
        const cidrPods = c.options.agent.cidrPods;
        return new KeyTally((p) => (cidrPods && p.ips.length > 1 ? [p.ips.map(ipKey).join(' ')] : []), true).seeded(c.pods);
      },
    );
    return now(this);
  }

  /** Every pod and node address of the snapshot, as /32 and /128 blocks. */
  private clusterAddressesNow(): IpSet {
    return this.cached('clusterAddresses', () => blocksOf([...this.pods.flatMap((p) => p.ips), ...this.nodeIps.flat()]));
  }

  /** Whether a set of addresses holds any pod or node address. */
  touchesCluster(ips: IpSet): boolean {
    const key = `touchesCluster\u0000${ipsKey(ips)}`;
    const ask: Ask<Cluster> = (c) => (ipsDisjoint(ips, c.clusterAddressesNow()) ? '0' : '1');
    this.read(key, ask, (c) => c.addressesIn(ips));
    return ask(this) === '1';
  }

  /** The addresses of the set that are no pod's or node's. */
  outsideCluster(ips: IpSet): IpBlock[] {
    const key = `outsideCluster\u0000${ipsKey(ips)}`;
    const now = (c: Cluster) => c.cached(key, () => subtractIps(ips, c.clusterAddressesNow()));
    this.read(
      key,
      (c) => ipsKey(now(c)),
      (c) => c.addressesIn(ips),
    );
    return now(this);
  }

  /** A tally of the pod addresses inside a set. */
  private addressesIn(ips: IpSet): PodTally {
    return new KeyTally((p) => p.ips.filter((ip) => ipSetHas(ips, ip)).map(ipKey)).seeded(this.pods);
  }
}

const sameList = <T>(a: readonly T[], b: readonly T[]): boolean => a === b || (a.length === b.length && a.every((x, i) => x === b[i]));

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** Whether two pods are the same to the compiler (the node they run on is not). */
function samePod(x: Pod, y: Pod): boolean {
  return (
    x === y ||
    (x.namespace === y.namespace &&
      x.name === y.name &&
      x.hostNetwork === y.hostNetwork &&
      sameRecord(x.labels, y.labels) &&
      sameList(x.ips, y.ips) &&
      (x.ports === y.ports || (x.ports.length === y.ports.length && x.ports.every((p, i) => p.name === y.ports[i]!.name && p.port === y.ports[i]!.port && p.protocol === y.ports[i]!.protocol))))
  );
}

/** Whether two snapshots have the same pods, namespaces and nodes, in the same order, as the compiler sees them. */
function sameClusterObjects(a: Snapshot, b: Snapshot): boolean {
  const pods = samePod;
  return (
    a.pods.length === b.pods.length &&
    a.namespaces.length === b.namespaces.length &&
    a.nodes.length === b.nodes.length &&
    a.namespaces.every((x, i) => x === b.namespaces[i] || (x.name === b.namespaces[i]!.name && sameRecord(x.labels, b.namespaces[i]!.labels))) &&
    a.nodes.every((x, i) => x === b.nodes[i] || (x.name === b.nodes[i]!.name && sameRecord(x.labels, b.nodes[i]!.labels) && sameList(x.addresses, b.nodes[i]!.addresses))) &&
    a.pods.every((x, i) => pods(x, b.pods[i]!))
  );
}

function parsed(addresses: readonly string[]): Ip[] {
  return addresses.flatMap((a) => {
    const ip = parseIp(a);
    return ip === undefined ? [] : [ip];
  });
}

// ---- selectors ----

function selectorCube(what: string, requirements: Selector['requirements'], key: (k: string) => string, inIdentity: (k: string) => boolean): Approx<LabelCube | undefined> {
  const kept = requirements.filter((r) => inIdentity(r.key));
  const dropped = requirements.filter((r) => !kept.includes(r));
  const over = cubeOf(kept, key);
  if (dropped.length === 0) return { under: over, over, issues: [] };
  return {
    under: undefined,
    over,
    issues: [
      {
        kind: 'unselectable-label',
        message: `${what} uses label${dropped.length > 1 ? 's' : ''} ${[...new Set(dropped.map((r) => r.key))].join(', ')}, which Cilium leaves out of security identities`,
      },
    ],
  };
}

/** A set of pods as a cube over identity labels. */
export function podSetCube(cluster: Cluster, set: PodSet, what: string): Approx<LabelCube | undefined> {
  const filter = cluster.options.agent.labels;
  const ns = selectorCube(what, set.namespaces.requirements, namespaceLabelKey, filter.namespace);
  const pods = selectorCube(what, set.pods.requirements, podLabelKey, filter.pod);
  const both = (a: LabelCube | undefined, b: LabelCube | undefined): LabelCube | undefined => {
    if (a === undefined || b === undefined) return undefined;
    const ab = intersectCube(a, b);
    return ab === undefined ? undefined : intersectCube(ab, ALL_PODS_CUBE);
  };
  return { under: both(ns.under, pods.under), over: both(ns.over, pods.over), issues: [...ns.issues, ...pods.issues] };
}

/** The pods a NetworkPolicy isolates (its namespace and pod selector). */
export function networkPolicyCube(cluster: Cluster, np: NetworkPolicy): Approx<LabelCube | undefined> {
  const pods = selectorCube(`NetworkPolicy ${np.namespace}/${np.name}`, np.podSelector.requirements, podLabelKey, cluster.options.agent.labels.pod);
  const ns: LabelCube = [[POD_NAMESPACE_KEY, { absent: false, notIn: false, values: [np.namespace] }]];
  const both = (a: LabelCube | undefined) => (a === undefined ? undefined : intersectCube(a, ns));
  return { under: both(pods.under), over: both(pods.over), issues: pods.issues };
}

// ---- ports ----

function numbered(ports: readonly PortMatch[]): PortSet {
  return portSetOf(ports.flatMap((p) => (p.kind === 'range' ? [{ protocol: p.protocol, start: p.start, end: p.end }] : [])));
}

/** Where named ports resolve: pods by labels, pods by address (CIDR peers matching pods), or nowhere. */
type Destination = { readonly kind: 'pods'; readonly cube: LabelCube } | { readonly kind: 'addresses'; readonly ips: IpSet } | undefined;

/**
 * The traffic of a rule towards `destination` (the pods named ports resolve on; undefined
 * when the destination is not a pod, so names match nothing).
 */
function rulePorts(cluster: Cluster, rule: Rule, direction: Direction, destination: Destination): Approx<PortSet> {
  if (rule.ports === undefined) return { under: ALL_PORTS, over: ALL_PORTS, issues: [] };
  const base = numbered(rule.ports);
  const names = [...new Set(rule.ports.flatMap((p) => (p.kind === 'named' ? [p.name] : [])))].sort();
  let under = base;
  let over = base;
  const issues: Issue[] = [];
  const perDestination = direction === 'ingress' || cluster.options.agent.egressNamedPortsPerDestination;
  for (const name of names) {
    if (destination === undefined) continue; // not a pod: a named port never matches
    const { values, pods } = cluster.namedValuesAt(destination, name);
    if (values.length === 0) continue;
    const same = values.every((v) => v.protocol === values[0]!.protocol && v.port === values[0]!.port);
    if (same && values.length === pods && destination.kind === 'pods') {
      // Every destination declares the name with the same number: it is that number. (Not
      // for addresses: they also stand for addresses outside the cluster, which have no names.)
      const v = values[0]!;
      const exact = portSetOf([{ protocol: v.protocol, start: v.port, end: v.port }]);
      under = union(under, exact);
      over = union(over, exact);
    } else if (perDestination) {
      // Cilium resolves ingress named ports on the endpoint itself, and from 1.20 egress ones
      // per destination identity (its named ports are part of it): exact.
      const named = portSetOf([], [name]);
      under = union(under, named);
      over = union(over, named);
    } else {
      // Cilium up to 1.19 resolves egress named ports cluster-wide, not per destination
      // (cilium/cilium#44429): use the numbers, on every destination, as an over-approximation.
      over = union(over, portSetOf(values.map((v) => ({ protocol: v.protocol, start: v.port, end: v.port }))));
      issues.push({
        kind: 'named-port',
        message: `named port ${name} stands for ${describeValues(values)} on different destination pods; Cilium before 1.20 cannot resolve it per destination on egress`,
      });
    }
  }
  return { under, over, issues };
}

function describeValues(values: readonly PortValue[]): string {
  const set = [...new Set(values.map((v) => `${v.port}/${v.protocol}`))].sort();
  return set.length === 1 ? `${set[0]} (not on every pod)` : set.join(', ');
}

// ---- peers ----


function coverage(addressLists: readonly (readonly Ip[])[], contains: (ip: Ip) => boolean): Coverage {
  let all = true;
  let any = false;
  for (const list of addressLists) {
    if (list.length === 0) continue;
    const hits = list.filter(contains).length;
    if (hits > 0) any = true;
    if (hits < list.length) all = false;
  }
  if (!any) return 'none';
  return all ? 'all' : 'some';
}

const ALL_NODES: Peer = { kind: 'nodes', selector: UNIVERSAL_CUBE };
const HOST: Peer = { kind: 'host' };
const ALL_PODS: Peer = { kind: 'pods', selector: ALL_PODS_CUBE };

/**
 * Every address: outside ones, and every pod and node whatever the snapshot holds. CIDR
 * selectors cover pods and nodes where policy-cidr-match-mode says so; the rest by identity.
 */
function everyAddress(cluster: Cluster): Peer[] {
  const { cidrPods, cidrNodes } = cluster.options.agent;
  return [{ kind: 'world', ips: ALL_IPS }, ...(cidrPods ? [] : [ALL_PODS]), ...(cidrNodes ? [] : [ALL_NODES, HOST])];
}

/** Node addresses as /32 and /128 blocks. */
function nodeAddresses(nodes: readonly Node[]): IpSet {
  return ipSetOf(nodes.flatMap((n) => n.addresses.flatMap((a) => parsed([a]).map((ip) => cidr(ip.family, ip.value, ip.family === 4 ? 32 : 128)))));
}

function nodesPeer(cluster: Cluster, peer: Extract<CnpPeer, { kind: 'nodes' }>): Approx<Peer[]> {
  const agent = cluster.options.agent;
  const { total, selected } = cluster.nodesSelected(peer.nodes);
  if (total > 0 && selected.length === 0) return exactly([]);
  if (agent.cidrNodes && total > 0) {
    // CIDR selectors match nodes, the subject's own included, by address: exact (as of the
    // snapshot's nodes, like the selection itself).
    return exactly([{ kind: 'world', ips: nodeAddresses(selected) }]);
  }
  if (total > 0 && selected.length === total) return exactly([ALL_NODES, HOST]);
  if (!agent.toNodes) {
    return {
      under: [],
      over: [ALL_NODES, HOST],
      issues: [
        {
          kind: 'unsupported-peer',
          message: `the nodes peer selects ${total === 0 ? 'nodes, none of which are known' : `${selected.length} of ${total} nodes`}, and ${agent.toNodesUnavailable ?? 'toNodes is not available'}; it matches no node for Accept, every node for Deny and Pass`,
        },
      ],
    };
  }
  const issues: Issue[] = [
    {
      kind: 'node-peer-local',
      message:
        total === 0
          ? "no nodes are known; Cilium sees a pod's own node only as the host entity, whatever its labels"
          : `the nodes peer selects ${selected.length} of ${total} nodes; Cilium sees a pod's own node only as the host entity, whatever its labels`,
    },
  ];
  const dropped = peer.nodes.requirements.filter((r) => !agent.nodeLabels(r.key));
  const remote = dropped.length === 0 ? cubeOf(peer.nodes.requirements) : undefined;
  if (dropped.length > 0) {
    issues.push({ kind: 'unselectable-label', message: `the nodes peer uses node label ${[...new Set(dropped.map((r) => r.key))].join(', ')}, which Cilium leaves out of node identities` });
  }
  const remoteAtom: Peer[] = remote === undefined ? [] : [{ kind: 'nodes', selector: remote }];
  return { under: remoteAtom, over: [remote === undefined ? ALL_NODES : remoteAtom[0]!, HOST], issues };
}

function networksPeer(cluster: Cluster, peer: Extract<CnpPeer, { kind: 'networks' }>): Approx<Peer[]> {
  const { cidrPods, cidrNodes } = cluster.options.agent;
  if (peer.cidrs.some((c) => c.family === 4 && c.prefix === 0) && peer.cidrs.some((c) => c.family === 6 && c.prefix === 0)) {
    return exactly(everyAddress(cluster));
  }
  // What the CIDRs match by address; pods and nodes by identity where CIDRs do not reach them.
  const under: Peer[] = [{ kind: 'world', ips: ipSetOf(peer.cidrs) }];
  const over: Peer[] = [...under];
  const issues: Issue[] = [];
  const pods = cidrPods ? 'none' : cluster.podCoverage(peer.cidrs);
  if (pods === 'all') {
    under.push(ALL_PODS);
    over.push(ALL_PODS);
  } else if (pods === 'some') {
    over.push(ALL_PODS);
    issues.push({ kind: 'cidr-covers-pods', message: `${cidrList(peer)} contains some pod addresses but not all; Cilium matches CIDRs only outside the cluster (policy-cidr-match-mode without pods)` });
  }
  const nodes = cidrNodes ? 'none' : cluster.nodeCoverage(peer.cidrs);
  if (nodes === 'all') {
    under.push(ALL_NODES, HOST);
    over.push(ALL_NODES, HOST);
  } else if (nodes === 'some') {
    over.push(ALL_NODES, HOST);
    issues.push({ kind: 'cidr-covers-pods', message: `${cidrList(peer)} contains some node addresses but not all; Cilium matches CIDRs only outside the cluster (policy-cidr-match-mode without nodes)` });
  }
  return { under, over, issues };
}

/** The peer atoms of one CNP peer. */
function peerAtoms(cluster: Cluster, peer: CnpPeer, direction: Direction, action: Rule['action'], what: string): Approx<Peer[]> {
  switch (peer.kind) {
    case 'all':
      return exactly([...everyAddress(cluster), { kind: 'other' }]);
    case 'pods': {
      const c = podSetCube(cluster, peer.pods, `the ${what} peer`);
      const atom = (s: LabelCube | undefined): Peer[] => (s === undefined ? [] : [{ kind: 'pods', selector: s }]);
      return { under: atom(c.under), over: atom(c.over), issues: c.issues };
    }
    case 'nodes':
      return direction === 'egress' ? nodesPeer(cluster, peer) : exactly([]);
    case 'networks':
      return direction === 'egress' && peer.cidrs.length > 0 ? networksPeer(cluster, peer) : exactly([]);
    case 'domainNames': {
      if (direction !== 'egress') return exactly([]);
      if (action === 'Accept') return exactly([{ kind: 'fqdn', names: [...new Set(peer.names)].sort() }]);
      // Only Accept may name domains; anything else is not expressible (Cilium has no FQDN
      // deny). Where CIDR selectors reach into the cluster, the cluster's addresses are cut out.
      const { cidrPods, cidrNodes } = cluster.options.agent;
      let outside: IpSet = ALL_IPS;
      if (cidrPods) outside = subtractIps(outside, cluster.podAddresses(ALL_PODS_CUBE));
      if (cidrNodes) outside = subtractIps(outside, cluster.allNodeAddresses());
      return {
        under: [],
        over: [{ kind: 'world', ips: outside }],
        issues: [{ kind: 'unsupported-peer', message: 'Cilium cannot deny by domain name; all addresses outside the cluster are denied instead' }],
      };
    }
  }
}

function cidrList(peer: { cidrs: readonly { text: string }[] }): string {
  return peer.cidrs.map((c) => c.text).join(', ');
}

function exactly<T>(value: T): Approx<T> {
  return { under: value, over: value, issues: [] };
}

/** What a rule of a policy with subject `subject` matches in one direction. */
export function ruleMatch(cluster: Cluster, subject: PodSet, rule: Rule, direction: Direction): RuleMatch {
  const subj = podSetCube(cluster, subject, 'the subject');
  const issues: Issue[] = [...subj.issues];
  const under: Cube[] = [];
  const over: Cube[] = [];
  const add = (list: Cube[], s: LabelCube | undefined, peers: readonly Peer[], which: 'under' | 'over') => {
    if (s === undefined) return;
    for (const peer of peers) {
      // Named ports resolve on the destination: the subject for ingress, a pod peer for egress
      // (pods by address too, where CIDR selectors match pods).
      const destination: Destination =
        direction === 'ingress'
          ? { kind: 'pods', cube: s }
          : peer.kind === 'pods'
            ? { kind: 'pods', cube: peer.selector }
            : peer.kind === 'world' && cluster.options.agent.cidrPods
              ? { kind: 'addresses', ips: peer.ips }
              : undefined;
      const ports = rulePorts(cluster, rule, direction, destination);
      if (which === 'over') issues.push(...ports.issues);
      const p = ports[which];
      if (isEmptyPorts(p)) continue;
      list.push({ subject: s, peer, ports: p });
    }
  };
  for (const peer of rule.peers) {
    const atoms = peerAtoms(cluster, peer, direction, rule.action, direction === 'ingress' ? 'from' : 'to');
    issues.push(...atoms.issues);
    add(under, subj.under, atoms.under, 'under');
    add(over, subj.over, atoms.over, 'over');
  }
  return { under, over, issues: dedupeIssues(issues) };
}

function dedupeIssues(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.kind}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

