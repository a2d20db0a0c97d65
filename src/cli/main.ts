import { CliError } from './errors.js';

type Command = (args: string[]) => Promise<number>;

// Commands load lazily so `validate` never pays for the Kubernetes client.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'check ClusterNetworkPolicy files', load: async () => (await import('./validate.js')).validateCommand },
  explain: { summary: 'explain the verdict for a flow', load: async () => (await import('./explain.js')).explainCommand },
  translate: { summary: 'print the backend objects for CNPs', load: async () => (await import('./translate.js')).translateCommand },
  convert: { summary: 'convert AdminNetworkPolicies to CNPs', load: async () => (await import('./convert.js')).convertCommand },
  cluster: { summary: 'start or stop a local control plane', load: async () => (await import('./cluster.js')).clusterCommand },
  demo: { summary: 'run the demo on a local control plane', load: async () => (await import('./demo.js')).demoCommand },
  run: { summary: 'run the operator', load: async () => (await import('./run.js')).runCommand },
  'migrate-storage': { summary: 'finish a CRD upgrade: store every CNP in the new version', load: async () => (await import('./migrate-storage.js')).migrateStorageCommand },
};

function usage(): string {
  const lines = ['usage: cnp-operator <command> [flags]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(16)} ${c.summary}`);
  lines.push('', 'Run `cnp-operator <command> --help` for the flags of a command.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`cnp-operator: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`cnp-operator ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cnp-operator ${name}: internal error: ${message}\n`);
    if (process.env['CNP_OPERATOR_DEBUG']) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    return 70;
  }
}
