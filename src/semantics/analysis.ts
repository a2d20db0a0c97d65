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
  const shadowed: ShadowedRule[] = [];
  const ambiguous: AmbiguousOrder[] = [];
  for (const tier of TIERS) {
    const ordered = policies.filter((p) => p.tier === tier).sort(comparePolicies);
    // Earlier policies grouped by subject: whether one subject covers another is decided once per pair.
    const earlierBySubject = new Map<string, Policy[]>();
    const covers = new Map<string, boolean>();
    const position = new Map(ordered.map((p, i) => [p, i]));
    ordered.forEach((policy, pi) => {
      const subjectKey = JSON.stringify(policy.subject);
      // Earlier policies count only when they apply to every subject this one has.
      const earlierPolicies: Policy[] = [];
      for (const [key, group] of earlierBySubject) {
        const pair = `${key}\u0000${subjectKey}`;
        let ok = covers.get(pair);
        if (ok === undefined) covers.set(pair, (ok = podSetCovers(group[0]!.subject, policy.subject)));
        if (ok) earlierPolicies.push(...group);
      }
      earlierPolicies.sort((a, b) => position.get(a)! - position.get(b)!);
      for (const direction of DIRECTIONS) {
        const rules = direction === 'egress' ? policy.egress : policy.ingress;
        rules.forEach((rule, ri) => {
          for (const earlier of [...earlierPolicies, policy]) {
            const earlierRules = direction === 'egress' ? earlier.egress : earlier.ingress;
            const limit = earlier === policy ? ri : earlierRules.length;
            const by = earlierRules.slice(0, limit).findIndex((e) => ruleCovers(e, rule));
            if (by >= 0) {
              shadowed.push({ ...ref(policy, direction, ri), by: ref(earlier, direction, by) });
              return;
            }
          }
        });
      }
      const group = earlierBySubject.get(subjectKey) ?? [];
      group.push(policy);
      earlierBySubject.set(subjectKey, group);
      for (const other of ordered.slice(pi + 1)) {
        if (other.priority !== policy.priority) break;
        const directions = DIRECTIONS.filter((d) => (d === 'egress' ? policy.egress.length > 0 && other.egress.length > 0 : policy.ingress.length > 0 && other.ingress.length > 0));
        if (directions.length > 0 && podSetsMayOverlap(policy.subject, other.subject)) {
          ambiguous.push({ tier, priority: policy.priority, first: policy.name, second: other.name, directions });
        }
      }
    });
  }
  return { shadowed, ambiguous };
}
