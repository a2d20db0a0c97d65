import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeAccess } from './config.js';
import { KubeApiError } from '../controller/port.js';

/** Called once per request when its response status is known (0: no response), as client-go's rest_client metrics count. */
export type RequestObserver = (method: string, code: number, seconds: number) => void;

export interface TransportOptions {
  /** Sent as User-Agent, so API server audit logs name the operator. */
  readonly userAgent?: string;
  readonly onRequest?: RequestObserver;
  /** A unary request fails (status 0, reason Timeout) after this long without socket activity. */
  readonly requestTimeoutMs?: number;
  /** How often a request the server asked to retry later (429, or 5xx with Retry-After) is sent again; client-go's 10 by default. */
  readonly maxRetries?: number;
  /** Waits between such retries; replaced in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query below the server URL, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  /** A successful answer's body is not decoded (the response's body is then undefined). */
  readonly discardBody?: boolean;
}

export interface StreamSpec {
  readonly path: string;
  readonly signal: AbortSignal;
  /** The stream is abandoned (status 0, reason Timeout) when no bytes arrive for this long. */
  readonly inactivityMs: number;
  /** Called for each non-empty line; a throw ends the stream with that error. */
  readonly onLine: (line: string) => void;
}

export interface Response {
  readonly status: number;
  readonly body: unknown;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * HTTP to the API server over ONE keep-alive agent. client-node 1.4 builds a new https.Agent
 * per request (kubernetes-client/javascript#2893): no connection reuse and a socket per
 * watch reconnect. Here client-node only contributes the credentials and TLS material of
 * the kubeconfig; the agent pools sockets by that material, so a rotated client
 * certificate simply opens new connections.
 */
export class Transport {
  readonly server: string;
  readonly #kc: KubeAccess;
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof https.request;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #onRequest: RequestObserver | undefined;
  readonly #maxRetries: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(kc: KubeAccess, options: TransportOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    // client-node proxies through its own agents; this transport has only the direct one.
    if (cluster.proxyUrl) throw new Error(`cluster ${cluster.name}: proxy-url is not supported`);
    this.#kc = kc;
    this.#base = new URL(cluster.server);
    this.server = cluster.server;
    const plain = this.#base.protocol === 'http:';
    // No maxSockets: every watch holds a socket for its lifetime, so a cap would queue
    // ordinary requests behind long-lived watches.
    const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 16 };
    this.#agent = plain ? new http.Agent(agentOptions) : new TlsAgent(agentOptions);
    this.#request = plain ? http.request : https.request;
    this.#userAgent = options.userAgent ?? 'cnp-operator';
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#onRequest = options.onRequest;
    this.#maxRetries = options.maxRetries ?? 10;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * One request; resolves for 2xx, rejects with KubeApiError otherwise (status 0 when the
   * request never got an answer). An answer that asks to come back later — 429 from priority
   * and fairness or from storage still initialising after a CRD change, or a 5xx with
   * Retry-After — means the request was not carried out, so it is sent again after the time
   * the server names (1 s when it names none, at most 10 s), as client-go does.
   */
  async request(spec: RequestSpec): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#requestOnce(spec);
      } catch (err) {
        const wait = err instanceof RetryLater ? err.waitMs : undefined;
        if (wait === undefined || attempt >= this.#maxRetries) throw err instanceof RetryLater ? err.error : err;
        await this.#sleep(wait);
      }
    }
  }

  async #requestOnce(spec: RequestSpec): Promise<Response> {
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const options = await this.#options(spec.method, headers);
    const what = `${spec.method} ${spec.path}`;
    const started = performance.now();
    let observed = false;
    const observe = (code: number): void => {
      if (observed) return;
      observed = true;
      this.#onRequest?.(spec.method, code, (performance.now() - started) / 1000);
    };
    return new Promise<Response>((resolve, reject) => {
      const req = this.#request(this.#url(spec.path), options, (res) => {
        observe(res.statusCode ?? 0);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', (err) => reject(transportError(what, err)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ status, body: spec.discardBody === true ? undefined : parseBody(text) });
          else {
            const wait = retryAfterMs(status, res.headers['retry-after']);
            reject(wait === undefined ? apiError(what, status, text) : new RetryLater(apiError(what, status, text), wait));
          }
        });
      });
      req.setTimeout(this.#timeoutMs, () => req.destroy(timeoutError(what, this.#timeoutMs)));
      req.on('error', (err) => {
        observe(0);
        reject(transportError(what, err));
      });
      req.end(payload);
    });
  }

  /**
   * A streaming GET (a watch): lines are handed over as they complete. Resolves when the
   * server ends the response or the signal aborts; rejects on a non-200 answer, a
   * transport error, inactivity, or a throw from onLine.
   */
  async stream(spec: StreamSpec): Promise<void> {
    if (spec.signal.aborted) return;
    const options = await this.#options('GET', { Accept: 'application/json' });
    const what = `GET ${spec.path}`;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      // Only a stream that ended normally leaves its socket to the keep-alive pool.
      const finish = (err?: unknown, ended = false): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        spec.signal.removeEventListener('abort', onAbort);
        if (!ended) req.destroy();
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => finish();
      // Half-open connections deliver nothing and never fail; bookmarks and the server's own
      // timeout guarantee bytes or an end on a healthy stream, so silence means dead.
      const armInactivity = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(timeoutError(what, spec.inactivityMs)), spec.inactivityMs);
      };
      const started = performance.now();
      const req = this.#request(this.#url(spec.path), options, (res) => {
        const status = res.statusCode ?? 0;
        // A watch counts when its answer starts, like client-go's; its duration is the wait for headers.
        this.#onRequest?.('GET', status, (performance.now() - started) / 1000);
        res.setEncoding('utf8');
        if (status !== 200) {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => finish(apiError(what, status, text)));
          res.on('error', (err) => finish(transportError(what, err)));
          return;
        }
        const lines = new LineSplitter(spec.onLine);
        res.on('data', (chunk: string) => {
          armInactivity();
          try {
            lines.push(chunk);
          } catch (err) {
            finish(err);
          }
        });
        res.on('end', () => {
          try {
            lines.end();
            finish(undefined, true);
          } catch (err) {
            finish(err);
          }
        });
        res.on('error', (err) => finish(transportError(what, err)));
        // A response cut off mid-stream closes without 'end'.
        res.on('close', () => finish(res.complete ? undefined : transportError(what, new Error('stream closed before its end'))));
      });
      req.on('error', (err) => finish(transportError(what, err)));
      spec.signal.addEventListener('abort', onAbort, { once: true });
      armInactivity();
      req.end();
    });
  }

  /** Destroys every socket, open watches' included: call it last, when nothing is in flight. */
  close(): void {
    this.#agent.destroy();
  }

  #url(path: string): URL {
    const url = new URL(this.#base);
    const [pathname, search] = splitQuery(path);
    url.pathname = `${this.#base.pathname.replace(/\/$/, '')}${pathname}`;
    url.search = search;
    return url;
  }

  async #options(method: string, headers: http.OutgoingHttpHeaders): Promise<https.RequestOptions> {
    const options: https.RequestOptions = { method, headers: { ...headers, 'User-Agent': this.#userAgent } };
    // Adds the Authorization header (re-reading rotated tokens) and the TLS material; it
    // also makes a fresh agent, which is dropped unused in favour of the shared one.
    try {
      await this.#kc.applyToHTTPSOptions(options);
    } catch (err) {
      // An exec plugin or token file that fails: the request never left, like a transport error.
      const e = new KubeApiError(0, 'CredentialsError', `${method}: cannot get credentials: ${err instanceof Error ? err.message : String(err)}`);
      e.cause = err;
      throw e;
    }
    options.agent = this.#agent;
    return options;
  }
}

