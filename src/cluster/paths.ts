import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository (or installed package) root: the nearest folder above this module with a
 * package.json. This module is at src/cluster, dist/cluster, or inside dist/cnp-operator.js
 * (the bundle the launchers run), so a fixed number of levels up would be wrong for one of them.
 */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

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
