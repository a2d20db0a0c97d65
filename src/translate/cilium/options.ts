import { identityLabelFilter, nodeLabelFilter, type CiliumMinor, type IdentityLabelFilter } from './label-filter.js';

/** Options of the Cilium translation. */
export interface CiliumOptions {
  /**
   * Upper bound on the number of generated rules, all policies together. Past it, the
   * remaining rules are compiled in their fail-closed form (Deny/Pass without the holes
   * earlier rules punch into them, Accept not at all) and reported.
   */
  readonly maxRules?: number;
  /** Upper bound on the pieces one rule may split into while subtracting earlier rules. */
  readonly maxPiecesPerRule?: number;
  /** The settings of the Cilium agents the output is for. Default: Cilium's defaults, any release from 1.16. */
  readonly agent?: CiliumAgent;
  /** The cluster DNS server, which `domainNames` rules need a DNS-visibility rule to. */
  readonly dns?: DnsServer;
  /**
   * Leave out rules whose subject or pod peer lies in namespaces the snapshot does not have
   * (by name and labels). Smaller output, but exact only until namespaces change: a deny left
   * out is missing until the next translation. Default false: rules follow label changes at once.
   */
  readonly pruneAbsentNamespaces?: boolean;
}

export type CidrMatchMode = 'pods' | 'nodes';

/**
 * The agent settings (kube-system/cilium-config) that change what Cilium accepts or what a
 * rule matches. A field left out means Cilium's default for it; where that default changed
 * between releases and the release is not given, the more restrictive one. 'unknown' (the
 * settings could not be read) is the most restrictive of all.
 */
export interface CiliumAgent {
  /** The agents' release: the minor version of 1.x, 16 to 20. Left out: any of them. */
  readonly version?: CiliumMinor;
  /**
   * enable-node-selector-labels (default off). Off, Cilium refuses a whole policy that has
   * toNodes or fromNodes, so `nodes` peers are only expressible as entities or addresses.
   */
  readonly nodeSelectorLabels?: boolean;
  /** policy-default-local-cluster (default on from 1.19, off before). */
  readonly policyDefaultLocalCluster?: boolean;
  /** policy-cidr-match-mode (default empty): which in-cluster addresses CIDR selectors match. */
  readonly cidrMatchMode?: readonly CidrMatchMode[] | 'unknown';
  /** labels: identity label prefixes added to Cilium's defaults (its syntax, e.g. `k8s:app`, `!k8s:team`). */
  readonly labels?: readonly string[] | 'unknown';
  /** node-labels: node label prefixes for node identities (default: every label). */
  readonly nodeLabels?: readonly string[] | 'unknown';
}

export interface DnsServer {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly port: number;
}

export const DEFAULT_DNS: DnsServer = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, port: 53 };

/** What the agent settings mean for the translation. */
export interface ResolvedAgent {
  readonly version: CiliumMinor | undefined;
  /** Whether toNodes may be written, and matches remote nodes by their labels. */
  readonly toNodes: boolean;
  /** CIDR selectors match pods by address (policy-cidr-match-mode pods, 1.20+). */
  readonly cidrPods: boolean;
  /** CIDR selectors match nodes, the local one included, by address (policy-cidr-match-mode nodes). */
  readonly cidrNodes: boolean;
  /**
   * Whether CIDR selectors reach pods or nodes cannot be told: allows are written so they
   * reach neither, denies as if they reached neither (if they do, they deny more; reported).
   */
  readonly cidrReachUnknown: boolean;
  /** Egress named ports resolve per destination (1.20+); before, against one cluster-wide map. */
  readonly egressNamedPortsPerDestination: boolean;
  readonly labels: IdentityLabelFilter;
  /** Node labels (source node) and the cluster label (source k8s) on node identities. */
  readonly nodeLabels: (key: string, source?: string) => boolean;
  /** Why nodes peers cannot be written as toNodes, for findings. */
  readonly toNodesUnavailable: string | undefined;
}

export interface ResolvedCiliumOptions {
  readonly maxRules: number;
  readonly maxPiecesPerRule: number;
  readonly agent: ResolvedAgent;
  readonly dns: DnsServer;
  readonly pruneAbsentNamespaces: boolean;
}

const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster';

export function resolveAgent(agent: CiliumAgent = {}): ResolvedAgent {
  const version = agent.version;
  const cidrReachUnknown = agent.cidrMatchMode === 'unknown';
  const modes = agent.cidrMatchMode === 'unknown' ? [] : (agent.cidrMatchMode ?? []);
  // policy-cidr-match-mode `pods` exists from 1.20; an older agent refuses to start with it.
  const cidrPods = modes.includes('pods') && version !== undefined && version >= 20;
  const cidrNodes = modes.includes('nodes');
  const nodeLabels = nodeLabelFilter(agent.nodeLabels ?? []);
  const localCluster = agent.policyDefaultLocalCluster ?? true;
  let toNodesUnavailable: string | undefined;
  if (agent.nodeSelectorLabels !== true) {
    toNodesUnavailable = 'enable-node-selector-labels is off (or unknown): Cilium refuses every policy with toNodes';
  } else if (localCluster) {
    // The parser then requires io.cilium.k8s.policy.cluster on node peers; node identities
    // carry it from 1.19 (through the node-labels filter in 1.19, after it from 1.20).
    if (version === undefined || version < 19) {
      toNodesUnavailable = 'with policy-default-local-cluster, node identities carry the cluster label only from Cilium 1.19 (release unknown or older): toNodes would match nothing';
    } else if (version === 19 && !nodeLabels(CLUSTER_LABEL, 'k8s')) {
      toNodesUnavailable = 'node-labels leaves io.cilium.k8s.policy.cluster out of node identities (Cilium 1.19, cilium/cilium#45956): toNodes would match nothing';
    }
  }
  return {
    version,
    toNodes: toNodesUnavailable === undefined,
    cidrPods,
    cidrNodes,
    cidrReachUnknown,
    egressNamedPortsPerDestination: version !== undefined && version >= 20,
    labels: identityLabelFilter(version, agent.labels ?? []),
    nodeLabels,
    toNodesUnavailable,
  };
}

export function resolveCiliumOptions(options: CiliumOptions = {}): ResolvedCiliumOptions {
  return {
    maxRules: options.maxRules ?? 20_000,
    maxPiecesPerRule: options.maxPiecesPerRule ?? 256,
    agent: resolveAgent(options.agent),
    dns: options.dns ?? DEFAULT_DNS,
    pruneAbsentNamespaces: options.pruneAbsentNamespaces ?? false,
  };
}
