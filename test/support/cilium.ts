import type { Direction, Snapshot } from '../../src/api/model.js';
import { ClusterIndex } from '../../src/semantics/cluster.js';
import { Evaluator } from '../../src/semantics/evaluate.js';
import type { Flow, FlowResult } from '../../src/semantics/flow.js';
import { POLICY_ANNOTATION } from '../../src/translate/ownership.js';
import type { Finding, Translation } from '../../src/translate/types.js';
import { CiliumModel, type CiliumModelConfig, type ModelResult } from '../models/cilium/model.js';

// Comparing the Cilium model over a translation with the reference evaluator.

export type Outcome =
  | { readonly kind: 'exact' }
  /** The model denies what the reference allows, and a finding covers it. */
  | { readonly kind: 'reported' }
  /** The model denies what the reference allows, and no finding covers it. */
  | { readonly kind: 'unreported'; readonly direction: Direction }
  /** The model allows what the reference denies. */
  | { readonly kind: 'fail-open'; readonly direction: Direction };

export class Differential {
  readonly model: CiliumModel;
  readonly reference: Evaluator;
  private readonly index: ClusterIndex;

  constructor(
    readonly snapshot: Snapshot,
    readonly translation: Translation,
    config: Partial<CiliumModelConfig> = {},
  ) {
    this.model = new CiliumModel(translation.objects, snapshot, config);
    this.reference = new Evaluator(snapshot);
    this.index = new ClusterIndex(snapshot);
  }

  /**
   * Whether a finding covers the direction's subject pod: a finding for that direction of
   * a policy that selects the pod, or whose generated objects do (an over-approximation).
   */
  covered(flow: Flow, direction: Direction): boolean {
    const end = direction === 'egress' ? flow.from : flow.to;
    const pod = this.index.resolve(end).pod;
    if (pod === undefined) return false;
    return this.translation.findings.some((f: Finding) => {
      if (f.direction !== undefined && f.direction !== direction) return false;
      const policy = this.snapshot.policies.find((p) => p.name === f.policy);
      if (policy === undefined) return false;
      if (this.index.inPodSet(policy.subject, pod)) return true;
      const owned = this.translation.objects.filter((o) => o.metadata.annotations?.[POLICY_ANNOTATION] === f.policy);
      return new CiliumModel(owned, this.snapshot).selects(pod);
    });
  }

  compare(flow: Flow): { outcome: Outcome; model: ModelResult; reference: FlowResult } {
    const model = this.model.evaluate(flow);
    const reference = this.reference.evaluate(flow);
    for (const direction of ['egress', 'ingress'] as const) {
      if (model[direction].verdict === 'allow' && reference[direction].verdict === 'deny') return { outcome: { kind: 'fail-open', direction }, model, reference };
    }
    if (model.verdict === reference.verdict) return { outcome: { kind: 'exact' }, model, reference };
    for (const direction of ['egress', 'ingress'] as const) {
      if (model[direction].verdict === 'deny' && reference[direction].verdict === 'allow' && !this.covered(flow, direction)) {
        return { outcome: { kind: 'unreported', direction }, model, reference };
      }
    }
    return { outcome: { kind: 'reported' }, model, reference };
  }

  explain(flow: Flow, r: { model: ModelResult; reference: FlowResult }): string {
    const f = (e: Flow['from']) => (e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip);
    return [
      `${f(flow.from)} -> ${f(flow.to)} ${flow.protocol}/${flow.port}`,
      `  model:     ${r.model.verdict} (egress ${r.model.egress.verdict}: ${r.model.egress.reason}; ingress ${r.model.ingress.verdict}: ${r.model.ingress.reason})`,
      `  reference: ${r.reference.verdict} (egress: ${r.reference.egress.trace.map((t) => t.reason).join(' | ')}; ingress: ${r.reference.ingress.trace.map((t) => t.reason).join(' | ')})`,
    ].join('\n');
  }
}
