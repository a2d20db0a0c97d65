import { createHash } from 'node:crypto';
import { POLICY_ANNOTATION } from '../translate/ownership.js';
import type { Finding, KubeObject, Translation } from '../translate/types.js';
import { sharedStrings } from './strings.js';

/** The owner key of objects that belong to no single CNP (tiers, shared network sets). */
export const SHARED_KEY = '';

export interface DesiredState {
  /**
   * The objects an owner (a CNP's name; SHARED_KEY for operator-wide objects) wants. A
   * translator may make them again on each call rather than keep them: thousands of generated
   * objects are the largest thing an operator could hold.
   */
  objects(owner: string): readonly KubeObject[];
  /** What the translation of an owner's CNP found (approximations, notes); may be made on asking, as objects are. */
  findings(owner: string): readonly Finding[];
  /**
   * Per owner, what changedOwners compares: equal fingerprints mean equal objects and findings.
   * A digest of them, or a token for the inputs they are made from (which changes with them).
   */
  readonly fingerprints: ReadonlyMap<string, string>;
  /** The owner of every desired object, by objectKey. */
  readonly ownerByKey: ReadonlyMap<string, string>;
}

export function ownerOf(obj: { metadata: { annotations?: Readonly<Record<string, string>> } }): string {
  return obj.metadata.annotations?.[POLICY_ANNOTATION] ?? SHARED_KEY;
}

export function groupTranslation(t: Translation): DesiredState {
  const byOwner = new Map<string, KubeObject[]>();
  const ownerByKey = new Map<string, string>();
  for (const obj of t.objects) {
    const key = ownerOf(obj);
    const list = byOwner.get(key) ?? [];
    list.push(obj);
    byOwner.set(key, list);
    ownerByKey.set(objectKey(obj), key);
  }
  const findings = new Map<string, Finding[]>();
  for (const f of t.findings) {
    const list = findings.get(f.policy) ?? [];
    list.push(f);
    findings.set(f.policy, list);
  }
  const fingerprints = new Map<string, string>();
  for (const key of new Set([...byOwner.keys(), ...findings.keys()])) {
    // A digest, not the text: the text of every generated object would double what is held in memory.
    fingerprints.set(key, createHash('sha256').update(JSON.stringify([byOwner.get(key) ?? [], findings.get(key) ?? []])).digest('base64'));
  }
  return { objects: (owner) => byOwner.get(owner) ?? [], findings: (owner) => findings.get(owner) ?? [], fingerprints, ownerByKey };
}

export function objectKey(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  // Joined, not a template: a key kept in maps for as long as its object is one string, not a
  // tree of pieces every garbage collection traces. Shared: several maps keep each key.
  return sharedStrings.share([obj.apiVersion, obj.kind, obj.metadata.namespace ?? '', obj.metadata.name].join('/'));
}

/** Owner keys whose desired objects differ between two states (for recomputing exactly what changed). */
export function changedOwners(before: DesiredState | undefined, after: DesiredState): string[] {
  const keys = new Set([...(before?.fingerprints.keys() ?? []), ...after.fingerprints.keys()]);
  return [...keys].filter((k) => before?.fingerprints.get(k) !== after.fingerprints.get(k));
}
