import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubePort } from '../../../src/controller/port.js';
import { awaitedLater, preflight, StartupError } from '../../../src/controller/preflight.js';

/** A port whose discovery, CRD read and Lease dry run answer as given; each answer after a delay, so that the checks overlap. */
function port(o: { served: boolean; crd: 'ok' | 403; lease: 'ok' | 404 | 403 }): { port: KubePort; asked: string[] } {
  const asked: string[] = [];
  const later = <T>(what: string, answer: () => T, ms: number): Promise<T> => {
    asked.push(what);
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(answer());
        } catch (err) {
          reject(err);
        }
      }, ms),
    );
  };
  const p = {
    preferredVersion: () => later('preferredVersion', () => (o.served ? 'v1beta1' : undefined), 20),
    discover: () => later('discover', () => [{ name: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false }], 5),
    get: () =>
      later('get', () => {
        if (o.crd === 403) throw new KubeApiError(403, 'Forbidden', 'forbidden');
        return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'c', annotations: { 'policy.networking.k8s.io/channel': 'experimental' } } };
      }, 1),
    create: () =>
      later('create', () => {
        if (o.lease === 404) throw new KubeApiError(404, 'NotFound', 'namespace not found');
        if (o.lease === 403) throw new KubeApiError(403, 'Forbidden', 'forbidden');
        return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'cnp-operator' } };
      }, 1),
  };
  return { port: p as unknown as KubePort, asked };
}

const election = { leaderElection: { namespace: 'cnp-system', name: 'cnp-operator' } };

describe('preflight', () => {
  it('asks its questions together, but names a missing CRD before what the later answers found', async () => {
    const { port: p, asked } = port({ served: false, crd: 'ok', lease: 404 });
    const failed = preflight(p, { server: 'https://api', ...election });
    // All three were asked before the first answer came.
    expect(asked).toEqual(['preferredVersion', 'get', 'create']);
    await expect(failed).rejects.toThrow(/ClusterNetworkPolicy CRD is not installed/);
  });

  it('reports the Lease namespace when everything before it holds', async () => {
    const { port: p } = port({ served: true, crd: 'ok', lease: 404 });
    await expect(preflight(p, { server: 'https://api', ...election })).rejects.toThrow(StartupError);
    await expect(preflight(p, { server: 'https://api', ...election })).rejects.toThrow(/namespace "cnp-system" for the leader-election Lease does not exist/);
  });

  it('returns the version and what the CRD says of itself; an unreadable CRD is no failure', async () => {
    expect(await preflight(port({ served: true, crd: 'ok', lease: 'ok' }).port, { server: 'https://api', ...election })).toEqual({
      version: 'v1beta1',
      crd: { channel: 'experimental', bundleVersion: undefined, readable: true },
    });
    expect((await preflight(port({ served: true, crd: 403, lease: 'ok' }).port, { server: 'https://api' })).crd.readable).toBe(false);
  });
});

describe('awaitedLater', () => {
  it('keeps a failure for whoever awaits it, without an unhandled rejection meanwhile', async () => {
    const late = awaitedLater(Promise.reject(new Error('later')));
    // A turn of the event loop: an unhandled rejection would be reported by now.
    await new Promise((r) => setTimeout(r, 10));
    await expect(late).rejects.toThrow('later');
    expect(await awaitedLater(Promise.resolve(7))).toBe(7);
  });
});
