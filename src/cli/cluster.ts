import { ensureBinaries } from '../cluster/binaries.js';
import { ControlPlaneError, ExitCode } from '../cluster/errors.js';
import { clusterDown, clusterUp, type InstanceStatus, instanceStatus, listInstances } from '../cluster/instances.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { bool, oneOf, parseFlags, single, type FlagSpec, type ParsedFlags } from './flags.js';

const USAGE = `usage: cnp-operator cluster <command> [flags]

A local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) on 127.0.0.1,
built once from the Go module proxy into ~/.cache/cnp-operator.

commands:
  up [--name N] [--timeout SECONDS]   start it (or find it running) and print \`export KUBECONFIG=...\`
                                      use as: eval "$(cnp-operator cluster up)"
  down [--name N] [--all]             stop every process it started and delete its state
  status [--name N] [-o text|json]    list instances and whether their processes are alive
                                      (--name N of a cluster that does not exist: exit ${ExitCode.notRunning})
  build                               build the binaries now (idempotent)

Exit status: 0 success; 1 failure; 2 usage error; ${ExitCode.goMissing} Go is missing; ${ExitCode.buildFailed} the build failed;
${ExitCode.startFailed} the control plane did not start; ${ExitCode.notRunning} no such cluster.
`;

const DEFAULT_NAME = 'default';

export async function clusterCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  try {
    switch (sub) {
      case 'up':
        return await up(rest);
      case 'down':
        return await down(rest);
      case 'status':
        return status(rest);
      case 'build':
        return await build(rest);
      default:
        throw new CliError(`unknown cluster command "${sub}" (up, down, status, build)`, EXIT.usage);
    }
  } catch (err) {
    if (err instanceof ControlPlaneError) throw new CliError(err.message, err.exitCode);
    throw err;
  }
}

const say = (message: string) => process.stderr.write(`[cluster] ${message}\n`);

/** Parses a subcommand's flags; undefined when --help was given (and the usage printed). */
function subcommandFlags(args: readonly string[], spec: FlagSpec): ParsedFlags | undefined {
  const flags = parseFlags(args, { ...spec, switches: [...(spec.switches ?? []), 'help'], aliases: { ...spec.aliases, h: 'help' } });
  if (!bool(flags, 'help', false)) return flags;
  process.stdout.write(USAGE);
  return undefined;
}

async function up(args: string[]): Promise<number> {
  const flags = subcommandFlags(args, { values: ['name', 'timeout'] });
  if (flags === undefined) return EXIT.ok;
  const name = single(flags, 'name') ?? DEFAULT_NAME;
  const timeout = single(flags, 'timeout');
  const timeoutMs = timeout === undefined ? undefined : Number(timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new CliError('--timeout must be a positive number of seconds', 2);
  const started = Date.now();
  const { state, reused } = await clusterUp(name, { progress: say, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  say(reused
    ? `"${name}" is already running at ${state.server}`
    : `"${name}" is ready at ${state.server} (${((Date.now() - started) / 1000).toFixed(1)}s); stop it with: cnp-operator cluster down${name === DEFAULT_NAME ? '' : ` --name ${name}`}`);
  process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
  return 0;
}

async function down(args: string[]): Promise<number> {
  const flags = subcommandFlags(args, { values: ['name'], switches: ['all'] });
  if (flags === undefined) return EXIT.ok;
  const all = bool(flags, 'all', false);
  const named = single(flags, 'name');
  if (all && named !== undefined) throw new CliError('give --name or --all, not both', 2);
  const names = all ? listInstances().map((i) => i.name) : [named ?? DEFAULT_NAME];
  for (const name of names) {
    const { found, stopped } = await clusterDown(name);
    if (!found) say(`"${name}" is not running`);
    else say(`"${name}" stopped${stopped.length ? ` (${stopped.map((p) => `${p.name} ${p.pid}`).join(', ')})` : ''}`);
  }
  return 0;
}

function status(args: string[]): number {
  const flags = subcommandFlags(args, { values: ['name', 'output'], aliases: { o: 'output' } });
  if (flags === undefined) return EXIT.ok;
  const output = oneOf(flags, 'output', ['text', 'json'] as const, 'text');
  const name = single(flags, 'name');
  const instances = name === undefined ? listInstances() : [instanceStatus(name)];
  if (name !== undefined && instances[0]!.state === undefined) {
    const known = listInstances().map((i) => i.name);
    throw new CliError(`no cluster named "${name}" (${known.length === 0 ? 'there are none' : `there are: ${known.join(', ')}`}); start it with: cnp-operator cluster up --name ${name}`, ExitCode.notRunning);
  }
  if (output === 'json') {
    process.stdout.write(JSON.stringify(instances.map(toJson), null, 2) + '\n');
    return 0;
  }
  if (instances.length === 0) {
    process.stdout.write('no clusters; start one with: cnp-operator cluster up\n');
    return 0;
  }
  const rows = [['NAME', 'STATUS', 'SERVER', 'KUBECONFIG']];
  for (const i of instances) rows.push([i.name, i.health, i.state?.server ?? '-', i.state?.kubeconfig ?? '-']);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) process.stdout.write(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
  return 0;
}

function toJson(i: InstanceStatus): object {
  return {
    name: i.name,
    status: i.health,
    server: i.state?.server,
    kubeconfig: i.state?.kubeconfig,
    processes: (i.state?.processes ?? []).map((p) => ({ name: p.name, pid: p.pid, alive: i.alive.some((a) => a.pid === p.pid) })),
  };
}

async function build(args: string[]): Promise<number> {
  if (subcommandFlags(args, {}) === undefined) return EXIT.ok;
  const b = await ensureBinaries();
  process.stdout.write(`${b.dir}\n`);
  return 0;
}
