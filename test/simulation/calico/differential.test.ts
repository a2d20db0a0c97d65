import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Evaluator } from '../../../src/semantics/evaluate.js';
import type { Flow } from '../../../src/semantics/flow.js';
import { translateCalico, type CalicoApi } from '../../../src/translate/calico/index.js';
import { CalicoModel, type CalicoVersion } from '../../models/calico/index.js';
import { flowPortsArb, flowsFor, scenarioArb, type FlowPort, type Scenario } from '../../support/arbitraries.js';

// Differential test: over random clusters and policy sets, the Calico model over the translation
// decides every flow exactly as the reference evaluator does. fast-check shrinks a failure to a
// minimal cluster; the message names the first flow that differs, with both traces.

const RUNS = 1000;

const formatEndpoint = (e: Flow['from']): string => (e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip);

interface Setup {
  readonly api: CalicoApi;
  readonly version: CalicoVersion;
  readonly autoHostEndpoints: boolean;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  api: fc.constantFrom<CalicoApi>('projectcalico.org/v3', 'crd.projectcalico.org/v1'),
  version: fc.constantFrom<CalicoVersion>('3.31', '3.32'),
  autoHostEndpoints: fc.boolean(),
});

/** The first flow on which the model over the translation and the evaluator disagree, described. */
export function firstDifference(scenario: Scenario, ports: readonly FlowPort[], setup: Setup): string | undefined {
  const translation = translateCalico(scenario.snapshot, { api: setup.api });
  const model = new CalicoModel(translation.objects, scenario.snapshot, { version: setup.version, autoHostEndpoints: setup.autoHostEndpoints });
  const evaluator = new Evaluator(scenario.snapshot);
  for (const flow of flowsFor(scenario.snapshot, scenario.family, ports)) {
    const expected = evaluator.evaluate(flow);
    const got = model.evaluate(flow);
    if (got.verdict !== expected.verdict) {
      return [
        `${formatEndpoint(flow.from)} -> ${formatEndpoint(flow.to)} ${flow.protocol}/${flow.port}: evaluator ${expected.verdict}, Calico model ${got.verdict}`,
        `  evaluator egress: ${expected.egress.trace.map((t) => t.reason).join(' | ')}`,
        `  evaluator ingress: ${expected.ingress.trace.map((t) => t.reason).join(' | ')}`,
        `  model egress: ${got.egress.trace.join(' | ')}`,
        `  model ingress: ${got.ingress.trace.join(' | ')}`,
      ].join('\n');
    }
  }
  return undefined;
}

describe('Calico translation vs the reference evaluator on random clusters', () => {
  it('draws scenarios where every stage of the semantics decides some flows', () => {
    // Guards the generator: a differential test over scenarios that never reach a stage proves nothing about it.
    const decided = new Map<string, number>();
    for (const [scenario, ports] of fc.sample(fc.tuple(scenarioArb(), flowPortsArb), { numRuns: 200, seed: 7 })) {
      const evaluator = new Evaluator(scenario.snapshot);
      for (const flow of flowsFor(scenario.snapshot, scenario.family, ports)) {
        const result = evaluator.evaluate(flow);
        for (const d of [result.egress, result.ingress]) {
          for (const step of d.trace) {
            const key = `${d.direction} ${step.stage} ${step.verdict}${step.action === undefined ? '' : ` ${step.action}`}`;
            decided.set(key, (decided.get(key) ?? 0) + 1);
          }
        }
      }
    }
    for (const direction of ['egress', 'ingress']) {
      for (const key of ['exempt allow', 'admin allow Accept', 'admin deny Deny', 'admin next Pass', 'networkpolicy allow', 'networkpolicy deny', 'baseline allow Accept', 'baseline deny Deny', 'baseline next Pass', 'default allow']) {
        expect(decided.get(`${direction} ${key}`) ?? 0, `${direction} ${key}`).toBeGreaterThan(20);
      }
    }
  });

  it(`agrees on every flow of ${RUNS} random scenarios`, () => {
    let flows = 0;
    fc.assert(
      fc.property(scenarioArb(), flowPortsArb, setupArb, (scenario, ports, setup) => {
        flows += flowsFor(scenario.snapshot, scenario.family, ports).length;
        const difference = firstDifference(scenario, ports, setup);
        if (difference !== undefined) throw new Error(difference);
      }),
      { numRuns: RUNS },
    );
    expect(flows).toBeGreaterThan(RUNS * 10);
  });
});
