import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CILIUM_SCHEMA_PATH, ciliumCrdFromSchema, loadCiliumCrd, toStructural } from '../harness/cilium-crd.js';

type Json = Record<string, unknown>;

/** Every schema node with its path, junctor branches included. */
function* nodes(n: Json, path = '', inJunctor = false): Generator<[string, Json, boolean]> {
  yield [path, n, inJunctor];
  for (const [k, v] of Object.entries((n['properties'] as Json | undefined) ?? {})) yield* nodes(v as Json, `${path}.${k}`, inJunctor);
  if (typeof n['items'] === 'object') yield* nodes(n['items'] as Json, `${path}[]`, inJunctor);
  if (typeof n['additionalProperties'] === 'object') yield* nodes(n['additionalProperties'] as Json, `${path}{}`, inJunctor);
  for (const j of ['oneOf', 'anyOf', 'allOf']) for (const b of (n[j] as Json[] | undefined) ?? []) yield* nodes(b, `${path}<${j}>`, true);
}

describe('the structural CCNP CRD built from Cilium\'s JSON schema', () => {
  const crd = loadCiliumCrd();
  const spec = crd.spec as { group: string; scope: string; names: Json; versions: { name: string; schema: { openAPIV3Schema: Json } }[] };
  const schema = spec.versions[0]!.schema.openAPIV3Schema;
  const source = JSON.parse(readFileSync(CILIUM_SCHEMA_PATH, 'utf8')) as Json;

  it('names the resource as Cilium does', () => {
    expect(crd.metadata.name).toBe('ciliumclusterwidenetworkpolicies.cilium.io');
    expect(spec.group).toBe('cilium.io');
    expect(spec.scope).toBe('Cluster');
    expect(spec.names).toMatchObject({ kind: 'CiliumClusterwideNetworkPolicy', plural: 'ciliumclusterwidenetworkpolicies', shortNames: ['ccnp'] });
    expect(spec.versions.map((v) => v.name)).toEqual(['v2']);
  });

  it('is structural: every node typed, no additionalProperties: false, nothing typed inside junctors', () => {
    for (const [path, n, inJunctor] of nodes(schema)) {
      expect(n['additionalProperties'], path).not.toBe(false);
      if (n['properties'] !== undefined) expect(n['additionalProperties'], path).toBeUndefined();
      if (inJunctor) {
        expect(n['description'], path).toBeUndefined();
        continue;
      }
      const typed = n['type'] !== undefined || n['x-kubernetes-int-or-string'] === true || n['x-kubernetes-preserve-unknown-fields'] === true;
      expect(typed, path).toBe(true);
    }
  });

  it('keeps the validations that make generated objects really checked', () => {
    const count = (s: Json, key: string) => [...nodes(s)].filter(([, n]) => n[key] !== undefined).length;
    for (const key of ['enum', 'pattern', 'required', 'maximum', 'oneOf', 'anyOf', 'x-kubernetes-validations']) {
      expect(count(schema, key), key).toBe(count(source, key));
    }
    expect(schema['x-kubernetes-validations']).toEqual([{ message: 'spec or specs must be provided', rule: 'has(self.spec) || has(self.specs)' }]);
  });

  it('rewrites JSON-Schema-only constructs', () => {
    expect(toStructural({ type: ['string', 'null'] })).toEqual({ type: 'string', nullable: true });
    expect(toStructural({ type: ['integer', 'string'] })).toEqual({ 'x-kubernetes-int-or-string': true });
    expect(toStructural({ const: 'x', type: 'string' })).toEqual({ enum: ['x'], type: 'string' });
    expect(toStructural({ $schema: 'x', properties: { a: { type: 'string' } }, additionalProperties: false })).toEqual({
      type: 'object',
      properties: { a: { type: 'string' } },
    });
    expect(toStructural({ additionalProperties: true })).toEqual({ 'x-kubernetes-preserve-unknown-fields': true });
    expect(toStructural({ properties: { a: { $ref: '#/definitions/s' } }, definitions: { s: { type: 'string' } } })).toEqual({
      type: 'object',
      properties: { a: { type: 'string' } },
    });
    expect(ciliumCrdFromSchema({ type: 'object' }).spec['scope']).toBe('Cluster');
  });
});
