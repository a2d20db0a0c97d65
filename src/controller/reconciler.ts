import { formatDiagnostic } from '../api/diagnostics.js';
import { analyse } from '../semantics/analysis.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../translate/ownership.js';
import { apiVersionOf, typeFor, type Backend, type Detection } from './backend.js';
import { ACCEPTED, analysisWarnings, computeConditions, conditionsEqual, PROGRAMMED, type Condition, type ProgramState } from './conditions.js';
import { changedOwners, groupTranslation, matchesDesired, objectKey, ownerOf, SHARED_KEY, type DesiredState } from './desired.js';
import { KubeApiError, type KubeObject, type KubePort, type ResourceType } from './port.js';
import type { EventSink } from './runtime/index.js';
import { buildSnapshot, type ClusterInputs, type ParsedCnp } from './snapshot-from-cache.js';

/** The key that recomputes the translation; every other key is a CNP name or SHARED_KEY. */
export const RECOMPUTE_KEY = '@recompute';
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
  readonly enqueue: (key: string) => void;
  readonly now: () => string;
  readonly hooks?: ReconcilerHooks;
}

/**
 * Level-triggered reconcile of CNPs into backend objects. The translation is
 * global (Cilium compiles each policy against the ones before it), so it is
 * recomputed under one key and only owners whose output changed are re-queued.
 */
export class Reconciler {
  private desired: DesiredState | undefined;
  private parsed = new Map<string, ParsedCnp>();
  /** Analysis warnings by policy name, from the last recomputation. */
  private warnings = new Map<string, string[]>();
  /** Objects someone else changed or deleted, seen in watch events, until restored. */
  private readonly drifted = new Map<string, 'changed' | 'deleted'>();
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

  private recompute(): void {
    const detection = this.o.detection();
    const { snapshot, parsed } = buildSnapshot(this.o.caches.inputs(), this.parsed);
    const previousParsed = this.parsed;
    this.parsed = parsed;
    const analysis = analyse(snapshot.policies);
    this.warnings = new Map(snapshot.policies.map((p) => [p.name, analysisWarnings(analysis, p.name)]));
    const before = this.desired;
    this.desired = detection.kind === 'ready' ? groupTranslation(detection.backend.translate(snapshot)) : groupTranslation({ objects: [], findings: [] });
    const changed = new Set(changedOwners(before, this.desired));
    if (changed.has(SHARED_KEY)) this.sharedInSync = false;
    // Warnings from analysis depend on other policies too: re-check every CNP whose inputs moved.
    for (const name of parsed.keys()) if (previousParsed.get(name)?.generation !== parsed.get(name)?.generation) changed.add(name);
    if (before === undefined) for (const name of parsed.keys()) changed.add(name);
    for (const key of changed) this.o.enqueue(key === SHARED_KEY ? SHARED_QUEUE_KEY : key);
    this.o.hooks?.managedObjects?.([...this.desired.byOwner.values()].reduce((n, l) => n + l.length, 0));
  }

  /**
   * Judges a watch event on an object of ours. Drift is a change away from what we want
   * (the object matched before and does not now), or the deletion of an object we still
   * want while its CNP exists: we only delete what is no longer wanted, and garbage
   * collection only what belonged to a deleted CNP. Judging from events, not from the
   * cache at reconcile time, keeps a cache that lags our own writes from looking like drift.
   */
  observe(before: KubeObject | undefined, after: KubeObject | undefined): void {
    const obj = after ?? before;
    if (obj === undefined || this.o.detection().kind !== 'ready') return;
    const owner = ownerOf(obj);
    const key = objectKey(obj);
    const want = this.desired?.byOwner.get(owner)?.find((o) => objectKey(o) === key);
    if (want === undefined) return;
    if (after === undefined) {
      if (owner !== SHARED_KEY) {
        const cnp = this.o.caches.cnp(owner);
        if (cnp === undefined || cnp.metadata.deletionTimestamp !== undefined) return;
      }
      this.drifted.set(key, 'deleted');
    } else if (before !== undefined && matchesDesired(before, want) && !matchesDesired(after, want)) {
      this.drifted.set(key, 'changed');
    }
  }

  /** Our conditions as last written or confirmed, by CNP name. */
  private readonly statuses = new Map<string, readonly Condition[]>();

  /** Whether a CNP's conditions are not what we last wrote (someone else changed them). */
  statusDiffers(cnp: KubeObject): boolean {
    const conditions = ((cnp['status'] ?? {}) as { conditions?: Condition[] }).conditions ?? [];
    const known = this.statuses.get(cnp.metadata.name);
    return known === undefined || !conditionsEqual(known, conditions.filter((c) => OUR_CONDITIONS.includes(c.type)));
  }

  /**
   * Whether an event on a live object of ours calls for a reconcile: not when it is the
   * echo of our own write (it equals what we want); always for deletions and drift.
   */
  differsFromDesired(obj: KubeObject): boolean {
    const owner = ownerOf(obj);
    const want = this.desired?.byOwner.get(owner)?.find((o) => objectKey(o) === objectKey(obj));
    return want === undefined || !matchesDesired(obj, want);
  }

  /** The owner key of the desired object with this object's kind and name, if one is desired. */
  ownerOfDesired(obj: KubeObject): string | undefined {
    const key = objectKey(obj);
    for (const [owner, list] of this.desired?.byOwner ?? []) if (list.some((o) => objectKey(o) === key)) return owner;
    return undefined;
  }

