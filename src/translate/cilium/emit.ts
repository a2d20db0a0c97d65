import type { Direction, Policy, Protocol } from '../../api/model.js';
import { ownerReferences, ownershipAnnotations, ownershipLabels, shortHash } from '../ownership.js';
import type { KubeObject } from '../types.js';
import type { Compiled, Sign } from './compile.js';
import { cidrCovers } from '../../api/ip.js';
import { ALL_IPS, cidr, ipsContain, unionIps, type IpBlock, type IpSet } from './ipset.js';
import { cubeKey, cubeRequirements, mergeCubes, type LabelCube } from './labels.js';
import { ALL_PODS_CUBE } from './match.js';
import { isAllPorts, isEmptyPorts, MAX_PORT, MIN_PORT, portsKey, unionPorts, type NamedPorts, type PortSet } from './ports.js';
import type { Cube, Peer } from './space.js';
import { peerKey } from './space.js';
import type { CiliumRule, CiliumSelector, CiliumSpec, PortProtocol } from './types.js';

// Compiled cubes → CiliumClusterwideNetworkPolicy objects, one per CNP (split when very
// large): one `specs` entry per subject selector, rules merged where Cilium allows one
// rule to say it (same peer kind, same ports), every spec with enableDefaultDeny false.

export const CCNP_API_VERSION = 'cilium.io/v2';
export const CCNP_KIND = 'CiliumClusterwideNetworkPolicy';
/** Ports per PortRule (Cilium's maxPorts). */
export const MAX_PORTS_PER_RULE = 40;
/** Bytes of specs per object (JSON), to stay far below the API server's ~1.5 MiB object limit. */
export const MAX_SPEC_BYTES_PER_OBJECT = 512 * 1024;
/** The entities standing for Cilium's non-pod cluster endpoints. */
export const OTHER_ENTITIES = ['health', 'ingress', 'init', 'unmanaged'] as const;
/** ICMP echo requests (IPv4 type 8, IPv6 type 128): how traffic without ports is matched when it cannot be matched whole. */
const ECHO = [
  { family: 'IPv4', type: 8 },
  { family: 'IPv6', type: 128 },
] as const;

