import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl as harnessKubectl, type KubeObject, parseObjects, waitFor } from '../harness/index.js';
import { type DocCommand, extractCommands, fencedBlocks } from '../support/doc-commands.js';
import { REPO } from '../support/paths.js';
import { type Backend, CALICO_NATIVE_VERSION, CALICO_VERSION, CILIUM_OWN_POLICY, loadSnapshot, type RunResult, type Sample, Session, setCalicoVersion } from './docs-session.js';

// Every command the admin guide and the README show in ```sh blocks is classified below, and
// either run — once on a local control plane set up as a Calico cluster and once as a Cilium
// cluster, in document order (README first), with only the placeholders of PLACEHOLDERS and the
// per-backend alternatives of ALTERNATIVES substituted — or checked (`bash -n` plus a check of
// its own), or left to the test that already runs it. A command no rule classifies fails the
// first test, as does a rule no command matches. Commands run by this file exit 0 (or the
// status the docs give) and, where the docs show output, print it.

const README = 'README.md';
const GUIDE = 'docs/admin-guide.md';
const guideText = readFileSync(join(REPO, GUIDE), 'utf8');
const commands: DocCommand[] = [README, GUIDE].flatMap((f) => extractCommands(readFileSync(join(REPO, f), 'utf8'), f));

const CNPS = 'clusternetworkpolicies.policy.networking.k8s.io';
const CNP_V1 = 'policy.networking.k8s.io/v1beta1';
const OLD_CRD = join(REPO, 'test', 'integration', 'fixtures', 'crd-before-v0.3.0.yaml');

/** The guide's placeholders (its introduction lists them) and what the test puts in their place. */
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  NAME: 'protect-payments',
  USER: 'alice',
  POD: 'cnp-operator-0',
  // The CRD of the release before v0.3.0: v1alpha2 stored, v1beta1 served with the same schema.
  OLD_CRD,
};

/** Alternatives the docs name beside a command (README's install comment, the guide's overlay comment). */
const ALTERNATIVES: Readonly<Record<Backend, readonly (readonly [string, string])[]>> = {
  calico: [],
  cilium: [['config/calico', 'config/cilium']],
};

