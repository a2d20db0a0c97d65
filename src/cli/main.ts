import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { KubeApiError } from '../controller/port.js';

type Command = (args: string[]) => Promise<number>;

// Commands load lazily so `validate` never pays for the Kubernetes client.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'check ClusterNetworkPolicy files', load: async () => (await import('./validate.js')).validateCommand },
  explain: { summary: 'explain a verdict, or what overrides a namespace’s NetworkPolicies', load: async () => (await import('./explain.js')).explainCommand },
  diff: { summary: 'preview which connections a policy change allows or denies', load: async () => (await import('./diff.js')).diffCommand },
  translate: { summary: 'print the backend objects for CNPs', load: async () => (await import('./translate.js')).translateCommand },
  convert: { summary: 'convert AdminNetworkPolicies to CNPs', load: async () => (await import('./convert.js')).convertCommand },
  cluster: { summary: 'start or stop a local control plane', load: async () => (await import('./cluster.js')).clusterCommand },
  demo: { summary: 'run the demo on a local control plane', load: async () => (await import('./demo.js')).demoCommand },
  run: { summary: 'run the operator', load: async () => (await import('./run.js')).runCommand },
  'migrate-storage': { summary: 'finish a CRD upgrade: store every CNP in the new version', load: async () => (await import('./migrate-storage.js')).migrateStorageCommand },
  version: { summary: 'print the version (also: --version)', load: async () => (await import('./version.js')).versionCommand },
};

function usage(program: string): string {
  const lines = [`usage: ${program} <command> [flags]`, '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(16)} ${c.summary}`);
  lines.push('', `Run \`${program} help <command>\` (or \`<command> --help\`) for the flags of a command.`);
  return lines.join('\n') + '\n';
}

/** `help COMMAND` is `COMMAND --help`; `--version` is `version`. */
function resolve(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === 'help' && rest.length > 0) return { name: rest[0], rest: ['--help', ...rest.slice(1)] };
  if (first === '--version') return { name: 'version', rest };
  return { name: first, rest };
}

/** Runs a command line; `program` is how messages name the program (`kubectl cnp` as a kubectl plugin). */
export async function main(argv: string[], program = 'cnp-operator'): Promise<number> {
  const { name, rest } = resolve(argv);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage(program));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`${program}: unknown command "${name}"\n\n${usage(program)}`);
    return EXIT.usage;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      const hint = err.exitCode === EXIT.usage ? ` (see ${program} help ${name})` : '';
      process.stderr.write(`${program} ${name}: ${err.message}${hint}\n`);
      return err.exitCode;
    }
    if (err instanceof KubeApiError) {
      // The cluster answered with an error (after the retries it asked for) or not at all: the input cannot be read, not a bug.
      process.stderr.write(`${program} ${name}: the cluster: ${err.message}\n`);
      return EXIT.noInput;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${program} ${name}: internal error: ${message}\n`);
    if (process.env['CNP_OPERATOR_DEBUG']) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    return EXIT.internal;
  }
}
