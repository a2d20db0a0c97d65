import { parseClusterNetworkPolicy, CNP_GROUP, CNP_KIND, type ParseOptions } from './cnp.js';
import type { Diagnostic, Source } from './diagnostics.js';
import type { Document } from './documents.js';
import type { Namespace, NetworkPolicy, Node, Pod, Policy, Snapshot } from './model.js';
import { parseNamespace, parseNetworkPolicy, parseNode, parsePod, type ObjectResult } from './objects.js';
import { isObject } from './values.js';

export interface SourcedDiagnostic extends Diagnostic {
  readonly source: Source;
  /** `Kind/name` of the object, when it has one. */
  readonly object: string | undefined;
}

export interface LoadResult {
  readonly snapshot: Snapshot;
  readonly diagnostics: readonly SourcedDiagnostic[];
  /** Where each policy came from, by name. */
  readonly policySources: ReadonlyMap<string, Source>;
}

type Kind = 'ClusterNetworkPolicy' | 'NetworkPolicy' | 'Namespace' | 'Pod' | 'Node';
const GROUPS: Record<Kind, readonly string[]> = {
  ClusterNetworkPolicy: [CNP_GROUP],
  NetworkPolicy: ['networking.k8s.io'],
  Namespace: [''],
  Pod: [''],
  Node: [''],
};

function objectName(value: unknown): string | undefined {
  if (!isObject(value) || !isObject(value['metadata'])) return undefined;
  const meta = value['metadata'];
  const name = typeof meta['name'] === 'string' ? meta['name'] : undefined;
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
  return name === undefined ? undefined : namespace === undefined ? name : `${namespace}/${name}`;
}

/** Turns documents into a cluster snapshot; anything unusable is reported, never dropped silently. */
/** Loads the objects of the documents; `options` say how CNPs are read (see ParseOptions). */
export function loadSnapshot(documents: readonly Document[], options: ParseOptions = {}): LoadResult {
  const diagnostics: SourcedDiagnostic[] = [];
  const policies = new Map<string, Policy>();
  const policySources = new Map<string, Source>();
  const namespaces = new Map<string, Namespace>();
  const pods = new Map<string, Pod>();
  const nodes = new Map<string, Node>();
  const networkPolicies = new Map<string, NetworkPolicy>();

  for (const doc of documents) {
    const report = (object: string | undefined, list: readonly Diagnostic[]): void => {
      for (const d of list) diagnostics.push({ ...d, source: doc.source, object });
    };
    if (!isObject(doc.value)) {
      report(undefined, [{ severity: 'error', field: '(document)', message: 'must be a Kubernetes object (a mapping with apiVersion and kind)' }]);
      continue;
    }
    const kind = doc.value['kind'];
    const apiVersion = doc.value['apiVersion'];
    const name = objectName(doc.value);
    const label = `${typeof kind === 'string' ? kind : '?'}/${name ?? '?'}`;
    if (typeof kind !== 'string' || !(kind in GROUPS)) {
      const what = kind === undefined ? 'is required: a Kubernetes object has apiVersion and kind' : `unsupported kind ${JSON.stringify(kind)}`;
      report(label, [{ severity: 'error', field: 'kind', message: `${what} (expected one of ${Object.keys(GROUPS).join(', ')})` }]);
      continue;
    }
    const k = kind as Kind;
    const group = typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    if (typeof apiVersion !== 'string' || !GROUPS[k].includes(group)) {
      report(label, [{ severity: 'error', field: 'apiVersion', message: `${JSON.stringify(apiVersion)} is not an API version of ${kind}` }]);
      continue;
    }
    const add = <T>(result: ObjectResult<T>, into: Map<string, T>, key: (v: T) => string): void => {
      report(label, result.diagnostics);
      if (result.value === undefined) return;
      const id = key(result.value);
      if (into.has(id)) {
        report(label, [{ severity: 'warning', field: 'metadata.name', message: `${kind} ${id} appears more than once in the input; the later one is used` }]);
      }
      into.set(id, result.value);
    };
    switch (k) {
      case CNP_KIND: {
        const result = parseClusterNetworkPolicy(doc.value, options);
        add({ value: result.policy, diagnostics: result.diagnostics }, policies, (p) => p.name);
        if (result.policy !== undefined) policySources.set(result.policy.name, doc.source);
        break;
      }
      case 'NetworkPolicy':
        add(parseNetworkPolicy(doc.value), networkPolicies, (n) => `${n.namespace}/${n.name}`);
        break;
      case 'Namespace':
        add(parseNamespace(doc.value), namespaces, (n) => n.name);
        break;
      case 'Pod':
        add(parsePod(doc.value), pods, (p) => `${p.namespace}/${p.name}`);
        break;
      case 'Node':
        add(parseNode(doc.value), nodes, (n) => n.name);
        break;
    }
  }

  // A pod whose namespace is not in the input still gets one, labelled as the API server would.
  for (const pod of pods.values()) {
    if (!namespaces.has(pod.namespace)) {
      namespaces.set(pod.namespace, { name: pod.namespace, labels: { 'kubernetes.io/metadata.name': pod.namespace } });
    }
  }
  const byKey = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return {
    snapshot: {
      policies: byKey(policies),
      networkPolicies: byKey(networkPolicies),
      namespaces: byKey(namespaces),
      pods: byKey(pods),
      nodes: byKey(nodes),
    },
    diagnostics,
    policySources,
  };
}
