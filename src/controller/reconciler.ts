import { formatDiagnostic } from '../api/diagnostics.js';
import type { Policy } from '../api/model.js';
import { IncrementalAnalysis } from '../semantics/analysis.js';
import { analysisWarnings } from '../semantics/analysis-warnings.js';
import { digest } from '../translate/digest.js';
import { apiVersionOf, typeFor, type Backend, type Detection } from './backend.js';
import { ACCEPTED, computeConditions, conditionsEqual, keep, PROGRAMMED, type Condition, type KeptCondition, type ProgramState } from './conditions.js';
import { changedOwners, groupTranslation, objectKey, SHARED_KEY, type DesiredState } from './desired.js';
import type { Translator } from './translator.js';
import { nativeDeviations } from '../translate/native.js';
import { comparedDigest, differences, mayTakeOver, replacement, writtenBy } from './drift.js';
import { DESIRED_DIGEST_ANNOTATION } from '../translate/digest.js';
import { KubeApiError, type KubeObject, type KubePort, type ResourceType } from './port.js';
import type { EventSink, Logger } from './runtime/index.js';
import { buildSnapshot, type ClusterInputs, type ParsedCnp } from './snapshot-from-cache.js';

/** The key that recomputes the translation; every other key is a CNP name or SHARED_KEY. */
export const RECOMPUTE_KEY = '@recompute';
/**
 * How long the analysis works before it lets other work run (it can be long with thousands of
 * CNPs). Short: at start-up it runs while the first objects are written, and a worker whose
 * answer came back waits for the slice to end before it sends the next write (with 10 ms, the
 * API server stood idle for most of the analysis's 0.5 s at 5,000 CNPs).
 */
const ANALYSIS_SLICE_MS = 2;
export const SHARED_QUEUE_KEY = '@shared';

export interface Caches {
  inputs(): ClusterInputs;
  cnp(name: string): KubeObject | undefined;
  /** Objects of one owner carrying the operator's managed-by label, of the backend's kinds. */
  owned(owner: string): readonly KubeObject[];
  /** The live object of that kind and name, whoever made it (from the cache). */
  existing(obj: { apiVersion: string; kind: string; metadata: { name: string } }): KubeObject | undefined;
}

export interface ReconcilerHooks {
  driftCorrected?(obj: KubeObject): void;
  managedObjects?(count: number): void;
}

export interface ReconcilerOptions {
  readonly port: KubePort;
  readonly caches: Caches;
  /** The served CNP version to write status through. */
  readonly cnpType: ResourceType;
  readonly detection: () => Detection;
  /** What every CNP's Accepted condition should also say (about the installed CRD). */
  readonly notes?: () => readonly string[];
  readonly fieldManager: string;
  readonly events: EventSink;
  /** Queues a key; `low` for rechecks that must not delay others' changes (see AddOptions). */
  readonly enqueue: (key: string, options?: { readonly low?: boolean }) => void;
  /** Whether changes wait for a worker (the queue's front lane is not empty): statuses then wait behind them. */
  readonly backlog?: () => boolean;
  readonly now: () => string;
  readonly hooks?: ReconcilerHooks;
  readonly log?: Logger;
}

/**
 * Level-triggered reconcile of CNPs into backend objects. The translation is
 * global (Cilium compiles each policy against the ones before it), so it is
 * recomputed under one key and only owners whose output changed are re-queued.
 */
export class Reconciler {
  private desired: DesiredState | undefined;
  private parsed = new Map<string, ParsedCnp>();
  /** Digests of the analysis warnings, by policy name: what tells which statuses to rewrite. */
  private warnings = new Map<string, string>();
  /** Objects of ours deleted by someone else while wanted (seen in watch events), until restored. */
  private readonly deletedWhileWanted = new Set<string>();
  /**
   * Where the API server stores an object differently from how it was written (defaults, a
   * normalising API server): by object key, the desired digest and what the stored form
   * compares as. Empty for exact backends; keeps such objects from being rewritten forever.
   */
  private readonly stored = new Map<string, { readonly desired: string; readonly compared: string }>();
  drifts = 0;
  /** The backend written to last: where a stand-down cleans up. */
  private lastBackend: Backend | undefined;

  constructor(private readonly o: ReconcilerOptions) {}

