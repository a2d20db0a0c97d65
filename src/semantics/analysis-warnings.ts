import type { Analysis, RuleRef } from './analysis.js';

// The words of rule analysis, in one place: the operator puts them in each CNP's Accepted
// condition and `validate` prints them at the field they concern, so both say the same.

/** One analysis warning about a policy, at the field it concerns. */
export interface PolicyWarning {
  /** `spec.egress[2]` for a rule, `spec.priority` for an order left open. */
  readonly field: string;
  readonly message: string;
}

/** `egress[2] "name"`: a rule of the policy a message is about. */
export function ruleWords(r: Omit<RuleRef, 'policy'>): string {
  return `${r.direction}[${r.ruleIndex}]${r.ruleName === undefined ? '' : ` "${r.ruleName}"`}`;
}

/** `web egress[2] "name"`: a rule of any policy. */
export function policyRuleWords(r: RuleRef): string {
  // Joined: kept with compiled entries (tens of thousands), one string rather than a tree of pieces.
  return [r.policy, ruleWords(r)].join(' ');
}

/** Analysis results that concern one policy, each at its field. */
export function policyWarnings(analysis: Analysis, policy: string): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  for (const s of analysis.shadowed) {
    if (s.policy !== policy) continue;
    const by = s.by.policy === policy ? '' : ` of ${s.by.policy}`;
    out.push({ field: `spec.${s.direction}[${s.ruleIndex}]`, message: `${ruleWords(s)} can never match: ${ruleWords(s.by)}${by} matches all it would` });
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