function substitute(text: string, backend?: Backend): string {
  let out = text.replace(new RegExp(`\\b(${Object.keys(PLACEHOLDERS).join('|')})\\b`, 'g'), (w) => PLACEHOLDERS[w]!);
  for (const [from, to] of backend === undefined ? [] : ALTERNATIVES[backend]) out = out.split(from).join(to);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checks of state, shared by the rules.

const calicoApi = 'projectcalico.org/v3';

interface Condition {
  type: string;
  status: string;
  reason: string;
}

/** The CNPs, read as v1beta1 (retried while the API server re-initializes the CRD's storage after a change). */
async function cnpsNow(s: Session): Promise<KubeObject[]> {
  return waitFor(() => s.kube.list(CNP_V1, 'ClusterNetworkPolicy'), { timeout: 60_000, message: 'the CNPs to be listed' });
}

function condition(cnp: KubeObject, type: string): Condition | undefined {
  return ((cnp['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
}

/** Waits until every CNP (or the one named) has Programmed True with `reason` at its generation. */
async function allProgrammed(s: Session, reason: string, name?: string): Promise<void> {
  await waitFor(
    async () => {
      const cnps = (await cnpsNow(s)).filter((c) => name === undefined || c.metadata.name === name);
      if (cnps.length === 0) return false;
      return cnps.every((c) => {
        const p = condition(c, 'Programmed') as (Condition & { observedGeneration?: number }) | undefined;
        return p?.status === 'True' && p.reason === reason && p.observedGeneration === c.metadata['generation'];
      });
    },
    { timeout: 120_000, message: `${name ?? 'every CNP'} to be Programmed (${reason})` },
  );
}

/** Objects of the operator's (by its label) of the backend's kinds. */
async function generated(s: Session): Promise<string[]> {
  const kinds = s.backend === 'calico' ? [[calicoApi, 'Tier'], [calicoApi, 'GlobalNetworkPolicy'], [calicoApi, 'GlobalNetworkSet']] : [['cilium.io/v2', 'CiliumClusterwideNetworkPolicy']];
  const out: string[] = [];
  for (const [apiVersion, kind] of kinds) {
    for (const o of await s.kube.list(apiVersion!, kind!)) {
      if ((o.metadata['labels'] as Record<string, string> | undefined)?.['app.kubernetes.io/managed-by'] === 'cnp-operator') out.push(`${kind}/${o.metadata.name}`);
    }
  }
  return out.sort();
}

/** The rows of a kubectl table, cut at the header's column starts (values may hold spaces). */
function table(stdout: string): Record<string, string>[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.slice(1).map((line) => Object.fromEntries(starts.map((c, i) => [c.name, line.slice(c.at, starts[i + 1]?.at ?? line.length).trim()])));
}

function row(stdout: string, name: string, key = 'NAME'): Record<string, string> {
  const found = table(stdout).find((r) => r[key] === name || r[key]?.endsWith(`/${name}`));
  expect(found, `a row for ${name} in:\n${stdout}`).toBeDefined();
  return found!;
}

/** An output block the guide shows: the first plain block whose text starts with `prefix`. */
function shownOutput(prefix: string): string {
  const block = fencedBlocks(guideText, GUIDE).find((b) => b.info === '' && b.text.startsWith(prefix));
  expect(block, `the guide shows output starting with ${JSON.stringify(prefix)}`).toBeDefined();
  return block!.text;
}

function sum(samples: readonly Sample[], name: string, match: (labels: Readonly<Record<string, string>>) => boolean = () => true): number {
  return samples.filter((x) => x.name === name && match(x.labels)).reduce((a, x) => a + x.value, 0);
}

/**
 * The guide's alerts, each judged on the operator's /metrics as Prometheus would judge it over a
 * quiet window: an alert the guide adds without an evaluator here fails the test.
 */
const ALERTS: Readonly<Record<string, (m: readonly Sample[]) => boolean>> = {
  CNPOperatorNoLeader: (m) => sum(m, 'leader_election_master_status', (l) => l['name'] === 'cnp-operator') !== 1,
  CNPNotProgrammed: (m) => sum(m, 'cnp_conditions', (l) => l['type'] === 'Programmed' && l['status'] !== 'True') > 0,
  CNPNotAccepted: (m) => sum(m, 'cnp_conditions', (l) => l['type'] === 'Accepted' && l['status'] === 'False') > 0,
  // The process started in this state: its whole counter is the increase.
  CNPReconcileErrors: (m) => sum(m, 'controller_runtime_reconcile_errors_total', (l) => l['controller'] === 'clusternetworkpolicy') > 0,
  CNPQueueNotDraining: (m) => sum(m, 'workqueue_depth', (l) => l['name'] === 'clusternetworkpolicy') > 0,
  CNPDriftRepeats: (m) => sum(m, 'cnp_drift_corrections_total') > 5,
};

function guideAlerts(): string[] {
  const block = fencedBlocks(guideText, GUIDE).find((b) => b.info === 'yaml' && b.text.includes('- alert:'));
  expect(block, 'the guide suggests alerts').toBeDefined();
  return [...block!.text.matchAll(/- alert: (\S+)/g)].map((m) => m[1]!);
}

/** Metric names of the guide's metrics table (`a{…}`, `b{…}`, `process_*`). */
function guideMetrics(): string[] {
  const section = guideText.slice(guideText.indexOf('| Metric | Type | Meaning |'), guideText.indexOf('**Logs**'));
  return section
    .split('\n')
    .slice(2)
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([a-z_*]+)(?:\{[^}]*\})?`/g)].map((m) => m[1]!));
}

async function standDown(s: Session): Promise<void> {
  if (s.backend === 'calico') await setCalicoVersion(s.kube, CALICO_NATIVE_VERSION);
  else await s.kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'enable-k8s-cluster-network-policy': 'true' } });
  // The operator notices within a minute; a restart (a new pod) notices at once.
  await s.restartOperator();
  await allProgrammed(s, 'NativeEnforcement');
}

async function standUp(s: Session): Promise<void> {
  if (s.backend === 'calico') await setCalicoVersion(s.kube, CALICO_VERSION);
  else await s.kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'enable-k8s-cluster-network-policy': 'false' } });
  await s.restartOperator();
  await allProgrammed(s, 'Programmed');
}

/** Someone else edits generated objects; waits until the operator has put them back. */
async function makeDrift(s: Session): Promise<void> {
  const edits: [string, string, string, (o: KubeObject) => void][] =
    s.backend === 'calico'
      ? [
          [calicoApi, 'GlobalNetworkPolicy', 'cnp-admin.protect-payments', (o) => ((o['spec'] as Record<string, unknown>)['ingress'] = [])],
          [calicoApi, 'Tier', 'cnp-admin', (o) => ((o['spec'] as Record<string, unknown>)['order'] = 42)],
        ]
      : [['cilium.io/v2', 'CiliumClusterwideNetworkPolicy', 'cnp-protect-payments', (o) => (o['specs'] = [{ endpointSelector: {}, egress: [{ toEntities: ['world'] }] }])]];
  for (const [apiVersion, kind, name, edit] of edits) {
    const live = await s.kube.get(apiVersion, kind, name);
    expect(live, `${kind} ${name}`).toBeDefined();
    const body = (o: KubeObject | undefined) => JSON.stringify(o?.['spec'] ?? o?.['specs']);
    const before = body(live);
    const edited = structuredClone(live!);
    delete edited.metadata['managedFields'];
    delete edited.metadata['resourceVersion'];
    edit(edited);
    await s.kube.apply(edited, { fieldManager: 'someone-else' });
    await waitFor(async () => body(await s.kube.get(apiVersion, kind, name)) === before, { timeout: 60_000, message: `${kind} ${name} to be restored` });
  }
}

/** The guide's reason for full names, on the Cilium setup: `cnp` is Cilium's; the category ciliumpolicy lists CNPs too. */
async function shortNameClash(s: Session): Promise<void> {
  const short = await s.run('kubectl get cnp -A -o name');
  expect(short.stdout).toContain(`ciliumnetworkpolicy.cilium.io/${CILIUM_OWN_POLICY}`);
  expect(short.stdout).not.toContain('protect-payments');
  const category = await s.run('kubectl get ciliumpolicy -A -o name');
  expect(category.stdout).toContain('clusternetworkpolicy.policy.networking.k8s.io/protect-payments');
  expect(category.stdout).toContain(`ciliumnetworkpolicy.cilium.io/${CILIUM_OWN_POLICY}`);
  // kubectl 1.35 (the control plane's own) says the short name is ambiguous.
  const recent = await s.run(`${harnessKubectl()} get cnp -A -o name`);
  expect(recent.stderr).toContain('short name "cnp" could also match lower priority resource clusternetworkpolicies.policy.networking.k8s.io');
}

async function storedVersions(s: Session): Promise<string[]> {
  const crd = await s.kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CNPS);
  return (crd?.['status'] as { storedVersions?: string[] } | undefined)?.storedVersions ?? [];
}

let snapshotLoaded = new WeakSet<Session>();
async function exampleCluster(s: Session): Promise<void> {
  if (snapshotLoaded.has(s)) return;
  await loadSnapshot(s.kube, join(REPO, 'docs', 'examples', 'cluster.yaml'));
  snapshotLoaded.add(s);
}

// ---------------------------------------------------------------------------------------------
// The classification.

type Hook = (s: Session) => Promise<void>;

interface Base {
  /** The command exactly (after joining lines, without comments), or a pattern. */
  readonly match: string | RegExp;
  readonly file?: string;
  /** Only commands under a heading matching this. */
  readonly section?: RegExp;
}

interface RunRule extends Base {
  readonly kind: 'run';
  readonly backends: readonly Backend[];
  /** What must hold before, as the docs' order implies it (the operator running, an edit made). */
  readonly before?: Hook;
  readonly status?: number;
  readonly expect?: (r: RunResult, s: Session) => void | Promise<void>;
  readonly after?: Hook;
}

interface CheckRule extends Base {
  readonly kind: 'check';
  /** Why it is not run here. */
  readonly why: string;
  /** Beyond `bash -n`. With a session when `inSession` (then run at its place on each backend). */
  readonly check: (text: string, s?: Session) => void | Promise<void>;
  readonly inSession?: boolean;
}

interface CoveredRule extends Base {
  readonly kind: 'covered';
  /** The test that runs it. */
  readonly by: string;
}

type Rule = RunRule | CheckRule | CoveredRule;
const both = ['calico', 'cilium'] as const;

const RULES: readonly Rule[] = [
  // README: the quick start and the offline examples are run by their own tests.
  { kind: 'covered', file: README, match: /^npm (run demo|test)$/, by: 'test/integration/quickstart.test.ts' },
  { kind: 'covered', file: README, match: /^bin\/cnp-operator (validate|explain|translate|convert|diff) /, by: 'test/cli/readme.test.ts' },

  // README: install.
  { kind: 'run', file: README, match: 'kubectl apply --server-side -k config/calico', backends: both, after: async (s) => void (await s.ensureOperator()) },
  { kind: 'run', match: 'kubectl apply -f config/samples/admin-protect-sensitive.yaml', backends: both },
  {
    kind: 'run',
    file: README,
    match: 'kubectl get clusternetworkpolicies',
    backends: both,
    before: (s) => allProgrammed(s, 'Programmed', 'protect-payments'),
    expect: (r) => {
      expect(row(r.stdout, 'protect-payments')).toMatchObject({ TIER: 'Admin', PRIORITY: '10', PROGRAMMED: 'True' });
      // ClusterNetworkPolicies, not Cilium's CiliumNetworkPolicies.
      expect(r.stdout).not.toContain(CILIUM_OWN_POLICY);
    },
    after: async (s) => {
      if (s.backend === 'cilium') await shortNameClash(s);
    },
  },
  // README and guide: the kubectl plugin on the live cluster.
  { kind: 'run', match: 'export PATH="$PWD/bin:$PATH"', backends: both },
  {
    kind: 'run',
    match: 'kubectl cnp explain --from tenant-a/web --to payments/api --port 443',
    backends: both,
    before: exampleCluster,
    expect: (r) => expect(r.stdout.split('\n')[0]).toBe('tenant-a/web -> payments/api TCP/443: DENY'),
  },
  {
    kind: 'run',
    match: 'kubectl cnp explain --namespace tenant-a -o json',
    backends: both,
    before: exampleCluster,
    expect: (r) => expect((JSON.parse(r.stdout) as { namespace: string; name: string }[]).map((x) => `${x.namespace}/${x.name}`)).toEqual(['tenant-a/allow-from-tenant-b']),
  },
  {
    kind: 'check',
    match: 'kubectl cnp explain --context staging --from tenant-a/web --to 10.0.0.1 --port 5432',
    why: 'names a context of the reader\'s own kubeconfig',
    check: (text) => {
      // Everything parses; only the context is missing (exit 66: the cluster cannot be read), not a usage error (2).
      const dir = mkdtempSync(join(tmpdir(), 'cnp-docs-check-'));
      writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
      const r = spawnSync('bash', ['-c', text], { encoding: 'utf8', env: { ...process.env, PATH: `${join(REPO, 'bin')}:${kubectlPath()}`, KUBECONFIG: join(dir, 'kubeconfig') } });
      rmSync(dir, { recursive: true, force: true });
      expect(r.stderr).toMatch(/staging/);
      expect(r.status, r.stderr).toBe(66);
    },
  },

  // Guide 2.1: the image.
  {
    kind: 'check',
    match: /^docker (build|push) /,
    why: 'building and pushing an image needs a container runtime and a registry',
    check: (text) => {
      const ref = /registry\.example\.com\/platform\/cnp-operator:\S+/.exec(text)?.[0];
      const overlay = commands.find((c) => c.text.startsWith('cat > deploy/cnp-operator/kustomization.yaml'))!.text;
      // The image pushed is the one the overlay names.
      expect(ref).toBe(`${/newName: (\S+)/.exec(overlay)![1]}:${/newTag: "(\S+)"/.exec(overlay)![1]}`);
      if (text.startsWith('docker build')) {
        expect(text.endsWith(' .')).toBe(true);
        expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/^ENTRYPOINT \[.*"\/app\/bin\/cnp-operator", "run"\]$/m);
      }
    },
  },
  // Guide 2.2–2.4: install.
  { kind: 'run', match: 'kubectl kustomize config/calico', backends: both, expect: (r) => expect(parseObjects(r.stdout).map((o) => o.kind)).toContain('Deployment') },
  { kind: 'run', match: 'mkdir -p deploy/cnp-operator', backends: both },
  { kind: 'run', match: /^cat > deploy\/cnp-operator\/kustomization\.yaml <<'EOF'\n/, backends: both },
  {
    kind: 'run',
    match: 'kubectl apply --server-side -k deploy/cnp-operator',
    backends: both,
    after: async (s) => {
      const deployment = await s.kube.get('apps/v1', 'Deployment', 'cnp-operator', 'cnp-system');
      const containers = (deployment?.['spec'] as { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } }).template.spec.containers;
      expect(containers[0]?.image).toBe('registry.example.com/platform/cnp-operator:0.1.0');
      expect(containers[0]?.env.find((e) => e.name === 'CNP_OPERATOR_BACKEND')?.value).toBe(s.backend);
      await s.ensureOperator();
    },
  },
  { kind: 'run', match: `kubectl get crd ${CNPS}`, backends: both, expect: (r) => expect(r.stdout).toContain(CNPS) },
  { kind: 'run', match: 'kubectl -n cnp-system get deployment,pods,lease', backends: both, expect: (r) => expect(r.stdout).toMatch(/deployment\.apps\/cnp-operator[\s\S]*lease\.coordination\.k8s\.io\/cnp-operator/) },
  {
    kind: 'check',
    match: 'kubectl -n cnp-system rollout status deployment/cnp-operator --timeout=120s',
    why: 'the local control plane has no kubelet, so no pod ever becomes ready',
    check: (text) => {
      expect(kubectlHelp('rollout', 'status')).toContain('--timeout');
      expect(renderedDeployment()).toBeDefined();
      expect(text).toContain('deployment/cnp-operator');
    },
  },
  { kind: 'run', match: 'kubectl apply -f config/rbac/reader.yaml', backends: both },
  { kind: 'run', match: 'kubectl create clusterrolebinding cnp-reader-USER --clusterrole=cnp-reader --user=USER', backends: both },
  { kind: 'run', match: `kubectl auth can-i list ${CNPS} --as=USER`, backends: both, expect: (r) => expect(r.stdout.trim()).toBe('yes') },

  // Guide 3: kubectl.
  { kind: 'run', match: `kubectl wait --for=condition=Programmed ${CNPS}/protect-payments --timeout=60s`, backends: both },
  {
    kind: 'run',
    match: `kubectl get ${CNPS}`,
    backends: both,
    expect: (r, s) => {
      const shown = row(shownOutput('NAME '), 'protect-payments');
      const got = row(r.stdout, 'protect-payments');
      expect(Object.keys(got)).toEqual(Object.keys(shown));
      // On Cilium this sample is approximated, as the guide says below the table.
      expect(got).toMatchObject({ ...shown, AGE: got['AGE'], EXACT: s.backend === 'calico' ? shown['EXACT'] : 'False' });
      expect(r.stdout).not.toContain(CILIUM_OWN_POLICY);
    },
  },
  {
    kind: 'run',
    match: `kubectl get ${CNPS} -o wide`,
    section: /^3\./,
    backends: both,
    expect: (r) => {
      expect(Object.keys(row(r.stdout, 'protect-payments'))).toEqual(['NAME', 'TIER', 'PRIORITY', 'PROGRAMMED', 'EXACT', 'ACCEPTED', 'REASON', 'SUBJECT', 'AGE']);
      expect(row(r.stdout, 'protect-payments')).toMatchObject({ ACCEPTED: 'True', REASON: 'Programmed' });
    },
  },
  // The category holds one kind (this CRD's), so kubectl prints its table.
  { kind: 'run', match: 'kubectl get network-policy-api', backends: both, expect: (r) => expect(row(r.stdout, 'protect-payments')).toMatchObject({ TIER: 'Admin', PROGRAMMED: 'True' }) },
  { kind: 'run', match: 'kubectl apply -k config/samples', backends: both },
  { kind: 'run', match: `kubectl wait --for=condition=Programmed ${CNPS} --all --timeout=120s`, backends: both },
  {
    kind: 'run',
    match: /^kubectl get clusternetworkpolicies\.policy\.networking\.k8s\.io protect-payments -o jsonpath='\{range \.status\.conditions/,
    backends: both,
    expect: (r, s) => {
      const got = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      const shown = shownOutput('Accepted\t').split('\n').map((l) => l.split('\t'));
      if (s.backend === 'calico') {
        expect(got).toEqual(shown);
      } else {
        expect(got[0]).toEqual(shown[0]);
        expect(got[1]!.slice(0, 4)).toEqual(shown[1]!.slice(0, 4));
        expect(got[1]![4]).toMatch(/^1 Cilium \(cilium\.io\/v2; version 1\.20, .*\) object written and in sync\.$/);
        expect(got[2]!.slice(0, 4)).toEqual(['Exact', 'False', 'Approximated', '1']);
      }
    },
  },
  { kind: 'run', match: `kubectl describe ${CNPS} protect-payments`, backends: both, expect: (r) => expect(r.stdout).toMatch(/Normal\s+Programmed/) },
  { kind: 'run', match: 'kubectl get tiers.projectcalico.org -l app.kubernetes.io/managed-by=cnp-operator', backends: ['calico'], expect: (r) => expect(table(r.stdout).map((x) => x['NAME'])).toEqual(['cnp-admin', 'cnp-baseline']) },
  { kind: 'run', match: 'kubectl get globalnetworkpolicies.projectcalico.org -l policy.cnp-operator.io/name=protect-payments -o yaml', backends: ['calico'], expect: (r) => expect(r.stdout).toContain('name: cnp-admin.protect-payments') },
  { kind: 'run', match: 'kubectl get ciliumclusterwidenetworkpolicies.cilium.io -l policy.cnp-operator.io/name=protect-payments -o yaml', backends: ['cilium'], expect: (r) => expect(r.stdout).toContain('name: cnp-protect-payments') },

  // Guide 4: events.
  { kind: 'run', match: 'kubectl get events -n default --field-selector involvedObject.kind=ClusterNetworkPolicy', backends: both, expect: (r) => expect(r.stdout).toMatch(/Normal\s+Programmed\s+clusternetworkpolicy\/protect-payments\s+generation 1: /) },
  { kind: 'run', match: 'kubectl get events -n default --field-selector involvedObject.kind=ClusterNetworkPolicy,type=Warning', backends: both },
  { kind: 'run', match: `kubectl events -n default --for ${CNPS}/protect-payments`, backends: both, expect: (r) => expect(r.stdout).toMatch(/Normal\s+Programmed\s+ClusterNetworkPolicy\/protect-payments/) },

  // Guide 5: stand-down, and back.
  {
    kind: 'run',
    match: `kubectl get clusterinformations.projectcalico.org default -o jsonpath='{.spec.calicoVersion}{"\\n"}'`,
    backends: ['calico'],
    before: standDown,
    expect: (r) => expect(r.stdout).toBe(`${CALICO_NATIVE_VERSION}\n`),
  },
  {
    kind: 'run',
    match: `kubectl -n kube-system get configmap cilium-config -o jsonpath='{.data.enable-k8s-cluster-network-policy}{"\\n"}'`,
    backends: ['cilium'],
    before: standDown,
    expect: (r) => expect(r.stdout).toBe('true\n'),
  },
  {
    kind: 'run',
    match: `kubectl get ${CNPS} -o wide`,
    section: /^5\./,
    backends: both,
    expect: async (r, s) => {
      const rows = table(r.stdout);
      expect(rows.length).toBe((await cnpsNow(s)).length);
      for (const x of rows) expect(x, x['NAME']).toMatchObject({ PROGRAMMED: 'True', REASON: 'NativeEnforcement' });
      // The native audit: an Accept to a nodes peer (Calico drops it; Cilium rejects the CNP without node selector labels).
      expect(row(r.stdout, 'tenant-egress-via-proxy')['EXACT']).toBe('False');
      expect((await cnpsNow(s)).map((c) => condition(c, 'Exact')?.reason).filter((x) => x === 'NativeDeviation').length).toBeGreaterThan(0);
    },
    after: async (s) => {
      // Standing down: nothing of the operator's is left, and no suggested alert fires.
      await waitFor(async () => (await generated(s)).length === 0, { message: 'the generated objects to be removed' });
      const op = await s.ensureOperator();
      const alerts = guideAlerts();
      const unknown = alerts.filter((a) => ALERTS[a] === undefined);
      expect(unknown, 'alerts of the guide this test cannot judge').toEqual([]);
      const firing = await waitFor(
        async () => {
          const m = await op.metrics();
          expect(sum(m, 'cnp_managed_objects')).toBe(0);
          const now = alerts.filter((a) => ALERTS[a]!(m));
          if (now.length > 0) throw new Error(`firing: ${now.join(', ')}`);
          return 'none';
        },
        { timeout: 30_000, message: 'the suggested alerts to be quiet while the operator stands down' },
      );
      expect(firing).toBe('none');
      await standUp(s);
    },
  },

  // Guide 6: drift.
  {
    kind: 'run',
    match: 'kubectl get events -n default --field-selector reason=DriftCorrected',
    backends: both,
    before: makeDrift,
    expect: (r, s) => {
      expect(r.stdout).toMatch(/Warning\s+DriftCorrected\s+clusternetworkpolicy\/protect-payments\s+/);
      if (s.backend === 'calico') expect(r.stdout).toMatch(/Warning\s+DriftCorrected\s+tier\/cnp-admin\s+Tier cnp-admin was changed by someone else \(spec\.order\); restored/);
    },
    after: async (s) => {
      const m = await s.operator!.metrics();
      const kinds = s.backend === 'calico' ? ['GlobalNetworkPolicy', 'Tier'] : ['CiliumClusterwideNetworkPolicy'];
      for (const kind of kinds) expect(sum(m, 'cnp_drift_corrections_total', (l) => l['kind'] === kind), kind).toBeGreaterThanOrEqual(1);
    },
  },

  // Guide 8: operations.
  {
    kind: 'run',
    match: `kubectl -n cnp-system get lease cnp-operator -o jsonpath='{.spec.holderIdentity}{"\\n"}'`,
    backends: both,
    before: async (s) => void (await s.ensureOperator()),
    expect: (r) => expect(r.stdout.trim()).not.toBe(''),
    after: async (s) => {
      // Every metric of the guide's table is exported.
      const text = (await s.operator!.fetch('/metrics')).body;
      const names = guideMetrics();
      expect(names.length).toBeGreaterThan(15);
      for (const name of names) {
        const help = name.endsWith('*') ? new RegExp(`^# HELP ${name.slice(0, -1)}`, 'm') : new RegExp(`^# HELP ${name} `, 'm');
        expect(text, name).toMatch(help);
      }
    },
  },
  {
    kind: 'run',
    match: `kubectl get ${CNPS} --no-headers | awk '$4 != "True" || $5 != "True"'`,
    backends: both,
    expect: (r, s) => {
      const listed = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split(/\s+/)[0]);
      if (s.backend === 'cilium') expect(listed).toContain('protect-payments');
      else expect(listed).not.toContain('protect-payments');
    },
  },

  // Guide 10: command line.
  { kind: 'run', file: GUIDE, match: 'bin/cnp-operator validate -f config/samples/', backends: both },
  {
    kind: 'run',
    file: GUIDE,
    match: 'bin/cnp-operator explain -f docs/examples/cluster.yaml -f config/samples/ --from tenant-a/web --to payments/api --port 443 --protocol TCP',
    backends: both,
    expect: (r) => expect(r.stdout.split('\n')[0]).toBe('tenant-a/web -> payments/api TCP/443: DENY'),
  },
  { kind: 'run', match: 'bin/cnp-operator translate --backend calico -f config/samples/admin-protect-sensitive.yaml', backends: both, expect: (r) => expect(r.stdout).toContain('name: cnp-admin.protect-payments') },
  {
    kind: 'run',
    file: GUIDE,
    match: 'bin/cnp-operator diff -f docs/examples/protect-payments-change.yaml --cluster docs/examples/cluster.yaml --cluster config/samples/',
    backends: both,
    status: 1,
    expect: (r) => expect(r.stdout).toMatch(/^\+ tenant-a\/web can now reach payments\/api on 443\/TCP/m),
  },
  { kind: 'run', file: GUIDE, match: 'bin/cnp-operator convert -f docs/examples/old-anp.yaml', backends: both, expect: (r) => expect(r.stdout).toContain('kind: ClusterNetworkPolicy') },
  {
    kind: 'run',
    match: 'bin/cnp-operator version',
    backends: both,
    expect: (r) => expect(r.stdout.trim()).toBe(`cnp-operator ${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`),
  },
  { kind: 'run', match: 'kubectl -n kube-system get configmap cilium-config -o yaml > cilium-config.yaml', backends: ['cilium'] },
  {
    kind: 'run',
    match: 'bin/cnp-operator translate --backend cilium --cilium-config cilium-config.yaml -f config/samples/ -f docs/examples/cluster.yaml',
    backends: ['cilium'],
    expect: (r) => {
      expect(r.stdout).toContain('kind: CiliumClusterwideNetworkPolicy');
      expect(r.stderr).toMatch(/^finding: /m);
    },
  },
  {
    kind: 'run',
    match: 'kubectl cnp explain --namespace tenant-a',
    backends: both,
    before: exampleCluster,
    expect: (r) => expect(r.stdout.split('\n')[0]).toBe('NetworkPolicy tenant-a/allow-from-tenant-b'),
  },
  {
    kind: 'run',
    match: 'kubectl cnp diff -f docs/examples/protect-payments-change.yaml',
    backends: both,
    before: exampleCluster,
    status: 1,
    // The live cluster holds the same objects as the files of the offline example: the same answer.
    expect: (r) => expect(r.stdout.split('\n').filter((l) => /^[-+] /.test(l))).toEqual([
      '+ tenant-a/web can now reach payments/api on 443/TCP, decided by protect-payments ingress[1] "allow-tenant-a-web" (Admin Accept) (before: protect-payments ingress[1] "deny-everything-else" (Admin Deny))',
    ]),
  },

  // Guide 12: upgrade and downgrade.
  { kind: 'run', match: 'kubectl wait --for=condition=Established crd/clusternetworkpolicies.policy.networking.k8s.io', backends: both },
  { kind: 'run', match: 'bin/cnp-operator migrate-storage --dry-run', backends: both, expect: (r) => expect(r.stdout).toMatch(/^storage version v1beta1; /) },
  {
    kind: 'run',
    match: 'bin/cnp-operator migrate-storage',
    section: /^12\./,
    backends: both,
    expect: async (r, s) => {
      if ((await storedVersions(s)).includes('v1alpha2')) {
        expect(r.stdout).toContain('set status.storedVersions to ["v1alpha2"]');
        expect(await storedVersions(s)).toEqual(['v1alpha2']);
      } else {
        expect(r.stdout).toMatch(/rewrote \d+ ClusterNetworkPolicies in v1beta1/);
        expect(await storedVersions(s)).toEqual(['v1beta1']);
      }
    },
  },
  { kind: 'run', match: `kubectl get crd ${CNPS} -o jsonpath='{.status.storedVersions}{"\\n"}'`, backends: both, expect: (r) => expect(r.stdout.trim()).toBe(shownOutput('["v1beta1"]').trim()) },
  { kind: 'run', match: 'kubectl -n cnp-system scale deployment/cnp-operator --replicas=0', backends: both, after: (s) => s.stopOperator() },
  { kind: 'run', match: /^kubectl patch crd clusternetworkpolicies\.policy\.networking\.k8s\.io --type=json /, backends: both },
  {
    kind: 'run',
    match: 'kubectl apply --server-side --force-conflicts -f OLD_CRD',
    backends: both,
    after: async (s) => {
      expect(await storedVersions(s)).toEqual(['v1alpha2']);
      const crd = await s.kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CNPS);
      expect((crd?.metadata['annotations'] as Record<string, string>)['policy.networking.k8s.io/bundle-version']).toBe('v0.2.0');
      // Every CNP reads in the old storage version (once the new storage answers).
      const count = (await cnpsNow(s)).length;
      await waitFor(async () => (await s.kube.list('policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy')).length === count, { message: 'the CNPs to read as v1alpha2' });
    },
  },

  // Guide 11: troubleshooting.
  { kind: 'run', match: `kubectl get ${CNPS} -o wide`, section: /^11\./, backends: both, expect: (r) => expect(row(r.stdout, 'protect-payments')).toMatchObject({ ACCEPTED: 'True', PROGRAMMED: 'True', REASON: 'Programmed' }) },
  { kind: 'run', match: `kubectl describe ${CNPS} NAME`, backends: both, expect: (r) => expect(r.stdout).toMatch(/^Name:\s+protect-payments$/m) },
  { kind: 'run', match: 'kubectl get events -n default --field-selector type=Warning', backends: both, expect: (r) => expect(r.stdout).toContain('DriftCorrected') },
  { kind: 'run', match: 'kubectl -n cnp-system get pods,lease', backends: both, expect: (r) => expect(r.stdout).toContain('lease.coordination.k8s.io/cnp-operator') },
  {
    kind: 'check',
    match: 'kubectl -n cnp-system logs POD',
    why: 'no kubelet: the Deployment has no pods here (the test reads the operator\'s log itself)',
    check: () => {
      expect(kubectlHelp('logs')).toContain('--container');
      expect(renderedDeployment()?.metadata.namespace).toBe('cnp-system');
    },
  },
  {
    kind: 'run',
    match: 'kubectl auth can-i --list --as=system:serviceaccount:cnp-system:cnp-operator',
    backends: both,
    expect: (r, s) => {
      expect(r.stdout).toMatch(/^clusternetworkpolicies\.policy\.networking\.k8s\.io\s+\[\]\s+\[\]\s+\[list watch\]$/m);
      expect(r.stdout).toContain(s.backend === 'calico' ? 'globalnetworkpolicies.projectcalico.org' : 'ciliumclusterwidenetworkpolicies.cilium.io');
    },
  },
  { kind: 'run', match: 'kubectl api-resources --api-group=projectcalico.org', backends: ['calico'], expect: (r) => expect(r.stdout).toMatch(/^tiers\s/m) },
  { kind: 'run', match: 'kubectl api-resources --api-group=crd.projectcalico.org', backends: ['calico'], expect: (r) => expect(r.stdout).toMatch(/^tiers\s/m) },
  { kind: 'run', match: 'kubectl api-resources --api-group=cilium.io', backends: ['cilium'], expect: (r) => expect(r.stdout).toMatch(/^ciliumclusterwidenetworkpolicies\s+ccnp\s/m) },
  { kind: 'run', match: 'kubectl get clusterinformations.projectcalico.org default -o yaml', backends: ['calico'], expect: (r) => expect(r.stdout).toContain(`calicoVersion: ${CALICO_VERSION}`) },
  {
    kind: 'run',
    match: 'kubectl get globalnetworkpolicies.projectcalico.org -o custom-columns=OBJECT:.metadata.name,MANAGERS:.metadata.managedFields[*].manager',
    backends: ['calico'],
    expect: (r) => expect(row(r.stdout, 'cnp-admin.protect-payments', 'OBJECT')['MANAGERS']).toContain('cnp-operator'),
  },
  {
    kind: 'check',
    match: 'kubectl -n cnp-system port-forward deployment/cnp-operator 8081 8080',
    why: 'no kubelet: there is no pod to forward to',
    check: () => {
      expect(kubectlHelp('port-forward')).toContain('deployment/mydeployment');
      const ports = (renderedDeployment()!['spec'] as { template: { spec: { containers: { ports: { containerPort: number }[] }[] } } }).template.spec.containers[0]!.ports.map((p) => p.containerPort);
      expect(ports.sort()).toEqual([8080, 8081]);
    },
  },
  {
    kind: 'check',
    match: /^curl -s /,
    why: 'asks the port-forward above; checked against the test\'s operator on its own port instead',
    inSession: true,
    check: async (text, s) => {
      const op = await s!.ensureOperator();
      const r = await s!.run(text.replace(/localhost:808[01]/, `127.0.0.1:${op.port}`));
      expect(r.status, r.stderr).toBe(0);
      if (text.includes('readyz')) expect(r.stdout).toMatch(/\[\+\]caches ok\nok\n$/);
      else expect(r.stdout).toMatch(/^cnp_conditions\{type="Programmed",status="True",reason="Programmed"\} \d+$/m);
    },
  },

  // Guide 13: uninstall.
  {
    kind: 'run',
    match: 'kubectl delete -k deploy/cnp-operator -l app.kubernetes.io/name=cnp-operator',
    backends: both,
    after: async (s) => {
      await waitFor(async () => (await s.kube.get('v1', 'Namespace', 'cnp-system')) === undefined, { timeout: 120_000, message: 'cnp-system to go' });
      expect(await s.kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CNPS)).toBeDefined();
      expect((await cnpsNow(s)).length).toBeGreaterThan(0);
      expect(await generated(s)).toContain(s.backend === 'calico' ? 'GlobalNetworkPolicy/cnp-admin.protect-payments' : 'CiliumClusterwideNetworkPolicy/cnp-protect-payments');
    },
  },
  {
    kind: 'run',
    match: `kubectl delete ${CNPS} --all`,
    backends: both,
    after: async (s) => {
      // Garbage collection deletes what the CNPs owned (the operator is gone); the Tiers, owned by none, stay.
      const left = await waitFor(
        async () => {
          const now = await generated(s);
          return now.every((x) => x.startsWith('Tier/')) ? now : false;
        },
        { timeout: 180_000, message: 'the generated objects to be garbage-collected' },
      );
      expect(left).toEqual(s.backend === 'calico' ? ['Tier/cnp-admin', 'Tier/cnp-baseline'] : []);
    },
  },
  {
    kind: 'run',
    match: 'kubectl delete -k deploy/cnp-operator --ignore-not-found',
    backends: both,
    after: async (s) => expect(await s.kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CNPS)).toBeUndefined(),
  },
  { kind: 'run', match: 'kubectl delete tiers.projectcalico.org -l app.kubernetes.io/managed-by=cnp-operator', backends: ['calico'], after: async (s) => expect(await generated(s)).toEqual([]) },
];

