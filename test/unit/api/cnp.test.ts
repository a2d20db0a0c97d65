import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClusterNetworkPolicy } from '../../../src/api/cnp.js';
import { parseDocuments } from '../../../src/api/documents.js';
import { networkPolicyApi } from '../../support/paths.js';

function cnp(spec: Record<string, unknown>, name = 'p'): unknown {
  return { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name }, spec };
}
const base = { tier: 'Admin', priority: 10, subject: { namespaces: {} } };
const egress = (rule: Record<string, unknown>) => cnp({ ...base, egress: [{ action: 'Deny', to: [{ namespaces: {} }], ...rule }] });
const ingress = (rule: Record<string, unknown>) => cnp({ ...base, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ...rule }] });

function problems(raw: unknown, severity = 'error'): string[] {
  return parseClusterNetworkPolicy(raw).diagnostics.filter((d) => d.severity === severity).map((d) => `${d.field}: ${d.message}`);
}

describe('ClusterNetworkPolicy validation', () => {
  // Each row: an object and a fragment the error for the named field must contain.
  const invalid: [string, unknown, string, string][] = [
    ['missing spec', { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name: 'x' } }, 'spec', 'is required'],
    ['wrong apiVersion', { ...(cnp(base) as object), apiVersion: 'policy.networking.k8s.io/v1alpha1' }, 'apiVersion', 'must be one of'],
    ['bad name', cnp(base, 'Bad_Name'), 'metadata.name', 'not a valid name'],
    ['missing tier', cnp({ priority: 1, subject: { namespaces: {} } }), 'spec.tier', 'is required'],
    ['bad tier', cnp({ ...base, tier: 'Tenant' }), 'spec.tier', 'must be one of "Admin", "Baseline"'],
    ['priority too high', cnp({ ...base, priority: 1001 }), 'spec.priority', 'between 0 and 1000'],
    ['priority negative', cnp({ ...base, priority: -1 }), 'spec.priority', 'between 0 and 1000'],
    ['priority not integer', cnp({ ...base, priority: 1.5 }), 'spec.priority', 'must be an integer'],
    ['priority as string', cnp({ ...base, priority: '10' }), 'spec.priority', 'must be an integer'],
    ['subject both', cnp({ ...base, subject: { namespaces: {}, pods: { podSelector: {} } } }), 'spec.subject', 'exactly one of namespaces, pods; namespaces and pods are set'],
    ['subject none', cnp({ ...base, subject: {} }), 'spec.subject', 'none is set'],
    ['subject pods without podSelector', cnp({ ...base, subject: { pods: { namespaceSelector: {} } } }), 'spec.subject.pods.podSelector', 'is required'],
    ['unknown spec field', cnp({ ...base, foo: 1 }), 'spec.foo', 'unknown field'],
    ['too many rules', cnp({ ...base, egress: Array.from({ length: 26 }, () => ({ action: 'Deny', to: [{ namespaces: {} }] })) }), 'spec.egress', 'at most 25 items'],
    ['no peers', egress({ to: [] }), 'spec.egress[0].to', 'at least 1 item'],
    ['missing action', egress({ action: undefined }), 'spec.egress[0].action', 'is required'],
    ['bad action', ingress({ action: 'Allow' }), 'spec.ingress[0].action', 'must be one of "Accept", "Deny", "Pass"'],
    ['long rule name', egress({ name: 'x'.repeat(101) }), 'spec.egress[0].name', 'at most 100 characters'],
    ['two peer kinds', egress({ to: [{ namespaces: {}, networks: ['10.0.0.0/8'] }] }), 'spec.egress[0].to[0]', 'namespaces and networks are set'],
    ['networks on ingress', ingress({ from: [{ namespaces: {}, networks: ['10.0.0.0/8'] }] }), 'spec.ingress[0].from[0].networks', 'unknown field'],
    ['bad CIDR', egress({ to: [{ networks: ['10.0.0.0/33'] }] }), 'spec.egress[0].to[0].networks[0]', 'Invalid CIDR format provided'],
    ['not a CIDR', egress({ to: [{ networks: ['10.0.0.1'] }] }), 'spec.egress[0].to[0].networks[0]', 'Invalid CIDR'],
    ['host bits (v0.2.1 made CIDRs canonical)', egress({ to: [{ networks: ['10.1.2.3/8'] }] }), 'spec.egress[0].to[0].networks[0]', 'Invalid CIDR format provided: "10.1.2.3/8" (host bits are set; the network is 10.0.0.0/8)'],
    ['IPv6 host bits', egress({ to: [{ networks: ['2001:db8::1/32'] }] }), 'spec.egress[0].to[0].networks[0]', 'the network is 2001:db8::/32'],
    ['IPv4-mapped IPv6', egress({ to: [{ networks: ['::ffff:10.0.0.0/104'] }] }), 'spec.egress[0].to[0].networks[0]', 'IPv4-mapped IPv6 address is not allowed'],
    ['IPv4-mapped IPv6 in hex', egress({ to: [{ networks: ['::ffff:a00:0/104'] }] }), 'spec.egress[0].to[0].networks[0]', 'IPv4-mapped'],
    ['domain name starting with _ (fixed upstream pattern)', egress({ action: 'Accept', to: [{ domainNames: ['_dmarc.example.com'] }] }), 'spec.egress[0].to[0].domainNames[0]', 'not a valid domain name'],
    ['duplicate CIDR', egress({ to: [{ networks: ['10.0.0.0/8', '10.0.0.0/8'] }] }), 'spec.egress[0].to[0].networks[1]', 'duplicate'],
    ['empty networks', egress({ to: [{ networks: [] }] }), 'spec.egress[0].to[0].networks', 'at least 1 item'],
    ['bad domain', cnp({ ...base, egress: [{ action: 'Accept', to: [{ domainNames: ['*'] }] }] }), 'spec.egress[0].to[0].domainNames[0]', 'not a valid domain name'],
    ['domain with leading bracket (PR #391)', cnp({ ...base, egress: [{ action: 'Accept', to: [{ domainNames: ['[x.com'] }] }] }), 'spec.egress[0].to[0].domainNames[0]', 'not a valid domain name'],
    ['named port with networks', egress({ to: [{ networks: ['10.0.0.0/8'] }], protocols: [{ destinationNamedPort: 'web' }] }), 'spec.egress[0]', 'cannot be set with namedPorts'],
    ['named port with nodes', egress({ to: [{ nodes: {} }], protocols: [{ destinationNamedPort: 'web' }] }), 'spec.egress[0]', 'cannot be set with namedPorts'],
    ['tcp without port', egress({ protocols: [{ tcp: {} }] }), 'spec.egress[0].protocols[0].tcp', 'must set destinationPort'],
    ['port zero', egress({ protocols: [{ tcp: { destinationPort: { number: 0 } } }] }), 'spec.egress[0].protocols[0].tcp.destinationPort.number', 'between 1 and 65535'],
    ['port too high', egress({ protocols: [{ udp: { destinationPort: { number: 65536 } } }] }), 'spec.egress[0].protocols[0].udp.destinationPort.number', 'between 1 and 65535'],
    ['range reversed', egress({ protocols: [{ sctp: { destinationPort: { range: { start: 90, end: 80 } } } }] }), 'spec.egress[0].protocols[0].sctp.destinationPort.range', 'Start port must be less than End port'],
    ['range equal', egress({ protocols: [{ tcp: { destinationPort: { range: { start: 80, end: 80 } } } }] }), 'spec.egress[0].protocols[0].tcp.destinationPort.range', 'Start port must be less than End port'],
    ['number and range', egress({ protocols: [{ tcp: { destinationPort: { number: 1, range: { start: 1, end: 2 } } } }] }), 'spec.egress[0].protocols[0].tcp.destinationPort', 'number and range are set'],
    ['two protocols in one entry', egress({ protocols: [{ tcp: { destinationPort: { number: 1 } }, udp: { destinationPort: { number: 1 } } }] }), 'spec.egress[0].protocols[0]', 'tcp and udp are set'],
    ['empty protocols', egress({ protocols: [] }), 'spec.egress[0].protocols', 'at least 1 item'],
    ['non-string label value', cnp({ ...base, subject: { namespaces: { matchLabels: { a: 1 } } } }), 'spec.subject.namespaces.matchLabels.a', 'must be a string'],
  ];

  // Stored by the API server (the CRD does not check selectors), refused by Kubernetes' selector
  // parsing: reported, and the policy is not enforced.
  const refusedSubjects: [string, unknown, string, string][] = [
    ['unknown selector operator', cnp({ ...base, subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } } }), 'spec.subject.namespaces.matchExpressions[0].operator', 'unknown selector operator'],
    ['In without values', cnp({ ...base, subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'In' }] } } }), 'spec.subject.namespaces.matchExpressions[0].values', 'must be non-empty'],
    ['Exists with values', cnp({ ...base, subject: { namespaces: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } } }), 'spec.subject.namespaces.matchExpressions[0].values', 'must be empty'],
    ['bad label key', cnp({ ...base, subject: { namespaces: { matchLabels: { "a == 'b' || all()": 'x' } } } }), 'spec.subject.namespaces.matchLabels["a == \'b\' || all()"]', 'not a valid label name'],
    ['bad label value', cnp({ ...base, subject: { namespaces: { matchLabels: { a: 'x y' } } } }), 'spec.subject.namespaces.matchLabels.a', 'label value'],
  ];

  it.each(refusedSubjects)('subject: %s', (_title, raw, field, fragment) => {
    const result = parseClusterNetworkPolicy(raw);
    expect(result.policy).toBeUndefined();
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const match = result.diagnostics.filter((d) => d.severity === 'unsupported' && d.field === 'spec.subject' && d.message.startsWith(field) && d.message.includes(fragment));
    expect(match, JSON.stringify(result.diagnostics, null, 1)).not.toEqual([]);
  });

  it.each(invalid)('%s', (_title, raw, field, fragment) => {
    const result = parseClusterNetworkPolicy(raw);
    expect(result.policy).toBeUndefined();
    const match = result.diagnostics.filter((d) => d.severity === 'error' && d.field === field && d.message.includes(fragment));
    expect(match, JSON.stringify(result.diagnostics, null, 1)).not.toEqual([]);
  });

  it('normalises a full policy', () => {
    const raw = cnp({
      tier: 'Baseline',
      priority: 3,
      subject: { pods: { podSelector: { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['b', 'a', 'b'] }] } } },
      egress: [
        { name: 'web', action: 'Accept', to: [{ pods: { namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: {} } }], protocols: [{ tcp: { destinationPort: { number: 443 } } }, { udp: { destinationPort: { range: { start: 1000, end: 2000 } } } }, { destinationNamedPort: 'dns' }] },
        { action: 'Deny', to: [{ networks: ['10.0.0.0/8', '2001:0db8:0::/32'] }, { nodes: { matchExpressions: [{ key: 'role', operator: 'Exists' }] } }] },
      ],
    });
    const { policy, diagnostics } = parseClusterNetworkPolicy(raw);
    expect(policy).toBeDefined();
    expect(policy!.subject.namespaces.requirements).toEqual([]); // omitted = every namespace
    expect(policy!.subject.pods.requirements).toEqual([
      { key: 'app', operator: 'In', values: ['db'] },
      { key: 'tier', operator: 'NotIn', values: ['a', 'b'] },
    ]);
    expect(policy!.egress[0]!.ports).toEqual([
      { kind: 'range', protocol: 'TCP', start: 443, end: 443 },
      { kind: 'range', protocol: 'UDP', start: 1000, end: 2000 },
      { kind: 'named', name: 'dns' },
    ]);
    const nets = policy!.egress[1]!.peers[0]!;
    expect(nets.kind === 'networks' && nets.cidrs.map((c) => c.text)).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(diagnostics).toEqual([]);
    expect(policy!.egress[1]!.ports).toBeUndefined();
  });

  it('accepts v1beta1 with the same schema', () => {
    const raw = { ...(cnp(base) as object), apiVersion: 'policy.networking.k8s.io/v1beta1' };
    expect(problems(raw)).toEqual([]);
  });

  it('refuses peer and protocol types the CRD does not have, as the API server does', () => {
    expect(problems(cnp({ ...base, egress: [{ action: 'Accept', to: [{ services: { name: 'x' } }] }] }))).toEqual([
      expect.stringMatching(/^spec\.egress\[0\]\.to\[0\]\.services: unknown field/),
      expect.stringMatching(/^spec\.egress\[0\]\.to\[0\]: /),
    ]);
    expect(problems(cnp({ ...base, egress: [{ action: 'Deny', to: [{}] }] }))).toEqual([expect.stringMatching(/^spec\.egress\[0\]\.to\[0\]: .*none is set/)]);
  });

  it('in a cluster (a newer CRD), fails closed on peers and protocols it does not understand', () => {
    const cluster = { origin: 'cluster' } as const;
    const accept = parseClusterNetworkPolicy(cnp({ ...base, egress: [{ action: 'Accept', to: [{ services: { name: 'x' } }] }] }), cluster);
    expect(accept.policy!.egress[0]).toMatchObject({ action: 'Accept', peers: [], failClosed: expect.stringContaining('unknown peer type "services"') });
    const pass = parseClusterNetworkPolicy(cnp({ ...base, ingress: [{ action: 'Pass', from: [{ namespaces: {} }], protocols: [{ icmp: {} }] }] }), cluster);
    expect(pass.policy!.ingress[0]).toMatchObject({ action: 'Deny', peers: [{ kind: 'all' }], ports: undefined });
    expect(pass.diagnostics).toEqual([
      expect.objectContaining({ severity: 'unsupported', field: 'spec.ingress[0]', message: expect.stringContaining('it denies all traffic') }),
    ]);
    // An unknown type beside a known one is no newer CRD's single choice: the entry is invalid.
    const mixed = parseClusterNetworkPolicy(cnp({ ...base, egress: [{ action: 'Accept', to: [{ namespaces: {}, services: { name: 'x' } }], protocols: [{ tcp: { destinationPort: { number: 80 } }, icmp: {} }] }] }), cluster);
    expect(mixed.policy).toBeUndefined();
    expect(mixed.diagnostics.filter((d) => d.severity === 'error').map((d) => d.field)).toEqual(['spec.egress[0].to[0].services', 'spec.egress[0].protocols[0].icmp']);
  });

  it('selectors Kubernetes refuses (the CRD stores them): a peer\'s rule fails closed, a subject\'s policy is not enforced', () => {
    const bad = { matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] };
    const peer = parseClusterNetworkPolicy(cnp({ ...base, ingress: [{ action: 'Accept', from: [{ namespaces: bad }] }, { action: 'Deny', from: [{ pods: { podSelector: { matchLabels: { 'a b': 'x' } } } }] }] }));
    expect(peer.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(peer.policy!.ingress[0]).toMatchObject({ action: 'Accept', peers: [], failClosed: expect.stringContaining('unknown selector operator "Gt"') });
    expect(peer.policy!.ingress[1]).toMatchObject({ action: 'Deny', peers: [{ kind: 'all' }], failClosed: expect.stringContaining('not a valid label name') });
    const subject = parseClusterNetworkPolicy(cnp({ ...base, subject: { pods: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } } }));
    expect(subject.policy).toBeUndefined();
    expect(subject.diagnostics).toEqual([
      expect.objectContaining({ severity: 'unsupported', field: 'spec.subject', message: expect.stringContaining('values: must be non-empty when operator is In: Kubernetes refuses this selector') }),
    ]);
  });

  it('a CIDR with host bits stored under an older CRD is used as its network, with a warning', () => {
    const raw = egress({ to: [{ networks: ['10.1.2.3/8'] }] });
    expect(problems(raw)).toEqual([expect.stringContaining('Invalid CIDR format provided')]);
    const r = parseClusterNetworkPolicy(raw, { origin: 'cluster' });
    const peer = r.policy!.egress[0]!.peers[0]!;
    expect(peer.kind === 'networks' && peer.cidrs.map((c) => c.text)).toEqual(['10.0.0.0/8']);
    expect(r.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringContaining('it is used as 10.0.0.0/8') })]);
  });

  it('domainNames outside an Accept rule fail closed (documented, not in the CRD)', () => {
    const r = parseClusterNetworkPolicy(cnp({ ...base, egress: [{ action: 'Deny', to: [{ domainNames: ['example.com'] }] }] }));
    expect(r.policy!.egress[0]).toMatchObject({ action: 'Deny', peers: [{ kind: 'all' }], failClosed: expect.stringContaining('only be used in Accept rules, got Deny') });
  });

  it('an empty named port matches nothing: the entry is dropped, and a rule left with none never matches', () => {
    const some = parseClusterNetworkPolicy(egress({ protocols: [{ destinationNamedPort: '' }, { tcp: { destinationPort: { number: 80 } } }] }));
    expect(some.policy!.egress[0]!.ports).toEqual([{ kind: 'range', protocol: 'TCP', start: 80, end: 80 }]);
    const none = parseClusterNetworkPolicy(egress({ protocols: [{ destinationNamedPort: '' }] }));
    expect(none.policy!.egress[0]).toMatchObject({ action: 'Deny', peers: [], ports: undefined });
    expect(none.diagnostics.map((d) => d.severity)).toEqual(['warning', 'warning']);
  });
});

