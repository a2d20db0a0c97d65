import { cubeContains, cubeKey, cubesDisjoint, intersectCube, mergeCubes, subtractCube, UNIVERSAL_CUBE, type LabelCube } from './labels.js';
import { ipsContain, ipsDisjoint, ipsKey, isEmptyIps, subtractIps, unionIps, type IpSet } from './ipset.js';
import { isEmptyPorts, portsContain, portsDisjoint, portsKey, subtractPorts, unionPorts, type Approximation, type NamedPorts, type PortSet } from './ports.js';

// The space a compiled rule lives in, for one direction: subject pod × peer × traffic.
//
// Peers are split by what Cilium can tell apart (its identities), and each kind is
// one Cilium peer field:
//   pods    endpoints by identity labels (toEndpoints/fromEndpoints)
//   nodes   remote nodes by node labels (toNodes), or all of them (entity remote-node)
//   host    the subject's own node (entity host): same-node node traffic
//   world   what a CIDR selector matches (toCIDRSet/fromCIDRSet): addresses outside the
//           cluster; with policy-cidr-match-mode `pods` also pods, by address; with `nodes`
//           also every node, the subject's own included, by address
//   fqdn    addresses learnt from DNS answers for names (toFQDNs; egress allow only)
//   other   Cilium's other cluster endpoints (health, ingress, init, unmanaged)
//   any     everything; only as something to subtract (a NetworkPolicy's subjects)
// Kinds are disjoint, except fqdn, whose addresses are some world addresses, and world and
// pods where CIDR selectors match pods: there the snapshot's pod addresses relate the two
// (exact as of the snapshot, like named ports; translate again when pods change). With
// `nodes`, node peers are written as addresses, so nodes and host never meet world.

export type Peer =
  | { readonly kind: 'pods'; readonly selector: LabelCube }
  | { readonly kind: 'nodes'; readonly selector: LabelCube }
  | { readonly kind: 'host' }
  | { readonly kind: 'world'; readonly ips: IpSet }
  | { readonly kind: 'fqdn'; readonly names: readonly string[] }
  | { readonly kind: 'other' }
  | { readonly kind: 'any' };

/** What relating cubes needs to know about the cluster. */
export interface Space {
  readonly names: NamedPorts;
  /**
   * Set when CIDR selectors match pods: the addresses (as /32 and /128 blocks) of the
   * snapshot's pods a label cube selects.
   */
  readonly podAddresses?: (selector: LabelCube) => IpSet;
}

export interface Cube {
  /** The subject pods (identity label keys). */
  readonly subject: LabelCube;
  readonly peer: Peer;
  readonly ports: PortSet;
}

const peerKeys = new WeakMap<Peer, string>();

export function peerKey(p: Peer): string {
  let k = peerKeys.get(p);
  if (k === undefined) {
    k = computePeerKey(p);
    peerKeys.set(p, k);
  }
  return k;
}

function computePeerKey(p: Peer): string {
  switch (p.kind) {
    case 'pods':
    case 'nodes':
      return `${p.kind}:${cubeKey(p.selector)}`;
    case 'world':
      return `world:${ipsKey(p.ips)}`;
    case 'fqdn':
      return `fqdn:${p.names.join(',')}`;
    default:
      return p.kind;
  }
}

export function cubeSetKey(c: Cube): string {
  return `${cubeKey(c.subject)}#${peerKey(c.peer)}#${portsKey(c.ports)}`;
}

/** The world and pods peers of a pair, when CIDR selectors match pods. */
function worldAndPods(a: Peer, b: Peer, space: Space): { world: IpSet; pods: IpSet } | undefined {
  if (space.podAddresses === undefined) return undefined;
  if (a.kind === 'world' && b.kind === 'pods') return { world: a.ips, pods: space.podAddresses(b.selector) };
  if (a.kind === 'pods' && b.kind === 'world') return { world: b.ips, pods: space.podAddresses(a.selector) };
  return undefined;
}

function peersDisjoint(a: Peer, b: Peer, space: Space): boolean {
  if (a.kind === 'any' || b.kind === 'any') return false;
  if (a.kind === 'fqdn' || b.kind === 'fqdn') {
    const other = a.kind === 'fqdn' ? b : a;
    if (other.kind === 'fqdn') return false;
    return other.kind !== 'world';
  }
  const wp = worldAndPods(a, b, space);
  if (wp !== undefined) return ipsDisjoint(wp.world, wp.pods);
  if (a.kind !== b.kind) return true;
  if (a.kind === 'pods' || a.kind === 'nodes') return cubesDisjoint(a.selector, (b as typeof a).selector);
  if (a.kind === 'world') return ipsDisjoint(a.ips, (b as typeof a).ips);
  return false;
}

