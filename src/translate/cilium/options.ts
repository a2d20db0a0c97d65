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
  /**
   * Pod label key prefixes Cilium leaves out of security identities (its `labels` filter).
   * Selectors on them cannot be enforced exactly. Default: Cilium's default filter.
   */
  readonly identityLabelExclusions?: readonly string[];
  /** Node label key prefixes left out of node identities (Cilium's `node-labels` filter). */
  readonly nodeLabelExclusions?: readonly string[];
  /** The cluster DNS server, which `domainNames` rules need a DNS-visibility rule to. */
  readonly dns?: DnsServer;
  /**
   * Leave out rules whose subject or pod peer lies in namespaces the snapshot does not have
   * (by name and labels). Smaller output, but exact only until namespaces change: a deny left
   * out is missing until the next translation. Default false: rules follow label changes at once.
   */
  readonly pruneAbsentNamespaces?: boolean;
}

export interface DnsServer {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly port: number;
}

/**
 * Cilium's default identity label filter (Documentation/operations/performance/
 * scalability/identity-relevant-labels.rst): keys starting with these are ignored, and
 * Cilium drops pod labels in its own `io.cilium.k8s` namespace.
 */
export const CILIUM_DEFAULT_LABEL_EXCLUSIONS: readonly string[] = [
  'io.kubernetes',
  'kubernetes.io',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'batch.kubernetes.io/job-completion-index',
  'batch.kubernetes.io/controller-uid',
  'beta.kubernetes.io',
  'k8s.io',
  'pod-template-generation',
  'pod-template-hash',
  'controller-revision-hash',
  'annotation',
  'controller-uid',
  'etcd_node',
  'io.cilium.k8s',
];

export const DEFAULT_DNS: DnsServer = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, port: 53 };

export interface ResolvedCiliumOptions {
  readonly maxRules: number;
  readonly maxPiecesPerRule: number;
  readonly identityLabelExclusions: readonly string[];
  readonly nodeLabelExclusions: readonly string[];
  readonly dns: DnsServer;
  readonly pruneAbsentNamespaces: boolean;
}

export function resolveCiliumOptions(options: CiliumOptions = {}): ResolvedCiliumOptions {
  return {
    maxRules: options.maxRules ?? 20_000,
    maxPiecesPerRule: options.maxPiecesPerRule ?? 256,
    identityLabelExclusions: options.identityLabelExclusions ?? CILIUM_DEFAULT_LABEL_EXCLUSIONS,
    nodeLabelExclusions: options.nodeLabelExclusions ?? CILIUM_DEFAULT_LABEL_EXCLUSIONS,
    dns: options.dns ?? DEFAULT_DNS,
    pruneAbsentNamespaces: options.pruneAbsentNamespaces ?? false,
  };
}

export function excluded(prefixes: readonly string[], key: string): boolean {
  return prefixes.some((p) => key.startsWith(p));
}
