import type { PortMatch, Rule, Snapshot } from '../../../src/api/model.js';
import { translateCalico } from '../../../src/translate/calico/index.js';
import type { KubeObject as Translated } from '../../../src/translate/types.js';
import type { KubeObject } from '../../harness/client.js';

// Deliberate translator bugs, applied to `translate` output, each with the same change made to
// the ClusterNetworkPolicies so the reference evaluator can say which probes the bug must break.

export interface Mutation {
  readonly name: string;
  /** The bug: what a broken translator would have written for the snapshot. */
  readonly objects: (snapshot: Snapshot) => KubeObject[];
  /** The same change in CNP terms, for predicting the probes it breaks. */
  readonly policies: (snapshot: Snapshot) => Snapshot;
}

interface CalicoRule {
  action?: string;
  destination?: { ports?: (number | string)[] };
}

const clone = (objects: readonly Translated[]): KubeObject[] => JSON.parse(JSON.stringify(objects)) as KubeObject[];

/** What the translator writes for the snapshot, in the form the lab applies (no bug). */
export function calicoObjects(snapshot: Snapshot): KubeObject[] {
  return clone(translateCalico(snapshot, { api: 'crd.projectcalico.org/v1' }).objects);
}

function mapRules(out: KubeObject[], f: (r: CalicoRule) => void): KubeObject[] {
  for (const o of out) {
    if (o.kind !== 'GlobalNetworkPolicy') continue;
    const spec = o['spec'] as { ingress?: CalicoRule[]; egress?: CalicoRule[] };
    for (const r of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) f(r);
  }
  return out;
}

function mapCnpRules(s: Snapshot, f: (r: Rule) => Rule): Snapshot {
  return { ...s, policies: s.policies.map((p) => ({ ...p, ingress: p.ingress.map(f), egress: p.egress.map(f) })) };
}

const up = (n: number): number => Math.min(65535, n + 1);

export const PASS_AS_ACCEPT: Mutation = {
  name: 'Pass translated as Allow',
  objects: (s) =>
    mapRules(calicoObjects(s), (r) => {
      if (r.action === 'Pass') r.action = 'Allow';
    }),
  policies: (s) => mapCnpRules(s, (r) => (r.action === 'Pass' ? { ...r, action: 'Accept' } : r)),
};

export const PORT_OFF_BY_ONE: Mutation = {
  name: 'every port one higher',
  objects: (s) =>
    mapRules(calicoObjects(s), (r) => {
      const ports = r.destination?.ports;
      if (ports === undefined) return;
      r.destination!.ports = ports.map((p) => {
        if (typeof p === 'number') return up(p);
        const range = /^(\d+):(\d+)$/.exec(p);
        return range === null ? p : `${up(Number(range[1]))}:${up(Number(range[2]))}`;
      });
    }),
  policies: (s) =>
    mapCnpRules(s, (r) => ({
      ...r,
      ...(r.ports === undefined ? {} : { ports: r.ports.map((m): PortMatch => (m.kind === 'range' ? { ...m, start: up(m.start), end: up(m.end) } : m)) }),
    })),
};
