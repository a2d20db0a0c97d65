// The Cilium backend with many CNPs on a real local control plane (not part of the tests): the
// CNPs of bench/operator.ts (bench-cnp.ts, those of the Calico memory figure) on a small cluster
// their selectors match — namespaces of the benchmark's 20 teams, pods with the apps its rules
// name and their addresses (API objects only, no kubelet), a cilium-config and a cilium
// DaemonSet (Cilium 1.19, default settings). `cnp-operator run --backend cilium` as a child with
// the Deployment's Node.js options. Reports the time until all CNPs are Programmed, resident
// memory (at convergence, settled a minute after the updates, peak), the V8 heap, the CCNPs
// written, and CNP update → CCNP changed latency.
// Run: npm run build && npx tsx bench/cilium-memory.ts [--cnps 5000] [--namespaces 100]
//      [--pods 1000] [--updates 20] [--settle-seconds 60]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, ResourceType, WatchEvent } from '../src/controller/port.js';
import { benchCnp } from './bench-cnp.js';
import { nodeObject, podObject, type Json } from './cluster-shape.js';
import { applyCiliumAgent, benchControlPlane, CNP_TYPE, cpuSeconds, deployedEnv, deployedNodeArgs, freePort, operatorEnv, percentile, pool, procMemory, programmedTracker, until } from './common.js';

const args = new Map<string, number>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), Number(process.argv[i + 1]));
const CNPS = args.get('cnps') ?? 5000;
const NAMESPACES = args.get('namespaces') ?? 100;
const PODS = args.get('pods') ?? 1000;
const UPDATES = args.get('updates') ?? 20;
const SETTLE_S = args.get('settle-seconds') ?? 60;
const NODES = 10;
/** bench-cnp.ts's subjects and peers: namespaces labelled team t0–t19, pods labelled app a0–a6. */
const TEAMS = 20;
const APPS = 7;

const say = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const type = (group: string, version: string, plural: string, kind: string, namespaced: boolean): ResourceType => ({ group, version, plural, kind, namespaced });
const T = {
  namespace: type('', 'v1', 'namespaces', 'Namespace', false),
  pod: type('', 'v1', 'pods', 'Pod', true),
  node: type('', 'v1', 'nodes', 'Node', false),
  ccnp: type('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies', 'CiliumClusterwideNetworkPolicy', false),
};
const APPLY = { fieldManager: 'bench', force: true } as const;
const CILIUM_MINOR = 19;
const obj = (o: Json): KubeObject => o as unknown as KubeObject;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** Updated CNPs use ports from here on, which no created CNP uses: the changed CCNP is recognised by them. */
const UPDATE_PORTS = 40000;

