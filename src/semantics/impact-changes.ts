import type { NetworkPolicy, Policy, Snapshot } from '../api/model.js';

// A proposed change as `diff` takes it: ClusterNetworkPolicies and NetworkPolicies that are
// added or replace the object of the same name (as `kubectl apply` would), and objects deleted
// by name. The cluster's namespaces, pods and nodes stay as they are.

export interface NetworkPolicyName {
  readonly namespace: string;
  readonly name: string;
}

export interface ProposedChanges {
  readonly policies: readonly Policy[];
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly deletePolicies: readonly string[];
  readonly deleteNetworkPolicies: readonly NetworkPolicyName[];
}

export type ChangeKind = 'added' | 'changed' | 'unchanged' | 'deleted';

export interface PolicyChange {
  readonly kind: 'ClusterNetworkPolicy' | 'NetworkPolicy';
  /** The CNP's name, or the NetworkPolicy's `namespace/name`. */
  readonly name: string;
  readonly change: ChangeKind;
}

/** A change that cannot be applied: deleting what is not there, or changing and deleting one object. */
export class ChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangeError';
  }
}

export interface AppliedChanges {
  readonly after: Snapshot;
  readonly changes: readonly PolicyChange[];
}

// Cidr addresses are bigints, which JSON cannot write.
const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** What policy enforcement depends on; uid and generation are bookkeeping that files lack. */
const cnpContent = (p: Policy): string => json({ tier: p.tier, priority: p.priority, subject: p.subject, ingress: p.ingress, egress: p.egress });
const npContent = (p: NetworkPolicy): string => json({ podSelector: p.podSelector, policyTypes: p.policyTypes, ingress: p.ingress, egress: p.egress });
const npName = (p: NetworkPolicyName): string => `${p.namespace}/${p.name}`;
/** `after`'s objects: those of `before` still there, in their places, then the new ones. */
function inPlace<T>(before: readonly T[], after: ReadonlyMap<string, T>, name: (t: T) => string): T[] {
  const kept = new Set<string>();
  const out: T[] = [];
  for (const t of before) {
    const now = after.get(name(t));
    if (now === undefined) continue;
    out.push(now);
    kept.add(name(t));
  }
  for (const [n, t] of after) if (!kept.has(n)) out.push(t);
  return out;
}

/** The snapshot after the change, and what happened to each policy the change names. */
export function applyChanges(before: Snapshot, proposed: ProposedChanges): AppliedChanges {
  const changes: PolicyChange[] = [];
  const cnps = new Map(before.policies.map((p) => [p.name, p]));
  const changedCnps = new Set(proposed.policies.map((p) => p.name));
  for (const name of new Set(proposed.deletePolicies)) {
    if (changedCnps.has(name)) throw new ChangeError(`ClusterNetworkPolicy ${name} is both proposed (-f) and deleted (--delete)`);
    if (!cnps.delete(name)) throw new ChangeError(`ClusterNetworkPolicy ${name} cannot be deleted: the cluster has none of that name`);
    changes.push({ kind: 'ClusterNetworkPolicy', name, change: 'deleted' });
  }
  for (const p of proposed.policies) {
    const old = cnps.get(p.name);
    changes.push({ kind: 'ClusterNetworkPolicy', name: p.name, change: old === undefined ? 'added' : cnpContent(old) === cnpContent(p) ? 'unchanged' : 'changed' });
    cnps.set(p.name, p);
  }

  const nps = new Map(before.networkPolicies.map((p) => [npName(p), p]));
  const changedNps = new Set(proposed.networkPolicies.map(npName));
  for (const name of new Set(proposed.deleteNetworkPolicies.map(npName))) {
    if (changedNps.has(name)) throw new ChangeError(`NetworkPolicy ${name} is both proposed (-f) and deleted (--delete)`);
    if (!nps.delete(name)) throw new ChangeError(`NetworkPolicy ${name} cannot be deleted: the cluster has none of that name`);
    changes.push({ kind: 'NetworkPolicy', name, change: 'deleted' });
  }
  for (const p of proposed.networkPolicies) {
    const old = nps.get(npName(p));
    changes.push({ kind: 'NetworkPolicy', name: npName(p), change: old === undefined ? 'added' : npContent(old) === npContent(p) ? 'unchanged' : 'changed' });
    nps.set(npName(p), p);
  }
  // Objects keep their places and new ones come last, so the evaluator walks NetworkPolicies in
  // the same order on both sides (the order picks which allowing policy a trace names).
  return { after: { ...before, policies: inPlace(before.policies, cnps, (p) => p.name), networkPolicies: inPlace(before.networkPolicies, nps, npName) }, changes };
}
