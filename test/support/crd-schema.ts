import { readFileSync } from 'node:fs';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

// A real CRD's openAPIV3Schema as an ajv validator that rejects what the API server would:
// unknown fields are errors (the server would prune them silently, which for generated
// objects means a silent change of meaning), `x-kubernetes-list-type: set` holds, and each
// CEL rule is checked by a JavaScript equivalent the caller supplies (an unknown rule fails).

export type Json = Record<string, unknown>;
export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** CEL rules (whitespace-normalised) and what they mean. */
export type CelTable = Readonly<Record<string, (self: Json) => boolean>>;

export const normaliseCel = (rule: string): string => rule.replace(/\s+/g, ' ').trim();

const JUNCTORS = new Set(['allOf', 'anyOf', 'oneOf', 'not']);

/**
 * Marks every object schema with properties as closed. Not inside allOf/anyOf/oneOf/not: in a
 * structural schema their branches only add value validations to the fields declared outside.
 */
export function closeObjects(schema: unknown, inJunctor = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => closeObjects(s, inJunctor));
  if (!isObj(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' && isObj(v)) out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, closeObjects(pv, inJunctor)]));
    else out[k] = closeObjects(v, inJunctor || JUNCTORS.has(k));
  }
  if (!inJunctor && isObj(schema['properties']) && schema['additionalProperties'] === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

export interface CrdValidator {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly validate: ValidateFunction;
  /** Every CEL rule in the schema, as written. */
  readonly rules: readonly string[];
  /** Rules seen during validation that the table has no equivalent for. */
  readonly unknownRules: Set<string>;
}

function newAjv(cel: CelTable, unknown: Set<string>): Ajv {
  // Go regular expressions in patterns: no Unicode classes on fields we write, so no u flag.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false });
  for (const keyword of ['x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-map-type', 'x-kubernetes-list-map-keys']) ajv.addKeyword({ keyword });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    validate: (type: string, data: unknown) => type !== 'set' || !Array.isArray(data) || new Set(data.map((d) => JSON.stringify(d))).size === data.length,
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    validate: (rules: { rule: string }[], data: unknown) =>
      rules.every((r) => {
        const fn = cel[normaliseCel(r.rule)];
        if (fn === undefined) {
          unknown.add(r.rule);
          return false;
        }
        return !isObj(data) || fn(data);
      }),
  });
  return ajv;
}

function celRules(schema: unknown): string[] {
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
  return rules;
}

/** A validator for the storage version of the CRD in `file` (or `version` if given). */
export function crdValidator(file: string, cel: CelTable, version?: string): CrdValidator {
  const crd = parse(readFileSync(file, 'utf8')) as Json;
  const spec = crd['spec'] as Json;
  const versions = spec['versions'] as Json[];
  const v = versions.find((x) => (version === undefined ? x['storage'] === true : x['name'] === version));
  if (v === undefined) throw new Error(`${file}: no version ${version ?? '(storage)'}`);
  const schema = (v['schema'] as Json)['openAPIV3Schema'];
  const unknownRules = new Set<string>();
  return {
    file,
    apiVersion: `${String(spec['group'])}/${String(v['name'])}`,
    kind: String((spec['names'] as Json)['kind']),
    validate: newAjv(cel, unknownRules).compile(closeObjects(schema) as AnySchema),
    rules: celRules(schema),
    unknownRules,
  };
}

/** The validator's errors for one object, as readable lines (empty when valid). */
export function schemaErrors(v: CrdValidator, object: unknown, where: string): string[] {
  // The API server sees plain JSON.
  if (v.validate(JSON.parse(JSON.stringify(object)))) return [];
  return (v.validate.errors ?? []).map((e) => `${where} (${v.file}): ${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
