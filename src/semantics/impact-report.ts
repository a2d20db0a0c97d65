import { PROTOCOLS, type Pod, type Protocol } from '../api/model.js';
import type { PodClass } from './classes.js';
import type { TraceStep } from './flow.js';
import type { PolicyChange } from './impact-changes.js';
import { outcomeKey, type ChangedStretch, type Decision, type Impact, type Outcome } from './impact.js';
import { MAX_PORT, MIN_PORT } from './impact-ports.js';

// Changed connections, grouped so a person can read them: pods of one namespace, to pods of one
// namespace (or an address), on one set of ports, with the same verdict before and after and the
// same rules deciding. Every pod of `from` to every pod of `to` (but a pod to itself, which is
// never subject to policy) on every port listed changed in exactly that way.

export interface PortStretch {
  readonly protocol: Protocol;
  readonly start: number;
  readonly end: number;
}

export interface PodSelection {
  readonly namespace: string;
  /** Pod names, sorted. */
  readonly pods: readonly string[];
}

export type ChangeTarget = ({ readonly kind: 'pods' } & PodSelection) | { readonly kind: 'address'; readonly ip: string };

export interface ChangeGroup {
  /** `denied`: these connections worked before and no longer do; `allowed`: the reverse. */
  readonly change: 'denied' | 'allowed';
  readonly from: PodSelection;
  readonly to: ChangeTarget;
  readonly ports: readonly PortStretch[];
  readonly before: Outcome;
  readonly after: Outcome;
  /** Pod pairs (or pods, to an address) whose connection changed: |from| x |to|, less a pod to itself. */
  readonly connections: number;
}

const splitKey = (key: string): [string, string] => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
};

