import { describe, expect, it } from 'vitest';
import { Evaluator } from '../../src/semantics/evaluate.js';
import { loadConformance, type Family } from '../support/conformance.js';

describe.each([4, 6] as Family[])('upstream conformance suite through the reference evaluator (IPv%i)', (family) => {
  const cases = loadConformance(family);

  it('covers every case and probe of the v0.3.0 suite', () => {
    expect(cases).toHaveLength(30);
    expect(cases.flatMap((c) => c.steps.flatMap((s) => s.probes))).toHaveLength(397);
  });

  for (const c of cases) {
    it(c.name, () => {
      const failures: string[] = [];
      for (const step of c.steps) {
        const evaluator = new Evaluator(step.snapshot);
        for (const probe of step.probes) {
          const result = evaluator.evaluate(probe.flow);
          if (result.verdict !== probe.expect) {
            failures.push(`${probe.description}: expected ${probe.expect}, got ${result.verdict}\n  egress: ${result.egress.trace.map((t) => t.reason).join(' | ')}\n  ingress: ${result.ingress.trace.map((t) => t.reason).join(' | ')}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
