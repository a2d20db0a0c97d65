import { parseIp } from '../api/ip.js';
import { PROTOCOLS, type Direction, type Namespace, type Node, type Pod, type Protocol, type Snapshot } from '../api/model.js';
import { AtomTable } from './classes-atoms.js';
import { partitionPods, podKey, type Partition, type PodClass } from './classes.js';
import { ClusterIndex, ipKey } from './cluster.js';
import { Evaluator } from './evaluate.js';
import type { Flow, StepVerdict, TraceStep, Verdict } from './flow.js';
import { FactsBuilder, ProgramCache, type CnpFacts, type DirectionFacts, type Program, type RuleFacts, type SideFacts, type Stage } from './impact-programs.js';
import { BreakpointSet, mergeStarts, NO_BREAKPOINTS, stretchEnd, stretchStart, type Breakpoints } from './impact-ports.js';

// Impact of a change: which connections between the cluster's pods (and to given addresses)
// get another verdict in the snapshot after than in the one before. Computed by pod classes
// (classes.ts), never pod by pod, and only where a verdict can move:
//
// 1. A connection's verdict is egress(source side) AND ingress(destination side), each decided
//    by the subject's program (impact-programs.ts): Admin stage, NetworkPolicy stage, Baseline
//    stage, the first that does not say `next` decides. Where a class's stages for a direction
//    are the same before and after (and the cluster's pods, namespaces and nodes are the same),
//    that direction's verdicts cannot move, for any peer or port. Only these "touched"
//    (class, direction)s are scanned; every pair that could change has a touched side.
// 2. A stage's answer depends on the peer only through which of its rules the peer can match
//    (and the destination's named ports); peers alike in that form one group, shared by every
//    stage with the same rules that can match, and one representative pod pair per group and
//    port stretch is evaluated. A peer whose groups are the same before and after cannot move.
// 3. Per protocol, ports are cut into stretches at every breakpoint of the rules that can
//    match and of the destination's named ports (impact-ports.ts); answers are constant on a
//    stretch, so its first port stands for it. A protocol no such rule names is one stretch,
//    1-65535: the "any other port" evaluation. A pair's stretches are the union of the cuts of
//    all stages of both directions on both sides, so no changed port falls between two
//    evaluations, and a stretch where nothing changes is never reported.
// 4. Each answer is the reference evaluator's (evaluate.ts), over a snapshot cut down to the
//    stage's policies, the two representative pods, their namespaces and the nodes owning the
//    destination's address (see StageTask.reduced).
//
// A pod connecting to itself is exempt from policy, so pairs are always of two distinct pods:
// a class with one member has no pair with itself.

export interface AddressTarget {
  readonly ip: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface ImpactOptions {
  /** Connections from every pod to these addresses and ports are compared too. */
  readonly addresses?: readonly AddressTarget[];
}

/** What decided one direction: the last step of its trace. */
export interface Decision {
  readonly direction: Direction;
  readonly step: TraceStep;
}

export interface Outcome {
  readonly verdict: Verdict;
  /** The directions whose verdict changed, with what decided each. */
  readonly decidedBy: readonly Decision[];
}

export type Target = { readonly kind: 'class'; readonly class: PodClass } | { readonly kind: 'address'; readonly ip: string };

/** Ports start..end of one protocol on which a connection's verdict moved, and how. */
export interface ChangedStretch {
  readonly protocol: Protocol;
  readonly start: number;
  readonly end: number;
  readonly before: Outcome;
  readonly after: Outcome;
  /** Equal keys: equal verdicts and deciding steps before and after (outcomeKey of both). */
  readonly key: string;
}

/** Every pod of the `from` classes to every pod of `to` (but itself) changed verdict on the stretches. */
export interface ChangedSet {
  readonly from: readonly PodClass[];
  /** Pods of `from` left out: for an address, the pods it belongs to (a pod reaching itself is exempt). */
  readonly except?: readonly string[];
  readonly to: Target;
  /** Sorted by protocol and port; often shared by many sets. */
  readonly stretches: readonly ChangedStretch[];
}

export interface ImpactStats {
  readonly pods: number;
  readonly classes: number;
  readonly atoms: number;
  /** Class pairs examined stretch by stretch. */
  readonly candidatePairs: number;
  /** Distinct combinations of stage groups among them (each computed once). */
  readonly distinctPairs: number;
  /** Stage answers computed by the reference evaluator. */
  readonly evaluations: number;
}

export interface Impact {
  readonly partition: Partition;
  readonly changes: readonly ChangedSet[];
  readonly stats: ImpactStats;
}

interface Value {
  readonly verdict: StepVerdict;
  readonly step: TraceStep;
}

interface Group {
  /** Unique over all stage tasks: pairs with equal groups in every stage have equal outcomes. */
  readonly id: number;
  readonly starts: Breakpoints;
  /** By protocol × 65536 + the stretch's first port. */
  readonly memo: Map<number, Value>;
}

/**
 * Numbers for keys, so that the many lookups of a large cluster build no strings: a pair of
 * numbers, or a text, gets a number of its own, the same each time it is asked for.
 */
class Numbering {
  private readonly pairs = new Map<number, Map<number, number>>();
  private readonly texts = new Map<string, number>();
  private next = 1;