// ---------------------------------------------------------------------------------------------

function kubectlPath(): string {
  const onPath = spawnSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  return onPath.status === 0 ? process.env['PATH'] ?? '' : `${join(harnessKubectl(), '..')}:${process.env['PATH'] ?? ''}`;
}

function kubectlHelp(...args: string[]): string {
  return execFileSync('bash', ['-c', `kubectl ${args.join(' ')} --help`], { encoding: 'utf8', env: { ...process.env, PATH: kubectlPath() } });
}

function renderedDeployment(): KubeObject | undefined {
  const out = execFileSync('bash', ['-c', 'kubectl kustomize config/calico'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH: kubectlPath() }, maxBuffer: 16 << 20 });
  return parseObjects(out).find((o) => o.kind === 'Deployment' && o.metadata.name === 'cnp-operator');
}

function matches(rule: Rule, c: DocCommand): boolean {
  if (rule.file !== undefined && rule.file !== c.file) return false;
  if (rule.section !== undefined && !rule.section.test(c.section)) return false;
  return typeof rule.match === 'string' ? rule.match === c.text : rule.match.test(c.text);
}

const classified = commands.map((c) => ({ command: c, rule: RULES.find((r) => matches(r, c)) }));
const where = (c: DocCommand) => `${c.file}:${c.line}`;
const runsOn = (backend: Backend) => classified.filter(({ rule }) => rule?.kind === 'run' && rule.backends.includes(backend));

