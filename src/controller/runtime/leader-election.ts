import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { KubeApiError, type KubeObject, type KubePort, type ResourceType } from '../port.js';
import { type Clock, sleep, systemClock } from './clock.js';
import { type Logger, silentLogger } from './log.js';
import { toMicroTime } from './micro-time.js';

export const LEASE_TYPE: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

export type StopReason = 'lost' | 'released';

export interface LeaderElectionOptions {
  readonly port: KubePort;
  readonly namespace: string;
  /** The Lease's name: one per operator, shared by its replicas. */
  readonly name: string;
  /** This replica's identity; unique per process (see defaultIdentity). */
  readonly identity: string;
  /** How long a non-leader waits, after the last change it saw, before taking over (15 s). */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up (10 s); must be < leaseDurationMs. */
  readonly renewDeadlineMs?: number;
  /** Time between attempts (2 s). */
  readonly retryPeriodMs?: number;
  /** Clear the lease on stop() so a successor need not wait for it to expire (default true). */
  readonly releaseOnStop?: boolean;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  readonly onStartedLeading: (signal: AbortSignal) => void;
  /** Called when leadership ends: 'lost' (the process should exit) or 'released' on stop(). */
  readonly onStoppedLeading: (reason: StopReason) => void;
  readonly onNewLeader?: (identity: string) => void;
  /** Reports leadership (leader_election_master_status). */
  readonly onLeadershipChange?: (leading: boolean) => void;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Attempt = 'held' | 'held-by-other' | 'conflict' | 'error';

/** client-go's JitterFactor for the acquire loop: waits are RetryPeriod × [1, 2.2). */
const ACQUIRE_JITTER = 1.2;

/** A process-unique identity: the host (the pod name in a cluster) and a random suffix. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it. Writes are
 * optimistic (the Lease's resourceVersion; a 409 means someone else wrote first). Expiry is
 * judged by this process's monotonic clock since it last saw the Lease change, never by the
 * renewTime written by another machine, so clock skew between replicas does not matter.
 * Once lost, leadership is not sought again: the manager is expected to exit.
 */
export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #retryMs: number;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #leading = false;
  #lease: KubeObject | undefined;
  #observedSpec = '';
  #observedAt = 0;
  #observedHolder = '';

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = (options.log ?? silentLogger).child({ logger: 'leader-election', lease: `${options.namespace}/${options.name}` });
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    if (this.#renewMs >= this.#leaseMs) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    if (this.#retryMs * ACQUIRE_JITTER >= this.#renewMs) throw new Error('leader election: renewDeadline must exceed retryPeriod × 1.2');
  }

