import type { Detection } from './backend.js';
import { detectBackend, type DetectOptions } from './detect.js';
import { objectKey, ownerOf, SHARED_KEY } from './desired.js';
import { slimOwned } from './drift.js';
import { cnpType, NAMESPACE, NETWORK_POLICY, NODE, POD, relevantProjection, slim } from './inputs.js';
import type { KubeObject, KubePort, ResourceType } from './port.js';
import { type CrdInfo, crdNotes, preflight, awaitedLater } from './preflight.js';
import { OUR_CONDITIONS, RECOMPUTE_KEY, Reconciler, SHARED_QUEUE_KEY } from './reconciler.js';
import { ParsedCnps, slimCnp } from './snapshot-from-cache.js';
import {
  type AddOptions,
  cachesSynced,
  Controller,
  defaultIdentity,
  EventRecorder,
  Informer,
  informersNotWedged,
  waitForCacheSync,
  LeaderElector,
  Metrics,
  startHealthServer,
  systemClock,
  WorkQueue,
  type HealthServer,
  type Logger,
} from './runtime/index.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../translate/ownership.js';

export interface ManagerOptions {
  readonly port: KubePort;
  /** Where metrics go; the caller's, when it also counts the port's requests. */
  readonly metrics?: Metrics;
  /** The API server's address, for messages. */
  readonly server?: string;
  readonly log: Logger;
  readonly detect: DetectOptions;
  readonly fieldManager?: string;
  /** Leader election on a Lease; off only for single-replica development runs. */
  readonly leaderElection?: { readonly namespace: string; readonly name?: string; readonly identity?: string; readonly releaseOnStop?: boolean };
  /** Probes (/healthz, /readyz); undefined: none. 0 picks a free port. */
  readonly healthPort?: number;
  /** /metrics; undefined: none. */
  readonly metricsPort?: number;
  readonly healthHost?: string;
  /** Where /metrics listens when it has a port of its own (default: healthHost). */
  readonly metricsHost?: string;
  readonly workers?: number;
  /** How often the backend is detected again (a CNI installed or upgraded later). */
  readonly redetectMs?: number;
  readonly relistIntervalMs?: number;
  readonly watchTimeoutSeconds?: { readonly min: number; readonly max: number };
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

const CONTROLLER = 'clusternetworkpolicy';

/** What a detection needs watched, as a comparable key ('' for nothing). */
function watchKey(d: Detection): string {
  const backend = d.kind === 'ready' || d.kind === 'stand-down' ? d.backend : undefined;
  return backend === undefined ? '' : JSON.stringify([backend.types, d.kind === 'ready' ? backend.inputs : {}]);
}

/**
 * Wires informers, the work queue, leader election, probes and metrics around the
 * Reconciler. Every replica keeps warm caches; only the leader runs workers.
 */
/** The longest an event waits for idle workers before it is written anyway. */
const EVENT_WAIT_MS = 10_000;

export class Manager {
  readonly metrics: Metrics;
  private readonly informers: Informer[] = [];
  private readonly queue: WorkQueue<string>;
  private readonly controller: Controller<string>;
  private readonly events: EventRecorder;
  private elector: LeaderElector | undefined;
  private servers: HealthServer[] = [];
  private reconciler: Reconciler | undefined;
  private detection: Detection = { kind: 'unavailable', message: 'not detected yet' };
  private crd: CrdInfo = { channel: undefined, bundleVersion: undefined, readable: false };
  private redetectTimer: ReturnType<typeof setInterval> | undefined;
  private cnpInformer: Informer | undefined;
  private readonly parsedCnps = new ParsedCnps();
  private owned: Informer[] = [];
  private inputs: Partial<Record<'networkPolicies' | 'nodes' | 'namespaces' | 'pods', Informer>> = {};
  /** The backend whose kinds are watched now. */
  /** What attach() set up watches for (kinds written, and inputs when ready); '' for nothing. */
  private attachedKey = '';
  /** Our objects by owner key, kept by the informers' handlers: reconciles never scan everything. */
  private readonly byOwner = new Map<string, Map<string, KubeObject>>();
  private stopped = false;
  private redetecting = false;
  private code = 0;
  private exitCode: ((code: number) => void) | undefined;
  /** Resolves with the process exit code when the manager ends (signal, lost lease, fatal error). */
  readonly done: Promise<number>;
  readonly drift: ReturnType<Metrics['counter']>;
  readonly managed: ReturnType<Metrics['gauge']>;

