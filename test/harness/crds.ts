import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CALICO_CRDS, ciliumCrds, REPO } from '../support/paths.js';
import { type Kube, type KubeObject, parseObjects } from './client.js';
import { waitFor } from './wait.js';

/**
 * Both Calico API forms of 3.32.1: the native projectcalico.org/v3 CRDs and the
 * crd.projectcalico.org/v1 backing CRDs (different groups, so both fit). ClusterInformation
 * is left out: a test installs it when it plays a cluster of some Calico version.
 */
const CALICO_FILE = /^(crd\.)?projectcalico\.org_(globalnetworkpolicies|globalnetworksets|tiers)\.yaml$/;
/** Cilium's own CRDs for the kinds the operator writes or meets (CiliumNetworkPolicy owns the short name cnp). */
const CILIUM_FILES = ['ciliumclusterwidenetworkpolicies.yaml', 'ciliumnetworkpolicies.yaml'];

function yamlFiles(dir: string, match: RegExp): string[] {
  return readdirSync(dir).filter((f) => match.test(f)).sort().map((f) => join(dir, f));
}

function crdsIn(files: readonly string[]): KubeObject[] {
  const docs = files.flatMap((f) => parseObjects(readFileSync(f, 'utf8')));
  const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
  // controller-gen leaves an empty status in its output; it is not ours to write.
  for (const c of crds) delete c['status'];
  return crds;
}

/** Every CRD the integration tests need: ours, Calico's (both forms) and Cilium's. */
export function crdDocuments(): KubeObject[] {
  return crdsIn([
    ...yamlFiles(join(REPO, 'crds'), /\.ya?ml$/),
    ...yamlFiles(join(CALICO_CRDS, 'v3.32.1'), CALICO_FILE),
    ...CILIUM_FILES.map((f) => join(ciliumCrds(), f)),
  ]);
}

/** Calico's ClusterInformation CRDs (both groups), which tell the operator Calico's version. */
export function clusterInformationCrds(): KubeObject[] {
  return crdsIn(yamlFiles(join(CALICO_CRDS, 'v3.32.1'), /^(crd\.)?projectcalico\.org_clusterinformations\.yaml$/));
}

interface CrdStatus {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/** Installs (server-side apply, idempotent) the CRDs and waits until each is Established. */
export async function installCrdsWith(kube: Kube, crds: KubeObject[] = crdDocuments(), timeout = 60_000): Promise<string[]> {
  for (const crd of crds) await kube.apply(crd, { fieldManager: 'cnp-operator-test-harness' });
  const names = crds.map((c) => c.metadata.name);
  for (const name of names) {
    await waitFor(
      async () => {
        const crd = await kube.get<KubeObject & CrdStatus>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', name);
        const conditions = crd?.status?.conditions ?? [];
        const is = (t: string) => conditions.some((c) => c.type === t && c.status === 'True');
        return is('Established') && is('NamesAccepted');
      },
      { timeout, message: `CRD ${name} to be Established` },
    );
  }
  return names;
}
