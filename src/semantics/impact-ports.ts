import { PROTOCOLS, type Protocol } from '../api/model.js';

// Ports as the evaluator sees them. Every port test a policy can make is an interval of one
// protocol's ports: a CNP range or number [start, end], a NetworkPolicy port [port, endPort], a
// protocol with no port (all of 1-65535), or a named port, which on a given destination pod is
// the set of that pod's container ports of that name and protocol, i.e. single-port intervals.
// The truth of a test "start <= p <= end" only changes at `start` and at `end + 1`; so between
// two consecutive such breakpoints every test, and with them every verdict, is constant, and one
// port per stretch (its first) stands for all of it. The stretch before the first breakpoint
// starts at 1 and is the "any other port" of the protocol; a protocol no rule names is one
// stretch, 1-65535.

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** Sorted, de-duplicated stretch starts per protocol; each list begins with 1. */
export type Breakpoints = Readonly<Record<Protocol, readonly number[]>>;

export class BreakpointSet {
  private readonly sets: Record<Protocol, Set<number>> = { TCP: new Set([MIN_PORT]), UDP: new Set([MIN_PORT]), SCTP: new Set([MIN_PORT]) };

  /** Adds the breakpoints of the test "start <= p <= end" for one protocol. */
  addRange(protocol: Protocol, start: number, end: number): this {
    const set = this.sets[protocol];
    if (start >= MIN_PORT && start <= MAX_PORT) set.add(start);
    if (end + 1 >= MIN_PORT && end + 1 <= MAX_PORT) set.add(end + 1);
    return this;
  }

  addAll(other: Breakpoints): this {
    for (const p of PROTOCOLS) for (const n of other[p]) this.sets[p].add(n);
    return this;
  }

  build(): Breakpoints {
    const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
    return { TCP: sorted(this.sets.TCP), UDP: sorted(this.sets.UDP), SCTP: sorted(this.sets.SCTP) };
  }
}

export const NO_BREAKPOINTS: Breakpoints = new BreakpointSet().build();

/** The union of sorted start lists (each beginning with 1). */
export function mergeStarts(lists: readonly (readonly number[])[]): number[] {
  const all = new Set<number>();
  for (const l of lists) for (const n of l) all.add(n);
  return [...all].sort((a, b) => a - b);
}

/** The start of the stretch of `starts` that holds `port` (`starts` sorted, beginning with 1). */
export function stretchStart(starts: readonly number[], port: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= port) lo = mid;
    else hi = mid - 1;
  }
  return starts[lo]!;
}

/** The last port of stretch `i` of `starts`. */
export function stretchEnd(starts: readonly number[], i: number): number {
  const next = starts[i + 1];
  return next === undefined ? MAX_PORT : next - 1;
}
