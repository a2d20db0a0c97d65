import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { type ControlPlane, startControlPlane } from '../../src/cluster/controlplane.js';
import { installCrdsWith } from '../harness/crds.js';
import { Kube, type KubeObject, parseObjects, waitFor } from '../harness/index.js';
import { CALICO_CRDS, ciliumCrds, REPO } from '../support/paths.js';

// A shell session for the documentation's commands: a control plane of its own set up as a Calico
// or a Cilium cluster (the CNI's CRDs and the objects the operator reads to detect it, no CNP CRD:
// the documented install brings it), a scratch working directory that looks like a clone of the
// repository, the environment a user has (KUBECONFIG), and the operator run as a user would run the
// pod: `bin/cnp-operator run` with the ServiceAccount's token, once the overlay has created it.

export type Backend = 'calico' | 'cilium';

export const CALICO_VERSION = 'v3.31.7';
export const CALICO_NATIVE_VERSION = 'v3.32.1';
export const CILIUM_IMAGE = 'quay.io/cilium/cilium:v1.20.2';
/** A CiliumNetworkPolicy of Cilium's own in the Cilium setup: what `kubectl get cnp` lists there. */
export const CILIUM_OWN_POLICY = 'cilium-own-policy';

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function calicoCrds(): KubeObject[] {
  const files = [
    ...['clusterinformations', 'globalnetworkpolicies', 'globalnetworksets', 'tiers'].map((k) => join(CALICO_CRDS, 'v3.31.7', `crd.projectcalico.org_${k}.yaml`)),
    // Calico 3.31's projectcalico.org/v3 comes from its API server; 3.32's CRDs of the same kinds stand in for it.
    ...['clusterinformations', 'globalnetworkpolicies', 'globalnetworksets', 'tiers'].map((k) => join(CALICO_CRDS, 'v3.32.1', `projectcalico.org_${k}.yaml`)),
  ];
  return files.flatMap((f) => parseObjects(readFileSync(f, 'utf8')));
}

function ciliumCrdObjects(): KubeObject[] {
  // Cilium's real CRDs: CiliumNetworkPolicy's names stanza owns the short name cnp.
  return ['ciliumclusterwidenetworkpolicies.yaml', 'ciliumnetworkpolicies.yaml'].flatMap((f) => parseObjects(readFileSync(join(ciliumCrds(), f), 'utf8')));
}

function withoutStatus(crds: KubeObject[]): KubeObject[] {
  for (const c of crds) delete c['status'];
  return crds;
}

/** Where kubectl comes from: the user's PATH, else the one built with the control plane. */
function pathWithKubectl(harnessKubectl: string): string {
  const path = process.env['PATH'] ?? '';
  try {
    execFileSync('bash', ['-c', 'command -v kubectl'], { env: { PATH: path }, stdio: 'ignore' });
    return path;
  } catch {
    return `${dirname(harnessKubectl)}:${path}`;
  }
}

export class Session {
  /** `export` lines run so far: later commands run after them, as in one shell. */
  private readonly exports: string[] = [];
  operator: OperatorProcess | undefined;
  /** Every log line of every operator process of this session. */
  readonly operatorLogs: Record<string, unknown>[] = [];

  private constructor(
    readonly backend: Backend,
    readonly cp: ControlPlane,
    readonly kube: Kube,
    /** The working directory: the repository's files through symlinks, and room for new ones. */
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(backend: Backend, harnessKubectl: string): Promise<Session> {
    const stateDir = mkdtempSync(join(tmpdir(), `cnp-docs-${backend}-`));
    const cp = await startControlPlane({
      name: `docs-${backend}`,
      stateDir,
      // Before the controller manager, so that garbage collection knows the CNI's kinds from the start.
      beforeControllerManager: async (api) => {
        const k = Kube.fromFile(api.kubeconfigPath);
        try {
          await installCrdsWith(k, withoutStatus(backend === 'calico' ? calicoCrds() : ciliumCrdObjects()));
        } finally {
          k.close();
        }
      },
    });
    const kube = Kube.fromFile(cp.kubeconfigPath);
    if (backend === 'calico') {
      await setCalicoVersion(kube, CALICO_VERSION);
    } else {
      await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'enable-k8s-cluster-network-policy': 'false' } });
      await kube.apply({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'cilium', namespace: 'kube-system' },
        spec: {
          selector: { matchLabels: { 'k8s-app': 'cilium' } },
          template: { metadata: { labels: { 'k8s-app': 'cilium' } }, spec: { containers: [{ name: 'cilium-agent', image: CILIUM_IMAGE }] } },
        },
      });
      await kube.apply({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: CILIUM_OWN_POLICY, namespace: 'default' }, spec: { endpointSelector: {}, ingress: [{ fromEndpoints: [{}] }] } });
    }
    const dir = mkdtempSync(join(tmpdir(), `cnp-docs-${backend}-cwd-`));
    for (const entry of ['bin', 'config', 'crds', 'docs', 'hack', 'package.json']) symlinkSync(join(REPO, entry), join(dir, entry));
    mkdirSync(join(dir, '.kube-cache'));
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CNP_OPERATOR_') && k !== 'KUBECONFIG'));
    Object.assign(env, { KUBECONFIG: cp.kubeconfigPath, KUBECACHEDIR: join(dir, '.kube-cache'), PATH: pathWithKubectl(harnessKubectl) });
    return new Session(backend, cp, kube, dir, env);
  }

  /** Runs one command as the documentation shows it, in bash, after the session's exports. */
  run(text: string, timeoutMs = 180_000): Promise<RunResult> {
    const script = ['set -eo pipefail', ...this.exports, text].join('\n');
    const result = runBash(['-c', script], { cwd: this.dir, env: this.env }, timeoutMs);
    if (/^export\s/.test(text)) this.exports.push(text);
    return result;
  }

  /** Starts the operator as the pod would run (unless it runs), and waits until it leads. */
  async ensureOperator(): Promise<OperatorProcess> {
    if (this.operator?.alive()) return this.operator;
    const kubeconfig = await this.serviceAccountKubeconfig();
    this.operator = await OperatorProcess.start(this, kubeconfig);
    await waitFor(() => this.operatorLogs.some((l) => l['msg'] === 'became leader' && l['pid'] === this.operator?.pid), { timeout: 60_000, message: 'the operator to lead' });
    return this.operator;
  }

  async stopOperator(): Promise<void> {
    await this.operator?.stop();
    this.operator = undefined;
  }

  async restartOperator(): Promise<OperatorProcess> {
    await this.stopOperator();
    return this.ensureOperator();
  }

  /** A kubeconfig with a token of the ServiceAccount the overlay created (what the kubelet mounts). */
  private async serviceAccountKubeconfig(): Promise<string> {
    const answer = await this.kube.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/cnp-system/serviceaccounts/cnp-operator/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    const file = join(this.dir, '.operator-kubeconfig');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: this.cp.server, 'certificate-authority-data': readFileSync(this.cp.caFile).toString('base64') } }],
        users: [{ name: 'cnp-operator', user: { token: answer.status.token } }],
        contexts: [{ name: 'cnp-operator', context: { cluster: 'c', user: 'cnp-operator' } }],
        'current-context': 'cnp-operator',
      }),
      { mode: 0o600 },
    );
    return file;
  }

  async stop(): Promise<void> {
    await this.stopOperator();
    this.kube.close();
    await this.cp.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function setCalicoVersion(kube: Kube, version: string): Promise<void> {
  for (const apiVersion of ['crd.projectcalico.org/v1', 'projectcalico.org/v3']) {
    await kube.apply({ apiVersion, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: version, datastoreReady: true } });
  }
}

