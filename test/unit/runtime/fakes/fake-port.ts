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
} from '../../../../src/controller/port.js';

type Op = 'list' | 'watch' | 'get' | 'create' | 'replace' | 'apply' | 'delete';

interface Watcher {
  readonly type: ResourceType;
  readonly onEvent: (event: WatchEvent) => void;
  readonly end: (err?: unknown) => void;
}

interface HistoryEntry {
  readonly rv: number;
  readonly resource: string;
  readonly event: WatchEvent;
}

/**
 * An API server in memory, for the runtime's logic only: one resourceVersion counter, an
 * event history that can be compacted (to provoke 410 Gone), watches that the test can end
 * or fail, optimistic concurrency on replace, and injectable failures per operation.
 */
export class FakePort implements KubePort {
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  #rv = 100;
  #history: HistoryEntry[] = [];
  #compactedTo = 0;
  #quiet = false;
  readonly #watchers = new Set<Watcher>();
  readonly #failures = new Map<Op, unknown[]>();
  /** How 410 is reported to a watch from a compacted resourceVersion. */
  goneAs: 'event' | 'error' = 'event';
  readonly calls: { op: Op; options?: unknown }[] = [];
  activeWatches = 0;
  maxActiveWatches = 0;
  /** Sees every call (before injected failures apply); may throw to fail it. */
  hook: ((op: Op, args: unknown[]) => void) | undefined;

  /** The next call(s) of `op` fail with these errors, in order. */
  failNext(op: Op, ...errors: unknown[]): void {
    this.#failures.set(op, [...(this.#failures.get(op) ?? []), ...errors]);
  }

