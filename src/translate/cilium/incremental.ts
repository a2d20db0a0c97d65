import { createHash } from 'node:crypto';
import { comparePolicies, DIRECTIONS, type Direction, type Namespace, type NetworkPolicy, type Policy, type Rule, type Snapshot } from '../../api/model.js';
import { compact, NONE, orNone } from '../lists.js';
import type { Finding, KubeObject } from '../types.js';
import { Compiler, placesAmong, ruleStep, type Among, type Compiled, type DnsVisibility, type EarlierCube, type KeptPlaces, type Entry, type Mode, type Origin, type Relevant, type RelevanceMemo, type RuleStep, type StepMemo, type SubtractStep, type UnitRecord } from './compile.js';
import { emitPolicy, partsByPolicy, sortObjects, type ExtraRule, type PolicyParts } from './emit.js';
import { cubeKey, type LabelCube } from './labels.js';
import { Cluster } from './match.js';
import type { PodTally, PodWatch } from './pod-watch.js';
import { resolveCiliumOptions, type CiliumOptions, type ResolvedCiliumOptions } from './options.js';
import { Reads, type Answered, type Ask, type Watch } from './reads.js';
import { cubeSetKey, peerKey, type Cube } from './space.js';
import { portsKey } from './ports.js';
import { SubjectGraph, type Reach } from './subject-graph.js';
import { dnsRules, sortFindings } from './translate.js';

// The Cilium translation, redone only where its inputs changed. It runs the same compiler as
// translateCilium (which stays the reference), and keeps each step's result with what the
// step depended on:
//
//   rule step      what a rule matches (stage 1): the policy (all of it), the direction, the
//                  rule, and the cluster questions it asked (named-port values on the pods a
//                  selector picks, which pods and nodes CIDRs cover, which nodes a selector
//                  picks, …) with their answers.
//   subtraction    an entry minus the earlier cubes that may intersect it (stage 2): the
//                  entry's cubes, those earlier cubes in order with the rules they come from
//                  (named in its findings, in evaluation order), the mode, whether the rule
//                  bound was reached, the rule's name and action (they are in its findings),
//                  and its cluster questions with their answers.
//   emit           a policy's CCNPs: the policy, its compiled cubes and DNS rules, and the
//                  named-port values it wrote.
//   relevance      which earlier cubes of a group may intersect an entry: the entry, the
//                  group's cubes before it (compared with the last translation's as the group
//                  is built), and the cluster questions the comparison asked.
//
// A step is reused when its inputs are equal and every question has the same answer on the
// new snapshot; otherwise it runs again (recording afresh). What that gives:
// - a changed CNP recomputes its own steps, and a later CNP's subtraction only where the
//   changed CNP's cubes are among the earlier cubes that may intersect it (their subjects
//   overlap): the others see the same list and are reused;
// - a changed NetworkPolicy changes the isolated subjects: only Baseline denies whose cubes
//   intersect them see a different list;
// - a pod change recomputes only the steps that asked something whose answer it changes (a
//   named port's values, a CIDR's coverage, the addresses a selector picks in CIDR mode …);
//   most pod changes answer every question the same, and nothing is recomputed.
// With a single group of earlier cubes, a subtraction's key names that group's kept relevance
// by number instead of listing the cubes.
//
// Walking every policy's steps in order (to build the lists of earlier cubes) costs little per
// unchanged step, but with thousands of CNPs that is most of an update. So when every question
// keeps its answer (no pod change moved a tally; namespaces, nodes and NetworkPolicies as
// before), only the policies connected to the changed ones by meeting subjects are walked
// (walkPart, subject-graph.ts): the others cannot see the change. The whole walk runs otherwise,
// and when the partial one would cover more than half of the policies.

/** A step result with the inputs it was computed for. */
interface Kept<T> {
  readonly key: string;
  readonly answers: readonly Answered<Cluster>[];
  readonly value: T;
  /** The last translation that used it. */
  round: number;
  /** Whether its table still holds it (fast paths find it by object, not through the table). */
  live: boolean;
}

export interface PolicyOutput {
  /** The policy's CCNPs, sorted by name (the same array while they do not change). */
  readonly objects: readonly KubeObject[];
  readonly findings: readonly Finding[];
}

export interface StepCounts {
  computed: number;
  reused: number;
}

export interface IncrementalTranslation {
  /**
   * As translateCilium gives them: objects sorted by name, findings in their total order. Like
   * `byPolicy`, made from the translator's current state: read them before the next translation.
   */
  readonly objects: readonly KubeObject[];
  readonly findings: readonly Finding[];
  /** Every policy with objects or findings (kept up to date: read it before the next translation). */
  readonly byPolicy: ReadonlyMap<string, PolicyOutput>;
  /** Policies whose objects or findings differ from the previous translation's (gone ones included). */
  readonly changed: readonly string[];
  readonly steps: { readonly rules: StepCounts; readonly subtractions: StepCounts; readonly emits: StepCounts };
  /** Every cluster question the kept steps depend on, with its answer. */
  readonly questions: readonly Answered<Cluster>[];
  /** With `watchPods`: tallies of the pods behind those questions, to judge later pod events by. */
  readonly pods: PodWatch | undefined;
  /** Whether only the policies the changes could affect were walked (see `walkPart`). */
  readonly partial: boolean;
}

export interface IncrementalOptions {
  /** Seed a PodWatch with every translation (the operator's event filter). */
  readonly watchPods?: boolean;
  /**
   * The largest share of the policies (in both directions) a partial walk may walk; above it the
   * whole walk runs, which costs about as much and clears what partial walks leave behind. 0.5
   * unless set; 0: the whole walk always (tests set 1 to walk partially whenever that is right).
   */
  readonly partialUpTo?: number;
  /** Deliberately wrong invalidation (tests only). */
  readonly faults?: Faults;
}

const policyKeys = new WeakMap<Policy, string>();

/**
 * A digest of the whole policy (its text, bigint addresses as decimals): kept steps only compare
 * it, and the text of thousands of CNPs, kept for as long as they are, is tens of megabytes.
 */
