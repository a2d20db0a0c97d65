import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from './clock.js';
import type { Informer } from './informer.js';

/** A named check: returns when healthy, throws (with the reason as message) when not. */
export type Checker = () => void | Promise<void>;

export interface HealthServerOptions {
  /** 0 picks a free port (see `port` on the result). */
  readonly port: number;
  /** Default 0.0.0.0, so the kubelet can reach the probes. */
  readonly host?: string;
  /** Liveness checks for /healthz; the server answering at all shows the event loop is alive. */
  readonly healthz?: Readonly<Record<string, Checker>>;
  /** Readiness checks for /readyz (caches synced; deliberately not leadership). */
  readonly readyz?: Readonly<Record<string, Checker>>;
  /** Serves /metrics from this source when given (it may be a server of its own). */
  readonly metrics?: { expose(): Promise<{ contentType: string; body: string }> };
}

/** A running probe and/or metrics server. */
export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Probe endpoints in the API server's style: 200 "ok", or 500 listing the failed checks;
 * `?verbose` lists every check. Each path serves only when configured.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const routes = new Map<string, (res: ServerResponse, verbose: boolean) => Promise<void>>();
  if (options.healthz) routes.set('/healthz', (res, v) => probe(res, options.healthz ?? {}, v));
  if (options.readyz) routes.set('/readyz', (res, v) => probe(res, options.readyz ?? {}, v));
  const metrics = options.metrics;
  if (metrics) {
    routes.set('/metrics', async (res) => {
      const { contentType, body } = await metrics.expose();
      res.writeHead(200, { 'Content-Type': contentType }).end(body);
    });
  }
  const server = createServer((req, res) => void handle(routes, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server) };
}

async function handle(
  routes: Map<string, (res: ServerResponse, verbose: boolean) => Promise<void>>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://probe');
  const route = routes.get(url.pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
  if (!route) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  try {
    await route(res, url.searchParams.has('verbose'));
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

async function probe(res: ServerResponse, checks: Readonly<Record<string, Checker>>, verbose: boolean): Promise<void> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return { name, failure: undefined };
      } catch (err) {
        return { name, failure: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const failed = results.filter((r) => r.failure !== undefined);
  const lines = results
    .filter((r) => verbose || r.failure !== undefined)
    .map((r) => (r.failure === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.failure}`));
  const ok = failed.length === 0;
  const text = ok && !verbose ? 'ok\n' : `${lines.join('\n')}\n${ok ? 'ok' : 'check failed'}\n`;
  res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Scrapers keep connections alive; do not let them hold up shutdown.
    server.closeIdleConnections();
  });
}

/** Ready once every informer's cache has synced. */
export function cachesSynced(informers: readonly Pick<Informer, 'hasSynced' | 'type'>[]): Checker {
  return () => {
    const waiting = informers.filter((i) => !i.hasSynced()).map((i) => i.type.plural);
    if (waiting.length > 0) throw new Error(`caches not synced: ${waiting.join(', ')}`);
  };
}

/**
 * Live unless a synced informer has heard nothing from the server for `maxSilenceMs`. Healthy
 * informers hear something at least once per watch timeout (≤ 10 min) and per relist, so the
 * default of 20 min only trips on a reflector that is truly stuck.
 */
export function informersNotWedged(informers: readonly Pick<Informer, 'lastContact' | 'hasSynced' | 'type'>[], clock: Clock, maxSilenceMs = 1_200_000): Checker {
  return () => {
    const now = clock.now();
    const stuck = informers.filter((i) => {
      const last = i.lastContact();
      return i.hasSynced() && last !== undefined && now - last > maxSilenceMs;
    });
    if (stuck.length > 0) throw new Error(`no contact for ${Math.round(maxSilenceMs / 1000)}s: ${stuck.map((i) => i.type.plural).join(', ')}`);
  };
}
