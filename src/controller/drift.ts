import { canonicalDigest, canonicalJson } from '../translate/digest.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../translate/ownership.js';
import type { KubeObject } from './port.js';

// What "the live object equals the desired one" means for a generated object: its whole body
// (spec, or specs for a CCNP) with nothing added, removed or changed; the labels and
// annotations the operator sets, with its values; and exactly its owner references (another
// owner would let garbage collection delete the object). Labels and annotations others add
// are left alone: they change no enforcement.

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where a cached object keeps the digest of its body instead of the body: the operator's caches
 * of the kinds it writes hold only what tells "in sync" from "look closer" (see slimOwned); a
 * difference is then read from the API server in full.
 */
export const BODY_DIGEST = '@bodyDigest';

/** Top-level fields that are the object's content (everything but identity, metadata and status). */
function body(obj: KubeObject): Json {
  return Object.fromEntries(Object.entries(obj).filter(([k, v]) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && k !== 'status' && k !== BODY_DIGEST && v !== undefined));
}

function bodyDigest(obj: KubeObject): string {
  const kept = obj[BODY_DIGEST];
  return typeof kept === 'string' ? kept : canonicalDigest(body(obj));
}

/** A cached object of a kind the operator writes: its metadata and the digest of its body. */
export function slimOwned(obj: KubeObject): KubeObject {
  const { apiVersion, kind, metadata } = obj;
  return { apiVersion, kind, metadata, [BODY_DIGEST]: bodyDigest(obj) };
}

function field(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
}

/** The path of keys and indexes as `differences` reports it. */
function pathOf(parts: readonly (string | number)[]): string {
  let path = '';
  for (const p of parts) path = typeof p === 'number' ? `${path}[${p}]` : field(path, p);
  return path;
}

const isPrimitive = (v: unknown): boolean => v === null || typeof v !== 'object';

// It runs for every object compared, nearly always equal ones: nothing is allocated on the way
// down (the path is one array pushed and popped), and a path is spelled out only where a
// difference is found.
function diff(live: unknown, want: unknown, parts: (string | number)[], out: string[]): void {
  if (isObj(want) && isObj(live)) {
    for (const key in want) {
      if (want[key] === undefined && live[key] === undefined) continue;
      parts.push(key);
      diff(live[key], want[key], parts, out);
      parts.pop();
    }
    for (const key in live) {
      if (Object.hasOwn(want, key) || live[key] === undefined) continue;
      parts.push(key);
      diff(live[key], undefined, parts, out);
      parts.pop();
    }
    return;
  }
  if (Array.isArray(want) && Array.isArray(live)) {
    for (let i = 0; i < Math.max(want.length, live.length); i++) {
      parts.push(i);
      diff(live[i], want[i], parts, out);
      parts.pop();
    }
    return;
  }
  // As JSON: null and an absent value are alike.
  const equal = isPrimitive(live) && isPrimitive(want) ? live === want || (live == null && want == null) : canonicalJson(live) === canonicalJson(want);
  if (!equal) out.push(pathOf(parts));
}

const ownerRefs = (obj: KubeObject): string[] => (obj.metadata.ownerReferences ?? []).map((r) => canonicalJson(r)).sort();

/** Field paths where the live object is not what the operator wants (empty: in sync). */
export function differences(live: KubeObject, want: KubeObject): string[] {
  const out: string[] = [];
  // A cached object has only its body's digest: the body differs, where is for a full read to say.
  if (typeof live[BODY_DIGEST] === 'string') {
    if (live[BODY_DIGEST] !== bodyDigest(want)) out.push('spec');
  } else diff(body(live), body(want), [], out);
  for (const [key, value] of Object.entries(want.metadata.labels ?? {})) {
    if (live.metadata.labels?.[key] !== value) out.push(field('metadata.labels', key));
  }
  for (const [key, value] of Object.entries(want.metadata.annotations ?? {})) {
    if (live.metadata.annotations?.[key] !== value) out.push(field('metadata.annotations', key));
  }
  const [liveOwners, wantOwners] = [ownerRefs(live), ownerRefs(want)];
  if (liveOwners.length !== wantOwners.length || liveOwners.some((r, i) => r !== wantOwners[i])) out.push('metadata.ownerReferences');
  return out;
}

/** A digest of what `differences` compares: for remembering how the API server stored a write. */
export function comparedDigest(live: KubeObject, want: KubeObject): string {
  const pick = (m: Readonly<Record<string, string>> | undefined, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, m?.[k]]));
  return canonicalDigest({
    body: bodyDigest(live),
    labels: pick(live.metadata.labels, Object.keys(want.metadata.labels ?? {})),
    annotations: pick(live.metadata.annotations, Object.keys(want.metadata.annotations ?? {})),
    owners: ownerRefs(live),
  });
}

/**
 * The object to PUT: the wanted content, the operator's labels, annotations and owner
 * references, and everything else of the live metadata kept (others' labels, finalizers,
 * resourceVersion as the precondition). managedFields are left out, so the server keeps them.
 */
export function replacement(live: KubeObject, want: KubeObject): KubeObject {
  const { managedFields: _managed, ...metadata } = live.metadata;
  return {
    apiVersion: want.apiVersion,
    kind: want.kind,
    ...body(want),
    metadata: {
      ...metadata,
      labels: { ...live.metadata.labels, ...want.metadata.labels },
      annotations: { ...live.metadata.annotations, ...want.metadata.annotations },
      ...(want.metadata.ownerReferences === undefined ? { ownerReferences: undefined } : { ownerReferences: want.metadata.ownerReferences.map((r) => ({ ...r })) }),
    },
  };
}

/**
 * Whether an object was written by the operator: its field manager is among the object's
 * managers. Labels alone prove nothing — a copy made with kubectl carries them too — and an
 * object the operator did not write is never changed or deleted by it.
 */
export function writtenBy(obj: KubeObject, fieldManager: string): boolean {
  return (obj.metadata.managedFields ?? []).some((m) => m.manager === fieldManager && m.subresource === undefined);
}

/**
 * Whether the operator may write a live object under a name it wants: one it wrote, or one
 * that carries its label and names this very CNP (by uid) as its controller — its own object
 * after someone rewrote its managers, say.
 */
export function mayTakeOver(live: KubeObject, fieldManager: string, ownerUid: string | undefined): boolean {
  if (writtenBy(live, fieldManager)) return true;
  if (live.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || ownerUid === undefined) return false;
  return (live.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === ownerUid);
}
