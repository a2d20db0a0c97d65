import { parseIp } from '../api/ip.js';
import type { ContainerPort, Namespace, Node, Pod, Snapshot } from '../api/model.js';
import { selectorMatches } from '../api/selector.js';
import { atomHolds, isAddressAtom, type AtomTable } from './classes-atoms.js';
import { ipKey } from './cluster.js';

// Pods fall into equivalence classes: two pods are in one class when, in the snapshot before
// and in the one after a change, they answer every atom alike (classes-atoms.ts), have the same
// host-network flag and the same container ports under every name a policy resolves. The
// evaluator learns nothing else about a pod (its name only tells it apart from the other end of
// a flow: a pod connecting to itself is exempt), so for any other pod and any port, every member
// of a class gets the same verdict from the same policy rule, as subject or as peer. Replicas of
// a workload share a class, and so do namespaces no selector tells apart.

export interface ClassSide {
  /** The members as this snapshot has them, in the order of `PodClass.members`. */
  readonly pods: readonly Pod[];
  /** The answer to every atom, by atom number (1 = holds). */
  readonly holds: Uint8Array;
  readonly hostNetwork: boolean;
  /** Container ports under a name some policy resolves (none for host-network pods, whose named ports never match). */
  readonly named: readonly ContainerPort[];
}

export interface PodClass {
  readonly id: number;
  /** `namespace/name` of each member, the first being the class's representative. */
  readonly members: readonly string[];
  /** Index 0: the snapshot before; 1: the snapshot after. */
  readonly sides: readonly [ClassSide, ClassSide];
}

export interface Partition {
  readonly classes: readonly PodClass[];
  readonly classOf: ReadonlyMap<string, PodClass>;
  /** Pods that exist in only one snapshot: they have no connections to compare, and are left out. */
  readonly onlyBefore: readonly string[];
  readonly onlyAfter: readonly string[];
}

interface Answer {
  readonly key: string;
  readonly atoms: readonly number[];
  readonly named: readonly ContainerPort[];
}

export const podKey = (pod: Pod): string => `${pod.namespace}/${pod.name}`;

const labelsKey = (labels: Readonly<Record<string, string>>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');

/** Every pod's answers in one snapshot, computed once per distinct labels and once per distinct address. */
function answers(snapshot: Snapshot, table: AtomTable, names: ReadonlySet<string>): Map<string, Answer> {
  const namespaces = new Map<string, Namespace>(snapshot.namespaces.map((n) => [n.name, n]));
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
  const podSets: number[] = [];
  const local = new Map<string, number[]>();
  const address: number[] = [];
  table.atoms.forEach((atom, id) => {
    if (isAddressAtom(atom)) address.push(id);
    else if (atom.kind === 'podSet') podSets.push(id);
    else if (atom.kind === 'npSubject' || atom.kind === 'npLocalPeer') local.set(atom.namespace, [...(local.get(atom.namespace) ?? []), id]);
  });
  // Which pod-set atoms a namespace's labels satisfy, asked once per namespace.
  const byNamespace = new Map<string, number[]>();
  const inNamespace = (ns: Namespace): number[] => {
    let ids = byNamespace.get(ns.name);
    if (ids === undefined) {
      ids = podSets.filter((id) => {
        const atom = table.atoms[id]!;
        return atom.kind === 'podSet' && selectorMatches(atom.set.namespaces, ns.labels);
      });
      byNamespace.set(ns.name, ids);
    }
    return ids;
  };
  const labelMemo = new Map<string, number[]>();
  const addressMemo = new Map<string, number[]>();
  const out = new Map<string, Answer>();
  for (const pod of snapshot.pods) {
    const namespace = namespaces.get(pod.namespace);
    const lk = `${pod.namespace}\u0001${pod.hostNetwork}\u0001${labelsKey(pod.labels)}`;
    let labelIds = labelMemo.get(lk);
    if (labelIds === undefined) {
      const view = { pod, namespace, ip: undefined, nodes: [] };
      const candidates = [...(pod.hostNetwork || namespace === undefined ? [] : inNamespace(namespace)), ...(local.get(pod.namespace) ?? [])];
      labelIds = candidates.filter((id) => atomHolds(table.atoms[id]!, view)).sort((a, b) => a - b);
      labelMemo.set(lk, labelIds);
    }
    const ipText = pod.ips[0] ?? '';
    let addressIds = addressMemo.get(ipText);
    if (addressIds === undefined) {
      const ip = ipText === '' ? undefined : parseIp(ipText);
      const view = { pod, namespace, ip, nodes: ip === undefined ? [] : (nodesByIp.get(ipKey(ip)) ?? []) };
      addressIds = address.filter((id) => atomHolds(table.atoms[id]!, view));
      addressMemo.set(ipText, addressIds);
    }
    const named = pod.hostNetwork
      ? []
      : pod.ports.filter((p) => p.name !== undefined && names.has(p.name)).sort((a, b) => (`${a.name}/${a.protocol}/${a.port}` < `${b.name}/${b.protocol}/${b.port}` ? -1 : 1));
    const key = `${pod.hostNetwork ? 'H' : 'P'}|${labelIds.join(',')}|${addressIds.join(',')}|${named.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',')}`;
    out.set(podKey(pod), { key, atoms: [...labelIds, ...addressIds], named });
  }
  return out;
}

/** Partitions the pods both snapshots have into classes (see above); atoms and names must be complete. */
export function partitionPods(before: Snapshot, after: Snapshot, table: AtomTable, names: ReadonlySet<string>): Partition {
  const sides = [before, after] as const;
  const podMaps = sides.map((s) => new Map(s.pods.map((p) => [podKey(p), p])));
  const answerMaps = sides.map((s) => answers(s, table, names));
  const groups = new Map<string, string[]>();
  const onlyBefore: string[] = [];
  for (const pod of before.pods) {
    const key = podKey(pod);
    const a0 = answerMaps[0]!.get(key)!;
    const a1 = answerMaps[1]!.get(key);
    if (a1 === undefined) {
      onlyBefore.push(key);
      continue;
    }
    const classKey = `${a0.key}#${a1.key}`;
    const list = groups.get(classKey);
    if (list === undefined) groups.set(classKey, [key]);
    else list.push(key);
  }
  const onlyAfter = after.pods.map(podKey).filter((k) => !podMaps[0]!.has(k));
  const classes: PodClass[] = [];
  const classOf = new Map<string, PodClass>();
  for (const members of groups.values()) {
    const side = (i: 0 | 1): ClassSide => {
      const answer = answerMaps[i]!.get(members[0]!)!;
      const holds = new Uint8Array(table.size);
      for (const id of answer.atoms) holds[id] = 1;
      const pods = members.map((m) => podMaps[i]!.get(m)!);
      return { pods, holds, hostNetwork: pods[0]!.hostNetwork, named: answer.named };
    };
    const cls: PodClass = { id: classes.length, members, sides: [side(0), side(1)] };
    classes.push(cls);
    for (const m of members) classOf.set(m, cls);
  }
  return { classes, classOf, onlyBefore, onlyAfter };
}
