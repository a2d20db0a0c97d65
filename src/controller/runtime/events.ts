import { KubeApiError, type KubeObject, type KubePort, type ResourceType } from '../port.js';
import { shareAll } from '../strings.js';
import { type Clock, systemClock } from './clock.js';
import { type Logger, silentLogger } from './log.js';

export const EVENT_TYPE: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export type EventKind = 'Normal' | 'Warning';

/** Records Kubernetes Events; emitting never blocks or throws (events are best effort). */
export interface EventSink {
  emit(regarding: KubeObject, type: EventKind, reason: string, message: string): void;
}

export interface EventRecorderOptions {
  readonly port: KubePort;
  /** source.component and reportingComponent, e.g. 'cnp-operator'. */
  readonly component: string;
  /** reportingInstance, e.g. the pod name. */
  readonly instance?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Identical events within this window update one Event's count (client-go: 10 min). */
  readonly aggregateWindowMs?: number;
  /** Per object: at most `burst` events, then one per `refillMs` (client-go: 25, 5 min). */
  readonly burst?: number;
  readonly refillMs?: number;
  /**
   * Awaited before each write: events are best effort and should not take the API server's
   * time from work that matters more (the operator waits for its workers to be idle, a while).
   */
  readonly yieldTo?: () => Promise<void>;
}

interface Recorded {
  event: KubeObject;
  at: number;
}

/** Writes beyond this many waiting are dropped: a struggling API server must not grow memory. */
const MAX_PENDING = 1000;
const MAX_REMEMBERED = 4096;
/** Fields of a remembered Event whose values are its own or its object's: not worth sharing. */
const UNIQUE_FIELDS: ReadonlySet<string> = new Set(['name', 'uid', 'resourceVersion']);

/**
 * core/v1 Events in client-go's manner: repeats of an event update its count instead of adding
 * objects, a per-object token bucket stops floods, and writes happen one at a time in the
 * background. Events about cluster-scoped objects go to the `default` namespace.
 */
export class EventRecorder implements EventSink {
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #recent = new Map<string, Recorded>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.log ?? silentLogger).child({ logger: 'events' });
  }

  emit(regarding: KubeObject, type: EventKind, reason: string, message: string): void {
    // Joined, not templates: thousands of these keys are kept, and a template's result is a
    // tree of pieces (six or so objects a key) where a join makes one string.
    const objectKey = [regarding.kind, regarding.metadata.namespace ?? '', regarding.metadata.name, regarding.metadata.uid ?? ''].join('/');
    if (!this.#take(objectKey)) return;
    if (this.#pending >= MAX_PENDING) return;
    this.#pending++;
    const key = [objectKey, type, reason, message].join('\u0000');
    this.#chain = this.#chain
      .then(() => this.#o.yieldTo?.())
      .then(() => this.#write(key, regarding, type, reason, message))
      .catch((err: unknown) => this.#log.warn('event not recorded', { reason, error: err }))
      .finally(() => this.#pending--);
  }

  /** Resolves once every event emitted so far has been written (or given up on). */
  flush(): Promise<void> {
    return this.#chain;
  }

  async #write(key: string, regarding: KubeObject, type: EventKind, reason: string, message: string): Promise<void> {
    const now = this.#clock.now();
    const stamp = this.#clock.date().toISOString().replace(/\.\d+Z$/, 'Z');
    const seen = this.#recent.get(key);
    if (seen && now - seen.at < (this.#o.aggregateWindowMs ?? 600_000)) {
      const count = ((seen.event['count'] as number | undefined) ?? 1) + 1;
      try {
        const updated = await this.#o.port.replace(EVENT_TYPE, { ...seen.event, count, lastTimestamp: stamp });
        return this.#remember(key, updated, now);
      } catch (err) {
        // Gone (expired after 1 h) or changed: start a new Event.
        if (!(err instanceof KubeApiError && (err.status === 404 || err.status === 409))) throw err;
      }
    }
    const created = await this.#o.port.create(EVENT_TYPE, this.#newEvent(regarding, type, reason, message, stamp));
    this.#remember(key, created, now);
  }

  #newEvent(regarding: KubeObject, type: EventKind, reason: string, message: string, stamp: string): KubeObject {
    const m = regarding.metadata;
    const namespace = m.namespace ?? 'default';
    return {
      apiVersion: 'v1',
      kind: 'Event',
      // client-go's naming: the object's name and a unique hexadecimal suffix.
      metadata: { name: `${m.name}.${(this.#clock.date().getTime() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`, namespace },
      involvedObject: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: m.name,
        ...(m.namespace ? { namespace: m.namespace } : {}),
        ...(m.uid ? { uid: m.uid } : {}),
        ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      },
      type,
      reason,
      // The API server caps messages at 1 KiB.
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      source: { component: this.#o.component },
      reportingComponent: this.#o.component,
      reportingInstance: this.#o.instance ?? '',
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    };
  }

  #remember(key: string, event: KubeObject, at: number): void {
    this.#recent.delete(key);
    // Kept for a count update, which sends it back: the server's managedFields (most of an
    // Event's size, thousands are remembered) would be sent back for nothing.
    const { managedFields: _managed, ...metadata } = event.metadata;
    const kept = { ...event, metadata };
    // Thousands of Events (one per CNP at a mass start) repeat their kinds, components, reasons,
    // messages and timestamps: one copy each.
    shareAll(kept, UNIQUE_FIELDS);
    this.#recent.set(key, { event: kept, at });
    // Maps iterate in insertion order: the first entry is the least recently recorded.
    if (this.#recent.size > MAX_REMEMBERED) this.#recent.delete(this.#recent.keys().next().value as string);
  }

  #take(objectKey: string): boolean {
    const burst = this.#o.burst ?? 25;
    const refill = this.#o.refillMs ?? 300_000;
    const now = this.#clock.now();
    const b = this.#buckets.get(objectKey) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refill);
    b.at = now;
    // Moved to the end: the map stays in order of last use, so buckets idle long enough to be
    // full again (they carry no state) are at its front and are forgotten from there, without
    // a scan of thousands that all still count (every CNP of a mass start has one).
    this.#buckets.delete(objectKey);
    this.#buckets.set(objectKey, b);
    if (this.#buckets.size > MAX_REMEMBERED) {
      for (const [k, v] of this.#buckets) {
        if (now - v.at < refill * burst) break;
        this.#buckets.delete(k);
      }
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
