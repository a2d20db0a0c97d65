import type { Clock } from './clock.js';

/** Decides how long a re-queued key waits (client-go's workqueue RateLimiter). */
export interface RateLimiter<K> {
  /** The delay for the next retry of `key`; counts the retry. */
  when(key: K): number;
  /** Clears `key`'s failure history (after a success). */
  forget(key: K): void;
  /** How many times `key` has been retried since it was last forgotten. */
  retries(key: K): number;
}

/** Per-key exponential backoff: base·2^n, capped (client-go: 5 ms … 1000 s). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: K): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    // 2^n overflows long after the cap is reached; stop computing it there.
    if (n > 52) return this.maxMs;
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  retries(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (client-go: 10 qps, burst 100) with reservation semantics, like
 * Go's rate.Limiter: each call takes a token now or reserves the next free one, so the
 * delays handed out space the retries `1/qps` apart once the burst is used up.
 */
export class TokenBucketRateLimiter<K> implements RateLimiter<K> {
  #tokens: number;
  #at: number;

  constructor(
    private readonly clock: Clock,
    private readonly qps = 10,
    private readonly burst = 100,
  ) {
    this.#tokens = burst;
    this.#at = clock.now();
  }

  when(_key: K): number {
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.qps);
    this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.qps) * 1000;
  }

  forget(_key: K): void {}

  retries(_key: K): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(key: K): number {
    return Math.max(0, ...this.#limiters.map((l) => l.when(key)));
  }

  forget(key: K): void {
    for (const l of this.#limiters) l.forget(key);
  }

  retries(key: K): number {
    return Math.max(0, ...this.#limiters.map((l) => l.retries(key)));
  }
}

/** client-go's DefaultTypedControllerRateLimiter: max(per-key 5 ms…1000 s, bucket 10 qps / burst 100). */
export function defaultControllerRateLimiter<K>(clock: Clock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(5, 1_000_000), new TokenBucketRateLimiter<K>(clock, 10, 100));
}
