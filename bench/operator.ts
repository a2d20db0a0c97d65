// Operator benchmarks on a real local control plane (not part of the tests):
//   cold start with N CNPs until all are Programmed, against the floor (the operator's own
//   writes — objects and conditions — issued directly with the same client, verbs and
//   concurrency; see floor-writes.ts); CNP-update → backend-object
//   latency (p50/p99); zero writes while idle; resident memory of `cnp-operator run` with
//   M CNPs, with its cold start against the floor and update latency at M too.
//   Run: npm run build && npx tsx bench/operator.ts [--cnps 1000] [--memory-cnps 5000]
//   [--updates 100] [--idle-seconds 120] [--workers 2] [--pairs 3] [--split-cores 1]
//   (--memory-cnps 0: no second size; CNP_BENCH_B_*: two ways to start it side by side, below).
//   The operator runs with the image's and the Deployment's environment (NODE_ENV,
//   NODE_OPTIONS); CNP_BENCH_ENV="NAME=VALUE …" changes it (e.g. MALLOC_ARENA_MAX=2; "NAME=" removes one);
//   CNP_BENCH_SMAPS=FILE keeps its memory mappings at the end.
//   It runs on the first Node.js in PATH (and starts `cnp-operator run` with it); to measure on
//   the image's Node.js: PATH="$(hack/image-node/fetch.sh):$PATH" npx tsx bench/operator.ts …
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Condition } from '../src/controller/conditions.js';
import { startControlPlane } from '../src/cluster/controlplane.js';
import { readState } from '../src/cluster/state.js';
import { Manager } from '../src/controller/manager.js';
import { KubeApiError, type KubeObject, type ResourceType, type WatchEvent } from '../src/controller/port.js';
import { createLogger, silentLogger } from '../src/controller/runtime/index.js';
import { createKubePort, loadKubeConfig } from '../src/kube/index.js';
import { clusterInformationCrds, installCrdsWith } from '../test/harness/crds.js';
import { Kube, type KubeObject as HarnessObject } from '../test/harness/client.js';
import { benchCnp } from './bench-cnp.js';
import { floorWrites } from './floor-writes.js';
import { canonicalJson } from '../src/translate/digest.js';
import { CNP_TYPE, cpuSeconds, deployedEnv, deployedNodeArgs, deployedNodeOptions, freePort, operatorEnv, percentile, pool, programmedTracker, until } from './common.js';

const args = new Map<string, number>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), Number(process.argv[i + 1]));
const N = args.get('cnps') ?? 1000;
const M = args.get('memory-cnps') ?? 5000;
const UPDATES = args.get('updates') ?? 100;
const IDLE_S = args.get('idle-seconds') ?? 120;
// The operator's workers (its default is 2), and the floor's concurrency: the same for both.
const CONCURRENCY = args.get('workers') ?? 2;
/** Floor and cold start of `cnp-operator run` are measured this many times at each size. */
const PAIRS = args.get('pairs') ?? 3;

