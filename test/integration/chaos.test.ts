import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClusterNetworkPolicy } from '../../src/api/cnp.js';
import type { Node, Policy, Snapshot } from '../../src/api/model.js';
import { parseNode } from '../../src/api/objects.js';
import { type ControlPlane, startControlPlane } from '../../src/cluster/controlplane.js';
import { differences } from '../../src/controller/drift.js';
import type { KubeObject } from '../../src/controller/port.js';
import { translateCalico } from '../../src/translate/calico/index.js';
import { stampDigests } from '../../src/translate/digest.js';
import { clusterInformationCrds, crdDocuments, installCrdsWith } from '../harness/crds.js';
import { ApiError, Kube, waitFor } from '../harness/index.js';
import { REPO } from '../support/paths.js';
import { ApiServerProcess } from './apiserver.js';

// Chaos: two replicas with leader election, random CNP and Node churn (node sets that empty
// included), kill -9 of leader and follower, SIGTERM, API server restarts and hand edits of
// generated objects. Afterwards, within a bound, the generated objects equal the translation of
// the live CNPs and Nodes exactly (no orphan, none missing, none different), every CNP is
// Programmed at its generation, and one replica leads. Several seeds; each prints how long
// convergence took. On a control plane of its own (it restarts the API server).

const CNP = 'policy.networking.k8s.io/v1beta1';
const GNP = 'projectcalico.org/v3';
const NAMESPACE = 'cnp-system';
const SEEDS = (process.env['CNP_CHAOS_SEEDS'] ?? '1,2,3').split(',').map(Number);
const CHURN_MS = Number(process.env['CNP_CHAOS_MS'] ?? 45_000);
const CONVERGE_MS = 120_000;

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let cp: ControlPlane;
let kube: Kube;
let apiserver: ApiServerProcess;

class Replica {
  child: ChildProcess | undefined;
  log = '';
  constructor(readonly name: string) {}

  start(): void {
    this.log = '';
    this.child = spawn(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'run', '--kubeconfig', cp.kubeconfigPath, '--backend', 'calico', '--health-port', '0', '--metrics-port', '-1'], {
      env: { ...process.env, POD_NAMESPACE: NAMESPACE, CNP_OPERATOR_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.log += d));
  }

  /** The identity this process took the lease with, from its log. */
  leading(): string | undefined {
    const lines = this.log.split('\n').filter((l) => l.includes('"msg":"became leader"'));
    const last = lines.at(-1);
    return last === undefined ? undefined : (JSON.parse(last) as { identity?: string }).identity;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running()) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}

const replicas = [new Replica('chaos-a'), new Replica('chaos-b')];

async function leaseHolder(): Promise<string | undefined> {
  const lease = await kube.get('coordination.k8s.io/v1', 'Lease', 'cnp-operator', NAMESPACE);
  return (lease?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
}

function cnpSpec(rnd: () => number, nodeLabel: string): Record<string, unknown> {
  const tier = rnd() < 0.7 ? 'Admin' : 'Baseline';
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const rules = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, i) => {
    const kind = pick(['nodes', 'networks', 'namespaces'] as const);
    const to = kind === 'nodes' ? [{ nodes: { matchLabels: { role: nodeLabel } } }] : kind === 'networks' ? [{ networks: [pick(['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/25'])] }] : [{ namespaces: { matchLabels: { team: pick(['a', 'b']) } } }];
    return { name: `r${i}`, action: pick(tier === 'Admin' ? ['Accept', 'Deny', 'Pass'] : ['Accept', 'Deny']), to, ...(rnd() < 0.5 ? { protocols: [{ tcp: { destinationPort: { number: pick([80, 443, 6443]) } } }] } : {}) };
  });
  return { tier, priority: Math.floor(rnd() * 50), subject: { namespaces: { matchLabels: { team: pick(['a', 'b', 'c']) } } }, egress: rules };
}

