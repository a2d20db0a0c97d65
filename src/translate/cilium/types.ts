// The CiliumClusterwideNetworkPolicy shapes this translator writes (cilium.io/v2; the
// subset of reference/cilium.md §2 it uses).

export interface CiliumSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

export interface PortProtocol {
  readonly port: string;
  readonly endPort?: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP' | 'ANY';
}

/** One ingress/egress (allow or deny) rule: one peer kind, optional ports or ICMP. */
export type CiliumRule = Readonly<Record<string, unknown>>;

export interface CiliumSpec {
  readonly description: string;
  readonly endpointSelector: CiliumSelector;
  readonly ingress?: readonly CiliumRule[];
  readonly ingressDeny?: readonly CiliumRule[];
  readonly egress?: readonly CiliumRule[];
  readonly egressDeny?: readonly CiliumRule[];
  readonly enableDefaultDeny: { readonly ingress: false; readonly egress: false };
}
