import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { parseFlags, withEnvironment } from '../../src/cli/flags.js';
import { cli } from './run.js';

// Flag parsing, kubectl style: booleans are true or false and never take the next argument,
// unknown input and stray arguments are errors, and the environment follows the same rules.

const SPEC = { values: ['workers', 'filename', 'metrics-port'], switches: ['leader-elect', 'help'], aliases: { f: 'filename' } };

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof CliError && err.exitCode === 2) return err.message;
    throw err;
  }
  throw new Error('no usage error');
}

describe('parseFlags', () => {
  it('a boolean alone is true and does not take the next argument as its value', () => {
    const flags = parseFlags(['--leader-elect', '--workers', '1'], SPEC);
    expect(flags.booleans.get('leader-elect')).toBe(true);
    expect(flags.values.get('workers')).toEqual(['1']);
  });

  it.each([
    { name: '--leader-elect=false is false', args: ['--leader-elect=false'], want: false },
    { name: '--leader-elect=true is true', args: ['--leader-elect=true'], want: true },
  ])('$name', ({ args, want }) => {
    expect(parseFlags(args, SPEC).booleans.get('leader-elect')).toBe(want);
  });

  it.each([
    { name: 'a boolean given anything but true or false', args: ['--leader-elect=no'], want: 'flag --leader-elect is true or false, got "no"' },
    { name: 'a stray argument', args: ['--workers', '1', 'extra'], want: 'unexpected argument "extra"' },
    { name: 'a boolean followed by a value', args: ['--leader-elect', 'false'], want: 'unexpected argument "false"' },
    { name: 'an unknown flag', args: ['--frobnicate'], want: 'unknown flag --frobnicate' },
    { name: 'an unknown short flag', args: ['-x'], want: 'unknown flag -x' },
    { name: 'a value flag at the end, named as typed', args: ['-f'], want: 'flag -f needs a value' },
    { name: 'a value flag followed by a flag', args: ['--filename', '--workers', '2'], want: 'flag --filename needs a value (got the flag --workers; write --filename=--workers if that is the value)' },
  ])('refuses $name', ({ args, want }) => {
    expect(usageError(() => parseFlags(args, SPEC))).toBe(want);
  });

  it('takes - (standard input) and negative numbers as values', () => {
    const flags = parseFlags(['-f', '-', '--metrics-port', '-1'], SPEC);
    expect([flags.values.get('filename'), flags.values.get('metrics-port')]).toEqual([['-'], ['-1']]);
  });
});

describe('withEnvironment', () => {
  it('fills what the command line leaves out, which wins', () => {
    const flags = withEnvironment(parseFlags(['--workers', '3'], SPEC), SPEC, { CNP_OPERATOR_WORKERS: '5', CNP_OPERATOR_LEADER_ELECT: 'false', CNP_OPERATOR_CACHE: '/tmp/x' });
    expect(flags.values.get('workers')).toEqual(['3']);
    expect(flags.booleans.get('leader-elect')).toBe(false);
    expect(flags.given.get('leader-elect')).toBe('CNP_OPERATOR_LEADER_ELECT');
  });

  it('refuses a boolean variable that is not true or false, and ignores empty ones', () => {
    expect(usageError(() => withEnvironment(parseFlags([], SPEC), SPEC, { CNP_OPERATOR_LEADER_ELECT: 'no' }))).toBe('CNP_OPERATOR_LEADER_ELECT is true or false, got "no"');
    expect(withEnvironment(parseFlags([], SPEC), SPEC, { CNP_OPERATOR_LEADER_ELECT: '' }).booleans.has('leader-elect')).toBe(false);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'cnp-flags-'));
const kubeconfig = join(dir, 'unreachable.kubeconfig');
// A kubeconfig for an address nothing listens on: run gets past its flags, then fails to start.
writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`);

describe('run refuses bad flags before it connects (exit 2)', () => {
  it.each([
    { name: 'a value after a boolean is read as the next flag', args: ['--leader-elect', '--workers', '0'], env: {}, want: /--workers must be between 1 and 64, got "0"/ },
    { name: '--leader-elect=no', args: ['--leader-elect=no'], env: {}, want: /flag --leader-elect is true or false, got "no"/ },
    { name: 'a stray argument', args: ['--workers', '1', 'oops'], env: {}, want: /unexpected argument "oops"/ },
    { name: 'a boolean in the environment', args: [], env: { CNP_OPERATOR_LEADER_ELECT: 'no' }, want: /CNP_OPERATOR_LEADER_ELECT is true or false, got "no"/ },
    { name: 'a value in the environment, named as given', args: [], env: { CNP_OPERATOR_WORKERS: 'many' }, want: /CNP_OPERATOR_WORKERS must be between 1 and 64, got "many"/ },
    { name: 'a Calico tier of Calico\'s own as the Admin tier', args: ['--admin-tier', 'default'], env: {}, want: /--admin-tier "default" is one of Calico's own tiers/ },
    { name: '--max-rules 0', args: ['--max-rules', '0'], env: {}, want: /--max-rules must be a positive integer, got "0"/ },
    { name: 'a Calico flag with --backend cilium', args: ['--backend', 'cilium', '--baseline-tier', 'x'], env: {}, want: /--baseline-tier applies to the calico backend only/ },
    { name: 'a Cilium agent setting, which run reads from the cluster', args: ['--cilium-version', '1.18'], env: {}, want: /--cilium-version is a flag of translate: run reads the Cilium agents' settings from the cluster/ },
    { name: 'a bind address that is not an IP address', args: ['--metrics-bind-address', 'localhost'], env: {}, want: /--metrics-bind-address must be an IP address, got "localhost"/ },
    { name: 'one port for both servers with two addresses', args: ['--metrics-port', '8081', '--metrics-bind-address', '127.0.0.1'], env: {}, want: /--metrics-port is the probes' port/ },
  ])('$name', ({ args, env, want }) => {
    const run = cli(['run', '--kubeconfig', kubeconfig, ...args], undefined, env);
    expect(run.stderr).toMatch(want);
    expect(run.status).toBe(2);
  });

  it('with good flags it gets as far as the API server', () => {
    const run = cli(['run', '--kubeconfig', kubeconfig, '--leader-elect', '--workers', '1', '--admin-tier', 'platform', '--max-rules', '500', '--metrics-port', '-1'], undefined, {});
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot start/);
  });
});

describe('every command refuses stray arguments and unknown flags, and names -f as typed', () => {
  it.each([
    ['validate', '-f', 'config/samples', 'extra'],
    ['explain', '-f', 'config/samples', '--from', '1.2.3.4', '--to', '1.2.3.5', '--port', '1', 'extra'],
    ['translate', '--backend', 'calico', '-f', 'config/samples', 'extra'],
    ['convert', '-f', 'docs/examples/old-anp.yaml', 'extra'],
    ['migrate-storage', 'extra'],
    ['demo', 'extra'],
    ['version', 'extra'],
    ['cluster', 'status', 'extra'],
  ])('%s … extra', (...args) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unexpected argument "extra"/);
  });

  it.each(['validate', 'explain', 'translate', 'convert'])('%s -f without a value names -f, which its help shows', (command) => {
    const run = cli([command, '-f']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('flag -f needs a value');
    expect(cli([command, '--help']).stdout).toContain('-f, --filename');
  });
});
