import { join } from 'node:path';
import type { Node, Pod, Snapshot } from '../../../src/api/model.js';
import type { Endpoint, Flow } from '../../../src/semantics/flow.js';
import { translateCalico } from '../../../src/translate/calico/index.js';
import type { KubeObject } from '../../harness/client.js';
import { type Observed, ProbeAgent, type ProbeRequest } from './agent.js';
import { waitWhileAlive } from './alive.js';
import { type CalicoVersion, felixBinary, nftablesBundle, probeBinary } from './builds.js';
import { type LabCluster, startLabCluster } from './cluster.js';
import { type Dataplane, Felix } from './felix.js';
import { Fence } from './fence.js';
import { liveDifference } from './live.js';
import { LabNetwork, type WiredPod } from './network.js';
import { OperatorProcess } from './operator.js';
import { endpointIp, type Ports } from './placement.js';
import { applyNamespace, applyNode, createPod, deletePod, podIdentity, relabelPod } from './workload.js';

// One lab: a control plane set up as a Calico cluster of one version, one Felix node with its
// pods as network namespaces, the peer namespace for everything off the node, the probe agent,
// and (mode 'operator') cnp-operator writing the Calico objects. Mode 'native' has no operator
// (Calico 3.32 enforces CNPs itself); mode 'direct' lets a test write Calico objects itself.

export type LabMode = 'operator' | 'native' | 'direct';

export interface LabOptions {
  readonly version: CalicoVersion;
  readonly dataplane: Dataplane;
  readonly mode: LabMode;
  /** The node Felix runs as; it must be one of the snapshots' nodes. */
  readonly felixNode: string;
  readonly felixNodeIp: string;
}

/** What to put in the cluster: a snapshot already placed on the lab (placement.ts). */
export interface LabState {
  readonly snapshot: Snapshot;
  /** ClusterNetworkPolicies and NetworkPolicies as a user writes them. */
  readonly policies: readonly KubeObject[];
  /** Addresses to answer on, with their ports. */
  readonly listen: ReadonlyMap<string, Ports>;
}

export interface Observation {
  readonly flow: Flow;
  readonly observed: Observed;
  readonly detail: string;
}

const CALICO_API = 'crd.projectcalico.org/v1';
const PROBE_CONCURRENCY = 48;

const objectKey = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const podKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;
const portsKey = (p: Ports): string => JSON.stringify([[...p.TCP].sort(), [...p.UDP].sort(), [...p.SCTP].sort()]);

export class Lab {
  private readonly namespaces = new Map<string, string>();
  private readonly nodes = new Map<string, string>();
  private readonly pods = new Map<string, { pod: Pod; identity: string; labels: string; wired?: WiredPod }>();
  private readonly served = new Map<string, { netns: string; ports: string }>();
  private policies = new Map<string, KubeObject>();
  private backend = new Map<string, KubeObject>();
  private snapshot: Snapshot | undefined;

  private constructor(
    readonly options: LabOptions,
    readonly cluster: LabCluster,
    readonly agent: ProbeAgent,
    readonly network: LabNetwork,
    readonly felix: Felix,
    private readonly fence: Fence,
    readonly operator: OperatorProcess | undefined,
  ) {}

  /** Starts everything; on failure, stops what it started and rethrows. */
  static async start(options: LabOptions): Promise<Lab> {
    const [felixBin, probeBin, nftDir] = await Promise.all([
      felixBinary(options.version),
      probeBinary(),
      options.dataplane === 'nftables' ? nftablesBundle() : Promise.resolve(undefined),
    ]);
    const undo: (() => Promise<void>)[] = [];
    try {
      const cluster = await startLabCluster(options.version);
      undo.push(() => cluster.stop());
      const agent = await ProbeAgent.start(probeBin);
      undo.push(() => agent.stop());
      const network = await LabNetwork.create(options.felixNodeIp);
      undo.push(() => network.destroy());
      // Felix reaches the API server at the kubeconfig's address, from inside the node.
      const api = new URL(cluster.kube.server).host;
      await agent.forward(network.node, api, api);
      const fence = new Fence(cluster.kube, options.felixNode, options.mode === 'native');
      await fence.install(network);
      const felix = Felix.start({
        binary: felixBin,
        version: options.version,
        netns: network.node,
        nodeName: options.felixNode,
        kubeconfig: cluster.kubeconfig,
        dataplane: options.dataplane,
        ...(nftDir === undefined ? {} : { nftDir }),
        logFile: join(cluster.stateDir, `felix-${options.dataplane}.log`),
      });
      undo.push(() => felix.stop());
      await felix.waitReady(agent);
      let operator: OperatorProcess | undefined;
      if (options.mode === 'operator') {
        operator = OperatorProcess.start(cluster.kubeconfig, join(cluster.stateDir, 'operator.log'));
        undo.push(() => operator!.stop());
      }
      return new Lab(options, cluster, agent, network, felix, fence, operator);
    } catch (err) {
      for (const u of undo.reverse()) await u().catch(() => undefined);
      throw err;
    }
  }

