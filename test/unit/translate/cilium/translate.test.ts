import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../src/api/model.js';
import { translateCilium } from '../../../../src/translate/cilium/index.js';
import { emit } from '../../../../src/translate/cilium/emit.js';
import { cubeOf } from '../../../../src/translate/cilium/labels.js';
import { Cluster } from '../../../../src/translate/cilium/match.js';
import { resolveCiliumOptions, type CiliumOptions } from '../../../../src/translate/cilium/options.js';
import { portSetOf } from '../../../../src/translate/cilium/ports.js';
import type { Cube } from '../../../../src/translate/cilium/space.js';
import { MANAGED_BY_LABEL, POLICY_ANNOTATION, POLICY_LABEL } from '../../../../src/translate/ownership.js';
import type { KubeObject, Translation } from '../../../../src/translate/types.js';
import { flowsFor, scenarioArb } from '../../../support/arbitraries.js';
import { expressibleScenarioArb, withUnselectableLabel } from '../../../support/arbitraries-cilium.js';
import { Differential } from '../../../support/cilium.js';
import { loadConformance } from '../../../support/conformance.js';
import { CLUSTER, edgeCaseSnapshot, snapshotOf } from './fixtures.js';

type Json = Record<string, unknown>;
type Spec = Json & { endpointSelector: Json };

const specsOf = (objects: readonly KubeObject[]): Spec[] => objects.flatMap((o) => (o as unknown as { specs: Spec[] }).specs);
const LISTS = ['ingress', 'ingressDeny', 'egress', 'egressDeny'] as const;
const rulesOf = (objects: readonly KubeObject[]) => specsOf(objects).flatMap((s) => LISTS.flatMap((l) => ((s[l] as Json[] | undefined) ?? []).map((rule) => ({ list: l, rule }))));
const PEER_FIELDS = ['Endpoints', 'Nodes', 'Entities', 'CIDR', 'CIDRSet', 'FQDNs', 'Services', 'Groups', 'Requires'];

