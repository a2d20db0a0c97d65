import type { Direction, Policy, Rule, Snapshot } from '../../api/model.js';
import type { Finding, KubeObject } from '../types.js';
import { Compiler, placesAmong, type Among, type Compiled, type EarlierCube, type KeptPlaces, type Entry, type Mode, type Origin, type Relevant, type RelevanceMemo, type RuleStep, type StepMemo, type SubtractStep } from './compile.js';
import { emitPolicy, partsByPolicy, sortObjects, type ExtraRule, type PolicyParts } from './emit.js';
import { cubeKey } from './labels.js';
import { Cluster } from './match.js';
import type { PodTally, PodWatch } from './pod-watch.js';
import { resolveCiliumOptions, type CiliumOptions, type ResolvedCiliumOptions } from './options.js';
import { Reads, type Answered } from './reads.js';
import { cubeSetKey, peerKey, type Cube } from './space.js';
import { portsKey } from './ports.js';
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
// by number instead of listing the cubes. The NetworkPolicy isolation runs every time. Every
// translation still walks every policy's steps in order (to build the lists of earlier cubes):
// an update costs little per unchanged step, but that cost is not yet flat in the number of CNPs.

/** A step result with the inputs it was computed for. */
interface Kept<T> {
  readonly key: string;
  readonly answers: readonly Answered<Cluster>[];
  readonly value: T;
  round: number;
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
  /** As translateCilium gives them: objects sorted by name, findings in their total order. */
  readonly objects: readonly KubeObject[];
  readonly findings: readonly Finding[];
  /** Every policy with objects or findings. */
  readonly byPolicy: ReadonlyMap<string, PolicyOutput>;
  /** Policies whose objects or findings differ from the previous translation's (gone ones included). */
  readonly changed: readonly string[];
  readonly steps: { readonly rules: StepCounts; readonly subtractions: StepCounts; readonly emits: StepCounts };
  /** Every cluster question the kept steps depend on, with its answer. */
  readonly questions: readonly Answered<Cluster>[];
  /** With `watchPods`: tallies of the pods behind those questions, to judge later pod events by. */
  readonly pods: PodWatch | undefined;
}

export interface IncrementalOptions {
  /** Seed a PodWatch with every translation (the operator's event filter). */
  readonly watchPods?: boolean;
  /** Deliberately wrong invalidation (tests only). */
  readonly faults?: Faults;
}

const policyKeys = new WeakMap<Policy, string>();

