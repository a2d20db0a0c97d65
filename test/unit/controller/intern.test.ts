import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyInterner } from '../../../src/controller/intern.js';
import { scenarioArb } from '../../support/arbitraries.js';

describe('sharing equal parts of parsed policies', () => {
  it('changes no policy: every interned policy equals the original', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ snapshot }) => {
        const interner = new PolicyInterner();
        for (const p of snapshot.policies) expect(interner.policy(p)).toEqual(p);
      }),
      { numRuns: 200 },
    );
  });

  it('shares equal selectors, peers, port lists and rules between policies', () => {
    const [scenario] = fc.sample(scenarioArb({ maxPolicies: 8 }), { numRuns: 1, seed: 3 });
    const p = scenario!.snapshot.policies.find((x) => x.egress.length > 0 || x.ingress.length > 0)!;
    const interner = new PolicyInterner();
    const a = interner.policy(p);
    const b = interner.policy(structuredClone(p));
    expect(b.subject).toBe(a.subject);
    for (const [i, r] of a.egress.entries()) expect(b.egress[i]).toBe(r);
    for (const [i, r] of a.ingress.entries()) expect(b.ingress[i]).toBe(r);
  });
});
