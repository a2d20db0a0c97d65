import type { Action, Direction, Protocol, Tier } from '../api/model.js';

export type Endpoint =
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'ip'; readonly ip: string };

/** One connection attempt: from a source to a destination port. */
export interface Flow {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
}

export type Verdict = 'allow' | 'deny';

/** One evaluator's say in a direction: a final verdict, or `next` to hand on. */
export type StepVerdict = Verdict | 'next';

export type Stage = 'exempt' | 'admin' | 'networkpolicy' | 'baseline' | 'default';

export interface TraceStep {
  readonly stage: Stage;
  readonly verdict: StepVerdict;
  /** Set when a CNP rule decided or passed. */
  readonly tier?: Tier;
  readonly policy?: string;
  readonly ruleIndex?: number;
  readonly ruleName?: string;
  readonly action?: Action;
  /** NetworkPolicies (namespace/name) that isolate the subject, for the networkpolicy stage. */
  readonly networkPolicies?: readonly string[];
  readonly reason: string;
}

export interface DirectionResult {
  readonly direction: Direction;
  readonly verdict: Verdict;
  readonly trace: readonly TraceStep[];
}

export interface FlowResult {
  readonly verdict: Verdict;
  readonly egress: DirectionResult;
  readonly ingress: DirectionResult;
}
