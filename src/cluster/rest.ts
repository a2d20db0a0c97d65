import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ApiAccess } from './controlplane.js';

/**
 * Just enough REST to set up a fresh local control plane (CRDs, sample objects, tables)
 * without the Kubernetes client, which only src/kube may use.
 */

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

export class RestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RestError';
  }
}

export function call<T>(api: ApiAccess, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      `${api.server}${path}`,
      {
        method,
        ca: readFileSync(api.caFile),
        headers: { Authorization: `Bearer ${api.token}`, Accept: 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text for the error
          }
          if (status >= 200 && status < 300) resolve(parsed as T);
          else {
            const message = typeof parsed === 'object' && parsed !== null && 'message' in parsed ? String(parsed.message) : text;
            reject(new RestError(status, `${method} ${path}: ${status} ${message}`));
          }
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The REST path of an object, found by discovery. */
export async function pathOf(api: ApiAccess, obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<string> {
  const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const list = await call<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(api, 'GET', base);
  const r = list.resources.find((x) => x.kind === obj.kind && !x.name.includes('/'));
  if (!r) throw new RestError(404, `${obj.apiVersion} has no kind ${obj.kind}`);
  const ns = r.namespaced ? `/namespaces/${obj.metadata.namespace ?? 'default'}` : '';
  return `${base}${ns}/${r.name}/${obj.metadata.name}`;
}

/** Server-side apply under one field manager, as the operator itself writes. */
export async function apply(api: ApiAccess, obj: KubeObject, fieldManager = 'cnp-operator-demo'): Promise<KubeObject> {
  const path = await pathOf(api, obj);
  const query = new URLSearchParams({ fieldManager, force: 'true', fieldValidation: 'Strict' });
  return call<KubeObject>(api, 'PATCH', `${path}?${query}`, obj, { 'Content-Type': 'application/apply-patch+yaml' });
}

/** The server-side printed table (what `kubectl get` shows), as aligned text. */
export async function table(api: ApiAccess, collectionPath: string): Promise<string> {
  const t = await call<{ columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] }>(
    api,
    'GET',
    collectionPath,
    undefined,
    { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  );
  const shown = t.columnDefinitions.map((c, i) => [c, i] as const).filter(([c]) => c.priority === 0);
  const rows = [shown.map(([c]) => c.name.toUpperCase()), ...t.rows.map((r) => shown.map(([, i]) => cell(r.cells[i])))];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('   ').trimEnd()).join('\n');
}

function cell(v: unknown): string {
  return v === undefined || v === null || v === '' ? '<none>' : String(v);
}
