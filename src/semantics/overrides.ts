import { cidrContains, parseIp } from '../api/ip.js';
import { comparePolicies, type Action, type Direction, type NetworkPolicy, type Peer, type Pod, type Policy, type PortMatch, type Snapshot, type Tier } from '../api/model.js';
import { formatSelector, selectorMatches } from '../api/selector.js';
import { analyse, type ShadowedRule } from './analysis.js';
import { policyRuleWords } from './analysis-warnings.js';
import { ClusterIndex } from './cluster.js';
import { selectorsMayOverlap } from './cover.js';

// What a developer needs when their NetworkPolicy "does not work": for each NetworkPolicy of a
// namespace and each direction it isolates, the Admin CNP rules that decide before it (Accept and
// Deny decide; Pass hands the traffic to the NetworkPolicy, past every later Admin rule), and the
// Baseline CNPs it shuts out (Baseline applies only where no NetworkPolicy isolates the pod).

/** One peer of a rule, described, with what of the snapshot it matches. */
export interface PeerSummary {
  readonly kind: Peer['kind'];
  readonly text: string;
  /** Pods (`namespace/name`) or Nodes of the snapshot it matches; undefined for peers that match no object (domain names). */
  readonly matches?: readonly string[];
}

/** An Admin CNP rule that applies to pods of a NetworkPolicy before the NetworkPolicy does. */
export interface AdminOverride {
  readonly policy: string;
  readonly priority: number;
  readonly ruleIndex: number;
  readonly ruleName: string | undefined;
  readonly action: Action;
  /** The NetworkPolicy's pods the CNP selects (all of them when it lists none from the snapshot). */
  readonly pods: readonly string[];
  readonly peers: readonly PeerSummary[];
  /** `undefined`: every port and protocol. */
  readonly ports: readonly string[] | undefined;
  /** Set when the rule is the fail-closed form of one that was not understood. */
  readonly failClosed?: string;
  /** Set when an earlier rule matches all this one would: it never decides anything. */
  readonly shadowedBy?: string;
}

export interface DirectionOverrides {
  readonly direction: Direction;
  /** The pods of the snapshot the NetworkPolicy isolates in this direction. */
  readonly pods: readonly string[];
  /**
   * True when the snapshot has none of its pods, so CNPs are matched by selectors: those whose
   * subject may select such pods.
   */
  readonly bySelector: boolean;
  /** In evaluation order: the first whose peer and ports match a connection decides it. */
  readonly admin: readonly AdminOverride[];
  /** Baseline CNPs with rules for this direction that select these pods: none of them ever applies to them. */
  readonly baselineShutOut: readonly string[];
}

export interface NetworkPolicyOverrides {
  readonly namespace: string;
  readonly name: string;
  readonly directions: readonly DirectionOverrides[];
}

/** The NetworkPolicies of one namespace, by name, each with what takes precedence over it. */
export function namespaceOverrides(snapshot: Snapshot, namespace: string): NetworkPolicyOverrides[] {
  const index = new ClusterIndex(snapshot);
  const policies = [...snapshot.policies].sort(comparePolicies);
  const shadowed = analyse(snapshot.policies).shadowed;
  return snapshot.networkPolicies
    .filter((np) => np.namespace === namespace)
    .map((np) => ({
      namespace: np.namespace,
      name: np.name,
      directions: np.policyTypes.map((direction) => directionOverrides({ index, policies, shadowed, np, direction })),
    }));
}

interface Context {
  readonly index: ClusterIndex;
  readonly policies: readonly Policy[];
  readonly shadowed: readonly ShadowedRule[];
  readonly np: NetworkPolicy;
  readonly direction: Direction;
}

const podName = (p: Pod): string => `${p.namespace}/${p.name}`;