function byNamespace(cls: PodClass): Map<string, string[]> {
  const parts = new Map<string, string[]>();
  for (const m of cls.members) {
    const [ns, name] = splitKey(m);
    parts.set(ns, [...(parts.get(ns) ?? []), name]);
  }
  return parts;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const portsKey = (ports: readonly PortStretch[]) => ports.map((p) => `${p.protocol}/${p.start}-${p.end}`).join(',');
const protocolRank = (p: Protocol) => PROTOCOLS.indexOf(p);

/** Groups changed stretches: first per class pair and outcome, then across pods of a namespace. */
export function groupChanges(impact: Impact): ChangeGroup[] {
  interface Item {
    from: PodClass;
    to: ChangedStretch['to'];
    before: Outcome;
    after: Outcome;
    ports: PortStretch[];
  }
  // 1. One item per (from class, target, outcome), holding all its ports.
  const items = new Map<string, Item>();
  for (const c of impact.changes) {
    const target = c.to.kind === 'class' ? `c${c.to.class.id}` : `a${c.to.ip}`;
    const key = `${c.from.id}>${target}>${outcomeKey(c.before)}>${outcomeKey(c.after)}`;
    const item = items.get(key) ?? { from: c.from, to: c.to, before: c.before, after: c.after, ports: [] };
    item.ports.push({ protocol: c.protocol, start: c.start, end: c.end });
    items.set(key, item);
  }

  // 2. Sources merged per destination part (a class's pods in one namespace, or an address).
  interface Stage {
    fromNs: string;
    from: Set<string>;
    to: ChangeTarget;
    before: Outcome;
    after: Outcome;
    ports: PortStretch[];
  }
  const first = new Map<string, Stage>();
  for (const item of items.values()) {
    item.ports.sort((a, b) => protocolRank(a.protocol) - protocolRank(b.protocol) || a.start - b.start);
    const outcome = `${outcomeKey(item.before)}>${outcomeKey(item.after)}|${portsKey(item.ports)}`;
    const targets: [string, ChangeTarget][] =
      item.to.kind === 'address'
        ? [[`a${item.to.ip}`, { kind: 'address', ip: item.to.ip }]]
        : [...byNamespace(item.to.class)].map(([ns, pods]) => [`c${(item.to as { class: PodClass }).class.id}/${ns}`, { kind: 'pods', namespace: ns, pods }]);
    for (const [fromNs, fromPods] of byNamespace(item.from)) {
      for (const [targetKey, to] of targets) {
        const key = `${outcome}|${targetKey}|${fromNs}`;
        const stage = first.get(key) ?? { fromNs, from: new Set<string>(), to, before: item.before, after: item.after, ports: item.ports };
        for (const p of fromPods) stage.from.add(p);
        first.set(key, stage);
      }
    }
  }

  // 3. Destinations merged per identical source set.
  const second = new Map<string, { from: PodSelection; to: ChangeTarget; before: Outcome; after: Outcome; ports: PortStretch[]; toPods: Set<string> }>();
  for (const s of first.values()) {
    const fromPods = [...s.from].sort(compareText);
    const outcome = `${outcomeKey(s.before)}>${outcomeKey(s.after)}|${portsKey(s.ports)}`;
    const toKey = s.to.kind === 'address' ? `a${s.to.ip}` : `n${s.to.namespace}`;
    const key = `${outcome}|${s.fromNs}|${fromPods.join(',')}|${toKey}`;
    const entry = second.get(key) ?? { from: { namespace: s.fromNs, pods: fromPods }, to: s.to, before: s.before, after: s.after, ports: s.ports, toPods: new Set<string>() };
    if (s.to.kind === 'pods') for (const p of s.to.pods) entry.toPods.add(p);
    second.set(key, entry);
  }

  const groups: ChangeGroup[] = [...second.values()].map((e) => {
    const to: ChangeTarget = e.to.kind === 'address' ? e.to : { kind: 'pods', namespace: e.to.namespace, pods: [...e.toPods].sort(compareText) };
    let connections = e.from.pods.length * (to.kind === 'address' ? 1 : to.pods.length);
    if (to.kind === 'pods' && to.namespace === e.from.namespace) connections -= e.from.pods.filter((p) => to.pods.includes(p)).length;
    return { change: e.after.verdict === 'deny' ? 'denied' : 'allowed', from: e.from, to, ports: e.ports, before: e.before, after: e.after, connections };
  });
  const targetText = (t: ChangeTarget) => (t.kind === 'address' ? `~${t.ip}` : `${t.namespace}/${t.pods[0] ?? ''}`);
  return groups.sort(
    (a, b) =>
      compareText(a.change, b.change) ||
      compareText(a.from.namespace, b.from.namespace) ||
      compareText(targetText(a.to), targetText(b.to)) ||
      compareText(portsKey(a.ports), portsKey(b.ports)) ||
      compareText(a.from.pods[0] ?? '', b.from.pods[0] ?? ''),
  );
}

// ---- text ----

/** Labels every pod has for itself; no use for telling a group apart. */
const NOISE = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index', 'pod-template-generation']);

export interface ReportContext {
  /** `namespace/name` → pod, for the labels a group's pods share. */
  readonly pods: ReadonlyMap<string, Pod>;
  /** Pods per namespace, to say "all N pods". */
  readonly namespaceSizes: ReadonlyMap<string, number>;
}

export function reportContext(pods: readonly Pod[]): ReportContext {
  const map = new Map<string, Pod>();
  const sizes = new Map<string, number>();
  for (const p of pods) {
    map.set(`${p.namespace}/${p.name}`, p);
    sizes.set(p.namespace, (sizes.get(p.namespace) ?? 0) + 1);
  }
  return { pods: map, namespaceSizes: sizes };
}

/** `payments/api`, `all 12 pods in tenant-a`, `3 pods in shop (app=web)`. */
export function describePods(sel: PodSelection, ctx: ReportContext): string {
  if (sel.pods.length === 1) return `${sel.namespace}/${sel.pods[0]}`;
  if (ctx.namespaceSizes.get(sel.namespace) === sel.pods.length) return `all ${sel.pods.length} pods in ${sel.namespace}`;
  const labels = sel.pods.map((p) => ctx.pods.get(`${sel.namespace}/${p}`)?.labels ?? {});
  const common = Object.keys(labels[0] ?? {})
    .filter((k) => !NOISE.has(k) && labels.every((l) => l[k] === labels[0]![k]))
    .sort()
    .map((k) => `${k}=${labels[0]![k]}`);
  const hint = common.length === 0 ? '' : ` (${common.slice(0, 3).join(',')}${common.length > 3 ? ',…' : ''})`;
  return `${sel.pods.length} pods in ${sel.namespace}${hint}`;
}

/** `443/TCP`, `9090-9100/TCP`, `any UDP port`, `any TCP port but 53`. */
export function describePorts(ports: readonly PortStretch[]): string {
  const parts: string[] = [];
  const range = (s: number, e: number) => (s === e ? `${s}` : `${s}-${e}`);
  for (const protocol of PROTOCOLS) {
    const mine = ports.filter((p) => p.protocol === protocol).sort((a, b) => a.start - b.start);
    if (mine.length === 0) continue;
    const covered = mine.reduce((n, p) => n + p.end - p.start + 1, 0);
    if (covered === MAX_PORT - MIN_PORT + 1) {
      parts.push(`any ${protocol} port`);
    } else if (covered > (MAX_PORT - MIN_PORT + 1) / 2) {
      const gaps: string[] = [];
      let next = MIN_PORT;
      for (const p of mine) {
        if (p.start > next) gaps.push(range(next, p.start - 1));
        next = p.end + 1;
      }
      if (next <= MAX_PORT) gaps.push(range(next, MAX_PORT));
      parts.push(`any ${protocol} port but ${gaps.join(', ')}`);
    } else {
      parts.push(mine.map((p) => `${range(p.start, p.end)}/${protocol}`).join(', '));
    }
  }
  return parts.join(', ');
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

/** One line per group: `- 12 pods in tenant-a can no longer reach payments/api on 443/TCP, decided by …`. */
export function describeGroup(g: ChangeGroup, ctx: ReportContext): string {
  const to = g.to.kind === 'address' ? g.to.ip : describePods(g.to, ctx);
  const same = g.to.kind === 'pods' && g.to.namespace === g.from.namespace && g.to.pods.join(',') === g.from.pods.join(',') && g.from.pods.length > 1;
  const verb = g.change === 'denied' ? 'can no longer reach' : 'can now reach';
  const whom = same ? `${describePods(g.from, ctx)} ${verb} each other` : `${describePods(g.from, ctx)} ${verb} ${to}`;
  return `${g.change === 'denied' ? '-' : '+'} ${whom} on ${describePorts(g.ports)}, decided by ${describeOutcome(g.after)} (before: ${describeOutcome(g.before)})`;
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
  const scope = `${impact.stats.pods} pods in ${impact.stats.classes} classes; ${describePolicyChanges(policyChanges)}`;
  if (groups.length === 0) return `No connection changes verdict (${scope}).`;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${plural(groups.length, 'change', 'changes')}: ${plural(denied, 'connection', 'connections')} newly denied, ${allowed} newly allowed (${scope}).`;
}
