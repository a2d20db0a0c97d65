import { formatDiagnostic } from '../api/diagnostics.js';
import { loadSnapshot, type LoadResult, type SourcedDiagnostic } from '../api/snapshot.js';
import { CliError } from './errors.js';
import { parseFlags } from './flags.js';
import { readInputs } from './input.js';

const HELP = `usage: cnp-operator validate -f FILE... [-q]

Checks ClusterNetworkPolicies (and any NetworkPolicy, Namespace, Pod and Node objects
in the input) against the API's rules. Files, directories and - (standard input);
YAML or JSON, several documents each. Exits 1 when any object is invalid or uses
something this operator does not understand (which would fail closed).
`;

export function printDiagnostics(list: readonly SourcedDiagnostic[]): void {
  for (const d of list) process.stderr.write(`${formatDiagnostic(d.source, d)}${d.object === undefined ? '' : ` (${d.object})`}\n`);
}

/** Loads a snapshot from -f inputs, printing diagnostics; refuses input with errors. */
export function loadInputs(files: readonly string[], options: { allowUnsupported: boolean }): LoadResult {
  const result = loadSnapshot(readInputs(files));
  printDiagnostics(result.diagnostics);
  const errors = result.diagnostics.filter((d) => d.severity === 'error' || (!options.allowUnsupported && d.severity === 'unsupported'));
  if (errors.length > 0) throw new CliError(`${errors.length} error${errors.length === 1 ? '' : 's'} in the input`, 1);
  return result;
}

export async function validateCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: ['filename'], switches: ['help', 'quiet'], aliases: { f: 'filename', h: 'help', q: 'quiet' } });
  if (flags.switches.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const files = [...(flags.values.get('filename') ?? []), ...flags.positional];
  const result = loadSnapshot(readInputs(files));
  printDiagnostics(result.diagnostics);
  const bad = result.diagnostics.filter((d) => d.severity !== 'warning');
  if (!flags.switches.has('quiet')) {
    const s = result.snapshot;
    const counts = [
      [s.policies.length, 'ClusterNetworkPolicy', 'ClusterNetworkPolicies'],
      [s.networkPolicies.length, 'NetworkPolicy', 'NetworkPolicies'],
      [s.pods.length, 'Pod', 'Pods'],
      [s.nodes.length, 'Node', 'Nodes'],
    ] as const;
    const summary = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
    const stream = bad.length > 0 ? process.stderr : process.stdout;
    stream.write(`${bad.length > 0 ? `invalid: ${bad.length} problem${bad.length === 1 ? '' : 's'}` : 'valid'}${summary.length > 0 ? ` (${summary.join(', ')} usable)` : ''}\n`);
  }
  return bad.length > 0 ? 1 : 0;
}
