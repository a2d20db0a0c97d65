import { CNP_GROUP, CNP_PLURAL } from './inputs.js';
import { KubeApiError, type KubePort, type ResourceType } from './port.js';

// What must hold before the operator can do anything: the API server answers with the
// credentials it was given, the ClusterNetworkPolicy CRD is served, and the Lease for leader
// election can be written. Each failure stops the start with one message saying what is
// missing and which flag or variable changes it, instead of retrying forever in silence.

/** The start cannot go on; the message says why and what to change. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** What the installed CRD says of itself (network-policy-api annotations). */
export interface CrdInfo {
  /** `standard` or `experimental`; undefined when not annotated or not readable. */
  readonly channel: string | undefined;
  readonly bundleVersion: string | undefined;
  /** False when the CRD object could not be read (RBAC): channel and version are unknown. */
  readonly readable: boolean;
}

export interface PreflightOptions {
  /** The API server, for messages. */
  readonly server: string;
  readonly leaderElection?: { readonly namespace: string; readonly name: string };
}

export interface PreflightResult {
  /** The version to read and write CNPs through: the one the API server prefers, as kubectl does. */
  readonly version: string;
  readonly crd: CrdInfo;
}

export const CRD_TYPE: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
export const CNP_CRD_NAME = `${CNP_PLURAL}.${CNP_GROUP}`;
const LEASE: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
const CNP_VERSIONS = ['v1beta1', 'v1alpha2'];

function unreachable(server: string, err: unknown): StartupError | undefined {
  if (!(err instanceof KubeApiError)) return undefined;
  const where = `the API server at ${server}`;
  const change = 'check --kubeconfig and --context (or KUBECONFIG; in a pod, its ServiceAccount)';
  if (err.status === 0) return new StartupError(`cannot reach ${where}: ${err.message}; ${change}`);
  if (err.status === 401) return new StartupError(`${where} refused the credentials (401 Unauthorized); ${change}`);
  if (err.status === 403) return new StartupError(`${where} forbids API discovery to this identity (403); ${change}`);
  return undefined;
}

async function cnpVersion(port: KubePort, server: string): Promise<string> {
  let preferred: string | undefined;
  try {
    preferred = await port.preferredVersion(CNP_GROUP);
  } catch (err) {
    throw unreachable(server, err) ?? err;
  }
  const missing = new StartupError(
    `the ClusterNetworkPolicy CRD is not installed (${server} serves no ${CNP_PLURAL}.${CNP_GROUP}); install it: kubectl apply --server-side -k config/crd`,
  );
  if (preferred === undefined) throw missing;
  // The group may hold other kinds (AdminNetworkPolicy in v1alpha1): the preferred version must serve CNPs.
  for (const version of [preferred, ...CNP_VERSIONS.filter((v) => v !== preferred)]) {
    const resources = await port.discover(CNP_GROUP, version);
    if (resources?.some((r) => r.name === CNP_PLURAL)) return version;
  }
  throw missing;
}

async function crdInfo(port: KubePort): Promise<CrdInfo> {
  let crd;
  try {
    crd = await port.get(CRD_TYPE, CNP_CRD_NAME);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 403) return { channel: undefined, bundleVersion: undefined, readable: false };
    throw err;
  }
  const annotations = crd?.metadata.annotations ?? {};
  return {
    channel: annotations['policy.networking.k8s.io/channel'],
    bundleVersion: annotations['policy.networking.k8s.io/bundle-version'],
    readable: crd !== undefined,
  };
}

async function leaseWritable(port: KubePort, namespace: string, name: string): Promise<void> {
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace } };
  const change = `choose another with --leader-election-namespace (CNP_OPERATOR_LEADER_ELECTION_NAMESPACE), or run a single replica with --leader-elect=false`;
  try {
    await port.create(LEASE, lease, { dryRun: true });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 409) return; // the Lease exists: fine
    if (err instanceof KubeApiError && err.status === 404) {
      throw new StartupError(`the namespace "${namespace}" for the leader-election Lease does not exist; create it (kubectl create namespace ${namespace}), or ${change}`);
    }
    if (err instanceof KubeApiError && err.status === 403) {
      throw new StartupError(`this identity may not create Leases in namespace "${namespace}" (403 Forbidden); grant it (config/rbac), or ${change}`);
    }
    throw err;
  }
}

/**
 * Checks what the start needs; throws StartupError with the one thing to fix. The checks are
 * asked together (each is a round trip, and the start waits for all), but their failures are
 * reported in order: an unreachable server or a missing CRD is named before what follows from it.
 */
export async function preflight(port: KubePort, options: PreflightOptions): Promise<PreflightResult> {
  const version = awaitedLater(cnpVersion(port, options.server));
  const crd = awaitedLater(crdInfo(port));
  const lease = awaitedLater(options.leaderElection === undefined ? Promise.resolve() : leaseWritable(port, options.leaderElection.namespace, options.leaderElection.name));
  const result = { version: await version, crd: await crd };
  await lease;
  return result;
}

/** A promise started now and awaited later: its failure is not reported as unhandled while an earlier one is awaited. */
export function awaitedLater<T>(promise: Promise<T>): Promise<T> {
  void promise.catch(() => undefined);
  return promise;
}

/**
 * What every CNP's Accepted condition should say about the installed CRD: the standard
 * channel silently drops the experimental fields, and another bundle version may validate
 * differently from what this operator was built and tested against.
 */
export function crdNotes(crd: CrdInfo): string[] {
  const notes: string[] = [];
  if (crd.channel === 'standard') {
    notes.push(
      'the installed ClusterNetworkPolicy CRD is the standard channel: the API server drops nodes, domainNames and destinationNamedPort from every policy; install the experimental channel (kubectl apply --server-side -k config/crd) to use them',
    );
  }
  if (crd.bundleVersion !== undefined && crd.bundleVersion !== 'v0.3.0') {
    notes.push(`the installed ClusterNetworkPolicy CRD is network-policy-api ${crd.bundleVersion}; cnp-operator is built for v0.3.0`);
  }
  return notes;
}
