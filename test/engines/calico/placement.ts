import type { Pod, Protocol, Snapshot } from '../../../src/api/model.js';
import type { Endpoint, Flow } from '../../../src/semantics/flow.js';

// The lab has one Felix node. A snapshot spreads pods over several nodes; here every (non
// host-network) pod moves to the Felix node, so Felix enforces both ends of every flow, and
// host-network pods stay on (or move to) the other nodes, which the peer namespace plays. Pod
// addresses do not change. The moved snapshot is the one the lab applies, translates and
// judges: the reference evaluator and the translation see exactly the cluster Felix sees.

export interface Placement {
  readonly snapshot: Snapshot;
  readonly felixNode: string;
  readonly felixNodeIp: string;
}

function v4(ips: readonly string[]): string | undefined {
  return ips.find((ip) => !ip.includes(':'));
}

export function placeOnFelixNode(snapshot: Snapshot, felixNode: string): Placement {
  const node = snapshot.nodes.find((n) => n.name === felixNode);
  const felixNodeIp = node === undefined ? undefined : v4(node.addresses);
  if (felixNodeIp === undefined) throw new Error(`the snapshot has no node ${felixNode} with an IPv4 address`);
  const other = snapshot.nodes.find((n) => n.name !== felixNode && v4(n.addresses) !== undefined);
  const pods = snapshot.pods.map((p): Pod => {
    if (!p.hostNetwork) return p.nodeName === felixNode ? p : { ...p, nodeName: felixNode };
    if (p.nodeName !== felixNode) return p;
    // A host-network pod on the Felix node would be Felix's own host; the lab has it elsewhere.
    if (other === undefined) throw new Error(`host-network pod ${p.namespace}/${p.name} needs a second node`);
    return { ...p, nodeName: other.name, ips: other.addresses };
  });
  return { snapshot: { ...snapshot, pods }, felixNode, felixNodeIp };
}

export interface Ports {
  readonly TCP: Set<number>;
  readonly UDP: Set<number>;
  readonly SCTP: Set<number>;
}

export function emptyPorts(): Ports {
  return { TCP: new Set(), UDP: new Set(), SCTP: new Set() };
}

/** The address an endpoint has in the lab (IPv4). */
export function endpointIp(snapshot: Snapshot, e: Endpoint): string {
  if (e.kind === 'ip') return e.ip;
  const pod = snapshot.pods.find((p) => p.namespace === e.namespace && p.name === e.name);
  const ip = pod === undefined ? undefined : v4(pod.ips);
  if (ip === undefined) throw new Error(`no IPv4 address for pod ${e.namespace}/${e.name}`);
  return ip;
}

/**
 * What to listen on, per address: every (protocol, port) some flow targets there. The
 * conformance suite only probes ports its agnhost containers listen on, so this is their
 * listening set for the probes that matter.
 */
export function listeners(snapshot: Snapshot, flows: readonly Flow[]): Map<string, Ports> {
  const out = new Map<string, Ports>();
  for (const f of flows) {
    const ip = endpointIp(snapshot, f.to);
    let ports = out.get(ip);
    if (ports === undefined) out.set(ip, (ports = emptyPorts()));
    ports[f.protocol as Protocol].add(f.port);
  }
  return out;
}
