import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { CALICO_APIS, calicoOptionProblems, translateCalico, type CalicoOptions } from '../translate/calico/index.js';
import { agentFromCiliumConfig, ciliumMinor, translateCilium, type CiliumAgent } from '../translate/cilium/index.js';
import { stampDigests } from '../translate/digest.js';
import type { Finding, Translation } from '../translate/types.js';
import { describeFinding } from '../controller/conditions.js';
import { CliError } from './errors.js';
import { oneOf, parseFlags, single, type ParsedFlags } from './flags.js';
import { loadInputs } from './validate.js';

const HELP = `usage: cnp-operator translate --backend calico|cilium -f FILE... [-o yaml|json]
         [--calico-api projectcalico.org/v3|crd.projectcalico.org/v1] [--admin-tier NAME] [--baseline-tier NAME]
         [--max-rules N] [--cilium-config FILE] [--cilium-version 1.N] [--cilium-node-selector-labels[=false]]
         [--cilium-policy-default-local-cluster=true|false] [--cilium-cidr-match-mode pods,nodes]
         [--cilium-labels PREFIXES] [--cilium-node-labels PREFIXES]

Prints the objects the operator would apply for the ClusterNetworkPolicies in the input
(with the NetworkPolicies and Nodes it contains, which some translations depend on).
-o json prints {"kind":"List","items":[...]}. Every approximation the backend forces is
reported on standard error; the output is the same, byte for byte, for the same input.

Cilium agent settings (the ones the operator reads from kube-system/cilium-config). The
output holds nothing such agents refuse, and uses what they allow; left out, a setting is
Cilium's default (where that changed between releases, the more restrictive one):
  --cilium-config FILE                  a cilium-config ConfigMap, as
                                        kubectl -n kube-system get configmap cilium-config -o yaml
                                        prints it; the flags below override single settings
  --cilium-version 1.N                  the agents' release, 1.16 to 1.20 (default: any of them)
  --cilium-node-selector-labels         enable-node-selector-labels is on (default off: Cilium then
                                        refuses toNodes, so nodes peers become entities or addresses)
  --cilium-policy-default-local-cluster=true|false
                                        policy-default-local-cluster (default on, as from 1.19)
  --cilium-cidr-match-mode pods,nodes   policy-cidr-match-mode (default none): CIDRs also match
                                        pods (1.20) and nodes by address, so networks peers over
                                        them can be exact
  --cilium-labels "k8s:app k8s:team"    labels: identity label prefixes added to Cilium's defaults
  --cilium-node-labels PREFIXES         node-labels (default: every node label)
`;

const CILIUM_FLAGS = ['cilium-config', 'cilium-version', 'cilium-node-selector-labels', 'cilium-policy-default-local-cluster', 'cilium-cidr-match-mode', 'cilium-labels', 'cilium-node-labels'];

/** The agent settings from --cilium-config and the single-setting flags. */
function ciliumAgent(flags: ParsedFlags): CiliumAgent {
  const file = single(flags, 'cilium-config');
  let data: Record<string, string> = {};
  if (file !== undefined) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(`--cilium-config ${file}: ${(err as Error).message}`, 1);
    }
    const d = (doc as { kind?: unknown; data?: unknown } | null) ?? {};
    if (d.kind !== 'ConfigMap' || typeof d.data !== 'object' || d.data === null) throw new CliError(`--cilium-config ${file}: not a ConfigMap with data`, 1);
    data = Object.fromEntries(Object.entries(d.data as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  const versionText = single(flags, 'cilium-version');
  const version = ciliumMinor(versionText);
  if (versionText !== undefined && version === undefined) throw new CliError(`--cilium-version must be 1.16 to 1.20, got "${versionText}"`, 2);
  const set = (flag: string, key: string) => {
    const v = flags.values.get(flag);
    if (v !== undefined) data[key] = v.join(' ');
  };
  set('cilium-node-selector-labels', 'enable-node-selector-labels');
  set('cilium-policy-default-local-cluster', 'policy-default-local-cluster');
  set('cilium-labels', 'labels');
  set('cilium-node-labels', 'node-labels');
  const modes = flags.values.get('cilium-cidr-match-mode');
  if (modes !== undefined) {
    const bad = modes.flatMap((m) => m.split(/[\s,]+/)).filter((m) => m !== '' && m !== 'pods' && m !== 'nodes');
    if (bad.length > 0) throw new CliError(`--cilium-cidr-match-mode takes pods and nodes, got "${bad[0]}"`, 2);
    data['policy-cidr-match-mode'] = modes.join(' ');
  }
  return agentFromCiliumConfig(data, version);
}

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
    values: ['filename', 'backend', 'output', 'calico-api', 'admin-tier', 'baseline-tier', 'max-rules', 'cilium-config', 'cilium-version', 'cilium-cidr-match-mode', 'cilium-labels', 'cilium-node-labels'],
    switches: ['help'],
    booleans: ['cilium-node-selector-labels', 'cilium-policy-default-local-cluster'],
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
  const ciliumOnly = ['max-rules', ...CILIUM_FLAGS].filter((k) => flags.values.has(k));
  if (backend === 'calico' && ciliumOnly.length > 0) throw new CliError(`--${ciliumOnly[0]} applies to --backend cilium only`, 2);

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
    translation = translateCilium(snapshot, { agent: ciliumAgent(flags), ...(maxRules === undefined ? {} : { maxRules }) });
  }
  translation = stampDigests(translation);
  printFindings(translation.findings);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'List', apiVersion: 'v1', items: translation.objects }, null, 2)}\n`);
  } else {
    process.stdout.write(translation.objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  }
  return 0;
}
