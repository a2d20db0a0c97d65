// The CNP shape of the operator benchmarks: one function, so that bench/operator.ts and
// bench/analysis.ts measure the same policies.

export interface BenchCnp {
  [key: string]: unknown;
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/**
 * CNP number i, of 10 rules: namespaces, pods and CIDR peers, both directions, several
 * protocols. Tier Baseline for every fourth, priority i mod 1000, subject team t(i mod 20): so
 * policies share subjects and priorities, as in clusters with many tenants.
 */
export function benchCnp(i: number, port = 8000): BenchCnp {
  const rule = (r: number) => ({
    name: `rule-${r}`,
    action: (['Accept', 'Deny', 'Pass'] as const)[(i + r) % 3],
    to: r % 3 === 0 ? [{ networks: [`10.${i % 250}.${r}.0/24`] }] : [{ pods: { namespaceSelector: { matchLabels: { team: `t${(i + r) % 20}` } }, podSelector: { matchLabels: { app: `a${r}` } } } }],
    protocols: [{ tcp: { destinationPort: { number: port + r } } }, { udp: { destinationPort: { range: { start: 1000, end: 2000 + r } } } }],
  });
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: `bench-${String(i).padStart(5, '0')}` },
    spec: {
      tier: i % 4 === 0 ? 'Baseline' : 'Admin',
      priority: i % 1000,
      subject: { namespaces: { matchLabels: { team: `t${i % 20}` } } },
      egress: Array.from({ length: 7 }, (_, r) => rule(r)),
      ingress: Array.from({ length: 3 }, (_, r) => ({ name: `in-${r}`, action: 'Deny', from: [{ namespaces: { matchLabels: { team: `t${(i + r + 1) % 20}` } } }] })),
    },
  };
}
