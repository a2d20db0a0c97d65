import { cidrContains, parseCidr, parseIp, type Ip } from '../../../src/api/ip.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Node, Pod, Protocol, Selector, Snapshot } from '../../../src/api/model.js';
import type { Flow } from '../../../src/semantics/flow.js';
import { defaultExpressions, IdentityFilter, type Release } from './labels.js';

// A model of how Cilium (1.16–1.19, and 1.20 without its ClusterNetworkPolicy support)
// decides a connection, written from ../shared/reference/cilium.md and checked against
// Cilium's own policy engine (test/engines/cilium) — not from our translator. It evaluates
// CiliumClusterwideNetworkPolicy objects (as JSON) together with the cluster's Kubernetes
// NetworkPolicies:
//
// - §5.1/5.2: per endpoint and direction, a matching deny rule drops; otherwise a matching
//   allow rule (of any policy, CCNP or NetworkPolicy) allows; otherwise the endpoint's
//   default decides.
// - §5.3: the default is deny when any selecting policy requests it: a NetworkPolicy for
//   its policyTypes — and, as Cilium's NetworkPolicy parser has it, for any direction it has
//   rules for, even one policyTypes leaves out — a CCNP rule list for its directions unless
//   enableDefaultDeny says false.
// - §3.1/3.2: selectors match identity labels — the pod's labels the identity label filter
//   keeps (Cilium's own defaults per release, label-filters.json, plus cilium-config
//   `labels`), `io.kubernetes.pod.namespace`, the namespace's labels as
//   `io.cilium.k8s.namespace.labels.*`, the cluster name; CCNP peer selectors without a
//   namespace key get `k8s:io.kubernetes.pod.namespace Exists`, and with
//   policy-default-local-cluster the local cluster's name; keys without a source match any
//   source.
// - §4.1/5.5: nodes and host-network pods are `host` on their own node and `remote-node`
//   elsewhere; addresses outside the cluster are `world`. Only pods are policy endpoints
//   here (no host firewall).
// - §4.2: CIDR rules match world addresses; with policy-cidr-match-mode `pods` pods too,
//   with `nodes` nodes too (the local one included), by address.
// - §4.5/3.2: node peers (toNodes) match remote nodes by their node labels (node-labels
//   filter) and, from 1.19, the cluster label; without enable-node-selector-labels Cilium
//   refuses the whole object.
// - §4.4: ports; named ports resolve on the destination pod for ingress; for egress, up
//   to 1.19, against every pod in the cluster (cilium/cilium#12567, #44429): one number
//   per name and protocol, or the rule is ignored when pods disagree; from 1.20 per
//   destination.
// - §4.1: the local host reaches its pods unless a deny says otherwise
//   (allow-localhost=always, Kubernetes mode's default: an allow of the lowest precedence).
// - A pod reaching its own address never leaves it (loopback): not subject to policy.

