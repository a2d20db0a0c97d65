import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureBinaries } from '../cluster/binaries.js';
import { type ControlPlane, startControlPlane } from '../cluster/controlplane.js';
import { ControlPlaneError } from '../cluster/errors.js';
import { demoCrdsDir, installProjectCrds, readManifests, samplesDir } from '../cluster/manifests.js';
import { Manager } from '../controller/manager.js';
import { createLogger } from '../controller/runtime/index.js';
import { createKubePort, loadKubeConfig, type KubeConnection } from '../kube/index.js';
import { packageRoot } from '../cluster/paths.js';
import { apply, call, table } from '../cluster/rest.js';
import { pollUntil } from '../cluster/poll.js';
import { CliError } from './errors.js';
import { parseFlags } from './flags.js';

const USAGE = `usage: cnp-operator demo [--once]

Starts a local control plane, installs the ClusterNetworkPolicy CRD, applies the samples in
config/samples, shows what the Calico and Cilium backends would generate for them, runs the
operator against the cluster (with a stand-in for Cilium's CRD, as the demo has no CNI) and
waits until Ctrl-C, then stops everything. --once (or CI=true) exits after the last step.
`;

const BACKENDS = ['calico', 'cilium'] as const;

export async function demoCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { switches: ['once', 'help'], aliases: { h: 'help' } });
  if (flags.switches.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const ci = process.env['CI'] !== undefined && !['', '0', 'false'].includes(process.env['CI'].toLowerCase());
  const once = flags.switches.has('once') || ci;

  // Handled from the start, so Ctrl-C during start-up also ends in a clean stop.
  let interrupted = false;
  let wake: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = () => {
    interrupted = true;
    wake();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  // A reader that goes away (`demo | head`) must not abort the clean-up half-way.
  const ignoreBrokenPipe = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  };
  process.stdout.on('error', ignoreBrokenPipe);
  process.stderr.on('error', ignoreBrokenPipe);

  const stateDir = mkdtempSync(join(tmpdir(), 'cnp-operator-demo-'));
  let cp: ControlPlane | undefined;
  let operator: { manager: Manager; port: KubeConnection } | undefined;
  try {
    heading('1. Control plane');
    const binaries = await ensureBinaries();
    const started = Date.now();
    cp = await startControlPlane({
      name: 'demo',
      stateDir,
      binaries,
      progress: (m) => note(m),
      beforeControllerManager: async (api) => {
        const crds = [...(await installProjectCrds(api)), ...(await installProjectCrds(api, 60_000, demoCrdsDir))];
        note(`installed and Established: ${crds.join(', ')}`);
      },
    });
    note(`ready at ${cp.server} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (interrupted) return stopped();

    heading(`2. Sample ClusterNetworkPolicies (${relative(process.cwd(), samplesDir) || samplesDir})`);
    for (const obj of readManifests(samplesDir)) {
      await apply(cp, obj);
      note(`applied ${obj.kind} ${obj.metadata.name} (${obj.apiVersion})`);
    }

    heading('3. What the operator would write');
    for (const backend of BACKENDS) translate(backend);
    if (interrupted) return stopped();

    heading('4. The operator (backend: Cilium, with a stand-in CRD)');
    operator = await startOperator(cp);
    await waitProgrammed(cp, readManifests(samplesDir).filter((o) => o.kind === 'ClusterNetworkPolicy').map((o) => o.metadata.name));
    process.stdout.write(`$ kubectl get ccnp\n${run(binaries.kubectl, ['--kubeconfig', cp.kubeconfigPath, 'get', 'ccnp', '-o', 'custom-columns=NAME:.metadata.name,FOR CNP:.metadata.annotations.policy\\.cnp-operator\\.io/cnp,RULE SETS:.specs[*].description'])}\n`);
    if (interrupted) return stopped();

    heading('5. kubectl get clusternetworkpolicies');
    process.stdout.write((await getCnp(cp, binaries.kubectl)) + '\n');

    heading('6. Try it');
    process.stdout.write(
      [
        'In another terminal:',
        `  export KUBECONFIG=${cp.kubeconfigPath}`,
        ...(onPath('kubectl') ? [] : [`  alias kubectl=${binaries.kubectl}   # not on your PATH; this one was built with the control plane`]),
        '  kubectl get clusternetworkpolicies',
        '  kubectl get clusternetworkpolicies protect-payments -o yaml',
        '  kubectl apply -f config/samples/   # or your own policies: the operator here reconciles them',
        '  kubectl get ccnp                   # what it wrote; edit or delete one and watch it come back',
        once ? '(--once: stopping now)' : 'Press Ctrl-C to stop the control plane and delete its data.',
        '',
      ].join('\n'),
    );
    if (!once) await stopRequested;
    // Ctrl-C is how this demo is meant to end, so after start-up it is a success.
    return 0;
  } catch (err) {
    if (interrupted) return stopped();
    if (err instanceof ControlPlaneError) throw new CliError(err.message, err.exitCode);
    throw err;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    if (operator) {
      await operator.manager.stop();
      operator.port.close();
    }
    if (cp) await cp.stop();
    rmSync(stateDir, { recursive: true, force: true });
    note('stopped; nothing left running');
  }
}

