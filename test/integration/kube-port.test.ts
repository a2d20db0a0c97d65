import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, type KubeObject, type ResourceType, type WatchEvent } from '../../src/controller/port.js';
import { createKubePort, type KubeConnection, loadKubeConfig } from '../../src/kube/index.js';
import { kubeconfig, uniqueName, waitFor } from '../harness/index.js';

const CNP: ResourceType = { group: 'policy.networking.k8s.io', version: 'v1beta1', plural: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false };
const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const MANAGER = 'cnp-operator-test';
const RUN_LABEL = 'test.cnp-operator.io/run';
const run = uniqueName('kube-port');

let port: KubeConnection;
const created: string[] = [];

function cnp(name: string, priority = 10, extraSpec: Record<string, unknown> = {}): KubeObject {
  created.push(name);
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name, labels: { [RUN_LABEL]: run } },
    spec: {
      tier: 'Admin',
      priority,
      subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'sensitive' } } },
      ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: { matchLabels: {} } }] }],
      ...extraSpec,
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KubeApiError)) throw new Error(`expected a KubeApiError, got ${String(err)}`);
  return err;
}

beforeAll(() => {
  port = createKubePort(loadKubeConfig({ kubeconfig: kubeconfig() }), { userAgent: 'cnp-operator-integration' });
});

afterAll(async () => {
  for (const name of created) await port.delete(CNP, name).catch(() => undefined);
  port.close();
});