  constructor(private readonly o: ManagerOptions) {
    this.metrics = o.metrics ?? new Metrics();
    this.drift = this.metrics.counter<'kind'>('cnp_drift_corrections_total', 'Edits or deletions of generated objects by others that were reverted', ['kind']);
    this.managed = this.metrics.gauge('cnp_managed_objects', 'Backend objects the operator currently wants to exist');
    this.queue = new WorkQueue<string>({ metrics: this.metrics.workQueue(CONTROLLER, () => this.queue.inFlight()) });
    this.metrics.computedGauge('cnp_conditions', 'ClusterNetworkPolicies by condition type, status and reason, as last written', ['type', 'status', 'reason'], () => this.reconciler?.conditionCounts() ?? []);
    // Events wait while the workers have work (up to EVENT_WAIT_MS each): with thousands of CNPs
    // to program, their statuses and objects come first.
    this.events = new EventRecorder({ port: o.port, component: 'cnp-operator', instance: o.leaderElection?.identity, log: o.log, yieldTo: () => this.queue.whenIdle(EVENT_WAIT_MS) });
    this.controller = new Controller<string>({
      name: CONTROLLER,
      queue: this.queue,
      workers: o.workers ?? 2,
      // Filled by start() before the controller starts: workers wait for every cache, with or
      // without leader election (a cache that lags would make a live CNP look deleted).
      informers: this.informers,
      metrics: this.metrics.controller(CONTROLLER),
      log: o.log,
      reconcile: async (key) => {
        if (this.reconciler === undefined) return;
        await this.reconciler.reconcile(key);
      },
    });
    this.done = new Promise((resolve) => (this.exitCode = resolve));
  }

  private informer(type: ResourceType, transform: (obj: KubeObject) => KubeObject = slim): Informer {
    const informer = new Informer({
      port: this.o.port,
      type,
      transform,
      log: this.o.log,
      ...(this.o.relistIntervalMs === undefined ? {} : { relistIntervalMs: this.o.relistIntervalMs }),
      ...(this.o.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: this.o.watchTimeoutSeconds }),
    });
    this.informers.push(informer);
    return informer;
  }

