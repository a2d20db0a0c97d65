import { createHash } from 'node:crypto';
import { comparePolicies, DIRECTIONS, type Policy, type Selector, type Snapshot } from '../api/model.js';
import { selectorKey } from '../api/selector.js';
import { nodeNetsCache, planCalico, translateCalicoPolicy, type CalicoOptions, type CalicoPlan } from '../translate/calico/index.js';
import { canonicalJson, stampDigests } from '../translate/digest.js';
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

/** A CNP's node selectors, in rule order: what its node sets depend on. */
function nodeSelectors(policy: Policy): Selector[] {
  return DIRECTIONS.flatMap((d) => (d === 'egress' ? policy.egress : policy.ingress).flatMap((r) => r.peers.flatMap((p) => (p.kind === 'nodes' ? [p.nodes] : []))));
}

interface Translated {
  readonly key: string;
  readonly policy: Policy;
  /** The node addresses it was translated with, by node selector: enough to make its objects again. */
  readonly nets: ReadonlyMap<string, string[]>;
  readonly objectKeys: readonly string[];
  readonly findings: readonly Finding[];
  readonly fingerprint: string;
}

/**
 * Calico, incrementally: a CNP is translated again only when what its objects depend on
 * changed — itself (uid and generation), its GlobalNetworkPolicy's name and order, or the
 * addresses of the nodes its node peers select. Everything else is reused, so a change costs
 * the planning pass over all CNPs (names and orders, no rules) plus the CNPs it touched.
 * Objects are not kept: they are made again from the policy when they are written or
 * compared (cheap, and far smaller than keeping thousands of them).
 */
export function calicoTranslator(options: CalicoOptions): Translator {
  const cache = new Map<string, Translated>();
  let sharedFingerprint: string | undefined;
  let plan: CalicoPlan | undefined;
  let tiers: readonly KubeObject[] = [];
  const make = (entry: Translated): readonly KubeObject[] =>
    stampDigests(translateCalicoPolicy(plan!, entry.policy, (s) => [...(entry.nets.get(selectorKey(s)) ?? [])])).objects;
  const objects = (owner: string): readonly KubeObject[] => {
    if (owner === SHARED_KEY) return tiers;
    const entry = cache.get(owner);
    return entry === undefined ? [] : make(entry);
  };
  return {
    update(snapshot) {
      const policies = [...snapshot.policies].sort(comparePolicies);
      plan = planCalico(policies, options);
      const nodeNets = nodeNetsCache(snapshot.nodes);
      const findings = new Map<string, readonly Finding[]>();
      const fingerprints = new Map<string, string>();
      const ownerByKey = new Map<string, string>();
      const changed: string[] = [];
      const present = new Set<string>();

      tiers = stampDigests({ objects: plan.tiers, findings: [] }).objects;
      const shared = fingerprint(tiers, []);
      fingerprints.set(SHARED_KEY, shared);
      for (const t of tiers) ownerByKey.set(objectKey(t), SHARED_KEY);
      if (shared !== sharedFingerprint) changed.push(SHARED_KEY);
      sharedFingerprint = shared;

      for (const policy of policies) {
        present.add(policy.name);
        // A policy read from the cluster is identified by uid and generation; one from a file by its content.
        const identity = policy.uid !== undefined && policy.generation !== undefined ? `${policy.uid}/${policy.generation}` : canonicalJson(policy);
        const nets = new Map(nodeSelectors(policy).map((s) => [selectorKey(s), nodeNets(s)]));
        const key = `${identity}|${plan.names.get(policy.name)}|${plan.orders.get(policy.name)}|${[...nets].map(([k, v]) => `${k}=${v.join(',')}`).join(';')}`;
        let entry = cache.get(policy.name);
        if (entry?.key !== key) {
          const t = stampDigests(translateCalicoPolicy(plan, policy, (s) => [...(nets.get(selectorKey(s)) ?? [])]));
          const next = { key, policy, nets, objectKeys: t.objects.map(objectKey), findings: t.findings, fingerprint: fingerprint(t.objects, t.findings) };
          if (entry?.fingerprint !== next.fingerprint) changed.push(policy.name);
          cache.set(policy.name, (entry = next));
        }
        if (entry.findings.length > 0) findings.set(policy.name, entry.findings);
        fingerprints.set(policy.name, entry.fingerprint);
        for (const k of entry.objectKeys) ownerByKey.set(k, policy.name);
      }
      for (const name of [...cache.keys()]) {
        if (present.has(name)) continue;
        cache.delete(name);
        changed.push(name);
      }
      return { desired: { objects, findings, fingerprints, ownerByKey }, changed };
    },
  };
}
