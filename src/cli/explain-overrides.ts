import type { AdminOverride, DirectionOverrides, NetworkPolicyOverrides, PeerSummary } from '../semantics/overrides.js';

// `explain --namespace`: what takes precedence over a namespace's NetworkPolicies, in words.

const MAX_LISTED = 8;

function listed(names: readonly string[]): string {
  if (names.length <= MAX_LISTED) return names.join(', ');
  return `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more`;
}

function peer(p: PeerSummary): string {
  if (p.matches === undefined) return p.text;
  return `${p.text} (${p.matches.length === 0 ? 'none in the input' : listed(p.matches)})`;
}

const EFFECT: Record<AdminOverride['action'], string> = {
  Accept: '✓ allows, whatever the NetworkPolicy says:',
  Deny: '✗ denies, whatever the NetworkPolicy says:',
  Pass: '→ hands to the NetworkPolicy, past later Admin rules:',
};

function rule(r: AdminOverride, d: DirectionOverrides): string[] {
  const name = `${r.policy} (priority ${r.priority}) ${d.direction}[${r.ruleIndex}]${r.ruleName === undefined ? '' : ` "${r.ruleName}"`}`;
  const lines = [`    ${EFFECT[r.action]} ${name}`];
  lines.push(`        ${d.direction === 'ingress' ? 'from' : 'to'} ${r.peers.map(peer).join('; or ')}`);
  lines.push(`        on ${r.ports === undefined ? 'every port and protocol' : r.ports.join(', ')}`);
  if (!d.bySelector && r.pods.length < d.pods.length) lines.push(`        for ${listed(r.pods)} only`);
  if (r.failClosed !== undefined) lines.push(`        (the fail-closed form of a rule that was not understood: ${r.failClosed})`);
  if (r.shadowedBy !== undefined) lines.push(`        (never decides: ${r.shadowedBy} matches all it would)`);
  return lines;
}

function direction(d: DirectionOverrides): string[] {
  const pods = d.bySelector ? 'no pod in the input; CNPs matched by their selectors' : listed(d.pods);
  const lines = [`  ${d.direction} (isolates ${pods}):`];
  if (d.admin.length === 0) lines.push('    no Admin ClusterNetworkPolicy rule comes first: this NetworkPolicy decides');
  else lines.push('    decided first, by the first of these that matches a connection:', ...d.admin.flatMap((r) => rule(r, d)), '    anything else: this NetworkPolicy decides');
  if (d.baselineShutOut.length > 0) {
    lines.push(`    Baseline ${d.baselineShutOut.join(', ')} never appl${d.baselineShutOut.length === 1 ? 'ies' : 'y'} here: Baseline only decides where no NetworkPolicy isolates the pod`);
  }
  return lines;
}

/** The overrides as text, one block per NetworkPolicy. */
export function overridesText(namespace: string, list: readonly NetworkPolicyOverrides[]): string {
  if (list.length === 0) return `namespace ${namespace} has no NetworkPolicies: ClusterNetworkPolicies alone decide for its pods\n`;
  return `${list.map((np) => [`NetworkPolicy ${np.namespace}/${np.name}`, ...np.directions.flatMap(direction)].join('\n')).join('\n\n')}\n`;
}
