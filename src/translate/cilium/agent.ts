import { CILIUM_MINORS, type CiliumMinor } from './label-filter.js';
import type { CidrMatchMode, CiliumAgent } from './options.js';

// The agent settings from kube-system/cilium-config (its `data`), as the translation takes
// them. The agent reads list settings with whitespace between items; commas are taken too.

/** What the translation assumes when cilium-config cannot be read: nothing is known. */
export const UNKNOWN_AGENT: CiliumAgent = { labels: 'unknown', nodeLabels: 'unknown', cidrMatchMode: 'unknown' };

function list(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(/[\s,]+/).filter((s) => s.length > 0);
}

function bool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/** `v1.19.3`, `1.19`, an image reference ending in `:v1.19.3[@sha256:…]`: the minor version, when supported. */
export function ciliumMinor(text: string | undefined): CiliumMinor | undefined {
  if (text === undefined) return undefined;
  const m = /(?:^|:)v?1\.(\d+)(?:\.\d+)?(?:[-+][\w.-]*)?(?:@sha256:[0-9a-f]+)?$/.exec(text.trim());
  if (m === null) return undefined;
  const minor = Number(m[1]);
  return (CILIUM_MINORS as readonly number[]).includes(minor) ? (minor as CiliumMinor) : undefined;
}

/**
 * Agent settings from cilium-config's data; a key left out means Cilium's default (the
 * translation takes the more restrictive one where it changed between releases).
 */
export function agentFromCiliumConfig(data: Readonly<Record<string, string>>, version?: CiliumMinor): CiliumAgent {
  const modes = list(data['policy-cidr-match-mode']).filter((m): m is CidrMatchMode => m === 'pods' || m === 'nodes');
  const localCluster = bool(data['policy-default-local-cluster']);
  return {
    ...(version === undefined ? {} : { version }),
    nodeSelectorLabels: bool(data['enable-node-selector-labels']) ?? false,
    ...(localCluster === undefined ? {} : { policyDefaultLocalCluster: localCluster }),
    cidrMatchMode: modes,
    labels: list(data['labels']),
    nodeLabels: list(data['node-labels']),
  };
}

/** One line for logs and status: what the translation was told. */
export function describeAgent(agent: CiliumAgent): string {
  const show = (v: readonly string[] | 'unknown' | undefined) => (v === 'unknown' ? 'unknown' : v === undefined || v.length === 0 ? 'default' : v.join(' '));
  return [
    `version ${agent.version === undefined ? 'unknown' : `1.${agent.version}`}`,
    `enable-node-selector-labels ${agent.nodeSelectorLabels === undefined ? 'unknown' : String(agent.nodeSelectorLabels)}`,
    `policy-default-local-cluster ${agent.policyDefaultLocalCluster === undefined ? 'default' : String(agent.policyDefaultLocalCluster)}`,
    `policy-cidr-match-mode ${agent.cidrMatchMode === 'unknown' ? 'unknown' : (agent.cidrMatchMode ?? []).join(',') || 'none'}`,
    `labels ${show(agent.labels)}`,
    `node-labels ${show(agent.nodeLabels)}`,
  ].join(', ');
}
