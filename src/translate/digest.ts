import type { KubeObject, Translation } from './types.js';

// Each generated object carries a digest of itself as written (spec and the metadata the
// operator sets). It tells drift from change: when the live object's digest is that of what
// the operator wants now, any other difference was made by someone else — even one made while
// the operator was not running; when it is not, the policy changed (or the operator was
// upgraded) and the object is simply brought up to date.

export const DESIRED_DIGEST_ANNOTATION = 'policy.cnp-operator.io/desired-digest';

/**
 * JSON with object keys sorted, so equal values give equal text. Written with loops and string
 * concatenation: it runs for every object the operator makes or compares.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * An object's keys in the order of the default sort (UTF-16 code units, as `<` compares
 * strings). Insertion sort in place: objects have a handful of keys, and Array#sort allocates
 * a work copy each time, which under thousands of objects a second is mostly garbage.
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * 64 bits from two FNV-1a passes with different offsets: enough to tell versions of one
 * object apart (this is change detection, not security), and free of I/O for the pure core.
 */
export function digest(text: string): string {
  hashStart();
  hashText(text);
  return hashEnd();
}

/**
 * digest(canonicalJson(value)), without making the text: the characters are hashed as they
 * would be written. Digests of every object made or compared go through here, and the texts
 * were most of what the operator allocated while programming thousands of CNPs.
 */
export function canonicalDigest(value: unknown): string {
  hashStart();
  hashValue(value);
  return hashEnd();
}

// The hash state of the digest being computed (digests are computed one at a time,
// synchronously). In a typed array: a module variable holding a 32-bit value would be a boxed
// number, allocated afresh for every character.
const state = new Uint32Array(2);

function hashStart(): void {
  state[0] = 0x811c9dc5;
  state[1] = 0x01000193 ^ 0x9e3779b9;
}

function hashChar(c: number): void {
  state[0] = Math.imul(state[0]! ^ c, 0x01000193);
  const b = Math.imul(state[1]! ^ c, 0x85ebca6b) >>> 0;
  state[1] = b ^ (b >>> 13);
}

function hashText(text: string): void {
  let a = state[0]!;
  let b = state[1]!;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x85ebca6b) >>> 0;
    b ^= b >>> 13;
  }
  state[0] = a;
  state[1] = b;
}

function hashEnd(): string {
  return state[0]!.toString(16).padStart(8, '0') + state[1]!.toString(16).padStart(8, '0');
}

/** As JSON.stringify writes the string: quoted as is unless a character needs escaping (rare: then JSON.stringify's text). */
function hashString(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters, quote, backslash; surrogates, of which a lone one is escaped.
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      hashText(JSON.stringify(text));
      return;
    }
  }
  hashChar(0x22);
  hashText(text);
  hashChar(0x22);
}

/** Objects with more keys than this are hashed in the order of a sorted copy of their keys. */
const SMALL_RECORD = 12;

function hashEntry(key: string, value: unknown): void {
  hashString(key);
  hashChar(0x3a);
  hashValue(value);
}

function hashValue(value: unknown): void {
  if (typeof value === 'string') return hashString(value);
  if (value === null || typeof value !== 'object') return hashText(JSON.stringify(value) ?? 'null');
  if (Array.isArray(value)) {
    hashChar(0x5b);
    for (let i = 0; i < value.length; i++) {
      if (i > 0) hashChar(0x2c);
      hashValue(value[i]);
    }
    hashChar(0x5d);
    return;
  }
  const record = value as Record<string, unknown>;
  hashChar(0x7b);
  let count = 0;
  for (const key in record) if (Object.hasOwn(record, key)) count++;
  let first = true;
  if (count > SMALL_RECORD) {
    for (const key of sortedKeys(record)) {
      const v = record[key];
      if (v === undefined) continue;
      if (!first) hashChar(0x2c);
      hashEntry(key, v);
      first = false;
    }
  } else {
    // Each next key in order found by a scan: no array of keys for each of the thousands of small
    // objects hashed a second (those arrays were 6 % of what a start-up allocated).
    let previous: string | undefined;
    for (let i = 0; i < count; i++) {
      let next: string | undefined;
      for (const key in record) if ((previous === undefined || key > previous) && (next === undefined || key < next) && Object.hasOwn(record, key)) next = key;
      if (next === undefined) break;
      previous = next;
      const v = record[next];
      if (v === undefined) continue;
      if (!first) hashChar(0x2c);
      hashEntry(next, v);
      first = false;
    }
  }
  hashChar(0x7d);
}

/** The digest of an object's content as the operator writes it (its own digest annotation left out). */
export function contentDigest(obj: KubeObject): string {
  const { [DESIRED_DIGEST_ANNOTATION]: _own, ...annotations } = obj.metadata.annotations ?? {};
  const { name, labels, ownerReferences } = obj.metadata;
  const body = Object.fromEntries(Object.entries(obj).filter(([k]) => k !== 'metadata' && k !== 'apiVersion' && k !== 'kind' && k !== 'status'));
  return canonicalDigest({ name, labels, annotations, ownerReferences, body });
}

/** The objects with their digest annotation. */
export function stampDigests(t: Translation): Translation {
  return {
    ...t,
    objects: t.objects.map((o) => ({ ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [DESIRED_DIGEST_ANNOTATION]: contentDigest(o) } } })),
  };
}