async function main(): Promise<void> {
  const { cp, port } = await benchControlPlane('cilium-memory');
  const results: [string, string][] = [];
  const record = (k: string, v: string) => {
    results.push([k, v]);
    say(`${k}: ${v}`);
  };
  let child: ReturnType<typeof spawn> | undefined;
  let stopping = false;
  try {
    // ---- the cluster ----
    await applyCiliumAgent(port, { 'enable-k8s-cluster-network-policy': 'false' }, CILIUM_MINOR);
    await pool(Array.from({ length: NODES }, (_, i) => nodeObject(i)), 8, async (n) => {
      const { status, ...rest } = n;
      await port.apply(T.node, obj(rest), APPLY);
      await port.applyStatus(T.node, obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: (n['metadata'] as { name: string }).name }, status }), APPLY);
    });
    const nsName = (i: number) => `team-ns-${String(i).padStart(4, '0')}`;
    await pool(Array.from({ length: NAMESPACES }, (_, i) => i), 8, (i) => port.apply(T.namespace, obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsName(i), labels: { team: `t${i % TEAMS}` } } }), APPLY));
    await pool(Array.from({ length: PODS }, (_, i) => i), 8, async (i) => {
      const p = podObject(nsName(i % NAMESPACES), `pod-${i}`, `a${i % APPS}`, i, NODES);
      const { status, ...rest } = p;
      const meta = p['metadata'] as { name: string; namespace: string };
      await port.apply(T.pod, obj(rest), APPLY);
      await port.applyStatus(T.pod, obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: meta.name, namespace: meta.namespace }, status }), APPLY);
    });
    say(`creating ${CNPS} CNPs`);
    await pool(Array.from({ length: CNPS }, (_, i) => i), 8, (i) => port.apply(CNP_TYPE, obj(benchCnp(i)), APPLY));
    const tracker = await programmedTracker(port);

    // ---- the operator ----
    const healthPort = await freePort();
    const loadBefore = loadavg()[0]!;
    const started = performance.now();
    // CNP_BENCH_NODE_ARGS replaces the image's Node.js arguments (options NODE_OPTIONS refuses, e.g. --cpu-prof --cpu-prof-dir=DIR).
    const nodeArgs = process.env['CNP_BENCH_NODE_ARGS'] === undefined ? deployedNodeArgs() : process.env['CNP_BENCH_NODE_ARGS'].split(' ').filter((a) => a !== '');
    child = spawn(process.execPath, [...nodeArgs, join(import.meta.dirname, '..', 'bin', 'cnp-operator'), 'run', '--kubeconfig', cp.kubeconfigPath, '--leader-elect=false', '--backend', 'cilium', '--health-port', String(healthPort), '--metrics-port', String(healthPort), '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'], env: operatorEnv({ ...deployedEnv(), ...(process.env['CNP_BENCH_NODE_OPTIONS'] === undefined ? {} : { NODE_OPTIONS: process.env['CNP_BENCH_NODE_OPTIONS'] }) }, process.env['CNP_BENCH_ENV']) });
    child.once('exit', (code, signal) => {
      if (!stopping) throw new Error(`cnp-operator run exited (${String(code ?? signal)})`);
    });
    const pid = child.pid!;
    await until(async () => tracker.count() >= CNPS && (await fetch(`http://127.0.0.1:${healthPort}/readyz`).then((r) => r.ok).catch(() => false)), 250);
    record(`cold start: all ${CNPS} CNPs Programmed`, `${seconds(performance.now() - started)} (operator CPU ${cpuSeconds(pid).toFixed(1)} s; load average before ${loadBefore.toFixed(1)})`);
    const atConvergence = procMemory(pid, 'VmRSS');
    const metrics = async () => fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text());
    const depthOf = (text: string) => [...text.matchAll(/^workqueue_depth\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    await until(async () => depthOf(await metrics()) === 0 && (await new Promise((r) => setTimeout(r, 2000)), depthOf(await metrics()) === 0), 1000);
    record('settled: queue empty', `${seconds(performance.now() - started)} after the start`);
    const ccnps = (await port.list(T.ccnp)).items;
    const specs = ccnps.reduce((n, o) => n + ((o['specs'] as unknown[] | undefined)?.length ?? (o['spec'] === undefined ? 0 : 1)), 0);
    record('CCNPs written', `${ccnps.length} (${specs} specs)`);

    // ---- updates: one CNP's egress ports, one at a time ----
    const waiting = new Map<string, { ports: readonly string[]; resolve: (at: number) => void }>();
    const abort = new AbortController();
    const initial = await port.list(T.ccnp, { limit: 1 });
    void port.watch(T.ccnp, { resourceVersion: initial.resourceVersion, timeoutSeconds: 1800, allowWatchBookmarks: false }, (e: WatchEvent) => {
      if (e.type !== 'MODIFIED' && e.type !== 'ADDED') return;
      const w = waiting.get(e.object.metadata.name);
      if (w === undefined) return;
      const text = JSON.stringify(e.object);
      if (w.ports.some((p) => text.includes(`"port":"${p}"`))) w.resolve(performance.now());
    }, abort.signal).catch(() => undefined);
    const latencies: number[] = [];
    for (let u = 0; u < UPDATES; u++) {
      const i = (u * 37) % CNPS;
      const cnp = benchCnp(i, UPDATE_PORTS + 10 * u);
      // bench-cnp.ts's egress rule r names TCP port+r; the CCNP holds those of its Accept and Deny rules.
      const name = `cnp-${cnp.metadata.name}`;
      const ports = Array.from({ length: 7 }, (_, r) => String(UPDATE_PORTS + 10 * u + r));
      const seen = new Promise<number>((resolve) => waiting.set(name, { ports, resolve }));
      const began = performance.now();
      await port.apply(CNP_TYPE, obj(cnp), APPLY);
      const at = await Promise.race([seen, new Promise<number>((r) => setTimeout(() => r(NaN), 60_000))]);
      waiting.delete(name);
      if (Number.isNaN(at)) say(`update ${u} of ${cnp.metadata.name}: no change of ${name} seen within 60 s`);
      latencies.push(at - began);
    }
    abort.abort();
    const seen = latencies.filter((l) => !Number.isNaN(l)).sort((a, b) => a - b);
    const over = seen.filter((l) => l > 250).length;
    record('CNP update → CCNP changed (p50 / p90 / p99 / max)', `${percentile(seen, 50).toFixed(0)} ms / ${percentile(seen, 90).toFixed(0)} ms / ${percentile(seen, 99).toFixed(0)} ms / ${Math.max(...seen).toFixed(0)} ms (${seen.length} of ${latencies.length} updates seen; ${over} above 250 ms)`);

    // ---- memory ----
    await until(async () => depthOf(await metrics()) === 0, 1000);
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const text = await metrics();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    record(`resident memory with ${CNPS} CNPs, settled ${SETTLE_S} s after the updates (VmRSS / at convergence / peak VmHWM)`, `${procMemory(pid, 'VmRSS').toFixed(0)} MiB / ${atConvergence.toFixed(0)} MiB / ${procMemory(pid, 'VmHWM').toFixed(0)} MiB`);
    record('V8 heap used / total', `${gauge('nodejs_heap_size_used_bytes').toFixed(0)} MiB / ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB`);
    record('load average (1 min) at the end', `${loadavg()[0]!.toFixed(1)} (2 cores, shared)`);
    tracker.stop();
  } finally {
    stopping = true;
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    port.close();
    await cp.stop();
  }
  process.stdout.write(`\n| benchmark | result |\n| --- | --- |\n${results.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
}

await main();
