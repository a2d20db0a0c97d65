import { describe, expect, it } from 'vitest';
import type { ClusterNetworkPolicyObject } from '../../src/api/convert/cnp-object.js';
import { convertDocuments } from '../../src/api/convert/documents.js';
import { DEFAULT_BASELINE_PRIORITY } from '../../src/api/convert/policy.js';
import { anpTopology, loadAnpConformance, replayStep, type AnpStep, type Family } from '../support/anp-conformance.js';

// The AdminNetworkPolicy conformance suite of network-policy-api v0.1.1, replayed through the
// conversion and the reference evaluator: every probe's expectation must hold for the converted
// ClusterNetworkPolicies, at every step of every test.

const cases = loadAnpConformance();

function convertStep(step: AnpStep, baselinePriority = DEFAULT_BASELINE_PRIORITY): ClusterNetworkPolicyObject[] {
  const docs = step.policies.map((value, i) => ({ source: { file: `step-${step.step}`, document: i + 1 }, value }));
  const result = convertDocuments(docs, { baselinePriority });
  expect(result.diagnostics.map((d) => `${d.object}: ${d.field}: ${d.message}`)).toEqual([]);
  expect(result.converted).toHaveLength(step.policies.length);
  return result.converted.map((c) => c.policy);
}

describe('the v0.1.1 AdminNetworkPolicy conformance suite through convert', () => {
  it('has every test and probe of the suite (16 tests, 230 probes)', () => {
    expect(cases).toHaveLength(16);
    expect(cases.flatMap((c) => c.steps.flatMap((s) => s.probes))).toHaveLength(230);
    // Every test starts from objects convert must accept; 9 of them include the BANP.
    expect(cases.every((c) => c.steps[0]!.policies.length > 0)).toBe(true);
    expect(cases.filter((c) => c.steps[0]!.policies.some((p) => p['kind'] === 'BaselineAdminNetworkPolicy'))).toHaveLength(9);
  });

  describe.each([4, 6] as Family[])('IPv%i', (family) => {
    const topology = anpTopology(family);
    for (const c of cases) {
      it(c.name, () => {
        const failures = c.steps.flatMap((step) => replayStep(step, convertStep(step), topology));
        expect(failures).toEqual([]);
      });
    }
  });

  it('matches whatever priority the BaselineAdminNetworkPolicy is given (it is the only Baseline policy)', () => {
    const topology = anpTopology(4);
    for (const priority of [0, 500, 1000]) {
      const failures = cases.flatMap((c) => c.steps.flatMap((step) => replayStep(step, convertStep(step, priority), topology)));
      expect(failures, `baseline priority ${priority}`).toEqual([]);
    }
  });
});

// The replay must be able to fail: each of these wrong conversions (applied to the correct output)
// has to contradict at least one probe, or the suite would not be proving the mapping it stands for.
type Mutant = (p: ClusterNetworkPolicyObject) => ClusterNetworkPolicyObject;

function mapRules(p: ClusterNetworkPolicyObject, f: (r: { action: string; protocols?: unknown[] }) => Record<string, unknown>): ClusterNetworkPolicyObject {
  const spec = { ...p.spec } as Record<string, unknown>;
  for (const dir of ['ingress', 'egress']) {
    const rules = spec[dir] as { action: string; protocols?: unknown[] }[] | undefined;
    if (rules !== undefined) spec[dir] = rules.map(f);
  }
  return { ...p, spec } as ClusterNetworkPolicyObject;
}

const mutants: Record<string, Mutant> = {
  'Allow converted to Deny': (p) => mapRules(p, (r) => (r.action === 'Accept' ? { ...r, action: 'Deny' } : r)),
  'Pass converted to Accept (ANP Pass read as BANP-less allow)': (p) => mapRules(p, (r) => (r.action === 'Pass' ? { ...r, action: 'Accept' } : r)),
  'Pass converted to Deny': (p) => mapRules(p, (r) => (r.action === 'Pass' ? { ...r, action: 'Deny' } : r)),
  'ports dropped': (p) => mapRules(p, (r) => {
    const { protocols: _dropped, ...rest } = r;
    return rest;
  }),
  'BANP put in the Admin tier': (p) => (p.spec.tier === 'Baseline' ? { ...p, spec: { ...p.spec, tier: 'Admin' } } : p),
  'ANP priorities reversed': (p) => (p.spec.tier === 'Admin' ? { ...p, spec: { ...p.spec, priority: 1000 - p.spec.priority } } : p),
  'rule order reversed': (p) => {
    const spec = { ...p.spec };
    if (spec.ingress !== undefined) spec.ingress = [...spec.ingress].reverse();
    if (spec.egress !== undefined) spec.egress = [...spec.egress].reverse();
    return { ...p, spec };
  },
};

describe('a wrong conversion contradicts the suite', () => {
  const topology = anpTopology(4);
  it.each(Object.keys(mutants))('%s', (name) => {
    const mutant = mutants[name]!;
    const failures = cases.flatMap((c) => c.steps.flatMap((step) => replayStep(step, convertStep(step).map(mutant), topology)));
    expect(failures.length).toBeGreaterThan(0);
  });
});
