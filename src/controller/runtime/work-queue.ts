import { type Clock, systemClock, type Timer } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** What a work queue reports; Metrics.workQueue(name) provides the Prometheus implementation. */
export interface WorkQueueMetrics {
  added(): void;
  depth(depth: number): void;
  /** A key waited this long between being queued and being handed to a worker. */
  queued(seconds: number): void;
  /** A worker held a key this long. */
  worked(seconds: number): void;
  retried(): void;
}

export interface WorkQueueOptions<K> {
  readonly clock?: Clock;
  readonly rateLimiter?: RateLimiter<K>;
  readonly metrics?: WorkQueueMetrics;
}

/** A FIFO whose shift() is amortised O(1). */
class Fifo<K> {
  #items: K[] = [];
  #head = 0;

  push(key: K): void {
    this.#items.push(key);
  }

  shift(): K | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head++] as K;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }
}

/** Options of WorkQueue.add. */
export interface AddOptions {
  /**
   * Queued behind every key added without it (controller-runtime's priority queue does the
   * same for work that can wait): rechecks that follow from other keys' work must not delay
   * the changes people just made. A key added without it later moves to the front lane.
   */
  readonly low?: boolean;
}

/**
 * client-go's rate-limited work queue. A key is queued at most once however often it is
 * added; a key being processed is never handed to a second worker, and if it is added
 * meanwhile it is queued again when the first worker calls done(). Keys compare by
 * identity, so use strings (or other primitives).
 */
export class WorkQueue<K> {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<K>;
  readonly #metrics: WorkQueueMetrics | undefined;
  /** Keys in FIFO order, in two lanes: #low only when #normal is empty (see AddOptions.low). */
  readonly #normal = new Fifo<K>();
  readonly #low = new Fifo<K>();
  /** Dirty keys whose lane is the low one; a key in #low but not here was moved up (skipped there). */
  readonly #lowKeys = new Set<K>();
  /** Live entries in #low (not counting skipped ones). */
  #lowQueued = 0;
  /** Keys that need processing: queued, or re-added while being processed. */
  readonly #dirty = new Set<K>();
  readonly #processing = new Map<K, number>();
  readonly #queuedAt = new Map<K, number>();
  readonly #delayed = new Map<K, { at: number; timer: Timer }>();
  #waiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #shuttingDown = false;
  #drained: (() => void) | undefined;

  constructor(options: WorkQueueOptions<K> = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter<K>(this.#clock);
    this.#metrics = options.metrics;
  }

  /** Queues `key` unless it is already queued; ignored after shutdown. */
  add(key: K, options: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    const low = options.low === true;
    if (this.#dirty.has(key)) {
      if (low || !this.#lowKeys.delete(key)) return;
      // Moved up: its entry in the low lane is skipped when reached.
      if (!this.#processing.has(key)) {
        this.#lowQueued--;
        this.#normal.push(key);
        this.#waiters.shift()?.();
      }
      return;
    }
    this.#metrics?.added();
    this.#dirty.add(key);
    if (low) this.#lowKeys.add(key);
    this.#queuedAt.set(key, this.#clock.now());
    if (this.#processing.has(key)) return;
    this.#push(key);
    this.#metrics?.depth(this.len());
    this.#waiters.shift()?.();
  }

  #push(key: K): void {
    if (this.#lowKeys.has(key)) {
      this.#low.push(key);
      this.#lowQueued++;
    } else {
      this.#normal.push(key);
    }
  }

  /** The next key to hand out: the normal lane first; undefined when both are empty. */
  #next(): K | undefined {
    const key = this.#normal.shift();
    if (key !== undefined) return key;
    for (let k = this.#low.shift(); k !== undefined; k = this.#low.shift()) {
      // An entry left behind by a key moved up; the key may be low again, or with a worker.
      if (this.#processing.has(k) || !this.#lowKeys.delete(k)) continue;
      this.#lowQueued--;
      return k;
    }
    return undefined;
  }

  /** Queues `key` after `ms`; a key already waiting keeps the earlier of the two times. */
  addAfter(key: K, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const waiting = this.#delayed.get(key);
    if (waiting && waiting.at <= at) return;
    waiting?.timer.cancel();
    const timer = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, timer });
  }

  /** Queues `key` after its rate limiter's delay: exponential per key, within the overall bucket. */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retried();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Ends `key`'s backoff history; call it when the key was processed successfully. */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  /** How many rate-limited retries `key` has had since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#limiter.retries(key);
  }

  /**
   * The next key, waiting for one if needed; undefined once the queue is shut down and empty.
   * The caller owns the key until it calls done(key).
   */
  async get(): Promise<K | undefined> {
    while (this.len() === 0) {
      if (this.#shuttingDown) return undefined;
      await new Promise<void>((wake) => this.#waiters.push(wake));
    }
    const key = this.#next() as K;
    const now = this.#clock.now();
    this.#metrics?.depth(this.len());
    this.#metrics?.queued((now - (this.#queuedAt.get(key) ?? now)) / 1000);
    this.#queuedAt.delete(key);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    return key;
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again now. */
  done(key: K): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics?.worked((this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key)) {
      this.#push(key);
      this.#metrics?.depth(this.len());
      this.#waiters.shift()?.();
    }
    if (this.#processing.size === 0) this.#drained?.();
    this.#wakeIfIdle();
  }

  /**
   * Resolves once no key is queued or held by a worker (keys waiting out a delay do not count),
   * the queue is shut down, or `maxWaitMs` has passed: for work that should not compete with
   * reconciles, nor wait for ever behind them.
   */
  whenIdle(maxWaitMs: number): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = this.#clock.setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve();
      }, maxWaitMs);
      this.#idleWaiters.push(wake);
    });
  }

  #idle(): boolean {
    return this.#shuttingDown || (this.len() === 0 && this.#processing.size === 0);
  }

  #wakeIfIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#idle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Keys waiting for a worker in the front lane (added without `low`). */
  frontLen(): number {
    return this.#normal.size;
  }

  /** Keys waiting for a worker. */
  len(): number {
    return this.#normal.size + this.#lowQueued;
  }

  /** Keys currently held by workers, with how long each has been held (seconds). */
  inFlight(): { key: K; seconds: number }[] {
    const now = this.#clock.now();
    return [...this.#processing].map(([key, at]) => ({ key, seconds: (now - at) / 1000 }));
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops accepting keys and wakes idle workers; get() still hands out what is queued. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();    this.#wakeIfIdle();
  }

  /**
   * Shuts down and waits until every key handed out has been marked done. Resolves true when
   * drained, false when `timeoutMs` passed first.
   */
  async shutDownWithDrain(timeoutMs: number): Promise<boolean> {
    this.shutDown();
    if (this.#processing.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#drained = undefined;
        resolve(false);
      }, timeoutMs);
      this.#drained = () => {
        timer.cancel();
        this.#drained = undefined;
        resolve(true);
      };
    });
  }
}
