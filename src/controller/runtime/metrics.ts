import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkQueueMetrics } from './work-queue.js';

/** controller-runtime's buckets for controller_runtime_reconcile_time_seconds. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5,
  4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's rest_client_request_duration_seconds buckets. */
const REST_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
/** client-go's workqueue buckets: ExponentialBuckets(10e-9, 10, 12), 10 ns … 1000 s. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

/** A reconcile's outcome, as controller-runtime labels it. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/** What a Controller reports about its reconciles. */
export interface ControllerMetrics {
  reconciled(result: ReconcileResult, seconds: number): void;
  activeWorkers(delta: number): void;
  maxConcurrentReconciles(n: number): void;
}

export interface MetricsOptions {
  /** Also export the process_* and nodejs_* metrics (memory, CPU, event-loop lag). Default true. */
  readonly processMetrics?: boolean;
  readonly registry?: Registry;
}

/**
 * The operator's Prometheus registry with controller-runtime's metric names, so dashboards
 * and alerts written for Go controllers work unchanged. Custom metrics (the reconciler's
 * cnp_* ones) are registered here too, through counter() and gauge().
 */
export class Metrics {
  readonly registry: Registry;
  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #reconcileTime: Histogram<'controller'>;
  readonly #activeWorkers: Gauge<'controller'>;
  readonly #maxConcurrent: Gauge<'controller'>;
  readonly #depth: Gauge<'name' | 'controller'>;
  readonly #adds: Counter<'name' | 'controller'>;
  readonly #retries: Counter<'name' | 'controller'>;
  readonly #queueDuration: Histogram<'name' | 'controller'>;
  readonly #workDuration: Histogram<'name' | 'controller'>;
  readonly #leader: Gauge<'name'>;
  readonly #restRequests: Counter<'code' | 'method' | 'host'>;
  readonly #restDuration: Histogram<'verb' | 'host'>;
  /** Queues whose in-flight items are read at scrape time. */
  readonly #inFlight = new Map<string, () => readonly { seconds: number }[]>();

  constructor(options: MetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
    const r = [registry];
    const q = ['name', 'controller'] as const;
    this.#reconcileTotal = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers: r });
    this.#reconcileErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers: r });
    this.#reconcileTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers: r });
    this.#activeWorkers = new Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: ['controller'], registers: r });
    this.#maxConcurrent = new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller', labelNames: ['controller'], registers: r });
    this.#depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: q, registers: r });
    this.#adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: q, registers: r });
    this.#retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: q, registers: r });
    this.#queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames: q, buckets: QUEUE_BUCKETS, registers: r });
    this.#workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames: q, buckets: QUEUE_BUCKETS, registers: r });
    this.#restRequests = new Counter({ name: 'rest_client_requests_total', help: 'Number of HTTP requests, partitioned by status code, method, and host', labelNames: ['code', 'method', 'host'], registers: r });
    this.#restDuration = new Histogram({ name: 'rest_client_request_duration_seconds', help: 'Request latency in seconds. Broken down by verb and host', labelNames: ['verb', 'host'], buckets: REST_BUCKETS, registers: r });
    const inFlight = this.#inFlight;
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads.',
      labelNames: q,
      registers: r,
      collect() {
        for (const [name, items] of inFlight) this.set({ name, controller: name }, items().reduce((sum, i) => sum + i.seconds, 0));
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: q,
      registers: r,
      collect() {
        for (const [name, items] of inFlight) this.set({ name, controller: name }, Math.max(0, ...items().map((i) => i.seconds)));
      },
    });
    this.#leader = new Gauge({ name: 'leader_election_master_status', help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master', labelNames: ['name'], registers: r });
  }

  /**
   * Hooks for a WorkQueue; `name` labels its series (use the controller's name). `inFlight`
   * reads the items being processed when the metrics are scraped.
   */
  workQueue(name: string, inFlight?: () => readonly { seconds: number }[]): WorkQueueMetrics {
    const labels = { name, controller: name };
    this.#depth.set(labels, 0);
    if (inFlight !== undefined) this.#inFlight.set(name, inFlight);
    return {
      added: () => this.#adds.inc(labels),
      depth: (n) => this.#depth.set(labels, n),
      queued: (s) => this.#queueDuration.observe(labels, s),
      worked: (s) => this.#workDuration.observe(labels, s),
      retried: () => this.#retries.inc(labels),
    };
  }

  /** Hooks for a Controller named `controller`. */
  controller(controller: string): ControllerMetrics {
    this.#activeWorkers.set({ controller }, 0);
    // Present from the start, so an alert on its rate has a series to work with.
    this.#reconcileErrors.inc({ controller }, 0);
    return {
      reconciled: (result, seconds) => {
        this.#reconcileTotal.inc({ controller, result });
        if (result === 'error') this.#reconcileErrors.inc({ controller });
        this.#reconcileTime.observe({ controller }, seconds);
      },
      activeWorkers: (delta) => this.#activeWorkers.inc({ controller }, delta),
      maxConcurrentReconciles: (n) => this.#maxConcurrent.set({ controller }, n),
    };
  }

  /** A callback for the transport's RequestObserver, labelled with the API server's host. */
  restClient(host: string): (method: string, code: number, seconds: number) => void {
    return (method, code, seconds) => {
      this.#restRequests.inc({ code: code === 0 ? '<error>' : String(code), method, host });
      this.#restDuration.observe({ verb: method, host }, seconds);
    };
  }

  /** A callback for LeaderElector's onLeadershipChange, labelled with the Lease's name. */
  leaderElection(name: string): (leading: boolean) => void {
    this.#leader.set({ name }, 0);
    return (leading) => this.#leader.set({ name }, leading ? 1 : 0);
  }

  /** Registers a counter on this registry (e.g. cnp_drift_corrections_total). */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Registers a gauge whose values are computed when the metrics are scraped. */
  computedGauge<L extends string>(name: string, help: string, labelNames: readonly L[], values: () => Iterable<[Partial<Record<L, string>>, number]>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of values()) this.set(labels, value);
      },
    });
  }

  /** Registers a gauge on this registry (e.g. cnp_managed_objects). */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** The text exposition of every metric, and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
