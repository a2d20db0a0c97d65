import { stringify } from 'yaml';
import { convertDocuments } from '../api/convert/documents.js';
import { baselinePriorityProblem, DEFAULT_BASELINE_PRIORITY } from '../api/convert/policy.js';
import { CliError } from './errors.js';
import { oneOf, parseFlags, single } from './flags.js';
import { readInputs } from './input.js';
import { printDiagnostics } from './validate.js';

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

Anything that cannot be converted exactly is refused with its file, document, field path and
reason (sameLabels/notSameLabels, a BANP not named default, Pass in a BANP, more than 25 rules,
peers or ports, an empty ports list, a range with start >= end, names that would collide, ...).
When anything is refused nothing is printed on standard output and the exit status is 1.
Equal priorities are converted and noted on standard error: cnp-operator orders them by name.

-f takes files, directories (always read recursively; -R is accepted for kubectl habits) or -
(standard input); YAML or JSON, several documents each, Lists included. -o json prints
{"kind":"List","items":[...]}. The same input always gives the same output, byte for byte.
`;

export async function convertCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'output', 'baseline-priority'],
    switches: ['help', 'recursive'],
    aliases: { f: 'filename', o: 'output', h: 'help', R: 'recursive' },
  });
  if (flags.switches.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (flags.positional.length > 0) throw new CliError(`unexpected argument ${flags.positional[0]} (inputs go after -f)`, 2);
  const output = oneOf(flags, 'output', ['yaml', 'json'] as const, 'yaml');
  const rawPriority = single(flags, 'baseline-priority');
  let baselinePriority = DEFAULT_BASELINE_PRIORITY;
  if (rawPriority !== undefined) {
    baselinePriority = /^[0-9]+$/.test(rawPriority) ? Number(rawPriority) : Number.NaN;
    const problem = baselinePriorityProblem(baselinePriority);
    if (problem !== undefined) throw new CliError(`--baseline-priority ${problem.replace(/got NaN$/, `got "${rawPriority}"`)}`, 2);
  }

  const documents = readInputs(flags.values.get('filename') ?? []);
  if (documents.length === 0) throw new CliError('the input holds no objects to convert');
  const result = convertDocuments(documents, { baselinePriority });
  printDiagnostics(result.diagnostics);
  const refused = new Set(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.source.file}:${d.source.document}:${d.object ?? ''}`));
  if (refused.size > 0) {
    throw new CliError(`${refused.size} object${refused.size === 1 ? '' : 's'} cannot be converted exactly; nothing was written`, 1);
  }

  const objects = result.converted.map((c) => c.policy);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'List', apiVersion: 'v1', items: objects }, null, 2)}\n`);
  } else {
    process.stdout.write(objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  }
  return 0;
}
