import { KubeApiError, type KubeObject, type KubePort, type ResourceType, type WatchEvent } from '../port.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { type Clock, sleep, systemClock } from './clock.js';
import { type Logger, silentLogger } from './log.js';
import { cacheKey, type EventHandlers, Store } from './store.js';

export interface InformerOptions {
  readonly port: KubePort;
  readonly type: ResourceType;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
  /** Each watch asks the server to end it after a random time in this range (client-go: 300–600 s). */
  readonly watchTimeoutSeconds?: { readonly min: number; readonly max: number };
  /** A full relist this often, even when watches are healthy; 0 disables. Default 10 min. */
  readonly relistIntervalMs?: number;
  /** Restart backoff after errors; default 800 ms → 30 s, reset after 2 min. */
  readonly backoff?: BackoffOptions;
  /** List page size; lists are paged but form one consistent snapshot. */
  readonly pageSize?: number;
  /** Reduces each object before it is cached (e.g. drops managedFields): memory is per cached object. */
  readonly transform?: (obj: KubeObject) => KubeObject;
}

/** A watch that ends on its own this quickly, having delivered nothing, counts as a failure. */
const SHORT_WATCH_MS = 1_000;
/** A watch still open this long after its timeoutSeconds is abandoned. */
const WATCH_OVERRUN_MS = 60_000;

/** The watch stream reported 410 Gone (or the list RV is too old): the cache must be rebuilt by a relist. */
class GoneError extends Error {
  override readonly name = 'GoneError';
}

/**
 * A reflector and cache over one resource type (client-go's SharedInformer, minus indexers):
 * list, then watch from the list's resourceVersion, forever. It compensates what client-node
 * 1.4's informer lacks: any error restarts it after a jittered exponential backoff; 410 Gone
 * relists with delta-correct deletes; a periodic relist bounds the damage of a wedged watch;
 * and there is never more than one watch, however often start() is called.
 */
export class Informer {
  readonly type: ResourceType;
  /** Resolves once the first list is in the cache and its handlers have run. */
  readonly synced: Promise<void>;
  readonly #o: InformerOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #store: Store;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  #markSynced!: () => void;
  #hasSynced = false;
  #loop: Promise<void> | undefined;
  #resourceVersion = '';
  #mustList = true;
  #lastList = 0;
  #lastContact: number | undefined;
  #lastError: unknown;
  #watch: AbortController | undefined;

  constructor(options: InformerOptions) {
    this.#o = options;
    this.type = options.type;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = (options.log ?? silentLogger).child({ logger: 'informer', resource: resourceName(options.type) });
    this.#store = new Store((err, event) => this.#log.error('event handler failed', { event, error: err }));
    this.#backoff = new Backoff(this.#clock, this.#random, options.backoff);
    this.synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  /** Registers handlers; add them before start() to see the initial objects as adds. */
  addEventHandlers(handlers: EventHandlers): void {
    this.#store.addHandlers(handlers);
  }

  /** Starts the list/watch loop; further calls do nothing (single-flight). */
  start(): void {
    if (this.#loop || this.#stop.signal.aborted) return;
    this.#loop = this.#run();
  }

  /** Stops watching and waits for the loop to end; the cache keeps its last contents. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#watch?.abort();
    await this.#loop;
  }

  hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** The cached object (frozen: never mutate it), by name and, for namespaced types, namespace. */
  get(name: string, namespace?: string): KubeObject | undefined {
    return this.#store.get(cacheKey({ name, namespace }));
  }

  /** Every cached object (frozen). */
  list(): KubeObject[] {
    return this.#store.list();
  }

  /** The resourceVersion the cache is at ('' before the first list). */
  resourceVersion(): string {
    return this.#resourceVersion;
  }

  /**
   * Monotonic time (clock.now()) of the last sign of life from the server: a list, an event,
   * or a watch that ran its course. Undefined before the first.
   */
  lastContact(): number | undefined {
    return this.#lastContact;
  }

  /** The error of the last failed attempt, until an attempt succeeds. */
  lastError(): unknown {
    return this.#lastError;
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      try {
        if (this.#mustList) await this.#list();
        if (stopped.aborted) break;
        await this.#watchOnce();
        this.#lastError = undefined;
      } catch (err) {
        if (stopped.aborted) break;
        this.#lastError = err;
        if (err instanceof GoneError || (err instanceof KubeApiError && err.status === 410)) {
          // Expected after etcd compaction or a long disconnect; relisting at once is the cure.
          this.#log.info('resource version expired; relisting', { resourceVersion: this.#resourceVersion });
          this.#mustList = true;
          continue;
        }
        const delay = this.#backoff.next();
        this.#log.warn('list/watch failed; retrying', { error: err, retryInMs: Math.round(delay) });
        await sleep(this.#clock, delay, stopped);
      }
    }
  }

  async #list(): Promise<void> {
    const { items, resourceVersion } = await this.#o.port.list(this.type, {
      labelSelector: this.#o.labelSelector,
      fieldSelector: this.#o.fieldSelector,
      limit: this.#o.pageSize ?? 500,
      each: (o) => this.#own(o),
    });
    if (this.#stop.signal.aborted) return;
    this.#store.replace(items);
    this.#resourceVersion = resourceVersion;
    this.#mustList = false;
    this.#lastList = this.#clock.now();
    this.#lastContact = this.#lastList;
    this.#log.debug('listed', { count: items.length, resourceVersion });
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#markSynced();
    }
  }

