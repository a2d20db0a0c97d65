import type { Requirement, Selector } from '../../api/model.js';

// Kubernetes label selectors → Calico selector expressions, the way Calico converts them itself
// (`k8sSelectorToCalico`, reference/calico.md §2.4), with two deliberate choices:
//   - pod selectors always carry `projectcalico.org/orchestrator == 'k8s'`, which excludes host
//     endpoints, network sets and non-Kubernetes workloads (host-network pods are not workload
//     endpoints at all, so they are never matched either);
//   - an empty namespace selector becomes `all()` (any namespaced endpoint), never `""`, which in
//     a GlobalNetworkPolicy would also match host endpoints and network sets.

export const ORCHESTRATOR_CLAUSE = "projectcalico.org/orchestrator == 'k8s'";
/** Matches no endpoint at all. */
export const MATCH_NOTHING = '!all()';

/** Calico label identifiers: `[a-zA-Z0-9_./-]`, at most 512 characters. */
const LABEL_KEY = /^[a-zA-Z0-9_./-]{1,512}$/;

export class SelectorSyntaxError extends Error {}

/** A Calico string literal; Calico has no escapes, so the quote must not occur in the value. */
export function quote(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  // Unreachable for validated Kubernetes label values (alphanumerics, '-', '_', '.').
  throw new SelectorSyntaxError(`label value ${JSON.stringify(value)} cannot be written as a Calico selector string`);
}

function key(k: string): string {
  // Unreachable for validated Kubernetes label keys.
  if (!LABEL_KEY.test(k)) throw new SelectorSyntaxError(`label key ${JSON.stringify(k)} cannot be written in a Calico selector`);
  return k;
}

function requirement(r: Requirement): string | undefined {
  switch (r.operator) {
    case 'Exists':
      return `has(${key(r.key)})`;
    case 'DoesNotExist':
      return `!has(${key(r.key)})`;
    case 'In':
      if (r.values.length === 0) return MATCH_NOTHING;
      if (r.values.length === 1) return `${key(r.key)} == ${quote(r.values[0]!)}`;
      return `${key(r.key)} in {${r.values.map(quote).join(', ')}}`;
    case 'NotIn':
      // Like Kubernetes, `not in` also matches endpoints without the label.
      if (r.values.length === 0) return undefined;
      if (r.values.length === 1) return `${key(r.key)} != ${quote(r.values[0]!)}`;
      return `${key(r.key)} not in {${r.values.map(quote).join(', ')}}`;
  }
}

// Selectors are immutable values and repeat a lot across rules: remember their expressions.
const expressions = new WeakMap<Selector, string>();

/** The requirements as a conjunction; `""` for a selector without requirements. */
export function labelExpression(selector: Selector): string {
  const hit = expressions.get(selector);
  if (hit !== undefined) return hit;
  const text = selector.requirements
    .map(requirement)
    .filter((s): s is string => s !== undefined)
    .join(' && ');
  expressions.set(selector, text);
  return text;
}

/** A pod selector: Kubernetes workload endpoints whose labels match. */
export function podSelectorExpression(selector: Selector): string {
  const labels = labelExpression(selector);
  return labels === '' ? ORCHESTRATOR_CLAUSE : `${ORCHESTRATOR_CLAUSE} && ${labels}`;
}

/** A namespace selector (for a `namespaceSelector` field): `all()` when it has no requirements. */
export function namespaceSelectorExpression(selector: Selector): string {
  const labels = labelExpression(selector);
  return labels === '' ? 'all()' : labels;
}