  count(op: Op): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  /** Ends every open watch as the server's timeout would (the watch promise resolves). */
  endWatches(): void {
    for (const w of [...this.#watchers]) w.end();
  }

  /** Breaks every open watch (the watch promise rejects). */
  breakWatches(err: unknown = new KubeApiError(0, 'ECONNRESET', 'connection reset')): void {
    for (const w of [...this.#watchers]) w.end(err);
  }

  /** Sends an ERROR event to every open watch and ends it, as the server does. */
  errorEvent(status: { code?: number; reason?: string; message?: string }): void {
    for (const w of [...this.#watchers]) {
      w.onEvent({ type: 'ERROR', status });
      w.end();
    }
  }

  /** Forgets the event history: watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.#compactedTo = this.#rv;
    this.#history = [];
  }

  /**
   * Changes the store without any watch ever seeing it, not even one started later from an
   * older resourceVersion: a lost event.
   */
  silently(fn: () => void): void {
    this.#quiet = true;
    try {
      fn();
    } finally {
      this.#quiet = false;
    }
  }

  /** Sends a bookmark at the current resourceVersion to open watches of `type`. */
  bookmark(type: ResourceType): void {
    const event: WatchEvent = { type: 'BOOKMARK', object: { apiVersion: '', kind: type.kind, metadata: { name: '', resourceVersion: String(this.#rv) } } };
    for (const w of this.#watchers) if (w.type.plural === type.plural) w.onEvent(event);
  }

  /** The stored object (a copy), for assertions. */
  peek(type: ResourceType, name: string, namespace?: string): KubeObject | undefined {
    const obj = this.#bucket(type).get(key(name, namespace));
    return obj && structuredClone(obj);
  }

  /** Stores (creating or overwriting) without preconditions, as another client would. */
  put(type: ResourceType, obj: KubeObject): KubeObject {
    const k = key(obj.metadata.name, obj.metadata.namespace);
    const existed = this.#bucket(type).has(k);
    const stored = this.#store(type, obj, existed ? 'MODIFIED' : 'ADDED');
    return structuredClone(stored);
  }

  /** Deletes without preconditions, as another client would. */
  remove(type: ResourceType, name: string, namespace?: string): void {
    const bucket = this.#bucket(type);
    const old = bucket.get(key(name, namespace));
    if (!old) return;
    bucket.delete(key(name, namespace));
    const rv = ++this.#rv;
    this.#publish(type, rv, { type: 'DELETED', object: { ...structuredClone(old), metadata: { ...old.metadata, resourceVersion: String(rv) } } });
  }

  async list(type: ResourceType, options?: ListOptions): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    await this.#enter('list', [type, options]);
    const items = [...this.#bucket(type).values()].map((o) => structuredClone(o)).map((o) => options?.each?.(o) ?? o);
    return { items, resourceVersion: String(this.#rv) };
  }

  async watch(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    await this.#enter('watch', [type, options]);
    if (signal.aborted) return;
    const from = Number(options.resourceVersion);
    this.activeWatches++;
    this.maxActiveWatches = Math.max(this.maxActiveWatches, this.activeWatches);
    return new Promise<void>((resolve, reject) => {
      let open = true;
      const watcher: Watcher = {
        type,
        onEvent: (e) => open && onEvent(e),
        end: (err) => {
          if (!open) return;
          open = false;
          this.activeWatches--;
          this.#watchers.delete(watcher);
          signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        },
      };
      const onAbort = (): void => watcher.end();
      signal.addEventListener('abort', onAbort, { once: true });
      if (from < this.#compactedTo) {
        if (this.goneAs === 'error') return watcher.end(new KubeApiError(410, 'Expired', 'too old resource version'));
        onEvent({ type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old resource version' } });
        // The real server ends the stream after an ERROR event.
        return watcher.end();
      }
      this.#watchers.add(watcher);
      for (const h of this.#history) if (h.rv > from && h.resource === resourceKey(type)) watcher.onEvent(h.event);
    });
  }

  async get(type: ResourceType, name: string, namespace?: string): Promise<KubeObject | undefined> {
    await this.#enter('get', [type, name, namespace]);
    return this.peek(type, name, namespace);
  }

  async create(type: ResourceType, object: KubeObject): Promise<KubeObject> {
    await this.#enter('create', [type, object]);
    if (this.#bucket(type).has(key(object.metadata.name, object.metadata.namespace))) {
      throw new KubeApiError(409, 'AlreadyExists', `${type.plural} "${object.metadata.name}" already exists`);
    }
    return structuredClone(this.#store(type, object, 'ADDED'));
  }

  async replace(type: ResourceType, object: KubeObject): Promise<KubeObject> {
    await this.#enter('replace', [type, object]);
    const current = this.#bucket(type).get(key(object.metadata.name, object.metadata.namespace));
    if (!current) throw new KubeApiError(404, 'NotFound', `${type.plural} "${object.metadata.name}" not found`);
    if (object.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return structuredClone(this.#store(type, object, 'MODIFIED'));
  }

  async apply(type: ResourceType, object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    await this.#enter('apply', [type, object, options]);
    if (options.dryRun) return structuredClone(object);
    const exists = this.#bucket(type).has(key(object.metadata.name, object.metadata.namespace));
    return structuredClone(this.#store(type, object, exists ? 'MODIFIED' : 'ADDED'));
  }

  async applyStatus(type: ResourceType, object: KubeObject, options: ApplyOptions): Promise<void> {
    await this.apply(type, object, options);
  }

  async delete(type: ResourceType, name: string, options: DeleteOptions = {}): Promise<boolean> {
    await this.#enter('delete', [type, name, options]);
    const current = this.#bucket(type).get(key(name, options.namespace));
    if (!current) return false;
    if (options.uid !== undefined && options.uid !== current.metadata.uid) throw new KubeApiError(409, 'Conflict', 'Precondition failed: UID mismatch');
    this.remove(type, name, options.namespace);
    return true;
  }

  async discover(): Promise<{ name: string; kind: string; namespaced: boolean }[] | undefined> {
    return undefined;
  }

  async preferredVersion(): Promise<string | undefined> {
    return undefined;
  }

  async #enter(op: Op, args: unknown[]): Promise<void> {
    this.calls.push({ op, options: args[1] });
    // A real call never completes synchronously.
    await Promise.resolve();
    this.hook?.(op, args);
    const queued = this.#failures.get(op);
    if (queued && queued.length > 0) throw queued.shift();
  }

  #bucket(type: ResourceType): Map<string, KubeObject> {
    const k = resourceKey(type);
    let b = this.#objects.get(k);
    if (!b) this.#objects.set(k, (b = new Map()));
    return b;
  }

  #store(type: ResourceType, object: KubeObject, kind: 'ADDED' | 'MODIFIED'): KubeObject {
    const rv = ++this.#rv;
    const prev = this.#bucket(type).get(key(object.metadata.name, object.metadata.namespace));
    const stored: KubeObject = structuredClone({
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(rv), uid: prev?.metadata.uid ?? object.metadata.uid ?? `uid-${rv}` },
    });
    this.#bucket(type).set(key(object.metadata.name, object.metadata.namespace), stored);
    this.#publish(type, rv, { type: kind, object: structuredClone(stored) });
    return stored;
  }

  #publish(type: ResourceType, rv: number, event: WatchEvent): void {
    if (this.#quiet) return;
    this.#history.push({ rv, resource: resourceKey(type), event });
    for (const w of this.#watchers) if (resourceKey(w.type) === resourceKey(type)) w.onEvent(structuredClone(event));
  }
}

function key(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function resourceKey(type: ResourceType): string {
  return `${type.plural}.${type.group}`;
}

export const WIDGETS: ResourceType = { group: 'example.io', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: false };

export function widget(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name }, spec };
}
