import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/paths.js';

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

describe('npm run demo (demo --once)', () => {
  it('starts a control plane, applies the samples, prints the table and stops cleanly', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['KUBECONFIG'];
    const { stdout, stderr } = await run(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'demo', '--once'], {
      env,
      encoding: 'utf8',
      timeout: 170_000,
    });
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(stdout)?.[1];
    expect(kubeconfig, stdout).toBeDefined();
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
  }, 180_000);
});
