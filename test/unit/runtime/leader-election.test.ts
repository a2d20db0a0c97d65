import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError, type KubeObject } from '../../../src/controller/port.js';
import { LEASE_TYPE, LeaderElector, type LeaderElectionOptions, type StopReason } from '../../../src/controller/runtime/leader-election.js';
import { toMicroTime } from '../../../src/controller/runtime/micro-time.js';
import { FakeClock } from './fakes/fake-clock.js';
import { FakePort } from './fakes/fake-port.js';

const NS = 'cnp-system';
const NAME = 'cnp-operator';

interface Candidate {
  elector: LeaderElector;
  started: number;
  stopped: StopReason[];
  leading: boolean[];
}

const electors: LeaderElector[] = [];

function candidate(port: FakePort, clock: FakeClock, identity: string, options: Partial<LeaderElectionOptions> = {}): Candidate {
  const c: Candidate = { elector: undefined as unknown as LeaderElector, started: 0, stopped: [], leading: [] };
  c.elector = new LeaderElector({
    port,
    clock,
    random: () => 0,
    namespace: NS,
    name: NAME,
    identity,
    onStartedLeading: () => c.started++,
    onStoppedLeading: (reason) => c.stopped.push(reason),
    onLeadershipChange: (l) => c.leading.push(l),
    ...options,
  });
  electors.push(c.elector);
  return c;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

function spec(port: FakePort): LeaseSpec {
  return (port.peek(LEASE_TYPE, NAME, NS)?.['spec'] ?? {}) as LeaseSpec;
}

function lease(s: LeaseSpec): KubeObject {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: NAME, namespace: NS }, spec: s };
}

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

describe('toMicroTime', () => {
  it('writes six fractional digits, as the API server parses MicroTime', () => {
    expect(toMicroTime(new Date('2026-11-25T13:00:00Z'))).toBe('2026-11-25T13:00:00.000000Z');
    expect(toMicroTime(new Date('2026-11-25T13:00:02.5Z'))).toBe('2026-11-25T13:00:02.500000Z');
  });
});