  async reconcile(key: string): Promise<void> {
    if (key === RECOMPUTE_KEY) return this.recompute();
    if (this.desired === undefined) this.recompute();
    if (key === SHARED_QUEUE_KEY) {
      if (this.o.detection().kind === 'stand-down') {
        await this.deleteOwned(SHARED_KEY, new Set());
        return;
      }
      const state = await this.reconcileOwner(SHARED_KEY, undefined);
      this.sharedInSync = state.kind === 'programmed';
      if (state.kind !== 'programmed' && state.kind !== 'backend-unavailable') throw new Error(`shared objects: ${'message' in state ? state.message : state.kind}`);
      return;
    }
    return this.reconcileCnp(key);
  }

  /** Shared objects (tiers) must exist before policies that name them: Felix denies for a missing tier. */
  private sharedInSync = false;

  private policies: readonly Policy[] = [];
  private readonly analysis = new IncrementalAnalysis();

  /** The analysis task; settled when the analysis has caught up with the last snapshot. */
  private analysing: Promise<void> = Promise.resolve();
  private analysisBehind = false;

  /**
   * Brings the analysis up to the last snapshot's policies, in the background and in slices
   * that let other work run, then re-queues every CNP whose warnings changed: shadowing and
   * ties depend on the other policies, so a CNP's Accepted message changes when any CNP does.
   * Not a queue key: statuses wait for it (see analysisSettled), which a worker could not.
   */
  private scheduleAnalysis(): void {
    if (this.analysisBehind) return;
    this.analysisBehind = true;
    this.analysing = this.analysing.then(async () => {
      // Changes that arrive while this runs are taken by the next run.
      this.analysisBehind = false;
      this.analysisRunning = true;
      try {
        await this.analyse();
      } finally {
        this.analysisRunning = false;
      }
      if (!this.analysisBehind) {
        // Their objects are written; only the status is left.
        for (const name of this.awaitingAnalysis) this.o.enqueue(name, { low: true });
        this.awaitingAnalysis.clear();
      }
    });
  }

