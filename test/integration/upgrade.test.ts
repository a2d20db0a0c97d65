import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../src/cluster/controlplane.js';
import { Manager } from '../../src/controller/manager.js';
import { createLogger, silentLogger } from '../../src/controller/runtime/index.js';
import { createKubePort, loadKubeConfig, type KubeConnection } from '../../src/kube/index.js';
import { clusterInformationCrds, crdDocuments, installCrdsWith } from '../harness/crds.js';
import { Kube, kubectl, parseObjects, uniqueName, waitFor } from '../harness/index.js';
import { REPO } from '../support/paths.js';

// A cluster that ran the previous release (the v0.2.0-based CRD, v1alpha2 stored) upgrades:
// the new CRD is applied over it, the operator restarts, every CNP stays Programmed with the
// same backend objects, events are found by `kubectl events --for` (which asks for the
// preferred version), and `cnp-operator migrate-storage` leaves only v1beta1 stored. On a
// control plane of this file's own: it changes the CRD.

const run = promisify(execFile);
const CNP_NAME = 'clusternetworkpolicies.policy.networking.k8s.io';
const GNP = 'projectcalico.org/v3';
const previousCrd = parseObjects(readFileSync(join(import.meta.dirname, 'fixtures', 'crd-before-v0.3.0.yaml'), 'utf8'));
const currentCrd = parseObjects(readFileSync(join(REPO, 'crds', 'policy.networking.k8s.io_clusternetworkpolicies.yaml'), 'utf8'));

let cp: ControlPlane;
let kube: Kube;

interface Running {
  readonly manager: Manager;
  readonly port: KubeConnection;
}

async function startOperator(): Promise<Running> {
  const port = createKubePort(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }));
  const manager = new Manager({ port, log: process.env['CNP_TEST_LOG'] === '1' ? createLogger({ level: 'debug' }) : silentLogger, detect: { backend: 'calico', force: false, calicoApi: GNP }, workers: 2, redetectMs: 1_000 });
  await manager.start();
  return { manager, port };
}

async function stopOperator(r: Running): Promise<void> {
  await r.manager.stop();
  r.port.close();
}

async function allProgrammed(names: readonly string[]): Promise<void> {
  await waitFor(
    async () => {
      for (const name of names) {
        const obj = await kube.get('policy.networking.k8s.io/v1beta1', 'ClusterNetworkPolicy', name);
        const c = ((obj?.['status'] as { conditions?: { type: string; status: string; observedGeneration: number }[] })?.conditions ?? []).find((x) => x.type === 'Programmed');
        if (c?.status !== 'True' || c.observedGeneration !== obj?.metadata['generation']) return false;
      }
      return true;
    },
    { timeout: 90_000, message: 'every CNP to be Programmed at its generation' },
  );
}

async function backendObjects(): Promise<Map<string, { uid: string; spec: string }>> {
  const out = new Map<string, { uid: string; spec: string }>();
  for (const kind of ['Tier', 'GlobalNetworkPolicy', 'GlobalNetworkSet']) {
    for (const o of await kube.list(GNP, kind)) {
      if ((o.metadata['labels'] as Record<string, string> | undefined)?.['app.kubernetes.io/managed-by'] !== 'cnp-operator') continue;
      out.set(`${kind}/${String(o.metadata['name'])}`, { uid: String(o.metadata['uid']), spec: JSON.stringify(o['spec']) });
    }
  }
  return out;
}

async function storedVersions(): Promise<string[]> {
  const crd = await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CNP_NAME);
  return ((crd?.['status'] as { storedVersions?: string[] }).storedVersions ?? []).slice().sort();
}

function policy(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name }, spec };
}

