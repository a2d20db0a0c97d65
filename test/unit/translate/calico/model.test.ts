import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../../src/api/ip.js';
import type { NetworkPolicy, Snapshot } from '../../../../src/api/model.js';
import type { Flow } from '../../../../src/semantics/flow.js';
import {
  CalicoModel,
  calicoObjectProblems,
  evaluateSelector,
  parseCalicoSelector,
  rewriteNamespaceSelector,
  SelectorParseError,
  tierFromPolicyName,
  type CalicoModelOptions,
} from '../../../models/calico/index.js';

// The Calico model on hand-written Calico objects: each case is a fact from reference/calico.md,
// checked without the translator.

describe('Calico selectors (reference/calico.md §2.4)', () => {
  const m = (sel: string, labels: Record<string, string>): boolean => evaluateSelector(parseCalicoSelector(sel), labels);

  it('implements the operators, including absent labels', () => {
    expect(m("a == 'x'", { a: 'x' })).toBe(true);
    expect(m("a == 'x'", {})).toBe(false);
    expect(m("a != 'x'", {})).toBe(true);
    expect(m("a != 'x'", { a: 'x' })).toBe(false);
    expect(m('has(a)', { a: '' })).toBe(true);
    expect(m('!has(a)', {})).toBe(true);
    expect(m("a in {'x', 'y'}", { a: 'y' })).toBe(true);
    expect(m("a in {'x', 'y'}", {})).toBe(false);
    expect(m("a not in {'x', 'y'}", {})).toBe(true);
    expect(m("a not in {'x', 'y'}", { a: 'x' })).toBe(false);
    expect(m("a contains 'ell'", { a: 'hello' })).toBe(true);
    expect(m("a starts with 'he'", { a: 'hello' })).toBe(true);
    expect(m("a ends with 'lo'", { a: 'hello' })).toBe(true);
    expect(m("a ends with 'lo'", {})).toBe(false);
    expect(m('all()', {})).toBe(true);
    expect(m('!all()', { a: 'x' })).toBe(false);
    expect(m('', {})).toBe(true);
    expect(m(`projectcalico.org/orchestrator == "k8s"`, { 'projectcalico.org/orchestrator': 'k8s' })).toBe(true);
  });

  it('binds ! tighter than && tighter than ||, and honours parentheses', () => {
    expect(m("a == 'x' || b == 'y' && c == 'z'", { a: 'x' })).toBe(true);
    expect(m("(a == 'x' || b == 'y') && c == 'z'", { a: 'x' })).toBe(false);
    expect(m("!a == 'x' && has(b)", { b: '1' })).toBe(true);
    expect(m("! has(a) || a == 'x'", { a: 'y' })).toBe(false);
    expect(m("!(has(a) && has(b))", { a: '1' })).toBe(true);
  });

  it('refuses malformed selectors', () => {
    for (const bad of ["a = 'x'", "a == 'x", 'a ==', "a in {'x' 'y'}", 'has(a', "a == 'x' &&", '&& b', "a == 'x' b"]) {
      expect(() => parseCalicoSelector(bad), bad).toThrow(SelectorParseError);
    }
  });

  it('rewrites namespace selectors onto inherited pcns. labels; all() and global() by namespacedness', () => {
    const wep = { 'projectcalico.org/namespace': 'ns1', 'pcns.team': 'a' };
    const gns = { team: 'a' };
    const ns = (sel: string, labels: Record<string, string>): boolean => evaluateSelector(rewriteNamespaceSelector(parseCalicoSelector(sel)), labels);
    expect(ns("team == 'a'", wep)).toBe(true);
    expect(ns("team == 'a'", gns)).toBe(false);
    expect(ns('all()', wep)).toBe(true);
    expect(ns('all()', gns)).toBe(false);
    expect(ns('global()', gns)).toBe(true);
    expect(ns('global()', wep)).toBe(false);
    expect(() => rewriteNamespaceSelector(parseCalicoSelector("global() && a == 'b'"))).toThrow();
  });
});

const pod = (namespace: string, name: string, ip: string, labels: Record<string, string>, extra: Partial<Snapshot['pods'][number]> = {}): Snapshot['pods'][number] => ({
  namespace,
  name,
  labels,
  hostNetwork: false,
  nodeName: 'n1',
  ips: [ip],
  ports: [],
  ...extra,
});

