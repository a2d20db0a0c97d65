import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UPSTREAM } from '../support/paths.js';

/**
 * Turns the JSON-Schema rendering of Cilium's CCNP CRD (test data in ../shared/upstream/cilium)
 * into a structural apiextensions.k8s.io/v1 CRD, so the test API server validates generated
 * CCNPs against Cilium's real rules: enums, patterns, bounds, required fields, oneOf/anyOf and
 * CEL. Only what a structural schema cannot hold is dropped or rewritten.
 */

export const CILIUM_SCHEMA_PATH = join(UPSTREAM, 'cilium', 'ciliumclusterwidenetworkpolicy_v2.schema.json');

type Json = Record<string, unknown>;

/** Keywords an apiextensions v1 JSONSchemaProps may carry (besides x-kubernetes-*). */
const KEPT = new Set([
  'type', 'format', 'title', 'description', 'default', 'example', 'externalDocs',
  'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'multipleOf',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems',
  'enum', 'maxProperties', 'minProperties', 'required', 'nullable',
  'items', 'properties', 'additionalProperties', 'allOf', 'oneOf', 'anyOf', 'not',
]);

const JUNCTORS = ['allOf', 'oneOf', 'anyOf', 'not'] as const;

/** Inside allOf/oneOf/anyOf/not a structural schema allows value validations only. */
const FORBIDDEN_IN_JUNCTOR = new Set(['type', 'description', 'title', 'default', 'nullable', 'additionalProperties', 'example', 'externalDocs']);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolves local `$ref`s against `definitions`/`$defs`; the Cilium rendering has none today. */
function resolveRef(node: Json, root: Json): Json {
  const ref = node['$ref'];
  if (typeof ref !== 'string') return node;
  const m = /^#\/(definitions|\$defs)\/(.+)$/.exec(ref);
  const target = m ? (root[m[1]!] as Json | undefined)?.[m[2]!] : undefined;
  if (!isObject(target)) throw new Error(`cannot resolve $ref ${ref}`);
  const { $ref: _ref, ...rest } = node;
  return { ...resolveRef(target, root), ...rest };
}

/** Converts one schema node (a property's schema, not a junctor branch). */
export function toStructural(input: Json, root: Json = input): Json {
  const node = resolveRef(input, root);
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) out[key] = value;
    else if (key === 'const') out['enum'] = [value];
    else if (KEPT.has(key)) out[key] = value;
    // everything else ($schema, $id, definitions, patternProperties, examples, readOnly, …) is dropped
  }
  // JSON Schema type unions: ["T","null"] is nullable T; integer|string is int-or-string.
  if (Array.isArray(out['type'])) {
    const types = (out['type'] as string[]).filter((t) => t !== 'null');
    if (types.length < (out['type'] as string[]).length) out['nullable'] = true;
    if (types.length === 1) out['type'] = types[0];
    else {
      delete out['type'];
      if (types.includes('integer') && types.includes('string')) out['x-kubernetes-int-or-string'] = true;
      else out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }
  if (out['uniqueItems'] === true) delete out['uniqueItems']; // forbidden in CRDs; list-type=set is the equivalent
  if (isObject(out['properties'])) {
    out['properties'] = Object.fromEntries(Object.entries(out['properties']).map(([k, v]) => [k, toStructural(v as Json, root)]));
  }
  if (isObject(out['items'])) out['items'] = toStructural(out['items'], root);
  else if (Array.isArray(out['items'])) delete out['items']; // tuple validation has no structural form
  const ap = out['additionalProperties'];
  // additionalProperties: false is implied (unknown fields are pruned, or rejected with fieldValidation=Strict),
  // and a CRD forbids stating it; properties and a map schema are mutually exclusive.
  if (ap === false || out['properties'] !== undefined) delete out['additionalProperties'];
  else if (ap === true) {
    delete out['additionalProperties'];
    out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (isObject(ap)) out['additionalProperties'] = toStructural(ap, root);
  for (const j of JUNCTORS) {
    if (j === 'not' && isObject(out[j])) out[j] = junctorBranch(out[j], out, root);
    else if (Array.isArray(out[j])) out[j] = (out[j] as Json[]).map((b) => junctorBranch(b, out, root));
  }
  if (out['type'] === undefined && !out['x-kubernetes-int-or-string'] && !out['x-kubernetes-preserve-unknown-fields']) {
    if (out['properties'] !== undefined || out['additionalProperties'] !== undefined) out['type'] = 'object';
    else if (out['items'] !== undefined) out['type'] = 'array';
    else out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

/** A branch of allOf/oneOf/anyOf/not: value validations only, over fields the parent declares. */
function junctorBranch(input: Json, parent: Json, root: Json): Json {
  const node = resolveRef(input, root);
  const intOrString = parent['x-kubernetes-int-or-string'] === true;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || !KEPT.has(key)) continue;
    // The one place a type may appear in a junctor: anyOf [{type: integer}, {type: string}] of int-or-string.
    if (key === 'type' && intOrString) out[key] = value;
    else if (!FORBIDDEN_IN_JUNCTOR.has(key)) out[key] = value;
  }
  if (isObject(out['properties'])) {
    const declared = isObject(parent['properties']) ? parent['properties'] : {};
    const kept: Json = {};
    for (const [k, v] of Object.entries(out['properties'])) {
      if (k in declared) kept[k] = junctorBranch(v as Json, declared[k] as Json, root);
    }
    out['properties'] = kept;
  }
  if (isObject(out['items'])) out['items'] = junctorBranch(out['items'], isObject(parent['items']) ? parent['items'] : {}, root);
  for (const j of JUNCTORS) {
    if (j === 'not' && isObject(out[j])) out[j] = junctorBranch(out[j], parent, root);
    else if (Array.isArray(out[j])) out[j] = (out[j] as Json[]).map((b) => junctorBranch(b, parent, root));
  }
  return out;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Json;
}

export function ciliumCrdFromSchema(schema: Json): CustomResourceDefinition {
  const openAPIV3Schema = toStructural(schema);
  // Cilium's CRD declares these at the root; the JSON rendering may leave metadata open.
  const props = (openAPIV3Schema['properties'] ??= {}) as Json;
  props['apiVersion'] ??= { type: 'string' };
  props['kind'] ??= { type: 'string' };
  props['metadata'] = { type: 'object' };
  openAPIV3Schema['type'] = 'object';
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: 'ciliumclusterwidenetworkpolicies.cilium.io',
      annotations: { 'cnp-operator.io/test-only': 'structural CRD built from Cilium\'s CCNP JSON schema by test/harness/cilium-crd.ts' },
    },
    spec: {
      group: 'cilium.io',
      names: {
        kind: 'CiliumClusterwideNetworkPolicy',
        listKind: 'CiliumClusterwideNetworkPolicyList',
        plural: 'ciliumclusterwidenetworkpolicies',
        singular: 'ciliumclusterwidenetworkpolicy',
        shortNames: ['ccnp'],
        categories: ['cilium', 'ciliumpolicy'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: 'v2',
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
        },
      ],
    },
  };
}

export function loadCiliumCrd(path: string = CILIUM_SCHEMA_PATH): CustomResourceDefinition {
  return ciliumCrdFromSchema(JSON.parse(readFileSync(path, 'utf8')) as Json);
}
