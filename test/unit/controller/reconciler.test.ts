import { describe, expect, it } from 'vitest';
import type { Backend, Detection } from '../../../src/controller/backend.js';
import { KubeApiError, type KubeObject, type KubePort, type ResourceType } from '../../../src/controller/port.js';
import { RECOMPUTE_KEY, Reconciler } from '../../../src/controller/reconciler.js';
import { ParsedCnps } from '../../../src/controller/snapshot-from-cache.js';
import { calicoTranslator } from '../../../src/controller/translator.js';
import { createLogger, type Logger } from '../../../src/controller/runtime/index.js';

// An event about an object that arrives while the operator is writing that object: the echo of
// the write itself must not cost a reconcile, and anything else must not be lost. The fake port
// holds the write open until the test has delivered the event, which a real API server cannot
// be made to do on purpose.

const calico = (plural: string, kind: string): ResourceType => ({ group: 'projectcalico.org', version: 'v3', plural, kind, namespaced: false });
const CNP_TYPE: ResourceType = { group: 'policy.networking.k8s.io', version: 'v1beta1', plural: 'clusternetworkpolicies', kind: 'ClusterNetworkPolicy', namespaced: false };
const GNP = 'GlobalNetworkPolicy';

const backend: Backend = {
  name: 'calico',
  description: 'Calico (test)',
  types: [calico('tiers', 'Tier'), calico('globalnetworkpolicies', GNP), calico('globalnetworksets', 'GlobalNetworkSet')],
  inputs: { networkPolicies: false, nodes: false, namespaces: false, pods: false },
  translator: () => calicoTranslator({ api: 'projectcalico.org/v3' }),
};

const cnp: KubeObject = {
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'deny-a', uid: 'uid-a', generation: 1, resourceVersion: '5' },
  spec: { tier: 'Admin', priority: 10, subject: { namespaces: {} }, ingress: [{ name: 'deny', action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'a' } } }] }] },
};

/** What the API server answers for a create: the object as stored, at a resourceVersion. */
const stored = (obj: KubeObject, resourceVersion: string): KubeObject => ({
  ...structuredClone(obj),
  metadata: { ...structuredClone(obj.metadata), uid: `uid-${obj.metadata.name}`, resourceVersion, managedFields: [{ manager: 'cnp-operator', operation: 'Update' }] },
});

function setUp(backlog?: () => boolean, log?: Logger) {
  const parsed = new ParsedCnps();
  parsed.ingest(cnp);
  const enqueued: string[] = [];
  const enqueuedLow: string[] = [];
  const statuses: KubeObject[] = [];
  // What the fake API server holds, by kind and name; and whether the CNP exists.
  const live = new Map<string, KubeObject>();
  const state = { cnpExists: true, cnp, looked: 0 };
  let releaseCreate: (rv: string) => void = () => undefined;
  let createStarted: (obj: KubeObject) => void = () => undefined;
  const gnpCreate = new Promise<KubeObject>((resolve) => (createStarted = resolve));
  const unexpected = (what: string) => () => Promise.reject(new Error(`unexpected ${what}`));
  const port: KubePort = {
    list: unexpected('list'),
    watch: unexpected('watch'),
    get: unexpected('get'),
    replace: unexpected('replace'),
    apply: unexpected('apply'),
    delete: unexpected('delete'),
    discover: unexpected('discover'),
    preferredVersion: unexpected('preferredVersion'),
    applyStatus: (_type, obj) => {
      statuses.push(obj);
      return Promise.resolve();
    },
    create: (_type, obj) => {
      // Tiers go through at once; the policy's write waits for the test.
      if (obj.kind !== GNP) {
        live.set(`${obj.kind}/${obj.metadata.name}`, stored(obj, '1'));
        return Promise.resolve(stored(obj, '1'));
      }
      createStarted(obj);
      return new Promise((resolve) =>
        (releaseCreate = (rv) => {
          live.set(`${obj.kind}/${obj.metadata.name}`, stored(obj, rv));
          resolve(stored(obj, rv));
        }));
    },
  };
  const detection: Detection = { kind: 'ready', backend };
  const reconciler = new Reconciler({
    port,
    cnpType: CNP_TYPE,
    detection: () => detection,
    fieldManager: 'cnp-operator',
    events: { emit: () => undefined },
    // Rechecks after the analysis come in the low lane: only the others matter here.
    enqueue: (key, options) => {
      if (options?.low !== true) enqueued.push(key);
      else enqueuedLow.push(key);
    },
    ...(backlog === undefined ? {} : { backlog }),
    ...(log === undefined ? {} : { log }),
    now: () => '2026-12-05T00:00:00Z',
    caches: {
      inputs: () => ({ cnps: parsed.list(), networkPolicies: [], nodes: [], namespaces: [], pods: [] }),
      // The CNP as the cache would have it: with the status last written.
      cnp: (name) => (name !== cnp.metadata.name || !state.cnpExists ? undefined : statuses.length === 0 ? state.cnp : { ...state.cnp, status: statuses.at(-1)!['status'] }),
      owned: () => [],
      existing: (obj) => (state.looked++, live.get(`${obj.kind}/${obj.metadata.name}`)),
    },
  });
  return { reconciler, enqueued, enqueuedLow, statuses, gnpCreate, state, port, parsed, live, release: (rv: string) => releaseCreate(rv) };
}

