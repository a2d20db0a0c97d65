import type { KubeObject } from '../../harness/client.js';
import { parseObjects } from '../../harness/client.js';
import { type ConformanceCase, type ConformanceStep, loadConformance, stateText } from '../../support/conformance.js';
import type { Observed } from './agent.js';
import type { Lab, LabState } from './lab.js';
import { listeners, placeOnFelixNode } from './placement.js';

// Replays the network-policy-api v0.3.0 conformance suite (its digest: test/support/conformance.ts)
// on a lab, step by step: the step's namespaces, pod labels, ClusterNetworkPolicies and
// NetworkPolicies go to the API server, the lab settles, then every probe of the step is sent
// as real packets and compared with the suite's expectation.

/** The node the conformance topology has no pods on, so Felix's own host is never a probe end. */
export const CONFORMANCE_FELIX_NODE = 'kind-control-plane';

export interface ProbeOutcome {
  readonly description: string;
  readonly expect: 'allow' | 'deny';
  readonly observed: Observed;
  readonly detail: string;
}

export interface Score {
  readonly total: number;
  readonly matched: number;
  /** Observed allow where the suite expects deny. */
  readonly failOpen: number;
  readonly mismatches: readonly ProbeOutcome[];
}

export function score(outcomes: readonly ProbeOutcome[]): Score {
  const mismatches = outcomes.filter((o) => o.observed !== o.expect);
  return {
    total: outcomes.length,
    matched: outcomes.length - mismatches.length,
    failOpen: mismatches.filter((o) => o.expect === 'deny' && o.observed === 'allow').length,
    mismatches,
  };
}

export function summaryLine(label: string, s: Score): string {
  return `${label}: ${s.matched}/${s.total} probes matched, ${s.failOpen} fail-open`;
}

export function describeMismatches(s: Score): string {
  return s.mismatches.map((m) => `  ${m.description}: expected ${m.expect}, observed ${m.observed} (${m.detail})`).join('\n');
}

export interface ReplayOptions {
  /** Only these cases (default: all 30). */
  readonly cases?: readonly string[];
  /**
   * Mode 'direct': the Calico objects to enforce for a step, written by the test instead of the
   * operator (given the step's placed state).
   */
  readonly backendObjects?: (state: LabState, step: ConformanceStep) => KubeObject[];
}

/** Each step's state, placed on the lab's Felix node, listening where the suite's servers do. */
export function conformanceStates(cases: readonly ConformanceCase[]): { c: ConformanceCase; step: ConformanceStep; state: LabState }[] {
  const everything = loadConformance(4);
  const allFlows = everything.flatMap((c) => c.steps.flatMap((s) => s.probes.map((p) => p.flow)));
  const first = placeOnFelixNode(everything[0]!.steps[0]!.snapshot, CONFORMANCE_FELIX_NODE).snapshot;
  // Addresses do not change between steps, so one listening plan (from every probe) serves all.
  const listen = listeners(first, allFlows);
  return cases.flatMap((c) =>
    c.steps.map((step) => ({
      c,
      step,
      state: { snapshot: placeOnFelixNode(step.snapshot, CONFORMANCE_FELIX_NODE).snapshot, policies: parseObjects(stateText(step)), listen },
    })),
  );
}

const progress = (m: string): void => void process.stderr.write(`[calico-lab] ${m}\n`);

export async function replayConformance(lab: Lab, opts: ReplayOptions = {}): Promise<Score> {
  const all = loadConformance(4);
  const cases = opts.cases === undefined ? all : all.filter((c) => opts.cases!.includes(c.name));
  if (opts.cases !== undefined && cases.length !== opts.cases.length) throw new Error(`unknown conformance cases among ${opts.cases.join(', ')}`);
  const outcomes: ProbeOutcome[] = [];
  let current: string | undefined;
  for (const { c, step, state } of conformanceStates(cases)) {
    if (c.name !== current) {
      current = c.name;
      progress(`${lab.label}: ${c.name} (${outcomes.length} probes so far, ${score(outcomes).mismatches.length} differ)`);
    }
    await lab.apply(state);
    if (opts.backendObjects !== undefined) await lab.applyBackend(opts.backendObjects(state, step));
    await lab.settle();
    const observed = await lab.probe(step.probes.map((p) => p.flow));
    step.probes.forEach((p, i) => outcomes.push({ description: p.description, expect: p.expect, observed: observed[i]!.observed, detail: observed[i]!.detail }));
  }
  return score(outcomes);
}
