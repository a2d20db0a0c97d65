import { stringify } from 'yaml';
import { convertDocuments } from '../api/convert/documents.js';
import { baselinePriorityProblem, DEFAULT_BASELINE_PRIORITY } from '../api/convert/policy.js';
import { CliError } from './errors.js';
import { printDiagnostics } from './diagnostics-output.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { bool, oneOf, parseFlags, single } from './flags.js';
import { INPUT_HELP, INPUT_NOTE, readInputs } from './input.js';

const HELP = `usage: cnp-operator convert -f FILE... [-R] [-o yaml|json] [--baseline-priority N]

Converts policy.networking.k8s.io/v1alpha1 AdminNetworkPolicies and the BaselineAdminNetworkPolicy
(network-policy-api v0.1.x) into policy.networking.k8s.io/v1beta1 ClusterNetworkPolicies, one per
input object, in input order:

  AdminNetworkPolicy X                 ClusterNetworkPolicy X, tier Admin, the same priority
  BaselineAdminNetworkPolicy default   ClusterNetworkPolicy default, tier Baseline, priority
                                       --baseline-priority (default ${DEFAULT_BASELINE_PRIORITY}; the BANP had none)
  action Allow / Deny / Pass           Accept / Deny / Pass
  ports: portNumber, portRange         protocols: tcp|udp|sctp destinationPort number, range
         (protocol unset: TCP)
  ports: namedPort                     protocols: destinationNamedPort
  subject, peers (namespaces, pods,    the same selectors; v0.1.1's namespaces.namespaceSelector
  nodes, networks, domainNames)        becomes namespaces, pods.namespaces.namespaceSelector
                                       becomes pods.namespaceSelector
  rule names, labels, annotations      kept

Anything that cannot be converted exactly is refused with file:line:column, field path and
reason (sameLabels/notSameLabels, a BANP not named default, Pass in a BANP, more than 25 rules,
peers or ports, an empty ports list, a range with start >= end, names that would collide, ...).
When anything is refused nothing is printed on standard output and the exit status is 1.
Equal priorities are converted and noted on standard error: cnp-operator orders them by name.

${INPUT_HELP}
  -o, --output yaml|json      json: {"kind":"List","items":[...]}
  --baseline-priority N       the Baseline CNP's priority, 0 to 1000 (default ${DEFAULT_BASELINE_PRIORITY})
${INPUT_NOTE}
The same input always gives the same output, byte for byte.
${EXIT_HELP}`;

export async function convertCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'output', 'baseline-priority'],
    switches: ['help', 'recursive'],
    aliases: { f: 'filename', o: 'output', h: 'help', R: 'recursive' },
    positionalHint: 'inputs go after -f',
  });
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const output = oneOf(flags, 'output', ['yaml', 'json'] as const, 'yaml');
  const rawPriority = single(flags, 'baseline-priority');
  let baselinePriority = DEFAULT_BASELINE_PRIORITY;
  if (rawPriority !== undefined) {
    baselinePriority = /^[0-9]+$/.test(rawPriority) ? Number(rawPriority) : Number.NaN;
    const problem = baselinePriorityProblem(baselinePriority);
    if (problem !== undefined) throw new CliError(`--baseline-priority ${problem.replace(/got NaN$/, `got "${rawPriority}"`)}`, EXIT.usage);
  }

  const documents = readInputs(flags.values.get('filename') ?? [], { recursive: bool(flags, 'recursive', false) });
  if (documents.length === 0) throw new CliError('the input holds no objects to convert', EXIT.invalid);
  const result = convertDocuments(documents, { baselinePriority });
  printDiagnostics(result.diagnostics);
  // Each document has a Source of its own (see Document): one refused object, however many problems.
  const refused = new Set(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.source));
  if (refused.size > 0) {
    throw new CliError(`${refused.size} object${refused.size === 1 ? '' : 's'} cannot be converted exactly; nothing was written`, EXIT.invalid);
  }

  const objects = result.converted.map((c) => c.policy);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'List', apiVersion: 'v1', items: objects }, null, 2)}\n`);
  } else {
    process.stdout.write(objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  }
  return EXIT.ok;
}
