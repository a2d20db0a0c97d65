import { parseDocuments } from '../../../../src/api/documents.js';
import type { Snapshot } from '../../../../src/api/model.js';
import { loadSnapshot } from '../../../../src/api/snapshot.js';

/** Loads a YAML cluster snapshot through the real parser; fails on any error diagnostic. */
export function snapshotFromYaml(text: string): Snapshot {
  const loaded = loadSnapshot(parseDocuments(text, 'fixture.yaml'), { origin: 'cluster' });
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.field}: ${e.message}`).join('\n'));
  return loaded.snapshot;
}

/** 244 characters: valid for a CNP, too long for `cnp-baseline.<name>` (253). */
export const LONG_NAME = `${'long-'.repeat(48)}name`;

/** CNPs exercising every translation path: names, peers, protocols, fail-closed rules. */
export const EDGE_CASES_YAML = `
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {team: a, kubernetes.io/metadata.name: web}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db, labels: {team: b, kubernetes.io/metadata.name: db}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: worker}}
status: {addresses: [{type: InternalIP, address: 172.18.0.3}, {type: InternalIP, address: "fc00::3"}, {type: Hostname, address: n1}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {role: control}}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: w1, namespace: web, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080, protocol: TCP}]}]}
status: {podIP: 10.244.1.5}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: team-a.web, uid: 2b9c1c0e-0000-4000-8000-000000000001}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: a}}}
  ingress:
  - name: from-db
    action: Accept
    from: [{namespaces: {matchLabels: {team: b}}}, {pods: {podSelector: {matchExpressions: [{key: app, operator: In, values: [x, y]}, {key: tier, operator: DoesNotExist}]}}}]
    protocols: [{tcp: {destinationPort: {number: 80}}}, {tcp: {destinationPort: {range: {start: 81, end: 90}}}}, {udp: {destinationPort: {number: 53}}}, {destinationNamedPort: http}]
  - action: Deny
    from: [{namespaces: {}}]
  egress:
  - name: to-nodes
    action: Pass
    to: [{nodes: {matchLabels: {role: worker}}}, {nodes: {matchExpressions: [{key: role, operator: Exists}]}}]
    protocols: [{sctp: {destinationPort: {number: 9003}}}]
  - name: to-networks
    action: Deny
    to: [{networks: [10.0.0.0/8, "2001:db8::/32", 192.168.0.0/16, "fd00::/8"]}]
  - name: to-domains
    action: Accept
    to: [{domainNames: [example.com]}, {pods: {namespaceSelector: {matchLabels: {team: b}}, podSelector: {}}}]
  - name: only-domains
    action: Accept
    to: [{domainNames: ["*.example.org"]}]
  - name: future-peer
    action: Pass
    to: [{futurePeer: {}}]
  - name: future-accept
    action: Accept
    to: [{futurePeer: {}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${LONG_NAME}}
spec:
  tier: Baseline
  priority: 10
  subject: {pods: {podSelector: {matchLabels: {app: web}}}}
  egress:
  - action: Deny
    to: [{pods: {namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [a]}]}, podSelector: {}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: a}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {}}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: a-b}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {}}
  ingress:
  - action: Pass
    from: [{namespaces: {}}]
`;

export function edgeCaseSnapshot(): Snapshot {
  return snapshotFromYaml(EDGE_CASES_YAML);
}
