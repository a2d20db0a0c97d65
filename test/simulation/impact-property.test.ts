import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NetworkPolicy, Policy, Snapshot } from '../../src/api/model.js';
import { computeImpact, type AddressTarget } from '../../src/semantics/impact.js';
import { groupChanges, podsOf } from '../../src/semantics/impact-report.js';
import { NODE_NAMES, OUTSIDE_IP, snapshotArb, type Family } from '../support/arbitraries.js';
import { bruteForce, portsWritten, reported } from './impact-oracle.js';

// The class-based impact against brute force: on random clusters and random changes, the flows
// `diff` reports (read back from its groups) are exactly those whose verdict the reference
// evaluator, pod by pod, gives differently before and after — with the same verdicts and the same
// deciding rules — on every port each snapshot writes (and its neighbours), on every protocol,
// plus random ports, and to outside, node and pod addresses.

interface Case {
  readonly family: Family;
  readonly before: Snapshot;
  readonly after: Snapshot;
  readonly extraPorts: readonly number[];
}

const mergeByName = <T>(kept: readonly T[], added: readonly T[], name: (t: T) => string): T[] => {
  const map = new Map(kept.map((t) => [name(t), t]));
  for (const t of added) map.set(name(t), t);
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
};

/**
 * Policy changes (some policies kept, some dropped, some added or replaced by name), as `diff`
 * proposes them; or, one case in three, the cluster changing too (namespace, pod and node labels).
 */
const caseArb: fc.Arbitrary<Case> = fc.constantFrom<Family>(4, 6).chain((family) =>
  fc
    .record({
      before: snapshotArb(family, { maxPods: 6 }),
      other: snapshotArb(family, { maxPods: 6 }),
      keep: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      cluster: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      extraPorts: fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 }),
    })
    .map(({ before, other, keep, cluster, extraPorts }): Case => {
      const policies = mergeByName<Policy>(before.policies.filter((_, i) => keep[i % keep.length]), other.policies, (p) => p.name);
      const networkPolicies = mergeByName<NetworkPolicy>(before.networkPolicies.filter((_, i) => keep[(i + 3) % keep.length]), other.networkPolicies, (p) => `${p.namespace}/${p.name}`);
      const after: Snapshot = cluster
        ? {
            policies,
            networkPolicies,
            namespaces: other.namespaces,
            pods: before.pods.map((p, i) => ({ ...p, labels: other.pods[i]?.labels ?? p.labels })),
            nodes: before.nodes.map((n, i) => ({ ...n, labels: other.nodes[i]?.labels ?? n.labels })),
          }
        : { ...before, policies, networkPolicies };
      return { family, before, after, extraPorts };
    }),
);

function addressesOf(c: Case): AddressTarget[] {
  const nodeIp = (i: number) => c.before.nodes[i]!.addresses.find((a) => a.includes(':') === (c.family === 6))!;
  const podIp = c.before.pods.find((p) => !p.hostNetwork)?.ips[0];
  const ips = [OUTSIDE_IP[c.family], ...NODE_NAMES.map((_, i) => nodeIp(i)), ...(podIp === undefined ? [] : [podIp])];
  return ips.flatMap((ip) => [
    { ip, port: 80, protocol: 'TCP' as const },
    { ip, port: 53, protocol: 'UDP' as const },
  ]);
}

describe('diff by pod classes agrees with pod-by-pod evaluation', () => {
  it('on random clusters and changes', () => {
    let changedFlows = 0;
    let sameCluster = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const addresses = addressesOf(c);
        const ports = portsWritten([c.before, c.after], c.extraPorts);
        const impact = computeImpact(c.before, c.after, { addresses });
        const groups = groupChanges(impact);
        const truth = bruteForce(c.before, c.after, ports, addresses);
        const pods = c.before.pods.map((p) => `${p.namespace}/${p.name}`);
        const probes = [
          ...pods.flatMap((from) => pods.flatMap((to) => ports.map((p) => ({ from, to, ...p })))),
          ...pods.flatMap((from) => addresses.map((a) => ({ from, to: a.ip, port: a.port, protocol: a.protocol }))),
        ];
        const got = reported(groups, probes);
        expect(Object.fromEntries(got)).toEqual(Object.fromEntries(truth));
        changedFlows += truth.size;
        if (c.before.pods === c.after.pods) sameCluster++;
      }),
      { numRuns: 150 },
    );
    // The property was about something: changes were found, with and without cluster changes.
    expect(changedFlows).toBeGreaterThan(1000);
    expect(sameCluster).toBeGreaterThan(50);
  });

  it('groups are disjoint (no flow is reported twice) and count their connections', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const groups = groupChanges(computeImpact(c.before, c.after, { addresses: addressesOf(c) }));
        const pods = c.before.pods.map((p) => `${p.namespace}/${p.name}`);
        // `reported` throws when a flow is in two groups.
        reported(groups, pods.flatMap((from) => pods.flatMap((to) => portsWritten([c.before, c.after]).map((p) => ({ from, to, ...p })))));
        for (const g of groups) {
          const from = podsOf(g.from, g.except);
          const to = g.to.kind === 'address' ? [g.to.ip] : podsOf(g.to.classes);
          expect(g.connections).toBeGreaterThan(0);
          expect(g.connections).toBe(from.flatMap((f) => to.filter((t) => t !== f)).length);
        }
      }),
      { numRuns: 60 },
    );
  });
});
