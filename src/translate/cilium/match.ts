import { cidrContains, parseIp, type Ip } from '../../api/ip.js';
import type { Direction, NetworkPolicy, Peer as CnpPeer, Pod, PodSet, PortMatch, Rule, Selector, Snapshot } from '../../api/model.js';
import { selectorMatches } from '../../api/selector.js';
import type { FindingKind } from '../types.js';
import { ALL_IPS, ipSetOf } from './ipset.js';
import { cubeKey, cubeMatches, cubeOf, intersectCube, UNIVERSAL_CUBE, type LabelCube } from './labels.js';
import { excluded, type ResolvedCiliumOptions } from './options.js';
import { ALL_PORTS, isEmptyPorts, portSetOf, unionPorts as union, type NamedPorts, type PortSet, type PortValue } from './ports.js';
import type { Cube, Peer } from './space.js';

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

/** The snapshot, indexed for the compiler. */
export class Cluster {
  /** Non-host-network pods with their identity labels (unfiltered pod labels, namespace labels). */
  readonly pods: { readonly pod: Pod; readonly labels: Record<string, string>; readonly ips: readonly Ip[] }[] = [];
  /** Node addresses, parsed. */
  readonly nodeIps: readonly (readonly Ip[])[];
  private readonly podsInCache = new Map<string, Pod[]>();
  /** Each namespace's name and labels as identity labels. */
  private readonly namespaceLabels: Record<string, string>[];
  readonly names: NamedPorts;
  private readonly namedValues = new Map<string, PortValue[]>();

  constructor(
    readonly snapshot: Snapshot,
    readonly options: ResolvedCiliumOptions,
  ) {
    const namespaces = new Map(snapshot.namespaces.map((n) => [n.name, n]));
    for (const pod of snapshot.pods) {
      if (pod.hostNetwork) continue;
      const ns = namespaces.get(pod.namespace);
      const labels: Record<string, string> = { [POD_NAMESPACE_KEY]: pod.namespace };
      for (const [k, v] of Object.entries(ns?.labels ?? {})) labels[namespaceLabelKey(k)] = v;
      for (const [k, v] of Object.entries(pod.labels)) labels[podLabelKey(k)] = v;
      this.pods.push({ pod, labels, ips: parsed(pod.ips) });
      for (const cp of pod.ports) {
        if (cp.name === undefined) continue;
        const list = this.namedValues.get(cp.name) ?? [];
        if (!list.some((v) => v.port === cp.port && v.protocol === cp.protocol)) list.push({ protocol: cp.protocol, port: cp.port });
        this.namedValues.set(cp.name, list);
      }
    }
    this.nodeIps = snapshot.nodes.map((n) => parsed(n.addresses));
    this.namespaceLabels = snapshot.namespaces.map((n) => {
      const labels: Record<string, string> = { [POD_NAMESPACE_KEY]: n.name };
      for (const [k, v] of Object.entries(n.labels)) labels[namespaceLabelKey(k)] = v;
      return labels;
    });
    const pods = this.pods;
    const values = this.namedValues;
    this.names = {
      values: (name) => values.get(name) ?? [],
      overlap: (a, b) =>
        pods.some(({ pod }) => {
          const pa = pod.ports.find((p) => p.name === a);
          const pb = pod.ports.find((p) => p.name === b);
          return pa !== undefined && pb !== undefined && pa.port === pb.port && pa.protocol === pb.protocol;
        }),
    };
  }

  /** Whether some namespace of the snapshot satisfies the cube's namespace constraints. */
  namespaceExists(cube: LabelCube): boolean {
    const part = cube.filter(([k]) => k === POD_NAMESPACE_KEY || k.startsWith(NAMESPACE_LABEL_PREFIX));
    if (part.length === 0) return true;
    return this.namespaceLabels.some((labels) => cubeMatches(part, labels));
  }

  podsIn(cube: LabelCube): Pod[] {
    const key = cubeKey(cube);
    let hit = this.podsInCache.get(key);
    if (hit === undefined) {
      hit = this.pods.filter((p) => cubeMatches(cube, p.labels)).map((p) => p.pod);
      this.podsInCache.set(key, hit);
    }
    return hit;
  }
}

function parsed(addresses: readonly string[]): Ip[] {
  return addresses.flatMap((a) => {
    const ip = parseIp(a);
    return ip === undefined ? [] : [ip];
  });
}

