import { comparePolicies, DIRECTIONS, type Action, type Direction, type Policy, type Rule, type Tier } from '../../api/model.js';
import { policyRuleWords } from '../../semantics/analysis-warnings.js';
import { compact, orNone } from '../lists.js';
import type { Finding, FindingEffect, FindingKind } from '../types.js';
import { Cluster, networkPolicyCube, ruleMatch } from './match.js';
import { cubeKey, cubesDisjoint, subtractCube, type LabelCube } from './labels.js';
import { ipsKey, subtractIps, unionIps, type IpSet } from './ipset.js';
import { ALL_PORTS, isAllPorts } from './ports.js';
import { cubesDisjointFor, simplify, subtractCubeFrom, type Cube, type Inexact, type Space } from './space.js';

// Ordered CNP semantics → Cilium's deny-wins, allow-union model.
//
// Per direction and subject pod, the CNP verdict is (design.md):
//   allow ⇔ A_acc ∨ ((A_pass ∨ A_none) ∧ (isolated ? NP allows : ¬B_den))
// where A_acc / A_den / A_pass are the traffic whose first matching Admin rule
// accepts / denies / passes, and B_den the traffic whose first matching Baseline rule
// denies. Cilium allows ⇔ ¬D ∧ (L ∨ (isolated ? NP allows : true)), since every
// generated policy sets enableDefaultDeny false (isolation only comes from
// NetworkPolicies). So we emit
//   D = A_den ∪ (¬isolated ∧ B_den ∖ L)        (deny rules)
//   L = ∪ Admin Accept_i ∖ earlier Pass        (allow rules)
// which gives the CNP verdict exactly:
// - Admin Deny_i  denies  C_i ∖ ∪{C_j : j < i, Accept or Pass}. Earlier Denies need
//   not be subtracted: what they match is denied anyway.
// - Admin Accept_i allows C_i ∖ ∪{C_j : j < i, Pass}. Earlier Denies need not be
//   subtracted: deny wins. Earlier Passes must be: that traffic belongs to the
//   NetworkPolicy or Baseline tier.
// - Baseline Deny_i denies C_i ∖ (NetworkPolicy subjects ∪ L ∪ ∪{C_j : j < i,
//   Baseline Accept or Pass}). L lies between A_acc and A_acc ∪ A_den, which is all
//   the subtraction needs.
// - Baseline Accept and Pass emit nothing: default allow holds where they apply.
//
// Where a match can only be approximated (a finding), Accept uses an under-approximation,
// Deny an over-approximation, and a Pass passes its under-approximation and denies the
// rest of its over-approximation: the result never allows what the CNP denies.

export type Sign = 'allow' | 'deny';

export interface Compiled {
  readonly policy: Policy;
  readonly direction: Direction;
  readonly rule: Rule;
  readonly sign: Sign;
  readonly cubes: readonly Cube[];
}

/** Subjects that need a DNS-visibility rule for their toFQDNs rules to learn addresses. */
export interface DnsVisibility {
  readonly policy: Policy;
  readonly rule: Rule;
  readonly subjects: readonly LabelCube[];
}

export interface Compilation {
  readonly compiled: Compiled[];
  readonly dns: DnsVisibility[];
  readonly findings: Finding[];
}

/**
 * The rule (or NetworkPolicy) an earlier cube comes from, so that a finding can say which one
 * forced it: `words` name it as every other message does, `order` is its place in evaluation.
 */
export interface Origin {
  readonly words: string;
  readonly order: number;
}

export interface EarlierCube {
  readonly cube: Cube;
  readonly from: Origin;
}

/**
 * How the incremental compiler follows the earlier cubes of each group from one translation to
 * the next and keeps which of them may intersect an entry (the reference keeps nothing).
 * `group` names a group completely (the list and its subject); `section` is the part of the
 * evaluation the cubes come from, so that equal cubes in equal places have equal relative order.
 */
export interface RelevanceMemo {
  added(group: string, c: EarlierCube, section: number): void;
  /**
   * The places among the group's first `length` cubes that may intersect the entry's cubes
   * (`placesAmong` gives those in a range): kept while those cubes, the entry's cubes and the
   * answers the comparison read are unchanged, with a signature that changes whenever they are
   * computed again and name other cubes (or the same cubes from other rules or in another order).
   */
  relevant(group: string, e: Entry, length: number, among: Among): KeptPlaces;
}