function runBash(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `bin/cnp-operator run` as the Deployment runs it: environment only, the ServiceAccount's identity. */
export class OperatorProcess {
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    /** The port serving /healthz, /readyz and /metrics (both asked for 0: one server). */
    readonly port: number,
  ) {
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exit.then(() => (this.exited = true));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(session: Session, kubeconfig: string): Promise<OperatorProcess> {
    const env = {
      ...session.env,
      KUBECONFIG: kubeconfig,
      POD_NAMESPACE: 'cnp-system',
      CNP_OPERATOR_BACKEND: session.backend,
      // Free ports: the machine is shared. Both 0: /metrics beside the probes.
      CNP_OPERATOR_HEALTH_PORT: '0',
      CNP_OPERATOR_METRICS_PORT: '0',
    };
    const child = spawn(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'run'], { cwd: session.dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let pending = '';
    let port: number | undefined;
    let failed: string | undefined;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          entry = { msg: line, level: 'unparsed' };
        }
        session.operatorLogs.push({ ...entry, pid: child.pid });
        if (process.env['CNP_TEST_LOG'] === '1') process.stderr.write(`[operator ${session.backend}] ${line}\n`);
        if (entry['msg'] === 'started') port = (entry['ports'] as number[])[0];
        if (entry['level'] === 'error') failed = line;
      }
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let code: number | null | undefined;
    void exited.then((c) => (code = c));
    await waitFor(
      () => {
        if (code !== undefined) throw new Error(`the operator exited with ${String(code)}: ${failed ?? ''}`);
        return port;
      },
      { timeout: 60_000, message: 'the operator to start' },
    );
    return new OperatorProcess(child, port!);
  }

  alive(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 45_000);
    await this.exit;
    clearTimeout(killer);
  }

  /** GET on the operator's probe and metrics server. */
  fetch(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port: this.port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  }

  /** The samples of /metrics: name, labels and value. */
  async metrics(): Promise<Sample[]> {
    return parseMetrics((await this.fetch('/metrics')).body);
  }
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text format, enough for the operator's own output. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * Creates the objects of a cluster snapshot file (docs/examples/cluster.yaml) as a kubelet-less
 * cluster can hold them: pods get an image if they have none, and the addresses a kubelet would
 * report are written into their status.
 */
export async function loadSnapshot(kube: Kube, file: string): Promise<void> {
  for (const obj of parseObjects(readFileSync(file, 'utf8'))) {
    if (obj.kind === 'Namespace') {
      if ((await kube.get('v1', 'Namespace', obj.metadata.name)) === undefined) await kube.create(obj);
      continue;
    }
    if (obj.kind === 'Pod') {
      const spec = obj['spec'] as { containers: { image?: string }[] };
      const status = obj['status'] as { podIP?: string } | undefined;
      const pod = { ...obj, spec: { ...spec, containers: spec.containers.map((c) => ({ image: 'example.invalid/none', ...c })) } };
      delete (pod as Record<string, unknown>)['status'];
      await kube.create(pod);
      if (status?.podIP !== undefined) {
        await kube.request('PATCH', `/api/v1/namespaces/${obj.metadata.namespace}/pods/${obj.metadata.name}/status`, { status: { podIP: status.podIP, podIPs: [{ ip: status.podIP }] } }, 'application/merge-patch+json');
      }
      continue;
    }
    await kube.create(obj);
  }
}
