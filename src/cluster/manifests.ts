import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ApiAccess } from './controlplane.js';
import { ControlPlaneError } from './errors.js';
import { packageRoot } from './paths.js';
import { pollUntil } from './poll.js';
import { apply, call, type KubeObject } from './rest.js';

export const crdsDir = join(packageRoot, 'crds');
export const samplesDir = join(packageRoot, 'config', 'samples');

/** The objects in a YAML file, or in every .yaml/.yml file of a directory (sorted). */
export function readManifests(path: string): KubeObject[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJSON() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null && typeof o === 'object'),
  );
}

interface Crd {
  status?: { conditions?: { type: string; status: string }[] };
}

/** The demo's stand-in for the CNI's policy CRD (the demo cluster has no CNI). */
export const demoCrdsDir = join(packageRoot, 'hack', 'demo');

/** Applies the CRDs in `dir` (by default the ones this project ships) and waits until the API server serves them. */
export async function installProjectCrds(api: ApiAccess, timeoutMs = 60_000, dir = crdsDir): Promise<string[]> {
  const crds = readManifests(dir).filter((o) => o.kind === 'CustomResourceDefinition');
  for (const crd of crds) await apply(api, crd);
  for (const crd of crds) {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
    const established = await pollUntil(
      async () => {
        const got = await call<Crd>(api, 'GET', path);
        return (got.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (!established) throw new ControlPlaneError(`CRD ${crd.metadata.name} not Established after ${timeoutMs / 1000}s`);
  }
  return crds.map((c) => c.metadata.name);
}
