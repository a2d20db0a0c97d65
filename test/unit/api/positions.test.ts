import { describe, expect, it } from 'vitest';
import { Checker, fieldPathSteps, formatDiagnostic, type Diagnostic } from '../../../src/api/diagnostics.js';
import { InputError, parseDocuments } from '../../../src/api/documents.js';

// Diagnostics point at the field: line and column in YAML and JSON, through Lists and JSON
// arrays; a path that does not exist points at the nearest parent that does.

const YAML = `# a comment
apiVersion: v1
kind: List
items:
- kind: A
  metadata:
    labels: {"a.b/c": x}
  spec:
    egress:
    - to:
      - networks: [10.0.0.0/8, 1.2.3.4/99]
---
{"kind": "B",
 "spec": {"x": [1, 2]}}
`;

describe('fieldPathSteps reads back what Checker writes', () => {
  it.each([
    { path: '', want: [] },
    { path: '(document)', want: [] },
    { path: 'spec.egress[2].to[0].networks[1]', want: ['spec', 'egress', 2, 'to', 0, 'networks', 1] },
    { path: 'metadata.labels["a.b/c"]', want: ['metadata', 'labels', 'a.b/c'] },
    { path: 'x["say \\"hi\\"[0]"].y', want: ['x', 'say "hi"[0]', 'y'] },
  ])('$path', ({ path, want }) => {
    expect(fieldPathSteps(path)).toEqual(want);
  });

  it('quotes keys that are not plain names', () => {
    const sink: Diagnostic[] = [];
    const c = new Checker(sink, '');
    c.field('metadata').field('labels').field('app.kubernetes.io/name').error('e');
    c.field('spec').field('egress').index(2).field('to').error('f');
    expect(sink.map((d) => d.field)).toEqual(['metadata.labels["app.kubernetes.io/name"]', 'spec.egress[2].to']);
    expect(sink.map((d) => fieldPathSteps(d.field))).toEqual([['metadata', 'labels', 'app.kubernetes.io/name'], ['spec', 'egress', 2, 'to']]);
  });
});

describe('Source.locate', () => {
  const [a, b] = parseDocuments(YAML, 'f.yaml');
  const where = (doc: typeof a, field: string) => doc!.source.locate!(field);

  it.each([
    { name: 'a List item starts at its first key', field: '', want: { line: 5, column: 3 } },
    { name: 'a list entry deep in a rule', field: 'spec.egress[0].to[0].networks[1]', want: { line: 11, column: 32 } },
    { name: 'a quoted label key', field: 'metadata.labels["a.b/c"]', want: { line: 7, column: 14 } },
    { name: 'a missing field: its parent', field: 'spec.priority', want: { line: 8, column: 3 } },
    { name: 'an index past the end: the list', field: 'spec.egress[5]', want: { line: 9, column: 5 } },
  ])('YAML: $name', ({ field, want }) => {
    expect(where(a, field)).toEqual(want);
  });

  it('JSON: keys and list entries across lines', () => {
    expect(where(b, '')).toEqual({ line: 13, column: 1 });
    expect(where(b, 'spec.x[1]')).toEqual({ line: 14, column: 20 });
    expect(where(b, 'kind')).toEqual({ line: 13, column: 2 });
  });

  it('each document and List item has a Source of its own, numbered by document', () => {
    expect([a!.source.document, b!.source.document]).toEqual([1, 2]);
    expect(a!.source).not.toBe(b!.source);
  });

  it('formats as file:line:column: field: message', () => {
    expect(formatDiagnostic(a!.source, { severity: 'warning', field: 'spec.egress[0]', message: 'm' })).toBe('f.yaml:10:7: warning: spec.egress[0]: m');
    expect(formatDiagnostic({ file: 'https://api/clusternetworkpolicies', document: 3 }, { severity: 'error', field: 'spec', message: 'm' })).toBe('https://api/clusternetworkpolicies: spec: m');
  });

  it('a JSON array of objects is one document per object', () => {
    const docs = parseDocuments('[{"kind": "A"},\n {"kind": "B"}]', 'f.json');
    expect(docs.map((d) => [(d.value as { kind: string }).kind, d.source.locate!('kind')])).toEqual([
      ['A', { line: 1, column: 3 }],
      ['B', { line: 2, column: 3 }],
    ]);
  });

  it('a syntax error names its line and column', () => {
    expect(() => parseDocuments('a: 1\nb: [\n', 'bad.yaml')).toThrow(InputError);
    expect(() => parseDocuments('a: 1\nb: [\n', 'bad.yaml')).toThrow(/^bad\.yaml:3:1: not valid YAML: /);
  });
});