function cnp(name: string, body: string): string {
  return `---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ${name}}
spec:
${body
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

/** Agents that can select nodes by label (from 1.19 node identities carry the cluster label). */
const NODE_SELECTOR_LABELS = { version: 19, nodeSelectorLabels: true } as const;

function translate(yaml: string, options: CiliumOptions = {}): Translation {
  return translateCilium(snapshotOf(`${CLUSTER}\n${yaml}`), options);
}

/** Rules Cilium would reject or misread, and our own invariants. */
function invariantProblems(t: Translation): string[] {
  const out: string[] = [];
  for (const spec of specsOf(t.objects)) {
    const dd = spec['enableDefaultDeny'] as Json | undefined;
    if (dd?.['ingress'] !== false || dd['egress'] !== false) out.push(`spec without enableDefaultDeny false: ${JSON.stringify(spec)}`);
    if (!JSON.stringify(spec.endpointSelector).includes('k8s:io.kubernetes.pod.namespace')) out.push(`subject without a namespace requirement: ${JSON.stringify(spec.endpointSelector)}`);
  }
  for (const { list, rule } of rulesOf(t.objects)) {
    const side = list.startsWith('egress') ? 'to' : 'from';
    const peers = PEER_FIELDS.filter((f) => rule[`${side}${f}`] !== undefined);
    if (peers.length !== 1) out.push(`${list} rule with ${peers.length} peer kinds: ${JSON.stringify(rule)}`);
    if (rule['toPorts'] !== undefined && rule['icmps'] !== undefined) out.push(`ports and ICMP in one rule: ${JSON.stringify(rule)}`);
    if (list === 'egressDeny' && rule['toFQDNs'] !== undefined) out.push('toFQDNs in a deny rule');
    for (const sel of [...((rule[`${side}Endpoints`] as Json[] | undefined) ?? [])]) {
      if (!JSON.stringify(sel).includes('k8s:io.kubernetes.pod.namespace')) out.push(`endpoint peer without a namespace requirement: ${JSON.stringify(sel)}`);
    }
    for (const pr of (rule['toPorts'] as { ports: Json[] }[] | undefined) ?? []) {
      if (pr.ports.length > 40) out.push(`${pr.ports.length} ports in one PortRule`);
      for (const p of pr.ports) if (!['TCP', 'UDP', 'SCTP'].includes(p['protocol'] as string)) out.push(`port without an explicit protocol: ${JSON.stringify(p)}`);
    }
  }
  // Specs for different parts of one CNP's subject say which part they are: listed side by side they must read differently.
  const descriptions = new Map<string, Set<string>>();
  for (const o of t.objects) {
    const seen = descriptions.get(o.metadata.annotations?.[POLICY_ANNOTATION] ?? '') ?? new Set<string>();
    descriptions.set(o.metadata.annotations?.[POLICY_ANNOTATION] ?? '', seen);
    for (const spec of specsOf([o])) {
      const d = spec['description'] as string;
      if (seen.has(d)) out.push(`two specs of one CNP described alike: ${d}`);
      seen.add(d);
    }
  }
  for (const o of t.objects) {
    if (o.metadata.labels?.[MANAGED_BY_LABEL] !== 'cnp-operator' || o.metadata.labels[POLICY_LABEL] === undefined || o.metadata.annotations?.[POLICY_ANNOTATION] === undefined) {
      out.push(`${o.metadata.name}: missing ownership labels`);
    }
    if (o.metadata.name.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.metadata.name)) out.push(`bad object name ${o.metadata.name}`);
  }
  return out;
}

describe('translateCilium: shape of the output', () => {
  it('keeps every invariant on the conformance suite, the edge cases and random scenarios', () => {
    for (const c of loadConformance(4)) for (const step of c.steps) expect(invariantProblems(translateCilium(step.snapshot))).toEqual([]);
    expect(invariantProblems(translateCilium(edgeCaseSnapshot()))).toEqual([]);
    fc.assert(
      fc.property(fc.oneof(expressibleScenarioArb(), scenarioArb(), scenarioArb().map((s) => withUnselectableLabel(s))), ({ snapshot }) => {
        expect(invariantProblems(translateCilium(snapshot))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  // Same input, byte-identical output, whatever the order of the input lists.
  const orderIndependent = fc.property(fc.oneof(expressibleScenarioArb(), scenarioArb()), fc.integer({ min: 1, max: 1000 }), ({ snapshot }, seed) => {
    const shuffle = <T>(xs: readonly T[]): T[] => [...xs].map((x, i) => ({ x, k: (i * 7919 + seed * 104729) % 1000003 })).sort((a, b) => a.k - b.k).map((y) => y.x);
    const a = JSON.stringify(translateCilium(snapshot));
    expect(JSON.stringify(translateCilium(snapshot))).toBe(a);
    const shuffled: Snapshot = {
      policies: shuffle(snapshot.policies),
      networkPolicies: shuffle(snapshot.networkPolicies),
      namespaces: shuffle(snapshot.namespaces),
      pods: shuffle(snapshot.pods),
      nodes: shuffle(snapshot.nodes),
    };
    expect(JSON.stringify(translateCilium(shuffled))).toBe(a);
  });

  it('is deterministic: same input, byte-identical output, whatever the order of the input lists', () => {
    fc.assert(orderIndependent, { numRuns: 200 });
  });

  it('is deterministic for a case a run found: the NetworkPolicies that split DNS-visibility subjects, in either order', () => {
    fc.assert(orderIndependent, { numRuns: 1, seed: 1559731199, path: '101:0:0:0:0:0:0:0:0:0:0:2:7:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:4:1:1:1:1:1:1:1:5:2:2:2:3:3:3:3:4:4', endOnFailure: true });
  });

  it('writes one object per CNP, owned by it, and nothing for a CNP that needs no rule', () => {
    const t = translate(
      cnp('admin-x', 'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{namespaces: {matchLabels: {team: blue}}}]}]') +
        cnp('baseline-accept', 'tier: Baseline\npriority: 1\nsubject: {namespaces: {}}\negress: [{action: Accept, to: [{namespaces: {}}]}]'),
    );
    expect(t.objects.map((o) => o.metadata.name)).toEqual(['cnp-admin-x']);
    expect(t.objects[0]!.metadata.annotations?.[POLICY_ANNOTATION]).toBe('admin-x');
    expect(t.findings).toEqual([]);
  });
});

describe('translateCilium: compilation', () => {
  it('subtracts earlier Accept and Pass from a Deny, and only earlier Pass from an Accept', () => {
    const t = translate(
      cnp(
        'p',
        `tier: Admin
priority: 1
subject: {namespaces: {matchLabels: {team: red}}}
egress:
- {action: Pass, to: [{namespaces: {matchLabels: {team: blue}}}], protocols: [{tcp: {destinationPort: {number: 5432}}}]}
- {action: Accept, to: [{pods: {podSelector: {matchLabels: {app: db}}}}]}
- {action: Deny, to: [{namespaces: {}}]}`,
      ),
    );
    const [spec] = specsOf(t.objects);
    expect(spec).toBeDefined();
    // Accept: app=db minus the passed 5432/TCP in team=blue namespaces.
    expect(JSON.stringify(spec!['egress'])).toContain('k8s:app');
    // Deny: every pod except app=db, and app=db only where the Pass did not take it.
    const deny = JSON.stringify(spec!['egressDeny']);
    expect(deny).toContain('"operator":"NotIn","values":["db"]');
    // "everything except the passed 5432/TCP": the non-port remainder is only ICMP echo, and says so.
    expect(t.findings.map((f) => `${f.ruleIndex}:${f.kind}:${f.effect}`)).toEqual(['1:port-complement:accept-narrowed', '2:port-complement:deny-narrowed']);
  });

  it('limits Baseline denies to pods no NetworkPolicy isolates, and lets Admin Accepts through', () => {
    const t = translate(
      cnp('a', 'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\ningress: [{action: Accept, from: [{namespaces: {matchLabels: {team: red}}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}]') +
        cnp('b', 'tier: Baseline\npriority: 1\nsubject: {namespaces: {}}\ningress: [{action: Deny, from: [{namespaces: {}}]}]') +
        `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: b}
spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}
`,
    );
    const baseline = specsOf(t.objects.filter((o) => o.metadata.name === 'cnp-b'));
    const text = JSON.stringify(baseline);
    expect(text).toContain('"key":"k8s:io.kubernetes.pod.namespace","operator":"NotIn","values":["b"]');
    expect(text).toContain('"key":"k8s:app","operator":"NotIn","values":["db"]');
    expect(t.findings.map((f) => `${f.policy}:${f.kind}:${f.effect}`)).toEqual(['b:port-complement:deny-narrowed']);
  });

  it('reports what Cilium cannot express, failing closed', () => {
    const t = translate(
      cnp(
        'inexact',
        `tier: Admin
priority: 1
subject: {pods: {podSelector: {matchLabels: {pod-template-hash: h1}}}}
egress:
- {name: some-pods, action: Deny, to: [{networks: [10.244.1.0/24]}]}
- {name: some-nodes, action: Accept, to: [{nodes: {matchLabels: {zone: z1}}}]}
- {name: named, action: Accept, to: [{namespaces: {}}], protocols: [{destinationNamedPort: http}]}`,
      ),
      { agent: NODE_SELECTOR_LABELS },
    );
    const kinds = t.findings.map((f) => `${f.ruleName}:${f.kind}:${f.effect}`).sort();
    expect(kinds).toEqual([
      'named:named-port:accept-narrowed',
      'named:unselectable-label:accept-narrowed',
      'some-nodes:node-peer-local:accept-narrowed',
      'some-nodes:unselectable-label:accept-narrowed',
      'some-pods:cidr-covers-pods:deny-widened',
      'some-pods:unselectable-label:deny-widened',
    ]);
  });

  it('covers pods and nodes with 0.0.0.0/0 and ::/0 whatever the snapshot holds; reports node peers when no node is known', () => {
    const t = translateCilium(
      snapshotOf(
        cnp(
          'bare',
          `tier: Admin
