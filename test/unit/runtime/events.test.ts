import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/controller/port.js';
import { EVENT_TYPE, EventRecorder } from '../../../src/controller/runtime/events.js';
import { FakeClock } from './fakes/fake-clock.js';
import { FakePort } from './fakes/fake-port.js';

const cnp: KubeObject = {
  apiVersion: 'policy.networking.k8s.io/v1alpha2',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'deny-all', uid: 'u-1', resourceVersion: '7' },
};

function events(port: FakePort): KubeObject[] {
  return port.calls.filter((c) => c.op === 'create' || c.op === 'replace').map((c) => c.options as KubeObject);
}

/** The same event recorded twice, a minute apart: the second is a count update. */
async function sameEventTwice(port: FakePort): Promise<void> {
  const clock = new FakeClock();
  const rec = new EventRecorder({ port, component: 'cnp-operator', clock });
  rec.emit(cnp, 'Normal', 'DriftCorrected', 'reverted gnp x');
  await clock.advance(60_000);
  rec.emit(cnp, 'Normal', 'DriftCorrected', 'reverted gnp x');
  await rec.flush();
}

describe('EventRecorder', () => {
  it('waits for yieldTo before each write', async () => {
    const port = new FakePort();
    let release: () => void = () => undefined;
    const rec = new EventRecorder({ port, component: 'cnp-operator', clock: new FakeClock(), yieldTo: () => new Promise<void>((r) => (release = r)) });
    rec.emit(cnp, 'Normal', 'Programmed', 'generation 1');
    await new Promise((r) => setImmediate(r));
    expect(events(port)).toHaveLength(0);
    release();
    await rec.flush();
    expect(events(port)).toHaveLength(1);
  });

  it('writes a core/v1 Event about a cluster-scoped object into the default namespace', async () => {
    const port = new FakePort();
    const rec = new EventRecorder({ port, component: 'cnp-operator', instance: 'pod-1', clock: new FakeClock() });
    rec.emit(cnp, 'Warning', 'ApplyFailed', 'GlobalNetworkPolicy x: 422 invalid');
    await rec.flush();
    const [created] = events(port);
    expect(created).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'default' },
      involvedObject: { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', name: 'deny-all', uid: 'u-1', resourceVersion: '7' },
      type: 'Warning',
      reason: 'ApplyFailed',
      message: 'GlobalNetworkPolicy x: 422 invalid',
      source: { component: 'cnp-operator' },
      reportingComponent: 'cnp-operator',
      reportingInstance: 'pod-1',
      count: 1,
      firstTimestamp: '2026-11-25T13:00:00Z',
    });
    expect(created?.metadata.name).toMatch(/^deny-all\.[0-9a-f]+$/);
  });

  it('counts repeats on one Event instead of creating more', async () => {
    const port = new FakePort();
    await sameEventTwice(port);
    expect(port.count('create')).toBe(1);
    expect(port.count('replace')).toBe(1);
    const stored = events(port)[1]!;
    expect(stored).toMatchObject({ count: 2, firstTimestamp: '2026-11-25T13:00:00Z', lastTimestamp: '2026-11-25T13:01:00Z' });
    expect(port.peek(EVENT_TYPE, stored.metadata.name, 'default')?.['count']).toBe(2);
  });

  it('sends a count update without the managedFields the server answered with', async () => {
    const port = new FakePort();
    const create = port.create.bind(port);
    port.create = async (type, object) => {
      const created = await create(type, object);
      return { ...created, metadata: { ...created.metadata, managedFields: [{ manager: 'cnp-operator', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:count': {} } }] } };
    };
    await sameEventTwice(port);
    const updated = events(port)[1]!;
    expect(updated['count']).toBe(2);
    expect(updated.metadata.resourceVersion).toBeDefined();
    expect(updated.metadata.managedFields).toBeUndefined();
  });

  it('limits a flood about one object to a burst, then one per refill period', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const rec = new EventRecorder({ port, component: 'cnp-operator', clock, burst: 3, refillMs: 300_000 });
    for (let i = 0; i < 10; i++) rec.emit(cnp, 'Warning', 'ApplyFailed', `attempt ${i}`);
    await rec.flush();
    expect(port.count('create')).toBe(3);
    await clock.advance(300_000);
    for (let i = 0; i < 10; i++) rec.emit(cnp, 'Warning', 'ApplyFailed', `later ${i}`);
    await rec.flush();
    expect(port.count('create')).toBe(4);
  });

  it('keeps the flood limit of an object while thousands of others have Events, and forgets limits that are full again', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const rec = new EventRecorder({ port, component: 'cnp-operator', clock, burst: 2, refillMs: 1_000 });
    const other = (i: number): KubeObject => ({ ...cnp, metadata: { name: `other-${i}`, uid: `o-${i}` } });
    // In batches below the limit of waiting writes, so that none is dropped for that reason.
    const others = async (from: number): Promise<void> => {
      for (let i = from; i < from + 5_000; i++) {
        rec.emit(other(i), 'Normal', 'Programmed', 'generation 1');
        if (i % 500 === 0) await rec.flush();
      }
      await rec.flush();
    };
    rec.emit(cnp, 'Warning', 'ApplyFailed', 'one');
    rec.emit(cnp, 'Warning', 'ApplyFailed', 'two');
    // More objects than the recorder remembers buckets for, all within the refill period.
    await others(0);
    rec.emit(cnp, 'Warning', 'ApplyFailed', 'three');
    await rec.flush();
    expect(events(port).filter((e) => e['message'] === 'three')).toHaveLength(0);
    expect(events(port)).toHaveLength(5_002);
    // Refilled: its bucket may be forgotten, and the next Event goes out.
    await clock.advance(2_000);
    await others(5_000);
    rec.emit(cnp, 'Warning', 'ApplyFailed', 'four');
    await rec.flush();
    expect(events(port).filter((e) => e['message'] === 'four')).toHaveLength(1);
  });

  it('never throws when the API refuses the Event', async () => {
    const port = new FakePort();
    port.failNext('create', new Error('forbidden'));
    const rec = new EventRecorder({ port, component: 'cnp-operator', clock: new FakeClock() });
    expect(() => rec.emit(cnp, 'Warning', 'X', 'y')).not.toThrow();
    await rec.flush();
    rec.emit(cnp, 'Warning', 'X', 'z');
    await rec.flush();
    expect(port.count('create')).toBe(2);
  });
});