describe('every command of the admin guide and the README is classified', () => {
  it('no command is left without a rule', () => {
    expect(classified.filter((x) => x.rule === undefined).map((x) => `${where(x.command)} ${x.command.text}`)).toEqual([]);
  });

  it('no rule is left without a command', () => {
    expect(RULES.filter((r) => !commands.some((c) => matches(r, c))).map((r) => String(r.match))).toEqual([]);
  });

  it('the guide names ClusterNetworkPolicies unambiguously in every kubectl command', () => {
    const bad = commands
      .filter((c) => c.file === GUIDE && /^kubectl\s/.test(c.text) && !/^kubectl cnp\s/.test(c.text))
      .filter((c) => c.text.split(/\s+/).some((word) => word.split(/[,/=]/).some((part) => part === 'cnp' || /^clusternetworkpolic(y|ies)$/.test(part))));
    expect(bad.map((c) => `${where(c)} ${c.text}`)).toEqual([]);
  });

  it('counts', () => {
    const counts = {
      'run on Calico': runsOn('calico').length,
      'run on Cilium': runsOn('cilium').length,
      checked: classified.filter((x) => x.rule?.kind === 'check').length,
      'covered elsewhere': classified.filter((x) => x.rule?.kind === 'covered').length,
      commands: commands.length,
    };
    process.stderr.write(`[docs-commands] ${JSON.stringify(counts)}\n`);
    expect(counts['run on Calico']).toBeGreaterThan(50);
    expect(counts['run on Cilium']).toBeGreaterThan(50);
  });
});

