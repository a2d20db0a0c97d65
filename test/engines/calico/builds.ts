import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../support/paths.js';
import { run } from './exec.js';

// The real components the lab runs, each built by its script in hack/ (idempotent and cached,
// instant when hack/test.sh has built them before vitest). A build that cannot happen fails the
// suite with the script's own message: these tests never skip.

export type CalicoVersion = '3.31.7' | '3.32.1';

const BUILD_TIMEOUT = 40 * 60_000;

async function script(path: string, args: readonly string[]): Promise<string> {
  const out = await run('bash', [join(REPO, path), ...args], { timeoutMs: BUILD_TIMEOUT });
  const last = out.trim().split('\n').pop() ?? '';
  if (last === '') throw new Error(`${path} printed no path`);
  return last;
}

function executable(path: string): string {
  accessSync(path, constants.X_OK);
  return path;
}

/** calico-felix of that version (hack/felix/build.sh). */
export async function felixBinary(version: CalicoVersion): Promise<string> {
  return executable(join(await script('hack/felix/build.sh', [version]), 'calico-felix'));
}

/** The unpacked Calico source tree of that version (hack/calico/source.sh), for its CRDs. */
export function calicoSource(version: CalicoVersion): Promise<string> {
  return script('hack/calico/source.sh', [version]);
}

/** The folder holding the nft (1.1) Felix's nftables data plane runs with (hack/nftables/fetch.sh). */
export function nftablesBundle(): Promise<string> {
  return script('hack/nftables/fetch.sh', []);
}

/** The lab's packet tool (hack/probe). */
export async function probeBinary(): Promise<string> {
  return executable(await script('hack/probe/build.sh', []));
}
