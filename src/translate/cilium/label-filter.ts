// Cilium's identity label filter: which labels make it into security identities, and so
// which labels a CiliumClusterwideNetworkPolicy selector can see.
//
// Cilium (pkg/labelsfilter) keeps a list of label prefixes, each a regular expression
// matched at the start of the label key, optionally with a source (`k8s:`) and `!` to
// ignore. A label is kept when no inclusive prefix is configured and no ignore matches, or
// when its longest inclusive match is longer than its shortest ignore match. The defaults
// are inclusive prefixes plus ignores; the cilium-config `labels` setting appends to them,
// and any inclusive prefix there turns the filter into an allow-list. Pod labels under
// `io.cilium.k8s` are stripped before the filter (pkg/k8s/utils RemoveCiliumLabels).
//
// The defaults changed between releases (github.com/cilium/cilium
// pkg/labelsfilter/filter.go, defaultLabelPrefixCfg): 1.18 added the service account as an
// inclusive prefix, 1.19 added `!topology\.kubernetes\.io`. The table is checked against
// the module sources (test/models/cilium/label-filters.json, hack/cilium-label-filters.mjs).

export type CiliumMinor = 16 | 17 | 18 | 19 | 20;
export const CILIUM_MINORS: readonly CiliumMinor[] = [16, 17, 18, 19, 20];

const BASE_INCLUDES = [
  'reserved:.*',
  'io\\.kubernetes\\.pod\\.namespace',
  'io\\.cilium\\.k8s\\.namespace\\.labels',
  'app\\.kubernetes\\.io',
  'io\\.cilium\\.k8s\\.policy\\.cluster',
];
const SERVICE_ACCOUNT = 'io\\.cilium\\.k8s\\.policy\\.serviceaccount';
const BASE_IGNORES = [
  '!io\\.kubernetes',
  '!kubernetes\\.io',
  '!statefulset\\.kubernetes\\.io/pod-name',
  '!apps\\.kubernetes\\.io/pod-index',
  '!batch\\.kubernetes\\.io/job-completion-index',
  '!batch\\.kubernetes\\.io/controller-uid',
  '!.*beta\\.kubernetes\\.io',
  '!k8s\\.io',
  '!pod-template-generation',
  '!pod-template-hash',
  '!controller-revision-hash',
  '!controller-uid',
  '!annotation.*',
  '!etcd_node',
];
const TOPOLOGY = '!topology\\.kubernetes\\.io';

/** The default expressions of each release, in Cilium's order. */
export const DEFAULT_LABEL_EXPRESSIONS: Readonly<Record<CiliumMinor, readonly string[]>> = {
  16: [...BASE_INCLUDES, ...BASE_IGNORES],
  17: [...BASE_INCLUDES, ...BASE_IGNORES],
  18: [...BASE_INCLUDES, SERVICE_ACCOUNT, ...BASE_IGNORES],
  19: [...BASE_INCLUDES, SERVICE_ACCOUNT, ...BASE_IGNORES, TOPOLOGY],
  20: [...BASE_INCLUDES, SERVICE_ACCOUNT, ...BASE_IGNORES, TOPOLOGY],
};

/** Pod labels Cilium strips before filtering (its own namespace). */
export const CILIUM_OWNED_PREFIX = 'io.cilium.k8s';

interface LabelPrefix {
  readonly source: string;
  readonly ignore: boolean;
  readonly expr: RegExp;
}

/** Cilium's parseLabelPrefix: `[source:][!]regexp`. Undefined for what Cilium would refuse. */
export function parseLabelPrefix(text: string): LabelPrefix | undefined {
  const colon = text.indexOf(':');
  const source = colon >= 0 ? text.slice(0, colon) : '';
  let prefix = colon >= 0 ? text.slice(colon + 1) : text;
  if (prefix.length === 0) return undefined;
  const ignore = prefix.startsWith('!');
  if (ignore) prefix = prefix.slice(1);
  try {
    return { source, ignore, expr: new RegExp(prefix) };
  } catch {
    return undefined;
  }
}

