import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../../src/api/model.js';
import { analyse, IncrementalAnalysis } from '../../../src/semantics/analysis.js';
import { scenarioArb } from '../../support/arbitraries.js';

// The analysis kept up to date change by change must equal the analysis done from scratch,
// after every step of random sequences of added, changed and removed policies.

describe('incremental analysis', () => {
  it('equals the full analysis after every step of random changes', () => {
    fc.assert(
      fc.property(fc.array(scenarioArb(), { minLength: 2, maxLength: 6 }), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (scenarios, picks) => {
        const state = new IncrementalAnalysis();
        let current: Policy[] = [];
        scenarios.forEach((s, step) => {
          // Keep some policies as they are (same objects), replace or drop others, add new ones.
          const keep = current.filter((_, i) => (picks[step % picks.length]! >> i) % 2 === 0);
          const names = new Set(keep.map((p) => p.name));
          current = [...keep, ...s.snapshot.policies.filter((p) => !names.has(p.name))];
          const before = new Map([...state.names()].map((n) => [n, JSON.stringify(state.forPolicy(n))]));
          for (const _ of state.update(current)) {
            // run to the end
          }
          expect(state.result()).toEqual(analyse(current));
          // What a caller recomputes: every policy whose own analysis moved is reported.
          for (const name of new Set([...before.keys(), ...state.names()])) {
            if (before.get(name) !== (current.some((p) => p.name === name) ? JSON.stringify(state.forPolicy(name)) : undefined)) expect(state.changed()).toContain(name);
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('redoes only the policies a change can affect', () => {
    const base = fc.sample(scenarioArb({ maxPolicies: 12 }), { numRuns: 1, seed: 7 })[0]!.snapshot.policies;
    const state = new IncrementalAnalysis();
    expect([...state.update(base)].length).toBe(base.length);
    expect([...state.update(base)].length).toBe(0);
  });
});