describe('commands that cannot run here are checked', () => {
  const checks = classified.filter((x): x is { command: DocCommand; rule: CheckRule } => x.rule?.kind === 'check' && !x.rule.inSession);
  it.each(checks.map((x) => [`${where(x.command)} ${x.command.text}`, x] as const))('%s', async (_name, { command, rule }) => {
    const text = substitute(command.text);
    const syntax = spawnSync('bash', ['-n', '-c', text], { encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
    await rule.check(text);
  });
});

for (const backend of both) {
  describe(`the commands, in order, on a ${backend === 'calico' ? `Calico ${CALICO_VERSION}` : 'Cilium 1.20'} cluster`, () => {
    let session: Session;

    beforeAll(async () => {
      snapshotLoaded = new WeakSet();
      session = await Session.start(backend, harnessKubectl());
    }, 180_000);

    afterAll(async () => {
      await session?.stop();
    });

    const steps = classified.filter(({ rule }) => (rule?.kind === 'run' && rule.backends.includes(backend)) || (rule?.kind === 'check' && rule.inSession === true));
    it.each(steps.map((x) => [`${where(x.command)} ${x.command.text.split('\n')[0]}`, x] as const))('%s', async (_name, { command, rule }) => {
      const text = substitute(command.text, backend);
      if (rule!.kind === 'check') {
        expect(spawnSync('bash', ['-n', '-c', text]).status).toBe(0);
        await rule!.check(text, session);
        return;
      }
      const r = rule as RunRule;
      await r.before?.(session);
      const result = await session.run(text);
      expect(result.status, `${text}\n${result.stdout}\n${result.stderr}`).toBe(r.status ?? 0);
      await r.expect?.(result, session);
      await r.after?.(session);
    }, 300_000);

    it('the operator logged what the guide\'s section 8 says it logs', () => {
      const messages = new Set(session.operatorLogs.filter((l) => l['level'] === 'info').map((l) => String(l['msg'])));
      for (const msg of ['ClusterNetworkPolicy CRD', 'backend detected', 'became leader', 'started', 'created', 'updated', 'deleted', 'drift corrected', 'condition']) expect([...messages], msg).toContain(msg);
      const updates = session.operatorLogs.filter((l) => l['msg'] === 'updated').map((l) => l['why']);
      expect(updates).toContain('changed by someone else');
      expect(existsSync(join(session.dir, 'deploy', 'cnp-operator', 'kustomization.yaml'))).toBe(true);
    });
  });
}
