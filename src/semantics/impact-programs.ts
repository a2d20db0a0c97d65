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

// What each policy asks, per direction, in atoms (classes-atoms.ts), named ports and port
// breakpoints (impact-ports.ts); and a pod class's "program" for a direction: the policies
// the evaluator consults when a pod of that class is the subject, in the evaluator's order.
// The evaluator consults nothing else about the subject (evaluate.ts: policiesFor, the
// NetworkPolicy stage's `isolating`), so two subjects with equal programs (and equal named
// ports on the ingress side) get equal verdicts for equal peers, ports and protocols.

export interface DirectionFacts {
  /** Content number shared by both snapshots: equal numbers, equal content (names, priority, rules). */
  readonly fingerprint: number;
  /** Atoms its rules ask about the other end of the flow. */
  readonly peerAtoms: readonly number[];
  /** Named ports its rules resolve on the destination. */
  readonly names: readonly string[];
  readonly breakpoints: Breakpoints;
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

/** The policies a subject's direction consults, and what they ask. */
export interface Program {
  /** Equal keys, equal content: the same verdicts for the same peers and ports. */
  readonly key: string;
  readonly direction: Direction;
  /** A host-network subject: no policy applies (evaluate.ts exempts it). */
  readonly exempt: boolean;
  /** The ClusterNetworkPolicies selecting the subject (both tiers). */
  readonly policies: readonly Policy[];
  /** The NetworkPolicies isolating the subject for this direction, in snapshot order. */
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly peerAtoms: readonly number[];
  readonly names: readonly string[];
  readonly breakpoints: Breakpoints;
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
    const atoms = new Set<number>();
    const names = new Set<string>();
    const points = new BreakpointSet();
    for (const rule of rules) {
      for (const peer of rule.peers) {
        // `all` and `domainNames` answer the same for every peer (evaluate.ts: peerMatches).
        if (peer.kind === 'pods') atoms.add(this.table.intern({ kind: 'podSet', set: peer.pods }));
        else if (peer.kind === 'nodes') atoms.add(this.table.intern({ kind: 'nodes', nodes: peer.nodes }));
        else if (peer.kind === 'networks') atoms.add(this.table.intern({ kind: 'cidrs', cidrs: peer.cidrs }));
      }
      for (const port of rule.ports ?? []) {
        if (port.kind === 'range') points.addRange(port.protocol, port.start, port.end);
        else names.add(port.name);
      }
    }
    for (const n of names) this.names.add(n);
    // Everything the trace of a decision shows: name, tier, priority and the direction's rules.
    const content = json({ cnp: policy.name, tier: policy.tier, priority: policy.priority, direction, rules });
    return { fingerprint: this.fingerprint(content), peerAtoms: [...atoms], names: [...names], breakpoints: points.build() };
  }

  private npDirection(np: NetworkPolicy, direction: Direction): DirectionFacts {
    const rules: readonly NetworkPolicyRule[] = direction === 'egress' ? np.egress : np.ingress;
    const atoms = new Set<number>();
    const names = new Set<string>();
    const points = new BreakpointSet();
    for (const rule of rules) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind === 'ipBlock') atoms.add(this.table.intern({ kind: 'ipBlock', cidr: peer.cidr, except: peer.except }));
        else if (peer.namespaces === undefined) atoms.add(this.table.intern({ kind: 'npLocalPeer', namespace: np.namespace, pods: peer.pods }));
        else atoms.add(this.table.intern({ kind: 'podSet', set: { namespaces: peer.namespaces, pods: peer.pods } }));
      }
      for (const port of rule.ports ?? []) {
        // No port: the whole protocol, which the per-protocol evaluation already separates.
        if (port.port === undefined) continue;
        if (typeof port.port === 'string') names.add(port.port);
        else points.addRange(port.protocol, port.port, port.endPort ?? port.port);
      }
    }
    for (const n of names) this.names.add(n);
    const content = json({ np: `${np.namespace}/${np.name}`, direction, rules });
    return { fingerprint: this.fingerprint(content), peerAtoms: [...atoms], names: [...names], breakpoints: points.build() };
  }
}

/** Programs of one side, shared by every class that selects the same policies. */
export class ProgramCache {
  private readonly programs = new Map<string, Program>();

  constructor(private readonly side: SideFacts) {}

  /** The program of a subject whose atoms are `holds`. */
  programFor(holds: Uint8Array, hostNetwork: boolean, direction: Direction): Program {
    const pick = (list: readonly CnpFacts[]) => list.filter((f) => holds[f.subject] === 1);
    const admin = pick(this.side.admin);
    const baseline = pick(this.side.baseline);
    const nps = this.side.networkPolicies.filter((f) => f[direction] !== undefined && holds[f.subject] === 1);
    const facts: DirectionFacts[] = [...admin.map((f) => f[direction]), ...nps.map((f) => f[direction]!), ...baseline.map((f) => f[direction])];
    const key = hostNetwork
      ? `${direction} exempt`
      : `${direction} A${admin.map((f) => f[direction].fingerprint).join(',')} N${nps.map((f) => f[direction]!.fingerprint).join(',')} B${baseline.map((f) => f[direction].fingerprint).join(',')}`;
    const hit = this.programs.get(key);
    if (hit !== undefined) return hit;
    const program: Program = hostNetwork
      ? { key, direction, exempt: true, policies: [], networkPolicies: [], peerAtoms: [], names: [], breakpoints: new BreakpointSet().build() }
      : {
          key,
          direction,
          exempt: false,
          policies: [...admin, ...baseline].map((f) => f.policy),
          networkPolicies: nps.map((f) => f.policy),
          peerAtoms: [...new Set(facts.flatMap((f) => f.peerAtoms))].sort((a, b) => a - b),
          names: [...new Set(facts.flatMap((f) => f.names))].sort(),
          breakpoints: facts.reduce((set, f) => set.addAll(f.breakpoints), new BreakpointSet()).build(),
        };
    this.programs.set(key, program);
    return program;
  }
}
