import type { ParseOptions } from '../api/cnp.js';
import type { Document } from '../api/documents.js';
import type { LoadResult } from '../api/snapshot.js';
import { checkDocuments, validateDocuments, type ObjectReport, type Verdict } from '../semantics/validation-report.js';
import { jsonPosition, printDiagnostics, printSkipped } from './diagnostics-output.js';
import { CliError } from './errors.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { bool, oneOf, parseFlags } from './flags.js';
import { INPUT_HELP, INPUT_NOTE, readInputs, type InputOptions } from './input.js';

const HELP = `usage: cnp-operator validate -f FILE... [-R] [--strict] [-o text|json] [-q]

Checks ClusterNetworkPolicies (and the NetworkPolicy, Namespace, Pod and Node objects in the
input) against every rule of the API, and analyses the policies together as the operator does
for each CNP's Accepted condition: rules that can never match (an earlier rule matches all they
would) and CNPs of one tier and priority whose subjects may overlap (the API leaves their order
open). Objects of other kinds (a Deployment, an AdminNetworkPolicy) are skipped with a note.

Each problem is printed as file:line:column: field.path: message (Kind/name), at the field's
line and column (a missing field: its parent's), so editors and CI annotations jump to it:
  errors        the API server with this project's CRD refuses the object
  unsupported:  accepted, but not understood by this operator: a rule holding it fails closed,
                a subject part is not enforced
  warning:      accepted and understood, but probably not what was meant

${INPUT_HELP}
  --strict                    also fail on warnings and unsupported parts
  -o, --output text|json      json: an array with one entry per object, in input order:
                              {"source": {"file", "document", "line", "column"}, "kind", "name",
                               "verdict": "valid"|"warning"|"unsupported"|"invalid"|"skipped",
                               "diagnostics": [{"severity", "field", "line", "column", "message"}]}
  -q, --quiet                 no summary line (text output)
${INPUT_NOTE}

Fails (exit 1) when any object is invalid, with --strict also on warnings and unsupported parts,
and when the input holds no object to check.
${EXIT_HELP}`;

/** Loads a snapshot from documents, printing diagnostics and skipped kinds; refuses input with errors. */
export function loadDocuments(documents: readonly Document[], options: { readonly allowUnsupported: boolean } & ParseOptions): LoadResult {
  const { load, skipped } = checkDocuments(documents, options.origin === undefined ? {} : { origin: options.origin });
  printDiagnostics(load.diagnostics);
  printSkipped(skipped);
  const errors = load.diagnostics.filter((d) => d.severity === 'error' || (!options.allowUnsupported && d.severity === 'unsupported'));
  if (errors.length > 0) throw new CliError(`${errors.length} error${errors.length === 1 ? '' : 's'} in the input`, EXIT.invalid);
  return load;
}

/** Loads a snapshot from -f inputs (see loadDocuments). */
export function loadInputs(files: readonly string[], options: { readonly allowUnsupported: boolean } & InputOptions): LoadResult {
  return loadDocuments(readInputs(files, options), options);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function jsonEntry(o: ObjectReport): object {
  return {
    source: { file: o.source.file, document: o.source.document, ...jsonPosition(o.source, '') },
    kind: o.kind ?? null,
    name: o.name ?? null,
    verdict: o.verdict,
    diagnostics: o.diagnostics.map((d) => ({ severity: d.severity, field: d.field, ...jsonPosition(o.source, d.field), message: d.message })),
    ...(o.skipped === undefined ? {} : { skipped: o.skipped }),
  };
}

function summary(objects: readonly ObjectReport[], load: LoadResult, failing: boolean): string {
  const count = (severity: string) => objects.reduce((n, o) => n + o.diagnostics.filter((d) => d.severity === severity).length, 0);
  const problems = [plural(count('error'), 'error'), `${count('unsupported')} unsupported`, plural(count('warning'), 'warning')].filter((p) => !p.startsWith('0 '));
  const s = load.snapshot;
  const counts = [
    [s.policies.length, 'ClusterNetworkPolicy', 'ClusterNetworkPolicies'],
    [s.networkPolicies.length, 'NetworkPolicy', 'NetworkPolicies'],
    [s.pods.length, 'Pod', 'Pods'],
    [s.nodes.length, 'Node', 'Nodes'],
  ] as const;
  const usable = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  const skipped = objects.filter((o) => o.verdict === 'skipped').length;
  const detail = [...(usable.length > 0 ? [`${usable.join(', ')} usable`] : []), ...(skipped > 0 ? [`${skipped} skipped`] : [])];
  const head = count('error') > 0 ? 'invalid' : failing ? 'not valid under --strict' : 'valid';
  return `${head}${problems.length > 0 ? `${head === 'valid' ? ',' : ':'} ${problems.join(', ')}` : ''}${detail.length > 0 ? ` (${detail.join('; ')})` : ''}`;
}

export async function validateCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'output'],
    switches: ['help', 'quiet', 'strict', 'recursive'],
    aliases: { f: 'filename', h: 'help', q: 'quiet', o: 'output', R: 'recursive' },
    positionalHint: 'inputs go after -f',
  });
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const output = oneOf(flags, 'output', ['text', 'json'] as const, 'text');
  const strict = bool(flags, 'strict', false);
  const documents = readInputs(flags.values.get('filename') ?? [], { recursive: bool(flags, 'recursive', false) });
  if (documents.length === 0) throw new CliError('the input holds no objects to validate', EXIT.invalid);
  const { objects, load } = validateDocuments(documents);
  const failing: readonly Verdict[] = strict ? ['invalid', 'unsupported', 'warning'] : ['invalid'];
  const failed = objects.some((o) => failing.includes(o.verdict));
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(objects.map(jsonEntry), null, 2)}\n`);
  } else {
    const label = (o: ObjectReport) => (o.kind === undefined && o.name === undefined ? undefined : `${o.kind ?? '?'}/${o.name ?? '?'}`);
    printDiagnostics(objects.flatMap((o) => o.diagnostics.map((d) => ({ ...d, source: o.source, object: label(o) }))));
    printSkipped(objects);
    if (!bool(flags, 'quiet', false)) (failed ? process.stderr : process.stdout).write(`${summary(objects, load, failed)}\n`);
  }
  if (objects.every((o) => o.verdict === 'skipped')) {
    throw new CliError(`nothing to validate: the input's ${plural(objects.length, 'object')} are all of kinds policy does not depend on`, EXIT.invalid);
  }
  return failed ? EXIT.invalid : EXIT.ok;
}
