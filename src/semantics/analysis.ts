import { comparePolicies, DIRECTIONS, TIERS, type PodSet, type Policy } from '../api/model.js';
import { podSetCovers, podSetsMayOverlap } from './cover.js';
import { firstCover, ownCover, sameAmbiguities, samePacked, shadowedRulesOf, SLOT, unpack, type AmbiguousOrder, type Analysis, type Packed } from './shadowing.js';

export type { AmbiguousOrder, Analysis, RuleRef, ShadowedRule } from './shadowing.js';

/** Rule analysis for status: shadowed rules and order ambiguities. Sound, not complete. */
export function analyse(policies: readonly Policy[]): Analysis {
  const state = new IncrementalAnalysis();
  for (const _ of state.update(policies)) {
    // The whole update at once.
  }
  return state.result();
}

const NONE: readonly AmbiguousOrder[] = [];
const NOTHING: Packed = [];

/** What is kept of one policy (by name) from update to update. */
interface Entry {
  readonly name: string;
  policy: Policy;
  /** Index of the policy's tier in TIERS. */
  tier: number;
  /** Number of the policy's subject (equal subjects share one). */
  sid: number;
  /** Index in its tier's ordered list. */
  pos: number;
  /** The policy `packed` was worked out for: the policy itself, except while it waits to be redone. */
  analysed: Policy | undefined;
  packed: Packed;
  /** The open orders it is part of, in the order result() lists them. */
  ambiguous: readonly AmbiguousOrder[];
  /** The last update whose policies include it (kept only when names are looked up one by one). */
  seen: number;
  /** The last update that added or replaced it. */
  changed: number;
  /** Queued to be redone (and not yet redone). */
  dirty: boolean;
  /** To be redone from scratch: new, replaced, or left queued by an update not run to its end. */
  full: boolean;
}

/** One tier's policies, kept across updates. */
interface TierState {
  /** In evaluation order (comparePolicies). */
  ordered: Entry[];
  /** The same, split by subject number. */
  bySubject: Map<number, Entry[]>;
  /** For a subject number: this tier's subject numbers that it covers; dropped when the tier's subjects change. */
  covered: Map<number, readonly number[]>;
  /** For a subject number: this tier's subject numbers that cover it; dropped when the tier's subjects change. */
  covering: Map<number, readonly number[]>;
  /** The open orders by priority (only priorities with some). */
  open: Map<number, readonly AmbiguousOrder[]>;
}

/** A policy as it was or is now, where it counts for the policies after it. */
interface Mover {
  readonly policy: Policy;
  readonly tier: number;
  readonly sid: number;
}

/** Changes to one tier above which it is rebuilt (sorted) rather than patched. */
const PATCH_LIMIT = 8;

const byOrder = (a: Entry, b: Entry): number => comparePolicies(a.policy, b.policy);

