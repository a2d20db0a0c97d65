import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError, type ResourceType, type WatchEvent } from '../../../src/controller/port.js';
import { loadKubeConfig } from '../../../src/kube/config.js';
import { createKubePort, type KubeConnection } from '../../../src/kube/kube-port.js';
import { LineSplitter } from '../../../src/kube/transport.js';
import { decodeWatchEvent } from '../../../src/kube/watch-events.js';

const CNP: ResourceType = { group: 'policy.networking.k8s.io', version: 'v1alpha2', plural: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false };
const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

/** A stand-in API server over plain HTTP: records requests and answers with `handler`. */
async function fakeApi(handler: Handler): Promise<{ port: KubeConnection; seen: Seen[]; connections: () => number; server: Server }> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const port = portTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return { port, seen, connections: () => connections, server };
}

/** A port to the API server at that URL, with a token and the test's user agent. */
function portTo(url: string): KubeConnection {
  const file = join(mkdtempSync(join(tmpdir(), 'cnp-kube-port-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token: 's3cret' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'admin' } }],
      'current-context': 'fake',
    }),
  );
  const port = createKubePort(loadKubeConfig({ kubeconfig: file }), { watchGraceMs: 300, userAgent: 'cnp-operator-test' });
  ports.push(port);
  return port;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

const servers: Server[] = [];
const ports: KubeConnection[] = [];
afterEach(async () => {
  for (const p of ports.splice(0)) p.close();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
});

describe('LineSplitter and decodeWatchEvent', () => {
  it('reassembles lines split across chunks and skips blank lines', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push('{"a":');
    s.push('1}\n\n{"b"');
    s.push(':2}\n{"c":3}');
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    s.end();
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('decodes object events and ERROR events; rejects what is not a watch event', () => {
    expect(decodeWatchEvent('{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}}')).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'p' } } });
    expect(decodeWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}')).toEqual({
      type: 'ERROR',
      status: { code: 410, reason: 'Expired', message: 'too old' },
    });
    expect(() => decodeWatchEvent('{"type":"ADDED"}')).toThrow(/without an object/);
    expect(() => decodeWatchEvent('{"type":"WHAT","object":{}}')).toThrow(/unknown watch event type/);
    expect(() => decodeWatchEvent('not json')).toThrow();
  });
});

