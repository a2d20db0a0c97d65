import { stringify } from 'yaml';
import { CALICO_APIS, calicoOptionProblems, translateCalico, type CalicoOptions } from '../translate/calico/index.js';
import { translateCilium } from '../translate/cilium/index.js';
import type { Finding, Translation } from '../translate/types.js';
import { describeFinding } from '../controller/conditions.js';
import { CliError } from './errors.js';
import { oneOf, parseFlags, single } from './flags.js';
import { loadInputs } from './validate.js';

const HELP = `usage: cnp-operator translate --backend calico|cilium -f FILE... [-o yaml|json]
         [--calico-api projectcalico.org/v3|crd.projectcalico.org/v1] [--admin-tier NAME] [--baseline-tier NAME]
         [--max-rules N]

Prints the objects the operator would apply for the ClusterNetworkPolicies in the input
(with the NetworkPolicies and Nodes it contains, which some translations depend on).
-o json prints {"kind":"List","items":[...]}. Every approximation the backend forces is
reported on standard error; the output is the same, byte for byte, for the same input.
`;

function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new CliError(`--${name} must be a positive integer, got "${value}"`, 2);
  return Number(value);
}

export function printFindings(findings: readonly Finding[]): void {
  for (const f of findings) process.stderr.write(`finding: ClusterNetworkPolicy ${f.policy}: ${f.kind}: ${describeFinding(f)}\n`);
}

export async function translateCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'backend', 'output', 'calico-api', 'admin-tier', 'baseline-tier', 'max-rules'],
    switches: ['help'],
    aliases: { f: 'filename', o: 'output', h: 'help' },
  });
  if (flags.switches.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (flags.positional.length > 0) throw new CliError(`unexpected argument ${flags.positional[0]} (inputs go after -f)`, 2);
  if (!flags.values.has('backend')) throw new CliError('--backend is required (calico or cilium)', 2);
  const backend = oneOf(flags, 'backend', ['calico', 'cilium'] as const, 'calico');
  const output = oneOf(flags, 'output', ['yaml', 'json'] as const, 'yaml');
  const calicoOnly = ['calico-api', 'admin-tier', 'baseline-tier'].filter((k) => flags.values.has(k));
  if (backend === 'cilium' && calicoOnly.length > 0) throw new CliError(`--${calicoOnly[0]} applies to --backend calico only`, 2);
  if (backend === 'calico' && flags.values.has('max-rules')) throw new CliError('--max-rules applies to --backend cilium only', 2);

  let translation: Translation;
  const { snapshot } = loadInputs(flags.values.get('filename') ?? [], { allowUnsupported: true });
  if (backend === 'calico') {
    const options: CalicoOptions = {
      api: oneOf(flags, 'calico-api', CALICO_APIS, 'projectcalico.org/v3'),
      ...(flags.values.has('admin-tier') ? { adminTier: single(flags, 'admin-tier')! } : {}),
      ...(flags.values.has('baseline-tier') ? { baselineTier: single(flags, 'baseline-tier')! } : {}),
    };
    const problems = calicoOptionProblems(options);
    if (problems.length > 0) throw new CliError(problems.join('; '), 2);
    translation = translateCalico(snapshot, options);
  } else {
    const maxRules = intFlag(single(flags, 'max-rules'), 'max-rules');
    translation = translateCilium(snapshot, maxRules === undefined ? {} : { maxRules });
  }
  printFindings(translation.findings);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'List', apiVersion: 'v1', items: translation.objects }, null, 2)}\n`);
  } else {
    process.stdout.write(translation.objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  }
  return 0;
}