  private index(obj: KubeObject, present: boolean): void {
    if (obj.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return;
    const owner = ownerOf(obj);
    const key = objectKey(obj);
    const objects = this.byOwner.get(owner) ?? new Map<string, KubeObject>();
    if (present) {
      objects.set(key, obj);
      this.byOwner.set(owner, objects);
    } else if (objects?.get(key)?.metadata.uid === obj.metadata.uid) {
      objects.delete(key);
      if (objects.size === 0) this.byOwner.delete(owner);
    }
  }

  /** Throws StartupError when something the operator needs is missing (see preflight.ts). */
  async start(): Promise<void> {
    const log = this.o.log;
    const election = this.o.leaderElection;
    // Detection asks its questions meanwhile; what the preflight finds missing is reported first.
    const detection = awaitedLater(detectBackend(this.o.port, this.o.detect));
    const { version, crd } = await preflight(this.o.port, {
      server: this.o.server ?? 'the API server',
      ...(election === undefined ? {} : { leaderElection: { namespace: election.namespace, name: election.name ?? 'cnp-operator' } }),
    });
    this.crd = crd;
    log.info('ClusterNetworkPolicy CRD', { version, channel: crd.channel ?? 'unknown', bundleVersion: crd.bundleVersion ?? 'unknown' });
    if (!crd.readable) log.warn('cannot read the ClusterNetworkPolicy CRD to tell its channel and bundle version (grant get on customresourcedefinitions/clusternetworkpolicies.policy.networking.k8s.io)');
    for (const note of crdNotes(crd)) log.warn(note);
    this.detection = await detection;
    const detected = { detection: this.detection.kind, ...(this.detection.kind === 'ready' ? { backend: this.detection.backend.description } : { message: this.detection.message }) };
    if (this.detection.kind === 'unavailable') log.warn('backend unavailable', detected);
    else log.info('backend detected', detected);

    const enqueue = (key: string, options?: AddOptions): void => this.queueKey(key, options);
    // Parsed as they arrive; the cache keeps what status and events need.
    const cnps = this.informer(cnpType(version), (obj) => {
      this.parsedCnps.ingest(obj);
      return slimCnp(obj, OUR_CONDITIONS);
    });
    this.cnpInformer = cnps;
    cnps.addEventHandlers({
      onAdd: (obj) => {
        enqueue(RECOMPUTE_KEY);
        enqueue(obj.metadata.name);
      },
      onUpdate: (before, after) => {
        // Status writes (ours included) do not change the generation: nothing to recompute,
        // and nothing to reconcile unless our conditions were changed by someone else.
        if (before.metadata.generation !== after.metadata.generation || before.metadata.uid !== after.metadata.uid) {
          enqueue(RECOMPUTE_KEY);
          enqueue(after.metadata.name);
        } else if (this.reconciler?.statusDiffers(after) !== false) enqueue(after.metadata.name);
      },
      onDelete: (obj) => {
        this.parsedCnps.forget(obj);
        enqueue(RECOMPUTE_KEY);
        enqueue(obj.metadata.name);
      },
      onRelist: (objs) => {
        this.parsedCnps.retain(new Set(objs.map((o) => o.metadata.name)));
        enqueue(RECOMPUTE_KEY);
        for (const o of objs) enqueue(o.metadata.name);
      },
    });

    const attached = this.attach(this.detection);
    if (attached.length > 0) log.info('watching the backend\'s kinds', { kinds: attached.map((i) => i.type.kind) });

    this.reconciler = new Reconciler({
      port: this.o.port,
      cnpType: cnpType(version),
      detection: () => this.detection,
      notes: () => crdNotes(this.crd),
      fieldManager: this.o.fieldManager ?? 'cnp-operator',
      events: this.events,
      // Its own requeues (a status left for later, rechecks after the analysis) are not news of the cluster.
      enqueue: (key, options) => this.controller.enqueue(key, options),
      backlog: () => this.controller.queue.frontLen() > 0,
      now: () => new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      log,
      caches: {
        cnp: (name) => cnps.get(name),
        owned: (owner) => [...(this.byOwner.get(owner)?.values() ?? [])],
        existing: (obj) => this.owned.find((i) => i.type.kind === obj.kind && `${i.type.group === '' ? '' : `${i.type.group}/`}${i.type.version}` === obj.apiVersion)?.get(obj.metadata.name),
        inputs: () => ({
          cnps: this.parsedCnps.list(),
          networkPolicies: this.inputs.networkPolicies?.list() ?? [],
          nodes: this.inputs.nodes?.list() ?? [],
          namespaces: this.inputs.namespaces?.list() ?? [],
          pods: this.inputs.pods?.list() ?? [],
        }),
      },
      hooks: {
        driftCorrected: (obj) => this.drift.inc({ kind: obj.kind }),
        managedObjects: (n) => this.managed.set(n),
      },
    });

    for (const informer of this.informers) informer.start();
    await this.startServers();

    this.redetectTimer = setInterval(() => void this.redetect(), this.o.redetectMs ?? 60_000);
    this.redetectTimer.unref();

    if (this.o.leaderElection === undefined) {
      await this.lead();
      return;
    }
    const identity = this.o.leaderElection.identity ?? defaultIdentity();
    this.elector = new LeaderElector({
      port: this.o.port,
      namespace: this.o.leaderElection.namespace,
      name: this.o.leaderElection.name ?? 'cnp-operator',
      identity,
      ...(this.o.leaderElection.releaseOnStop === undefined ? {} : { releaseOnStop: this.o.leaderElection.releaseOnStop }),
      ...(this.o.leaseDurationMs === undefined ? {} : { leaseDurationMs: this.o.leaseDurationMs }),
      ...(this.o.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: this.o.renewDeadlineMs }),
      ...(this.o.retryPeriodMs === undefined ? {} : { retryPeriodMs: this.o.retryPeriodMs }),
      log,
      onLeadershipChange: this.metrics.leaderElection('cnp-operator'),
      onStartedLeading: () => {
        log.info('became leader', { identity });
        this.lead().catch((err: unknown) => this.fail('controller failed to start', err));
      },
      onStoppedLeading: (reason) => {
        if (reason === 'lost') this.fail('lost the leader lease', undefined);
      },
    });
    this.elector.start();
  }

