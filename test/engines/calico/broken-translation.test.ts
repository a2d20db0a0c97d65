import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Evaluator } from '../../../src/semantics/evaluate.js';
import { loadConformance } from '../../support/conformance.js';
import { Lab } from './lab.js';
import { calicoObjects, type Mutation, PASS_AS_ACCEPT, PORT_OFF_BY_ONE } from './mutations.js';
import { preflight } from './preflight.js';
import { CONFORMANCE_FELIX_NODE, conformanceStates, describeMismatches, replayConformance, summaryLine } from './replay.js';

// Can the real-Felix suite fail? Felix is fed `translate` output directly (no operator), first
// as it is, then with a deliberate bug; the probes must then break exactly where the reference
// evaluator, given the same change in CNP terms, says they must.

/** Cases where both bugs change some probe's fate (Pass matters only in the integration case). */
const CASES = ['CNPAdminTierIntegration', 'CNPAdminTierPortRange'];

/** Descriptions of the probes whose expectation the changed policies no longer meet. */
function predictedBreaks(m: Mutation): string[] {
  const cases = loadConformance(4).filter((c) => CASES.includes(c.name));
  const out: string[] = [];
  for (const { step, state } of conformanceStates(cases)) {
    const evaluator = new Evaluator(m.policies(state.snapshot));
    for (const p of step.probes) if (evaluator.evaluate(p.flow).verdict !== p.expect) out.push(p.description);
  }
  return out.sort();
}

describe('a deliberately broken translation fails the real-Felix suite', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    await preflight('iptables');
    lab = await Lab.start({ version: '3.31.7', dataplane: 'iptables', mode: 'direct', felixNode: CONFORMANCE_FELIX_NODE, felixNodeIp: '172.18.0.2' });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('passes with translate output written directly (the control)', async () => {
    const s = await replayConformance(lab!, { cases: CASES, backendObjects: (state) => calicoObjects(state.snapshot) });
    console.log(summaryLine(`${lab!.label}, translate output written directly`, s));
    expect(s.total).toBeGreaterThan(0);
    expect(s.mismatches.length, describeMismatches(s)).toBe(0);
  });

  for (const m of [PASS_AS_ACCEPT, PORT_OFF_BY_ONE]) {
    it(`fails where the semantics says with "${m.name}"`, async () => {
      const predicted = predictedBreaks(m);
      // The bug must matter for these cases, or this test could not fail.
      expect(predicted.length).toBeGreaterThan(0);
      const s = await replayConformance(lab!, { cases: CASES, backendObjects: (state) => m.objects(state.snapshot) });
      console.log(summaryLine(`${lab!.label}, "${m.name}"`, s));
      expect(s.mismatches.map((x) => x.description).sort(), describeMismatches(s)).toEqual(predicted);
      if (m === PASS_AS_ACCEPT) expect(s.failOpen).toBeGreaterThan(0);
    });
  }
});
