import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Binaries, ensureBinaries } from './binaries.js';
import { type Credentials, writeCredentials } from './credentials.js';
import { ControlPlaneError, ExitCode } from './errors.js';
import { tryGet } from './http.js';
import { writeKubeconfig } from './kubeconfig.js';
import { pollUntil } from './poll.js';
import { freePorts } from './ports.js';
import { isAlive, logTail, type ProcessRecord, type Running, spawnComponent, terminate } from './processes.js';
import { type ClusterState, writeState } from './state.js';

export interface StartOptions {
  /** Names the kubeconfig context and the state; letters, digits and dashes. */
  readonly name: string;
  /** Holds data, keys, logs, the kubeconfig and state.json; created if missing. */
  readonly stateDir: string;
  readonly binaries?: Binaries;
  /** Let the processes outlive this Node process (`cluster up`); otherwise they die with it. */
  readonly detached?: boolean;
  /** Run kube-controller-manager (garbage collector and namespace controllers); default true. */
  readonly controllerManager?: boolean;
  /**
   * Runs once the API server is ready, before kube-controller-manager starts: CRDs installed
   * here are found by the garbage collector's first discovery instead of its next (30s) one.
   */
  readonly beforeControllerManager?: (api: ApiAccess) => Promise<void>;
  /** Picks [etcd client, etcd peer, apiserver] ports; tests replace it to provoke a clash. */
  readonly choosePorts?: () => Promise<readonly number[]>;
  /** How long each component may take to become ready; generous because CI machines are busy. */
  readonly timeoutMs?: number;
  readonly progress?: (message: string) => void;
}

export interface ApiAccess {
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly token: string;
  readonly caFile: string;
}

export interface ControlPlane extends ApiAccess {
  readonly name: string;
  readonly stateDir: string;
  /** In start order; stop() goes in reverse. */
  readonly processes: readonly ProcessRecord[];
  /** Stops every process (SIGTERM, then SIGKILL); removes the state directory unless asked to keep it. */
  stop(opts?: { keepState?: boolean }): Promise<void>;
}

class PortClash extends Error {}

const MAX_ATTEMPTS = 4;

export async function startControlPlane(opts: StartOptions): Promise<ControlPlane> {
  const binaries = opts.binaries ?? (await ensureBinaries());
  const say = opts.progress ?? (() => undefined);
  const dir = opts.stateDir;
  for (const sub of ['logs', 'pki']) mkdirSync(join(dir, sub), { recursive: true });
  const creds = writeCredentials(dir);
  for (let attempt = 1; ; attempt++) {
    const started: Running[] = [];
    try {
      return await attemptStart(opts, binaries, creds, started, say);
    } catch (err) {
      await terminate([...started].reverse());
      if (err instanceof PortClash && attempt < MAX_ATTEMPTS) {
        say(`port taken (${err.message}); retrying with other ports`);
        continue;
      }
      if (err instanceof PortClash) throw new ControlPlaneError(`no free ports after ${attempt} attempts: ${err.message}`, ExitCode.startFailed);
      throw err;
    }
  }
}

