import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError, type KubeObject, type WatchOptions } from '../../../src/controller/port.js';
import { Informer, type InformerOptions } from '../../../src/controller/runtime/informer.js';
import { FakeClock } from './fakes/fake-clock.js';
import { FakePort, WIDGETS, widget } from './fakes/fake-port.js';

interface Seen {
  adds: string[];
  updates: string[];
  deletes: string[];
  relists: number;
}

const running: Informer[] = [];

function setup(options: Partial<InformerOptions> = {}): { port: FakePort; clock: FakeClock; informer: Informer; seen: Seen } {
  const port = new FakePort();
  const clock = new FakeClock();
  const informer = new Informer({ port, type: WIDGETS, clock, random: () => 0, watchTimeoutSeconds: { min: 300, max: 600 }, ...options });
  const seen: Seen = { adds: [], updates: [], deletes: [], relists: 0 };
  informer.addEventHandlers({
    onAdd: (o) => seen.adds.push(o.metadata.name),
    onUpdate: (_old, o) => seen.updates.push(o.metadata.name),
    onDelete: (o) => seen.deletes.push(o.metadata.name),
    onRelist: () => seen.relists++,
  });
  running.push(informer);
  return { port, clock, informer, seen };
}

function names(informer: Informer): string[] {
  return informer.list().map((o) => o.metadata.name).sort();
}

/** Times (fake ms) at which watches were opened. */
function watchTimes(port: FakePort, clock: FakeClock, times: number[]): void {
  port.hook = (op) => {
    if (op === 'watch') times.push(clock.now());
  };
}

