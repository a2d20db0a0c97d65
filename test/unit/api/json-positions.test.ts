import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldPaths } from '../../support/field-paths.js';
import { parseDocuments, parseYaml, type Document } from '../../../src/api/documents.js';
import { parseJsonText } from '../../../src/api/json-positions.js';

// JSON input is read with JSON.parse and placed on demand (src/api/json-positions.ts). It must
// give what the YAML parser gives for the same text: the same documents, values and numbering,
// and the same line and column for every field path, existing or not (a missing one: its nearest
// existing parent); and it must leave to the YAML parser what that parser reads otherwise.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON text of a value with the whitespace JSON allows between tokens, chosen by `space`. */
function write(value: Json, space: () => string): string {
  const s = space;
  if (Array.isArray(value)) return value.length === 0 ? `[${s()}]` : `[${value.map((v) => `${s()}${write(v, s)}${s()}`).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return `{${s()}}`;
    return `{${entries.map(([k, v]) => `${s()}${JSON.stringify(k)}${s()}:${s()}${write(v, s)}${s()}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What a parse gives: each document's number, value and the position of each of its paths; or the error. */
function placed(parse: () => readonly Document[]): unknown {
  let docs: readonly Document[];
  try {
    docs = parse();
  } catch (err) {
    return { error: (err as Error).message };
  }
  return docs.map((d) => ({
    document: d.source.document,
    file: d.source.file,
    value: d.value,
    at: fieldPaths(d.value).map((field) => [field, d.source.locate!(field)]),
  }));
}

const SPACES = ['', '', '', ' ', '  ', '\n', '\r\n', '\t', '\n    ', '\r'];
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('kind', 'items', 'a.b/c', 'say "hi"', '__proto__', 'ü\\n', '0', '12'));
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 10 })),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;
// A document as the input holds it: an object, a JSON array of them, or a List.
const input = fc.oneof(
  json,
  fc.array(json, { maxLength: 4 }),
  fc.array(json, { maxLength: 4 }).map((items): Json => ({ apiVersion: 'v1', kind: 'List', items })),
);

describe('JSON input read with JSON.parse', () => {
  it('gives the YAML parser’s documents, values and positions for any JSON and any whitespace', () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(SPACES.length - 1), { minLength: 1, maxLength: 50 }), (value, choice) => {
        let n = 0;
        const text = write(value, () => SPACES[choice[n++ % choice.length]!]!);
        // A scalar alone, and a lone carriage return, are left to the YAML parser; the rest is read as JSON.
        expect(parseJsonText(text) !== undefined).toBe(typeof value === 'object' && value !== null && !/\r(?!\n)/.test(text));
        expect(placed(() => parseDocuments(text, 'in.json'))).toEqual(placed(() => parseYaml(text, 'in.json')));
      }),
      { numRuns: 400 },
    );
  });

  it('leaves to the YAML parser what it reads otherwise: a key twice, nesting past its depth, YAML', () => {
    expect(parseJsonText('{"a": 1, "b": {"c": 2, "c": 3}}')).toBeUndefined();
    expect(() => parseDocuments('{"a": 1, "b": {"c": 2, "c": 3}}', 'dup.json')).toThrow(/^dup\.json:1:24: not valid YAML: Map keys must be unique/);
    expect(parseJsonText(`${'['.repeat(300)}${']'.repeat(300)}`)).toBeUndefined();
    expect(parseJsonText('{"a": 1}\n---\n{"b": 2}')).toBeUndefined();
    expect(parseJsonText('{a: 1}')).toBeUndefined();
    expect(parseJsonText('kind: List')).toBeUndefined();
    // A lone carriage return is whitespace to JSON, text to the YAML parser (`[1,\r2]` is [1, "\r2"]).
    expect(parseJsonText('[1,\r2]')).toBeUndefined();
    expect(parseDocuments('[1,\r2]', 'cr.json').map((d) => d.value)).toEqual([1, '\r2']);
    expect(parseJsonText('{"a": "x:y", "b": ["{", "\\"", ":"]}')).toEqual({ value: { a: 'x:y', b: ['{', '"', ':'] } });
  });

  it('places a field deep inside a 1,000-item JSON List', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'ns', labels: { app: 'web' } },
      status: { podIPs: [{ ip: `10.0.${i >> 8}.${i & 255}` }] },
    }));
    items[777]!.status.podIPs = [{ ip: '10.0.0.1' }, { ip: 'not-an-ip' }];
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2);
    const docs = parseDocuments(text, 'big.json');
    expect(docs).toHaveLength(1000);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"not-an-ip"')) + 1;
    const column = lines[line - 1]!.indexOf('"ip"') + 1;
    expect(docs[777]!.source.locate!('status.podIPs[1].ip')).toEqual({ line, column });
    expect(docs[777]!.source.locate!('status.podIPs[1].ip')).toEqual(parseYaml(text, 'big.json')[777]!.source.locate!('status.podIPs[1].ip'));
  });
});
