import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli } from './run.js';

// explain as the help promises it: -o json is always an array, flow files say which flow and
// field are wrong, a missing file is not an invalid object, and a CNP's status in the input
// (Programmed, Exact) is shown beside the trace it decides.

const dir = mkdtempSync(join(tmpdir(), 'cnp-explain-flows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SAMPLES = ['-f', 'docs/examples/cluster.yaml', '-f', 'config/samples/'];

describe('explain -o json', () => {
  it('is an array for one flow as for --flows', () => {
    const run = cli(['explain', ...SAMPLES, '--from', 'tenant-a/web', '--to', 'payments/api', '--port', '443', '-o', 'json']);
    expect(run.status).toBe(0);
    const results = JSON.parse(run.stdout) as { verdict: string; enforcement: unknown[] }[];
    expect(Array.isArray(results)).toBe(true);
    expect(results.map((r) => r.verdict)).toEqual(['deny']);
    expect(results[0]!.enforcement).toEqual([]); // the samples have no status
  });
});

describe('explain refuses bad input, telling a missing file from an invalid one', () => {
  it.each([
    { name: 'a flow without a port names the flow and the field', args: ['--flows', file('noport.json', '[{"from": "tenant-a/web", "to": "payments/api"}]')], status: 1, want: /noport\.json: \[0\]\.port: is required: a port number between 1 and 65535$/m },
    { name: 'a flow without a destination', args: ['--flows', file('noto.json', '[{"from": "tenant-a/web", "port": 1}]')], status: 1, want: /noto\.json: \[0\]\.to: is required: NAMESPACE\/POD or an IP address$/m },
    { name: 'a missing flows file', args: ['--flows', join(dir, 'nope.json')], status: 66, want: /nope\.json: no such file/ },
    { name: 'a flow naming a pod the input does not have', args: ['--flows', file('ghost.json', '[{"from": "tenant-a/ghost", "to": "payments/api", "port": 1}]')], status: 1, want: /ghost\.json: \[0\]\.from: pod tenant-a\/ghost is not in the input/ },
  ])('$name (exit $status)', ({ args, status, want }) => {
    const run = cli(['explain', ...SAMPLES, ...args]);
    expect(run.stderr).toMatch(want);
    expect(run.stderr).not.toMatch(/undefined/);
    expect(run.status).toBe(status);
  });

  it('a missing -f file exits 66, an invalid object 1, a bad flag 2', () => {
    const flow = ['--from', '1.1.1.1', '--to', '2.2.2.2', '--port', '80'];
    expect(cli(['explain', '-f', join(dir, 'absent.yaml'), ...flow]).status).toBe(66);
    expect(cli(['validate', '-f', join(dir, 'absent.yaml')]).status).toBe(66);
    const invalid = file('invalid.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nstatus: {podIP: nonsense}\n');
    expect(cli(['explain', '-f', invalid, ...flow]).status).toBe(1);
    expect(cli(['explain', '-f', invalid, ...flow, '--protocol', 'ICMP']).status).toBe(2);
  });

  it('says so in the help', () => {
    expect(cli(['explain', '--help']).stdout).toMatch(/66 the input\s+cannot be read/);
  });
});

const POLICY = {
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'to-the-internet', generation: 3 },
  spec: { tier: 'Admin', priority: 5, subject: { namespaces: {} }, egress: [{ name: 'web', action: 'Accept', to: [{ networks: ['0.0.0.0/0'] }] }] },
};
const CONDITIONS = [
  { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'The policy is valid.', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' },
  { type: 'Programmed', status: 'True', reason: 'Programmed', message: '1 cilium object written and in sync.', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' },
  { type: 'Exact', status: 'False', reason: 'Approximated', message: 'egress[0] "web": CIDRs cover pod addresses (fails closed: accepts less than written)', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00Z' },
];
const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'app' }, spec: { nodeName: 'n' }, status: { podIP: '10.0.0.5' } };

describe('explain shows the status of the CNPs that decide', () => {
  const flow = ['--from', 'app/client', '--to', '192.0.2.1', '--port', '443'];

  it('an Exact=False condition beside the trace it approximates, in text and JSON', () => {
    const input = file('with-status.yaml', [stringify({ ...POLICY, status: { conditions: CONDITIONS } }), stringify(POD)].join('---\n'));
    const text = cli(['explain', '-f', input, ...flow]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('      ! ClusterNetworkPolicy to-the-internet: Exact False (Approximated): egress[0] "web": CIDRs cover pod addresses (fails closed: accepts less than written)\n');
    expect(text.stdout.split('\n').findIndex((l) => l.includes('! ClusterNetworkPolicy'))).toBeLessThan(text.stdout.split('\n').findIndex((l) => l.startsWith('  ingress')));
    const json = JSON.parse(cli(['explain', '-f', input, ...flow, '-o', 'json']).stdout) as { enforcement: unknown[] }[];
    expect(json[0]!.enforcement).toEqual([{ direction: 'egress', policy: 'to-the-internet', type: 'Exact', status: 'False', reason: 'Approximated', message: CONDITIONS[2]!.message }]);
  });

  it('conditions for an earlier generation are said to be stale', () => {
    const stale = CONDITIONS.map((c) => ({ ...c, status: 'True', observedGeneration: 2 }));
    const input = file('stale.yaml', [stringify({ ...POLICY, status: { conditions: stale } }), stringify(POD)].join('---\n'));
    const run = cli(['explain', '-f', input, ...flow]);
    expect(run.stdout).toContain('! ClusterNetworkPolicy to-the-internet: Status Stale (NotObserved): the conditions describe generation 2; the policy is at generation 3');
  });

  it('no line for a policy without status (a file written by hand)', () => {
    const input = file('no-status.yaml', [stringify(POLICY), stringify(POD)].join('---\n'));
    const run = cli(['explain', '-f', input, ...flow]);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain('!');
  });
});