/** Starts the informer and returns once it is synced and watching. */
async function run(informer: Informer, clock: FakeClock): Promise<void> {
  informer.start();
  await informer.synced;
  await clock.advance(0);
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion with bookmarks and a 300–600 s timeout', async () => {
    const { port, clock, informer, seen } = setup({ random: () => 0.5 });
    port.put(WIDGETS, widget('a'));
    port.put(WIDGETS, widget('b'));
    await run(informer, clock);
    await clock.advance(0);
    expect(informer.hasSynced()).toBe(true);
    expect(names(informer)).toEqual(['a', 'b']);
    expect(seen.adds.sort()).toEqual(['a', 'b']);
    const watch = port.calls.find((c) => c.op === 'watch')?.options as WatchOptions;
    expect(watch).toMatchObject({ resourceVersion: informer.resourceVersion(), allowWatchBookmarks: true, timeoutSeconds: 450 });
    expect(informer.resourceVersion()).toBe('102');
  });

  it('applies watch events: add, update only on a new resourceVersion, delete, bookmark', async () => {
    const { port, clock, informer, seen } = setup();
    await run(informer, clock);
    port.put(WIDGETS, widget('a', { v: 1 }));
    port.put(WIDGETS, widget('a', { v: 2 }));
    await clock.advance(0);
    expect(seen).toMatchObject({ adds: ['a'], updates: ['a'] });
    expect(informer.get('a')?.['spec']).toEqual({ v: 2 });
    port.remove(WIDGETS, 'a');
    await clock.advance(0);
    expect(seen.deletes).toEqual(['a']);
    expect(informer.get('a')).toBeUndefined();
    port.silently(() => port.put(WIDGETS, widget('unseen')));
    port.bookmark(WIDGETS);
    await clock.advance(0);
    expect(informer.resourceVersion()).toBe(port.peek(WIDGETS, 'unseen')?.metadata.resourceVersion);
  });

  it('ignores a re-delivered object with an unchanged resourceVersion', async () => {
    const { port, clock, informer, seen } = setup();
    port.put(WIDGETS, widget('a'));
    await run(informer, clock);
    // The watch of the next cycle replays history the cache already holds.
    port.endWatches();
    await clock.advance(2000);
    expect(seen).toMatchObject({ adds: ['a'], updates: [] });
  });

  it('hands handlers frozen objects that the cache does not share with the port', async () => {
    const { port, clock, informer } = setup();
    const received: KubeObject[] = [];
    informer.addEventHandlers({ onAdd: (o) => received.push(o) });
    port.put(WIDGETS, widget('a', { nested: { x: 1 } }));
    await run(informer, clock);
    const obj = received[0]!;
    expect(() => {
      (obj['spec'] as { nested: { x: number } }).nested.x = 2;
    }).toThrow(TypeError);
    expect(() => {
      obj.metadata.labels = {};
    }).toThrow(TypeError);
    expect(informer.get('a')).toBe(obj);
  });

  it('keeps going when a handler throws', async () => {
    const { port, clock, informer, seen } = setup();
    informer.addEventHandlers({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    await run(informer, clock);
    port.put(WIDGETS, widget('a'));
    port.put(WIDGETS, widget('b'));
    await clock.advance(0);
    expect(seen.adds).toEqual(['a', 'b']);
  });

  it.each([
    { name: 'as a watch ERROR event', goneAs: 'event' as const },
    { name: 'as an HTTP 410 answer', goneAs: 'error' as const },
  ])('relists on 410 Gone $name, deleting objects that vanished meanwhile', async ({ goneAs }) => {
    const { port, clock, informer, seen } = setup();
    port.goneAs = goneAs;
    port.put(WIDGETS, widget('a'));
    port.put(WIDGETS, widget('b', { v: 1 }));
    port.put(WIDGETS, widget('gone'));
    await run(informer, clock);
    const listsBefore = port.count('list');
    // While the watch is down: changes the informer never sees as events, then a compaction.
    port.silently(() => {
      port.remove(WIDGETS, 'gone');
      port.put(WIDGETS, widget('b', { v: 2 }));
      port.put(WIDGETS, widget('new'));
    });
    port.compact();
    await clock.advance(5_000);
    const ended = clock.now();
    port.endWatches();
    await clock.until(() => port.count('list') > listsBefore && port.activeWatches === 1);
    expect(names(informer)).toEqual(['a', 'b', 'new']);
    expect(seen.deletes).toEqual(['gone']);
    expect(seen.updates).toEqual(['b']);
    expect(seen.adds.sort()).toEqual(['a', 'b', 'gone', 'new']);
    expect(informer.get('b')?.['spec']).toEqual({ v: 2 });
    expect(seen.relists).toBe(2);
    // The relist is immediate: 410 is the expected path after compaction, not a failure to back off from.
    expect(clock.now() - ended).toBeLessThan(100);
  });

  it('restarts after errors with jittered exponential backoff: 800 ms doubling to 30 s', async () => {
    const { port, clock, informer } = setup();
    await run(informer, clock);
    const times: number[] = [];
    watchTimes(port, clock, times);
    port.failNext('watch', ...Array.from({ length: 9 }, () => new KubeApiError(503, 'ServiceUnavailable', 'down')));
    port.breakWatches();
    await clock.until(() => times.length === 10 && port.activeWatches === 1, 600_000, 100);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual([1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000, 30000].map((g) => g));
    expect(times[0]).toBe(800);
    expect(port.maxActiveWatches).toBe(1);
  });

  it('backs off after a watch ERROR event other than 410, then resumes from the same resourceVersion', async () => {
    const { port, clock, informer } = setup();
    await run(informer, clock);
    const rv = informer.resourceVersion();
    const times: number[] = [];
    watchTimes(port, clock, times);
    const start = clock.now();
    const watch = port.count('watch');
    // An error the server reports in-band, on the open watch.
    port.errorEvent({ code: 500, reason: 'InternalError', message: 'etcd unavailable' });
    await clock.advance(0);
    expect(informer.lastError()).toMatchObject({ status: 500, reason: 'InternalError' });
    await clock.until(() => times.length === 1, 10_000, 1);
    expect(times[0]! - start).toBe(800);
    expect(port.count('watch')).toBe(watch + 1);
    expect((port.calls.filter((c) => c.op === 'watch').at(-1)?.options as WatchOptions).resourceVersion).toBe(rv);
    expect(port.count('list')).toBe(1);
  });

  it('stretches backoff delays by up to half with jitter', async () => {
    const { port, clock, informer } = setup({ random: () => 0.999 });
    await run(informer, clock);
    const times: number[] = [];
    watchTimes(port, clock, times);
    const start = clock.now();
    port.breakWatches();
    await clock.until(() => times.length === 1, 10_000, 1);
    expect(times[0]! - start).toBeCloseTo(800 * 1.4995, 0);
  });

  it('resets the backoff after a healthy period', async () => {
    const { port, clock, informer } = setup();
    await run(informer, clock);
    const times: number[] = [];
    watchTimes(port, clock, times);
    port.failNext('watch', new KubeApiError(500, 'InternalError', 'x'), new KubeApiError(500, 'InternalError', 'x'));
    port.breakWatches();
    await clock.until(() => times.length === 3 && port.activeWatches === 1, 60_000, 100);
    // Healthy for 2 minutes, then one failure: the delay is back to 800 ms.
    await clock.advance(120_000);
    const before = clock.now();
    port.breakWatches();
    await clock.until(() => times.length === 4, 60_000, 100);
    expect(times[3]! - before).toBe(800);
  });

  it('retries a failed first list with backoff and syncs when it succeeds', async () => {
    const { port, clock, informer } = setup();
    port.failNext('list', new KubeApiError(0, 'ECONNREFUSED', 'refused'), new KubeApiError(403, 'Forbidden', 'rbac'));
    port.put(WIDGETS, widget('a'));
    informer.start();
    await clock.advance(0);
    expect(informer.hasSynced()).toBe(false);
    expect(informer.lastError()).toBeInstanceOf(KubeApiError);
    await clock.advance(800);
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(1600);
    expect(informer.hasSynced()).toBe(true);
    expect(names(informer)).toEqual(['a']);
  });

  it('never runs two watches, however often start() is called', async () => {
    const { port, clock, informer } = setup();
    informer.start();
    await run(informer, clock);
    informer.start();
    for (let i = 0; i < 5; i++) {
      port.endWatches();
      await clock.advance(5_000);
      port.breakWatches();
      await clock.advance(60_000);
    }
    expect(port.maxActiveWatches).toBe(1);
    expect(port.count('list')).toBe(1);
  });

  it('backs off when the server ends watches at once without events', async () => {
    const { port, clock, informer } = setup();
    await run(informer, clock);
    const times: number[] = [];
    watchTimes(port, clock, times);
    // A server (or proxy) that closes each watch immediately.
    port.hook = (op) => {
      if (op === 'watch') {
        times.push(clock.now());
        queueMicrotask(() => port.endWatches());
      }
    };
    await clock.advance(10_000);
    expect(times.length).toBeLessThan(6);
  });

  it('relists periodically, catching changes whose events were lost', async () => {
    const { port, clock, informer, seen } = setup({ relistIntervalMs: 60_000 });
    port.put(WIDGETS, widget('a'));
    port.put(WIDGETS, widget('b'));
    await run(informer, clock);
    port.silently(() => port.remove(WIDGETS, 'b'));
    await clock.advance(59_000);
    expect(names(informer)).toEqual(['a', 'b']);
    await clock.advance(1_000);
    expect(port.count('list')).toBe(2);
    expect(names(informer)).toEqual(['a']);
    expect(seen.deletes).toEqual(['b']);
    expect(seen.relists).toBe(2);
    expect(port.maxActiveWatches).toBe(1);
    await clock.advance(60_000);
    expect(port.count('list')).toBe(3);
  });

  it('abandons a watch that outlives its timeout', async () => {
    const { port, clock, informer } = setup({ watchTimeoutSeconds: { min: 10, max: 10 }, relistIntervalMs: 0 });
    await run(informer, clock);
    expect(port.count('watch')).toBe(1);
    // The fake server never ends the watch by itself: the informer must give up at 10 s + 60 s.
    await clock.advance(69_999);
    expect(port.count('watch')).toBe(1);
    await clock.advance(1 + 800);
    expect(port.count('watch')).toBe(2);
    expect(port.maxActiveWatches).toBe(1);
  });

  it('restarts a watch ended by the server at once, from the last resourceVersion', async () => {
    const { port, clock, informer } = setup();
    await run(informer, clock);
    port.put(WIDGETS, widget('a'));
    await clock.advance(5_000);
    port.endWatches();
    await clock.advance(0);
    expect(port.count('watch')).toBe(2);
    expect((port.calls.filter((c) => c.op === 'watch')[1]?.options as WatchOptions).resourceVersion).toBe(port.peek(WIDGETS, 'a')?.metadata.resourceVersion);
    expect(port.count('list')).toBe(1);
  });

  it('stop() ends the watch and the loop; nothing runs afterwards', async () => {
    const { port, clock, informer } = setup();
    await run(informer, clock);
    await informer.stop();
    expect(port.activeWatches).toBe(0);
    const calls = port.calls.length;
    await clock.advance(3_600_000);
    expect(port.calls.length).toBe(calls);
    informer.start();
    await clock.advance(1000);
    expect(port.calls.length).toBe(calls);
  });

  it('stop() during a backoff returns promptly', async () => {
    const { port, clock, informer } = setup();
    port.failNext('list', new KubeApiError(500, 'InternalError', 'x'));
    informer.start();
    await clock.advance(0);
    await informer.stop();
    expect(informer.hasSynced()).toBe(false);
  });

  it('records contact with the server for liveness checks', async () => {
    const { port, clock, informer } = setup();
    expect(informer.lastContact()).toBeUndefined();
    await run(informer, clock);
    expect(informer.lastContact()).toBe(0);
    await clock.advance(5_000);
    port.put(WIDGETS, widget('a'));
    await clock.advance(0);
    expect(informer.lastContact()).toBe(5_000);
  });
});