/** How `cnp-operator run` is started: Node.js's arguments and NODE_OPTIONS. */
interface Variant {
  readonly name: string;
  /** The Node.js executable (CNP_BENCH_NODE; default: the one running this benchmark). */
  readonly node: string;
  readonly nodeArgs: readonly string[];
  readonly nodeOptions: string;
  /** Its environment: the deployed tuning (see deployedEnv) with NODE_OPTIONS and CNP_BENCH_ENV's changes. */
  readonly env: NodeJS.ProcessEnv;
}
const versionOf = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const words = (v: string | undefined) => (v ?? '').split(' ').filter((a) => a !== '');
// CNP_BENCH_NODE_ARGS replaces the image's Node.js arguments (options NODE_OPTIONS refuses, e.g.
// --cpu-prof --cpu-prof-dir=DIR); CNP_BENCH_NODE_OPTIONS replaces the Deployment's NODE_OPTIONS.
const baseOptions = process.env['CNP_BENCH_NODE_OPTIONS'] ?? deployedNodeOptions();
const BASE: Variant = {
  name: '',
  node: process.env['CNP_BENCH_NODE'] ?? process.execPath,
  nodeArgs: process.env['CNP_BENCH_NODE_ARGS'] === undefined ? deployedNodeArgs() : words(process.env['CNP_BENCH_NODE_ARGS']),
  nodeOptions: baseOptions,
  env: operatorEnv({ ...deployedEnv(), NODE_OPTIONS: baseOptions }, process.env['CNP_BENCH_ENV']),
};
// CNP_BENCH_B_NODE / CNP_BENCH_B_NODE_ARGS / CNP_BENCH_B_NODE_OPTIONS / CNP_BENCH_B_ENV: a second way to start it,
// measured side by side at --cnps — each pair of the first way is followed by a pair of the second, each against
// its own floor — so that the two medians come from the same hour of a noisy machine.
const B_VARS = ['CNP_BENCH_B_NODE', 'CNP_BENCH_B_NODE_ARGS', 'CNP_BENCH_B_NODE_OPTIONS', 'CNP_BENCH_B_ENV'];
const B: Variant | undefined = B_VARS.every((v) => process.env[v] === undefined)
  ? undefined
  : (() => {
      const nodeOptions = process.env['CNP_BENCH_B_NODE_OPTIONS'] ?? BASE.nodeOptions;
      return {
        name: 'B: ',
        node: process.env['CNP_BENCH_B_NODE'] ?? BASE.node,
        nodeArgs: words(process.env['CNP_BENCH_B_NODE_ARGS'] ?? process.env['CNP_BENCH_NODE_ARGS']),
        nodeOptions,
        env: operatorEnv({ ...deployedEnv(), NODE_OPTIONS: nodeOptions }, `${process.env['CNP_BENCH_ENV'] ?? ''} ${process.env['CNP_BENCH_B_ENV'] ?? ''}`),
      };
    })();

const CNP = 'policy.networking.k8s.io/v1beta1';
const GNP_TYPE: ResourceType = { group: 'projectcalico.org', version: 'v3', plural: 'globalnetworkpolicies', kind: 'GlobalNetworkPolicy', namespaced: false };
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** bench-cnp.ts's CNP, as the harness client takes it. */
const cnpObject = (i: number, port?: number): HarnessObject => benchCnp(i, port);

/** When the first object of a type is added from now on (performance.now()); the watch ends with it. */
async function firstEvent(port: ReturnType<typeof createKubePort>, type: ResourceType): Promise<{ at: Promise<number> }> {
  const { resourceVersion } = await port.list(type, { limit: 1 });
  const abort = new AbortController();
  const at = new Promise<number>((resolve, reject) => {
    port.watch(type, { resourceVersion, timeoutSeconds: 600, allowWatchBookmarks: false }, (e) => {
      if (e.type !== 'ADDED') return;
      resolve(performance.now());
      abort.abort();
    }, abort.signal).then(() => reject(new Error(`no ${type.kind} was added`)), reject);
  });
  // Nested in an object: an async function would otherwise wait for it.
  return { at };
}

/** The processes of the control plane under test (kube-apiserver, etcd): their command lines name its state folder. */
function controlPlanePids(stateDir: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateDir);
    } catch {
      return false;
    }
  }).map(Number);
}

let cpPids: number[] = [];
/** CPU seconds used by the control plane so far. */
const controlPlaneCpu = (): number => cpPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
const processCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

let etcdUrl = '';
/**
 * Compacts etcd's history up to now. The API server compacts every 5 minutes, so a phase
 * would otherwise find the revisions of the phases before it (10,000 and more at 5,000 CNPs)
 * in etcd or not, depending on when it runs; the floor, which runs first, would find fewer.
 */
