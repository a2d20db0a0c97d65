import { cidrContains } from '../api/ip.js';
import {
  comparePolicies,
  type Direction,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type Peer,
  type Pod,
  type Policy,
  type PortMatch,
  type Protocol,
  type Rule,
  type Snapshot,
  type Tier,
} from '../api/model.js';
import { selectorMatches } from '../api/selector.js';
import { ClusterIndex, type Resolved } from './cluster.js';
import type { DirectionResult, Flow, FlowResult, TraceStep } from './flow.js';

// The reference evaluator of the CNP semantics (design.md): for each direction,
// an ordered list of evaluators, the first that does not say `next` decides.

interface Context {
  readonly index: ClusterIndex;
  readonly direction: Direction;
  /** The pod whose policies apply: the source for egress, the destination for ingress. */
  readonly subject: Pod;
  /** The other end: the destination for egress, the source for ingress. */
  readonly peer: Resolved;
  readonly destination: Resolved;
  readonly port: number;
  readonly protocol: Protocol;
}

type Stage = (ctx: Context) => TraceStep[];

const PIPELINE: readonly Stage[] = [tierStage('Admin'), networkPolicyStage, tierStage('Baseline')];

/** Evaluates flows over one snapshot; reuse it for many flows. */
export class Evaluator {
  private readonly index: ClusterIndex;
  private readonly ordered: Record<Tier, Policy[]>;

  constructor(readonly snapshot: Snapshot) {
    this.index = new ClusterIndex(snapshot);
    const sorted = [...snapshot.policies].sort(comparePolicies);
    this.ordered = { Admin: sorted.filter((p) => p.tier === 'Admin'), Baseline: sorted.filter((p) => p.tier === 'Baseline') };
  }

