import { stringify } from 'yaml';
import { describeFinding } from '../controller/conditions.js';
import { translateCalico } from '../translate/calico/index.js';
import { translateCilium } from '../translate/cilium/index.js';
import { stampDigests } from '../translate/digest.js';
import type { Finding, Translation } from '../translate/types.js';
import { CliError } from './errors.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { bool, oneOf, parseFlags } from './flags.js';
import { INPUT_HELP, INPUT_NOTE } from './input.js';
import { CILIUM_AGENT_FLAGS, CILIUM_AGENT_HELP, ciliumAgent, TRANSLATION_FLAGS, TRANSLATION_HELP, translationOptions } from './translation-flags.js';
import { loadInputs } from './validate.js';

const HELP = `usage: cnp-operator translate --backend calico|cilium -f FILE... [-R] [-o yaml|json]
         [--calico-api API] [--admin-tier NAME] [--baseline-tier NAME] [--max-rules N]
         [--cilium-config FILE] [--cilium-version 1.N] [--cilium-... settings]

Prints the objects the operator would apply for the ClusterNetworkPolicies in the input
(with the NetworkPolicies and Nodes it contains, which some translations depend on).
Every approximation the backend forces is reported on standard error; the output is the
same, byte for byte, for the same input.

  --backend calico|cilium     required
${INPUT_HELP}
  -o, --output yaml|json      json: {"kind":"List","items":[...]}
${INPUT_NOTE}

${TRANSLATION_HELP}

${CILIUM_AGENT_HELP}
${EXIT_HELP}`;

export function printFindings(findings: readonly Finding[]): void {
  for (const f of findings) process.stderr.write(`finding: ClusterNetworkPolicy ${f.policy}: ${f.kind}: ${describeFinding(f)}\n`);
}

export async function translateCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'backend', 'output', ...TRANSLATION_FLAGS.values, ...CILIUM_AGENT_FLAGS.values],
    switches: ['help', 'recursive'],
    booleans: [...CILIUM_AGENT_FLAGS.booleans],
    aliases: { f: 'filename', o: 'output', h: 'help', R: 'recursive' },
    positionalHint: 'inputs go after -f',
  });
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (!flags.values.has('backend')) throw new CliError('--backend is required (calico or cilium)', EXIT.usage);
  const backend = oneOf(flags, 'backend', ['calico', 'cilium'] as const, 'calico');
  const output = oneOf(flags, 'output', ['yaml', 'json'] as const, 'yaml');
  const { calicoApi, translation: options } = translationOptions(flags, backend);
  const agent = backend === 'cilium' ? ciliumAgent(flags) : undefined;

  const { snapshot } = loadInputs(flags.values.get('filename') ?? [], { allowUnsupported: true, recursive: bool(flags, 'recursive', false) });
  let translation: Translation =
    agent === undefined
      ? translateCalico(snapshot, { ...options.calico, api: calicoApi ?? 'projectcalico.org/v3' })
      : translateCilium(snapshot, { ...options.cilium, agent });
  translation = stampDigests(translation);
  printFindings(translation.findings);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'List', apiVersion: 'v1', items: translation.objects }, null, 2)}\n`);
  } else {
    process.stdout.write(translation.objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  }
  return EXIT.ok;
}
