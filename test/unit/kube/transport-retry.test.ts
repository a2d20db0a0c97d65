import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../src/controller/port.js';
import { loadKubeConfig } from '../../../src/kube/config.js';
import { retryAfterMs, Transport } from '../../../src/kube/transport.js';

// An API server that answers "come back later" has not carried the request out: the
// transport sends it again (client-go does the same), so a CLI command right after a CRD
// change does not fail on "storage is (re)initializing".

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A plain-HTTP API server whose answers come from `answers`, in order (the last repeats); records what it was sent. */
async function serve(answers: readonly { status: number; retryAfter?: string }[]): Promise<{ transport: (maxRetries?: number) => Transport; received: string[]; waits: number[] }> {
  const received: string[] = [];
  const waits: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(`${req.method} ${req.url} ${body}`);
      const a = answers[Math.min(received.length, answers.length) - 1]!;
      res.writeHead(a.status, { 'Content-Type': 'application/json', ...(a.retryAfter === undefined ? {} : { 'Retry-After': a.retryAfter }) });
      res.end(JSON.stringify(a.status < 300 ? { kind: 'Thing' } : { kind: 'Status', reason: a.status === 429 ? 'TooManyRequests' : 'InternalError', message: `answer ${received.length}` }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const path = join(mkdtempSync(join(tmpdir(), 'cnp-transport-')), 'config');
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
  const kc = loadKubeConfig({ kubeconfig: path });
  return {
    transport: (maxRetries) => new Transport(kc, { maxRetries, sleep: async (ms) => void waits.push(ms) }),
    received,
    waits,
  };
}

describe('retries the server asks for', () => {
  it('sends a request again, body and all, after 429 until it succeeds, waiting what Retry-After says', async () => {
    const s = await serve([{ status: 429, retryAfter: '2' }, { status: 429 }, { status: 201 }]);
    const res = await s.transport().request({ method: 'POST', path: '/apis/x', body: { a: 1 } });
    expect(res.status).toBe(201);
    expect(s.received).toEqual(Array(3).fill('POST /apis/x {"a":1}'));
    expect(s.waits).toEqual([2000, 1000]);
  });

  it('retries a 5xx only when it carries Retry-After, and caps the wait at 10 s', async () => {
    const s = await serve([{ status: 503, retryAfter: '60' }, { status: 200 }]);
    expect((await s.transport().request({ method: 'GET', path: '/api' })).status).toBe(200);
    expect(s.waits).toEqual([10_000]);
    const t = await serve([{ status: 500 }]);
    await expect(t.transport().request({ method: 'GET', path: '/api' })).rejects.toMatchObject({ status: 500 });
    expect(t.received).toHaveLength(1);
  });

  it('gives up after maxRetries with the last answer as the error', async () => {
    const s = await serve([{ status: 429, retryAfter: '1' }]);
    const err = await s.transport(2).request({ method: 'GET', path: '/api' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 429, reason: 'TooManyRequests', message: 'GET /api: 429 answer 3' });
    expect(s.received).toHaveLength(3);
  });

  it('reads Retry-After as whole seconds', () => {
    expect(retryAfterMs(429, undefined)).toBe(1000);
    expect(retryAfterMs(429, '0')).toBe(0);
    expect(retryAfterMs(429, 'Wed, 21 Oct 2026 07:28:00 GMT')).toBe(1000);
    expect(retryAfterMs(409, '3')).toBeUndefined();
    expect(retryAfterMs(504, undefined)).toBeUndefined();
  });
});
