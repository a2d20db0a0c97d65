import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Snapshot } from '../../../../src/api/model.js';
import { translateCalico, type CalicoApi } from '../../../../src/translate/calico/index.js';
import type { KubeObject } from '../../../../src/translate/types.js';
import { calicoObjectProblems } from '../../../models/calico/index.js';
import { scenarioArb } from '../../../support/arbitraries.js';
import { loadConformance } from '../../../support/conformance.js';
import { REPO } from '../../../support/paths.js';
import { edgeCaseSnapshot } from './fixtures.js';

// Every generated object validates against the real Calico CRD schemas (../shared/upstream/calico,
// resolved from the repository root): projectcalico.org/v3 objects against the native v3 CRDs,
// crd.projectcalico.org/v1 objects against the v3.32.1 backing CRDs and, where a copy exists, the
// v3.31.7 ones. The structural schemas are checked with ajv; unknown fields, which the API server
// would silently prune, are errors; `x-kubernetes-list-type: set` must hold; every CEL rule
// (`x-kubernetes-validations`) in these CRDs is evaluated by a hand-written equivalent below.

const CALICO = join(REPO, '..', 'shared', 'upstream', 'calico');

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: unknown, k: string): boolean => isObj(o) && o[k] !== undefined && o[k] !== null;

/** The CEL rules of these CRDs (whitespace-normalised) and what they mean. */
const CEL: Record<string, (self: Json) => boolean> = {
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

const normalise = (rule: string): string => rule.replace(/\s+/g, ' ').trim();
const unknownCel = new Set<string>();

/** Marks every object schema with properties as closed: the API server would prune unknown fields. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!isObj(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' && isObj(v) ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, closeObjects(pv)])) : closeObjects(v);
  if (isObj(schema['properties']) && schema['additionalProperties'] === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  for (const keyword of ['x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-map-type', 'x-kubernetes-list-map-keys']) ajv.addKeyword({ keyword });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    validate: (type: string, data: unknown) => type !== 'set' || !Array.isArray(data) || new Set(data.map((d) => JSON.stringify(d))).size === data.length,
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    validate: (rules: { rule: string }[], data: unknown) =>
      rules.every((r) => {
        const fn = CEL[normalise(r.rule)];
        if (fn === undefined) {
          unknownCel.add(r.rule);
          return false;
        }
        return !isObj(data) || fn(data);
      }),
  });
  return ajv;
}

interface Crd {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly validate: ValidateFunction;
  readonly rules: readonly string[];
}

function loadCrd(ajv: Ajv, file: string): Crd {
  const crd = parse(readFileSync(join(CALICO, file), 'utf8')) as Json;
  const spec = crd['spec'] as Json;
  const version = (spec['versions'] as Json[])[0]!;
  const schema = (version['schema'] as Json)['openAPIV3Schema'];
  const rules: string[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (isObj(v)) {
      for (const [k, c] of Object.entries(v)) {
        if (k === 'x-kubernetes-validations' && Array.isArray(c)) for (const r of c as { rule: string }[]) rules.push(r.rule);
        else collect(c);
      }
    }
  };
  collect(schema);
  return {
    file,
    apiVersion: `${String(spec['group'])}/${String(version['name'])}`,
    kind: String((spec['names'] as Json)['kind']),
    validate: ajv.compile(closeObjects(schema) as AnySchema),
    rules,
  };
}

const ajv = newAjv();
const CRDS: Record<CalicoApi, Record<string, Crd[]>> = {
  'projectcalico.org/v3': {
    Tier: [loadCrd(ajv, 'projectcalico.org_tiers.yaml')],
    GlobalNetworkPolicy: [loadCrd(ajv, 'projectcalico.org_globalnetworkpolicies.yaml')],
    GlobalNetworkSet: [loadCrd(ajv, 'projectcalico.org_globalnetworksets.yaml')],
  },
  'crd.projectcalico.org/v1': {
    Tier: [loadCrd(ajv, 'crd.projectcalico.org_tiers.yaml'), loadCrd(ajv, 'v3.31.7-crd.projectcalico.org_tiers.yaml')],
    GlobalNetworkPolicy: [loadCrd(ajv, 'crd.projectcalico.org_globalnetworkpolicies.yaml'), loadCrd(ajv, 'v3.31.7-crd.projectcalico.org_globalnetworkpolicies.yaml')],
    GlobalNetworkSet: [loadCrd(ajv, 'crd.projectcalico.org_globalnetworksets.yaml')],
  },
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Schema errors of one object (empty when it is valid). */
function schemaErrors(api: CalicoApi, object: KubeObject): string[] {
  const where = `${object.kind}/${object.metadata.name}`;
  const crds = CRDS[api][object.kind];
  if (crds === undefined) return [`${where}: no ${api} CRD for kind ${object.kind}`];
  const errors: string[] = [];
  if (object.metadata.name.length > 253 || !DNS_SUBDOMAIN.test(object.metadata.name)) errors.push(`${where}: metadata.name is not a DNS subdomain`);
  for (const crd of crds) {
    if (object.apiVersion !== crd.apiVersion || object.kind !== crd.kind) errors.push(`${where}: ${object.apiVersion} ${object.kind} does not match ${crd.file}`);
    // The API server sees plain JSON.
    if (!crd.validate(JSON.parse(JSON.stringify(object)))) {
      errors.push(...(crd.validate.errors ?? []).map((e) => `${where} (${crd.file}): ${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
    }
  }
  return errors;
}

function check(snapshot: Snapshot, api: CalicoApi): string[] {
  const { objects } = translateCalico(snapshot, { api });
  return [...objects.flatMap((o) => schemaErrors(api, o)), ...calicoObjectProblems(objects, '3.31'), ...calicoObjectProblems(objects, '3.32')];
}

describe.each(['projectcalico.org/v3', 'crd.projectcalico.org/v1'] as CalicoApi[])('generated %s objects against the real Calico CRDs', (api) => {
  it('has a JavaScript equivalent for every CEL rule of the CRDs', () => {
    const rules = Object.values(CRDS[api]).flatMap((crds) => crds.flatMap((c) => c.rules));
    expect(rules.filter((r) => CEL[normalise(r)] === undefined)).toEqual([]);
  });

  it('rejects what the API server would reject (the check is not vacuous)', () => {
    const { objects } = translateCalico(edgeCaseSnapshot(), { api });
    const gnp = objects.find((o) => o.kind === 'GlobalNetworkPolicy')! as unknown as { spec: Json };
    const bad = (spec: Json): KubeObject => ({ ...(gnp as unknown as KubeObject), spec: { ...gnp.spec, ...spec } });
    expect(schemaErrors(api, bad({ typo: 1 }))).not.toEqual([]);
    expect(schemaErrors(api, bad({ types: ['Ingress', 'Ingress'] }))).not.toEqual([]);
    expect(schemaErrors(api, bad({ order: 'first' }))).not.toEqual([]);
    expect(schemaErrors(api, bad({ ingress: [{ action: 'Allow', icmp: { code: 1 } }] }))).not.toEqual([]);
    expect(schemaErrors(api, bad({ ingress: [{ action: 'Deny', http: { methods: ['GET'] } }] }))).not.toEqual([]);
    const tier = objects.find((o) => o.kind === 'Tier')!;
    expect(schemaErrors(api, { ...tier, spec: { order: 1, defaultAction: 'Allow' } })).not.toEqual([]);
  });

  it('validates every object for every step of the conformance suite (IPv4 and IPv6)', () => {
    const errors = [4, 6].flatMap((family) => loadConformance(family as 4 | 6).flatMap((c) => c.steps.flatMap((s) => check(s.snapshot, api))));
    expect(errors).toEqual([]);
    expect([...unknownCel]).toEqual([]);
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