describe('LeaderElector', () => {
  it('creates the Lease when there is none and leads', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    expect(a.started).toBe(1);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.leading).toEqual([true]);
    expect(spec(port)).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-25T13:00:00.000000Z',
      renewTime: '2026-11-25T13:00:00.000000Z',
      leaseTransitions: 0,
    });
  });

  it('renews every retry period, keeping acquireTime, while another candidate waits', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    const b = candidate(port, clock, 'b');
    b.elector.start();
    await clock.advance(60_000);
    expect(b.started).toBe(0);
    expect(b.elector.observedLeader()).toBe('a');
    expect(spec(port)).toMatchObject({ holderIdentity: 'a', acquireTime: '2026-11-25T13:00:00.000000Z', renewTime: '2026-11-25T13:01:00.000000Z' });
  });

  it('takes over an abandoned Lease only a full lease duration after it last saw it change, whatever its renewTime says', async () => {
    for (const renewTime of ['2020-01-01T00:00:00.000000Z', '2030-01-01T00:00:00.000000Z']) {
      const port = new FakePort();
      const clock = new FakeClock();
      // A holder that died, writing times from a clock far behind or far ahead of ours.
      port.put(LEASE_TYPE, lease({ holderIdentity: 'dead', leaseDurationSeconds: 15, acquireTime: renewTime, renewTime, leaseTransitions: 3 }));
      const b = candidate(port, clock, 'b');
      b.elector.start();
      await clock.advance(14_999);
      expect(b.started).toBe(0);
      // Retries come every 2 s (jitter is 0 here): the first after expiry is at 16 s.
      await clock.advance(1_001);
      expect(b.started).toBe(1);
      expect(spec(port)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
      await b.elector.stop();
    }
  });

  it('a holder renewing keeps the Lease valid: a waiting candidate never takes it', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    const b = candidate(port, clock, 'b');
    b.elector.start();
    await clock.advance(300_000);
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
  });

  it('loses at once when another identity took the Lease', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    // Someone else (say, after a long pause of ours) wrote the Lease.
    port.put(LEASE_TYPE, { ...port.peek(LEASE_TYPE, NAME, NS)!, spec: { ...spec(port), holderIdentity: 'intruder' } });
    await clock.advance(2_000);
    expect(a.stopped).toEqual(['lost']);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.leading).toEqual([true, false]);
    // It does not compete again: the manager exits on 'lost'.
    await clock.advance(60_000);
    expect(spec(port).holderIdentity).toBe('intruder');
  });

  it('treats a 409 as a lost race: of two candidates starting together, exactly one leads', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    port.put(LEASE_TYPE, lease({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 1 }));
    const a = candidate(port, clock, 'a');
    const b = candidate(port, clock, 'b');
    a.elector.start();
    b.elector.start();
    await clock.advance(30_000);
    expect(a.started + b.started).toBe(1);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(port.calls.some((c) => c.op === 'replace')).toBe(true);
  });

  it('retries renewals within the renew deadline, then reports the lease lost', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    let lastRenew = 0;
    port.hook = (op) => {
      if (op === 'replace') lastRenew = clock.now();
    };
    await clock.advance(4_000);
    const failingFrom = clock.now();
    port.hook = (op) => {
      throw new KubeApiError(503, 'ServiceUnavailable', `${op}: apiserver down`);
    };
    await clock.advance(9_000);
    expect(a.stopped).toEqual([]);
    expect(a.elector.isLeader()).toBe(true);
    await clock.until(() => a.stopped.length > 0, 10_000, 100);
    expect(a.stopped).toEqual(['lost']);
    // Given up within the renew deadline (10 s) of the first failed renewal, before the 15 s lease runs out.
    const lostAfter = clock.now() - failingFrom;
    expect(lostAfter).toBeGreaterThanOrEqual(10_000);
    expect(lostAfter).toBeLessThan(15_000 - (failingFrom - lastRenew));
  });

  it('gives up a renewal whose request hangs past the deadline', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    const realGet = port.get.bind(port);
    port.get = () => new Promise<never>(() => undefined);
    await clock.advance(2_000 + 10_000);
    expect(a.stopped).toEqual(['lost']);
    port.get = realGet;
  });

  it('releases the Lease on stop, and a waiting candidate takes over at its next retry', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    const b = candidate(port, clock, 'b');
    b.elector.start();
    await clock.advance(10_000);
    await a.elector.stop();
    expect(a.stopped).toEqual(['released']);
    expect(spec(port)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const releasedAt = clock.now();
    await clock.until(() => b.started === 1, 10_000, 10);
    // Far sooner than the 15 s lease: at b's next retry (2 s with zero jitter).
    expect(clock.now() - releasedAt).toBeLessThanOrEqual(2_000);
    expect(spec(port)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('keeps the Lease on stop when release is disabled', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a', { releaseOnStop: false });
    a.elector.start();
    await clock.advance(0);
    await a.elector.stop();
    expect(spec(port).holderIdentity).toBe('a');
  });

  it('a candidate that never led reports nothing on stop', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    const b = candidate(port, clock, 'b');
    b.elector.start();
    await clock.advance(5_000);
    await b.elector.stop();
    expect(b.stopped).toEqual([]);
    expect(spec(port).holderIdentity).toBe('a');
  });

  it('aborts the leadership signal when leadership ends', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    let signal: AbortSignal | undefined;
    const a = candidate(port, clock, 'a', { onStartedLeading: (s) => (signal = s) });
    a.elector.start();
    await clock.advance(0);
    expect(signal?.aborted).toBe(false);
    await a.elector.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('rejects timings that would let two leaders overlap', () => {
    const port = new FakePort();
    const clock = new FakeClock();
    expect(() => candidate(port, clock, 'a', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/renewDeadline/);
  });
});

describe('LeaderElector callbacks', () => {
  it('keeps renewing when onStartedLeading throws', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const a = candidate(port, clock, 'a', {
      onStartedLeading: () => {
        throw new Error('manager bug');
      },
    });
    a.elector.start();
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(spec(port).renewTime).toBe('2026-11-25T13:00:10.000000Z');
  });
});