describe('upstream examples', () => {
  const root = networkPolicyApi();
  const dir = (sub: string) => join(root, sub === 'examples' ? 'site-src/user-story-examples' : `pkg/crdtest/testdata/${sub.replace('crdtest/', '')}`);
  const load = (path: string) => parseDocuments(readFileSync(path, 'utf8'), path);

  it.each(readdirSync(dir('crdtest/valid')))('crdtest/valid/%s is valid', (file) => {
    for (const doc of load(join(dir('crdtest/valid'), file))) expect(problems(doc.value)).toEqual([]);
  });

  it.each(readdirSync(dir('crdtest/invalid')))('crdtest/invalid/%s is rejected naming the field', (file) => {
    for (const doc of load(join(dir('crdtest/invalid'), file))) {
      const errors = parseClusterNetworkPolicy(doc.value).diagnostics.filter((d) => d.severity === 'error');
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e.field.startsWith('spec.'))).toBe(true);
    }
  });

  it.each(readdirSync(dir('examples')).filter((f) => !f.startsWith('user-story-4-')))('examples/%s is valid', (file) => {
    for (const doc of load(join(dir('examples'), file))) expect(problems(doc.value)).toEqual([]);
  });

  // Upstream marks user story 4 unimplementable; its files are not even valid YAML.
  it.each([['user-story-4-v1.yaml', 11], ['user-story-4-v2.yaml', 10]])('examples/%s is refused naming the line', (file, line) => {
    expect(() => load(join(dir('examples'), file))).toThrow(new RegExp(`${file}:${line}:\\d+: not valid YAML: `));
  });
});
