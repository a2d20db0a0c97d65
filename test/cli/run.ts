import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support/paths.js';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/cnp-operator as a user would (needs `npm run build` first). */
export function cli(args: readonly string[], input?: string): CliRun {
  const result = spawnSync(process.execPath, [join(REPO, 'bin', 'cnp-operator'), ...args], {
    cwd: REPO,
    input,
    encoding: 'utf8',
    env: { ...process.env, CNP_OPERATOR_DEBUG: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
