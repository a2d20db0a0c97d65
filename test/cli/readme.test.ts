import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/paths.js';
import { cli } from './run.js';

// The README's policy-engine examples are run as a new user would type them.
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const commands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.replace(/\\\n\s*/g, '').split('\n'))
  .map((line) => line.trim())
  .filter((line) => ['validate', 'explain', 'translate', 'convert', 'diff'].some((c) => line.startsWith(`bin/cnp-operator ${c}`)));

/** Whether diff's output reports changed connections (a line per group in text, summary.changes in json). */
function reportsChanges(stdout: string): boolean {
  if (stdout.trimStart().startsWith('{')) return (JSON.parse(stdout) as { summary: { changes: number } }).summary.changes > 0;
  return stdout.split('\n').some((l) => l.startsWith('- ') || l.startsWith('+ '));
}

describe('README examples', () => {
  it('has examples to run', () => {
    expect(commands.length).toBeGreaterThanOrEqual(3);
  });

  it.each(commands)('%s', (line) => {
    const run = cli(line.split(/\s+/).slice(1));
    expect(run.stderr.replace(/^finding: .*\n/gm, '')).toBe('');
    expect(run.stdout.length).toBeGreaterThan(0);
    if (line.startsWith('bin/cnp-operator diff')) {
      // diff exits as kubectl diff does: 1 when connections change verdict, 0 when none do.
      expect([0, 1]).toContain(run.status);
      expect(run.status === 1).toBe(reportsChanges(run.stdout));
    } else {
      expect(run.status).toBe(0);
    }
  });

  it('the diff example shows the one connection the change opens', () => {
    const run = cli(['diff', '-f', 'docs/examples/protect-payments-change.yaml', '--cluster', 'docs/examples/cluster.yaml', '--cluster', 'config/samples/']);
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n').filter((l) => /^[-+] /.test(l))).toEqual([
      '+ tenant-a/web can now reach payments/api on 443/TCP, decided by protect-payments ingress[1] "allow-tenant-a-web" (Admin Accept) (before: protect-payments ingress[1] "deny-everything-else" (Admin Deny))',
    ]);
  });

  it('the explain example shows a decision for every flow', () => {
    const run = cli(['explain', '-f', 'docs/examples/cluster.yaml', '-f', 'config/samples/', '--flows', 'docs/examples/flows.json', '-o', 'json']);
    const results = JSON.parse(run.stdout) as { verdict: string }[];
    expect(results.map((r) => r.verdict)).toEqual(['allow', 'allow', 'deny', 'allow', 'deny']);
  });
});