priority: 1
subject: {namespaces: {}}
egress:
- {name: everything, action: Deny, to: [{networks: [0.0.0.0/0, '::/0']}]}
- {name: nodes, action: Deny, to: [{nodes: {matchLabels: {zone: z1}}}]}`,
        ),
      ),
      { agent: NODE_SELECTOR_LABELS },
    );
    const deny = JSON.stringify(specsOf(t.objects)[0]!['egressDeny']);
    expect(deny).toContain('{"toEndpoints":[{"matchExpressions":[{"key":"k8s:io.kubernetes.pod.namespace","operator":"Exists"}]}]}');
    expect(deny).toContain('{"toEntities":["host","remote-node","world"]}');
    expect(t.findings.map((f) => `${f.ruleName}:${f.kind}`)).toEqual(['nodes:node-peer-local']);
  });

  it('is exact for node peers on remote nodes, and fails closed only for a pod\'s own node', () => {
    const snapshot = snapshotOf(
      `${CLUSTER}\n` +
        cnp(
          'nodes',
          `tier: Admin
priority: 1
subject: {pods: {podSelector: {matchLabels: {app: web}}}}
egress:
- {name: accept-z1, action: Accept, to: [{nodes: {matchLabels: {zone: z1}}}], protocols: [{tcp: {destinationPort: {number: 10250}}}]}
- {name: deny-z2, action: Deny, to: [{nodes: {matchLabels: {zone: z2}}}]}
- {name: deny-nodes, action: Deny, to: [{nodes: {}}], protocols: [{tcp: {destinationPort: {number: 10250}}}]}`,
        ),
    );
    const t = translateCilium(snapshot, { agent: NODE_SELECTOR_LABELS });
    expect(new Set(t.findings.map((f) => f.kind))).toEqual(new Set(['node-peer-local']));
    const diff = new Differential(snapshot, t, { release: '1.19', nodeSelectorLabels: true });
    const nodeOf = (name: string) => snapshot.pods.find((p) => p.name === name)!.nodeName;
    let local = 0;
    for (const from of ['web-0', 'web-1']) {
      for (const [address, node] of [['172.18.0.2', 'n1'], ['172.18.0.3', 'n2']] as const) {
        for (const port of [10250, 22]) {
          const flow = { from: { kind: 'pod', namespace: 'a', name: from }, to: { kind: 'ip', ip: address }, port, protocol: 'TCP' } as const;
          const r = diff.compare(flow);
          if (r.model.verdict === r.reference.verdict) continue;
          expect(r.model.verdict).toBe('deny');
          expect(nodeOf(from)).toBe(node);
          local++;
        }
      }
    }
    expect(local).toBeGreaterThan(0);
  });

  it('splits a very large translation into several objects, each well under the API server limit', () => {
    const snapshot = snapshotOf(`${CLUSTER}\n${cnp('huge', 'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{namespaces: {}}]}]')}`);
    const policy = snapshot.policies[0]!;
    const cubes: Cube[] = Array.from({ length: 6000 }, (_, i) => ({
      subject: cubeOf([{ key: `k8s:app`, operator: 'In', values: [`app-${i}`] }])!,
      peer: { kind: 'pods', selector: cubeOf([{ key: 'k8s:tier', operator: 'In', values: [`t${i}`] }])! },
      ports: portSetOf([{ protocol: 'TCP', start: 80, end: 80 }]),
    }));
    const objects = emit([{ policy, direction: 'egress', rule: policy.egress[0]!, sign: 'deny', cubes }], [], new Cluster(snapshot, resolveCiliumOptions()).names);
    expect(objects.length).toBeGreaterThan(1);
    for (const o of objects) expect(JSON.stringify(o).length).toBeLessThan(1024 * 1024);
    expect(objects.map((o) => o.metadata.name)).toEqual(objects.map((_, i) => (i === 0 ? 'cnp-huge' : `cnp-huge.${i + 1}`)).sort());
    expect(specsOf(objects).length).toBe(6000);
  });

  it('reports fail-closed rules', () => {
    const t = translate(cnp('fc', 'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\ningress: [{name: odd, action: Pass, from: [{someFutureField: {}}]}]'));
    expect(t.findings.map((f) => `${f.ruleName}:${f.kind}:${f.effect}`)).toEqual(['odd:unsupported-field:deny-widened']);
    expect(JSON.stringify(specsOf(t.objects)[0]!['ingressDeny'])).toContain('"fromEntities":["all"]');
  });

  it('falls back to the fail-closed form past its bounds, and says so', () => {
    const yaml = cnp(
      'big',
      `tier: Admin