  private async reconcileCnp(name: string): Promise<void> {
    const cnp = this.o.caches.cnp(name);
    if (cnp === undefined || cnp.metadata.deletionTimestamp !== undefined) {
      this.statuses.delete(name);
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
    const warnings = [
      ...parsed.diagnostics.filter((d) => d.severity === 'warning').map((d) => formatDiagnostic(undefined, d)),
      ...(this.warnings.get(name) ?? []),
      ...(this.o.notes?.() ?? []),
    ];
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
      program = this.sharedInSync ? await this.reconcileOwner(name, cnp) : { kind: 'apply-failed', message: 'the shared objects (tiers) could not be written first' };
    }
    await this.writeStatus(cnp, { generation: parsed.generation, errors, unsupported, warnings, program, findings: this.desired?.findings.get(name) ?? [] });
    if (program.kind === 'apply-failed') throw new Error(`${name}: ${program.message}`);
  }

  /** Makes the live objects of one owner equal to the desired ones. */
  private async reconcileOwner(owner: string, cnp: KubeObject | undefined): Promise<ProgramState> {
    const detection = this.o.detection();
    if (detection.kind !== 'ready') return { kind: 'backend-unavailable', message: detection.message };
    const backend = detection.backend;
    this.lastBackend = backend;
    // What others reference goes first: tiers, then address sets, then the policies using them.
    const desired = [...(this.desired?.byOwner.get(owner) ?? [])].sort((a, b) => applyRank(a.kind) - applyRank(b.kind));
    const live = new Map(this.o.caches.owned(owner).map((o) => [objectKey(o), o]));
    for (const want of desired) {
      const type = typeFor(backend, want);
      if (type === undefined) return { kind: 'apply-failed', message: `the translation produced ${want.apiVersion} ${want.kind}, which the backend does not serve` };
      const key = objectKey(want);
      const have = live.get(key);
      if (have !== undefined && matchesDesired(have, want)) {
        this.drifted.delete(key);
        continue;
      }
      if (have === undefined) {
        // Never take over an object someone else made under the same name.
        const existing = this.o.caches.existing(want);
        if (existing !== undefined && existing.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) {
          return { kind: 'conflict', message: `${want.kind} ${want.metadata.name} exists and is not managed by cnp-operator; it is left alone` };
        }
      }
      const drift = this.drifted.get(key);
      try {
        await this.o.port.apply(type, want as KubeObject, { fieldManager: this.o.fieldManager, force: true });
      } catch (err) {
        return { kind: 'apply-failed', message: `${want.kind} ${want.metadata.name}: ${errorMessage(err)}` };
      }
      if (drift !== undefined) {
        this.drifted.delete(key);
        this.drifts++;
        this.o.hooks?.driftCorrected?.(want as KubeObject);
        const regarding = cnp ?? (want as KubeObject);
        this.o.events.emit(regarding, 'Warning', 'DriftCorrected', `${want.kind} ${want.metadata.name} was ${drift} by someone else; restored`);
      }
    }
    const keep = new Set(desired.map(objectKey));
    await this.deleteOwned(owner, keep);
    return { kind: 'programmed', objects: desired.length, backend: backend.description };
  }

  private async deleteOwned(owner: string, keep: ReadonlySet<string>): Promise<void> {
    const detection = this.o.detection();
    const backend = detection.kind === 'ready' ? detection.backend : this.lastBackend;
    // Unavailable: nothing is deleted (the API may be flapping). Stand-down: the last backend's objects go.
    if (backend === undefined || detection.kind === 'unavailable') return;
    const stale = this.o.caches.owned(owner).filter((obj) => !keep.has(objectKey(obj)));
    for (const obj of stale.sort((a, b) => applyRank(b.kind) - applyRank(a.kind))) {
      const type = typeFor(backend, obj);
      if (type === undefined || obj.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) continue;
      try {
        await this.o.port.delete(type, obj.metadata.name, { uid: obj.metadata.uid });
      } catch (err) {
        // A changed uid means the object was replaced: not the one we meant to delete.
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
      this.drifted.delete(objectKey(obj));
    }
  }

  private async writeStatus(cnp: KubeObject, input: Parameters<typeof computeConditions>[0]): Promise<void> {
    const status = (cnp['status'] ?? {}) as { conditions?: Condition[] };
    const previous = status.conditions ?? [];
    const ours = previous.filter((c) => OUR_CONDITIONS.includes(c.type));
    const next = computeConditions(input, ours, this.o.now());
    if (conditionsEqual(ours, next)) {
      this.statuses.set(cnp.metadata.name, ours);
      return;
    }
    const before = new Map(ours.map((c) => [c.type, c]));
    await this.o.port.applyStatus(
      this.o.cnpType,
      { apiVersion: apiVersionOf(this.o.cnpType), kind: this.o.cnpType.kind, metadata: { name: cnp.metadata.name }, status: { conditions: next } },
      { fieldManager: this.o.fieldManager, force: true },
    );
    this.statuses.set(cnp.metadata.name, next);
    for (const c of next) {
      const old = before.get(c.type);
      const changed = old === undefined || old.status !== c.status || old.reason !== c.reason;
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

const OUR_CONDITIONS = ['Accepted', 'Programmed', 'Exact'];
const APPLY_ORDER = ['Tier', 'GlobalNetworkSet'];

/** Lower first; deletions go in the reverse order. */
function applyRank(kind: string): number {
  const i = APPLY_ORDER.indexOf(kind);
  return i < 0 ? APPLY_ORDER.length : i;
}

function errorMessage(err: unknown): string {
  if (err instanceof KubeApiError) return `${err.status}${err.reason === undefined ? '' : ` ${err.reason}`}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