  fresh(): number {
    return this.next++;
  }

  pair(a: number, b: number): number {
    let inner = this.pairs.get(a);
    if (inner === undefined) this.pairs.set(a, (inner = new Map()));
    let id = inner.get(b);
    if (id === undefined) inner.set(b, (id = this.next++));
    return id;
  }

  text(t: string): number {
    let id = this.texts.get(t);
    if (id === undefined) this.texts.set(t, (id = this.next++));
    return id;
  }
}

/** The rules of one policy's direction a peer can match, numbered. */
interface BlockVector {
  readonly id: number;
  readonly rules: readonly RuleFacts[];
}

/** One side (before or after) of the computation: its objects, programs and what peers answer. */
class SideContext {
  readonly namespaces: ReadonlyMap<string, Namespace>;
  readonly nodesByIp: ReadonlyMap<string, readonly Node[]>;
  readonly programs: ProgramCache;
  private readonly blockVectors = new Map<number, Map<number, BlockVector | null>>();
  private readonly kinds = new Map<Direction, Int32Array>();

  constructor(
    readonly side: 0 | 1,
    snapshot: Snapshot,
    facts: SideFacts,
    /** Every CNP's facts of both sides: what a peer "kind" answers (see cnpKinds). */
    private readonly allCnps: readonly CnpFacts[],
    private readonly classes: readonly PodClass[],
    private readonly names: readonly string[],
    readonly numbers: Numbering,
    readonly counters: { evaluations: number },
    /** Groups by key, shared by every stage task of both sides (see StageTask.group). */
    readonly groups: Map<number, Group>,
  ) {
    const nodesByIp = new Map<string, Node[]>();
    for (const node of snapshot.nodes) {
      for (const a of node.addresses) {
        const ip = parseIp(a);
        if (ip === undefined) continue;
        const list = nodesByIp.get(ipKey(ip)) ?? [];
        if (!list.includes(node)) list.push(node);
        nodesByIp.set(ipKey(ip), list);
      }
    }
    this.nodesByIp = nodesByIp;
    this.namespaces = new Map(snapshot.namespaces.map((n) => [n.name, n]));
    this.programs = new ProgramCache(facts);
  }

  /**
   * Which rules of a policy's direction a peer can match: a number for (policy, rules) and the
   * rules, or undefined when none can; asked once per policy and peer.
   */
  blockVector(block: DirectionFacts, peer: PodClass): BlockVector | undefined {
    let byPeer = this.blockVectors.get(block.fingerprint);
    if (byPeer === undefined) this.blockVectors.set(block.fingerprint, (byPeer = new Map()));
    let v = byPeer.get(peer.id);
    if (v === undefined) {
      const holds = peer.sides[this.side].holds;
      const rules = block.rules.filter((r) => canMatch(r, holds));
      v = rules.length === 0 ? null : { id: this.numbers.text(`${block.fingerprint}:${rules.map((r) => block.rules.indexOf(r)).join(',')}`), rules };
      byPeer.set(peer.id, v);
    }
    return v ?? undefined;
  }

