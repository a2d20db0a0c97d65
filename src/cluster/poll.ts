import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/** Re-checks `cond` until it holds or the time is up; returns whether it held. */
export async function pollUntil(cond: () => boolean | Promise<boolean>, opts: PollOptions): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline) return false;
    await delay(opts.intervalMs ?? 100);
  }
}
