import type { Analysis, RuleRef } from './analysis.js';

// The words of rule analysis, in one place: the operator puts them in each CNP's Accepted
// condition and `validate` prints them at the field they concern, so both say the same.

/** One analysis warning about a policy, at the field it concerns. */
export interface PolicyWarning {
  /** `spec.egress[2]` for a rule, `spec.priority` for an order left open. */
  readonly field: string;
  readonly message: string;
}

function rule(r: RuleRef): string {
  return `${r.direction}[${r.ruleIndex}]${r.ruleName === undefined ? '' : ` "${r.ruleName}"`}`;
}

/** Analysis results that concern one policy, each at its field. */
export function policyWarnings(analysis: Analysis, policy: string): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  for (const s of analysis.shadowed) {
    if (s.policy !== policy) continue;
    const by = s.by.policy === policy ? '' : ` of ${s.by.policy}`;
    out.push({ field: `spec.${s.direction}[${s.ruleIndex}]`, message: `${rule(s)} can never match: ${rule(s.by)}${by} matches all it would` });
  }
  for (const a of analysis.ambiguous) {
    if (a.first !== policy && a.second !== policy) continue;
    const other = a.first === policy ? a.second : a.first;
    out.push({
      field: 'spec.priority',
      message: `same tier and priority (${a.priority}) as ${other} with subjects that may overlap: the API leaves their order open; cnp-operator evaluates ${a.first} before ${a.second} (by name)`,
    });
  }
  return out;
}

/** Analysis results that concern one policy, as the human-readable warnings of its Accepted condition. */
export function analysisWarnings(analysis: Analysis, policy: string): string[] {
  return policyWarnings(analysis, policy).map((w) => w.message);
}

/** The warnings of every policy the analysis concerns, in one pass (policies without any are absent). */
export function analysisWarningsByPolicy(analysis: Analysis): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const names = new Set([...analysis.shadowed.map((s) => s.policy), ...analysis.ambiguous.flatMap((a) => [a.first, a.second])]);
  if (names.size === 0) return out;
  // Grouped first, so each policy's warnings are made from its own entries only.
  const byPolicy = new Map<string, { shadowed: Analysis['shadowed'][number][]; ambiguous: Analysis['ambiguous'][number][] }>();
  const entry = (name: string) => byPolicy.get(name) ?? (byPolicy.set(name, { shadowed: [], ambiguous: [] }), byPolicy.get(name)!);
  for (const s of analysis.shadowed) entry(s.policy).shadowed.push(s);
  for (const a of analysis.ambiguous) {
    entry(a.first).ambiguous.push(a);
    entry(a.second).ambiguous.push(a);
  }
  for (const [name, own] of byPolicy) out.set(name, analysisWarnings(own, name));
  return out;
}
