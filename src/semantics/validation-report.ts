import { CNP_GROUP, type ParseOptions } from '../api/cnp.js';
import type { Diagnostic, Severity, Source } from '../api/diagnostics.js';
import { isKubernetesObject, type Document } from '../api/documents.js';
import { loadSnapshot, type LoadResult } from '../api/snapshot.js';
import { analyse } from './analysis.js';
import { policyWarnings } from './analysis-warnings.js';

// What `validate` says about each object of its input: the API's checks (src/api) and the
// analysis the operator writes into each CNP's Accepted condition, object by object.

/** The kinds a cluster snapshot is made of; objects of other kinds are skipped, not refused. */
export const SNAPSHOT_KINDS = ['ClusterNetworkPolicy', 'NetworkPolicy', 'Namespace', 'Pod', 'Node'] as const;

/**
 * - `invalid`: errors; the API server with this project's CRD refuses the object, and nothing uses it.
 * - `unsupported`: accepted, with parts this operator does not understand (a rule fails closed, a subject is not enforced).
 * - `warning`: accepted and understood, with warnings (e.g. a rule that can never match).
 * - `valid`: nothing to say.
 * - `skipped`: a Kubernetes object of a kind policy does not depend on (a Deployment, a kustomization).
 */
export type Verdict = 'valid' | 'warning' | 'unsupported' | 'invalid' | 'skipped';

export interface ObjectReport {
  readonly source: Source;
  readonly kind: string | undefined;
  /** `name`, or `namespace/name` for namespaced objects; undefined when the object has none. */
  readonly name: string | undefined;
  readonly verdict: Verdict;
  /** What validation and analysis say, in the order found. */
  readonly diagnostics: readonly Diagnostic[];
  /** Why the object was not checked (verdict `skipped`). */
  readonly skipped?: string;
}

export interface ValidationReport {
  /** One per input object, in input order. */
  readonly objects: readonly ObjectReport[];
  /** The snapshot of the objects that were checked. */
  readonly load: LoadResult;
}

const RANK: Record<Severity, Verdict> = { error: 'invalid', unsupported: 'unsupported', warning: 'warning' };
const ORDER: readonly Verdict[] = ['invalid', 'unsupported', 'warning'];

function text(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

function identity(value: unknown): { kind: string | undefined; name: string | undefined } {
  const meta = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['metadata'] : undefined;
  const name = text(meta, 'name');
  const namespace = text(meta, 'namespace');
  return { kind: text(value, 'kind'), name: name === undefined || namespace === undefined ? name : `${namespace}/${name}` };
}

/**
 * Why an object is not part of a snapshot (said of all objects of its kind), or undefined when it is (or when it should be and
 * is refused: an unknown kind of the policy API is more likely a typo than a foreign object).
 */
export function skipReason(value: unknown): string | undefined {
  if (!isKubernetesObject(value)) return undefined;
  const kind = text(value, 'kind')!;
  const group = text(value, 'apiVersion')!.split('/').slice(0, -1).join('/');
  if ((SNAPSHOT_KINDS as readonly string[]).includes(kind)) return undefined;
  if (group === CNP_GROUP && (kind === 'AdminNetworkPolicy' || kind === 'BaselineAdminNetworkPolicy')) {
    return 'the API ClusterNetworkPolicy replaced; `cnp-operator convert` turns each into a ClusterNetworkPolicy';
  }
  if (group === CNP_GROUP) return undefined;
  return `policy depends only on ${SNAPSHOT_KINDS.join(', ')} objects`;
}

/**
 * The API's checks alone, without the analysis of the policies together (which says only
 * warnings): the snapshot of the documents of snapshot kinds, and a report for each document
 * skipped. What commands that use the snapshot need (translate, explain, diff); on a large
 * cluster the analysis is a tenth of a second they would throw away.
 */
export function checkDocuments(documents: readonly Document[], options: ParseOptions = {}): { load: LoadResult; skipped: ObjectReport[] } {
  const checked: Document[] = [];
  const skipped: ObjectReport[] = [];
  for (const doc of documents) {
    const reason = skipReason(doc.value);
    if (reason === undefined) checked.push(doc);
    else skipped.push({ source: doc.source, ...identity(doc.value), verdict: 'skipped', diagnostics: [], skipped: reason });
  }
  return { load: loadSnapshot(checked, options), skipped };
}

/** Checks every document and analyses the policies together, as the operator does in a cluster. */
export function validateDocuments(documents: readonly Document[], options: ParseOptions = {}): ValidationReport {
  const checked = documents.filter((d) => skipReason(d.value) === undefined);
  const load = loadSnapshot(checked, options);
  const found = new Map<Source, Diagnostic[]>(checked.map((d) => [d.source, []]));
  // Each document has a Source of its own (see Document), so a diagnostic finds its object by it.
  for (const d of load.diagnostics) found.get(d.source)?.push({ severity: d.severity, field: d.field, message: d.message });
  const analysis = analyse(load.snapshot.policies);
  for (const policy of load.snapshot.policies) {
    const source = load.policySources.get(policy.name);
    if (source !== undefined) found.get(source)?.push(...policyWarnings(analysis, policy.name).map((w) => ({ severity: 'warning' as const, ...w })));
  }
  const objects = documents.map((doc): ObjectReport => {
    const reason = skipReason(doc.value);
    const { kind, name } = identity(doc.value);
    if (reason !== undefined) return { source: doc.source, kind, name, verdict: 'skipped', diagnostics: [], skipped: reason };
    const diagnostics = found.get(doc.source) ?? [];
    const verdict = ORDER.find((v) => diagnostics.some((d) => RANK[d.severity] === v)) ?? 'valid';
    return { source: doc.source, kind, name, verdict, diagnostics };
  });
  return { objects, load };
}
