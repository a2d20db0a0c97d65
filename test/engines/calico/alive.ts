import { waitFor, type WaitOptions } from '../../harness/wait.js';

/**
 * waitFor, except that a component found dead (`alive` throws) ends the wait at once with that
 * error instead of letting it run into its timeout.
 */
export async function waitWhileAlive(cond: () => Promise<boolean>, alive: () => void, opts: WaitOptions): Promise<void> {
  let dead: unknown;
  await waitFor(async () => {
    try {
      alive();
    } catch (err) {
      dead = err;
      return true;
    }
    return cond();
  }, opts);
  if (dead !== undefined) throw dead;
}