  /** Starts seeking leadership in the background; further calls do nothing. */
  start(): void {
    if (this.#loop || this.#stop.signal.aborted) return;
    this.#loop = this.#run().catch((err: unknown) => this.#log.error('leader election failed', { error: err }));
  }

  /** Stops; a leader releases the Lease (unless releaseOnStop is false) and reports 'released'. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder this process last saw on the Lease ('' when none). */
  observedLeader(): string {
    return this.#observedHolder;
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    let attempt: Attempt = 'error';
    while (!stopped.aborted && (attempt = await this.#tryAcquireOrRenew()) !== 'held') {
      await sleep(this.#clock, this.#retryMs * (1 + this.#random() * ACQUIRE_JITTER), stopped);
    }
    if (stopped.aborted) {
      // Stopped while an attempt was taking the lease: give it back at once.
      if (attempt === 'held' && this.#o.releaseOnStop !== false) await this.#release();
      return;
    }
    const leadership = new AbortController();
    this.#setLeading(true);
    this.#log.info('became leader', { identity: this.#o.identity });
    this.#callback('onStartedLeading', () => this.#o.onStartedLeading(leadership.signal));
    const reason = await this.#renewLoop();
    if (reason === 'released' && this.#o.releaseOnStop !== false) await this.#release();
    this.#setLeading(false);
    leadership.abort();
    if (reason === 'lost') this.#log.error('leadership lost', { identity: this.#o.identity });
    else this.#log.info('leadership released', { identity: this.#o.identity });
    this.#callback('onStoppedLeading', () => this.#o.onStoppedLeading(reason));
  }

  /** Runs a callback; its failure is logged, never allowed to stop renewals or the release. */
  #callback(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error(`${name} failed`, { error: err });
    }
  }

  /** Renews every retry period until stopped ('released') or a renewal fails past the deadline ('lost'). */
  async #renewLoop(): Promise<StopReason> {
    const stopped = this.#stop.signal;
    for (;;) {
      await sleep(this.#clock, this.#retryMs, stopped);
      if (stopped.aborted) return 'released';
      if (!(await this.#renewWithinDeadline())) return stopped.aborted ? 'released' : 'lost';
    }
  }

  async #renewWithinDeadline(): Promise<boolean> {
    const deadline = this.#clock.now() + this.#renewMs;
    for (;;) {
      const left = deadline - this.#clock.now();
      const result = await this.#withDeadline(this.#tryAcquireOrRenew(), left);
      if (result === 'held') return true;
      // Someone else holds a lease that is valid by our clock: there is nothing to renew.
      if (result === 'held-by-other' || this.#stop.signal.aborted) return false;
      if (this.#clock.now() + this.#retryMs >= deadline) return false;
      await sleep(this.#clock, this.#retryMs, this.#stop.signal);
    }
  }

  /** One attempt (client-go's tryAcquireOrRenew): read the Lease, then create or take/renew it. */
  async #tryAcquireOrRenew(): Promise<Attempt> {
    const { port, namespace, name, identity } = this.#o;
    let lease: KubeObject | undefined;
    try {
      lease = await port.get(LEASE_TYPE, name, namespace);
    } catch (err) {
      this.#log.warn('reading the lease failed', { error: err });
      return 'error';
    }
    const now = this.#clock.now();
    if (!lease) return this.#write(() => port.create(LEASE_TYPE, this.#newLease()), now);
    const spec = (lease['spec'] ?? {}) as LeaseSpec;
    this.#observe(lease, spec, now);
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.#leaseMs / 1000) * 1000;
    if (holder !== '' && holder !== identity && now < this.#observedAt + durationMs) return 'held-by-other';
    const renewing = holder === identity;
    const at = toMicroTime(this.#clock.date());
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
      acquireTime: renewing && spec.acquireTime ? spec.acquireTime : at,
      renewTime: at,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
    };
    return this.#write(() => port.replace(LEASE_TYPE, { ...lease, spec: next }), now);
  }

  async #write(write: () => Promise<KubeObject>, now: number): Promise<Attempt> {
    try {
      const written = await write();
      this.#observe(written, (written['spec'] ?? {}) as LeaseSpec, now);
      return 'held';
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) {
        this.#log.debug('lost a race for the lease', { reason: err.reason });
        return 'conflict';
      }
      this.#log.warn('writing the lease failed', { error: err });
      return 'error';
    }
  }

  /** Remembers the Lease and, when its spec changed, the local time of that change. */
  #observe(lease: KubeObject, spec: LeaseSpec, now: number): void {
    this.#lease = lease;
    const key = JSON.stringify([spec.holderIdentity ?? '', spec.leaseDurationSeconds, spec.acquireTime, spec.renewTime, spec.leaseTransitions]);
    if (key === this.#observedSpec) return;
    this.#observedSpec = key;
    this.#observedAt = now;
    const holder = spec.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      if (holder !== '') this.#callback('onNewLeader', () => this.#o.onNewLeader?.(holder));
    }
  }

  #newLease(): KubeObject {
    const at = toMicroTime(this.#clock.date());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace },
      spec: { holderIdentity: this.#o.identity, leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000), acquireTime: at, renewTime: at, leaseTransitions: 0 },
    };
  }

  /** Clears the holder (and shortens the lease to 1 s) so that a successor takes over at its next try. */
  async #release(): Promise<void> {
    const lease = this.#lease;
    const spec = (lease?.['spec'] ?? {}) as LeaseSpec;
    if (!lease || spec.holderIdentity !== this.#o.identity) return;
    const at = toMicroTime(this.#clock.date());
    const released: LeaseSpec = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at, renewTime: at, leaseTransitions: spec.leaseTransitions ?? 0 };
    try {
      await this.#o.port.replace(LEASE_TYPE, { ...lease, spec: released });
    } catch (err) {
      // The successor waits for expiry instead; nothing else depends on the release.
      this.#log.warn('releasing the lease failed', { error: err });
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#o.onLeadershipChange?.(leading);
  }

  /** `attempt`'s result, or 'error' when `ms` passes first (the attempt is then abandoned). */
  async #withDeadline(attempt: Promise<Attempt>, ms: number): Promise<Attempt> {
    if (ms <= 0) return 'error';
    const giveUp = new AbortController();
    const late = sleep(this.#clock, ms, giveUp.signal).then((): Attempt => 'error');
    const result = await Promise.race([attempt, late]);
    giveUp.abort();
    return result;
  }
}
