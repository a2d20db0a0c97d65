import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** Milliseconds; generous by default because the suites share two busy cores. */
  readonly timeout?: number;
  readonly interval?: number;
  /** Says what was awaited, for the timeout error. */
  readonly message?: string;
}

/**
 * Re-evaluates `cond` until it returns a truthy value (which is returned) without throwing.
 * This is how tests wait for the cluster: on a condition, never on a fixed sleep.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeout = opts.timeout ?? 30_000;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : last === undefined ? '' : `: ${String(last)}`;
      throw new Error(`timed out after ${timeout}ms waiting for ${opts.message ?? 'a condition'}${why}`);
    }
    await delay(opts.interval ?? 200);
  }
}
