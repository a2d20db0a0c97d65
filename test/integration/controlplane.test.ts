import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Watch } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, kube, type KubeObject, kubeconfig, kubectl, parseObjects, uniqueName, waitFor } from '../harness/index.js';
import { REPO } from '../support/paths.js';

const CNP_V1A2 = 'policy.networking.k8s.io/v1alpha2';
const CNP_V1B1 = 'policy.networking.k8s.io/v1beta1';
const KIND = 'ClusterNetworkPolicy';

const created: [string, string, string][] = [];

function cnp(name: string, apiVersion = CNP_V1A2, ingressRule: Record<string, unknown> = {}): KubeObject {
  created.push([CNP_V1A2, KIND, name]);
  return {
    apiVersion,
    kind: KIND,
    metadata: { name },
    spec: {
      tier: 'Admin',
      priority: 10,
      subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'sensitive' } } },
      ingress: [{ name: 'deny-all', action: 'Deny', from: [{ namespaces: { matchLabels: {} } }], ...ingressRule }],
    },
  };
}

/** The API server's rejection of `obj`, or a failure if it was accepted. */
async function rejection(obj: KubeObject): Promise<ApiError> {
  try {
    await kube().create(obj);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`${obj.kind} ${obj.metadata.name} was accepted`);
}

afterAll(async () => {
  for (const [apiVersion, kind, name] of created) await kube().delete(apiVersion, kind, name);
});

describe('the ClusterNetworkPolicy CRD on a real API server', () => {
  it('rejects a port range with start >= end with the CRD rule message', async () => {
    const bad = cnp(uniqueName('bad-range'), CNP_V1A2, {
      protocols: [{ tcp: { destinationPort: { range: { start: 9090, end: 8080 } } } }],
    });
    const err = await rejection(bad);
    expect(err.status).toBe(422);
    expect(err.message).toContain('Start port must be less than End port');
  });

  it('rejects a bad CIDR with the CRD rule message, in v1beta1 too', async () => {
    const name = uniqueName('bad-cidr');
    const bad = cnp(name, CNP_V1B1);
    (bad['spec'] as Record<string, unknown>)['egress'] = [{ name: 'out', action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }];
    const err = await rejection(bad);
    expect(err.status).toBe(422);
    expect(err.message).toContain('Invalid CIDR format provided');
  });

  it('rejects a value outside an enum (schema validation, not just CEL)', async () => {
    const err = await rejection(cnp(uniqueName('bad-action'), CNP_V1A2, { action: 'Allow' }));
    expect(err.status).toBe(422);
    expect(err.message).toMatch(/Unsupported value: "Allow"/);
  });

  it('accepts valid policies in v1alpha2 and v1beta1 and serves each in both versions', async () => {
    const a = uniqueName('valid-a2');
    const b = uniqueName('valid-b1');
    await kube().create(cnp(a, CNP_V1A2));
    await kube().create(cnp(b, CNP_V1B1, { protocols: [{ tcp: { destinationPort: { range: { start: 8080, end: 9090 } } } }] }));
    const aAsBeta = await kube().get(CNP_V1B1, KIND, a);
    const bAsAlpha = await kube().get(CNP_V1A2, KIND, b);
    expect(aAsBeta?.apiVersion).toBe(CNP_V1B1);
    expect(bAsAlpha?.['spec']).toMatchObject({ tier: 'Admin', priority: 10 });
  });

  it('accepts every sample in config/samples', async () => {
    const dir = join(REPO, 'config', 'samples');
    const samples = readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseObjects(readFileSync(join(dir, f), 'utf8')));
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const sample of samples) {
      // Renamed, so a cluster reused through KUBECONFIG keeps its own copies untouched.
      const name = uniqueName(sample.metadata.name);
      created.push([CNP_V1A2, KIND, name]);
      await kube().create({ ...sample, metadata: { name } });
    }
  });

  it('delivers a change to a watch', async () => {
    const name = uniqueName('watched');
    const first = await kube().create(cnp(name));
    let stop: AbortController | undefined;
    const seen = new Promise<KubeObject>((resolve, reject) => {
      // Watching from the creation's resourceVersion guarantees the update is not missed.
      new Watch(kube().kc)
        .watch(
          `/apis/${CNP_V1A2}/clusternetworkpolicies`,
          { resourceVersion: first.metadata['resourceVersion'] as string, fieldSelector: `metadata.name=${name}` },
          (phase, obj: KubeObject) => {
            if (phase === 'MODIFIED' && (obj['spec'] as { priority: number }).priority === 20) resolve(obj);
          },
          (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : undefined),
        )
        .then((c) => (stop = c), reject);
    });
    try {
      await kube().request('PATCH', `/apis/${CNP_V1A2}/clusternetworkpolicies/${name}`, { spec: { priority: 20 } }, 'application/merge-patch+json');
      const event = await seen;
      expect(event.metadata.name).toBe(name);
    } finally {
      stop?.abort();
    }
  });

  it('shows the printer columns in `kubectl get clusternetworkpolicies`, filled from status conditions', async () => {
    const name = uniqueName('columns');
    await kube().create(cnp(name));
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await kube().request(
      'PATCH',
      `/apis/${CNP_V1A2}/clusternetworkpolicies/${name}/status`,
      {
        status: {
          conditions: [
            { type: 'Accepted', status: 'True', reason: 'Valid', message: '', lastTransitionTime: now },
            { type: 'Programmed', status: 'True', reason: 'Applied', message: '', lastTransitionTime: now },
            { type: 'Exact', status: 'False', reason: 'Approximated', message: 'test', lastTransitionTime: now },
          ],
        },
      },
      'application/merge-patch+json',
    );
    const out = execFileSync(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'clusternetworkpolicies', name], { encoding: 'utf8' });
    const [header, row] = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'TIER', 'PRIORITY', 'PROGRAMMED', 'EXACT', 'AGE']);
    expect(row?.slice(0, 5)).toEqual([name, 'Admin', '10', 'True', 'False']);

    // -o wide adds what tells the failure reasons apart, and the subject.
    const wide = execFileSync(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'clusternetworkpolicies', name, '-o', 'wide'], { encoding: 'utf8' });
    const [wideHeader, wideRow] = wide.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(wideHeader).toEqual(['NAME', 'TIER', 'PRIORITY', 'PROGRAMMED', 'EXACT', 'ACCEPTED', 'REASON', 'SUBJECT', 'AGE']);
    expect(wideRow?.slice(0, 8)).toEqual([name, 'Admin', '10', 'True', 'False', 'True', 'Applied', '{"namespaces":{"matchLabels":{"kubernetes.io/metadata.name":"sensitive"}}}']);

    // The category lists CNPs; Cilium's CiliumNetworkPolicy CRD (installed here) owns the short
    // name `cnp`, which is why every command the project prints uses the full resource name.
    const byCategory = execFileSync(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'network-policy-api', '-o', 'name'], { encoding: 'utf8' });
    expect(byCategory).toContain(`clusternetworkpolicy.policy.networking.k8s.io/${name}`);
    const short = spawnSync(kubectl(), ['--kubeconfig', kubeconfig(), 'get', 'cnp', name], { encoding: 'utf8' });
    expect(short.stderr).toContain('ciliumnetworkpolicies.cilium.io');
  });

  it('garbage-collects an object owned by a deleted CNP (kube-controller-manager)', async () => {
    const name = uniqueName('owner');
    const owner = await kube().create(cnp(name));
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: uniqueName('dependent'),
        namespace: 'default',
        ownerReferences: [{ apiVersion: CNP_V1A2, kind: KIND, name, uid: owner.metadata.uid }],
      },
      data: { owner: name },
    };
    await kube().create(cm);
    await kube().delete(CNP_V1A2, KIND, name);
    // The collector learns about a new CRD on its periodic discovery (every 30s), hence the long wait.
    await waitFor(async () => (await kube().get('v1', 'ConfigMap', cm.metadata.name, 'default')) === undefined, {
      timeout: 150_000,
      interval: 500,
      message: `ConfigMap ${cm.metadata.name} to be garbage-collected`,
    });
  }, 180_000);
});

