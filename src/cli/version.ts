import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../cluster/paths.js';
import { EXIT } from './exit-codes.js';
import { bool, oneOf, parseFlags } from './flags.js';

const HELP = `usage: cnp-operator version [-o text|json]

Prints the version of cnp-operator (the package's), as \`cnp-operator --version\` does.
  -o, --output text|json      json: {"version": "X.Y.Z"}
`;

/** The package's version, from the package.json beside dist/ (or src/) and bin/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export async function versionCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: ['output'], switches: ['help'], aliases: { o: 'output', h: 'help' } });
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const output = oneOf(flags, 'output', ['text', 'json'] as const, 'text');
  const version = packageVersion();
  process.stdout.write(output === 'json' ? `${JSON.stringify({ version })}\n` : `cnp-operator ${version}\n`);
  return EXIT.ok;
}
