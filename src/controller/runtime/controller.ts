import { type Clock, systemClock } from './clock.js';
import { type Informer, waitForCacheSync } from './informer.js';
import { type Logger, silentLogger } from './log.js';
import type { ControllerMetrics, ReconcileResult } from './metrics.js';
import { type AddOptions, WorkQueue } from './work-queue.js';

/** What a reconcile asks for besides success: a retry with backoff, or a re-check after a delay. */
export interface ReconcileOutcome {
  /** Re-queue with the key's backoff, without counting an error. */
  readonly requeue?: boolean;
  /** Re-queue after this many milliseconds (and forget the backoff). */
  readonly requeueAfter?: number;
}

export type Reconcile<K> = (key: K) => Promise<ReconcileOutcome | void>;

export interface ControllerOptions<K> {
  /** Labels metrics and logs. */
  readonly name: string;
  readonly reconcile: Reconcile<K>;
  /** Concurrent reconciles (controller-runtime's MaxConcurrentReconciles); one key never runs twice at once. Default 1. */
  readonly workers?: number;
  /** The queue to work from; by default a fresh one with the default rate limiter. */
  readonly queue?: WorkQueue<K>;
  /** Workers start only once these caches have synced. */
  readonly informers?: readonly Pick<Informer, 'synced'>[];
  /** How long start() waits for the caches (2 min). */
  readonly cacheSyncTimeoutMs?: number;
  readonly metrics?: ControllerMetrics;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/**
 * controller-runtime's controller: workers take keys from a work queue and reconcile them.
 * An error (a throw) re-queues the key with its exponential backoff; success forgets the
 * backoff, and requeueAfter schedules a re-check.
 */
export class Controller<K> {
  readonly name: string;
  readonly queue: WorkQueue<K>;
  readonly #o: ControllerOptions<K>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #workers: Promise<void>[] = [];
  #stopping = false;
  #started = false;

  constructor(options: ControllerOptions<K>) {
    this.#o = options;
    this.name = options.name;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.log ?? silentLogger).child({ controller: options.name });
    this.queue = options.queue ?? new WorkQueue<K>({ clock: this.#clock });
  }

  /** Queues a key (de-duplicated); safe before start(), ignored after stop(). */
  enqueue(key: K, options?: AddOptions): void {
    this.queue.add(key, options);
  }

  /**
   * Waits for the caches, then starts the workers and returns. Rejects when the caches do not
   * sync in time (the manager should exit then; controller-runtime does the same).
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const timeout = this.#o.cacheSyncTimeoutMs ?? 120_000;
    if (!(await waitForCacheSync(this.#o.informers ?? [], timeout, this.#clock))) {
      throw new Error(`controller ${this.name}: caches did not sync within ${timeout}ms`);
    }
    if (this.#stopping) return;
    const workers = Math.max(1, this.#o.workers ?? 1);
    this.#o.metrics?.maxConcurrentReconciles(workers);
    this.#log.info('starting workers', { workers });
    for (let i = 0; i < workers; i++) this.#workers.push(this.#work());
  }

  /**
   * Stops taking keys and waits up to `timeoutMs` (controller-runtime: 30 s) for reconciles in
   * flight. Resolves true if they all finished. Queued keys are dropped: reconciles are
   * level-triggered and the next start lists everything again.
   */
  async stop(timeoutMs = 30_000): Promise<boolean> {
    this.#stopping = true;
    const drained = await this.queue.shutDownWithDrain(timeoutMs);
    if (drained) await Promise.all(this.#workers);
    else this.#log.warn('reconciles still running after the shutdown timeout', { inFlight: this.queue.inFlight().map((f) => String(f.key)) });
    return drained;
  }

  async #work(): Promise<void> {
    while (!this.#stopping) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (this.#stopping) {
        this.queue.done(key);
        return;
      }
      await this.#process(key);
    }
  }

  async #process(key: K): Promise<void> {
    const metrics = this.#o.metrics;
    const started = this.#clock.now();
    metrics?.activeWorkers(1);
    let result: ReconcileResult;
    try {
      const outcome = (await this.#o.reconcile(key)) ?? {};
      if (outcome.requeueAfter !== undefined && outcome.requeueAfter > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, outcome.requeueAfter);
        result = 'requeue_after';
      } else if (outcome.requeue) {
        this.queue.addRateLimited(key);
        result = 'requeue';
      } else {
        this.queue.forget(key);
        result = 'success';
      }
    } catch (err) {
      this.queue.addRateLimited(key);
      result = 'error';
      this.#log.error('reconcile failed', { key: String(key), retries: this.queue.numRequeues(key), error: err });
    } finally {
      metrics?.activeWorkers(-1);
      this.queue.done(key);
    }
    metrics?.reconciled(result, (this.#clock.now() - started) / 1000);
  }
}
