import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { Kube, kube, kubeconfig, kubectl, type KubeObject, parseObjects, waitFor } from '../harness/index.js';
import { REPO } from '../support/paths.js';

const run = promisify(execFile);

/** Where the Kustomize overlays live. */
export const CONFIG = join(REPO, 'config');
/** The operator's namespace and ServiceAccount, as config/ installs them. */
export const NAMESPACE = 'cnp-system';
export const SERVICE_ACCOUNT = 'cnp-operator';

/** `kubectl kustomize config/<dir>`: the objects an overlay renders to. */
export async function render(dir: string): Promise<KubeObject[]> {
  const { stdout } = await run(kubectl(), ['kustomize', join(CONFIG, dir)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return parseObjects(stdout);
}

/** `kubectl apply --server-side -k config/<dir>` as the cluster admin; rejects on a non-zero exit. */
export async function applyOverlay(dir: string): Promise<{ stdout: string; stderr: string }> {
  return run(kubectl(), ['--kubeconfig', kubeconfig(), 'apply', '--server-side', '-k', join(CONFIG, dir)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Removes what an overlay installed, except the CRD (other test files keep using it), and waits
 * until the namespace is gone, so that a later install does not meet a terminating namespace.
 */
export async function removeOverlay(dir: string): Promise<void> {
  const objects = (await render(dir)).filter((o) => o.kind !== 'CustomResourceDefinition');
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) await kube().delete(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
  await kube().delete('v1', 'Namespace', NAMESPACE);
  await waitFor(async () => (await kube().get('v1', 'Namespace', NAMESPACE)) === undefined, { timeout: 120_000, message: `namespace ${NAMESPACE} to be deleted` });
}

/**
 * A kubeconfig that authenticates as the operator's ServiceAccount with a token from the
 * TokenRequest API (what the kubelet mounts into the pod), for the same server and CA as the
 * admin kubeconfig. Returns its path.
 */
export async function serviceAccountKubeconfig(expirationSeconds = 3600): Promise<string> {
  const path = `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${SERVICE_ACCOUNT}/token`;
  const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } };
  const answer = await kube().request<{ status: { token: string } }>('POST', path, request);
  const cluster = kube().kc.getCurrentCluster()!;
  const ca = cluster.caData ?? (cluster.caFile === undefined ? undefined : readFileSync(cluster.caFile).toString('base64'));
  const name = 'cnp-operator-sa';
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: cluster.server, ...(ca === undefined ? {} : { 'certificate-authority-data': ca }) } }],
    users: [{ name, user: { token: answer.status.token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
  const file = join(mkdtempSync(join(tmpdir(), 'cnp-operator-sa-')), 'kubeconfig');
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

/** A client with the identity of a kubeconfig (e.g. the ServiceAccount's). */
export function clientFor(path: string): Kube {
  return Kube.fromFile(path);
}
