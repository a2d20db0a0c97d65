import type { Snapshot } from '../../../src/api/model.js';
import type { Flow } from '../../../src/semantics/flow.js';
import type { KubeObject } from '../../../src/translate/types.js';
import { CiliumModel } from '../../models/cilium/model.js';
import type { Configuration } from './configs.js';
import { runEngine, type EngineDocument } from './engine.js';
import { describeFlow } from './judge.js';
import { engineCluster, engineFlow, networkPolicyObject } from './objects.js';

// The project's Cilium model against Cilium's own engine: the same objects, the same flows,
// the same agent settings; every direction must agree, and so must the objects refused.

export interface Case {
  readonly label: string;
  readonly snapshot: Snapshot;
  readonly objects: readonly KubeObject[];
  readonly flows: readonly Flow[];
}

export interface Agreement {
  readonly directions: number;
  readonly disagreements: readonly string[];
}

export function agreement(config: Configuration, cases: readonly Case[]): Agreement {
  const documents: EngineDocument[] = cases.map((c) => ({
    agent: config.agent,
    cluster: engineCluster(c.snapshot),
    networkPolicies: c.snapshot.networkPolicies.map(networkPolicyObject),
    ccnps: c.objects,
    cnps: [],
    flows: c.flows.map(engineFlow),
  }));
  const results = runEngine(documents);
  let directions = 0;
  const disagreements: string[] = [];
  cases.forEach((c, i) => {
    const result = results[i]!;
    const model = new CiliumModel(c.objects, c.snapshot, config.model);
    const refused = (names: readonly string[]) => [...names].sort().join(', ');
    if (refused(model.rejected.map((r) => r.name)) !== refused(result.rejected.map((r) => r.name))) {
      disagreements.push(`${c.label}: the model refuses [${refused(model.rejected.map((r) => r.name))}], Cilium [${refused(result.rejected.map((r) => `${r.name}: ${r.error}`))}]`);
    }
    c.flows.forEach((flow, k) => {
      const m = model.evaluate(flow);
      const e = result.verdicts[k]!;
      for (const d of ['egress', 'ingress'] as const) {
        directions++;
        if (m[d].verdict !== e[d]) disagreements.push(`${c.label}: ${describeFlow(flow)} ${d}: model ${m[d].verdict} (${m[d].reason}), Cilium ${e[d]} (${(d === 'egress' ? e.egressRule : e.ingressRule) ?? ''})`);
      }
    });
  });
  return { directions, disagreements };
}