/** Length of the match at the start of the key, or 0 (Cilium: leftmost match, at index 0). */
function matchLength(p: LabelPrefix, source: string, key: string): number {
  if (p.source !== '' && p.source !== source) return 0;
  const m = p.expr.exec(key);
  // An empty match counts for nothing in Cilium's comparison of lengths either.
  return m === null || m.index !== 0 ? 0 : m[0].length;
}

export class LabelFilter {
  private readonly prefixes: LabelPrefix[];
  private readonly allowList: boolean;

  /** `expressions`: the defaults; `user`: cilium-config `labels` (space-separated there). */
  constructor(expressions: readonly string[], user: readonly string[], allowList?: boolean) {
    const parse = (t: string) => {
      const p = parseLabelPrefix(t);
      if (p === undefined) throw new Error(`not a Cilium label prefix: ${t}`);
      return p;
    };
    const extra = user.filter((t) => t.length > 0).map(parse);
    this.prefixes = [...expressions.map(parse), ...extra];
    this.allowList = allowList ?? extra.some((p) => !p.ignore);
  }

  /** Whether a label (key without source, e.g. `app` or `io.cilium.k8s.namespace.labels.team`) stays in identities. */
  keeps(key: string, source = 'k8s'): boolean {
    let included = 0;
    let ignored = 0;
    for (const p of this.prefixes) {
      const n = matchLength(p, source, key);
      if (n === 0) continue;
      if (p.ignore) {
        if (ignored === 0 || n < ignored) ignored = n;
      } else if (n > included) included = n;
    }
    return (!this.allowList && ignored === 0) || included > ignored;
  }
}

/** Which pod and namespace labels the agents keep in identities. */
export interface IdentityLabelFilter {
  /** A pod label key as written on the pod. */
  pod(key: string): boolean;
  /** A namespace label key as written on the namespace (Cilium prefixes it). */
  namespace(key: string): boolean;
}

/** Identity label keys of namespace labels. */
export const NAMESPACE_LABELS = 'io.cilium.k8s.namespace.labels';

/**
 * The identity label filter of the agents. `version` undefined: any release from 1.16 (a
 * label counts as kept only if every release keeps it). `labels`: cilium-config `labels`;
 * 'unknown' when it cannot be read: then only the defaults' inclusive prefixes are trusted,
 * as if an allow-list of nothing else were configured.
 */
export function identityLabelFilter(version: CiliumMinor | undefined, labels: readonly string[] | 'unknown'): IdentityLabelFilter {
  const versions = version === undefined ? CILIUM_MINORS : [version];
  const filters = versions.map((v) => (labels === 'unknown' ? new LabelFilter(DEFAULT_LABEL_EXPRESSIONS[v], [], true) : new LabelFilter(DEFAULT_LABEL_EXPRESSIONS[v], labels)));
  // Asked once per selector requirement and pod label on big clusters: remember the answers.
  const known = new Map<string, boolean>();
  const keeps = (key: string) => {
    let k = known.get(key);
    if (k === undefined) {
      k = filters.every((f) => f.keeps(key));
      known.set(key, k);
    }
    return k;
  };
  return {
    pod: (key) => !key.startsWith(CILIUM_OWNED_PREFIX) && keeps(key),
    namespace: (key) => keeps(`${NAMESPACE_LABELS}.${key}`),
  };
}

/** The node-label filter (`node-labels`): no defaults; an empty list keeps every label. */
export function nodeLabelFilter(nodeLabels: readonly string[] | 'unknown'): (key: string, source?: string) => boolean {
  if (nodeLabels === 'unknown') return () => false;
  const f = new LabelFilter([], nodeLabels);
  return (key, source = 'node') => f.keeps(key, source);
}