/** What `placesAmong` compares: a group's cubes with the entry's cubes that meet its subject. */
export interface Among {
  readonly cubes: readonly EarlierCube[];
  readonly near: readonly Cube[];
  readonly space: Space;
}

export interface KeptPlaces {
  readonly places: readonly number[];
  /** Names these places among these cubes exactly (see Relevant). */
  readonly signature: string;
}

/** The places in [from, to) of the group's cubes that may intersect one of the entry's. */
export function placesAmong({ cubes, near, space }: Among, from: number, to: number): number[] {
  const places: number[] = [];
  for (let i = from; i < to; i++) {
    const earlier = cubes[i]!.cube;
    for (const c of near) {
      if (cubesDisjointFor(c, earlier, space)) continue;
      places.push(i);
      break;
    }
  }
  return places;
}

/** The earlier cubes that may intersect an entry, and (when cheap) an exact name for them. */
export interface Relevant {
  /** In order (with the memo, made when first read). */
  readonly cubes: readonly EarlierCube[];
  /**
   * Equal signatures, equal lists (cubes, their order and their origins' relative order):
   * set when the cubes come from at most one group; undefined when the memo is absent.
   */
  readonly signature: string | undefined;
}

interface Group {
  readonly name: string;
  readonly subject: LabelCube;
  readonly cubes: EarlierCube[];
}

/** Cubes of earlier rules, grouped by subject so most can be ruled out at once. */
class Earlier {
  private readonly groups = new Map<string, Group>();
  /**
   * The groups whose subject meets a subject, while no group is added: entries of the many
   * rules of one subject ask the same, and most groups are ruled out.
   */
  private readonly meeting = new Map<string, { readonly size: number; readonly groups: readonly Group[] }>();

  /** `site` names this list among the compilation's lists (with the memo). */
  constructor(
    private readonly site = '',
    private readonly memo?: RelevanceMemo,
  ) {}

  add(cubes: readonly Cube[], from: Origin, section = 0): void {
    for (const cube of cubes) this.addOne({ cube, from }, section);
  }

  addAll(cubes: readonly EarlierCube[], section = 0): void {
    for (const c of cubes) this.addOne(c, section);
  }

  private addOne(c: EarlierCube, section: number): void {
    const k = cubeKey(c.cube.subject);
    let g = this.groups.get(k);
    if (g === undefined) this.groups.set(k, (g = { name: `${this.site}\u0000${k}`, subject: c.cube.subject, cubes: [] }));
    g.cubes.push(c);
    this.memo?.added(g.name, c, section);
  }

  private groupsMeeting(subject: LabelCube): readonly Group[] {
    const key = cubeKey(subject);
    let m = this.meeting.get(key);
    if (m === undefined || m.size !== this.groups.size) {
      const groups: Group[] = [];
      for (const g of this.groups.values()) if (!cubesDisjoint(subject, g.subject)) groups.push(g);
      this.meeting.set(key, (m = { size: this.groups.size, groups }));
    }
    return m.groups;
  }

  /** The cubes that may intersect one of the entry's, in a deterministic order. */
  relevant(e: Entry, space: Space): Relevant {
    // An entry's cubes mostly share one subject: then a group meets all of them or none.
    const cubes = e.cubes;
    let shared: LabelCube | undefined = cubes.length > 0 ? cubes[0]!.subject : undefined;
    for (const c of cubes) if (c.subject !== shared) shared = undefined;
    const out: EarlierCube[] | undefined = this.memo === undefined ? [] : undefined;
    let first: KeptPart | undefined;
    let more: KeptPart[] | undefined;
    for (const g of shared === undefined ? this.groups.values() : this.groupsMeeting(shared)) {
      let near: readonly Cube[] | undefined;
      if (shared !== undefined) near = cubes;
      else for (const c of cubes) if (!cubesDisjoint(c.subject, g.subject)) ((near ??= []) as Cube[]).push(c);
      if (near === undefined) continue;
      if (out !== undefined) {
        for (const s of g.cubes) if (near.some((c) => !cubesDisjointFor(c, s.cube, space))) out.push(s);
        continue;
      }
      const kept = this.memo!.relevant(g.name, e, g.cubes.length, { cubes: g.cubes, near, space });
      const part = { cubes: g.cubes, kept };
      if (first === undefined) first = part;
      else (more ??= [first]).push(part);
    }
    if (out !== undefined) return { cubes: out, signature: undefined };
    return new KeptRelevant(more !== undefined ? undefined : first === undefined ? '' : first.kept.signature, more ?? (first === undefined ? [] : [first]));
  }
}

