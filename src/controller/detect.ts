import type { CalicoOptions } from '../translate/calico/index.js';
import type { CiliumOptions } from '../translate/cilium/index.js';
import { ciliumTranslator, type CiliumTranslator } from './cilium-translator.js';
import { calicoTranslator } from './translator.js';
import type { Backend, Detection } from './backend.js';
import { agentSettings, readCiliumConfig, readCiliumVersion } from './cilium-agent.js';
import { KubeApiError, type KubePort, type ResourceType } from './port.js';

export type CalicoApi = 'projectcalico.org/v3' | 'crd.projectcalico.org/v1';

export interface DetectOptions {
  readonly backend: 'auto' | 'calico' | 'cilium';
  /** Write even where the CNI enforces CNPs itself (double enforcement: for migrations only). */
  readonly force: boolean;
  readonly calicoApi?: CalicoApi;
  /** Passed on to the translation, as `translate` passes them: the same flags give the same objects. */
  readonly translation?: TranslationOptions;
}

/** The translation's choices that are the operator's to make (the Cilium agent's settings are read from the cluster). */
export interface TranslationOptions {
  readonly calico?: Pick<CalicoOptions, 'adminTier' | 'baselineTier'>;
  readonly cilium?: Pick<CiliumOptions, 'maxRules'>;
}

/** Calico versions with tiers but without native ClusterNetworkPolicy support. */
export const CALICO_MIN = [3, 29] as const;
export const CALICO_NATIVE = [3, 32] as const;

function parseVersion(text: unknown): [number, number, number] | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function before(v: readonly number[], bound: readonly number[]): boolean {
  for (let i = 0; i < bound.length; i++) {
    if ((v[i] ?? 0) !== bound[i]) return (v[i] ?? 0) < bound[i]!;
  }
  return false;
}

function type(group: string, version: string, plural: string, kind: string, namespaced = false): ResourceType {
  return { group, version, plural, kind, namespaced };
}

async function served(port: KubePort, group: string, version: string, plurals: readonly string[]): Promise<boolean> {
  const resources = await port.discover(group, version);
  return resources !== undefined && plurals.every((p) => resources.some((r) => r.name === p));
}

async function detectCalico(port: KubePort, options: DetectOptions): Promise<Detection | undefined> {
  const [v3, v1] = await Promise.all([
    served(port, 'projectcalico.org', 'v3', ['tiers', 'globalnetworkpolicies', 'globalnetworksets']),
    served(port, 'crd.projectcalico.org', 'v1', ['tiers', 'globalnetworkpolicies', 'globalnetworksets']),
  ]);
  if (!v3 && !v1) return undefined;
  const api: CalicoApi = options.calicoApi ?? (v3 ? 'projectcalico.org/v3' : 'crd.projectcalico.org/v1');
  if ((api === 'projectcalico.org/v3' && !v3) || (api === 'crd.projectcalico.org/v1' && !v1)) {
    return { kind: 'unavailable', message: `Calico API ${api} was requested but is not served` };
  }
  const group = api.split('/')[0]!;
  const version = api.split('/')[1]!;
  let info;
  try {
    info = await port.get(type(group, version, 'clusterinformations', 'ClusterInformation'), 'default');
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
  }
  if (info === undefined) {
    return { kind: 'unavailable', message: `cannot tell the Calico version: ClusterInformation "default" (${api}) does not exist yet; calico-node creates it when it starts` };
  }
  const text = (info['spec'] as { calicoVersion?: unknown } | undefined)?.calicoVersion;
  const parsed = parseVersion(text);
  if (parsed === undefined) {
    return { kind: 'unavailable', message: `cannot tell the Calico version: ClusterInformation "default" (${api}) has no spec.calicoVersion${text === undefined ? '' : ` it can read (${JSON.stringify(text)})`}` };
  }
  const shown = `Calico ${String(text)}`;
  if (before(parsed, CALICO_MIN)) {
    return { kind: 'unavailable', message: `${shown} has no policy tiers; cnp-operator needs Calico ${CALICO_MIN.join('.')} or newer` };
  }
  const types = [type(group, version, 'tiers', 'Tier'), type(group, version, 'globalnetworkpolicies', 'GlobalNetworkPolicy'), type(group, version, 'globalnetworksets', 'GlobalNetworkSet')];
  const backend: Backend = {
    name: 'calico',
    description: `${shown} (${api})`,
    types,
    inputs: { networkPolicies: false, nodes: true, namespaces: false, pods: false },
    translator: () => calicoTranslator({ ...options.translation?.calico, api }),
  };
  if (!before(parsed, CALICO_NATIVE) && !options.force) {
    return {
      kind: 'stand-down',
      message: `${shown} enforces ClusterNetworkPolicy itself (from ${CALICO_NATIVE.join('.')}); cnp-operator writes nothing (override with --force) and reports where Calico's enforcement departs from the API`,
      backend,
      native: { kind: 'calico', version: parsed },
    };
  }
  return { kind: 'ready', backend };
}

