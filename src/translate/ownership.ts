import type { Policy } from '../api/model.js';
import { CNP_GROUP, CNP_KIND } from '../api/cnp.js';
import type { OwnerReference } from './types.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'cnp-operator';
/** Label naming the CNP an object was generated from (label-safe form of the name). */
export const POLICY_LABEL = 'policy.cnp-operator.io/name';
/** Annotation with the CNP's full name (names may exceed a label value's 63 characters). */
export const POLICY_ANNOTATION = 'policy.cnp-operator.io/cnp';
/** The storage version since network-policy-api v0.3.0; garbage collection looks owners up by it. */
export const OWNER_API_VERSION = `${CNP_GROUP}/v1beta1`;

/** FNV-1a, 32 bits: a short, stable, dependency-free hash for names. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A label value for a CNP name: the name itself when it fits, else a prefix plus a hash. */
export function policyLabelValue(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 54).replace(/[-.]+$/, '')}-${shortHash(name)}`;
}

export function ownershipLabels(policy: Policy): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [POLICY_LABEL]: policyLabelValue(policy.name) };
}

export function ownershipAnnotations(policy: Policy): Record<string, string> {
  return { [POLICY_ANNOTATION]: policy.name };
}

/** The owner reference to the CNP; none when the policy has no UID (e.g. read from a file). */
export function ownerReferences(policy: Policy): OwnerReference[] | undefined {
  if (policy.uid === undefined) return undefined;
  return [{ apiVersion: OWNER_API_VERSION, kind: CNP_KIND, name: policy.name, uid: policy.uid, controller: true, blockOwnerDeletion: true }];
}