priority: 1
subject: {namespaces: {}}
egress:
- {name: pass, action: Pass, to: [{pods: {podSelector: {matchLabels: {app: web}}}}]}
- {name: accept, action: Accept, to: [{namespaces: {matchLabels: {team: red}}}]}
- {name: deny, action: Deny, to: [{namespaces: {}}]}`,
    );
    const t = translate(yaml, { maxPiecesPerRule: 0 });
    expect(t.findings.map((f) => `${f.ruleName}:${f.kind}:${f.effect}`).sort()).toEqual(['accept:size-limit:accept-narrowed', 'deny:size-limit:deny-widened']);
    const u = translate(yaml, { maxRules: 0 });
    expect(u.findings.filter((f) => f.kind === 'size-limit').length).toBe(2);
  });

  it('never fails open under tight bounds', () => {
    fc.assert(
      fc.property(scenarioArb(), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 20 }), ({ family, snapshot }, pieces, rules) => {
        const t = translateCilium(snapshot, { maxPiecesPerRule: pieces, maxRules: rules });
        const diff = new Differential(snapshot, t, { allowLocalhost: 'policy' });
        const npOnly = new Differential({ ...snapshot, policies: [] }, { objects: [], findings: [] }, { allowLocalhost: 'policy' });
        for (const flow of flowsFor(snapshot, family)) {
          const r = diff.compare(flow);
          if (r.outcome.kind !== 'fail-open') continue;
          const d = r.outcome.direction;
          const base = npOnly.compare(flow);
          const stage = r.reference[d].trace.at(-1)?.stage;
          if (stage !== 'admin' && base.model[d].verdict !== base.reference[d].verdict) continue; // NetworkPolicy, not ours
          throw new Error(`FAIL-OPEN:\n${diff.explain(flow, r)}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('turns domain names into toFQDNs (recursive wildcards as **.) with a DNS-visibility rule, and never into a deny', () => {
    const t = translate(cnp('fqdn', "tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress: [{action: Accept, to: [{domainNames: [example.com, '*.example.org']}]}]"));
    const egress = JSON.stringify(specsOf(t.objects)[0]!['egress']);
    expect(egress).toContain('{"matchName":"example.com"}');
    expect(egress).toContain('{"matchPattern":"**.example.org"}');
    expect(egress).toContain('"rules":{"dns":[{"matchPattern":"*"}]}');
    expect(egress).toContain('"k8s:k8s-app":"kube-dns"');
    expect(JSON.stringify(t.objects)).not.toContain('egressDeny');
    expect(t.findings).toEqual([]);
  });

  it('gives no DNS-visibility rule to pods a NetworkPolicy isolates for egress, and says so', () => {
    const t = translate(
      cnp('fqdn', 'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress: [{name: web, action: Accept, to: [{domainNames: [example.com]}]}]') +
        `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: b}
spec: {podSelector: {}, policyTypes: [Egress]}
`,
    );
    const dnsSpecs = specsOf(t.objects).filter((s) => JSON.stringify(s).includes('"dns"'));
    expect(dnsSpecs.length).toBeGreaterThan(0);
    for (const s of dnsSpecs) expect(JSON.stringify(s.endpointSelector)).toContain('"operator":"NotIn","values":["b"]');
    expect(t.findings.map((f) => `${f.ruleName}:${f.kind}:${f.effect}`)).toEqual(['web:unsupported-peer:accept-narrowed']);
  });
});

