import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { NetworkPolicyOverrides } from '../../src/semantics/overrides.js';
import { cli } from './run.js';

// explain --namespace: for a developer whose NetworkPolicy "does not work", which Admin rules
// decide first (and for which pods, peers and ports), and which Baseline ones never apply.

const dir = mkdtempSync(join(tmpdir(), 'cnp-overrides-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pod = (namespace: string, name: string, labels: Record<string, string>, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name, labels },
  spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
  status: { podIP: ip },
});
const np = (name: string, podSelector: unknown, policyTypes: string[], spec: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'tenant', name },
  spec: { podSelector, policyTypes, ...spec },
});
const cnp = (name: string, tier: string, priority: number, subject: unknown, rules: Record<string, unknown>) => ({
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec: { tier, priority, subject, ...rules },
});
const tenants = { namespaces: { matchLabels: { tenant: 'yes' } } };
const byName = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

const OBJECTS = [
  ns('tenant', { tenant: 'yes' }),
  ns('evil'),
  ns('monitoring'),
  pod('tenant', 'web', { app: 'web' }, '10.1.0.1'),
  pod('tenant', 'db', { app: 'db' }, '10.1.0.2'),
  pod('evil', 'x', {}, '10.2.0.1'),
  pod('monitoring', 'prom', { app: 'prom' }, '10.3.0.1'),
  np('allow-web', { matchLabels: { app: 'web' } }, ['Ingress'], { ingress: [{ from: [{ podSelector: {} }] }] }),
  np('db-egress', { matchLabels: { app: 'db' } }, ['Egress']),
  np('future', { matchLabels: { app: 'future' } }, ['Ingress']),
  cnp('deny-evil', 'Admin', 1, tenants, { ingress: [{ name: 'no-evil', action: 'Deny', from: [{ namespaces: byName('evil') }] }] }),
  cnp('allow-monitoring', 'Admin', 2, { namespaces: {} }, {
    ingress: [{ action: 'Accept', from: [{ pods: { namespaceSelector: byName('monitoring'), podSelector: { matchLabels: { app: 'prom' } } } }], protocols: [{ tcp: { destinationPort: { number: 9090 } } }] }],
  }),
  cnp('pass-tenants', 'Admin', 3, { pods: { namespaceSelector: { matchLabels: { tenant: 'yes' } }, podSelector: { matchLabels: { app: 'web' } } } }, {
    ingress: [{ action: 'Pass', from: [{ namespaces: { matchLabels: { tenant: 'yes' } } }] }],
  }),
  cnp('only-evil', 'Admin', 4, { namespaces: byName('evil') }, { ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] }),
  cnp('no-private', 'Admin', 5, tenants, { egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }] }] }),
  cnp('default-deny', 'Baseline', 1, { namespaces: {} }, { ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] }),
];
const input = join(dir, 'cluster.yaml');
writeFileSync(input, OBJECTS.map((o) => stringify(o)).join('---\n'));

describe('explain --namespace', () => {
  const json = () => {
    const run = cli(['explain', '-f', input, '--namespace', 'tenant', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as NetworkPolicyOverrides[];
  };

  it('lists, per NetworkPolicy and direction, the Admin rules that decide first, in order, and the Baseline ones shut out', () => {
    const result = json();
    expect(result.map((r) => [r.name, r.directions.map((d) => d.direction)])).toEqual([
      ['allow-web', ['ingress']],
      ['db-egress', ['egress']],
      ['future', ['ingress']],
    ]);
    const web = result[0]!.directions[0]!;
    expect(web.pods).toEqual(['tenant/web']);
    expect(web.admin.map((r) => [r.policy, r.ruleIndex, r.action, r.ports])).toEqual([
      ['deny-evil', 0, 'Deny', undefined],
      ['allow-monitoring', 0, 'Accept', ['TCP/9090']],
      ['pass-tenants', 0, 'Pass', undefined],
    ]);
    expect(web.admin.map((r) => r.peers.map((p) => p.matches))).toEqual([[['evil/x']], [['monitoring/prom']], [['tenant/db', 'tenant/web']]]);
    expect(web.baselineShutOut).toEqual(['default-deny']);
    const db = result[1]!.directions[0]!;
    expect(db.admin.map((r) => [r.policy, r.peers[0]!.text, r.peers[0]!.matches])).toEqual([['no-private', 'networks 10.0.0.0/8', ['evil/x', 'monitoring/prom', 'tenant/db', 'tenant/web']]]);
    expect(db.baselineShutOut).toEqual([]);
  });

  it('matches CNPs by selectors for a NetworkPolicy that selects no pod of the input', () => {
    const future = json()[2]!.directions[0]!;
    expect(future.bySelector).toBe(true);
    // pass-tenants selects app=web pods only, which cannot be app=future pods.
    expect(future.admin.map((r) => r.policy)).toEqual(['deny-evil', 'allow-monitoring']);
  });

  it('says the same in words', () => {
    const run = cli(['explain', '-f', input, '-n', 'tenant']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      [
        'NetworkPolicy tenant/allow-web',
        '  ingress (isolates tenant/web):',
        '    decided first, by the first of these that matches a connection:',
        '    ✗ denies, whatever the NetworkPolicy says: deny-evil (priority 1) ingress[0] "no-evil"',
        '        from every pod in namespaces matching kubernetes.io/metadata.name=evil (evil/x)',
        '        on every port and protocol',
        '    ✓ allows, whatever the NetworkPolicy says: allow-monitoring (priority 2) ingress[0]',
        '        from pods matching app=prom in namespaces matching kubernetes.io/metadata.name=monitoring (monitoring/prom)',
        '        on TCP/9090',
        '    → hands to the NetworkPolicy, past later Admin rules: pass-tenants (priority 3) ingress[0]',
        '        from every pod in namespaces matching tenant=yes (tenant/db, tenant/web)',
        '        on every port and protocol',
        '    anything else: this NetworkPolicy decides',
        '    Baseline default-deny never applies here: Baseline only decides where no NetworkPolicy isolates the pod',
      ].join('\n'),
    );
    expect(run.stdout).toContain('  ingress (isolates no pod in the input; CNPs matched by their selectors):');
  });

  it('a namespace without NetworkPolicies says so; one not in the input is an error', () => {
    expect(cli(['explain', '-f', input, '-n', 'evil']).stdout).toBe('namespace evil has no NetworkPolicies: ClusterNetworkPolicies alone decide for its pods\n');
    const missing = cli(['explain', '-f', input, '-n', 'nowhere']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('namespace nowhere is not in the input');
  });

  it('cannot be combined with a flow', () => {
    const run = cli(['explain', '-f', input, '-n', 'tenant', '--port', '80']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('-n cannot be combined with --port');
  });
});
