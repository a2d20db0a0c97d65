import { cidrCovers } from '../api/ip.js';
import type { Peer, PodSet, PortMatch, Requirement, Rule, Selector } from '../api/model.js';

// Syntactic set reasoning over selectors, peers and ports. `covers` answers
// "provably a superset"; `mayOverlap` answers "not provably disjoint". Both are
// sound but incomplete, which is what analysis reports need: never a false claim.

// Indexed loops rather than for-of or every/some: the rule analysis asks these questions for
// pairs of rules across thousands of policies, and each iterator or closure is an allocation
// (for-of iterators here were most of what the analysis allocated: 55 KiB of its 61 KiB per CNP).

function includes(values: readonly string[], v: string): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] === v) return true;
  return false;
}

/** Every value of `values` is in `of`. */
function allIn(values: readonly string[], of: readonly string[]): boolean {
  for (let i = 0; i < values.length; i++) if (!includes(of, values[i]!)) return false;
  return true;
}

/** No value of `values` is in `of`. */
function noneIn(values: readonly string[], of: readonly string[]): boolean {
  for (let i = 0; i < values.length; i++) if (includes(of, values[i]!)) return false;
  return true;
}

/** Every item of `inner` is covered by some item of `outer` (`covers` a module function: no closure). */
function eachCovered<T>(outer: readonly T[], inner: readonly T[], covers: (o: T, i: T) => boolean): boolean {
  next: for (let i = 0; i < inner.length; i++) {
    for (let o = 0; o < outer.length; o++) if (covers(outer[o]!, inner[i]!)) continue next;
    return false;
  }
  return true;
}

function implies(b: Requirement, a: Requirement): boolean {
  if (a.key !== b.key) return false;
  switch (a.operator) {
    case 'Exists':
      return b.operator === 'Exists' || (b.operator === 'In' && b.values.length > 0);
    case 'DoesNotExist':
      return b.operator === 'DoesNotExist';
    case 'In':
      return b.operator === 'In' && allIn(b.values, a.values);
    case 'NotIn':
      return b.operator === 'DoesNotExist' || (b.operator === 'In' && noneIn(b.values, a.values)) || (b.operator === 'NotIn' && allIn(a.values, b.values));
  }
}

/** Every object matching `inner` matches `outer`. */
export function selectorCovers(outer: Selector, inner: Selector): boolean {
  const need = outer.requirements;
  const have = inner.requirements;
  next: for (let i = 0; i < need.length; i++) {
    for (let j = 0; j < have.length; j++) if (implies(have[j]!, need[i]!)) continue next;
    return false;
  }
  return true;
}

/** No object can have both x and y: one direction of `contradicts`. */
function excludes(x: Requirement, y: Requirement): boolean {
  return (
    (x.operator === 'Exists' && y.operator === 'DoesNotExist') ||
    (x.operator === 'In' && y.operator === 'DoesNotExist') ||
    (x.operator === 'In' && y.operator === 'In' && noneIn(x.values, y.values)) ||
    (x.operator === 'In' && y.operator === 'NotIn' && allIn(x.values, y.values))
  );
}

function contradicts(a: Requirement, b: Requirement): boolean {
  if (a.key !== b.key) return false;
  return excludes(a, b) || excludes(b, a);
}

/** False only when no object can match both selectors. */
export function selectorsMayOverlap(a: Selector, b: Selector): boolean {
  const ra = a.requirements;
  const rb = b.requirements;
  for (let i = 0; i < ra.length; i++) for (let j = 0; j < rb.length; j++) if (contradicts(ra[i]!, rb[j]!)) return false;
  return true;
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
      return outer.kind === 'networks' && eachCovered(outer.cidrs, inner.cidrs, cidrCovers);
    case 'domainNames':
      return outer.kind === 'domainNames' && eachCovered(outer.names, inner.names, domainCovers);
  }
}

function portCovers(outer: PortMatch, inner: PortMatch): boolean {
  if (outer.kind === 'named' || inner.kind === 'named') return outer.kind === 'named' && inner.kind === 'named' && outer.name === inner.name;
  return outer.protocol === inner.protocol && outer.start <= inner.start && inner.end <= outer.end;
}

export function portsCover(outer: readonly PortMatch[] | undefined, inner: readonly PortMatch[] | undefined): boolean {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  return eachCovered(outer, inner, portCovers);
}

/** Every flow `inner` matches, `outer` matches too (for the same subject). */
export function ruleCovers(outer: Rule, inner: Rule): boolean {
  if (outer.peers.length === 0) return false;
  return eachCovered(outer.peers, inner.peers, peerCovers) && portsCover(outer.ports, inner.ports);
}