  /**
   * Each class's "kind" as a CNP peer in a direction: classes of one kind match the same rules of
   * every CNP of either side, share the host-network flag and, on egress, their named ports, so
   * every CNP stage puts them in the same group. Classes differ as subjects (NetworkPolicies are
   * per namespace) far more than CNPs tell them apart as peers.
   */
  cnpKinds(direction: Direction): Int32Array {
    let kinds = this.kinds.get(direction);
    if (kinds === undefined) {
      const blocks = this.allCnps.map((f) => f[direction]).filter((b) => b.rules.length > 0);
      kinds = new Int32Array(this.classes.length);
      for (const cls of this.classes) {
        let key = cls.sides[this.side].hostNetwork ? 1 : 2;
        for (const block of blocks) key = this.numbers.pair(key, this.blockVector(block, cls)?.id ?? 0);
        if (direction === 'egress') key = this.numbers.pair(key, this.numbers.text(namedKey(cls, this.side, this.names)));
        kinds[cls.id] = key;
      }
      this.kinds.set(direction, kinds);
    }
    return kinds;
  }
}

// The evaluator's own words for a subject no policy applies to and for a flow no stage decides.
const EXEMPT: Value = { verdict: 'allow', step: { stage: 'exempt', verdict: 'allow', reason: 'host-network pods are never policy subjects' } };
const DEFAULT: Value = { verdict: 'allow', step: { stage: 'default', verdict: 'allow', reason: 'no policy decided: Kubernetes allows by default' } };
const NEXT: Value = { verdict: 'next', step: { stage: 'admin', verdict: 'next', reason: 'no policy in this stage' } };
const EMPTY_GROUP: Group = { id: 0, starts: NO_BREAKPOINTS, memo: new Map() };

const namedKey = (cls: PodClass, side: 0 | 1, names: readonly string[]): string =>
  cls.sides[side].named
    .filter((p) => names.includes(p.name!))
    .map((p) => `${p.name}/${p.protocol}/${p.port}`)
    .join(',');

const canMatch = (rule: RuleFacts, holds: Uint8Array): boolean => {
  if (rule.always) return true;
  for (const a of rule.atoms) if (holds[a] === 1) return true;
  return false;
};

/** One stage of one direction on one side, shared by every subject class with that stage. */
class StageTask {
  private readonly bySlot = new Map<number, Group>();
  private readonly byBits = new Map<string, Group>();
  private last: { readonly subject: Pod; readonly peer: Pod; readonly evaluator: Evaluator } | undefined;

  constructor(
    private readonly ctx: SideContext,
    readonly stage: Stage,
  ) {}

  /**
   * The peers for which the same rules can match (and with the same named ports on the
   * destination): one group, one set of stretches, one memo. A stage answers by the first of
   * its rules that matches (evaluate.ts: tierStage, networkPolicyStage); a rule whose peers
   * cannot match never does, so the rules that can match, in order, and the destination's
   * ports under their names are all the answer depends on. For CNP stages that is the whole
   * key, so stages that differ only in rules a peer cannot match (a policy added elsewhere)
   * share groups and answers; a NetworkPolicy stage also names its isolating policies.
   */
  group(subject: PodClass, peer: PodClass): Group {
    if (this.stage.empty) return EMPTY_GROUP;
    const { numbers, side } = this.ctx;
    const { blocks, name, direction } = this.stage;
    const cnp = name !== 'networkpolicy';
    // CNP stages see peers by kind (far fewer than classes); NetworkPolicy stages by class.
    const slot = cnp ? -1 - this.ctx.cnpKinds(direction)[peer.id]! : peer.id;
    const hit = this.bySlot.get(slot);
    if (hit !== undefined) return hit;
    // A NetworkPolicy stage asks few atoms: peers answering them alike need no second look.
    let bits = '';
    if (!cnp) {
      const holds = peer.sides[side].holds;
      bits = peer.sides[side].hostNetwork ? 'H' : 'P';
      for (const a of this.stage.atoms) bits += holds[a] === 1 ? '1' : '0';
      if (direction === 'egress' && this.stage.names.length > 0) bits += `|${namedKey(peer, side, this.stage.names)}`;
      const same = this.byBits.get(bits);
      if (same !== undefined) {
        this.bySlot.set(slot, same);
        return same;
      }
    }
    let key = numbers.pair(numbers.text(cnp ? `${name} ${direction}` : this.stage.key), peer.sides[side].hostNetwork ? 1 : 2);
    const matching: RuleFacts[] = [];
    for (const block of blocks) {
      const v = this.ctx.blockVector(block, peer);
      if (v === undefined) continue;
      key = numbers.pair(key, v.id);
      matching.push(...v.rules);
    }
    let group: Group | undefined;
    if (cnp && matching.length === 0) group = EMPTY_GROUP; // no rule can match: `next` on every port
    else {
      // Named ports resolve on the destination: the peer on egress, the subject on ingress.
      const names = [...new Set(matching.flatMap((r) => r.names))];
      const destination = direction === 'egress' ? peer : subject;
      key = numbers.pair(key, numbers.text(names.length === 0 ? '' : namedKey(destination, side, names)));
      group = this.ctx.groups.get(key);
      if (group === undefined) {
        // Rules that cannot match cut no stretch.
        const points = new BreakpointSet();
        for (const r of matching) points.addAll(r.breakpoints);
        for (const cp of destination.sides[side].named) if (names.includes(cp.name!)) points.addRange(cp.protocol, cp.port, cp.port);
        group = { id: numbers.fresh(), starts: points.build(), memo: new Map() };
        this.ctx.groups.set(key, group);
      }
    }
    this.bySlot.set(slot, group);
    if (!cnp) this.byBits.set(bits, group);
    return group;
  }

