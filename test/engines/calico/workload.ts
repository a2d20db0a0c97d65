import type { Namespace, Node, Pod } from '../../../src/api/model.js';
import type { Kube, KubeObject } from '../../harness/client.js';
import { waitFor } from '../../harness/wait.js';

// Namespaces, Nodes and Pods as the lab's API objects. There is no kubelet: the lab writes what
// one would (pod status with its IPs, node addresses) through the status subresources, as a
// different field manager than the one writing metadata and spec.

const MANAGER = 'calico-lab';
const KUBELET = 'calico-lab-kubelet';

export function namespaceObject(ns: Namespace): KubeObject {
  const labels = { ...ns.labels };
  // The API server owns this label.
  delete labels['kubernetes.io/metadata.name'];
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels } };
}

export function nodeObject(node: Node): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: node.name, labels: { ...node.labels } } };
}

function nodeStatus(node: Node): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name },
    status: { addresses: node.addresses.map((address) => ({ type: 'InternalIP', address })) },
  };
}

export function podObject(pod: Pod): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: { ...pod.labels } },
    spec: {
      nodeName: pod.nodeName,
      hostNetwork: pod.hostNetwork,
      containers: [
        {
          name: 'main',
          image: 'registry.k8s.io/e2e-test-images/agnhost:2.45',
          ports: pod.ports.map((cp) => ({ ...(cp.name === undefined ? {} : { name: cp.name }), containerPort: cp.port, protocol: cp.protocol })),
        },
      ],
    },
  };
}

function podStatus(pod: Pod): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace },
    status: { phase: 'Running', podIP: pod.ips[0], podIPs: pod.ips.map((ip) => ({ ip })) },
  };
}

/** Server-side apply to the status subresource. */
async function applyStatus(kube: Kube, obj: KubeObject): Promise<void> {
  const path = await kube.path(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
  const query = new URLSearchParams({ fieldManager: KUBELET, force: 'true' });
  await kube.request('PATCH', `${path}/status?${query}`, obj, 'application/apply-patch+yaml');
}

export async function applyNamespace(kube: Kube, ns: Namespace): Promise<void> {
  await kube.apply(namespaceObject(ns), { fieldManager: MANAGER });
}

/**
 * Node addresses are a list keyed by type, yet a dual-stack node has two InternalIPs: server-side
 * apply refuses that, so (as kubelet does) the status goes in as a merge patch.
 */
export async function applyNode(kube: Kube, node: Node): Promise<void> {
  await kube.apply(nodeObject(node), { fieldManager: MANAGER });
  const path = await kube.path('v1', 'Node', node.name);
  await kube.request('PATCH', `${path}/status?fieldManager=${KUBELET}`, { status: nodeStatus(node)['status'] }, 'application/merge-patch+json');
}

export async function createPod(kube: Kube, pod: Pod): Promise<void> {
  await kube.apply(podObject(pod), { fieldManager: MANAGER });
  await applyStatus(kube, podStatus(pod));
}

/** The whole object again: with server-side apply, fields this manager leaves out are removed. */
export async function relabelPod(kube: Kube, pod: Pod): Promise<void> {
  await kube.apply(podObject(pod), { fieldManager: MANAGER });
}

/**
 * Without a kubelet to confirm, only an immediate deletion removes a bound pod; waits until it
 * is gone, since a pod of the same name may follow at once.
 */
export async function deletePod(kube: Kube, namespace: string, name: string): Promise<void> {
  const path = await kube.path('v1', 'Pod', name, namespace);
  try {
    await kube.request('DELETE', `${path}?gracePeriodSeconds=0`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
  await waitFor(async () => (await kube.get('v1', 'Pod', name, namespace)) === undefined, { timeout: 60_000, message: `pod ${namespace}/${name} to be deleted` });
}

/** Pod spec fields that cannot change in place: a change means delete and create. */
export function podIdentity(pod: Pod): string {
  return JSON.stringify([pod.nodeName, pod.hostNetwork, pod.ips, pod.ports]);
}
