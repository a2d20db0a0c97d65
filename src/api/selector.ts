import type { Operator, Requirement, Selector } from './model.js';

export const OPERATORS: readonly Operator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export type Labels = Readonly<Record<string, string>>;

export function requirementMatches(req: Requirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  switch (req.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'In':
      return has && req.values.includes(labels[req.key]!);
    case 'NotIn':
      // Kubernetes: NotIn also matches objects without the label.
      return !has || !req.values.includes(labels[req.key]!);
  }
}

export function selectorMatches(selector: Selector, labels: Labels): boolean {
  return selector.requirements.every((r) => requirementMatches(r, labels));
}

export function isEmptySelector(selector: Selector): boolean {
  return selector.requirements.length === 0;
}

function compareRequirements(a: Requirement, b: Requirement): number {
  const ka = `${a.key}\u0000${a.operator}\u0000${a.values.join('\u0001')}`;
  const kb = `${b.key}\u0000${b.operator}\u0000${b.values.join('\u0001')}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Sorts and de-duplicates requirements so equal selectors compare equal. */
export function canonicalSelector(requirements: readonly Requirement[]): Selector {
  const sorted = [...requirements].map((r) => ({ ...r, values: [...new Set(r.values)].sort() })).sort(compareRequirements);
  const unique: Requirement[] = [];
  for (const r of sorted) {
    const last = unique[unique.length - 1];
    if (last === undefined || compareRequirements(last, r) !== 0) unique.push(r);
  }
  return { requirements: unique };
}

export function selectorKey(selector: Selector): string {
  return JSON.stringify(selector.requirements);
}

/** Human-readable form, close to kubectl's `-l` syntax; `{}` for the empty selector. */
export function formatSelector(selector: Selector): string {
  if (selector.requirements.length === 0) return '{}';
  return selector.requirements
    .map((r) => {
      switch (r.operator) {
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
      }
    })
    .join(',');
}