/** A group's cubes and the places among them that may intersect an entry. */
interface KeptPart {
  readonly cubes: readonly EarlierCube[];
  readonly kept: KeptPlaces;
}

/**
 * The list made only when asked for: a subtraction reused by its signature never needs it,
 * and with thousands of CNPs the lists of all entries are most of what a translation allocates.
 */
class KeptRelevant implements Relevant {
  private list: EarlierCube[] | undefined;

  constructor(
    readonly signature: string | undefined,
    private readonly parts: readonly KeptPart[],
  ) {}

  get cubes(): readonly EarlierCube[] {
    if (this.list === undefined) {
      const list: EarlierCube[] = [];
      for (const p of this.parts) for (const i of p.kept.places) list.push(p.cubes[i]!);
      this.list = list;
    }
    return this.list;
  }
}

export interface Entry {
  readonly policy: Policy;
  readonly direction: Direction;
  readonly rule: Rule;
  readonly kind: 'accept' | 'deny' | 'pass';
  readonly cubes: readonly Cube[];
  /** How messages name its rule (`web egress[2] "name"`). */
  readonly words: string;
}

/** What one rule gives before subtraction: its entries (two for a Pass that is not exact) and findings. */
export interface RuleStep {
  readonly entries: readonly Entry[];
  readonly findings: readonly Finding[];
}

/** One entry after subtracting what earlier rules decided: what to emit, findings, and how many rules it counts. */
export interface SubtractStep {
  readonly cubes: readonly Cube[];
  readonly findings: readonly Finding[];
  readonly rules: number;
}

export type Mode = 'over' | 'under';

/**
 * Where the compiler's steps come from. The reference computes every step; the incremental
 * compiler reuses a step whose inputs are unchanged. A rule step's inputs are its policy, rule
 * and direction and what it reads of the cluster; a subtraction's are its entry, the earlier
 * cubes that may intersect it (`relevant`, in order) with where they come from (findings name
 * those rules, in evaluation order), the mode, whether the rule bound was reached, and what it
 * reads of the cluster.
 */
export interface StepMemo {
  // The step's own function with its arguments, not a closure over them: asked for tens of
  // thousands of steps in every translation, most of them reused.
  rule(policy: Policy, direction: Direction, rule: Rule, compute: (policy: Policy, direction: Direction, rule: Rule) => RuleStep): RuleStep;
  subtract(entry: Entry, relevant: Relevant, mode: Mode, bounded: boolean, compute: (entry: Entry, relevant: Relevant, mode: Mode, bounded: boolean) => SubtractStep): SubtractStep;
  /** Kept relevance of earlier cubes (the incremental compiler's). */
  readonly relevance?: RelevanceMemo;
}

export const COMPUTE_EVERY_STEP: StepMemo = {
  rule: (policy, direction, rule, compute) => compute(policy, direction, rule),
  subtract: (entry, relevant, mode, bounded, compute) => compute(entry, relevant, mode, bounded),
};

const INEXACT_KIND: Record<Inexact, FindingKind> = { 'named-port': 'named-port', 'domain-names': 'unsupported-peer', 'pod-addresses': 'cidr-covers-pods' };
/** `names`: the earlier rules involved, as ` (a ingress[0], …)`, or '' if none is known; `several`: more than one. */
const INEXACT_MESSAGE: Record<Inexact, (names: string, several: boolean) => string> = {
  'named-port': (names, several) =>
    `a named port overlaps numbered ports of ${several ? 'other rules' : 'another rule'}${names} differently on different pods; Cilium cannot subtract one from the other`,
  'domain-names': (names, several) =>
    `addresses learnt for domain names can only be told apart from CIDRs at run time; Cilium cannot subtract ${several ? 'the earlier rules' : 'the earlier rule'}${names} from this one`,
  'pod-addresses': (names, several) =>
    `pods ${several ? 'earlier rules' : 'an earlier rule'}${names} ${several ? 'match' : 'matches'} by address are also selected here by label; Cilium cannot take addresses out of a label selector, so they are denied here too`,
};

