// The Calico shapes this translator writes: the subset of Tier, GlobalNetworkPolicy and
// GlobalNetworkSet it uses (reference/calico.md §2, §3). The two API groups share the spec layout.

export type CalicoApi = 'projectcalico.org/v3' | 'crd.projectcalico.org/v1';
export const CALICO_APIS: readonly CalicoApi[] = ['projectcalico.org/v3', 'crd.projectcalico.org/v1'];

export type CalicoAction = 'Allow' | 'Deny' | 'Pass';
export type CalicoProtocol = 'TCP' | 'UDP' | 'SCTP';
export type PolicyType = 'Ingress' | 'Egress';

/** A port as Calico writes it: a number, `"start:end"` (inclusive), or a container port name. */
export type CalicoPort = number | string;

export interface EntityRule {
  readonly nets?: readonly string[];
  readonly selector?: string;
  readonly namespaceSelector?: string;
  readonly ports?: readonly CalicoPort[];
}

export interface CalicoRule {
  readonly action: CalicoAction;
  readonly protocol?: CalicoProtocol;
  readonly source?: EntityRule;
  readonly destination?: EntityRule;
  readonly metadata?: { readonly annotations: Readonly<Record<string, string>> };
}

export interface GlobalNetworkPolicySpec {
  readonly tier: string;
  readonly order: number;
  readonly selector: string;
  readonly namespaceSelector: string;
  readonly types: readonly PolicyType[];
  readonly ingress?: readonly CalicoRule[];
  readonly egress?: readonly CalicoRule[];
}

export interface TierSpec {
  readonly order: number;
  readonly defaultAction: 'Pass' | 'Deny';
}

export interface GlobalNetworkSetSpec {
  readonly nets: readonly string[];
}
