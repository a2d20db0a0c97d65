import { parseIp } from '../api/ip.js';
import { PROTOCOLS, type Direction, type Namespace, type Node, type Pod, type Protocol, type Snapshot } from '../api/model.js';
import { AtomTable } from './classes-atoms.js';
import { partitionPods, podKey, type Partition, type PodClass } from './classes.js';
import { ClusterIndex, ipKey } from './cluster.js';
import { Evaluator } from './evaluate.js';
import type { Flow, TraceStep, Verdict } from './flow.js';
import { FactsBuilder, ProgramCache, type Program, type SideFacts } from './impact-programs.js';
import { mergeStarts, NO_BREAKPOINTS, stretchEnd, stretchStart, type Breakpoints } from './impact-ports.js';

// Impact of a change: which connections between the cluster's pods (and to given addresses)
// get another verdict in the snapshot after than in the one before. Computed by pod classes
// (classes.ts), never pod by pod, and only where a verdict can move:
//
// 1. A connection's verdict is egress(source side) AND ingress(destination side), each decided
//    by the subject's "program" (impact-programs.ts) looking at the other end. Where a class's
//    program for a direction is the same before and after (and the cluster's pods, namespaces
//    and nodes are the same), that direction's verdicts cannot move, for any peer or port.
//    Only "touched" (class, direction)s are examined; every pair that could change has a
//    touched side.
// 2. A direction's verdict depends on the peer only through the atoms its program asks about
//    (plus, on egress, the peer's named ports); peers that answer alike form one group, and
//    one representative pair is evaluated per group.
// 3. Per protocol, ports are cut into stretches at every breakpoint of the rules consulted and
//    of the destination's named ports (impact-ports.ts); verdicts are constant on a stretch, so
//    its first port stands for it. A protocol no consulted rule names is one stretch, 1-65535:
//    the "any other port" evaluation. The stretches of a pair are the union of the four
//    (egress/ingress x before/after) cuts, so no changed port can fall between two evaluations.
// 4. Each evaluation is the reference evaluator's (evaluate.ts), over a snapshot cut down to
//    the two representative pods, their namespaces, the nodes owning the destination's
//    address and the subject's program: the evaluator filters policies by subject and peers by
//    these objects only, so the direction's verdict and trace are those of the full snapshot.
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

/** Every pod of `from` to every pod of `to` (but itself), on ports start..end of protocol: the verdict moved. */
export interface ChangedStretch {
  readonly from: PodClass;
  readonly to: Target;
  readonly protocol: Protocol;
  readonly start: number;
  readonly end: number;
  readonly before: Outcome;
  readonly after: Outcome;
}

export interface ImpactStats {
  readonly pods: number;
  readonly classes: number;
  readonly atoms: number;
  /** Class pairs examined stretch by stretch. */
  readonly candidatePairs: number;
  /** Direction verdicts computed by the reference evaluator. */
  readonly evaluations: number;
}

export interface Impact {
  readonly partition: Partition;
  readonly changes: readonly ChangedStretch[];
  readonly stats: ImpactStats;
}

interface Value {
  readonly verdict: Verdict;
  readonly step: TraceStep;
}

interface Group {
  readonly key: string;
  readonly starts: Breakpoints;
  readonly memo: Map<string, Value>;
}

interface SideContext {
  readonly side: 0 | 1;
  readonly snapshot: Snapshot;
  readonly namespaces: ReadonlyMap<string, Namespace>;
  readonly nodesByIp: ReadonlyMap<string, readonly Node[]>;
  readonly programs: ProgramCache;
}

const EXEMPT: Value = { verdict: 'allow', step: { stage: 'exempt', verdict: 'allow', reason: 'host-network pods are never policy subjects' } };
const EXEMPT_GROUP: Group = { key: 'exempt', starts: NO_BREAKPOINTS, memo: new Map() };

const namedKey = (cls: PodClass, side: 0 | 1, names: readonly string[]): string =>
  cls.sides[side].named
    .filter((p) => names.includes(p.name!))
    .map((p) => `${p.name}/${p.protocol}/${p.port}`)
    .join(',');

