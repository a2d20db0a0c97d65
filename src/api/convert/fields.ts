import type { Checker } from '../diagnostics.js';
import type { JsonObject } from '../values.js';

/** Kubernetes reads an explicit null as an unset field. */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** A required field of a v1alpha1 struct: absent or null is refused, as the API server would refuse it. */
export function requiredField(obj: JsonObject, c: Checker, key: string, what: string): unknown {
  if (!isSet(obj[key])) {
    c.field(key).error(`is required (${what})`);
    return undefined;
  }
  return obj[key];
}
