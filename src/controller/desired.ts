import { createHash } from 'node:crypto';
import { POLICY_ANNOTATION } from '../translate/ownership.js';
import type { Finding, KubeObject, Translation } from '../translate/types.js';

/** The owner key of objects that belong to no single CNP (tiers, shared network sets). */
export const SHARED_KEY = '';

export interface DesiredState {
  /** Objects by the CNP they belong to; SHARED_KEY for operator-wide objects. */
  readonly byOwner: ReadonlyMap<string, readonly KubeObject[]>;
  readonly findings: ReadonlyMap<string, readonly Finding[]>;
  /** Per owner, a digest of its objects and findings: what changedOwners compares. */
  readonly fingerprints: ReadonlyMap<string, string>;
}

export function ownerOf(obj: { metadata: { annotations?: Readonly<Record<string, string>> } }): string {
  return obj.metadata.annotations?.[POLICY_ANNOTATION] ?? SHARED_KEY;
}

export function groupTranslation(t: Translation): DesiredState {
  const byOwner = new Map<string, KubeObject[]>();
  for (const obj of t.objects) {
    const key = ownerOf(obj);
    const list = byOwner.get(key) ?? [];
    list.push(obj);
    byOwner.set(key, list);
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
  return { byOwner, findings, fingerprints };
}

export function objectKey(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * True when every field of `desired` has the same value in `live`. Lists must have
 * the same length with each element matching in order; live may carry more fields
 * (server defaults, metadata the API server adds).
 */
export function matchesDesired(live: unknown, desired: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return live === desired;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => matchesDesired(live[i], d));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const l = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => v === undefined || matchesDesired(l[k], v));
}

/** Owner keys whose desired objects differ between two states (for recomputing exactly what changed). */
export function changedOwners(before: DesiredState | undefined, after: DesiredState): string[] {
  const keys = new Set([...(before?.fingerprints.keys() ?? []), ...after.fingerprints.keys()]);
  return [...keys].filter((k) => before?.fingerprints.get(k) !== after.fingerprints.get(k));
}
