import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocuments } from '../../src/api/documents.js';
import { cli } from '../cli/run.js';
import { ApiError, kube, uniqueName } from '../harness/index.js';
import { cnpObjectArb } from '../support/cnp-objects.js';
import { networkPolicyApi } from '../support/paths.js';

// `validate` and the API server with the project's CRD must agree on every object: what the
// server refuses, validate refuses (an error), and what it accepts, validate accepts (at most
// warnings or fail-closed parts). Each object is sent with dryRun (nothing is stored) and
// fieldValidation=Strict, as kubectl apply does; validate is the command itself, run once over
// all the objects with -o json (one entry per object, in input order).

type Json = Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'cnp-agreement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serverAccepts(obj: Json): Promise<{ ok: boolean; message: string }> {
  const version = String(obj['apiVersion']).split('/')[1] ?? 'v1beta1';
  try {
    await kube().request('POST', `/apis/policy.networking.k8s.io/${version}/clusternetworkpolicies?dryRun=All&fieldValidation=Strict`, obj);
    return { ok: true, message: '' };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 422 || err.status === 400)) return { ok: false, message: err.message };
    throw err;
  }
}

interface Entry {
  readonly name: string | null;
  readonly verdict: string;
  readonly diagnostics: readonly { severity: string; field: string; message: string }[];
}

/** `validate -o json` over all the objects at once: whether it accepts each, and what it says. */
function validateAll(objects: readonly Json[], file: string): { ok: boolean; message: string }[] {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(objects, null, 1));
  const run = cli(['validate', '-o', 'json', '-f', path]);
  expect([0, 1]).toContain(run.status);
  const entries = JSON.parse(run.stdout) as Entry[];
  expect(entries).toHaveLength(objects.length);
  // In input order: each entry is the object at its index.
  const named = (o: Json) => ((o['metadata'] as Json | undefined)?.['name'] as unknown);
  expect(entries.map((e, i) => (typeof named(objects[i]!) === 'string' ? e.name : named(objects[i]!) ?? null))).toEqual(objects.map((o) => named(o) ?? null));
  return entries.map((e) => ({
    ok: e.verdict !== 'invalid',
    message: e.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.field}: ${d.message}`).join('; '),
  }));
}

/** Every object on which the API server and validate disagree, described. */
async function disagreements(objects: readonly Json[], file: string): Promise<{ problems: string[]; refused: number }> {
  const ours = validateAll(objects, file);
  const problems: string[] = [];
  for (const [i, obj] of objects.entries()) {
    const server = await serverAccepts(obj);
    if (server.ok === ours[i]!.ok) continue;
    problems.push(`${JSON.stringify(obj['spec'])}\n  API server: ${server.ok ? 'accepted' : server.message}\n  validate:   ${ours[i]!.ok ? 'accepted' : ours[i]!.message}`);
  }
  return { problems, refused: ours.filter((o) => !o.ok).length };
}

describe('validate agrees with the API server and the CRD', () => {
  it('on every crdtest case of network-policy-api v0.3.0 (the experimental ones included)', async () => {
    const root = join(networkPolicyApi(), 'pkg', 'crdtest', 'testdata');
    const objects: Json[] = [];
    const valid: boolean[] = [];
    for (const dir of ['valid', 'invalid']) {
      for (const file of readdirSync(join(root, dir))) {
        for (const doc of parseDocuments(readFileSync(join(root, dir, file), 'utf8'), file)) {
          const obj = doc.value as Json;
          (obj['metadata'] as Json)['name'] = uniqueName('crdtest');
          objects.push(obj);
          valid.push(dir === 'valid');
        }
      }
    }
    expect(objects).toHaveLength(10);
    // The experimental CRD is installed, so the upstream verdict holds for every file.
    for (const [i, obj] of objects.entries()) expect((await serverAccepts(obj)).ok, JSON.stringify(obj)).toBe(valid[i]);
    const { problems } = await disagreements(objects, 'crdtest.json');
    expect(problems).toEqual([]);
  });

  it('on a few hundred generated objects, valid and broken', async () => {
    const objects = fc.sample(cnpObjectArb(fc.constant('x')), { numRuns: 400, seed: 20261204 });
    for (const obj of objects) if ((obj['metadata'] as Json)['name'] === 'x') (obj['metadata'] as Json)['name'] = uniqueName('gen');
    const { problems, refused } = await disagreements(objects, 'generated.json');
    // Both kinds are well represented, or the comparison would prove little.
    expect(refused).toBeGreaterThan(100);
    expect(objects.length - refused).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  }, 300_000);
});
