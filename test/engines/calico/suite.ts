import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataplane } from './felix.js';
import { Lab } from './lab.js';
import { preflight } from './preflight.js';
import { CONFORMANCE_FELIX_NODE, describeMismatches, replayConformance, summaryLine } from './replay.js';
import { runRandomScenarios, SCENARIO_FELIX_NODE } from './scenarios.js';

// The operator on Calico 3.31.7 (the last release without CNP support), proven on the real Felix
// with real packets: the v0.3.0 conformance suite, then random scenarios judged by the
// reference evaluator. One file per data plane; both use this.

const VERSION = '3.31.7';
/** Conformance: 172.18.0.2 (kind-control-plane); scenarios: 172.18.0.2 (node-0). */
const FELIX_NODE_IP = '172.18.0.2';

function scenarioCount(): number {
  const n = Number(process.env['CNP_ENGINE_SCENARIOS'] ?? '12');
  if (!Number.isInteger(n) || n < 1) throw new Error(`CNP_ENGINE_SCENARIOS must be a positive integer, got ${process.env['CNP_ENGINE_SCENARIOS']}`);
  return n;
}

function scenarioSeed(): number {
  const env = process.env['CNP_ENGINE_SEED'];
  return env === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(env);
}

export function defineOperatorSuite(dataplane: Dataplane): void {
  describe(`cnp-operator on Felix v${VERSION} (${dataplane} data plane), real packets`, () => {
    beforeAll(async () => {
      await preflight(dataplane);
    });

    describe('the v0.3.0 conformance suite', () => {
      let lab: Lab | undefined;
      beforeAll(async () => {
        lab = await Lab.start({ version: VERSION, dataplane, mode: 'operator', felixNode: CONFORMANCE_FELIX_NODE, felixNodeIp: FELIX_NODE_IP });
      });
      afterAll(async () => {
        await lab?.stop();
      });

      it('enforces every probe as the suite expects', async () => {
        const s = await replayConformance(lab!);
        console.log(summaryLine(lab!.label, s));
        expect(s.total).toBe(397);
        expect(s.mismatches.length, `probes that differ:\n${describeMismatches(s)}`).toBe(0);
      });
    });

    describe('random scenarios judged by the reference evaluator', () => {
      let lab: Lab | undefined;
      beforeAll(async () => {
        lab = await Lab.start({ version: VERSION, dataplane, mode: 'operator', felixNode: SCENARIO_FELIX_NODE, felixNodeIp: FELIX_NODE_IP });
      });
      afterAll(async () => {
        await lab?.stop();
      });

      it('decides every flow as the evaluator does', async () => {
        const seed = scenarioSeed();
        const r = await runRandomScenarios(lab!, scenarioCount(), seed);
        console.log(`${lab!.label} random scenarios (seed ${r.seed}, CNP_ENGINE_SEED to replay): ${r.matched}/${r.flows} flows in ${r.scenarios} scenarios matched, ${r.failOpen} fail-open`);
        expect(r.flows).toBeGreaterThan(0);
        expect(r.mismatches, `seed ${seed}`).toEqual([]);
      });
    });
  });
}
