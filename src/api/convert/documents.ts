import { formatSource, type Source } from '../diagnostics.js';
import type { Document } from '../documents.js';
import type { SourcedDiagnostic } from '../snapshot.js';
import type { ClusterNetworkPolicyObject } from './cnp-object.js';
import { convertPolicy, type ConvertOptions } from './policy.js';

// Converts every document of the input, then checks what only the whole input shows: two objects
// that would become ClusterNetworkPolicies of the same name (an ANP named "default" beside the BANP,
// or one object given twice) are both refused, since one would silently replace the other.

export interface ConvertedPolicy {
  readonly source: Source;
  /** `Kind/name` of the v1alpha1 object it came from. */
  readonly from: string;
  readonly policy: ClusterNetworkPolicyObject;
}

export interface ConversionResult {
  /** One per input object that converts exactly, in input order; empty when nothing converts. */
  readonly converted: readonly ConvertedPolicy[];
  /** Refusals (`error`) and remarks (`warning`); any error means the input is not converted as a whole. */
  readonly diagnostics: readonly SourcedDiagnostic[];
}

export function convertDocuments(documents: readonly Document[], options: ConvertOptions): ConversionResult {
  const diagnostics: SourcedDiagnostic[] = [];
  const candidates: ConvertedPolicy[] = [];
  for (const doc of documents) {
    const result = convertPolicy(doc.value, options);
    const object = result.kind === undefined ? undefined : `${result.kind}/${result.name ?? '?'}`;
    for (const d of result.diagnostics) diagnostics.push({ ...d, source: doc.source, object });
    if (result.policy !== undefined) candidates.push({ source: doc.source, from: object!, policy: result.policy });
  }

  const byName = new Map<string, ConvertedPolicy[]>();
  for (const c of candidates) byName.set(c.policy.metadata.name, [...(byName.get(c.policy.metadata.name) ?? []), c]);
  const converted: ConvertedPolicy[] = [];
  for (const c of candidates) {
    const same = byName.get(c.policy.metadata.name)!;
    if (same.length === 1) {
      converted.push(c);
      continue;
    }
    const all = same.filter((o) => o !== c).map((o) => `${o.from} (${formatSource(o.source)})`);
    const others = all.length > 3 ? [...all.slice(0, 3), `${all.length - 3} more`] : all;
    diagnostics.push({
      severity: 'error',
      field: 'metadata.name',
      message: `would become ClusterNetworkPolicy ${JSON.stringify(c.policy.metadata.name)}, as would ${others.join(', ')}: one would replace the other`,
      source: c.source,
      object: c.from,
    });
  }

  // Equal priorities convert exactly (both APIs leave their order undefined), but the admin should
  // know how this operator breaks the tie, because it is now a fixed order.
  const byPriority = new Map<string, ConvertedPolicy[]>();
  for (const c of converted) {
    const key = `${c.policy.spec.tier}/${c.policy.spec.priority}`;
    byPriority.set(key, [...(byPriority.get(key) ?? []), c]);
  }
  for (const c of converted) {
    const same = byPriority.get(`${c.policy.spec.tier}/${c.policy.spec.priority}`)!;
    if (same.length < 2) continue;
    const order = same.map((o) => o.policy.metadata.name).sort();
    diagnostics.push({
      severity: 'warning',
      field: 'spec.priority',
      message:
        `${c.policy.spec.priority} is also the priority of ${same.filter((o) => o !== c).map((o) => o.from).join(', ')}; ` +
        `both APIs leave the order of equal priorities undefined, and cnp-operator evaluates them by name (${order.join(', ')})`,
      source: c.source,
      object: c.from,
    });
  }
  return { converted, diagnostics };
}
