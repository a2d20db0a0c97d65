import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EMPTY_SELECTOR, type Policy, type PortMatch, type Protocol, type Snapshot } from '../../../../src/api/model.js';
import { selectorMatches } from '../../../../src/api/selector.js';
import {
  ADMIN_TIER_ORDER,
  BASELINE_TIER_ORDER,
  CALICO_BUILTIN_TIERS,
  CALICO_DEFAULT_TIER_ORDER,
  CalicoOptionsError,
  calicoOptionProblems,
  hash64,
  MAX_POLICY_NAME,
  NODE_SET_LABEL,
  policyNames,
  policyOrders,
  portGroups,
  TIER_LABEL,
  translateCalico,
  type CalicoApi,
} from '../../../../src/translate/calico/index.js';
import { NodeSetNames } from '../../../../src/translate/calico/names.js';
import { labelExpression, namespaceSelectorExpression, podSelectorExpression } from '../../../../src/translate/calico/selectors.js';
import { MANAGED_BY_LABEL, POLICY_ANNOTATION, POLICY_LABEL } from '../../../../src/translate/ownership.js';
import type { KubeObject } from '../../../../src/translate/types.js';
import { evaluateSelector, parseCalicoSelector, rewriteNamespaceSelector } from '../../../models/calico/index.js';
import { labelsArb, policiesArb, portMatchArb, scenarioArb, selectorArb } from '../../../support/arbitraries.js';
import { edgeCaseSnapshot, LONG_NAME, snapshotFromYaml } from './fixtures.js';

type Json = Record<string, unknown>;
const spec = (o: KubeObject | undefined): Json => (o?.spec ?? {}) as Json;
const gnps = (objects: readonly KubeObject[]): KubeObject[] => objects.filter((o) => o.kind === 'GlobalNetworkPolicy');
const byCnp = (objects: readonly KubeObject[], cnp: string): KubeObject | undefined =>
  objects.find((o) => o.kind === 'GlobalNetworkPolicy' && o.metadata.annotations?.[POLICY_ANNOTATION] === cnp);

function policy(name: string, priority: number, tier: Policy['tier'] = 'Admin'): Policy {
  return { name, uid: undefined, generation: undefined, tier, priority, subject: { namespaces: EMPTY_SELECTOR, pods: EMPTY_SELECTOR }, ingress: [], egress: [] };
}

const EMPTY: Snapshot = { policies: [], networkPolicies: [], namespaces: [], pods: [], nodes: [] };

describe('tiers', () => {
  it('writes two operator-owned tiers that pass, Admin before the default tier and Baseline after it', () => {
    const { objects } = translateCalico(EMPTY);
    expect(objects).toEqual([
      { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'cnp-admin', labels: { [MANAGED_BY_LABEL]: 'cnp-operator' } }, spec: { order: ADMIN_TIER_ORDER, defaultAction: 'Pass' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'cnp-baseline', labels: { [MANAGED_BY_LABEL]: 'cnp-operator' } }, spec: { order: BASELINE_TIER_ORDER, defaultAction: 'Pass' } },
    ]);
    expect(ADMIN_TIER_ORDER).toBeLessThan(CALICO_DEFAULT_TIER_ORDER);
    expect(BASELINE_TIER_ORDER).toBeGreaterThan(CALICO_DEFAULT_TIER_ORDER);
    for (const order of Object.values(CALICO_BUILTIN_TIERS)) {
      expect(order).not.toBe(ADMIN_TIER_ORDER);
      expect(order).not.toBe(BASELINE_TIER_ORDER);
    }
    // Calico's own admin layers stay outermost (reference/calico.md §3.1).
    expect(ADMIN_TIER_ORDER).toBeGreaterThan(CALICO_BUILTIN_TIERS['kube-admin']!);
    expect(BASELINE_TIER_ORDER).toBeLessThan(CALICO_BUILTIN_TIERS['kube-baseline']!);
  });

  it('takes tier names and orders from the options', () => {
    const snapshot = { ...EMPTY, policies: [policy('p', 1, 'Baseline')] };
    const { objects } = translateCalico(snapshot, { adminTier: 'platform', baselineTier: 'platform-defaults', adminTierOrder: 500, baselineTierOrder: 2_000_000 });
    expect(objects.filter((o) => o.kind === 'Tier').map((o) => [o.metadata.name, spec(o)['order']])).toEqual([
      ['platform', 500],
      ['platform-defaults', 2_000_000],
    ]);
    expect(gnps(objects)[0]!.metadata.name).toBe('platform-defaults.p');
    expect(spec(gnps(objects)[0])['tier']).toBe('platform-defaults');
  });

  it('refuses options that would break the layering or collide with Calico', () => {
    expect(calicoOptionProblems({})).toEqual([]);
    expect(calicoOptionProblems({ adminTier: 'default' })).toHaveLength(1);
    expect(calicoOptionProblems({ baselineTier: 'kube-baseline' })).toHaveLength(1);
    expect(calicoOptionProblems({ adminTier: 'Bad_Name' })).toHaveLength(1);
    expect(calicoOptionProblems({ adminTier: 'x', baselineTier: 'x' })).toHaveLength(1);
    expect(calicoOptionProblems({ adminTierOrder: 2_000_000 })).toHaveLength(1);
    expect(calicoOptionProblems({ baselineTierOrder: 10 })).toHaveLength(1);
    expect(calicoOptionProblems({ adminTierOrder: 1_000 })).toHaveLength(1);
    expect(calicoOptionProblems({ api: 'networking.k8s.io/v1' as CalicoApi })).toHaveLength(1);
    expect(() => translateCalico(EMPTY, { adminTier: 'default' })).toThrow(CalicoOptionsError);
  });
});

