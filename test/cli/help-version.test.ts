import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/paths.js';
import { cli } from './run.js';

const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('version and help', () => {
  it('--version and version print the package version', () => {
    for (const args of [['--version'], ['version']]) {
      const run = cli(args);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe(`cnp-operator ${version}\n`);
    }
    const json = cli(['version', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({ version });
  });

  it.each(['validate', 'explain', 'translate', 'convert', 'run', 'cluster', 'demo', 'migrate-storage', 'version'])('help %s prints what --help does', (command) => {
    const help = cli(['help', command]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: cnp-operator /);
    expect(help.stdout).toBe(cli([command, '--help']).stdout);
  });

  it('help with an unknown command fails', () => {
    const run = cli(['help', 'frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('cluster status --name', () => {
  const clusters = mkdtempSync(join(tmpdir(), 'cnp-clusters-'));
  afterAll(() => rmSync(clusters, { recursive: true, force: true }));

  it('of a cluster that does not exist fails with a message (exit 6)', () => {
    for (const output of ['text', 'json']) {
      const run = cli(['cluster', 'status', '--name', 'nosuch', '-o', output], undefined, { CNP_OPERATOR_CLUSTERS_DIR: clusters });
      expect(run.status).toBe(6);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe('cnp-operator cluster: no cluster named "nosuch" (there are none); start it with: cnp-operator cluster up --name nosuch\n');
    }
  });

  it('without --name lists none and succeeds', () => {
    const run = cli(['cluster', 'status'], undefined, { CNP_OPERATOR_CLUSTERS_DIR: clusters });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('no clusters; start one with: cnp-operator cluster up\n');
  });
});