/** What must exist: the translation of the live CNPs and Nodes. */
async function expected(): Promise<Map<string, KubeObject>> {
  const policies = (await kube.list(CNP, 'ClusterNetworkPolicy')).flatMap((o) => parseClusterNetworkPolicy(o, { origin: 'cluster' }).policy ?? []) as Policy[];
  const nodes = (await kube.list('v1', 'Node')).flatMap((o) => parseNode(o).value ?? []) as Node[];
  const snapshot: Snapshot = { policies, nodes, namespaces: [], pods: [], networkPolicies: [] };
  return new Map((stampDigests(translateCalico(snapshot, { api: GNP })).objects as KubeObject[]).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

async function managed(): Promise<Map<string, KubeObject>> {
  const out = new Map<string, KubeObject>();
  for (const kind of ['Tier', 'GlobalNetworkPolicy', 'GlobalNetworkSet']) {
    for (const o of await kube.list(GNP, kind)) {
      if ((o.metadata['labels'] as Record<string, string> | undefined)?.['app.kubernetes.io/managed-by'] === 'cnp-operator') out.set(`${kind}/${o.metadata.name}`, o as KubeObject);
    }
  }
  return out;
}

/** Why the cluster has not converged yet, or undefined when it has. */
async function notConverged(): Promise<string | undefined> {
  const want = await expected();
  const have = await managed();
  for (const key of want.keys()) if (!have.has(key)) return `missing ${key}`;
  for (const key of have.keys()) if (!want.has(key)) return `orphan ${key}`;
  for (const [key, w] of want) {
    const paths = differences(have.get(key)!, w);
    if (paths.length > 0) return `${key} differs at ${paths.join(', ')}`;
  }
  for (const c of await kube.list(CNP, 'ClusterNetworkPolicy')) {
    const p = ((c['status'] as { conditions?: { type: string; status: string; observedGeneration: number }[] } | undefined)?.conditions ?? []).find((x) => x.type === 'Programmed');
    if (p?.status !== 'True' || p.observedGeneration !== c.metadata['generation']) return `${c.metadata.name} not Programmed at generation ${String(c.metadata['generation'])}`;
  }
  const holder = await leaseHolder();
  const leaders = replicas.filter((r) => r.running() && r.leading() === holder);
  if (leaders.length !== 1) return `lease held by ${String(holder)}, which ${leaders.length} running replicas claim`;
  return undefined;
}

async function quietly(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (err) {
    // The API server may be down or the object gone: chaos.
    if (!(err instanceof ApiError) && !(err instanceof Error && /ECONNREFUSED|ECONNRESET|socket hang up|EPIPE/.test(err.message))) throw err;
  }
}

beforeAll(async () => {
  cp = await startControlPlane({
    name: 'chaos',
    stateDir: mkdtempSync(join(tmpdir(), 'cnp-chaos-')),
    beforeControllerManager: async (api) => {
      const k = Kube.fromFile(api.kubeconfigPath);
      await installCrdsWith(k, [...crdDocuments(), ...clusterInformationCrds()]);
      k.close();
    },
  });
  apiserver = new ApiServerProcess(cp);
  kube = Kube.fromFile(cp.kubeconfigPath);
  for (const apiVersion of ['crd.projectcalico.org/v1', GNP]) {
    await kube.apply({ apiVersion, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.31.7', datastoreReady: true } });
  }
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  for (const r of replicas) r.start();
}, 180_000);

afterAll(async () => {
  for (const r of replicas) await r.stop('SIGKILL');
  kube?.close();
  await apiserver?.stop();
  await cp?.stop();
});

describe('chaos with two replicas', () => {
  it.each(SEEDS)('converges after churn, kills and restarts (seed %i)', async (seed) => {
    const rnd = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const names = Array.from({ length: 12 }, (_, i) => `chaos-${seed}-${i}`);
    const nodes = Array.from({ length: 4 }, (_, i) => `chaos-node-${i}`);
    const counts: Record<string, number> = {};
    const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
    const deadline = Date.now() + CHURN_MS;
    while (Date.now() < deadline) {
      const r = rnd();
      if (r < 0.4) {
        const name = pick(names);
        if (rnd() < 0.2) {
          count('cnp delete');
          await quietly(() => kube.delete(CNP, 'ClusterNetworkPolicy', name));
        } else {
          count('cnp write');
          await quietly(() => kube.apply({ apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name }, spec: cnpSpec(rnd, pick(['x', 'y'])) }));
        }
      } else if (r < 0.65) {
        const name = pick(nodes);
        if (rnd() < 0.35) {
          count('node delete');
          await quietly(() => kube.delete('v1', 'Node', name));
        } else {
          count('node write');
          await quietly(() => kube.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { role: pick(['x', 'y', 'z']) } }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${10 + Math.floor(rnd() * 40)}` }] } }));
        }
      } else if (r < 0.8) {
        count('hand edit');
        await quietly(async () => {
          const objs = [...(await managed()).values()].filter((o) => o.kind === 'GlobalNetworkPolicy');
          if (objs.length === 0) return;
          const o = pick(objs);
          delete o.metadata.managedFields;
          (o['spec'] as Record<string, unknown>)['order'] = 1 + Math.floor(rnd() * 9999);
          await kube.request('PUT', `/apis/${GNP}/globalnetworkpolicies/${o.metadata.name}?fieldManager=hand`, o);
        });
      } else if (r < 0.88) {
        const holder = await leaseHolder().catch(() => undefined);
        const leader = replicas.find((x) => x.running() && x.leading() === holder);
        const target = rnd() < 0.5 && leader !== undefined ? leader : pick(replicas);
        const signal = rnd() < 0.75 ? 'SIGKILL' : 'SIGTERM';
        count(`${signal} ${target === leader ? 'leader' : 'a replica'}`);
        await target.stop(signal);
        target.start();
      } else if (r < 0.91) {
        count('API server restart');
        await apiserver.restart();
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + rnd() * 200));
    }
    for (const rep of replicas) if (!rep.running()) rep.start();
    const started = Date.now();
    let last: string | undefined;
    try {
      await waitFor(async () => (last = await notConverged()) === undefined, { timeout: CONVERGE_MS, interval: 500, message: 'convergence' });
    } catch (err) {
      throw new Error(`seed ${seed}: not converged: ${String(last)}\n${replicas.map((x) => `--- ${x.name}\n${x.log.split('\n').slice(-30).join('\n')}`).join('\n')}`, { cause: err });
    }
    console.log(`seed ${seed}: ${JSON.stringify(counts)}; converged ${((Date.now() - started) / 1000).toFixed(1)} s after the churn stopped`);
    expect(await notConverged()).toBeUndefined();
  }, CHURN_MS + CONVERGE_MS + 120_000);
});