/** What Node's https.Agent names a socket pool by: where to, and the TLS material. */
const POOL_KEYS = [
  'host', 'port', 'localAddress', 'family', 'socketPath', 'ca', 'cert', 'clientCertEngine', 'ciphers', 'key', 'pfx', 'rejectUnauthorized', 'servername',
  'minVersion', 'maxVersion', 'secureProtocol', 'crl', 'honorCipherOrder', 'ecdhCurve', 'dhparam', 'secureOptions', 'sessionIdContext', 'sigalgs',
  'privateKeyIdentifier', 'privateKeyEngine',
] as const;

function samePool(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  for (let i = 0; i < POOL_KEYS.length; i++) if (a[POOL_KEYS[i]!] !== b[POOL_KEYS[i]!]) return false;
  return true;
}

/**
 * An https.Agent that remembers the pool name of the last options it saw. Node's getName
 * writes the CA, certificate and key into the name, so each request made a string of some
 * kilobytes (converting Buffers on the way) to find the one pool this transport uses. The
 * options are compared by reference: rotated material is a new value, and gets a new name.
 */
export class TlsAgent extends https.Agent {
  #lastOptions: Readonly<Record<string, unknown>> | undefined;
  #lastName = '';

  override getName(options: https.AgentOptions & { host?: string; port?: number | string } = {}): string {
    const o = options as Readonly<Record<string, unknown>>;
    const last = this.#lastOptions;
    if (last !== undefined && samePool(o, last)) return this.#lastName;
    const name = super.getName(options);
    const kept: Record<string, unknown> = {};
    for (const k of POOL_KEYS) kept[k] = o[k];
    this.#lastOptions = kept;
    this.#lastName = name;
    return name;
  }
}

