import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocuments } from '../../src/api/documents.js';
import type { Snapshot } from '../../src/api/model.js';
import { loadSnapshot } from '../../src/api/snapshot.js';
import { analyse } from '../../src/semantics/analysis.js';
import { podSetCovers, selectorCovers, selectorsMayOverlap } from '../../src/semantics/cover.js';
import { evaluate } from '../../src/semantics/evaluate.js';
import type { Flow } from '../../src/semantics/flow.js';
import { selectorMatches } from '../../src/api/selector.js';
import type { Operator, Requirement, Selector } from '../../src/api/model.js';

const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {team: b}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: worker}}
status: {addresses: [{type: InternalIP, address: 192.168.1.1}, {type: Hostname, address: n1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: b, labels: {app: db}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: b, labels: {app: agent}}
spec: {nodeName: n1, hostNetwork: true}
status: {podIP: 192.168.1.1}
`;

function snapshot(policies: string): Snapshot {
  const result = loadSnapshot(parseDocuments(`${CLUSTER}\n---\n${policies}`, 'test.yaml'), { origin: 'cluster' });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.snapshot;
}
const pod = (ref: string) => ({ kind: 'pod' as const, namespace: ref.split('/')[0]!, name: ref.split('/')[1]! });
const flow = (from: string, to: string, port = 5432, protocol: Flow['protocol'] = 'TCP'): Flow => ({
  from: from.includes('/') ? pod(from) : { kind: 'ip', ip: from },
  to: to.includes('/') ? pod(to) : { kind: 'ip', ip: to },
  port,
  protocol,
});
const cnp = (name: string, tier: string, priority: number, body: string) => `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${name}}
spec:
  tier: ${tier}
  priority: ${priority}
${body}
---`;

describe('reference evaluator', () => {
  const denyToB = cnp('deny-b', 'Admin', 10, `  subject: {namespaces: {}}
  egress: [{name: no-b, action: Deny, to: [{namespaces: {matchLabels: {team: b}}}]}]`);

  // Table: policies, flow, expected verdict, expected deciding stage on each side.
  const table: [string, string, Flow, 'allow' | 'deny', string, string][] = [
    ['no policy allows', '', flow('a/web', 'b/db'), 'allow', 'default', 'default'],
    ['admin deny', denyToB, flow('a/web', 'b/db'), 'deny', 'admin', 'default'],
    ['deny by IP of the pod', denyToB, flow('a/web', '10.0.0.2'), 'deny', 'admin', 'default'],
    ['pods peers never match host-network pods', denyToB, flow('a/web', 'b/agent', 22), 'allow', 'default', 'exempt'],
    ['host-network pods are never subjects', denyToB, flow('b/agent', 'b/db'), 'allow', 'exempt', 'default'],
    ['a pod connecting to itself is exempt', cnp('deny-all', 'Admin', 1, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: [0.0.0.0/0]}]}]`), flow('a/web', 'a/web', 8080), 'allow', 'exempt', 'exempt'],
    ['networks match pod IPs', cnp('deny-net', 'Admin', 1, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: [10.0.0.0/30]}]}]`), flow('a/web', 'b/db'), 'deny', 'admin', 'default'],
    ['nodes peers match node addresses (and host-network pods)', cnp('deny-node', 'Admin', 1, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{nodes: {matchLabels: {role: worker}}}]}]`), flow('a/web', 'b/agent', 10250), 'deny', 'admin', 'exempt'],
    ['named ports resolve on the destination pod', cnp('np', 'Admin', 1, `  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{destinationNamedPort: pg}]}]`), flow('a/web', 'b/db', 5432), 'deny', 'default', 'admin'],
    ['named ports need the protocol too', cnp('np', 'Admin', 1, `  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{destinationNamedPort: pg}]}]`), flow('a/web', 'b/db', 5432, 'UDP'), 'allow', 'default', 'default'],
    ['priority beats rule order', cnp('late', 'Admin', 20, `  subject: {namespaces: {}}
  egress: [{action: Accept, to: [{namespaces: {}}]}]`) + cnp('early', 'Admin', 5, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{namespaces: {}}]}]`), flow('a/web', 'b/db'), 'deny', 'admin', 'default'],
    ['equal priority: ordered by name', cnp('b-accept', 'Admin', 5, `  subject: {namespaces: {}}
  egress: [{action: Accept, to: [{namespaces: {}}]}]`) + cnp('a-deny', 'Admin', 5, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{namespaces: {}}]}]`), flow('a/web', 'b/db'), 'deny', 'admin', 'default'],
    ['pass goes to baseline', cnp('pass', 'Admin', 1, `  subject: {namespaces: {}}
  egress: [{action: Pass, to: [{namespaces: {}}]}]`) + cnp('base', 'Baseline', 1, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{namespaces: {}}]}]`), flow('a/web', 'b/db'), 'deny', 'baseline', 'default'],
    ['NetworkPolicy decides before baseline', `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: b}
spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}], ports: [{port: pg}]}]}
---` + cnp('base', 'Baseline', 1, `  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]`), flow('a/web', 'b/db'), 'allow', 'default', 'networkpolicy'],
    ['NetworkPolicy isolation denies what it does not allow', `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: iso, namespace: b}
