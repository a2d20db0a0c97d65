import { Agent, request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as the API sees it; the harness needs no more typing than this. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A non-2xx answer, carrying the API server's own Status message (e.g. a CEL rule's message). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; reason?: string; details?: { causes?: { message?: string; field?: string }[] } },
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status} ${body.message ?? body.reason ?? ''}`.trim());
    this.name = 'ApiError';
  }
}

interface Resource {
  readonly base: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ApplyOptions {
  readonly fieldManager?: string;
  /** Reject unknown fields instead of pruning them silently; on by default. */
  readonly strict?: boolean;
}

/**
 * A deliberately small REST client: tests should see exactly what the API server says,
 * with no library in between reshaping objects. Auth comes from client-node's KubeConfig,
 * so any kubeconfig that works for the operator works here.
 */
export class Kube {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly resources = new Map<string, Resource>();

  private constructor(readonly kc: KubeConfig, readonly server: string) {}

  static fromFile(path: string): Kube {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error(`${path}: no current cluster`);
    return new Kube(kc, server.replace(/\/$/, ''));
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const opts: RequestOptions = { method, agent: this.agent, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) opts.headers = { ...opts.headers, 'Content-Type': contentType };
    return new Promise<T>((resolve, reject) => {
      const req = request(`${this.server}${path}`, opts, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const parsed = text ? safeJson(text) : {};
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new ApiError(status, typeof parsed === 'object' && parsed !== null ? parsed : { message: text }, method, path));
        });
      });
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Maps apiVersion + kind to a REST path by discovery; refetches once on a miss, since CRDs come and go. */
  async resource(apiVersion: string, kind: string): Promise<Resource> {
    const key = `${apiVersion}/${kind}`;
    const cached = this.resources.get(key);
    if (cached) return cached;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>('GET', base);
    for (const r of list.resources) {
      if (r.name.includes('/')) continue;
      this.resources.set(`${apiVersion}/${r.kind}`, { base, plural: r.name, namespaced: r.namespaced });
    }
    const found = this.resources.get(key);
    if (!found) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return found;
  }

  async path(apiVersion: string, kind: string, name?: string, namespace?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    const ns = r.namespaced ? `/namespaces/${namespace ?? 'default'}` : '';
    return `${r.base}${ns}/${r.plural}${name === undefined ? '' : `/${name}`}`;
  }

  /** Server-side apply, as the operator writes; returns the object as stored. */
  async apply<T extends KubeObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
    const query = new URLSearchParams({
      fieldManager: opts.fieldManager ?? 'cnp-operator-tests',
      force: 'true',
      fieldValidation: opts.strict === false ? 'Ignore' : 'Strict',
    });
    return this.request<T>('PATCH', `${path}?${query}`, obj, 'application/apply-patch+yaml');
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, undefined, obj.metadata.namespace);
    return this.request<T>('POST', `${path}?fieldValidation=Strict`, obj);
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', await this.path(apiVersion, kind, name, namespace));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace?: string): Promise<T[]> {
    const res = await this.request<{ items: T[] }>('GET', await this.path(apiVersion, kind, undefined, namespace));
    return res.items;
  }

  /** Deletes; a missing object is not an error. Returns whether it existed. */
  async delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean> {
    try {
      await this.request('DELETE', await this.path(apiVersion, kind, name, namespace));
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/** The non-empty documents of a multi-document YAML (or JSON) text. */
export function parseObjects(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw doc.errors[0];
    const value = doc.toJSON() as KubeObject | null;
    if (value === null || value === undefined) continue;
    if (value.kind === 'List' && Array.isArray(value['items'])) out.push(...(value['items'] as KubeObject[]));
    else out.push(value);
  }
  return out;
}

/** Applies every object of a YAML text in order (server-side apply); returns them as stored. */
export async function applyYamlWith(kube: Kube, text: string, opts: ApplyOptions = {}): Promise<KubeObject[]> {
  const applied: KubeObject[] = [];
  for (const obj of parseObjects(text)) applied.push(await kube.apply(obj, opts));
  return applied;
}