describe('createKubePort (against a fake API server)', () => {
  it('sends server-side apply as application/apply-patch+yaml with fieldManager, force, dryRun and strict validation', async () => {
    const { port, seen } = await fakeApi((_req, res) => json(res, 200, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'p' } }));
    const obj = { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name: 'p' }, spec: { priority: 1 } };
    await port.apply(CNP, obj, { fieldManager: 'cnp-operator', force: true, dryRun: true });
    await port.applyStatus(CNP, obj, { fieldManager: 'cnp-operator', force: true });
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies/p?fieldManager=cnp-operator&force=true&dryRun=All&fieldValidation=Strict',
      headers: { 'content-type': 'application/apply-patch+yaml', authorization: 'Bearer s3cret', 'user-agent': 'cnp-operator-test' },
    });
    expect(JSON.parse(seen[0]!.body)).toEqual(obj);
    expect(seen[1]?.url).toBe('/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies/p/status?fieldManager=cnp-operator&force=true&fieldValidation=Strict');
  });

  it('does not decode the answer to a status apply, yet reports a failed one with the server\'s message', async () => {
    let answer: [number, unknown] = [200, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'p' }, status: { conditions: [] } }];
    const { port } = await fakeApi((_req, res) => json(res, ...answer));
    const obj = { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name: 'p' }, status: {} };
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await expect(port.applyStatus(CNP, obj, { fieldManager: 'cnp-operator', force: true })).resolves.toBeUndefined();
      expect(parse).not.toHaveBeenCalled();
      expect(await port.apply(CNP, obj, { fieldManager: 'cnp-operator', force: true })).toEqual(answer[1]);
      expect(parse).toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    answer = [422, { kind: 'Status', reason: 'Invalid', message: 'status.conditions[0].reason: Required value' }];
    await expect(port.applyStatus(CNP, obj, { fieldManager: 'cnp-operator', force: true })).rejects.toMatchObject({ status: 422, reason: 'Invalid', message: expect.stringContaining('Required value') as unknown });
  });

  it('reuses one keep-alive connection across requests', async () => {
    const { port, connections } = await fakeApi((_req, res) => json(res, 200, { kind: 'X', metadata: { name: 'x' } }));
    for (let i = 0; i < 5; i++) await port.get(CNP, `p${i}`);
    expect(connections()).toBe(1);
  });

  it('maps a Status answer to KubeApiError with its reason and message; get and delete treat 404 as absent', async () => {
    const { port } = await fakeApi((req, res) =>
      req.method === 'POST'
        ? json(res, 409, { kind: 'Status', status: 'Failure', reason: 'AlreadyExists', message: 'clusternetworkpolicies "p" already exists', code: 409 })
        : json(res, 404, { kind: 'Status', reason: 'NotFound', message: 'not found', code: 404 }),
    );
    const err = await port.create(CNP, { apiVersion: 'v', kind: 'K', metadata: { name: 'p' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 409, reason: 'AlreadyExists' });
    expect((err as Error).message).toContain('clusternetworkpolicies "p" already exists');
    expect(await port.get(CNP, 'p')).toBeUndefined();
    expect(await port.delete(CNP, 'p')).toBe(false);
    expect(await port.discover('nothere.io', 'v1')).toBeUndefined();
  });

  it('sends delete preconditions and the propagation policy', async () => {
    const { port, seen } = await fakeApi((_req, res) => json(res, 200, { kind: 'Status', status: 'Success' }));
    expect(await port.delete(PODS, 'web', { namespace: 'prod', uid: 'u-1', resourceVersion: '9', propagationPolicy: 'Background' })).toBe(true);
    expect(seen[0]?.url).toBe('/api/v1/namespaces/prod/pods/web');
    expect(JSON.parse(seen[0]!.body)).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'u-1', resourceVersion: '9' }, propagationPolicy: 'Background' });
  });

  it('follows continue tokens into one list at the first page\'s resourceVersion, filling in apiVersion and kind', async () => {
    const { port, seen } = await fakeApi((req, res) => {
      const page2 = req.url.includes('continue=t1');
      json(res, 200, {
        metadata: page2 ? { resourceVersion: '999' } : { resourceVersion: '500', continue: 't1' },
        items: [{ metadata: { name: page2 ? 'b' : 'a', namespace: 'ns' } }],
      });
    });
    const { items, resourceVersion } = await port.list(PODS, { labelSelector: 'app=web', limit: 1 });
    expect(resourceVersion).toBe('500');
    expect(items.map((i) => [i.apiVersion, i.kind, i.metadata.name])).toEqual([
      ['v1', 'Pod', 'a'],
      ['v1', 'Pod', 'b'],
    ]);
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/pods?labelSelector=app%3Dweb&limit=1', '/api/v1/pods?labelSelector=app%3Dweb&limit=1&continue=t1']);
  });

  it('asks for the next page before the items of this one go through each', async () => {
    // The server runs in another process: one in this process could not take a request while
    // `each` keeps the event loop busy, which is when the next page must already be asked for.
    const dir = mkdtempSync(join(tmpdir(), 'cnp-list-pipeline-'));
    const arrived = join(dir, 'page-2-asked');
    const server = spawn(process.execPath, ['-e', `
      const http = require('node:http');
      const fs = require('node:fs');
      http.createServer((req, res) => {
        const second = req.url.includes('continue=t1');
        if (second) fs.writeFileSync(${JSON.stringify(arrived)}, req.url);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ metadata: second ? { resourceVersion: '9' } : { resourceVersion: '5', continue: 't1' }, items: [{ metadata: { name: second ? 'b' : 'a' } }] }));
      }).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const listening = await new Promise<string>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
      const port = portTo(`http://127.0.0.1:${listening}`);
      const askedWhileInEach: boolean[] = [];
      const { items } = await port.list(CNP, {
        limit: 1,
        each: (o) => {
          // Waits (the event loop held) until the server has the second request, for at most 20 s.
          const until = Date.now() + 20_000;
          while (o.metadata.name === 'a' && !existsSync(arrived) && Date.now() < until);
          askedWhileInEach.push(existsSync(arrived));
          return o;
        },
      });
      expect(items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
      expect(askedWhileInEach).toEqual([true, true]);
    } finally {
      server.kill();
    }
  });

  it('falls back to an unpaged list when the continue token expired', async () => {
    const { port } = await fakeApi((req, res) => {
      if (req.url.includes('continue=')) return json(res, 410, { kind: 'Status', reason: 'Expired', code: 410, message: 'continue token expired' });
      if (req.url.includes('limit=')) return json(res, 200, { metadata: { resourceVersion: '1', continue: 'old' }, items: [{ metadata: { name: 'a' } }] });
      json(res, 200, { metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] });
    });
    const { items, resourceVersion } = await port.list(CNP, { limit: 1 });
    expect([resourceVersion, items.length]).toEqual(['7', 2]);
  });

  it('streams watch events split across chunks and resolves when the server ends the watch', async () => {
    const { port, seen } = await fakeApi((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const lines = [
        { type: 'ADDED', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', resourceVersion: '11' } } },
        { type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '12' } } },
        { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n');
      const cut = Math.floor(lines.length / 2);
      res.write(lines.slice(0, cut));
      setImmediate(() => res.end(`${lines.slice(cut)}\n`));
    });
    const events: WatchEvent[] = [];
    await port.watch(PODS, { resourceVersion: '10', timeoutSeconds: 300, allowWatchBookmarks: true, labelSelector: 'a=b' }, (e) => events.push(e), new AbortController().signal);
    expect(seen[0]?.url).toBe('/api/v1/pods?watch=true&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=300&labelSelector=a%3Db');
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK', 'ERROR']);
    expect(events[2]).toEqual({ type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old resource version' } });
  });

  it('rejects a watch answered with an error status (e.g. 410 Gone)', async () => {
    const { port } = await fakeApi((_req, res) => json(res, 410, { kind: 'Status', reason: 'Expired', code: 410, message: 'too old' }));
    const err = await port.watch(PODS, { resourceVersion: '1', timeoutSeconds: 5, allowWatchBookmarks: true }, () => undefined, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 410, reason: 'Expired' });
  });

  it('resolves a watch when its signal aborts', async () => {
    const { port } = await fakeApi((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    });
    const ac = new AbortController();
    const events: WatchEvent[] = [];
    await port.watch(PODS, { resourceVersion: '1', timeoutSeconds: 60, allowWatchBookmarks: true }, (e) => {
      events.push(e);
      ac.abort();
    }, ac.signal);
    expect(events).toHaveLength(1);
  });

  it('abandons a watch that goes silent for timeoutSeconds plus the grace period', async () => {
    // The server accepts and then sends nothing, like a half-open connection.
    const { port } = await fakeApi((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    const err = await port.watch(PODS, { resourceVersion: '1', timeoutSeconds: 0, allowWatchBookmarks: true }, () => undefined, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, reason: 'Timeout' });
  });

  it('rejects a watch whose stream carries a line that is not an event', async () => {
    const { port } = await fakeApi((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('<html>proxy error</html>\n');
    });
    await expect(port.watch(PODS, { resourceVersion: '1', timeoutSeconds: 5, allowWatchBookmarks: true }, () => undefined, new AbortController().signal)).rejects.toThrow();
  });

  it('reports a refused connection as status 0 with the error code as reason', async () => {
    const { port, server } = await fakeApi(() => undefined);
    await new Promise<void>((r) => server.close(() => r()));
    const err = await port.get(CNP, 'p').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, reason: 'ECONNREFUSED' });
  });
});
