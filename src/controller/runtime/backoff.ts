import type { Clock } from './clock.js';

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  /** After this long without a failure the next delay starts from initialMs again. */
  readonly resetAfterMs?: number;
  /** Each delay is stretched by up to this fraction, so that restarting clients spread out. */
  readonly jitter?: number;
}

/**
 * Jittered exponential backoff with a reset after a healthy period: client-go's reflector
 * backoff (800 ms doubling to 30 s, reset after 2 min) by default.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #resetAfter: number;
  readonly #jitter: number;
  #current = 0;
  #lastAt: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
    options: BackoffOptions = {},
  ) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#resetAfter = options.resetAfterMs ?? 120_000;
    this.#jitter = options.jitter ?? 0.5;
  }

  /** The delay before the next attempt after a failure now. */
  next(): number {
    const now = this.clock.now();
    const healthy = this.#lastAt === undefined || now - this.#lastAt >= this.#resetAfter;
    this.#current = healthy ? this.#initial : Math.min(this.#current * 2, this.#max);
    this.#lastAt = now;
    return Math.min(this.#max, this.#current * (1 + this.random() * this.#jitter));
  }

  /** Forgets past failures: the next delay is initialMs. */
  reset(): void {
    this.#lastAt = undefined;
  }
}
