import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ControlPlaneError, ExitCode } from './errors.js';
import { buildScript } from './paths.js';

export interface Binaries {
  readonly dir: string;
  readonly etcd: string;
  readonly apiserver: string;
  readonly controllerManager: string;
  /** Matches the server's version; used by the tests and the demo when kubectl is not installed. */
  readonly kubectl: string;
}

export function binariesIn(dir: string): Binaries {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    apiserver: join(dir, 'kube-apiserver'),
    controllerManager: join(dir, 'kube-controller-manager'),
    kubectl: join(dir, 'kubectl'),
  };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function complete(b: Binaries): boolean {
  return [b.etcd, b.apiserver, b.controllerManager, b.kubectl].every(executable);
}

/** The directory build.sh builds into (CNP_OPERATOR_BIN_DIR overrides it with prebuilt binaries). */
export function binaryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['CNP_OPERATOR_BIN_DIR']) return env['CNP_OPERATOR_BIN_DIR'];
  const r = spawnSync('bash', [buildScript, '--print-dir'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new ControlPlaneError(`cannot run ${buildScript}: ${r.error?.message ?? r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The binaries if they are already built, without building anything. */
export function findBinaries(env: NodeJS.ProcessEnv = process.env): Binaries | undefined {
  const b = binariesIn(binaryDir(env));
  return complete(b) ? b : undefined;
}

export interface EnsureOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Receives build.sh's progress (stderr); the default passes it through to ours. */
  readonly progress?: NodeJS.WritableStream;
}

/** Returns the binaries, building them first (minutes, once) if the cache lacks them. */
export async function ensureBinaries(opts: EnsureOptions = {}): Promise<Binaries> {
  const env = opts.env ?? process.env;
  if (env['CNP_OPERATOR_BIN_DIR']) {
    const b = binariesIn(env['CNP_OPERATOR_BIN_DIR']);
    if (!complete(b)) {
      throw new ControlPlaneError(`CNP_OPERATOR_BIN_DIR=${b.dir} must hold etcd, kube-apiserver, kube-controller-manager and kubectl`);
    }
    return b;
  }
  const found = findBinaries(env);
  if (found) return found;
  const progress = opts.progress ?? process.stderr;
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn('bash', [buildScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.on('data', (d: Buffer) => progress.write(d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, stdout: out }));
  });
  if (code === ExitCode.goMissing) {
    throw new ControlPlaneError('Go is needed once to build the control plane: install Go >= 1.25 (https://go.dev/dl/) and retry', code);
  }
  if (code !== 0) {
    throw new ControlPlaneError(
      `building the control plane failed (exit ${code}); it needs the Go module proxy (GOPROXY). Re-run \`bash ${buildScript}\` to resume`,
      code === ExitCode.buildFailed ? code : ExitCode.buildFailed,
    );
  }
  const b = binariesIn(stdout.trim().split('\n').pop() ?? '');
  if (!complete(b)) throw new ControlPlaneError(`build.sh finished but ${b.dir} lacks the binaries`, ExitCode.buildFailed);
  return b;
}
