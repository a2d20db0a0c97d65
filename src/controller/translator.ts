import { createHash } from 'node:crypto';
import { DIRECTIONS, type Policy, type Selector, type Snapshot } from '../api/model.js';
import { selectorKey } from '../api/selector.js';
import { nodeNetsCache, planCalico, policyObjectRef, translateCalicoPolicy, type CalicoOptions, type CalicoPlan, type NodeNets } from '../translate/calico/index.js';
import { stampDigests } from '../translate/digest.js';
import type { Finding, KubeObject, Translation } from '../translate/types.js';
import { changedOwners, groupTranslation, objectKey, SHARED_KEY, type DesiredState } from './desired.js';

// How the operator keeps its desired state up to date. A translator is told the current
// snapshot and answers with the desired state and the owners (CNP names, or SHARED_KEY) whose
// objects or findings may have changed since it was last asked — the only ones worth
// reconciling. Every owner whose output changed is among them.

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

/** The node addresses a translation asks for, from those a CNP's entry holds (a copy: the translation may keep it). */
const nodeNetsOf =
  (nets: ReadonlyMap<string, string[]>): NodeNets =>
  (s) => [...(nets.get(selectorKey(s)) ?? [])];

interface Translated {
  readonly policy: Policy;
  /** What its objects are made from besides the policy: GNP name and order, node addresses. */
  readonly name: string;
  readonly order: number;
  readonly netsKey: string;
  /** The node addresses it is translated with, by node selector: enough to make its objects. */
  readonly nets: ReadonlyMap<string, string[]>;
  readonly objectKeys: readonly string[];
  /** New for each new entry: its inputs, not its output (see calicoTranslator). */
  readonly fingerprint: string;
}

/** Tells one translator's fingerprints from another's: a translator made afresh must find every owner changed. */
let translators = 0;

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
 * Calico, incrementally: a CNP is looked at again only when what its objects depend on
 * changed — the policy (a new object: the operator parses a CNP again only when its uid or
 * generation changes), its GlobalNetworkPolicy's name and order, or the
 * addresses of the nodes its node peers select. Names and orders are planned again only when
 * a CNP comes, goes or changes tier or priority. An unchanged CNP costs a few lookups, so a
 * change among thousands costs about what the CNPs it touched cost. The desired state's maps
 * are kept and updated in place.
 *
 * A CNP is translated only when its objects or findings are asked for, not when its inputs
 * change: a fingerprint stands for the inputs (a new one for each new policy object, name,
 * order or node addresses), so an owner is reported changed when its inputs changed, which
 * includes every change of its output (a CNP parsed again to the same objects is reported
 * too: one pass that finds nothing to write). At start-up, thousands of CNPs are translated
 * once, as their objects are written, not once more beforehand. A CNP without node peers has
 * one object, named by the plan; one with node peers is translated at once for the names of
 * its node sets. Objects are not kept: they are made again from the policy when they are
 * written or compared (cheap, and far smaller than keeping thousands of them); findings are
 * kept once made (few, and asked for by every status).
 */
export function calicoTranslator(options: CalicoOptions): Translator {
  const id = ++translators;
  let serial = 0;
  const cache = new Map<string, Translated>();
  const findingsMade = new Map<string, readonly Finding[]>();
  const fingerprints = new Map<string, string>();
  const ownerByKey = new Map<string, string>();
  let plan: CalicoPlan | undefined;
  let tiers: readonly KubeObject[] = [];
  const translate = (entry: Translated): Translation => {
    const t = translateCalicoPolicy(plan!, entry.policy, nodeNetsOf(entry.nets));
    // The entry may have been replaced since it was asked for: its findings are not the owner's then.
    if (cache.get(entry.policy.name) === entry) findingsMade.set(entry.policy.name, t.findings);
    return t;
  };
  const objects = (owner: string): readonly KubeObject[] => {
    if (owner === SHARED_KEY) return tiers;
    const entry = cache.get(owner);
    return entry === undefined ? [] : stampDigests(translate(entry)).objects;
  };
  const findingsOf = (owner: string): readonly Finding[] => {
    if (owner === SHARED_KEY) return [];
    const made = findingsMade.get(owner);
    if (made !== undefined) return made;
    const entry = cache.get(owner);
    return entry === undefined ? [] : translate(entry).findings;
  };
  const forget = (name: string): void => {
    const entry = cache.get(name);
    if (entry === undefined) return;
    for (const k of entry.objectKeys) if (ownerByKey.get(k) === name) ownerByKey.delete(k);
    cache.delete(name);
    findingsMade.delete(name);
    fingerprints.delete(name);
  };
  const desired: DesiredState = { objects, findings: findingsOf, fingerprints, ownerByKey };
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
        // Node-set names come from the translation; a CNP without node peers has its GNP only.
        const made = selectors.length === 0 ? undefined : translateCalicoPolicy(plan, policy, nodeNetsOf(nets));
        const objectKeys = made === undefined ? [objectKey(policyObjectRef(plan, policy.name))] : made.objects.map(objectKey);
        const next: Translated = { policy, name, order, netsKey, nets, objectKeys, fingerprint: `${id}.${++serial}` };
        changed.push(policy.name);
        if (entry !== undefined) for (const k of entry.objectKeys) if (ownerByKey.get(k) === policy.name) ownerByKey.delete(k);
        cache.set(policy.name, next);
        if (made === undefined) findingsMade.delete(policy.name);
        else findingsMade.set(policy.name, made.findings);
        for (const k of next.objectKeys) ownerByKey.set(k, policy.name);
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
