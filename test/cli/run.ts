import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support/paths.js';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/cnp-operator as a user would (needs `npm run build` first). */
export function cli(args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): CliRun {
  const result = spawnSync(process.execPath, [join(REPO, 'bin', 'cnp-operator'), ...args], {
    cwd: REPO,
    input,
    encoding: 'utf8',
    // `env` replaces the CNP_OPERATOR_ variables of the caller's (so a developer's shell cannot change a result).
    env: { ...(env === undefined ? process.env : withoutOperatorVariables(process.env)), ...env, CNP_OPERATOR_DEBUG: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function withoutOperatorVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('CNP_OPERATOR_') || k === 'CNP_OPERATOR_CACHE'));
}

/** `line:column` (1-based) of the `nth` occurrence of `needle` in `text`, as the CLI reports positions. */
export function positionOf(text: string, needle: string, nth = 0): string {
  let offset = -1;
  for (let i = 0; i <= nth; i++) offset = text.indexOf(needle, offset + 1);
  if (offset < 0) throw new Error(`${needle} is not in the text`);
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}
