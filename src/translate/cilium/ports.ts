import { PROTOCOLS, type Protocol } from '../../api/model.js';

// Sets of traffic by protocol and destination port.
//
// A PortSet is the union of: port intervals per transport protocol; container port
// names (resolved on the destination pod); and `other`, the traffic that has no
// transport port (ICMP and any other IP protocol). `undefined` ports in a CNP rule
// (all traffic) is every interval plus `other`.
//
// Named ports only relate to numbers through the pods that declare them; the
// NamedPorts context tells, from the cluster snapshot, which (protocol, port) pairs a
// name can stand for, so differences involving names are exact when the snapshot
// allows and otherwise approximated in the direction the caller asks for.

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

export interface Interval {
  readonly start: number;
  readonly end: number;
}

export type Intervals = readonly Interval[];

export interface PortSet {
  readonly TCP: Intervals;
  readonly UDP: Intervals;
  readonly SCTP: Intervals;
  /** Container port names, sorted. */
  readonly named: readonly string[];
  readonly other: boolean;
}

const FULL: Intervals = [{ start: MIN_PORT, end: MAX_PORT }];

export const ALL_PORTS: PortSet = { TCP: FULL, UDP: FULL, SCTP: FULL, named: [], other: true };
export const NO_PORTS: PortSet = { TCP: [], UDP: [], SCTP: [], named: [], other: false };

export interface PortValue {
  readonly protocol: Protocol;
  readonly port: number;
}

/** What the snapshot says about container port names. */
export interface NamedPorts {
  /** Every (protocol, port) the name stands for on some pod. */
  values(name: string): readonly PortValue[];
  /** True when some pod declares both names for the same (protocol, port). */
  overlap(a: string, b: string): boolean;
}

export type Approximation = 'over' | 'under';

// ---- intervals ----

export function normalize(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.start <= i.end).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && i.start <= last.end + 1) out[out.length - 1] = { start: last.start, end: Math.max(last.end, i.end) };
    else out.push({ ...i });
  }
  return out;
}

export function unionIntervals(a: Intervals, b: Intervals): Interval[] {
  return normalize([...a, ...b]);
}

export function subtractIntervals(a: Intervals, b: Intervals): Interval[] {
  let current: Interval[] = [...a];
  for (const cut of b) {
    const next: Interval[] = [];
    for (const i of current) {
      if (cut.end < i.start || cut.start > i.end) {
        next.push(i);
        continue;
      }
      if (i.start < cut.start) next.push({ start: i.start, end: cut.start - 1 });
      if (i.end > cut.end) next.push({ start: cut.end + 1, end: i.end });
    }
    current = next;
  }
  return normalize(current);
}

export function intervalsContain(a: Intervals, port: number): boolean {
  return a.some((i) => port >= i.start && port <= i.end);
}

function intervalsIntersect(a: Intervals, b: Intervals): boolean {
  return a.some((x) => b.some((y) => x.start <= y.end && y.start <= x.end));
}

function intervalsCover(a: Intervals, b: Intervals): boolean {
  return subtractIntervals(b, a).length === 0;
}

function intervalsEqual(a: Intervals, b: Intervals): boolean {
  return a.length === b.length && a.every((x, i) => x.start === b[i]!.start && x.end === b[i]!.end);
}

function isFull(a: Intervals): boolean {
  return a.length === 1 && a[0]!.start === MIN_PORT && a[0]!.end === MAX_PORT;
}

// ---- port sets ----

export function portSetOf(parts: { protocol: Protocol; start: number; end: number }[], named: readonly string[] = [], other = false): PortSet {
  const by = (p: Protocol) => normalize(parts.filter((x) => x.protocol === p).map((x) => ({ start: x.start, end: x.end })));
  return { TCP: by('TCP'), UDP: by('UDP'), SCTP: by('SCTP'), named: [...new Set(named)].sort(), other };
}

export function isEmptyPorts(p: PortSet): boolean {
  return p.TCP.length === 0 && p.UDP.length === 0 && p.SCTP.length === 0 && p.named.length === 0 && !p.other;
}

export function isAllPorts(p: PortSet): boolean {
  return p.other && PROTOCOLS.every((proto) => isFull(p[proto]));
}

/** Only numbered transport ports (no names, no `other`). */
export function hasNumbersOnly(p: PortSet): boolean {
  return p.named.length === 0 && !p.other;
}

