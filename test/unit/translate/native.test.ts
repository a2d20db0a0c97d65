import { describe, expect, it } from 'vitest';
import { parseDocuments } from '../../../src/api/documents.js';
import { loadSnapshot } from '../../../src/api/snapshot.js';
import { FACTS, nativeDeviations, type NativeCni } from '../../../src/translate/native.js';

// The CNI's own CNP enforcement, as measured on the real engines: which facts apply to which
// rules, for which CNI versions and settings.

const snapshot = loadSnapshot(
  parseDocuments(
    `apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: api-access}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  egress:
  - {name: to-api, action: Accept, to: [{nodes: {matchLabels: {role: control-plane}}}, {namespaces: {}}]}
  - {name: no-nodes, action: Deny, to: [{nodes: {}}]}
  - {name: no-doc-net, action: Deny, to: [{networks: [192.0.2.0/24]}]}
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: plain}
spec:
  tier: Admin
  priority: 6
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {matchLabels: {team: b}}}]}
`,
    'test.yaml',
  ),
).snapshot;

const calico = (minor: number): NativeCni => ({ kind: 'calico', version: [3, minor, 1] });

describe('where a CNI\'s own enforcement departs from the API', () => {
  it('Calico 3.32: an Accept with a nodes peer is dropped, a Deny with one denies everything, changes resync', () => {
    const found = nativeDeviations(snapshot, calico(32));
    expect(found.filter((f) => f.effect !== 'none').map((f) => [f.policy, f.ruleName, f.effect])).toEqual([
      ['api-access', 'to-api', 'accept-narrowed'],
      ['api-access', 'no-nodes', 'deny-widened'],
    ]);
    expect(found.filter((f) => f.effect === 'none').map((f) => f.ruleName)).toEqual(['to-api', 'no-nodes']);
    expect(found.every((f) => f.kind === 'native')).toBe(true);
  });

  it('nothing for a policy no measured fact concerns, nor before Calico 3.32', () => {
    expect(nativeDeviations(snapshot, calico(32)).filter((f) => f.policy === 'plain')).toEqual([]);
    expect(nativeDeviations(snapshot, calico(31))).toEqual([]);
  });

  it('Cilium 1.20 follows its settings: nodes peers need node selector labels, CIDRs reach pods only in pods mode', () => {
    const defaults = nativeDeviations(snapshot, { kind: 'cilium', minor: 20, agent: {} });
    expect(defaults.map((f) => [f.ruleName, f.effect])).toEqual([
      ['to-api', 'deny-narrowed'],
      ['no-nodes', 'deny-narrowed'],
      ['no-doc-net', 'deny-narrowed'],
    ]);
    const documented = nativeDeviations(snapshot, { kind: 'cilium', minor: 20, agent: { nodeSelectorLabels: true, cidrMatchMode: ['pods', 'nodes'] } });
    expect(documented).toEqual([]);
  });

  it('every fact says where it was measured', () => {
    for (const f of FACTS) expect(f.source.length, f.id).toBeGreaterThan(20);
  });
});
