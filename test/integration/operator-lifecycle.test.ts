import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { kube, type KubeObject, uniqueName, waitFor } from '../harness/index.js';
import { setCalicoVersion, startOperator, waitForCondition, type RunningOperator } from './operator.js';

const CNP = 'policy.networking.k8s.io/v1beta1';
const V3 = 'projectcalico.org/v3';
const V1 = 'crd.projectcalico.org/v1';
const MANAGED = { 'app.kubernetes.io/managed-by': 'cnp-operator' };

const names: string[] = [];
const running: RunningOperator[] = [];
function cnp(priority = 10): KubeObject {
  const name = uniqueName('life');
  names.push(name);
  return {
    apiVersion: CNP,
    kind: 'ClusterNetworkPolicy',
    metadata: { name },
    spec: { tier: 'Admin', priority, subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['192.0.2.0/24'] }] }] },
  };
}
async function operator(...args: Parameters<typeof startOperator>): Promise<RunningOperator> {
  const op = await startOperator(...args);
  running.push(op);
  return op;
}

afterEach(async () => {
  for (const op of running.splice(0)) await op.stop();
});
afterAll(async () => {
  for (const n of names) await kube().delete(CNP, 'ClusterNetworkPolicy', n);
});

describe('operator lifecycle', () => {
  it('writes the crd.projectcalico.org/v1 form as Calico itself would', async () => {
    await setCalicoVersion('v3.31.4');
    await operator({ detect: { backend: 'calico', force: false, calicoApi: V1 } });
    const { metadata } = await kube().create(cnp());
    const gnp = await waitFor(() => kube().get(V1, 'GlobalNetworkPolicy', `cnp-admin.${metadata.name}`), { message: 'the v1 GNP' });
    expect(gnp.metadata['labels']).toMatchObject({ ...MANAGED, 'projectcalico.org/tier': 'cnp-admin' });
    expect(gnp['spec']).toMatchObject({ tier: 'cnp-admin', types: ['Egress'] });
    await waitForCondition(metadata.name, 'Programmed', (c) => c.status === 'True');
    await kube().delete(CNP, 'ClusterNetworkPolicy', metadata.name);
    await waitFor(async () => (await kube().get(V1, 'GlobalNetworkPolicy', `cnp-admin.${metadata.name}`)) === undefined);
  });

  it('stands down where Calico enforces CNPs itself (3.32+), healthy and saying who enforces, and refuses Calico without tiers', async () => {
    // Written by an earlier run on Calico 3.31, then Calico is upgraded while no operator runs.
    await setCalicoVersion('v3.31.7');
    const before = await operator({ detect: { backend: 'auto', force: false } });
    const { metadata } = await kube().create(cnp());
    await waitFor(() => kube().get(V3, 'GlobalNetworkPolicy', `cnp-admin.${metadata.name}`), { message: 'the GNP from the 3.31 run' });
    await before.stop();
    running.splice(running.indexOf(before), 1);
    await setCalicoVersion('v3.32.1');
    const op = await operator({ detect: { backend: 'auto', force: false } });
    const conditions = await waitForCondition(metadata.name, 'Programmed', (c) => c.reason === 'NativeEnforcement');
    expect(conditions.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'True', message: expect.stringContaining('Calico v3.32.1 enforces ClusterNetworkPolicy itself') });
    expect(conditions.find((c) => c.type === 'Exact')).toMatchObject({ reason: 'NativeEnforcement' });
    // What the earlier run wrote goes: the CNI enforces the policy now, twice would be wrong.
    await waitFor(async () => (await kube().get(V3, 'GlobalNetworkPolicy', `cnp-admin.${metadata.name}`)) === undefined, { message: 'the 3.31 objects to be removed' });
    // The expected state raises no warning.
    const events = await kube().list('v1', 'Event', 'default');
    expect(events.filter((e) => (e['involvedObject'] as { name: string }).name === metadata.name && e['type'] === 'Warning')).toEqual([]);

    // Native audit: Calico 3.32 drops an Accept rule with a nodes peer (measured on Felix 3.32.1).
    const audited = cnp(31);
    (audited['spec'] as Record<string, unknown>)['egress'] = [{ name: 'to-api', action: 'Accept', to: [{ nodes: { matchLabels: { role: 'control-plane' } } }] }];
    await kube().create(audited);
    const native = await waitForCondition(audited.metadata.name, 'Exact', (c) => c.reason === 'NativeDeviation');
    expect(native.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'True', reason: 'NativeEnforcement' });
    expect(native.find((c) => c.type === 'Exact')).toMatchObject({ status: 'False', message: expect.stringContaining('egress[0] "to-api": Calico drops an Accept rule with a nodes or domainNames peer') });

    // Detection runs again: an older Calico is refused with a clear status.
    await setCalicoVersion('v3.28.0');
    await waitForCondition(metadata.name, 'Programmed', (c) => c.reason === 'BackendUnavailable' && c.message.includes('no policy tiers'));
    expect(op.manager.isLeader()).toBe(true);
  });

  it('starts programming when Calico appears while it runs, without ending the process', async () => {
    for (const apiVersion of [V1, V3]) await kube().delete(apiVersion, 'ClusterInformation', 'default');
    const op = await operator({ detect: { backend: 'calico', force: false, calicoApi: V3 } });
    const { metadata } = await kube().create(cnp(21));
    const waiting = await waitForCondition(metadata.name, 'Programmed', (c) => c.reason === 'BackendUnavailable');
    expect(waiting.find((c) => c.type === 'Programmed')!.message).toContain('ClusterInformation "default" (projectcalico.org/v3) does not exist yet');
    await setCalicoVersion('v3.31.7');
    await waitForCondition(metadata.name, 'Programmed', (c) => c.status === 'True');
    expect(await kube().get(V3, 'GlobalNetworkPolicy', `cnp-admin.${metadata.name}`)).toBeDefined();
    // Still running: the process did not end to pick the backend up.
    const ended = await Promise.race([op.manager.done.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
    expect(ended).toBe(false);
  });

  it('sweeps orphans at start and converges after a restart mid-reconcile, without duplicates', async () => {
    await setCalicoVersion('v3.30.0');
    const ghost = `cnp-admin.${uniqueName('ghost')}`;
    const orphan = (name: string) => ({
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name, labels: { ...MANAGED, 'policy.cnp-operator.io/name': 'gone' }, annotations: { 'policy.cnp-operator.io/cnp': 'gone' } },
      spec: { tier: 'cnp-admin', order: 1, selector: 'all()', types: ['Egress'], egress: [{ action: 'Deny' }] },
    });
    // Written by the operator for a CNP since deleted: swept. A copy with the same labels that
    // someone else wrote is not the operator's, and is left alone.
    await kube().apply(orphan(ghost), { fieldManager: 'cnp-operator' });
    const copy = `cnp-admin.${uniqueName('copy')}`;
    await kube().apply(orphan(copy), { fieldManager: 'someone-else' });
    const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => kube().create(cnp(100 + i))));
    const first = await operator({ detect: { backend: 'calico', force: false, calicoApi: V3 } });
    await waitFor(async () => (await kube().list(V3, 'GlobalNetworkPolicy')).filter((g) => batch.some((b) => g.metadata.name === `cnp-admin.${b.metadata.name}`)).length >= 3);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    await operator({ detect: { backend: 'calico', force: false, calicoApi: V3 } });
    for (const b of batch) await waitForCondition(b.metadata.name, 'Programmed', (c) => c.status === 'True' && c.observedGeneration === 1);
    const gnps = (await kube().list(V3, 'GlobalNetworkPolicy')).map((g) => g.metadata.name);
    for (const b of batch) expect(gnps.filter((n) => n === `cnp-admin.${b.metadata.name}`)).toHaveLength(1);
    await waitFor(async () => (await kube().get(V3, 'GlobalNetworkPolicy', ghost)) === undefined, { message: 'the orphan to be swept' });
    expect(await kube().get(V3, 'GlobalNetworkPolicy', copy)).toBeDefined();
    await kube().delete(V3, 'GlobalNetworkPolicy', copy);
  });

  it('hands over to the other replica when the leader dies', async () => {
    await setCalicoVersion('v3.30.0');
    const timings = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
    const detect = { backend: 'calico', force: false, calicoApi: V3 } as const;
    const a = await operator({ ...timings, detect, leaderElection: { namespace: 'default', name: 'failover-test', identity: 'replica-a', releaseOnStop: false } });
    await waitFor(() => a.manager.isLeader(), { message: 'replica a to lead' });
    const b = await operator({ ...timings, detect, leaderElection: { namespace: 'default', name: 'failover-test', identity: 'replica-b', releaseOnStop: false } });
    const first = await kube().create(cnp());
    await waitForCondition(first.metadata.name, 'Programmed', (c) => c.status === 'True');
    expect(b.manager.isLeader()).toBe(false);

    // The leader dies without releasing its lease.
    await a.stop();
    running.splice(running.indexOf(a), 1);
    // b takes over once the lease it last saw renewed has expired (measured by benchmarks, not asserted here).
    await waitFor(() => b.manager.isLeader(), { message: 'replica b to take over', timeout: 60_000 });
    const second = await kube().create(cnp());
    await waitForCondition(second.metadata.name, 'Programmed', (c) => c.status === 'True');
  });
});
