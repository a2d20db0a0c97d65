// Large-cluster benchmark of the Cilium backend on a real local control plane (not part of the
// tests): 20,000 pods in 2,000 namespaces (API objects only: created with spec.nodeName, their
// address written through the status subresource; no kubelet), 2,000 NetworkPolicies, 200 CNPs
// (bench/cluster-shape.ts), a kube-system/cilium-config and a cilium DaemonSet (Cilium 1.19,
// default settings). `cnp-operator run` as a child process; then pod churn of 20 pods/s for
// 2 minutes (new replicas with their address, deleted replicas, new pod-template-hash labels,
// now and then an app label moved) with a CNP update every 3 s. Reports the operator's CPU (from
// /proc/PID/stat), resident memory, CNP update → CCNP written latency during churn, queue depth
// over time (/metrics workqueue_depth), and CCNP writes against what the translation of the
// live objects says should change.
// Run: npm run build && npx tsx bench/cilium-cluster.ts [--namespaces 2000] [--pods-per-namespace 10]
//      [--cnps 200] [--churn-seconds 120] [--churn-rate 20] [--update-every 3] [--operator PATH]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, KubePort, ResourceType, WatchEvent } from '../src/controller/port.js';
import { agentFromCiliumConfig, translateCilium } from '../src/translate/cilium/index.js';
import { applyCiliumAgent, benchControlPlane, cpuSeconds, deployedEnv, deployedNodeArgs, operatorEnv, percentile, pool, procMemory, until } from './common.js';
import { clusterShape, podIp, podObject, shapeSnapshot, tenantCnp, tenantOf, type Json } from './cluster-shape.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const num = (k: string, d: number) => Number(args.get(k) ?? d);
const NAMESPACES = num('namespaces', 2000);
const PODS_PER_NS = num('pods-per-namespace', 10);
const CNPS = num('cnps', 200);
const CHURN_S = num('churn-seconds', 120);
const RATE = num('churn-rate', 20);
const UPDATE_EVERY_S = num('update-every', 3);
const OPERATOR = args.get('operator') ?? join(import.meta.dirname, '..', 'bin', 'cnp-operator');
const SETUP_CONCURRENCY = 24;

const say = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const type = (group: string, version: string, plural: string, kind: string, namespaced: boolean): ResourceType => ({ group, version, plural, kind, namespaced });
const T = {
  namespace: type('', 'v1', 'namespaces', 'Namespace', false),
  pod: type('', 'v1', 'pods', 'Pod', true),
  node: type('', 'v1', 'nodes', 'Node', false),
  networkPolicy: type('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true),
  cnp: type('policy.networking.k8s.io', 'v1beta1', 'clusternetworkpolicies', 'ClusterNetworkPolicy', false),
  ccnp: type('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies', 'CiliumClusterwideNetworkPolicy', false),
};
const APPLY = { fieldManager: 'bench', force: true } as const;
const CILIUM_CONFIG = { 'enable-k8s-cluster-network-policy': 'false', 'enable-node-selector-labels': 'false', 'policy-cidr-match-mode': '' };
const CILIUM_MINOR = 19;

const obj = (o: Json): KubeObject => o as unknown as KubeObject;

/** A pod as created (no status: the scheduler-less API server takes spec.nodeName as it is). */
function created(p: Json): KubeObject {
  const { status: _status, ...rest } = p;
  return obj(rest);
}

async function writeStatus(port: KubePort, p: Json): Promise<void> {
  const meta = p['metadata'] as { name: string; namespace: string };
  await port.applyStatus(T.pod, obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: meta.name, namespace: meta.namespace }, status: p['status'] }), APPLY);
}

/** Everything the operator translates, read from the API server, translated as the operator would. */
async function liveTranslation(port: KubePort): Promise<Map<string, string>> {
  const [cnps, networkPolicies, nodes, namespaces, pods] = await Promise.all([T.cnp, T.networkPolicy, T.node, T.namespace, T.pod].map(async (t) => (await port.list(t)).items));
  const j = (xs: KubeObject[] | undefined) => (xs ?? []) as unknown as Json[];
  const snapshot = shapeSnapshot({ cnps: j(cnps), networkPolicies: j(networkPolicies), nodes: j(nodes), namespaces: j(namespaces), pods: j(pods) });
  const t = translateCilium(snapshot, { agent: agentFromCiliumConfig(CILIUM_CONFIG, CILIUM_MINOR) });
  return new Map(t.objects.map((o) => [o.metadata.name, JSON.stringify((o as unknown as { specs: unknown }).specs)]));
}