/** Named in findings: enough to act on, few enough to keep a condition message short. */
const MAX_NAMED = 3;

/**
 * The distinct earlier rules of `from` other than `e`'s own, in evaluation order: how a
 * message names them (` (a ingress[0] "web", b egress[2] and 2 more)`, '' when there are
 * none) and whether there are several.
 */
function namedOrigins(e: Entry, from: Iterable<Origin>): { words: string; several: boolean } {
  const own = e.words;
  const names = [...new Set([...from].sort((a, b) => a.order - b.order).map((o) => o.words))].filter((w) => w !== own);
  if (names.length === 0) return { words: '', several: false };
  const more = names.length > MAX_NAMED ? ` and ${names.length - MAX_NAMED} more` : '';
  return { words: ` (${names.slice(0, MAX_NAMED).join(', ')}${more})`, several: names.length > 1 };
}

function effectOf(action: Action): FindingEffect {
  return action === 'Accept' ? 'accept-narrowed' : 'deny-widened';
}

/** Findings of one step, in the order reported. */
class Findings {
  readonly list: Finding[] = [];

  report(policy: Policy, direction: Direction | undefined, rule: Rule | undefined, kind: FindingKind, effect: FindingEffect, message: string): void {
    this.list.push({
      policy: policy.name,
      ...(direction === undefined ? {} : { direction }),
      ...(rule === undefined ? {} : { ruleIndex: rule.index }),
      ...(rule?.name === undefined ? {} : { ruleName: rule.name }),
      kind,
      effect,
      message,
    });
  }
}

/** What a rule matches in one direction, as entries of the ordered evaluation (stage 1). */
export function ruleStep(cluster: Cluster, policy: Policy, direction: Direction, rule: Rule): RuleStep {
  const findings = new Findings();
  const entries: Entry[] = [];
  const m = ruleMatch(cluster, policy.subject, rule, direction);
  for (const issue of m.issues) findings.report(policy, direction, rule, issue.kind, effectOf(rule.action), issue.message);
  if (rule.failClosed !== undefined) {
    findings.report(
      policy,
      direction,
      rule,
      'unsupported-field',
      effectOf(rule.action),
      rule.action === 'Accept' ? `not understood (${rule.failClosed}): the rule matches nothing` : `not understood (${rule.failClosed}): the rule denies all traffic`,
    );
  }
  const exact = m.issues.length === 0;
  const words = policyRuleWords({ policy: policy.name, direction, ruleIndex: rule.index, ruleName: rule.name });
  if (rule.action === 'Accept') entries.push({ policy, direction, rule, kind: 'accept', cubes: m.under, words });
  else if (rule.action === 'Deny') entries.push({ policy, direction, rule, kind: 'deny', cubes: m.over, words });
  else {
    entries.push({ policy, direction, rule, kind: 'pass', cubes: m.under, words });
    // What might be passed but cannot be told apart is denied, right after the Pass.
    if (!exact) entries.push({ policy, direction, rule, kind: 'deny', cubes: m.over, words });
  }
  return { entries, findings: orNone(findings.list) };
}

/**
 * The entry's cubes minus the earlier cubes that may intersect them, approximated in the safe
 * direction (`over` for what is denied, `under` for what is allowed), within the bounds (stage 2).
 * `bounded`: the translation already holds its maximum number of rules.
 */
export function subtractStep(cluster: Cluster, e: Entry, relevant: readonly EarlierCube[], mode: Mode, bounded: boolean): SubtractStep {
  const findings = new Findings();
  const { cubes: difference, rules, takers } = differenceOf(cluster, findings, e, relevant, mode, bounded);
  const cubes = unknownReach(cluster, findings, e, whole(cluster, findings, e, difference, mode), mode);
  reportPortComplement(cluster, findings, e, cubes, takers, mode === 'under' ? 'allow' : 'deny');
  return { cubes: compact(cubes), findings: orNone(findings.list), rules };
}