/** a ⊇ b, for certain (world never contains pods: pods come and go). */
function peerContains(a: Peer, b: Peer): boolean {
  if (a.kind === 'any') return true;
  if (b.kind === 'any') return false;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'pods' || a.kind === 'nodes') return cubeContains(a.selector, (b as typeof a).selector);
  if (a.kind === 'world') return ipsContain(a.ips, (b as typeof a).ips);
  if (a.kind === 'fqdn') return (b as typeof a).names.every((n) => a.names.includes(n));
  return true;
}

interface PeerDifference {
  readonly peers: Peer[];
  readonly exact: boolean;
}

function subtractPeer(a: Peer, b: Peer, mode: Approximation, space: Space): PeerDifference {
  if (b.kind === 'any') return { peers: [], exact: true };
  if (a.kind === 'any') throw new Error('internal: the any peer is never subtracted from');
  if (a.kind === 'fqdn' || b.kind === 'fqdn') {
    // Which addresses a name stands for is only known at run time.
    if (a.kind === 'fqdn' && b.kind === 'fqdn' && b.names.every((n) => a.names.includes(n)) && a.names.every((n) => b.names.includes(n))) {
      return { peers: [], exact: true };
    }
    if (peersDisjoint(a, b, space)) return { peers: [a], exact: true };
    return { peers: mode === 'over' ? [a] : [], exact: false };
  }
  const wp = worldAndPods(a, b, space);
  if (wp !== undefined) {
    if (ipsDisjoint(wp.world, wp.pods)) return { peers: [a], exact: true };
    if (a.kind === 'world') {
      // Addresses minus pods: the pods' own addresses are cut out.
      const ips = subtractIps(a.ips, wp.pods);
      return { peers: isEmptyIps(ips) ? [] : [{ kind: 'world', ips }], exact: true };
    }
    // Pods by labels minus addresses: the pods left are only nameable by their addresses,
    // which is what an Accept may use (pods created later are not accepted: fail-closed);
    // a Deny keeps them all, which is reported.
    if (mode === 'over') return { peers: [a], exact: false };
    const ips = subtractIps(wp.pods, wp.world);
    return { peers: isEmptyIps(ips) ? [] : [{ kind: 'world', ips }], exact: true };
  }
  if (a.kind !== b.kind) return { peers: [a], exact: true };
  if (a.kind === 'pods' || a.kind === 'nodes') {
    return { peers: subtractCube(a.selector, (b as typeof a).selector).map((selector) => ({ kind: a.kind, selector })), exact: true };
  }
  if (a.kind === 'world') {
    const ips = subtractIps(a.ips, (b as typeof a).ips);
    return { peers: isEmptyIps(ips) ? [] : [{ kind: 'world', ips }], exact: true };
  }
  return { peers: [], exact: true };
}

export function cubesDisjointFor(a: Cube, b: Cube, space: Space): boolean {
  return cubesDisjoint(a.subject, b.subject) || peersDisjoint(a.peer, b.peer, space) || portsDisjoint(a.ports, b.ports, space.names);
}

export function cubeContainsCube(a: Cube, b: Cube, space: Space): boolean {
  return cubeContains(a.subject, b.subject) && peerContains(a.peer, b.peer) && portsContain(a.ports, b.ports, space.names);
}

/** Why a difference could only be approximated. */
export type Inexact = 'named-port' | 'domain-names' | 'pod-addresses';

export interface CubeDifference {
  readonly cubes: Cube[];
  readonly inexact: readonly Inexact[];
}

/**
 * a \ b as disjoint cubes: points of a whose subject is outside b's; then, among those
 * inside, whose peer is outside b's; then, among those inside both, whose traffic is.
 */
export function subtractCubeFrom(a: Cube, b: Cube, space: Space, mode: Approximation): CubeDifference {
  if (cubesDisjointFor(a, b, space)) return { cubes: [a], inexact: [] };
  const out: Cube[] = [];
  const inexact: Inexact[] = [];
  for (const subject of subtractCube(a.subject, b.subject)) out.push({ ...a, subject });
  const subject = intersectCube(a.subject, b.subject) ?? UNIVERSAL_CUBE;
  const peers = subtractPeer(a.peer, b.peer, mode, space);
  if (!peers.exact) inexact.push(a.peer.kind === 'fqdn' || b.peer.kind === 'fqdn' ? 'domain-names' : 'pod-addresses');
  for (const peer of peers.peers) out.push({ subject, peer, ports: a.ports });
  const ports = subtractPorts(a.ports, b.ports, space.names, mode);
  if (!ports.exact) inexact.push('named-port');
  if (!isEmptyPorts(ports.ports)) {
    const peer = intersectPeer(a.peer, b.peer, space);
    if (peer !== undefined) out.push({ subject, peer, ports: ports.ports });
  }
  return { cubes: out, inexact };
}