  private async analyse(): Promise<void> {
    let slice = performance.now();
    for (const _ of this.analysis.update(this.policies)) {
      if (performance.now() - slice < ANALYSIS_SLICE_MS) continue;
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
    // Digests, not the words: thousands of shadowed rules' messages are made when written.
    // Only policies whose analysis moved are looked at: one change among thousands of CNPs
    // must not cost words for all of them.
    for (const name of this.analysis.changed()) {
      const before = this.warnings.get(name);
      const words = this.analysis.has(name) ? this.warningsOf(name) : [];
      if (words.length > 0) this.warnings.set(name, digest(words.join('\n')));
      else this.warnings.delete(name);
      // Another CNP's change moved this one's warnings: after the changes themselves.
      if (before !== this.warnings.get(name)) this.o.enqueue(name, { low: true });
    }
  }

  private warningsOf(name: string): string[] {
    return analysisWarnings(this.analysis.forPolicy(name), name);
  }

  private analysisRunning = false;
  /** CNPs whose status was put behind queued work once (see reconcileCnp). */
  private readonly statusDeferred = new Set<string>();
  /**
   * What the last pass of a CNP found when it left the status for later (behind the analysis
   * or queued work): its objects were written for that fingerprint, so the pass that writes the
   * status need not make and compare them again (at start-up, thousands of CNPs are made once
   * instead of two or three times). Anything else that queues the CNP forgets it (see invalidate).
   */
  private readonly programmedFor = new Map<string, { readonly fingerprint: string | undefined; readonly program: ProgramState }>();
  /** Keys queued for another reason since their pass began: what that pass found may be out of date already. */
  private readonly touched = new Set<string>();

  /**
   * Tells the reconciler that a key is queued for a reason of the world's (an event, a relist,
   * a new detection), not its own: the CNP's objects must be looked at again.
   */
  invalidate(key: string): void {
    this.programmedFor.delete(key);
    this.touched.add(key);
  }

  /** Notes that a CNP's objects are written as wanted while its status waits for another pass. */
  private statusLater(name: string, program: ProgramState): void {
    if (program.kind === 'programmed' && !this.touched.has(name)) this.programmedFor.set(name, { fingerprint: this.desired?.fingerprints.get(name), program });
  }
  /** CNPs whose objects are written and whose status waits for the analysis: queued again when it has caught up. */
  private readonly awaitingAnalysis = new Set<string>();

  /**
   * Whether the analysis has caught up: a status written then carries current warnings, so
   * each CNP's status is written once, not once before its warnings and again after. A worker
   * does not wait for it (thousands of CNPs at start-up would hold every worker while objects
   * remain to be written); the CNP is queued again when the analysis is done.
   */
  private analysisSettled(): boolean {
    return !this.analysisBehind && !this.analysisRunning;
  }

  /** The translator of the backend written to now (a new one when the backend changes). */
  private translator: { readonly backend: string; readonly translator: Translator } | undefined;

  private recompute(): void {
    const detection = this.o.detection();
    const inputs = this.o.caches.inputs();
    const snapshot = buildSnapshot(inputs);
    const previousParsed = this.parsed;
    const parsed = new Map(inputs.cnps.map((p) => [p.name, p]));
    this.parsed = parsed;
    this.policies = snapshot.policies;
    // Warnings follow in the background: a policy's objects need not wait for them.
    this.scheduleAnalysis();
    const before = this.desired;
    let changed: Set<string>;
    if (detection.kind === 'ready') {
      const fresh = this.translator?.backend !== detection.backend.description;
      if (fresh) this.translator = { backend: detection.backend.description, translator: detection.backend.translator() };
      const update = this.translator!.translator.update(snapshot);
      this.desired = update.desired;
      // A new translator knows nothing of what was wanted before: compare with the last state.
      // (Not otherwise: a translator may update its state in place, so `before` is no record then.)
      changed = new Set(fresh ? changedOwners(before, this.desired) : update.changed);
    } else {
      this.translator = undefined;
      // Standing down, the findings are where the CNI's own enforcement departs from the API.
      const findings = detection.kind === 'stand-down' && detection.native !== undefined ? nativeDeviations(snapshot, detection.native) : [];
      this.desired = groupTranslation({ objects: [], findings });
      changed = new Set(changedOwners(before, this.desired));
    }
    if (changed.has(SHARED_KEY)) this.sharedInSync = false;
    // Warnings from analysis depend on other policies too: re-check every CNP whose inputs moved.
    for (const name of parsed.keys()) if (previousParsed.get(name)?.generation !== parsed.get(name)?.generation) changed.add(name);
    if (before === undefined) for (const name of parsed.keys()) changed.add(name);
    for (const key of changed) {
      this.invalidate(key);
      this.o.enqueue(key === SHARED_KEY ? SHARED_QUEUE_KEY : key);
    }
    this.o.hooks?.managedObjects?.(this.desired.ownerByKey.size);
  }

  /**
   * Notes the deletion of an object of ours that is still wanted while its CNP exists: that
   * is drift (we delete only what is no longer wanted, and garbage collection only what
   * belonged to a deleted CNP). Changes need no note: an object carries the digest of what it
   * was written for (see reconcileObject).
   */
  observeDeletion(obj: KubeObject): void {
    if (this.o.detection().kind !== 'ready') return;
    const owner = this.ownerOfDesired(obj);
    if (owner === undefined) return;
    if (owner !== SHARED_KEY) {
      const cnp = this.o.caches.cnp(owner);
      if (cnp === undefined || cnp.metadata.deletionTimestamp !== undefined) return;
    }
    this.deletedWhileWanted.add(objectKey(obj));
  }

  /** The desired object of that kind and name, whoever it belongs to (labels and annotations may have been edited). */
  private wanted(obj: KubeObject): KubeObject | undefined {
    const key = objectKey(obj);
    const owner = this.desired?.ownerByKey.get(key);
    return owner === undefined ? undefined : (this.desired?.objects(owner).find((o) => objectKey(o) === key) as KubeObject | undefined);
  }

  /** Whether the live object is what we want: equal, or equal to how the server stored our write of it. */
  private inSync(live: KubeObject, want: KubeObject): boolean {
    const known = this.stored.get(objectKey(want));
    if (known !== undefined && known.desired === want.metadata.annotations?.[DESIRED_DIGEST_ANNOTATION]) return comparedDigest(live, want) === known.compared;
    return differences(live, want).length === 0;
  }

  /** Our conditions as last written or confirmed, by CNP name. */
  private readonly statuses = new Map<string, readonly KeptCondition[]>();
  /** How many CNPs have each (type, status, reason) in `statuses`: kept as they change, a scrape costs no pass over thousands. */
  private readonly tally = new Map<string, number>();

  private setStatus(name: string, conditions: readonly KeptCondition[] | undefined): void {
    const count = (c: KeptCondition, by: number): void => {
      const key = `${c.type}\0${c.status}\0${c.reason}`;
      const n = (this.tally.get(key) ?? 0) + by;
      if (n === 0) this.tally.delete(key);
      else this.tally.set(key, n);
    };
    for (const c of this.statuses.get(name) ?? []) count(c, -1);
    if (conditions === undefined) {
      this.statuses.delete(name);
      return;
    }
    this.statuses.set(name, conditions);
    for (const c of conditions) count(c, 1);
  }

  /** How many CNPs have each (type, status, reason), from the conditions last written or confirmed. */
  conditionCounts(): [{ type: string; status: string; reason: string }, number][] {
    return [...this.tally].map(([key, n]) => {
      const [type, status, reason] = key.split('\0') as [string, string, string];
      return [{ type, status, reason }, n];
    });
  }

  /** Whether a CNP's conditions are not what we last wrote (someone else changed them). */
  statusDiffers(cnp: KubeObject): boolean {
    const conditions = ((cnp['status'] ?? {}) as { conditions?: (Condition | KeptCondition)[] }).conditions;
    const ours = (conditions ?? []).filter((c) => OUR_CONDITIONS.includes(c.type));
    // The echo of a status write may come before the write's answer: it is ours too.
    const sending = this.statusWriting.get(cnp.metadata.name);
    if (sending !== undefined && conditionsEqual(sending, ours)) return false;
    const known = this.statuses.get(cnp.metadata.name);
    return known === undefined || !conditionsEqual(known, ours);
  }

  /** The conditions of status writes on their way, by CNP name. */
  private readonly statusWriting = new Map<string, readonly KeptCondition[]>();

  /**
   * Whether an event on a live object of ours calls for a reconcile: not when it is the
   * echo of our own write (it equals what we want); always for deletions and drift.
   */
  differsFromDesired(obj: KubeObject): boolean {
    // The echo of our own write is not judged again (it was when written, see remember; a change
    // of what is wanted since then queued its owner anyway): that saves making the object again.
    // While the write is on its way the event is noted and judged when it returns (see writing).
    const rv = obj.metadata.resourceVersion;
    const key = objectKey(obj);
    if (this.writing.has(key)) {
      this.writing.set(key, rv ?? '');
      return false;
    }
    if (rv !== undefined && this.writtenVersions.get(key) === rv && this.ownerOfDesired(obj) !== undefined) return false;
    const want = this.wanted(obj);
    return want === undefined || !this.inSync(obj, want);
  }

  /** The owner key of the desired object with this object's kind and name, if one is desired. */
  ownerOfDesired(obj: KubeObject): string | undefined {
    return this.desired?.ownerByKey.get(objectKey(obj));
  }

  private async reconcileCnp(name: string): Promise<void> {
    this.touched.delete(name);
    const cnp = this.o.caches.cnp(name);
    if (cnp === undefined || cnp.metadata.deletionTimestamp !== undefined) {
      this.setStatus(name, undefined);
      this.statusDeferred.delete(name);
      this.programmedFor.delete(name);
      // Garbage collection removes dependents too; deleting here makes it prompt and covers clusters without it.
      await this.deleteOwned(name, new Set());
      return;
    }
    const parsed = this.parsed.get(name);
    const detection = this.o.detection();
    if (parsed === undefined || parsed.generation !== (cnp.metadata.generation ?? 0)) {
      // The cache moved past the translation. The event that moved it queued a recomputation,
      // which re-queues this key: queueing another here would translate everything twice.
      return;
    }
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(undefined, d));
    const unsupported = parsed.diagnostics.filter((d) => d.severity === 'unsupported').map((d) => formatDiagnostic(undefined, d));
    const ownWarnings = parsed.diagnostics.filter((d) => d.severity === 'warning').map((d) => formatDiagnostic(undefined, d));
    let program: ProgramState;
    if (parsed.policy === undefined) {
      program = { kind: 'invalid' };
    } else if (detection.kind === 'stand-down') {
      // The CNI enforces this CNP itself; what we wrote would enforce it twice.
      await this.deleteOwned(name, new Set());
      program = { kind: 'native-enforcement', message: detection.message };
    } else if (detection.kind === 'unavailable') {
      program = { kind: 'backend-unavailable', message: detection.message };
    } else {
      if (!this.sharedInSync) {
        const shared = await this.reconcileOwner(SHARED_KEY, undefined);
        this.sharedInSync = shared.kind === 'programmed';
      }
      const earlier = this.programmedFor.get(name);
      this.programmedFor.delete(name);
      if (earlier !== undefined && this.sharedInSync && earlier.fingerprint === this.desired?.fingerprints.get(name)) program = earlier.program;
      else program = this.sharedInSync ? await this.reconcileOwner(name, cnp) : { kind: 'apply-failed', message: 'the shared objects (tiers) could not be written first' };
    }
    // The objects are written; the status waits for the analysis, to be written once.
    if (!this.analysisSettled()) {
      this.awaitingAnalysis.add(name);
      this.statusLater(name, program);
      if (program.kind === 'apply-failed') throw new Error(`${name}: ${program.message}`);
      return;
    }
    // A programmed CNP's status also waits behind the object writes still queued (a start-up,
    // a bulk apply): the API server then takes writes of one kind together, which costs it less
    // than alternating objects and statuses (about 9 % of its CPU for 2,000 CNPs written directly: measured).
    // Once per CNP: on its next turn the status is written even if more work waits.
    const warnings = [...ownWarnings, ...this.warningsOf(name), ...(this.o.notes?.() ?? [])];
    const status = this.nextStatus(cnp, { generation: parsed.generation, errors, unsupported, warnings, program, findings: this.desired?.findings(name) ?? [] });
    if (status !== undefined && program.kind === 'programmed' && !this.statusDeferred.has(name) && this.o.backlog?.() === true) {
      this.statusDeferred.add(name);
      this.statusLater(name, program);
      this.o.enqueue(name, { low: true });
      return;
    }
    this.statusDeferred.delete(name);
    if (status !== undefined) await this.writeStatus(cnp, status);
    if (program.kind === 'apply-failed') throw new Error(`${name}: ${program.message}`);
  }