async function startOperator(cp: ControlPlane): Promise<{ manager: Manager; port: KubeConnection }> {
  const port = createKubePort(loadKubeConfig({ kubeconfig: cp.kubeconfigPath }));
  // Warnings and errors only: the demo's own output is the story.
  const manager = new Manager({ port, log: createLogger({ level: 'warn' }), detect: { backend: 'cilium', force: false } });
  await manager.start();
  note('operator started (in this process; `cnp-operator run` is the same manager)');
  return { manager, port };
}

async function waitProgrammed(cp: ControlPlane, names: readonly string[]): Promise<void> {
  const done = await pollUntil(
    async () => {
      const list = await call<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>(cp, 'GET', '/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies');
      const programmed = list.items.filter((i) => (i.status?.conditions ?? []).some((c) => c.type === 'Programmed' && c.status === 'True')).map((i) => i.metadata.name);
      return names.every((n) => programmed.includes(n));
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  note(done ? `all ${names.length} sample policies Programmed` : 'not every sample policy was Programmed within 2 minutes; see kubectl get clusternetworkpolicies');
}

function run(exe: string, args: string[]): string {
  const r = spawnSync(exe, args, { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? r.stdout.trimEnd() : `(${r.error?.message ?? r.stderr.trim()})`;
}

function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

function note(text: string): void {
  process.stderr.write(`[demo] ${text}\n`);
}

function stopped(): number {
  note('interrupted');
  return 130;
}

function onPath(command: string): boolean {
  return spawnSync(command, ['version', '--client'], { stdio: 'ignore', timeout: 30_000 }).error === undefined;
}

/** `translate` belongs to another part of the CLI, so it runs as users run it: as a command. */
function translate(backend: string): void {
  const args = ['translate', '--backend', backend, '-f', samplesDir];
  process.stdout.write(`\n$ cnp-operator ${args.join(' ').replace(samplesDir, relative(process.cwd(), samplesDir) || samplesDir)}\n`);
  if (!existsSync(join(packageRoot, 'dist', 'cnp-operator.js'))) {
    process.stdout.write('(translate is not built yet in this checkout; skipped)\n');
    return;
  }
  const r = spawnSync(process.execPath, [join(packageRoot, 'bin', 'cnp-operator'), ...args], { encoding: 'utf8', timeout: 120_000 });
  process.stdout.write(r.stdout ?? '');
  if (r.stderr) process.stdout.write(r.stderr.replace(/^/gm, '  # '));
  if (r.status !== 0) process.stdout.write(`(translate --backend ${backend} failed: exit ${r.status ?? r.signal ?? r.error?.message})\n`);
}

/** What `kubectl get clusternetworkpolicies` prints (kubectl built with the control plane); the API server's own table if that fails. */
async function getCnp(cp: ControlPlane, kubectl: string): Promise<string> {
  const r = spawnSync(kubectl, ['--kubeconfig', cp.kubeconfigPath, 'get', 'clusternetworkpolicies'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return r.stdout.trimEnd();
  const why = r.error ? r.error.message : `kubectl failed: ${r.stderr.trim()}`;
  return `(${why}; the API server's table:)\n${await table(cp, '/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies')}`;
}
