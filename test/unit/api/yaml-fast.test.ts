import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify, type ToStringOptions } from 'yaml';
import { fieldPaths } from '../../support/field-paths.js';
import { parseDocuments, parseYaml, type Document } from '../../../src/api/documents.js';
import { coreScalar, loadYamlFast } from '../../../src/api/yaml-fast.js';

// YAML is read with js-yaml where that gives what the `yaml` library gives (src/api/yaml-fast.ts):
// the same documents, numbering, values (types too) and errors, and the same line and column for
// every field path, found by the `yaml` library when first asked for.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a parse gives: each document's number, value (and the type of each scalar) and positions; or the error. */
function placed(parse: () => readonly Document[], fieldsOf: (value: unknown) => string[]): unknown {
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
    types: JSON.stringify(d.value, (_k, v: unknown) => (v !== null && typeof v === 'object' ? v : `${typeof v}:${Object.is(v, -0) ? '-0' : String(v)}`)),
    at: fieldsOf(d.value).map((field) => [field, d.source.locate!(field)]),
  }));
}


/** The same as parseYaml gives, and whether the fast reader read it. */
function same(text: string, fieldsOf: (value: unknown) => string[] = fieldPaths): boolean {
  expect(placed(() => parseDocuments(text, 'in.yaml'), fieldsOf)).toEqual(placed(() => parseYaml(text, 'in.yaml'), fieldsOf));
  return loadYamlFast(text) !== undefined;
}

const TRICKY = [
  '1_000', '0x1F', '0X1F', '0o17', '0O17', '0b11', '017', '00012', '-0x1', '+0o7', '0x', '0o', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', '.NAN', '-.nan', '~', 'null', 'Null', 'NULL', 'nULL',
  'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'Yes', 'no', 'on', 'off', 'y', 'n', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '1e3', '1E3', '1e+3', '1.5e-3', '.5e3', '1.e3', '1e400', '-1e400',
  '+1', '-1', '-0', '+0', '0', '0.', '.5', '+.5', '-.5', '1.', '1.0', '0.1', '12:30:00', '190:20:30', '1,000', '123456789012345678901234567890', '9007199254740993', '0xFFFFFFFFFFFFFFFFFFFF', '.', '-', '+', '=', '<<x',
];

