import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureBinaries } from '../../src/cluster/binaries.js';
import { type ControlPlane, startControlPlane } from '../../src/cluster/controlplane.js';
import { Kube } from './client.js';
import { installCrdsWith } from './crds.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The kubeconfig of the control plane this run uses (see test/harness/index.ts). */
    kubeconfigPath: string;
    /** A kubectl matching the server's version (built with the control plane). */
    kubectlPath: string;
  }
}

const log = (m: string) => process.stderr.write(`[harness] ${m}\n`);

/**
 * One control plane per test run: the one named by KUBECONFIG if set (e.g. from
 * `cnp-operator cluster up`), otherwise a fresh one that is torn down afterwards.
 * Set CNP_TEST_KEEP_CLUSTER=1 to keep a fresh one's logs for a post-mortem.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureBinaries();
  let cp: ControlPlane | undefined;
  let kubeconfigPath = process.env['KUBECONFIG'];
  if (kubeconfigPath) {
    assertLocal(kubeconfigPath);
    log(`reusing the cluster of KUBECONFIG=${kubeconfigPath}`);
    await installCrds(kubeconfigPath);
  } else {
    const started = Date.now();
    cp = await startControlPlane({
      name: 'test',
      binaries,
      stateDir: mkdtempSync(join(tmpdir(), 'cnp-operator-test-')),
      progress: log,
      // Before the controller manager, so garbage collection knows the CRDs from its start.
      beforeControllerManager: (api) => installCrds(api.kubeconfigPath),
    });
    kubeconfigPath = cp.kubeconfigPath;
    log(`control plane ready at ${cp.server} in ${((Date.now() - started) / 1000).toFixed(1)}s (state in ${cp.stateDir})`);
  }
  project.provide('kubeconfigPath', kubeconfigPath);
  project.provide('kubectlPath', binaries.kubectl);
  return async () => {
    await cp?.stop({ keepState: process.env['CNP_TEST_KEEP_CLUSTER'] === '1' });
  };
}

async function installCrds(kubeconfigPath: string): Promise<void> {
  const kube = Kube.fromFile(kubeconfigPath);
  try {
    const names = await installCrdsWith(kube);
    log(`installed ${names.length} CRDs`);
  } finally {
    kube.close();
  }
}

/**
 * The tests create and delete cluster-wide objects and CRDs; refusing a non-loopback server
 * keeps a stray KUBECONFIG from pointing them at a real cluster.
 */
function assertLocal(path: string): void {
  if (path.includes(':')) throw new Error(`KUBECONFIG=${path}: give a single file for the integration tests`);
  const server = Kube.fromFile(path).server;
  const host = new URL(server).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host) && process.env['CNP_TEST_ALLOW_REMOTE_CLUSTER'] !== '1') {
    throw new Error(
      `KUBECONFIG points at ${server}, not a local control plane; unset KUBECONFIG to start one, ` +
        'or set CNP_TEST_ALLOW_REMOTE_CLUSTER=1 if that cluster is disposable',
    );
  }
}
