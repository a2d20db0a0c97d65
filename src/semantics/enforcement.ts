import type { Document } from '../api/documents.js';
import type { Direction } from '../api/model.js';
import type { FlowResult } from './flow.js';

// What the operator wrote into each CNP's status says whether the backend enforces it, and
// exactly: `explain` shows it beside a trace, so a verdict the backend only approximates (or
// does not enforce at all) is never presented as the cluster's behaviour without a word.

/** One status condition, as the operator writes it (metav1.Condition). */
export interface StatusCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number | undefined;
}

export interface PolicyStatus {
  readonly generation: number | undefined;
  readonly conditions: readonly StatusCondition[];
}

/** A condition of a CNP that decided (or passed on) a direction, when it is not plainly True. */
export interface EnforcementNote {
  readonly direction: Direction;
  readonly policy: string;
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** The conditions that say whether a CNP is enforced as written. */
const ENFORCEMENT = ['Programmed', 'Exact'];

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function condition(value: unknown): StatusCondition | undefined {
  const c = record(value);
  if (c === undefined || typeof c['type'] !== 'string' || typeof c['status'] !== 'string') return undefined;
  return {
    type: c['type'],
    status: c['status'],
    reason: typeof c['reason'] === 'string' ? c['reason'] : '',
    message: typeof c['message'] === 'string' ? c['message'] : '',
    observedGeneration: typeof c['observedGeneration'] === 'number' ? c['observedGeneration'] : undefined,
  };
}

/** The status of every ClusterNetworkPolicy document that has one, by name (a later document wins, as in a snapshot). */
export function policyStatuses(documents: readonly Document[]): Map<string, PolicyStatus> {
  const out = new Map<string, PolicyStatus>();
  for (const doc of documents) {
    const obj = record(doc.value);
    const meta = record(obj?.['metadata']);
    const conditions = record(obj?.['status'])?.['conditions'];
    if (obj?.['kind'] !== 'ClusterNetworkPolicy' || typeof meta?.['name'] !== 'string' || !Array.isArray(conditions)) continue;
    const generation = typeof meta['generation'] === 'number' ? meta['generation'] : undefined;
    out.set(meta['name'], { generation, conditions: conditions.map(condition).filter((c) => c !== undefined) });
  }
  return out;
}

/**
 * For each CNP in the trace of each direction: its Programmed and Exact conditions when they are
 * not True, and a note when they describe an earlier generation than the one evaluated. CNPs
 * without status (files written by hand) get none: nothing is known about their enforcement.
 */
export function enforcementNotes(result: FlowResult, statuses: ReadonlyMap<string, PolicyStatus>): EnforcementNote[] {
  const notes: EnforcementNote[] = [];
  for (const d of [result.egress, result.ingress]) {
    const policies = [...new Set(d.trace.flatMap((t) => (t.policy === undefined ? [] : [t.policy])))];
    for (const policy of policies) {
      const status = statuses.get(policy);
      if (status === undefined) continue;
      const shown = status.conditions.filter((x) => ENFORCEMENT.includes(x.type));
      for (const c of shown) {
        if (c.status !== 'True') notes.push({ direction: d.direction, policy, type: c.type, status: c.status, reason: c.reason, message: c.message });
      }
      const observed = Math.min(...shown.map((c) => c.observedGeneration ?? Infinity));
      if (status.generation !== undefined && observed < status.generation) {
        const message = `the conditions describe generation ${observed}; the policy is at generation ${status.generation}, which the operator has not processed yet`;
        notes.push({ direction: d.direction, policy, type: 'Status', status: 'Stale', reason: 'NotObserved', message });
      }
    }
  }
  return notes;
}
