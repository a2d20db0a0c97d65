import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kube, type KubeObject, uniqueName, waitFor } from '../harness/index.js';
import { startOperator, waitForCondition, type RunningOperator } from './operator.js';

const CNP = 'policy.networking.k8s.io/v1beta1';
const CCNP = 'cilium.io/v2';
const CCNP_KIND = 'CiliumClusterwideNetworkPolicy';

function cnp(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name }, spec };
}
const ccnpName = (cnpName: string) => `cnp-${cnpName}`;

describe('the operator on Cilium', () => {
  let op: RunningOperator;
  const names: string[] = [];
  const ns = uniqueName('cil');

  beforeAll(async () => {
    await kube().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: 'a' } } });
    op = await startOperator({ detect: { backend: 'cilium', force: false } });
  });
  afterAll(async () => {
    await op?.stop();
    for (const n of names) await kube().delete(CNP, 'ClusterNetworkPolicy', n);
    await kube().delete('v1', 'Namespace', ns);
    await kube().delete('v1', 'ConfigMap', 'cilium-config', 'kube-system');
  });

  it('compiles CNPs of both tiers into CCNPs that never isolate by themselves, and deletes them with the CNP', async () => {
    const admin = uniqueName('adm');
    const base = uniqueName('base');
    names.push(admin, base);
    await kube().create(cnp(admin, { tier: 'Admin', priority: 5, subject: { namespaces: {} }, egress: [{ name: 'no-metadata', action: 'Deny', to: [{ networks: ['169.254.169.254/32'] }] }] }));
    await kube().create(cnp(base, { tier: 'Baseline', priority: 5, subject: { namespaces: { matchLabels: { team: 'a' } } }, ingress: [{ name: 'deny-others', action: 'Deny', from: [{ namespaces: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] } }] }] }));
    const adminObj = await waitFor(() => kube().get(CCNP, CCNP_KIND, ccnpName(admin)), { message: 'the Admin CCNP' });
    const specs = (adminObj['specs'] ?? [adminObj['spec']]) as { enableDefaultDeny?: unknown }[];
    for (const s of specs) expect(s.enableDefaultDeny).toEqual({ ingress: false, egress: false });
    await waitForCondition(admin, 'Programmed', (c) => c.status === 'True');
    await waitForCondition(base, 'Programmed', (c) => c.status === 'True');

    // A NetworkPolicy isolating the Baseline subjects changes what the Baseline CCNP must cover.
    const before = JSON.stringify((await kube().get(CCNP, CCNP_KIND, ccnpName(base)))?.['specs'] ?? null);
    await kube().create({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'isolate', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
    await waitFor(async () => JSON.stringify((await kube().get(CCNP, CCNP_KIND, ccnpName(base)))?.['specs'] ?? null) !== before, { message: 'the Baseline CCNP to follow the NetworkPolicy' });

    await kube().delete(CNP, 'ClusterNetworkPolicy', admin);
    await waitFor(async () => (await kube().get(CCNP, CCNP_KIND, ccnpName(admin))) === undefined, { message: 'the CCNP to go' });
  });

  it('reverts a hand edit of a CCNP', async () => {
    const name = uniqueName('drift');
    names.push(name);
    await kube().create(cnp(name, { tier: 'Admin', priority: 6, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['198.51.100.0/24'] }] }] }));
    const live = await waitFor(() => kube().get(CCNP, CCNP_KIND, ccnpName(name)));
    await waitForCondition(name, 'Programmed', (c) => c.status === 'True');
    const edited = structuredClone(live);
    delete edited.metadata['managedFields'];
    edited['specs'] = [{ endpointSelector: {}, egress: [{ toEntities: ['world'] }] }];
    await kube().apply(edited, { fieldManager: 'someone-else' });
    await waitFor(async () => JSON.stringify((await kube().get(CCNP, CCNP_KIND, ccnpName(name)))?.['specs']) === JSON.stringify(live['specs']), { message: 'the edit to be reverted' });
  });

  it('stands down when Cilium enforces CNPs itself', async () => {
    const name = uniqueName('native');
    names.push(name);
    await kube().apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'enable-k8s-cluster-network-policy': 'true' } });
    await kube().create(cnp(name, { tier: 'Admin', priority: 7, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['203.0.113.0/24'] }] }] }));
    const conditions = await waitForCondition(name, 'Programmed', (c) => c.reason === 'NativeEnforcement');
    expect(conditions.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'True', message: expect.stringContaining('enable-k8s-cluster-network-policy') });
    // Whatever was written before the stand-down was noticed is removed: the CNI enforces it now.
    await waitFor(async () => (await kube().get(CCNP, CCNP_KIND, ccnpName(name))) === undefined, { message: 'no CCNP for a natively enforced CNP' });
  });
});