export interface CiliumModelConfig {
  /** The agents' release. */
  readonly release: Release;
  /** `always` (Cilium's default in Kubernetes mode): the local host may reach its pods unless denied. */
  readonly allowLocalhost: 'always' | 'policy';
  /** enable-node-selector-labels: without it, objects with toNodes/fromNodes are refused. */
  readonly nodeSelectorLabels: boolean;
  /** policy-default-local-cluster. */
  readonly policyDefaultLocalCluster: boolean;
  /** policy-cidr-match-mode. */
  readonly cidrMatchMode: readonly ('pods' | 'nodes')[];
  /** cilium-config `labels`, added to the release's default identity label filter. */
  readonly labels: readonly string[];
  /** node-labels (empty: every node label). */
  readonly nodeLabels: readonly string[];
  /** enable-non-default-deny-policies (Helm default true): honour enableDefaultDeny false. */
  readonly nonDefaultDenyPolicies: boolean;
  /** Domain name → addresses learnt from DNS answers (for toFQDNs). */
  readonly dns: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_MODEL_CONFIG: CiliumModelConfig = {
  release: '1.19',
  allowLocalhost: 'always',
  nodeSelectorLabels: false,
  policyDefaultLocalCluster: true,
  cidrMatchMode: [],
  labels: [],
  nodeLabels: [],
  nonDefaultDenyPolicies: true,
  dns: {},
};

const CLUSTER_NAME = 'default';

type Source = 'k8s' | 'reserved' | 'node';

interface Label {
  readonly source: Source;
  readonly key: string;
  readonly value: string;
}

/** A peer or subject as Cilium sees it. */
type Party =
  | { readonly kind: 'pod'; readonly pod: Pod; readonly ip: Ip | undefined }
  | { readonly kind: 'node'; readonly node: Node; readonly ip: Ip | undefined }
  | { readonly kind: 'world'; readonly ip: Ip | undefined };

export interface ModelDirection {
  readonly verdict: 'allow' | 'deny';
  readonly reason: string;
}

export interface ModelResult {
  readonly verdict: 'allow' | 'deny';
  readonly egress: ModelDirection;
  readonly ingress: ModelDirection;
}

// ---- the CCNP JSON, loosely typed (the model reads what Cilium reads) ----

interface JsonSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface JsonPort {
  port?: string;
  endPort?: number;
  protocol?: string;
}
interface JsonPortRule {
  ports?: JsonPort[];
  rules?: { dns?: { matchName?: string; matchPattern?: string }[] };
}
interface JsonRule {
  [field: string]: unknown;
  toPorts?: JsonPortRule[];
  icmps?: unknown[];
}
interface JsonSpec {
  endpointSelector?: JsonSelector;
  nodeSelector?: JsonSelector;
  ingress?: JsonRule[];
  ingressDeny?: JsonRule[];
  egress?: JsonRule[];
  egressDeny?: JsonRule[];
  enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
}
interface JsonPolicy {
  kind?: string;
  metadata?: { name?: string };
  spec?: JsonSpec;
  specs?: JsonSpec[];
}

type Dir = 'ingress' | 'egress';

export class CiliumModel {
  private readonly specs: JsonSpec[] = [];
  private readonly config: CiliumModelConfig;
  private readonly namespaces: Map<string, Readonly<Record<string, string>>>;
  private readonly podFilter: IdentityFilter;
  private readonly nodeFilter: IdentityFilter;
  private readonly minor: number;
  /** The address families the agents enable: the ones the cluster's addresses use. */
  private readonly families: Set<4 | 6>;
  /** Objects the agent refuses whole, with the reason. */
  readonly rejected: { readonly name: string; readonly reason: string }[] = [];

  constructor(
    objects: readonly unknown[],
    private readonly snapshot: Snapshot,
    config: Partial<CiliumModelConfig> = {},
  ) {
    this.config = { ...DEFAULT_MODEL_CONFIG, ...config };
    this.minor = Number(this.config.release.split('.')[1]);
    this.podFilter = new IdentityFilter(defaultExpressions(this.config.release), this.config.labels);
    this.nodeFilter = new IdentityFilter([], this.config.nodeLabels);
    for (const o of objects as JsonPolicy[]) {
      if (o.kind !== 'CiliumClusterwideNetworkPolicy') throw new Error(`the model only reads CiliumClusterwideNetworkPolicy, got ${String(o.kind)}`);
      const specs = [...(o.spec === undefined ? [] : [o.spec]), ...(o.specs ?? [])];
      // §4.5: the sanitiser refuses node peers without node selector labels, and with them the whole object.
      if (!this.config.nodeSelectorLabels && specs.some((s) => [...(s.ingress ?? []), ...(s.ingressDeny ?? [])].some((r) => r['fromNodes'] !== undefined) || [...(s.egress ?? []), ...(s.egressDeny ?? [])].some((r) => r['toNodes'] !== undefined))) {
        this.rejected.push({ name: o.metadata?.name ?? '', reason: 'toNodes/fromNodes without enable-node-selector-labels' });
        continue;
      }
      this.specs.push(...specs);
    }
    this.namespaces = new Map(snapshot.namespaces.map((n) => [n.name, n.labels]));
    this.families = new Set(parsedAll([...snapshot.nodes.flatMap((n) => n.addresses), ...snapshot.pods.flatMap((p) => p.ips)]).map((ip) => ip.family));
  }

