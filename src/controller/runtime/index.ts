// The in-house controller runtime: controller-runtime's semantics over a KubePort.

/** Injected time: monotonic for intervals, wall clock for API timestamps. */
export { type Clock, sleep, systemClock, type Timer } from './clock.js';
/** Jittered exponential backoff with reset. */
export { Backoff, type BackoffOptions } from './backoff.js';
/** Work-queue rate limiters (per-key exponential, token bucket, max-of). */
export { defaultControllerRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, type RateLimiter, TokenBucketRateLimiter } from './rate-limiter.js';
/** The de-duplicating, rate-limited work queue. */
export { type AddOptions, WorkQueue, type WorkQueueMetrics, type WorkQueueOptions } from './work-queue.js';
/** Cache keys and event handlers of informers. */
export { cacheKey, type EventHandlers } from './store.js';
/** List/watch reflector with a cache. */
export { Informer, type InformerOptions, waitForCacheSync } from './informer.js';
/** Workers reconciling keys from a queue. */
export { Controller, type ControllerOptions, type Reconcile, type ReconcileOutcome } from './controller.js';
/** Lease-based leader election. */
export { defaultIdentity, LEASE_TYPE, LeaderElector, type LeaderElectionOptions, type StopReason } from './leader-election.js';
/** metav1.MicroTime formatting. */
export { toMicroTime } from './micro-time.js';
/** Prometheus metrics with controller-runtime's names. */
export { type ControllerMetrics, Metrics, type MetricsOptions, type ReconcileResult } from './metrics.js';
/** /healthz, /readyz and /metrics. */
export { cachesSynced, type Checker, type HealthServer, type HealthServerOptions, informersNotWedged, startHealthServer } from './health-server.js';
/** Structured JSON logs. */
export { createLogger, isLogLevel, type LogFields, type Logger, type LoggerOptions, type LogLevel, silentLogger } from './log.js';
/** Kubernetes Events with aggregation and spam protection. */
export { EVENT_TYPE, type EventKind, EventRecorder, type EventRecorderOptions, type EventSink } from './events.js';