async function detectCilium(port: KubePort, options: DetectOptions): Promise<Detection | undefined> {
  if (!(await served(port, 'cilium.io', 'v2', ['ciliumclusterwidenetworkpolicies']))) return undefined;
  const config = await readCiliumConfig(port);
  if (config.kind === 'forbidden' && !options.force) {
    // Without it we cannot tell whether Cilium enforces CNPs itself; writing anyway could enforce them twice.
    return {
      kind: 'unavailable',
      message: 'cannot read kube-system/cilium-config (forbidden) to tell whether Cilium enforces ClusterNetworkPolicy itself, nor the agent settings the translation depends on; grant get on it (with --force the operator writes anyway, for the most restrictive settings)',
    };
  }
  const data = config.kind === 'read' ? config.data : {};
  // What the agents accept and how they match decides what may be written: read it on every
  // detection, so a changed setting (seen in the description) recomputes every CNP.
  const { agent, summary } = agentSettings(config, await readCiliumVersion(port));
  let latest: CiliumTranslator | undefined;
  const backend: Backend = {
    name: 'cilium',
    description: `Cilium (cilium.io/v2; ${summary})`,
    types: [type('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies', 'CiliumClusterwideNetworkPolicy')],
    inputs: { networkPolicies: true, nodes: true, namespaces: true, pods: true },
    translator: () => (latest = ciliumTranslator({ ...options.translation?.cilium, agent })),
    // Pods change all the time; most changes answer every question the translation asked the same.
    relevant: (type, before, after) => type.kind !== 'Pod' || latest === undefined || latest.podEvent(before, after),
  };
  if (data['enable-k8s-cluster-network-policy'] === 'true' && !options.force) {
    return {
      kind: 'stand-down',
      message: 'Cilium enforces ClusterNetworkPolicy itself (enable-k8s-cluster-network-policy is true in kube-system/cilium-config); cnp-operator writes nothing (override with --force) and reports where Cilium\'s enforcement departs from the API',
      backend,
      native: { kind: 'cilium', minor: agent.version, agent },
    };
  }
  return { kind: 'ready', backend };
}

/** Finds the CNI to write to. Calico is preferred when both look installed (`auto`). */
export async function detectBackend(port: KubePort, options: DetectOptions): Promise<Detection> {
  if (options.backend !== 'cilium') {
    const calico = await detectCalico(port, options);
    if (calico !== undefined) return calico;
    if (options.backend === 'calico') return { kind: 'unavailable', message: 'Calico was requested but neither projectcalico.org/v3 nor crd.projectcalico.org/v1 serves tiers and global network policies' };
  }
  const cilium = await detectCilium(port, options);
  if (cilium !== undefined) return cilium;
  return {
    kind: 'unavailable',
    message: options.backend === 'cilium' ? 'Cilium was requested but cilium.io/v2 ciliumclusterwidenetworkpolicies is not served' : 'no supported CNI found (Calico 3.29–3.31 or Cilium with CiliumClusterwideNetworkPolicy)',
  };
}
