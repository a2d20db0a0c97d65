import { createHash } from 'node:crypto';
import { DIRECTIONS, type Policy, type Selector, type Snapshot } from '../api/model.js';
import { selectorKey } from '../api/selector.js';
import { nodeNetsCache, planCalico, translateCalicoPolicy, type CalicoOptions, type CalicoPlan, type NodeNets } from '../translate/calico/index.js';
import { stampDigests } from '../translate/digest.js';
import type { Finding, KubeObject, Translation } from '../translate/types.js';
import { changedOwners, groupTranslation, objectKey, SHARED_KEY, type DesiredState } from './desired.js';

// How the operator keeps its desired state up to date. A translator is told the current
// snapshot and answers with the desired state and the owners (CNP names, or SHARED_KEY) whose
// objects or findings changed since it was last asked — the only ones worth reconciling.

export interface TranslatorUpdate {
  readonly desired: DesiredState;
  readonly changed: readonly string[];
}

export interface Translator {
  update(snapshot: Snapshot): TranslatorUpdate;
}

/** Translates everything on every update (Cilium compiles each CNP against the ones before it). */
export function wholeTranslator(translate: (snapshot: Snapshot) => Translation): Translator {
  let last: DesiredState | undefined;
  return {
    update(snapshot) {
      const desired = groupTranslation(stampDigests(translate(snapshot)));
      const changed = changedOwners(last, desired);
      last = desired;
      return { desired, changed };
    },
  };
}

const fingerprint = (objects: readonly KubeObject[], findings: readonly Finding[]): string => createHash('sha256').update(JSON.stringify([objects, findings])).digest('base64');

const NO_SELECTORS: readonly Selector[] = [];
const NO_NETS: ReadonlyMap<string, string[]> = new Map();
/** Node selectors by policy object: a policy is the same object until its CNP changes. */
const nodeSelectorsOf = new WeakMap<Policy, readonly Selector[]>();

/** A CNP's node selectors, in rule order: what its node sets depend on. */
function nodeSelectors(policy: Policy): readonly Selector[] {
  let selectors = nodeSelectorsOf.get(policy);
  if (selectors === undefined) {
    const found = DIRECTIONS.flatMap((d) => (d === 'egress' ? policy.egress : policy.ingress).flatMap((r) => r.peers.flatMap((p) => (p.kind === 'nodes' ? [p.nodes] : []))));
    nodeSelectorsOf.set(policy, (selectors = found.length === 0 ? NO_SELECTORS : found));
  }
  return selectors;
}

interface Translated {
  readonly policy: Policy;
  /** What its objects were made from besides the policy: GNP name and order, node addresses. */
  readonly name: string;
  readonly order: number;
  readonly netsKey: string;
  /** The node addresses it was translated with, by node selector: enough to make its objects again. */
  readonly nets: ReadonlyMap<string, string[]>;
  readonly objectKeys: readonly string[];
  readonly findings: readonly Finding[];
  readonly fingerprint: string;
}

/** Whether the policies differ from the last plan's in what names and orders depend on: the set of (name, tier, priority). */
function planMoved(cache: ReadonlyMap<string, Translated>, policies: readonly Policy[]): boolean {
  if (cache.size !== policies.length) return true;
  for (const p of policies) {
    const before = cache.get(p.name)?.policy;
    if (before === undefined || (before !== p && (before.tier !== p.tier || before.priority !== p.priority))) return true;
  }
  return false;
}

/**
 * Calico, incrementally: a CNP is translated again only when what its objects depend on
 * changed — the policy (a new object: the operator parses a CNP again only when its uid or
 * generation changes), its GlobalNetworkPolicy's name and order, or the
 * addresses of the nodes its node peers select. Names and orders are planned again only when
 * a CNP comes, goes or changes tier or priority. An unchanged CNP costs a few lookups, so a
 * change among thousands costs about what the CNPs it touched cost. The desired state's maps
 * are kept and updated in place. Objects are not kept: they are made again from the policy
 * when they are written or compared (cheap, and far smaller than keeping thousands of them).
 */
