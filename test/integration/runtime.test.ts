import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, type KubeObject, type KubePort, type ResourceType, type WatchOptions } from '../../src/controller/port.js';
import { Controller } from '../../src/controller/runtime/controller.js';
import { EVENT_TYPE, EventRecorder } from '../../src/controller/runtime/events.js';
import { Informer } from '../../src/controller/runtime/informer.js';
import { LEASE_TYPE, LeaderElector, type StopReason } from '../../src/controller/runtime/leader-election.js';
import { createKubePort, type KubeConnection, loadKubeConfig } from '../../src/kube/index.js';
import { kubeconfig, uniqueName, waitFor } from '../harness/index.js';

const CNP: ResourceType = { group: 'policy.networking.k8s.io', version: 'v1beta1', plural: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false };
const RUN_LABEL = 'test.cnp-operator.io/run';
const MANAGER = 'cnp-operator-test';

let port: KubeConnection;
const stops: (() => Promise<unknown>)[] = [];

function cnp(name: string, run: string, priority = 10): KubeObject {
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name, labels: { [RUN_LABEL]: run } },
    spec: {
      tier: 'Admin',
      priority,
      subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'sensitive' } } },
      ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: { matchLabels: {} } }] }],
    },
  };
}

/**
 * The real port with instruments: counts watches (and how many run at once), can cut the
 * current watch as a dropped connection would, and can hold the next watch back, optionally
 * from a stale resourceVersion.
 */
class InstrumentedPort implements KubePort {
  watches: WatchOptions[] = [];
  active = 0;
  maxActive = 0;
  lists = 0;
  #cut: (() => void) | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  #staleNext = false;

  constructor(private readonly inner: KubePort) {}

  /** Breaks the open watch with a transport error. */
  cutWatch(): void {
    this.#cut?.();
  }

  /** Holds the next watch until release(); `stale` makes it start from resourceVersion 1. */
  hold(stale: boolean): void {
    this.#staleNext = stale;
    this.#gate = new Promise((r) => (this.#open = r));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  list: KubePort['list'] = (type, options) => {
    this.lists++;
    return this.inner.list(type, options);
  };

  watch: KubePort['watch'] = async (type, options, onEvent, signal) => {
    if (this.#gate) await this.#gate;
    const opts = this.#staleNext ? { ...options, resourceVersion: '1' } : options;
    this.#staleNext = false;
    this.watches.push(opts);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const inner = new AbortController();
    const forward = (): void => inner.abort();
    signal.addEventListener('abort', forward, { once: true });
    let cut = false;
    this.#cut = () => {
      cut = true;
      inner.abort();
    };
    try {
      await this.inner.watch(type, opts, onEvent, inner.signal);
      if (cut) throw new KubeApiError(0, 'ECONNRESET', 'watch cut by the test');
    } finally {
      this.active--;
      signal.removeEventListener('abort', forward);
    }
  };

  get: KubePort['get'] = (...a) => this.inner.get(...a);
  create: KubePort['create'] = (...a) => this.inner.create(...a);
  replace: KubePort['replace'] = (...a) => this.inner.replace(...a);
  apply: KubePort['apply'] = (...a) => this.inner.apply(...a);
  applyStatus: KubePort['applyStatus'] = (...a) => this.inner.applyStatus(...a);
  delete: KubePort['delete'] = (...a) => this.inner.delete(...a);
  discover: KubePort['discover'] = (...a) => this.inner.discover(...a);
  preferredVersion: KubePort['preferredVersion'] = (...a) => this.inner.preferredVersion(...a);
}

function informerFor(p: KubePort, run: string, options: Partial<ConstructorParameters<typeof Informer>[0]> = {}): Informer {
  const informer = new Informer({ port: p, type: CNP, labelSelector: `${RUN_LABEL}=${run}`, ...options });
  stops.push(() => informer.stop());
  return informer;
}

function names(informer: Informer): string[] {
  return informer.list().map((o) => o.metadata.name).sort();
}