  /**
   * Makes the live objects of one owner equal to the desired ones. One object that cannot be
   * written does not stop the others (a policy follows its spec even when one of its address
   * sets fails); every failure is reported.
   */
  private async reconcileOwner(owner: string, cnp: KubeObject | undefined): Promise<ProgramState> {
    const detection = this.o.detection();
    if (detection.kind !== 'ready') return { kind: 'backend-unavailable', message: detection.message };
    const backend = detection.backend;
    this.lastBackend = backend;
    // What others reference goes first: tiers, then address sets, then the policies using them.
    const desired = [...(this.desired?.objects(owner) ?? [])].sort((a, b) => applyRank(a.kind) - applyRank(b.kind)) as KubeObject[];
    const failures: string[] = [];
    for (const want of desired) {
      const type = typeFor(backend, want);
      if (type === undefined) return { kind: 'apply-failed', message: `the translation produced ${want.apiVersion} ${want.kind}, which the backend does not serve` };
      try {
        const outcome = await this.reconcileObject(type, want, cnp);
        if (outcome !== undefined) return outcome;
      } catch (err) {
        failures.push(`${want.kind} ${want.metadata.name}: ${errorMessage(err)}`);
      }
    }
    await this.deleteOwned(owner, new Set(desired.map(objectKey)));
    if (failures.length > 0) return { kind: 'apply-failed', message: failures.join('; ') };
    return { kind: 'programmed', objects: desired.length, backend: backend.description };
  }

