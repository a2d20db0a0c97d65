import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createKubePort, type KubeConnection, loadKubeConfig } from '../../src/kube/index.js';
import { ApiError, type Kube, kube, kubeconfig, kubectl, type KubeObject, parseObjects, uniqueName, waitFor } from '../harness/index.js';
import { applyOverlay, clientFor, CONFIG, NAMESPACE, removeOverlay, render, SERVICE_ACCOUNT, serviceAccountKubeconfig } from './install.js';
import { type RunningOperator, setCalicoVersion, startOperator, waitForCondition } from './operator.js';

const run = promisify(execFile);
const CNP = 'policy.networking.k8s.io/v1beta1';
const CALICO = 'projectcalico.org/v3';
const OVERLAYS = ['default', 'calico', 'cilium', 'crd', 'rbac', 'manager', 'samples'] as const;
const INSTALLS = ['default', 'calico', 'cilium'] as const;

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}

interface PodSpec {
  serviceAccountName?: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
}

const deploymentOf = (objects: KubeObject[]): KubeObject & { spec: { replicas: number; template: { spec: PodSpec } } } =>
  objects.find((o) => o.kind === 'Deployment') as KubeObject & { spec: { replicas: number; template: { spec: PodSpec } } };

const rulesOf = (objects: KubeObject[]): Rule[] => objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => (o['rules'] as Rule[] | undefined) ?? []);

const envOf = (objects: KubeObject[], name: string): string | undefined => deploymentOf(objects).spec.template.spec.containers[0]?.env?.find((e) => e.name === name)?.value;

