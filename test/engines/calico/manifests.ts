import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Peer, Policy, PortMatch, Rule, Selector } from '../../../src/api/model.js';
import type { KubeObject } from '../../harness/client.js';

// Random scenarios come as model values (test/support/arbitraries.ts); the lab needs them as the
// objects a user would write. The suite parses these back and checks they mean the scenario.

function labelSelector(s: Selector): Record<string, unknown> {
  if (s.requirements.length === 0) return {};
  return { matchExpressions: s.requirements.map((r) => ({ key: r.key, operator: r.operator, ...(r.values.length === 0 ? {} : { values: [...r.values] }) })) };
}

function peer(p: Peer): Record<string, unknown> {
  switch (p.kind) {
    case 'pods':
      return { pods: { namespaceSelector: labelSelector(p.pods.namespaces), podSelector: labelSelector(p.pods.pods) } };
    case 'nodes':
      return { nodes: labelSelector(p.nodes) };
    case 'networks':
      return { networks: p.cidrs.map((c) => c.text) };
    case 'domainNames':
      return { domainNames: [...p.names] };
    case 'all':
      throw new Error('a fail-closed rule has no written form');
  }
}

function protocol(m: PortMatch): Record<string, unknown> {
  if (m.kind === 'named') return { destinationNamedPort: m.name };
  const destinationPort = m.start === m.end ? { number: m.start } : { range: { start: m.start, end: m.end } };
  return { [m.protocol.toLowerCase()]: { destinationPort } };
}

function rule(r: Rule, peers: 'from' | 'to'): Record<string, unknown> {
  if (r.failClosed !== undefined) throw new Error('a fail-closed rule has no written form');
  return {
    ...(r.name === undefined ? {} : { name: r.name }),
    action: r.action,
    [peers]: r.peers.map(peer),
    ...(r.ports === undefined ? {} : { protocols: r.ports.map(protocol) }),
  };
}

export function cnpManifest(p: Policy): KubeObject {
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: p.name },
    spec: {
      tier: p.tier,
      priority: p.priority,
      subject: { pods: { namespaceSelector: labelSelector(p.subject.namespaces), podSelector: labelSelector(p.subject.pods) } },
      ...(p.ingress.length === 0 ? {} : { ingress: p.ingress.map((r) => rule(r, 'from')) }),
      ...(p.egress.length === 0 ? {} : { egress: p.egress.map((r) => rule(r, 'to')) }),
    },
  };
}

function npPeer(p: NetworkPolicyPeer): Record<string, unknown> {
  if (p.kind === 'ipBlock') return { ipBlock: { cidr: p.cidr.text, ...(p.except.length === 0 ? {} : { except: p.except.map((e) => e.text) }) } };
  return { podSelector: labelSelector(p.pods), ...(p.namespaces === undefined ? {} : { namespaceSelector: labelSelector(p.namespaces) }) };
}

function npPort(p: NetworkPolicyPort): Record<string, unknown> {
  return { protocol: p.protocol, ...(p.port === undefined ? {} : { port: p.port }), ...(p.endPort === undefined ? {} : { endPort: p.endPort }) };
}

export function networkPolicyManifest(np: NetworkPolicy): KubeObject {
  const rules = (rs: NetworkPolicy['ingress'], peers: 'from' | 'to'): Record<string, unknown>[] =>
    rs.map((r) => ({ ...(r.peers === undefined ? {} : { [peers]: r.peers.map(npPeer) }), ...(r.ports === undefined ? {} : { ports: r.ports.map(npPort) }) }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: np.name, namespace: np.namespace },
    spec: {
      podSelector: labelSelector(np.podSelector),
      policyTypes: np.policyTypes.map((d) => (d === 'ingress' ? 'Ingress' : 'Egress')),
      ingress: rules(np.ingress, 'from'),
      egress: rules(np.egress, 'to'),
    },
  };
}
