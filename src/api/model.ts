// The normalised model every other module works on. Parsing and validation turn
// the API objects (src/api/types.ts) into this shape; evaluators and translators
// never look at raw YAML again.

export type Tier = 'Admin' | 'Baseline';
export type Action = 'Accept' | 'Deny' | 'Pass';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type Direction = 'ingress' | 'egress';

export const TIERS: readonly Tier[] = ['Admin', 'Baseline'];
export const ACTIONS: readonly Action[] = ['Accept', 'Deny', 'Pass'];
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
export const DIRECTIONS: readonly Direction[] = ['ingress', 'egress'];

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** One label requirement. `matchLabels: {k: v}` becomes `{key: k, operator: 'In', values: [v]}`. */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** Sorted, de-duplicated; empty for Exists/DoesNotExist. */
  readonly values: readonly string[];
}

/** A label selector as a conjunction of requirements; no requirements selects everything. */
export interface Selector {
  readonly requirements: readonly Requirement[];
}

/** A set of pods: those in namespaces matching `namespaces` whose labels match `pods`. */
export interface PodSet {
  readonly namespaces: Selector;
  readonly pods: Selector;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** Canonical text, host bits cleared, e.g. `10.0.0.0/8`, `2001:db8::/32`. */
  readonly text: string;
  readonly prefix: number;
  /** Network address as an integer (32 or 128 bits). */
  readonly address: bigint;
}

export type Peer =
  /** From `namespaces` (pods = everything) or `pods`; never matches host-network pods. */
  | { readonly kind: 'pods'; readonly pods: PodSet }
  | { readonly kind: 'nodes'; readonly nodes: Selector }
  | { readonly kind: 'networks'; readonly cidrs: readonly Cidr[] }
  | { readonly kind: 'domainNames'; readonly names: readonly string[] }
  /** Matches every source or destination; only produced by fail-closed normalisation. */
  | { readonly kind: 'all' };

/** Traffic to a port interval of one protocol (a single port has start === end). */
export interface PortRange {
  readonly kind: 'range';
  readonly protocol: Protocol;
  readonly start: number;
  readonly end: number;
}

/** A container port name, resolved on the destination pod. */
export interface NamedPort {
  readonly kind: 'named';
  readonly name: string;
}

export type PortMatch = PortRange | NamedPort;

export interface Rule {
  /** Position in the policy's ingress or egress list. */
  readonly index: number;
  /** The rule's `name`, or undefined when it has none. */
  readonly name: string | undefined;
  /** The action to enforce (a fail-closed Pass becomes Deny). */
  readonly action: Action;
  readonly peers: readonly Peer[];
  /** undefined: every protocol and port (including ICMP and anything else). */
  readonly ports: readonly PortMatch[] | undefined;
  /** Set when the written rule could not be understood and was replaced by its fail-closed form. */
  readonly failClosed?: string;
}

export interface Policy {
  readonly name: string;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
  readonly tier: Tier;
  readonly priority: number;
  readonly subject: PodSet;
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
}

// ---- NetworkPolicy (networking.k8s.io/v1) ----

export type NetworkPolicyPeer =
  | {
      readonly kind: 'pods';
      /** undefined: the policy's own namespace. */
      readonly namespaces: Selector | undefined;
      readonly pods: Selector;
    }
  | { readonly kind: 'ipBlock'; readonly cidr: Cidr; readonly except: readonly Cidr[] };

export interface NetworkPolicyPort {
  readonly protocol: Protocol;
  /** undefined: every port of the protocol. */
  readonly port: number | string | undefined;
  readonly endPort: number | undefined;
}

export interface NetworkPolicyRule {
  /** undefined: every peer (the rule has no from/to). */
  readonly peers: readonly NetworkPolicyPeer[] | undefined;
  /** undefined: every port. */
  readonly ports: readonly NetworkPolicyPort[] | undefined;
}

export interface NetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: Selector;
  /** The directions this policy isolates. */
  readonly policyTypes: readonly Direction[];
  readonly ingress: readonly NetworkPolicyRule[];
  readonly egress: readonly NetworkPolicyRule[];
}

// ---- cluster objects ----

export interface Namespace {
  readonly name: string;
  /** Includes `kubernetes.io/metadata.name`, which the API server adds. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerPort {
  readonly name: string | undefined;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly hostNetwork: boolean;
  readonly nodeName: string | undefined;
  /** Pod IPs; for a host-network pod, its node's IPs. */
  readonly ips: readonly string[];
  readonly ports: readonly ContainerPort[];
}

export interface Node {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** InternalIP and ExternalIP addresses. */
  readonly addresses: readonly string[];
}

/** Everything policy depends on, as of one moment. */
export interface Snapshot {
  readonly policies: readonly Policy[];
  readonly networkPolicies: readonly NetworkPolicy[];
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly nodes: readonly Node[];
}

export const EMPTY_SELECTOR: Selector = { requirements: [] };
export const ALL_PODS: PodSet = { namespaces: EMPTY_SELECTOR, pods: EMPTY_SELECTOR };

/** Policies in evaluation order: priority, then name (our documented tie-break). */
export function comparePolicies(a: Policy, b: Policy): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
