// What the operator writes for a set of CNPs on Calico, made with the same pure functions it
// uses: the backend objects, and each CNP's three conditions with their messages (validation,
// the rule analysis's warnings, the translation's findings). bench/operator.ts's floor writes
// exactly these, so that the floor does the API server work the operator cannot avoid, no less.

import { parseClusterNetworkPolicy } from '../src/api/cnp.js';
import { formatDiagnostic } from '../src/api/diagnostics.js';
import type { Policy } from '../src/api/model.js';
import { computeConditions, type Condition } from '../src/controller/conditions.js';
import { ownerOf } from '../src/controller/desired.js';
import type { KubeObject } from '../src/controller/port.js';
import { IncrementalAnalysis } from '../src/semantics/analysis.js';
import { analysisWarnings } from '../src/semantics/analysis-warnings.js';
import { translateCalico } from '../src/translate/calico/index.js';
import type { Finding } from '../src/translate/types.js';

export interface FloorWrites {
  /** Tiers first, then the rest, in the translation's order. */
  readonly objects: readonly KubeObject[];
  /** Each CNP's conditions, by name. */
  readonly statuses: ReadonlyMap<string, readonly Condition[]>;
}

/** `backend` is the description the operator gives its backend, e.g. "Calico v3.30.2 (projectcalico.org/v3)". */
export function floorWrites(cnps: readonly KubeObject[], backend: string, now: string): FloorWrites {
  const parsed = cnps.map((o) => ({ cnp: o, result: parseClusterNetworkPolicy(o, { origin: 'cluster' }) }));
  const policies = parsed.map((p) => p.result.policy).filter((p): p is Policy => p !== undefined);
  const translation = translateCalico({ policies, networkPolicies: [], namespaces: [], pods: [], nodes: [] }, { api: 'projectcalico.org/v3' });
  const objects = translation.objects as KubeObject[];
  const analysis = new IncrementalAnalysis();
  for (const _ of analysis.update(policies)) {
    // the whole analysis at once
  }
  const count = new Map<string, number>();
  for (const o of objects) count.set(ownerOf(o), (count.get(ownerOf(o)) ?? 0) + 1);
  const findings = new Map<string, Finding[]>();
  for (const f of translation.findings) findings.set(f.policy, [...(findings.get(f.policy) ?? []), f]);
  const statuses = new Map<string, readonly Condition[]>();
  for (const { cnp, result } of parsed) {
    const name = cnp.metadata.name;
    const of = (severity: string): string[] => result.diagnostics.filter((d) => d.severity === severity).map((d) => formatDiagnostic(undefined, d));
    const warnings = [...of('warning'), ...(result.policy === undefined ? [] : analysisWarnings(analysis.forPolicy(name), name))];
    const program = result.policy === undefined ? ({ kind: 'invalid' } as const) : ({ kind: 'programmed', objects: count.get(name) ?? 0, backend } as const);
    const generation = cnp.metadata.generation ?? 0;
    statuses.set(name, computeConditions({ generation, errors: of('error'), unsupported: of('unsupported'), warnings, program, findings: findings.get(name) ?? [] }, [], now));
  }
  return { objects, statuses };
}