describe('GlobalNetworkPolicy names', () => {
  const tierOf = (p: Policy): string => (p.tier === 'Admin' ? 'cnp-admin' : 'cnp-baseline');
  const NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

  it('uses <tier>.<cnp name> when the CNP name has no dot and fits', () => {
    expect(policyNames([policy('deny-egress', 1), policy('base', 1, 'Baseline')], tierOf)).toEqual(
      new Map([
        ['base', 'cnp-baseline.base'],
        ['deny-egress', 'cnp-admin.deny-egress'],
      ]),
    );
  });

  it('maps dotted and long names to a readable prefix and a hash, with exactly one dot', () => {
    const names = policyNames([policy('team-a.web', 1), policy(LONG_NAME, 1, 'Baseline')], tierOf);
    expect(names.get('team-a.web')).toMatch(/^cnp-admin\.team-a-web-[0-9a-f]{8}$/);
    const long = names.get(LONG_NAME)!;
    expect(long.length).toBeLessThanOrEqual(MAX_POLICY_NAME);
    expect(long).toMatch(/^cnp-baseline\.long-long-.*-[0-9a-f]{8}$/);
    for (const n of names.values()) expect(n).toMatch(NAME);
  });

  it("leaves room for Felix's nftables chain name (filter-cali-pi-<tier>/<name>, at most 255 characters)", () => {
    const longest = 'a'.repeat(253);
    for (const tier of ['cnp-admin', 'cnp-baseline', 't', 'x'.repeat(63)]) {
      const names = policyNames([policy(longest, 1), policy(LONG_NAME, 1), policy(`${'b'.repeat(200)}.c`, 1)], () => tier);
      for (const n of names.values()) {
        expect('filter-cali-pi-'.length + tier.length + 1 + n.length, `${tier}/${n}`).toBeLessThanOrEqual(255);
        expect('filter-cali-pi-gnp/'.length + n.length).toBeLessThanOrEqual(255);
        expect(n).toMatch(NAME);
      }
    }
  });

  it('stays collision-free when a CNP is named like another CNP’s mapped name', () => {
    const mapped = policyNames([policy('a.b', 1)], tierOf).get('a.b')!;
    const squatter = mapped.slice('cnp-admin.'.length);
    const names = policyNames([policy('a.b', 1), policy(squatter, 1)], tierOf);
    expect(names.get(squatter)).toBe(mapped);
    expect(names.get('a.b')).not.toBe(mapped);
    expect(names.get('a.b')).toMatch(NAME);
  });

  it('is injective, valid and independent of input order for random sets of names', () => {
    const nameArb = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,5}[a-z0-9])?){0,2}$/);
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { maxLength: 30 }), fc.boolean(), (list, reverse) => {
        const policies = list.map((n, i) => policy(n, 1, i % 2 === 0 ? 'Admin' : 'Baseline'));
        const names = policyNames(policies, tierOf);
        const again = policyNames(reverse ? [...policies].reverse() : policies, tierOf);
        expect(again).toEqual(names);
        expect(new Set(names.values()).size).toBe(list.length);
        for (const p of policies) {
          const n = names.get(p.name)!;
          expect(n).toMatch(NAME);
          expect(n.length).toBeLessThanOrEqual(MAX_POLICY_NAME);
          expect(n.startsWith(`${tierOf(p)}.`)).toBe(true);
        }
      }),
    );
  });
});

