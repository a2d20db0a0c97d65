import type { Direction, Snapshot } from '../../../src/api/model.js';
import { ClusterIndex } from '../../../src/semantics/cluster.js';
import { Evaluator } from '../../../src/semantics/evaluate.js';
import type { Flow, FlowResult } from '../../../src/semantics/flow.js';
import { POLICY_ANNOTATION } from '../../../src/translate/ownership.js';
import type { Translation } from '../../../src/translate/types.js';
import type { EngineResult, EngineVerdict } from './engine.js';

// Judging the engine's verdicts on the generated objects against the reference evaluator,
// flow by flow and direction by direction.

export type Outcome =
  | { readonly kind: 'exact' }
  /** The engine denies what the reference allows, and a finding covers it. */
  | { readonly kind: 'reported' }
  /** The engine denies what the reference allows, and no finding covers it. */
  | { readonly kind: 'unreported'; readonly direction: Direction }
  /** The engine allows what the reference denies. */
  | { readonly kind: 'fail-open'; readonly direction: Direction };

export interface Judged {
  readonly flow: Flow;
  readonly engine: EngineVerdict;
  readonly reference: FlowResult;
  readonly outcome: Outcome;
}

/** One translated snapshot and what the engine said about it. */
export class Judge {
  private readonly index: ClusterIndex;
  readonly reference: Evaluator;

  constructor(
    readonly snapshot: Snapshot,
    readonly translation: Translation,
    readonly result: EngineResult,
  ) {
    this.index = new ClusterIndex(snapshot);
    this.reference = new Evaluator(snapshot);
  }

  /**
   * Whether a finding covers the direction's subject pod: a finding for that direction of a
   * policy that selects the pod, or whose generated objects select it (Cilium's own subject
   * matching, from the engine: an over-approximated subject).
   */
  covered(flow: Flow, direction: Direction): boolean {
    const pod = this.index.resolve(direction === 'egress' ? flow.from : flow.to).pod;
    if (pod === undefined) return false;
    const selecting = new Set(
      (this.result.selectedBy[`${pod.namespace}/${pod.name}`] ?? []).flatMap((ref) => {
        const [kind, name] = ref.split(/\/(.*)/s);
        const o = this.translation.objects.find((x) => x.kind === kind && x.metadata.name === name);
        const owner = o?.metadata.annotations?.[POLICY_ANNOTATION];
        return owner === undefined ? [] : [owner];
      }),
    );
    return this.translation.findings.some((f) => {
      if (f.direction !== undefined && f.direction !== direction) return false;
      const policy = this.snapshot.policies.find((p) => p.name === f.policy);
      if (policy === undefined) return false;
      return this.index.inPodSet(policy.subject, pod) || selecting.has(f.policy);
    });
  }

  judge(flow: Flow, engine: EngineVerdict): Judged {
    const reference = this.reference.evaluate(flow);
    const outcome = ((): Outcome => {
      for (const d of ['egress', 'ingress'] as const) {
        if (engine[d] === 'allow' && reference[d].verdict === 'deny') return { kind: 'fail-open', direction: d };
      }
      for (const d of ['egress', 'ingress'] as const) {
        if (engine[d] === 'deny' && reference[d].verdict === 'allow' && !this.covered(flow, d)) return { kind: 'unreported', direction: d };
      }
      return engine.egress === reference.egress.verdict && engine.ingress === reference.ingress.verdict ? { kind: 'exact' } : { kind: 'reported' };
    })();
    return { flow, engine, reference, outcome };
  }
}

export function describeFlow(flow: Flow): string {
  const e = (x: Flow['from']) => (x.kind === 'pod' ? `${x.namespace}/${x.name}` : x.ip);
  return `${e(flow.from)} -> ${e(flow.to)} ${flow.protocol}/${flow.port}`;
}

export function explain(j: Judged): string {
  const trace = (d: Direction) => j.reference[d].trace.map((t) => t.reason).join(' | ');
  return [
    `${describeFlow(j.flow)}: ${j.outcome.kind}`,
    `  engine:    egress ${j.engine.egress} ${j.engine.egressRule ?? ''}; ingress ${j.engine.ingress} ${j.engine.ingressRule ?? ''}`,
    `  reference: egress ${j.reference.egress.verdict} (${trace('egress')}); ingress ${j.reference.ingress.verdict} (${trace('ingress')})`,
  ].join('\n');
}