describe('backend CRDs on a real API server', () => {
  it('accepts a Calico projectcalico.org/v3 GlobalNetworkPolicy and rejects an invalid one', async () => {
    const name = uniqueName('gnp');
    created.push(['projectcalico.org/v3', 'GlobalNetworkPolicy', name]);
    const gnp: KubeObject = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name },
      spec: {
        order: 10,
        selector: 'all()',
        types: ['Ingress'],
        ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [80] } }],
      },
    };
    await kube().create(gnp);
    const err = await rejection({
      ...gnp,
      metadata: { name: uniqueName('gnp-bad') },
      spec: { ...(gnp['spec'] as object), ingress: [{ action: 'Deny', http: { methods: ['GET'] } }] },
    });
    expect(err.message).toContain('HTTP match is only valid on Allow rules');
  });

  it('accepts a crd.projectcalico.org/v1 GlobalNetworkPolicy and rejects a bad action', async () => {
    const name = uniqueName('gnp-v1');
    created.push(['crd.projectcalico.org/v1', 'GlobalNetworkPolicy', name]);
    const gnp: KubeObject = {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkPolicy',
      metadata: { name },
      spec: { order: 10, selector: 'all()', types: ['Egress'], egress: [{ action: 'Pass' }] },
    };
    await kube().create(gnp);
    const err = await rejection({ ...gnp, metadata: { name: uniqueName('gnp-v1-bad') }, spec: { egress: [{ action: 'Accept' }] } });
    expect(err.message).toMatch(/Unsupported value: "Accept"/);
  });

  it('accepts a CiliumClusterwideNetworkPolicy and rejects invalid ones with the schema and CEL', async () => {
    const name = uniqueName('ccnp');
    created.push(['cilium.io/v2', 'CiliumClusterwideNetworkPolicy', name]);
    const ccnp: KubeObject = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name },
      spec: {
        endpointSelector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'sensitive' } },
        ingressDeny: [{ fromEntities: ['world'], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }],
      },
    };
    await kube().create(ccnp);
    const badEntity = await rejection({
      ...ccnp,
      metadata: { name: uniqueName('ccnp-bad') },
      spec: { endpointSelector: {}, ingressDeny: [{ fromEntities: ['everyone'] }] },
    });
    expect(badEntity.message).toMatch(/Unsupported value: "everyone"/);
    const noSpec = await rejection({ ...ccnp, metadata: { name: uniqueName('ccnp-empty') }, spec: undefined });
    expect(noSpec.message).toContain('spec or specs must be provided');
    const unknownField = await rejection({ ...ccnp, metadata: { name: uniqueName('ccnp-unknown') }, spec: { endpointSelector: {}, ingress: [{ fromEverywhere: true }] } });
    expect(unknownField.message).toMatch(/unknown field/);
  });
});
