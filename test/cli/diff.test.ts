import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/semantics/flow.js';
import { computeImpact, sameCluster } from '../../src/semantics/impact.js';
import { groupChanges } from '../../src/semantics/impact-report.js';
import { reported } from '../simulation/impact-oracle.js';
import { clusterObjects, loadConformance, stateText } from '../support/conformance.js';
import { cli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'cnp-diff-'));
const CLUSTER = ['--cluster', 'docs/examples/cluster.yaml', '--cluster', 'config/samples/'];
const CHANGE = ['-f', 'docs/examples/protect-payments-change.yaml'];

interface JsonReport {
  policies: { kind: string; name: string; change: string }[];
  summary: { changes: number; newlyDenied: number; newlyAllowed: number; pods: number; classes: number };
  changes: {
    change: 'denied' | 'allowed';
    description: string;
    from: { classes: number[]; except?: string[] };
    to: { classes: number[] } | { address: string };
    ports: { protocol: string; start: number; end: number }[];
    connections: number;
    before: { verdict: string; decidedBy: { direction: string; stage: string; policy?: string; rule?: number }[] };
    after: { verdict: string; decidedBy: { direction: string; stage: string; policy?: string; rule?: number }[] };
  }[];
  classes: { id: number; pods: string[] }[];
}

const json = (stdout: string) => JSON.parse(stdout) as JsonReport;

/** The single flows of a report: `from>to>PROTOCOL/port` for each port of `ports` inside a group's stretches. */
function flowsOf(report: JsonReport, ports: readonly { port: number; protocol: string }[]): Map<string, string> {
  const classes = new Map(report.classes.map((c) => [c.id, c.pods]));
  const out = new Map<string, string>();
  for (const g of report.changes) {
    const from = g.from.classes.flatMap((id) => classes.get(id)!).filter((p) => !(g.from.except ?? []).includes(p));
    const to = 'address' in g.to ? [g.to.address] : g.to.classes.flatMap((id) => classes.get(id)!);
    for (const f of from) {
      for (const t of to) {
        if (f === t) continue;
        for (const p of ports) {
          if (g.ports.some((s) => s.protocol === p.protocol && s.start <= p.port && p.port <= s.end)) out.set(`${f}>${t}>${p.protocol}/${p.port}`, g.after.verdict);
        }
      }
    }
  }
  return out;
}

