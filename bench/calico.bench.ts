import { bench, describe } from 'vitest';
import { parseCidr } from '../src/api/ip.js';
import type { Node, Peer, Policy, PortMatch, Rule, Snapshot } from '../src/api/model.js';
import { translateCalico } from '../src/translate/calico/index.js';

// 1,000 ClusterNetworkPolicies of 10 rules each (both tiers, ties in priority, every peer kind,
// several protocols and named ports) and 100 nodes, translated to Calico objects.
// Run: npx vitest bench --run bench/calico.bench.ts   (not part of the test pass/fail)

const sel = (key: string, value: string) => ({ requirements: [{ key, operator: 'In' as const, values: [value] }] });
const cidr = (text: string) => parseCidr(text)!.cidr;

function rule(p: number, i: number): Rule {
  const peers: Peer[] = [
    { kind: 'pods', pods: { namespaces: sel('team', `t${(p + i) % 20}`), pods: sel('app', `a${i}`) } },
    i % 3 === 0 ? { kind: 'networks', cidrs: [cidr(`10.${p % 250}.${i}.0/24`), cidr(`fd00:${p.toString(16)}:${i}::/64`)] } : { kind: 'pods', pods: { namespaces: { requirements: [] }, pods: sel('tier', `x${i}`) } },
  ];
  if (i % 5 === 4) peers.push({ kind: 'nodes', nodes: sel('zone', `z${p % 3}`) });
  const ports: PortMatch[] = [
    { kind: 'range', protocol: 'TCP', start: 80 + i, end: 80 + i },
    { kind: 'range', protocol: 'TCP', start: 8000, end: 8100 + i },
    { kind: 'range', protocol: 'UDP', start: 53, end: 53 },
  ];
  return { index: i, name: `rule-${i}`, action: (['Accept', 'Deny', 'Pass'] as const)[(p + i) % 3]!, peers, ports: i % 4 === 0 ? undefined : ports };
}

function cluster(): Snapshot {
  const policies: Policy[] = Array.from({ length: 1000 }, (_, p) => {
    const rules = Array.from({ length: 10 }, (_, i) => rule(p, i));
    return {
      name: p % 10 === 0 ? `team-${p}.policy` : `policy-${p}`,
      uid: `00000000-0000-4000-8000-${String(p).padStart(12, '0')}`,
      generation: 1,
      tier: p % 4 === 0 ? 'Baseline' : 'Admin',
      priority: p % 200,
      subject: { namespaces: sel('team', `t${p % 20}`), pods: { requirements: [] } },
      ingress: rules.slice(0, 5).map((r) => ({ ...r, peers: r.peers.filter((x) => x.kind === 'pods') })),
      egress: rules.slice(5).map((r, i) => ({ ...r, index: i })),
    };
  });
  const nodes: Node[] = Array.from({ length: 100 }, (_, n) => ({ name: `node-${n}`, labels: { zone: `z${n % 3}` }, addresses: [`172.18.${n >> 8}.${n & 255}`, `fc00::${n.toString(16)}`] }));
  return { policies, networkPolicies: [], namespaces: [], pods: [], nodes };
}

const snapshot = cluster();

describe('translateCalico: 1,000 CNPs × 10 rules, 100 nodes', () => {
  bench('projectcalico.org/v3', () => {
    translateCalico(snapshot);
  }, { iterations: 10, warmupIterations: 2 });
  bench('crd.projectcalico.org/v1', () => {
    translateCalico(snapshot, { api: 'crd.projectcalico.org/v1' });
  }, { iterations: 10, warmupIterations: 2 });
});
