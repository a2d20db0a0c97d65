import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differences } from '../../src/controller/drift.js';
import type { KubeObject } from '../../src/controller/port.js';
import { ApiError, kube, uniqueName, waitFor } from '../harness/index.js';
import { setCalicoVersion, startOperator, type RunningOperator } from './operator.js';

// Random JSON patches by another manager on random generated objects, one at a time: after
// each, the live object is again exactly what the operator wants (the translation of the CNP;
// the operator's own view of it is checked against the translator in drift.test.ts).

const CNP = 'policy.networking.k8s.io/v1beta1';
const PLURALS: Record<string, string> = { Tier: 'tiers', GlobalNetworkPolicy: 'globalnetworkpolicies', GlobalNetworkSet: 'globalnetworksets', CiliumClusterwideNetworkPolicy: 'ciliumclusterwidenetworkpolicies' };
type Json = Record<string, unknown>;

/** JSON Pointer paths of every value inside the object's body and our metadata. */
function paths(value: unknown, at: string, out: string[]): string[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, `${at}/${i}`, out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) paths(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  return out;
}

const SCALARS = fc.oneof(fc.constantFrom('x', '', 'Allow', 'Deny', 'all()', '10.9.0.0/16', 'TCP'), fc.integer({ min: -1, max: 70000 }), fc.boolean(), fc.constant(null));

/** One random JSON patch operation on an object, given its paths. */
function patchArb(obj: KubeObject): fc.Arbitrary<Json[]> {
  const body = paths(obj['spec'] ?? obj['specs'], obj['spec'] !== undefined ? '/spec' : '/specs', []);
  const meta = [...Object.keys(obj.metadata.labels ?? {}).map((k) => `/metadata/labels/${k.replace(/\//g, '~1')}`), ...Object.keys(obj.metadata.annotations ?? {}).map((k) => `/metadata/annotations/${k.replace(/\//g, '~1')}`)];
  const all = [...body, ...meta];
  return fc.oneof(
    fc.tuple(fc.constantFrom(...all.filter((p) => p.split('/').length > 2)), SCALARS).map(([path, value]) => [{ op: 'replace', path, value }]),
    fc.constantFrom(...all.filter((p) => p.split('/').length > 2)).map((path) => [{ op: 'remove', path }]),
    fc.tuple(fc.constantFrom(...body), fc.constantFrom('extra', 'doNotTrack', 'serviceAccountSelector', 'description', 'order'), SCALARS).map(([path, key, value]) => [{ op: 'add', path: `${path}/${key}`, value }]),
    fc.constantFrom(...body).map((path) => [{ op: 'add', path: `${path}/-`, value: { action: 'Allow' } }]),
    fc.constant<Json[]>([{ op: 'add', path: '/metadata/ownerReferences/-', value: { apiVersion: 'v1', kind: 'Namespace', name: 'default', uid: '00000000-0000-0000-0000-000000000000' } }]),
  );
}

const forms = [
  { title: 'Calico projectcalico.org/v3', detect: { backend: 'calico', force: false, calicoApi: 'projectcalico.org/v3' } as const, apiVersion: 'projectcalico.org/v3' },
  { title: 'Cilium', detect: { backend: 'cilium', force: false } as const, apiVersion: 'cilium.io/v2' },
];

describe.each(forms)('random edits of generated objects are reverted exactly: $title', (form) => {
  let op: RunningOperator;
  const name = uniqueName('prop');

  beforeAll(async () => {
    await setCalicoVersion('v3.31.7');
    op = await startOperator({ detect: form.detect });
    await kube().create({
      apiVersion: CNP,
      kind: 'ClusterNetworkPolicy',
      metadata: { name },
      spec: {
        tier: 'Admin',
        priority: 12,
        subject: { pods: { namespaceSelector: { matchLabels: { team: 'p' } }, podSelector: { matchLabels: { app: 'x' } } } },
        ingress: [{ name: 'in', action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'q' } } }], protocols: [{ tcp: { destinationPort: { number: 80 } } }, { udp: { destinationPort: { range: { start: 1000, end: 2000 } } } }] }],
        egress: [
          { name: 'out', action: 'Pass', to: [{ networks: ['198.51.100.0/24', '2001:db8::/32'] }] },
          { name: 'deny', action: 'Deny', to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } } }] },
        ],
      },
    });
  });
  afterAll(async () => {
    await op?.stop();
    await kube().delete(CNP, 'ClusterNetworkPolicy', name);
  });

  it('after each of 300 random JSON patches the object returns to exactly what the operator wants', async () => {
    const generated = async (): Promise<KubeObject[]> =>
      (await kube().list(form.apiVersion, form.apiVersion.startsWith('cilium') ? 'CiliumClusterwideNetworkPolicy' : 'GlobalNetworkPolicy'))
        .concat(form.apiVersion.startsWith('cilium') ? [] : await kube().list(form.apiVersion, 'Tier'))
        .filter((o) => (o.metadata['annotations'] as Record<string, string> | undefined)?.['policy.cnp-operator.io/cnp'] === name || o.kind === 'Tier') as KubeObject[];
    // The operator's own statement of what it wants, taken once the CNP is programmed.
    const wanted = await waitFor(async () => {
      const objs = await generated();
      return objs.length >= (form.apiVersion.startsWith('cilium') ? 1 : 3) ? new Map(objs.map((o) => [`${o.kind}/${o.metadata.name}`, o])) : undefined;
    }, { message: 'the generated objects' });
    let applied = 0;
    let refused = 0;
    let noops = 0;
    let slowest = 0;
    const runs = fc.sample(fc.tuple(fc.constantFrom(...wanted.keys()), fc.nat()), { numRuns: 300, seed: 4242 });
    for (const [key, seed] of runs) {
      const want = wanted.get(key)!;
      const live = (await kube().get(want.apiVersion, want.kind, want.metadata.name)) as KubeObject;
      const [patch] = fc.sample(patchArb(live), { numRuns: 1, seed });
      try {
        const patched = await kube().request<KubeObject>('PATCH', `/apis/${want.apiVersion}/${PLURALS[want.kind]!}/${want.metadata.name}?fieldManager=someone-else`, patch, 'application/json-patch+json');
        // A patch that changes nothing the operator cares about proves nothing.
        if (differences(patched, want).length === 0) {
          noops++;
          continue;
        }
      } catch (err) {
        if (err instanceof ApiError && [400, 422].includes(err.status)) {
          refused++;
          continue;
        }
        throw err;
      }
      applied++;
      const started = Date.now();
      await waitFor(async () => differences((await kube().get(want.apiVersion, want.kind, want.metadata.name)) as KubeObject, want).length === 0, {
        timeout: 30_000,
        interval: 25,
        message: `${key} to be restored after ${JSON.stringify(patch)}`,
      });
      slowest = Math.max(slowest, Date.now() - started);
    }
    console.log(`${form.title}: ${applied} patches changed the object and were reverted (${refused} refused by the API server, ${noops} changed nothing compared); slowest revert ${(slowest / 1000).toFixed(2)} s`);
    expect(applied).toBeGreaterThan(100);
  }, 600_000);
});
