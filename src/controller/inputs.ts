import { parseNamespace, parseNode, parsePod } from '../api/objects.js';
import type { KubeObject, ResourceType } from './port.js';
import { sharedStrings } from './strings.js';

export const CNP_GROUP = 'policy.networking.k8s.io';
export const CNP_PLURAL = 'clusternetworkpolicies';

export function cnpType(version: string): ResourceType {
  return { group: CNP_GROUP, version, plural: CNP_PLURAL, kind: 'ClusterNetworkPolicy', namespaced: false };
}

export const NETWORK_POLICY: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true };
export const NODE: ResourceType = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };
export const NAMESPACE: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const POD: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };

/**
 * The part of an input object policy depends on. Pods and nodes change status all
 * the time; only a change in this projection is worth a recomputation.
 */
export function relevantProjection(type: ResourceType, obj: KubeObject): string {
  switch (type.kind) {
    case 'Pod':
      return JSON.stringify(parsePod(obj).value ?? null);
    case 'Node':
      return JSON.stringify(parseNode(obj).value ?? null);
    case 'Namespace':
      return JSON.stringify(parseNamespace(obj).value ?? null);
    default:
      return JSON.stringify([obj.metadata.generation, obj['spec'] ?? null, obj.metadata.labels ?? null]);
  }
}

/**
 * What the operator keeps of an object in its caches. Of managedFields only who manages the
 * object (the field sets are often the largest part of an object, and never read); of pods,
 * only what policy depends on, since a cluster has many more pods than anything else.
 */
export function slim(obj: KubeObject): KubeObject {
  const { managedFields, ...metadata } = obj.metadata;
  const managers = managedFields?.map(({ manager, operation, subresource }) => ({ manager: share(manager), operation: share(operation), subresource: share(subresource) }));
  const apiVersion = sharedStrings.share(obj.apiVersion);
  const kind = sharedStrings.share(obj.kind);
  const labels = shareValues(metadata.labels);
  // Nodes carry images and conditions, namespaces little: policy reads labels and addresses.
  if (obj.kind === 'Node') {
    const addresses = (obj['status'] as { addresses?: unknown } | undefined)?.addresses;
    return { apiVersion, kind, metadata: { name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion, labels }, status: { addresses } };
  }
  if (obj.kind === 'Namespace') return { apiVersion, kind, metadata: { name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion, labels } };
  if (obj.kind !== 'Pod') {
    const kept = { ...metadata, ...(managers === undefined ? {} : { managedFields: managers }) };
    if (kept.creationTimestamp !== undefined) kept.creationTimestamp = share(kept.creationTimestamp);
    // Every object the operator writes names its CNP so (the garbage collector's owner).
    for (const ref of kept.ownerReferences ?? []) {
      ref.apiVersion = share(ref.apiVersion);
      ref.kind = share(ref.kind);
    }
    return { ...obj, apiVersion, kind, metadata: kept };
  }
  const spec = (obj['spec'] ?? {}) as { hostNetwork?: boolean; nodeName?: string; containers?: { name?: string; ports?: unknown }[] };
  const status = (obj['status'] ?? {}) as { podIP?: string; podIPs?: unknown };
  return {
    apiVersion,
    kind,
    metadata: { name: metadata.name, namespace: share(metadata.namespace), uid: metadata.uid, resourceVersion: metadata.resourceVersion, labels },
    spec: { hostNetwork: spec.hostNetwork, nodeName: share(spec.nodeName), containers: (spec.containers ?? []).map((c) => ({ name: share(c.name), ports: c.ports })) },
    status: { podIP: status.podIP, podIPs: status.podIPs },
  };
}

const share = <T extends string | undefined>(s: T): T => sharedStrings.shareOptional(s) as T;

/** Labels with their values shared (the object is the parsed one's, which nothing else holds). */
function shareValues(labels: Record<string, string> | undefined): Record<string, string> | undefined {
  if (labels !== undefined) for (const key of Object.keys(labels)) labels[key] = sharedStrings.share(labels[key]!);
  return labels;
}
