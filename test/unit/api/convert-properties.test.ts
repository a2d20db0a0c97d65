import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseClusterNetworkPolicy } from '../../../src/api/cnp.js';
import { convertPolicy } from '../../../src/api/convert/policy.js';
import { parseCidr } from '../../../src/api/ip.js';
import type { Peer, PodSet, Policy, PortMatch, Rule, Selector } from '../../../src/api/model.js';
import { isEmptySelector } from '../../../src/api/selector.js';
import { policyArb, POLICY_NAMES } from '../../support/arbitraries.js';
import { crdValidator, isObj, normaliseCel, schemaErrors, type CelTable, type Json } from '../../support/crd-schema.js';
import { REPO } from '../../support/paths.js';

// Round trips. A random policy of the project's model is written out as the v1alpha1 object that
// means it (in either v1alpha1 peer shape, with the choices the API leaves open: matchLabels or
// matchExpressions, a `namespaces` or a `pods` form, TCP written or defaulted, a single port as
// portNumber), converted, and read back: what the project reads from the ClusterNetworkPolicy must be
// exactly the policy the v1alpha1 object was written from. The output must also pass the shipped
// CRD's schema and CEL rules, and be the same text every time.

const BASELINE_PRIORITY = 10;

interface Style {
  readonly early: boolean;
  readonly namespacesForm: boolean;
  readonly matchLabels: boolean;
  readonly writeTcp: boolean;
}

function writeSelector(s: Selector, style: Style): Json {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: Json[] = [];
  for (const r of s.requirements) {
    if (style.matchLabels && r.operator === 'In' && r.values.length === 1 && !(r.key in matchLabels)) matchLabels[r.key] = r.values[0]!;
    else matchExpressions.push({ key: r.key, operator: r.operator, ...(r.values.length > 0 ? { values: [...r.values] } : {}) });
  }
  return { ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}), ...(matchExpressions.length > 0 ? { matchExpressions } : {}) };
}

function writeSubject(p: PodSet, style: Style): Json {
  if (style.namespacesForm && isEmptySelector(p.pods)) return { namespaces: writeSelector(p.namespaces, style) };
  return { pods: { namespaceSelector: writeSelector(p.namespaces, style), podSelector: writeSelector(p.pods, style) } };
}

function writePeer(peer: Peer, style: Style): Json {
  switch (peer.kind) {
    case 'pods': {
      const ns = writeSelector(peer.pods.namespaces, style);
      if (style.namespacesForm && isEmptySelector(peer.pods.pods)) return { namespaces: style.early ? { namespaceSelector: ns } : ns };
      const podSelector = writeSelector(peer.pods.pods, style);
      return { pods: style.early ? { namespaces: { namespaceSelector: ns }, podSelector } : { namespaceSelector: ns, podSelector } };
    }
    case 'nodes':
      return { nodes: writeSelector(peer.nodes, style) };
    case 'networks':
      return { networks: peer.cidrs.map((c) => c.text) };
    case 'domainNames':
      return { domainNames: [...peer.names] };
    case 'all':
      throw new Error('fail-closed peers are not generated');
  }
}

function writePort(p: PortMatch, style: Style): Json {
  if (p.kind === 'named') return { namedPort: p.name };
  const protocol = p.protocol === 'TCP' && !style.writeTcp ? {} : { protocol: p.protocol };
  return p.start === p.end ? { portNumber: { ...protocol, port: p.start } } : { portRange: { ...protocol, start: p.start, end: p.end } };
}

function writeRule(r: Rule, peerKey: 'from' | 'to', style: Style): Json {
  return {
    ...(r.name === undefined ? {} : { name: r.name }),
    action: r.action === 'Accept' ? 'Allow' : r.action,
    [peerKey]: r.peers.map((p) => writePeer(p, style)),
    ...(r.ports === undefined ? {} : { ports: r.ports.map((p) => writePort(p, style)) }),
  };
}