describe('GlobalNetworkPolicy order', () => {
  it('is the priority when a priority has one CNP, and priority + i/10^k for ties, by name', () => {
    const orders = policyOrders([policy('z', 7), policy('b', 5), policy('a', 5), policy('a.b', 5), policy('a-b', 5), policy('q', 5, 'Baseline')]);
    expect(Object.fromEntries(orders)).toEqual({ z: 7, 'a': 5, 'a-b': 5.1, 'a.b': 5.2, b: 5.3, q: 5 });
    const many = policyOrders(Array.from({ length: 11 }, (_, i) => policy(`p${String(i).padStart(2, '0')}`, 1000)));
    expect([...many.values()]).toEqual([1000, 1000.01, 1000.02, 1000.03, 1000.04, 1000.05, 1000.06, 1000.07, 1000.08, 1000.09, 1000.1]);
  });

  it('is strictly increasing in (priority, name) within a tier and survives JSON', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z][-a-z.]{0,6}$/), priority: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 60, selector: (p) => p.name }),
        (list) => {
          const policies = list.map((p) => policy(p.name, p.priority));
          const orders = policyOrders(policies);
          const sorted = [...policies].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
          for (let i = 1; i < sorted.length; i++) expect(orders.get(sorted[i]!.name)!).toBeGreaterThan(orders.get(sorted[i - 1]!.name)!);
          for (const p of policies) {
            const o = orders.get(p.name)!;
            expect(o).toBeGreaterThanOrEqual(p.priority);
            expect(o).toBeLessThan(p.priority + 1);
            expect(JSON.parse(JSON.stringify(o))).toBe(o);
          }
        },
      ),
    );
  });

  it('changes no other CNP’s order when a CNP with a new priority is added', () => {
    const before = policyOrders([policy('a', 1), policy('b', 1), policy('c', 2)]);
    const after = policyOrders([policy('a', 1), policy('b', 1), policy('c', 2), policy('new', 3)]);
    for (const [name, order] of before) expect(after.get(name)).toBe(order);
  });
});

describe('selectors', () => {
  it('writes Kubernetes selectors the way Calico converts them', () => {
    const sel = snapshotFromYaml(`
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: s}
spec:
  tier: Admin
  priority: 1
  subject:
    pods:
      namespaceSelector: {}
      podSelector:
        matchLabels: {app: web}
        matchExpressions:
        - {key: env, operator: In, values: [prod, dev]}
        - {key: tier, operator: NotIn, values: [db]}
        - {key: team, operator: NotIn, values: [x, y]}
        - {key: canary, operator: Exists}
        - {key: legacy, operator: DoesNotExist}
`).policies[0]!.subject;
    expect(podSelectorExpression(sel.pods)).toBe(
      "projectcalico.org/orchestrator == 'k8s' && app == 'web' && has(canary) && env in {'dev', 'prod'} && !has(legacy) && team not in {'x', 'y'} && tier != 'db'",
    );
    expect(namespaceSelectorExpression(sel.namespaces)).toBe('all()');
    expect(podSelectorExpression(EMPTY_SELECTOR)).toBe("projectcalico.org/orchestrator == 'k8s'");
  });

  it('match exactly what the Kubernetes selector matches, through the Calico model’s parser', () => {
    fc.assert(
      fc.property(selectorArb, labelsArb, (selector, labels) => {
        const expected = selectorMatches(selector, labels);
        const text = labelExpression(selector);
        expect(evaluateSelector(parseCalicoSelector(text), labels)).toBe(expected);
        // As a namespace selector: evaluated on the namespace's labels inherited as pcns.*.
        const inherited = Object.fromEntries([...Object.entries(labels).map(([k, v]) => [`pcns.${k}`, v]), ['projectcalico.org/namespace', 'ns']]);
        expect(evaluateSelector(rewriteNamespaceSelector(parseCalicoSelector(namespaceSelectorExpression(selector))), inherited)).toBe(expected);
      }),
    );
  });
});

