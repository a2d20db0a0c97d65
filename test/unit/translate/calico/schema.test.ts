import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../src/api/model.js';
import { translateCalico, type CalicoApi } from '../../../../src/translate/calico/index.js';
import type { KubeObject } from '../../../../src/translate/types.js';
import { calicoObjectProblems } from '../../../models/calico/index.js';
import { scenarioArb } from '../../../support/arbitraries.js';
import { loadConformance } from '../../../support/conformance.js';
import { CALICO_CRDS } from '../../../support/paths.js';
import { type CelTable, type CrdValidator, crdValidator, isObj, type Json, normaliseCel, schemaErrors } from '../../../support/crd-schema.js';
import { edgeCaseSnapshot } from './fixtures.js';

// Every generated object validates against the real Calico CRD schemas (upstream/calico):
// projectcalico.org/v3 objects against the native v3 CRDs of 3.32.1, crd.projectcalico.org/v1
// objects against the backing CRDs of 3.32.1 and 3.31.7 (test/support/crd-schema.ts says how);
// every CEL rule in these CRDs is evaluated by a hand-written equivalent below.

const has = (o: unknown, k: string): boolean => isObj(o) && o[k] !== undefined && o[k] !== null;

/** The CEL rules of these CRDs (whitespace-normalised) and what they mean. */
const CEL: CelTable = {
  '!has(self.code) || has(self.type)': (s) => !has(s, 'code') || has(s, 'type'),
  "!has(self.http) || !has(self.protocol) || self.protocol == 'TCP' || self.protocol == 6": (s) =>
    !has(s, 'http') || !has(s, 'protocol') || s['protocol'] === 'TCP' || s['protocol'] === 6,
  "self.action == 'Allow' || !has(self.http)": (s) => s['action'] === 'Allow' || !has(s, 'http'),
  '!has(self.destination) || !has(self.destination.services) || (!has(self.destination.ports) || size(self.destination.ports) == 0) && (!has(self.destination.notPorts) || size(self.destination.notPorts) == 0)':
    (s) => {
      const d = s['destination'];
      if (!has(s, 'destination') || !has(d, 'services')) return true;
      const size = (k: string): number => (Array.isArray((d as Json)[k]) ? ((d as Json)[k] as unknown[]).length : 0);
      return size('ports') === 0 && size('notPorts') === 0;
    },
  '!((has(self.doNotTrack) && self.doNotTrack) && (has(self.preDNAT) && self.preDNAT))': (s) => !(s['doNotTrack'] === true && s['preDNAT'] === true),
  '(!has(self.preDNAT) || !self.preDNAT) || !has(self.egress) || size(self.egress) == 0': (s) =>
    s['preDNAT'] !== true || !has(s, 'egress') || (s['egress'] as unknown[]).length === 0,
  "(!has(self.preDNAT) || !self.preDNAT) || !has(self.types) || !self.types.exists(t, t == 'Egress')": (s) =>
    s['preDNAT'] !== true || !has(s, 'types') || !(s['types'] as unknown[]).includes('Egress'),
  '(has(self.applyOnForward) && self.applyOnForward) || ((!has(self.doNotTrack) || !self.doNotTrack) && (!has(self.preDNAT) || !self.preDNAT))': (s) =>
    s['applyOnForward'] === true || (s['doNotTrack'] !== true && s['preDNAT'] !== true),
  "self.metadata.name == 'kube-admin' ? self.spec.defaultAction == 'Pass' : true": (s) => (s['metadata'] as Json)['name'] !== 'kube-admin' || (s['spec'] as Json)['defaultAction'] === 'Pass',
  "self.metadata.name == 'kube-baseline' ? self.spec.defaultAction == 'Pass' : true": (s) => (s['metadata'] as Json)['name'] !== 'kube-baseline' || (s['spec'] as Json)['defaultAction'] === 'Pass',
  "self.metadata.name == 'default' ? self.spec.defaultAction == 'Deny' : true": (s) => (s['metadata'] as Json)['name'] !== 'default' || (s['spec'] as Json)['defaultAction'] === 'Deny',
  "self.metadata.name == 'kube-admin' ? (has(self.spec.defaultAction) && self.spec.defaultAction == 'Pass') : true": (s) =>
    (s['metadata'] as Json)['name'] !== 'kube-admin' || (s['spec'] as Json)['defaultAction'] === 'Pass',
  "self.metadata.name == 'kube-baseline' ? (has(self.spec.defaultAction) && self.spec.defaultAction == 'Pass') : true": (s) =>
    (s['metadata'] as Json)['name'] !== 'kube-baseline' || (s['spec'] as Json)['defaultAction'] === 'Pass',
  "self.metadata.name == 'default' ? (has(self.spec.defaultAction) && self.spec.defaultAction == 'Deny') : true": (s) =>
    (s['metadata'] as Json)['name'] !== 'default' || (s['spec'] as Json)['defaultAction'] === 'Deny',
};

