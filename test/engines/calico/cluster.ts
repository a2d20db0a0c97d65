import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../../../src/cluster/binaries.js';
import { type ControlPlane, startControlPlane } from '../../../src/cluster/controlplane.js';
import { Kube, parseObjects, type KubeObject } from '../../harness/client.js';
import { waitFor } from '../../harness/wait.js';
import { REPO } from '../../support/paths.js';
import { type CalicoVersion, calicoSource } from './builds.js';
import { calicoCrds, calicoStartupObjects } from './calico-install.js';

// The lab's own control plane (the project's local one: etcd, kube-apiserver,
// kube-controller-manager), set up as a cluster running Calico of one version would be, with
// this project's ClusterNetworkPolicy CRD installed.

export interface LabCluster {
  readonly version: CalicoVersion;
  readonly kube: Kube;
  readonly kubeconfig: string;
  readonly stateDir: string;
  /** The API versions our CNP CRD serves (Calico 3.32 reads v1alpha2 whenever it is served). */
  readonly cnpVersions: readonly string[];
  stop(): Promise<void>;
}

const say = (m: string): void => void process.stderr.write(`[calico-lab] ${m}\n`);

function ourCrds(): KubeObject[] {
  const dir = join(REPO, 'crds');
  const docs = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .flatMap((f) => parseObjects(readFileSync(join(dir, f), 'utf8')));
  return docs.filter((d) => d.kind === 'CustomResourceDefinition');
}

async function installCrds(kube: Kube, crds: readonly KubeObject[]): Promise<void> {
  for (const crd of crds) {
    delete crd['status'];
    await kube.apply(crd, { fieldManager: 'calico-lab' });
  }
  for (const crd of crds) {
    await waitFor(
      async () => {
        const got = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', crd.metadata.name);
        return got?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
      },
      { timeout: 60_000, message: `CRD ${crd.metadata.name} to be Established` },
    );
  }
}

export async function startLabCluster(version: CalicoVersion): Promise<LabCluster> {
  const tree = await calicoSource(version);
  const crds = [...calicoCrds(tree), ...ourCrds()];
  const stateDir = mkdtempSync(join(tmpdir(), `cnp-calico-lab-${version}-`));
  const started = Date.now();
  const cp: ControlPlane = await startControlPlane({
    name: `calico-lab-${version.replace(/\./g, '-')}`,
    binaries: await ensureBinaries(),
    stateDir,
    progress: say,
    // Before the controller manager, so its garbage collector knows the CRDs from the start.
    beforeControllerManager: async (api) => {
      const kube = Kube.fromFile(api.kubeconfigPath);
      try {
        await installCrds(kube, crds);
      } finally {
        kube.close();
      }
    },
  });
  const kube = Kube.fromFile(cp.kubeconfigPath);
  try {
    for (const obj of calicoStartupObjects(version)) await kube.apply(obj, { fieldManager: 'calico-node' });
    const cnp = await kube.get<KubeObject & { spec: { versions: { name: string; served: boolean }[] } }>(
      'apiextensions.k8s.io/v1',
      'CustomResourceDefinition',
      'clusternetworkpolicies.policy.networking.k8s.io',
    );
    const cnpVersions = (cnp?.spec.versions ?? []).filter((v) => v.served).map((v) => v.name);
    say(`control plane for Calico v${version} ready in ${((Date.now() - started) / 1000).toFixed(1)}s; our CNP CRD serves ${cnpVersions.join(', ')}`);
    return {
      version,
      kube,
      kubeconfig: cp.kubeconfigPath,
      stateDir,
      cnpVersions,
      stop: async () => {
        kube.close();
        await cp.stop({ keepState: process.env['CNP_TEST_KEEP_CLUSTER'] === '1' });
      },
    };
  } catch (err) {
    kube.close();
    await cp.stop();
    throw err;
  }
}