describe('KubePort on a real API server', () => {
  it('server-side apply creates the object under our field manager', async () => {
    const name = uniqueName('ssa-create');
    const applied = await port.apply(CNP, cnp(name), { fieldManager: MANAGER, force: true });
    expect(applied.metadata).toMatchObject({ name, generation: 1 });
    expect(applied.metadata.uid).toBeTruthy();
    const managers = applied.metadata.managedFields?.map((f) => [f.manager, f.operation]);
    expect(managers).toContainEqual([MANAGER, 'Apply']);
    expect((await port.get(CNP, name))?.metadata.uid).toBe(applied.metadata.uid);
  });

  it('re-applying unchanged intent keeps the resourceVersion', async () => {
    const name = uniqueName('ssa-idem');
    const first = await port.apply(CNP, cnp(name), { fieldManager: MANAGER, force: true });
    const second = await port.apply(CNP, cnp(name), { fieldManager: MANAGER, force: true });
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const changed = await port.apply(CNP, cnp(name, 11), { fieldManager: MANAGER, force: true });
    expect(changed.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(changed.metadata.generation).toBe(2);
  });

  it('a dry-run apply returns the would-be object and persists nothing', async () => {
    const name = uniqueName('ssa-dry');
    const live = await port.apply(CNP, cnp(name, 10), { fieldManager: MANAGER, force: true });
    const dry = await port.apply(CNP, cnp(name, 42), { fieldManager: MANAGER, force: true, dryRun: true });
    expect((dry['spec'] as { priority: number }).priority).toBe(42);
    const after = await port.get(CNP, name);
    expect((after?.['spec'] as { priority: number }).priority).toBe(10);
    expect(after?.metadata.resourceVersion).toBe(live.metadata.resourceVersion);
    // A dry-run create persists nothing either.
    const ghost = uniqueName('ssa-dry-new');
    await port.apply(CNP, cnp(ghost), { fieldManager: MANAGER, force: true, dryRun: true });
    expect(await port.get(CNP, ghost)).toBeUndefined();
  });

  it('rejects unknown fields instead of dropping them (strict field validation)', async () => {
    const name = uniqueName('ssa-strict');
    const err = await rejection(port.apply(CNP, cnp(name, 10, { bogusField: true }), { fieldManager: MANAGER, force: true }));
    // kube-apiserver 1.35 answers an apply with an undeclared field with a 500 ("failed to create
    // typed patch object"), not a 4xx: retrying will not help, whatever the status says.
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.message).toContain('.spec.bogusField: field not declared in schema');
    expect(await port.get(CNP, name)).toBeUndefined();
  });

  it('maps the API server\'s validation failure to KubeApiError 422 Invalid with its message', async () => {
    const err = await rejection(port.apply(CNP, cnp(uniqueName('bad'), 10, { tier: 'Middle' }), { fieldManager: MANAGER, force: true }));
    expect(err).toMatchObject({ status: 422, reason: 'Invalid' });
    expect(err.message).toContain('Unsupported value: "Middle"');
  });

  it('applyStatus writes the status subresource only, leaving spec and generation alone', async () => {
    const name = uniqueName('status');
    const live = await port.apply(CNP, cnp(name), { fieldManager: MANAGER, force: true });
    const condition = {
      type: 'Accepted',
      status: 'True',
      reason: 'Valid',
      message: 'the policy is valid',
      observedGeneration: 1,
      lastTransitionTime: '2026-11-25T13:00:00Z',
    };
    const status = { apiVersion: live.apiVersion, kind: live.kind, metadata: { name }, status: { conditions: [condition] } };
    await expect(port.applyStatus(CNP, status, { fieldManager: MANAGER, force: true })).resolves.toBeUndefined();
    const written = await port.get(CNP, name);
    expect(written?.['status']).toEqual({ conditions: [condition] });
    expect(written?.metadata.generation).toBe(1);
    // Status is ignored on the main resource: applying spec intent later does not clear it.
    await port.apply(CNP, cnp(name, 12), { fieldManager: MANAGER, force: true });
    expect((await port.get(CNP, name))?.['status']).toEqual({ conditions: [condition] });
    // The same status again is a no-op.
    const before = await port.get(CNP, name);
    await port.applyStatus(CNP, status, { fieldManager: MANAGER, force: true });
    const now = await port.get(CNP, name);
    expect(now?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('replace is optimistic: a stale resourceVersion gets 409 Conflict', async () => {
    const name = uniqueName('replace');
    const live = await port.create(CNP, cnp(name));
    const updated = await port.replace(CNP, { ...live, spec: { ...(live['spec'] as object), priority: 20 } });
    expect(updated.metadata.resourceVersion).not.toBe(live.metadata.resourceVersion);
    const err = await rejection(port.replace(CNP, { ...live, spec: { ...(live['spec'] as object), priority: 30 } }));
    expect(err).toMatchObject({ status: 409, reason: 'Conflict' });
  });

  it('create of an existing object is 409 AlreadyExists; get of a missing one is undefined', async () => {
    const name = uniqueName('exists');
    await port.create(CNP, cnp(name));
    expect(await rejection(port.create(CNP, cnp(name)))).toMatchObject({ status: 409, reason: 'AlreadyExists' });
    expect(await port.get(CNP, uniqueName('missing'))).toBeUndefined();
  });

  it('delete honours a uid precondition and reports an already-gone object', async () => {
    const name = uniqueName('delete');
    const live = await port.create(CNP, cnp(name));
    const err = await rejection(port.delete(CNP, name, { uid: 'not-the-uid' }));
    expect(err.status).toBe(409);
    expect(await port.get(CNP, name)).toBeDefined();
    expect(await port.delete(CNP, name, { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion })).toBe(true);
    await waitFor(async () => (await port.get(CNP, name)) === undefined, { message: `${name} to be gone` });
    expect(await port.delete(CNP, name)).toBe(false);
  });

  it('works on namespaced core objects', async () => {
    const name = uniqueName('cm');
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { [RUN_LABEL]: run } }, data: { a: '1' } };
    const applied = await port.apply(CONFIGMAPS, cm, { fieldManager: MANAGER, force: true });
    expect(applied.metadata.namespace).toBe('default');
    expect((await port.get(CONFIGMAPS, name, 'default'))?.['data']).toEqual({ a: '1' });
    expect(await port.get(CONFIGMAPS, name, 'kube-system')).toBeUndefined();
    expect(await port.delete(CONFIGMAPS, name, { namespace: 'default' })).toBe(true);
  });

  it('lists across pages as one snapshot, with apiVersion and kind on every item', async () => {
    const label = uniqueName('paged');
    for (let i = 0; i < 5; i++) {
      const obj = cnp(uniqueName('page'));
      obj.metadata.labels = { [RUN_LABEL]: label };
      await port.create(CNP, obj);
    }
    const { items, resourceVersion } = await port.list(CNP, { labelSelector: `${RUN_LABEL}=${label}`, limit: 2 });
    expect(items).toHaveLength(5);
    expect(new Set(items.map((i) => i.metadata.name)).size).toBe(5);
    expect(items.every((i) => i.apiVersion === 'policy.networking.k8s.io/v1beta1' && i.kind === 'ClusterNetworkPolicy')).toBe(true);
    expect(Number(resourceVersion)).toBeGreaterThan(0);
    const configmaps = await port.list(CONFIGMAPS, { fieldSelector: 'metadata.namespace=kube-system', limit: 1 });
    expect(configmaps.items.every((i) => i.kind === 'ConfigMap' && i.apiVersion === 'v1')).toBe(true);
  });

  it('watch delivers ADDED, MODIFIED and DELETED from a list\'s resourceVersion', async () => {
    const name = uniqueName('watched');
    const selector = `metadata.name=${name}`;
    const { resourceVersion } = await port.list(CNP, { fieldSelector: selector });
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    const watching = port.watch(CNP, { resourceVersion, fieldSelector: selector, timeoutSeconds: 60, allowWatchBookmarks: true }, (e) => events.push(e), ac.signal);
    const live = await port.create(CNP, cnp(name));
    await port.apply(CNP, cnp(name, 77), { fieldManager: MANAGER, force: true });
    await port.delete(CNP, name, { uid: live.metadata.uid });
    const types = (): string[] => events.filter((e) => e.type !== 'BOOKMARK').map((e) => e.type);
    await waitFor(() => types().join() === 'ADDED,MODIFIED,DELETED', { message: `ADDED, MODIFIED, DELETED (saw ${types().join()})` });
    ac.abort();
    await watching;
    const modified = events.find((e) => e.type === 'MODIFIED');
    expect(modified?.type === 'MODIFIED' && (modified.object['spec'] as { priority: number }).priority).toBe(77);
  });

  it('a watch ends when the server\'s timeoutSeconds runs out', async () => {
    const { resourceVersion } = await port.list(CNP, { limit: 1 });
    const started = Date.now();
    await port.watch(CNP, { resourceVersion, timeoutSeconds: 1, allowWatchBookmarks: true }, () => undefined, new AbortController().signal);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a watch from a long-gone resourceVersion reports 410', async () => {
    const events: WatchEvent[] = [];
    const outcome = await port
      .watch(CNP, { resourceVersion: '1', timeoutSeconds: 10, allowWatchBookmarks: true }, (e) => events.push(e), new AbortController().signal)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const gone = (outcome instanceof KubeApiError && outcome.status === 410) || events.some((e) => e.type === 'ERROR' && e.status.code === 410);
    expect(gone).toBe(true);
  });

  it('discovers served resources, and undefined for a group that is not served', async () => {
    const resources = await port.discover('policy.networking.k8s.io', 'v1alpha2');
    expect(resources).toContainEqual({ name: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false });
    expect(resources?.some((r) => r.name.includes('/'))).toBe(false);
    expect((await port.discover('', 'v1'))?.find((r) => r.name === 'pods')).toMatchObject({ kind: 'Pod', namespaced: true });
    expect(await port.discover('nothing.example.io', 'v1')).toBeUndefined();
  });
});
