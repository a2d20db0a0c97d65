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
  .filter((line) => line.startsWith('bin/cnp-operator validate') || line.startsWith('bin/cnp-operator explain') || line.startsWith('bin/cnp-operator translate') || line.startsWith('bin/cnp-operator convert'));

describe('README examples', () => {
  it('has examples to run', () => {
    expect(commands.length).toBeGreaterThanOrEqual(3);
  });

  it.each(commands)('%s', (line) => {
    const run = cli(line.split(/\s+/).slice(1));
    expect(run.stderr.replace(/^finding: .*\n/gm, '')).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(0);
  });

  it('the explain example shows a decision for every flow', () => {
    const run = cli(['explain', '-f', 'docs/examples/cluster.yaml', '-f', 'config/samples/', '--flows', 'docs/examples/flows.json', '-o', 'json']);
    const results = JSON.parse(run.stdout) as { verdict: string }[];
    expect(results.map((r) => r.verdict)).toEqual(['allow', 'allow', 'deny', 'allow', 'deny']);
  });
});