export function policyKey(p: Policy): string {
  let k = policyKeys.get(p);
  if (k === undefined) {
    k = digest(JSON.stringify(p, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    policyKeys.set(p, k);
  }
  return k;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/**
 * Small numbers for cube contents, so keys made of many cubes stay short. Numbers are never
 * reused for other contents; contents not seen for a whole translation are forgotten.
 */
class CubeIds {
  private readonly keys = new WeakMap<Cube, string>();
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private next = 0;

  id(c: Cube): number {
    let key = this.keys.get(c);
    if (key === undefined) {
      key = cubeSetKey(c);
      this.keys.set(c, key);
    }
    let id = this.current.get(key);
    if (id === undefined) {
      id = this.previous.get(key) ?? ++this.next;
      this.current.set(key, id);
    }
    return id;
  }

  list(cubes: readonly Cube[]): string {
    let out = '';
    for (const c of cubes) out += `${this.id(c)},`;
    return out;
  }

  /**
   * Earlier cubes with where they come from: each cube's number and the place of its rule
   * among the distinct rules, then those rules' words in evaluation order. Only their relative
   * order is kept: a rule inserted before all of them changes no finding of this step.
   */
  earlier(relevant: readonly EarlierCube[]): string {
    const origins = [...new Set(relevant.map((r) => r.from))].sort((a, b) => a.order - b.order);
    const place = new Map<Origin, number>(origins.map((o, i) => [o, i]));
    let out = '';
    for (const r of relevant) out += `${this.id(r.cube)}@${place.get(r.from)!},`;
    for (const o of origins) out += `\u0002${o.words}`;
    return out;
  }

  /** A translation is over: what it did not use may go. */
  endRound(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/**
 * One object for each distinct subject, peer, port set and cube that rule steps make: CNPs
 * name the same namespaces, pods and ports over and over, and each rule step's cubes are kept
 * for as long as its CNP is unchanged (with 5,000 CNPs, most of the translation's memory).
 * What no step asked for in a whole translation is forgotten; whatever steps hold stays theirs.
 */
class SharedParts {
  private current = new Map<string, object>();
  private previous = new Map<string, object>();

  private of<T extends object>(key: string, value: T): T {
    let v = this.current.get(key) as T | undefined;
    if (v === undefined) {
      v = (this.previous.get(key) as T | undefined) ?? value;
      this.current.set(key, v);
    }
    return v;
  }

  cube(c: Cube): Cube {
    const subject = this.of(`s${cubeKey(c.subject)}`, c.subject);
    const peer = this.of(`p${peerKey(c.peer)}`, c.peer);
    const ports = this.of(`t${portsKey(c.ports)}`, c.ports);
    return this.of(`c${cubeSetKey(c)}`, subject === c.subject && peer === c.peer && ports === c.ports ? c : { subject, peer, ports });
  }

  step(step: RuleStep): RuleStep {
    const cubes = new Map<readonly Cube[], readonly Cube[]>();
    const entries = step.entries.map((e) => {
      let shared = cubes.get(e.cubes);
      if (shared === undefined) cubes.set(e.cubes, (shared = e.cubes.map((c) => this.cube(c))));
      return { ...e, cubes: shared };
    });
    return { ...step, entries };
  }

  endRound(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/** A group's earlier cubes as numbers, with their origins' words and sections, as built in `round`. */
interface GroupItems {
  readonly cubes: number[];
  readonly words: string[];
  readonly sections: number[];
  readonly round: number;
}

/** Whether places `a` among `now`'s cubes name the same cubes, from the same rules, in the same order as `b` among `last`'s. */
function samePlaces(now: GroupItems, a: readonly number[], last: GroupItems, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const p = a[k]!;
    const q = b[k]!;
    if (now.cubes[p] !== last.cubes[q] || now.words[p] !== last.words[q] || now.sections[p] !== last.sections[q]) return false;
  }
  return true;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

interface RelevanceRecord extends KeptPlaces {
  readonly group: string;
  readonly length: number;
  readonly answers: readonly Answered<Cluster>[];
  round: number;
}

/**
 * Which earlier cubes may intersect each entry, kept from one translation to the next. Asking
 * it again for every entry would compare each with every earlier cube of its group, which grows
 * with the square of the number of CNPs that share subjects. Each group's cubes are compared,
 * as they are added, with the same group's in the last translation: a kept answer holds while
 * the cubes before the entry, the entry's own cubes and the cluster answers it read are
 * unchanged.
 */
class KeptRelevance implements RelevanceMemo {
  private last = new Map<string, GroupItems>();
  private now = new Map<string, GroupItems>();
  /** Per group of this translation: the first place where its cubes differ from the last's. */
  private readonly changedFrom = new Map<string, number>();
  /**
   * Per entry (the same object while its rule step is reused, so its cubes are the same) and
   * group. A record holds only if it was used when its group was last built: its places are
   * places in those cubes. A list, not a map: an entry meets a few groups, and tens of
   * thousands of small maps were a sixth of the heap.
   */
  private readonly records = new WeakMap<Entry, RelevanceRecord[]>();
  /** The records this translation used: what they asked the cluster is among its questions. */
  used: RelevanceRecord[] = [];
  /** Makes each record's signature new. */
  private nextId = 0;
  private round = 0;
  private cluster: Cluster | undefined;

  constructor(
    private readonly ids: CubeIds,
    private readonly fault = false,
  ) {}

  begin(cluster: Cluster, round: number): void {
    this.cluster = cluster;
    this.round = round;
    this.used = [];
    this.now = new Map();
    this.changedFrom.clear();
  }

  added(group: string, c: EarlierCube, section: number): void {
    let g = this.now.get(group);
    if (g === undefined) this.now.set(group, (g = { cubes: [], words: [], sections: [], round: this.round }));
    const i = g.cubes.length;
    const id = this.ids.id(c.cube);
    g.cubes.push(id);
    g.words.push(c.from.words);
    g.sections.push(section);
    if (this.changedFrom.has(group)) return;
    const l = this.last.get(group);
    if (l === undefined || l.cubes[i] !== id || l.words[i] !== c.from.words || l.sections[i] !== section) this.changedFrom.set(group, i);
  }

  relevant(group: string, e: Entry, length: number, among: Among): RelevanceRecord {
    const cluster = this.cluster!;
    const byGroup = this.records.get(e);
    const at = byGroup === undefined ? -1 : byGroup.findIndex((x) => x.group === group);
    const r = at < 0 ? undefined : byGroup![at];
    const usable = r !== undefined && r.round === this.last.get(group)?.round && stillAnswered(r.answers, cluster);
    if (usable && (this.fault || (r.length === length && length <= (this.changedFrom.get(group) ?? Infinity)))) {
      r.round = this.round;
      this.used.push(r);
      return r;
    }
    const outer = cluster.reads;
    const reads = new Reads<Cluster>();
    cluster.reads = reads;
    let places: number[];
    try {
      places = usable ? this.around(group, r, length, among) : placesAmong(among, 0, length);
    } finally {
      cluster.reads = outer;
    }
    const answers = new Map<string, Answered<Cluster>>();
    if (usable) for (const a of r.answers) answers.set(a.key, a);
    for (const [q, { ask, watch }] of reads.entries()) answers.set(q, { key: q, ask, answer: cluster.answer(q, ask), watch });
    // Places that name the same cubes from the same rules as before (those after a changed CNP,
    // shifted) keep the record's signature: the subtraction built on them is still found.
    const last = usable ? this.last.get(group) : undefined;
    const same = last !== undefined && samePlaces(this.now.get(group)!, places, last, r!.places);
    const record = {
      group,
      length,
      // The places themselves are where those cubes are now (they may have moved).
      places: same && sameNumbers(places, r!.places) ? r!.places : compact(places),
      signature: same ? r!.signature : `\u0003${++this.nextId}`,
      answers: answers.size === 0 ? NONE : [...answers.values()],
      round: this.round,
    };
    if (byGroup === undefined) this.records.set(e, [record]);
    else if (at < 0) this.records.set(e, [...byGroup, record]);
    else byGroup[at] = record;
    this.used.push(record);
    return record;
  }

  /**
   * The places anew when only part of the group's cubes changed (a CNP updated, added or
   * removed among them): the cubes before the first change and those of the unchanged end keep
   * their answers (whether a cube may intersect depends on its contents alone), and only those
   * between are compared with the entry's.
   */
  private around(group: string, r: RelevanceRecord, length: number, among: Among): number[] {
    const last = this.last.get(group);
    const now = this.now.get(group)!;
    if (last === undefined) return placesAmong(among, 0, length);
    const from = Math.min(this.changedFrom.get(group) ?? length, length, r.length);
    let same = 0;
    while (same < length - from && same < r.length - from && now.cubes[length - 1 - same] === last.cubes[r.length - 1 - same]) same++;
    const shift = length - r.length;
    const places: number[] = [];
    for (const p of r.places) if (p < from) places.push(p);
    for (const p of placesAmong(among, from, length - same)) places.push(p);
    for (const p of r.places) if (p >= r.length - same) places.push(p + shift);
    return places;
  }

  /**
   * A translation is over. After a partial walk (`covered`: per direction, the subjects whose
   * groups it built in full), the groups of other subjects are as they were.
   */
  endRound(covered: readonly [ReadonlySet<string>, ReadonlySet<string>] | undefined): void {
    if (covered === undefined) this.last = this.now;
    else {
      for (const name of this.last.keys()) {
        if (this.now.has(name)) continue;
        const cut = name.indexOf('\u0000');
        if (covered[name.startsWith('ingress') ? 0 : 1].has(name.slice(cut + 1))) this.last.delete(name);
      }
      for (const [name, items] of this.now) this.last.set(name, items);
    }
    this.now = new Map();
    this.changedFrom.clear();
    this.cluster = undefined;
  }
}

/**
 * Deliberately wrong invalidation, for tests that must show the equivalence test catches it:
 * `earlier` leaves the earlier cubes out of a subtraction's key, `answers` reuses steps whatever
 * the cluster answers now, `policy` keys a rule step by the policy's name alone, `vouch` takes
 * a pod tally's word for its answer even when pod changes moved it, `origins` keys a
 * subtraction by the earlier cubes without the rules they come from, `relevance` keeps which
 * earlier cubes may intersect an entry whatever the earlier cubes are now, `reach` walks only
 * the changed policies in a partial walk (not those their subjects connect to).
 */
export interface Faults {
  readonly earlier?: boolean;
  readonly origins?: boolean;
  readonly answers?: boolean;
  readonly policy?: boolean;
  readonly vouch?: boolean;
  readonly relevance?: boolean;
  readonly reach?: boolean;
}

/** A policy in one direction, as its last compilation left it. */
interface Unit {
  readonly compiled: readonly Compiled[];
  readonly findings: readonly Finding[];
  readonly dns: readonly DnsVisibility[];
  readonly rules: number;
  readonly subjects: ReadonlyMap<string, LabelCube>;
}

type PerDirection<T> = [T, T];

const directionAt = (d: Direction): 0 | 1 => (d === 'ingress' ? 0 : 1);

export class IncrementalCilium {
  private readonly options: ResolvedCiliumOptions;
  private readonly rules = new Map<string, Kept<RuleStep>>();
  private readonly subtractions = new Map<string, Kept<SubtractStep>>();
  private readonly emits = new Map<string, Kept<readonly KubeObject[]>>();
  /**
   * Fast paths: a step whose inputs are the very objects of the last translation (the policy
   * of an unchanged CNP, an entry of a reused rule step) is found without making its slot and key.
   */
  private readonly ruleSteps = new WeakMap<Policy, Kept<RuleStep>[]>();
  private readonly subtractionSteps = new WeakMap<Entry, { readonly kept: Kept<SubtractStep>; readonly earlier: string; readonly mode: Mode; readonly bounded: boolean }>();
  private readonly emitSteps = new WeakMap<Policy, { readonly kept: Kept<readonly KubeObject[]>; readonly compiled: readonly Compiled[] }>();
  private readonly ids = new CubeIds();
  private readonly relevance: KeptRelevance;
  private readonly shared = new SharedParts();
  private round = 0;
  private lastCluster: Cluster | undefined;
  /**
   * The compiler's own tallies of the pods behind each question, with the answer they stand
   * for, as of the last translation. A new snapshot's pod changes move them; a tally that did
   * not move vouches for its answer, which then need not be asked again (on 20,000 pods,
   * answering is most of the cost of a translation after pod churn).
   */
  private tallies = new Map<string, { readonly tally: PodTally; readonly answer: string }>();
  /** Every question kept steps depend on (after a partial walk, some that no step needs any more). */
  private questions = new Map<string, Answered<Cluster>>();
  /** Answers recorded by steps computed in this translation. */
  private fresh: Answered<Cluster>[] = [];
  /** The same, by question: one object per question and answer (thousands of steps ask the same). */
  private recorded = new Map<string, Answered<Cluster>>();

  // What a partial walk builds on, as of the last translation.
  private units: PerDirection<Map<string, Unit>> = [new Map(), new Map()];
  private readonly graphs: PerDirection<SubjectGraph> = [new SubjectGraph(), new SubjectGraph()];
  private policies = new Map<string, Policy>();
  private list: readonly Policy[] = [];
  private networkPolicies: readonly NetworkPolicy[] = [];
  private namespaces: readonly Namespace[] = [];
  private totalRules = 0;
  private outputs = new Map<string, PolicyOutput>();
  private findingsText = new Map<string, string>();
  /** Whether the last translation left all of the above (a translation with faults does not). */
  private partialReady = false;
  /** Steps computed since the last whole walk: what partial walks may leave behind (see `translate`). */
  private computedSinceWhole = 0;

  private readonly faults: Faults;

  constructor(
    options: CiliumOptions = {},
    private readonly incremental: IncrementalOptions = {},
  ) {
    this.options = resolveCiliumOptions(options);
    this.faults = incremental.faults ?? {};
    this.relevance = new KeptRelevance(this.ids, this.faults.relevance === true);
  }

  translate(snapshot: Snapshot): IncrementalTranslation {
    const round = ++this.round;
    const cluster = new Cluster(snapshot, this.options, this.lastCluster);
    this.lastCluster = cluster;
    const vouched = new Map<string, { readonly tally: PodTally; readonly answer: string }>();
    if (cluster.inherited) for (const [key, t] of this.tallies) vouched.set(key, t);
    else if (cluster.changes !== undefined && this.faults.answers !== true) {
      for (const [key, t] of this.tallies) {
        for (const p of cluster.changes.removed) t.tally.add(p, -1);
        for (const p of cluster.changes.added) t.tally.add(p, 1);
        if (t.tally.moved() && this.faults.vouch !== true) continue;
        vouched.set(key, t);
        cluster.knownAnswer(key, t.answer);
      }
    }
    this.fresh = [];
    this.recorded = new Map();
    // Partially when every question keeps its answer and the NetworkPolicies are as before; the
    // whole walk now and then anyway, to forget what partial walks leave behind (cube numbers,
    // shared parts and questions no step needs any more).
    const partial =
      this.incremental.partialUpTo !== 0 &&
      this.partialReady && this.allAnswered(cluster, snapshot, vouched) && sameNetworkPolicies(this.networkPolicies, snapshot.networkPolicies) && this.computedSinceWhole <= this.rules.size + this.subtractions.size
        ? this.walkPart(snapshot, cluster, round)
        : undefined;
    const out = partial ?? this.walkWhole(snapshot, cluster, round);

    const tallies = new Map<string, { readonly tally: PodTally; readonly answer: string }>();
    for (const q of this.questions.values()) {
      if (q.watch === undefined) continue;
      tallies.set(q.key, vouched.get(q.key) ?? { tally: q.watch(cluster), answer: q.answer });
    }
    this.tallies = tallies;
    // The operator's watch moves with pod events: copies, so the compiler's own stay as of this snapshot.
    const pods = this.incremental.watchPods === true ? cluster.podWatch([...tallies.values()].map((t) => t.tally.clone())) : undefined;
    const outputs = this.outputs;
    const questions = this.questions;
    // The whole lists only when asked for (the operator takes the changed policies' outputs).
    return {
      get objects() {
        return sortObjects([...outputs.values()].flatMap((o) => o.objects));
      },
      get findings() {
        return sortFindings([...outputs.values()].flatMap((o) => o.findings));
      },
      byPolicy: outputs,
      changed: out.changed,
      steps: out.steps,
      get questions() {
        return [...questions.values()];
      },
      pods,
      partial: partial !== undefined,
    };
  }

  /**
   * Whether every question kept steps depend on has the same answer: the same pods, namespaces
   * and nodes, or pod changes that moved no tally (pods no question involves).
   */
  private allAnswered(cluster: Cluster, snapshot: Snapshot, vouched: ReadonlyMap<string, unknown>): boolean {
    if (cluster.inherited) return true;
    if (cluster.changes === undefined || !sameNamespaces(this.namespaces, snapshot.namespaces)) return false;
    for (const key of this.questions.keys()) if (!vouched.has(key)) return false;
    return true;
  }

  private counts(): Steps {
    return { rules: { computed: 0, reused: 0 }, subtractions: { computed: 0, reused: 0 }, emits: { computed: 0, reused: 0 } };
  }

  /** The steps of the compiler, reused where their inputs are unchanged. */
  private memo(cluster: Cluster, steps: Steps, fast: boolean): StepMemo {
    const ids = this.ids;
    return {
      // The slot names the direction and the rule: the policy's text is the rest of the key
      // (one string for all its rules, not a copy per rule).
      rule: (policy: Policy, direction: Direction, rule: Rule, compute: (policy: Policy, direction: Direction, rule: Rule) => RuleStep): RuleStep => {
        // The same policy object (an unchanged CNP) has the same text.
        const at = directionAt(direction) + 2 * rule.index;
        let byPolicy = this.ruleSteps.get(policy);
        const f = byPolicy?.[at];
        if (fast && f !== undefined && f.live && this.answered(f, cluster)) return this.reuse(f, steps.rules);
        const k = this.keptStep(this.rules, ruleSlot(policy.name, direction, rule.index), this.faults.policy === true ? policy.name : policyKey(policy), cluster, () => this.shared.step(compute(policy, direction, rule)), steps.rules);
        if (byPolicy === undefined) this.ruleSteps.set(policy, (byPolicy = []));
        byPolicy[at] = k;
        return k.value;
      },
      subtract: (e: Entry, relevant: Relevant, mode: Mode, bounded: boolean, compute: (e: Entry, relevant: Relevant, mode: Mode, bounded: boolean) => SubtractStep): SubtractStep => {
        // Kept with the step: a digest (the text, made piece by piece, would be kept as thousands of pieces).
        const earlier = this.faults.earlier === true ? '' : this.faults.origins === true ? ids.list(relevant.cubes.map((r) => r.cube)) : (relevant.signature ?? digest(ids.earlier(relevant.cubes)));
        // The same entry object (its rule step reused) has the same rule and cubes.
        const f = this.subtractionSteps.get(e);
        if (fast && f !== undefined && f.kept.live && f.earlier === earlier && f.mode === mode && f.bounded === bounded && this.answered(f.kept, cluster)) return this.reuse(f.kept, steps.subtractions);
        const kept = this.keptStep(
          this.subtractions,
          subtractionSlot(e.policy.name, e.direction, e.rule.index, e.kind),
          digest(`${e.rule.action}\u0000${e.rule.name ?? '\u0001'}\u0000${mode}\u0000${bounded}\u0000${ids.list(e.cubes)}\u0000${earlier}`),
          cluster,
          () => compute(e, relevant, mode, bounded),
          steps.subtractions,
          this.sameSubtraction,
        );
        this.subtractionSteps.set(e, { kept, earlier, mode, bounded });
        return kept.value;
      },
      relevance: this.relevance,
    };
  }

  /** The whole compilation: every policy walked, and what partial walks left behind cleared. */
  private walkWhole(snapshot: Snapshot, cluster: Cluster, round: number): { changed: string[]; steps: Steps } {
    const steps = this.counts();
    this.relevance.begin(cluster, round);
    // With deliberate faults in the steps the keys alone decide (the fast paths would hide them).
    const fast = Object.keys(this.faults).every((f) => f === 'reach');
    // What the compilation asks outside the steps (which earlier cubes may intersect an entry,
    // the NetworkPolicies' isolation) is asked again every time; a pod event may change it too.
    const around = new Reads<Cluster>();
    cluster.reads = around;
    const compiler = new Compiler(cluster, this.memo(cluster, steps, fast), true);
    const { compiled, dns, findings } = compiler.compile();
    cluster.reads = undefined;

    // Per policy and direction, what a partial walk builds on.
    const units: PerDirection<Map<string, Unit>> = [new Map(), new Map()];
    const lists = unitLists(compiled, findings, dns);
    let total = 0;
    let complete = fast;
    for (const at of [0, 1] as const) {
      for (const [name, record] of compiler.units![at]) {
        units[at].set(name, unitOf(lists, at, name, record));
        total += record.rules;
      }
      for (const [name, unit] of units[at]) this.graphs[at].setUnit(name, unit.subjects);
      for (const name of this.units[at].keys()) if (!units[at].has(name)) this.graphs[at].setUnit(name, new Map());
    }
    // Every finding and compiled rule belongs to a walked policy in its direction.
    for (const k of lists.keys()) {
      const [at, name] = [Number(k[0]) as 0 | 1, k.slice(2)];
      if (!units[at].has(name)) complete = false;
    }
    this.units = units;
    this.totalRules = total;
    this.policies = new Map(snapshot.policies.map((p) => [p.name, p]));
    this.list = snapshot.policies;
    this.networkPolicies = snapshot.networkPolicies;
    this.namespaces = snapshot.namespaces;
    // Steps computed with the rule bound reached depend on every policy before them.
    this.partialReady = complete && this.policies.size === snapshot.policies.length && total < this.options.maxRules;
    this.computedSinceWhole = 0;

    const { cidrPods, cidrNodes } = this.options.agent;
    const reach = { pods: cidrPods, nodes: cidrNodes };
    const found = new Map<string, Finding[]>();
    for (const f of sortFindings(findings)) {
      const list = found.get(f.policy);
      if (list === undefined) found.set(f.policy, [f]);
      else list.push(f);
    }
    const outputs = new Map<string, PolicyOutput>();
    for (const parts of partsByPolicy(compiled, dnsRules(dns, this.options.dns))) {
      const emitted = this.emitted(parts, cluster, () => emitPolicy(parts, cluster.names, reach), steps.emits, fast);
      outputs.set(parts.policy.name, { objects: emitted, findings: found.get(parts.policy.name) ?? NONE });
    }
    for (const [name, list] of found) if (!outputs.has(name)) outputs.set(name, { objects: NONE, findings: list });
    // Steps not used this time belong to rules, policies or entries that are gone. Each slot is
    // used at most once a translation: when as many were used as the table holds, none is stale.
    for (const [table, used] of [
      [this.rules, steps.rules],
      [this.subtractions, steps.subtractions],
      [this.emits, steps.emits],
    ] as [Map<string, Kept<unknown>>, StepCounts][]) {
      if (used.computed + used.reused === table.size) continue;
      for (const [slot, k] of table) {
        if (k.round === round) continue;
        k.live = false;
        table.delete(slot);
      }
    }

    this.relevance.endRound(undefined);
    this.shared.endRound();
    this.ids.endRound();
    const changed = this.replaceOutputs(outputs);

    const questions = new Map<string, Answered<Cluster>>();
    for (const [key, { ask, watch }] of around.entries()) questions.set(key, this.answerNow(key, ask, watch, cluster));
    for (const table of [this.rules, this.subtractions, this.emits] as Map<string, Kept<unknown>>[]) {
      for (const k of table.values()) for (const a of k.answers) questions.set(a.key, a);
    }
    for (const r of this.relevance.used) for (const a of r.answers) questions.set(a.key, a);
    this.questions = questions;
    return { changed, steps };
  }

  /**
   * Only the policies a change can affect: those whose subjects are connected (subject-graph.ts)
   * to the subjects of the changed policies, before or after the change. Only when the pods,
   * namespaces, nodes and NetworkPolicies are as in the last translation (every question has its
   * answer), no rule bound is reached, and the affected policies are still all that the changed
   * results connect to; otherwise undefined (the whole walk decides).
   */
  private walkPart(snapshot: Snapshot, cluster: Cluster, round: number): { changed: string[]; steps: Steps } | undefined {
    const changes = this.policyChanges(snapshot.policies);
    if (changes === undefined) return undefined;
    const now = this.policies;
    const changedPolicies = [...changes.keys()];
    const steps = this.counts();
    if (changedPolicies.length === 0) return { changed: [], steps };
    const memo = this.memo(cluster, steps, true);
    const compute = (policy: Policy, direction: Direction, rule: Rule) => ruleStep(cluster, policy, direction, rule);
    const reached: Reach[] = [];
    const walked: PerDirection<Set<string>> = [new Set(), new Set()];
    const most = (this.graphs[0].unitCount() + this.graphs[1].unitCount()) * (this.incremental.partialUpTo ?? 0.5);
    for (const at of [0, 1] as const) {
      const direction = DIRECTIONS[at]!;
      const graph = this.graphs[at];
      const from = new Set<string>();
      for (const name of changedPolicies) {
        const old = this.units[at].get(name);
        const subjects = new Map(old?.subjects ?? []);
        for (const k of subjects.keys()) from.add(k);
        const p = now.get(name);
        if (p === undefined) continue;
        walked[at].add(name);
        for (const rule of direction === 'ingress' ? p.ingress : p.egress) {
          for (const e of memo.rule(p, direction, rule, compute).entries) for (const c of e.cubes) subjects.set(cubeKey(c.subject), c.subject);
        }
        for (const k of subjects.keys()) from.add(k);
        graph.setUnit(name, subjects);
      }
      // When most is affected, the whole walk costs as much and clears what partial walks leave.
      const r = graph.reach(from, most - (at === 1 ? walked[0].size : 0));
      if (r === undefined) return undefined;
      reached.push(r);
      if (this.faults.reach !== true) for (const name of r.units) if (now.has(name)) walked[at].add(name);
    }
    if (walked[0].size + walked[1].size > most) return undefined;
    const sorted = (names: Set<string>) => [...names].map((n) => now.get(n)!).sort(comparePolicies);
    this.relevance.begin(cluster, round);
    const around = new Reads<Cluster>();
    cluster.reads = around;
    const compiler = new Compiler(cluster, memo, true);
    const { compiled, dns, findings } = compiler.compile({ policies: [sorted(walked[0]), sorted(walked[1])] });
    cluster.reads = undefined;

    const lists = unitLists(compiled, findings, dns);
    let total = this.totalRules;
    const units: PerDirection<Map<string, Unit>> = [new Map(), new Map()];
    for (const at of [0, 1] as const) {
      for (const [name, record] of compiler.units![at]) {
        units[at].set(name, unitOf(lists, at, name, record));
        total += record.rules;
      }
      for (const name of walked[at]) total -= this.units[at].get(name)?.rules ?? 0;
      for (const name of changedPolicies) if (!now.has(name)) total -= this.units[at].get(name)?.rules ?? 0;
    }
    for (const k of lists.keys()) if (!units[Number(k[0]) as 0 | 1].has(k.slice(2))) return undefined;
    if (total >= this.options.maxRules) return undefined;
    // The results must not connect to what was not walked (an allow's pieces are new subjects).
    const covered: PerDirection<Set<string>> = [new Set(reached[0]!.subjects), new Set(reached[1]!.subjects)];
    for (const at of [0, 1] as const) {
      const graph = this.graphs[at];
      for (const [name, unit] of units[at]) graph.setUnit(name, unit.subjects);
      for (const name of changedPolicies) if (!now.has(name)) graph.setUnit(name, new Map());
      const seeds = new Set<string>();
      for (const unit of units[at].values()) for (const k of unit.subjects.keys()) seeds.add(k);
      const after = graph.reach(seeds)!;
      for (const name of after.units) if (!walked[at].has(name)) return undefined;
      for (const k of after.subjects) covered[at].add(k);
    }

    for (const at of [0, 1] as const) {
      for (const [name, unit] of units[at]) this.units[at].set(name, unit);
      for (const name of changedPolicies) if (!now.has(name)) this.units[at].delete(name);
    }
    this.totalRules = total;
    this.forgetSlots(changes);
    this.computedSinceWhole += steps.rules.computed + steps.subtractions.computed;

    const { cidrPods, cidrNodes } = this.options.agent;
    const reach = { pods: cidrPods, nodes: cidrNodes };
    const outputs = new Map<string, PolicyOutput | undefined>();
    for (const name of new Set([...walked[0], ...walked[1], ...changedPolicies])) {
      outputs.set(name, undefined);
      const policy = now.get(name);
      if (policy === undefined) continue;
      const ingress = this.units[0].get(name);
      const egress = this.units[1].get(name);
      const parts: PolicyParts = { policy, compiled: [...(ingress?.compiled ?? []), ...(egress?.compiled ?? [])], extra: dnsRules(egress?.dns ?? [], this.options.dns) };
      const objects = parts.compiled.length === 0 && parts.extra.length === 0 ? [] : this.emitted(parts, cluster, () => emitPolicy(parts, cluster.names, reach), steps.emits, true);
      const policyFindings = sortFindings([...(ingress?.findings ?? []), ...(egress?.findings ?? [])]);
      if (objects.length > 0 || policyFindings.length > 0) outputs.set(name, { objects, findings: orNone(policyFindings) });
    }
    this.relevance.endRound(covered);
    const changed = this.updateOutputs(outputs);

    for (const [key, { ask, watch }] of around.entries()) this.questions.set(key, this.answerNow(key, ask, watch, cluster));
    for (const a of this.fresh) this.questions.set(a.key, a);
    for (const r of this.relevance.used) for (const a of r.answers) this.questions.set(a.key, a);
    return { changed, steps };
  }

  /**
   * The policies that differ from the last translation's (by name, with the policy before;
   * the map of policies updated), or undefined when names repeat. The operator's snapshots keep
   * unchanged policies as the same objects in the same places: those are passed over by identity.
   */
  private policyChanges(policies: readonly Policy[]): Map<string, Policy | undefined> | undefined {
    const changes = new Map<string, Policy | undefined>();
    const last = this.list;
    let inPlace = policies.length === last.length;
    for (let i = 0; inPlace && i < policies.length; i++) {
      const a = last[i]!;
      const b = policies[i]!;
      if (a === b) continue;
      if (a.name !== b.name) inPlace = false;
      else {
        if (policyKey(a) !== policyKey(b)) changes.set(a.name, a);
        this.policies.set(b.name, b);
      }
    }
    if (!inPlace) {
      changes.clear();
      const now = new Map<string, Policy>();
      for (const p of policies) now.set(p.name, p);
      if (now.size !== policies.length) return undefined;
      for (const [name, p] of now) {
        const before = this.policies.get(name);
        if (before !== p && (before === undefined || policyKey(before) !== policyKey(p))) changes.set(name, before);
      }
      for (const [name, p] of this.policies) if (!now.has(name)) changes.set(name, p);
      this.policies = now;
    }
    this.list = policies;
    return changes;
  }

  /** Kept steps of rules and entries the changed policies no longer have. */
  private forgetSlots(changes: ReadonlyMap<string, Policy | undefined>): void {
    for (const [name, before] of changes) {
      const after = this.policies.get(name);
      if (before === undefined) continue;
      for (const direction of DIRECTIONS) {
        const rulesBefore = direction === 'ingress' ? before.ingress.length : before.egress.length;
        const rulesAfter = after === undefined ? 0 : direction === 'ingress' ? after.ingress.length : after.egress.length;
        for (let i = 0; i < rulesBefore; i++) {
          const kept = i < rulesAfter ? new Set(this.rules.get(ruleSlot(name, direction, i))?.value.entries.map((e) => e.kind)) : new Set<string>();
          if (i >= rulesAfter) this.forget(this.rules, ruleSlot(name, direction, i));
          for (const kind of ['accept', 'deny', 'pass'] as const) if (!kept.has(kind)) this.forget(this.subtractions, subtractionSlot(name, direction, i, kind));
        }
      }
      if (after === undefined) this.forget(this.emits, name);
    }
  }

  private forget(table: Map<string, Kept<unknown>>, slot: string): void {
    const k = table.get(slot);
    if (k === undefined) return;
    k.live = false;
    table.delete(slot);
  }

  /** Outputs anew for some policies (undefined: none), and those of them whose outputs changed. */
  private updateOutputs(outputs: ReadonlyMap<string, PolicyOutput | undefined>): string[] {
    const changed: string[] = [];
    for (const [name, out] of outputs) {
      const before = this.outputs.get(name);
      if (out === undefined) {
        if (before !== undefined) changed.push(name);
        this.outputs.delete(name);
        this.findingsText.delete(name);
        continue;
      }
      const findings = JSON.stringify(out.findings);
      if (before === undefined || this.findingsText.get(name) !== findings || !sameObjects(before.objects, out.objects)) changed.push(name);
      this.outputs.set(name, out);
      this.findingsText.set(name, findings);
    }
    return changed;
  }

  /** The outputs now, and the policies whose outputs changed (gone ones included). */
  private replaceOutputs(outputs: Map<string, PolicyOutput>): string[] {
    const changed: string[] = [];
    const text = new Map<string, string>();
    for (const [name, out] of outputs) {
      const before = this.outputs.get(name);
      if (before === out) {
        text.set(name, this.findingsText.get(name)!);
        continue;
      }
      const findings = JSON.stringify(out.findings);
      text.set(name, findings);
      if (before === undefined || this.findingsText.get(name) !== findings || !sameObjects(before.objects, out.objects)) changed.push(name);
    }
    for (const name of this.outputs.keys()) if (!outputs.has(name)) changed.push(name);
    this.outputs = outputs;
    this.findingsText = text;
    return changed;
  }

  private readonly sameSubtraction = (a: SubtractStep, b: SubtractStep): boolean => {
    if (a.rules !== b.rules || a.cubes.length !== b.cubes.length || a.findings.length !== b.findings.length) return false;
    for (let i = 0; i < a.cubes.length; i++) if (a.cubes[i] !== b.cubes[i] && this.ids.id(a.cubes[i]!) !== this.ids.id(b.cubes[i]!)) return false;
    return JSON.stringify(a.findings) === JSON.stringify(b.findings);
  };

  /**
   * A question's answer now, as the object already made for it in this translation or the last
   * one when the answer is the same: a key names its question completely, and thousands of kept
   * steps ask the same few hundred questions.
   */
  private answerNow(key: string, ask: Ask<Cluster>, watch: Watch<Cluster> | undefined, cluster: Cluster): Answered<Cluster> {
    const answer = cluster.answer(key, ask);
    const now = this.recorded.get(key);
    if (now !== undefined && now.answer === answer) return now;
    const last = this.questions.get(key);
    const a = last !== undefined && last.answer === answer ? last : { key, ask, answer, watch };
    this.recorded.set(key, a);
    return a;
  }

  private answered(k: Kept<unknown>, cluster: Cluster): boolean {
    return this.faults.answers === true || stillAnswered(k.answers, cluster);
  }

  private reuse<T>(k: Kept<T>, counts: StepCounts): T {
    k.round = this.round;
    counts.reused++;
    return k.value;
  }

  /** The kept step for the slot when its key and answers still hold; otherwise computed (and kept). */
  private keptStep<T>(table: Map<string, Kept<T>>, slot: string, key: string, cluster: Cluster, compute: () => T, counts: StepCounts, same?: (a: T, b: T) => boolean): Kept<T> {
    const k = table.get(slot);
    if (k !== undefined && k.key === key && this.answered(k, cluster)) {
      this.reuse(k, counts);
      return k;
    }
    counts.computed++;
    const outer = cluster.reads;
    const reads = new Reads<Cluster>();
    cluster.reads = reads;
    let value: T;
    try {
      value = compute();
    } finally {
      cluster.reads = outer;
    }
    const answers = reads.size === 0 ? NONE : [...reads.entries()].map(([q, { ask, watch }]) => this.answerNow(q, ask, watch, cluster));
    for (const a of answers) this.fresh.push(a);
    // An equal result keeps the slot's object: what was built from it is still found by identity,
    // and the new one is garbage while it is young.
    if (k !== undefined && same?.(k.value, value) === true) value = k.value;
    if (k !== undefined) k.live = false;
    const kept = { key, answers, value, round: this.round, live: true };
    table.set(slot, kept);
    return kept;
  }

  /**
   * A policy's CCNPs: without making its key (the policy's text and every compiled cube, kilobytes
   * for each of thousands of CNPs in every translation) when the policy and its compiled parts
   * are the very objects of the last translation.
   */
  private emitted(parts: PolicyParts, cluster: Cluster, compute: () => readonly KubeObject[], counts: StepCounts, fast: boolean): readonly KubeObject[] {
    const f = this.emitSteps.get(parts.policy);
    if (fast && f !== undefined && f.kept.live && parts.extra.length === 0 && f.compiled.length === parts.compiled.length && this.answered(f.kept, cluster)) {
      let same = true;
      for (let i = 0; same && i < parts.compiled.length; i++) {
        const a = parts.compiled[i]!;
        const b = f.compiled[i]!;
        same = a.cubes === b.cubes && a.rule === b.rule && a.sign === b.sign && a.direction === b.direction;
      }
      if (same) return this.reuse(f.kept, counts);
    }
    const kept = this.keptStep(this.emits, parts.policy.name, this.emitKey(parts), cluster, compute, counts);
    if (parts.extra.length === 0) this.emitSteps.set(parts.policy, { kept, compiled: parts.compiled });
    else this.emitSteps.delete(parts.policy);
    return kept.value;
  }

  private emitKey(parts: PolicyParts): string {
    const compiled = parts.compiled.map((c) => `${c.direction}/${c.sign}/${c.rule.index}:${this.ids.list(c.cubes)}`).join(';');
    const extra = parts.extra.map((x: ExtraRule) => JSON.stringify([x.direction, cubeKey(x.subject), x.rule, x.label])).join(';');
    return digest(`${policyKey(parts.policy)}\u0000${compiled}\u0000${extra}`);
  }
}

type UnitLists = Map<string, { compiled: Compiled[]; findings: Finding[]; dns: DnsVisibility[] }>;

/** A compilation's results by policy and direction (the key: direction's place, then the name). */
function unitLists(compiled: readonly Compiled[], findings: readonly Finding[], dns: readonly DnsVisibility[]): UnitLists {
  const lists: UnitLists = new Map();
  for (const c of compiled) unitList(lists, directionAt(c.direction), c.policy.name).compiled.push(c);
  for (const f of findings) unitList(lists, directionAt(f.direction ?? 'ingress'), f.policy).findings.push(f);
  for (const d of dns) unitList(lists, 1, d.policy.name).dns.push(d);
  return lists;
}

const unitKey = (at: 0 | 1, name: string): string => `${at}\u0000${name}`;

/** A walked policy's unit: its results in the direction, the shared empty list where it has none. */
function unitOf(lists: UnitLists, at: 0 | 1, name: string, record: UnitRecord): Unit {
  const l = lists.get(unitKey(at, name));
  return { compiled: orNone(l?.compiled ?? NONE), findings: orNone(l?.findings ?? NONE), dns: orNone(l?.dns ?? NONE), rules: record.rules, subjects: record.subjects };
}

function unitList(lists: UnitLists, at: 0 | 1, name: string): { compiled: Compiled[]; findings: Finding[]; dns: DnsVisibility[] } {
  const k = unitKey(at, name);
  let l = lists.get(k);
  if (l === undefined) lists.set(k, (l = { compiled: [], findings: [], dns: [] }));
  return l;
}

interface Steps {
  readonly rules: StepCounts;
  readonly subtractions: StepCounts;
  readonly emits: StepCounts;
}

// Slots are joined, not templates: tens of thousands are kept, each as one string rather than a
// tree of pieces every garbage collection traces.
const ruleSlot = (policy: string, direction: Direction, index: number): string => [policy, direction, index].join('\u0000');
const subtractionSlot = (policy: string, direction: Direction, index: number, kind: Entry['kind']): string => [policy, direction, index, kind].join('\u0000');

function sameNamespaces(a: readonly Namespace[], b: readonly Namespace[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && (x.name !== y.name || JSON.stringify(x.labels) !== JSON.stringify(y.labels))) return false;
  }
  return true;
}

const networkPolicyKeys = new WeakMap<NetworkPolicy, string>();

function sameNetworkPolicies(a: readonly NetworkPolicy[], b: readonly NetworkPolicy[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const key = (np: NetworkPolicy) => {
    let k = networkPolicyKeys.get(np);
    if (k === undefined) networkPolicyKeys.set(np, (k = JSON.stringify(np, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))));
    return k;
  };
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && key(a[i]!) !== key(b[i]!)) return false;
  return true;
}

/** Whether the cluster answers every question as before (a loop, not every(): asked for tens of thousands of steps a translation). */
function stillAnswered(answers: readonly Answered<Cluster>[], cluster: Cluster): boolean {
  for (const a of answers) if (cluster.answer(a.key, a.ask) !== a.answer) return false;
  return true;
}

function sameObjects(a: readonly KubeObject[], b: readonly KubeObject[]): boolean {
  return a === b || (a.length === b.length && JSON.stringify(a) === JSON.stringify(b));
}
