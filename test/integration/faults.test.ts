import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../src/cluster/controlplane.js';
import { Manager } from '../../src/controller/manager.js';
import { createLogger } from '../../src/controller/runtime/index.js';
import { createKubePort, loadKubeConfig, type KubeConnection } from '../../src/kube/index.js';
import { clusterInformationCrds, installCrdsWith } from '../harness/crds.js';
import { ApiServerProcess } from './apiserver.js';
import { Kube, uniqueName, waitFor } from '../harness/index.js';

// Faults on a control plane of this file's own, so the shared one is never disturbed:
// the API server restarted under the operator, and etcd compacted past the operator's
// watch position (410 Gone on re-watch).

const CNP = 'policy.networking.k8s.io/v1beta1';
const GNP = 'projectcalico.org/v3';

let cp: ControlPlane;
let kube: Kube;
let apiserver: ApiServerProcess;
let port: KubeConnection;
let manager: Manager;
const logLines: string[] = [];

async function restartApiServer(whileDown?: () => Promise<void>, extra?: string[]): Promise<void> {
  await apiserver.restart(whileDown, extra);
}

function etcdUrl(): string {
  const etcd = cp.processes.find((p) => p.name === 'etcd')!;
  const listen = ApiServerProcess.args(etcd.pid).find((a) => a.startsWith('--listen-client-urls='))!;
  return listen.slice(listen.indexOf('=') + 1).split(',')[0]!;
}

async function etcd(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${etcdUrl()}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function setVersion(): Promise<void> {
  await installCrdsWith(kube, clusterInformationCrds());
  await kube.apply({ apiVersion: GNP, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.30.1' } });
}

async function programmed(name: string): Promise<void> {
  await waitFor(
    async () => {
      const obj = await kube.get(CNP, 'ClusterNetworkPolicy', name);
      const c = ((obj?.['status'] as { conditions?: { type: string; status: string; observedGeneration: number }[] })?.conditions ?? []).find((x) => x.type === 'Programmed');
      return c?.status === 'True' && c.observedGeneration === obj?.metadata['generation'];
    },
    { timeout: 90_000, message: `${name} to be programmed` },
  );
}

function cnp(name: string, cidr: string) {
  return { apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name }, spec: { tier: 'Admin', priority: 3, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: [cidr] }] }] } };
}

beforeAll(async () => {
  cp = await startControlPlane({
    name: 'faults',
    stateDir: mkdtempSync(join(tmpdir(), 'cnp-faults-')),
    controllerManager: false,
    beforeControllerManager: async (api) => {
      const k = Kube.fromFile(api.kubeconfigPath);
      await installCrdsWith(k);
      k.close();
    },
  });
  apiserver = new ApiServerProcess(cp);
  kube = Kube.fromFile(cp.kubeconfigPath);
  await setVersion();
  port = createKubePort(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }));
  manager = new Manager({
    port,
    log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    detect: { backend: 'calico', force: false, calicoApi: GNP },
    workers: 2,
    redetectMs: 1_000,
    // Short watches and quick retries, so the test does not wait on production timings.
    watchTimeoutSeconds: { min: 5, max: 10 },
  });
  await manager.start();
}, 180_000);

afterAll(async () => {
  await manager?.stop();
  port?.close();
  kube?.close();
  // The restarted API server is not in cp.processes.
  await apiserver?.stop();
  await cp?.stop();
});

describe('faults', () => {
  it('converges after the API server restarts under it', async () => {
    const a = uniqueName('before');
    await kube.create(cnp(a, '192.0.2.0/24'));
    await programmed(a);
    await restartApiServer();
    const b = uniqueName('after');
    await kube.create(cnp(b, '198.51.100.0/24'));
    await programmed(b);
    expect(await kube.get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${b}`)).toBeDefined();
    expect(logLines.some((l) => l.includes('list/watch failed; retrying'))).toBe(true);
  });

  it('relists after etcd was compacted past its watch position (410 Gone) and converges', async () => {
    const c = uniqueName('gone');
    await kube.create(cnp(c, '203.0.113.0/24'));
    await programmed(c);
    const expiredBefore = logLines.filter((l) => l.includes('resource version expired')).length;
    // Writes the informers do not watch move etcd's revision past their position.
    for (let i = 0; i < 5; i++) await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: uniqueName('bump'), namespace: 'default' } });
    await restartApiServer(async () => {
      const range = await etcd('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
      const revision = (range['header'] as { revision: string }).revision;
      await etcd('/v3/kv/compaction', { revision, physical: true });
    }, ['--watch-cache=false']);
    // Meanwhile the CNP changes; the operator must see it through the relist.
    await kube.apply({ ...cnp(c, '203.0.113.0/25') });
    await programmed(c);
    const gnp = await kube.get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${c}`);
    expect(JSON.stringify(gnp?.['spec'])).toContain('203.0.113.0/25');
    await waitFor(() => logLines.filter((l) => l.includes('resource version expired')).length > expiredBefore, { message: 'a 410 relist' });
  });
});