  /** Queues a key for something that happened in the cluster: its objects are looked at again, not only its status (see Reconciler.invalidate). */
  private queueKey(key: string, options?: AddOptions): void {
    this.reconciler?.invalidate(key);
    this.controller.enqueue(key, options);
  }

  /** What a detection needs watched: its inputs when ready, the kinds it writes (to find ours) when ready or standing down. */
  private attach(detection: Detection): Informer[] {
    const backend = detection.kind === 'ready' || detection.kind === 'stand-down' ? detection.backend : undefined;
    if (backend === undefined) return [];
    this.attachedKey = watchKey(detection);
    const enqueue = (key: string): void => this.queueKey(key);
    const added: Informer[] = [];
    if (detection.kind === 'ready') {
      const types = { networkPolicies: NETWORK_POLICY, nodes: NODE, namespaces: NAMESPACE, pods: POD } as const;
      for (const k of ['networkPolicies', 'nodes', 'namespaces', 'pods'] as const) {
        if (!backend.inputs[k]) continue;
        const type = types[k];
        const informer = this.informer(type);
        // The backend of the detection in force now (a redetection may replace it without new informers).
        const relevant = (a: KubeObject | undefined, b: KubeObject | undefined): boolean => this.detection.kind !== 'ready' || this.detection.backend.relevant?.(type, a, b) !== false;
        informer.addEventHandlers({
          onAdd: (obj) => {
            if (relevant(undefined, obj)) enqueue(RECOMPUTE_KEY);
          },
          onDelete: (obj) => {
            if (relevant(obj, undefined)) enqueue(RECOMPUTE_KEY);
          },
          onUpdate: (a, b) => {
            if (relevantProjection(type, a) !== relevantProjection(type, b) && relevant(a, b)) enqueue(RECOMPUTE_KEY);
          },
          onRelist: () => enqueue(RECOMPUTE_KEY),
        });
        this.inputs[k] = informer;
        added.push(informer);
      }
    }
    for (const type of backend.types) {
      // Every object of the kinds we write, not only ours: whether a name is taken by
      // someone else is then a cache lookup, not a request per object. Bodies are kept as
      // digests: the cache only tells "in sync" from "read it and look closer".
      const informer = this.informer(type, (obj) => slimOwned(slim(obj)));
      const isOurs = (obj: KubeObject): boolean => obj.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
      const keyFor = (obj: KubeObject): string | undefined => {
        // The owner that wants this name first: labels and annotations may have been edited.
        const owner = this.reconciler?.ownerOfDesired(obj) ?? (isOurs(obj) ? ownerOf(obj) : undefined);
        return owner === undefined ? undefined : owner === SHARED_KEY ? SHARED_QUEUE_KEY : owner;
      };
      const on = (obj: KubeObject): void => {
        const key = keyFor(obj);
        if (key !== undefined) enqueue(key);
      };
      informer.addEventHandlers({
        onAdd: (obj) => {
          if (!isOurs(obj) || this.reconciler?.differsFromDesired(obj) !== false) on(obj);
          this.index(obj, true);
        },
        onUpdate: (a, obj) => {
          if (!isOurs(obj) || this.reconciler?.differsFromDesired(obj) !== false) on(obj);
          this.index(a, false);
          this.index(obj, true);
        },
        onDelete: (obj) => {
          if (isOurs(obj)) this.reconciler?.observeDeletion(obj);
          on(obj);
          this.index(obj, false);
        },
        // Owners of every owned object are re-checked: this is also the orphan sweep.
        onRelist: (objs) => {
          enqueue(SHARED_QUEUE_KEY);
          for (const o of objs) on(o);
        },
      });
      this.owned.push(informer);
      added.push(informer);
    }
    return added;
  }

