import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, UPSTREAM } from '../support/paths.js';
import { loadCiliumCrd } from './cilium-crd.js';
import { type Kube, type KubeObject, parseObjects } from './client.js';
import { waitFor } from './wait.js';

const CALICO = join(UPSTREAM, 'calico');
/**
 * Both Calico API forms: the native projectcalico.org/v3 CRDs and the crd.projectcalico.org/v1
 * backing CRDs (different groups, so both fit). Not the v3.31.7 copies (same names, older) and
 * not Calico's copy of the CNP CRD (standard channel; ours is installed instead).
 */
const CALICO_FILE = /^(crd\.)?projectcalico\.org_[a-z]+\.yaml$/;

function yamlFiles(dir: string, match: RegExp): string[] {
  return readdirSync(dir).filter((f) => match.test(f)).sort().map((f) => join(dir, f));
}

/** Every CRD the integration tests need: ours, Calico's (both forms) and the structural CCNP. */
export function crdDocuments(): KubeObject[] {
  const files = [...yamlFiles(join(REPO, 'crds'), /\.ya?ml$/), ...yamlFiles(CALICO, CALICO_FILE)];
  const docs = files.flatMap((f) => parseObjects(readFileSync(f, 'utf8')));
  const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
  // controller-gen leaves an empty status in its output; it is not ours to write.
  for (const c of crds) delete c['status'];
  return [...crds, loadCiliumCrd() as unknown as KubeObject];
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
