import type { Direction } from '../api/model.js';

/** A Kubernetes object as the translators emit it (plain JSON, ready for server-side apply). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly OwnerReference[];
  };
  readonly spec?: unknown;
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/**
 * Why a backend does not enforce a policy exactly. Every finding fails closed:
 * `effect` says how (an Accept matching less, or a Deny/Pass matching more).
 */
export type FindingKind =
  | 'unsupported-peer' // e.g. domainNames on Calico open source
  | 'unsupported-field' // the rule was not understood and was replaced by its fail-closed form
  | 'cidr-covers-pods' // a CIDR that contains some but not all pod IPs (Cilium)
  | 'unselectable-label' // a label the backend leaves out of identities (Cilium)
  | 'node-peer-local' // node peers and same-node traffic (Cilium)
  | 'node-peer-empty' // a nodes peer that selects no node now: it matches nothing (informational)
  | 'native' // where the CNI's own CNP enforcement departs from the API (measured facts: src/translate/native.ts)
  | 'size-limit' // the compiled output would exceed the configured bound
  | 'named-port' // a named port Cilium cannot resolve per destination (egress, up to Cilium 1.19)
  | 'ambiguous-order' // equal priority with overlapping subjects: we order by name
  | 'port-complement'; // "all traffic except these ports": only TCP, UDP, SCTP and ICMP echo can be named (Cilium)

export type FindingEffect =
  /** The rule allows less than written (it may deny traffic the policy accepts). */
  | 'accept-narrowed'
  /** The rule denies more than written. */
  | 'deny-widened'
  /**
   * The rule denies less than written: traffic without ports other than ICMP echo (other
   * ICMP types, GRE, ESP, …) is not denied. The one approximation that is not fail-closed;
   * always reported, never silent.
   */
  | 'deny-narrowed'
  /**
   * The rule allows more than written: traffic the policy denies (or leaves to a NetworkPolicy)
   * is accepted. Only ever reported for a CNI's own enforcement, which the operator does not write.
   */
  | 'accept-widened'
  /** Nothing is enforced differently; the finding is informational. */
  | 'none';

export interface Finding {
  readonly policy: string;
  readonly direction?: Direction;
  /** Index of the rule in the policy's ingress/egress list. */
  readonly ruleIndex?: number;
  readonly ruleName?: string;
  readonly kind: FindingKind;
  readonly effect: FindingEffect;
  readonly message: string;
}

export interface Translation {
  /** Sorted deterministically: same input, byte-identical output. */
  readonly objects: readonly KubeObject[];
  readonly findings: readonly Finding[];
}