/** The CNPs in config/samples/*.yaml, whether or not its kustomization lists them. */
function sampleFiles(): KubeObject[] {
  const dir = join(CONFIG, 'samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseObjects(readFileSync(join(dir, f), 'utf8')));
}

describe('config/ renders with kubectl kustomize', () => {
  it.each(OVERLAYS)('config/%s', async (dir) => {
    const objects = await render(dir);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(o.metadata.name).toMatch(/\S/);
  });

  it('config/crd is the CRD this project ships', async () => {
    expect((await render('crd')).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['CustomResourceDefinition/clusternetworkpolicies.policy.networking.k8s.io']);
  });

  it('config/samples lists every sample CNP', async () => {
    const names = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names(await render('samples'))).toEqual(names(sampleFiles()));
  });

  it('the backend overlays select their backend and carry only its permissions', async () => {
    const groups = async (dir: string) => new Set(rulesOf(await render(dir)).flatMap((r) => r.apiGroups ?? []));
    const objects = { default: await render('default'), calico: await render('calico'), cilium: await render('cilium') };
    expect(envOf(objects.default, 'CNP_OPERATOR_BACKEND')).toBe('auto');
    expect(envOf(objects.calico, 'CNP_OPERATOR_BACKEND')).toBe('calico');
    expect(envOf(objects.cilium, 'CNP_OPERATOR_BACKEND')).toBe('cilium');
    expect([...(await groups('default'))]).toEqual(expect.arrayContaining(['projectcalico.org', 'crd.projectcalico.org', 'cilium.io']));
    expect(await groups('calico')).not.toContain('cilium.io');
    expect(await groups('cilium')).not.toContain('projectcalico.org');
    expect(await groups('cilium')).not.toContain('crd.projectcalico.org');
  });

  it.each(INSTALLS)('config/%s grants no wildcards, no Secrets and nothing beyond read and write of its own kinds', async (dir) => {
    const objects = await render(dir);
    const rules = rulesOf(objects);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      for (const field of [rule.apiGroups ?? [], rule.resources ?? [], rule.verbs, rule.resourceNames ?? []]) expect(field).not.toContain('*');
      expect(rule.resources).not.toContain('secrets');
      for (const verb of rule.verbs) expect(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']).toContain(verb);
    }
    for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }]);
    }
  });

  it.each(INSTALLS)('config/%s labels everything but the CRD app.kubernetes.io/name=cnp-operator (so it can be removed without the CRD)', async (dir) => {
    for (const o of await render(dir)) {
      const label = (o.metadata['labels'] as Record<string, string> | undefined)?.['app.kubernetes.io/name'];
      expect(`${o.kind}/${o.metadata.name}: ${String(label)}`).toBe(`${o.kind}/${o.metadata.name}: ${o.kind === 'CustomResourceDefinition' ? 'undefined' : 'cnp-operator'}`);
    }
  });

  it.each(INSTALLS)('config/%s puts everything in cnp-system but the Roles for Events (default) and Cilium\'s config (kube-system)', async (dir) => {
    const elsewhere: Record<string, string> = { 'cnp-operator-events': 'default', 'cnp-operator-cilium-config': 'kube-system' };
    for (const o of await render(dir)) {
      if (['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
      expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} in ${elsewhere[o.metadata.name] ?? NAMESPACE}`);
    }
  });

  it('the Deployment runs two hardened replicas with probes, metrics and resources', async () => {
    const deployment = deploymentOf(await render('default'));
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(SERVICE_ACCOUNT);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const port = (name: string | number) => (typeof name === 'number' ? name : container.ports?.find((p) => p.name === name)?.containerPort);
    expect([container.livenessProbe?.httpGet.path, port(container.livenessProbe!.httpGet.port)]).toEqual(['/healthz', 8081]);
    expect([container.readinessProbe?.httpGet.path, port(container.readinessProbe!.httpGet.port)]).toEqual(['/readyz', 8081]);
    expect(port('metrics')).toBe(8080);
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(container.env?.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    // Leader election stays on (the default): two replicas must not both write.
    expect(JSON.stringify(container)).not.toMatch(/leader-elect=false|CNP_OPERATOR_LEADER_ELECT/);
  });
});

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The status of a request made with the ServiceAccount's identity (0 when it succeeded). */
async function statusOf(client: Kube, method: string, path: string, body?: unknown, contentType?: string): Promise<number> {
  try {
    await client.request(method, path, body, contentType);
    return 0;
  } catch (err) {
    if (err instanceof ApiError) return err.status;
    throw err;
  }
}

interface Access {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

describe('installed with kubectl apply --server-side -k config/default', () => {
  let applied: { stdout: string; stderr: string };
  let saKubeconfig: string;
  let sa: Kube;
  const cnps: string[] = [];

  beforeAll(async () => {
    await setCalicoVersion('v3.30.2');
    applied = await applyOverlay('default');
    saKubeconfig = await serviceAccountKubeconfig();
    sa = clientFor(saKubeconfig);
  });

  afterAll(async () => {
    sa?.close();
    for (const name of cnps) await kube().delete(CNP, 'ClusterNetworkPolicy', name);
    await removeOverlay('default');
  });

  it('creates every object, and the pod template passes Pod Security "restricted"', async () => {
    expect(applied.stdout).toMatch(/deployment\.apps\/cnp-operator serverside-applied/);
    expect(applied.stderr).not.toMatch(/PodSecurity/);
    for (const o of await render('default')) {
      expect(await kube().get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace), `${o.kind} ${o.metadata.name}`).toBeDefined();
    }
    const deployment = await kube().get('apps/v1', 'Deployment', 'cnp-operator', NAMESPACE);
    expect((deployment?.['spec'] as { replicas: number }).replicas).toBe(2);
    // No kubelet runs here, so no pod ever starts; a server-side dry run of one shows that the
    // namespace's enforced Pod Security level admits it.
    const template = (deployment?.['spec'] as { template: { metadata: Record<string, unknown>; spec: unknown } }).template;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name: 'cnp-operator-dry-run', namespace: NAMESPACE }, spec: template.spec };
    await expect(kube().request('POST', `/api/v1/namespaces/${NAMESPACE}/pods?dryRun=All`, pod)).resolves.toBeDefined();
  });

  describe('the operator with the ServiceAccount\'s identity', () => {
    let op: RunningOperator;
    let port: KubeConnection;
    const identity = uniqueName('deploy-test');

    beforeAll(async () => {
      port = createKubePort(loadKubeConfig({ kubeconfig: saKubeconfig }));
      // As config/default runs it: backend auto, leader election in its own namespace.
      op = await startOperator({ port, detect: { backend: 'auto', force: false }, leaderElection: { namespace: NAMESPACE, identity }, healthPort: 0, metricsPort: 0 });
    });

    afterAll(async () => {
      await op?.stop();
      port?.close();
    });

    it('reconciles CNPs into Calico objects, with status, its Lease, metrics, drift correction and Events', async () => {
      await waitFor(() => op.manager.isLeader(), { timeout: 60_000, message: 'leadership' });
      const lease = await kube().get('coordination.k8s.io/v1', 'Lease', 'cnp-operator', NAMESPACE);
      expect((lease?.['spec'] as { holderIdentity: string }).holderIdentity).toBe(identity);

      // A sample as an admin would apply it, under a name of its own; its nodes peer selects
      // control-plane nodes, so there is one (a node set is written only for nodes that exist).
      const node = uniqueName('control-plane');
      await kube().apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'node-role.kubernetes.io/control-plane': '' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.77' }] } });
      onTestFinished(async () => void (await kube().delete('v1', 'Node', node)));
      const sample = sampleFiles().find((o) => o.metadata.name === 'tenant-egress-via-proxy')!;
      const name = uniqueName('tenant-egress');
      cnps.push(name);
      const created = await kube().create<KubeObject>({ ...sample, metadata: { name } });
      const conditions = await waitForCondition(name, 'Programmed', (c) => c.status === 'True', 60_000);
      expect(Object.fromEntries(conditions.map((c) => [c.type, [c.status, c.reason, c.observedGeneration]]))).toEqual({
        Accepted: ['True', 'Accepted', 1],
        Programmed: ['True', 'Programmed', 1],
        Exact: ['True', 'Exact', 1],
      });
      const gnp = await kube().get(CALICO, 'GlobalNetworkPolicy', `cnp-admin.${name}`);
      expect(gnp?.metadata['ownerReferences']).toEqual([{ apiVersion: CNP, kind: 'ClusterNetworkPolicy', name, uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      const sets = (await kube().list(CALICO, 'GlobalNetworkSet')).filter((s) => (s.metadata['labels'] as Record<string, string>)['policy.cnp-operator.io/name'] === name);
      expect(sets).toHaveLength(1);
      expect(await kube().get(CALICO, 'Tier', 'cnp-admin')).toBeDefined();

      const table = (await run(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'clusternetworkpolicies', name], { encoding: 'utf8' })).stdout;
      expect(table).toMatch(/^NAME\s+TIER\s+PRIORITY\s+PROGRAMMED\s+EXACT\s+AGE\n/);
      expect(table).toMatch(new RegExp(`^${name}\\s+Admin\\s+40\\s+True\\s+True\\s+\\d+s\\n`, 'm'));

      const [health, metrics = health] = op.manager.ports();
      expect(await httpGet(health!, '/readyz')).toEqual({ status: 200, body: 'ok\n' });
      const exposed = (await httpGet(metrics!, '/metrics')).body;
      expect(exposed).toMatch(/^leader_election_master_status\{name="cnp-operator"\} 1$/m);
      expect(Number(/^cnp_managed_objects (\d+)$/m.exec(exposed)?.[1])).toBeGreaterThan(0);

      // Drift: the generated policy, deleted by hand, comes back.
      const drifts = op.manager.driftCorrections;
      await kube().delete(CALICO, 'GlobalNetworkPolicy', `cnp-admin.${name}`);
      await waitFor(async () => {
        const now = await kube().get(CALICO, 'GlobalNetworkPolicy', `cnp-admin.${name}`);
        return now !== undefined && now.metadata.uid !== gnp?.metadata.uid;
      }, { message: 'the deleted GNP to be restored' });
      await waitFor(() => op.manager.driftCorrections > drifts, { message: 'the drift to be counted' });
      // ...and says so in an Event about the CNP (cluster-scoped objects' Events go to `default`).
      const event = await waitFor(
        async () =>
          (await kube().list('v1', 'Event', 'default')).find((e) => {
            const about = e['involvedObject'] as { uid?: string };
            return about.uid === created.metadata.uid && e['reason'] === 'DriftCorrected';
          }),
        { message: 'the DriftCorrected event' },
      );
      expect(event).toMatchObject({ type: 'Warning', source: { component: 'cnp-operator' } });

      // An update is written through; a deletion removes what was generated.
      await kube().apply({ ...sample, metadata: { name }, spec: { ...(sample['spec'] as object), priority: 41 } });
      await waitForCondition(name, 'Programmed', (c) => c.status === 'True' && c.observedGeneration === 2, 60_000);
      await waitFor(async () => ((await kube().get(CALICO, 'GlobalNetworkPolicy', `cnp-admin.${name}`))?.['spec'] as { order?: number } | undefined)?.order === 41);
      await kube().delete(CNP, 'ClusterNetworkPolicy', name);
      await waitFor(async () => (await kube().get(CALICO, 'GlobalNetworkPolicy', `cnp-admin.${name}`)) === undefined, { message: 'the GNP to go' });
      await waitFor(async () => !(await kube().list(CALICO, 'GlobalNetworkSet')).some((s) => s.metadata.name.startsWith(`${name}-`)), { message: 'the network set to go' });
    });

    it('releases its Lease when it stops', async () => {
      await op.stop();
      const lease = await kube().get('coordination.k8s.io/v1', 'Lease', 'cnp-operator', NAMESPACE);
      expect((lease?.['spec'] as { holderIdentity?: string }).holderIdentity ?? '').toBe('');
    });
  });

  describe('the ServiceAccount\'s identity', () => {
    const can = async (a: Access): Promise<boolean> => {
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: a.verb, group: a.group ?? '', resource: a.resource, subresource: a.subresource ?? '', namespace: a.namespace ?? '', name: a.name ?? '' } },
      };
      const answer = await sa.request<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review);
      return answer.status.allowed;
    };
    const describeAccess = (a: Access) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`;

    it('is the ServiceAccount', async () => {
      const review = await sa.request<{ status: { userInfo: { username: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
      expect(review.status.userInfo.username).toBe(`system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`);
    });

    const granted: Access[] = [
      { verb: 'watch', group: 'policy.networking.k8s.io', resource: 'clusternetworkpolicies' },
      { verb: 'patch', group: 'policy.networking.k8s.io', resource: 'clusternetworkpolicies', subresource: 'status', name: 'any' },
      { verb: 'update', group: 'policy.networking.k8s.io', resource: 'clusternetworkpolicies', subresource: 'finalizers', name: 'any' },
      { verb: 'list', resource: 'nodes' },
      { verb: 'update', group: 'projectcalico.org', resource: 'tiers', name: 'cnp-admin' },
      { verb: 'get', group: 'projectcalico.org', resource: 'globalnetworkpolicies', name: 'any' },
      { verb: 'update', group: 'crd.projectcalico.org', resource: 'globalnetworkpolicies', name: 'any' },
      { verb: 'get', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', name: 'clusternetworkpolicies.policy.networking.k8s.io' },
      { verb: 'create', group: 'crd.projectcalico.org', resource: 'tiers', name: 'cnp-baseline' },
      { verb: 'patch', group: 'projectcalico.org', resource: 'globalnetworkpolicies', name: 'any' },
      { verb: 'delete', group: 'crd.projectcalico.org', resource: 'globalnetworksets', name: 'any' },
      { verb: 'get', group: 'projectcalico.org', resource: 'clusterinformations', name: 'default' },
      { verb: 'update', group: 'cilium.io', resource: 'ciliumclusterwidenetworkpolicies', name: 'any' },
      { verb: 'watch', group: 'networking.k8s.io', resource: 'networkpolicies' },
      { verb: 'list', resource: 'pods' },
      { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'cilium-config' },
      { verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'cilium' },
      { verb: 'create', resource: 'events', namespace: 'default' },
      { verb: 'update', resource: 'events', namespace: 'default', name: 'any' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: NAMESPACE },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: NAMESPACE, name: 'cnp-operator' },
    ];
    it.each(granted.map((a) => ({ access: a, title: describeAccess(a) })))('may $title', async ({ access }) => {
      expect(await can(access)).toBe(true);
    });

    const refused: Access[] = [
      { verb: 'get', resource: 'secrets', namespace: NAMESPACE, name: 'any' },
      { verb: 'list', resource: 'secrets' },
      { verb: 'update', group: 'policy.networking.k8s.io', resource: 'clusternetworkpolicies', name: 'any' },
      { verb: 'delete', group: 'policy.networking.k8s.io', resource: 'clusternetworkpolicies', name: 'any' },
      { verb: 'update', group: 'projectcalico.org', resource: 'tiers', name: 'default' },
      { verb: 'create', group: 'projectcalico.org', resource: 'tiers', name: 'security' },
      { verb: 'get', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', name: 'ciliumnetworkpolicies.cilium.io' },
      { verb: 'delete', group: 'projectcalico.org', resource: 'tiers', name: 'security' },
      { verb: 'update', group: 'projectcalico.org', resource: 'clusterinformations', name: 'default' },
      { verb: 'create', group: 'networking.k8s.io', resource: 'networkpolicies', namespace: 'default' },
      { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kubeadm-config' },
      { verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'kube-proxy' },
      { verb: 'create', resource: 'configmaps', namespace: NAMESPACE },
      { verb: 'delete', resource: 'nodes', name: 'any' },
      { verb: 'create', resource: 'pods', namespace: NAMESPACE },
      { verb: 'create', resource: 'events', namespace: 'kube-system' },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system', name: 'kube-controller-manager' },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: NAMESPACE, name: 'someone-else' },
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
    ];
    it.each(refused.map((a) => ({ access: a, title: describeAccess(a) })))('may not $title', async ({ access }) => {
      expect(await can(access)).toBe(false);
    });

    const attempts: { title: string; method: string; path: string; body?: unknown }[] = [
      { title: 'list Secrets', method: 'GET', path: '/api/v1/secrets' },
      { title: 'read a Secret in its own namespace', method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/secrets/anything` },
      { title: 'create a ConfigMap', method: 'POST', path: `/api/v1/namespaces/${NAMESPACE}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } },
      {
        title: 'create a NetworkPolicy',
        method: 'POST',
        path: '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies',
        body: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {} } },
      },
      { title: 'delete a Node', method: 'DELETE', path: '/api/v1/nodes/any-node' },
      {
        title: 'create a ClusterNetworkPolicy',
        method: 'POST',
        path: '/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies',
        body: { apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name: 'x' }, spec: { tier: 'Admin', priority: 1, subject: { namespaces: {} } } },
      },
      { title: 'delete a ClusterNetworkPolicy', method: 'DELETE', path: '/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies/any' },
      { title: 'write to a Calico tier it does not own', method: 'DELETE', path: '/apis/projectcalico.org/v3/tiers/default' },
      { title: 'read kube-system\'s other ConfigMaps', method: 'GET', path: '/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt' },
    ];
    it.each(attempts)('is refused (403) when it tries to $title', async ({ method, path, body }) => {
      expect(await statusOf(sa, method, path, body)).toBe(403);
    });
  });
});

describe('installed with kubectl apply --server-side -k config/cilium', () => {
  const CCNP = 'cilium.io/v2';
  let op: RunningOperator | undefined;
  let port: KubeConnection | undefined;
  const cnps: string[] = [];
  const setNativeSupport = (enabled: boolean) =>
    kube().apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'enable-k8s-cluster-network-policy': String(enabled) } });

  beforeAll(async () => {
    await applyOverlay('cilium');
    await setNativeSupport(false);
    port = createKubePort(loadKubeConfig({ kubeconfig: await serviceAccountKubeconfig() }));
    // As config/cilium runs it, and re-detecting often, so that the stand-down below is prompt.
    op = await startOperator({ port, detect: { backend: 'cilium', force: false }, leaderElection: { namespace: NAMESPACE, identity: uniqueName('deploy-test') }, redetectMs: 500 });
  });

  afterAll(async () => {
    await op?.stop();
    port?.close();
    for (const name of cnps) await kube().delete(CNP, 'ClusterNetworkPolicy', name);
    await kube().delete('v1', 'ConfigMap', 'cilium-config', 'kube-system');
    await removeOverlay('cilium');
  });

  it('the ServiceAccount, with Cilium permissions only, programs CNPs into CCNPs and stands down for native support', async () => {
    // Baseline compiles against NetworkPolicies, Namespaces and Pods: every input the Cilium backend reads.
    const sample = sampleFiles().find((o) => o.metadata.name === 'isolate-tenants')!;
    const name = uniqueName('isolate');
    cnps.push(name);
    await kube().create<KubeObject>({ ...sample, metadata: { name } });
    await waitForCondition(name, 'Programmed', (c) => c.status === 'True', 60_000);
    const owned = async () => (await kube().list(CCNP, 'CiliumClusterwideNetworkPolicy')).filter((o) => (o.metadata['annotations'] as Record<string, string> | undefined)?.['policy.cnp-operator.io/cnp'] === name);
    expect(await owned()).toHaveLength(1);

    await setNativeSupport(true);
    const conditions = await waitForCondition(name, 'Programmed', (c) => c.reason === 'NativeEnforcement', 60_000);
    expect(conditions.find((c) => c.type === 'Programmed')?.message).toMatch(/enable-k8s-cluster-network-policy/);
    await waitFor(async () => (await owned()).length === 0, { message: 'the CCNP to be removed on stand-down' });
  });
});
