import { parseAllDocuments } from 'yaml';
import { translateCilium } from '../../../src/translate/cilium/index.js';
import type { Translation } from '../../../src/translate/types.js';
import { loadConformance, stateText, type ConformanceStep } from '../../support/conformance.js';
import type { Configuration } from './configs.js';
import { runEngine, type EngineDocument, type EngineResult } from './engine.js';
import { describeFlow, explain, Judge } from './judge.js';
import { engineCluster, engineFlow, networkPolicyObject } from './objects.js';

// The v0.3.0 conformance suite in the engine: our CiliumClusterwideNetworkPolicies, or the
// suite's own ClusterNetworkPolicies for Cilium's native support.

export interface SuiteScore {
  readonly matched: number;
  readonly total: number;
  readonly failOpen: number;
  /** Probes the engine gets wrong that no finding covers (ours only). */
  readonly unreported: number;
  /** Objects Cilium refused. */
  readonly rejected: readonly string[];
  /** One line per probe that did not match, with why. */
  readonly misses: readonly string[];
}

interface Step {
  readonly name: string;
  readonly step: ConformanceStep;
}

function steps(): Step[] {
  return loadConformance(4).flatMap((c) => c.steps.map((step) => ({ name: c.name, step })));
}

const summary = (r: EngineResult['verdicts'][number]) => (r.egress === 'allow' && r.ingress === 'allow' ? 'allow' : 'deny');

/** Our translation of every step for the configuration (or a changed one), judged by the engine. */
export function scoreOurs(config: Configuration, translate: (s: ConformanceStep) => Translation = (s) => translateCilium(s.snapshot, { agent: config.translator })): SuiteScore {
  const all = steps().map((s) => ({ ...s, translation: translate(s.step) }));
  const documents: EngineDocument[] = all.map(({ step, translation }) => ({
    agent: config.agent,
    cluster: engineCluster(step.snapshot),
    networkPolicies: step.snapshot.networkPolicies.map(networkPolicyObject),
    ccnps: translation.objects,
    cnps: [],
    flows: step.probes.map((p) => engineFlow(p.flow)),
  }));
  const results = runEngine(documents);
  let matched = 0;
  let total = 0;
  let failOpen = 0;
  let unreported = 0;
  const rejected: string[] = [];
  const misses: string[] = [];
  all.forEach(({ name, step, translation }, i) => {
    const result = results[i]!;
    rejected.push(...result.rejected.map((r) => `${name} step ${step.step}: ${r.kind}/${r.name}: ${r.error}`));
    const judge = new Judge(step.snapshot, translation, result);
    step.probes.forEach((probe, k) => {
      total++;
      const verdict = result.verdicts[k]!;
      if (summary(verdict) === probe.expect) {
        matched++;
        return;
      }
      const j = judge.judge(probe.flow, verdict);
      if (summary(verdict) === 'allow') failOpen++;
      else if (!(['egress', 'ingress'] as const).every((d) => verdict[d] === 'allow' || j.reference[d].verdict === 'deny' || judge.covered(probe.flow, d))) unreported++;
      misses.push(`${probe.description}\n${explain(j)}`);
    });
  });
  return { matched, total, failOpen, unreported, rejected, misses };
}

/** Cilium's own ClusterNetworkPolicy support on the suite's objects as written. */
export function scoreNative(config: Configuration): SuiteScore {
  const all = steps();
  const documents: EngineDocument[] = all.map(({ step }) => {
    const objects = parseAllDocuments(stateText(step))
      .map((d) => d.toJS() as { kind?: string } | null)
      .filter((o): o is { kind: string } => o !== null && typeof o.kind === 'string');
    return {
      agent: config.agent,
      cluster: engineCluster(step.snapshot),
      networkPolicies: objects.filter((o) => o.kind === 'NetworkPolicy'),
      ccnps: [],
      cnps: objects.filter((o) => o.kind === 'ClusterNetworkPolicy'),
      flows: step.probes.map((p) => engineFlow(p.flow)),
    };
  });
  const results = runEngine(documents);
  let matched = 0;
  let total = 0;
  let failOpen = 0;
  const rejected = new Set<string>();
  const misses: string[] = [];
  all.forEach(({ name, step }, i) => {
    const result = results[i]!;
    for (const r of result.rejected) rejected.add(`${name}: ${r.kind}/${r.name}: ${r.error}`);
    step.probes.forEach((probe, k) => {
      total++;
      const verdict = summary(result.verdicts[k]!);
      if (verdict === probe.expect) matched++;
      else {
        if (verdict === 'allow') failOpen++;
        misses.push(`${verdict === 'allow' ? 'fail-open' : 'denied'}: ${probe.description} (${describeFlow(probe.flow)})`);
      }
    });
  });
  return { matched, total, failOpen, unreported: 0, rejected: [...rejected], misses };
}

export function summaryLine(what: string, s: SuiteScore): string {
  return `${what}: ${s.matched}/${s.total} probes matched, ${s.failOpen} fail-open${s.rejected.length > 0 ? `, ${s.rejected.length} objects rejected` : ''}`;
}
