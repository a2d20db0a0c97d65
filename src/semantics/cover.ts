import { cidrCovers } from '../api/ip.js';
import type { Peer, PodSet, PortMatch, Requirement, Rule, Selector } from '../api/model.js';

// Syntactic set reasoning over selectors, peers and ports. `covers` answers
// "provably a superset"; `mayOverlap` answers "not provably disjoint". Both are
// sound but incomplete, which is what analysis reports need: never a false claim.

function implies(b: Requirement, a: Requirement): boolean {
  if (a.key !== b.key) return false;
  switch (a.operator) {
    case 'Exists':
      return b.operator === 'Exists' || (b.operator === 'In' && b.values.length > 0);
    case 'DoesNotExist':
      return b.operator === 'DoesNotExist';
    case 'In':
      return b.operator === 'In' && b.values.every((v) => a.values.includes(v));
    case 'NotIn':
      return (
        b.operator === 'DoesNotExist' ||
        (b.operator === 'In' && b.values.every((v) => !a.values.includes(v))) ||
        (b.operator === 'NotIn' && a.values.every((v) => b.values.includes(v)))
      );
  }
}

/** Every object matching `inner` matches `outer`. */
export function selectorCovers(outer: Selector, inner: Selector): boolean {
  return outer.requirements.every((a) => inner.requirements.some((b) => implies(b, a)));
}

function contradicts(a: Requirement, b: Requirement): boolean {
  if (a.key !== b.key) return false;
  const one = (x: Requirement, y: Requirement): boolean =>
    (x.operator === 'Exists' && y.operator === 'DoesNotExist') ||
    (x.operator === 'In' && y.operator === 'DoesNotExist') ||
    (x.operator === 'In' && y.operator === 'In' && !x.values.some((v) => y.values.includes(v))) ||
    (x.operator === 'In' && y.operator === 'NotIn' && x.values.every((v) => y.values.includes(v)));
  return one(a, b) || one(b, a);
}

/** False only when no object can match both selectors. */
export function selectorsMayOverlap(a: Selector, b: Selector): boolean {
  return !a.requirements.some((ra) => b.requirements.some((rb) => contradicts(ra, rb)));
}

export function podSetCovers(outer: PodSet, inner: PodSet): boolean {
  return selectorCovers(outer.namespaces, inner.namespaces) && selectorCovers(outer.pods, inner.pods);
}

export function podSetsMayOverlap(a: PodSet, b: PodSet): boolean {
  return selectorsMayOverlap(a.namespaces, b.namespaces) && selectorsMayOverlap(a.pods, b.pods);
}

function domainCovers(outer: string, inner: string): boolean {
  const o = outer.replace(/\.$/, '').toLowerCase();
  const i = inner.replace(/\.$/, '').toLowerCase();
  if (o === i) return true;
  // `*.example.com` covers one or more labels before example.com.
  return o.startsWith('*.') && i.endsWith(o.slice(1)) && i.length > o.length - 1;
}

export function peerCovers(outer: Peer, inner: Peer): boolean {
  if (outer.kind === 'all') return true;
  switch (inner.kind) {
    case 'all':
      return false;
    case 'pods':
      return outer.kind === 'pods' && podSetCovers(outer.pods, inner.pods);
    case 'nodes':
      return outer.kind === 'nodes' && selectorCovers(outer.nodes, inner.nodes);
    case 'networks':
      return outer.kind === 'networks' && inner.cidrs.every((c) => outer.cidrs.some((o) => cidrCovers(o, c)));
    case 'domainNames':
      return outer.kind === 'domainNames' && inner.names.every((n) => outer.names.some((o) => domainCovers(o, n)));
  }
}

function portCovers(outer: PortMatch, inner: PortMatch): boolean {
  if (outer.kind === 'named' || inner.kind === 'named') return outer.kind === 'named' && inner.kind === 'named' && outer.name === inner.name;
  return outer.protocol === inner.protocol && outer.start <= inner.start && inner.end <= outer.end;
}

export function portsCover(outer: readonly PortMatch[] | undefined, inner: readonly PortMatch[] | undefined): boolean {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  return inner.every((i) => outer.some((o) => portCovers(o, i)));
}

/** Every flow `inner` matches, `outer` matches too (for the same subject). */
export function ruleCovers(outer: Rule, inner: Rule): boolean {
  if (outer.peers.length === 0) return false;
  return inner.peers.every((i) => outer.peers.some((o) => peerCovers(o, i))) && portsCover(outer.ports, inner.ports);
}