/** Starts the CNP's reconcile and returns once its policy's create is on its way, with what is being written. */
async function writing(t: ReturnType<typeof setUp>): Promise<{ done: Promise<void>; want: KubeObject }> {
  await t.reconciler.reconcile(RECOMPUTE_KEY);
  t.enqueued.length = 0;
  const done = t.reconciler.reconcile(cnp.metadata.name);
  return { done, want: await t.gnpCreate };
}

describe('an event that arrives while its object is being written', () => {
  it('is not judged before the write returns, and costs nothing when it is the write\'s own echo', async () => {
    const t = setUp();
    const { done, want } = await writing(t);
    expect(t.reconciler.differsFromDesired(stored(want, '42'))).toBe(false);
    t.release('42');
    await done;
    expect(t.enqueued).toEqual([]);
    // Later deliveries of the same version are the echo too.
    expect(t.reconciler.differsFromDesired(stored(want, '42'))).toBe(false);
  });

  it('queues its owner again when it was not the echo (someone else wrote in between)', async () => {
    const t = setUp();
    const { done, want } = await writing(t);
    const edited = stored(want, '43');
    edited['spec'] = { ...(edited['spec'] as object), selector: 'all()' };
    expect(t.reconciler.differsFromDesired(edited)).toBe(false);
    t.release('42');
    await done;
    expect(t.enqueued).toEqual([cnp.metadata.name]);
  });

  it('queues nothing when no event came meanwhile, and judges later events against what is wanted', async () => {
    const t = setUp();
    const { done, want } = await writing(t);
    t.release('42');
    await done;
    expect(t.enqueued).toEqual([]);
    const edited = stored(want, '44');
    edited['spec'] = { ...(edited['spec'] as object), selector: 'all()' };
    expect(t.reconciler.differsFromDesired(edited)).toBe(true);
    expect(t.reconciler.differsFromDesired(stored(want, '45'))).toBe(false);
  });
});

describe('condition counts (the cnp_conditions gauge)', () => {
  it('follow the statuses as they are written, and forget a deleted CNP', async () => {
    const t = setUp();
    const { done } = await writing(t);
    t.release('42');
    await done;
    // The status waits for the rule analysis, which runs in the background: reconcile until it is written.
    for (let i = 0; i < 1000 && t.reconciler.conditionCounts().length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await t.reconciler.reconcile(cnp.metadata.name);
    }
    const counts = () => Object.fromEntries(t.reconciler.conditionCounts().map(([c, n]) => [`${c.type}/${c.status}/${c.reason}`, n]));
    expect(counts()).toEqual({ 'Accepted/True/Accepted': 1, 'Programmed/True/Programmed': 1, 'Exact/True/Exact': 1 });
    // Written again with the same conditions: still one CNP.
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(counts()).toEqual({ 'Accepted/True/Accepted': 1, 'Programmed/True/Programmed': 1, 'Exact/True/Exact': 1 });
    t.state.cnpExists = false;
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(counts()).toEqual({});
  });
});

