import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { translateCilium } from '../../../src/translate/cilium/index.js';
import { loadConformance } from '../../support/conformance.js';
import { agreement, type Case } from './agreement.js';
import { CANNOT_TELL, CONFIGURATIONS } from './configs.js';
import { engineBinary } from './engine.js';
import { engineFlows, engineScenarioArb } from './scenarios.js';

// The project's Cilium model (test/models/cilium) must decide as Cilium's own engine does:
// every direction of every flow, on the suite and on random scenarios, with the objects the
// translation writes for each configuration (and for other agents), under each configuration.

const RUNS = Number(process.env.CILIUM_ENGINE_RUNS ?? 300);
/** Scenarios differ from run to run; a failure names the seed that reproduces it (CILIUM_ENGINE_SEED). */
const SEED = Number(process.env.CILIUM_ENGINE_SEED ?? Math.floor(Math.random() * 2 ** 31));

beforeAll(() => {
  engineBinary();
});

describe('the Cilium model agrees with Cilium 1.20.2\'s policy engine', () => {
  const scenarios = fc.sample(engineScenarioArb(), { numRuns: RUNS, seed: SEED });
  for (const config of CONFIGURATIONS) {
    it(config.name, () => {
      const cases: Case[] = [];
      for (const c of loadConformance(4)) {
        for (const step of c.steps) {
          cases.push({ label: `${c.name} step ${step.step}`, snapshot: step.snapshot, objects: translateCilium(step.snapshot, { agent: config.translator }).objects, flows: step.probes.map((p) => p.flow) });
        }
      }
      scenarios.forEach((s, i) => {
        const flows = engineFlows(s.scenario.snapshot, s.scenario.family, s.ports);
        // Objects written for this agent, for an agent that cannot be told, and for agents
        // with node selector labels (toNodes, refused where the agent has them off).
        for (const [what, agent] of [
          ['for it', config.translator],
          ['cannot tell', CANNOT_TELL],
          ['node selector labels', { version: 20, nodeSelectorLabels: true }],
        ] as const) {
          cases.push({ label: `random ${i} (${what})`, snapshot: s.scenario.snapshot, objects: translateCilium(s.scenario.snapshot, { agent }).objects, flows });
        }
      });
      const a = agreement(config, cases);
      console.log(`cilium engine, model agreement, ${config.name}: ${a.directions - a.disagreements.length}/${a.directions} directions agree`);
      expect(a.disagreements.slice(0, 20), `CILIUM_ENGINE_SEED=${SEED}`).toEqual([]);
      expect(a.directions).toBeGreaterThan(RUNS * 100);
    });
  }
});
