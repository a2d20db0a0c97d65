import {
  comparePolicies,
  type Direction,
  type NetworkPolicy,
  type NetworkPolicyRule,
  type Policy,
  type Rule,
  type Snapshot,
} from '../api/model.js';
import type { AtomTable } from './classes-atoms.js';
import { BreakpointSet, type Breakpoints } from './impact-ports.js';

// What each policy asks, rule by rule, in atoms (classes-atoms.ts), named ports and port
// breakpoints (impact-ports.ts); and a pod class's "program" for a direction: the policies the
// evaluator consults when a pod of that class is the subject, as the evaluator's three stages
// (evaluate.ts: Admin CNPs, then isolating NetworkPolicies, then Baseline CNPs; the first stage
// that does not say `next` decides, and nothing deciding means allow). The evaluator consults
// nothing else about the subject (policiesFor and `isolating` are its only subject lookups),
// so two subjects with equal stages (and equal named ports on the ingress side, where the
// subject is the destination) get equal verdicts for equal peers, ports and protocols.

/** What one rule asks about the other end of a flow and about the port. */
export interface RuleFacts {
  /** The rule's peers: it can match only where one of these atoms holds (or `always`). */
  readonly atoms: readonly number[];
  /** A peer that matches everything (a fail-closed `all`, a NetworkPolicy rule without from/to). */
  readonly always: boolean;
  /** Named ports it resolves on the destination. */
  readonly names: readonly string[];
  readonly breakpoints: Breakpoints;
}

export interface DirectionFacts {
  /** Content number shared by both snapshots: equal numbers, equal content (names, priority, rules). */
  readonly fingerprint: number;
  readonly rules: readonly RuleFacts[];
}

export interface CnpFacts {
  readonly policy: Policy;
  readonly subject: number;
  readonly egress: DirectionFacts;
  readonly ingress: DirectionFacts;
}

export interface NpFacts {
  readonly policy: NetworkPolicy;
  readonly subject: number;
  /** Undefined where the policy does not isolate that direction (policyTypes). */
  readonly egress: DirectionFacts | undefined;
  readonly ingress: DirectionFacts | undefined;
}

/** One snapshot's policies in the evaluator's order, with their facts. */
export interface SideFacts {
  readonly admin: readonly CnpFacts[];
  readonly baseline: readonly CnpFacts[];
  /** In snapshot order, as the NetworkPolicy stage walks them. */
  readonly networkPolicies: readonly NpFacts[];
}

export type StageName = 'admin' | 'networkpolicy' | 'baseline';

/** One stage of a subject's direction: the policies it consults and what their rules ask. */
export interface Stage {
  /** Equal keys, equal content: the same answers for the same peers and ports. */
  readonly key: string;
  readonly name: StageName;
  readonly direction: Direction;
  /** No policy: the stage says `next` to everything. */
  readonly empty: boolean;
  /** The CNPs of the stage's tier selecting the subject (admin, baseline). */
  readonly policies: readonly Policy[];
  /** The NetworkPolicies isolating the subject for this direction, in snapshot order (networkpolicy). */
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly rules: readonly RuleFacts[];
  /** The rules by policy, in order (`rules` is their concatenation): one block per policy's direction. */
  readonly blocks: readonly DirectionFacts[];
  /** Every atom its rules ask about, sorted. */
  readonly atoms: readonly number[];
  /** Every named port its rules resolve, sorted. */
  readonly names: readonly string[];
}

/** A subject class's direction: exempt (host network), or its three stages in order. */
export interface Program {
  readonly direction: Direction;
  readonly exempt: boolean;
  readonly stages: readonly Stage[];
}

// Cidr addresses are bigints, which JSON cannot write.
const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Builds the facts of both snapshots over one atom table and one fingerprint numbering. */
export class FactsBuilder {
  /** Every named port any policy resolves, on either side. */
  readonly names = new Set<string>();
  private readonly fingerprints = new Map<string, number>();

  constructor(private readonly table: AtomTable) {}

  build(snapshot: Snapshot): SideFacts {
    const sorted = [...snapshot.policies].sort(comparePolicies);
    const cnp = (policy: Policy): CnpFacts => ({
      policy,
      subject: this.table.intern({ kind: 'podSet', set: policy.subject }),
      egress: this.cnpDirection(policy, 'egress'),
      ingress: this.cnpDirection(policy, 'ingress'),
    });
    return {
      admin: sorted.filter((p) => p.tier === 'Admin').map(cnp),
      baseline: sorted.filter((p) => p.tier === 'Baseline').map(cnp),
      networkPolicies: snapshot.networkPolicies.map((np) => ({
        policy: np,
        subject: this.table.intern({ kind: 'npSubject', namespace: np.namespace, pods: np.podSelector }),
        egress: np.policyTypes.includes('egress') ? this.npDirection(np, 'egress') : undefined,
        ingress: np.policyTypes.includes('ingress') ? this.npDirection(np, 'ingress') : undefined,
      })),
    };
  }

  private fingerprint(content: string): number {
    let id = this.fingerprints.get(content);
    if (id === undefined) this.fingerprints.set(content, (id = this.fingerprints.size));
    return id;
  }

