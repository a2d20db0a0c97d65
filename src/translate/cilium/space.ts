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
//   world   addresses outside the cluster (toCIDRSet/fromCIDRSet)
//   fqdn    addresses learnt from DNS answers for names (toFQDNs; egress allow only)
//   other   Cilium's other cluster endpoints (health, ingress, init, unmanaged)
//   any     everything; only as something to subtract (a NetworkPolicy's subjects)
// Kinds are disjoint, except fqdn, whose addresses are some world addresses.

export type Peer =
  | { readonly kind: 'pods'; readonly selector: LabelCube }
  | { readonly kind: 'nodes'; readonly selector: LabelCube }
  | { readonly kind: 'host' }
  | { readonly kind: 'world'; readonly ips: IpSet }
  | { readonly kind: 'fqdn'; readonly names: readonly string[] }
  | { readonly kind: 'other' }
  | { readonly kind: 'any' };

export interface Cube {
  /** The subject pods (identity label keys). */
  readonly subject: LabelCube;
  readonly peer: Peer;
  readonly ports: PortSet;
}

export function peerKey(p: Peer): string {
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

function peersDisjoint(a: Peer, b: Peer): boolean {
  if (a.kind === 'any' || b.kind === 'any') return false;
  if (a.kind === 'fqdn' || b.kind === 'fqdn') {
    const other = a.kind === 'fqdn' ? b : a;
    if (other.kind === 'fqdn') return false;
    return other.kind !== 'world';
  }
  if (a.kind !== b.kind) return true;
  if (a.kind === 'pods' || a.kind === 'nodes') return cubesDisjoint(a.selector, (b as typeof a).selector);
  if (a.kind === 'world') return ipsDisjoint(a.ips, (b as typeof a).ips);
  return false;
}

/** a ⊇ b, for certain. */
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

function subtractPeer(a: Peer, b: Peer, mode: Approximation): PeerDifference {
  if (b.kind === 'any') return { peers: [], exact: true };
  if (a.kind === 'any') throw new Error('internal: the any peer is never subtracted from');
  if (a.kind === 'fqdn' || b.kind === 'fqdn') {
    // Which addresses a name stands for is only known at run time.
    if (a.kind === 'fqdn' && b.kind === 'fqdn' && b.names.every((n) => a.names.includes(n)) && a.names.every((n) => b.names.includes(n))) {
      return { peers: [], exact: true };
    }
    if (peersDisjoint(a, b)) return { peers: [a], exact: true };
    return { peers: mode === 'over' ? [a] : [], exact: false };
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

export function cubesDisjointFor(a: Cube, b: Cube, names: NamedPorts): boolean {
  return cubesDisjoint(a.subject, b.subject) || peersDisjoint(a.peer, b.peer) || portsDisjoint(a.ports, b.ports, names);
}

export function cubeContainsCube(a: Cube, b: Cube, names: NamedPorts): boolean {
  return cubeContains(a.subject, b.subject) && peerContains(a.peer, b.peer) && portsContain(a.ports, b.ports, names);
}

/** Why a difference could only be approximated. */
export type Inexact = 'named-port' | 'domain-names';

export interface CubeDifference {
  readonly cubes: Cube[];
  readonly inexact: readonly Inexact[];
}

/**
 * a \ b as cubes whose union is the difference (they may overlap): a point of a is
 * outside b when its subject, its peer or its traffic is outside b's.
 */
export function subtractCubeFrom(a: Cube, b: Cube, names: NamedPorts, mode: Approximation): CubeDifference {
  if (cubesDisjointFor(a, b, names)) return { cubes: [a], inexact: [] };
  const out: Cube[] = [];
  const inexact: Inexact[] = [];
  for (const subject of subtractCube(a.subject, b.subject)) out.push({ ...a, subject });
  // The remaining pieces only need to cover a ∩ b's subjects.
  const subject = intersectCube(a.subject, b.subject) ?? UNIVERSAL_CUBE;
  const peers = subtractPeer(a.peer, b.peer, mode);
  if (!peers.exact) inexact.push('domain-names');
  for (const peer of peers.peers) out.push({ subject, peer, ports: a.ports });
  const ports = subtractPorts(a.ports, b.ports, names, mode);
  if (!ports.exact) inexact.push('named-port');
  if (!isEmptyPorts(ports.ports)) {
    // Narrow the peer to b's where both are label sets; elsewhere keep a's.
    const peer = narrowPeer(a.peer, b.peer);
    out.push({ subject, peer, ports: ports.ports });
  }
  return { cubes: out, inexact };
}

function narrowPeer(a: Peer, b: Peer): Peer {
  if ((a.kind === 'pods' || a.kind === 'nodes') && b.kind === a.kind) {
    const s = intersectCube(a.selector, b.selector);
    if (s !== undefined) return { kind: a.kind, selector: s };
  }
  return a;
}

/** Drops cubes contained in another cube of the list (keeps the first of equals). */
export function pruneContained(cubes: readonly Cube[], names: NamedPorts): Cube[] {
  const unique = new Map<string, Cube>();
  for (const c of cubes) if (!unique.has(cubeSetKey(c))) unique.set(cubeSetKey(c), c);
  const list = [...unique.values()];
  // Of two cubes that contain each other, the first stays.
  return list.filter((c, i) => !list.some((d, j) => j !== i && cubeContainsCube(d, c, names) && (j < i || !cubeContainsCube(c, d, names))));
}

/**
 * Rewrites a union of cubes with fewer cubes: equal subject and peer → one cube with the
 * union of the traffic; cubes equal but for one label key of the subject or of a label
 * peer → one cube when the union of the two constraints is one constraint; then drops
 * cubes another one contains.
 */
export function simplify(cubes: readonly Cube[], names: NamedPorts): Cube[] {
  const byPlace = new Map<string, Cube>();
  for (const c of cubes) {
    const k = `${cubeKey(c.subject)}#${peerKey(c.peer)}`;
    const prev = byPlace.get(k);
    byPlace.set(k, prev === undefined ? c : { ...c, ports: unionPorts(prev.ports, c.ports) });
  }
  let list = [...byPlace.values()];
  for (let changed = true; changed && list.length > 1; ) {
    changed = false;
    outer: for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const m = mergeTwo(list[i]!, list[j]!);
        if (m !== undefined) {
          list = [...list.slice(0, i), m, ...list.slice(i + 1, j), ...list.slice(j + 1)];
          changed = true;
          break outer;
        }
      }
    }
  }
  return pruneContained(list, names);
}

function mergeTwo(a: Cube, b: Cube): Cube | undefined {
  const samePeer = peerKey(a.peer) === peerKey(b.peer);
  const samePorts = portsKey(a.ports) === portsKey(b.ports);
  const sameSubject = cubeKey(a.subject) === cubeKey(b.subject);
  if (samePeer && sameSubject) return { ...a, ports: unionPorts(a.ports, b.ports) };
  if (samePeer && samePorts) {
    const s = mergeCubes(a.subject, b.subject);
    return s === undefined ? undefined : { ...a, subject: s };
  }
  if (sameSubject && samePorts && a.peer.kind === b.peer.kind) {
    if (a.peer.kind === 'pods' || a.peer.kind === 'nodes') {
      const s = mergeCubes(a.peer.selector, (b.peer as typeof a.peer).selector);
      return s === undefined ? undefined : { ...a, peer: { kind: a.peer.kind, selector: s } };
    }
    if (a.peer.kind === 'world') return { ...a, peer: { kind: 'world', ips: unionIps(a.peer.ips, (b.peer as typeof a.peer).ips) } };
  }
  return undefined;
}
