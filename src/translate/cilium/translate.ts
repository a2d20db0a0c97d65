import type { Snapshot } from '../../api/model.js';
import type { Finding, Translation } from '../types.js';
import { Compiler } from './compile.js';
import { emit } from './emit.js';
import { Cluster } from './match.js';
import { resolveCiliumOptions, type CiliumOptions } from './options.js';

/**
 * Translates the snapshot's ClusterNetworkPolicies into CiliumClusterwideNetworkPolicies
 * (Cilium 1.16+, `enable-non-default-deny-policies` on). The result depends on the
 * NetworkPolicies, namespaces, pods and nodes of the snapshot too (isolation, named
 * ports, which addresses are pods or nodes): translate again when they change.
 */
export function translateCilium(snapshot: Snapshot, options: CiliumOptions = {}): Translation {
  const cluster = new Cluster(snapshot, resolveCiliumOptions(options));
  const { compiled, findings } = new Compiler(cluster).compile();
  const objects = emit(compiled, [], cluster.names);
  return { objects, findings: sortFindings(findings) };
}

function sortFindings(findings: readonly Finding[]): Finding[] {
  const key = (f: Finding) => [f.policy, f.direction ?? '', String(f.ruleIndex ?? -1).padStart(6, '0'), f.kind, f.message].join('\u0000');
  return [...findings].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