/** a ∩ b where it is a peer; a itself where it cannot be told (names against addresses). */
function intersectPeer(a: Peer, b: Peer, space: Space): Peer | undefined {
  if (b.kind === 'any') return a;
  const wp = worldAndPods(a, b, space);
  if (wp !== undefined) {
    // The pods of the label peer that have addresses in the CIDR peer, as addresses: what
    // both match now (a pod created later in the range is matched by the addresses alone).
    const ips = subtractIps(wp.pods, subtractIps(wp.pods, wp.world));
    return isEmptyIps(ips) ? undefined : { kind: 'world', ips };
  }
  if ((a.kind === 'pods' || a.kind === 'nodes') && b.kind === a.kind) {
    const s = intersectCube(a.selector, b.selector);
    return s === undefined ? undefined : { kind: a.kind, selector: s };
  }
  if (a.kind === 'world' && b.kind === 'world') {
    const ips = subtractIps(a.ips, subtractIps(a.ips, b.ips));
    return isEmptyIps(ips) ? undefined : { kind: 'world', ips };
  }
  return a;
}

/** Drops cubes contained in another cube of the list (keeps the first of equals). */
export function pruneContained(cubes: readonly Cube[], space: Space): Cube[] {
  const unique = new Map<string, Cube>();
  for (const c of cubes) if (!unique.has(cubeSetKey(c))) unique.set(cubeSetKey(c), c);
  const list = [...unique.values()];
  // Of two cubes that contain each other, the first stays.
  return list.filter((c, i) => !list.some((d, j) => j !== i && cubeContainsCube(d, c, space) && (j < i || !cubeContainsCube(c, d, space))));
}

/**
 * Rewrites a union of cubes with fewer cubes: equal subject and peer → one cube with the
 * union of the traffic; cubes equal but for one label key of the subject or of a label
 * peer → one cube when the union of the two constraints is one constraint; then drops
 * cubes another one contains.
 */
export function simplify(cubes: readonly Cube[], space: Space): Cube[] {
  let list = unionTraffic(cubes);
  for (let round = 0; round < 4; round++) {
    const before = list.length;
    list = mergeWithin(list, (c) => `${peerKey(c.peer)}#${portsKey(c.ports)}`, (a, b) => {
      const s = mergeCubes(a.subject, b.subject);
      return s === undefined ? undefined : { ...a, subject: s };
    });
    list = mergeWithin(list, (c) => `${cubeKey(c.subject)}#${portsKey(c.ports)}#${c.peer.kind}`, mergePeers);
    list = unionTraffic(list);
    if (list.length === before) break;
  }
  // Pieces of a difference are disjoint; containment only comes from merging. Quadratic: small lists only.
  return list.length <= 64 ? pruneContained(list, space) : list;
}

/** One cube per (subject, peer), with the union of their traffic. */
function unionTraffic(cubes: readonly Cube[]): Cube[] {
  const byPlace = new Map<string, Cube>();
  for (const c of cubes) {
    const k = `${cubeKey(c.subject)}#${peerKey(c.peer)}`;
    const prev = byPlace.get(k);
    byPlace.set(k, prev === undefined ? c : { ...c, ports: unionPorts(prev.ports, c.ports) });
  }
  return [...byPlace.values()];
}

/** Greedy pairwise merging inside groups of cubes with the same key. */
function mergeWithin(cubes: readonly Cube[], key: (c: Cube) => string, merge: (a: Cube, b: Cube) => Cube | undefined): Cube[] {
  const groups = new Map<string, Cube[]>();
  for (const c of cubes) {
    const k = key(c);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [c]);
    else g.push(c);
  }
  const out: Cube[] = [];
  for (const group of groups.values()) {
    const merged: Cube[] = [];
    for (const c of group) {
      let current = c;
      for (let again = true; again; ) {
        again = false;
        for (let i = 0; i < merged.length; i++) {
          const m = merge(merged[i]!, current);
          if (m !== undefined) {
            merged.splice(i, 1);
            current = m;
            again = true;
            break;
          }
        }
      }
      merged.push(current);
    }
    out.push(...merged);
  }
  return out;
}

function mergePeers(a: Cube, b: Cube): Cube | undefined {
  if ((a.peer.kind === 'pods' || a.peer.kind === 'nodes') && b.peer.kind === a.peer.kind) {
    const s = mergeCubes(a.peer.selector, b.peer.selector);
    return s === undefined ? undefined : { ...a, peer: { kind: a.peer.kind, selector: s } };
  }
  if (a.peer.kind === 'world' && b.peer.kind === 'world') return { ...a, peer: { kind: 'world', ips: unionIps(a.peer.ips, b.peer.ips) } };
  return undefined;
}