const CLUSTER: Snapshot = {
  policies: [],
  networkPolicies: [],
  namespaces: [
    { name: 'ns1', labels: { team: 'a', 'kubernetes.io/metadata.name': 'ns1' } },
    { name: 'ns2', labels: { team: 'b', 'kubernetes.io/metadata.name': 'ns2' } },
  ],
  pods: [
    pod('ns1', 'web', '10.0.0.1', { app: 'web' }, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }),
    pod('ns2', 'db', '10.0.0.2', { app: 'db' }, { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    pod('ns1', 'host', '172.18.0.2', { app: 'web' }, { hostNetwork: true }),
  ],
  nodes: [{ name: 'n1', labels: { role: 'worker' }, addresses: ['172.18.0.2'] }],
};

const WEB = { kind: 'pod', namespace: 'ns1', name: 'web' } as const;
const DB = { kind: 'pod', namespace: 'ns2', name: 'db' } as const;
const HOST = { kind: 'pod', namespace: 'ns1', name: 'host' } as const;
const flow = (from: Flow['from'], to: Flow['to'], port = 80, protocol: Flow['protocol'] = 'TCP'): Flow => ({ from, to, port, protocol });

const V3 = 'projectcalico.org/v3';
const tier = (name: string, order: number | undefined, defaultAction?: 'Pass' | 'Deny', api = V3): unknown => ({
  apiVersion: api,
  kind: 'Tier',
  metadata: { name },
  spec: { ...(order === undefined ? {} : { order }), ...(defaultAction === undefined ? {} : { defaultAction }) },
});
const gnp = (name: string, spec: Record<string, unknown>, api = V3, labels?: Record<string, string>): unknown => ({
  apiVersion: api,
  kind: 'GlobalNetworkPolicy',
  metadata: { name, ...(labels === undefined ? {} : { labels }) },
  spec: { order: 1, ...spec },
});

function verdict(objects: unknown[], f: Flow, snapshot: Snapshot = CLUSTER, options?: CalicoModelOptions): string {
  return new CalicoModel(objects, snapshot, options).evaluate(f).verdict;
}

describe('Felix evaluation (reference/calico.md §3.4)', () => {
  it('allows through the namespace profile when no policy applies', () => {
    expect(verdict([], flow(WEB, DB))).toBe('allow');
  });

  it('applies the end-of-tier action only in tiers with a policy selecting the endpoint for that direction', () => {
    const t = tier('t', 100, 'Deny');
    const selectsDb = gnp('t.p', { tier: 't', selector: "app == 'db'", types: ['Ingress'] });
    expect(verdict([t, selectsDb], flow(WEB, DB))).toBe('deny');
    expect(verdict([t, selectsDb], flow(DB, WEB))).toBe('allow');
    const egressOnly = gnp('t.p', { tier: 't', selector: "app == 'db'", types: ['Egress'] });
    expect(verdict([t, egressOnly], flow(WEB, DB))).toBe('allow');
    expect(verdict([t, egressOnly], flow(DB, WEB))).toBe('deny');
    expect(verdict([tier('t', 100, 'Pass'), selectsDb], flow(WEB, DB))).toBe('allow');
  });

  it('orders tiers by order then name, and Pass skips the rest of its tier including its end-of-tier action', () => {
    const first = tier('first', 10, 'Deny');
    const second = tier('second', 20, 'Deny');
    const pass = gnp('first.pass', { tier: 'first', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }] });
    const allow = gnp('second.allow', { tier: 'second', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow' }] });
    const deny = gnp('second.deny', { tier: 'second', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Deny' }] });
    expect(verdict([first, second, pass, allow], flow(WEB, DB))).toBe('allow');
    expect(verdict([first, second, pass, deny], flow(WEB, DB))).toBe('deny');
    expect(verdict([first, second, pass], flow(WEB, DB))).toBe('allow'); // second has no policy: skipped
    // Same order: ties by tier name.
    const allowFirst = gnp('a.allow', { tier: 'a', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow' }] });
    const denyB = gnp('b.deny', { tier: 'b', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Deny' }] });
    expect(verdict([tier('a', 5, 'Deny'), tier('b', 5, 'Deny'), allowFirst, denyB], flow(WEB, DB))).toBe('allow');
  });

  it('orders policies by order (nil last), then by "<name>/<namespace>/<kind>"', () => {
    const t = tier('t', 1, 'Deny');
    const policy = (name: string, action: string, order?: number): unknown => ({
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name },
      spec: { tier: 't', selector: 'all()', types: ['Ingress'], ingress: [{ action }], ...(order === undefined ? {} : { order }) },
    });
    const allow = (name: string, order?: number): unknown => policy(name, 'Allow', order);
    const deny = (name: string, order?: number): unknown => policy(name, 'Deny', order);
    expect(verdict([t, allow('t.a', 2), deny('t.b', 1)], flow(WEB, DB))).toBe('deny');
    expect(verdict([t, allow('t.a'), deny('t.b', 1000)], flow(WEB, DB), CLUSTER, { validate: false })).toBe('deny');
    // Equal orders: "t.a-b/…" sorts before "t.a/…" ('-' < '/'), unlike the names themselves.
    expect(verdict([t, deny('t.a', 5), allow('t.a-b', 5)], flow(WEB, DB))).toBe('allow');
  });

  it('enforces a policy whose tier does not exist after all tiers, with Deny (the v3 API refuses it)', () => {
    const ghost = gnp('ghost.p', { tier: 'ghost', selector: "app == 'db'", types: ['Ingress'] });
    const pass = [tier('real', 9_000_000, 'Pass'), gnp('real.p', { tier: 'real', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }] })];
    expect(verdict([...pass, ghost], flow(WEB, DB), CLUSTER, { validate: false })).toBe('deny');
    expect(verdict([...pass, ghost], flow(DB, WEB), CLUSTER, { validate: false })).toBe('allow');
    expect(calicoObjectProblems([gnp('ghost.p', { tier: 'ghost', selector: 'all()', types: ['Ingress'] })])).toContain('GlobalNetworkPolicy/ghost.p: tier ghost does not exist');
  });

  it('reads missing types as both directions for crd v1 objects, and defaults them for v3 objects', () => {
    const V1 = 'crd.projectcalico.org/v1';
    const t1 = tier('t', 1, 'Deny', V1);
    const ingressOnly = (api: string): unknown => ({ apiVersion: api, kind: 'GlobalNetworkPolicy', metadata: { name: 't.p', labels: { 'projectcalico.org/tier': 't' } }, spec: { tier: 't', order: 1, selector: "app == 'web'", ingress: [{ action: 'Allow' }] } });
    expect(calicoObjectProblems([t1, ingressOnly(V1)])).toContain('GlobalNetworkPolicy/t.p: crd v1 objects must set types (Felix reads none as Ingress+Egress)');
    // What Felix would do with it anyway: the egress of web hits the end-of-tier Deny.
    const felix = new CalicoModel([t1, ingressOnly(V1)], CLUSTER, { validate: false, version: '3.32' });
    expect(felix.evaluate(flow(WEB, DB)).verdict).toBe('deny');
    expect(felix.evaluate(flow(DB, WEB)).verdict).toBe('allow');
    expect(verdict([tier('t', 1, 'Deny'), ingressOnly(V3)], flow(WEB, DB))).toBe('allow');
  });

  it('takes a crd v1 policy’s tier from its name on Calico 3.31 and from spec.tier on 3.32', () => {
    expect(tierFromPolicyName('t.p')).toBe('t');
    expect(tierFromPolicyName('p')).toBe('default');
    const V1 = 'crd.projectcalico.org/v1';
    const objects = [tier('t', 1, 'Deny', V1), { apiVersion: V1, kind: 'GlobalNetworkPolicy', metadata: { name: 'p', labels: { 'projectcalico.org/tier': 't' } }, spec: { tier: 't', order: 1, selector: 'all()', types: ['Ingress'] } }];
    expect(calicoObjectProblems(objects, '3.31').join('\n')).toMatch(/must be named t\.<name>/);
    expect(calicoObjectProblems(objects, '3.31').join('\n')).toMatch(/Felix 3.31 would enforce it in tier default/);
  });
});

describe('rule matching (reference/calico.md §2.2–2.3)', () => {
  const t = tier('t', 1, 'Pass');
  const egress = (rules: unknown[], selector = "app == 'web'"): unknown => gnp('t.p', { tier: 't', selector, types: ['Egress'], egress: rules });

  it('matches nets and notNets on any IP, including pod IPs', () => {
    expect(verdict([t, egress([{ action: 'Deny', destination: { nets: ['10.0.0.0/30'] } }])], flow(WEB, DB))).toBe('deny');
    expect(verdict([t, egress([{ action: 'Deny', destination: { nets: ['10.0.0.0/30'], notNets: ['10.0.0.2/32'] } }])], flow(WEB, DB))).toBe('allow');
    expect(verdict([t, egress([{ action: 'Deny', destination: { nets: ['172.18.0.0/16'] } }])], flow(WEB, HOST))).toBe('deny');
  });

  it('matches protocols and port ranges', () => {
    const rule = [{ action: 'Deny', protocol: 'TCP', destination: { ports: ['79:81', 443] } }];
    expect(verdict([t, egress(rule)], flow(WEB, DB, 80))).toBe('deny');
    expect(verdict([t, egress(rule)], flow(WEB, DB, 82))).toBe('allow');
    expect(verdict([t, egress(rule)], flow(WEB, DB, 80, 'UDP'))).toBe('allow');
  });

  it('resolves named ports on the destination endpoint: name, protocol and number', () => {
    const rule = [{ action: 'Deny', protocol: 'TCP', destination: { ports: ['http'] } }];
    expect(verdict([t, egress(rule)], flow(WEB, DB, 80))).toBe('deny');
    expect(verdict([t, egress(rule)], flow(WEB, DB, 8080))).toBe('allow');
    expect(verdict([t, egress(rule)], flow(WEB, DB, 80, 'UDP'))).toBe('allow');
    expect(verdict([t, egress([{ action: 'Deny', protocol: 'UDP', destination: { ports: ['dns'] } }])], flow(WEB, DB, 53, 'UDP'))).toBe('deny');
    expect(verdict([t, egress(rule, "app == 'db'")], flow(DB, WEB, 8080))).toBe('deny');
  });

  it('resolves named ports of a rule without protocol as TCP only (Felix rule_scanner.go)', () => {
    const noProtocol = (name: string): unknown[] => [{ action: 'Deny', destination: { ports: [name] } }];
    expect(verdict([t, egress(noProtocol('http'))], flow(WEB, DB, 80))).toBe('deny');
    expect(verdict([t, egress(noProtocol('dns'))], flow(WEB, DB, 53, 'UDP'))).toBe('allow');
  });

  it('selects endpoints by labels and namespaces; host-network pods are not workload endpoints', () => {
    const sel = (selector: string, namespaceSelector?: string): unknown[] => [{ action: 'Deny', destination: { selector, ...(namespaceSelector === undefined ? {} : { namespaceSelector }) } }];
    expect(verdict([t, egress(sel("app == 'db'"))], flow(WEB, DB))).toBe('deny');
    expect(verdict([t, egress(sel("projectcalico.org/orchestrator == 'k8s'", "team == 'b'"))], flow(WEB, DB))).toBe('deny');
    expect(verdict([t, egress(sel("projectcalico.org/orchestrator == 'k8s'", "team == 'a'"))], flow(WEB, DB))).toBe('allow');
    expect(verdict([t, egress(sel("projectcalico.org/orchestrator == 'k8s'", "kubernetes.io/metadata.name == 'ns2'"))], flow(WEB, DB))).toBe('deny');
    expect(verdict([t, egress(sel('all()'))], flow(WEB, HOST))).toBe('allow');
    // With auto host endpoints, an unscoped selector also matches the node.
    expect(verdict([t, egress(sel('all()'))], flow(WEB, HOST), CLUSTER, { autoHostEndpoints: true })).toBe('deny');
    expect(verdict([t, egress(sel("projectcalico.org/orchestrator == 'k8s'"))], flow(WEB, HOST), CLUSTER, { autoHostEndpoints: true })).toBe('allow');
  });

  it('matches network sets through their labels with namespaceSelector global()', () => {
    const set = { apiVersion: V3, kind: 'GlobalNetworkSet', metadata: { name: 'nodes', labels: { set: 'nodes' } }, spec: { nets: ['172.18.0.2/32'] } };
    const rule = [{ action: 'Deny', destination: { selector: "set == 'nodes'", namespaceSelector: 'global()' } }];
    expect(verdict([t, set, egress(rule)], flow(WEB, HOST))).toBe('deny');
    expect(verdict([t, set, egress(rule)], flow(WEB, DB))).toBe('allow');
    const scoped = [{ action: 'Deny', destination: { selector: "set == 'nodes'", namespaceSelector: 'all()' } }];
    expect(verdict([t, set, egress(scoped)], flow(WEB, HOST))).toBe('allow');
  });

  it('never applies policy to a pod connecting to itself', () => {
    expect(verdict([tier('t', 1, 'Deny'), gnp('t.p', { tier: 't', selector: 'all()', types: ['Ingress', 'Egress'] })], flow(WEB, WEB))).toBe('allow');
    expect(verdict([tier('t', 1, 'Deny'), gnp('t.p', { tier: 't', selector: 'all()', types: ['Ingress', 'Egress'] })], flow(WEB, { kind: 'ip', ip: '10.0.0.1' }))).toBe('allow');
  });
});

describe('Kubernetes NetworkPolicies as Calico sees them (reference/calico.md §3.5)', () => {
  const np = (over: Partial<NetworkPolicy>): NetworkPolicy => ({ namespace: 'ns2', name: 'np', podSelector: { requirements: [] }, policyTypes: ['ingress'], ingress: [], egress: [], ...over });
  const withNp = (n: NetworkPolicy): Snapshot => ({ ...CLUSTER, networkPolicies: [n] });

  it('sit in tier default at order 1000: a selected pod is isolated, Baseline-like later tiers are not reached', () => {
    expect(verdict([], flow(WEB, DB), withNp(np({})))).toBe('deny');
    const later = [tier('late', 5_000_000, 'Pass'), gnp('late.allow', { tier: 'late', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow' }] })];
    expect(verdict(later, flow(WEB, DB), withNp(np({})))).toBe('deny');
    const earlier = [tier('early', 10, 'Pass'), gnp('early.allow', { tier: 'early', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow' }] })];
    expect(verdict(earlier, flow(WEB, DB), withNp(np({})))).toBe('allow');
  });

  it('scopes peers without a namespace selector to the policy’s namespace, and handles ipBlock except', () => {
    const fromSame = np({ ingress: [{ peers: [{ kind: 'pods', namespaces: undefined, pods: { requirements: [] } }], ports: undefined }] });
    expect(verdict([], flow(WEB, DB), withNp(fromSame))).toBe('deny');
    const fromAny = np({ ingress: [{ peers: [{ kind: 'pods', namespaces: { requirements: [] }, pods: { requirements: [] } }], ports: undefined }] });
    expect(verdict([], flow(WEB, DB), withNp(fromAny))).toBe('allow');
    const block = (except: string[]): NetworkPolicy =>
      np({ ingress: [{ peers: [{ kind: 'ipBlock', cidr: parseCidr('10.0.0.0/24')!.cidr, except: except.map((e) => parseCidr(e)!.cidr) }], ports: [{ protocol: 'TCP', port: 'http', endPort: undefined }] }] });
    expect(verdict([], flow(WEB, DB), withNp(block([])))).toBe('allow');
    expect(verdict([], flow(WEB, DB, 81), withNp(block([])))).toBe('deny');
    expect(verdict([], flow(WEB, DB), withNp(block(['10.0.0.1/32'])))).toBe('deny');
  });
});

describe('API validation (reference/calico.md §2.1–2.3)', () => {
  const t = tier('t', 1, 'Pass');
  const problems = (rule: unknown): string[] => calicoObjectProblems([t, gnp('t.p', { tier: 't', selector: 'all()', types: ['Egress'], egress: [rule] })]);

  it('refuses what Calico’s validator refuses', () => {
    expect(problems({ action: 'Allow' })).toEqual([]);
    expect(problems({ action: 'Allow', destination: { nets: ['10.0.0.0/8', '2001:db8::/32'] } })).toEqual([expect.stringContaining('both IPv4 and IPv6')]);
    expect(problems({ action: 'Allow', destination: { ports: [80] } })).toEqual([expect.stringContaining('must set protocol')]);
    expect(problems({ action: 'Allow', destination: { ports: ['web'] } })).toEqual([]);
    expect(problems({ action: 'Allow', destination: { selector: 'global()' } })).toEqual([expect.stringContaining('global()')]);
    expect(problems({ action: 'Allow', destination: { notNets: ['0.0.0.0/0'] } })).toEqual([expect.stringContaining('notNets')]);
    expect(problems({ action: 'Accept' })).toEqual([expect.stringContaining('action')]);
    expect(calicoObjectProblems([t, gnp('t.a.b', { tier: 't', types: ['Ingress'] })])).toEqual([expect.stringContaining('invalid policy name')]);
    expect(calicoObjectProblems([t, gnp('other.p', { tier: 't', types: ['Ingress'] })])).toEqual([expect.stringContaining('must be named t.<name>')]);
  });
});
