import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { kubeconfig, uniqueName } from '../harness/index.js';
import { REPO } from '../support/paths.js';

// `cnp-operator run` stops at start, with one message saying what is missing and what to
// change, when it cannot work: no namespace for its Lease, an API server it cannot reach,
// credentials the server refuses. It never loops in silence.

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cnp-startup-'));

async function start(args: string[]): Promise<{ code: number; stderr: string; seconds: number }> {
  const started = Date.now();
  try {
    await run(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'run', '--health-port', '0', '--metrics-port', '-1', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stderr: '', seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    const e = err as { code?: number; stderr?: string; killed?: boolean };
    if (e.killed) throw new Error('cnp-operator run did not stop within 60 s');
    return { code: e.code ?? -1, stderr: e.stderr ?? '', seconds: (Date.now() - started) / 1000 };
  }
}

/** A copy of the test kubeconfig with one edit. */
function kubeconfigWith(edit: (kc: { clusters: { cluster: { server: string } }[]; users: { user: { token?: string } }[] }) => void): string {
  const kc = parse(readFileSync(kubeconfig(), 'utf8')) as Parameters<typeof edit>[0];
  edit(kc);
  const path = join(dir, `${uniqueName('kubeconfig')}.yaml`);
  writeFileSync(path, stringify(kc));
  return path;
}

describe('cnp-operator run stops at start when it cannot work', () => {
  it('without the leader-election namespace: names it and the flags that change it', async () => {
    const namespace = uniqueName('nosuch');
    const r = await start(['--kubeconfig', kubeconfig(), '--leader-election-namespace', namespace]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the namespace \\"${namespace}\\" for the leader-election Lease does not exist`);
    expect(r.stderr).toContain('--leader-election-namespace');
    expect(r.stderr).toContain('--leader-elect=false');
    expect(r.stderr.trim().split('\n').filter((l) => l.includes('"level":"error"'))).toHaveLength(1);
    console.log(`stopped after ${r.seconds.toFixed(1)} s`);
  });

  it('when the API server cannot be reached', async () => {
    const path = kubeconfigWith((kc) => (kc.clusters[0]!.cluster.server = 'https://127.0.0.1:1'));
    const r = await start(['--kubeconfig', path, '--leader-elect=false']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the API server at https://127.0.0.1:1');
    expect(r.stderr).toContain('--kubeconfig');
  });

  it('when the server refuses the credentials', async () => {
    const path = kubeconfigWith((kc) => (kc.users[0]!.user.token = 'not-a-valid-token'));
    const r = await start(['--kubeconfig', path, '--leader-elect=false']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused the credentials (401 Unauthorized)');
  });

  it('when the kubeconfig is not usable at all', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'this is: [not a kubeconfig');
    const r = await start(['--kubeconfig', path, '--leader-elect=false']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(path);
  });
});
