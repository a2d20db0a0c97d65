import { Manager, type ManagerOptions } from '../../src/controller/manager.js';
import { createLogger, silentLogger } from '../../src/controller/runtime/index.js';
import { createKubePort, loadKubeConfig } from '../../src/kube/index.js';
import { clusterInformationCrds, installCrdsWith } from '../harness/crds.js';
import { kube, kubeconfig, waitFor } from '../harness/index.js';

/** Installs the ClusterInformation CRDs and claims a Calico version in both API groups. */
export async function setCalicoVersion(version: string): Promise<void> {
  await installCrdsWith(kube(), clusterInformationCrds());
  for (const apiVersion of ['crd.projectcalico.org/v1', 'projectcalico.org/v3']) {
    await kube().apply({ apiVersion, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: version, datastoreReady: true } });
  }
}

export interface RunningOperator {
  readonly manager: Manager;
  stop(): Promise<void>;
}

/** Runs the operator in this process against the test control plane, with test-sized timings. */
export async function startOperator(options: Partial<ManagerOptions> = {}): Promise<RunningOperator> {
  const port = createKubePort(loadKubeConfig({ kubeconfig: kubeconfig() }));
  const log = process.env['CNP_TEST_LOG'] === '1' ? createLogger({ level: 'debug' }) : silentLogger;
  const manager = new Manager({
    port,
    log,
    detect: { backend: 'auto', force: false },
    workers: 2,
    redetectMs: 500,
    ...options,
  });
  await manager.start();
  return {
    manager,
    stop: async () => {
      await manager.stop();
      port.close();
    },
  };
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
}

/** Waits until the CNP's condition of `type` satisfies `check`; returns all its conditions. */
export async function waitForCondition(name: string, type: string, check: (c: Condition) => boolean, timeout = 30_000): Promise<Condition[]> {
  return waitFor(
    async () => {
      const cnp = await kube().get('policy.networking.k8s.io/v1beta1', 'ClusterNetworkPolicy', name);
      const conditions = ((cnp?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
      const c = conditions.find((x) => x.type === type);
      if (c !== undefined && check(c)) return conditions;
      // Said in the timeout error: what the status was when the wait gave up.
      throw new Error(`conditions now: ${JSON.stringify(conditions.map((x) => [x.type, x.status, x.reason, x.message]))}`);
    },
    { timeout, message: `condition ${type} of ClusterNetworkPolicy ${name}` },
  );
}
