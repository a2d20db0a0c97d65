import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CalicoApi, TranslationOptions } from '../controller/detect.js';
import { CALICO_APIS, calicoOptionProblems, DEFAULT_ADMIN_TIER, DEFAULT_BASELINE_TIER } from '../translate/calico/index.js';
import { agentFromCiliumConfig, ciliumMinor, type CiliumAgent } from '../translate/cilium/index.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { flagName, oneOf, single, type FlagSpec, type ParsedFlags } from './flags.js';

// The translation's options, defined once for `translate` and `run`: the README's promise that
// translate prints exactly what the operator applies holds only if both take the same flags and
// read them the same way.

/** The flags that choose how CNPs are translated (both commands). */
export const TRANSLATION_FLAGS = { values: ['calico-api', 'admin-tier', 'baseline-tier', 'max-rules'] } as const satisfies FlagSpec;

export const TRANSLATION_HELP = `Translation (the same flags for translate and run, so translate prints what run applies):
  --calico-api API            projectcalico.org/v3 or crd.projectcalico.org/v1 (translate: default v3;
                              run: default what the cluster serves, v3 first)
  --admin-tier NAME           Calico tier of the Admin CNPs (default ${DEFAULT_ADMIN_TIER})
  --baseline-tier NAME        Calico tier of the Baseline CNPs (default ${DEFAULT_BASELINE_TIER})
  --max-rules N               Cilium: at most N generated rules, all CNPs together; rules past it
                              are written in their fail-closed form and reported (default: no limit)`;

/** The Cilium agents' settings: given to `translate`; `run` reads them from the cluster. */
export const CILIUM_AGENT_FLAGS = {
  values: ['cilium-config', 'cilium-version', 'cilium-cidr-match-mode', 'cilium-labels', 'cilium-node-labels'],
  booleans: ['cilium-node-selector-labels', 'cilium-policy-default-local-cluster'],
} as const satisfies FlagSpec;

export const CILIUM_AGENT_HELP = `Cilium agent settings (the ones the operator reads from kube-system/cilium-config). The
output holds nothing such agents refuse, and uses what they allow; left out, a setting is
Cilium's default (where that changed between releases, the more restrictive one):
  --cilium-config FILE                  a cilium-config ConfigMap, as
                                        kubectl -n kube-system get configmap cilium-config -o yaml
                                        prints it; the flags below override single settings
  --cilium-version 1.N                  the agents' release, 1.16 to 1.20 (default: any of them)
  --cilium-node-selector-labels[=true|false]
                                        enable-node-selector-labels is on (default off: Cilium then
                                        refuses toNodes, so nodes peers become entities or addresses)
  --cilium-policy-default-local-cluster=true|false
                                        policy-default-local-cluster (default on, as from 1.19)
  --cilium-cidr-match-mode pods,nodes   policy-cidr-match-mode (default none): CIDRs also match
                                        pods (1.20) and nodes by address, so networks peers over
                                        them can be exact
  --cilium-labels "k8s:app k8s:team"    labels: identity label prefixes added to Cilium's defaults
  --cilium-node-labels PREFIXES         node-labels (default: every node label)`;

export type BackendChoice = 'auto' | 'calico' | 'cilium';

const CALICO_ONLY = ['calico-api', 'admin-tier', 'baseline-tier'];
const CILIUM_ONLY = ['max-rules', ...CILIUM_AGENT_FLAGS.values, ...CILIUM_AGENT_FLAGS.booleans];

/** Refuses flags of the other backend (with `auto` either backend's apply). */
function checkBackend(flags: ParsedFlags, backend: BackendChoice): void {
  const other = backend === 'cilium' ? CALICO_ONLY : backend === 'calico' ? CILIUM_ONLY : [];
  const given = other.find((k) => flags.given.has(k));
  if (given !== undefined) throw new CliError(`${flagName(flags, given)} applies to the ${backend === 'cilium' ? 'calico' : 'cilium'} backend only`, EXIT.usage);
}

function maxRules(flags: ParsedFlags): number | undefined {
  const value = single(flags, 'max-rules');
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new CliError(`${flagName(flags, 'max-rules')} must be a positive integer, got "${value}"`, EXIT.usage);
  return Number(value);
}

/** The translation options the flags give, checked (a bad tier name is a usage error, not a late failure). */
export function translationOptions(flags: ParsedFlags, backend: BackendChoice): { readonly calicoApi?: CalicoApi; readonly translation: TranslationOptions } {
  checkBackend(flags, backend);
  const calicoApi = flags.values.has('calico-api') ? oneOf(flags, 'calico-api', CALICO_APIS, 'projectcalico.org/v3') : undefined;
  const adminTier = single(flags, 'admin-tier');
  const baselineTier = single(flags, 'baseline-tier');
  const calico = { ...(adminTier === undefined ? {} : { adminTier }), ...(baselineTier === undefined ? {} : { baselineTier }) };
  const problems = calicoOptionProblems(calico).map((p) => p.replace(/^adminTier\b/, flagName(flags, 'admin-tier')).replace(/^baselineTier\b/, flagName(flags, 'baseline-tier')));
  if (problems.length > 0) throw new CliError(problems.join('; '), EXIT.usage);
  const rules = maxRules(flags);
  return { ...(calicoApi === undefined ? {} : { calicoApi }), translation: { calico, cilium: rules === undefined ? {} : { maxRules: rules } } };
}

function readCiliumConfig(file: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`--cilium-config ${file}: ${code === undefined ? (err as Error).message : `cannot read: ${code}`}`, code === undefined ? EXIT.invalid : EXIT.noInput);
  }
  const d = (doc as { kind?: unknown; data?: unknown } | null) ?? {};
  if (d.kind !== 'ConfigMap' || typeof d.data !== 'object' || d.data === null) throw new CliError(`--cilium-config ${file}: not a ConfigMap with data`, EXIT.invalid);
  return Object.fromEntries(Object.entries(d.data as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/** The agent settings from --cilium-config and the single-setting flags (translate only). */
export function ciliumAgent(flags: ParsedFlags): CiliumAgent {
  const file = single(flags, 'cilium-config');
  const data = file === undefined ? {} : readCiliumConfig(file);
  const versionText = single(flags, 'cilium-version');
  const version = ciliumMinor(versionText);
  if (versionText !== undefined && version === undefined) throw new CliError(`${flagName(flags, 'cilium-version')} must be 1.16 to 1.20, got "${versionText}"`, EXIT.usage);
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
    if (bad.length > 0) throw new CliError(`${flagName(flags, 'cilium-cidr-match-mode')} takes pods and nodes, got "${bad[0]}"`, EXIT.usage);
    data['policy-cidr-match-mode'] = modes.join(' ');
  }
  return agentFromCiliumConfig(data, version);
}
