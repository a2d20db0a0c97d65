import { createHash } from 'node:crypto';
import { inNetns, ipBatch, run } from './exec.js';

// The lab's network: network namespaces standing in for one Kubernetes node (where Felix runs),
// its pods, and "the rest of the network" (other nodes' addresses, host-network pods on them,
// an outside address). Nothing is configured in the test's own namespace; deleting the
// namespaces removes every interface, route and netfilter rule the lab or Felix made.
//
//   pod netns (eth0, IP/32) ==veth== caliXXXXXXXXXXX  [node netns: Felix]  lab-up ==veth== lab-down  [peer netns]
//
// Pods are wired the way Calico's CNI plugin wires them: host-side interface named by
// VethNameForWorkload, MAC ee:ee:ee:ee:ee:ee, proxy ARP, a /32 route to the pod on the host, and
// inside the pod a default route through the link-local gateway 169.254.1.1.

export const LAB_PREFIX = 'cnpl';
/** The peer namespace's own address: the node's default gateway. Never a policy endpoint. */
const PEER_GATEWAY = '172.18.255.254';
const NODE_PREFIX_LEN = 16;

/** Calico's host-side interface name for a pod (libcalico-go `VethNameForWorkload`). */
export function vethName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

export interface WiredPod {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly netns: string;
  readonly iface: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

export class LabNetwork {
  private podCount = 0;
  private readonly peerAddresses = new Set<string>();
  private readonly pods = new Map<string, WiredPod>();
  private readonly created: string[] = [];

  private constructor(
    readonly prefix: string,
    /** Where Felix runs. */
    readonly node: string,
    /** Other nodes, their host-network pods, the outside world. */
    readonly peer: string,
    readonly nodeIp: string,
  ) {}

  /**
   * Namespaces are named after the test process, so a run that was killed before its clean-up
   * can be recognised (its process is gone) and its namespaces removed by the next run.
   */
  static async create(nodeIp: string): Promise<LabNetwork> {
    await sweepAbandoned();
    const id = `${LAB_PREFIX}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const net = new LabNetwork(id, `${id}-node`, `${id}-peer`, nodeIp);
    try {
      await net.setUp();
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  private async addNetns(name: string): Promise<void> {
    await run('ip', ['netns', 'add', name]);
    this.created.push(name);
  }

  private async setUp(): Promise<void> {
    await this.addNetns(this.node);
    await this.addNetns(this.peer);
    await ipBatch(
      [
        'link set lo up',
        `link add lab-up type veth peer name lab-down netns ${this.peer}`,
        `addr add ${this.nodeIp}/${NODE_PREFIX_LEN} dev lab-up`,
        'link set lab-up up',
        `route add default via ${PEER_GATEWAY} dev lab-up`,
      ],
      this.node,
    );
    await ipBatch(
      [
        'link set lo up',
        `addr add ${PEER_GATEWAY}/${NODE_PREFIX_LEN} dev lab-down`,
        'link set lab-down up',
        `route add 10.0.0.0/8 via ${this.nodeIp} dev lab-down`,
      ],
      this.peer,
    );
    // A node forwards between its pods and the network (calico-node's start-up sets this).
    await inNetns(this.node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  }

  /** Gives the peer namespace an address (another node's, or an outside one). */
  async addPeerAddress(ip: string): Promise<void> {
    if (this.peerAddresses.has(ip)) return;
    await ipBatch([`addr add ${ip}/32 dev lab-down`], this.peer);
    this.peerAddresses.add(ip);
  }

  async removePeerAddress(ip: string): Promise<void> {
    if (!this.peerAddresses.delete(ip)) return;
    await ipBatch([`addr del ${ip}/32 dev lab-down`], this.peer);
  }

  peerAddressList(): string[] {
    return [...this.peerAddresses];
  }

  /** A pod on the Felix node, wired as Calico's CNI plugin would. */
  async addPod(namespace: string, name: string, ip: string): Promise<WiredPod> {
    const key = `${namespace}/${name}`;
    if (this.pods.has(key)) throw new Error(`pod ${key} is already wired`);
    const netns = `${this.prefix}-p${this.podCount++}`;
    const iface = vethName(namespace, name);
    await this.addNetns(netns);
    await ipBatch(
      [
        `link add ${iface} type veth peer name eth0 netns ${netns}`,
        `link set ${iface} address ee:ee:ee:ee:ee:ee`,
        `link set ${iface} up`,
        `route replace ${ip}/32 dev ${iface} scope link`,
      ],
      this.node,
    );
    await inNetns(this.node, 'sysctl', [
      '-qw',
      `net.ipv4.conf.${iface}.proxy_arp=1`,
      `net.ipv4.neigh.${iface}.proxy_delay=0`,
      `net.ipv4.conf.${iface}.forwarding=1`,
    ]);
    await ipBatch(
      [
        'link set lo up',
        `addr add ${ip}/32 dev eth0`,
        'link set eth0 up',
        'route add 169.254.1.1 dev eth0 scope link',
        'route add default via 169.254.1.1 dev eth0',
      ],
      netns,
    );
    const pod: WiredPod = { namespace, name, ip, netns, iface };
    this.pods.set(key, pod);
    return pod;
  }

  /**
   * The veth goes first and explicitly: a deleted namespace is torn down asynchronously, and a
   * pod of the same name (hence the same interface name) may be wired right after.
   */
  async removePod(pod: WiredPod): Promise<void> {
    await ipBatch([`link del ${pod.iface}`], this.node);
    await run('ip', ['netns', 'del', pod.netns]);
    this.pods.delete(`${pod.namespace}/${pod.name}`);
    const i = this.created.indexOf(pod.netns);
    if (i >= 0) this.created.splice(i, 1);
  }

  /** Removes every namespace this lab created; safe to call twice and after a partial set-up. */
  async destroy(): Promise<void> {
    const errors: string[] = [];
    for (const name of [...this.created].reverse()) {
      try {
        await run('ip', ['netns', 'del', name]);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    this.created.length = 0;
    this.pods.clear();
    if (errors.length > 0) throw new Error(`lab clean-up: ${errors.join('; ')}`);
  }
}

/** Namespaces of lab runs whose test process no longer exists (killed before clean-up). */
async function sweepAbandoned(): Promise<void> {
  for (const name of await listNetns()) {
    const m = new RegExp(`^${LAB_PREFIX}-(\\d+)-`).exec(name);
    if (m === null || pidAlive(Number(m[1]))) continue;
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
  }
}
