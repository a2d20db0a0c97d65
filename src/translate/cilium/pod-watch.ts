import type { Ip } from '../../api/ip.js';
import type { ContainerPort, Pod } from '../../api/model.js';

// Which pod events can change the Cilium translation. The compiler depends on pods only through
// the cluster questions its kept steps asked (see reads.ts); each question that involves pods
// keeps a tally of the pods' contributions, seeded from the snapshot the translation saw and
// moved by every pod event after it. A tally "moves" when the answer may no longer be what it
// was; while none has moved, the translation is still the translation of the cluster, and the
// event needs no recomputation. Tallies count, so a pod that leaves while others give the same
// contribution (the second replica of a Deployment) moves nothing.
//
// Sound as long as the tallies see every pod change after the translation, in order, before the
// next translation: the operator calls them from its informer handlers, which run between
// translations (a translation runs in one go). Once a tally has moved it stays moved until the
// next translation replaces the watch.

/** A pod as the questions see it (host-network pods are not in the compilation at all). */
export interface PodFacts {
  /** Identity labels: namespace, namespace labels, pod labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly ips: readonly Ip[];
  readonly ports: readonly ContainerPort[];
}

export interface PodTally {
  add(pod: PodFacts, sign: 1 | -1): void;
  /** Whether the answer may differ from the one it had when the tally was seeded. */
  moved(): boolean;
  /** An independent copy (the operator's watch moves its copies; the compiler keeps its own). */
  clone(): PodTally;
}

export const ipKey = (ip: Ip): string => `${ip.family}:${ip.value.toString(16)}`;

export const portValueKey = (p: { readonly port: number; readonly protocol: string }): string => `${p.port}/${p.protocol}`;

/** Counts per key; moves when a key's presence (or, with `exact`, its count) differs from the seed's. */
export class KeyTally implements PodTally {
  private readonly counts = new Map<string, number>();
  private readonly seed = new Map<string, number>();
  private differing = 0;
  private sealed = false;

  constructor(
    private readonly keys: (pod: PodFacts) => readonly string[],
    private readonly exact = false,
  ) {}

  seeded(pods: Iterable<PodFacts>): this {
    for (const p of pods) for (const k of this.keys(p)) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    for (const [k, n] of this.counts) this.seed.set(k, n);
    this.sealed = true;
    return this;
  }

  /** Seeded from counts already made (as keys() would give them for the pods). */
  seededWith(counts: ReadonlyMap<string, number>): this {
    for (const [k, n] of counts) {
      this.counts.set(k, n);
      this.seed.set(k, n);
    }
    this.sealed = true;
    return this;
  }

  add(pod: PodFacts, sign: 1 | -1): void {
    for (const k of this.keys(pod)) {
      const before = this.counts.get(k) ?? 0;
      const after = before + sign;
      if (after === 0) this.counts.delete(k);
      else this.counts.set(k, after);
      if (!this.sealed) continue;
      const seed = this.seed.get(k) ?? 0;
      const same = (n: number) => (this.exact ? n === seed : n > 0 === seed > 0);
      if (same(before) && !same(after)) this.differing++;
      else if (!same(before) && same(after)) this.differing--;
    }
  }

  moved(): boolean {
    return this.differing > 0;
  }

  clone(): KeyTally {
    const c = new KeyTally(this.keys, this.exact);
    for (const [k, n] of this.counts) c.counts.set(k, n);
    for (const [k, n] of this.seed) c.seed.set(k, n);
    c.differing = this.differing;
    c.sealed = this.sealed;
    return c;
  }

  /** Keys present now. */
  present(): number {
    return this.counts.size;
  }
}

/**
 * A named port on the pods of a destination: whether any pod declares it, whether every pod
 * declares it once with one value, and which values it has.
 */
export class NamedTally implements PodTally {
  private values: KeyTally;
  private pods = 0;
  private declarations = 0;
  private readonly initial: string;

  /** `pods`: the pods the destination holds (all of them hold). */
  constructor(
    private readonly holds: (pod: PodFacts) => boolean,
    private readonly name: string,
    pods: Iterable<PodFacts>,
  ) {
    this.values = new KeyTally((p) => (holds(p) ? p.ports.filter((cp) => cp.name === name).map(portValueKey) : []));
    const counts = new Map<string, number>();
    for (const p of pods) {
      this.pods++;
      for (const cp of p.ports) {
        if (cp.name !== name) continue;
        this.declarations++;
        counts.set(portValueKey(cp), (counts.get(portValueKey(cp)) ?? 0) + 1);
      }
    }
    this.values.seededWith(counts);
    this.initial = this.kind();
  }