  private cnpDirection(policy: Policy, direction: Direction): DirectionFacts {
    const rules: readonly Rule[] = direction === 'egress' ? policy.egress : policy.ingress;
    const facts = rules.map((rule): RuleFacts => {
      const atoms: number[] = [];
      let always = false;
      for (const peer of rule.peers) {
        // evaluate.ts, peerMatches: `all` matches every peer, `domainNames` none.
        // `nodes` and `networks` only ever match on egress (the destination's address).
        if (peer.kind === 'all') always = true;
        else if (peer.kind === 'pods') atoms.push(this.table.intern({ kind: 'podSet', set: peer.pods }));
        else if (peer.kind === 'nodes' && direction === 'egress') atoms.push(this.table.intern({ kind: 'nodes', nodes: peer.nodes }));
        else if (peer.kind === 'networks' && direction === 'egress') atoms.push(this.table.intern({ kind: 'cidrs', cidrs: peer.cidrs }));
      }
      const points = new BreakpointSet();
      const names: string[] = [];
      for (const port of rule.ports ?? []) {
        if (port.kind === 'range') points.addRange(port.protocol, port.start, port.end);
        else names.push(port.name);
      }
      for (const n of names) this.names.add(n);
      return { atoms, always, names, breakpoints: points.build() };
    });
    // Everything the trace of a decision shows: name, tier, priority and the direction's rules.
    const content = json({ cnp: policy.name, tier: policy.tier, priority: policy.priority, direction, rules });
    return { fingerprint: this.fingerprint(content), rules: facts };
  }

  private npDirection(np: NetworkPolicy, direction: Direction): DirectionFacts {
    const rules: readonly NetworkPolicyRule[] = direction === 'egress' ? np.egress : np.ingress;
    const facts = rules.map((rule): RuleFacts => {
      const atoms = (rule.peers ?? []).map((peer) =>
        peer.kind === 'ipBlock'
          ? this.table.intern({ kind: 'ipBlock', cidr: peer.cidr, except: peer.except })
          : peer.namespaces === undefined
            ? this.table.intern({ kind: 'npLocalPeer', namespace: np.namespace, pods: peer.pods })
            : this.table.intern({ kind: 'podSet', set: { namespaces: peer.namespaces, pods: peer.pods } }),
      );
      const points = new BreakpointSet();
      const names: string[] = [];
      for (const port of rule.ports ?? []) {
        // No port: the whole protocol, which the per-protocol evaluation already separates.
        if (port.port === undefined) continue;
        if (typeof port.port === 'string') names.push(port.port);
        else points.addRange(port.protocol, port.port, port.endPort ?? port.port);
      }
      for (const n of names) this.names.add(n);
      return { atoms, always: rule.peers === undefined, names, breakpoints: points.build() };
    });
    const content = json({ np: `${np.namespace}/${np.name}`, direction, rules });
    return { fingerprint: this.fingerprint(content), rules: facts };
  }
}

/** Programs of one side; stages are shared by every class that selects the same policies. */
export class ProgramCache {
  private readonly stages = new Map<string, Stage>();

  constructor(private readonly side: SideFacts) {}

  /** The program of a subject whose atoms are `holds`. */
  programFor(holds: Uint8Array, hostNetwork: boolean, direction: Direction): Program {
    if (hostNetwork) return { direction, exempt: true, stages: [] };
    // A CNP without rules in this direction never decides there: leaving it out changes no answer.
    const selected = (list: readonly CnpFacts[]) => list.filter((f) => holds[f.subject] === 1 && f[direction].rules.length > 0).map((f) => ({ policy: f.policy, facts: f[direction] }));
    const nps = this.side.networkPolicies.filter((f) => f[direction] !== undefined && holds[f.subject] === 1).map((f) => ({ policy: f.policy, facts: f[direction]! }));
    const admin = selected(this.side.admin);
    const baseline = selected(this.side.baseline);
    return {
      direction,
      exempt: false,
      stages: [
        this.stage('admin', direction, admin, []),
        this.stage('networkpolicy', direction, [], nps),
        this.stage('baseline', direction, baseline, []),
      ],
    };
  }

  private stage(
    name: StageName,
    direction: Direction,
    cnps: readonly { policy: Policy; facts: DirectionFacts }[],
    nps: readonly { policy: NetworkPolicy; facts: DirectionFacts }[],
  ): Stage {
    const all = [...cnps, ...nps];
    const key = `${name} ${direction} ${all.map((x) => x.facts.fingerprint).join(',')}`;
    const hit = this.stages.get(key);
    if (hit !== undefined) return hit;
    const rules = all.flatMap((x) => x.facts.rules);
    const stage: Stage = {
      key,
      name,
      direction,
      empty: all.length === 0,
      policies: cnps.map((x) => x.policy),
      networkPolicies: nps.map((x) => x.policy),
      rules,
      blocks: all.map((x) => x.facts),
      atoms: [...new Set(rules.flatMap((r) => r.atoms))].sort((a, b) => a - b),
      names: [...new Set(rules.flatMap((r) => r.names))].sort(),
    };
    this.stages.set(key, stage);
    return stage;
  }
}