const crd = (version: string, file: string): CrdValidator => crdValidator(join(CALICO_CRDS, version, file), CEL);
const CRDS: Record<CalicoApi, Record<string, CrdValidator[]>> = {
  'projectcalico.org/v3': {
    Tier: [crd('v3.32.1', 'projectcalico.org_tiers.yaml')],
    GlobalNetworkPolicy: [crd('v3.32.1', 'projectcalico.org_globalnetworkpolicies.yaml')],
    GlobalNetworkSet: [crd('v3.32.1', 'projectcalico.org_globalnetworksets.yaml')],
  },
  'crd.projectcalico.org/v1': {
    Tier: [crd('v3.32.1', 'crd.projectcalico.org_tiers.yaml'), crd('v3.31.7', 'crd.projectcalico.org_tiers.yaml')],
    GlobalNetworkPolicy: [crd('v3.32.1', 'crd.projectcalico.org_globalnetworkpolicies.yaml'), crd('v3.31.7', 'crd.projectcalico.org_globalnetworkpolicies.yaml')],
    GlobalNetworkSet: [crd('v3.32.1', 'crd.projectcalico.org_globalnetworksets.yaml'), crd('v3.31.7', 'crd.projectcalico.org_globalnetworksets.yaml')],
  },
};
const unknownCel = (): string[] => Object.values(CRDS).flatMap((byKind) => Object.values(byKind).flatMap((vs) => vs.flatMap((v) => [...v.unknownRules])));

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Schema errors of one object (empty when it is valid). */
function objectErrors(api: CalicoApi, object: KubeObject): string[] {
  const where = `${object.kind}/${object.metadata.name}`;
  const crds = CRDS[api][object.kind];
  if (crds === undefined) return [`${where}: no ${api} CRD for kind ${object.kind}`];
  const errors: string[] = [];
  if (object.metadata.name.length > 253 || !DNS_SUBDOMAIN.test(object.metadata.name)) errors.push(`${where}: metadata.name is not a DNS subdomain`);
  for (const crd of crds) {
    if (object.apiVersion !== crd.apiVersion || object.kind !== crd.kind) errors.push(`${where}: ${object.apiVersion} ${object.kind} does not match ${crd.file}`);
    errors.push(...schemaErrors(crd, object, where));
  }
  return errors;
}

function check(snapshot: Snapshot, api: CalicoApi): string[] {
  const { objects } = translateCalico(snapshot, { api });
  return [...objects.flatMap((o) => objectErrors(api, o)), ...calicoObjectProblems(objects, '3.31'), ...calicoObjectProblems(objects, '3.32')];
}

describe.each(['projectcalico.org/v3', 'crd.projectcalico.org/v1'] as CalicoApi[])('generated %s objects against the real Calico CRDs', (api) => {
  it('has a JavaScript equivalent for every CEL rule of the CRDs', () => {
    const rules = Object.values(CRDS[api]).flatMap((crds) => crds.flatMap((c) => c.rules));
    expect(rules.filter((r) => CEL[normaliseCel(r)] === undefined)).toEqual([]);
  });

  it('rejects what the API server would reject (the check is not vacuous)', () => {
    const { objects } = translateCalico(edgeCaseSnapshot(), { api });
    const gnp = objects.find((o) => o.kind === 'GlobalNetworkPolicy')! as unknown as { spec: Json };
    const bad = (spec: Json): KubeObject => ({ ...(gnp as unknown as KubeObject), spec: { ...gnp.spec, ...spec } });
    expect(objectErrors(api, bad({ typo: 1 }))).not.toEqual([]);
    expect(objectErrors(api, bad({ types: ['Ingress', 'Ingress'] }))).not.toEqual([]);
    expect(objectErrors(api, bad({ order: 'first' }))).not.toEqual([]);
    expect(objectErrors(api, bad({ ingress: [{ action: 'Allow', icmp: { code: 1 } }] }))).not.toEqual([]);
    expect(objectErrors(api, bad({ ingress: [{ action: 'Deny', http: { methods: ['GET'] } }] }))).not.toEqual([]);
    const tier = objects.find((o) => o.kind === 'Tier')!;
    expect(objectErrors(api, { ...tier, spec: { order: 1, defaultAction: 'Allow' } })).not.toEqual([]);
  });

  it('validates every object for every step of the conformance suite (IPv4 and IPv6)', () => {
    const errors = [4, 6].flatMap((family) => loadConformance(family as 4 | 6).flatMap((c) => c.steps.flatMap((s) => check(s.snapshot, api))));
    expect(errors).toEqual([]);
    expect(unknownCel()).toEqual([]);
  });

  it('validates every object for edge cases (long and dotted names, every peer kind, fail-closed rules)', () => {
    expect(check(edgeCaseSnapshot(), api)).toEqual([]);
  });

  it('validates every object for random clusters', () => {
    fc.assert(
      fc.property(scenarioArb(), (scenario) => {
        expect(check(scenario.snapshot, api)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
