import { describe, expect, it } from 'vitest';
import { Evaluator } from '../../src/semantics/evaluate.js';
import type { Flow } from '../../src/semantics/flow.js';
import { computeImpact } from '../../src/semantics/impact.js';
import { groupChanges } from '../../src/semantics/impact-report.js';
import { loadConformance, type ConformanceCase, type ConformanceStep } from '../support/conformance.js';
import { flowKey, reported } from './impact-oracle.js';

// `diff` on the states of the v0.3.0 conformance suite: between two steps of a case (policy
// patches, deletions, namespace and pod label changes), the probed flows it reports as changed
// are exactly those whose expectation changed, and it reports no other probed flow.

const name = (e: Flow['from']) => (e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip);
const keyOf = (f: Flow) => flowKey(name(f.from), name(f.to), f.protocol, f.port);

/** The probed flows of two steps, each with the suite's expectation at each step (where probed there). */
function probed(a: ConformanceStep, b: ConformanceStep): Map<string, { flow: Flow; before?: 'allow' | 'deny'; after?: 'allow' | 'deny' }> {
  const out = new Map<string, { flow: Flow; before?: 'allow' | 'deny'; after?: 'allow' | 'deny' }>();
  for (const p of a.probes) out.set(keyOf(p.flow), { ...out.get(keyOf(p.flow)), flow: p.flow, before: p.expect });
  for (const p of b.probes) out.set(keyOf(p.flow), { ...out.get(keyOf(p.flow)), flow: p.flow, after: p.expect });
  return out;
}

function reportedBetween(a: ConformanceStep, b: ConformanceStep, flows: readonly Flow[]): Map<string, { after: string }> {
  const groups = groupChanges(computeImpact(a.snapshot, b.snapshot));
  return reported(groups, flows.map((f) => ({ from: name(f.from), to: name(f.to), port: f.port, protocol: f.protocol })));
}

const cases = loadConformance(4);
const consecutive = (c: ConformanceCase) => c.steps.slice(1).map((b, i) => [c.steps[i]!, b] as const);

describe('diff on the v0.3.0 conformance states', () => {
  it('covers the suite', () => {
    expect(cases).toHaveLength(30);
  });

  // Flows probed at both steps: the suite's own expectations decide.
  it('consecutive steps: a flow probed at both is reported exactly when its expectation changed', () => {
    let compared = 0;
    const wrong: string[] = [];
    for (const c of cases) {
      for (const [a, b] of consecutive(c)) {
        const flows = [...probed(a, b).values()].filter((p) => p.before !== undefined && p.after !== undefined);
        const got = reportedBetween(a, b, flows.map((p) => p.flow));
        for (const p of flows) {
          compared++;
          const change = got.get(keyOf(p.flow));
          const expected = p.before !== p.after ? p.after : undefined;
          if (change?.after !== expected) wrong.push(`${c.name} ${a.step}->${b.step} ${keyOf(p.flow)}: suite ${p.before}->${p.after}, diff ${change === undefined ? 'no change' : `-> ${change.after}`}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(compared).toBe(28);
  });

  it('any two steps of a case: a flow probed at both is reported exactly when its expectation changed', () => {
    let changed = 0;
    let unchanged = 0;
    const wrong: string[] = [];
    for (const c of cases) {
      for (let i = 0; i < c.steps.length; i++) {
        for (let j = i + 1; j < c.steps.length; j++) {
          const [a, b] = [c.steps[i]!, c.steps[j]!];
          const flows = [...probed(a, b).values()].filter((p) => p.before !== undefined && p.after !== undefined);
          if (flows.length === 0) continue;
          const got = reportedBetween(a, b, flows.map((p) => p.flow));
          for (const p of flows) {
            const expected = p.before !== p.after ? p.after : undefined;
            if (expected === undefined) unchanged++;
            else changed++;
            const change = got.get(keyOf(p.flow));
            if (change?.after !== expected) wrong.push(`${c.name} ${a.step}->${b.step} ${keyOf(p.flow)}: suite ${p.before}->${p.after}, diff ${change === undefined ? 'no change' : `-> ${change.after}`}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect({ changed, unchanged }).toEqual({ changed: 60, unchanged: 31 });
  });

  // A flow the suite probes at one step only has no expectation at the other; there the
  // reference evaluator (which reproduces every probe of the suite) stands in for it.
  it('consecutive steps: a flow probed at one of them is reported exactly when the other step gives it another verdict', () => {
    let compared = 0;
    let changed = 0;
    const wrong: string[] = [];
    for (const c of cases) {
      for (const [a, b] of consecutive(c)) {
        const flows = [...probed(a, b).values()].filter((p) => (p.before === undefined) !== (p.after === undefined));
        const got = reportedBetween(a, b, flows.map((p) => p.flow));
        const [ea, eb] = [new Evaluator(a.snapshot), new Evaluator(b.snapshot)];
        for (const p of flows) {
          compared++;
          const before = p.before ?? ea.evaluate(p.flow).verdict;
          const after = p.after ?? eb.evaluate(p.flow).verdict;
          const expected = before !== after ? after : undefined;
          if (expected !== undefined) changed++;
          const change = got.get(keyOf(p.flow));
          if (change?.after !== expected) wrong.push(`${c.name} ${a.step}->${b.step} ${keyOf(p.flow)}: ${before}->${after}, diff ${change === undefined ? 'no change' : `-> ${change.after}`}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(compared).toBe(366);
    expect(changed).toBeGreaterThan(0);
  });
});