interface Sample {
  readonly at: number;
  readonly cpu: number;
  readonly rss: number;
  readonly depth: number;
}

async function main(): Promise<void> {
  const shape = clusterShape({ namespaces: NAMESPACES, podsPerNamespace: PODS_PER_NS, cnps: CNPS });
  const { cp, port } = await benchControlPlane('cilium-bench');
  const results: [string, string][] = [];
  const record = (k: string, v: string) => {
    results.push([k, v]);
    say(`${k}: ${v}`);
  };
  let child: ReturnType<typeof spawn> | undefined;
  try {
    // ---- the cluster ----
    let t0 = performance.now();
    await applyCiliumAgent(port, CILIUM_CONFIG, CILIUM_MINOR);
    await pool(shape.namespaces, SETUP_CONCURRENCY, (n) => port.apply(T.namespace, obj(n), APPLY));
    await pool(shape.nodes, SETUP_CONCURRENCY, async (n) => {
      const { status, ...rest } = n;
      await port.apply(T.node, obj(rest), APPLY);
      await port.applyStatus(T.node, obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: (n['metadata'] as { name: string }).name }, status }), APPLY);
    });
    await pool(shape.networkPolicies, SETUP_CONCURRENCY, (np) => port.apply(T.networkPolicy, obj(np), APPLY));
    say(`namespaces, nodes, NetworkPolicies in ${((performance.now() - t0) / 1000).toFixed(0)} s; creating ${shape.pods.length} pods`);
    let done = 0;
    await pool(shape.pods, SETUP_CONCURRENCY, async (p) => {
      await port.apply(T.pod, created(p), APPLY);
      await writeStatus(port, p);
      if (++done % 2000 === 0) say(`${done} pods`);
    });
    await pool(shape.cnps, 8, (c) => port.apply(T.cnp, obj(c), APPLY));
    record('cluster created (namespaces, nodes, NetworkPolicies, pods with addresses, CNPs)', `${((performance.now() - t0) / 1000).toFixed(0)} s`);

    // ---- the operator ----
    const healthPort = 20000 + Math.floor(Math.random() * 20000);
    t0 = performance.now();
    // With the image's Node.js arguments and the Deployment's NODE_OPTIONS: what runs in clusters.
    child = spawn(process.execPath, [...deployedNodeArgs(), OPERATOR, 'run', '--kubeconfig', cp.kubeconfigPath, '--leader-elect=false', '--backend', 'cilium', '--health-port', String(healthPort), '--metrics-port', String(healthPort), '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'], env: operatorEnv(deployedEnv(), undefined) });
    const pid = child.pid!;
    const programmed = async () => {
      const list = await port.list(T.cnp);
      return list.items.filter((o) => ((o['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Programmed' && c.status === 'True')).length;
    };
    await until(async () => (await programmed()) >= shape.cnps.length, 2000);
    record(`cold start: all ${shape.cnps.length} CNPs Programmed`, `${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const metrics = async () => fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text());
    const depthOf = (text: string) => [...text.matchAll(/^workqueue_depth\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    // Quiet first: the analysis and status writes of the cold start are done.
    await until(async () => depthOf(await metrics()) === 0, 1000);
    await new Promise((r) => setTimeout(r, 5000));
    const before = await liveTranslation(port);
    say(`live translation: ${before.size} CCNPs; churn of ${RATE} pods/s for ${CHURN_S} s with a CNP update every ${UPDATE_EVERY_S} s`);

    // ---- watch the CCNPs ----
    const ccnpEvents: { type: string; name: string; at: number }[] = [];
    const waiting = new Map<string, { port: string; resolve: (at: number) => void }>();
    const abort = new AbortController();
    const initial = await port.list(T.ccnp);
    void port
      .watch(T.ccnp, { resourceVersion: initial.resourceVersion, timeoutSeconds: CHURN_S + 600, allowWatchBookmarks: false }, (e: WatchEvent) => {
        if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
        const at = performance.now();
        ccnpEvents.push({ type: e.type, name: e.object.metadata.name, at });
        const w = waiting.get(e.object.metadata.name);
        if (w !== undefined && JSON.stringify(e.object['specs']).includes(`"port":"${w.port}"`)) w.resolve(at);
      }, abort.signal)
      .catch(() => undefined);

    // ---- sampling ----
    const samples: Sample[] = [];
    let lastCpu = cpuSeconds(pid);
    let lastAt = performance.now();
    const sampler = setInterval(() => {
      void (async () => {
        const used = cpuSeconds(pid);
        const at = performance.now();
        const cpu = (used - lastCpu) / ((at - lastAt) / 1000);
        lastCpu = used;
        lastAt = at;
        const depth = depthOf(await metrics().catch(() => ''));
        samples.push({ at, cpu, rss: procMemory(pid, 'VmRSS'), depth });
      })();
    }, 1000);
    const loadBefore = loadavg()[0]!;

    // ---- churn ----
    const alive = shape.pods.slice(3).map((p) => p); // the system pods stay
    let serial = 0;
    const counts = { create: 0, delete: 0, relabel: 0, app: 0, failed: 0 };
    const churnOne = async (i: number): Promise<void> => {
      const kind = i % 20 === 19 ? 'app' : (['create', 'delete', 'relabel'] as const)[i % 3]!;
      try {
        if (kind === 'create') {
          const ns = Math.floor(Math.random() * NAMESPACES);
          const app = (['web', 'api', 'worker', 'db'] as const)[serial % 4]!;
          const p = podObject(`ns-${String(ns).padStart(5, '0')}`, `${app}-churn-${serial}`, app, 100_000 + serial, 50);
          (p['status'] as { podIP: string; podIPs: { ip: string }[] }).podIP = podIp(100_000 + serial);
          serial++;
          await port.apply(T.pod, created(p), APPLY);
          await writeStatus(port, p);
          alive.push(p);
          counts.create++;
        } else if (kind === 'delete') {
          const j = Math.floor(Math.random() * alive.length);
          const p = alive[j]!;
          alive.splice(j, 1);
          const meta = p['metadata'] as { name: string; namespace: string };
          await port.delete(T.pod, meta.name, { namespace: meta.namespace });
          counts.delete++;
        } else {
          const p = alive[Math.floor(Math.random() * alive.length)]!;
          const meta = p['metadata'] as { name: string; namespace: string; labels: Record<string, string> };
          meta.labels = kind === 'app' ? { ...meta.labels, app: meta.labels['app'] === 'web' ? 'api' : 'web' } : { ...meta.labels, 'pod-template-hash': `r${serial++}` };
          await port.apply(T.pod, created(p), APPLY);
          counts[kind === 'app' ? 'app' : 'relabel']++;
        }
      } catch (err) {
        counts.failed++;
        if (counts.failed < 5) say(`churn ${kind} failed: ${String(err)}`);
      }
    };
    const latencies: number[] = [];
    const updated = new Set<string>();
    const updates: Promise<void>[] = [];
    const start = performance.now();
    let issued = 0;
    let u = 0;
    const inFlight = new Set<Promise<void>>();
    while (performance.now() - start < CHURN_S * 1000) {
      const elapsed = performance.now() - start;
      while (issued < (elapsed / 1000) * RATE) {
        const p = churnOne(issued++);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      if (elapsed >= (u + 1) * UPDATE_EVERY_S * 1000) {
        // A tenant CNP's partner-api port, a new number each time.
        const t = 1 + ((u * 7) % Math.max(1, CNPS - 10));
        const tenant = tenantOf(t * 10, 10);
        const cnp = tenantCnp(tenant, t) as { metadata: { name: string }; spec: { egress: { protocols?: { tcp?: { destinationPort: { number: number } } }[] }[] } };
        const newPort = 20000 + u;
        cnp.spec.egress[1]!.protocols = [{ tcp: { destinationPort: { number: newPort } } }];
        const name = `cnp-${cnp.metadata.name}`;
        updated.add(name);
        const seen = new Promise<number>((resolve) => waiting.set(name, { port: String(newPort), resolve }));
        const began = performance.now();
        updates.push(
          (async () => {
            await port.apply(T.cnp, obj(cnp as unknown as Json), APPLY);
            const at = await Promise.race([seen, new Promise<number>((r) => setTimeout(() => r(NaN), 60_000))]);
            latencies.push(at - began);
            waiting.delete(name);
          })(),
        );
        u++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const churnSeconds = (performance.now() - start) / 1000;
    await Promise.all([...inFlight]);
    await Promise.all(updates);
    const loadAfter = loadavg()[0]!;
    // Let the queue drain, then count.
    await until(async () => depthOf(await metrics()) === 0, 1000, 120_000);
    await new Promise((r) => setTimeout(r, 5000));
    clearInterval(sampler);
    abort.abort();

    // ---- what should have changed ----
    const after = await liveTranslation(port);
    const shouldChange = [...new Set([...before.keys(), ...after.keys()])].filter((n) => before.get(n) !== after.get(n)).sort();
    const writes = ccnpEvents.filter((e) => e.at >= start);
    const unexplained = writes.filter((e) => !shouldChange.includes(e.name));
    const perName = new Map<string, number>();
    for (const e of writes) perName.set(e.name, (perName.get(e.name) ?? 0) + 1);

    // ---- report ----
    const during = samples.filter((s) => s.at >= start && s.at <= start + churnSeconds * 1000);
    const cpu = during.map((s) => s.cpu);
    latencies.sort((a, b) => a - b);
    const missed = latencies.filter((l) => Number.isNaN(l)).length;
    const seen = latencies.filter((l) => !Number.isNaN(l));
    const thirds = [0, 1, 2].map((k) => during.filter((_, i) => Math.floor((i * 3) / during.length) === k));
    const maxDepth = (xs: readonly Sample[]) => Math.max(0, ...xs.map((s) => s.depth));
    record('churn', `${churnSeconds.toFixed(0)} s at ${RATE} pods/s: ${counts.create} created (with address), ${counts.delete} deleted, ${counts.relabel} relabelled (pod-template-hash), ${counts.app} app label moved, ${counts.failed} failed; ${u} CNP updates`);
    record('operator CPU during churn (mean / peak 1-s sample)', `${((100 * cpu.reduce((a, b) => a + b, 0)) / Math.max(1, cpu.length)).toFixed(1)} % / ${(100 * Math.max(0, ...cpu)).toFixed(0)} % of one core`);
    record('operator memory (VmRSS at end / peak VmHWM)', `${procMemory(pid, 'VmRSS').toFixed(0)} MiB / ${procMemory(pid, 'VmHWM').toFixed(0)} MiB`);
    record('CNP update → CCNP written during churn (p50 / p99 / max)', `${percentile(seen, 50).toFixed(0)} ms / ${percentile(seen, 99).toFixed(0)} ms / ${Math.max(...seen).toFixed(0)} ms (${seen.length} updates${missed > 0 ? `, ${missed} not seen in 60 s` : ''})`);
    record('queue depth (max in each third of the churn)', thirds.map(maxDepth).join(' / '));
    record('CCNP writes during churn', `${writes.length} (${writes.filter((e) => e.type === 'MODIFIED').length} MODIFIED); translate of the live objects says ${shouldChange.length} CCNPs should change (${shouldChange.every((n) => updated.has(n)) ? 'all of them the updated CNPs\'' : 'not only the updated CNPs\''}); writes to other CCNPs: ${unexplained.length}; most writes to one CCNP: ${Math.max(0, ...perName.values())}`);
    record('load average (1 min) before / after churn', `${loadBefore.toFixed(1)} / ${loadAfter.toFixed(1)} (2 cores, shared)`);
  } finally {
    if (child !== undefined) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    port.close();
    await cp.stop();
  }
  process.stdout.write(`\n| benchmark | result |\n| --- | --- |\n${results.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
}

await main();