  evaluate(flow: Flow): FlowResult {
    const source = this.index.resolve(flow.from);
    const destination = this.index.resolve(flow.to);
    const egress = this.direction('egress', source, destination, flow);
    const ingress = this.direction('ingress', source, destination, flow);
    return { verdict: egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny', egress, ingress };
  }

  private direction(direction: Direction, source: Resolved, destination: Resolved, flow: Flow): DirectionResult {
    const subjectEnd = direction === 'egress' ? source : destination;
    const peer = direction === 'egress' ? destination : source;
    const subject = subjectEnd.pod;
    if (subject === undefined) {
      return exempt(direction, `${direction === 'egress' ? 'the source' : 'the destination'} is not a pod in the snapshot: no policy applies`);
    }
    if (subject.hostNetwork) {
      return exempt(direction, `${subject.namespace}/${subject.name} uses the host network: it is never a policy subject`);
    }
    if (source.pod !== undefined && source.pod === destination.pod) {
      return exempt(direction, 'a pod connecting to itself is not subject to ClusterNetworkPolicy');
    }
    const ctx: Context = { index: this.index, direction, subject, peer, destination, port: flow.port, protocol: flow.protocol };
    const trace: TraceStep[] = [];
    for (const stage of PIPELINE) {
      const steps = stage.call(this, ctx);
      trace.push(...steps);
      const last = steps[steps.length - 1];
      if (last !== undefined && last.verdict !== 'next') return { direction, verdict: last.verdict, trace };
    }
    trace.push({ stage: 'default', verdict: 'allow', reason: 'no policy decided: Kubernetes allows by default' });
    return { direction, verdict: 'allow', trace };
  }

  policiesFor(tier: Tier, subject: Pod): Policy[] {
    return this.ordered[tier].filter((p) => this.index.inPodSet(p.subject, subject));
  }
}

/** Convenience for one flow; build an Evaluator to evaluate many over one snapshot. */
export function evaluate(snapshot: Snapshot, flow: Flow): FlowResult {
  return new Evaluator(snapshot).evaluate(flow);
}

function exempt(direction: Direction, reason: string): DirectionResult {
  return { direction, verdict: 'allow', trace: [{ stage: 'exempt', verdict: 'allow', reason }] };
}

function tierStage(tier: Tier): Stage {
  const stage = tier === 'Admin' ? 'admin' : 'baseline';
  return function (this: Evaluator, ctx: Context): TraceStep[] {
    const policies = this.policiesFor(tier, ctx.subject);
    for (const policy of policies) {
      const rules = ctx.direction === 'egress' ? policy.egress : policy.ingress;
      for (const rule of rules) {
        if (!ruleMatches(ctx, rule)) continue;
        const base = { stage, tier, policy: policy.name, ruleIndex: rule.index, ruleName: rule.name, action: rule.action } as const;
        const where = `${tier} ClusterNetworkPolicy ${policy.name} (priority ${policy.priority}), ${ctx.direction}[${rule.index}]${rule.name === undefined ? '' : ` "${rule.name}"`}`;
        const closed = rule.failClosed === undefined ? '' : ` (fail-closed form of a rule that was not understood: ${rule.failClosed})`;
        if (rule.action === 'Pass') {
          return [{ ...base, verdict: 'next', reason: `${where} passes it on to the next tier${closed}` }];
        }
        const verdict = rule.action === 'Accept' ? 'allow' : 'deny';
        return [{ ...base, verdict, reason: `${where} ${rule.action === 'Accept' ? 'accepts' : 'denies'} it${closed}` }];
      }
    }
    const withRules = policies.filter((p) => (ctx.direction === 'egress' ? p.egress : p.ingress).length > 0);
    const reason =
      policies.length === 0
        ? `no ${tier} ClusterNetworkPolicy selects ${ctx.subject.namespace}/${ctx.subject.name}`
        : withRules.length === 0
          ? `no ${tier} ClusterNetworkPolicy selecting ${ctx.subject.namespace}/${ctx.subject.name} has ${ctx.direction} rules`
          : `no ${ctx.direction} rule of ${withRules.map((p) => p.name).join(', ')} matches`;
    return [{ stage, tier, verdict: 'next', reason }];
  };
}

function ruleMatches(ctx: Context, rule: Rule): boolean {
  return rule.peers.some((peer) => peerMatches(ctx, peer)) && portsMatch(ctx, rule.ports);
}

function peerMatches(ctx: Context, peer: Peer): boolean {
  const other = ctx.peer;
  switch (peer.kind) {
    case 'all':
      return true;
    case 'pods':
      return ClusterIndex.isPolicyPod(other.pod) && ctx.index.inPodSet(peer.pods, other.pod);
    case 'nodes': {
      // Only egress has node peers: the destination address is one of a selected node's.
      if (ctx.direction !== 'egress' || other.ip === undefined) return false;
      return ctx.index.nodesWithAddress(other.ip).some((n) => selectorMatches(peer.nodes, n.labels));
    }
    case 'networks': {
      if (ctx.direction !== 'egress' || other.ip === undefined) return false;
      const ip = other.ip;
      return peer.cidrs.some((c) => cidrContains(c, ip));
    }
    case 'domainNames':
      // A flow is addressed by IP; which names resolve to it is not part of a snapshot.
      return false;
  }
}

function portsMatch(ctx: Context, ports: readonly PortMatch[] | undefined): boolean {
  if (ports === undefined) return true;
  return ports.some((p) => {
    if (p.kind === 'range') return p.protocol === ctx.protocol && ctx.port >= p.start && ctx.port <= p.end;
    return namedPortMatches(ctx.destination.pod, p.name, ctx.port, ctx.protocol);
  });
}

/** Named ports resolve on the destination pod: name, protocol and number must all agree. */
function namedPortMatches(pod: Pod | undefined, name: string, port: number, protocol: Protocol): boolean {
  if (pod === undefined || pod.hostNetwork) return false;
  return pod.ports.some((cp) => cp.name === name && cp.protocol === protocol && cp.port === port);
}

function networkPolicyStage(ctx: Context): TraceStep[] {
  const isolating = ctx.index.snapshot.networkPolicies.filter(
    (np) =>
      np.namespace === ctx.subject.namespace &&
      np.policyTypes.includes(ctx.direction) &&
      selectorMatches(np.podSelector, ctx.subject.labels),
  );
  if (isolating.length === 0) {
    return [{ stage: 'networkpolicy', verdict: 'next', reason: `no NetworkPolicy isolates ${ctx.subject.namespace}/${ctx.subject.name} for ${ctx.direction}` }];
  }
  const names = isolating.map((np) => `${np.namespace}/${np.name}`);
  for (const np of isolating) {
    const rules = ctx.direction === 'egress' ? np.egress : np.ingress;
    const i = rules.findIndex((r) => (r.peers === undefined || r.peers.some((p) => npPeerMatches(ctx, np, p))) && npPortsMatch(ctx, r.ports));
    if (i >= 0) {
      return [{ stage: 'networkpolicy', verdict: 'allow', networkPolicies: names, reason: `NetworkPolicy ${np.namespace}/${np.name} ${ctx.direction}[${i}] allows it` }];
    }
  }
  return [{ stage: 'networkpolicy', verdict: 'deny', networkPolicies: names, reason: `isolated by NetworkPolicy ${names.join(', ')} and no rule allows it` }];
}

function npPeerMatches(ctx: Context, np: NetworkPolicy, peer: NetworkPolicyPeer): boolean {
  const other = ctx.peer;
  if (peer.kind === 'ipBlock') {
    const ip = other.ip;
    return ip !== undefined && cidrContains(peer.cidr, ip) && !peer.except.some((e) => cidrContains(e, ip));
  }
  if (!ClusterIndex.isPolicyPod(other.pod) || other.namespace === undefined) return false;
  const nsOk = peer.namespaces === undefined ? other.pod.namespace === np.namespace : selectorMatches(peer.namespaces, other.namespace.labels);
  return nsOk && selectorMatches(peer.pods, other.pod.labels);
}

function npPortsMatch(ctx: Context, ports: readonly NetworkPolicyPort[] | undefined): boolean {
  if (ports === undefined) return true;
  return ports.some((p) => {
    if (p.protocol !== ctx.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return namedPortMatches(ctx.destination.pod, p.port, ctx.port, ctx.protocol);
    return ctx.port >= p.port && ctx.port <= (p.endPort ?? p.port);
  });
}