  /**
   * Makes one live object equal to the wanted one (see drift.ts for what equal means). The
   * cache may lag our own writes, so a difference there is confirmed with the API server
   * before anything is written. A write replaces the whole object with its resourceVersion as
   * precondition: server-side apply would keep what other managers added (a
   * serviceAccountSelector that switches a policy off, say). Returns a state only for a
   * conflict (a name taken by an object we did not write).
   */
  private async reconcileObject(type: ResourceType, want: KubeObject, cnp: KubeObject | undefined): Promise<ProgramState | undefined> {
    const key = objectKey(want);
    const cached = this.o.caches.existing(want);
    if (cached !== undefined && this.inSync(cached, want)) {
      this.deletedWhileWanted.delete(key);
      return undefined;
    }
    this.writing.set(key, undefined);
    try {
      return await this.writeObject(type, want, cnp, cached);
    } finally {
      // An event that came while the write was on its way was let through unjudged: if it was
      // not the write's own echo, the owner is looked at again.
      const seen = this.writing.get(key);
      this.writing.delete(key);
      const owner = this.desired?.ownerByKey.get(key);
      if (seen !== undefined && seen !== this.writtenVersions.get(key) && owner !== undefined) {
        this.invalidate(owner);
        this.o.enqueue(owner === SHARED_KEY ? SHARED_QUEUE_KEY : owner);
      }
    }
  }

