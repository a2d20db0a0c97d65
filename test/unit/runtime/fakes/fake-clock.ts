import type { Clock, Timer } from '../../../../src/controller/runtime/clock.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told. advance() fires due timers in time order and lets the
 * promise chains they start settle between timers, so async code runs as it would live.
 */
export class FakeClock implements Clock {
  /** The wall-clock time at now() = 0. */
  readonly epoch = Date.parse('2026-11-25T13:00:00.000Z');
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, Scheduled>();

  now(): number {
    return this.#now;
  }

  date(): Date {
    return new Date(this.epoch + this.#now);
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, ms), seq, fn });
    return { cancel: () => this.#timers.delete(seq) };
  }

  /** Number of timers not yet fired or cancelled. */
  pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#next(target);
      if (!next) break;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
    await settle();
  }

  /** Advances in `stepMs` steps until `cond()` holds; throws after `maxMs` of fake time. */
  async until(cond: () => boolean, maxMs = 600_000, stepMs = 10): Promise<void> {
    const limit = this.#now + maxMs;
    await settle();
    while (!cond()) {
      if (this.#now >= limit) throw new Error(`condition not met within ${maxMs}ms of fake time`);
      await this.advance(stepMs);
    }
  }

  #next(target: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.#timers.values()) {
      if (t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets pending promise chains run to completion (they involve no real I/O in these tests). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
