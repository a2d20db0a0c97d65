import { describe, expect, it } from 'vitest';
import { parseClusterNetworkPolicy } from '../../../src/api/cnp.js';
import { convertDocuments } from '../../../src/api/convert/documents.js';
import { convertPolicy, DEFAULT_BASELINE_PRIORITY } from '../../../src/api/convert/policy.js';

// The conversion of v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy objects: what each field
// becomes, and every input that must be refused (with the field path that says why).

type Json = Record<string, unknown>;
const OPTIONS = { baselinePriority: DEFAULT_BASELINE_PRIORITY };

/** An ANP in the later v0.1.x shape using every field. */
function lateAnp(): Json {
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: {
      name: 'cluster-control',
      uid: '0b5c-old-object',
      resourceVersion: '42',
      generation: 3,
      labels: { team: 'platform' },
      annotations: { note: 'kept', 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}' },
    },
    spec: {
      priority: 34,
      subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'tenant-a' } } },
      ingress: [
        { name: 'allow-monitoring', action: 'Allow', from: [{ namespaces: { matchLabels: { team: 'monitoring' } } }], ports: [{ namedPort: 'metrics' }] },
        {
          action: 'Pass',
          from: [{ pods: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'test'] }] }, podSelector: {} } }],
          ports: [{ portRange: { start: 8000, end: 8999 } }, { portNumber: { protocol: 'UDP', port: 53 } }],
        },
      ],
      egress: [
        { name: 'dns', action: 'Allow', to: [{ pods: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } } }], ports: [{ portNumber: { port: 53, protocol: 'UDP' } }, { portNumber: { port: 53 } }] },
        { name: 'web', action: 'Allow', to: [{ domainNames: ['*.example.com'] }] },
        { name: 'nodes-and-nets', action: 'Deny', to: [{ nodes: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } }, { networks: ['10.0.0.0/8', 'fd00::/8'] }], ports: [{ portRange: { protocol: 'SCTP', start: 1, end: 65535 } }] },
        { name: '', action: 'Deny', to: [{ namespaces: {} }] },
      ],
    },
    status: { conditions: [] },
  };
}

/** An ANP in the v0.1.0–v0.1.1 shape (NamespacedPeer). */
function earlyAnp(): Json {
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: 'pass-example' },
    spec: {
      priority: 10,
      subject: { pods: { namespaceSelector: { matchLabels: { 'conformance-house': 'gryffindor' } }, podSelector: {} } },
      ingress: [{ name: 'deny-from-slytherin', action: 'Deny', from: [{ namespaces: { namespaceSelector: { matchLabels: { 'conformance-house': 'slytherin' } } } }] }],
      egress: [
        {
          action: 'Allow',
          to: [{ pods: { namespaces: { namespaceSelector: {} }, podSelector: { matchLabels: { app: 'db' } } } }],
          ports: [{ portNumber: { protocol: 'TCP', port: 5432 } }],
        },
      ],
    },
  };
}

function banp(): Json {
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'BaselineAdminNetworkPolicy',
    metadata: { name: 'default' },
    spec: {
      subject: { namespaces: {} },
      ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: { namespaceSelector: {} } }] }],
      egress: [{ action: 'Allow', to: [{ networks: ['192.0.2.0/24'] }] }, { action: 'Deny', to: [{ nodes: {} }] }],
    },
  };
}

