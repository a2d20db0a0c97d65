import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl } from '../harness/index.js';
import { REPO } from '../support/paths.js';

const run = promisify(execFile);
const BIN = join(REPO, 'bin', 'cnp-operator');
// Its own clusters directory, so the test never touches a developer's `cluster up` instances.
const clustersDir = mkdtempSync(join(tmpdir(), 'cnp-operator-cli-test-'));
const env: NodeJS.ProcessEnv = { ...process.env, CNP_OPERATOR_CLUSTERS_DIR: clustersDir };
delete env['KUBECONFIG'];

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, 'cluster', ...args], { env, encoding: 'utf8', timeout: 170_000 });
}

interface Status {
  name: string;
  status: string;
  server: string;
  kubeconfig: string;
  processes: { name: string; pid: number; alive: boolean }[];
}

async function status(): Promise<Status[]> {
  return JSON.parse((await cli('status', '-o', 'json')).stdout) as Status[];
}

/** PIDs of live processes whose command line mentions our clusters directory: anything we started. */
function ours(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(clustersDir)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

async function which(command: string): Promise<string> {
  return (await run('bash', ['-c', `PATH="$PATH:/usr/local/go/bin" command -v ${command}`], { encoding: 'utf8' })).stdout.trim();
}

function pathWithout(dir: string): string {
  return (process.env['PATH'] ?? '').split(':').filter((d) => d !== dir && d !== '').join(':');
}

afterAll(async () => {
  await cli('down', '--all').catch(() => undefined);
  rmSync(clustersDir, { recursive: true, force: true });
});

describe('cnp-operator cluster', () => {
  it('runs two instances side by side and stops each without leaving a process', async () => {
    const a = await cli('up', '--name', 'alpha');
    const b = await cli('up', '--name', 'beta');
    expect(a.stdout).toBe(`export KUBECONFIG=${join(clustersDir, 'alpha', 'kubeconfig')}\n`);
    expect(b.stdout).toBe(`export KUBECONFIG=${join(clustersDir, 'beta', 'kubeconfig')}\n`);

    const both = await status();
    expect(both.map((s) => [s.name, s.status])).toEqual([['alpha', 'running'], ['beta', 'running']]);
    expect(both[0]!.server).not.toBe(both[1]!.server);
    const pids = Object.fromEntries(both.map((s) => [s.name, s.processes.map((p) => p.pid)]));
    expect(both.flatMap((s) => s.processes.map((p) => p.name))).toEqual([
      'etcd', 'kube-apiserver', 'kube-controller-manager', 'etcd', 'kube-apiserver', 'kube-controller-manager',
    ]);
    expect(ours().sort()).toEqual([...pids['alpha']!, ...pids['beta']!].sort());

    // Each answers on its own kubeconfig.
    for (const s of both) {
      const { stdout } = await run(kubectl(), ['--kubeconfig', s.kubeconfig, 'get', 'namespace', 'default', '-o', 'name'], { encoding: 'utf8' });
      expect(stdout.trim()).toBe('namespace/default');
    }

    // A second `up` finds the running instance instead of starting another.
    const again = await cli('up', '--name', 'alpha');
    expect(again.stdout).toBe(a.stdout);
    expect(again.stderr).toContain('already running');
    expect(ours().length).toBe(6);

    await cli('down', '--name', 'alpha');
    for (const pid of pids['alpha']!) expect(alive(pid), `alpha pid ${pid}`).toBe(false);
    for (const pid of pids['beta']!) expect(alive(pid), `beta pid ${pid}`).toBe(true);
    expect((await status()).map((s) => s.name)).toEqual(['beta']);

    await cli('down', '--name', 'beta');
    for (const pid of pids['beta']!) expect(alive(pid), `beta pid ${pid}`).toBe(false);
    expect(ours()).toEqual([]);
    expect(await status()).toEqual([]);
  }, 400_000);

  it('says clearly when Go is missing (exit 3) or the module proxy unreachable (exit 4)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'cnp-operator-build-test-'));
    try {
      const base = { ...env, CNP_OPERATOR_CACHE: join(scratch, 'cache'), GOMODCACHE: join(scratch, 'mod'), GOCACHE: join(scratch, 'gocache') };
      const goDir = dirname(await which('go'));
      const noGo = run(process.execPath, [BIN, 'cluster', 'build'], {
        env: { ...base, PATH: pathWithout(goDir), CNP_OPERATOR_GO_FALLBACK: join(scratch, 'no-go') },
        encoding: 'utf8',
      });
      await expect(noGo).rejects.toMatchObject({ code: 3, stderr: expect.stringMatching(/Go is needed once .*install Go/) });
      const noProxy = run(process.execPath, [BIN, 'cluster', 'build'], {
        env: { ...base, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
        encoding: 'utf8',
        timeout: 170_000,
      });
      await expect(noProxy).rejects.toMatchObject({ code: 4, stderr: expect.stringMatching(/Go module proxy/) });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 180_000);

  it('reports a stopped instance as not running and rejects bad names', async () => {
    const down = await cli('down', '--name', 'never-started');
    expect(down.stderr).toContain('"never-started" is not running');
    await expect(cli('up', '--name', 'Not_Valid')).rejects.toMatchObject({ code: 2 });
  });
});
