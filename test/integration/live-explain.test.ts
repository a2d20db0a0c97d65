import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli } from '../cli/run.js';
import { kube, type KubeObject, kubeconfig, kubectl, uniqueName } from '../harness/index.js';
import { REPO } from '../support/paths.js';
import { startOperator, waitForCondition } from './operator.js';

// explain against the live cluster (read-only, through the kubectl plugin too) gives the same
// answers as explain over the same objects exported with `kubectl get -o yaml`, including what the
// operator wrote into the deciding CNP's Exact condition; the reader ClusterRole is enough for it.

const CNP = 'policy.networking.k8s.io/v1beta1';
const id = uniqueName('lx').slice(3);
const nsA = `lx-a-${id}`;
const nsB = `lx-b-${id}`;
// Names that sort first among CNPs of priority 0, so objects other tests leave behind do not decide these flows.
const name = (what: string) => `a0-${id}-${what}`;
const scope = { 'live-test': id };
const dir = mkdtempSync(join(tmpdir(), 'cnp-live-explain-'));

const namespaces = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsA, labels: { ...scope, tenant: 'a' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsB, labels: { ...scope, tenant: 'b' } } },
];
const pods = [
  { ns: nsA, name: 'web', labels: { app: 'web' }, ip: '10.77.0.1', ports: [{ name: 'http', containerPort: 8080 }] },
  { ns: nsA, name: 'db', labels: { app: 'db' }, ip: '10.77.0.2', ports: [] },
  { ns: nsB, name: 'client', labels: { app: 'client' }, ip: '10.77.1.1', ports: [] },
];
const networkPolicy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: nsA, name: 'web-from-b' },
  spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { tenant: 'b' } } }], ports: [{ port: 'http' }] }] },
};
const policies = [
  { name: name('deny-db'), tier: 'Admin', subject: { pods: { namespaceSelector: { matchLabels: scope }, podSelector: { matchLabels: { app: 'db' } } } }, ingress: [{ name: 'no-one', action: 'Deny', from: [{ namespaces: { matchLabels: scope } }] }] },
  // 10.77.0.0/24 holds some pod addresses but not all: on Cilium the operator reports this rule in Exact.
  { name: name('to-lab'), tier: 'Admin', subject: { namespaces: { matchLabels: scope } }, egress: [{ name: 'lab', action: 'Accept', to: [{ networks: ['10.77.0.0/24'] }] }] },
  { name: name('baseline'), tier: 'Baseline', subject: { namespaces: { matchLabels: scope } }, ingress: [{ name: 'deny-rest', action: 'Deny', from: [{ namespaces: {} }] }] },
].map(({ name: n, tier, ...rules }): KubeObject => ({ apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name: n }, spec: { tier, priority: 0, ...rules } }));

const flows = [
  { from: `${nsB}/client`, to: `${nsA}/web`, port: 8080, protocol: 'TCP' }, // the NetworkPolicy allows it
  { from: `${nsB}/client`, to: `${nsA}/web`, port: 9090, protocol: 'TCP' }, // isolated by the NetworkPolicy
  { from: `${nsB}/client`, to: `${nsA}/db`, port: 5432, protocol: 'TCP' }, // the Admin Deny
  { from: `${nsA}/db`, to: `${nsB}/client`, port: 80, protocol: 'TCP' }, // the Baseline Deny
  { from: `${nsB}/client`, to: '10.77.0.200', port: 443, protocol: 'TCP' }, // the approximated Admin Accept
];
const flowsFile = join(dir, 'flows.json');
writeFileSync(flowsFile, JSON.stringify(flows));

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cluster's objects as an admin exports them, into a file offline explain reads. */
function exported(): string {
  const r = run(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'clusternetworkpolicies,networkpolicies,namespaces,pods,nodes', '-A', '-o', 'yaml']);
  expect(r.status, r.stderr).toBe(0);
  const path = join(dir, 'exported.yaml');
  writeFileSync(path, r.stdout);
  return path;
}

