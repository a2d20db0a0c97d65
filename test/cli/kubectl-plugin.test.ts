import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/paths.js';
import { cli } from './run.js';

// bin/kubectl-cnp is the CLI under kubectl's plugin name: kubectl runs it with the arguments
// after `cnp`. Put on PATH by a symbolic link, it still finds the repository's build.

const linkDir = mkdtempSync(join(tmpdir(), 'cnp-plugin-'));
symlinkSync(join(REPO, 'bin', 'kubectl-cnp'), join(linkDir, 'kubectl-cnp'));
afterAll(() => rmSync(linkDir, { recursive: true, force: true }));

function plugin(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('kubectl-cnp', args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH: `${linkDir}:${process.env['PATH'] ?? ''}` } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kubectl-cnp', () => {
  const explain = ['explain', '-f', 'docs/examples/cluster.yaml', '-f', 'config/samples/', '--from', 'tenant-a/web', '--to', 'payments/api', '--port', '443'];

  it('found on PATH through a link, answers as cnp-operator does', () => {
    const run = plugin(explain);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(cli(explain).stdout);
  });

  it('names itself as kubectl does in messages', () => {
    const run = plugin(['explain', '--frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('kubectl cnp explain: unknown flag --frobnicate (see kubectl cnp help explain)\n');
    expect(plugin([]).stdout).toMatch(/^usage: kubectl cnp <command>/);
  });
});
