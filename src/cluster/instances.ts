import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBinaries } from './binaries.js';
import { startControlPlane } from './controlplane.js';
import { ControlPlaneError } from './errors.js';
import { clustersDir } from './paths.js';
import { isAlive, type ProcessRecord, terminate } from './processes.js';
import { type ClusterState, listStateDirs, readState } from './state.js';

/** Named, detached control planes that outlive the command that started them. */

const NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export function validateName(name: string): string {
  if (!NAME.test(name)) {
    throw new ControlPlaneError(`invalid cluster name "${name}": use lower-case letters, digits and dashes (at most 40)`, 2);
  }
  return name;
}

export function stateDirFor(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(clustersDir(env), validateName(name));
}

export type Health = 'running' | 'starting' | 'degraded' | 'stopped';

export interface InstanceStatus {
  readonly name: string;
  readonly dir: string;
  readonly health: Health;
  readonly state?: ClusterState;
  readonly alive: readonly ProcessRecord[];
}

export function instanceStatus(name: string, env: NodeJS.ProcessEnv = process.env): InstanceStatus {
  const dir = stateDirFor(name, env);
  const state = readState(dir);
  const alive = (state?.processes ?? []).filter((p) => isAlive(p));
  let health: Health = 'stopped';
  if (state && alive.length > 0) {
    if (alive.length < state.processes.length) health = 'degraded';
    else health = state.ready ? 'running' : 'starting';
  }
  return { name, dir, health, alive, ...(state ? { state } : {}) };
}

export function listInstances(env: NodeJS.ProcessEnv = process.env): InstanceStatus[] {
  return listStateDirs(clustersDir(env)).filter((n) => NAME.test(n)).map((n) => instanceStatus(n, env));
}

export interface UpOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly progress?: (message: string) => void;
}

export interface UpResult {
  readonly state: ClusterState;
  readonly reused: boolean;
}

export async function clusterUp(name: string, opts: UpOptions = {}): Promise<UpResult> {
  const env = opts.env ?? process.env;
  const current = instanceStatus(name, env);
  if (current.health === 'running' && current.state) return { state: current.state, reused: true };
  if (current.alive.length > 0) {
    // Half-started or half-dead: nothing in it is worth keeping, and its ports may be needed.
    opts.progress?.(`cleaning up the ${current.health} instance "${name}"`);
    await stopOrThrow([...current.alive].reverse());
  }
  rmSync(current.dir, { recursive: true, force: true });
  const binaries = await ensureBinaries({ env });
  const cp = await startControlPlane({
    name,
    stateDir: current.dir,
    binaries,
    detached: true,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const state = readState(cp.stateDir);
  if (!state) throw new ControlPlaneError(`${cp.stateDir}: state file missing after start`);
  return { state, reused: false };
}

export interface DownResult {
  readonly found: boolean;
  readonly stopped: readonly ProcessRecord[];
}

export async function clusterDown(name: string, env: NodeJS.ProcessEnv = process.env): Promise<DownResult> {
  const current = instanceStatus(name, env);
  if (!current.state && !existsSync(current.dir)) return { found: false, stopped: [] };
  await stopOrThrow([...(current.state?.processes ?? [])].reverse());
  rmSync(current.dir, { recursive: true, force: true });
  return { found: true, stopped: current.alive };
}

async function stopOrThrow(recs: readonly ProcessRecord[]): Promise<void> {
  const left = await terminate(recs);
  if (left.length > 0) {
    throw new ControlPlaneError(`still running after SIGKILL: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  }
}