describe('rules', () => {
  it('groups protocol entries: one rule per protocol with merged sorted ranges, then the named ports for every protocol', () => {
    const ports: PortMatch[] = [
      { kind: 'range', protocol: 'UDP', start: 53, end: 53 },
      { kind: 'named', name: 'web' },
      { kind: 'range', protocol: 'TCP', start: 8080, end: 8090 },
      { kind: 'range', protocol: 'TCP', start: 80, end: 80 },
      { kind: 'range', protocol: 'TCP', start: 81, end: 81 },
      { kind: 'range', protocol: 'TCP', start: 8085, end: 9000 },
      { kind: 'named', name: 'dns' },
      { kind: 'named', name: 'web' },
    ];
    expect(portGroups(ports)).toEqual([
      { protocol: 'TCP', ports: ['80:81', '8080:9000', 'dns', 'web'] },
      { protocol: 'UDP', ports: [53, 'dns', 'web'] },
      { protocol: 'SCTP', ports: ['dns', 'web'] },
    ]);
    expect(portGroups([{ kind: 'named', name: 'web' }])).toEqual([
      { protocol: 'TCP', ports: ['web'] },
      { protocol: 'UDP', ports: ['web'] },
      { protocol: 'SCTP', ports: ['web'] },
    ]);
    expect(portGroups(undefined)).toEqual([{ protocol: undefined, ports: undefined }]);
  });

  it('port groups cover exactly the ports written', () => {
    const edges = [1, 52, 53, 54, 79, 80, 81, 82, 83, 90, 91, 1023, 1024, 1025, 8079, 8080, 8081, 9002, 9003, 9004, 10090, 10091, 65535];
    fc.assert(
      fc.property(fc.array(portMatchArb(false), { minLength: 1, maxLength: 6 }), (ports) => {
        const groups = portGroups(ports);
        for (const protocol of ['TCP', 'UDP', 'SCTP'] as Protocol[]) {
          for (const port of edges) {
            const written = ports.some((p) => p.kind === 'range' && p.protocol === protocol && port >= p.start && port <= p.end);
            const group = groups.find((g) => g.protocol === protocol);
            const translated = (group?.ports ?? []).some((p) => {
              if (typeof p === 'string' && !p.includes(':')) return false;
              if (typeof p === 'number') return p === port;
              const [s, e] = p.split(':').map(Number);
              return port >= s! && port <= e!;
            });
            expect(translated, `${protocol}/${port}`).toBe(written);
          }
        }
      }),
    );
  });

  it('expands rules per peer × protocol in CNP order, splits IPv4/IPv6, and names the CNP rule', () => {
    const { objects } = translateCalico(edgeCaseSnapshot());
    const gnp = spec(byCnp(objects, 'team-a.web'));
    const ingress = gnp['ingress'] as Json[];
    const egress = gnp['egress'] as Json[];
    const from = { name: 'from-db', 'policy.cnp-operator.io/rule': 'ingress[0]' };
    expect(ingress.map((r) => [r['action'], r['protocol'] ?? '-', (r['destination'] as Json | undefined)?.['ports'] ?? '-', (r['metadata'] as Json)['annotations']])).toEqual([
      ['Allow', 'TCP', ['80:90', 'http'], from],
      ['Allow', 'UDP', [53, 'http'], from],
      ['Allow', 'SCTP', ['http'], from],
      ['Allow', 'TCP', ['80:90', 'http'], from],
      ['Allow', 'UDP', [53, 'http'], from],
      ['Allow', 'SCTP', ['http'], from],
      ['Deny', '-', '-', { 'policy.cnp-operator.io/rule': 'ingress[1]' }],
    ]);
    expect(ingress[0]).toMatchObject({ source: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "team == 'b'" } });
    const nets = egress.filter((r) => (r['destination'] as Json | undefined)?.['nets'] !== undefined).map((r) => (r['destination'] as Json)['nets']);
    expect(nets).toEqual([
      ['10.0.0.0/8', '192.168.0.0/16'],
      ['2001:db8::/32', 'fd00::/8'],
    ]);
    const nodeRules = egress.filter((r) => (r['destination'] as Json | undefined)?.['namespaceSelector'] === 'global()');
    expect(nodeRules).toHaveLength(2);
    for (const r of nodeRules) expect((r['destination'] as Json)['selector']).toMatch(new RegExp(`^${NODE_SET_LABEL.replace(/\./g, '\\.')} == '[0-9a-f]{16}'$`));
  });

  it('keeps a rule’s other peers when dropping domainNames, drops a domain-only Accept, and fails closed on unknown fields', () => {
    const { objects, findings } = translateCalico(edgeCaseSnapshot());
    const egress = spec(byCnp(objects, 'team-a.web'))['egress'] as Json[];
    const rule = (i: number): Json[] => egress.filter((r) => ((r['metadata'] as Json)['annotations'] as Json)['policy.cnp-operator.io/rule'] === `egress[${i}]`);
    expect(rule(2)).toEqual([
      expect.objectContaining({ action: 'Allow', destination: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "team == 'b'" } }),
    ]);
    expect(rule(3)).toEqual([]);
    expect(rule(4)).toEqual([{ action: 'Deny', metadata: { annotations: { name: 'future-peer', 'policy.cnp-operator.io/rule': 'egress[4]' } } }]);
    expect(rule(5)).toEqual([]);
    expect(findings.map((f) => [f.policy, f.direction, f.ruleIndex, f.ruleName, f.kind, f.effect])).toEqual([
      ['team-a.web', 'egress', 2, 'to-domains', 'unsupported-peer', 'accept-narrowed'],
      ['team-a.web', 'egress', 3, 'only-domains', 'unsupported-peer', 'accept-narrowed'],
      ['team-a.web', 'egress', 4, 'future-peer', 'unsupported-field', 'deny-widened'],
      ['team-a.web', 'egress', 5, 'future-accept', 'unsupported-field', 'accept-narrowed'],
    ]);
  });

  it('sets types only for directions with rules', () => {
    const { objects } = translateCalico(edgeCaseSnapshot());
    expect(spec(byCnp(objects, 'team-a.web'))['types']).toEqual(['Ingress', 'Egress']);
    expect(spec(byCnp(objects, LONG_NAME))['types']).toEqual(['Egress']);
    expect(spec(byCnp(objects, 'a-b'))['types']).toEqual(['Ingress']);
    // No rules at all: what Calico's defaulting would write; it decides nothing.
    expect(spec(byCnp(objects, 'a'))).toEqual({ tier: 'cnp-baseline', order: 10, selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: 'all()', types: ['Ingress'] });
  });
});

