import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClusterNetworkPolicy } from '../../src/api/cnp.js';
import { parseDocuments } from '../../src/api/documents.js';
import { ApiError, kube, uniqueName } from '../harness/index.js';
import { cnpObjectArb } from '../support/cnp-objects.js';
import { networkPolicyApi } from '../support/paths.js';

// `validate` and the API server with the project's CRD must agree on every object: what the
// server refuses, validate refuses (an error), and what it accepts, validate accepts (at most
// warnings or fail-closed parts). Each object is sent with dryRun (nothing is stored) and
// fieldValidation=Strict, as kubectl apply does.

type Json = Record<string, unknown>;

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

function validateAccepts(obj: unknown): { ok: boolean; message: string } {
  const errors = parseClusterNetworkPolicy(obj).diagnostics.filter((d) => d.severity === 'error');
  return { ok: errors.length === 0, message: errors.map((e) => `${e.field}: ${e.message}`).join('; ') };
}

async function disagreement(obj: Json): Promise<string | undefined> {
  const [server, ours] = [await serverAccepts(obj), validateAccepts(obj)];
  if (server.ok === ours.ok) return undefined;
  return `${JSON.stringify(obj.spec)}\n  API server: ${server.ok ? 'accepted' : server.message}\n  validate:   ${ours.ok ? 'accepted' : ours.message}`;
}

describe('validate agrees with the API server and the CRD', () => {
  it('on every crdtest case of network-policy-api v0.3.0 (the experimental ones included)', async () => {
    const root = join(networkPolicyApi(), 'pkg', 'crdtest', 'testdata');
    let sent = 0;
    const problems: string[] = [];
    for (const dir of ['valid', 'invalid']) {
      for (const file of readdirSync(join(root, dir))) {
        for (const doc of parseDocuments(readFileSync(join(root, dir, file), 'utf8'), file)) {
          const obj = doc.value as Json;
          (obj['metadata'] as Json)['name'] = uniqueName('crdtest');
          const d = await disagreement(obj);
          sent++;
          if (d !== undefined) problems.push(`${dir}/${file}: ${d}`);
          // The experimental CRD is installed, so the upstream verdict holds for every file.
          expect((await serverAccepts(obj)).ok, `${dir}/${file}`).toBe(dir === 'valid');
        }
      }
    }
    expect(sent).toBe(10);
    expect(problems).toEqual([]);
  });

  it('on a few hundred generated objects, valid and broken', async () => {
    const objects = fc.sample(cnpObjectArb(fc.constant('x')), { numRuns: 400, seed: 20261204 });
    const problems: string[] = [];
    let refused = 0;
    for (const obj of objects) {
      if ((obj['metadata'] as Json)['name'] === 'x') (obj['metadata'] as Json)['name'] = uniqueName('gen');
      const d = await disagreement(obj);
      if (d !== undefined) problems.push(d);
      if (!validateAccepts(obj).ok) refused++;
    }
    // Both kinds are well represented, or the comparison would prove little.
    expect(refused).toBeGreaterThan(100);
    expect(objects.length - refused).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  }, 300_000);
});