function selector(cube: LabelCube): CiliumSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: { key: string; operator: string; values?: string[] }[] = [];
  for (const r of cubeRequirements(cube)) {
    if (r.operator === 'In' && r.values.length === 1 && !(r.key in matchLabels)) matchLabels[r.key] = r.values[0]!;
    else matchExpressions.push(r.values.length === 0 ? { key: r.key, operator: r.operator } : { key: r.key, operator: r.operator, values: [...r.values] });
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

function portEntries(ports: PortSet, names: NamedPorts): PortProtocol[] {
  const out: PortProtocol[] = [];
  for (const protocol of ['TCP', 'UDP', 'SCTP'] as const) {
    for (const i of ports[protocol]) {
      if (i.start === MIN_PORT && i.end === MAX_PORT) out.push({ port: '0', protocol });
      else if (i.start === i.end) out.push({ port: String(i.start), protocol });
      else out.push({ port: String(i.start), endPort: i.end, protocol });
    }
  }
  for (const name of ports.named) {
    // Always with the protocol the name has on the pods: with ANY, Cilium would match
    // the number on every protocol.
    const protocols = [...new Set(names.values(name).map((v) => v.protocol))].sort() as Protocol[];
    for (const protocol of protocols) out.push({ port: name, protocol });
  }
  return out;
}

/** Consecutive runs of items whose JSON fits in `bytes` (an item larger than that stands alone). */
function bySize<T>(list: readonly T[], bytes: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of list) {
    const n = JSON.stringify(item).length;
    if (current.length > 0 && size + n > bytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function chunk<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Peer fields of one rule (all of one kind, as Cilium requires). */
type PeerFields = Record<string, unknown>;

function fqdnSelector(name: string): { matchName: string } | { matchPattern: string } {
  // CNP: "*." covers one or more labels; Cilium: "**." is the multi-level form.
  return name.startsWith('*.') ? { matchPattern: `*${name}` } : { matchName: name };
}

/** Which in-cluster endpoints CIDR selectors reach (policy-cidr-match-mode). */
export interface CidrReach {
  readonly pods: boolean;
  readonly nodes: boolean;
}

export const CIDR_OUTSIDE_ONLY: CidrReach = { pods: false, nodes: false };

function peerFields(direction: Direction, peers: readonly Peer[], reach: CidrReach): PeerFields[] {
  const side = direction === 'egress' ? 'to' : 'from';
  const out: PeerFields[] = [];
  const entities = new Set<string>();
  const pods: LabelCube[] = [];
  const nodes: LabelCube[] = [];
  let ips: IpSet = [];
  const fqdns = new Set<string>();
  for (const p of peers) {
    switch (p.kind) {
      case 'pods':
        pods.push(p.selector);
        break;
      case 'nodes':
        if (p.selector.length === 0) entities.add('remote-node');
        else nodes.push(p.selector);
        break;
      case 'host':
        entities.add('host');
        break;
      case 'other':
        for (const e of OTHER_ENTITIES) entities.add(e);
        break;
      case 'world':
        ips = unionIps(ips, p.ips);
        break;
      case 'fqdn':
        for (const n of p.names) fqdns.add(n);
        break;
      case 'any':
        throw new Error('internal: the any peer is never emitted');
    }
  }
  const allPods = pods.some((c) => cubeKey(c) === cubeKey(ALL_PODS_CUBE));
  const allWorld = ipsContain(ips, ALL_IPS);
  // Every address, as CIDRs, also covers the pods and nodes CIDR selectors reach.
  const podsCovered = allPods || (allWorld && reach.pods);
  const nodesCovered = (entities.has('host') && entities.has('remote-node')) || (allWorld && reach.nodes);
  if (allWorld && podsCovered && nodesCovered && OTHER_ENTITIES.every((e) => entities.has(e))) {
    return [{ [`${side}Entities`]: ['all'] }];
  }
  if (allWorld && !reach.pods && !reach.nodes) {
    // The world entity is what 0.0.0.0/0 and ::/0 match when CIDRs stay outside the cluster;
    // where they reach pods or nodes, the entity does not, so the CIDRs stay.
    entities.add('world');
    ips = [];
  }
  if (allPods && entities.has('host') && entities.has('remote-node') && OTHER_ENTITIES.every((e) => entities.has(e))) {
    entities.add('cluster');
    for (const e of ['host', 'remote-node', ...OTHER_ENTITIES]) entities.delete(e);
    pods.length = 0;
  }
  if (pods.length > 0) out.push({ [`${side}Endpoints`]: mergeSelectors(pods).map(selector) });
  if (nodes.length > 0) out.push({ [`${side}Nodes`]: mergeSelectors(nodes).map(selector) });
  if (entities.size > 0) out.push({ [`${side}Entities`]: [...entities].sort() });
  if (ips.length > 0) {
    // Cilium writes a /0 as the world label, which node identities lack: with CIDRs reaching
    // nodes but not pods (whose mode also lets /0 match by address), the two halves say it.
    const blocks = reach.nodes && !reach.pods ? ips.flatMap(halves) : ips;
    out.push({ [`${side}CIDRSet`]: blocks.map((b) => (b.except.length === 0 ? { cidr: b.base.text } : { cidr: b.base.text, except: b.except.map((e) => e.text) })) });
  }
  if (fqdns.size > 0) out.push({ toFQDNs: [...fqdns].sort().map(fqdnSelector) });
  return out;
}

/** A /0 block as its two /1 halves (each with the excepts inside it); other blocks as they are. */
function halves(b: IpBlock): IpBlock[] {
  if (b.base.prefix !== 0) return [b];
  const bits = b.base.family === 4 ? 32n : 128n;
  return [0n, 1n << (bits - 1n)].flatMap((address): IpBlock[] => {
    const base = cidr(b.base.family, address, 1);
    if (b.except.some((e) => cidrCovers(e, base))) return [];
    return [{ base, except: b.except.filter((e) => cidrCovers(base, e)) }];
  });
}

/** Merges selectors whose union is one selector; sorted. */
function mergeSelectors(cubes: readonly LabelCube[]): LabelCube[] {
  let list = [...new Map(cubes.map((c) => [cubeKey(c), c])).values()];
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const m = mergeCubes(list[i]!, list[j]!);
        if (m !== undefined) {
          list = [...list.slice(0, i), m, ...list.slice(i + 1, j), ...list.slice(j + 1)];
          merged = true;
          break outer;
        }
      }
    }
  }
  return list.sort((a, b) => (cubeKey(a) < cubeKey(b) ? -1 : cubeKey(a) > cubeKey(b) ? 1 : 0));
}