/** The v1alpha1 object that means `p`. */
function writeV1alpha1(p: Policy, style: Style): Json {
  const admin = p.tier === 'Admin';
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: admin ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy',
    metadata: { name: p.name },
    spec: {
      ...(admin ? { priority: p.priority } : {}),
      subject: writeSubject(p.subject, style),
      ...(p.ingress.length > 0 ? { ingress: p.ingress.map((r) => writeRule(r, 'from', style)) } : {}),
      ...(p.egress.length > 0 ? { egress: p.egress.map((r) => writeRule(r, 'to', style)) } : {}),
    },
  };
}

/** What v1alpha1 can say: a BANP is named default, has no priority of its own, no Pass and no domainNames. */
function expressible(p: Policy): Policy {
  if (p.tier === 'Admin') return p;
  const rules = (list: readonly Rule[]): Rule[] =>
    list.map((r) => ({
      ...r,
      action: r.action === 'Pass' ? 'Deny' : r.action,
      peers: r.peers.map((peer): Peer => (peer.kind === 'domainNames' ? { kind: 'networks', cidrs: [parseCidr('192.0.2.0/24')!.cidr] } : peer)),
    }));
  return { ...p, name: 'default', priority: BASELINE_PRIORITY, ingress: rules(p.ingress), egress: rules(p.egress) };
}

const styleArb: fc.Arbitrary<Style> = fc.record({ early: fc.boolean(), namespacesForm: fc.boolean(), matchLabels: fc.boolean(), writeTcp: fc.boolean() });
const caseArb = fc.record({
  policy: fc.constantFrom(...POLICY_NAMES).chain((name) => policyArb(name, { failClosedRules: false, maxRules: 4 })).map(expressible),
  style: styleArb,
});

const withoutIdentity = (p: Policy): Omit<Policy, 'uid' | 'generation'> => {
  const { uid: _uid, generation: _generation, ...rest } = p;
  return rest;
};

// The shipped CRD's CEL rules, in JavaScript (the CIDR rule is on strings, which this harness leaves to parseCidr above).
const hasAny = (o: Json, keys: string[]): boolean => keys.some((k) => o[k] !== undefined);
const CEL: CelTable = {
  [normaliseCel('self.start < self.end')]: (s) => (s['start'] as number) < (s['end'] as number),
  [normaliseCel('isCIDR(self) && cidr(self) == cidr(self).masked()')]: () => true,
  [normaliseCel('!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) && has(self.protocols) && self.protocols.exists(protocol, has(protocol.destinationNamedPort)))')]: (s) =>
    !((s['to'] as Json[]).some((p) => hasAny(p, ['networks', 'nodes', 'domainNames'])) && Array.isArray(s['protocols']) && (s['protocols'] as Json[]).some((p) => isObj(p) && p['destinationNamedPort'] !== undefined)),
};
const crd = crdValidator(join(REPO, 'crds', 'policy.networking.k8s.io_clusternetworkpolicies.yaml'), CEL, 'v1beta1');

describe('convert round trips', () => {
  it('reads back as exactly the policy the v1alpha1 object was written from, in either peer shape', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, style }) => {
        const result = convertPolicy(writeV1alpha1(policy, style), { baselinePriority: BASELINE_PRIORITY });
        expect(result.diagnostics).toEqual([]);
        const read = parseClusterNetworkPolicy(result.policy);
        expect(read.diagnostics).toEqual([]);
        expect(withoutIdentity(read.policy!)).toEqual(withoutIdentity(policy));
      }),
      { numRuns: 400 },
    );
  });

  it('passes the shipped CRD (v1beta1 schema and CEL), through YAML, byte-identical every time', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, style }) => {
        const input = writeV1alpha1(policy, style);
        const out = convertPolicy(input, { baselinePriority: BASELINE_PRIORITY }).policy!;
        expect(schemaErrors(crd, out, policy.name)).toEqual([]);
        const text = stringify(out, { lineWidth: 0 });
        expect(stringify(convertPolicy(structuredClone(input), { baselinePriority: BASELINE_PRIORITY }).policy, { lineWidth: 0 })).toBe(text);
        expect(parse(text)).toEqual(out);
      }),
      { numRuns: 200 },
    );
    expect([...crd.unknownRules]).toEqual([]);
  });
});