describe('translateCilium: findings name the earlier rules that force them', () => {
  const messageOf = (t: Translation, policy: string, kind: string): string => {
    const found = t.findings.filter((f) => f.policy === policy && f.kind === kind);
    expect(found).toHaveLength(1);
    return found[0]!.message;
  };

  it('port-complement: names the earlier rules that took ports, and only those', () => {
    const t = translate(
      cnp(
        'first',
        `tier: Admin
priority: 1
subject: {namespaces: {matchLabels: {team: red}}}
egress:
- {name: allow-web, action: Accept, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}
- {name: allow-db, action: Accept, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}]}`,
      ) +
        cnp(
          'second',
          `tier: Admin
priority: 2
subject: {namespaces: {matchLabels: {team: red}}}
egress:
- {name: deny-rest, action: Deny, to: [{namespaces: {}}]}`,
        ),
    );
    const message = messageOf(t, 'second', 'port-complement');
    // allow-db takes every port of what it matches: it leaves no traffic without ports behind.
    expect(message).toBe(
      'after earlier rules take some ports (first egress[0] "allow-web"), the traffic without ports left to deny is denied as ICMP echo only: other ICMP types and IP protocols such as GRE or ESP are not denied (Cilium cannot say "all traffic except these ports")',
    );
  });

  it('port-complement: names rules of the same policy, in evaluation order, at most three', () => {
    const accept = (port: number) => `- {action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: ${port}}}}]}`;
    const t = translate(
      cnp('z-first', `tier: Admin\npriority: 1\nsubject: {namespaces: {}}\negress:\n${accept(81)}\n${accept(82)}`) +
        cnp('a-second', `tier: Admin\npriority: 2\nsubject: {namespaces: {}}\negress:\n${accept(83)}\n${accept(84)}\n${accept(85)}\n- {name: deny-all, action: Deny, to: [{namespaces: {}}]}`),
    );
    expect(messageOf(t, 'a-second', 'port-complement')).toMatch(/^after earlier rules take some ports \(z-first egress\[0\], z-first egress\[1\], a-second egress\[0\] and 2 more\), /);
  });

  it('port-complement: a Baseline Deny names the Admin Accept, not the NetworkPolicy', () => {
    const t = translate(
      cnp('a', 'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\ningress: [{name: web, action: Accept, from: [{namespaces: {matchLabels: {team: red}}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}]') +
        cnp('b', 'tier: Baseline\npriority: 1\nsubject: {namespaces: {}}\ningress: [{action: Deny, from: [{namespaces: {}}]}]') +
        `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: b}
spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}
`,
    );
    expect(messageOf(t, 'b', 'port-complement')).toMatch(/^after earlier rules take some ports \(a ingress\[0\] "web"\), the traffic without ports left to deny/);
  });

  it('named-port: names the other rule', () => {
    // http is 8080 on web-0 and 8081 on web-1: the Deny's 8080 is the Accept's http on one pod only.
    const t = translate(
      cnp(
        'p',
        `tier: Admin
priority: 1
subject: {pods: {podSelector: {matchLabels: {app: web}}}}
ingress:
- {name: web, action: Accept, from: [{namespaces: {}}], protocols: [{destinationNamedPort: http}]}
- {name: deny-8080, action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 8080}}}]}`,
      ),
    );
    const [f] = t.findings.filter((x) => x.kind === 'named-port');
    expect(f).toMatchObject({ policy: 'p', direction: 'ingress', ruleIndex: 1, ruleName: 'deny-8080', effect: 'deny-widened' });
    expect(f!.message).toBe('a named port overlaps numbered ports of another rule (p ingress[0] "web") differently on different pods; Cilium cannot subtract one from the other');
  });
});
