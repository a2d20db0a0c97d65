import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli } from '../cli/run.js';
import { kube, type KubeObject, kubeconfig, kubectl, uniqueName } from '../harness/index.js';
import { REPO } from '../support/paths.js';

// diff against the live cluster (read-only, with only the reader ClusterRole, and as `kubectl cnp
// diff`) gives the same answer as diff over the same objects exported with `kubectl get -o yaml`.

const CNP = 'policy.networking.k8s.io/v1beta1';
const id = uniqueName('dx').slice(3);
const nsA = `dx-a-${id}`;
const nsB = `dx-b-${id}`;
// Names that sort first among CNPs of priority 0, so objects other tests leave behind do not decide these flows.
const denyDb = `a0-${id}-deny-db`;
const scope = { 'diff-test': id };
const dir = mkdtempSync(join(tmpdir(), 'cnp-diff-live-'));

const namespaces = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsA, labels: { ...scope, tenant: 'a' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsB, labels: { ...scope, tenant: 'b' } } },
];
const pods = [
  { ns: nsA, name: 'web', labels: { app: 'web' }, ip: '10.78.0.1', ports: [{ name: 'http', containerPort: 8080 }] },
  { ns: nsA, name: 'db', labels: { app: 'db' }, ip: '10.78.0.2', ports: [{ name: 'postgres', containerPort: 5432 }] },
  { ns: nsB, name: 'client', labels: { app: 'client' }, ip: '10.78.1.1', ports: [] },
];
const networkPolicy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: nsA, name: 'web-from-b' },
  spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { tenant: 'b' } } }], ports: [{ port: 'http' }] }] },
};
const dbPolicy = (rules: object[]): KubeObject => ({
  apiVersion: CNP,
  kind: 'ClusterNetworkPolicy',
  metadata: { name: denyDb },
  spec: { tier: 'Admin', priority: 0, subject: { pods: { namespaceSelector: { matchLabels: scope }, podSelector: { matchLabels: { app: 'db' } } } }, ingress: rules },
});
const deny = { name: 'no-one', action: 'Deny', from: [{ namespaces: {} }] };
// The change: the client may reach the database on its named port; the NetworkPolicy goes.
const proposal = dbPolicy([{ name: 'client', action: 'Accept', from: [{ pods: { namespaceSelector: { matchLabels: scope }, podSelector: { matchLabels: { app: 'client' } } } }], protocols: [{ destinationNamedPort: 'postgres' }] }, deny]);
const changeFile = join(dir, 'change.yaml');
writeFileSync(changeFile, stringify(proposal));
const change = ['-f', changeFile, '--delete', `${nsA}/web-from-b`, '--to-address', '10.78.9.9', '--port', '443/TCP'];

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cluster's objects as an admin exports them, into a file diff reads with --cluster. */
function exported(): string {
  const r = run(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'clusternetworkpolicies,networkpolicies,namespaces,pods,nodes', '-A', '-o', 'yaml']);
  expect(r.status, r.stderr).toBe(0);
  const path = join(dir, 'exported.yaml');
  writeFileSync(path, r.stdout);
  return path;
}

