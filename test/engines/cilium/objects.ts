import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Peer, Policy, PortMatch, Rule, Selector, Snapshot } from '../../../src/api/model.js';
import type { Endpoint, Flow } from '../../../src/semantics/flow.js';
import type { EngineCluster, EngineEndpoint, EngineFlow } from './engine.js';

// Snapshots (model values) as the objects the engine reads: the cluster as the agents see
// it, NetworkPolicies and ClusterNetworkPolicies as a user writes them.

export function engineCluster(s: Snapshot): EngineCluster {
  return {
    namespaces: s.namespaces.map((n) => ({ name: n.name, labels: n.labels })),
    nodes: s.nodes.map((n) => ({ name: n.name, labels: n.labels, addresses: n.addresses })),
    pods: s.pods.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      labels: p.labels,
      ips: p.ips,
      ...(p.nodeName === undefined ? {} : { nodeName: p.nodeName }),
      hostNetwork: p.hostNetwork,
      ports: p.ports.map((cp) => ({ ...(cp.name === undefined ? {} : { name: cp.name }), port: cp.port, protocol: cp.protocol })),
    })),
  };
}

function endpoint(e: Endpoint): EngineEndpoint {
  return e.kind === 'pod' ? { pod: `${e.namespace}/${e.name}` } : { ip: e.ip };
}

export function engineFlow(f: Flow): EngineFlow {
  return { from: endpoint(f.from), to: endpoint(f.to), protocol: f.protocol, port: f.port };
}

function labelSelector(s: Selector): Record<string, unknown> {
  if (s.requirements.length === 0) return {};
  return { matchExpressions: s.requirements.map((r) => ({ key: r.key, operator: r.operator, ...(r.values.length === 0 ? {} : { values: [...r.values] }) })) };
}

function npPeer(p: NetworkPolicyPeer): Record<string, unknown> {
  if (p.kind === 'ipBlock') return { ipBlock: { cidr: p.cidr.text, ...(p.except.length === 0 ? {} : { except: p.except.map((e) => e.text) }) } };
  return { podSelector: labelSelector(p.pods), ...(p.namespaces === undefined ? {} : { namespaceSelector: labelSelector(p.namespaces) }) };
}

function npPort(p: NetworkPolicyPort): Record<string, unknown> {
  return { protocol: p.protocol, ...(p.port === undefined ? {} : { port: p.port }), ...(p.endPort === undefined ? {} : { endPort: p.endPort }) };
}

export function networkPolicyObject(np: NetworkPolicy): object {
  const rules = (rs: NetworkPolicy['ingress'], side: 'from' | 'to') =>
    rs.map((r) => ({ ...(r.peers === undefined ? {} : { [side]: r.peers.map(npPeer) }), ...(r.ports === undefined ? {} : { ports: r.ports.map(npPort) }) }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: np.name, namespace: np.namespace },
    spec: {
      podSelector: labelSelector(np.podSelector),
      policyTypes: np.policyTypes.map((d) => (d === 'ingress' ? 'Ingress' : 'Egress')),
      ...(np.ingress.length === 0 ? {} : { ingress: rules(np.ingress, 'from') }),
      ...(np.egress.length === 0 ? {} : { egress: rules(np.egress, 'to') }),
    },
  };
}

function cnpPeer(p: Peer): Record<string, unknown> | undefined {
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
      return undefined;
  }
}

function protocol(m: PortMatch): Record<string, unknown> {
  if (m.kind === 'named') return { destinationNamedPort: m.name };
  const destinationPort = m.start === m.end ? { number: m.start } : { range: { start: m.start, end: m.end } };
  return { [m.protocol.toLowerCase()]: { destinationPort } };
}

/** A rule as written; undefined when it only exists in fail-closed form (nothing to write). */
function cnpRule(r: Rule, side: 'from' | 'to'): Record<string, unknown> | undefined {
  if (r.failClosed !== undefined) return undefined;
  const peers = r.peers.map(cnpPeer);
  if (peers.some((p) => p === undefined)) return undefined;
  return { ...(r.name === undefined ? {} : { name: r.name }), action: r.action, [side]: peers, ...(r.ports === undefined ? {} : { protocols: r.ports.map(protocol) }) };
}

/** The ClusterNetworkPolicy a user would write; undefined when a rule has no written form. */
export function clusterNetworkPolicyObject(p: Policy): object | undefined {
  const ingress = p.ingress.map((r) => cnpRule(r, 'from'));
  const egress = p.egress.map((r) => cnpRule(r, 'to'));
  if ([...ingress, ...egress].some((r) => r === undefined)) return undefined;
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: p.name },
    spec: {
      tier: p.tier,
      priority: p.priority,
      subject: { pods: { namespaceSelector: labelSelector(p.subject.namespaces), podSelector: labelSelector(p.subject.pods) } },
      ...(ingress.length === 0 ? {} : { ingress }),
      ...(egress.length === 0 ? {} : { egress }),
    },
  };
}
