import { parseDocuments } from '../../../../src/api/documents.js';
import type { Snapshot } from '../../../../src/api/model.js';
import { loadSnapshot } from '../../../../src/api/snapshot.js';

/** Parses a multi-document YAML cluster snapshot; throws on any error diagnostic. */
export function snapshotOf(yaml: string): Snapshot {
  const loaded = loadSnapshot(parseDocuments(yaml, 'fixture.yaml'), { origin: 'cluster' });
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.object ?? ''} ${e.field}: ${e.message}`).join('\n'));
  return loaded.snapshot;
}

/** A small cluster: namespaces a and b, two nodes, pods with named ports, a host-network pod. */
export const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {kubernetes.io/metadata.name: a, team: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {kubernetes.io/metadata.name: b, team: blue}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1, zone: z1}}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {kubernetes.io/hostname: n2, zone: z2}}
status: {addresses: [{type: InternalIP, address: 172.18.0.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: a, labels: {app: web, pod-template-hash: h1}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080, protocol: TCP}, {name: dns, containerPort: 53, protocol: UDP}]}]}
status: {podIP: 10.244.1.10, podIPs: [{ip: 10.244.1.10}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: a, labels: {app: web, pod-template-hash: h2}}
spec: {nodeName: n2, containers: [{name: c, ports: [{name: http, containerPort: 8081, protocol: TCP}]}]}
status: {podIP: 10.244.2.10, podIPs: [{ip: 10.244.2.10}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: b, labels: {app: db}}
spec: {nodeName: n2, containers: [{name: c, ports: [{name: sql, containerPort: 5432, protocol: TCP}]}]}
status: {podIP: 10.244.2.11, podIPs: [{ip: 10.244.2.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: b, labels: {app: agent}}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: c}]}
status: {podIP: 172.18.0.2, podIPs: [{ip: 172.18.0.2}]}
`;

/** Everything at once: long names, more than 40 ports, every peer kind, domain names, NetworkPolicies. */
export function edgeCaseSnapshot(): Snapshot {
  const ports = (from: number) => Array.from({ length: 23 }, (_, i) => `    - tcp: {destinationPort: {number: ${from + 2 * i}}}`).join('\n');
  return snapshotOf(`${CLUSTER}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${'x'.repeat(240)}.long}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {team: red}}}
  egress:
  - name: accept-many-ports
    action: Accept
    to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}]
    protocols:
${ports(1000)}
  - name: accept-more-ports
    action: Accept
    to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}]
    protocols:
${ports(2000)}
  - name: pass-dns
    action: Pass
    to: [{networks: [10.0.0.0/8]}]
    protocols: [{udp: {destinationPort: {number: 53}}}]
  - name: accept-example
    action: Accept
    to: [{domainNames: [example.com, '*.example.org']}]
  - name: deny-rest
    action: Deny
    to:
    - networks: [0.0.0.0/0]
    - nodes: {matchLabels: {zone: z1}}
    - pods: {namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchExpressions: [{key: pod-template-hash, operator: In, values: [h1]}]}}
  ingress:
  - name: named
    action: Accept
    from: [{namespaces: {}}]
    protocols: [{destinationNamedPort: http}]
  - name: deny-all
    action: Deny
    from: [{namespaces: {}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {}}
  egress:
  - name: allow-named
    action: Accept
    to: [{namespaces: {matchLabels: {team: red}}}]
    protocols: [{destinationNamedPort: http}]
  - name: deny-out
    action: Deny
    to: [{networks: [192.0.2.0/24]}]
  ingress:
  - name: deny-blue
    action: Deny
    from: [{namespaces: {matchLabels: {team: blue}}}]
    protocols: [{sctp: {destinationPort: {range: {start: 9000, end: 9100}}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate-db, namespace: b}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{namespaceSelector: {}}]}]
`);
}