describe('convert: what each field becomes', () => {
  it('an ANP of the later v0.1.x shape: Admin tier, the same priority, names, selectors and peers one to one, ports as protocols', () => {
    const result = convertPolicy(lateAnp(), OPTIONS);
    expect(result.diagnostics).toEqual([]);
    expect(result.policy).toEqual({
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      kind: 'ClusterNetworkPolicy',
      metadata: { name: 'cluster-control', labels: { team: 'platform' }, annotations: { note: 'kept' } },
      spec: {
        tier: 'Admin',
        priority: 34,
        subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'tenant-a' } } },
        ingress: [
          { name: 'allow-monitoring', action: 'Accept', from: [{ namespaces: { matchLabels: { team: 'monitoring' } } }], protocols: [{ destinationNamedPort: 'metrics' }] },
          {
            action: 'Pass',
            from: [{ pods: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'test'] }] }, podSelector: {} } }],
            protocols: [{ tcp: { destinationPort: { range: { start: 8000, end: 8999 } } } }, { udp: { destinationPort: { number: 53 } } }],
          },
        ],
        egress: [
          { name: 'dns', action: 'Accept', to: [{ pods: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } } }], protocols: [{ udp: { destinationPort: { number: 53 } } }, { tcp: { destinationPort: { number: 53 } } }] },
          { name: 'web', action: 'Accept', to: [{ domainNames: ['*.example.com'] }] },
          { name: 'nodes-and-nets', action: 'Deny', to: [{ nodes: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } }, { networks: ['10.0.0.0/8', 'fd00::/8'] }], protocols: [{ sctp: { destinationPort: { range: { start: 1, end: 65535 } } } }] },
          { action: 'Deny', to: [{ namespaces: {} }] },
        ],
      },
    });
    // What the project reads from it is exactly what the ANP says.
    expect(parseClusterNetworkPolicy(result.policy).diagnostics).toEqual([]);
  });

  it('an ANP of the v0.1.1 shape: namespaces.namespaceSelector → namespaces, pods.namespaces.namespaceSelector → pods.namespaceSelector', () => {
    const result = convertPolicy(earlyAnp(), OPTIONS);
    expect(result.diagnostics).toEqual([]);
    expect(result.policy?.spec).toEqual({
      tier: 'Admin',
      priority: 10,
      subject: { pods: { namespaceSelector: { matchLabels: { 'conformance-house': 'gryffindor' } }, podSelector: {} } },
      ingress: [{ name: 'deny-from-slytherin', action: 'Deny', from: [{ namespaces: { matchLabels: { 'conformance-house': 'slytherin' } } }] }],
      egress: [{ action: 'Accept', to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'db' } } } }], protocols: [{ tcp: { destinationPort: { number: 5432 } } }] }],
    });
  });

  it('the BANP: Baseline tier, named default, at the chosen priority (10 unless told), Allow → Accept', () => {
    const result = convertPolicy(banp(), OPTIONS);
    expect(result.diagnostics).toEqual([]);
    expect(result.policy?.metadata).toEqual({ name: 'default' });
    expect(result.policy?.spec).toEqual({
      tier: 'Baseline',
      priority: 10,
      subject: { namespaces: {} },
      ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: {} }] }],
      egress: [{ action: 'Accept', to: [{ networks: ['192.0.2.0/24'] }] }, { action: 'Deny', to: [{ nodes: {} }] }],
    });
    expect(convertPolicy(banp(), { baselinePriority: 1000 }).policy?.spec.priority).toBe(1000);
  });

  it('leaves out empty rule lists and null fields, as the API does', () => {
    const anp = earlyAnp();
    (anp['spec'] as Json)['ingress'] = [];
    (anp['spec'] as Json)['egress'] = null;
    expect(convertPolicy(anp, OPTIONS).policy?.spec).toEqual({ tier: 'Admin', priority: 10, subject: (earlyAnp()['spec'] as Json)['subject'] });
    const rule = { action: 'Deny', from: [{ namespaces: {} }], ports: null, name: null };
    (anp['spec'] as Json)['ingress'] = [rule];
    expect(convertPolicy(anp, OPTIONS).policy?.spec.ingress).toEqual([{ action: 'Deny', from: [{ namespaces: {} }] }]);
  });

  it('keeps priorities 0 and 1000, the bounds of both APIs', () => {
    for (const priority of [0, 1000]) {
      const anp = earlyAnp();
      (anp['spec'] as Json)['priority'] = priority;
      expect(convertPolicy(anp, OPTIONS).policy?.spec.priority).toBe(priority);
    }
  });
});

// Each entry: how to break a valid object, the field path the refusal must name, and words its reason must hold.
type Edit = (o: Json) => void;
const spec = (o: Json): Json => o['spec'] as Json;
const rule = (o: Json, dir: 'ingress' | 'egress', i = 0): Json => (spec(o)[dir] as Json[])[i]!;
const peer = (o: Json, dir: 'ingress' | 'egress', i = 0, j = 0): Json => (rule(o, dir, i)[dir === 'ingress' ? 'from' : 'to'] as Json[])[j]!;

