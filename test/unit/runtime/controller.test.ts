import { describe, expect, it } from 'vitest';
import { Controller, type ReconcileOutcome } from '../../../src/controller/runtime/controller.js';
import { Metrics } from '../../../src/controller/runtime/metrics.js';
import { WorkQueue } from '../../../src/controller/runtime/work-queue.js';
import { FakeClock, settle } from './fakes/fake-clock.js';

/** A reconcile that the test finishes by hand, recording what ran when. */
class Script {
  readonly calls: { key: string; at: number }[] = [];
  readonly running = new Map<string, (outcome?: ReconcileOutcome | Error) => void>();
  maxConcurrent = 0;
  concurrentSameKey = false;
  auto: ((key: string) => ReconcileOutcome | Error | undefined) | undefined;

  constructor(private readonly clock: FakeClock) {}

  reconcile = (key: string): Promise<ReconcileOutcome | void> => {
    if (this.running.has(key)) this.concurrentSameKey = true;
    this.calls.push({ key, at: this.clock.now() });
    if (this.auto) {
      const r = this.auto(key);
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return new Promise((resolve, reject) => {
      this.running.set(key, (outcome) => {
        this.running.delete(key);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      });
      this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
    });
  };

  finish(key: string, outcome?: ReconcileOutcome | Error): void {
    const f = this.running.get(key);
    if (!f) throw new Error(`${key} is not running`);
    f(outcome);
  }

  keys(): string[] {
    return this.calls.map((c) => c.key);
  }
}

function setup(workers = 1, informers: { synced: Promise<void> }[] = []): { clock: FakeClock; script: Script; controller: Controller<string>; metrics: Metrics } {
  const clock = new FakeClock();
  const script = new Script(clock);
  const metrics = new Metrics({ processMetrics: false });
  const controller = new Controller<string>({
    name: 'cnp',
    reconcile: script.reconcile,
    workers,
    informers,
    clock,
    queue: new WorkQueue<string>({ clock, metrics: metrics.workQueue('cnp') }),
    metrics: metrics.controller('cnp'),
  });
  return { clock, script, controller, metrics };
}

async function metric(metrics: Metrics, line: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('Controller', () => {
  it('starts workers only after the informers have synced', async () => {
    let sync!: () => void;
    const synced = new Promise<void>((r) => (sync = r));
    const { clock, script, controller } = setup(1, [{ synced }]);
    controller.enqueue('a');
    const started = controller.start();
    await clock.advance(1_000);
    expect(script.calls).toEqual([]);
    sync();
    await started;
    await clock.advance(0);
    expect(script.keys()).toEqual(['a']);
  });

  it('fails start() when the caches do not sync in time', async () => {
    const { clock, controller } = setup(1, [{ synced: new Promise<void>(() => undefined) }]);
    const started = controller.start().then(
      () => 'started',
      (e: Error) => e.message,
    );
    await clock.advance(120_000);
    expect(await started).toMatch(/caches did not sync within 120000ms/);
  });

  it('retries a failing key with exponential backoff and forgets it after a success', async () => {
    const { clock, script, controller } = setup();
    let failures = 3;
    script.auto = () => (failures-- > 0 ? new Error('apply failed') : undefined);
    await controller.start();
    controller.enqueue('a');
    await clock.advance(1_000);
    expect(script.calls.map((c) => c.at)).toEqual([0, 5, 15, 35]);
    expect(controller.queue.numRequeues('a')).toBe(0);
  });

  it('re-queues after requeueAfter, and with backoff for requeue', async () => {
    const { clock, script, controller } = setup();
    const outcomes: ReconcileOutcome[] = [{ requeueAfter: 30_000 }, { requeue: true }, {}];
    script.auto = () => outcomes.shift();
    await controller.start();
    controller.enqueue('a');
    await clock.advance(60_000);
    expect(script.calls.map((c) => c.at)).toEqual([0, 30_000, 30_005]);
  });

  it('runs different keys in parallel but never one key twice at once', async () => {
    const { clock, script, controller } = setup(3);
    await controller.start();
    for (const k of ['a', 'b', 'c', 'a', 'd']) controller.enqueue(k);
    await clock.advance(0);
    expect(script.maxConcurrent).toBe(3);
    expect([...script.running.keys()].sort()).toEqual(['a', 'b', 'c']);
    controller.enqueue('a'); // changes while 'a' is reconciled
    await clock.advance(0);
    script.finish('b');
    await clock.advance(0);
    expect([...script.running.keys()].sort()).toEqual(['a', 'c', 'd']);
    script.finish('a');
    await clock.advance(0);
    expect(script.keys().filter((k) => k === 'a')).toHaveLength(2);
    expect(script.concurrentSameKey).toBe(false);
  });

  it('stop() lets reconciles in flight finish and takes no new keys', async () => {
    const { clock, script, controller } = setup();
    await controller.start();
    controller.enqueue('a');
    controller.enqueue('b');
    await clock.advance(0);
    let stopped: boolean | undefined;
    void controller.stop(30_000).then((s) => (stopped = s));
    await clock.advance(1_000);
    expect(stopped).toBeUndefined();
    script.finish('a');
    await settle();
    expect(stopped).toBe(true);
    expect(script.keys()).toEqual(['a']);
    controller.enqueue('c');
    await clock.advance(1_000);
    expect(script.keys()).toEqual(['a']);
  });

  it('stop() gives up on a reconcile that outlasts the timeout', async () => {
    const { clock, controller } = setup();
    await controller.start();
    controller.enqueue('stuck');
    await clock.advance(0);
    let stopped: boolean | undefined;
    void controller.stop(30_000).then((s) => (stopped = s));
    await clock.advance(30_000);
    expect(stopped).toBe(false);
  });

  it('reports controller-runtime metrics', async () => {
    const { clock, script, controller, metrics } = setup(2);
    const results = [new Error('x'), undefined, { requeueAfter: 1_000_000 }];
    script.auto = () => results.shift();
    await controller.start();
    controller.enqueue('a');
    controller.enqueue('b');
    await clock.advance(100);
    expect(await metric(metrics, 'controller_runtime_reconcile_total{controller="cnp",result="error"}')).toBe(1);
    expect(await metric(metrics, 'controller_runtime_reconcile_total{controller="cnp",result="success"}')).toBe(1);
    expect(await metric(metrics, 'controller_runtime_reconcile_total{controller="cnp",result="requeue_after"}')).toBe(1);
    expect(await metric(metrics, 'controller_runtime_reconcile_errors_total{controller="cnp"}')).toBe(1);
    expect(await metric(metrics, 'controller_runtime_reconcile_time_seconds_count{controller="cnp"}')).toBe(3);
    expect(await metric(metrics, 'controller_runtime_active_workers{controller="cnp"}')).toBe(0);
    expect(await metric(metrics, 'controller_runtime_max_concurrent_reconciles{controller="cnp"}')).toBe(2);
    expect(await metric(metrics, 'workqueue_adds_total{name="cnp",controller="cnp"}')).toBe(3);
    expect(await metric(metrics, 'workqueue_retries_total{name="cnp",controller="cnp"}')).toBe(1);
    expect(await metric(metrics, 'workqueue_depth{name="cnp",controller="cnp"}')).toBe(0);
  });
});
