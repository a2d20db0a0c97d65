import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: this file is at src/cluster or dist/cluster. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const buildScript = join(packageRoot, 'hack', 'controlplane', 'build.sh');

/** Same rule as build.sh, so binaries and clusters share one cache. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['CNP_OPERATOR_CACHE']) return env['CNP_OPERATOR_CACHE'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'cnp-operator');
}

/** Where named clusters keep their state; separately overridable so tests can isolate it. */
export function clustersDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['CNP_OPERATOR_CLUSTERS_DIR'] || join(cacheRoot(env), 'clusters');
}
