import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kube, kubeconfig, kubectl, type KubeObject, uniqueName, waitFor } from '../harness/index.js';
import { setCalicoVersion, startOperator, waitForCondition, type RunningOperator } from './operator.js';

const CNP = 'policy.networking.k8s.io/v1beta1';
const GNP = 'projectcalico.org/v3';

function cnp(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name }, spec };
}

const denyToSensitive = (priority = 10) => ({
  tier: 'Admin',
  priority,
  subject: { namespaces: {} },
  egress: [{ name: 'no-sensitive', action: 'Deny', to: [{ namespaces: { matchLabels: { sensitive: 'true' } } }] }],
});

describe('the operator on Calico (projectcalico.org/v3)', () => {
  let op: RunningOperator;
  const names: string[] = [];
  const make = async (spec: Record<string, unknown>) => {
    const name = uniqueName('op');
    names.push(name);
    return kube().create(cnp(name, spec));
  };

  beforeAll(async () => {
    await setCalicoVersion('v3.30.2');
    op = await startOperator({ detect: { backend: 'calico', force: false, calicoApi: 'projectcalico.org/v3' } });
  });
  afterAll(async () => {
    await op?.stop();
    for (const n of names) await kube().delete(CNP, 'ClusterNetworkPolicy', n);
  });

  it('creates, updates and deletes the GlobalNetworkPolicy of an Admin CNP, with status', async () => {
    const created = await make(denyToSensitive());
    const name = created.metadata.name;
    const gnp = await waitFor(() => kube().get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${name}`), { message: 'the GNP' });
    expect(gnp.metadata['labels']).toMatchObject({ 'app.kubernetes.io/managed-by': 'cnp-operator', 'policy.cnp-operator.io/name': name });
    expect(gnp.metadata['ownerReferences']).toEqual([
      { apiVersion: 'policy.networking.k8s.io/v1beta1', kind: 'ClusterNetworkPolicy', name, uid: created.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect((gnp['spec'] as { tier: string }).tier).toBe('cnp-admin');
    expect(await kube().get(GNP, 'Tier', 'cnp-admin')).toBeDefined();
    const conditions = await waitForCondition(name, 'Programmed', (c) => c.status === 'True');
    expect(Object.fromEntries(conditions.map((c) => [c.type, [c.status, c.reason, c.observedGeneration]]))).toEqual({
      Accepted: ['True', 'Accepted', 1],
      Programmed: ['True', 'Programmed', 1],
      Exact: ['True', 'Exact', 1],
    });

    await kube().apply({ ...cnp(name, denyToSensitive(20)) });
    await waitForCondition(name, 'Programmed', (c) => c.observedGeneration === 2);
    const moved = await kube().get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${name}`);
    const gnpRv = moved!.metadata['resourceVersion'];
    const cnpRv = (await kube().get(CNP, 'ClusterNetworkPolicy', name))!.metadata['resourceVersion'];

    // kubectl shows the columns with real values.
    const table = execFileSync(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'clusternetworkpolicies', name], { encoding: 'utf8' });
    expect(table).toMatch(/NAME\s+TIER\s+PRIORITY\s+PROGRAMMED\s+EXACT\s+AGE/);
    expect(table).toMatch(new RegExp(`${name}\\s+Admin\\s+20\\s+True\\s+True\\s+`));

    // Idle: nothing rewrites the objects or the status.
    op.manager['controller'].enqueue(name);
    op.manager['controller'].enqueue('@recompute');
    await waitFor(() => op.manager.queueDepth() === 0);
    expect((await kube().get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${name}`))!.metadata['resourceVersion']).toBe(gnpRv);
    expect((await kube().get(CNP, 'ClusterNetworkPolicy', name))!.metadata['resourceVersion']).toBe(cnpRv);

    await kube().delete(CNP, 'ClusterNetworkPolicy', name);
    await waitFor(async () => (await kube().get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${name}`)) === undefined, { message: 'the GNP to go' });
  });

  it('reverts edits and deletions of what it wrote, and counts them', async () => {
    const { metadata } = await make(denyToSensitive());
    const gnpName = `cnp-admin.${metadata.name}`;
    const original = await waitFor(() => kube().get(GNP, 'GlobalNetworkPolicy', gnpName));
    await waitForCondition(metadata.name, 'Programmed', (c) => c.status === 'True');
    const before = op.manager.driftCorrections;

    const edited = structuredClone(original) as KubeObject & { spec: { egress: { action: string }[] } };
    edited.spec.egress[0]!.action = 'Allow';
    delete edited.metadata['managedFields'];
    await kube().apply(edited, { fieldManager: 'someone-else' });
    await waitFor(async () => {
      const now = await kube().get(GNP, 'GlobalNetworkPolicy', gnpName);
      return (now?.['spec'] as { egress: { action: string }[] }).egress[0]!.action === 'Deny';
    }, { message: 'the edit to be reverted' });

    await kube().delete(GNP, 'GlobalNetworkPolicy', gnpName);
    await waitFor(async () => (await kube().get(GNP, 'GlobalNetworkPolicy', gnpName))?.metadata.uid !== undefined);
    await waitFor(() => op.manager.driftCorrections >= before + 2, { message: 'two drift corrections' });
  });

  it('applies the removal of every rule of a direction (a write is skipped only when nothing at all differs)', async () => {
    const { metadata } = await make({ ...denyToSensitive(13), ingress: [{ name: 'no-b', action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'b' } } }] }] });
    const gnpName = `cnp-admin.${metadata.name}`;
    await waitFor(async () => ((await kube().get(GNP, 'GlobalNetworkPolicy', gnpName))?.['spec'] as { ingress?: unknown[] } | undefined)?.ingress?.length === 1, { message: 'the ingress rule' });
    // A merge patch: no resourceVersion to race the operator's status writes with.
    await kube().request('PATCH', `/apis/${CNP}/clusternetworkpolicies/${metadata.name}`, { spec: { ingress: null } }, 'application/merge-patch+json');
    await waitForCondition(metadata.name, 'Programmed', (c) => c.status === 'True' && c.observedGeneration === 2);
    const gnp = (await kube().get(GNP, 'GlobalNetworkPolicy', gnpName))!['spec'] as { ingress?: unknown[]; types: string[] };
    expect(gnp.ingress ?? []).toEqual([]);
    expect(gnp.types).toEqual(['Egress']);
  });

  it('keeps every CNP\'s analysis current: a shadowing CNP added, changed and deleted', async () => {
    const shadowed = await make({ tier: 'Admin', priority: 60, subject: { namespaces: { matchLabels: { team: 'analysis' } } }, ingress: [{ name: 'from-b', action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'b' } } }] }] });
    const name = shadowed.metadata.name;
    await waitForCondition(name, 'Accepted', (c) => c.message === 'The policy is valid.');
    const shadowing = await make({ tier: 'Admin', priority: 59, subject: { namespaces: {} }, ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: {} }] }] });
    await waitForCondition(name, 'Accepted', (c) => c.message.includes('can never match') && c.message.includes(shadowing.metadata.name));
    // Changed so that it no longer covers the other's subject: the warning goes.
    const patchSubject = (subject: unknown) => kube().request('PATCH', `/apis/${CNP}/clusternetworkpolicies/${shadowing.metadata.name}`, { spec: { subject } }, 'application/merge-patch+json');
    await patchSubject({ namespaces: { matchLabels: { team: 'elsewhere' } } });
    await waitForCondition(name, 'Accepted', (c) => c.message === 'The policy is valid.');
    // Back, then deleted: the message never names a policy that is gone.
    await patchSubject({ namespaces: { matchLabels: null } });
    await waitForCondition(name, 'Accepted', (c) => c.message.includes(shadowing.metadata.name));
    await kube().delete(CNP, 'ClusterNetworkPolicy', shadowing.metadata.name);
    await waitForCondition(name, 'Accepted', (c) => !c.message.includes(shadowing.metadata.name));
  });

  it('never touches an object it does not own, and says so', async () => {
    const name = uniqueName('taken');
    names.push(name);
    const foreign: KubeObject = { apiVersion: GNP, kind: 'GlobalNetworkPolicy', metadata: { name: `cnp-admin.${name}` }, spec: { tier: 'cnp-admin', order: 1, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow' }] } };
    await waitFor(() => kube().get(GNP, 'Tier', 'cnp-admin'));
    const mine = await kube().create(foreign);
    const unrelated = await kube().create<KubeObject>({ apiVersion: GNP, kind: 'GlobalNetworkPolicy', metadata: { name: `default.${name}-users-own` }, spec: { tier: 'default', order: 5, selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow' }] } });
    await kube().create(cnp(name, denyToSensitive()));
    const conditions = await waitForCondition(name, 'Programmed', (c) => c.status === 'False');
    expect(conditions.find((c) => c.type === 'Programmed')).toMatchObject({ reason: 'Conflict' });
    expect((await kube().get(GNP, 'GlobalNetworkPolicy', `cnp-admin.${name}`))!.metadata['resourceVersion']).toBe(mine.metadata['resourceVersion']);
    await kube().delete(CNP, 'ClusterNetworkPolicy', name);
    expect((await kube().get(GNP, 'GlobalNetworkPolicy', `default.${name}-users-own`))!.metadata['resourceVersion']).toBe(unrelated.metadata['resourceVersion']);
    await kube().delete(GNP, 'GlobalNetworkPolicy', `cnp-admin.${name}`);
    await kube().delete(GNP, 'GlobalNetworkPolicy', `default.${name}-users-own`);
  });

  it('reports approximations: domainNames are not enforced by Calico open source', async () => {
    const { metadata } = await make({ tier: 'Admin', priority: 30, subject: { namespaces: {} }, egress: [{ name: 'github', action: 'Accept', to: [{ domainNames: ['github.com'] }] }] });
    const conditions = await waitForCondition(metadata.name, 'Exact', (c) => c.status === 'False');
    expect(conditions.find((c) => c.type === 'Exact')).toMatchObject({ reason: 'Approximated', message: expect.stringContaining('egress[0] "github"') });
  });

  it('a CNP the API server accepted but the operator cannot use is not Accepted; others keep working', async () => {
    const bad = await make({ tier: 'Admin', priority: 40, subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } }, egress: [{ action: 'Deny', to: [{ namespaces: {} }] }] });
    const good = await make(denyToSensitive(41));
    const conditions = await waitForCondition(bad.metadata.name, 'Accepted', (c) => c.status === 'False');
    expect(conditions.find((c) => c.type === 'Accepted')).toMatchObject({ reason: 'UnsupportedField', message: expect.stringContaining('spec.subject.namespaces.matchExpressions[0].operator: unknown selector operator "Gt"') });
    await waitForCondition(good.metadata.name, 'Programmed', (c) => c.status === 'True');
  });
});
