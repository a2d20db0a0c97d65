import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseDocuments } from '../../../src/api/documents.js';
import type { Snapshot } from '../../../src/api/model.js';
import { loadSnapshot } from '../../../src/api/snapshot.js';
import { Evaluator } from '../../../src/semantics/evaluate.js';
import type { Flow } from '../../../src/semantics/flow.js';
import type { KubeObject } from '../../harness/client.js';
import { flowPortsArb, flowsFor, NODE_NAMES, scenarioArb } from '../../support/arbitraries.js';
import type { Lab } from './lab.js';
import { cnpManifest, networkPolicyManifest } from './manifests.js';
import { listeners, placeOnFelixNode } from './placement.js';

// Random clusters and policy sets (the generators of the simulation tests), enforced by the real
// Felix and judged by the reference evaluator, flow by flow, with real packets.

export const SCENARIO_FELIX_NODE = NODE_NAMES[0];

export interface ScenarioScore {
  readonly seed: number;
  readonly scenarios: number;
  readonly flows: number;
  readonly matched: number;
  readonly failOpen: number;
  readonly mismatches: readonly string[];
}

const endpointText = (e: Flow['from']): string => (e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip);

/** Plain data for comparison (CIDRs hold their address as a bigint). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));

/** The written objects must mean the scenario: parse them back as the operator would. */
function checkManifests(snapshot: Snapshot, objects: readonly KubeObject[]): void {
  const text = objects.map((o) => JSON.stringify(o)).join('\n---\n');
  const loaded = loadSnapshot(parseDocuments(text, 'scenario'));
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`scenario manifests do not parse: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  const policies = (s: Pick<Snapshot, 'policies'>): unknown[] =>
    [...s.policies].map((p) => ({ ...p, uid: undefined, generation: undefined })).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (!isDeepStrictEqual(plain(policies(loaded.snapshot)), plain(policies(snapshot)))) {
    throw new Error('scenario manifests do not round-trip to the generated ClusterNetworkPolicies');
  }
  const nps = (s: Pick<Snapshot, 'networkPolicies'>): unknown => plain([...s.networkPolicies].sort((a, b) => (a.name < b.name ? -1 : 1)));
  if (!isDeepStrictEqual(nps(loaded.snapshot), nps(snapshot))) throw new Error('scenario manifests do not round-trip to the generated NetworkPolicies');
}

export async function runRandomScenarios(lab: Lab, count: number, seed: number): Promise<ScenarioScore> {
  // IPv4 only (the lab's Felix runs without IPv6); fail-closed rules have no written form.
  const samples = fc.sample(fc.tuple(scenarioArb({ family: 4, failClosedRules: false, maxPods: 5 }), flowPortsArb), { numRuns: count, seed });
  let flows = 0;
  let matched = 0;
  let failOpen = 0;
  const mismatches: string[] = [];
  process.stderr.write(`[calico-lab] ${lab.label}: ${count} random scenarios, seed ${seed} (CNP_ENGINE_SEED replays them)\n`);
  for (const [i, [scenario, ports]] of samples.entries()) {
    const placed = placeOnFelixNode(scenario.snapshot, SCENARIO_FELIX_NODE);
    const objects = [...placed.snapshot.policies.map(cnpManifest), ...placed.snapshot.networkPolicies.map(networkPolicyManifest)];
    checkManifests(placed.snapshot, objects);
    // Flows to or from Felix's own host are left out: the node reaching its own pods is host
    // traffic, which Calico treats apart (and no snapshot pod lives on the host itself here).
    const scenarioFlows = flowsFor(placed.snapshot, 4, ports).filter(
      (f) => !(f.from.kind === 'ip' && f.from.ip === placed.felixNodeIp) && !(f.to.kind === 'ip' && f.to.ip === placed.felixNodeIp),
    );
    await lab.apply({ snapshot: placed.snapshot, policies: objects, listen: listeners(placed.snapshot, scenarioFlows) });
    await lab.settle();
    const observed = await lab.probe(scenarioFlows);
    const evaluator = new Evaluator(placed.snapshot);
    for (const o of observed) {
      flows++;
      const expected = evaluator.evaluate(o.flow).verdict;
      if (o.observed === expected) {
        matched++;
        continue;
      }
      if (expected === 'deny' && o.observed === 'allow') failOpen++;
      mismatches.push(`scenario ${i}: ${endpointText(o.flow.from)} -> ${endpointText(o.flow.to)} ${o.flow.protocol}/${o.flow.port}: evaluator ${expected}, Felix ${o.observed} (${o.detail})`);
    }
  }
  return { seed, scenarios: samples.length, flows, matched, failOpen, mismatches };
}
