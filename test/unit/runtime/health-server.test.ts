import { afterEach, describe, expect, it } from 'vitest';
import type { ResourceType } from '../../../src/controller/port.js';
import { cachesSynced, type HealthServer, informersNotWedged, startHealthServer } from '../../../src/controller/runtime/health-server.js';
import { Metrics } from '../../../src/controller/runtime/metrics.js';
import { FakeClock } from './fakes/fake-clock.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function get(server: HealthServer, path: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const type = (plural: string): ResourceType => ({ group: 'x.io', version: 'v1', plural, kind: 'X', namespaced: false });

describe('startHealthServer', () => {
  it('serves /healthz and /readyz as the API server does: ok, or the failed checks with 500', async () => {
    let synced = false;
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      healthz: { ping: () => undefined },
      readyz: {
        caches: () => {
          if (!synced) throw new Error('caches not synced: clusternetworkpolicies');
        },
      },
    });
    servers.push(server);
    expect(await get(server, '/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
    expect(await get(server, '/readyz')).toMatchObject({ status: 500, text: '[-]caches failed: caches not synced: clusternetworkpolicies\ncheck failed\n' });
    synced = true;
    expect(await get(server, '/readyz')).toMatchObject({ status: 200, text: 'ok\n' });
    expect(await get(server, '/readyz?verbose')).toMatchObject({ status: 200, text: '[+]caches ok\nok\n' });
    expect((await get(server, '/metrics')).status).toBe(404);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.leaderElection('cnp-operator')(true);
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics });
    servers.push(server);
    const res = await get(server, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('leader_election_master_status{name="cnp-operator"} 1');
    expect((await get(server, '/healthz')).status).toBe(404);
  });

  it('closes promptly even with a keep-alive client connected', async () => {
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', healthz: {} });
    await get(server, '/healthz');
    await server.close();
  });
});

describe('probe checks', () => {
  it('cachesSynced names the informers still syncing', () => {
    const check = cachesSynced([
      { type: type('a'), hasSynced: () => true },
      { type: type('b'), hasSynced: () => false },
    ]);
    expect(check).toThrow('caches not synced: b');
  });

  it('informersNotWedged fails only for a synced informer silent for too long', async () => {
    const clock = new FakeClock();
    let last = 0;
    const check = informersNotWedged([{ type: type('nodes'), hasSynced: () => true, lastContact: () => last }], clock, 60_000);
    await clock.advance(60_000);
    expect(check).not.toThrow();
    await clock.advance(1);
    expect(check).toThrow(/no contact for 60s: nodes/);
    last = clock.now();
    expect(check).not.toThrow();
  });
});