  /**
   * Objects being written, with the resourceVersion of an event about them seen meanwhile: an
   * object's echo may arrive before the answer to the write that caused it.
   */
  private readonly writing = new Map<string, string | undefined>();

  private async writeObject(type: ResourceType, want: KubeObject, cnp: KubeObject | undefined, cached: KubeObject | undefined): Promise<ProgramState | undefined> {
    const key = objectKey(want);
    // The cache holds our own last write and the policy has changed since: the update needs no
    // read first (one round trip less for every policy change). Its resourceVersion is the
    // precondition, so a cache that lags or a write by someone else since fails it (409), and the
    // server is read as below.
    const digestNow = want.metadata.annotations?.[DESIRED_DIGEST_ANNOTATION];
    const rv = cached?.metadata.resourceVersion;
    if (cached !== undefined && rv !== undefined && this.writtenVersions.get(key) === rv && cached.metadata.annotations?.[DESIRED_DIGEST_ANNOTATION] !== digestNow) {
      try {
        await this.update(type, cached, want, false);
        return undefined;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
    }
    // The cache may lag our own writes, or miss a create: the API server has the last word.
    const live = cached === undefined ? await this.createIfAbsent(type, want, cnp) : await this.o.port.get(type, want.metadata.name, want.metadata.namespace);
    if (live === 'created') return undefined;
    if (live === undefined) {
      // Created by server-side apply: RBAC can then name the objects it may create (tiers).
      const created = await this.o.port.apply(type, want, { fieldManager: this.o.fieldManager, force: true });
      this.afterCreate(want, created, cnp);
      return undefined;
    }
    if (this.inSync(live, want)) return undefined;
    if (!mayTakeOver(live, this.o.fieldManager, cnp?.metadata.uid)) {
      return { kind: 'conflict', message: `${want.kind} ${want.metadata.name} exists and was not written by cnp-operator; it is left alone` };
    }
    // Written for exactly what we want now, yet different: someone changed it (or the server
    // stores it differently, which a dry run tells).
    const drifted = digestNow !== undefined && live.metadata.annotations?.[DESIRED_DIGEST_ANNOTATION] === digestNow;
    if (drifted && !this.stored.has(key)) {
      const preview = await this.o.port.replace(type, replacement(live, want), { fieldManager: this.o.fieldManager, dryRun: true });
      if (comparedDigest(live, want) === comparedDigest(preview, want)) {
        this.remember(want, preview, false);
        return undefined;
      }
    }
    const paths = await this.update(type, live, want, drifted);
    if (drifted) this.reportDrift(want, cnp, `was changed by someone else (${paths.join(', ')})`);
    return undefined;
  }

  /** Replaces the live object with the wanted one (live's resourceVersion the precondition); answers the fields that differed. */
  private async update(type: ResourceType, live: KubeObject, want: KubeObject, drifted: boolean): Promise<string[]> {
    const paths = differences(live, want);
    const written = await this.o.port.replace(type, replacement(live, want), { fieldManager: this.o.fieldManager });
    this.o.log?.info('updated', { kind: want.kind, name: want.metadata.name, for: ownerOfObject(want), why: drifted ? 'changed by someone else' : 'the policy or its inputs changed' });
    this.o.log?.debug('updated fields', { kind: want.kind, name: want.metadata.name, fields: paths });
    this.remember(want, written);
    this.deletedWhileWanted.delete(objectKey(want));
    return paths;
  }

  /**
   * A create where the cache has no such object: one request, and a 409 tells a lagging cache
   * from an empty name. Where RBAC allows creating only named objects (a plain create carries
   * no name to authorize), the object is read and, if absent, left to the caller.
   */
  private async createIfAbsent(type: ResourceType, want: KubeObject, cnp: KubeObject | undefined): Promise<KubeObject | undefined | 'created'> {
    try {
      const created = await this.o.port.create(type, want, { fieldManager: this.o.fieldManager });
      this.afterCreate(want, created, cnp);
      return 'created';
    } catch (err) {
      if (!(err instanceof KubeApiError && (err.status === 409 || err.status === 403))) throw err;
      return this.o.port.get(type, want.metadata.name, want.metadata.namespace);
    }
  }

  private afterCreate(want: KubeObject, created: KubeObject, cnp: KubeObject | undefined): void {
    this.o.log?.info('created', { kind: want.kind, name: want.metadata.name, for: ownerOfObject(want) });
    this.remember(want, created);
    if (this.deletedWhileWanted.delete(objectKey(want))) this.reportDrift(want, cnp, 'was deleted by someone else');
  }

  /** The resourceVersion of our last write of each object, by object key: what tells our own echo. */
  private readonly writtenVersions = new Map<string, string>();

  /** Notes how the server stored a write (or would store it: a dry run), when that differs from what was written. */
  private remember(want: KubeObject, stored: KubeObject, written = true): void {
    const key = objectKey(want);
    if (written && stored.metadata.resourceVersion !== undefined) this.writtenVersions.set(key, stored.metadata.resourceVersion);
    else this.writtenVersions.delete(key);
    if (differences(stored, want).length === 0) {
      this.stored.delete(key);
      return;
    }
    const desired = want.metadata.annotations?.[DESIRED_DIGEST_ANNOTATION] ?? '';
    if (this.stored.get(key)?.desired !== desired) {
      this.o.log?.info('the API server stores this object differently from how it was written; later comparisons use the stored form', { kind: want.kind, name: want.metadata.name, fields: differences(stored, want).join(', ') });
    }
    this.stored.set(key, { desired, compared: comparedDigest(stored, want) });
  }

  private reportDrift(want: KubeObject, cnp: KubeObject | undefined, what: string): void {
    this.drifts++;
    this.o.hooks?.driftCorrected?.(want);
    this.o.log?.info('drift corrected', { kind: want.kind, name: want.metadata.name, what });
    this.o.events.emit(cnp ?? want, 'Warning', 'DriftCorrected', `${want.kind} ${want.metadata.name} ${what}; restored`);
  }

  private async deleteOwned(owner: string, keep: ReadonlySet<string>): Promise<void> {
    const detection = this.o.detection();
    const backend = detection.kind === 'ready' ? detection.backend : detection.kind === 'stand-down' ? (detection.backend ?? this.lastBackend) : this.lastBackend;
    // Unavailable: nothing is deleted (the API may be flapping). Stand-down: the last backend's objects go.
    if (backend === undefined || detection.kind === 'unavailable') return;
    // Only what we wrote (a copy carrying our labels is someone else's), and never what another
    // owner wants (its owner annotation may have been edited away).
    const stale = this.o.caches.owned(owner).filter((obj) => !keep.has(objectKey(obj)) && writtenBy(obj, this.o.fieldManager) && this.ownerOfDesired(obj) === undefined);
    for (const obj of stale.sort((a, b) => applyRank(b.kind) - applyRank(a.kind))) {
      const type = typeFor(backend, obj);
      if (type === undefined) continue;
      try {
        await this.o.port.delete(type, obj.metadata.name, { uid: obj.metadata.uid });
        this.o.log?.info('deleted', { kind: obj.kind, name: obj.metadata.name, why: detection.kind === 'stand-down' ? 'the CNI enforces CNPs itself' : owner === SHARED_KEY || this.o.caches.cnp(owner) !== undefined ? 'no longer wanted' : 'its CNP is gone' });
      } catch (err) {
        // A changed uid means the object was replaced: not the one we meant to delete.
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
      this.deletedWhileWanted.delete(objectKey(obj));
      this.stored.delete(objectKey(obj));
      this.writtenVersions.delete(objectKey(obj));
    }
  }

  /** The conditions to write, or undefined when the CNP has them already. */
  private nextStatus(cnp: KubeObject, input: Parameters<typeof computeConditions>[0]): { ours: KeptCondition[]; next: Condition[] } | undefined {
    const status = (cnp['status'] ?? {}) as { conditions?: (Condition | KeptCondition)[] };
    const previous = status.conditions ?? [];
    const ours = previous.filter((c) => OUR_CONDITIONS.includes(c.type)).map(keep);
    const next = computeConditions(input, ours, this.o.now());
    if (!conditionsEqual(ours, next)) return { ours, next };
    this.setStatus(cnp.metadata.name, ours);
    return undefined;
  }

  private async writeStatus(cnp: KubeObject, { ours, next }: { ours: KeptCondition[]; next: Condition[] }): Promise<void> {
    const before = new Map(ours.map((c) => [c.type, c]));
    const kept = next.map(keep);
    this.statusWriting.set(cnp.metadata.name, kept);
    try {
      await this.o.port.applyStatus(
        this.o.cnpType,
        { apiVersion: apiVersionOf(this.o.cnpType), kind: this.o.cnpType.kind, metadata: { name: cnp.metadata.name }, status: { conditions: next } },
        { fieldManager: this.o.fieldManager, force: true },
      );
    } finally {
      this.statusWriting.delete(cnp.metadata.name);
    }
    this.setStatus(cnp.metadata.name, kept);
    this.o.log?.debug('status written', { cnp: cnp.metadata.name, changed: changedFields(before, kept) });
    for (const c of next) {
      const old = before.get(c.type);
      const changed = old === undefined || old.status !== c.status || old.reason !== c.reason;
      if (changed) this.o.log?.info('condition', { cnp: cnp.metadata.name, generation: c.observedGeneration, type: c.type, status: c.status, reason: c.reason });
      if (c.type === ACCEPTED && c.status === 'False' && (changed || old.observedGeneration !== c.observedGeneration)) {
        this.o.events.emit(cnp, 'Warning', c.reason, c.message);
      } else if (c.type === PROGRAMMED && c.status === 'False' && c.reason !== 'Invalid' && changed) {
        // Invalid is already told by Accepted: one event per problem.
        this.o.events.emit(cnp, 'Warning', c.reason, c.message);
      } else if (c.type === PROGRAMMED && c.status === 'True' && (changed || old.observedGeneration !== c.observedGeneration)) {
        this.o.events.emit(cnp, 'Normal', c.reason, `generation ${c.observedGeneration}: ${c.message}`);
      }
    }
  }
}

/** The condition types this operator owns on a CNP. */
export const OUR_CONDITIONS = ['Accepted', 'Programmed', 'Exact'];

function ownerOfObject(obj: KubeObject): string {
  return obj.metadata.annotations?.['policy.cnp-operator.io/cnp'] ?? '(shared)';
}
const APPLY_ORDER = ['Tier', 'GlobalNetworkSet'];

/** Lower first; deletions go in the reverse order. */
function applyRank(kind: string): number {
  const i = APPLY_ORDER.indexOf(kind);
  return i < 0 ? APPLY_ORDER.length : i;
}

/** Which fields of which conditions a status write changes: what the debug log says about each write. */
function changedFields(before: ReadonlyMap<string, KeptCondition>, next: readonly KeptCondition[]): string[] {
  return next.flatMap((c) => {
    const old = before.get(c.type);
    if (old === undefined) return [c.type];
    const fields = (['status', 'reason', 'messageDigest', 'observedGeneration', 'lastTransitionTime'] as const).filter((f) => old[f] !== c[f]);
    return fields.map((f) => `${c.type}.${f === 'messageDigest' ? 'message' : f}`);
  });
}

function errorMessage(err: unknown): string {
  if (err instanceof KubeApiError) return `${err.status}${err.reason === undefined ? '' : ` ${err.reason}`}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
