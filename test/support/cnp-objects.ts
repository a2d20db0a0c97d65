import fc from 'fast-check';

// Raw ClusterNetworkPolicy objects, valid and broken, for comparing `validate` with the real
// API server: a valid base policy, then a few edits drawn from a table of what people get
// wrong (and right) near every rule of the CRD — CIDR forms, domain names, port bounds and
// ranges, priorities, tiers, actions, peer kinds per direction, list sizes and sets, names,
// selectors and unknown fields.

type Json = Record<string, unknown>;

const CIDRS = [
  '10.0.0.0/8', '10.1.2.3/8', '10.0.0.1/32', '0.0.0.0/0', '192.168.0.0/16', '192.168.1.0/16', '10.0.0.0/33', '10.0.0.0',
  '010.0.0.0/8', '10.0.0.0/08', ' 10.0.0.0/8', '10.0.0.0/8 ', '', '256.0.0.0/8', '10.0.0.0/-1',
  '2001:db8::/32', '2001:db8::1/32', '2001:DB8::/32', '2001:0db8::/32', '::/0', '::1/128', 'fd00::/8', 'fe80::/10', 'fe80::1%eth0/64',
  '::ffff:10.0.0.0/104', '::ffff:a00:0/104', '::ffff:0:0/96', '::10.0.0.0/104', '64:ff9b::/96', '2001:db8::/129', '2001:db8:::/32',
  '1.2.3.4/32', '1111:2222:3333:4444:5555:6666:7777:8888/128', '1111:2222:3333:4444:5555:6666:7777:8888:9999/128',
];

const DOMAINS = [
  'example.com', '*.example.com', '_dmarc.example.com', 'a_b.example.com', 'example.com.', '*.com', 'com', '-a.example.com', 'a-.example.com',
  '*', '**.example.com', 'a..example.com', 'EXAMPLE.COM', 'xn--bcher-kva.example', 'bücher.example', 'a.b.c.d.e.f.example', '*.*.example.com',
  `${'a'.repeat(64)}.example.com`, 'exa mple.com', '1.2.3.4', 'example.com_', '_.example.com',
];

const PORTS = [0, 1, 53, 80, 443, 8080, 65535, 65536, -1];
const NAMED_PORTS = ['web', 'dns', '', 'a'.repeat(16), 'Web', 'http-alt', '-web'];
const LABEL_KEYS = ['app', 'kubernetes.io/metadata.name', 'a b', 'example.com/team', '-bad', 'x'.repeat(64), 'UPPER/case', 'a/b/c'];
const LABEL_VALUES = ['web', '', 'a b', 'x'.repeat(64), '-bad', 'ok_1.2'];
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'in', ''];

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

/** A valid starting point: Admin, priority 10, both directions, one rule each. */
export function baseCnp(name: string, apiVersion = 'policy.networking.k8s.io/v1beta1'): Json {
  return {
    apiVersion,
    kind: 'ClusterNetworkPolicy',
    metadata: { name },
    spec: {
      tier: 'Admin',
      priority: 10,
      subject: { namespaces: { matchLabels: { team: 'a' } } },
      ingress: [{ name: 'from-b', action: 'Accept', from: [{ namespaces: { matchLabels: { team: 'b' } } }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }],
      egress: [{ name: 'to-net', action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }] }],
    },
  };
}

type Edit = (o: Json) => void;
const spec = (o: Json): Json => o['spec'] as Json;
/** The first rule of a direction, made again if an earlier edit took it away. */
function rule(o: Json, dir: 'ingress' | 'egress'): Json {
  const s = spec(o);
  if (!Array.isArray(s[dir]) || (s[dir] as Json[]).length === 0) s[dir] = [...(spec(baseCnp('x'))[dir] as Json[])];
  return (s[dir] as Json[])[0]!;
}