describe('the debug log of status writes', () => {
  it('names what each write changes: every condition at first, then the fields someone else changed', async () => {
    const lines: string[] = [];
    const t = setUp(undefined, createLogger({ level: 'debug', write: (line) => lines.push(line) }));
    const { done } = await writing(t);
    t.release('42');
    await done;
    for (let i = 0; i < 1000 && t.statuses.length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await t.reconciler.reconcile(cnp.metadata.name);
    }
    const written = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'status written');
    expect(written()).toEqual([expect.objectContaining({ cnp: cnp.metadata.name, changed: ['Accepted', 'Programmed', 'Exact'] })]);
    // Someone else rewrites the Accepted message: it is written back, and the log says what moved.
    const status = t.statuses.at(-1)!['status'] as { conditions: { type: string; message: string }[] };
    t.statuses.push({ ...t.statuses.at(-1)!, status: { conditions: status.conditions.map((c) => (c.type === 'Accepted' ? { ...c, message: 'edited' } : c)) } });
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(written().at(-1)).toEqual(expect.objectContaining({ changed: ['Accepted.message'] }));
  });
});

describe('a status behind queued work', () => {
  /** Reconciles the CNP until the rule analysis (in the background) has settled and the status is decided: backlog is asked then. */
  async function decided(t: ReturnType<typeof setUp>, asked: () => number): Promise<void> {
    const { done } = await writing(t);
    t.release('42');
    await done;
    for (let i = 0; i < 1000 && asked() === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      t.enqueuedLow.length = 0;
      await t.reconciler.reconcile(cnp.metadata.name);
    }
    expect(asked()).toBe(1);
  }

  it('waits once behind queued work (its key in the low lane), then is written even if work still waits', async () => {
    let asked = 0;
    const t = setUp(() => (asked++, true));
    await decided(t, () => asked);
    expect(t.statuses).toEqual([]);
    expect(t.enqueuedLow).toEqual([cnp.metadata.name]);
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(t.statuses.map((s) => s.metadata.name)).toEqual([cnp.metadata.name]);
    // Written: with work still waiting, an unchanged status neither waits nor is written again.
    t.enqueuedLow.length = 0;
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(t.statuses).toHaveLength(1);
    expect(t.enqueuedLow).toEqual([]);
  });

  // The pass that wrote the objects left the status for later; what the pass that writes it does.
  it.each([
    { queued: 'by nothing else', invalidated: 'never', looksAgain: false },
    { queued: 'by something else meanwhile', invalidated: 'after', looksAgain: true },
    { queued: 'by something else during the pass that left it', invalidated: 'during', looksAgain: true },
  ] as const)('is written, the objects made and compared again only when the CNP was queued $queued', async ({ invalidated, looksAgain }) => {
    let asked = 0;
    const t = setUp(() => (asked++, invalidated === 'during' && t.reconciler.invalidate(cnp.metadata.name), true));
    await decided(t, () => asked);
    t.state.looked = 0;
    if (invalidated === 'after') t.reconciler.invalidate(cnp.metadata.name);
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(t.statuses.map((s) => s.metadata.name)).toEqual([cnp.metadata.name]);
    expect(t.state.looked > 0).toBe(looksAgain);
  });

  it('is written at once when no work waits', async () => {
    let asked = 0;
    const t = setUp(() => (asked++, false));
    await decided(t, () => asked);
    expect(t.statuses.map((s) => s.metadata.name)).toEqual([cnp.metadata.name]);
    expect(t.enqueuedLow).toEqual([]);
  });
});