/** An answer asking to be retried later, with the error to report when retries run out. */
class RetryLater extends Error {
  constructor(
    readonly error: KubeApiError,
    readonly waitMs: number,
  ) {
    super(error.message);
  }
}

/** How long to wait before a retry the answer asks for, or undefined when it asks for none. */
export function retryAfterMs(status: number, header: string | undefined): number | undefined {
  const seconds = header === undefined || !/^\d+$/.test(header.trim()) ? undefined : Number(header.trim());
  if (status === 429) return Math.min(10, seconds ?? 1) * 1000;
  if (status >= 500 && seconds !== undefined) return Math.min(10, seconds) * 1000;
  return undefined;
}

/** Splits a chunked text stream into lines; a line may span chunks. */
export class LineSplitter {
  #rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.#rest + chunk).split('\n');
    this.#rest = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') this.onLine(line);
  }

  end(): void {
    const rest = this.#rest;
    this.#rest = '';
    if (rest.trim() !== '') this.onLine(rest);
  }
}

function splitQuery(path: string): [string, string] {
  const i = path.indexOf('?');
  return i < 0 ? [path, ''] : [path.slice(0, i), path.slice(i)];
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface Status {
  readonly reason?: string;
  readonly message?: string;
}

/** A non-2xx answer: the API server's Status (reason and message) when the body is one. */
export function apiError(what: string, status: number, text: string): KubeApiError {
  const body = parseBody(text);
  const s: Status = typeof body === 'object' && body !== null ? (body as Status) : {};
  const detail = s.message ?? (typeof body === 'string' && body !== '' ? body.trim() : http.STATUS_CODES[status] ?? 'unknown error');
  return new KubeApiError(status, s.reason, `${what}: ${status} ${detail}`);
}

/** A request that got no answer: status 0, the Node error code as the reason. */
function transportError(what: string, err: Error): KubeApiError {
  if (err instanceof KubeApiError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const e = new KubeApiError(0, code ?? 'TransportError', `${what}: ${err.message}`);
  e.cause = err;
  return e;
}

function timeoutError(what: string, ms: number): KubeApiError {
  return new KubeApiError(0, 'Timeout', `${what}: no data for ${ms}ms`);
}
