import { PROTOCOLS, type Pod, type Protocol } from '../api/model.js';
import type { PodClass } from './classes.js';
import type { TraceStep } from './flow.js';
import type { PolicyChange } from './impact-changes.js';
import type { ChangedSet, ChangedStretch, Decision, Impact, Outcome } from './impact.js';
import { MAX_PORT, MIN_PORT } from './impact-ports.js';

// Changed connections, grouped so a person can read them: sets of pod classes to sets of pod
// classes (or to an address), on one set of ports, with the same verdicts before and after and
// the same rules deciding. Every pod of `from` (but `except`) to every pod of `to` (but a pod to
// itself, which is never subject to policy) on every port listed changed in exactly that way.

export interface PortStretch {
  readonly protocol: Protocol;
  readonly start: number;
  readonly end: number;
}

export type ChangeTarget = { readonly kind: 'classes'; readonly classes: readonly PodClass[] } | { readonly kind: 'address'; readonly ip: string };

export interface ChangeGroup {
  /** `denied`: these connections worked before and no longer do; `allowed`: the reverse. */
  readonly change: 'denied' | 'allowed';
  readonly from: readonly PodClass[];
  /** Pods of `from` left out (an address's own pods: a pod reaching itself is exempt). */
  readonly except: readonly string[];
  readonly to: ChangeTarget;
  readonly ports: readonly PortStretch[];
  readonly before: Outcome;
  readonly after: Outcome;
  /** Pod pairs (or pods, to an address) whose connection changed. */
  readonly connections: number;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const portsKey = (ports: readonly PortStretch[]) => ports.map((p) => `${p.protocol}/${p.start}-${p.end}`).join(',');
const idsKey = (classes: Iterable<PodClass>) => [...classes].map((c) => c.id).sort((a, b) => a - b).join(',');

interface Part {
  readonly key: string;
  readonly before: Outcome;
  readonly after: Outcome;
  readonly ports: PortStretch[];
}

/** A pair's stretches by outcome (stretch lists are shared by many pairs: split once each). */
function partsOf(stretches: readonly ChangedStretch[], cache: WeakMap<readonly ChangedStretch[], Part[]>): Part[] {
  const hit = cache.get(stretches);
  if (hit !== undefined) return hit;
  const parts = new Map<string, Part>();
  for (const s of stretches) {
    const part = parts.get(s.key) ?? { key: s.key, before: s.before, after: s.after, ports: [] };
    part.ports.push({ protocol: s.protocol, start: s.start, end: s.end });
    parts.set(s.key, part);
  }
  const list = [...parts.values()].map((p) => ({ ...p, key: `${p.key}|${portsKey(p.ports)}` }));
  cache.set(stretches, list);
  return list;
}

/** Groups changed sets: sources merged per destination and outcome, then destinations per source set. */
export function groupChanges(impact: Impact): ChangeGroup[] {
  const cache = new WeakMap<readonly ChangedStretch[], Part[]>();
  interface Stage {
    from: Set<PodClass>;
    except: Set<string>;
    to: ChangedSet['to'];
    part: Part;
  }
  const first = new Map<string, Stage>();
  for (const set of impact.changes) {
    const target = set.to.kind === 'class' ? `c${set.to.class.id}` : `a${set.to.ip}`;
    for (const part of partsOf(set.stretches, cache)) {
      const key = `${target}|${part.key}`;
      const stage = first.get(key) ?? { from: new Set<PodClass>(), except: new Set<string>(), to: set.to, part };
      for (const c of set.from) stage.from.add(c);
      for (const e of set.except ?? []) stage.except.add(e);
      first.set(key, stage);
    }
  }
  const second = new Map<string, { from: PodClass[]; except: string[]; to: ChangeTarget; toClasses: Set<PodClass>; part: Part }>();
  let addresses = 0;
  for (const s of first.values()) {
    const from = [...s.from].sort((a, b) => a.id - b.id);
    const except = [...s.except].sort(compareText);
    const key = s.to.kind === 'address' ? `address ${addresses++}` : `${idsKey(from)}|${except.join(',')}|${s.part.key}`;
    const to: ChangeTarget = s.to.kind === 'address' ? { kind: 'address', ip: s.to.ip } : { kind: 'classes', classes: [] };
    const entry = second.get(key) ?? { from, except, to, toClasses: new Set<PodClass>(), part: s.part };
    if (s.to.kind === 'class') entry.toClasses.add(s.to.class);
    second.set(key, entry);
  }
  const groups = [...second.values()].map((e): ChangeGroup => {
    const to: ChangeTarget = e.to.kind === 'address' ? e.to : { kind: 'classes', classes: [...e.toClasses].sort((a, b) => a.id - b.id) };
    const fromPods = e.from.reduce((n, c) => n + c.members.length, 0) - e.except.length;
    // A pod is never counted as reaching itself: classes on both sides pair their pods with the others only.
    const connections =
      to.kind === 'address' ? fromPods : fromPods * to.classes.reduce((n, c) => n + c.members.length, 0) - to.classes.filter((c) => e.from.includes(c)).reduce((n, c) => n + c.members.length, 0);
    return { change: e.part.after.verdict === 'deny' ? 'denied' : 'allowed', from: e.from, except: e.except, to, ports: e.part.ports, before: e.part.before, after: e.part.after, connections };
  });
  const first1 = (cs: readonly PodClass[]) => cs[0]?.members[0] ?? '';
  return groups.sort(
    (a, b) =>
      (a.change === b.change ? 0 : a.change === 'denied' ? -1 : 1) ||
      b.connections - a.connections ||
      compareText(a.to.kind === 'address' ? a.to.ip : first1(a.to.classes), b.to.kind === 'address' ? b.to.ip : first1(b.to.classes)) ||
      compareText(first1(a.from), first1(b.from)) ||
      compareText(portsKey(a.ports), portsKey(b.ports)),
  );
}

/** The pods of a group's side, `namespace/name`. */
export function podsOf(classes: readonly PodClass[], except: readonly string[] = []): string[] {
  return classes.flatMap((c) => c.members).filter((m) => !except.includes(m)).sort(compareText);
}

// ---- text ----

/** Labels every pod has for itself; no use for telling a group apart. */
const NOISE = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index', 'pod-template-generation']);

export interface ReportContext {
  /** `namespace/name` → pod, for the labels a group's pods share. */
  readonly pods: ReadonlyMap<string, Pod>;
  /** Pods per namespace, to say "all N pods". */
  readonly namespaceSizes: ReadonlyMap<string, number>;
  readonly total: number;
}

export function reportContext(pods: readonly Pod[]): ReportContext {
  const map = new Map<string, Pod>();
  const sizes = new Map<string, number>();
  for (const p of pods) {
    map.set(`${p.namespace}/${p.name}`, p);
    sizes.set(p.namespace, (sizes.get(p.namespace) ?? 0) + 1);
  }
  return { pods: map, namespaceSizes: sizes, total: pods.length };
}

const count = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** `payments/api`, `all 12 pods in tenant-a`, `3 pods in shop (app=web)`, `40 pods in 12 namespaces (app=api)`. */
export function describePods(keys: readonly string[], ctx: ReportContext): string {
  if (keys.length === 1) return keys[0]!;
  if (keys.length === ctx.total) return `every pod (${count(keys.length, 'pod', 'pods')})`;
  const byNs = new Map<string, number>();
  for (const k of keys) {
    const ns = k.slice(0, k.indexOf('/'));
    byNs.set(ns, (byNs.get(ns) ?? 0) + 1);
  }
  const namespaces = [...byNs.keys()].sort(compareText);
  const whole = namespaces.every((ns) => ctx.namespaceSizes.get(ns) === byNs.get(ns));
  const where =
    namespaces.length === 1 ? namespaces[0]! : namespaces.length <= 3 ? `${namespaces.slice(0, -1).join(', ')} and ${namespaces[namespaces.length - 1]}` : `${namespaces.length} namespaces`;
  if (whole) return keys.length === 2 ? `both pods in ${where}` : `all ${count(keys.length, 'pod', 'pods')} in ${where}`;
  const labels = keys.map((k) => ctx.pods.get(k)?.labels ?? {});
  const common = Object.keys(labels[0] ?? {})
    .filter((k) => !NOISE.has(k) && labels.every((l) => l[k] === labels[0]![k]))
    .sort()
    .map((k) => `${k}=${labels[0]![k]}`);
  const hint = common.length === 0 ? '' : ` (${common.slice(0, 3).join(',')}${common.length > 3 ? ',…' : ''})`;
  return `${count(keys.length, 'pod', 'pods')} in ${where}${hint}`;
}

/** `443/TCP`, `9090-9100/TCP, 53/UDP`, `any UDP port`, `any TCP port but 53`, `any port`. */
export function describePorts(ports: readonly PortStretch[]): string {
  const span = (s: number, e: number) => (s === e ? `${s}` : `${s}-${e}`);
  const parts: string[] = [];
  let whole = 0;
  for (const protocol of PROTOCOLS) {
    const mine = ports.filter((x) => x.protocol === protocol).sort((a, b) => a.start - b.start);
    if (mine.length === 0) continue;
    const gaps: string[] = [];
    let next = MIN_PORT;
    let count = 0;
    for (const p of mine) {
      count += p.end - p.start + 1;
      if (p.start > next) gaps.push(span(next, p.start - 1));
      next = p.end + 1;
    }
    if (next <= MAX_PORT) gaps.push(span(next, MAX_PORT));
    // Most of a protocol's ports read better as what they leave out.
    if (gaps.length === 0) {
      whole++;
      parts.push(`any ${protocol} port`);
    } else if (count > (MAX_PORT - MIN_PORT + 1) / 2) parts.push(`any ${protocol} port but ${gaps.join(', ')}`);
    else parts.push(mine.map((p) => `${span(p.start, p.end)}/${protocol}`).join(', '));
  }
  return whole === PROTOCOLS.length ? 'any port' : parts.join(', ');
}

function describeStep(d: Decision): string {
  const s: TraceStep = d.step;
  switch (s.stage) {
    case 'admin':
    case 'baseline':
      return `${s.policy ?? '?'} ${d.direction}[${s.ruleIndex ?? '?'}]${s.ruleName === undefined ? '' : ` "${s.ruleName}"`} (${s.tier ?? ''} ${s.action ?? ''})`;
    case 'networkpolicy':
      return s.verdict === 'allow' ? s.reason.replace(/ allows it$/, '') : `${d.direction} isolation by NetworkPolicy ${(s.networkPolicies ?? []).join(', ')} (no rule allows it)`;
    case 'default':
      return `no policy on ${d.direction} (allowed by default)`;
    case 'exempt':
      return `no policy on ${d.direction} (exempt)`;
  }
}

export function describeOutcome(o: Outcome): string {
  return o.decidedBy.map(describeStep).join(' and ');
}

/** A group in a sentence: `12 pods in tenant-a can no longer reach payments/api on 443/TCP, decided by …`. */
export function describeGroup(g: ChangeGroup, ctx: ReportContext): string {
  const from = podsOf(g.from, g.except);
  const verb = g.change === 'denied' ? 'can no longer reach' : 'can now reach';
  let whom: string;
  if (g.to.kind === 'address') whom = `${describePods(from, ctx)} ${verb} ${g.to.ip}`;
  else {
    const to = podsOf(g.to.classes);
    whom = from.length > 1 && to.join(',') === from.join(',') ? `${describePods(from, ctx)} ${verb} each other` : `${describePods(from, ctx)} ${verb} ${describePods(to, ctx)}`;
  }
  return `${whom} on ${describePorts(g.ports)}, decided by ${describeOutcome(g.after)} (before: ${describeOutcome(g.before)})`;
}

export function describePolicyChanges(changes: readonly PolicyChange[]): string {
  const moved = changes.filter((c) => c.change !== 'unchanged');
  if (moved.length === 0) return 'no policy changed';
  return moved.map((c) => `${c.kind} ${c.name} ${c.change}`).join(', ');
}

/** The closing line: how many changes, and over what. */
export function summaryLine(groups: readonly ChangeGroup[], impact: Impact, policyChanges: readonly PolicyChange[]): string {
  const denied = groups.filter((g) => g.change === 'denied').reduce((n, g) => n + g.connections, 0);
  const allowed = groups.filter((g) => g.change === 'allowed').reduce((n, g) => n + g.connections, 0);
  const scope = `${count(impact.stats.pods, 'pod', 'pods')} in ${count(impact.stats.classes, 'class', 'classes')}; ${describePolicyChanges(policyChanges)}`;
  if (groups.length === 0) return `No connection changes verdict (${scope}).`;
  return `${count(groups.length, 'change', 'changes')}: ${count(denied, 'connection', 'connections')} newly denied, ${allowed.toLocaleString('en-US')} newly allowed (${scope}).`;
}
