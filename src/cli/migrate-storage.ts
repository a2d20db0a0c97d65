import { CNP_CRD_NAME, CRD_TYPE } from '../controller/preflight.js';
import { cnpType } from '../controller/inputs.js';
import { KubeApiError, type KubeObject, type KubePort } from '../controller/port.js';
import { createKubePort, loadKubeConfig } from '../kube/index.js';
import { CliError } from './errors.js';
import { parseFlags, single } from './flags.js';

const HELP = `usage: cnp-operator migrate-storage [--kubeconfig FILE] [--context NAME] [--dry-run]

Finishes an upgrade of the ClusterNetworkPolicy CRD to a new storage version (network-policy-api
v0.3.0 stores v1beta1; earlier CRDs stored v1alpha2), as the Kubernetes documentation on CRD
versions describes: every ClusterNetworkPolicy is written back unchanged, which stores it in the
current storage version, and then only that version is left in the CRD's status.storedVersions.
Until then the API server keeps the old version listed, and a later CRD that stops serving it is
refused. Safe to run again; objects changed meanwhile are read again and retried.

Needs a cluster admin's rights (update on the CRD's status and on every ClusterNetworkPolicy).
`;

interface Crd extends KubeObject {
  spec: { versions: { name: string; served: boolean; storage: boolean }[] };
  status?: { storedVersions?: string[] };
}

export async function migrateStorageCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: ['kubeconfig', 'context'], switches: ['help', 'dry-run'], aliases: { h: 'help' } });
  if (flags.switches.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const kubeconfig = single(flags, 'kubeconfig');
  const context = single(flags, 'context');
  const port = createKubePort(loadKubeConfig({ ...(kubeconfig === undefined ? {} : { kubeconfig }), ...(context === undefined ? {} : { context }) }));
  try {
    return await migrate(port, flags.switches.has('dry-run'));
  } finally {
    port.close();
  }
}

async function migrate(port: KubePort, dryRun: boolean): Promise<number> {
  const crd = (await port.get(CRD_TYPE, CNP_CRD_NAME)) as Crd | undefined;
  if (crd === undefined) throw new CliError(`the CRD ${CNP_CRD_NAME} is not installed`, 1);
  const storage = crd.spec.versions.find((v) => v.storage)?.name;
  if (storage === undefined) throw new CliError(`the CRD ${CNP_CRD_NAME} has no storage version`, 1);
  const stored = crd.status?.storedVersions ?? [];
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`storage version ${storage}; status.storedVersions ${JSON.stringify(stored)}`);

  const type = cnpType(storage);
  const { items } = await port.list(type);
  let rewritten = 0;
  for (const item of items) {
    if (!dryRun) await rewrite(port, type, item);
    rewritten++;
  }
  out(`${dryRun ? 'would rewrite' : 'rewrote'} ${rewritten} ClusterNetworkPolicies in ${storage}`);

  if (stored.length === 1 && stored[0] === storage) {
    out('status.storedVersions already lists only the storage version');
    return 0;
  }
  if (!dryRun) {
    await port.applyStatus(CRD_TYPE, { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: CNP_CRD_NAME }, status: { storedVersions: [storage] } }, { fieldManager: 'cnp-operator-migrate-storage', force: true });
  }
  out(`${dryRun ? 'would set' : 'set'} status.storedVersions to ["${storage}"]`);
  return 0;
}

/** Writes the object back unchanged; the API server stores it in the current storage version. */
async function rewrite(port: KubePort, type: ReturnType<typeof cnpType>, item: KubeObject): Promise<void> {
  let current: KubeObject | undefined = item;
  for (let attempt = 0; current !== undefined; attempt++) {
    try {
      await port.replace(type, current);
      return;
    } catch (err) {
      // Changed meanwhile (the operator writes status): read it again. Deleted: nothing to migrate.
      if (!(err instanceof KubeApiError && err.status === 409) || attempt >= 5) throw err;
      current = await port.get(type, item.metadata.name);
    }
  }
}