spec: {podSelector: {}, policyTypes: [Ingress]}
---`, flow('a/web', 'b/db'), 'deny', 'default', 'networkpolicy'],
    ['admin accept overrides NetworkPolicy isolation', `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: iso, namespace: b}
spec: {podSelector: {}, policyTypes: [Ingress]}
---` + cnp('acc', 'Admin', 1, `  subject: {namespaces: {matchLabels: {team: b}}}
  ingress: [{action: Accept, from: [{pods: {podSelector: {matchLabels: {app: web}}}}]}]`), flow('a/web', 'b/db'), 'allow', 'default', 'admin'],
    ['ingress rules never match non-pod sources', cnp('in', 'Admin', 1, `  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]`), flow('192.168.1.1', 'b/db'), 'allow', 'exempt', 'default'],
    ['an unknown peer in a Deny rule fails closed to deny-all', cnp('fc', 'Admin', 1, `  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{services: {name: x}}]}]`), flow('a/web', '8.8.8.8', 53, 'UDP'), 'deny', 'admin', 'exempt'],
    ['an unknown peer in an Accept rule matches nothing', cnp('fc', 'Admin', 1, `  subject: {namespaces: {}}
  egress: [{action: Accept, to: [{services: {name: x}}]}, {action: Deny, to: [{namespaces: {}}]}]`), flow('a/web', 'b/db'), 'deny', 'admin', 'default'],
  ];

  it.each(table)('%s', (_name, policies, f, verdict, egressStage, ingressStage) => {
    const result = evaluate(snapshot(policies), f);
    expect(result.verdict).toBe(verdict);
    expect(result.egress.trace.at(-1)!.stage).toBe(egressStage);
    expect(result.ingress.trace.at(-1)!.stage).toBe(ingressStage);
  });

  it('names the tier, policy and rule that decided', () => {
    const result = evaluate(snapshot(denyToB), flow('a/web', 'b/db'));
    expect(result.egress.trace.at(-1)).toMatchObject({ stage: 'admin', tier: 'Admin', policy: 'deny-b', ruleIndex: 0, ruleName: 'no-b', action: 'Deny', verdict: 'deny' });
  });
});

const keys = fc.constantFrom('app', 'team');
const vals = fc.constantFrom('a', 'b', 'c');
const requirement: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ key: keys, operator: fc.constantFrom<Operator>('In', 'NotIn'), values: fc.uniqueArray(vals, { minLength: 1, maxLength: 2 }) }),
  fc.record({ key: keys, operator: fc.constantFrom<Operator>('Exists', 'DoesNotExist'), values: fc.constant([] as string[]) }),
);
const selector: fc.Arbitrary<Selector> = fc.array(requirement, { maxLength: 3 }).map((requirements) => ({ requirements }));
const labels = fc.dictionary(keys, vals, { maxKeys: 2 });

describe('set reasoning used by rule analysis', () => {
  it('selectorCovers is sound: a covered selector only matches what its cover matches', () => {
    fc.assert(
      fc.property(selector, selector, labels, (outer, inner, l) => {
        if (selectorCovers(outer, inner) && selectorMatches(inner, l)) expect(selectorMatches(outer, l)).toBe(true);
      }),
    );
  });

  it('selectorsMayOverlap is sound: "disjoint" selectors never both match', () => {
    fc.assert(
      fc.property(selector, selector, labels, (a, b, l) => {
        if (!selectorsMayOverlap(a, b)) expect(selectorMatches(a, l) && selectorMatches(b, l)).toBe(false);
      }),
    );
  });

  it('podSetCovers handles the omitted namespace selector', () => {
    const all = { requirements: [] };
    expect(podSetCovers({ namespaces: all, pods: all }, { namespaces: { requirements: [{ key: 'team', operator: 'In', values: ['a'] }] }, pods: all })).toBe(true);
  });
});

describe('rule analysis', () => {
  it('finds shadowed rules and equal-priority overlaps', () => {
    const s = snapshot(
      cnp('first', 'Admin', 5, `  subject: {namespaces: {}}
  egress:
  - {name: all-b, action: Deny, to: [{namespaces: {matchLabels: {team: b}}}]}
  - {name: db-in-b, action: Accept, to: [{pods: {namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {app: db}}}}], protocols: [{tcp: {destinationPort: {number: 5432}}}]}`) +
        cnp('second', 'Admin', 5, `  subject: {namespaces: {matchLabels: {team: a}}}
  egress: [{name: again, action: Accept, to: [{namespaces: {matchLabels: {team: b}}}]}]`) +
        cnp('other', 'Admin', 5, `  subject: {namespaces: {matchLabels: {team: b}}}
  ingress: [{action: Accept, from: [{namespaces: {}}]}]`),
    );
    const { shadowed, ambiguous } = analyse(s.policies);
    expect(shadowed).toEqual([
      { policy: 'first', direction: 'egress', ruleIndex: 1, ruleName: 'db-in-b', by: { policy: 'first', direction: 'egress', ruleIndex: 0, ruleName: 'all-b' } },
      { policy: 'second', direction: 'egress', ruleIndex: 0, ruleName: 'again', by: { policy: 'first', direction: 'egress', ruleIndex: 0, ruleName: 'all-b' } },
    ]);
    // first and second share egress and subjects; other has only ingress rules.
    expect(ambiguous).toEqual([{ tier: 'Admin', priority: 5, first: 'first', second: 'second', directions: ['egress'] }]);
  });
});
