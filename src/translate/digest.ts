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
  // The default sort compares UTF-16 code units, as `<` on strings does.
  const keys = Object.keys(record).sort();
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
 * 64 bits from two FNV-1a passes with different offsets: enough to tell versions of one
 * object apart (this is change detection, not security), and free of I/O for the pure core.
 */
export function digest(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x85ebca6b) >>> 0;
    b ^= b >>> 13;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** The digest of an object's content as the operator writes it (its own digest annotation left out). */
export function contentDigest(obj: KubeObject): string {
  const { [DESIRED_DIGEST_ANNOTATION]: _own, ...annotations } = obj.metadata.annotations ?? {};
  const { name, labels, ownerReferences } = obj.metadata;
  const body = Object.fromEntries(Object.entries(obj).filter(([k]) => k !== 'metadata' && k !== 'apiVersion' && k !== 'kind' && k !== 'status'));
  return digest(canonicalJson({ name, labels, annotations, ownerReferences, body }));
}

/** The objects with their digest annotation. */
export function stampDigests(t: Translation): Translation {
  return {
    ...t,
    objects: t.objects.map((o) => ({ ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [DESIRED_DIGEST_ANNOTATION]: contentDigest(o) } } })),
  };
}