  async #watchOnce(): Promise<void> {
    const watch = new AbortController();
    this.#watch = watch;
    const timeoutSeconds = this.#watchTimeout();
    const started = this.#clock.now();
    let events = 0;
    let failure: unknown;
    const fail = (err: unknown): void => {
      failure ??= err;
      watch.abort();
    };
    // Belt and braces: the port has its own inactivity timeout, but a port that never ends a
    // watch would otherwise stall this informer for good.
    const overrun = this.#clock.setTimeout(() => fail(new Error(`watch overran its ${timeoutSeconds}s timeout`)), timeoutSeconds * 1000 + WATCH_OVERRUN_MS);
    const relist = this.#scheduleRelist(watch);
    try {
      await this.#o.port.watch(
        this.type,
        {
          resourceVersion: this.#resourceVersion,
          labelSelector: this.#o.labelSelector,
          fieldSelector: this.#o.fieldSelector,
          timeoutSeconds,
          allowWatchBookmarks: true,
        },
        (event) => {
          if (watch.signal.aborted) return;
          events++;
          try {
            this.#apply(event);
          } catch (err) {
            fail(err);
          }
        },
        watch.signal,
      );
    } finally {
      overrun.cancel();
      relist?.cancel();
      this.#watch = undefined;
    }
    if (failure !== undefined) throw failure;
    if (watch.signal.aborted) return; // stopped, or a relist is due
    this.#lastContact = this.#clock.now();
    if (events === 0 && this.#clock.now() - started < SHORT_WATCH_MS) {
      // A server (or proxy) that closes watches at once would otherwise be hammered in a loop.
      throw new Error('watch ended immediately without events');
    }
  }

  #apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const { code, reason, message } = event.status;
      if (code === 410 || reason === 'Expired' || reason === 'Gone') throw new GoneError(message ?? 'resource version too old');
      throw new KubeApiError(code ?? 0, reason, `watch ${resourceName(this.type)}: ${message ?? 'error event'}`);
    }
    this.#lastContact = this.#clock.now();
    const rv = event.object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    const obj = this.#own(event.object);
    if (event.type === 'DELETED') this.#store.remove(obj);
    else this.#store.upsert(obj);
    if (rv) this.#resourceVersion = rv;
  }

  /** Ends the watch when the periodic relist is due (the loop then relists). */
  #scheduleRelist(watch: AbortController): { cancel(): void } | undefined {
    const interval = this.#o.relistIntervalMs ?? 600_000;
    if (interval <= 0) return undefined;
    const due = Math.max(0, this.#lastList + interval - this.#clock.now());
    return this.#clock.setTimeout(() => {
      this.#mustList = true;
      watch.abort();
    }, due);
  }

  #watchTimeout(): number {
    const { min, max } = this.#o.watchTimeoutSeconds ?? { min: 300, max: 600 };
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  /**
   * The object for the cache, with the type's apiVersion and kind (list items of built-in types
   * come without). The port hands out objects of the caller's own (see KubePort), so no copy:
   * copying every event cost more than anything else the informer does.
   */
  #own(obj: KubeObject): KubeObject {
    obj.apiVersion ||= this.type.group === '' ? this.type.version : `${this.type.group}/${this.type.version}`;
    obj.kind ||= this.type.kind;
    return this.#o.transform === undefined ? obj : this.#o.transform(obj);
  }
}

function resourceName(type: ResourceType): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/** Resolves true once every informer has synced, false if `timeoutMs` passes or `signal` aborts first. */
export async function waitForCacheSync(
  informers: readonly Pick<Informer, 'synced'>[],
  timeoutMs: number,
  clock: Clock = systemClock,
  signal?: AbortSignal,
): Promise<boolean> {
  let synced = false;
  const all = Promise.all(informers.map((i) => i.synced)).then(() => {
    synced = true;
  });
  const giveUp = new AbortController();
  signal?.addEventListener('abort', () => giveUp.abort(), { once: true });
  await Promise.race([all, sleep(clock, timeoutMs, giveUp.signal)]);
  giveUp.abort();
  return synced;
}