describe('objects', () => {
  it.each(['projectcalico.org/v3', 'crd.projectcalico.org/v1'] as CalicoApi[])('%s: tier label, explicit tier/order/types, ownership on every owned object', (api) => {
    const { objects } = translateCalico(edgeCaseSnapshot(), { api });
    for (const o of objects) {
      expect(o.apiVersion).toBe(api);
      expect(o.metadata.labels?.[MANAGED_BY_LABEL]).toBe('cnp-operator');
      if (o.kind === 'Tier') continue;
      const cnp = o.metadata.annotations?.[POLICY_ANNOTATION];
      expect(cnp).toBeDefined();
      expect(o.metadata.labels?.[POLICY_LABEL]).toBeDefined();
      if (cnp === 'team-a.web') expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ClusterNetworkPolicy', name: 'team-a.web', uid: '2b9c1c0e-0000-4000-8000-000000000001', controller: true })]);
      else expect(o.metadata.ownerReferences).toBeUndefined();
      if (o.kind === 'GlobalNetworkPolicy') {
        const s = spec(o);
        expect(o.metadata.labels?.[TIER_LABEL]).toBe(s['tier']);
        expect(o.metadata.name.startsWith(`${String(s['tier'])}.`)).toBe(true);
        expect(typeof s['order']).toBe('number');
        expect((s['types'] as unknown[]).length).toBeGreaterThan(0);
      }
    }
  });

  it('gives node sets collision-free ids and names of at most 63 characters', () => {
    const names = new NodeSetNames();
    const a = names.allocate('p', 'sel');
    const b = names.allocate('p', 'sel'); // a forced collision: re-hashed
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).not.toBe(a);
    const ids = new Set(Array.from({ length: 20_000 }, (_, i) => hash64(`policy-${i}\n[]`)));
    expect(ids.size).toBe(20_000);
    const name = NodeSetNames.setName(`cnp-admin.${'x'.repeat(100)}`, a);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('puts the addresses of the matching nodes in each node set, recomputed from the Node objects', () => {
    const snapshot = edgeCaseSnapshot();
    const sets = (s: Snapshot): string[][] => translateCalico(s).objects.filter((o) => o.kind === 'GlobalNetworkSet').map((o) => spec(o)['nets'] as string[]);
    expect(sets(snapshot)).toEqual([['172.18.0.3/32', 'fc00::3/128'], ['172.18.0.2/32', '172.18.0.3/32', 'fc00::3/128']]);
    const moved = { ...snapshot, nodes: snapshot.nodes.map((n) => (n.name === 'n1' ? { ...n, addresses: ['172.18.0.9'] } : n)) };
    expect(sets(moved)).toEqual([['172.18.0.9/32'], ['172.18.0.2/32', '172.18.0.9/32']]);
    const names = (s: Snapshot): string[] => translateCalico(s).objects.map((o) => o.metadata.name);
    expect(names(moved)).toEqual(names(snapshot));
  });

  it('writes no node set for a nodes peer that selects no node (Calico refuses an empty set); the peer matches nothing, reported', () => {
    const snapshot = edgeCaseSnapshot();
    const gone = { ...snapshot, nodes: [] };
    const t = translateCalico(gone);
    expect(t.objects.filter((o) => o.kind === 'GlobalNetworkSet')).toEqual([]);
    const empty = t.findings.filter((f) => f.kind === 'node-peer-empty');
    expect(empty.length).toBeGreaterThan(0);
    expect(empty.every((f) => f.effect === 'none' && f.message.includes('selects no node now'))).toBe(true);
    // No rule names a set that does not exist.
    expect(JSON.stringify(t.objects)).not.toContain('policy.cnp-operator.io/node-set ==');
  });
});

describe('determinism', () => {
  const permute = <T>(list: readonly T[], seed: number): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = (seed * (i + 7)) % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };

  it('gives byte-identical output for the same input, whatever the order of the input objects', () => {
    fc.assert(
      fc.property(scenarioArb(), fc.nat(), fc.constantFrom<CalicoApi>('projectcalico.org/v3', 'crd.projectcalico.org/v1'), (scenario, seed, api) => {
        const s = scenario.snapshot;
        const first = JSON.stringify(translateCalico(s, { api }));
        expect(JSON.stringify(translateCalico(s, { api }))).toBe(first);
        const shuffled: Snapshot = {
          policies: permute(s.policies, seed),
          networkPolicies: permute(s.networkPolicies, seed),
          namespaces: permute(s.namespaces, seed),
          pods: permute(s.pods, seed),
          nodes: permute(s.nodes, seed),
        };
        expect(JSON.stringify(translateCalico(shuffled, { api }))).toBe(first);
      }),
      { numRuns: 200 },
    );
  });

  it('shares no object between places in the output (YAML has no anchors or aliases)', () => {
    const out = stringify(translateCalico(edgeCaseSnapshot()).objects);
    expect(out).not.toMatch(/[&*][a-z]+[0-9]*\b/);
  });

  it('sorts objects by kind then name', () => {
    fc.assert(
      fc.property(policiesArb(), (policies) => {
        const { objects } = translateCalico({ ...EMPTY, policies });
        const keys = objects.map((o) => `${['Tier', 'GlobalNetworkPolicy', 'GlobalNetworkSet'].indexOf(o.kind)}/${o.metadata.name}`);
        expect(keys).toEqual([...keys].sort());
      }),
      { numRuns: 100 },
    );
  });
});