/** A kubeconfig for a new ServiceAccount bound to the reader ClusterRole. */
async function readerKubeconfig(): Promise<string> {
  const role = run(kubectl(), ['--kubeconfig', kubeconfig(), 'apply', '--server-side', '-f', join(REPO, 'config', 'rbac', 'reader.yaml')]);
  expect(role.status, role.stderr).toBe(0);
  await kube().create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: nsA, name: 'reader' } });
  await kube().create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `diff-reader-${id}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cnp-reader' },
    subjects: [{ kind: 'ServiceAccount', namespace: nsA, name: 'reader' }],
  });
  const token = await kube().request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${nsA}/serviceaccounts/reader/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } });
  const cluster = kube().kc.getCurrentCluster()!;
  const ca = cluster.caData ?? (cluster.caFile === undefined ? undefined : readFileSync(cluster.caFile).toString('base64'));
  const path = join(dir, 'reader.kubeconfig');
  writeFileSync(path, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: cluster.server, ...(ca === undefined ? {} : { 'certificate-authority-data': ca }) } }],
    users: [{ name: 'u', user: { token: token.status.token } }],
    contexts: [{ name: 'reader', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'reader',
  }));
  return path;
}

interface Report {
  changes: { change: string; from: { classes: number[] }; to: { classes?: number[]; address?: string }; ports: { protocol: string; start: number; end: number }[]; after: { decidedBy: { policy?: string; rule?: number }[] } }[];
  classes: { id: number; pods: string[] }[];
}

/** The group holding a flow, if any. */
function groupOf(report: Report, from: string, to: string, port: number): Report['changes'][number] | undefined {
  const pods = new Map(report.classes.map((c) => [c.id, c.pods]));
  return report.changes.find(
    (g) => g.from.classes.some((c) => pods.get(c)!.includes(from)) && (g.to.classes ?? []).some((c) => pods.get(c)!.includes(to)) && g.ports.some((p) => p.protocol === 'TCP' && p.start <= port && port <= p.end),
  );
}

describe('live diff', () => {
  beforeAll(async () => {
    for (const n of namespaces) await kube().create(n);
    for (const p of pods) {
      await kube().create({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: p.ns, name: p.name, labels: p.labels }, spec: { containers: [{ name: 'c', image: 'example.invalid/none', ports: p.ports }] } });
      // No kubelet here: the addresses a kubelet would report are written as it would write them.
      await kube().request('PATCH', `/api/v1/namespaces/${p.ns}/pods/${p.name}/status`, { status: { podIP: p.ip, podIPs: [{ ip: p.ip }] } }, 'application/merge-patch+json');
    }
    await kube().create(networkPolicy);
    await kube().create(dbPolicy([deny]));
  }, 120_000);

  afterAll(async () => {
    await kube().delete(CNP, 'ClusterNetworkPolicy', denyDb);
    for (const n of namespaces) await kube().delete('v1', 'Namespace', n.metadata.name);
    await kube().delete('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', `diff-reader-${id}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same answer as diff over the exported objects, in json and in text', () => {
    const live = cli(['diff', ...change, '--kubeconfig', kubeconfig(), '-o', 'json']);
    expect(live.stderr).toBe('');
    expect(live.status).toBe(1);
    const file = exported();
    const offline = cli(['diff', ...change, '--cluster', file, '-o', 'json']);
    expect(offline.status).toBe(1);
    expect(live.stdout).toBe(offline.stdout);
    expect(cli(['diff', ...change, '--kubeconfig', kubeconfig()]).stdout).toBe(cli(['diff', ...change, '--cluster', file]).stdout);

    const report = JSON.parse(live.stdout) as Report;
    // The client reaches the database on its named port only, by the new rule.
    const opened = groupOf(report, `${nsB}/client`, `${nsA}/db`, 5432);
    expect(opened).toMatchObject({ change: 'allowed', ports: [{ protocol: 'TCP', start: 5432, end: 5432 }], after: { decidedBy: [{ policy: denyDb, rule: 0 }] } });
    expect(groupOf(report, `${nsB}/client`, `${nsA}/db`, 5433)).toBeUndefined();
    // Without the NetworkPolicy the web pod is isolated no more: open on other ports, unchanged on http.
    expect(groupOf(report, `${nsB}/client`, `${nsA}/web`, 9090)).toMatchObject({ change: 'allowed' });
    expect(groupOf(report, `${nsB}/client`, `${nsA}/web`, 8080)).toBeUndefined();
    // No policy decides egress to the address, before or after.
    expect(report.changes.some((g) => g.to.address !== undefined)).toBe(false);
  });

  it('needs no more than the reader ClusterRole, and works as `kubectl cnp diff`', async () => {
    const want = cli(['diff', ...change, '--kubeconfig', kubeconfig()]);
    const reader = await readerKubeconfig();
    const asReader = cli(['diff', ...change, '--kubeconfig', reader]);
    expect(asReader.stderr).toBe('');
    expect(asReader.stdout).toBe(want.stdout);
    const plugin = run(kubectl(), ['cnp', 'diff', ...change], { PATH: `${join(REPO, 'bin')}:${process.env['PATH'] ?? ''}`, KUBECONFIG: kubeconfig() });
    expect(plugin.stderr).toBe('');
    expect(plugin.status).toBe(1);
    expect(plugin.stdout).toBe(want.stdout);
  });

  it('a cluster it cannot reach exits 66, not 1', () => {
    const nowhere = join(dir, 'nowhere.kubeconfig');
    writeFileSync(nowhere, stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }));
    const r = cli(['diff', ...change, '--kubeconfig', nowhere]);
    expect(r.status).toBe(66);
    expect(r.stdout).toBe('');
  });
});
