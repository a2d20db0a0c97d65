import { comparePolicies, DIRECTIONS, TIERS, type Direction, type Policy, type Tier } from '../api/model.js';
import { podSetCovers, podSetsMayOverlap, ruleCovers } from './cover.js';

export interface RuleRef {
  readonly policy: string;
  readonly direction: Direction;
  readonly ruleIndex: number;
  readonly ruleName: string | undefined;
}

/** A rule that can never match: an earlier rule of the same tier matches all it would. */
export interface ShadowedRule extends RuleRef {
  readonly by: RuleRef;
}

/** Two policies of one tier and priority whose subjects may overlap: upstream leaves their order open. */
export interface AmbiguousOrder {
  readonly tier: Tier;
  readonly priority: number;
  /** The policy we evaluate first (by name), then the other. */
  readonly first: string;
  readonly second: string;
  readonly directions: readonly Direction[];
}

export interface Analysis {
  readonly shadowed: readonly ShadowedRule[];
  readonly ambiguous: readonly AmbiguousOrder[];
}

function ref(policy: Policy, direction: Direction, index: number): RuleRef {
  const rule = (direction === 'egress' ? policy.egress : policy.ingress)[index]!;
  return { policy: policy.name, direction, ruleIndex: rule.index, ruleName: rule.name };
}

/** Rule analysis for status: shadowed rules and order ambiguities. Sound, not complete. */
export function analyse(policies: readonly Policy[]): Analysis {
  const state = new IncrementalAnalysis();
  for (const _ of state.update(policies)) {
    // The whole update at once.
  }
  return state.result();
}

/**
 * A policy's shadowed rules, packed: for each, the rule (direction × 1024 + index), the policy
 * whose rule covers it, and that rule's index. Thousands of policies can have every rule
 * shadowed; objects for each would outweigh the policies themselves. Unpacked on demand.
 */
type Packed = readonly (number | Policy)[];

const SLOT = 1024; // more than the API's 25 rules per direction

/** The first earlier rule (of `earlier`, then of the policy itself) that covers each rule: what makes a rule dead. */
function shadowedRulesOf(policy: Policy, earlier: readonly Policy[]): Packed {
  const out: (number | Policy)[] = [];
  DIRECTIONS.forEach((direction, d) => {
    const rules = direction === 'egress' ? policy.egress : policy.ingress;
    rules.forEach((rule, ri) => {
      for (const e of [...earlier, policy]) {
        const earlierRules = direction === 'egress' ? e.egress : e.ingress;
        const limit = e === policy ? ri : earlierRules.length;
        const by = earlierRules.slice(0, limit).findIndex((x) => ruleCovers(x, rule));
        if (by >= 0) {
          out.push(d * SLOT + ri, e, by);
          return;
        }
      }
    });
  });
  return out;
}

