import { agentFromCiliumConfig, ciliumMinor, describeAgent, UNKNOWN_AGENT, type CiliumAgent, type CiliumMinor } from '../translate/cilium/index.js';
import { KubeApiError, type KubePort, type ResourceType } from './port.js';

// What the operator reads about the Cilium agents: kube-system/cilium-config (whether Cilium
// enforces CNPs itself, and the settings that change what the translation may write) and the
// agents' release, from the image of the kube-system/cilium DaemonSet.

export const CONFIG_MAP: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const DAEMON_SET: ResourceType = { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true };

export type CiliumConfig =
  | { readonly kind: 'read'; readonly data: Readonly<Record<string, string>> }
  /** No cilium-config: a Cilium installed some other way; nothing can be told from it. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'forbidden' };

/** Reads an object; undefined when it is not there, 'forbidden' when the operator may not. */
async function read(port: KubePort, type: ResourceType, name: string): Promise<Record<string, unknown> | undefined | 'forbidden'> {
  try {
    return await port.get(type, name, 'kube-system');
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 403) return 'forbidden';
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

export async function readCiliumConfig(port: KubePort): Promise<CiliumConfig> {
  const config = await read(port, CONFIG_MAP, 'cilium-config');
  if (config === 'forbidden') return { kind: 'forbidden' };
  if (config === undefined) return { kind: 'absent' };
  const data = (config['data'] ?? {}) as Record<string, unknown>;
  return { kind: 'read', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)])) };
}

/** The agents' minor release from the cilium DaemonSet's agent image; undefined when it cannot be told. */
export async function readCiliumVersion(port: KubePort): Promise<CiliumMinor | undefined> {
  const ds = await read(port, DAEMON_SET, 'cilium');
  if (ds === undefined || ds === 'forbidden') return undefined;
  const containers = ((ds['spec'] as { template?: { spec?: { containers?: { name?: string; image?: string }[] } } } | undefined)?.template?.spec?.containers ?? []);
  const agent = containers.find((c) => c.name === 'cilium-agent') ?? containers[0];
  return ciliumMinor(agent?.image);
}

/**
 * The settings the translation is told: what cilium-config says, or — when it cannot be
 * read — nothing known, so the translation assumes the most restrictive of everything.
 */
export function agentSettings(config: CiliumConfig, version: CiliumMinor | undefined): { readonly agent: CiliumAgent; readonly summary: string } {
  const agent = config.kind === 'read' ? agentFromCiliumConfig(config.data, version) : { ...UNKNOWN_AGENT, ...(version === undefined ? {} : { version }) };
  const source = config.kind === 'read' ? 'from kube-system/cilium-config' : config.kind === 'absent' ? 'kube-system/cilium-config not found: assuming the most restrictive' : 'kube-system/cilium-config forbidden: assuming the most restrictive';
  return { agent, summary: `${describeAgent(agent)} (${source})` };
}
