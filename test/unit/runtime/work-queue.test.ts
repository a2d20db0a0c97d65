import { describe, expect, it } from 'vitest';
import {
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  TokenBucketRateLimiter,
} from '../../../src/controller/runtime/rate-limiter.js';
import { WorkQueue, type WorkQueueMetrics } from '../../../src/controller/runtime/work-queue.js';
import { FakeClock, settle } from './fakes/fake-clock.js';

function queue(clock = new FakeClock()): { q: WorkQueue<string>; clock: FakeClock } {
  return { q: new WorkQueue<string>({ clock }), clock };
}

/** A get() whose result can be inspected without awaiting it. */
function pendingGet(q: WorkQueue<string>): { value: () => string | undefined | 'pending' } {
  let value: string | undefined | 'pending' = 'pending';
  void q.get().then((k) => (value = k));
  return { value: () => value };
}

describe('WorkQueue', () => {
  it('hands out low keys only when no other key waits, and moves a low key up when it is added plainly', async () => {
    const { q } = queue();
    q.add('l1', { low: true });
    q.add('l2', { low: true });
    q.add('n1');
    q.add('l3', { low: true });
    q.add('l2'); // moved up: behind n1, before the low ones
    q.add('l1', { low: true }); // already queued: nothing changes
    expect(q.len()).toBe(4);
    expect(q.frontLen()).toBe(2);
    const order: string[] = [];
    const front: number[] = [];
    for (let i = 0; i < 4; i++) {
      const k = (await q.get())!;
      order.push(k);
      front.push(q.frontLen());
      q.done(k);
    }
    expect(front).toEqual([1, 0, 0, 0]);
    expect(order).toEqual(['n1', 'l2', 'l1', 'l3']);
    expect(q.len()).toBe(0);
  });

  it('keeps a low key moved up while a worker holds it away from a second worker, and queues it once', async () => {
    const { q } = queue();
    q.add('a', { low: true });
    q.add('b', { low: true });
    expect(await q.get()).toBe('a');
    q.add('a', { low: true }); // while held
    q.add('a'); // moved up while held: queued plainly when done
    expect(await q.get()).toBe('b'); // a's old low entry is not handed out
    q.done('b');
    const third = pendingGet(q);
    await settle();
    expect(third.value()).toBe('pending');
    q.done('a');
    await settle();
    expect(third.value()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    q.add('c', { low: true });
    expect(await q.get()).toBe('c');
  });

  it('whenIdle resolves once nothing is queued or in a worker, or when its time is up', async () => {
    const { q, clock } = queue();
    let idle = false;
    await q.whenIdle(1000);
    q.add('a');
    q.add('b');
    void q.whenIdle(10_000).then(() => (idle = true));
    const a = await q.get();
    q.done(a!);
    await settle();
    expect(idle).toBe(false); // b is still queued
    const b = await q.get();
    await settle();
    expect(idle).toBe(false); // b is in a worker
    q.done(b!);
    await settle();
    expect(idle).toBe(true);

    let timedOut = false;
    q.add('c');
    void q.whenIdle(500).then(() => (timedOut = true));
    await clock.advance(499);
    expect(timedOut).toBe(false);
    await clock.advance(1);
    expect(timedOut).toBe(true);
  });

  it('queues a key once however often it is added, in FIFO order', async () => {
    const { q } = queue();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.len()).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a', 'b', 'c']);
  });

  it('never hands a key being processed to a second worker, and re-queues it after done', async () => {
    const { q } = queue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a'); // added again while a worker holds it
    expect(q.len()).toBe(0);
    const second = pendingGet(q);
    await settle();
    expect(second.value()).toBe('pending');
    q.done('a');
    await settle();
    expect(second.value()).toBe('a');
  });

  it('hands other keys to other workers while one key is processed', async () => {
    const { q } = queue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('b');
    expect(await q.get()).toBe('b');
    q.done('a');
    expect(await q.get()).toBe('a');
  });

  it('does not re-queue a key on done when it was not added meanwhile', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('addAfter queues the key only when the delay has passed, keeping the earlier of two times', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(10_000);
    expect(q.len()).toBe(1); // the later timers were replaced, not added
  });

  it('addRateLimited backs off per key: 5 ms, 10 ms, 20 ms …, and forget starts over', async () => {
    const { q, clock } = queue();
    const retryAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = clock.now();
      q.addRateLimited('a');
      await clock.until(() => q.len() === 1, 1000, 1);
      retryAt.push(clock.now() - before);
      await q.get();
      q.done('a');
    }
    expect(retryAt).toEqual([5, 10, 20, 40]);
    expect(q.numRequeues('a')).toBe(4);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('shutDown ignores new keys and wakes idle workers with undefined', async () => {
    const { q } = queue();
    const idle = pendingGet(q);
    q.shutDown();
    await settle();
    expect(idle.value()).toBeUndefined();
    q.add('a');
    q.addAfter('b', 1);
    q.addRateLimited('c');
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it('shutDown cancels delayed keys', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 100);
    q.shutDown();
    expect(clock.pending()).toBe(0);
  });

  it('shutDownWithDrain waits for keys in flight to be done', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    let drained: boolean | undefined;
    void q.shutDownWithDrain(30_000).then((d) => (drained = d));
    await settle();
    expect(drained).toBeUndefined();
    q.done('a');
    await settle();
    expect(drained).toBe(true);
  });

  it('shutDownWithDrain gives up after its timeout', async () => {
    const { q, clock } = queue();
    q.add('a');
    await q.get();
    let drained: boolean | undefined;
    void q.shutDownWithDrain(30_000).then((d) => (drained = d));
    await clock.advance(29_999);
    expect(drained).toBeUndefined();
    await clock.advance(1);
    expect(drained).toBe(false);
  });

  it('shutDownWithDrain resolves at once when nothing is in flight', async () => {
    const { q } = queue();
    expect(await q.shutDownWithDrain(1000)).toBe(true);
  });

  it('reports adds, depth, queue and work durations, and retries', async () => {
    const clock = new FakeClock();
    const seen = { added: 0, depth: [] as number[], queued: [] as number[], worked: [] as number[], retried: 0 };
    const metrics: WorkQueueMetrics = {
      added: () => seen.added++,
      depth: (n) => seen.depth.push(n),
      queued: (s) => seen.queued.push(s),
      worked: (s) => seen.worked.push(s),
      retried: () => seen.retried++,
    };
    const q = new WorkQueue<string>({ clock, metrics });
    q.add('a');
    q.add('a');
    await clock.advance(250);
    await q.get();
    await clock.advance(1500);
    q.done('a');
    q.addRateLimited('a');
    expect(seen).toEqual({ added: 1, depth: [1, 0], queued: [0.25], worked: [1.5], retried: 1 });
  });
});