function sameAmbiguities(a: readonly AmbiguousOrder[] | undefined, b: readonly AmbiguousOrder[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

function unpack(policy: Policy, packed: Packed): ShadowedRule[] {
  const out: ShadowedRule[] = [];
  for (let i = 0; i < packed.length; i += 3) {
    const code = packed[i] as number;
    const direction = DIRECTIONS[Math.floor(code / SLOT)]!;
    out.push({ ...ref(policy, direction, code % SLOT), by: ref(packed[i + 1] as Policy, direction, packed[i + 2] as number) });
  }
  return out;
}

/**
 * The analysis kept up to date as policies change. A rule's shadowing depends only on the
 * earlier policies of its tier whose subject covers its own, so a change to policy X redoes X
 * and the later policies of its tier that X's old or new subject covers; the rest is kept.
 * update() is a generator that yields after each policy it redoes, so a caller can spread a
 * large update over time (the operator must not stall its other work for it).
 */
export class IncrementalAnalysis {
  private policies = new Map<string, Policy>();
  private shadowed = new Map<string, Packed>();
  private ambiguous: AmbiguousOrder[] = [];
  private ambiguousOf = new Map<string, AmbiguousOrder[]>();
  /**
   * Subjects by number: equal subjects share one, so the answers below are kept per pair of
   * numbers. A subject object is written out once (the operator's parsed policies share equal
   * subjects, so most lookups are by identity); the analysis of thousands of policies asks
   * millions of times.
   */
  private subjectIds = new WeakMap<object, number>();
  private subjectIdByJson = new Map<string, number>();
  private coversCache = new Map<number, boolean>();
  private overlapCache = new Map<number, boolean>();

  /** Forgets subjects no longer in use once they outnumber the policies (a long-running operator sees many come and go). */
  private pruneSubjects(policies: number): void {
    if (this.subjectIdByJson.size <= 2 * policies + 1000) return;
    this.subjectIds = new WeakMap();
    this.subjectIdByJson = new Map();
    this.coversCache = new Map();
    this.overlapCache = new Map();
  }

  private subjectId(p: Policy): number {
    let id = this.subjectIds.get(p.subject);
    if (id === undefined) {
      const json = JSON.stringify(p.subject);
      id = this.subjectIdByJson.get(json);
      if (id === undefined) this.subjectIdByJson.set(json, (id = this.subjectIdByJson.size));
      this.subjectIds.set(p.subject, id);
    }
    return id;
  }

  /** One number for an ordered pair of subjects (ids stay far below 2^26). */
  private pairKey(a: Policy, b: Policy): number {
    return this.subjectId(a) * 67_108_864 + this.subjectId(b);
  }

  private covers(outer: Policy, inner: Policy): boolean {
    const key = this.pairKey(outer, inner);
    let ok = this.coversCache.get(key);
    if (ok === undefined) this.coversCache.set(key, (ok = podSetCovers(outer.subject, inner.subject)));
    return ok;
  }

  private mayOverlap(a: Policy, b: Policy): boolean {
    const key = this.pairKey(a, b);
    let ok = this.overlapCache.get(key);
    if (ok === undefined) this.overlapCache.set(key, (ok = podSetsMayOverlap(a.subject, b.subject)));
    return ok;
  }

  /** Brings the analysis up to `policies`; yields once per policy redone. */
  *update(policies: readonly Policy[]): Generator<void, void, void> {
    const next = new Map(policies.map((p) => [p.name, p]));
    this.pruneSubjects(next.size);
    const changed: Policy[] = [];
    for (const [name, p] of next) if (this.policies.get(name) !== p) changed.push(p);
    for (const [name, p] of this.policies) if (next.get(name) !== p) changed.push(p);
    const affected = new Set<string>();
    for (const tier of TIERS) {
      const ordered = policies.filter((p) => p.tier === tier).sort(comparePolicies);
      const movers = changed.filter((c) => c.tier === tier);
      if (movers.length === 0) continue;
      for (const p of ordered) {
        if (!this.shadowed.has(p.name) || movers.some((m) => m.name === p.name || (comparePolicies(m, p) < 0 && this.covers(m, p)))) affected.add(p.name);
      }
    }
    this.policies = next;
    for (const name of [...this.shadowed.keys()]) if (!next.has(name)) this.shadowed.delete(name);
    for (const tier of TIERS) {
      const ordered = policies.filter((p) => p.tier === tier).sort(comparePolicies);
      for (let i = 0; i < ordered.length; i++) {
        const p = ordered[i]!;
        if (!affected.has(p.name)) continue;
        this.shadowed.set(p.name, shadowedRulesOf(p, ordered.slice(0, i).filter((e) => this.covers(e, p))));
        yield;
      }
    }
    const ambiguousBefore = this.ambiguousOf;
    this.ambiguous = this.orderAmbiguities(policies);
    this.ambiguousOf = new Map();
    for (const a of this.ambiguous) {
      for (const name of [a.first, a.second]) this.ambiguousOf.set(name, [...(this.ambiguousOf.get(name) ?? []), a]);
    }
    const changedNames = new Set(affected);
    for (const p of changed) changedNames.add(p.name);
    for (const name of new Set([...ambiguousBefore.keys(), ...this.ambiguousOf.keys()])) {
      if (!sameAmbiguities(ambiguousBefore.get(name), this.ambiguousOf.get(name))) changedNames.add(name);
    }
    this.lastChanged = changedNames;
  }

  private lastChanged: ReadonlySet<string> = new Set();

  /**
   * The policies whose forPolicy() may differ since the update before the last (added, removed
   * and redone ones, and those whose open orders changed): whose warnings a caller recomputes.
   */
  changed(): ReadonlySet<string> {
    return this.lastChanged;
  }

  /** What concerns one policy: its shadowed rules and the open orders it is part of. */
  forPolicy(name: string): Analysis {
    const policy = this.policies.get(name);
    const packed = this.shadowed.get(name);
    return { shadowed: policy === undefined || packed === undefined ? [] : unpack(policy, packed), ambiguous: this.ambiguousOf.get(name) ?? [] };
  }

  /** The names of the policies analysed. */
  names(): IterableIterator<string> {
    return this.policies.keys();
  }

  private orderAmbiguities(policies: readonly Policy[]): AmbiguousOrder[] {
    const out: AmbiguousOrder[] = [];
    for (const tier of TIERS) {
      const ordered = policies.filter((p) => p.tier === tier).sort(comparePolicies);
      ordered.forEach((policy, pi) => {
        for (const other of ordered.slice(pi + 1)) {
          if (other.priority !== policy.priority) break;
          const directions = DIRECTIONS.filter((d) => (d === 'egress' ? policy.egress.length > 0 && other.egress.length > 0 : policy.ingress.length > 0 && other.ingress.length > 0));
          if (directions.length > 0 && this.mayOverlap(policy, other)) out.push({ tier, priority: policy.priority, first: policy.name, second: other.name, directions });
        }
      });
    }
    return out;
  }

  result(): Analysis {
    const ordered = [...this.policies.values()].sort(comparePolicies);
    return { shadowed: ordered.flatMap((p) => unpack(p, this.shadowed.get(p.name) ?? [])), ambiguous: this.ambiguous };
  }
}
