import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type ApplyOptions, applyYamlWith, Kube, type KubeObject } from './client.js';
import { installCrdsWith } from './crds.js';

export { ApiError, Kube, type KubeObject, parseObjects } from './client.js';
export { crdDocuments } from './crds.js';
export { waitFor, type WaitOptions } from './wait.js';

/** The kubeconfig of this run's control plane (provided by global-setup.ts). */
export function kubeconfig(): string {
  return inject('kubeconfigPath');
}

/** kubectl built with the control plane, so its version matches the server's. */
export function kubectl(): string {
  return inject('kubectlPath');
}

let shared: Kube | undefined;

/** A client for this run's control plane, shared within a test file. */
export function kube(): Kube {
  shared ??= Kube.fromFile(kubeconfig());
  return shared;
}

export function applyYaml(text: string, opts: ApplyOptions = {}): Promise<KubeObject[]> {
  return applyYamlWith(kube(), text, opts);
}

/** Installs (again; it is idempotent) every CRD the tests use and waits for Established. */
export function installCrds(): Promise<string[]> {
  return installCrdsWith(kube());
}

/** Cluster-scoped objects outlive a test, so every test names its own. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
