import type { Direction } from '../../../src/api/model.js';
import type { CiliumAgent } from '../../../src/translate/cilium/index.js';
import { translateCilium } from '../../../src/translate/cilium/index.js';
import type { Translation } from '../../../src/translate/types.js';
import type { Configuration } from './configs.js';
import { runEngine, type EngineDocument } from './engine.js';
import { explain, Judge } from './judge.js';
import { engineCluster, engineFlow, networkPolicyObject } from './objects.js';
import { engineFlows, type EngineScenario } from './scenarios.js';

// Random scenarios through the translation and the engine, judged against the reference
// evaluator direction by direction.

export interface RandomTally {
  flows: number;
  exact: number;
  /** The engine denies what the reference allows, and a finding covers it. */
  reported: number;
  failOpen: number;
  unreported: number;
  /** Directions where Cilium and Kubernetes already disagree on the NetworkPolicies alone (ipBlocks over pods, egress named ports): not the translation's to judge. */
  networkPolicy: number;
  rejected: number;
  /** The first few problems, explained. */
  problems: string[];
}

/** Judges scenarios under one configuration; `agent` is what the translator is told (default: the configuration's). */
export function judgeRandom(config: Configuration, scenarios: readonly EngineScenario[], agent: CiliumAgent = config.translator, translate: (s: EngineScenario) => Translation = (s) => translateCilium(s.scenario.snapshot, { agent })): RandomTally {
  const items = scenarios.map((s) => ({ s, translation: translate(s), flows: engineFlows(s.scenario.snapshot, s.scenario.family, s.ports) }));
  const documents: EngineDocument[] = items.flatMap(({ s, translation, flows }) => {
    const base = { agent: config.agent, cluster: engineCluster(s.scenario.snapshot), networkPolicies: s.scenario.snapshot.networkPolicies.map(networkPolicyObject), cnps: [], flows: flows.map(engineFlow) };
    return [
      { ...base, ccnps: translation.objects },
      { ...base, ccnps: [] },
    ];
  });
  const results = runEngine(documents);
  const tally: RandomTally = { flows: 0, exact: 0, reported: 0, failOpen: 0, unreported: 0, networkPolicy: 0, rejected: 0, problems: [] };
  items.forEach(({ s, translation, flows }, i) => {
    const result = results[2 * i]!;
    const npOnly = results[2 * i + 1]!;
    tally.rejected += result.rejected.length;
    for (const r of result.rejected) if (tally.problems.length < 5) tally.problems.push(`REJECTED ${r.kind}/${r.name}: ${r.error}`);
    const judge = new Judge(s.scenario.snapshot, translation, result);
    const npJudge = new Judge({ ...s.scenario.snapshot, policies: [] }, { objects: [], findings: [] }, npOnly);
    flows.forEach((flow, k) => {
      tally.flows++;
      const j = judge.judge(flow, result.verdicts[k]!);
      if (j.outcome.kind === 'exact') {
        tally.exact++;
        return;
      }
      const np = npJudge.judge(flow, npOnly.verdicts[k]!);
      const notOurs = (['egress', 'ingress'] as Direction[]).some((d) => {
        if (j.engine[d] === j.reference[d].verdict) return false;
        const stage = j.reference[d].trace[j.reference[d].trace.length - 1]?.stage;
        return stage !== 'admin' && np.engine[d] !== np.reference[d].verdict;
      });
      if (notOurs) {
        tally.networkPolicy++;
        return;
      }
      if (j.outcome.kind === 'reported') tally.reported++;
      else {
        if (j.outcome.kind === 'fail-open') tally.failOpen++;
        else tally.unreported++;
        if (tally.problems.length < 5) tally.problems.push(`${explain(j)}\n  findings: ${JSON.stringify(translation.findings)}\n  objects: ${JSON.stringify(translation.objects.map((o) => o.spec ?? (o as { specs?: unknown }).specs))}`);
      }
    });
  });
  return tally;
}