  evaluate(flow: Flow): ModelResult {
    const from = this.resolve(flow.from);
    const to = this.resolve(flow.to);
    if (from.kind === 'pod' && to.kind === 'pod' && from.pod === to.pod) {
      const same: ModelDirection = { verdict: 'allow', reason: 'loopback: a pod reaching its own address' };
      return { verdict: 'allow', egress: same, ingress: same };
    }
    const egress = from.kind === 'pod' ? this.decide(from.pod, 'egress', to, to, flow) : { verdict: 'allow' as const, reason: 'the source is not a pod endpoint: no egress policy' };
    const ingress: ModelDirection = to.kind !== 'pod' ? { verdict: 'allow', reason: 'the destination is not a pod endpoint: no ingress policy' } : this.decide(to.pod, 'ingress', from, to, flow);
    return { verdict: egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny', egress, ingress };
  }

  /** Whether some spec selects the pod as its subject. */
  selects(pod: Pod): boolean {
    if (pod.hostNetwork) return false;
    const own = this.podLabels(pod);
    return this.specs.some((s) => s.endpointSelector !== undefined && selectorMatches(s.endpointSelector, own));
  }

  // ---- endpoints and identities ----

  private resolve(endpoint: Flow['from']): Party {
    if (endpoint.kind === 'pod') {
      const pod = this.snapshot.pods.find((p) => p.namespace === endpoint.namespace && p.name === endpoint.name);
      if (pod === undefined) throw new Error(`unknown pod ${endpoint.namespace}/${endpoint.name}`);
      const ip = pod.ips[0] === undefined ? undefined : parseIp(pod.ips[0]);
      if (pod.hostNetwork) {
        const node = this.snapshot.nodes.find((n) => n.name === pod.nodeName);
        if (node === undefined) throw new Error(`host-network pod ${pod.name} has no known node`);
        return { kind: 'node', node, ip };
      }
      return { kind: 'pod', pod, ip };
    }
    const ip = parseIp(endpoint.ip);
    if (ip === undefined) throw new Error(`bad address ${endpoint.ip}`);
    const pod = this.snapshot.pods.find((p) => !p.hostNetwork && p.ips.some((a) => sameIp(a, ip)));
    if (pod !== undefined) return { kind: 'pod', pod, ip };
    const node = this.snapshot.nodes.find((n) => n.addresses.some((a) => sameIp(a, ip)));
    if (node !== undefined) return { kind: 'node', node, ip };
    return { kind: 'world', ip };
  }

  private podLabels(pod: Pod): Label[] {
    const all: Label[] = [
      { source: 'k8s', key: 'io.kubernetes.pod.namespace', value: pod.namespace },
      { source: 'k8s', key: 'io.cilium.k8s.policy.cluster', value: CLUSTER_NAME },
      { source: 'k8s', key: 'io.cilium.k8s.policy.serviceaccount', value: 'default' },
    ];
    for (const [k, v] of Object.entries(this.namespaces.get(pod.namespace) ?? {})) all.push({ source: 'k8s', key: `io.cilium.k8s.namespace.labels.${k}`, value: v });
    // Pod labels in Cilium's own namespace are dropped before the filter.
    for (const [k, v] of Object.entries(pod.labels)) if (!k.startsWith('io.cilium.k8s')) all.push({ source: 'k8s', key: k, value: v });
    return all.filter((l) => this.podFilter.keeps(l.source, l.key));
  }

  /** The identity labels of a party, as seen from `observer` (the enforcing pod's node). */
  private identity(party: Party, observer: Pod): Label[] {
    switch (party.kind) {
      case 'pod':
        return this.podLabels(party.pod);
      case 'node': {
        const local = party.node.name === observer.nodeName;
        // Node labels with node selector labels: remote nodes, and from 1.20 the local host too.
        const labelled = this.config.nodeSelectorLabels && (!local || this.minor >= 20);
        const out: Label[] = [{ source: 'reserved', key: local ? 'host' : 'remote-node', value: '' }];
        if (labelled) {
          const own: Label[] = Object.entries(party.node.labels).map(([key, value]): Label => ({ source: 'node', key, value }));
          const cluster: Label = { source: 'k8s', key: 'io.cilium.k8s.policy.cluster', value: CLUSTER_NAME };
          // The cluster label from 1.19: through the node-labels filter in 1.19, after it from 1.20.
          if (this.minor === 19) own.push(cluster);
          out.push(...own.filter((l) => this.nodeFilter.keeps(l.source, l.key)));
          if (this.minor >= 20) out.push(cluster);
        }
        return out;
      }
      case 'world':
        return [{ source: 'reserved', key: 'world', value: '' }];
    }
  }

  // ---- one endpoint, one direction ----

  private decide(subject: Pod, dir: Dir, peer: Party, destination: Party, flow: Flow): ModelDirection {
    const own = this.podLabels(subject);
    const peerIdentity = this.identity(peer, subject);
    const ctx: MatchContext = { dir, peer, peerIdentity, destination, flow, subject };
    const selecting = this.specs.filter((s) => s.endpointSelector !== undefined && selectorMatches(s.endpointSelector, own));
    const nps = this.snapshot.networkPolicies.filter((np) => np.namespace === subject.namespace && k8sSelectorMatches(np.podSelector, own));
    const denyList = dir === 'ingress' ? 'ingressDeny' : 'egressDeny';
    const allowList = dir === 'ingress' ? 'ingress' : 'egress';
    for (const s of selecting) {
      const i = (s[denyList] ?? []).findIndex((r) => this.ruleMatches(r, ctx));
      if (i >= 0) return { verdict: 'deny', reason: `deny rule ${denyList}[${i}] of a CCNP spec matches` };
    }
    for (const s of selecting) {
      const i = (s[allowList] ?? []).findIndex((r) => this.ruleMatches(r, ctx));
      if (i >= 0) return { verdict: 'allow', reason: `allow rule ${allowList}[${i}] of a CCNP spec matches` };
    }
    if (dir === 'ingress' && this.config.allowLocalhost === 'always' && peer.kind === 'node' && peer.node.name === subject.nodeName) {
      return { verdict: 'allow', reason: 'the local host reaches its pods unless denied (allow-localhost)' };
    }
    for (const np of nps) {
      if (!npIsolates(np, dir)) continue;
      const rules = dir === 'ingress' ? np.ingress : np.egress;
      const i = rules.findIndex((r) => (r.peers === undefined || r.peers.some((p) => this.npPeerMatches(np, p, ctx))) && this.npPortsMatch(r.ports, ctx));
      if (i >= 0) return { verdict: 'allow', reason: `NetworkPolicy ${np.namespace}/${np.name} ${dir}[${i}] allows it` };
    }
    const isolating = [
      ...nps.filter((np) => npIsolates(np, dir)).map((np) => `NetworkPolicy ${np.namespace}/${np.name}`),
      ...selecting.filter((s) => this.defaultDeny(s, dir)).map(() => 'a CCNP without enableDefaultDeny false'),
    ];
    if (isolating.length > 0) return { verdict: 'deny', reason: `default deny (${isolating.join(', ')}) and no allow rule matches` };
    return { verdict: 'allow', reason: 'no policy puts the endpoint in default deny' };
  }

  private defaultDeny(spec: JsonSpec, dir: Dir): boolean {
    const hasRules = (spec[dir]?.length ?? 0) > 0 || (spec[dir === 'ingress' ? 'ingressDeny' : 'egressDeny']?.length ?? 0) > 0;
    if (!hasRules) return false;
    if (!this.config.nonDefaultDenyPolicies) return true;
    return spec.enableDefaultDeny?.[dir] ?? true;
  }

  // ---- CCNP rules ----

  private ruleMatches(rule: JsonRule, ctx: MatchContext): boolean {
    const side = ctx.dir === 'egress' ? 'to' : 'from';
    const peerFields = ['Endpoints', 'Entities', 'CIDR', 'CIDRSet', 'Nodes', 'FQDNs', 'Services', 'Groups', 'Requires'].filter((f) => rule[`${side}${f}`] !== undefined);
    let peerOk: boolean;
    if (peerFields.length === 0) {
      // No peer: a wildcard when ports (or ICMP) are given, otherwise nothing.
      if (rule.toPorts === undefined && rule.icmps === undefined) return false;
      peerOk = true;
    } else {
      peerOk = peerFields.some((f) => this.peerFieldMatches(f, rule[`${side}${f}`], ctx));
    }
    if (!peerOk) return false;
    if (rule.icmps !== undefined) return false; // the model's flows are TCP, UDP or SCTP
    if (rule.toPorts === undefined) return true;
    return rule.toPorts.some((pr) => (pr.ports ?? []).length === 0 || (pr.ports ?? []).some((p) => this.portMatches(p, ctx)));
  }

  private peerFieldMatches(field: string, value: unknown, ctx: MatchContext): boolean {
    const list = value as unknown[];
    switch (field) {
      case 'Endpoints':
        return (list as JsonSelector[]).some((s) => this.selectsPeer((labels) => selectorMatches(this.withLocalCluster(withNamespaceExists(s)), labels), ctx));
      case 'Nodes':
        return (list as JsonSelector[]).some((s) => selectorMatches(this.withLocalCluster(withRemoteNode(s)), ctx.peerIdentity));
      case 'Entities':
        return (list as string[]).some((e) => entityMatches(e, ctx.peerIdentity));
      case 'CIDR':
        return (list as string[]).some((c) => this.cidrSelects(c, [], ctx));
      case 'CIDRSet':
        return (list as { cidr?: string; except?: string[] }[]).some((c) => c.cidr !== undefined && this.cidrSelects(c.cidr, c.except ?? [], ctx));
      case 'FQDNs': {
        if (ctx.peer.kind !== 'world' || ctx.peer.ip === undefined) return false; // in-cluster addresses never match (field doc)
        const ip = ctx.peer.ip;
        return (list as { matchName?: string; matchPattern?: string }[]).some((f) =>
          Object.entries(this.config.dns).some(([name, ips]) => fqdnMatches(f, name) && ips.some((a) => sameIp(a, ip))),
        );
      }
      default:
        return false; // toServices, toGroups, toRequires: not modelled, never match
    }
  }

  /**
   * §4.2: CIDR selectors match outside addresses; pods and nodes only where
   * policy-cidr-match-mode says. A pod has one identity for all its addresses, and so has the
   * local node (the host identity): the selector matches it when it holds any of them and
   * excepts none. A remote node has an identity per address.
   */
  private cidrSelects(base: string, except: readonly string[], ctx: MatchContext): boolean {
    const peer = ctx.peer;
    if (peer.ip === undefined) return false;
    if (peer.kind === 'world') return inCidr(base, except, peer.ip);
    if (!this.config.cidrMatchMode.includes(peer.kind === 'pod' ? 'pods' : 'nodes')) return false;
    let addresses: Ip[] = [peer.ip];
    if (peer.kind === 'pod') addresses = parsedAll(peer.pod.ips);
    else if (peer.node.name === ctx.subject.nodeName) addresses = parsedAll(peer.node.addresses).filter((ip) => this.families.has(ip.family));
    // 0.0.0.0/0 and ::/0 are written as the world label, which pods and nodes do not have;
    // only mode `pods` lets them match whatever has an address of that family.
    const zero = parseCidr(base)?.cidr.prefix === 0;
    const holds = zero ? this.config.cidrMatchMode.includes('pods') && addresses.some((ip) => inCidr(base, [], ip)) : addresses.some((ip) => inCidr(base, [], ip));
    return holds && !addresses.some((ip) => except.some((e) => inCidr(e, [], ip)));
  }

  /** §3.2: with policy-default-local-cluster, peers without a cluster key get the local one (reserved-key selectors are left alone). */
  private withLocalCluster(s: JsonSelector): JsonSelector {
    if (!this.config.policyDefaultLocalCluster) return s;
    const keys = keysOf(s);
    if (keys.some((k) => CLUSTER_KEYS.includes(k)) || keys.some((k) => parseKey(k).source === 'reserved' && !k.startsWith('reserved:remote-node'))) return s;
    return { ...s, matchLabels: { ...(s.matchLabels ?? {}), 'k8s:io.cilium.k8s.policy.cluster': CLUSTER_NAME } };
  }

  private portMatches(p: JsonPort, ctx: MatchContext): boolean {
    const protocol = p.protocol ?? 'ANY';
    if (protocol !== 'ANY' && protocol !== ctx.flow.protocol) return false;
    const port = p.port ?? '0';
    if (/^[0-9]+$/.test(port)) {
      const n = Number(port);
      if (n === 0) return true;
      return ctx.flow.port >= n && ctx.flow.port <= (p.endPort !== undefined && p.endPort > n ? p.endPort : n);
    }
    return this.namedPortMatches(port.toLowerCase(), protocol === 'ANY' ? undefined : (protocol as Protocol), ctx);
  }

  /** Named ports: on the destination pod for ingress; cluster-wide for egress up to 1.19. */
  private namedPortMatches(name: string, protocol: Protocol | undefined, ctx: MatchContext): boolean {
    if (ctx.dir === 'egress' && this.minor < 20) {
      const numbers = new Set<number>();
      // Host-network pods are not in the map (the agent's pod watcher skips them).
      for (const pod of this.snapshot.pods) {
        if (pod.hostNetwork) continue;
        for (const cp of pod.ports) {
          if (cp.name === name && cp.protocol === ctx.flow.protocol && (protocol === undefined || cp.protocol === protocol)) numbers.add(cp.port);
        }
      }
      // Pods that disagree on the number: Cilium ignores the rule.
      return numbers.size === 1 && numbers.has(ctx.flow.port);
    }
    const dest = ctx.destination;
    if (dest.kind !== 'pod') return false;
    return dest.pod.ports.some((cp) => cp.name === name && cp.protocol === ctx.flow.protocol && cp.port === ctx.flow.port && (protocol === undefined || cp.protocol === protocol));
  }

  // ---- NetworkPolicy rules as Cilium enforces them ----

  private npPeerMatches(np: NetworkPolicy, peer: NetworkPolicyPeer, ctx: MatchContext): boolean {
    // ipBlocks are CIDR selectors.
    if (peer.kind === 'ipBlock') return this.cidrSelects(peer.cidr.text, peer.except.map((e) => e.text), ctx);
    // Cilium turns the peer into one selector over identity labels (pkg/k8s
    // parseNetworkPolicyPeer): namespace labels (or, for an empty namespace selector, any
    // namespace), the pod selector, the policy's namespace when no namespace selector is
    // given, and the local cluster. Nothing requires a pod: a namespace selector of only
    // NotIn/DoesNotExist also matches nodes and the world (cilium/cilium#46949).
    const requirements: { key: string; operator: string; values: readonly string[] }[] = [];
    if (peer.namespaces === undefined) requirements.push({ key: 'k8s:io.kubernetes.pod.namespace', operator: 'In', values: [np.namespace] });
    else if (peer.namespaces.requirements.length === 0) requirements.push({ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists', values: [] });
    else for (const r of peer.namespaces.requirements) requirements.push({ key: `k8s:io.cilium.k8s.namespace.labels.${r.key}`, operator: r.operator, values: r.values });
    for (const r of peer.pods.requirements) requirements.push({ key: `k8s:${r.key}`, operator: r.operator, values: r.values });
    if (this.config.policyDefaultLocalCluster && !peer.pods.requirements.some((r) => r.key === 'io.cilium.k8s.policy.cluster')) {
      requirements.push({ key: 'k8s:io.cilium.k8s.policy.cluster', operator: 'In', values: [CLUSTER_NAME] });
    }
    return this.selectsPeer((labels) => requirements.every((r) => requirementMatches(labels, r.key, r.operator, r.values)), ctx);
  }

  /**
   * From 1.20 the datapath looks a flow up by the peer's identity and by its aggregate, and a
   * selector can select an aggregate (pkg/policy/aggregate.go): every pod of the cluster
   * aggregates to one identity labelled only reserved:aggregate-cluster, so a selector of
   * only NotIn/DoesNotExist terms without a cluster constraint selects every pod.
   */
  private selectsPeer(matches: (labels: readonly Label[]) => boolean, ctx: MatchContext): boolean {
    if (matches(ctx.peerIdentity)) return true;
    return this.minor >= 20 && ctx.peer.kind === 'pod' && matches([{ source: 'reserved', key: 'aggregate-cluster', value: '' }]);
  }

  private npPortsMatch(ports: readonly NetworkPolicyPort[] | undefined, ctx: MatchContext): boolean {
    if (ports === undefined) return true;
    return ports.some((p) => {
      if (p.protocol !== ctx.flow.protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'string') return this.namedPortMatches(p.port, p.protocol, ctx);
      return ctx.flow.port >= p.port && ctx.flow.port <= (p.endPort ?? p.port);
    });
  }
}

/**
 * Cilium (pkg/k8s ParseNetworkPolicy) turns every ingress and egress rule into an entry
 * that puts the pod in default deny, whatever policyTypes says, and adds a deny-all entry
 * for a direction policyTypes names without rules.
 */
function npIsolates(np: NetworkPolicy, dir: Dir): boolean {
  return np.policyTypes.includes(dir) || (dir === 'ingress' ? np.ingress : np.egress).length > 0;
}

interface MatchContext {
  readonly dir: Dir;
  readonly subject: Pod;
  readonly peer: Party;
  readonly peerIdentity: readonly Label[];
  readonly destination: Party;
  readonly flow: Flow;
}

// ---- selectors over identity labels ----

const CLUSTER_KEYS = ['k8s:io.cilium.k8s.policy.cluster', 'any:io.cilium.k8s.policy.cluster', 'io.cilium.k8s.policy.cluster'];

const SOURCES = new Set(['k8s', 'reserved', 'node', 'any', 'cidr', 'fqdn', 'unspec', 'container']);

function parseKey(raw: string): { source: string; key: string } {
  const colon = raw.indexOf(':');
  if (colon > 0 && SOURCES.has(raw.slice(0, colon))) return { source: raw.slice(0, colon), key: raw.slice(colon + 1) };
  return { source: 'any', key: raw };
}

function labelValue(labels: readonly Label[], raw: string): string | undefined {
  const { source, key } = parseKey(raw);
  const hit = labels.find((l) => l.key === key && (source === 'any' || source === l.source));
  return hit?.value;
}

function requirementMatches(labels: readonly Label[], key: string, operator: string, values: readonly string[]): boolean {
  const v = labelValue(labels, key);
  switch (operator) {
    case 'In':
      return v !== undefined && values.includes(v);
    case 'NotIn':
      return v === undefined || !values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    default:
      throw new Error(`unknown selector operator ${operator}`);
  }
}

function selectorMatches(s: JsonSelector, labels: readonly Label[]): boolean {
  return (
    Object.entries(s.matchLabels ?? {}).every(([k, v]) => requirementMatches(labels, k, 'In', [v])) &&
    (s.matchExpressions ?? []).every((e) => requirementMatches(labels, e.key, e.operator, e.values ?? []))
  );
}

/** A Kubernetes selector (NetworkPolicy) evaluated by Cilium over identity labels of source k8s. */
function k8sSelectorMatches(s: Selector, labels: readonly Label[]): boolean {
  return s.requirements.every((r) => requirementMatches(labels, `k8s:${r.key}`, r.operator, r.values));
}

function keysOf(s: JsonSelector): string[] {
  return [...Object.keys(s.matchLabels ?? {}), ...(s.matchExpressions ?? []).map((e) => e.key)];
}

/** §3.2: a CCNP peer selector without a namespace key (and no reserved key) only matches pods. */
function withNamespaceExists(s: JsonSelector): JsonSelector {
  const keys = keysOf(s).map(parseKey);
  if (keys.some((k) => k.key === 'io.kubernetes.pod.namespace' || k.source === 'reserved')) return s;
  return { ...s, matchExpressions: [...(s.matchExpressions ?? []), { key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists' }] };
}

/** §3.2/4.5: node peers only match remote nodes. */
function withRemoteNode(s: JsonSelector): JsonSelector {
  return { ...s, matchExpressions: [...(s.matchExpressions ?? []), { key: 'reserved:remote-node', operator: 'Exists' }] };
}

function entityMatches(entity: string, labels: readonly Label[]): boolean {
  const has = (k: string) => labels.some((l) => l.source === 'reserved' && l.key === k);
  switch (entity) {
    case 'all':
      return true;
    case 'world':
      return has('world');
    case 'cluster':
      return !has('world');
    case 'host':
      return has('host');
    case 'remote-node':
      return has('remote-node');
    default:
      return false; // health, init, ingress, unmanaged, kube-apiserver, none: no such parties in the model
  }
}

function parsedAll(addresses: readonly string[]): Ip[] {
  return addresses.flatMap((a) => {
    const ip = parseIp(a);
    return ip === undefined ? [] : [ip];
  });
}

function inCidr(base: string, except: readonly string[], ip: Ip): boolean {
  const c = parseCidr(base)?.cidr;
  if (c === undefined || !cidrContains(c, ip)) return false;
  return !except.some((e) => {
    const x = parseCidr(e)?.cidr;
    return x !== undefined && cidrContains(x, ip);
  });
}

function sameIp(text: string, ip: Ip): boolean {
  const other = parseIp(text);
  return other !== undefined && other.family === ip.family && other.value === ip.value;
}

/** §4.3 matchName / matchPattern (`*` within a label, `**.` for any number of labels). */
function fqdnMatches(f: { matchName?: string; matchPattern?: string }, name: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/\.$/, '');
  if (f.matchName !== undefined) return norm(f.matchName) === norm(name);
  if (f.matchPattern === undefined) return false;
  const pattern = norm(f.matchPattern);
  if (pattern === '*') return true;
  let re: string;
  if (pattern.startsWith('**.')) re = `^([-a-z0-9_]+\\.)+${escape(pattern.slice(3))}$`;
  else re = `^${pattern.split('*').map(escape).join('[-a-z0-9_]*')}$`;
  return new RegExp(re).test(norm(name));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
