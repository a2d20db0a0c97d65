package main

import "encoding/json"

// The one JSON document the engine reads on stdin (test/engines/cilium/engine.ts writes it).

// Agent is the part of cilium-config (and its version) that changes what the agent accepts
// or how it decides.
type Agent struct {
	// AgentVersion is the minor release to emulate ("1.16" … "1.20"). The engine is 1.20.2's
	// code; older releases differ in the few places profile() lists.
	AgentVersion              string   `json:"agentVersion"`
	EnableNodeSelectorLabels  bool     `json:"enableNodeSelectorLabels"`
	PolicyDefaultLocalCluster bool     `json:"policyDefaultLocalCluster"`
	PolicyCIDRMatchMode       []string `json:"policyCidrMatchMode"`
	// Labels is the identity label filter (`labels` in cilium-config), added to the defaults.
	Labels     []string `json:"labels"`
	NodeLabels []string `json:"nodeLabels"`
	// AllowLocalhost: "always" (what "auto" means in Kubernetes mode) or "policy".
	AllowLocalhost               string `json:"allowLocalhost"`
	EnableNonDefaultDenyPolicies *bool  `json:"enableNonDefaultDenyPolicies"`
	ClusterName                  string `json:"clusterName"`
}

type Namespace struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

type ContainerPort struct {
	Name     string `json:"name"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

type Pod struct {
	Namespace      string            `json:"namespace"`
	Name           string            `json:"name"`
	Labels         map[string]string `json:"labels"`
	IPs            []string          `json:"ips"`
	NodeName       string            `json:"nodeName"`
	HostNetwork    bool              `json:"hostNetwork"`
	ServiceAccount string            `json:"serviceAccount"`
	Ports          []ContainerPort   `json:"ports"`
}

type Node struct {
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels"`
	Addresses []string          `json:"addresses"`
}

type Cluster struct {
	Namespaces []Namespace `json:"namespaces"`
	Pods       []Pod       `json:"pods"`
	Nodes      []Node      `json:"nodes"`
}

// Endpoint is one end of a flow: a pod ("namespace/name") or an address.
type Endpoint struct {
	Pod string `json:"pod,omitempty"`
	IP  string `json:"ip,omitempty"`
}

type Flow struct {
	From     Endpoint `json:"from"`
	To       Endpoint `json:"to"`
	Protocol string   `json:"protocol"`
	Port     uint16   `json:"port"`
}

type Input struct {
	Agent           Agent             `json:"agent"`
	Cluster         Cluster           `json:"cluster"`
	NetworkPolicies []json.RawMessage `json:"networkPolicies"`
	// CCNPs are CiliumClusterwideNetworkPolicy objects (what the operator writes).
	CCNPs []json.RawMessage `json:"ccnps"`
	// CNPs are ClusterNetworkPolicy objects for Cilium's own support (1.20 only).
	CNPs []json.RawMessage `json:"cnps"`
	// DNS maps domain names to the addresses the DNS proxy saw in answers (toFQDNs).
	DNS   map[string][]string `json:"dns"`
	Flows []Flow              `json:"flows"`
}

type Rejected struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Error string `json:"error"`
}

// Verdict per direction: "allow" or "deny", and the labels of the rules behind it.
type Verdict struct {
	Egress      string `json:"egress"`
	Ingress     string `json:"ingress"`
	EgressRule  string `json:"egressRule,omitempty"`
	IngressRule string `json:"ingressRule,omitempty"`
}

type Output struct {
	Rejected []Rejected `json:"rejected"`
	Verdicts []Verdict  `json:"verdicts"`
	// SelectedBy lists, per pod ("namespace/name"), the objects ("kind/name") with a rule
	// whose subject selects the pod's identity.
	SelectedBy map[string][]string `json:"selectedBy"`
	// Identities: each pod's identity labels (source:key=value), as policies see them.
	Identities map[string][]string `json:"identities"`
}
