import type { Snapshot } from '../../api/model.js';
import type { Finding, Translation } from '../types.js';
import { Compiler, type DnsVisibility } from './compile.js';
import { emit, type ExtraRule } from './emit.js';
import { Cluster, podLabelKey, POD_NAMESPACE_KEY } from './match.js';
import { resolveCiliumOptions, type CiliumOptions, type DnsServer } from './options.js';

/**
 * Translates the snapshot's ClusterNetworkPolicies into CiliumClusterwideNetworkPolicies
 * (Cilium 1.16+, `enable-non-default-deny-policies` on) for agents with the settings in
 * `options.agent`: nothing the configured agent refuses is written. The result depends on the
 * NetworkPolicies, namespaces, pods and nodes of the snapshot too (isolation, named
 * ports, which addresses are pods or nodes): translate again when they change.
 */
export function translateCilium(snapshot: Snapshot, options: CiliumOptions = {}): Translation {
  const cluster = new Cluster(snapshot, resolveCiliumOptions(options));
  const { compiled, dns, findings } = new Compiler(cluster).compile();
  const { cidrPods, cidrNodes } = cluster.options.agent;
  const objects = emit(compiled, dnsRules(dns, cluster.options.dns), cluster.names, { pods: cidrPods, nodes: cidrNodes });
  return { objects, findings: sortFindings(findings) };
}

/** An L7 DNS rule that lets every query through: visibility for the DNS proxy, no filtering. */
export function dnsRules(dns: readonly DnsVisibility[], server: DnsServer): ExtraRule[] {
  const selector = {
    matchLabels: {
      [POD_NAMESPACE_KEY]: server.namespace,
      ...Object.fromEntries(Object.entries(server.labels).map(([k, v]) => [podLabelKey(k), v])),
    },
  };
  const port = String(server.port);
  return dns.flatMap((d) =>
    d.subjects.map(
      (subject): ExtraRule => ({
        policy: d.policy,
        direction: 'egress',
        subject,
        label: `egress[${d.rule.index}] (DNS visibility)`,
        rule: {
          toEndpoints: [selector],
          toPorts: [
            {
              ports: [
                { port, protocol: 'UDP' },
                { port, protocol: 'TCP' },
              ],
              rules: { dns: [{ matchPattern: '*' }] },
            },
          ],
        },
      }),
    ),
  );
}

/** A total order (the whole finding breaks ties): the same findings, however found, print the same. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const keyed = findings.map((f) => ({ f, k: [f.policy, f.direction ?? '', String(f.ruleIndex ?? -1).padStart(6, '0'), f.kind, f.message, JSON.stringify(f)].join('\u0000') }));
  return keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0)).map((x) => x.f);
}
