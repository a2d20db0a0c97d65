import fc from 'fast-check';
import type { Peer, Policy, Rule, Selector, Snapshot } from '../../../src/api/model.js';
import { canonicalSelector } from '../../../src/api/selector.js';
import type { Endpoint, Flow } from '../../../src/semantics/flow.js';
import { flowPortsArb, flowsFor, scenarioArb, type Family, type FlowPort, type Scenario } from '../../support/arbitraries.js';
import { withUnselectableLabel } from '../../support/arbitraries-cilium.js';

// Random scenarios for the engine: the project's arbitraries, plus what makes Cilium's
// configuration matter — node peers that select some nodes by the nodes' own labels, and pod
// labels the identity label filter treats differently by release.

/** Pod label keys the filter keeps or drops, by release (pkg/labelsfilter defaults). */
export const FILTERED_KEYS = [
  'pod-template-hash', // dropped by every release
  'topology.kubernetes.io/zone', // kept up to 1.18, dropped from 1.19
  'app.kubernetes.io/name', // kept explicitly
  'node.beta.kubernetes.io/role', // dropped: contains beta.kubernetes.io
  'controller-revision-hash-x', // dropped: starts with an ignored prefix
] as const;

const NODE_KEYS: Record<string, string> = { app: 'zone', team: 'role' };

function renameNodeSelector(s: Selector): Selector {
  return canonicalSelector(s.requirements.map((r) => ({ ...r, key: NODE_KEYS[r.key] ?? r.key })));
}

/** Node peers select by the keys nodes carry (zone, role), so they select some nodes, not all or none. */
export function withNodeSelectors(scenario: Scenario): Scenario {
  const rule = (r: Rule): Rule => ({ ...r, peers: r.peers.map((p): Peer => (p.kind === 'nodes' ? { kind: 'nodes', nodes: renameNodeSelector(p.nodes) } : p)) });
  const policy = (p: Policy): Policy => ({ ...p, ingress: p.ingress.map(rule), egress: p.egress.map(rule) });
  return { ...scenario, snapshot: { ...scenario.snapshot, policies: scenario.snapshot.policies.map(policy) } };
}

export interface EngineScenario {
  readonly scenario: Scenario;
  readonly ports: readonly FlowPort[];
}

/** Scenarios drawn once per run (seeded by vitest/fast-check), each in one of the variants above. */
export function engineScenarioArb(): fc.Arbitrary<EngineScenario> {
  return fc
    .tuple(scenarioArb(), flowPortsArb, fc.constantFrom<(typeof FILTERED_KEYS)[number] | undefined>(undefined, ...FILTERED_KEYS), fc.boolean())
    .map(([s, ports, key, nodes]) => {
      let scenario = key === undefined ? s : withUnselectableLabel(s, 'tier', key);
      if (nodes) scenario = withNodeSelectors(scenario);
      return { scenario, ports };
    });
}

const SECOND_OUTSIDE: Record<Family, string> = { 4: '203.0.113.9', 6: '2001:db9::9' };

/** Every pair of endpoints (flowsFor), and each pod to and from a second outside address. */
export function engineFlows(snapshot: Snapshot, family: Family, ports: readonly FlowPort[]): Flow[] {
  const out = flowsFor(snapshot, family, ports);
  const outside: Endpoint = { kind: 'ip', ip: SECOND_OUTSIDE[family] };
  for (const p of snapshot.pods) {
    const pod: Endpoint = { kind: 'pod', namespace: p.namespace, name: p.name };
    for (const port of ports) {
      out.push({ from: pod, to: outside, port: port.port, protocol: port.protocol });
      out.push({ from: outside, to: pod, port: port.port, protocol: port.protocol });
    }
  }
  return out;
}
