import type { Action, Cidr, Direction, Peer, Policy, PortMatch, Rule, Selector } from '../../api/model.js';
import { PROTOCOLS } from '../../api/model.js';
import type { Finding } from '../types.js';
import { namespaceSelectorExpression, podSelectorExpression } from './selectors.js';
import type { CalicoAction, CalicoPort, CalicoProtocol, CalicoRule, EntityRule } from './types.js';

// One CNP rule becomes one Calico rule per (peer × protocol group), in CNP rule order
// (reference/calico.md §5.1, §8). All the Calico rules of one CNP rule share its action, so their
// order among themselves does not matter; the order between CNP rules is kept.

/** Rule metadata annotation naming the CNP rule a Calico rule came from (e.g. `egress[3]`). */
export const RULE_ANNOTATION = 'policy.cnp-operator.io/rule';
/** Calico's own key for the CNP rule name (`K8sCNPRuleNameLabel`). */
export const RULE_NAME_ANNOTATION = 'name';

const ACTIONS: Record<Action, CalicoAction> = { Accept: 'Allow', Deny: 'Deny', Pass: 'Pass' };

export interface RuleContext {
  readonly policy: Policy;
  readonly direction: Direction;
  /**
   * The Calico selector (with `namespaceSelector: global()`) of the node set for a node
   * selector; undefined when it selects no node now (no set is written for it).
   */
  readonly nodeSet: (nodes: Selector) => string | undefined;
  readonly findings: Finding[];
}

/** A protocol and its ports, or everything (neither). */
interface PortGroup {
  readonly protocol: CalicoProtocol | undefined;
  readonly ports: readonly CalicoPort[] | undefined;
}

/**
 * Groups CNP protocol entries into one group per protocol, with merged sorted ranges and then the
 * named ports, if any.
 *
 * Named ports go into a group of every protocol (TCP, UDP and SCTP), never into a rule without a
 * protocol: Felix resolves a rule's named ports for one protocol only — the rule's, when it is UDP
 * or SCTP, and TCP otherwise, including when the rule has no protocol (`felix/calc/rule_scanner.go`,
 * `ruleToParsedRule`). A protocol-less named-port rule, which is what Calico's own CNP support
 * writes (reference/calico.md §5.1), therefore never matches a UDP or SCTP container port. With one
 * rule per protocol, the name resolves on the destination pod with the port's own protocol, as the
 * CNP semantics require.
 */
export function portGroups(ports: readonly PortMatch[] | undefined): PortGroup[] {
  if (ports === undefined) return [{ protocol: undefined, ports: undefined }];
  // Loops, no intermediate arrays: this runs for every rule the translator makes.
  let names: string[] | undefined;
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i]!;
    if (p.kind === 'named' && !names?.includes(p.name)) (names ??= []).push(p.name);
  }
  names?.sort();
  const groups: PortGroup[] = [];
  for (let k = 0; k < PROTOCOLS.length; k++) {
    const protocol = PROTOCOLS[k]!;
    const ranges: Extract<PortMatch, { kind: 'range' }>[] = [];
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (p.kind === 'range' && p.protocol === protocol) ranges.push(p);
    }
    if (ranges.length === 0 && names === undefined) continue;
    ranges.sort((a, b) => a.start - b.start || a.end - b.end);
    // Merge overlapping and adjacent intervals: the same ports, fewer entries.
    const merged: CalicoPort[] = [];
    let start = -1;
    let end = -1;
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      if (start >= 0 && r.start <= end + 1) {
        end = Math.max(end, r.end);
        continue;
      }
      if (start >= 0) merged.push(start === end ? start : `${start}:${end}`);
      start = r.start;
      end = r.end;
    }
    if (start >= 0) merged.push(start === end ? start : `${start}:${end}`);
    if (names !== undefined) for (let i = 0; i < names.length; i++) merged.push(names[i]!);
    groups.push({ protocol, ports: merged });
  }
  return groups;
}

function sortedCidrs(cidrs: readonly Cidr[]): string[] {
  return [...new Map(cidrs.map((c) => [c.text, c])).values()]
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.prefix - b.prefix))
    .map((c) => c.text);
}

/**
 * The entity rules a peer becomes (more than one when it has IPv4 and IPv6 CIDRs, which Calico's
 * validator refuses in one rule), `[{}]` for a peer matching everything, `[]` for one matching nothing.
 */
function peerEntities(peer: Peer, ctx: RuleContext): EntityRule[] {
  switch (peer.kind) {
    case 'all':
      return [{}];
    case 'pods':
      return [{ selector: podSelectorExpression(peer.pods.pods), namespaceSelector: namespaceSelectorExpression(peer.pods.namespaces) }];
    case 'nodes':
      // Only egress has node peers; in ingress a non-pod peer matches nothing (cnp-api.md §4.2).
      if (ctx.direction !== 'egress') return [];
      return [{ selector: ctx.nodeSet(peer.nodes)!, namespaceSelector: 'global()' }];
    case 'networks': {
      if (ctx.direction !== 'egress') return [];
      const v4 = sortedCidrs(peer.cidrs.filter((c) => c.family === 4));
      const v6 = sortedCidrs(peer.cidrs.filter((c) => c.family === 6));
      return [v4, v6].filter((nets) => nets.length > 0).map((nets) => ({ nets }));
    }
    case 'domainNames':
      // Calico open source has no domain policy (reference/calico.md §2.3); reported by the caller.
      return [];
  }
}

