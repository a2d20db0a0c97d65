import type { KubeObject, ObjectMeta } from '../port.js';

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function cacheKey(meta: Pick<ObjectMeta, 'name' | 'namespace'>): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

/** Receives the changes an informer's cache goes through. */
export interface EventHandlers {
  onAdd?(obj: KubeObject): void;
  /** Only called when the resourceVersion changed. */
  onUpdate?(oldObj: KubeObject, newObj: KubeObject): void;
  /** `obj` is the last state seen: the deletion event's object, or the cached one after a relist. */
  onDelete?(obj: KubeObject): void;
  /**
   * After every successful (re)list, with the whole cache. A level-triggered controller
   * re-queues everything here, so a missed event costs at most one relist interval.
   */
  onRelist?(objects: readonly KubeObject[]): void;
}

/** Reports a handler's failure; handlers must not break the informer or each other. */
export type HandlerErrorSink = (err: unknown, event: string) => void;

/**
 * The informer's cache. Objects are deep-frozen when stored: handlers and readers share them
 * and a mutation would corrupt the cache, so it throws instead (ES modules run in strict mode).
 */
export class Store {
  readonly #objects = new Map<string, KubeObject>();
  #handlers: readonly EventHandlers[] = [];

  constructor(private readonly onHandlerError: HandlerErrorSink) {}

  addHandlers(handlers: EventHandlers): void {
    this.#handlers = [...this.#handlers, handlers];
  }

  get(key: string): KubeObject | undefined {
    return this.#objects.get(key);
  }

  list(): KubeObject[] {
    return [...this.#objects.values()];
  }

  get size(): number {
    return this.#objects.size;
  }

  /** An ADDED or MODIFIED event. */
  upsert(obj: KubeObject): void {
    const key = cacheKey(obj.metadata);
    const old = this.#objects.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    const frozen = deepFreeze(obj);
    this.#objects.set(key, frozen);
    if (old) this.#emit('update', (h) => h.onUpdate?.(old, frozen));
    else this.#emit('add', (h) => h.onAdd?.(frozen));
  }

  /** A DELETED event. */
  remove(obj: KubeObject): void {
    const key = cacheKey(obj.metadata);
    if (!this.#objects.delete(key)) return;
    const frozen = deepFreeze(obj);
    this.#emit('delete', (h) => h.onDelete?.(frozen));
  }

  /**
   * Replaces the contents with a fresh list, delta-correct like client-go's Replace: objects
   * missing from the list are deleted (with handlers), new ones added, changed ones updated,
   * and unchanged ones (same resourceVersion) left alone.
   */
  replace(items: readonly KubeObject[]): void {
    const fresh = new Map(items.map((o) => [cacheKey(o.metadata), o]));
    for (const [key, old] of this.#objects) {
      if (fresh.has(key)) continue;
      this.#objects.delete(key);
      this.#emit('delete', (h) => h.onDelete?.(old));
    }
    for (const obj of fresh.values()) this.upsert(obj);
    const all = this.list();
    this.#emit('relist', (h) => h.onRelist?.(all));
  }

  #emit(event: string, call: (h: EventHandlers) => void): void {
    for (const h of this.#handlers) {
      try {
        call(h);
      } catch (err) {
        this.onHandlerError(err, event);
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