export function calicoTranslator(options: CalicoOptions): Translator {
  const cache = new Map<string, Translated>();
  const findings = new Map<string, readonly Finding[]>();
  const fingerprints = new Map<string, string>();
  const ownerByKey = new Map<string, string>();
  let plan: CalicoPlan | undefined;
  let tiers: readonly KubeObject[] = [];
  const make = (entry: Translated): readonly KubeObject[] =>
    stampDigests(translateCalicoPolicy(plan!, entry.policy, (s) => [...(entry.nets.get(selectorKey(s)) ?? [])])).objects;
  const objects = (owner: string): readonly KubeObject[] => {
    if (owner === SHARED_KEY) return tiers;
    const entry = cache.get(owner);
    return entry === undefined ? [] : make(entry);
  };
  const forget = (name: string): void => {
    const entry = cache.get(name);
    if (entry === undefined) return;
    for (const k of entry.objectKeys) if (ownerByKey.get(k) === name) ownerByKey.delete(k);
    cache.delete(name);
    findings.delete(name);
    fingerprints.delete(name);
  };
  const desired: DesiredState = { objects, findings, fingerprints, ownerByKey };
  return {
    update(snapshot) {
      const changed: string[] = [];
      if (plan === undefined || planMoved(cache, snapshot.policies)) {
        plan = planCalico(snapshot.policies, options);
        tiers = stampDigests({ objects: plan.tiers, findings: [] }).objects;
        const shared = fingerprint(tiers, []);
        if (fingerprints.get(SHARED_KEY) !== shared) changed.push(SHARED_KEY);
        fingerprints.set(SHARED_KEY, shared);
        for (const t of tiers) ownerByKey.set(objectKey(t), SHARED_KEY);
      }
      let nodeNets: NodeNets | undefined;
      for (const policy of snapshot.policies) {
        const entry = cache.get(policy.name);
        const name = plan.names.get(policy.name)!;
        const order = plan.orders.get(policy.name)!;
        const selectors = nodeSelectors(policy);
        let nets: ReadonlyMap<string, string[]> = NO_NETS;
        let netsKey = '';
        if (selectors.length > 0) {
          nodeNets ??= nodeNetsCache(snapshot.nodes);
          const byKey = new Map(selectors.map((s) => [selectorKey(s), nodeNets!(s)]));
          nets = byKey;
          netsKey = [...byKey].map(([k, v]) => `${k}=${v.join(',')}`).join(';');
        }
        if (entry !== undefined && entry.policy === policy && entry.name === name && entry.order === order && entry.netsKey === netsKey) continue;
        const t = stampDigests(translateCalicoPolicy(plan, policy, (s) => [...(nets.get(selectorKey(s)) ?? [])]));
        const next: Translated = { policy, name, order, netsKey, nets, objectKeys: t.objects.map(objectKey), findings: t.findings, fingerprint: fingerprint(t.objects, t.findings) };
        if (entry?.fingerprint !== next.fingerprint) changed.push(policy.name);
        if (entry !== undefined) for (const k of entry.objectKeys) if (ownerByKey.get(k) === policy.name) ownerByKey.delete(k);
        cache.set(policy.name, next);
        for (const k of next.objectKeys) ownerByKey.set(k, policy.name);
        if (next.findings.length > 0) findings.set(policy.name, next.findings);
        else findings.delete(policy.name);
        fingerprints.set(policy.name, next.fingerprint);
      }
      // Names are unique in a snapshot and each is in the cache now: any more are gone.
      if (cache.size !== snapshot.policies.length) {
        const present = new Set(snapshot.policies.map((p) => p.name));
        for (const name of [...cache.keys()]) {
          if (present.has(name)) continue;
          forget(name);
          changed.push(name);
        }
      }
      return { desired, changed };
    },
  };
}