describe('YAML read with js-yaml', () => {
  it('reads each plain scalar as the yaml library’s core schema does', () => {
    for (const s of TRICKY) {
      const text = `a: ${s}\nb:\n- ${s}\n- [${s}, ${s}]\nc: {d: ${s}}\n`;
      expect(same(text), text).toBe(s !== '-' && s !== '<<x'); // `- -` (a `-` alone on a line) and `<<` are left to the yaml library
      same(`${s}: c\n{${s}: d}: e\n`);
    }
    expect(coreScalar('-0')).toBe(-0);
    expect(coreScalar('0b11')).toBe('0b11');
    expect(coreScalar('1e400')).toBe(Infinity);
  });

  it('numbers documents as the yaml library does, empty ones too', () => {
    for (const text of ['', '---', '---\n', 'a: 1\n---\n', 'a: 1\n---\n# c\n---\nb: 2\n', '---\n---\na: 1', '# c\n---\na: 1\n', '--- a\n--- [1]\n--- {b: 2}', '--- # c\na: 1\n', '- kind: A\n- kind: B\n', 'kind: List\nitems: [{kind: A}, {kind: B}]\n']) {
      same(text);
    }
    expect(parseDocuments('a: 1\n---\n# c\n---\nb: 2\n', 'f').map((d) => d.source.document)).toEqual([1, 3]);
  });

  it('leaves to the yaml library what js-yaml reads otherwise', () => {
    const texts = [
      '"a"#c', 'a: [1, 2]#c', '---a: 1', 'a: [1,\n2]', 'a:\n  b: [\n  1\n  ]', 'a: "x\ny"', 'a:\n  b: \'x\n y\'', '- a: [x,\n  y]', 'null: 1', '~: 1', '? [a]\n: b', '[a, b]: c', '{a: 1}: b', 'c: {{d: 1}}', 'c: {[d]}', 'c: {a: 1,\n  [d]}',
      'a: &x 1\nb: *x', 'a: !!str 1', '%YAML 1.2\n---\na: 1', '<<: {a: 1}', 'a: 1\n...\nb: 2', 'a:\tb', 'a: 1\rb: 2', '\uFEFFa: 1', `${'k'.repeat(1100)}: 1`, `"${'\\x41'.repeat(300)}": 1`, `a${' '.repeat(1100)}: 1`,
      '1: a\n"1": b', 'a: 1\na: 2', 'a: b: c', 'a: "\\q"', 'a: \u0007',
      'b:\n  - #x\n - y\n', '--- b: 1\n', 'c: {#\n   e}\n', 'b:\n#x\n  y\nc: 1\n', 'a: 1\n-\'b: \'p\n-  q\'\n', 'a:\n   y">-\'b: \'p\n  q\'\n', 'b:\n  -\n - y\n', '>1\nb',
    ];
    for (const text of texts) {
      expect(loadYamlFast(text), text).toBeUndefined();
      same(text);
    }
  });

  it('reads every YAML file of the repository as the yaml library does, most of them itself', () => {
    const root = join(import.meta.dirname, '..', '..', '..');
    const files = ['test', 'upstream', 'config', 'crds', 'docs', 'hack'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => join(root, dir, f)),
    );
    expect(files.length).toBeGreaterThan(100);
    let fast = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const fieldsOf = (value: unknown): string[] => {
        const all = fieldPaths(value);
        // Large documents (CRDs): the first 300 paths, and spec and metadata.name.
        return [...all.slice(0, 300), 'spec', 'metadata.name', 'spec.missing'];
      };
      if (same(text, fieldsOf)) fast++;
    }
    expect(fast).toBeGreaterThan(files.length * 0.8);
  });

  const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...TRICKY, 'kind', 'items', 'a.b/c', 'say "hi"', "it's", '__proto__', 'a: b', '# c', '- x', '[x]', '{x}', 'x,y'));
  const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 12 }), fc.constantFrom(...TRICKY), fc.string({ unit: fc.constantFrom('a', ' ', '\n', '"', "'", '#', ':', '-', '[', '}', ',', '\\', '\t', 'é'), maxLength: 12 }));
  const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
  })).value;
  const options: fc.Arbitrary<ToStringOptions> = fc.record({
    collectionStyle: fc.constantFrom('any', 'block', 'flow'),
    defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
    defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'),
    indent: fc.integer({ min: 1, max: 4 }),
    indentSeq: fc.boolean(),
    lineWidth: fc.constantFrom(0, 10, 20, 80),
    minContentWidth: fc.constantFrom(0, 5, 20),
    flowCollectionPadding: fc.boolean(),
    doubleQuotedAsJSON: fc.boolean(),
  });
  const separators = fc.constantFrom('---\n', '---\n', '--- # c\n', '---\n# only a comment\n---\n', '---\n---\n', '\n# c\n---\n');

  it('gives the yaml library’s documents, values and positions for YAML written in any style', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(json, options), { minLength: 1, maxLength: 3 }), separators, fc.boolean(), (docs, sep, trailing) => {
        const text = docs.map(([v, o]) => stringify(v, o)).join(sep) + (trailing ? sep : '');
        if (same(text)) fast++;
      }),
      { numRuns: 600 },
    );
    expect(fast).toBeGreaterThan(150);
  });

  it('fails or not as the yaml library does on broken YAML', () => {
    const base = fc.constantFrom(
      'a: 1\nb:\n  - x\n  - [y, "z"]\nc: {d: e}\n',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web}\nspec:\n  containers:\n  - name: c\n    args: ["a b", \'c\']\n',
      '- a: |\n    text\n  b: >-\n    folded\n    more\n- "q\n  r"\n- [1,\n   2]\n',
      'a: "x\n   y"\n---\nb: \'p\n  q\'\n',
    );
    const edit = fc.tuple(fc.nat(), fc.constantFrom('', ' ', '  ', '\n', '-', ':', '"', "'", '[', ']', '{', '}', ',', '#', '|', '>', '- ', ': ', '\n  ', '---\n', '.', '0'), fc.nat(3));
    fc.assert(
      fc.property(base, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        for (const [at, insert, remove] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + remove);
        }
        same(text);
      }),
      { numRuns: Number(process.env['YAML_FUZZ_RUNS'] ?? 3000) },
    );
  });
});
