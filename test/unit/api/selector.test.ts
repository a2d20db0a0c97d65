import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator, Requirement } from '../../../src/api/model.js';
import { canonicalSelector, requirementMatches, selectorMatches } from '../../../src/api/selector.js';

const keys = fc.constantFrom('app', 'team', 'tier', 'example.com/role');
const values = fc.constantFrom('a', 'b', 'c', '');
const labels = fc.dictionary(keys, values, { maxKeys: 4 });
const requirement: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ key: keys, operator: fc.constantFrom<Operator>('In', 'NotIn'), values: fc.uniqueArray(values, { minLength: 1, maxLength: 3 }) }),
  fc.record({ key: keys, operator: fc.constantFrom<Operator>('Exists', 'DoesNotExist'), values: fc.constant([] as string[]) }),
);

describe('label selectors', () => {
  it('In and NotIn are complements, as are Exists and DoesNotExist', () => {
    fc.assert(
      fc.property(requirement, labels, (req, l) => {
        const opposite: Record<Operator, Operator> = { In: 'NotIn', NotIn: 'In', Exists: 'DoesNotExist', DoesNotExist: 'Exists' };
        expect(requirementMatches({ ...req, operator: opposite[req.operator] }, l)).toBe(!requirementMatches(req, l));
      }),
    );
  });

  it('a selector is the conjunction of its requirements; the empty one selects everything', () => {
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 4 }), labels, (reqs, l) => {
        expect(selectorMatches({ requirements: reqs }, l)).toBe(reqs.every((r) => requirementMatches(r, l)));
        expect(selectorMatches({ requirements: [] }, l)).toBe(true);
      }),
    );
  });

  it('canonicalisation keeps the meaning and is order-independent', () => {
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 4 }), labels, (reqs, l) => {
        const canon = canonicalSelector(reqs);
        expect(selectorMatches(canon, l)).toBe(selectorMatches({ requirements: reqs }, l));
        expect(canonicalSelector([...reqs].reverse())).toEqual(canon);
      }),
    );
  });

  it('NotIn matches objects without the key (Kubernetes semantics)', () => {
    expect(requirementMatches({ key: 'a', operator: 'NotIn', values: ['x'] }, {})).toBe(true);
    expect(requirementMatches({ key: 'a', operator: 'In', values: ['x'] }, {})).toBe(false);
  });
});