export function unionPorts(a: PortSet, b: PortSet): PortSet {
  const u = {
    TCP: unionIntervals(a.TCP, b.TCP),
    UDP: unionIntervals(a.UDP, b.UDP),
    SCTP: unionIntervals(a.SCTP, b.SCTP),
    other: a.other || b.other,
  };
  // A name whose every value is already covered by numbers adds nothing.
  const named = [...new Set([...a.named, ...b.named])].sort();
  return { ...u, named };
}

export function portsEqual(a: PortSet, b: PortSet): boolean {
  return (
    a.other === b.other &&
    PROTOCOLS.every((p) => intervalsEqual(a[p], b[p])) &&
    a.named.length === b.named.length &&
    a.named.every((n, i) => n === b.named[i])
  );
}

function valuesIn(values: readonly PortValue[], p: PortSet): { all: boolean; any: boolean } {
  let all = true;
  let any = false;
  for (const v of values) {
    if (intervalsContain(p[v.protocol], v.port)) any = true;
    else all = false;
  }
  return { all, any };
}

/** a ⊇ b, as far as can be told for certain. */
export function portsContain(a: PortSet, b: PortSet, names: NamedPorts): boolean {
  if (b.other && !a.other) return false;
  if (!PROTOCOLS.every((p) => intervalsCover(a[p], b[p]))) return false;
  return b.named.every((n) => a.named.includes(n) || valuesIn(names.values(n), a).all);
}

/** Whether a ∩ b is certainly empty. */
export function portsDisjoint(a: PortSet, b: PortSet, names: NamedPorts): boolean {
  if (a.other && b.other) return false;
  for (const p of PROTOCOLS) if (intervalsIntersect(a[p], b[p])) return false;
  for (const n of a.named) {
    if (b.named.includes(n) || valuesIn(names.values(n), b).any) return false;
    if (b.named.some((m) => names.overlap(n, m))) return false;
  }
  for (const n of b.named) if (valuesIn(names.values(n), a).any) return false;
  return true;
}

export interface PortDifference {
  readonly ports: PortSet;
  /** False when the result is an approximation (in the requested direction). */
  readonly exact: boolean;
}

/**
 * a \ b. Numbers and names can only be separated where the snapshot allows; elsewhere the
 * result is over-approximated (keeps too much) or under-approximated (drops too much).
 */
export function subtractPorts(a: PortSet, b: PortSet, names: NamedPorts, mode: Approximation): PortDifference {
  let exact = true;
  const numbers: Record<Protocol, Interval[]> = {
    TCP: subtractIntervals(a.TCP, b.TCP),
    UDP: subtractIntervals(a.UDP, b.UDP),
    SCTP: subtractIntervals(a.SCTP, b.SCTP),
  };
  // Names in b remove their values only on the pods that declare them.
  for (const n of b.named) {
    const hit = names.values(n).filter((v) => intervalsContain(numbers[v.protocol], v.port));
    if (hit.length === 0) continue;
    exact = false;
    if (mode === 'under') for (const v of hit) numbers[v.protocol] = subtractIntervals(numbers[v.protocol], [{ start: v.port, end: v.port }]);
  }
  const named: string[] = [];
  for (const n of a.named) {
    if (b.named.includes(n)) continue;
    const inB = valuesIn(names.values(n), b);
    if (names.values(n).length === 0 || inB.all) continue; // every value is removed by b's numbers
    const overlapping = inB.any || b.named.some((m) => names.overlap(n, m));
    if (!overlapping) {
      named.push(n);
      continue;
    }
    exact = false;
    if (mode === 'over') named.push(n);
  }
  return { ports: { ...numbers, named, other: a.other && !b.other }, exact };
}

const portKeys = new WeakMap<PortSet, string>();

export function portsKey(p: PortSet): string {
  let k = portKeys.get(p);
  if (k === undefined) {
    k = computePortsKey(p);
    portKeys.set(p, k);
  }
  return k;
}

function computePortsKey(p: PortSet): string {
  const iv = (x: Intervals) => x.map((i) => (i.start === i.end ? `${i.start}` : `${i.start}-${i.end}`)).join(',');
  return `T${iv(p.TCP)}|U${iv(p.UDP)}|S${iv(p.SCTP)}|N${p.named.join(',')}|O${p.other ? 1 : 0}`;
}