async function attemptStart(
  opts: StartOptions,
  bin: Binaries,
  creds: Credentials,
  started: Running[],
  say: (m: string) => void,
): Promise<ControlPlane> {
  const dir = opts.stateDir;
  const detached = opts.detached ?? false;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const [etcdPort, peerPort, apiPort] = (await (opts.choosePorts ?? (() => freePorts(3)))()) as [number, number, number];
  const logs = join(dir, 'logs');
  const server = `https://127.0.0.1:${apiPort}`;
  const certDir = join(dir, 'pki');
  const caFile = join(certDir, 'apiserver.crt');
  const kubeconfigPath = join(dir, 'kubeconfig');
  const record = (ready: boolean): ClusterState => {
    const state: ClusterState = {
      name: opts.name,
      ready,
      server,
      kubeconfig: kubeconfigPath,
      caFile,
      detached,
      startedAt: new Date().toISOString(),
      ports: { etcd: etcdPort, etcdPeer: peerPort, apiserver: apiPort },
      processes: started.map(({ name, pid, exe, log }) => ({ name, pid, exe, log })),
    };
    writeState(dir, state);
    return state;
  };

  // A fresh store each start: clusters here are disposable, and old data would need old keys.
  rmSync(join(dir, 'etcd'), { recursive: true, force: true });
  say(`starting etcd on 127.0.0.1:${etcdPort}`);
  const etcd = spawnComponent({
    name: 'etcd',
    exe: bin.etcd,
    log: join(logs, 'etcd.log'),
    detached,
    args: [
      `--name=cnp-${opts.name}`,
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=cnp-${opts.name}=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });
  started.push(etcd);
  record(false);
  await waitReady(etcd, timeoutMs, async () => {
    const r = await tryGet(`http://127.0.0.1:${etcdPort}/health`);
    return r?.status === 200 && r.body.includes('"true"');
  });

  say(`starting kube-apiserver on ${server}`);
  rmSync(certDir, { recursive: true, force: true });
  const apiserver = spawnComponent({
    name: 'kube-apiserver',
    exe: bin.apiserver,
    log: join(logs, 'kube-apiserver.log'),
    detached,
    args: [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${creds.serviceAccountPub}`,
      `--service-account-signing-key-file=${creds.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      `--token-auth-file=${creds.tokenFile}`,
      // No controller creates default service accounts here, so the plugin would block pods.
      '--disable-admission-plugins=ServiceAccount',
      // As on real clusters: setting blockOwnerDeletion needs update on the owner's finalizers.
      '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
      '--allow-privileged=true',
      '--profiling=false',
    ],
  });
  started.push(apiserver);
  record(false);
  // kube-apiserver writes a self-signed serving certificate and its CA into --cert-dir.
  const authed = () => ({ ca: readFileSync(caFile), token: creds.token });
  await waitReady(apiserver, timeoutMs, async () => {
    if (!existsSync(caFile)) return false;
    const ready = await tryGet(`${server}/readyz`, authed());
    if (ready?.status !== 200) return false;
    // readyz does not cover the system namespaces, which tests and samples use at once.
    const ns = await tryGet(`${server}/api/v1/namespaces/default`, authed());
    return ns?.status === 200;
  });

  writeKubeconfig(kubeconfigPath, { name: opts.name, server, caFile, token: creds.token });

  await opts.beforeControllerManager?.({ kubeconfigPath, server, token: creds.token, caFile });

  if (opts.controllerManager ?? true) {
    say('starting kube-controller-manager (garbage collector, namespace controller)');
    const kcm = spawnComponent({
      name: 'kube-controller-manager',
      exe: bin.controllerManager,
      log: join(logs, 'kube-controller-manager.log'),
      detached,
      args: [
        `--kubeconfig=${kubeconfigPath}`,
        '--controllers=garbage-collector-controller,namespace-controller',
        // Leader election is on only because taking the lease is the observable sign that
        // the controllers are starting; there is never a second instance.
        '--leader-elect=true',
        '--secure-port=0',
      ],
    });
    started.push(kcm);
    record(false);
    await waitReady(kcm, timeoutMs, async () => {
      const lease = await tryGet(`${server}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager`, authed());
      return lease?.status === 200 && /"holderIdentity":"[^"]+"/.test(lease.body);
    });
  }

  const { processes } = record(true);
  const unhook = detached ? () => undefined : killOnExit(processes);
  return {
    name: opts.name,
    stateDir: dir,
    kubeconfigPath,
    server,
    token: creds.token,
    caFile,
    processes,
    stop: async ({ keepState = false } = {}) => {
      // The exit hook stays until the end: if this process dies mid-stop, it still kills the rest.
      const left = await terminate([...processes].reverse());
      unhook();
      if (left.length > 0) {
        throw new ControlPlaneError(`could not stop ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
      }
      if (!keepState) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `ready` while watching the process, so a crash fails fast with its log. */
async function waitReady(proc: Running, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  let died = false;
  const ok = await pollUntil(
    async () => {
      if (proc.exit() !== undefined || !isAlive(proc)) {
        died = true;
        return true;
      }
      return ready();
    },
    { timeoutMs, intervalMs: 200 },
  );
  const tail = logTail(proc.log);
  if (died) {
    if (/address already in use/i.test(tail)) throw new PortClash(`${proc.name}: address already in use`);
    const exit = proc.exit();
    const how = exit ? (exit.signal ?? `code ${exit.code}`) : 'unknown status';
    throw new ControlPlaneError(`${proc.name} exited (${how}); last lines of ${proc.log}:\n${tail}`, ExitCode.startFailed);
  }
  if (!ok) {
    throw new ControlPlaneError(`${proc.name} not ready after ${timeoutMs / 1000}s; last lines of ${proc.log}:\n${tail}`, ExitCode.startFailed);
  }
}


/**
 * Attached processes must not outlive a test run that ends without calling stop(): this
 * 'exit' hook is synchronous, so it can only send SIGKILL.
 */
function killOnExit(processes: readonly ProcessRecord[]): () => void {
  const hook = () => {
    for (const p of processes) {
      if (!isAlive(p)) continue;
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone between the check and the signal
      }
    }
  };
  process.once('exit', hook);
  return () => process.removeListener('exit', hook);
}