describe('an update of an object whose last write the cache holds', () => {
  /** The CNP programmed (its policy written at resourceVersion 42 and in the cache), then changed. */
  async function changed(t: ReturnType<typeof setUp>): Promise<KubeObject> {
    const { done } = await writing(t);
    t.release('42');
    await done;
    const next: KubeObject = { ...cnp, metadata: { ...cnp.metadata, generation: 2 }, spec: { ...(cnp['spec'] as object), priority: 11 } };
    t.state.cnp = next;
    t.parsed.ingest(next);
    await t.reconciler.reconcile(RECOMPUTE_KEY);
    return next;
  }
  const replaced: KubeObject[] = [];
  const got: string[] = [];
  const answer = (obj: KubeObject, rv: string): Promise<KubeObject> => Promise.resolve({ ...obj, metadata: { ...obj.metadata, resourceVersion: rv } });

  it('is written over it without reading it first, with its resourceVersion as the precondition', async () => {
    const t = setUp();
    replaced.length = got.length = 0;
    t.port.get = (_type, name) => (got.push(name), Promise.reject(new Error('unexpected get')));
    t.port.replace = (_type, obj) => (replaced.push(obj), answer(obj, '50'));
    await changed(t);
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(got).toEqual([]);
    expect(replaced.map((o) => [o.kind, o.metadata.resourceVersion])).toEqual([[GNP, '42']]);
    expect((replaced[0]!['spec'] as { order: number }).order).not.toBe((t.live.get(`${GNP}/${replaced[0]!.metadata.name}`)!['spec'] as { order: number }).order);
  });

  it('is read from the API server when that precondition fails (the cache lagged, or someone wrote since)', async () => {
    const t = setUp();
    replaced.length = got.length = 0;
    t.port.get = (_type, name) => (got.push(name), Promise.resolve(stored(t.live.get(`${GNP}/${name}`)!, '47')));
    t.port.replace = (_type, obj) => {
      replaced.push(obj);
      return obj.metadata.resourceVersion === '42' ? Promise.reject(new KubeApiError(409, 'Conflict', 'the object has been modified')) : answer(obj, '50');
    };
    await changed(t);
    await t.reconciler.reconcile(cnp.metadata.name);
    expect(replaced.map((o) => o.metadata.resourceVersion)).toEqual(['42', '47']);
    expect(got).toHaveLength(1);
  });
});

describe('the echo of a status write', () => {
  it('is taken for ours when it arrives before the write\'s answer, and nothing else is', async () => {
    const t = setUp(() => false);
    let sent: KubeObject | undefined;
    let answer: () => void = () => undefined;
    t.port.applyStatus = (_type, obj) => {
      sent = obj;
      return new Promise((resolve) => (answer = () => resolve()));
    };
    const { done } = await writing(t);
    t.release('42');
    // The analysis runs in the background: reconcile until the status write has started.
    let pass = done;
    for (let i = 0; i < 1000 && sent === undefined; i++) {
      for (let j = 0; j < 20 && sent === undefined; j++) await new Promise((resolve) => setImmediate(resolve));
      if (sent !== undefined) break;
      await pass;
      pass = t.reconciler.reconcile(cnp.metadata.name);
    }
    const echo: KubeObject = { ...cnp, status: sent!['status'] };
    const conditions = (sent!['status'] as { conditions: { type: string; status: string }[] }).conditions;
    const edited: KubeObject = { ...cnp, status: { conditions: conditions.map((c) => (c.type === 'Programmed' ? { ...c, status: 'False' } : c)) } };
    expect(t.reconciler.statusDiffers(echo)).toBe(false);
    expect(t.reconciler.statusDiffers(edited)).toBe(true);
    answer();
    await pass;
    expect(t.reconciler.statusDiffers(echo)).toBe(false);
    expect(t.reconciler.statusDiffers(edited)).toBe(true);
  });
});
