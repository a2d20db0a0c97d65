import { PROTOCOLS, type Protocol, type Snapshot } from '../../src/api/model.js';
import { Evaluator } from '../../src/semantics/evaluate.js';
import type { Flow, FlowResult } from '../../src/semantics/flow.js';
import { decisionKey, type AddressTarget } from '../../src/semantics/impact.js';
import { podsOf, type ChangeGroup } from '../../src/semantics/impact-report.js';

// The oracle for `diff`: the reference evaluator, pod by pod and port by port, on both
// snapshots; and the reading of `diff`'s groups back into single flows.

export interface ProbePort {
  readonly port: number;
  readonly protocol: Protocol;
}

/** `from>to>PROTOCOL/port`, where from and to are `namespace/name` or an address. */
export type FlowKey = string;

export const flowKey = (from: string, to: string, protocol: Protocol, port: number): FlowKey => `${from}>${to}>${protocol}/${port}`;

/** What a changed flow's verdict was and became, and what decided it (outcomeKey's form). */
export interface FlowChange {
  readonly after: 'allow' | 'deny';
  readonly before: string;
  readonly decided: string;
}

function changeOf(r0: FlowResult, r1: FlowResult): FlowChange | undefined {
  if (r0.verdict === r1.verdict) return undefined;
  const moved = (['egress', 'ingress'] as const).filter((d) => r0[d].verdict !== r1[d].verdict);
  const key = (r: FlowResult) => moved.map((d) => `${d}/${decisionKey(r[d].trace[r[d].trace.length - 1]!)}`).join('+');
  return { after: r1.verdict, before: key(r0), decided: key(r1) };
}

/** Every flow between two pods both snapshots have, on the given ports, whose verdict differs. */
export function bruteForce(before: Snapshot, after: Snapshot, ports: readonly ProbePort[], addresses: readonly AddressTarget[] = []): Map<FlowKey, FlowChange> {
  const ev = [new Evaluator(before), new Evaluator(after)] as const;
  const afterPods = new Set(after.pods.map((p) => `${p.namespace}/${p.name}`));
  const pods = before.pods.filter((p) => afterPods.has(`${p.namespace}/${p.name}`)).map((p) => ({ kind: 'pod' as const, namespace: p.namespace, name: p.name }));
  const out = new Map<FlowKey, FlowChange>();
  const check = (flow: Flow, from: string, to: string) => {
    const c = changeOf(ev[0].evaluate(flow), ev[1].evaluate(flow));
    if (c !== undefined) out.set(flowKey(from, to, flow.protocol, flow.port), c);
  };
  for (const from of pods) {
    for (const to of pods) {
      for (const { port, protocol } of ports) check({ from, to, port, protocol }, `${from.namespace}/${from.name}`, `${to.namespace}/${to.name}`);
    }
    for (const a of addresses) check({ from, to: { kind: 'ip', ip: a.ip }, port: a.port, protocol: a.protocol }, `${from.namespace}/${from.name}`, a.ip);
  }
  return out;
}

/** Whether a group covers a port. */
const covers = (g: ChangeGroup, protocol: Protocol, port: number) => g.ports.some((p) => p.protocol === protocol && p.start <= port && port <= p.end);

/** The single flows `diff` reports among `probes` (pairs of endpoints × ports), as the oracle writes them. */
export function reported(groups: readonly ChangeGroup[], probes: readonly { from: string; to: string; port: number; protocol: Protocol }[]): Map<FlowKey, FlowChange> {
  const byPair = new Map<string, ChangeGroup[]>();
  for (const g of groups) {
    const tos = g.to.kind === 'address' ? [g.to.ip] : podsOf(g.to.classes);
    for (const from of podsOf(g.from, g.except)) {
      for (const to of tos) {
        if (to === from) continue; // a pod to itself is never in a group's connections
        const key = `${from}>${to}`;
        byPair.set(key, [...(byPair.get(key) ?? []), g]);
      }
    }
  }
  const out = new Map<FlowKey, FlowChange>();
  for (const p of probes) {
    const hits = (byPair.get(`${p.from}>${p.to}`) ?? []).filter((g) => covers(g, p.protocol, p.port));
    if (hits.length > 1) throw new Error(`${flowKey(p.from, p.to, p.protocol, p.port)} is in ${hits.length} groups`);
    const g = hits[0];
    if (g === undefined) continue;
    const key = (o: ChangeGroup['after']) => o.decidedBy.map((d) => `${d.direction}/${decisionKey(d.step)}`).join('+');
    out.set(flowKey(p.from, p.to, p.protocol, p.port), { after: g.after.verdict, before: key(g.before), decided: key(g.after) });
  }
  return out;
}

/** Every (port, protocol) worth probing: each number the snapshots write, and its neighbours, on every protocol. */
export function portsWritten(snapshots: readonly Snapshot[], extra: readonly number[] = []): ProbePort[] {
  const numbers = new Set<number>([1, 65535, ...extra]);
  const add = (n: number) => [n - 1, n, n + 1].forEach((m) => m >= 1 && m <= 65535 && numbers.add(m));
  for (const s of snapshots) {
    for (const p of s.policies) {
      for (const r of [...p.ingress, ...p.egress]) for (const m of r.ports ?? []) if (m.kind === 'range') [m.start, m.end].forEach(add);
    }
    for (const np of s.networkPolicies) {
      for (const r of [...np.ingress, ...np.egress]) {
        for (const m of r.ports ?? []) {
          if (typeof m.port === 'number') add(m.port);
          if (m.endPort !== undefined) add(m.endPort);
        }
      }
    }
    for (const pod of s.pods) for (const cp of pod.ports) add(cp.port);
  }
  return [...numbers].sort((a, b) => a - b).flatMap((port) => PROTOCOLS.map((protocol) => ({ port, protocol })));
}