/** The Cilium rules for cubes of one subject, direction and sign. */
export function rulesFor(direction: Direction, cubes: readonly Cube[], names: NamedPorts, reach: CidrReach = CIDR_OUTSIDE_ONLY): CiliumRule[] {
  // One port set per peer, then one rule per (peer kind, port set).
  const byPeer = new Map<string, { peer: Peer; ports: PortSet }>();
  for (const c of cubes) {
    const k = peerKey(c.peer);
    const prev = byPeer.get(k);
    byPeer.set(k, { peer: c.peer, ports: prev === undefined ? c.ports : unionPorts(prev.ports, c.ports) });
  }
  // Traffic without ports (ICMP) cannot share a rule with ports: one ICMP rule per peer kind.
  const byPorts = new Map<string, { ports: PortSet; peers: Peer[] }>();
  const icmp: Peer[] = [];
  for (const { peer, ports } of byPeer.values()) {
    const all = isAllPorts(ports);
    if (ports.other && !all && !(peer.kind === 'fqdn')) icmp.push(peer);
    const transport = all ? ports : { ...ports, other: false };
    if (isEmptyPorts(transport)) continue;
    const k = all ? 'all' : portsKey(transport);
    const group = byPorts.get(k) ?? { ports: transport, peers: [] };
    group.peers.push(peer);
    byPorts.set(k, group);
  }
  const rules: CiliumRule[] = [];
  for (const { ports, peers } of byPorts.values()) {
    for (const fields of peerFields(direction, peers, reach)) {
      if (isAllPorts(ports)) {
        rules.push(fields);
        continue;
      }
      const entries = portEntries(ports, names);
      if (entries.length > 0) rules.push({ ...fields, toPorts: chunk(entries, MAX_PORTS_PER_RULE).map((p) => ({ ports: p })) });
    }
  }
  if (icmp.length > 0) for (const fields of peerFields(direction, icmp, reach)) rules.push({ ...fields, icmps: [{ fields: ECHO.map((e) => ({ ...e })) }] });
  return rules
    .map((r) => ({ r, k: JSON.stringify(r) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.r);
}

const LIST: Record<Direction, Record<Sign, 'ingress' | 'ingressDeny' | 'egress' | 'egressDeny'>> = {
  ingress: { allow: 'ingress', deny: 'ingressDeny' },
  egress: { allow: 'egress', deny: 'egressDeny' },
};

export interface ExtraRule {
  readonly policy: Policy;
  readonly direction: Direction;
  readonly subject: LabelCube;
  readonly rule: CiliumRule;
  readonly label: string;
}

/** What one policy emits from: its compiled cubes and extra rules. */
export interface PolicyParts {
  readonly policy: Policy;
  readonly compiled: Compiled[];
  readonly extra: ExtraRule[];
}

/** Compiled cubes and extra rules by policy, in order of first appearance. */
export function partsByPolicy(compiled: readonly Compiled[], extra: readonly ExtraRule[]): PolicyParts[] {
  const byPolicy = new Map<string, PolicyParts>();
  const group = (p: Policy) => {
    const g = byPolicy.get(p.name) ?? { policy: p, compiled: [], extra: [] };
    byPolicy.set(p.name, g);
    return g;
  };
  for (const c of compiled) group(c.policy).compiled.push(c);
  for (const x of extra) group(x.policy).extra.push(x);
  return [...byPolicy.values()];
}

export function sortObjects(objects: KubeObject[]): KubeObject[] {
  return objects.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/** One CCNP per policy (more when it is very large). */
export function emit(compiled: readonly Compiled[], extra: readonly ExtraRule[], names: NamedPorts, reach: CidrReach = CIDR_OUTSIDE_ONLY): KubeObject[] {
  return sortObjects(partsByPolicy(compiled, extra).flatMap((p) => emitPolicy(p, names, reach)));
}

/** The CCNPs of one policy, sorted by name. */
export function emitPolicy({ policy, compiled: list, extra: extras }: PolicyParts, names: NamedPorts, reach: CidrReach = CIDR_OUTSIDE_ONLY): KubeObject[] {
  const objects: KubeObject[] = [];
  const bySubject = new Map<string, { subject: LabelCube; parts: Map<string, Cube[]>; rules: Set<string>; extra: ExtraRule[] }>();
  const at = (subject: LabelCube) => {
    const k = cubeKey(subject);
    const s = bySubject.get(k) ?? { subject, parts: new Map<string, Cube[]>(), rules: new Set<string>(), extra: [] as ExtraRule[] };
    bySubject.set(k, s);
    return s;
  };
  for (const c of list) {
    for (const cube of c.cubes) {
      if (isEmptyPorts(cube.ports)) continue;
      const s = at(cube.subject);
      const part = `${c.direction}/${c.sign}`;
      s.parts.set(part, [...(s.parts.get(part) ?? []), cube]);
      s.rules.add(`${c.direction}[${c.rule.index}]`);
    }
  }
  for (const x of extras) {
    const s = at(x.subject);
    s.extra.push(x);
    s.rules.add(x.label);
  }
  const specs: CiliumSpec[] = [];
  const subjects = [...bySubject.values()].sort((a, b) => (cubeKey(a.subject) < cubeKey(b.subject) ? -1 : 1));
  for (const [i, s] of subjects.entries()) {
    // Specs for different parts of the subject would otherwise read alike (kubectl get ccnp shows them side by side).
    const part = subjects.length > 1 ? ` (subject part ${i + 1} of ${subjects.length})` : '';
    const spec: Record<string, unknown> = {
      description: `${policy.tier} ClusterNetworkPolicy ${policy.name}${part}: ${[...s.rules].sort().join(', ')}`,
      endpointSelector: selector(s.subject),
    };
    for (const direction of ['ingress', 'egress'] as const) {
      for (const sign of ['allow', 'deny'] as const) {
        const cubes = s.parts.get(`${direction}/${sign}`) ?? [];
        let rules = rulesFor(direction, cubes, names, reach);
        if (sign === 'allow') {
          const extra = new Map(s.extra.filter((x) => x.direction === direction).map((x) => [JSON.stringify(x.rule), x.rule]));
          rules = [...rules, ...[...extra.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, r]) => r)];
        }
        if (rules.length > 0) spec[LIST[direction][sign]] = rules;
      }
    }
    if (!['ingress', 'ingressDeny', 'egress', 'egressDeny'].some((k) => k in spec)) continue;
    spec.enableDefaultDeny = { ingress: false, egress: false };
    specs.push(spec as unknown as CiliumSpec);
  }
  if (specs.length === 0) return objects;
  const owners = ownerReferences(policy);
  bySize(specs, MAX_SPEC_BYTES_PER_OBJECT).forEach((part, i) => {
    const object = {
      apiVersion: CCNP_API_VERSION,
      kind: CCNP_KIND,
      metadata: {
        name: objectName(policy.name, i),
        labels: ownershipLabels(policy),
        annotations: ownershipAnnotations(policy),
        ...(owners === undefined ? {} : { ownerReferences: owners }),
      },
      specs: part,
    };
    // Fresh values throughout: no shared references (YAML output would show them as anchors).
    objects.push(JSON.parse(JSON.stringify(object)) as KubeObject);
  });
  return sortObjects(objects);
}

/** `cnp-<name>`, `cnp-<name>.2`, …; shortened with a hash past 253 characters. */
export function objectName(policy: string, part: number): string {
  const suffix = part === 0 ? '' : `.${part + 1}`;
  const name = `cnp-${policy}${suffix}`;
  if (name.length <= 253) return name;
  const hash = shortHash(`${policy}${suffix}`);
  return `cnp-${policy.slice(0, 253 - 4 - 9 - suffix.length).replace(/[-.]+$/, '')}-${hash}${suffix}`;
}