describe('cnp-operator diff', () => {
  it('--help states the flags and kubectl diff’s exit status', () => {
    const run = cli(['diff', '--help']);
    expect(run.status).toBe(0);
    for (const flag of ['-f, --filename', '--delete NAME', '--delete NS/NAME', '--cluster', '--kubeconfig', '--to-address', '--port', '-o, --output']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('0 no connection changes verdict; 1 some do');
  });

  it('exits 1 and names the rule when a change opens a connection', () => {
    const run = cli(['diff', ...CHANGE, ...CLUSTER, '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const report = json(run.stdout);
    expect(report.policies).toEqual([{ kind: 'ClusterNetworkPolicy', name: 'protect-payments', change: 'changed' }]);
    expect(report.summary).toEqual({ changes: 1, newlyDenied: 0, newlyAllowed: 1, pods: 5, classes: 5 });
    const [g] = report.changes;
    expect(g!.ports).toEqual([{ protocol: 'TCP', start: 443, end: 443 }]);
    expect(g!.before.decidedBy).toMatchObject([{ direction: 'ingress', stage: 'admin', policy: 'protect-payments', rule: 1, ruleName: 'deny-everything-else' }]);
    expect(g!.after.decidedBy).toMatchObject([{ direction: 'ingress', stage: 'admin', policy: 'protect-payments', rule: 1, ruleName: 'allow-tenant-a-web' }]);
    expect(flowsOf(report, [{ port: 443, protocol: 'TCP' }, { port: 444, protocol: 'TCP' }])).toEqual(new Map([['tenant-a/web>payments/api>TCP/443', 'allow']]));
  });

  it('exits 0 when the proposed policy is the one in force', () => {
    const run = cli(['diff', '-f', 'config/samples/admin-protect-sensitive.yaml', ...CLUSTER]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('No connection changes verdict (5 pods in 5 classes; no policy changed).\n');
    expect(run.stderr).toContain('note: the change is the cluster');
  });

  it('deletes a ClusterNetworkPolicy by NAME and a NetworkPolicy by NAMESPACE/NAME', () => {
    const run = cli(['diff', '--delete', 'protect-payments', '--delete', 'tenant-a/allow-from-tenant-b', ...CLUSTER, '-o', 'json']);
    expect(run.status).toBe(1);
    const report = json(run.stdout);
    expect(report.policies).toEqual([
      { kind: 'ClusterNetworkPolicy', name: 'protect-payments', change: 'deleted' },
      { kind: 'NetworkPolicy', name: 'tenant-a/allow-from-tenant-b', change: 'deleted' },
    ]);
    const flows = flowsOf(report, [{ port: 443, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }]);
    expect(flows.get('tenant-a/web>payments/api>TCP/443')).toBe('allow');
    // The NetworkPolicy let tenant-b in; without it the Baseline isolation decides.
    expect(flows.get('tenant-b/web>tenant-a/web>TCP/8080')).toBe('deny');
    expect(report.changes.find((c) => c.change === 'denied')?.after.decidedBy).toMatchObject([{ stage: 'baseline', policy: 'isolate-tenants' }]);
  });

  it('compares connections to addresses on the given ports', () => {
    const run = cli(['diff', '--delete', 'tenant-egress-via-proxy', ...CLUSTER, '--to-address', '203.0.113.9', '--to-address', '192.0.2.10', '--port', '443', '--port', '3128/tcp', '-o', 'json']);
    expect(run.status).toBe(1);
    const flows = flowsOf(json(run.stdout), [{ port: 443, protocol: 'TCP' }, { port: 3128, protocol: 'TCP' }]);
    // The proxy was already allowed on 3128; everything else to outside was denied to tenants only.
    expect(flows).toEqual(
      new Map([
        ['tenant-a/web>203.0.113.9>TCP/443', 'allow'],
        ['tenant-a/web>203.0.113.9>TCP/3128', 'allow'],
        ['tenant-a/web>192.0.2.10>TCP/443', 'allow'],
        ['tenant-b/web>203.0.113.9>TCP/443', 'allow'],
        ['tenant-b/web>203.0.113.9>TCP/3128', 'allow'],
        ['tenant-b/web>192.0.2.10>TCP/443', 'allow'],
      ]),
    );
  });

  it.each([
    [['diff', ...CLUSTER], 'nothing to compare'],
    [['diff', '--delete', 'no-such-policy', ...CLUSTER], 'ClusterNetworkPolicy no-such-policy cannot be deleted'],
    [['diff', '--delete', 'a/b/c', ...CLUSTER], 'NAMESPACE/NAME'],
    [['diff', ...CHANGE, '--delete', 'protect-payments', ...CLUSTER], 'both proposed (-f) and deleted (--delete)'],
    [['diff', '-f', 'docs/examples/cluster.yaml', ...CLUSTER], 'takes the proposed ClusterNetworkPolicies and NetworkPolicies'],
    [['diff', ...CHANGE, ...CLUSTER, '--to-address', '203.0.113.9'], 'add --port'],
    [['diff', ...CHANGE, ...CLUSTER, '--port', '443'], 'give the address too'],
    [['diff', ...CHANGE, ...CLUSTER, '--to-address', 'example.com', '--port', '443'], 'is not an IP address'],
    [['diff', ...CHANGE, ...CLUSTER, '--to-address', '203.0.113.9', '--port', '443/ICMP'], 'must be one of TCP, UDP, SCTP'],
    [['diff', ...CHANGE, ...CLUSTER, '--kubeconfig', '/dev/null'], '--cluster reads files and --kubeconfig a live cluster'],
    [['diff', ...CHANGE, ...CLUSTER, 'stray'], 'unexpected argument'],
  ])('%j is a usage error (exit 2, never 1)', (args, message) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('an invalid proposed policy exits 2, not 1 (1 means changes)', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: bad}\nspec: {tier: Admin, priority: 2000, subject: {namespaces: {}}}\n');
    const run = cli(['diff', '-f', bad, ...CLUSTER]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/bad\.yaml:\d+:\d+: spec\.priority/);
  });

  it('a cluster that cannot be read exits 66', () => {
    expect(cli(['diff', ...CHANGE, '--cluster', join(dir, 'missing.yaml')]).status).toBe(66);
    const run = cli(['diff', ...CHANGE, '--kubeconfig', join(dir, 'missing-kubeconfig')]);
    expect(run.status).toBe(66);
    expect(run.stdout).toBe('');
  });
});

// The command end to end on the conformance states: the cluster of one step in a file, the next
// step's policies proposed with -f (and the ones it no longer has deleted), for every pair of
// consecutive steps that changes only policies. The flows it reports among those the suite probes
// at both steps are exactly those whose expectation changed.
describe('cnp-operator diff between conformance steps', () => {
  const name = (e: Flow['from']) => (e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip);
  let compared = 0;
  for (const c of loadConformance(4)) {
    const pairs = c.steps.slice(1).map((b, i) => [c.steps[i]!, b] as const).filter(([a, b]) => sameCluster(a.snapshot, b.snapshot));
    if (pairs.length === 0) continue;
    it(c.name, () => {
      for (const [a, b] of pairs) {
        const base = join(dir, `${c.name}-${a.step}`);
        writeFileSync(`${base}.cluster.yaml`, `${clusterObjects(a.snapshot).map((o) => stringify(o)).join('---\n')}---\n${stateText(a)}`);
        writeFileSync(`${base}.change.yaml`, stateText(b));
        const gone = [
          ...a.snapshot.policies.filter((p) => !b.snapshot.policies.some((q) => q.name === p.name)).map((p) => p.name),
          ...a.snapshot.networkPolicies.filter((p) => !b.snapshot.networkPolicies.some((q) => q.namespace === p.namespace && q.name === p.name)).map((p) => `${p.namespace}/${p.name}`),
        ];
        const run = cli(['diff', '-f', `${base}.change.yaml`, ...gone.flatMap((g) => ['--delete', g]), '--cluster', `${base}.cluster.yaml`, '-o', 'json']);
        expect(run.stderr).toBe('');
        expect([0, 1]).toContain(run.status);
        const report = json(run.stdout);
        expect(run.status).toBe(report.changes.length > 0 ? 1 : 0);
        // Through files and -f, the same answer as on the suite's own snapshots, on every probed flow.
        const probed = [...a.probes, ...b.probes].map((p) => ({ from: name(p.flow.from), to: name(p.flow.to), port: p.flow.port, protocol: p.flow.protocol }));
        const pure = reported(groupChanges(computeImpact(a.snapshot, b.snapshot)), probed);
        const keys = new Set(probed.map((p) => `${p.from}>${p.to}>${p.protocol}/${p.port}`));
        expect(new Map([...flowsOf(report, probed)].filter(([k]) => keys.has(k)))).toEqual(new Map([...pure].map(([k, v]) => [k, v.after])));
        const both = b.probes.filter((p) => a.probes.some((q) => JSON.stringify(q.flow) === JSON.stringify(p.flow)));
        const changed = flowsOf(report, both.map((p) => ({ port: p.flow.port, protocol: p.flow.protocol })));
        for (const p of both) {
          compared++;
          const expectBefore = a.probes.find((q) => JSON.stringify(q.flow) === JSON.stringify(p.flow))!.expect;
          const key = `${name(p.flow.from)}>${name(p.flow.to)}>${p.flow.protocol}/${p.flow.port}`;
          expect(changed.get(key), `${c.name} ${a.step}->${b.step} ${key}`).toBe(expectBefore === p.expect ? undefined : p.expect);
        }
      }
    });
  }
  it('compared every flow the suite probes at two consecutive steps that differ only in policies', () => {
    // Runs after the cases above (vitest runs a file's tests in order).
    expect(compared).toBe(12);
  });
});