  /** Stops watching a backend's kinds (the CNI changed under a running operator). */
  private async detach(): Promise<void> {
    const leaving = new Set<Informer>([...this.owned, ...Object.values(this.inputs).filter((i): i is Informer => i !== undefined)]);
    await Promise.all([...leaving].map((i) => i.stop()));
    this.informers.splice(0, this.informers.length, ...this.informers.filter((i) => !leaving.has(i)));
    this.owned = [];
    this.inputs = {};
    this.byOwner.clear();
    this.attachedKey = '';
  }

  private async lead(): Promise<void> {
    await this.controller.start();
    this.o.log.info('reconciling', { backend: this.detection.kind === 'ready' ? this.detection.backend.description : this.detection.message });
  }

  private async startServers(): Promise<void> {
    const host = this.o.healthHost;
    if (this.o.healthPort !== undefined) {
      this.servers.push(
        await startHealthServer({
          port: this.o.healthPort,
          ...(host === undefined ? {} : { host }),
          healthz: { informers: informersNotWedged(this.informers, systemClock) },
          readyz: { caches: cachesSynced(this.informers) },
          ...(this.o.metricsPort !== undefined && this.o.metricsPort === this.o.healthPort ? { metrics: this.metrics } : {}),
        }),
      );
    }
    if (this.o.metricsPort !== undefined && this.o.metricsPort !== this.o.healthPort) {
      const metricsHost = this.o.metricsHost ?? host;
      this.servers.push(await startHealthServer({ port: this.o.metricsPort, ...(metricsHost === undefined ? {} : { host: metricsHost }), metrics: this.metrics }));
    }
  }

  /** Ports actually bound (useful with port 0). */
  ports(): number[] {
    return this.servers.map((s) => s.port);
  }

  /**
   * Detection runs again every minute: a CNI installed, upgraded or reconfigured while the
   * operator runs is picked up without a restart — a new backend's kinds are watched (and
   * synced) before anything is written to them.
   */
  private async redetect(): Promise<void> {
    if (this.stopped || this.redetecting) return;
    this.redetecting = true;
    try {
      let next: Detection;
      try {
        next = await detectBackend(this.o.port, this.o.detect);
      } catch (err) {
        this.o.log.warn('backend detection failed', { error: String(err) });
        return;
      }
      const describe = (d: Detection) => (d.kind === 'ready' ? `ready:${d.backend.description}` : `${d.kind}:${d.message}`);
      if (describe(next) === describe(this.detection)) return;
      this.o.log.warn('backend changed', { from: describe(this.detection), to: describe(next) });
      const wanted = watchKey(next);
      if (wanted !== '' && wanted !== this.attachedKey) {
        if (this.attachedKey !== '') await this.detach();
        const added = this.attach(next);
        for (const informer of added) informer.start();
        if (!(await waitForCacheSync(added, 120_000, systemClock))) {
          this.o.log.warn('the backend\'s kinds did not sync; trying again at the next detection', { kinds: added.map((i) => i.type.kind) });
          await this.detach();
          return;
        }
        this.o.log.info('watching the backend\'s kinds', { kinds: added.map((i) => i.type.kind) });
      }
      this.detection = next;
      if (next.kind === 'unavailable') this.o.log.warn('backend unavailable', { message: next.message });
      this.queueKey(RECOMPUTE_KEY);
      this.queueKey(SHARED_QUEUE_KEY);
      for (const cnp of this.cnpInformer?.list() ?? []) this.queueKey(cnp.metadata.name);
    } finally {
      this.redetecting = false;
    }
  }

  private fail(message: string, err: unknown): void {
    this.o.log.error(message, err === undefined ? {} : { error: err instanceof Error ? err.message : String(err) });
    this.code = 1;
    void this.stop();
  }

  /** Graceful shutdown: finish reconciles in flight, release the lease, stop watching. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.redetectTimer !== undefined) clearInterval(this.redetectTimer);
    await this.controller.stop(30_000);
    await this.elector?.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all(this.servers.map((s) => s.close()));
    this.exitCode?.(this.code);
  }

  /** For tests and benchmarks. */
  get driftCorrections(): number {
    return this.reconciler?.drifts ?? 0;
  }

  isLeader(): boolean {
    return this.elector === undefined ? !this.stopped : this.elector.isLeader();
  }

  queueDepth(): number {
    return this.queue.len();
  }
}
