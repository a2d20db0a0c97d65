import { parseIp, formatIp } from '../../api/ip.js';
import { comparePolicies, DIRECTIONS, type Direction, type Node, type Policy, type Selector, type Snapshot, type Tier } from '../../api/model.js';
import { selectorKey, selectorMatches } from '../../api/selector.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, ownerReferences, ownershipAnnotations, ownershipLabels } from '../ownership.js';
import type { Finding, KubeObject, Translation } from '../types.js';
import { NodeSetNames, policyNames } from './names.js';
import { CalicoOptionsError, calicoOptionProblems, resolveCalicoOptions, type CalicoOptions, type ResolvedCalicoOptions } from './options.js';
import { translateRule } from './rules.js';
import { namespaceSelectorExpression, podSelectorExpression, quote } from './selectors.js';
import type { CalicoRule, GlobalNetworkPolicySpec, GlobalNetworkSetSpec, PolicyType, TierSpec } from './types.js';

export * from './options.js';
export type * from './types.js';
export { CALICO_APIS } from './types.js';
export { MAX_POLICY_NAME, hash64, maxPolicyName, policyNames } from './names.js';
export { RULE_ANNOTATION, RULE_NAME_ANNOTATION, portGroups } from './rules.js';
export { ORCHESTRATOR_CLAUSE, labelExpression, namespaceSelectorExpression, podSelectorExpression } from './selectors.js';

/** Calico's label naming a policy's tier (`LabelTier`); set on every policy, as Calico's own client does. */
export const TIER_LABEL = 'projectcalico.org/tier';
/** Label on a node set: its id, which the rules select with `namespaceSelector: global()`. */
export const NODE_SET_LABEL = 'policy.cnp-operator.io/node-set';

const KIND_RANK: Record<string, number> = { Tier: 0, GlobalNetworkPolicy: 1, GlobalNetworkSet: 2 };

/**
 * Translates every ClusterNetworkPolicy of the snapshot into Calico objects:
 * two Tiers (Admin, Baseline), one GlobalNetworkPolicy per CNP, and one GlobalNetworkSet per
 * distinct node selector of a CNP's `nodes` peers (holding the snapshot's matching node addresses).
 * Pure and deterministic: the same snapshot and options give byte-identical output.
 *
 * GNP `order` — Felix orders policies of a tier by `order`, and breaks ties by the string
 * `<name>/<namespace>/<kind>`, which does not follow CNP names (`a-b/` sorts before `a/`), so
 * ties must never reach Felix. Within a tier, CNPs are grouped by priority; a priority held by
 * one CNP gets `order = priority` exactly (as Calico's own CNP support does); a priority held by
 * n > 1 CNPs gets `priority + i / 10^k` for the i-th by name, with 10^k ≥ n (e.g. 50, 50.1,
 * 50.2). Orders are strictly increasing in (priority, name), always below priority + 1, and
 * adding or removing a CNP changes the orders of other CNPs with the same priority only.
 *
 * @throws CalicoOptionsError when the options are unusable (see calicoOptionProblems).
 */
export function translateCalico(snapshot: Snapshot, options?: CalicoOptions): Translation {
  const plan = planCalico(snapshot.policies, options);
  const nodeNets = nodeNetsCache(snapshot.nodes);
  const objects: KubeObject[] = [...plan.tiers];
  const findings: Finding[] = [];
  for (const policy of [...snapshot.policies].sort(comparePolicies)) {
    const t = translateCalicoPolicy(plan, policy, nodeNets);
    objects.push(...t.objects);
    findings.push(...t.findings);
  }
  objects.sort(byKindAndName);
  return { objects, findings: sortFindings(findings) };
}

const byKindAndName = (a: KubeObject, b: KubeObject): number => KIND_RANK[a.kind]! - KIND_RANK[b.kind]! || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

/**
 * What one CNP's objects depend on besides the CNP itself: its GlobalNetworkPolicy's name and
 * order (set over all CNPs: names must not collide, equal priorities are spread by name) and
 * the tiers. Cheap to compute for every change; a CNP is translated again only when its part
 * of the plan, itself or the addresses of the nodes it selects change.
 */
