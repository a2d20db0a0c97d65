import type { Checker } from './diagnostics.js';

// Small type guards shared by the validators: each reports with the field path and
// returns undefined on a mismatch so callers can keep checking the rest.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

export function asObject(v: unknown, c: Checker): JsonObject | undefined {
  if (isObject(v)) return v;
  c.error(`must be an object, got ${describe(v)}`);
  return undefined;
}

export function asList(v: unknown, c: Checker, min: number, max: number): unknown[] | undefined {
  if (!Array.isArray(v)) {
    c.error(`must be a list, got ${describe(v)}`);
    return undefined;
  }
  if (v.length < min) c.error(`must have at least ${min} item${min === 1 ? '' : 's'}`);
  if (v.length > max) c.error(`must have at most ${max} items, got ${v.length}`);
  return v;
}

export function asString(v: unknown, c: Checker): string | undefined {
  if (typeof v === 'string') return v;
  c.error(`must be a string, got ${describe(v)}`);
  return undefined;
}

export function asInteger(v: unknown, c: Checker, min: number, max: number): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    c.error(`must be an integer, got ${describe(v)}`);
    return undefined;
  }
  if (v < min || v > max) {
    c.error(`must be between ${min} and ${max}, got ${v}`);
    return undefined;
  }
  return v;
}

export function asEnum<T extends string>(v: unknown, c: Checker, allowed: readonly T[]): T | undefined {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  c.error(`must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(v)}`);
  return undefined;
}

// rejectUnknown and exactlyOne run for every object of every policy parsed: they allocate
// nothing unless there is something to report.

export function rejectUnknown(obj: JsonObject, c: Checker, known: readonly string[]): void {
  for (const key in obj) {
    if (Object.hasOwn(obj, key) && !known.includes(key)) c.field(key).error(`unknown field (known fields: ${known.join(', ')})`);
  }
}

/** `minProperties: 1, maxProperties: 1` over the known keys: exactly one must be set. */
export function exactlyOne(obj: JsonObject, c: Checker, known: readonly string[], what: string): string | undefined {
  let found: string | undefined;
  let count = 0;
  for (let i = 0; i < known.length; i++) {
    const v = obj[known[i]!];
    if (v !== undefined && v !== null) {
      found ??= known[i];
      count++;
    }
  }
  if (count === 1) return found;
  const set = known.filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (set.length === 0) c.error(`${what} must set exactly one of ${known.join(', ')}; none is set`);
  else c.error(`${what} must set exactly one of ${known.join(', ')}; ${set.join(' and ')} are set`);
  return undefined;
}
