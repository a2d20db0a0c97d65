// Facts of the API the conversion reads: policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy and
// BaselineAdminNetworkPolicy as released in sigs.k8s.io/network-policy-api v0.1.x (the Go types of
// v0.1.1 and of the v0.3.0 module's apis/v1alpha1, and the v0.1.1 CRDs).

export const V1ALPHA1 = 'policy.networking.k8s.io/v1alpha1';
export const ANP_KIND = 'AdminNetworkPolicy';
export const BANP_KIND = 'BaselineAdminNetworkPolicy';
export type SourceKind = typeof ANP_KIND | typeof BANP_KIND;

/** The BANP CRD's CEL rule `self.metadata.name == 'default'`: the singleton's only possible name. */
export const BANP_NAME = 'default';

/** ANP `spec.priority`: `+kubebuilder:validation:Minimum=0`, `Maximum=1000` (every v0.1.x). */
export const ANP_PRIORITY_MIN = 0;
export const ANP_PRIORITY_MAX = 1000;

/** Actions by kind: BANP has no Pass. */
export const ANP_ACTIONS = ['Allow', 'Deny', 'Pass'] as const;
export const BANP_ACTIONS = ['Allow', 'Deny'] as const;

/** `Port.protocol` / `PortRange.protocol` are a core/v1 Protocol; the CRD defaults them to TCP. */
export const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export const DEFAULT_PORT_PROTOCOL = 'TCP';

/** v1alpha1 allows 100 rules, 100 peers and 100 ports per rule. */
export const V1ALPHA1_MAX_ITEMS = 100;

// Peer shapes. v0.1.0–v0.1.1: `namespaces: {namespaceSelector | sameLabels | notSameLabels}` and
// `pods: {namespaces: <that>, podSelector}`. Later v0.1.x: `namespaces: <LabelSelector>` and
// `pods: {namespaceSelector, podSelector}`, and egress `nodes`, `networks`, and (ANP only) `domainNames`.
// The two shapes never share a key, so each peer says which one it is written in.
export const NAMESPACED_PEER_KEYS = ['namespaceSelector', 'sameLabels', 'notSameLabels'] as const;
export const LABEL_SELECTOR_KEYS = ['matchLabels', 'matchExpressions'] as const;

export const INGRESS_PEER_KEYS = ['namespaces', 'pods'] as const;
export const ANP_EGRESS_PEER_KEYS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'] as const;
export const BANP_EGRESS_PEER_KEYS = ['namespaces', 'pods', 'nodes', 'networks'] as const;

export const PORT_KEYS = ['portNumber', 'namedPort', 'portRange'] as const;