/** One edit to a policy; many are harmless, many break exactly one rule of the CRD. */
const edits: fc.Arbitrary<Edit>[] = [
  fc.array(pick(CIDRS), { minLength: 0, maxLength: 3 }).map((cidrs) => (o) => void (rule(o, 'egress')['to'] = [{ networks: cidrs }])),
  fc.integer({ min: 24, max: 27 }).map((n) => (o) => void (rule(o, 'egress')['to'] = [{ networks: Array.from({ length: n }, (_, i) => `10.${i}.0.0/16`) }])),
  fc.array(pick(DOMAINS), { minLength: 0, maxLength: 3 }).map((names) => (o) => void (rule(o, 'egress')['to'] = [{ domainNames: names }])),
  pick(['Accept', 'Deny', 'Pass', 'Allow', 'accept', '']).map((a) => (o) => void (rule(o, 'egress')['action'] = a)),
  pick(['Accept', 'Deny', 'Pass', 'Allow']).map((a) => (o) => void (rule(o, 'ingress')['action'] = a)),
  fc.tuple(pick(['tcp', 'udp', 'sctp', 'icmp']), pick(PORTS)).map(([p, n]) => (o) => void (rule(o, 'ingress')['protocols'] = [{ [p]: { destinationPort: { number: n } } }])),
  fc.tuple(pick(['tcp', 'udp', 'sctp']), pick(PORTS), pick(PORTS)).map(([p, a, b]) => (o) => void (rule(o, 'ingress')['protocols'] = [{ [p]: { destinationPort: { range: { start: a, end: b } } } }])),
  fc.tuple(pick(['tcp', 'udp']), pick(PORTS)).map(([p, n]) => (o) => void (rule(o, 'ingress')['protocols'] = [{ [p]: { destinationPort: { number: n, range: { start: 1, end: 2 } } } }])),
  pick(['tcp', 'udp', 'sctp']).map((p) => (o) => void (rule(o, 'ingress')['protocols'] = [{ [p]: {} }])),
  pick(NAMED_PORTS).map((n) => (o) => void (rule(o, 'ingress')['protocols'] = [{ destinationNamedPort: n }])),
  pick(NAMED_PORTS).map((n) => (o) => void (rule(o, 'egress')['protocols'] = [{ destinationNamedPort: n }])),
  fc.constant((o: Json) => void (rule(o, 'ingress')['protocols'] = [{ tcp: { destinationPort: { number: 80 } }, udp: { destinationPort: { number: 80 } } }])),
  fc.constant((o: Json) => void (rule(o, 'ingress')['protocols'] = [])),
  fc.integer({ min: 24, max: 27 }).map((n) => (o) => void (rule(o, 'ingress')['protocols'] = Array.from({ length: n }, (_, i) => ({ tcp: { destinationPort: { number: i + 1 } } })))),
  fc.constant((o: Json) => void (rule(o, 'ingress')['protocols'] = [{ tcp: { destinationPort: { number: 80 } } }, { tcp: { destinationPort: { number: 80 } } }])),
  pick([-1, 0, 1000, 1001, 1.5, '10', null]).map((p) => (o) => void (spec(o)['priority'] = p)),
  pick(['Admin', 'Baseline', 'admin', '', 'Tenant']).map((t) => (o) => void (spec(o)['tier'] = t)),
  pick(['a', 'x'.repeat(100), 'x'.repeat(101), '', 'UPPER', 'with space']).map((n) => (o) => void (rule(o, 'egress')['name'] = n)),
  pick(['ok', 'a.b', 'Bad', 'x'.repeat(253), 'x'.repeat(254), '-x', 'a_b']).map((n) => (o) => void ((o['metadata'] as Json)['name'] = n)),
  fc.constant((o: Json) => void (spec(o)['subject'] = {})),
  fc.constant((o: Json) => void (spec(o)['subject'] = { namespaces: {}, pods: { podSelector: {} } })),
  fc.constant((o: Json) => void (spec(o)['subject'] = { pods: { namespaceSelector: {} } })),
  fc.constant((o: Json) => void (spec(o)['subject'] = { pods: { podSelector: {} } })),
  fc.constant((o: Json) => void delete spec(o)['subject']),
  fc.constant((o: Json) => void delete spec(o)['priority']),
  fc.constant((o: Json) => void delete rule(o, 'egress')['action']),
  fc.constant((o: Json) => void (rule(o, 'egress')['to'] = [])),
  fc.constant((o: Json) => void (rule(o, 'egress')['to'] = [{}])),
  fc.constant((o: Json) => void (rule(o, 'egress')['to'] = [{ namespaces: {}, pods: { podSelector: {} } }])),
  pick(['namespaces', 'pods', 'nodes', 'networks', 'domainNames']).map((k) => (o) => {
    const peer = { namespaces: {}, pods: { podSelector: {} }, nodes: {}, networks: ['10.0.0.0/8'], domainNames: ['example.com'] }[k];
    rule(o, 'ingress')['from'] = [{ [k]: peer }];
  }),
  pick(['nodes', 'networks', 'domainNames']).map((k) => (o) => {
    const peer = { nodes: {}, networks: ['10.0.0.0/8'], domainNames: ['example.com'] }[k];
    const r = rule(o, 'egress');
    r['to'] = [{ [k]: peer }];
    r['protocols'] = [{ destinationNamedPort: 'web' }];
  }),
  fc.integer({ min: 24, max: 27 }).map((n) => (o) => void (spec(o)['egress'] = Array.from({ length: n }, () => ({ action: 'Deny', to: [{ namespaces: {} }] })))),
  fc.constant((o: Json) => void delete spec(o)['ingress']),
  fc.constant((o: Json) => void (spec(o)['ingress'] = [])),
  fc.tuple(pick(LABEL_KEYS), pick(LABEL_VALUES)).map(([k, v]) => (o) => void (spec(o)['subject'] = { namespaces: { matchLabels: { [k]: v } } })),
  fc.tuple(pick(LABEL_KEYS), pick(OPERATORS), fc.array(pick(LABEL_VALUES), { maxLength: 2 })).map(([key, operator, values]) => (o) => {
    rule(o, 'ingress')['from'] = [{ pods: { podSelector: { matchExpressions: [{ key, operator, ...(values.length > 0 ? { values } : {}) }] } } }];
  }),
  fc.tuple(pick(OPERATORS), fc.array(pick(LABEL_VALUES), { maxLength: 2 })).map(([operator, values]) => (o) => {
    spec(o)['subject'] = { pods: { podSelector: { matchExpressions: [{ key: 'app', operator, values }] } } };
  }),
  fc.constant((o: Json) => void (rule(o, 'egress')['to'] = [{ nodes: { matchExpressions: [{ key: 'role', operator: 'Exists' }] } }])),
  pick(['spec', 'rule', 'peer', 'port', 'root']).map((where) => (o) => {
    const peers = rule(o, 'ingress')['from'];
    const peer = Array.isArray(peers) && typeof peers[0] === 'object' ? (peers[0] as Json) : rule(o, 'ingress');
    const target = { spec: spec(o), rule: rule(o, 'egress'), peer, port: rule(o, 'ingress'), root: o }[where];
    target!['typo'] = 1;
  }),
  pick(['policy.networking.k8s.io/v1alpha2', 'policy.networking.k8s.io/v1beta1']).map((v) => (o) => void (o['apiVersion'] = v)),
];

/** A policy with 0–3 edits: about half break something. */
export function cnpObjectArb(name: fc.Arbitrary<string>): fc.Arbitrary<Json> {
  return fc.tuple(name, fc.array(fc.oneof(...edits), { minLength: 0, maxLength: 3 })).map(([n, list]) => {
    const o = baseCnp(n);
    for (const edit of list) edit(o);
    return o;
  });
}