const REFUSALS: [string, () => Json, Edit, string, RegExp][] = [
  ['sameLabels (v0.1.1 tenancy)', earlyAnp, (o) => (peer(o, 'ingress')['namespaces'] = { sameLabels: ['tenant'] }), 'spec.ingress[0].from[0].namespaces.sameLabels', /no sameLabels/],
  ['notSameLabels inside a pods peer', earlyAnp, (o) => ((peer(o, 'egress')['pods'] as Json)['namespaces'] = { notSameLabels: ['tenant'] }), 'spec.egress[0].to[0].pods.namespaces.notSameLabels', /no notSameLabels/],
  ['a BANP not named default', banp, (o) => ((o['metadata'] as Json)['name'] = 'baseline'), 'metadata.name', /can only be named "default"/],
  ['Pass in a BANP', banp, (o) => (rule(o, 'ingress')['action'] = 'Pass'), 'spec.ingress[0].action', /"Allow", "Deny"/],
  ['a priority on a BANP', banp, (o) => (spec(o)['priority'] = 5), 'spec.priority', /unknown field/],
  ['domainNames in a BANP', banp, (o) => (rule(o, 'egress')['to'] = [{ domainNames: ['example.com'] }]), 'spec.egress[0].to[0].domainNames', /unknown field.*namespaces, pods, nodes, networks\)/],
  ['priority above 1000', earlyAnp, (o) => (spec(o)['priority'] = 1001), 'spec.priority', /outside 0–1000.*not clamped/],
  ['priority below 0', earlyAnp, (o) => (spec(o)['priority'] = -1), 'spec.priority', /outside 0–1000/],
  ['a fractional priority', earlyAnp, (o) => (spec(o)['priority'] = 2.5), 'spec.priority', /must be an integer/],
  ['no priority', earlyAnp, (o) => delete spec(o)['priority'], 'spec.priority', /is required/],
  ['more than 25 rules', earlyAnp, (o) => (spec(o)['ingress'] = Array.from({ length: 26 }, () => ({ action: 'Deny', from: [{ namespaces: {} }] }))), 'spec.ingress', /26 rules.*at most 25/],
  ['more than 25 peers', earlyAnp, (o) => (rule(o, 'ingress')['from'] = Array.from({ length: 26 }, () => ({ namespaces: {} }))), 'spec.ingress[0].from', /26 peers.*at most 25/],
  ['more than 25 ports', earlyAnp, (o) => (rule(o, 'egress')['ports'] = Array.from({ length: 26 }, (_, i) => ({ portNumber: { port: i + 1 } }))), 'spec.egress[0].ports', /26 entries.*at most 25/],
  ['an empty ports list', earlyAnp, (o) => (rule(o, 'egress')['ports'] = []), 'spec.egress[0].ports', /empty list/],
  ['a range with start = end', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ portRange: { start: 80, end: 80 } }]), 'spec.egress[0].ports[0].portRange', /not less than end.*portNumber/],
  ['a range with start > end', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ portRange: { protocol: 'UDP', start: 90, end: 80 } }]), 'spec.egress[0].ports[0].portRange', /start 90 is not less than end 80/],
  ['a protocol other than TCP, UDP, SCTP', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ portNumber: { protocol: 'ICMP', port: 1 } }]), 'spec.egress[0].ports[0].portNumber.protocol', /TCP, UDP, SCTP/],
  ['a lower-case protocol', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ portNumber: { protocol: 'tcp', port: 80 } }]), 'spec.egress[0].ports[0].portNumber.protocol', /"tcp"/],
  ['port 0', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ portNumber: { port: 0 } }]), 'spec.egress[0].ports[0].portNumber.port', /between 1 and 65535/],
  ['two kinds of port in one entry', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ portNumber: { port: 80 }, namedPort: 'web' }]), 'spec.egress[0].ports[0]', /exactly one/],
  ['an empty named port', earlyAnp, (o) => (rule(o, 'egress')['ports'] = [{ namedPort: '' }]), 'spec.egress[0].ports[0].namedPort', /must not be empty/],
  ['a peer that sets nothing (fail-closed in v1alpha1)', earlyAnp, (o) => (rule(o, 'ingress')['from'] = [{}]), 'spec.ingress[0].from[0]', /sets no peer type/],
  ['a peer type from an unknown version', earlyAnp, (o) => (rule(o, 'egress')['to'] = [{ services: {} }]), 'spec.egress[0].to[0].services', /unknown field/],
  ['networks as an ingress peer', earlyAnp, (o) => (rule(o, 'ingress')['from'] = [{ networks: ['10.0.0.0/8'] }]), 'spec.ingress[0].from[0].networks', /ingress peer sets one of namespaces, pods/],
  ['two peer types in one peer', earlyAnp, (o) => (rule(o, 'ingress')['from'] = [{ namespaces: {}, pods: { namespaceSelector: {}, podSelector: {} } }]), 'spec.ingress[0].from[0]', /exactly one/],
  ['a CIDR with host bits', lateAnp, (o) => (rule(o, 'egress', 2)['to'] = [{ networks: ['10.0.0.1/8'] }]), 'spec.egress[2].to[0].networks[0]', /host bits/],
  ['a CIDR that is not one', lateAnp, (o) => (rule(o, 'egress', 2)['to'] = [{ networks: ['10.0.0.0/33'] }]), 'spec.egress[2].to[0].networks[0]', /Invalid CIDR/],
  ['domainNames in a Deny rule (documented: Allow only)', lateAnp, (o) => (rule(o, 'egress', 1)['action'] = 'Deny'), 'spec.egress[1].action', /domainNames peers only in Allow rules/],
  ['an invalid domain name', lateAnp, (o) => (rule(o, 'egress', 1)['to'] = [{ domainNames: ['*'] }]), 'spec.egress[1].to[0].domainNames[0]', /not a valid domain name/],
  ['a named port with a networks peer', lateAnp, (o) => (rule(o, 'egress', 2)['ports'] = [{ namedPort: 'web' }]), 'spec.egress[2]', /namedPorts/],
  ['both peer shapes in one namespaces peer', earlyAnp, (o) => (peer(o, 'ingress')['namespaces'] = { namespaceSelector: {}, matchLabels: { a: 'b' } }), 'spec.ingress[0].from[0].namespaces', /mixes namespaceSelector/],
  ['both peer shapes in one pods peer', earlyAnp, (o) => ((peer(o, 'egress')['pods'] as Json)['namespaceSelector'] = {}), 'spec.egress[0].to[0].pods', /sets both namespaces/],
  ['a pods peer without its namespaces', lateAnp, (o) => delete ((peer(o, 'egress')['pods'] as Json)['namespaceSelector']), 'spec.egress[0].to[0].pods.namespaceSelector', /is required/],
  ['a pods subject without namespaceSelector', earlyAnp, (o) => delete ((spec(o)['subject'] as Json)['pods'] as Json)['namespaceSelector'], 'spec.subject.pods.namespaceSelector', /is required/],
  ['a pods peer without podSelector', earlyAnp, (o) => delete (peer(o, 'egress')['pods'] as Json)['podSelector'], 'spec.egress[0].to[0].pods.podSelector', /is required/],
  ['no subject', earlyAnp, (o) => delete spec(o)['subject'], 'spec.subject', /is required/],
  ['a label key Kubernetes refuses', earlyAnp, (o) => (spec(o)['subject'] = { namespaces: { matchLabels: { 'bad key': 'x' } } }), 'spec.subject.namespaces.matchLabels["bad key"]', /not a valid label name/],
  ['a selector operator Kubernetes does not know', earlyAnp, (o) => (spec(o)['subject'] = { namespaces: { matchExpressions: [{ key: 'a', operator: 'Matches', values: ['x'] }] } }), 'spec.subject.namespaces.matchExpressions[0].operator', /unknown selector operator/],
  ['In without values', earlyAnp, (o) => (spec(o)['subject'] = { namespaces: { matchExpressions: [{ key: 'a', operator: 'In' }] } }), 'spec.subject.namespaces.matchExpressions[0].values', /non-empty/],
  ['a rule name over 100 characters', earlyAnp, (o) => (rule(o, 'ingress')['name'] = 'n'.repeat(101)), 'spec.ingress[0].name', /at most 100/],
  ['the CNP action word in an ANP', earlyAnp, (o) => (rule(o, 'egress')['action'] = 'Accept'), 'spec.egress[0].action', /"Allow", "Deny", "Pass"/],
  ['no action', earlyAnp, (o) => delete rule(o, 'egress')['action'], 'spec.egress[0].action', /is required/],
  ['no peers', earlyAnp, (o) => (rule(o, 'egress')['to'] = []), 'spec.egress[0].to', /at least 1/],
  ['an unknown rule field', earlyAnp, (o) => (rule(o, 'egress')['protocols'] = [{ tcp: { destinationPort: { number: 80 } } }]), 'spec.egress[0].protocols', /unknown field/],
  ['an unknown spec field', earlyAnp, (o) => (spec(o)['tier'] = 'Admin'), 'spec.tier', /unknown field/],
  ['an unknown top-level field', earlyAnp, (o) => (o['data'] = {}), 'data', /unknown field/],
  ['no name', earlyAnp, (o) => (o['metadata'] = { generateName: 'anp-' }), 'metadata.name', /is required/],
  ['a name that is not a DNS subdomain', earlyAnp, (o) => (o['metadata'] = { name: 'Upper_Case' }), 'metadata.name', /not a valid name/],
  ['a label value that is not a string', earlyAnp, (o) => (o['metadata'] = { name: 'x', labels: { a: 1 } }), 'metadata.labels.a', /must be a string/],
  ['another API version', earlyAnp, (o) => (o['apiVersion'] = 'policy.networking.k8s.io/v1alpha2'), 'apiVersion', /must be policy.networking.k8s.io\/v1alpha1/],
  ['another kind', earlyAnp, (o) => (o['kind'] = 'ClusterNetworkPolicy'), 'kind', /not AdminNetworkPolicy or BaselineAdminNetworkPolicy/],
  ['no spec', earlyAnp, (o) => delete o['spec'], 'spec', /is required/],
];