/**
 * Traffic without ports that is only part of a rule's ports ("everything except TCP 443")
 * is emitted as ICMP echo: Cilium can name TCP, UDP, SCTP and ICMP types, not "any other
 * IP protocol". For a deny that lets other ICMP types and protocols through; it is reported,
 * with the earlier rules that took the ports, so the admin knows which pair to look at: of
 * those that took ports, the ones whose pods and peers hold what is left (a piece they took
 * ports from may have gone whole to a later rule).
 */
function reportPortComplement(cluster: Cluster, findings: Findings, e: Entry, cubes: readonly Cube[], takers: readonly EarlierCube[], sign: Sign): void {
  const left = cubes.filter((c) => c.ports.other && !isAllPorts(c.ports));
  if (left.length === 0) return;
  const where = takers.filter((t) => left.some((c) => !cubesDisjointFor(c, { ...t.cube, ports: ALL_PORTS }, cluster.space)));
  const { words } = namedOrigins(e, (where.length > 0 ? where : takers).map((t) => t.from));
  findings.report(
    e.policy,
    e.direction,
    e.rule,
    'port-complement',
    sign === 'deny' ? 'deny-narrowed' : 'accept-narrowed',
    sign === 'deny'
      ? `after earlier rules take some ports${words}, the traffic without ports left to deny is denied as ICMP echo only: other ICMP types and IP protocols such as GRE or ESP are not denied (Cilium cannot say "all traffic except these ports")`
      : `after earlier rules take some ports${words}, the traffic without ports left to accept is accepted as ICMP echo only (Cilium cannot say "all traffic except these ports")`,
  );
}

/**
 * When it cannot be told whether CIDR selectors reach pods and nodes, an allow's addresses
 * leave out every pod and node address (which they never meant: pods and nodes are
 * matched by identity then), and a deny that holds some is reported: it may deny them too.
 */
function unknownReach(cluster: Cluster, findings: Findings, e: Entry, cubes: Cube[], mode: Mode): Cube[] {
  if (!cluster.options.agent.cidrReachUnknown) return cubes;
  if (mode === 'over') {
    if (cubes.some((c) => c.peer.kind === 'world' && cluster.touchesCluster(c.peer.ips))) {
      findings.report(e.policy, e.direction, e.rule, 'cidr-covers-pods', effectOf(e.rule.action), 'the addresses include pod or node addresses, and whether Cilium matches those by CIDR cannot be told (policy-cidr-match-mode unknown): it may deny them too');
    }
    return cubes;
  }
  return cubes.flatMap((c): Cube[] => {
    if (c.peer.kind !== 'world') return [c];
    const ips = cluster.outsideCluster(c.peer.ips);
    return ips.length === 0 ? [] : [{ ...c, peer: { kind: 'world', ips } }];
  });
}

/**
 * Where CIDR selectors reach pods or nodes, Cilium gives a dual-stack pod, and a node seen
 * from its own pods (the host identity), one identity with a CIDR label per address: a CIDR
 * set matches it as a whole when it holds any of its addresses, and not at all when it
 * excepts one. So sets are made whole per such endpoint: an allow gives up endpoints it only
 * partly holds, a deny takes them whole, and either is reported.
 */
function whole(cluster: Cluster, findings: Findings, e: Entry, cubes: Cube[], mode: Mode): Cube[] {
  if (!cubes.some((c) => c.peer.kind === 'world')) return cubes;
  const wholes = cluster.wholes;
  if (wholes.length === 0) return cubes;
  let changed = false;
  const out = cubes.flatMap((c): Cube[] => {
    if (c.peer.kind !== 'world') return [c];
    let ips: IpSet = c.peer.ips;
    for (const w of wholes) {
      const outside = subtractIps(w, ips);
      if (outside.length === 0 || ipsKey(outside) === ipsKey(w)) continue;
      ips = mode === 'over' ? unionIps(ips, w) : subtractIps(ips, w);
      changed = true;
    }
    return ips.length === 0 ? [] : [{ ...c, peer: { kind: 'world', ips } }];
  });
  if (changed) {
    findings.report(
      e.policy,
      e.direction,
      e.rule,
      'cidr-covers-pods',
      effectOf(e.rule.action),
      mode === 'over'
        ? 'the addresses cover only some addresses of a pod or node that Cilium matches by all its addresses at once; the rule takes all of them'
        : 'the addresses cover only some addresses of a pod or node that Cilium matches by all its addresses at once; the rule leaves it out',
    );
  }
  return out;
}

