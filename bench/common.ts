// Helpers the benchmarks on a local control plane share: bounded concurrency, waiting on a
// condition, percentiles, a process's CPU and memory from /proc, and a watch that counts
// Programmed CNPs (polling lists of thousands of CNPs would load the API server under test).

import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../src/cluster/controlplane.js';
import type { KubeObject, KubePort, ResourceType } from '../src/controller/port.js';
import { createKubePort, loadKubeConfig } from '../src/kube/index.js';
import { installCrdsWith } from '../test/harness/crds.js';
import { deploymentEnv, dockerfileStages, imageEnv } from '../test/support/deployment.js';
import { Kube } from '../test/harness/client.js';

export const CNP_TYPE: ResourceType = { group: 'policy.networking.k8s.io', version: 'v1beta1', plural: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false };

/** Runs fn over items with at most n in flight. */
export async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Waits until cond holds, asking every intervalMs; throws after timeoutMs. */
export async function until(cond: () => Promise<boolean> | boolean, intervalMs = 250, timeoutMs = 3_600_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The p-th percentile of ascending values (NaN for none). */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** CPU seconds a process has used (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A memory figure of a process in MiB, from /proc/PID/status (VmRSS, VmHWM, …). */
export function procMemory(pid: number, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

/**
 * The Node.js arguments the image starts the operator with (the Dockerfile's ENTRYPOINT between
 * the executable and the script): V8 options NODE_OPTIONS refuses go there.
 */
export function deployedNodeArgs(): string[] {
  const entrypoint = JSON.parse(dockerfileStages().at(-1)?.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1)?.args ?? '[]') as string[];
  const script = entrypoint.findIndex((a) => a.endsWith('/bin/cnp-operator'));
  return script < 1 ? [] : entrypoint.slice(1, script);
}

/**
 * The environment the operator's process runs with in a cluster, as far as it tunes the process:
 * the image's ENV lines (its runtime stage) with the Deployment's literal values over them (its
 * NODE_OPTIONS replaces the image's). The operator's own CNP_OPERATOR_* settings are left out:
 * the benchmarks pass those as flags.
 */
export function deployedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...imageEnv(), ...deploymentEnv() }).filter(([name]) => !name.startsWith('CNP_OPERATOR_')));
}

/** The Deployment's NODE_OPTIONS (see deployedEnv). */
export const deployedNodeOptions = (): string => deployedEnv()['NODE_OPTIONS'] ?? '';

/**
 * The environment to start the operator with: this process's, then the deployed tuning, then
 * `overrides` ("NAME=VALUE …"; "NAME=" removes one), e.g. CNP_BENCH_ENV="MALLOC_ARENA_MAX=2".
 */
export function operatorEnv(base: Record<string, string>, overrides: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...base };
  for (const word of (overrides ?? '').split(' ').filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    if (eq < 1) throw new Error(`environment override ${JSON.stringify(word)}: expected NAME=VALUE`);
    const value = word.slice(eq + 1);
    if (value === '') delete env[word.slice(0, eq)];
    else env[word.slice(0, eq)] = value;
  }
  return env;
}

const isProgrammed = (o: { [k: string]: unknown }) =>
  ((o['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Programmed' && c.status === 'True');

/** Counts Programmed CNPs from a list and then a watch, listing again when the watch's version is gone (410). */
export async function programmedTracker(port: KubePort): Promise<{ count: () => number; stop: () => void }> {
  const programmed = new Set<string>();
  const abort = new AbortController();
  const list = await port.list(CNP_TYPE);
  for (const o of list.items) if (isProgrammed(o)) programmed.add(o.metadata.name);
  const loop = async (rv: string): Promise<void> => {
    while (!abort.signal.aborted) {
      let expired = false;
      await port.watch(CNP_TYPE, { resourceVersion: rv, timeoutSeconds: 300, allowWatchBookmarks: true }, (e) => {
        if (e.type === 'ERROR') {
          expired = true;
          return;
        }
        rv = e.object.metadata.resourceVersion ?? rv;
        if (e.type !== 'DELETED' && isProgrammed(e.object)) programmed.add(e.object.metadata.name);
        else programmed.delete(e.object.metadata.name);
      }, abort.signal).catch(() => undefined);
      if (expired && !abort.signal.aborted) {
        const again = await port.list(CNP_TYPE);
        programmed.clear();
        for (const o of again.items) if (isProgrammed(o)) programmed.add(o.metadata.name);
        rv = again.resourceVersion;
      }
    }
  };
  void loop(list.resourceVersion);
  return { count: () => programmed.size, stop: () => abort.abort() };
}

/** A port nothing listens on now (a random one could be the control plane's). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A local control plane (no controller manager) with the CRDs installed, and a port to it. */
export async function benchControlPlane(name: string): Promise<{ cp: ControlPlane; port: ReturnType<typeof createKubePort> }> {
  const cp = await startControlPlane({
    name,
    stateDir: mkdtempSync(join(tmpdir(), `cnp-${name}-`)),
    controllerManager: false,
    beforeControllerManager: async (api) => {
      const k = Kube.fromFile(api.kubeconfigPath);
      await installCrdsWith(k);
      k.close();
    },
  });
  return { cp, port: createKubePort(loadKubeConfig({ kubeconfig: cp.kubeconfigPath })) };
}

/** What the operator detects Cilium by: kube-system/cilium-config and a cilium DaemonSet of Cilium 1.MINOR. */
export async function applyCiliumAgent(port: KubePort, config: Record<string, string>, minor: number): Promise<void> {
  const apply = { fieldManager: 'bench', force: true } as const;
  const type = (group: string, plural: string, kind: string): ResourceType => ({ group, version: 'v1', plural, kind, namespaced: true });
  await port.apply(type('', 'configmaps', 'ConfigMap'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: config } as unknown as KubeObject, apply);
  const labels = { 'k8s-app': 'cilium' };
  const daemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'cilium', namespace: 'kube-system' },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'cilium-agent', image: `quay.io/cilium/cilium:v1.${minor}.3` }] } } },
  };
  await port.apply(type('apps', 'daemonsets', 'DaemonSet'), daemonSet as unknown as KubeObject, apply);
}