// ---- selectors ----

function selectorCube(cluster: Cluster, what: string, requirements: Selector['requirements'], key: (k: string) => string, checkExcluded: boolean): Approx<LabelCube | undefined> {
  const kept = requirements.filter((r) => !checkExcluded || !excluded(cluster.options.identityLabelExclusions, r.key));
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
  const ns = selectorCube(cluster, what, set.namespaces.requirements, namespaceLabelKey, false);
  const pods = selectorCube(cluster, what, set.pods.requirements, podLabelKey, true);
  const both = (a: LabelCube | undefined, b: LabelCube | undefined): LabelCube | undefined => {
    if (a === undefined || b === undefined) return undefined;
    const ab = intersectCube(a, b);
    return ab === undefined ? undefined : intersectCube(ab, ALL_PODS_CUBE);
  };
  return { under: both(ns.under, pods.under), over: both(ns.over, pods.over), issues: [...ns.issues, ...pods.issues] };
}

/** The pods a NetworkPolicy isolates (its namespace and pod selector). */
export function networkPolicyCube(cluster: Cluster, np: NetworkPolicy): Approx<LabelCube | undefined> {
  const pods = selectorCube(cluster, `NetworkPolicy ${np.namespace}/${np.name}`, np.podSelector.requirements, podLabelKey, true);
  const ns: LabelCube = [[POD_NAMESPACE_KEY, { absent: false, notIn: false, values: [np.namespace] }]];
  const both = (a: LabelCube | undefined) => (a === undefined ? undefined : intersectCube(a, ns));
  return { under: both(pods.under), over: both(pods.over), issues: pods.issues };
}

// ---- ports ----

function numbered(ports: readonly PortMatch[]): PortSet {
  return portSetOf(ports.flatMap((p) => (p.kind === 'range' ? [{ protocol: p.protocol, start: p.start, end: p.end }] : [])));
}

/**
 * The traffic of a rule towards destinations `destination` (the pods named ports resolve
 * on): `egressPods` is false when the destination is not a pod, so names match nothing.
 */