interface Difference {
  readonly cubes: Cube[];
  readonly rules: number;
  /** Earlier cubes that took some ports, but not the traffic without ports, from a piece that had it. */
  readonly takers: readonly EarlierCube[];
}

function differenceOf(cluster: Cluster, findings: Findings, e: Entry, relevant: readonly EarlierCube[], mode: Mode, bounded: boolean): Difference {
  const { maxPiecesPerRule, maxRules } = cluster.options;
  const space = cluster.space;
  const fallback = (why: string): Difference => {
    findings.report(e.policy, e.direction, e.rule, 'size-limit', effectOf(e.rule.action), why);
    const out = mode === 'over' ? [...e.cubes] : [];
    return { cubes: out, rules: out.length, takers: [] };
  };
  if (bounded) return fallback(`the translation reached its bound of ${maxRules} rules`);
  let current: Cube[] = simplify(e.cubes, space);
  let simplified = current.length;
  const inexact = new Map<Inexact, Set<Origin>>();
  const takers: EarlierCube[] = [];
  for (const s of relevant) {
    const next: Cube[] = [];
    let took = false;
    for (const c of current) {
      const d = subtractCubeFrom(c, s.cube, space, mode);
      for (const why of d.inexact) {
        const from = inexact.get(why);
        if (from === undefined) inexact.set(why, new Set([s.from]));
        else from.add(s.from);
      }
      // A cube the subtraction does not touch comes back as itself.
      if (!took && c.ports.other && !s.cube.ports.other && (d.cubes.length !== 1 || d.cubes[0] !== c)) took = true;
      next.push(...d.cubes);
    }
    if (took) takers.push(s);
    current = next;
    // Simplifying is quadratic: only when the pieces have grown a good deal.
    if (current.length > Math.max(8, 2 * simplified)) {
      current = simplify(current, space);
      simplified = current.length;
    }
    if (current.length > maxPiecesPerRule) {
      current = simplify(current, space);
      simplified = current.length;
      if (current.length > maxPiecesPerRule) return fallback(`subtracting earlier rules splits this rule into more than ${maxPiecesPerRule} pieces`);
    }
  }
  current = simplify(current, space);
  if (cluster.options.pruneAbsentNamespaces) {
    current = current.filter((c) => cluster.namespaceExists(c.subject) && (c.peer.kind !== 'pods' || cluster.namespaceExists(c.peer.selector)));
  }
  for (const [why, from] of inexact) {
    const { words, several } = namedOrigins(e, from);
    findings.report(e.policy, e.direction, e.rule, INEXACT_KIND[why], effectOf(e.rule.action), INEXACT_MESSAGE[why](words, several));
  }
  return { cubes: current, rules: current.length, takers };
}

/**
 * Part of a compilation, for the incremental compiler: per direction (ingress, egress) the
 * policies to walk, sorted as the whole compilation sorts them. It gives the whole
 * compilation's results for those policies when no policy outside it has a subject that meets
 * a subject inside it (then no earlier cube of one can intersect an entry of the other), and
 * when the rule bound is not reached. The NetworkPolicies' isolated subjects are all taken:
 * the cubes of a subject that no walked entry meets are never compared with one.
 */
export interface Walk {
  readonly policies: readonly [readonly Policy[], readonly Policy[]];
}

/** What a policy's rules in one direction gave: the subjects of their entries and allows, and how many rules. */
export interface UnitRecord {
  readonly subjects: Map<string, LabelCube>;
  rules: number;
}

