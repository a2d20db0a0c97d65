import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/paths.js';

// The README's quick start, run exactly as written by a new user: in a fresh copy of the
// repository with nothing beside it (no ../shared), no node_modules, no dist/, only the
// variables a user has. The copy holds what `git ls-files` lists plus new files not ignored,
// so the test sees the working tree as it would be committed.

const run = promisify(execFile);

function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** What a user's shell has: no KUBECONFIG, no test or CI variables, no project overrides. */
function userEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'USER', 'LANG', 'TMPDIR', 'TERM'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const quickStart = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
/** The quick start's commands, comments stripped: exactly what the README tells a user to type. */
const commands = quickStart.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');

describe('the README quick start in a fresh copy of the repository', () => {
  let parent: string;
  let copy: string;

  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'cnp-fresh-'));
    copy = join(parent, 'cnp-operator');
    const files = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter((f) => f !== '');
    for (const f of files) {
      if (!existsSync(join(REPO, f))) continue; // deleted in the working tree
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      copyFileSync(join(REPO, f), join(copy, f));
    }
    execFileSync('chmod', ['+x', join(copy, 'bin', 'cnp-operator'), join(copy, '.ci', 'run')]);
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('has two commands: the demo and the whole test suite', () => {
    expect(commands).toEqual(['npm run demo', 'npm test']);
    expect(existsSync(join(copy, '..', 'shared'))).toBe(false);
    expect(existsSync(join(copy, 'node_modules'))).toBe(false);
  });

  it('npm run demo (with --once) installs, builds, runs the demo and stops cleanly', async () => {
    const { stdout, stderr } = await run('bash', ['-c', `${commands[0]} -- --once`], { cwd: copy, env: userEnv(), encoding: 'utf8', timeout: 590_000, maxBuffer: 64 << 20 });
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(stdout)?.[1];
    expect(kubeconfig, `${stdout}\n${stderr}`).toBeDefined();
    const stateDir = dirname(kubeconfig!);

    // The operator ran: every sample is programmed, and kubectl shows it.
    expect(stderr).toMatch(/all \d+ sample policies Programmed/);
    const written = stdout.slice(stdout.indexOf('== 4.'), stdout.indexOf('== 5.'));
    expect(written).toMatch(/cnp-protect-payments\s+protect-payments/);
    const table = stdout.slice(stdout.indexOf('== 5.'), stdout.indexOf('== 6.'));
    expect(table).toMatch(/NAME\s+TIER\s+PRIORITY\s+PROGRAMMED\s+EXACT\s+AGE/);
    for (const name of ['allow-cluster-dns', 'protect-payments', 'delegate-tenant-traffic', 'isolate-tenants']) {
      // Programmed, and Exact filled in (False where Cilium approximates, e.g. a port exception before a deny-all).
      expect(table).toMatch(new RegExp(`${name}\\s+\\w+\\s+\\d+\\s+True\\s+(True|False)\\s`));
    }
    expect(stdout).toContain('cnp-operator translate --backend calico');
    expect(stdout).toContain('cnp-operator translate --backend cilium');
    expect(stderr).toContain('stopped; nothing left running');
    expect(existsSync(stateDir)).toBe(false);
    expect(processesMentioning(stateDir)).toEqual([]);
  }, 600_000);

  // `npm test` itself is what CI runs (.ci/run); here its fast project runs in the copy, which
  // proves the tests find every input without ../shared.
  it('the fast tests pass there too', async () => {
    const { stdout: raw } = await run('npm', ['run', 'test:unit', '--', '--reporter=dot'], { cwd: copy, env: userEnv(), encoding: 'utf8', timeout: 590_000, maxBuffer: 64 << 20 });
    // eslint-disable-next-line no-control-regex -- colours in vitest's summary
    const stdout = raw.replace(/\x1b\[[0-9;]*m/g, '');
    expect(stdout).toMatch(/Tests\s+\d+ passed/);
    expect(stdout).not.toMatch(/failed/);
  }, 600_000);
});