function rulePorts(cluster: Cluster, rule: Rule, direction: Direction, destination: LabelCube | undefined): Approx<PortSet> {
  if (rule.ports === undefined) return { under: ALL_PORTS, over: ALL_PORTS, issues: [] };
  const base = numbered(rule.ports);
  const names = [...new Set(rule.ports.flatMap((p) => (p.kind === 'named' ? [p.name] : [])))].sort();
  let under = base;
  let over = base;
  const issues: Issue[] = [];
  for (const name of names) {
    if (destination === undefined) continue; // not a pod: a named port never matches
    const pods = cluster.podsIn(destination);
    const values = pods.flatMap((pod) => pod.ports.filter((cp) => cp.name === name).map((cp): PortValue => ({ protocol: cp.protocol, port: cp.port })));
    if (values.length === 0) continue;
    const same = values.every((v) => v.protocol === values[0]!.protocol && v.port === values[0]!.port);
    if (same && values.length === pods.length) {
      // Every destination declares the name with the same number: it is that number.
      const v = values[0]!;
      const exact = portSetOf([{ protocol: v.protocol, start: v.port, end: v.port }]);
      under = union(under, exact);
      over = union(over, exact);
    } else if (direction === 'ingress') {
      // Cilium resolves ingress named ports on the endpoint itself: exact.
      const named = portSetOf([], [name]);
      under = union(under, named);
      over = union(over, named);
    } else {
      // Cilium up to 1.19 resolves egress named ports cluster-wide, not per destination
      // (cilium/cilium#44429): use the numbers, on every destination, as an over-approximation.
      over = union(over, portSetOf(values.map((v) => ({ protocol: v.protocol, start: v.port, end: v.port }))));
      issues.push({
        kind: 'named-port',
        message: `named port ${name} stands for ${describeValues(values)} on different destination pods; Cilium cannot resolve it per destination on egress`,
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

type Coverage = 'all' | 'none' | 'some';

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

/** The peer atoms of one CNP peer, each with the subject set to use for named ports. */
function peerAtoms(cluster: Cluster, peer: CnpPeer, direction: Direction, action: Rule['action'], what: string): Approx<Peer[]> {
  switch (peer.kind) {
    case 'all':
      return exactly([{ kind: 'pods', selector: ALL_PODS_CUBE }, ALL_NODES, HOST, { kind: 'world', ips: ALL_IPS }, { kind: 'other' }]);
    case 'pods': {
      const c = podSetCube(cluster, peer.pods, `the ${what} peer`);
      const atom = (s: LabelCube | undefined): Peer[] => (s === undefined ? [] : [{ kind: 'pods', selector: s }]);
      return { under: atom(c.under), over: atom(c.over), issues: c.issues };
    }
    case 'nodes': {
      if (direction !== 'egress') return exactly([]);
      const nodes = cluster.snapshot.nodes;
      const selected = nodes.filter((n) => selectorMatches(peer.nodes, n.labels));
      if (nodes.length > 0 && selected.length === 0) return exactly([]);
      if (nodes.length > 0 && selected.length === nodes.length) return exactly([ALL_NODES, HOST]);
      const issues: Issue[] = [
        {
          kind: 'node-peer-local',
          message:
            nodes.length === 0
              ? "no nodes are known; Cilium sees a pod's own node only as the host entity, whatever its labels"
              : `the nodes peer selects ${selected.length} of ${nodes.length} nodes; Cilium sees a pod's own node only as the host entity, whatever its labels`,
        },
      ];
      const dropped = peer.nodes.requirements.filter((r) => excluded(cluster.options.nodeLabelExclusions, r.key));
      const remote = dropped.length === 0 ? cubeOf(peer.nodes.requirements) : undefined;
      if (dropped.length > 0) {
        issues.push({ kind: 'unselectable-label', message: `the nodes peer uses node label ${[...new Set(dropped.map((r) => r.key))].join(', ')}, which Cilium leaves out of node identities` });
      }
      const remoteAtom: Peer[] = remote === undefined ? [] : [{ kind: 'nodes', selector: remote }];
      return { under: remoteAtom, over: [remote === undefined ? ALL_NODES : remoteAtom[0]!, HOST], issues };
    }
    case 'networks': {
      if (direction !== 'egress' || peer.cidrs.length === 0) return exactly([]);
      if (peer.cidrs.some((c) => c.family === 4 && c.prefix === 0) && peer.cidrs.some((c) => c.family === 6 && c.prefix === 0)) {
        // Every address: every pod and node, whatever the snapshot holds.
        return exactly([{ kind: 'world', ips: ALL_IPS }, { kind: 'pods', selector: ALL_PODS_CUBE }, ALL_NODES, HOST]);
      }
      const inCidrs = (ip: Ip) => peer.cidrs.some((c) => cidrContains(c, ip));
      const under: Peer[] = [{ kind: 'world', ips: ipSetOf(peer.cidrs) }];
      const over: Peer[] = [...under];
      const issues: Issue[] = [];
      const pods = coverage(
        cluster.pods.map((p) => p.ips),
        inCidrs,
      );
      if (pods === 'all') {
        under.push({ kind: 'pods', selector: ALL_PODS_CUBE });
        over.push({ kind: 'pods', selector: ALL_PODS_CUBE });
      } else if (pods === 'some') {
        over.push({ kind: 'pods', selector: ALL_PODS_CUBE });
        issues.push({ kind: 'cidr-covers-pods', message: `${cidrList(peer)} contains some pod addresses but not all; Cilium matches CIDRs only outside the cluster` });
      }
      const nodes = coverage(cluster.nodeIps, inCidrs);
      if (nodes === 'all') {
        under.push(ALL_NODES, HOST);
        over.push(ALL_NODES, HOST);
      } else if (nodes === 'some') {
        over.push(ALL_NODES, HOST);
        issues.push({ kind: 'cidr-covers-pods', message: `${cidrList(peer)} contains some node addresses but not all; Cilium matches CIDRs only outside the cluster` });
      }
      return { under, over, issues };
    }
    case 'domainNames': {
      if (direction !== 'egress') return exactly([]);
      if (action === 'Accept') return exactly([{ kind: 'fqdn', names: [...new Set(peer.names)].sort() }]);
      // Only Accept may name domains; anything else is not expressible (Cilium has no FQDN deny).
      return {
        under: [],
        over: [{ kind: 'world', ips: ALL_IPS }],
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
      // Named ports resolve on the destination: the subject for ingress, a pod peer for egress.
      const destination = direction === 'ingress' ? s : peer.kind === 'pods' ? peer.selector : undefined;
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