/** One direction of one program on one side, shared by every subject class with that program. */
class Task {
  private readonly byPeer = new Map<number, Group>();
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly ctx: SideContext,
    readonly program: Program,
    private readonly count: () => void,
  ) {}

  /** The peers that answer this program alike: one group, one set of stretches, one memo. */
  group(subject: PodClass, peer: PodClass): Group {
    if (this.program.exempt) return EXEMPT_GROUP;
    const hit = this.byPeer.get(peer.id);
    if (hit !== undefined) return hit;
    const side = this.ctx.side;
    const { peerAtoms, names, direction } = this.program;
    const holds = peer.sides[side].holds;
    let bits = '';
    for (const a of peerAtoms) bits += holds[a] === 1 ? '1' : '0';
    const peerNamed = direction === 'egress' ? namedKey(peer, side, names) : '';
    const key = `${peer.sides[side].hostNetwork ? 'H' : 'P'}|${bits}|${peerNamed}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      // Named ports resolve on the destination: the peer on egress, the subject on ingress.
      const destination = direction === 'egress' ? peer : subject;
      const starts: Record<Protocol, number[]> = { TCP: [], UDP: [], SCTP: [] };
      for (const p of PROTOCOLS) {
        const named = destination.sides[side].named.filter((cp) => cp.protocol === p && names.includes(cp.name!)).flatMap((cp) => [cp.port, cp.port + 1]);
        starts[p] = mergeStarts([this.program.breakpoints[p], named.filter((n) => n <= 65535)]);
      }
      group = { key, starts, memo: new Map() };
      this.groups.set(key, group);
    }
    this.byPeer.set(peer.id, group);
    return group;
  }

  /** The direction's verdict for a pod of `subject` and a distinct pod of `peer`. */
  at(subject: PodClass, peer: PodClass, protocol: Protocol, port: number): Value {
    if (this.program.exempt) return EXEMPT;
    const group = this.group(subject, peer);
    const start = stretchStart(group.starts[protocol], port);
    const memoKey = `${protocol}/${start}`;
    let value = group.memo.get(memoKey);
    if (value === undefined) {
      value = this.evaluate(subject, peer, protocol, start);
      group.memo.set(memoKey, value);
    }
    return value;
  }

  private evaluate(subject: PodClass, peer: PodClass, protocol: Protocol, port: number): Value {
    this.count();
    const side = this.ctx.side;
    const subjectPod = subject.sides[side].pods[0]!;
    const peerPod = peer.sides[side].pods.find((p) => p !== subjectPod);
    if (peerPod === undefined) throw new Error(`impact: class ${peer.id} has no pod besides ${podKey(subjectPod)}`);
    const egress = this.program.direction === 'egress';
    const destination = egress ? peerPod : subjectPod;
    const ip = destination.ips[0] === undefined ? undefined : parseIp(destination.ips[0]);
    const namespaces = [...new Set([subjectPod.namespace, peerPod.namespace])].flatMap((n) => {
      const ns = this.ctx.namespaces.get(n);
      return ns === undefined ? [] : [ns];
    });
    const reduced: Snapshot = {
      policies: this.program.policies,
      networkPolicies: this.program.networkPolicies,
      namespaces,
      pods: [subjectPod, peerPod],
      nodes: ip === undefined ? [] : [...(this.ctx.nodesByIp.get(ipKey(ip)) ?? [])],
    };
    const flow: Flow = {
      from: endpoint(egress ? subjectPod : peerPod),
      to: endpoint(egress ? peerPod : subjectPod),
      port,
      protocol,
    };
    const result = new Evaluator(reduced).evaluate(flow)[this.program.direction];
    return { verdict: result.verdict, step: result.trace[result.trace.length - 1]! };
  }
}

const endpoint = (pod: Pod): Flow['from'] => ({ kind: 'pod', namespace: pod.namespace, name: pod.name });

function sideContext(side: 0 | 1, snapshot: Snapshot, facts: SideFacts): SideContext {
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
  return { side, snapshot, namespaces: new Map(snapshot.namespaces.map((n) => [n.name, n])), nodesByIp, programs: new ProgramCache(facts) };
}

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
  const contexts = [sideContext(0, before, facts[0]), sideContext(1, after, facts[1])] as const;
  let evaluations = 0;
  const count = () => void evaluations++;

  // Tasks are shared by program content; with an unchanged cluster, the two sides share them
  // too, so "untouched" is simply "the same task before and after".
  const tasks = new Map<string, Task>();
  const taskOf = new Map<string, Task>();
  const taskFor = (cls: PodClass, direction: Direction, side: 0 | 1): Task => {
    const memoKey = `${cls.id}/${direction}/${side}`;
    const hit = taskOf.get(memoKey);
    if (hit !== undefined) return hit;
    const s = cls.sides[side];
    const program = contexts[side].programs.programFor(s.holds, s.hostNetwork, direction);
    // On ingress the subject is the destination, whose named ports the program resolves.
    const subjectNamed = direction === 'ingress' ? namedKey(cls, side, program.names) : '';
    const key = `${clusterChanged ? side : '*'}|${program.key}|${subjectNamed}`;
    let task = tasks.get(key);
    if (task === undefined) tasks.set(key, (task = new Task(contexts[side], program, count)));
    taskOf.set(memoKey, task);
    return task;
  };
  const touched = (cls: PodClass, direction: Direction): boolean => {
    const [t0, t1] = [taskFor(cls, direction, 0), taskFor(cls, direction, 1)];
    return t0 !== t1 && !(t0.program.exempt && t1.program.exempt);
  };
  const pairable = (a: PodClass, b: PodClass) => a !== b || a.members.length > 1;

  // Candidate pairs: a touched side whose verdict moves for some peer group and stretch.
  const candidates = new Map<number, Set<number>>();
  const addCandidate = (from: PodClass, to: PodClass) => {
    const set = candidates.get(from.id) ?? new Set<number>();
    set.add(to.id);
    candidates.set(from.id, set);
  };
  const moves = (t0: Task, t1: Task, subject: PodClass, peer: PodClass): boolean =>
    PROTOCOLS.some((p) =>
      mergeStarts([t0.group(subject, peer).starts[p], t1.group(subject, peer).starts[p]]).some(
        (x) => t0.at(subject, peer, p, x).verdict !== t1.at(subject, peer, p, x).verdict,
      ),
    );
  for (const direction of ['egress', 'ingress'] as const) {
    for (const subject of partition.classes) {
      if (!touched(subject, direction)) continue;
      const t0 = taskFor(subject, direction, 0);
      const t1 = taskFor(subject, direction, 1);
      const seen = new Map<string, boolean>();
      for (const peer of partition.classes) {
        if (!pairable(subject, peer)) continue;
        const key = `${t0.group(subject, peer).key}#${t1.group(subject, peer).key}`;
        let moved = seen.get(key);
        if (moved === undefined) seen.set(key, (moved = moves(t0, t1, subject, peer)));
        if (!moved) continue;
        if (direction === 'egress') addCandidate(subject, peer);
        else addCandidate(peer, subject);
      }
    }
  }

  const changes: ChangedStretch[] = [];
  let candidatePairs = 0;
  for (const [fromId, toIds] of candidates) {
    const from = partition.classes[fromId]!;
    for (const toId of toIds) {
      candidatePairs++;
      const to = partition.classes[toId]!;
      const e = [taskFor(from, 'egress', 0), taskFor(from, 'egress', 1)] as const;
      const i = [taskFor(to, 'ingress', 0), taskFor(to, 'ingress', 1)] as const;
      for (const protocol of PROTOCOLS) {
        const starts = mergeStarts([...e.map((t) => t.group(from, to).starts[protocol]), ...i.map((t) => t.group(to, from).starts[protocol])]);
        const outcomes = starts.map((x) => {
          const eg = e.map((t) => t.at(from, to, protocol, x));
          const ing = i.map((t) => t.at(to, from, protocol, x));
          return compare(eg as [Value, Value], ing as [Value, Value]);
        });
        pushStretches(changes, from, { kind: 'class', class: to }, protocol, starts, outcomes);
      }
    }
  }

  changes.push(...addressChanges(before, after, partition, options.addresses ?? [], clusterChanged, touched, count));
  return {
    partition,
    changes,
    stats: { pods: partition.classes.reduce((n, c) => n + c.members.length, 0), classes: partition.classes.length, atoms: table.size, candidatePairs, evaluations },
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
function pushStretches(
  out: ChangedStretch[],
  from: PodClass,
  to: Target,
  protocol: Protocol,
  starts: readonly number[],
  outcomes: readonly ({ before: Outcome; after: Outcome } | undefined)[],
): void {
  let open: { start: number; end: number; key: string; before: Outcome; after: Outcome } | undefined;
  const flush = () => {
    if (open !== undefined) out.push({ from, to, protocol, start: open.start, end: open.end, before: open.before, after: open.after });
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
  count: () => void,
): ChangedStretch[] {
  if (targets.length === 0) return [];
  const snapshots = [before, after] as const;
  const evaluators = snapshots.map((s) => new Evaluator(s));
  const indexes = snapshots.map((s) => new ClusterIndex(s));
  const out: ChangedStretch[] = [];
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
        count();
        const pod = cls.sides[side as 0 | 1].pods[rep]!;
        return evaluators[side]!.evaluate({ from: endpoint(pod), to: { kind: 'ip', ip: target.ip }, port: target.port, protocol: target.protocol });
      });
      const values = (d: Direction) => results.map((r) => ({ verdict: r[d].verdict, step: r[d].trace[r[d].trace.length - 1]! })) as unknown as [Value, Value];
      const o = compare(values('egress'), values('ingress'));
      if (o !== undefined) out.push({ from: cls, to: { kind: 'address', ip: target.ip }, protocol: target.protocol, start: target.port, end: target.port, before: o.before, after: o.after });
    }
  }
  return out;
}
