/** A scheduled callback that can be cancelled; cancelling a fired timer is harmless. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as the runtime sees it, injected so tests can drive it. Intervals and expiry use the
 * monotonic `now()`; only timestamps written to the API use the wall clock.
 */
export interface Clock {
  /** Monotonic milliseconds (immune to wall-clock steps); only differences are meaningful. */
  now(): number;
  /** The wall-clock time. */
  date(): Date;
  setTimeout(fn: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  date: () => new Date(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
