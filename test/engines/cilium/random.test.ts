import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CANNOT_TELL, CONFIGURATIONS } from './configs.js';
import { engineBinary } from './engine.js';
import { judgeRandom } from './random.js';
import { engineScenarioArb } from './scenarios.js';

// Random clusters and policies (every peer kind, both tiers, NetworkPolicies, pod labels the
// identity filter treats differently by release, node peers by node labels), translated for
// each agent configuration — and as the operator does when it cannot read cilium-config —
// and decided by Cilium's own engine, flow by flow, against the reference evaluator.

const RUNS = Number(process.env.CILIUM_ENGINE_RUNS ?? 300);
/** Scenarios differ from run to run; a failure names the seed that reproduces it (CILIUM_ENGINE_SEED). */
const SEED = Number(process.env.CILIUM_ENGINE_SEED ?? Math.floor(Math.random() * 2 ** 31));

beforeAll(() => {
  engineBinary();
});

describe('random scenarios in Cilium 1.20.2\'s policy engine', () => {
  const scenarios = fc.sample(engineScenarioArb(), { numRuns: RUNS, seed: SEED });
  for (const config of CONFIGURATIONS) {
    for (const [what, agent] of [
      ['told the settings', config.translator],
      ['cannot tell the settings', CANNOT_TELL],
    ] as const) {
      it(`${config.name}, translation ${what}: no fail-open, every difference reported, nothing refused (${RUNS} scenarios)`, () => {
        const tally = judgeRandom(config, scenarios, agent);
        console.log(`cilium engine, random, ${config.name}, ${what}: ${tally.exact + tally.reported}/${tally.flows} flows decided as the reference or reported (${tally.exact} exact), ${tally.failOpen} fail-open, ${tally.networkPolicy} NetworkPolicy-only`);
        expect(tally.problems, `CILIUM_ENGINE_SEED=${SEED}`).toEqual([]);
        expect(tally.failOpen + tally.unreported + tally.rejected, `CILIUM_ENGINE_SEED=${SEED}`).toBe(0);
        expect(tally.flows).toBeGreaterThan(RUNS * 20);
      });
    }
  }
});