describe('convert refuses what it cannot convert exactly, naming the field', () => {
  it.each(REFUSALS)('%s', (_what, make, edit, field, reason) => {
    const object = make();
    expect(convertPolicy(object, OPTIONS).diagnostics).toEqual([]); // valid before the edit
    edit(object);
    const result = convertPolicy(object, OPTIONS);
    expect(result.policy).toBeUndefined();
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.field)).toContain(field);
    expect(errors.find((d) => d.field === field)!.message).toMatch(reason);
  });

  it('refuses objects that would become the same ClusterNetworkPolicy, and converts nothing in their place', () => {
    const anp = earlyAnp();
    (anp['metadata'] as Json)['name'] = 'default';
    const docs = [anp, banp(), lateAnp()].map((value, i) => ({ source: { file: 'in.yaml', document: i + 1 }, value }));
    const result = convertDocuments(docs, OPTIONS);
    expect(result.converted.map((c) => c.from)).toEqual(['AdminNetworkPolicy/cluster-control']);
    expect(result.diagnostics.map((d) => [d.source.document, d.object, d.severity, d.field])).toEqual([
      [1, 'AdminNetworkPolicy/default', 'error', 'metadata.name'],
      [2, 'BaselineAdminNetworkPolicy/default', 'error', 'metadata.name'],
    ]);
    expect(result.diagnostics[0]!.message).toContain('as would BaselineAdminNetworkPolicy/default (in.yaml)');
  });

  it('converts equal priorities, with a warning saying how they are ordered', () => {
    const a = earlyAnp();
    const b = lateAnp();
    (b['spec'] as Json)['priority'] = 10;
    const docs = [b, a].map((value, i) => ({ source: { file: 'in.yaml', document: i + 1 }, value }));
    const result = convertDocuments(docs, OPTIONS);
    expect(result.converted).toHaveLength(2);
    expect(result.diagnostics.map((d) => [d.severity, d.field])).toEqual([
      ['warning', 'spec.priority'],
      ['warning', 'spec.priority'],
    ]);
    expect(result.diagnostics[0]!.message).toContain('by name (cluster-control, pass-example)');
  });
});

describe('convert output', () => {
  it('is one object per input object, in input order, and the same for the same input', () => {
    const docs = [lateAnp(), banp(), earlyAnp()].map((value, i) => ({ source: { file: 'in.yaml', document: i + 1 }, value }));
    const first = convertDocuments(docs, OPTIONS);
    expect(first.converted.map((c) => c.policy.metadata.name)).toEqual(['cluster-control', 'default', 'pass-example']);
    expect(JSON.stringify(convertDocuments(structuredClone(docs), OPTIONS))).toBe(JSON.stringify(first));
  });

  it('does not change its input', () => {
    const input = lateAnp();
    const copy = structuredClone(input);
    convertPolicy(input, OPTIONS);
    expect(input).toEqual(copy);
  });

  it('shares no objects with its input (editing the output cannot edit the ANP)', () => {
    const input = lateAnp();
    const out = convertPolicy(input, OPTIONS).policy!;
    const subject = out.spec.subject as { namespaces: { matchLabels: Record<string, string> } };
    subject.namespaces.matchLabels['x'] = 'y';
    expect(((input['spec'] as Json)['subject'] as { namespaces: { matchLabels: Record<string, string> } }).namespaces.matchLabels).not.toHaveProperty('x');
  });
});
