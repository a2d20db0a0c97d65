import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kube, type KubeObject, uniqueName, waitFor } from '../harness/index.js';
import { deploymentEnv, dockerfileStages, imageEnv } from '../support/deployment.js';
import { REPO } from '../support/paths.js';
import { applyOverlay, NAMESPACE, removeOverlay, serviceAccountKubeconfig } from './install.js';
import { setCalicoVersion, waitForCondition } from './operator.js';

// There is no container engine here, so this test runs what the image would run: the
// runtime stage's ENTRYPOINT, read from the Dockerfile, over the files its COPY lines put in
// the image (the built dist/ and bin/, package.json, and only the production dependencies),
// with the environment of the Deployment in config/manager, as the ServiceAccount.

const stages = dockerfileStages();
const runtime = stages.at(-1)!;
const last = (op: string): string | undefined => runtime.instructions.filter((i) => i.op === op).at(-1)?.args;
const WORKDIR = last('WORKDIR') ?? '/';
const ENTRYPOINT = JSON.parse(last('ENTRYPOINT') ?? '[]') as string[];

/** Production packages of the lockfile (what `npm ci --omit=dev` installs), top level only. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && path.split('node_modules/').length === 2 && p.dev !== true)
    .filter(([path, p]) => p.optional !== true || existsSync(join(REPO, path)))
    .map(([path]) => path.slice('node_modules/'.length));
}

/**
 * The runtime stage's file system below WORKDIR, built from its COPY lines: from the build
 * stage the repository's build output, from the deps stage a node_modules with only the
 * production packages (links into the repository's node_modules).
 */
function stageImage(): string {
  const root = mkdtempSync(join(tmpdir(), 'cnp-operator-image-'));
  for (const copy of runtime.instructions.filter((i) => i.op === 'COPY')) {
    const m = /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(copy.args);
    if (m === null) throw new Error(`cannot stage "COPY ${copy.args}": only COPY --from=<stage> <path> <path> is understood`);
    const [, from, source, dest] = m as unknown as [string, string, string, string];
    const sourceStage = stages.find((s) => s.name === from);
    const sourceDir = sourceStage?.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
    const target = join(root, posix.relative(WORKDIR, posix.resolve(WORKDIR, dest)));
    const inRepo = posix.relative(sourceDir, source);
    if (from === 'deps' && inRepo === 'node_modules') {
      for (const pkg of productionPackages()) {
        mkdirSync(dirname(join(target, pkg)), { recursive: true });
        symlinkSync(join(REPO, 'node_modules', pkg), join(target, pkg), 'dir');
      }
    } else if (from === 'build') {
      if (!existsSync(join(REPO, inRepo))) throw new Error(`${inRepo} is missing: run \`npm run build\` first`);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(REPO, inRepo), target, { recursive: true });
    } else {
      throw new Error(`cannot stage "COPY ${copy.args}": unknown source`);
    }
  }
  return root;
}

