import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { pollUntil } from './poll.js';

/** What is needed to find a component again from another process (the state file). */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  readonly exe: string;
  readonly log: string;
}

export interface Running extends ProcessRecord {
  /** Set once the process has exited while we watched it (only in the process that started it). */
  readonly exit: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export interface SpawnOptions {
  readonly name: string;
  readonly exe: string;
  readonly args: readonly string[];
  readonly log: string;
  /** Own session and no tie to our event loop: the process outlives the CLI that started it. */
  readonly detached: boolean;
}

export function spawnComponent(opts: SpawnOptions): Running {
  const fd = openSync(opts.log, 'a');
  try {
    const child = spawn(opts.exe, [...opts.args], { detached: opts.detached, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${opts.exe}`);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, signal) => (exit = { code, signal }));
    child.on('error', () => (exit ??= { code: 127, signal: null }));
    if (opts.detached) child.unref();
    return { name: opts.name, pid: child.pid, exe: opts.exe, log: opts.log, exit: () => exit };
  } finally {
    closeSync(fd);
  }
}

/**
 * True while `pid` is a live (non-zombie) process running `exe`. Checking the executable
 * keeps a stale state file from ever signalling an unrelated process that reused the PID.
 */
export function isAlive(rec: Pick<ProcessRecord, 'pid' | 'exe'>): boolean {
  try {
    process.kill(rec.pid, 0);
  } catch {
    // ESRCH: gone; EPERM: another user's process, so not one we started
    return false;
  }
  if (!hasProc()) return true;
  try {
    const stat = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const argv0 = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === rec.exe;
  } catch {
    return false;
  }
}

let procCache: boolean | undefined;
function hasProc(): boolean {
  if (procCache === undefined) {
    try {
      readFileSync('/proc/self/stat');
      procCache = true;
    } catch {
      procCache = false;
    }
  }
  return procCache;
}

function signal(rec: ProcessRecord, sig: NodeJS.Signals): void {
  if (!isAlive(rec)) return;
  try {
    process.kill(rec.pid, sig);
  } catch {
    // gone between the check and the signal
  }
}

/**
 * Stops the processes in the given order (dependents first): SIGTERM, then SIGKILL after
 * `graceMs`. Returns the ones still alive afterwards (normally none).
 */
export async function terminate(recs: readonly ProcessRecord[], graceMs = 10_000): Promise<ProcessRecord[]> {
  for (const rec of recs) {
    signal(rec, 'SIGTERM');
    const stopped = await pollUntil(() => !isAlive(rec), { timeoutMs: graceMs, intervalMs: 50 });
    if (!stopped) {
      signal(rec, 'SIGKILL');
      await pollUntil(() => !isAlive(rec), { timeoutMs: 5_000, intervalMs: 50 });
    }
  }
  return recs.filter((r) => isAlive(r));
}

/** The last lines of a component's log, for error messages. */
export function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