/** A kubeconfig for a new ServiceAccount, bound to `clusterRole` unless undefined. */
async function serviceAccountKubeconfig(account: string, clusterRole: string | undefined): Promise<string> {
  await kube().create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: nsA, name: account } });
  if (clusterRole !== undefined) {
    await kube().create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${account}-${id}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', namespace: nsA, name: account }],
    });
  }
  const token = await kube().request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${nsA}/serviceaccounts/${account}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } });
  const cluster = kube().kc.getCurrentCluster()!;
  const ca = cluster.caData ?? (cluster.caFile === undefined ? undefined : readFileSync(cluster.caFile).toString('base64'));
  const path = join(dir, `${account}.kubeconfig`);
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

describe('live explain', () => {
  let file: string;

  beforeAll(async () => {
    for (const n of namespaces) await kube().create(n);
    for (const p of pods) {
      await kube().create({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: p.ns, name: p.name, labels: p.labels }, spec: { containers: [{ name: 'c', image: 'example.invalid/none', ports: p.ports }] } });
      // No kubelet here: the addresses a kubelet would report are written as it would write them.
      await kube().request('PATCH', `/api/v1/namespaces/${p.ns}/pods/${p.name}/status`, { status: { podIP: p.ip, podIPs: [{ ip: p.ip }] } }, 'application/merge-patch+json');
    }
    await kube().create(networkPolicy);
    for (const p of policies) await kube().create(p);
    // The operator, on Cilium, writes the conditions explain reads; stopped before anything is read.
    const op = await startOperator({ detect: { backend: 'cilium', force: false } });
    try {
      for (const p of policies) await waitForCondition(p.metadata.name, 'Exact', (c) => c.status !== 'Unknown');
    } finally {
      await op.stop();
    }
    file = exported();
  }, 180_000);

  afterAll(async () => {
    for (const p of policies) await kube().delete(CNP, 'ClusterNetworkPolicy', p.metadata.name);
    for (const n of namespaces) await kube().delete('v1', 'Namespace', n.metadata.name);
    for (const account of ['reader', 'nobody']) await kube().delete('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', `${account}-${id}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same verdicts, traces and operator findings as explain over the exported objects', () => {
    const live = cli(['explain', '--kubeconfig', kubeconfig(), '--flows', flowsFile, '-o', 'json']);
    expect(live.stderr).toBe('');
    expect(live.status).toBe(0);
    const offline = cli(['explain', '-f', file, '--flows', flowsFile, '-o', 'json']);
    expect(offline.status).toBe(0);
    expect(live.stdout).toBe(offline.stdout);
    const results = JSON.parse(live.stdout) as { verdict: string; egress: { policy?: string }[]; ingress: { policy?: string }[]; enforcement: { direction: string; policy: string; type: string; status: string; message: string }[] }[];
    expect(results.map((r) => r.verdict)).toEqual(['allow', 'deny', 'deny', 'deny', 'allow']);
    expect(results[2]!.ingress.at(-1)!.policy).toBe(name('deny-db'));
    expect(results[3]!.ingress.at(-1)!.policy).toBe(name('baseline'));
    // Each verdict a policy the backend only approximates decides carries the operator's finding for it.
    expect(results[4]!.enforcement).toEqual([expect.objectContaining({ policy: name('to-lab'), type: 'Exact', status: 'False', message: expect.stringContaining('egress[0] "lab": 10.77.0.0/24 contains some pod addresses but not all') as unknown })]);
    // client -> db: egress by the approximated Accept (10.77.0.2 is in the lab network), ingress by the Deny.
    expect(results[2]!.enforcement.map((n) => [n.direction, n.policy, n.type, n.status])).toEqual([
      ['egress', name('to-lab'), 'Exact', 'False'],
      ['ingress', name('deny-db'), 'Exact', 'False'],
    ]);
    expect(results[2]!.enforcement[1]!.message).toContain('ingress[0] "no-one": the subject uses label app');
    // The same in words.
    const text = cli(['explain', '--kubeconfig', kubeconfig(), '--from', `${nsB}/client`, '--to', '10.77.0.200', '--port', '443']);
    expect(text.stdout).toBe(cli(['explain', '-f', file, '--from', `${nsB}/client`, '--to', '10.77.0.200', '--port', '443']).stdout);
    expect(text.stdout).toMatch(new RegExp(`\\n {6}! ClusterNetworkPolicy ${name('to-lab')}: Exact False \\(Approximated\\): egress\\[0\\] "lab": 10\\.77\\.0\\.0/24 contains some pod addresses`));
  });

  it('lists the same overrides of a namespace\'s NetworkPolicies', () => {
    const live = cli(['explain', '--kubeconfig', kubeconfig(), '--namespace', nsA, '-o', 'json']);
    expect(live.status).toBe(0);
    expect(live.stdout).toBe(cli(['explain', '-f', file, '--namespace', nsA, '-o', 'json']).stdout);
    const [web] = JSON.parse(live.stdout) as { name: string; directions: { admin: { policy: string }[]; baselineShutOut: string[] }[] }[];
    expect(web!.name).toBe('web-from-b');
    expect(web!.directions[0]!.baselineShutOut).toContain(name('baseline'));
    expect(cli(['explain', '--kubeconfig', kubeconfig(), '-n', nsA]).stdout).toBe(cli(['explain', '-f', file, '-n', nsA]).stdout);
  });

  it('works as `kubectl cnp explain`, from KUBECONFIG or --kubeconfig and --context', () => {
    const want = cli(['explain', '-f', file, '--flows', flowsFile]).stdout;
    const env = { PATH: `${join(REPO, 'bin')}:${process.env['PATH'] ?? ''}` };
    const fromEnv = run(kubectl(), ['cnp', 'explain', '--flows', flowsFile], { ...env, KUBECONFIG: kubeconfig() });
    expect(fromEnv.stderr).toBe('');
    expect(fromEnv.stdout).toBe(want);
    const context = kube().kc.getCurrentContext();
    const fromFlags = run(kubectl(), ['cnp', 'explain', '--kubeconfig', kubeconfig(), '--context', context, '--flows', flowsFile], { ...env, KUBECONFIG: join(dir, 'absent') });
    expect(fromFlags.stdout).toBe(want);
    const badContext = run(kubectl(), ['cnp', 'explain', '--kubeconfig', kubeconfig(), '--context', 'nosuch', '--flows', flowsFile], env);
    expect(badContext.status).toBe(66);
    expect(badContext.stderr).toMatch(/^kubectl cnp explain: cannot load a kubeconfig from .*: kubeconfig has no context named "nosuch"/);
  });

  it('needs no more than the reader ClusterRole (config/rbac/reader.yaml); without it, says what is missing', async () => {
    const role = run(kubectl(), ['--kubeconfig', kubeconfig(), 'apply', '--server-side', '-f', join(REPO, 'config', 'rbac', 'reader.yaml')]);
    expect(role.status, role.stderr).toBe(0);
    const reader = await serviceAccountKubeconfig('reader', 'cnp-reader');
    const asReader = cli(['explain', '--kubeconfig', reader, '--flows', flowsFile, '-o', 'json']);
    expect(asReader.stderr).toBe('');
    expect(asReader.stdout).toBe(cli(['explain', '-f', file, '--flows', flowsFile, '-o', 'json']).stdout);
    const nobody = await serviceAccountKubeconfig('nobody', undefined);
    const denied = cli(['explain', '--kubeconfig', nobody, '--flows', flowsFile]);
    expect(denied.status).toBe(66);
    expect(denied.stderr).toMatch(/forbids listing clusternetworkpolicies: this needs list on clusternetworkpolicies, networkpolicies, namespaces, pods, nodes \(config\/rbac\/reader.yaml\)/);
  });
});