  get label(): string {
    return `felix v${this.options.version} ${this.options.dataplane}`;
  }

  /** Makes the cluster and the lab's namespaces match the state (only what changed is written). */
  async apply(state: LabState): Promise<void> {
    const kube = this.cluster.kube;
    const s = state.snapshot;
    for (const ns of s.namespaces) {
      const labels = JSON.stringify(ns.labels);
      if (this.namespaces.get(ns.name) === labels) continue;
      await applyNamespace(kube, ns);
      this.namespaces.set(ns.name, labels);
    }
    await this.applyNodes(s.nodes);
    await this.applyPods(s.pods);
    await this.applyPeerAddresses(s, state.listen);
    await this.serve(s, state.listen);
    this.policies = await this.sync(this.policies, state.policies, 'calico-lab-user');
    this.snapshot = s;
  }

  /** Mode 'direct': these Calico objects replace the ones written before. */
  async applyBackend(objects: readonly KubeObject[]): Promise<void> {
    if (this.options.mode !== 'direct') throw new Error('only a direct-mode lab takes Calico objects from the test');
    this.backend = await this.sync(this.backend, objects, 'calico-lab-direct');
  }

  private async sync(before: Map<string, KubeObject>, objects: readonly KubeObject[], fieldManager: string): Promise<Map<string, KubeObject>> {
    const kube = this.cluster.kube;
    const after = new Map(objects.map((o) => [objectKey(o), o]));
    for (const [key, old] of before) {
      if (!after.has(key)) await kube.delete(old.apiVersion, old.kind, old.metadata.name, old.metadata.namespace);
    }
    for (const [key, obj] of after) {
      if (JSON.stringify(before.get(key)) === JSON.stringify(obj)) continue;
      await kube.apply(obj, { fieldManager });
    }
    return after;
  }

  private async applyNodes(nodes: readonly Node[]): Promise<void> {
    const kube = this.cluster.kube;
    const wanted = new Set(nodes.map((n) => n.name));
    for (const name of [...this.nodes.keys()]) {
      if (wanted.has(name)) continue;
      await kube.delete('v1', 'Node', name);
      this.nodes.delete(name);
    }
    for (const node of nodes) {
      const text = JSON.stringify(node);
      if (this.nodes.get(node.name) === text) continue;
      await applyNode(kube, node);
      this.nodes.set(node.name, text);
    }
  }

  private async applyPods(pods: readonly Pod[]): Promise<void> {
    const kube = this.cluster.kube;
    const wanted = new Map(pods.map((p) => [podKey(p), p]));
    for (const [key, have] of [...this.pods]) {
      const want = wanted.get(key);
      if (want !== undefined && podIdentity(want) === have.identity) continue;
      await deletePod(kube, have.pod.namespace, have.pod.name);
      if (have.wired !== undefined) {
        await this.unserve(have.wired.ip);
        await this.network.removePod(have.wired);
      }
      this.pods.delete(key);
    }
    for (const pod of pods) {
      const key = podKey(pod);
      const labels = JSON.stringify(pod.labels);
      const have = this.pods.get(key);
      if (have !== undefined) {
        if (have.labels !== labels) {
          await relabelPod(kube, pod);
          have.labels = labels;
          have.pod = pod;
        }
        continue;
      }
      if (!pod.hostNetwork && pod.nodeName !== this.options.felixNode) throw new Error(`pod ${key} is not placed on the Felix node`);
      const ip = pod.ips.find((a) => !a.includes(':'));
      if (ip === undefined) throw new Error(`pod ${key} has no IPv4 address`);
      const wired = pod.hostNetwork ? undefined : await this.network.addPod(pod.namespace, pod.name, ip);
      await createPod(kube, pod);
      this.pods.set(key, { pod, identity: podIdentity(pod), labels, ...(wired === undefined ? {} : { wired }) });
    }
  }