  /** The stage's answer (allow, deny or next) for a pod of `subject` and a distinct pod of `peer`. */
  at(subject: PodClass, peer: PodClass, protocol: Protocol, port: number): Value {
    const group = this.group(subject, peer);
    if (group === EMPTY_GROUP) return NEXT;
    const start = stretchStart(group.starts[protocol], port);
    const memoKey = PROTOCOLS.indexOf(protocol) * 65536 + start;
    let value = group.memo.get(memoKey);
    if (value === undefined) {
      value = this.evaluate(subject, peer, protocol, start);
      group.memo.set(memoKey, value);
    }
    return value;
  }

  /**
   * The reference evaluator over a snapshot holding only this stage's policies, the two pods,
   * their namespaces and the nodes owning the destination's address: for the subject pod it
   * walks exactly the stage it would walk over the whole snapshot (its policies are filtered by
   * subject, its peers looked up by these objects only), and the stages before it say `next`.
   */
  private evaluate(subject: PodClass, peer: PodClass, protocol: Protocol, port: number): Value {
    this.ctx.counters.evaluations++;
    const side = this.ctx.side;
    const subjectPod = subject.sides[side].pods[0]!;
    const peerPod = peer.sides[side].pods.find((p) => p !== subjectPod);
    if (peerPod === undefined) throw new Error(`impact: class ${peer.id} has no pod besides ${podKey(subjectPod)}`);
    const egress = this.stage.direction === 'egress';
    const destination = egress ? peerPod : subjectPod;
    const ip = destination.ips[0] === undefined ? undefined : parseIp(destination.ips[0]);
    const namespaces = () =>
      [...new Set([subjectPod.namespace, peerPod.namespace])].flatMap((n) => {
        const ns = this.ctx.namespaces.get(n);
        return ns === undefined ? [] : [ns];
      });
    // A group's stretches are asked one after the other: the last evaluator serves them all.
    if (this.last?.subject !== subjectPod || this.last.peer !== peerPod) {
      const snapshot: Snapshot = {
        policies: this.stage.policies,
        networkPolicies: this.stage.networkPolicies,
        namespaces: namespaces(),
        pods: [subjectPod, peerPod],
        nodes: ip === undefined ? [] : [...(this.ctx.nodesByIp.get(ipKey(ip)) ?? [])],
      };
      this.last = { subject: subjectPod, peer: peerPod, evaluator: new Evaluator(snapshot) };
    }
    const flow: Flow = { from: endpoint(egress ? subjectPod : peerPod), to: endpoint(egress ? peerPod : subjectPod), port, protocol };
    const result = this.last.evaluator.evaluate(flow)[this.stage.direction];
    const step = result.trace.find((t) => t.stage === this.stage.name);
    if (step === undefined) throw new Error(`impact: the evaluator's trace has no ${this.stage.name} step: ${result.trace.map((t) => t.reason).join(' | ')}`);
    return { verdict: step.verdict, step };
  }
}

/** A subject class's direction on one side: its stages, the first that does not say next decides. */
class DirectionTask {
  constructor(
    readonly program: Program,
    readonly stages: readonly StageTask[],
    private readonly numbers: Numbering,
  ) {}

  sameAs(other: DirectionTask): boolean {
    if (this.program.exempt || other.program.exempt) return this.program.exempt && other.program.exempt;
    return this.stages.every((s, i) => s === other.stages[i]);
  }

  /** The stage groups of a peer, as a number: equal numbers, equal answers on every port. */
  key(subject: PodClass, peer: PodClass): number {
    if (this.program.exempt) return 0;
    let key = 1;
    for (const s of this.stages) key = this.numbers.pair(key, s.group(subject, peer).id);
    return key;
  }