export class Compiler {
  readonly findings: Finding[] = [];
  /** With `record`: per direction (ingress, egress), what each walked policy gave, by name (entries of reused steps may hold an equal policy object of an earlier snapshot). */
  readonly units: readonly [Map<string, UnitRecord>, Map<string, UnitRecord>] | undefined;
  private readonly seen = new Set<string>();
  private rules = 0;
  private readonly computeRule = (policy: Policy, direction: Direction, rule: Rule): RuleStep => ruleStep(this.cluster, policy, direction, rule);
  private readonly computeSubtraction = (e: Entry, relevant: Relevant, mode: Mode, bounded: boolean): SubtractStep => subtractStep(this.cluster, e, relevant.cubes, mode, bounded);

  constructor(
    readonly cluster: Cluster,
    private readonly memo: StepMemo = COMPUTE_EVERY_STEP,
    record = false,
  ) {
    this.units = record ? [new Map(), new Map()] : undefined;
  }

  compile(walk?: Walk): Compilation {
    const compiled: Compiled[] = [];
    const sorted = walk === undefined ? [...this.cluster.snapshot.policies].sort(comparePolicies) : undefined;
    for (const direction of DIRECTIONS) {
      const at = direction === 'ingress' ? 0 : 1;
      const policies = sorted ?? walk!.policies[at];
      const units = this.units?.[at];
      const admin = this.entries(policies, 'Admin', direction, units);
      const baseline = this.entries(policies, 'Baseline', direction, units);
      // Admin rules, then NetworkPolicies, then Baseline rules: the order of evaluation.
      let order = 0;
      const memo = this.memo.relevance;
      const acceptedOrPassed = new Earlier(`${direction}/accepted-or-passed`, memo);
      const passed = new Earlier(`${direction}/passed`, memo);
      const allowed: EarlierCube[] = [];
      for (const e of admin) {
        const from: Origin = { words: e.words, order: order++ };
        if (e.kind === 'accept') {
          const l = this.subtract(e, passed, 'under', units);
          if (l.length > 0) compiled.push({ policy: e.policy, direction, rule: e.rule, sign: 'allow', cubes: l });
          if (units !== undefined) for (const cube of l) units.get(e.policy.name)!.subjects.set(cubeKey(cube.subject), cube.subject);
          for (const cube of l) allowed.push({ cube, from });
          acceptedOrPassed.add(e.cubes, from);
        } else if (e.kind === 'pass') {
          acceptedOrPassed.add(e.cubes, from);
          passed.add(e.cubes, from);
        } else {
          const d = this.subtract(e, acceptedOrPassed, 'over', units);
          if (d.length > 0) compiled.push({ policy: e.policy, direction, rule: e.rule, sign: 'deny', cubes: d });
        }
      }
      // Sections: NetworkPolicy isolation comes after the Admin accepts in evaluation and before
      // the Baseline rules, whatever the order they are added in.
      const decided = new Earlier(`${direction}/decided`, memo);
      const isolated = this.isolated(direction, baseline, order);
      order += isolated.length;
      decided.addAll(isolated, 1);
      decided.addAll(allowed, 2);
      for (const e of baseline) {
        if (e.kind === 'deny') {
          const d = this.subtract(e, decided, 'over', units);
          if (d.length > 0) compiled.push({ policy: e.policy, direction, rule: e.rule, sign: 'deny', cubes: d });
        } else decided.add(e.cubes, { words: e.words, order: order++ }, 3);
      }
    }
    return { compiled, dns: this.dnsVisibility(compiled), findings: this.findings };
  }

  private add(findings: readonly Finding[]): void {
    for (const f of findings) {
      const key = JSON.stringify(f);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.findings.push(f);
    }
  }

  private subtract(e: Entry, earlier: Earlier, mode: Mode, units: Map<string, UnitRecord> | undefined): readonly Cube[] {
    const relevant = earlier.relevant(e, this.cluster.space);
    const bounded = this.rules >= this.cluster.options.maxRules;
    const step = this.memo.subtract(e, relevant, mode, bounded, this.computeSubtraction);
    this.rules += step.rules;
    if (units !== undefined) units.get(e.policy.name)!.rules += step.rules;
    this.add(step.findings);
    return step.cubes;
  }