/** Every path below `dir`, not following links (the linked dependencies are the repository's). */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const path = join(prefix, e.name);
    return e.isDirectory() ? [path, ...tree(dir, path)] : [path];
  });
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the Dockerfile', () => {
  it('builds from the lockfile and ships production dependencies only', () => {
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.some((r) => /npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs.some((r) => /npm ci --omit=dev --ignore-scripts/.test(r))).toBe(true);
    expect(runs.join('\n')).not.toMatch(/npm (install|i)\b/);
  });

  it('runs on a supported Node.js LTS as a numeric non-root user', () => {
    expect(runtime.from).toMatch(/nodejs(22|24)-/);
    const user = last('USER') ?? '';
    expect(user).toMatch(/^[0-9]+(:[0-9]+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    expect(ENTRYPOINT.slice(-1)).toEqual(['run']);
  });

  it('ships a bundle that is ASCII throughout, which V8 keeps at one byte per character', () => {
    const bundle = readFileSync(join(REPO, 'dist', 'cnp-operator.js'), 'utf8');
    expect(bundle.length).toBeGreaterThan(100_000);
    expect(bundle.match(/[^\t\n\r\x20-\x7e]/g) ?? []).toEqual([]);
  });

  it('ships a bundle that requires node:http rather than importing it (an import loads undici on Node.js 24)', () => {
    const bundle = readFileSync(join(REPO, 'dist', 'cnp-operator.js'), 'utf8');
    expect(bundle).toContain('__require("node:http")');
    expect(bundle.match(/^import\b.*["']node:http["'];?$/gm) ?? []).toEqual([]);
  });

  it('keeps its Node.js options in the Deployment, whose NODE_OPTIONS replaces the image\'s', () => {
    const image = imageEnv(stages)['NODE_OPTIONS'] ?? '';
    expect(image).not.toBe('');
    const deployed = (deploymentEnv()['NODE_OPTIONS'] ?? '').split(/\s+/);
    for (const flag of image.split(/\s+/)) expect(deployed).toContain(flag);
  });
});

describe('the image entrypoint as the ServiceAccount', () => {
  let image: string;
  let child: ChildProcess | undefined;
  let exit: Promise<number | null>;
  let log = '';
  let files: string[] = [];
  const cnps: string[] = [];

  beforeAll(async () => {
    await setCalicoVersion('v3.30.2');
    await applyOverlay('default');
    const saKubeconfig = await serviceAccountKubeconfig();
    image = stageImage();
    const [node, ...args] = ENTRYPOINT;
    expect(node).toMatch(/\/node$/);
    const argv = args.map((a) => (a.startsWith(`${WORKDIR}/`) ? join(image, a.slice(WORKDIR.length + 1)) : a));
    const env: Record<string, string> = {
      ...imageEnv(stages),
      ...deploymentEnv(),
      // The downward API's value, and the pod's credentials in kubeconfig form.
      POD_NAMESPACE: NAMESPACE,
      KUBECONFIG: saKubeconfig,
      // Free ports instead of 8081/8080, which other processes here may hold.
      CNP_OPERATOR_HEALTH_PORT: '0',
      CNP_OPERATOR_METRICS_PORT: '0',
    };
    files = tree(image);
    child = spawn(process.execPath, argv, { cwd: image, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    exit = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
    for (const name of cnps) await kube().delete('policy.networking.k8s.io/v1beta1', 'ClusterNetworkPolicy', name);
    await removeOverlay('default');
    if (image !== undefined) rmSync(image, { recursive: true, force: true });
  });

  /** The JSON log line with message `msg`, once it has been written. */
  const logged = (msg: string): Record<string, unknown> | undefined =>
    log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e['msg'] === msg);

  it('becomes ready, leads, programs a CNP and shuts down cleanly', async () => {
    const started = await waitFor(
      () => {
        if (child?.exitCode !== null) throw new Error(`the operator exited (${String(child?.exitCode)}):\n${log}`);
        return logged('started');
      },
      { timeout: 60_000, message: 'the operator to start' },
    );
    // With both set to 0, /metrics is served beside the probes.
    const [health, metrics = health] = started['ports'] as number[] as [number, number?];
    await waitFor(async () => (await httpGet(health, '/readyz')).status === 200, { timeout: 60_000, message: `/readyz (log:\n${log})` });
    expect((await httpGet(health, '/healthz')).status).toBe(200);

    const lease = await waitFor(async () => {
      const l = await kube().get('coordination.k8s.io/v1', 'Lease', 'cnp-operator', NAMESPACE);
      const holder = (l?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
      return holder ? holder : undefined;
    }, { timeout: 60_000, message: 'the operator to take the lease' });
    expect(lease).not.toBe('');

    const name = uniqueName('entrypoint');
    cnps.push(name);
    const cnp: KubeObject = {
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      kind: 'ClusterNetworkPolicy',
      metadata: { name },
      spec: { tier: 'Admin', priority: 45, subject: { namespaces: {} }, egress: [{ name: 'no-sensitive', action: 'Deny', to: [{ namespaces: { matchLabels: { sensitive: 'true' } } }] }] },
    };
    await kube().create(cnp);
    await waitForCondition(name, 'Programmed', (c) => c.status === 'True', 60_000);
    expect(await kube().get('projectcalico.org/v3', 'GlobalNetworkPolicy', `cnp-admin.${name}`)).toBeDefined();
    const exposed = (await httpGet(metrics, '/metrics')).body;
    expect(exposed).toMatch(/^leader_election_master_status\{name="cnp-operator"\} 1$/m);
    // What controller dashboards expect, and the operator's own view of its CNPs.
    expect(exposed).toMatch(/^rest_client_requests_total\{code="200",method="GET",host="[^"]+"\} \d+$/m);
    expect(exposed).toMatch(/^rest_client_request_duration_seconds_count\{verb="PATCH",host="[^"]+"\} \d+$/m);
    expect(exposed).toMatch(/^workqueue_unfinished_work_seconds\{name="clusternetworkpolicy",controller="clusternetworkpolicy"\} [\d.]+$/m);
    expect(exposed).toMatch(/^workqueue_longest_running_processor_seconds\{name="clusternetworkpolicy",controller="clusternetworkpolicy"\} [\d.]+$/m);
    expect(exposed).toMatch(/^controller_runtime_reconcile_errors_total\{controller="clusternetworkpolicy"\} \d+$/m);
    expect(exposed).toMatch(/^cnp_conditions\{type="Programmed",status="True",reason="Programmed"\} [1-9]\d*$/m);

    child!.kill('SIGTERM');
    expect(await exit).toBe(0);
    const released = await kube().get('coordination.k8s.io/v1', 'Lease', 'cnp-operator', NAMESPACE);
    expect((released?.['spec'] as { holderIdentity?: string }).holderIdentity ?? '').toBe('');
    expect(log).not.toMatch(/"level":"error"|forbidden/i);
    // The image's root file system is read-only: nothing may have been written into it.
    expect(tree(image)).toEqual(files);
  });
});
