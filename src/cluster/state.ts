import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRecord } from './processes.js';

/**
 * What `cluster down` and `cluster status` need. Rewritten after every process starts, so
 * an interrupted `cluster up` still leaves a record of what to stop.
 */
export interface ClusterState {
  readonly name: string;
  /** False until every component is ready. */
  readonly ready: boolean;
  readonly server: string;
  readonly kubeconfig: string;
  readonly caFile: string;
  readonly detached: boolean;
  readonly startedAt: string;
  readonly ports: { readonly etcd: number; readonly etcdPeer: number; readonly apiserver: number };
  /** In start order. */
  readonly processes: readonly ProcessRecord[];
}

const FILE = 'state.json';

export function writeState(dir: string, state: ClusterState): void {
  const tmp = join(dir, `${FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, join(dir, FILE));
}

export function readState(dir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Subdirectories of `root` (cluster names), whether or not they hold a state file. */
export function listStateDirs(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}