export interface CalicoPlan {
  readonly options: ResolvedCalicoOptions;
  readonly names: ReadonlyMap<string, string>;
  readonly orders: ReadonlyMap<string, number>;
  readonly tiers: readonly KubeObject[];
}

/** @throws CalicoOptionsError when the options are unusable (see calicoOptionProblems). */
export function planCalico(policies: readonly Policy[], options?: CalicoOptions): CalicoPlan {
  const problems = calicoOptionProblems(options);
  if (problems.length > 0) throw new CalicoOptionsError(problems);
  const o = resolveCalicoOptions(options);
  return {
    options: o,
    names: policyNames(policies, (p) => tierNameOf(o, p.tier)),
    orders: policyOrders(policies),
    tiers: [tierObject(o, o.adminTier, o.adminTierOrder), tierObject(o, o.baselineTier, o.baselineTierOrder)],
  };
}

function tierNameOf(o: ResolvedCalicoOptions, tier: Tier): string {
  return tier === 'Admin' ? o.adminTier : o.baselineTier;
}

/** The host CIDRs of the nodes a selector matches (see nodeNetsCache). */
export type NodeNets = (selector: Selector) => string[];

/**
 * One CNP's GlobalNetworkPolicy and the GlobalNetworkSets of its node peers. Node-set ids are
 * hashes of (CNP, selector), unique within the CNP by construction and across CNPs with a
 * 64-bit margin.
 */
export function translateCalicoPolicy(plan: CalicoPlan, policy: Policy, nodeNets: NodeNets): Translation {
  const o = plan.options;
  const gnpName = plan.names.get(policy.name)!;
  const nodeSets = new NodeSetNames();
  const sets = new Map<string, { id: string; nets: string[] }>();
  const nodeSet = (nodes: Selector): string | undefined => {
    const key = selectorKey(nodes);
    let set = sets.get(key);
    if (set === undefined) {
      const nets = nodeNets(nodes);
      if (nets.length === 0) return undefined;
      set = { id: nodeSets.allocate(policy.name, key), nets };
      sets.set(key, set);
    }
    return `${NODE_SET_LABEL} == ${quote(set.id)}`;
  };
  const findings: Finding[] = [];
  const rules: Record<Direction, CalicoRule[]> = { ingress: [], egress: [] };
  for (const direction of DIRECTIONS) {
    const ctx = { policy, direction, nodeSet, findings };
    for (const rule of direction === 'ingress' ? policy.ingress : policy.egress) rules[direction].push(...translateRule(rule, ctx));
  }
  const objects = [policyObject(o, policy, gnpName, tierNameOf(o, policy.tier), plan.orders.get(policy.name)!, rules)];
  for (const set of sets.values()) objects.push(nodeSetObject(o, policy, gnpName, set.id, set.nets));
  // In the whole translation's order: the operator translates one policy at a time.
  return { objects: objects.sort(byKindAndName), findings: sortFindings(findings) };
}

/**
 * The kind and name of a CNP's GlobalNetworkPolicy, without translating it: a CNP without
 * `nodes` peers has that one object only (see translateCalicoPolicy).
 */
export function policyObjectRef(plan: CalicoPlan, policyName: string): { apiVersion: string; kind: 'GlobalNetworkPolicy'; metadata: { name: string } } {
  return { apiVersion: plan.options.api, kind: 'GlobalNetworkPolicy', metadata: { name: plan.names.get(policyName)! } };
}