async function compactEtcd(): Promise<void> {
  const post = async (path: string, body: unknown): Promise<{ header?: { revision?: string } }> => {
    const r = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`etcd ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as { header?: { revision?: string } };
  };
  const revision = (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header?.revision;
  if (revision !== undefined) await post('/v3/kv/compaction', { revision, physical: true });
}

/**
 * Waits until the control plane has settled (under 5 % of a core over a second, twice running):
 * what an earlier phase left it to do (its watch cache, compaction, its own garbage collection)
 * would otherwise slow whichever phase comes next. Gives up after a minute.
 */
/**
 * CNP_BENCH_CP_SAMPLES=FILE: the control plane's CPU seconds every 250 ms (`epoch-ms seconds`),
 * with the benchmark's phases marked (`epoch-ms # what`): with the operator's log
 * (CNP_BENCH_CHILD_LOG) it tells which part of a cold start cost the API server what.
 */
const cpSamples = process.env['CNP_BENCH_CP_SAMPLES'];
function mark(what: string): void {
  if (cpSamples !== undefined) appendFileSync(cpSamples, `${Date.now()} # ${what}\n`);
}

async function controlPlaneQuiet(): Promise<void> {
  await compactEtcd();
  const started = performance.now();
  let calm = 0;
  while (calm < 2 && performance.now() - started < 60_000) {
    const before = controlPlaneCpu();
    await new Promise((r) => setTimeout(r, 1000));
    calm = controlPlaneCpu() - before < 0.05 ? calm + 1 : 0;
  }
  if (calm < 2) say('the control plane did not settle within a minute; measuring anyway');
}

/** Where the CPU went while something ran: the client's (or operator's) and the control plane's. */
const cpuLine = (client: string, clientCpu: number, cpCpu: number): string => `${client} ${clientCpu.toFixed(1)} s, control plane ${cpCpu.toFixed(1)} s`;

/** The operator's description of the benchmark's backend, as its Programmed condition names it. */
const BACKEND = 'Calico v3.30.2 (projectcalico.org/v3)';

/**
 * The floor: the operator's own writes (see floor-writes.ts), issued straight to the API
 * server with the same client, verbs and concurrency — create for each backend object, a
 * server-side apply of each CNP's three conditions — then removed again. Returns the time, the
 * CPU used meanwhile (this process's, as the client's, and the control plane's) and the
 * statuses written, to compare with the operator's.
 */
async function measureFloor(port: ReturnType<typeof createKubePort>, created: readonly HarnessObject[]): Promise<{ ms: number; cpu: string; statuses: ReadonlyMap<string, readonly Condition[]> }> {
  const { objects, statuses } = floorWrites(created as unknown as readonly KubeObject[], BACKEND, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
  const plurals: Record<string, string> = { Tier: 'tiers', GlobalNetworkPolicy: 'globalnetworkpolicies', GlobalNetworkSet: 'globalnetworksets' };
  const typeOf = (o: { kind: string }): ResourceType => ({ group: 'projectcalico.org', version: 'v3', plural: plurals[o.kind]!, kind: o.kind, namespaced: false });
  // CNP_BENCH_FLOOR_WATCH=1: the floor's client also watches the backend's kinds, as the operator
  // must (an event for each object written costs the API server its encoding).
  const watching = new AbortController();
  if (process.env['CNP_BENCH_FLOOR_WATCH'] === '1') {
    for (const type of [GNP_TYPE, { ...GNP_TYPE, plural: 'globalnetworksets', kind: 'GlobalNetworkSet' }]) {
      const l = await port.list(type, { limit: 1 });
      void port.watch(type, { resourceVersion: l.resourceVersion, timeoutSeconds: 1800, allowWatchBookmarks: true }, () => undefined, watching.signal).catch(() => undefined);
    }
  }
  await controlPlaneQuiet();
  const [client0, cp0] = [processCpu(), controlPlaneCpu()];
  const t = performance.now();
  // Tiers before the policies in them, as the operator writes them; an earlier run's stay.
  for (const o of objects.filter((o) => o.kind === 'Tier')) {
    await port.create(typeOf(o), o, { fieldManager: 'bench-floor' }).catch((err: unknown) => {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    });
  }
  mark('floor: objects');
  await pool(objects.filter((o) => o.kind !== 'Tier'), CONCURRENCY, (o) => port.create(typeOf(o), o, { fieldManager: 'bench-floor' }));
  mark('floor: statuses');
  await pool(created, CONCURRENCY, (o) => port.applyStatus(CNP_TYPE, { apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name: o.metadata.name }, status: { conditions: statuses.get(o.metadata.name) } }, { fieldManager: 'bench-floor', force: true }));
  const floor = performance.now() - t;
  mark('floor: done');
  watching.abort();
  const cpu = cpuLine('client (this process)', processCpu() - client0, controlPlaneCpu() - cp0);
  say(`floor ${seconds(floor)} for ${objects.length} objects + ${created.length} statuses (CPU: ${cpu}); cleaning up`);
  await pool(objects, 8, (o) => port.delete(typeOf(o), o.metadata.name));
  await pool(created, 8, (o) => port.applyStatus(CNP_TYPE, { apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name: o.metadata.name }, status: { conditions: [] } }, { fieldManager: 'bench-floor', force: true }));
  return { ms: floor, cpu, statuses };
}

/** How many CNPs carry conditions other than the floor wrote (times aside): 0 when the floor wrote what the operator writes. */
async function differingStatuses(port: ReturnType<typeof createKubePort>, floor: ReadonlyMap<string, readonly Condition[]>): Promise<number> {
  const strip = (cs: readonly Condition[] | undefined): string => canonicalJson((cs ?? []).filter((c) => ['Accepted', 'Programmed', 'Exact'].includes(c.type)).map(({ lastTransitionTime: _t, ...c }) => c));
  let differing = 0;
  for (const o of (await port.list(CNP_TYPE)).items) {
    const live = (o['status'] as { conditions?: Condition[] } | undefined)?.conditions;
    if (strip(live) === strip(floor.get(o.metadata.name))) continue;
    if (differing === 0) say(`${o.metadata.name}: the operator wrote ${strip(live)}, the floor ${strip(floor.get(o.metadata.name))}`);
    differing++;
  }
  return differing;
}

/** CNP spec change → its GlobalNetworkPolicy changed: UPDATES updates, one at a time, spread over n CNPs. */
async function updateLatencies(port: ReturnType<typeof createKubePort>, kube: Kube, n: number, results: Record<string, string | number>): Promise<void> {
  // The steady state: after a cold start the operator still writes an Event for each CNP it
  // programmed (one at a time, behind its work), and the API server compacts; updates measured
  // meanwhile would time those too.
  await controlPlaneQuiet();
  const waiting = new Map<string, (at: number) => void>();
  const watchAbort = new AbortController();
  const list = await port.list(GNP_TYPE);
  void port.watch(GNP_TYPE, { resourceVersion: list.resourceVersion, timeoutSeconds: 600, allowWatchBookmarks: false }, (e: WatchEvent) => {
    if (e.type !== 'MODIFIED') return;
    const done = waiting.get(e.object.metadata.name);
    if (done !== undefined && JSON.stringify(e.object['spec']).includes(`"ports":[${PORT_MARK}`)) done(performance.now());
  }, watchAbort.signal).catch(() => undefined);
  // The API server's own part: the update's apply until a watcher sees the changed CNP.
  const cnpSeen = new Map<string, (at: number) => void>();
  const cnps = await port.list(CNP_TYPE, { limit: 1 });
  void port.watch(CNP_TYPE, { resourceVersion: cnps.resourceVersion, timeoutSeconds: 600, allowWatchBookmarks: false }, (e: WatchEvent) => {
    if (e.type === 'MODIFIED') cnpSeen.get(e.object.metadata.name)?.(performance.now());
  }, watchAbort.signal).catch(() => undefined);
  const apiParts: number[] = [];
  const latencies: number[] = [];
  for (let u = 0; u < UPDATES; u++) {
    const i = (u * 37) % n;
    const obj = cnpObject(i, PORT_MARK * 1000 + (updateRound * UPDATES + u) % 1000);
    const gnp = `${i % 4 === 0 ? 'cnp-baseline' : 'cnp-admin'}.${obj.metadata.name}`;
    const seen = new Promise<number>((resolve) => waiting.set(gnp, resolve));
    const cnpEvent = new Promise<number>((resolve) => cnpSeen.set(obj.metadata.name, resolve));
    const start = performance.now();
    await kube.apply(obj);
    latencies.push((await seen) - start);
    apiParts.push((await cnpEvent) - start);
    cnpSeen.delete(obj.metadata.name);
    if (latencies.at(-1)! > 500) say(`update ${u} of ${obj.metadata.name} took ${latencies.at(-1)!.toFixed(0)} ms (the API server's part ${apiParts.at(-1)!.toFixed(0)} ms)`);

    waiting.delete(gnp);
  }
  updateRound++;
  watchAbort.abort();
  latencies.sort((a, b) => a - b);
  apiParts.sort((a, b) => a - b);
  results[`update → backend object with ${n} CNPs, p50 / p99`] = `${percentile(latencies, 50).toFixed(0)} ms / ${percentile(latencies, 99).toFixed(0)} ms`;
  results[`  of which update → CNP watch event (the API server alone) with ${n} CNPs, p50 / p99`] = `${percentile(apiParts, 50).toFixed(0)} ms / ${percentile(apiParts, 99).toFixed(0)} ms`;
}

/**
 * --split-cores 1: the control plane (kube-apiserver, etcd) on CPU 0, this process and the
 * operator it starts on CPU 1 — as in a cluster, where the operator runs on a worker node and
 * does not take the API server's CPU. The floor's client runs on CPU 1 too: both see the same
 * API server.
 */
const SPLIT_CORES = args.get('split-cores') === 1;

function splitCores(): void {
  if (cpPids.length < 2) throw new Error(`--split-cores: found ${cpPids.length} control-plane processes`);
  for (const pid of cpPids) execFileSync('taskset', ['-a', '-cp', '0', String(pid)], { stdio: 'ignore' });
  execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  say(`control plane (${cpPids.length} processes) on CPU 0, the benchmark and the operator on CPU 1`);
}

/** Updated CNPs use ports PORT_MARK000–PORT_MARK999, which no created CNP uses: the changed object is recognised by them. */
const PORT_MARK = 9;
let updateRound = 0;

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'cnp-bench-'));
  const cp = await startControlPlane({
    name: 'bench',
    stateDir,
    controllerManager: false,
    beforeControllerManager: async (api) => {
      const k = Kube.fromFile(api.kubeconfigPath);
      await installCrdsWith(k);
      await installCrdsWith(k, clusterInformationCrds());
      k.close();
    },
  });
  const kube = Kube.fromFile(cp.kubeconfigPath);
  const results: Record<string, string | number> = {};
  results['Node.js of the benchmark (the floor\'s client) and of cnp-operator run'] = `${process.version}, ${versionOf(BASE.node)}`;
  cpPids = controlPlanePids(stateDir);
  const sampler = cpSamples === undefined ? undefined : setInterval(() => appendFileSync(cpSamples, `${Date.now()} ${controlPlaneCpu().toFixed(2)}\n`), 250);
  etcdUrl = `http://127.0.0.1:${readState(stateDir)!.ports.etcd}`;
  if (SPLIT_CORES) splitCores();
  try {
    await kube.apply({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.30.2' } });
    say(`creating ${N} CNPs`);
    const created: HarnessObject[] = [];
    await pool(Array.from({ length: N }, (_, i) => i), 8, async (i) => created.push(await kube.create(cnpObject(i))));

    const port = createKubePort(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }));
    // The same watch on CNPs during the floor and the cold starts: it costs the API server too.
    const tracker = await programmedTracker(port);
    const floorN = await measureFloor(port, created);
    // The floor's conditions said Programmed until its clean-up: none may count for the operator.
    await until(async () => tracker.count() === 0, 100);
    const floor = floorN.ms;
    results[`floor with ${N} CNPs (objects + statuses applied directly)`] = seconds(floor);
    results[`  CPU during the floor with ${N} CNPs`] = floorN.cpu;

    // Cold start.
    await controlPlaneQuiet();
    const cpu0 = processCpu();
    const cp0 = controlPlaneCpu();
    const t = performance.now();
    // CNP_BENCH_LOG=FILE keeps the operator's log (JSON lines) for a look at what took long.
    const logFile = process.env['CNP_BENCH_LOG'];
    const log = logFile === undefined ? silentLogger : createLogger({ level: 'debug', write: (line) => appendFileSync(logFile, `${line}\n`) });
    const manager = new Manager({ port, log, detect: { backend: 'calico', force: false, calicoApi: 'projectcalico.org/v3' }, workers: CONCURRENCY });
    await manager.start();
    await until(async () => tracker.count() >= N, 100);
    const cold = performance.now() - t;
    results[`cold start, ${N} CNPs until all Programmed`] = seconds(cold);
    results[`  CPU during the cold start with ${N} CNPs`] = cpuLine('operator (in this process, with the watch counting Programmed)', processCpu() - cpu0, controlPlaneCpu() - cp0);
    results['cold start / floor'] = `${(cold / floor).toFixed(2)}x`;
    results[`CNPs whose conditions differ from the floor's (times aside), ${N}`] = await differingStatuses(port, floorN.statuses);
    say(`cold start ${seconds(cold)} (${(cold / floor).toFixed(2)}x the floor)`);

    // Update latency in the steady state: CNP spec change → its GlobalNetworkPolicy changes.
    await until(async () => manager.queueDepth() === 0 && (await new Promise((r) => setTimeout(r, 2000)), manager.queueDepth() === 0));
    await updateLatencies(port, kube, N, results);
    await until(async () => tracker.count() >= N, 100);

    // Idle: count writes to what the operator owns or reports on.
    // Idle means nothing left to do: the last updates' status and analysis work is finished.
    await until(async () => manager.queueDepth() === 0 && (await new Promise((r) => setTimeout(r, 2000)), manager.queueDepth() === 0));
    say(`idle for ${IDLE_S} s, counting writes`);
    let writes = 0;
    const idle = new AbortController();
    for (const type of [GNP_TYPE, CNP_TYPE, { ...GNP_TYPE, plural: 'tiers', kind: 'Tier' }]) {
      const l = await port.list(type);
      void port.watch(type, { resourceVersion: l.resourceVersion, timeoutSeconds: IDLE_S + 60, allowWatchBookmarks: false }, (e) => {
        if (e.type !== 'BOOKMARK') writes++;
      }, idle.signal).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    idle.abort();
    results[`writes while idle for ${IDLE_S} s (leases aside)`] = writes;
    await manager.stop();

    // The real command as a child process, with the Deployment's Node.js options (the in-process
    // run above shares its process with this benchmark): its cold start at N, then at M, where
    // memory and update latency are measured too.
    const coldStartOfRun = async (n: number, pair: string, variant: Variant = BASE): Promise<{ ratio: number; child: ReturnType<typeof spawn>; healthPort: number; stop: () => Promise<void> }> => {
      // Fresh CNPs, so that no status of an earlier run counts as programmed by this one.
      say(`recreating ${n} CNPs`);
      await pool(created.splice(0), 8, (o) => kube.delete(CNP, 'ClusterNetworkPolicy', o.metadata.name));
      await until(async () => tracker.count() === 0, 100);
      // What the earlier run wrote stays behind (no garbage collector here); the floor writes the same names.
      for (const type of [GNP_TYPE, { ...GNP_TYPE, plural: 'globalnetworksets', kind: 'GlobalNetworkSet' }]) {
        await pool((await port.list(type)).items, 8, (o) => port.delete(type, o.metadata.name));
      }
      await pool(Array.from({ length: n }, (_, i) => i), 8, async (i) => created.push(await kube.create(cnpObject(i))));
      const floorRun = await measureFloor(port, created);
      await until(async () => tracker.count() === 0, 100);
      results[`floor with ${n} CNPs (again, before cnp-operator run ${pair})`] = seconds(floorRun.ms);
      results[`  CPU during that floor with ${n} CNPs (${pair})`] = floorRun.cpu;
      await controlPlaneQuiet();
      const healthPort = await freePort();
      let stopping = false;
      // Metrics beside the probes: the heap figures say how much of the memory is the operator's data.
      // CNP_BENCH_CHILD_LOG=FILE keeps the child's log (debug) for a look at slow updates.
      const childLog = process.env['CNP_BENCH_CHILD_LOG'];
      // When its first backend object arrives: what the start-up (process, preflight, lists,
      // parsing) took before the API server had writes to do. A watch on the one kind, ended
      // by that first event, so that it costs the API server next to nothing.
      const firstWrite = await firstEvent(port, GNP_TYPE);
      const child = spawn(variant.node, [...variant.nodeArgs, join(import.meta.dirname, '..', 'bin', 'cnp-operator'), 'run', '--kubeconfig', cp.kubeconfigPath, '--leader-elect=false', '--backend', 'calico', '--workers', String(CONCURRENCY), '--health-port', String(healthPort), '--metrics-port', String(healthPort), '--log-level', childLog === undefined ? 'error' : 'debug'], { stdio: ['ignore', 'ignore', childLog === undefined ? 'ignore' : openSync(childLog, 'a')], env: variant.env });
      child.once('exit', (code, signal) => {
        if (!stopping) throw new Error(`cnp-operator run exited (${String(code ?? signal)})`);
      });
      const cpStart = controlPlaneCpu();
      const started = performance.now();
      mark(`cnp-operator run with ${n} CNPs (${pair}): started`);
      // Converged: its caches are synced (readyz) and every CNP is Programmed.
      // Polled as often as the in-process run's: a coarser poll would add up to its interval.
      await until(async () => tracker.count() >= n && (await fetch(`http://127.0.0.1:${healthPort}/readyz`).then((r) => r.ok).catch(() => false)), 100);
      const ms = performance.now() - started;
      mark(`cnp-operator run with ${n} CNPs (${pair}): converged`);
      results[`cold start of cnp-operator run with ${n} CNPs (${pair})`] = seconds(ms);
      results[`  start → first backend object written, ${n} CNPs (${pair})`] = seconds((await firstWrite.at) - started);
      results[`  CPU during the cold start of cnp-operator run with ${n} CNPs (${pair})`] = cpuLine('operator', cpuSeconds(child.pid!), controlPlaneCpu() - cpStart);
      results[`  CNPs whose conditions differ from the floor's (times aside), ${n} (${pair})`] = await differingStatuses(port, floorRun.statuses);
      say(`cold start of cnp-operator run with ${n} (${pair}): ${seconds(ms)} (${(ms / floorRun.ms).toFixed(2)}x the floor)`);
      return {
        ratio: ms / floorRun.ms,
        child,
        healthPort,
        stop: async () => {
          stopping = true;
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        },
      };
    };
    // Floor and cold start in PAIRS pairs at each size: the control plane's own CPU for the same
    // writes varies by ±15 % from one phase to the next here, so one ratio says little; the
    // median of interleaved pairs, with every ratio shown, says more.
    const ratios = (n: number, rs: readonly number[], set = ''): void => {
      const sorted = [...rs].sort((a, b) => a - b);
      results[`cnp-operator run: cold start / floor with ${n} CNPs, ${set}median of ${rs.length} pairs (each)`] = `${sorted[Math.floor((sorted.length - 1) / 2)]!.toFixed(2)}x (${rs.map((r) => `${r.toFixed(2)}x`).join(', ')})`;
    };
    const atN: number[] = [];
    const atNB: number[] = [];
    for (let k = 1; k <= PAIRS; k++) {
      for (const [variant, rs] of B === undefined ? [[BASE, atN] as const] : [[BASE, atN] as const, [B, atNB] as const]) {
        const run = await coldStartOfRun(N, `${variant.name}pair ${k}`, variant);
        rs.push(run.ratio);
        await run.stop();
      }
    }
    ratios(N, atN);
    // The variables that tune the process: the deployed ones and any a CNP_BENCH_*ENV changed.
    const tuning = [...new Set([...Object.keys(deployedEnv()), ...words(`${process.env['CNP_BENCH_ENV'] ?? ''} ${process.env['CNP_BENCH_B_ENV'] ?? ''}`).map((w) => w.split('=')[0]!)])].sort();
    const how = (v: Variant) => `${v.node} ${[...v.nodeArgs, 'bin/cnp-operator'].join(' ')} (${versionOf(v.node)}), ${tuning.map((k) => `${k}=${v.env[k] ?? '(unset)'}`).join(', ')}`;
    results['cnp-operator run started as'] = how(BASE);
    if (B !== undefined) {
      results['B: cnp-operator run started as'] = how(B);
      ratios(N, atNB, 'B: ');
    }
    async function atSecondSize(): Promise<void> {
      const atM: number[] = [];
      // With --memory-cnps equal to --cnps, the second set's results need names of their own.
      const setM = M === N ? 'second set, ' : '';
      for (let k = 1; k < PAIRS; k++) {
        const run = await coldStartOfRun(M, `${setM}pair ${k}`);
        atM.push(run.ratio);
        await run.stop();
      }
      const { ratio, child, healthPort, stop } = await coldStartOfRun(M, `${setM}pair ${PAIRS}`);
      atM.push(ratio);
      ratios(M, atM, setM);
      const rss = (field: string) => Number(/(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field)) ?? '')?.[1] ?? 0) / 1024;
      const atConvergence = rss('VmRSS:');
      const depth = async () => {
        const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text());
        return [...metrics.matchAll(/^workqueue_depth\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      };
      await until(async () => (await depth()) === 0 && (await new Promise((r) => setTimeout(r, 2000)), (await depth()) === 0));
      await updateLatencies(port, kube, M, results);
      // Settled: V8 gives back what the start-up needed once the process has been quiet a while.
      await new Promise((r) => setTimeout(r, 60_000));
      results[`resident memory with ${M} CNPs, settled a minute after the updates (VmRSS / at convergence / peak VmHWM)`] = `${rss('VmRSS:').toFixed(0)} MiB / ${atConvergence.toFixed(0)} MiB / ${rss('VmHWM:').toFixed(0)} MiB`;
      // The file-backed part is mostly pages of the Node.js executable that ran (shared, clean:
      // the kernel drops them under pressure rather than kill the container); the anonymous part is the operator's.
      results[`  of which anonymous / file-backed (RssAnon / RssFile), ${M} CNPs`] = `${rss('RssAnon:').toFixed(0)} MiB / ${rss('RssFile:').toFixed(0)} MiB`;
      // CNP_BENCH_SMAPS=FILE: the settled operator's mappings, to see what the anonymous part is made of.
      const smaps = process.env['CNP_BENCH_SMAPS'];
      if (smaps !== undefined && smaps !== '') writeFileSync(smaps, readFileSync(`/proc/${child.pid}/smaps`, 'utf8'));
      if (process.env['CNP_BENCH_HEAPSNAPSHOT'] === '1') {
        // With NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2: a snapshot of the converged operator, in the current folder.
        child.kill('SIGUSR2');
        await new Promise((r) => setTimeout(r, 15_000));
      }
      const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text());
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
      // What the API server answered: a 429 (priority and fairness) costs the retry's wait.
      const label = (set: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(set)?.[1] ?? '?';
      const codes = [...metrics.matchAll(/^rest_client_requests_total\{([^}]*)\} (\S+)$/gm)].map((m) => `${label(m[1]!, 'method')} ${label(m[1]!, 'code')}: ${m[2]}`);
      results[`API requests of cnp-operator run with ${M} CNPs, by method and code`] = codes.join(', ');
      results[`V8 heap with ${M} CNPs (used / total)`] = `${gauge('nodejs_heap_size_used_bytes').toFixed(0)} MiB / ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB`;
      await stop();
    }
    // --memory-cnps 0: the cold starts at --cnps only.
    if (M !== 0) await atSecondSize();
    tracker.stop();
    port.close();
  } finally {
    clearInterval(sampler);
    kube.close();
    await cp.stop();
  }
  process.stdout.write(`\n| benchmark | result |\n| --- | --- |\n${Object.entries(results).map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
}

await main();
