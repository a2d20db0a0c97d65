import type { Tier } from '../model.js';

// The ClusterNetworkPolicy objects the conversion writes, in the API's own shape
// (policy.networking.k8s.io/v1beta1), with their keys in a fixed order so output is byte-stable.

export const CNP_API_VERSION = 'policy.networking.k8s.io/v1beta1';

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NamespacedPodObject {
  namespaceSelector: LabelSelectorObject;
  podSelector: LabelSelectorObject;
}

export type SubjectObject = { namespaces: LabelSelectorObject } | { pods: NamespacedPodObject };

export type PeerObject =
  | { namespaces: LabelSelectorObject }
  | { pods: NamespacedPodObject }
  | { nodes: LabelSelectorObject }
  | { networks: string[] }
  | { domainNames: string[] };

export type PortObject = { number: number } | { range: { start: number; end: number } };

export type ProtocolObject =
  | { tcp: { destinationPort: PortObject } }
  | { udp: { destinationPort: PortObject } }
  | { sctp: { destinationPort: PortObject } }
  | { destinationNamedPort: string };

export type CnpAction = 'Accept' | 'Deny' | 'Pass';

export interface IngressRuleObject {
  name?: string;
  action: CnpAction;
  from: PeerObject[];
  protocols?: ProtocolObject[];
}

export interface EgressRuleObject {
  name?: string;
  action: CnpAction;
  to: PeerObject[];
  protocols?: ProtocolObject[];
}

export interface ClusterNetworkPolicyObject {
  apiVersion: typeof CNP_API_VERSION;
  kind: 'ClusterNetworkPolicy';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    tier: Tier;
    priority: number;
    subject: SubjectObject;
    ingress?: IngressRuleObject[];
    egress?: EgressRuleObject[];
  };
}
