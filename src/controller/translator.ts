import { createHash } from 'node:crypto';
import { comparePolicies, DIRECTIONS, type Policy, type Selector, type Snapshot } from '../api/model.js';
import { selectorKey } from '../api/selector.js';
import { nodeNetsCache, planCalico, translateCalicoPolicy, type CalicoOptions } from '../translate/calico/index.js';
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
  readonly objects: readonly KubeObject[];
  readonly findings: readonly Finding[];
  readonly fingerprint: string;
}

/**
 * Calico, incrementally: a CNP is translated again only when what its objects depend on
 * changed — itself (uid and generation), its GlobalNetworkPolicy's name and order, or the
 * addresses of the nodes its node peers select. Everything else is reused, so a change costs
 * the planning pass over all CNPs (names and orders, no rules) plus the CNPs it touched.
 */
export function calicoTranslator(options: CalicoOptions): Translator {
  const cache = new Map<string, Translated>();
  let sharedFingerprint: string | undefined;
  return {
    update(snapshot) {
      const policies = [...snapshot.policies].sort(comparePolicies);
      const plan = planCalico(policies, options);
      const nodeNets = nodeNetsCache(snapshot.nodes);
      const byOwner = new Map<string, readonly KubeObject[]>();
      const findings = new Map<string, readonly Finding[]>();
      const fingerprints = new Map<string, string>();
      const ownerByKey = new Map<string, string>();
      const changed: string[] = [];
      const present = new Set<string>();

      const tiers = stampDigests({ objects: plan.tiers, findings: [] }).objects;
      const shared = fingerprint(tiers, []);
      byOwner.set(SHARED_KEY, tiers);
      fingerprints.set(SHARED_KEY, shared);
      for (const t of tiers) ownerByKey.set(objectKey(t), SHARED_KEY);
      if (shared !== sharedFingerprint) changed.push(SHARED_KEY);
      sharedFingerprint = shared;

      for (const policy of policies) {
        present.add(policy.name);
        // A policy read from the cluster is identified by uid and generation; one from a file by its content.
        const identity = policy.uid !== undefined && policy.generation !== undefined ? `${policy.uid}/${policy.generation}` : canonicalJson(policy);
        const nets = nodeSelectors(policy).map((s) => `${selectorKey(s)}=${nodeNets(s).join(',')}`);
        const key = `${identity}|${plan.names.get(policy.name)}|${plan.orders.get(policy.name)}|${nets.join(';')}`;
        let entry = cache.get(policy.name);
        if (entry?.key !== key) {
          const t = stampDigests(translateCalicoPolicy(plan, policy, nodeNets));
          const next = { key, objects: t.objects, findings: t.findings, fingerprint: fingerprint(t.objects, t.findings) };
          if (entry?.fingerprint !== next.fingerprint) changed.push(policy.name);
          cache.set(policy.name, (entry = next));
        }
        byOwner.set(policy.name, entry.objects);
        if (entry.findings.length > 0) findings.set(policy.name, entry.findings);
        fingerprints.set(policy.name, entry.fingerprint);
        for (const o of entry.objects) ownerByKey.set(objectKey(o), policy.name);
      }
      for (const name of [...cache.keys()]) {
        if (present.has(name)) continue;
        cache.delete(name);
        changed.push(name);
      }
      return { desired: { byOwner, findings, fingerprints, ownerByKey }, changed };
    },
  };
}