/** GNP orders by CNP name (see translateCalico); `policies` in any order. */
export function policyOrders(policies: readonly Policy[]): Map<string, number> {
  const orders = new Map<string, number>();
  const groups = new Map<string, Policy[]>();
  for (const p of [...policies].sort(comparePolicies)) {
    const key = `${p.tier}/${p.priority}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [p]);
    else group.push(p);
  }
  for (const group of groups.values()) {
    let scale = 1;
    while (scale < group.length) scale *= 10;
    // Integer numerator over a power of ten: the double nearest to the decimal `priority.i`,
    // which prints (and parses back in Go) as exactly that decimal.
    group.forEach((p, i) => orders.set(p.name, (p.priority * scale + i) / scale));
  }
  return orders;
}

function metadataBase(o: ResolvedCalicoOptions): { apiVersion: string } {
  return { apiVersion: o.api };
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function tierObject(o: ResolvedCalicoOptions, name: string, order: number): KubeObject {
  const spec: TierSpec = { order, defaultAction: 'Pass' };
  return { ...metadataBase(o), kind: 'Tier', metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } }, spec };
}

function ownedMetadata(policy: Policy, name: string, extraLabels: Record<string, string>): KubeObject['metadata'] {
  const owners = ownerReferences(policy);
  return {
    name,
    labels: sortedRecord({ ...ownershipLabels(policy), ...extraLabels }),
    annotations: sortedRecord(ownershipAnnotations(policy)),
    ...(owners === undefined ? {} : { ownerReferences: owners }),
  };
}

function policyObject(
  o: ResolvedCalicoOptions,
  policy: Policy,
  name: string,
  tier: string,
  order: number,
  rules: Record<Direction, CalicoRule[]>,
): KubeObject {
  // Explicit types, only for directions the CNP has rules for: a CNP without rules in a direction
  // does not affect it (cnp-api.md §4.1), and Felix reads an empty list as both (§4.3 item 3).
  // A CNP without any rules gets [Ingress], what Calico's defaulting would write; it has no rules
  // and the tier passes, so it decides nothing.
  const types: PolicyType[] = [];
  if (policy.ingress.length > 0) types.push('Ingress');
  if (policy.egress.length > 0) types.push('Egress');
  if (types.length === 0) types.push('Ingress');
  const spec: GlobalNetworkPolicySpec = {
    tier,
    order,
    selector: podSelectorExpression(policy.subject.pods),
    namespaceSelector: namespaceSelectorExpression(policy.subject.namespaces),
    types,
    ...(rules.ingress.length > 0 ? { ingress: rules.ingress } : {}),
    ...(rules.egress.length > 0 ? { egress: rules.egress } : {}),
  };
  return { ...metadataBase(o), kind: 'GlobalNetworkPolicy', metadata: ownedMetadata(policy, name, { [TIER_LABEL]: tier }), spec };
}

/** The host CIDRs of the nodes a selector matches, sorted (IPv4 first); memoised per selector. */
export function nodeNetsCache(nodes: readonly Node[]): (selector: Selector) => string[] {
  const parsed = nodes.map((node) => ({
    labels: node.labels,
    ips: node.addresses.flatMap((address) => {
      const ip = parseIp(address);
      return ip === undefined ? [] : [{ ...ip, text: `${formatIp(ip)}/${ip.family === 4 ? 32 : 128}` }];
    }),
  }));
  const cache = new Map<string, string[]>();
  return (selector) => {
    const key = selectorKey(selector);
    const hit = cache.get(key);
    if (hit !== undefined) return [...hit];
    const ips = new Map<string, { family: 4 | 6; value: bigint; text: string }>();
    for (const node of parsed) {
      if (!selectorMatches(selector, node.labels)) continue;
      for (const ip of node.ips) ips.set(ip.text, ip);
    }
    const nets = [...ips.values()].sort((a, b) => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)).map((i) => i.text);
    cache.set(key, nets);
    return [...nets];
  };
}

function nodeSetObject(o: ResolvedCalicoOptions, policy: Policy, gnpName: string, id: string, nets: string[]): KubeObject {
  const spec: GlobalNetworkSetSpec = { nets };
  return {
    ...metadataBase(o),
    kind: 'GlobalNetworkSet',
    metadata: ownedMetadata(policy, NodeSetNames.setName(gnpName, id), { [NODE_SET_LABEL]: id }),
    spec,
  };
}

const DIRECTION_RANK: Record<string, number> = { ingress: 0, egress: 1 };

function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0) ||
      (DIRECTION_RANK[a.direction ?? ''] ?? -1) - (DIRECTION_RANK[b.direction ?? ''] ?? -1) ||
      (a.ruleIndex ?? -1) - (b.ruleIndex ?? -1) ||
      (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
