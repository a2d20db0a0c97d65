import { cidrContains, parseIp, type Ip } from '../api/ip.js';
import type { Namespace, Node, Pod, PodSet, Snapshot } from '../api/model.js';
import { selectorMatches } from '../api/selector.js';
import type { Endpoint } from './flow.js';

/** An endpoint of a flow, resolved against the snapshot. */
export interface Resolved {
  readonly endpoint: Endpoint;
  /** The pod, when the endpoint is a pod or an IP that one pod owns. */
  readonly pod: Pod | undefined;
  readonly namespace: Namespace | undefined;
  /** The address traffic uses: the pod's first IP, or the given IP. */
  readonly ip: Ip | undefined;
}

/** Lookups over a snapshot, built once per snapshot. */
export class ClusterIndex {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly pods = new Map<string, Pod>();
  private readonly podByIp = new Map<string, Pod>();

  constructor(readonly snapshot: Snapshot) {
    for (const ns of snapshot.namespaces) this.namespaces.set(ns.name, ns);
    for (const pod of snapshot.pods) {
      this.pods.set(`${pod.namespace}/${pod.name}`, pod);
      // Host-network pods share their node's address; the address identifies the node, not them.
      if (pod.hostNetwork) continue;
      for (const ip of pod.ips) {
        const parsed = parseIp(ip);
        if (parsed !== undefined) this.podByIp.set(ipKey(parsed), pod);
      }
    }
  }

  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name);
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  resolve(endpoint: Endpoint): Resolved {
    if (endpoint.kind === 'pod') {
      const pod = this.pod(endpoint.namespace, endpoint.name);
      const first = pod?.ips[0];
      return {
        endpoint,
        pod,
        namespace: pod === undefined ? undefined : this.namespace(pod.namespace),
        ip: first === undefined ? undefined : parseIp(first),
      };
    }
    const ip = parseIp(endpoint.ip);
    const pod = ip === undefined ? undefined : this.podByIp.get(ipKey(ip));
    return { endpoint, pod, namespace: pod === undefined ? undefined : this.namespace(pod.namespace), ip };
  }

  /** Whether the pod is a policy subject or pod peer at all: host-network pods never are. */
  static isPolicyPod(pod: Pod | undefined): pod is Pod {
    return pod !== undefined && !pod.hostNetwork;
  }

  inPodSet(set: PodSet, pod: Pod): boolean {
    if (pod.hostNetwork) return false;
    const ns = this.namespace(pod.namespace);
    return ns !== undefined && selectorMatches(set.namespaces, ns.labels) && selectorMatches(set.pods, pod.labels);
  }

  /** Nodes that own an address. */
  nodesWithAddress(ip: Ip): Node[] {
    return this.snapshot.nodes.filter((n) => n.addresses.some((a) => sameIp(a, ip)));
  }
}

export function ipKey(ip: Ip): string {
  return `${ip.family}:${ip.value.toString(16)}`;
}

export function sameIp(text: string, ip: Ip): boolean {
  const other = parseIp(text);
  return other !== undefined && other.family === ip.family && other.value === ip.value;
}

export { cidrContains };