  private entries(policies: readonly Policy[], tier: Tier, direction: Direction, units: Map<string, UnitRecord> | undefined): Entry[] {
    const out: Entry[] = [];
    for (const policy of policies) {
      if (policy.tier !== tier) continue;
      const unit: UnitRecord | undefined = units === undefined ? undefined : { subjects: new Map(), rules: 0 };
      if (unit !== undefined) units!.set(policy.name, unit);
      for (const rule of direction === 'ingress' ? policy.ingress : policy.egress) {
        const step = this.memo.rule(policy, direction, rule, this.computeRule);
        this.add(step.findings);
        out.push(...step.entries);
        if (unit !== undefined) for (const e of step.entries) for (const c of e.cubes) unit.subjects.set(cubeKey(c.subject), c.subject);
      }
    }
    return out;
  }

  /**
   * toFQDNs only learns addresses through Cilium's DNS proxy, which needs an L7 DNS rule for
   * the same pods. Such a rule is an allow: harmless where no NetworkPolicy isolates the pod
   * for egress (allowing is the default there, and every deny still wins), but it would open
   * DNS on pods a NetworkPolicy isolates. So: a DNS rule for the subjects outside every
   * egress-isolating NetworkPolicy (as over-approximated), and a finding for the others.
   */
  private dnsVisibility(compiled: readonly Compiled[]): DnsVisibility[] {
    const fqdn = compiled.filter((c) => c.sign === 'allow' && c.direction === 'egress' && c.cubes.some((x) => x.peer.kind === 'fqdn'));
    if (fqdn.length === 0) return [];
    const isolating: LabelCube[] = [];
    // In a fixed order (as `isolated` takes them): the subjects left open are split by each in turn.
    const nps = [...this.cluster.snapshot.networkPolicies].sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
    for (const np of nps) {
      if (!np.policyTypes.includes('egress')) continue;
      const c = networkPolicyCube(this.cluster, np);
      if (c.over !== undefined) isolating.push(c.over);
    }
    const findings = new Findings();
    const out: DnsVisibility[] = [];
    for (const c of fqdn) {
      const subjects = [...new Map(c.cubes.filter((x) => x.peer.kind === 'fqdn').map((x) => [cubeKey(x.subject), x.subject])).values()];
      let open: LabelCube[] = subjects;
      for (const iso of isolating) open = open.flatMap((s) => subtractCube(s, iso));
      if (isolating.some((iso) => subjects.some((s) => !cubesDisjoint(s, iso)))) {
        findings.report(
          c.policy,
          'egress',
          c.rule,
          'unsupported-peer',
          'accept-narrowed',
          'pods a NetworkPolicy isolates for egress get no DNS-visibility rule (it would allow DNS the NetworkPolicy does not), so their domain names only resolve to allowed addresses if another policy gives them one',
        );
      }
      if (open.length > 0) out.push({ policy: c.policy, rule: c.rule, subjects: open });
    }
    this.add(findings.list);
    return out;
  }

  /** Subjects a NetworkPolicy isolates in this direction, as cubes to subtract from Baseline denies (in evaluation order from `order`). */
  private isolated(direction: Direction, baseline: readonly Entry[], order: number): EarlierCube[] {
    const out: EarlierCube[] = [];
    const findings = new Findings();
    const nps = [...this.cluster.snapshot.networkPolicies].sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
    for (const np of nps) {
      if (!np.policyTypes.includes(direction)) continue;
      const c = networkPolicyCube(this.cluster, np);
      if (c.under !== undefined) out.push({ cube: { subject: c.under, peer: { kind: 'any' }, ports: ALL_PORTS }, from: { words: `NetworkPolicy ${np.namespace}/${np.name}`, order: order + out.length } });
      if (c.issues.length > 0 && c.over !== undefined) {
        // Baseline denies stay on pods we cannot tell are isolated: report the ones affected.
        const overCube: Cube = { subject: c.over, peer: { kind: 'any' }, ports: ALL_PORTS };
        for (const e of baseline) {
          if (e.kind !== 'deny' || e.cubes.every((x) => cubesDisjointFor(x, overCube, this.cluster.space))) continue;
          for (const issue of c.issues) findings.report(e.policy, direction, e.rule, issue.kind, 'deny-widened', `${issue.message}: Baseline denies also apply to the pods it isolates`);
        }
      }
    }
    this.add(findings.list);
    return out;
  }
}