beforeAll(async () => {
  cp = await startControlPlane({
    name: 'upgrade',
    stateDir: mkdtempSync(join(tmpdir(), 'cnp-upgrade-')),
    beforeControllerManager: async (api) => {
      const k = Kube.fromFile(api.kubeconfigPath);
      await installCrdsWith(k, [...previousCrd, ...crdDocuments().filter((c) => c.metadata.name !== CNP_NAME), ...clusterInformationCrds()]);
      k.close();
    },
  });
  kube = Kube.fromFile(cp.kubeconfigPath);
  for (const apiVersion of ['crd.projectcalico.org/v1', GNP]) {
    await kube.apply({ apiVersion, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.31.7', datastoreReady: true } });
  }
  await kube.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { role: 'ingress' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }] } });
}, 180_000);

afterAll(async () => {
  kube?.close();
  await cp?.stop();
});

describe('upgrading from the v0.2.0-based CRD (v1alpha2 stored) to v0.3.0 (v1beta1 stored)', () => {
  it('keeps every CNP programmed with the same backend objects, and migrate-storage tidies storedVersions', async () => {
    const names = [uniqueName('deny-net'), uniqueName('to-nodes'), uniqueName('named')];
    await kube.create(policy(names[0]!, { tier: 'Admin', priority: 5, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['198.51.100.0/24'] }] }] }));
    await kube.create(policy(names[1]!, { tier: 'Admin', priority: 6, subject: { namespaces: {} }, egress: [{ action: 'Accept', to: [{ nodes: { matchLabels: { role: 'ingress' } } }] }] }));
    await kube.create(policy(names[2]!, { tier: 'Baseline', priority: 7, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'web' }] }] }));
    expect(await storedVersions()).toEqual(['v1alpha2']);

    const before = await startOperator();
    await allProgrammed(names);
    const objects = await backendObjects();
    expect(objects.size).toBeGreaterThanOrEqual(names.length + 2); // the policies, their tiers, the node set
    await stopOperator(before);

    for (const crd of currentCrd) await kube.apply(crd, { fieldManager: 'cnp-operator-test-harness' });
    await waitFor(async () => (await storedVersions()).includes('v1beta1'), { message: 'v1beta1 to become a stored version' });
    expect(await storedVersions()).toEqual(['v1alpha2', 'v1beta1']);

    const after = await startOperator();
    try {
      // A change after the upgrade is programmed too.
      const edited = await kube.get('policy.networking.k8s.io/v1beta1', 'ClusterNetworkPolicy', names[0]!);
      await kube.apply({ ...policy(names[0]!, { ...(edited!['spec'] as object), priority: 8 }), apiVersion: 'policy.networking.k8s.io/v1beta1' });
      await allProgrammed(names);
      const now = await backendObjects();
      expect([...now.keys()].sort()).toEqual([...objects.keys()].sort());
      for (const [key, o] of objects) {
        expect(now.get(key)?.uid, key).toBe(o.uid);
        if (!key.includes(names[0]!)) expect(now.get(key)?.spec, key).toBe(o.spec);
      }
      // kubectl asks for the preferred version (v1beta1); the events name it.
      const events = await run(kubectl(), ['--kubeconfig', cp.kubeconfigPath, 'events', '--for', `clusternetworkpolicy/${names[0]!}`], { encoding: 'utf8' });
      expect(events.stdout).toMatch(/Normal\s+Programmed/);
    } finally {
      await stopOperator(after);
    }

    const migrate = await run(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'migrate-storage', '--kubeconfig', cp.kubeconfigPath], { encoding: 'utf8' });
    expect(migrate.stdout).toContain(`rewrote ${names.length} ClusterNetworkPolicies in v1beta1`);
    expect(await storedVersions()).toEqual(['v1beta1']);
    for (const name of names) expect(await kube.get('policy.networking.k8s.io/v1beta1', 'ClusterNetworkPolicy', name)).toBeDefined();
    // Again: nothing left to do.
    const again = await run(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'migrate-storage', '--kubeconfig', cp.kubeconfigPath], { encoding: 'utf8' });
    expect(again.stdout).toContain('already lists only the storage version');
  }, 300_000);
});
