import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shareAll, StringTable } from '../../../src/controller/strings.js';
import { digest } from '../../../src/translate/digest.js';

describe('StringTable', () => {
  it('keeps one entry per distinct string and hands back an equal one', () => {
    const table = new StringTable(10);
    for (const s of ['a/b', 'c', 'a/b', 'c', 'x'.repeat(40)]) expect(table.share(s)).toBe(s);
    expect(table.size).toBe(3);
    expect(table.shareOptional(undefined)).toBeUndefined();
    expect(table.size).toBe(3);
  });

  it('never holds more than its capacity: when full it starts afresh', () => {
    const table = new StringTable(3);
    for (let i = 0; i < 10; i++) {
      table.share(`s${i}`);
      expect(table.size).toBeLessThanOrEqual(3);
    }
    expect(table.size).toBe(1);
  });

  it('shares every string of a parsed value in place, except under the keys given', () => {
    const table = new StringTable(100);
    const event = { metadata: { name: 'x.1', uid: 'u', namespace: 'default' }, involvedObject: { kind: 'ClusterNetworkPolicy', name: 'p' }, list: ['a', ['b', { c: 'd' }]], count: 2, eventTime: null };
    const before = structuredClone(event);
    shareAll(event, new Set(['name', 'uid']), table);
    expect(event).toEqual(before);
    // default, ClusterNetworkPolicy, a, b, d: not the names nor the uid.
    expect(table.size).toBe(5);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new StringTable(0)).toThrow(RangeError);
    expect(() => new StringTable(1.5)).toThrow(/positive integer, not 1.5/);
  });
});

// Whether a string is a copy of its own cannot be seen from JavaScript, only in a heap snapshot:
// a separate Node.js process parses 2,000 objects as the informers do, keeps what the caches
// keep, and writes its heap; each repeated value must be held once, not once per object.
describe('what the caches keep shares repeated strings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnp-strings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const src = (path: string): string => pathToFileURL(fileURLToPath(new URL(`../../../src/${path}`, import.meta.url))).href;

  it('holds each timestamp, apiVersion, label value, condition reason, message digest and object key once', { timeout: 60_000 }, () => {
    const script = join(dir, 'keep.ts');
    const snapshot = join(dir, 'heap.heapsnapshot');
    writeFileSync(
      script,
      `import { writeHeapSnapshot } from 'node:v8';
import { slim } from ${JSON.stringify(src('controller/inputs.js'))};
import { slimCnp } from ${JSON.stringify(src('controller/snapshot-from-cache.js'))};
import { objectKey } from ${JSON.stringify(src('controller/desired.js'))};
const stamp = new Date(Date.UTC(2026, 0, 2, 3, 4, 5)).toISOString().replace('.000', '');
// Reachable from the global object: a local no later code reads is dead to optimised code, and
// the snapshot's collection would take it (as it did once the loop was optimised).
const kept: unknown[] = [];
(globalThis as { kept?: unknown }).kept = kept;
for (let i = 0; i < 2000; i++) {
  const gnp = JSON.parse(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'p-' + i, uid: 'u-' + i, creationTimestamp: stamp, labels: { managed: 'by-cnp-operator-' + 7 }, managedFields: [{ manager: 'cnp-operator-' + 7, operation: 'Apply', time: stamp, fieldsV1: {} }] }, spec: { note: 'not-shared-by-design-' + 7 } }));
  const cnp = JSON.parse(JSON.stringify({ apiVersion: 'policy.networking.k8s.io/v1beta1', kind: 'ClusterNetworkPolicy', metadata: { name: 'c-' + i, generation: 1, creationTimestamp: stamp }, status: { conditions: [{ type: 'Programmed', status: 'True', observedGeneration: 1, lastTransitionTime: stamp, reason: 'ProgrammedOnBackend', message: 'one object' }] } }));
  const owned = slim(gnp);
  kept.push(owned, slimCnp(cnp, ['Programmed']), objectKey({ ...owned, metadata: { name: 'same' } }));
}
writeHeapSnapshot(${JSON.stringify(snapshot)});
`,
    );
    // --always-turbofan: optimised from the start, as a busy machine's background compiler may
    // have it by the end of the loop.
    execFileSync(process.execPath, ['--always-turbofan', '--import', 'tsx', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), stdio: 'pipe' });
    const copies = stringCounts(JSON.parse(readFileSync(snapshot, 'utf8')) as HeapSnapshot);
    // Without sharing each of these is held 2,000–6,000 times (every value longer than ten
    // characters is a copy of its own after JSON.parse); with it, by the table and a few more
    // places (the script's constants and variables, the last objects parsed): 1–6 here.
    for (const value of ['2026-01-02T03:04:05Z', 'projectcalico.org/v3', 'policy.networking.k8s.io/v1beta1', 'GlobalNetworkPolicy', 'ClusterNetworkPolicy', 'by-cnp-operator-7', 'cnp-operator-7', 'ProgrammedOnBackend', digest('one object'), 'projectcalico.org/v3/GlobalNetworkPolicy//same']) {
      expect({ value, copies: copies.get(value) ?? 0 }).toEqual({ value, copies: expect.toSatisfy((n: number) => n >= 1 && n <= 10) });
    }
    // The snapshot does tell copies apart: a repeated value the caches keep as parsed (a
    // backend object's spec) is there once per object.
    expect(copies.get('not-shared-by-design-7')).toBeGreaterThanOrEqual(2000);
  });
});

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** How many string objects hold each value. */
function stringCounts(heap: HeapSnapshot): Map<string, number> {
  const fields = heap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const types = heap.snapshot.meta.node_types[0];
  const strings = new Set(['string', 'concatenated string', 'sliced string']);
  const counts = new Map<string, number>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    if (!strings.has(types[heap.nodes[i + typeAt]!]!)) continue;
    const value = heap.strings[heap.nodes[i + nameAt]!]!;
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}