function annotations(rule: Rule, direction: Direction): Record<string, string> {
  const result: Record<string, string> = {};
  if (rule.name !== undefined) result[RULE_NAME_ANNOTATION] = rule.name;
  result[RULE_ANNOTATION] = `${direction}[${rule.index}]`;
  return result;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A fresh entity rule (shared references would come out as YAML anchors); undefined when empty. */
function entityRule(entity: EntityRule, ports: readonly CalicoPort[] | undefined): EntityRule | undefined {
  const out: Mutable<EntityRule> = {};
  if (entity.nets !== undefined) out.nets = entity.nets.slice();
  if (entity.selector !== undefined) out.selector = entity.selector;
  if (entity.namespaceSelector !== undefined) out.namespaceSelector = entity.namespaceSelector;
  if (ports !== undefined) out.ports = ports.slice();
  return out.nets === undefined && out.selector === undefined && out.namespaceSelector === undefined && out.ports === undefined ? undefined : out;
}

function calicoRule(action: CalicoAction, group: PortGroup, entity: EntityRule, direction: Direction, meta: Readonly<Record<string, string>>): CalicoRule {
  // Built field by field (no spreads): this is the translator's inner loop.
  const rule: Mutable<CalicoRule> = { action };
  if (group.protocol !== undefined) rule.protocol = group.protocol;
  const source = direction === 'ingress' ? entityRule(entity, undefined) : undefined;
  if (source !== undefined) rule.source = source;
  const destination = direction === 'ingress' ? entityRule({}, group.ports) : entityRule(entity, group.ports);
  if (destination !== undefined) rule.destination = destination;
  rule.metadata = { annotations: Object.assign({}, meta) };
  return rule;
}

function finding(ctx: RuleContext, rule: Rule, kind: Finding['kind'], effect: Finding['effect'], message: string): Finding {
  return {
    policy: ctx.policy.name,
    direction: ctx.direction,
    ruleIndex: rule.index,
    ...(rule.name === undefined ? {} : { ruleName: rule.name }),
    kind,
    effect,
    message,
  };
}

/** The Calico rules for one CNP rule, recording any approximation in `ctx.findings`. */
export function translateRule(rule: Rule, ctx: RuleContext): CalicoRule[] {
  // Only findings name the rule: most rules have none.
  const where = (): string => `${ctx.direction}[${rule.index}]${rule.name === undefined ? '' : ` "${rule.name}"`}`;
  if (rule.failClosed !== undefined) {
    ctx.findings.push(
      rule.action === 'Accept'
        ? finding(ctx, rule, 'unsupported-field', 'accept-narrowed', `${where()} was not understood (${rule.failClosed}); it fails closed: the Accept rule matches no traffic`)
        : finding(ctx, rule, 'unsupported-field', 'deny-widened', `${where()} was not understood (${rule.failClosed}); it fails closed: the rule denies all traffic`),
    );
  }
  let peers = rule.peers;
  const domains = peers.some((p) => p.kind === 'domainNames') ? peers.filter((p): p is Extract<Peer, { kind: 'domainNames' }> => p.kind === 'domainNames') : [];
  if (domains.length > 0) {
    const names = domains.flatMap((d) => d.names).join(', ');
    if (rule.action === 'Accept') {
      ctx.findings.push(
        finding(
          ctx,
          rule,
          'unsupported-peer',
          'accept-narrowed',
          `${where()}: Calico open source has no domain-name policy, so traffic to ${names} is not accepted by this rule (it fails closed)` +
            (domains.length === peers.length ? '; the rule is dropped' : '; its other peers still apply'),
        ),
      );
      peers = peers.filter((p) => p.kind !== 'domainNames');
    } else {
      // Upstream allows domainNames only in Accept rules; anything else fails closed as deny-all.
      ctx.findings.push(
        finding(ctx, rule, 'unsupported-peer', 'deny-widened', `${where()}: domainNames in a ${rule.action} rule cannot be enforced; it fails closed: the rule denies all traffic`),
      );
      return [{ action: 'Deny', metadata: { annotations: annotations(rule, ctx.direction) } }];
    }
  }
  const action = ACTIONS[rule.action];
  const meta = annotations(rule, ctx.direction);
  const groups = portGroups(rule.ports);
  const result: CalicoRule[] = [];
  for (const peer of peers) {
    if (peer.kind === 'nodes' && ctx.direction === 'egress' && ctx.nodeSet(peer.nodes) === undefined) {
      // No node carries those labels: the peer matches nothing, which is exact until a Node
      // appears (the translation follows the Nodes). An empty set would be refused by Calico.
      ctx.findings.push(finding(ctx, rule, 'node-peer-empty', 'none', `${where()}: the nodes peer selects no node now, so it matches no traffic until a matching Node exists`));
      continue;
    }
    for (const entity of peerEntities(peer, ctx)) {
      for (const group of groups) result.push(calicoRule(action, group, entity, ctx.direction, meta));
    }
  }
  return result;
}