/** The first index of a list ordered so that `reached` is false, then true, where it turns true (binary search). */
function firstIndex(list: readonly Entry[], reached: (e: Entry) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (reached(list[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The first index whose policy comes after `p` (comparePolicies). */
const after = (list: readonly Entry[], p: Policy): number => firstIndex(list, (e) => comparePolicies(p, e.policy) < 0);
/** The first index whose position is `pos` or more. */
const fromPosition = (list: readonly Entry[], pos: number): number => firstIndex(list, (e) => e.pos >= pos);
/** The first index whose priority is `priority` or more. */
const fromPriority = (list: readonly Entry[], priority: number): number => firstIndex(list, (e) => e.policy.priority >= priority);

/**
 * The analysis kept up to date as policies change. A rule's shadowing depends only on the
 * earlier policies of its tier whose subject covers its own, so a change to policy X redoes X
 * and the later policies of its tier that X's old or new subject covers; the rest is kept.
 * A policy redone only because others changed keeps what they cannot have changed: a rule
 * still covered by an unchanged policy need only be checked against the changed ones before it.
 * Open orders depend only on the policies of one tier and priority: those of the tiers and
 * priorities a change touches are redone. Each tier's policies are kept in order and by
 * subject across updates, so an update costs about what changed, not the number of policies.
 * update() is a generator that yields after each policy it redoes, so a caller can spread a
 * large update over time (the operator must not stall its other work for it).
 */
export class IncrementalAnalysis {
  private entries = new Map<string, Entry>();
  /** The last update's policies in the caller's order (one per name): most updates change a few in place. */
  private inputs: Policy[] = [];
  private tiers: TierState[] = TIERS.map(() => ({ ordered: [], bySubject: new Map(), covered: new Map(), covering: new Map(), open: new Map() }));
  /** All open orders as result() lists them; made when asked for. */
  private flat: readonly AmbiguousOrder[] | undefined = [];
  private epoch = 0;
  /** Policies queued to be redone by an update not run to its end: the next update redoes them. */
  private queued: Entry[] = [];
  /** The names changed since the last update run to its end. */
  private building = new Set<string>();
  private complete = true;
  private lastChanged: ReadonlySet<string> = new Set();
  /**
   * Subjects by number: equal subjects share one, so the answers below are kept per pair of
   * numbers. A subject object is written out once (the operator's parsed policies share equal
   * subjects, so most lookups are by identity); the analysis of thousands of policies asks
   * millions of times.
   */
  private subjectIds = new WeakMap<object, number>();
  private subjectIdByJson = new Map<string, number>();
  /** A subject of each number. */
  private subjects: PodSet[] = [];
  private coversCache = new Map<number, boolean>();
  private overlapCache = new Map<number, boolean>();

  /** Forgets subjects no longer in use once they outnumber the policies (a long-running operator sees many come and go). */
  private pruneSubjects(policies: number): void {
    if (this.subjectIdByJson.size <= 2 * policies + 1000) return;
    this.subjectIds = new WeakMap();
    this.subjectIdByJson = new Map();
    this.subjects = [];
    this.coversCache = new Map();
    this.overlapCache = new Map();
    // The numbers of the policies kept, and all that is filed by them.
    for (const e of this.entries.values()) e.sid = this.subjectId(e.policy.subject);
    for (const tier of this.tiers) this.refile(tier);
  }

  private subjectId(subject: PodSet): number {
    let id = this.subjectIds.get(subject);
    if (id === undefined) {
      const json = JSON.stringify(subject);
      id = this.subjectIdByJson.get(json);
      if (id === undefined) {
        this.subjectIdByJson.set(json, (id = this.subjectIdByJson.size));
        this.subjects[id] = subject;
      }
      this.subjectIds.set(subject, id);
    }
    return id;
  }

  /** Whether subject `outer` covers subject `inner` (by number; ids stay far below 2^26). */
  private covers(outer: number, inner: number): boolean {
    const key = outer * 67_108_864 + inner;
    let ok = this.coversCache.get(key);
    if (ok === undefined) this.coversCache.set(key, (ok = podSetCovers(this.subjects[outer]!, this.subjects[inner]!)));
    return ok;
  }

  private mayOverlap(a: number, b: number): boolean {
    const key = a * 67_108_864 + b;
    let ok = this.overlapCache.get(key);
    if (ok === undefined) this.overlapCache.set(key, (ok = podSetsMayOverlap(this.subjects[a]!, this.subjects[b]!)));
    return ok;
  }

  /** The tier's subject numbers that `sid` covers. */
  private coveredIn(tier: TierState, sid: number): readonly number[] {
    let out = tier.covered.get(sid);
    if (out === undefined) {
      const list: number[] = [];
      for (const s of tier.bySubject.keys()) if (this.covers(sid, s)) list.push(s);
      tier.covered.set(sid, (out = list));
    }
    return out;
  }

  /** The tier's subject numbers that cover `sid`. */
  private coveringIn(tier: TierState, sid: number): readonly number[] {
    let out = tier.covering.get(sid);
    if (out === undefined) {
      const list: number[] = [];
      for (const s of tier.bySubject.keys()) if (this.covers(s, sid)) list.push(s);
      tier.covering.set(sid, (out = list));
    }
    return out;
  }

  /** Files the tier's policies by subject anew (they are in order). */
  private refile(tier: TierState): void {
    tier.bySubject = new Map();
    tier.covered = new Map();
    tier.covering = new Map();
    for (const e of tier.ordered) {
      const list = tier.bySubject.get(e.sid);
      if (list === undefined) tier.bySubject.set(e.sid, [e]);
      else list.push(e);
    }
  }

  private unfile(tier: TierState, e: Entry, sid: number): void {
    const list = tier.bySubject.get(sid)!;
    list.splice(list.indexOf(e), 1);
    if (list.length > 0) return;
    tier.bySubject.delete(sid);
    tier.covered.clear();
    tier.covering.clear();
  }

  private file(tier: TierState, e: Entry): void {
    const list = tier.bySubject.get(e.sid);
    if (list !== undefined) {
      list.splice(after(list, e.policy), 0, e);
      return;
    }
    tier.bySubject.set(e.sid, [e]);
    tier.covered.clear();
    tier.covering.clear();
  }

  /** The policies of its tier before `e` whose subject covers its own, in order. */
  private earlierOf(e: Entry): Entry[] {
    const tier = this.tiers[e.tier]!;
    const sids = this.coveringIn(tier, e.sid);
    if (sids.length === 1) {
      const list = tier.bySubject.get(sids[0]!)!;
      return list.slice(0, fromPosition(list, e.pos));
    }
    const found: Entry[] = [];
    for (const s of sids) {
      const list = tier.bySubject.get(s)!;
      const n = fromPosition(list, e.pos);
      for (let i = 0; i < n; i++) found.push(list[i]!);
    }
    return found.sort((a, b) => a.pos - b.pos);
  }

  /** A policy's shadowed rules from scratch. */
  private analyse(e: Entry): Packed {
    return shadowedRulesOf(
      e.policy,
      this.earlierOf(e).map((x) => x.policy),
    );
  }

  /**
   * A policy's shadowed rules again when it is unchanged and analysed before this update, whose
   * new and replaced policies are `fresh` (with their tiers, places and subjects up to date).
   * Only those can differ among the policies before it: each rule keeps its cover unless one
   * of them comes first or the cover itself was replaced or removed (then the rule is looked
   * at again from there). Equal to analyse(), at the cost of the changes, not of the tier.
   */
  private reanalyse(e: Entry, fresh: readonly Entry[], epoch: number): Packed {
    const policy = e.policy;
    // The new policies before it whose subject covers its own, in order.
    const news: Policy[] = [];
    for (const m of fresh) if (m.tier === e.tier && m.pos < e.pos && this.covers(m.sid, e.sid)) news.push(m.policy);
    if (news.length > 1) news.sort(comparePolicies);
    let earlier: Entry[] | undefined;
    const old = e.packed;
    let o = 0;
    const out: (number | Policy)[] = [];
    for (let d = 0; d < DIRECTIONS.length; d++) {
      const egress = DIRECTIONS[d] === 'egress';
      const rules = egress ? policy.egress : policy.ingress;
      next: for (let ri = 0; ri < rules.length; ri++) {
        const code = d * SLOT + ri;
        const rule = rules[ri]!;
        let cover: Policy | undefined;
        let coverRule = -1;
        if (o < old.length && old[o] === code) {
          cover = old[o + 1] as Policy;
          coverRule = old[o + 2] as number;
          o += 3;
        }
        const kept = cover === undefined || cover === policy || this.entries.get(cover.name)?.policy === cover;
        if (kept) {
          // The policies before it are those before, and the new ones: only new ones ahead of the cover can come first.
          const other = cover !== undefined && cover !== policy ? cover : undefined;
          for (const m of news) {
            if (other !== undefined && comparePolicies(m, other) > 0) break;
            const by = firstCover(m, egress, rule);
            if (by >= 0) {
              out.push(code, m, by);
              continue next;
            }
          }
          if (cover !== undefined) out.push(code, cover, coverRule);
          continue;
        }
        // The cover is gone: the unchanged policies before it still do not cover the rule.
        earlier ??= this.earlierOf(e);
        for (const x of earlier) {
          if (x.changed !== epoch && comparePolicies(x.policy, cover!) < 0) continue;
          const by = firstCover(x.policy, egress, rule);
          if (by >= 0) {
            out.push(code, x.policy, by);
            continue next;
          }
        }
        const by = ownCover(rules, ri);
        if (by >= 0) out.push(code, policy, by);
      }
    }
    return out;
  }

  /** The open orders of one tier and priority, as orderAmbiguities listed them: by first, then second policy. */
  private openOrders(t: number, priority: number): AmbiguousOrder[] {
    const ordered = this.tiers[t]!.ordered;
    const tier = TIERS[t]!;
    const out: AmbiguousOrder[] = [];
    const start = fromPriority(ordered, priority);
    let end = start;
    while (end < ordered.length && ordered[end]!.policy.priority === priority) end++;
    for (let i = start; i < end; i++) {
      const a = ordered[i]!;
      const policy = a.policy;
      for (let j = i + 1; j < end; j++) {
        const b = ordered[j]!;
        const other = b.policy;
        const directions = DIRECTIONS.filter((d) => (d === 'egress' ? policy.egress.length > 0 && other.egress.length > 0 : policy.ingress.length > 0 && other.ingress.length > 0));
        if (directions.length > 0 && this.mayOverlap(a.sid, b.sid)) out.push({ tier, priority, first: policy.name, second: other.name, directions });
      }
    }
    return out;
  }

  /**
   * The new and replaced policies among `policies`, by identity (the operator hands the same
   * object for an unchanged policy); undefined when a name comes twice. Sets `removals` when
   * some kept policy is not among them (those are then the entries not seen in `epoch`).
   */
  private diff(policies: readonly Policy[], epoch: number): { fresh: Policy[]; removals: boolean } | undefined {
    const fresh: Policy[] = [];
    const inputs = this.inputs;
    if (policies.length === inputs.length && inputs.length === this.entries.size) {
      // The same names in the same order as last time (the usual case): compare in place.
      let same = true;
      for (let i = 0; i < policies.length; i++) {
        const p = policies[i]!;
        const q = inputs[i]!;
        if (p === q) continue;
        if (p.name !== q.name) {
          same = false;
          break;
        }
        fresh.push(p);
      }
      if (same) {
        if (fresh.length > 0) for (let i = 0; i < policies.length; i++) inputs[i] = policies[i]!;
        return { fresh, removals: false };
      }
      fresh.length = 0;
    }
    let seen = 0;
    let added: Set<string> | undefined;
    for (const p of policies) {
      const e = this.entries.get(p.name);
      if (e === undefined) {
        if (added?.has(p.name)) return undefined;
        (added ??= new Set()).add(p.name);
        fresh.push(p);
      } else if (e.seen === epoch) {
        return undefined;
      } else {
        e.seen = epoch;
        seen++;
        if (e.policy !== p) fresh.push(p);
      }
    }
    this.inputs = [...policies];
    return { fresh, removals: seen < this.entries.size };
  }

  /** Brings the analysis up to `policies`; yields once per policy redone. */
  *update(policies: readonly Policy[]): Generator<void, void, void> {
    if (this.complete) this.building = new Set();
    this.complete = false;
    const changedNames = this.building;
    this.pruneSubjects(policies.length);
    let epoch = ++this.epoch;
    let found = this.diff(policies, epoch);
    if (found === undefined) {
      // A name twice: the last one counts, as in a map by name.
      epoch = ++this.epoch;
      this.inputs = [];
      found = this.diff([...new Map(policies.map((p) => [p.name, p])).values()], epoch)!;
    }
    if (found.fresh.length === 0 && !found.removals && !this.queued.some((e) => e.dirty)) {
      this.lastChanged = changedNames;
      this.complete = true;
      return;
    }
    yield* this.apply(found.fresh, found.removals, epoch, changedNames);
  }

  /** The update proper: `fresh` are the new and replaced policies; with `removals`, the kept ones are those seen in `epoch`. */
  private *apply(fresh: readonly Policy[], removals: boolean, epoch: number, changedNames: Set<string>): Generator<void, void, void> {
    const movers: Mover[] = [];
    const freshEntries: Entry[] = [];
    /** Per tier: entries to take out of the order and entries to put in. */
    const out: Set<Entry>[] = this.tiers.map(() => new Set());
    const into: Entry[][] = this.tiers.map(() => []);
    /** Entries whose filing by subject moves, with where they were filed (tier -1: nowhere yet). */
    const refiled: { entry: Entry; tier: number; sid: number }[] = [];
    /** Per tier: the priorities whose open orders are redone. */
    const touched: Set<number>[] = this.tiers.map(() => new Set());
    const redo: Entry[] = [];
    const queue = (e: Entry): void => {
      if (e.dirty) return;
      e.dirty = true;
      redo.push(e);
    };
    for (const e of this.queued) {
      if (!e.dirty || this.entries.get(e.name) !== e) continue;
      e.full = true;
      redo.push(e);
    }

    for (const p of fresh) {
      let e = this.entries.get(p.name);
      if (e === undefined) {
        const tier = TIERS.indexOf(p.tier);
        e = { name: p.name, policy: p, tier, sid: this.subjectId(p.subject), pos: -1, analysed: undefined, packed: NOTHING, ambiguous: NONE, seen: epoch, changed: epoch, dirty: false, full: true };
        this.entries.set(p.name, e);
        into[tier]!.push(e);
        refiled.push({ entry: e, tier: -1, sid: -1 });
        touched[tier]!.add(p.priority);
      } else {
        const old = e.policy;
        const oldTier = e.tier;
        const oldSid = e.sid;
        movers.push({ policy: old, tier: oldTier, sid: oldSid });
        touched[oldTier]!.add(old.priority);
        e.policy = p;
        e.tier = TIERS.indexOf(p.tier);
        e.sid = this.subjectId(p.subject);
        e.changed = epoch;
        e.full = true;
        touched[e.tier]!.add(p.priority);
        if (e.tier !== oldTier || p.priority !== old.priority) {
          out[oldTier]!.add(e);
          into[e.tier]!.push(e);
          refiled.push({ entry: e, tier: oldTier, sid: oldSid });
        } else if (e.sid !== oldSid) {
          refiled.push({ entry: e, tier: oldTier, sid: oldSid });
        }
      }
      movers.push(e);
      freshEntries.push(e);
      changedNames.add(e.name);
      queue(e);
    }
    if (removals) {
      for (const [name, e] of this.entries) {
        if (e.seen === epoch) continue;
        this.entries.delete(name);
        changedNames.add(name);
        movers.push(e);
        touched[e.tier]!.add(e.policy.priority);
        out[e.tier]!.add(e);
        refiled.push({ entry: e, tier: e.tier, sid: e.sid });
        e.dirty = false;
      }
    }

    // The order of each tier and its filing by subject: patched for a few changes, else rebuilt.
    this.tiers.forEach((tier, t) => {
      const outs = out[t]!;
      const ins = into[t]!;
      const moves = refiled.filter((r) => r.tier === t || r.entry.tier === t);
      if (moves.length === 0) return;
      if (moves.length > PATCH_LIMIT) {
        if (outs.size > 0) tier.ordered = tier.ordered.filter((e) => !outs.has(e));
        tier.ordered.push(...ins);
        tier.ordered.sort(byOrder);
        tier.ordered.forEach((e, i) => (e.pos = i));
        this.refile(tier);
        return;
      }
      let from = tier.ordered.length;
      for (const e of outs) {
        const i = tier.ordered.indexOf(e);
        tier.ordered.splice(i, 1);
        from = Math.min(from, i);
      }
      for (const e of ins) {
        const i = after(tier.ordered, e.policy);
        tier.ordered.splice(i, 0, e);
        from = Math.min(from, i);
      }
      for (let i = from; i < tier.ordered.length; i++) tier.ordered[i]!.pos = i;
      for (const r of moves) if (r.tier === t) this.unfile(tier, r.entry, r.sid);
      for (const r of moves) if (r.entry.tier === t && this.entries.get(r.entry.name) === r.entry) this.file(tier, r.entry);
    });

    // What the movers' old and new versions affect: the later policies of the tier whose subject they cover.
    const queuedIn = this.tiers.map(() => 0);
    for (const e of redo) if (e.dirty) queuedIn[e.tier]!++;
    for (const m of movers) {
      const tier = this.tiers[m.tier]!;
      if (queuedIn[m.tier]! >= tier.ordered.length) continue;
      for (const s of this.coveredIn(tier, m.sid)) {
        const list = tier.bySubject.get(s)!;
        for (let i = after(list, m.policy); i < list.length; i++) {
          const e = list[i]!;
          if (!e.dirty) {
            queue(e);
            queuedIn[e.tier]!++;
          }
        }
      }
    }

    // Open orders of the tiers and priorities touched.
    const mine = new Map<string, AmbiguousOrder[]>();
    const names = new Set<string>();
    touched.forEach((priorities, t) => {
      const tier = this.tiers[t]!;
      for (const priority of priorities) {
        const before = tier.open.get(priority) ?? NONE;
        const now = this.openOrders(t, priority);
        if (sameAmbiguities(before, now)) continue;
        this.flat = undefined;
        if (now.length > 0) tier.open.set(priority, now);
        else tier.open.delete(priority);
        for (const a of before) names.add(a.first).add(a.second);
        for (const a of now) {
          for (const name of [a.first, a.second]) {
            const list = mine.get(name);
            if (list === undefined) mine.set(name, [a]);
            else list.push(a);
            names.add(name);
          }
        }
      }
    });
    for (const name of names) {
      const e = this.entries.get(name);
      if (e === undefined) continue;
      const now = mine.get(name) ?? NONE;
      if (!sameAmbiguities(e.ambiguous, now)) changedNames.add(name);
      e.ambiguous = now;
    }

    // Redo the affected policies, in order, a yield after each.
    redo.sort((a, b) => a.tier - b.tier || a.pos - b.pos);
    this.queued = redo;
    for (const e of redo) {
      if (!e.dirty || this.entries.get(e.name) !== e) continue;
      const before = e.packed;
      const same = e.analysed === e.policy;
      e.packed = e.full || !same ? this.analyse(e) : this.reanalyse(e, freshEntries, epoch);
      // A policy redone for others' changes whose shadowed rules came out the same need not be looked at again.
      if (!same || !samePacked(before, e.packed)) changedNames.add(e.name);
      e.analysed = e.policy;
      e.dirty = false;
      e.full = false;
      yield;
    }
    this.queued = [];
    this.lastChanged = changedNames;
    this.complete = true;
  }

  /**
   * The policies whose forPolicy() may differ since the update before the last (added, removed
   * and replaced ones, those redone whose shadowed rules came out different, and those whose
   * open orders changed): whose warnings a caller recomputes. An update left part way counts
   * with the next one, which reports the changes of both.
   */
  changed(): ReadonlySet<string> {
    return this.lastChanged;
  }

  /** What concerns one policy: its shadowed rules and the open orders it is part of. */
  forPolicy(name: string): Analysis {
    const e = this.entries.get(name);
    if (e === undefined) return { shadowed: [], ambiguous: [] };
    return { shadowed: e.analysed === undefined ? [] : unpack(e.analysed, e.packed), ambiguous: e.ambiguous };
  }

  /** The names of the policies analysed. */
  names(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Whether a policy of that name is analysed. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  result(): Analysis {
    const ordered = [...this.entries.values()].sort(byOrder);
    if (this.flat === undefined) {
      const flat: AmbiguousOrder[] = [];
      for (const tier of this.tiers) for (const priority of [...tier.open.keys()].sort((a, b) => a - b)) flat.push(...tier.open.get(priority)!);
      this.flat = flat;
    }
    return { shadowed: ordered.flatMap((e) => (e.analysed === undefined ? [] : unpack(e.analysed, e.packed))), ambiguous: this.flat };
  }
}