  /** Other nodes' addresses (where host-network pods live) and any outside address a flow uses. */
  private async applyPeerAddresses(s: Snapshot, listen: ReadonlyMap<string, Ports>): Promise<void> {
    const podIps = new Set([...this.pods.values()].flatMap((p) => (p.wired === undefined ? [] : [p.wired.ip])));
    const wanted = new Set<string>();
    for (const n of s.nodes) for (const a of n.addresses) if (!a.includes(':') && a !== this.options.felixNodeIp) wanted.add(a);
    for (const ip of listen.keys()) if (!podIps.has(ip) && ip !== this.options.felixNodeIp) wanted.add(ip);
    for (const ip of this.network.peerAddressList()) {
      if (wanted.has(ip)) continue;
      await this.unserve(ip);
      await this.network.removePeerAddress(ip);
    }
    for (const ip of wanted) await this.network.addPeerAddress(ip);
  }

  /** The namespace holding an address: a pod's own, or the peer namespace. */
  private netnsOf(ip: string): string {
    for (const p of this.pods.values()) if (p.wired?.ip === ip) return p.wired.netns;
    if (ip === this.options.felixNodeIp) return this.network.node;
    if (this.network.peerAddressList().includes(ip)) return this.network.peer;
    throw new Error(`no lab namespace has the address ${ip}`);
  }

  private async serve(_s: Snapshot, listen: ReadonlyMap<string, Ports>): Promise<void> {
    for (const ip of [...this.served.keys()]) if (!listen.has(ip)) await this.unserve(ip);
    for (const [ip, ports] of listen) {
      const netns = this.netnsOf(ip);
      const key = portsKey(ports);
      const have = this.served.get(ip);
      if (have !== undefined && have.netns === netns && have.ports === key) continue;
      if (have !== undefined) await this.unserve(ip);
      await this.agent.serve(netns, ip, { tcp: [...ports.TCP], udp: [...ports.UDP], sctp: [...ports.SCTP] });
      this.served.set(ip, { netns, ports: key });
    }
  }

  private async unserve(ip: string): Promise<void> {
    const have = this.served.get(ip);
    if (have === undefined) return;
    await this.agent.unserve(have.netns, ip);
    this.served.delete(ip);
  }

  /**
   * Waits until what was applied is enforced: in mode 'operator', until the operator's objects
   * equal `translate` of the applied snapshot; then until Felix has programmed a fence written
   * after everything else (fence.ts).
   */
  async settle(timeout = 120_000): Promise<void> {
    if (this.options.mode === 'operator') {
      if (this.snapshot === undefined) throw new Error('nothing applied yet');
      const expected = translateCalico(this.snapshot, { api: CALICO_API }).objects;
      await waitWhileAlive(
        async () => {
          const diff = await liveDifference(this.cluster.kube, expected);
          if (diff !== undefined) throw new Error(diff);
          return true;
        },
        () => {
          this.operator?.assertRunning();
          this.felix.assertRunning();
        },
        { timeout, interval: 250, message: "the operator's Calico objects to equal `translate` of the applied snapshot" },
      );
    }
    await this.fence.pass(this.felix, timeout);
  }

  private source(e: Endpoint): { netns: string; ip: string } {
    const s = this.snapshot!;
    const ip = endpointIp(s, e);
    return { netns: this.netnsOf(ip), ip };
  }

  /** Sends every flow as real packets, concurrently; results in the flows' order. */
  async probe(flows: readonly Flow[]): Promise<Observation[]> {
    const s = this.snapshot;
    if (s === undefined) throw new Error('nothing applied yet');
    const out: Observation[] = new Array(flows.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < flows.length) {
        const i = next++;
        const flow = flows[i]!;
        const from = this.source(flow.from);
        const req: ProbeRequest = { netns: from.netns, src: from.ip, dst: endpointIp(s, flow.to), port: flow.port, protocol: flow.protocol };
        const r = await this.agent.probe(req);
        out[i] = { flow, observed: r.observed, detail: r.detail };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, flows.length) }, worker));
    this.felix.assertRunning();
    return out;
  }

  /** Stops everything, even after failures; reports what could not be cleaned up. */
  async stop(): Promise<void> {
    const errors: string[] = [];
    const step = async (what: string, f: () => Promise<void>): Promise<void> => {
      try {
        await f();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (this.operator !== undefined) await step('operator', () => this.operator!.stop());
    await step('Felix', () => this.felix.stop());
    await step('probe agent', () => this.agent.stop());
    await step('network namespaces', () => this.network.destroy());
    await step('control plane', () => this.cluster.stop());
    if (errors.length > 0) throw new Error(`lab clean-up failed: ${errors.join('; ')}`);
  }
}