describe('rate limiters', () => {
  it('per-key exponential: 5 ms doubling, capped at 1000 s, independent per key', () => {
    const l = new ItemExponentialRateLimiter<string>();
    const delays = Array.from({ length: 30 }, () => l.when('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays[17]).toBe(5 * 2 ** 17); // 655.36 s, still under the cap
    expect(delays[18]).toBe(1_000_000);
    expect(delays.slice(18).every((d) => d === 1_000_000)).toBe(true);
    expect(l.when('b')).toBe(5);
    for (let i = 0; i < 100; i++) l.when('a');
    expect(l.when('a')).toBe(1_000_000); // no overflow to NaN or Infinity
  });

  it('token bucket: a burst of 100 at once, then one every 100 ms, refilled at 10 per second', async () => {
    const clock = new FakeClock();
    const l = new TokenBucketRateLimiter<string>(clock, 10, 100);
    const burst = Array.from({ length: 100 }, (_, i) => l.when(`k${i}`));
    expect(burst.every((d) => d === 0)).toBe(true);
    expect([l.when('x'), l.when('y'), l.when('z')]).toEqual([100, 200, 300]);
    await clock.advance(10_000); // 100 tokens' worth, minus the 3 reserved
    const after = Array.from({ length: 98 }, (_, i) => l.when(`r${i}`));
    expect(after.slice(0, 97).every((d) => d === 0)).toBe(true);
    expect(after[97]).toBeCloseTo(100);
  });

  it('the default controller limiter is the larger of the two', () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter<string>(clock);
    // The bucket's burst absorbs the first 100 retries; the per-key backoff dominates.
    expect([l.when('a'), l.when('a'), l.when('a')]).toEqual([5, 10, 20]);
    for (let i = 0; i < 97; i++) l.when(`k${i}`);
    // Bucket empty: the 101st retry waits 100 ms even though its key's backoff is only 5 ms.
    expect(l.when('fresh')).toBe(100);
    expect(l.retries('a')).toBe(3);
    l.forget('a');
    expect(l.retries('a')).toBe(0);
  });
});