beforeAll(() => {
  port = createKubePort(loadKubeConfig({ kubeconfig: kubeconfig() }));
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

afterAll(async () => {
  const { items } = await port.list(CNP, { labelSelector: RUN_LABEL });
  for (const o of items) await port.delete(CNP, o.metadata.name);
  port.close();
});

describe('Informer on a real API server', () => {
  it('keeps its cache in step across many server-ended watches, never running two', async () => {
    const run = uniqueName('timeouts');
    const p = new InstrumentedPort(port);
    const informer = informerFor(p, run, { watchTimeoutSeconds: { min: 1, max: 2 } });
    const seen: string[] = [];
    informer.addEventHandlers({ onAdd: (o) => seen.push(`add:${o.metadata.name}`), onDelete: (o) => seen.push(`delete:${o.metadata.name}`) });
    await port.create(CNP, cnp(`${run}-a`, run));
    informer.start();
    await informer.synced;
    await waitFor(() => p.active === 1, { message: 'the first watch' });
    expect(names(informer)).toEqual([`${run}-a`]);
    // Changes spread over several 1–2 s watches: each must arrive whichever watch carries it.
    for (let i = 0; i < 4; i++) {
      const watchesBefore = p.watches.length;
      await port.create(CNP, cnp(`${run}-n${i}`, run));
      await waitFor(() => informer.get(`${run}-n${i}`), { message: `${run}-n${i} in the cache` });
      await waitFor(() => p.watches.length > watchesBefore, { message: 'the server to end a watch and the informer to start the next' });
    }
    await port.delete(CNP, `${run}-a`);
    await waitFor(() => informer.get(`${run}-a`) === undefined, { message: 'the deletion to reach the cache' });
    expect(p.watches.length).toBeGreaterThanOrEqual(5);
    expect(p.maxActive).toBe(1);
    // Server-ended watches resume from the last resourceVersion; nothing forces a relist.
    expect(p.lists).toBe(1);
    expect(seen).toContain(`delete:${run}-a`);
    expect(seen.filter((s) => s.startsWith('add:'))).toHaveLength(5);
  });

  it('after a dropped connection and 410 Gone, relists and deletes what vanished meanwhile', async () => {
    const run = uniqueName('gone');
    const p = new InstrumentedPort(port);
    const informer = informerFor(p, run, { backoff: { initialMs: 100, maxMs: 1000 } });
    const deleted: string[] = [];
    informer.addEventHandlers({ onDelete: (o) => deleted.push(o.metadata.name) });
    for (const n of ['a', 'b']) await port.create(CNP, cnp(`${run}-${n}`, run));
    informer.start();
    await informer.synced;
    await waitFor(() => p.active === 1, { message: 'the first watch' });
    // The connection drops; the next watch is held while the world changes, then resumes from a
    // resourceVersion the server has long forgotten.
    p.hold(true);
    p.cutWatch();
    await port.delete(CNP, `${run}-b`);
    await port.create(CNP, cnp(`${run}-c`, run));
    p.release();
    await waitFor(() => names(informer).join() === [`${run}-a`, `${run}-c`].join(), { message: `cache {a, c}, has ${names(informer).join()}` });
    expect(deleted).toEqual([`${run}-b`]);
    expect(p.lists).toBe(2);
    expect(p.maxActive).toBe(1);
    // And it keeps watching afterwards.
    await port.create(CNP, cnp(`${run}-d`, run));
    await waitFor(() => informer.get(`${run}-d`), { message: 'an event after the relist' });
  });

  it('drives a controller that writes status through the status subresource', async () => {
    const run = uniqueName('ctrl');
    const informer = informerFor(port, run);
    const reconciled: string[] = [];
    const controller = new Controller<string>({
      name: 'status-writer',
      workers: 2,
      informers: [informer],
      reconcile: async (name) => {
        reconciled.push(name);
        const obj = informer.get(name);
        if (!obj) return;
        const condition = {
          type: 'Accepted',
          status: 'True',
          reason: 'Valid',
          message: `priority ${(obj['spec'] as { priority: number }).priority}`,
          observedGeneration: obj.metadata.generation,
          lastTransitionTime: '2026-11-25T13:00:00Z',
        };
        await port.applyStatus(CNP, { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name }, status: { conditions: [condition] } }, { fieldManager: MANAGER, force: true });
      },
    });
    const enqueue = (o: KubeObject): void => controller.enqueue(o.metadata.name);
    informer.addEventHandlers({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    stops.push(() => controller.stop(5_000));
    informer.start();
    const name = `${run}-p`;
    await port.create(CNP, cnp(name, run, 5));
    await controller.start();
    const message = async (): Promise<string | undefined> =>
      ((await port.get(CNP, name))?.['status'] as { conditions?: { message: string }[] } | undefined)?.conditions?.[0]?.message;
    await waitFor(async () => (await message()) === 'priority 5', { message: 'status for priority 5' });
    await port.apply(CNP, cnp(name, run, 6), { fieldManager: MANAGER, force: true });
    await waitFor(async () => (await message()) === 'priority 6', { message: 'status for priority 6' });
    expect(await controller.stop(5_000)).toBe(true);
  });
});

describe('LeaderElector on a real Lease', () => {
  const namespace = 'default';
  const fast = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 };

  function elector(name: string, identity: string, state: { leading: boolean; stopped: StopReason[] }, releaseOnStop = true): LeaderElector {
    const e = new LeaderElector({
      port,
      namespace,
      name,
      identity,
      ...fast,
      releaseOnStop,
      onStartedLeading: () => (state.leading = true),
      onStoppedLeading: (reason) => {
        state.leading = false;
        state.stopped.push(reason);
      },
    });
    stops.push(() => e.stop());
    return e;
  }

  async function leaseSpec(name: string): Promise<Record<string, unknown>> {
    return ((await port.get(LEASE_TYPE, name, namespace))?.['spec'] ?? {}) as Record<string, unknown>;
  }

  it('elects exactly one of two; releasing hands over at the next retry', async () => {
    const lease = uniqueName('lease');
    const a = { leading: false, stopped: [] as StopReason[] };
    const b = { leading: false, stopped: [] as StopReason[] };
    const ea = elector(lease, 'replica-a', a);
    const eb = elector(lease, 'replica-b', b);
    ea.start();
    eb.start();
    await waitFor(() => a.leading || b.leading, { message: 'a leader' });
    const holder = String((await leaseSpec(lease))['holderIdentity']);
    const [leader, follower, followerState] = holder === 'replica-a' ? [ea, eb, b] : [eb, ea, a];
    await waitFor(() => follower.observedLeader() === holder, { message: 'the follower to see the leader' });
    // Renewals go on (renewTime moves, as MicroTime with six digits) and there is still exactly one leader.
    const firstRenew = String((await leaseSpec(lease))['renewTime']);
    await waitFor(async () => (await leaseSpec(lease))['renewTime'] !== firstRenew, { message: 'a renewal' });
    expect(String((await leaseSpec(lease))['renewTime'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
    const released = Date.now();
    await leader.stop();
    expect((await leaseSpec(lease))['holderIdentity']).not.toBe(holder);
    await waitFor(() => followerState.leading, { message: 'the follower to take over' });
    // Well within the 4 s lease: a release does not wait for expiry (retry 1 s × up to 2.2 jitter, plus a busy machine).
    expect(Date.now() - released).toBeLessThan(4_000);
    expect((await leaseSpec(lease))['leaseTransitions']).toBe(1);
  });

  it('a crashed leader (no release) is replaced once its lease expires', async () => {
    const lease = uniqueName('lease');
    const a = { leading: false, stopped: [] as StopReason[] };
    const b = { leading: false, stopped: [] as StopReason[] };
    const ea = elector(lease, 'replica-a', a, false);
    ea.start();
    await waitFor(() => a.leading, { message: 'a to lead' });
    const eb = elector(lease, 'replica-b', b);
    eb.start();
    await waitFor(() => eb.observedLeader() === 'replica-a', { message: 'b to see a' });
    const crashed = Date.now();
    await ea.stop(); // no release: as if the process died
    expect((await leaseSpec(lease))['holderIdentity']).toBe('replica-a');
    await waitFor(() => b.leading, { message: 'b to take over after expiry', timeout: 20_000 });
    const after = Date.now() - crashed;
    expect(after).toBeGreaterThanOrEqual(fast.leaseDurationMs - 1_000);
    expect(after).toBeLessThan(fast.leaseDurationMs + 6_000);
  });
});

describe('EventRecorder on a real API server', () => {
  it('records an Event about a cluster-scoped object and counts a repeat on it', async () => {
    const run = uniqueName('events');
    const obj = await port.create(CNP, cnp(`${run}-p`, run));
    const recorder = new EventRecorder({ port, component: 'cnp-operator', instance: 'test' });
    recorder.emit(obj, 'Warning', 'ApplyFailed', `backend write failed for ${run}`);
    recorder.emit(obj, 'Warning', 'ApplyFailed', `backend write failed for ${run}`);
    await recorder.flush();
    const { items } = await port.list(EVENT_TYPE, { fieldSelector: `involvedObject.name=${run}-p` });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      metadata: { namespace: 'default' },
      involvedObject: { kind: 'ClusterNetworkPolicy', name: `${run}-p`, uid: obj.metadata.uid },
      reason: 'ApplyFailed',
      type: 'Warning',
      count: 2,
    });
  });
});