  starts(subject: PodClass, peer: PodClass, protocol: Protocol): (readonly number[])[] {
    return this.stages.map((s) => s.group(subject, peer).starts[protocol]);
  }

  at(subject: PodClass, peer: PodClass, protocol: Protocol, port: number): Value {
    if (this.program.exempt) return EXEMPT;
    for (const stage of this.stages) {
      const v = stage.at(subject, peer, protocol, port);
      if (v.verdict !== 'next') return v;
    }
    return DEFAULT;
  }
}

const endpoint = (pod: Pod): Flow['from'] => ({ kind: 'pod', namespace: pod.namespace, name: pod.name });

// Cidr addresses are bigints, which JSON cannot write.
const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Whether the two snapshots have the same namespaces, pods and nodes (then only policies differ). */
export function sameCluster(a: Snapshot, b: Snapshot): boolean {
  const same = <T>(x: readonly T[], y: readonly T[]) => x === y || json(x) === json(y);
  return same(a.namespaces, b.namespaces) && same(a.pods, b.pods) && same(a.nodes, b.nodes);
}

/** Identifies an outcome for merging stretches and grouping: the verdict and what decided it. */
export function outcomeKey(o: Outcome): string {
  return `${o.verdict}:${o.decidedBy.map((d) => `${d.direction}/${decisionKey(d.step)}`).join('+')}`;
}

/** What decided, without the parts of a trace that name the pods (exempt and default reasons). */
export function decisionKey(step: TraceStep): string {
  switch (step.stage) {
    case 'admin':
    case 'baseline':
      return `${step.stage}/${step.policy ?? ''}/${step.ruleIndex ?? ''}/${step.verdict}`;
    case 'networkpolicy':
      return `networkpolicy/${step.verdict}/${step.reason}`;
    case 'default':
    case 'exempt':
      return `${step.stage}/${step.verdict}`;
  }
}

/** The connections whose verdict differs between `before` and `after` (see above). */
export function computeImpact(before: Snapshot, after: Snapshot, options: ImpactOptions = {}): Impact {
  const table = new AtomTable();
  const builder = new FactsBuilder(table);
  const facts = [builder.build(before), builder.build(after)] as const;
  const partition = partitionPods(before, after, table, builder.names);
  const clusterChanged = !sameCluster(before, after);
  const numbers = new Numbering();
  const counters = { evaluations: 0 };
  const cnps = [...new Map([...facts[0].admin, ...facts[0].baseline, ...facts[1].admin, ...facts[1].baseline].map((f) => [`${f.egress.fingerprint}/${f.ingress.fingerprint}`, f])).values()];
  const names = [...builder.names].sort();
  const groups = new Map<number, Group>();
  const contexts = [
    new SideContext(0, before, facts[0], cnps, partition.classes, names, numbers, counters, groups),
    new SideContext(1, after, facts[1], cnps, partition.classes, names, numbers, counters, groups),
  ] as const;

  // Stage tasks are shared by content; with an unchanged cluster the two sides share them too,
  // so "untouched" is simply "the same stages before and after".
  const stageTasks = new Map<string, StageTask>();
  const directionTasks = new Map<string, DirectionTask>();
  const taskFor = (cls: PodClass, direction: Direction, side: 0 | 1): DirectionTask => {
    const memoKey = `${cls.id}/${direction}/${side}`;
    const hit = directionTasks.get(memoKey);
    if (hit !== undefined) return hit;
    const s = cls.sides[side];
    const program = contexts[side].programs.programFor(s.holds, s.hostNetwork, direction);
    const stages = program.stages.map((stage) => {
      // On ingress the subject is the destination, whose named ports the stage resolves.
      const subjectNamed = direction === 'ingress' ? namedKey(cls, side, stage.names) : '';
      const key = `${clusterChanged ? side : '*'}|${stage.key}|${subjectNamed}`;
      let task = stageTasks.get(key);
      if (task === undefined) stageTasks.set(key, (task = new StageTask(contexts[side], stage)));
      return task;
    });
    const task = new DirectionTask(program, stages, numbers);
    directionTasks.set(memoKey, task);
    return task;
  };
  const touched = (cls: PodClass, direction: Direction): boolean => !taskFor(cls, direction, 0).sameAs(taskFor(cls, direction, 1));
  const pairable = (a: PodClass, b: PodClass) => a !== b || a.members.length > 1;

  // Candidate pairs, by destination: a touched side whose verdict moves for some peer group and stretch.
  const candidates = new Map<number, Set<number>>();
  const addCandidate = (from: PodClass, to: PodClass) => {
    const set = candidates.get(to.id) ?? new Set<number>();
    set.add(from.id);
    candidates.set(to.id, set);
  };
  const moves = (t0: DirectionTask, t1: DirectionTask, subject: PodClass, peer: PodClass): boolean => {
    for (const p of PROTOCOLS) {
      for (const x of mergeStarts([...t0.starts(subject, peer, p), ...t1.starts(subject, peer, p)])) {
        if (t0.at(subject, peer, p, x).verdict !== t1.at(subject, peer, p, x).verdict) return true;
      }
    }
    return false;
  };
  for (const direction of ['egress', 'ingress'] as const) {
    for (const subject of partition.classes) {
      if (!touched(subject, direction)) continue;
      const t0 = taskFor(subject, direction, 0);
      const t1 = taskFor(subject, direction, 1);
      const seen = new Map<number, boolean>();
      for (const peer of partition.classes) {
        if (!pairable(subject, peer)) continue;
        const [k0, k1] = [t0.key(subject, peer), t1.key(subject, peer)];
        // The same groups before and after: the same answers, nothing to evaluate.
        if (k0 === k1) continue;
        const key = numbers.pair(k0, k1);
        let moved = seen.get(key);
        if (moved === undefined) seen.set(key, (moved = moves(t0, t1, subject, peer)));
        if (!moved) continue;
        if (direction === 'egress') addCandidate(subject, peer);
        else addCandidate(peer, subject);
      }
    }
  }

  // A pair's outcome depends only on the stage groups of its four directions: computed once per
  // combination. Sources with the same outcome towards a destination are kept together.
  const byCombination = new Map<number, readonly ChangedStretch[]>();
  const changes: ChangedSet[] = [];
  let candidatePairs = 0;
  for (const [toId, fromIds] of candidates) {
    const to = partition.classes[toId]!;
    const i = [taskFor(to, 'ingress', 0), taskFor(to, 'ingress', 1)] as const;
    const sets = new Map<readonly ChangedStretch[], PodClass[]>();
    for (const fromId of fromIds) {
      candidatePairs++;
      const from = partition.classes[fromId]!;
      const e = [taskFor(from, 'egress', 0), taskFor(from, 'egress', 1)] as const;
      const combination = numbers.pair(numbers.pair(e[0].key(from, to), e[1].key(from, to)), numbers.pair(i[0].key(to, from), i[1].key(to, from)));
      let stretches = byCombination.get(combination);
      if (stretches === undefined) {
        const found: ChangedStretch[] = [];
        for (const protocol of PROTOCOLS) {
          const starts = mergeStarts([...e.flatMap((t) => t.starts(from, to, protocol)), ...i.flatMap((t) => t.starts(to, from, protocol))]);
          const outcomes = starts.map((x) =>
            compare([e[0].at(from, to, protocol, x), e[1].at(from, to, protocol, x)], [i[0].at(to, from, protocol, x), i[1].at(to, from, protocol, x)]),
          );
          pushStretches(found, protocol, starts, outcomes);
        }
        byCombination.set(combination, (stretches = found));
      }
      if (stretches.length === 0) continue;
      const list = sets.get(stretches);
      if (list === undefined) sets.set(stretches, [from]);
      else list.push(from);
    }
    for (const [stretches, from] of sets) changes.push({ from, to: { kind: 'class', class: to }, stretches });
  }

  changes.push(...addressChanges(before, after, partition, options.addresses ?? [], clusterChanged, touched, counters));
  return {
    partition,
    changes,
    stats: {
      pods: partition.classes.reduce((n, c) => n + c.members.length, 0),
      classes: partition.classes.length,
      atoms: table.size,
      candidatePairs,
      distinctPairs: byCombination.size,
      evaluations: counters.evaluations,
    },
  };
}

/** The outcome of a connection on both sides, or undefined when its verdict did not move. */
function compare(egress: readonly [Value, Value], ingress: readonly [Value, Value]): { before: Outcome; after: Outcome } | undefined {
  const verdict = (side: 0 | 1): Verdict => (egress[side].verdict === 'allow' && ingress[side].verdict === 'allow' ? 'allow' : 'deny');
  const [v0, v1] = [verdict(0), verdict(1)];
  if (v0 === v1) return undefined;
  const moved: [Direction, readonly [Value, Value]][] = [];
  if (egress[0].verdict !== egress[1].verdict) moved.push(['egress', egress]);
  if (ingress[0].verdict !== ingress[1].verdict) moved.push(['ingress', ingress]);
  const outcome = (side: 0 | 1, verdict: Verdict): Outcome => ({ verdict, decidedBy: moved.map(([direction, values]) => ({ direction, step: values[side].step })) });
  return { before: outcome(0, v0), after: outcome(1, v1) };
}

/** Appends the moved stretches, merging neighbours with the same outcomes. */
function pushStretches(out: ChangedStretch[], protocol: Protocol, starts: readonly number[], outcomes: readonly ({ before: Outcome; after: Outcome } | undefined)[]): void {
  let open: { start: number; end: number; key: string; before: Outcome; after: Outcome } | undefined;
  const flush = () => {
    if (open !== undefined) out.push({ protocol, ...open });
    open = undefined;
  };
  starts.forEach((start, idx) => {
    const o = outcomes[idx];
    if (o === undefined) return flush();
    const end = stretchEnd(starts, idx);
    const key = `${outcomeKey(o.before)}>${outcomeKey(o.after)}`;
    if (open !== undefined && open.key === key && open.end + 1 === start) open.end = end;
    else {
      flush();
      open = { start, end, key, before: o.before, after: o.after };
    }
  });
  flush();
}

/**
 * Connections from every class to given addresses and ports, with the full evaluators: few
 * flows, and the address may be a pod's. Only classes whose egress is touched can move, unless
 * the address is a pod whose ingress is.
 */
function addressChanges(
  before: Snapshot,
  after: Snapshot,
  partition: Partition,
  targets: readonly AddressTarget[],
  clusterChanged: boolean,
  touched: (cls: PodClass, direction: Direction) => boolean,
  counters: { evaluations: number },
): ChangedSet[] {
  if (targets.length === 0) return [];
  const snapshots = [before, after] as const;
  const evaluators = snapshots.map((s) => new Evaluator(s));
  const indexes = snapshots.map((s) => new ClusterIndex(s));
  const byClass = new Map<string, { from: PodClass; except: string[]; ip: string; stretches: ChangedStretch[] }>();
  for (const target of targets) {
    const owners = indexes.flatMap((idx) => {
      const pod = idx.resolve({ kind: 'ip', ip: target.ip }).pod;
      return pod === undefined ? [] : [podKey(pod)];
    });
    const ownerMoves = owners.some((o) => {
      const cls = partition.classOf.get(o);
      return cls !== undefined && touched(cls, 'ingress');
    });
    for (const cls of partition.classes) {
      if (!clusterChanged && !ownerMoves && !touched(cls, 'egress')) continue;
      // A pod reaching its own address is exempt; any other member stands for the class.
      const rep = cls.members.findIndex((m) => !owners.includes(m));
      if (rep < 0) continue;
      const results = snapshots.map((_, side) => {
        counters.evaluations++;
        const pod = cls.sides[side as 0 | 1].pods[rep]!;
        return evaluators[side]!.evaluate({ from: endpoint(pod), to: { kind: 'ip', ip: target.ip }, port: target.port, protocol: target.protocol });
      });
      const values = (d: Direction): [Value, Value] => {
        const v = results.map((r) => ({ verdict: r[d].verdict, step: r[d].trace[r[d].trace.length - 1]! }));
        return [v[0]!, v[1]!];
      };
      const o = compare(values('egress'), values('ingress'));
      if (o === undefined) continue;
      const key = `${cls.id}>${target.ip}`;
      const entry = byClass.get(key) ?? { from: cls, except: cls.members.filter((m) => owners.includes(m)), ip: target.ip, stretches: [] };
      pushStretches(entry.stretches, target.protocol, [target.port, target.port + 1], [o, undefined]);
      byClass.set(key, entry);
    }
  }
  return [...byClass.values()].map((e) => ({
    from: [e.from],
    ...(e.except.length > 0 ? { except: e.except } : {}),
    to: { kind: 'address', ip: e.ip },
    stretches: e.stretches.sort((a, b) => PROTOCOLS.indexOf(a.protocol) - PROTOCOLS.indexOf(b.protocol) || a.start - b.start),
  }));
}
