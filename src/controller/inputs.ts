import { parseNamespace, parseNode, parsePod } from '../api/objects.js';
import type { KubeObject, ResourceType } from './port.js';

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
  const managers = managedFields?.map(({ manager, operation, subresource }) => ({ manager, operation, subresource }));
  // Nodes carry images and conditions, namespaces little: policy reads labels and addresses.
  if (obj.kind === 'Node') {
    const addresses = (obj['status'] as { addresses?: unknown } | undefined)?.addresses;
    return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion, labels: metadata.labels }, status: { addresses } };
  }
  if (obj.kind === 'Namespace') return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion, labels: metadata.labels } };
  if (obj.kind !== 'Pod') return { ...obj, metadata: { ...metadata, ...(managers === undefined ? {} : { managedFields: managers }) } };
  const spec = (obj['spec'] ?? {}) as { hostNetwork?: boolean; nodeName?: string; containers?: { name?: string; ports?: unknown }[] };
  const status = (obj['status'] ?? {}) as { podIP?: string; podIPs?: unknown };
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion, labels: metadata.labels },
    spec: { hostNetwork: spec.hostNetwork, nodeName: spec.nodeName, containers: (spec.containers ?? []).map((c) => ({ name: c.name, ports: c.ports })) },
    status: { podIP: status.podIP, podIPs: status.podIPs },
  };
}