  clone(): NamedTally {
    const c = Object.create(NamedTally.prototype) as NamedTally;
    Object.assign(c, this);
    c.values = this.values.clone();
    return c;
  }

  private kind(): string {
    if (this.declarations === 0) return 'none';
    return this.values.present() === 1 && this.declarations === this.pods ? 'uniform' : 'mixed';
  }

  add(pod: PodFacts, sign: 1 | -1): void {
    if (!this.holds(pod)) return;
    this.pods += sign;
    this.declarations += sign * pod.ports.filter((cp) => cp.name === this.name).length;
    this.values.add(pod, sign);
  }

  moved(): boolean {
    return this.values.moved() || this.kind() !== this.initial;
  }
}

/** Whether some pod declares both names on one port. */
export class OverlapTally implements PodTally {
  private count = 0;
  private readonly initial: boolean;

  constructor(
    private readonly a: string,
    private readonly b: string,
    pods: Iterable<PodFacts>,
  ) {
    for (const p of pods) this.count += this.both(p) ? 1 : 0;
    this.initial = this.count > 0;
  }

  private both(p: PodFacts): boolean {
    const pa = p.ports.find((x) => x.name === this.a);
    const pb = p.ports.find((x) => x.name === this.b);
    return pa !== undefined && pb !== undefined && pa.port === pb.port && pa.protocol === pb.protocol;
  }

  add(pod: PodFacts, sign: 1 | -1): void {
    if (this.both(pod)) this.count += sign;
  }

  moved(): boolean {
    return this.count > 0 !== this.initial;
  }

  clone(): OverlapTally {
    return Object.assign(Object.create(OverlapTally.prototype) as OverlapTally, this);
  }
}

/** Pods with addresses: all inside the CIDRs, none, some; whether all, none or some pods are covered. */
export interface CoverageCounts {
  inside: number;
  outside: number;
  partly: number;
}

export type Coverage = 'all' | 'none' | 'some';

/** How many pods (with addresses) have all, none, or some of their addresses in the CIDRs. */
export function coverageCounts(pods: Iterable<PodFacts>, contains: (ip: Ip) => boolean): CoverageCounts {
  const counts = { inside: 0, outside: 0, partly: 0 };
  for (const p of pods) addCoverage(counts, p, contains, 1);
  return counts;
}

export function coverageOf(c: CoverageCounts): Coverage {
  if (c.inside + c.partly === 0) return 'none';
  return c.outside + c.partly === 0 ? 'all' : 'some';
}

function addCoverage(counts: CoverageCounts, pod: PodFacts, contains: (ip: Ip) => boolean, sign: 1 | -1): void {
  if (pod.ips.length === 0) return;
  let hits = 0;
  for (const ip of pod.ips) if (contains(ip)) hits++;
  if (hits === 0) counts.outside += sign;
  else if (hits === pod.ips.length) counts.inside += sign;
  else counts.partly += sign;
}

export class CoverageTally implements PodTally {
  private readonly counts: CoverageCounts;
  private readonly initial: Coverage;

  /** `seed`: the counts of the pods the translation saw. */
  constructor(
    private readonly contains: (ip: Ip) => boolean,
    seed: CoverageCounts,
  ) {
    this.counts = { ...seed };
    this.initial = coverageOf(this.counts);
  }

  add(pod: PodFacts, sign: 1 | -1): void {
    addCoverage(this.counts, pod, this.contains, sign);
  }

  moved(): boolean {
    return coverageOf(this.counts) !== this.initial;
  }

  clone(): CoverageTally {
    const c = Object.assign(Object.create(CoverageTally.prototype) as CoverageTally, this);
    (c as unknown as { counts: CoverageCounts }).counts = { ...this.counts };
    return c;
  }
}

/** The tallies of one translation; judges pod events against them. */
export class PodWatch {
  constructor(
    private readonly tallies: readonly PodTally[],
    private readonly facts: (pod: Pod) => PodFacts | undefined,
  ) {}

  /** How many questions depend on pods. */
  get size(): number {
    return this.tallies.length;
  }

  /**
   * Records a pod event (before: undefined for an add; after: undefined for a delete) and says
   * whether the translation may have to change.
   */
  judge(before: Pod | undefined, after: Pod | undefined): boolean {
    const b = before === undefined ? undefined : this.facts(before);
    const a = after === undefined ? undefined : this.facts(after);
    let moved = false;
    for (const t of this.tallies) {
      if (b !== undefined) t.add(b, -1);
      if (a !== undefined) t.add(a, 1);
      if (t.moved()) moved = true;
    }
    return moved;
  }
}
