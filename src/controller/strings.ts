// Every object the caches keep arrives as JSON, and JSON.parse gives each string value a copy of
// its own (V8 shares only values of up to ten characters). Thousands of cached objects repeat the
// same apiVersion, kind, timestamps (one per second of a bulk apply), managers, label values and
// condition reasons, and every map keyed by an object's key holds its own copy of the key. One
// copy each, through this table, is what a heap snapshot at 5,000 CNPs showed worth several MiB.

/**
 * Hands out one copy of each string it has seen. Bounded: when full it starts afresh, so strings
 * that never repeat (a cluster's pod names as label values, say) cost at most `capacity` entries.
 * Strings handed out before stay valid; only their sharing with later ones is lost.
 */
export class StringTable {
  readonly #strings = new Map<string, string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`StringTable capacity must be a positive integer, not ${capacity}`);
  }

  share(s: string): string {
    const hit = this.#strings.get(s);
    if (hit !== undefined) return hit;
    if (this.#strings.size >= this.capacity) this.#strings.clear();
    this.#strings.set(s, s);
    return s;
  }

  /** `share` for the optional fields of an object. */
  shareOptional(s: string | undefined): string | undefined {
    return s === undefined ? undefined : this.share(s);
  }

  /** How many strings it holds now (for tests). */
  get size(): number {
    return this.#strings.size;
  }
}

/**
 * The operator's table. Its entries are mostly the keys of the objects it writes (one per backend
 * object) and label values; the rest are a few hundred timestamps and constants. Full, the map
 * itself takes about 1.7 MiB (measured on Node.js 20): the most it costs where little repeats.
 */
export const sharedStrings = new StringTable(65_536);

/**
 * Shares, in place, every string in a parsed JSON value but those under the keys given (values
 * each object has its own: names, uids, resourceVersions, which would only fill the table).
 */
export function shareAll(value: unknown, except: ReadonlySet<string>, table: StringTable = sharedStrings): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') value[i] = table.share(v);
      else shareAll(v, except, table);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (except.has(key)) continue;
    const v = record[key];
    if (typeof v === 'string') record[key] = table.share(v);
    else shareAll(v, except, table);
  }
}