function directionOverrides(ctx: Context): DirectionOverrides {
  const { index, np, direction } = ctx;
  const pods = index.snapshot.pods.filter((p) => ClusterIndex.isPolicyPod(p) && p.namespace === np.namespace && selectorMatches(np.podSelector, p.labels));
  const bySelector = pods.length === 0;
  const selects = (policy: Policy): string[] | undefined => {
    if (!bySelector) {
      const chosen = pods.filter((p) => index.inPodSet(policy.subject, p)).map(podName);
      return chosen.length > 0 ? chosen : undefined;
    }
    // No pod to look at: the CNP may select the NetworkPolicy's pods when its namespace selector
    // takes the namespace and its pod selector is not disjoint from the NetworkPolicy's.
    const labels = index.namespace(np.namespace)?.labels ?? { 'kubernetes.io/metadata.name': np.namespace };
    return selectorMatches(policy.subject.namespaces, labels) && selectorsMayOverlap(policy.subject.pods, np.podSelector) ? [] : undefined;
  };
  const rulesOf = (p: Policy) => (direction === 'egress' ? p.egress : p.ingress);
  const inTier = (tier: Tier) => ctx.policies.filter((p) => p.tier === tier && rulesOf(p).length > 0);
  const admin = inTier('Admin').flatMap((policy) => {
    const chosen = selects(policy);
    if (chosen === undefined) return [];
    return rulesOf(policy).map((rule): AdminOverride => {
      const by = ctx.shadowed.find((s) => s.policy === policy.name && s.direction === direction && s.ruleIndex === rule.index)?.by;
      return {
        policy: policy.name,
        priority: policy.priority,
        ruleIndex: rule.index,
        ruleName: rule.name,
        action: rule.action,
        pods: chosen,
        peers: rule.peers.map((peer) => summarisePeer(index, peer)),
        ports: rule.ports?.map(formatPort),
        ...(rule.failClosed === undefined ? {} : { failClosed: rule.failClosed }),
        ...(by === undefined ? {} : { shadowedBy: policyRuleWords(by) }),
      };
    });
  });
  const baselineShutOut = inTier('Baseline').filter((p) => selects(p) !== undefined).map((p) => p.name);
  return { direction, pods: pods.map(podName), bySelector, admin, baselineShutOut };
}

function formatPort(p: PortMatch): string {
  if (p.kind === 'named') return `named port ${p.name}`;
  return `${p.protocol}/${p.start === p.end ? p.start : `${p.start}-${p.end}`}`;
}

function scope(selector: Parameters<typeof formatSelector>[0], all: string, some: string): string {
  return selector.requirements.length === 0 ? all : `${some} ${formatSelector(selector)}`;
}

/** A peer in words, with the pods or nodes of the snapshot it matches. */
export function summarisePeer(index: ClusterIndex, peer: Peer): PeerSummary {
  const pods = index.snapshot.pods.filter((p) => ClusterIndex.isPolicyPod(p));
  switch (peer.kind) {
    case 'all':
      return { kind: peer.kind, text: 'every address (the fail-closed form of a peer that was not understood)' };
    case 'pods':
      return {
        kind: peer.kind,
        text: `${scope(peer.pods.pods, 'every pod', 'pods matching')} in ${scope(peer.pods.namespaces, 'every namespace', 'namespaces matching')}`,
        matches: pods.filter((p) => index.inPodSet(peer.pods, p)).map(podName),
      };
    case 'nodes':
      return { kind: peer.kind, text: scope(peer.nodes, 'every node', 'nodes matching'), matches: index.snapshot.nodes.filter((n) => selectorMatches(peer.nodes, n.labels)).map((n) => n.name) };
    case 'networks': {
      // Networks match pod addresses too (cnp-api.md §4): say which pods they take in.
      const inside = index.snapshot.pods.filter((p) => p.ips.some((ip) => {
        const parsed = parseIp(ip);
        return parsed !== undefined && peer.cidrs.some((c) => cidrContains(c, parsed));
      }));
      return { kind: peer.kind, text: `networks ${peer.cidrs.map((c) => c.text).join(', ')}`, matches: inside.map(podName) };
    }
    case 'domainNames':
      return { kind: peer.kind, text: `domain names ${peer.names.join(', ')}` };
  }
}
