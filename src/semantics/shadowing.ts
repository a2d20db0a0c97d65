import { DIRECTIONS, type Direction, type Policy, type Rule, type Tier } from '../api/model.js';
import { ruleCovers } from './cover.js';

// What the rule analysis finds and the checks it is made of: which earlier rule covers a rule
// (making it dead), and the packed form a policy's findings are kept in. The incremental
// bookkeeping that decides which policies to check again is in analysis.ts.

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

/**
 * A policy's shadowed rules, packed: for each, the rule (direction × 1024 + index), the policy
 * whose rule covers it, and that rule's index. Thousands of policies can have every rule
 * shadowed; objects for each would outweigh the policies themselves. Unpacked on demand.
 */
export type Packed = readonly (number | Policy)[];

export const SLOT = 1024; // more than the API's 25 rules per direction

/** The index of the first of `policy`'s rules (of one direction) that covers `rule`, or -1. */
export function firstCover(policy: Policy, egress: boolean, rule: Rule): number {
  const rules = egress ? policy.egress : policy.ingress;
  for (let by = 0; by < rules.length; by++) if (ruleCovers(rules[by]!, rule)) return by;
  return -1;
}

/** The rule of the policy itself before `ri` that covers rule `ri`, or -1. */
export function ownCover(rules: readonly Rule[], ri: number): number {
  const rule = rules[ri]!;
  for (let by = 0; by < ri; by++) if (ruleCovers(rules[by]!, rule)) return by;
  return -1;
}

/** The first earlier rule (of `earlier`, then of the policy itself) that covers each rule: what makes a rule dead. */
export function shadowedRulesOf(policy: Policy, earlier: readonly Policy[]): Packed {
  const out: (number | Policy)[] = [];
  for (let d = 0; d < DIRECTIONS.length; d++) {
    const egress = DIRECTIONS[d] === 'egress';
    const rules = egress ? policy.egress : policy.ingress;
    next: for (let ri = 0; ri < rules.length; ri++) {
      for (const e of earlier) {
        const by = firstCover(e, egress, rules[ri]!);
        if (by >= 0) {
          out.push(d * SLOT + ri, e, by);
          continue next;
        }
      }
      const by = ownCover(rules, ri);
      if (by >= 0) out.push(d * SLOT + ri, policy, by);
    }
  }
  return out;
}

export function unpack(policy: Policy, packed: Packed): ShadowedRule[] {
  const out: ShadowedRule[] = [];
  for (let i = 0; i < packed.length; i += 3) {
    const code = packed[i] as number;
    const direction = DIRECTIONS[Math.floor(code / SLOT)]!;
    out.push({ ...ref(policy, direction, code % SLOT), by: ref(packed[i + 1] as Policy, direction, packed[i + 2] as number) });
  }
  return out;
}

/** Same open orders, field by field (the lists are small; no text is made for them). */
export function sameAmbiguities(a: readonly AmbiguousOrder[], b: readonly AmbiguousOrder[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.tier !== y.tier || x.priority !== y.priority || x.first !== y.first || x.second !== y.second || x.directions.length !== y.directions.length) return false;
    for (let d = 0; d < x.directions.length; d++) if (x.directions[d] !== y.directions[d]) return false;
  }
  return true;
}

/** The same shadowed rules, covered by the same rules of the same policy objects. */
export function samePacked(a: Packed, b: Packed): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
