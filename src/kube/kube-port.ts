import type { KubeAccess } from './config.js';
import {
  type ApplyOptions,
  type DeleteOptions,
  KubeApiError,
  type KubeObject,
  type KubePort,
  type ListOptions,
  type ResourceType,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../controller/port.js';
import { apiVersionOf, collectionPath, groupVersionPath, objectPath, query } from './paths.js';
import { Transport, type TransportOptions } from './transport.js';
import { decodeWatchEvent } from './watch-events.js';

/** A KubePort with its connection: the server it talks to, and a way to close its sockets. */
export interface KubeConnection extends KubePort {
  readonly server: string;
  /** Destroys every socket, open watches' included: call it last, when nothing is in flight. */
  close(): void;
}

export interface KubePortOptions extends TransportOptions {
  /**
   * Extra silence tolerated on a watch beyond its timeoutSeconds before it is declared dead
   * (client-go's reflector and client-node 2.x use the same idea).
   */
  readonly watchGraceMs?: number;
}

const APPLY_PATCH = 'application/apply-patch+yaml';
const DEFAULT_WATCH_GRACE_MS = 30_000;

interface ListBody {
  items?: KubeObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/**
 * The operator's KubePort over the API server's REST interface. Writes use fieldValidation=Strict:
 * a field the server does not know (an older backend CRD, say) is an error rather than a
 * silently dropped part of a policy.
 */
export function createKubePort(kc: KubeAccess, options: KubePortOptions = {}): KubeConnection {
  const http = new Transport(kc, options);
  const graceMs = options.watchGraceMs ?? DEFAULT_WATCH_GRACE_MS;

  const withTypeMeta = (type: ResourceType, obj: KubeObject): KubeObject => {
    // Items of built-in lists come without apiVersion/kind; the port promises whole objects.
    obj.apiVersion ??= apiVersionOf(type);
    obj.kind ??= type.kind;
    return obj;
  };

  const listPage = async (type: ResourceType, opts: ListOptions): Promise<ListBody> => {
    const q = query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue });
    const res = await http.request({ method: 'GET', path: `${collectionPath(type)}${q}` });
    return res.body as ListBody;
  };

  const port: KubeConnection = {
    server: http.server,

    async list(type, opts = {}) {
      // Follows continue tokens: every page belongs to the first page's snapshot, so the
      // result is one consistent list at one resourceVersion (client-go's pager). The next page
      // is asked for before this page's items go through `each` (the operator parses thousands
      // of CNPs there), so the server prepares it meanwhile.
      let page: ListBody;
      try {
        page = await listPage(type, opts);
      } catch (err) {
        if (!(opts.continue && isGone(err))) throw err;
        page = await listPage(type, { ...opts, continue: undefined, limit: undefined });
      }
      const resourceVersion = page.metadata?.resourceVersion ?? '';
      const each = (o: KubeObject): KubeObject => (opts.each === undefined ? withTypeMeta(type, o) : opts.each(withTypeMeta(type, o)));
      const items: KubeObject[] = [];
      for (;;) {
        const token = page.metadata?.continue;
        const next = token ? listPage(type, { ...opts, continue: token }) : undefined;
        if (next !== undefined) {
          // Its failure is taken below; until then it must not count as unhandled.
          next.catch(() => undefined);
          // The request leaves once its credentials are applied, within this turn of the event loop.
          await new Promise((resolve) => setImmediate(resolve));
        }
        for (const o of page.items ?? []) items.push(each(o));
        if (next === undefined) return { items, resourceVersion };
        try {
          page = await next;
        } catch (err) {
          // The snapshot expired between pages: fall back to one unpaged list, as client-go does.
          if (!isGone(err)) throw err;
          return port.list(type, { ...opts, limit: undefined, continue: undefined });
        }
      }
    },

    async watch(type: ResourceType, opts: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal) {
      const q = query({
        watch: true,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks,
        timeoutSeconds: opts.timeoutSeconds,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
      });
      await http.stream({
        path: `${collectionPath(type)}${q}`,
        signal,
        inactivityMs: opts.timeoutSeconds * 1000 + graceMs,
        onLine: (line) => onEvent(decodeWatchEvent(line)),
      });
    },

    async get(type, name, namespace) {
      try {
        const res = await http.request({ method: 'GET', path: objectPath(type, name, namespace) });
        return res.body as KubeObject;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },

    async create(type, object, opts: WriteOptions = {}) {
      const path = `${collectionPath(type, namespaceOf(type, object))}${writeQuery(opts)}`;
      return (await http.request({ method: 'POST', path, body: object })).body as KubeObject;
    },

    async replace(type, object, opts: WriteOptions = {}) {
      const path = `${objectPath(type, object.metadata.name, namespaceOf(type, object))}${writeQuery(opts)}`;
      return (await http.request({ method: 'PUT', path, body: object })).body as KubeObject;
    },

    async apply(type, object, opts) {
      return (await applyTo(type, object, opts)) as KubeObject;
    },
    async applyStatus(type, object, opts) {
      await applyTo(type, object, opts, 'status');
    },

    async delete(type, name, opts: DeleteOptions = {}) {
      const preconditions = {
        ...(opts.uid === undefined ? {} : { uid: opts.uid }),
        ...(opts.resourceVersion === undefined ? {} : { resourceVersion: opts.resourceVersion }),
      };
      const body = {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        ...(Object.keys(preconditions).length > 0 ? { preconditions } : {}),
        ...(opts.propagationPolicy === undefined ? {} : { propagationPolicy: opts.propagationPolicy }),
      };
      try {
        await http.request({ method: 'DELETE', path: objectPath(type, name, opts.namespace), body });
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return false;
        throw err;
      }
    },

    async discover(group, version) {
      try {
        const res = await http.request({ method: 'GET', path: groupVersionPath(group, version) });
        const resources = (res.body as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? [];
        // Subresources (`leases/status`) are not resources of their own.
        return resources.filter((r) => !r.name.includes('/')).map(({ name, kind, namespaced }) => ({ name, kind, namespaced }));
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },

    async preferredVersion(group) {
      try {
        const res = await http.request({ method: 'GET', path: `/apis/${group}` });
        return (res.body as { preferredVersion?: { version?: string } }).preferredVersion?.version;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },

    close: () => http.close(),
  };

  /** The object as applied; undefined for the status subresource, whose answer is not decoded. */
  async function applyTo(type: ResourceType, object: KubeObject, opts: ApplyOptions, subresource?: 'status'): Promise<KubeObject | undefined> {
    const q = query({
      fieldManager: opts.fieldManager,
      force: opts.force ? true : undefined,
      dryRun: opts.dryRun ? 'All' : undefined,
      fieldValidation: 'Strict',
    });
    const path = `${objectPath(type, object.metadata.name, namespaceOf(type, object), subresource)}${q}`;
    // The body is JSON, which is valid YAML: the apply content type is what selects SSA.
    const res = await http.request({ method: 'PATCH', path, body: object, contentType: APPLY_PATCH, ...(subresource === 'status' ? { discardBody: true } : {}) });
    return res.body as KubeObject | undefined;
  }

  return port;
}

function writeQuery(opts: WriteOptions): string {
  return query({ fieldManager: opts.fieldManager, dryRun: opts.dryRun ? 'All' : undefined, fieldValidation: 'Strict' });
}

function namespaceOf(type: ResourceType, object: KubeObject): string | undefined {
  return type.namespaced ? object.metadata.namespace : undefined;
}

function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}