/** The whole policy as text (bigint addresses as decimals). */
export function policyKey(p: Policy): string {
  let k = policyKeys.get(p);
  if (k === undefined) {
    k = JSON.stringify(p, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    policyKeys.set(p, k);
  }
  return k;
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

/** A group's earlier cubes as numbers, with their origins' words and sections. */
interface GroupItems {
  readonly cubes: number[];
  readonly words: string[];
  readonly sections: number[];
}

interface RelevanceRecord extends KeptPlaces {
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
   * group. A record holds only if it was used in the last translation: its places are places
   * in that translation's cubes.
   */
  private readonly records = new WeakMap<Entry, Map<string, RelevanceRecord>>();
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
  }

  added(group: string, c: EarlierCube, section: number): void {
    let g = this.now.get(group);
    if (g === undefined) this.now.set(group, (g = { cubes: [], words: [], sections: [] }));
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
    let byGroup = this.records.get(e);
    if (byGroup === undefined) this.records.set(e, (byGroup = new Map()));
    const r = byGroup.get(group);
    const usable = r !== undefined && r.round === this.round - 1 && stillAnswered(r.answers, cluster);
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
    const record = { length, places, signature: `\u0003${++this.nextId}`, answers: [...answers.values()], round: this.round };
    byGroup.set(group, record);
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

  /** A translation is over. */
  endRound(): void {
    this.last = this.now;
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
 * earlier cubes may intersect an entry whatever the earlier cubes are now.
 */
export interface Faults {
  readonly earlier?: boolean;
  readonly origins?: boolean;
  readonly answers?: boolean;
  readonly policy?: boolean;
  readonly vouch?: boolean;
  readonly relevance?: boolean;
}

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
  private last = new Map<string, { objects: readonly KubeObject[]; findings: string }>();
  private lastCluster: Cluster | undefined;
  /**
   * The compiler's own tallies of the pods behind each question, with the answer they stand
   * for, as of the last translation. A new snapshot's pod changes move them; a tally that did
   * not move vouches for its answer, which then need not be asked again (on 20,000 pods,
   * answering is most of the cost of a translation after pod churn).
   */
  private tallies = new Map<string, { readonly tally: PodTally; readonly answer: string }>();

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
    const steps = { rules: { computed: 0, reused: 0 }, subtractions: { computed: 0, reused: 0 }, emits: { computed: 0, reused: 0 } };
    const ids = this.ids;

    this.relevance.begin(cluster, round);
    // With deliberate faults the keys alone decide (the fast paths would hide them).
    const fast = Object.keys(this.faults).length === 0;
    const memo: StepMemo = {
      // The slot names the direction and the rule: the policy's text is the rest of the key
      // (one string for all its rules, not a copy per rule).
      rule: (policy: Policy, direction: Direction, rule: Rule, compute: (policy: Policy, direction: Direction, rule: Rule) => RuleStep): RuleStep => {
        // The same policy object (an unchanged CNP) has the same text.
        const at = (direction === 'ingress' ? 0 : 1) + 2 * rule.index;
        let byPolicy = this.ruleSteps.get(policy);
        const f = byPolicy?.[at];
        if (fast && f !== undefined && f.round === round - 1 && this.answered(f, cluster)) return this.reuse(f, round, steps.rules);
        const k = this.keptStep(this.rules, `${policy.name}\u0000${direction}\u0000${rule.index}`, this.faults.policy === true ? policy.name : policyKey(policy), cluster, round, () => this.shared.step(compute(policy, direction, rule)), steps.rules);
        if (byPolicy === undefined) this.ruleSteps.set(policy, (byPolicy = []));
        byPolicy[at] = k;
        return k.value;
      },
      subtract: (e: Entry, relevant: Relevant, mode: Mode, bounded: boolean, compute: (e: Entry, relevant: Relevant, mode: Mode, bounded: boolean) => SubtractStep): SubtractStep => {
        const earlier = this.faults.earlier === true ? '' : this.faults.origins === true ? ids.list(relevant.cubes.map((r) => r.cube)) : (relevant.signature ?? ids.earlier(relevant.cubes));
        // The same entry object (its rule step reused) has the same rule and cubes.
        const f = this.subtractionSteps.get(e);
        if (fast && f !== undefined && f.kept.round === round - 1 && f.earlier === earlier && f.mode === mode && f.bounded === bounded && this.answered(f.kept, cluster)) return this.reuse(f.kept, round, steps.subtractions);
        const kept = this.keptStep(
          this.subtractions,
          `${e.policy.name}\u0000${e.direction}\u0000${e.rule.index}\u0000${e.kind}`,
          `${e.rule.action}\u0000${e.rule.name ?? '\u0001'}\u0000${mode}\u0000${bounded}\u0000${ids.list(e.cubes)}\u0000${earlier}`,
          cluster,
          round,
          () => compute(e, relevant, mode, bounded),
          steps.subtractions,
        );
        this.subtractionSteps.set(e, { kept, earlier, mode, bounded });
        return kept.value;
      },
      relevance: this.relevance,
    };
    // What the compilation asks outside the steps (which earlier cubes may intersect an entry,
    // the NetworkPolicies' isolation) is asked again every time; a pod event may change it too.
    const around = new Reads<Cluster>();
    cluster.reads = around;
    const { compiled, dns, findings } = new Compiler(cluster, memo).compile();
    cluster.reads = undefined;
    const { cidrPods, cidrNodes } = this.options.agent;
    const reach = { pods: cidrPods, nodes: cidrNodes };
    const objects: KubeObject[] = [];
    const byPolicy = new Map<string, { objects: readonly KubeObject[]; findings: Finding[] }>();
    for (const parts of partsByPolicy(compiled, dnsRules(dns, this.options.dns))) {
      const emitted = this.emitted(parts, cluster, round, () => emitPolicy(parts, cluster.names, reach), steps.emits, fast);
      objects.push(...emitted);
      byPolicy.set(parts.policy.name, { objects: emitted, findings: [] });
    }
    const sorted = sortFindings(findings);
    for (const f of sorted) {
      let out = byPolicy.get(f.policy);
      if (out === undefined) byPolicy.set(f.policy, (out = { objects: [], findings: [] }));
      out.findings.push(f);
    }

    // Steps not used this time belong to rules, policies or entries that are gone. Each slot is
    // used at most once a translation: when as many were used as the table holds, none is stale.
    for (const [table, used] of [
      [this.rules, steps.rules],
      [this.subtractions, steps.subtractions],
      [this.emits, steps.emits],
    ] as [Map<string, Kept<unknown>>, StepCounts][]) {
      if (used.computed + used.reused === table.size) continue;
      for (const [slot, k] of table) if (k.round !== round) table.delete(slot);
    }
    this.relevance.endRound();
    this.shared.endRound();
    ids.endRound();

    const changed: string[] = [];
    const now = new Map<string, { objects: readonly KubeObject[]; findings: string }>();
    for (const [name, out] of byPolicy) {
      const entry = { objects: out.objects, findings: JSON.stringify(out.findings) };
      now.set(name, entry);
      const before = this.last.get(name);
      if (before === undefined || before.findings !== entry.findings || !sameObjects(before.objects, entry.objects)) changed.push(name);
    }
    for (const name of this.last.keys()) if (!now.has(name)) changed.push(name);
    this.last = now;

    const questions = new Map<string, Answered<Cluster>>();
    for (const [key, { ask, watch }] of around.entries()) questions.set(key, { key, ask, answer: cluster.answer(key, ask), watch });
    for (const table of [this.rules, this.subtractions, this.emits] as Map<string, Kept<unknown>>[]) {
      for (const k of table.values()) for (const a of k.answers) questions.set(a.key, a);
    }
    for (const r of this.relevance.used) for (const a of r.answers) questions.set(a.key, a);
    const asked = [...questions.values()];
    const tallies = new Map<string, { readonly tally: PodTally; readonly answer: string }>();
    for (const q of asked) {
      if (q.watch === undefined) continue;
      tallies.set(q.key, vouched.get(q.key) ?? { tally: q.watch(cluster), answer: q.answer });
    }
    this.tallies = tallies;
    // The operator's watch moves with pod events: copies, so the compiler's own stay as of this snapshot.
    const pods = this.incremental.watchPods === true ? cluster.podWatch([...tallies.values()].map((t) => t.tally.clone())) : undefined;
    return { objects: sortObjects(objects), findings: sorted, byPolicy, changed, steps, questions: asked, pods };
  }

  private answered(k: Kept<unknown>, cluster: Cluster): boolean {
    return this.faults.answers === true || stillAnswered(k.answers, cluster);
  }

  private reuse<T>(k: Kept<T>, round: number, counts: StepCounts): T {
    k.round = round;
    counts.reused++;
    return k.value;
  }

  /** The kept step for the slot when its key and answers still hold; otherwise computed (and kept). */
  private keptStep<T>(table: Map<string, Kept<T>>, slot: string, key: string, cluster: Cluster, round: number, compute: () => T, counts: StepCounts): Kept<T> {
    const k = table.get(slot);
    if (k !== undefined && k.key === key && this.answered(k, cluster)) {
      this.reuse(k, round, counts);
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
    const answers = [...reads.entries()].map(([q, { ask, watch }]) => ({ key: q, ask, answer: cluster.answer(q, ask), watch }));
    const kept = { key, answers, value, round };
    table.set(slot, kept);
    return kept;
  }

  /**
   * A policy's CCNPs: without making its key (the policy's text and every compiled cube, kilobytes
   * for each of thousands of CNPs in every translation) when the policy and its compiled parts
   * are the very objects of the last translation.
   */
  private emitted(parts: PolicyParts, cluster: Cluster, round: number, compute: () => readonly KubeObject[], counts: StepCounts, fast: boolean): readonly KubeObject[] {
    const f = this.emitSteps.get(parts.policy);
    if (fast && f !== undefined && f.kept.round === round - 1 && parts.extra.length === 0 && f.compiled.length === parts.compiled.length && this.answered(f.kept, cluster)) {
      let same = true;
      for (let i = 0; same && i < parts.compiled.length; i++) {
        const a = parts.compiled[i]!;
        const b = f.compiled[i]!;
        same = a.cubes === b.cubes && a.rule === b.rule && a.sign === b.sign && a.direction === b.direction;
      }
      if (same) return this.reuse(f.kept, round, counts);
    }
    const kept = this.keptStep(this.emits, parts.policy.name, this.emitKey(parts), cluster, round, compute, counts);
    if (parts.extra.length === 0) this.emitSteps.set(parts.policy, { kept, compiled: parts.compiled });
    else this.emitSteps.delete(parts.policy);
    return kept.value;
  }

  private emitKey(parts: PolicyParts): string {
    const compiled = parts.compiled.map((c) => `${c.direction}/${c.sign}/${c.rule.index}:${this.ids.list(c.cubes)}`).join(';');
    const extra = parts.extra.map((x: ExtraRule) => JSON.stringify([x.direction, cubeKey(x.subject), x.rule, x.label])).join(';');
    return `${policyKey(parts.policy)}\u0000${compiled}\u0000${extra}`;
  }
}

/** Whether the cluster answers every question as before (a loop, not every(): asked for tens of thousands of steps a translation). */
function stillAnswered(answers: readonly Answered<Cluster>[], cluster: Cluster): boolean {
  for (const a of answers) if (cluster.answer(a.key, a.ask) !== a.answer) return false;
  return true;
}

function sameObjects(a: readonly KubeObject[], b: readonly KubeObject[]): boolean {
  return a === b || (a.length === b.length && JSON.stringify(a) === JSON.stringify(b));
}
