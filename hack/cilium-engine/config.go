package main

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/cilium/cilium/pkg/labels"
	"github.com/cilium/cilium/pkg/labelsfilter"
	"github.com/cilium/cilium/pkg/option"
	policyapi "github.com/cilium/cilium/pkg/policy/api"
)

// Profile is what differs between the agent release being emulated and the 1.20.2 code
// the engine runs. Everything else (parser, sanitiser, selector cache, repository, map
// state and its lookup) is 1.20.2's own code.
type Profile struct {
	Minor int
	// Up to 1.19 an egress named port resolves against one cluster-wide map (one number
	// per name and protocol, or none when pods disagree: pkg/endpoint/policy.go
	// getNamedPortEgress); from 1.20 per destination identity (pkg/policy/l4.go).
	ClusterWideEgressNamedPorts bool
	// From 1.20 a pod's named ports are part of its identity (k8s.NamedPortsIdentityLabels).
	NamedPortIdentityLabels bool
	// From 1.20, with node selector labels, the local host's identity carries its node
	// labels too (pkg/node/manager nodeIdentityLabels); before, only remote nodes did.
	HostNodeLabels bool
	// From 1.19 remote node identities carry k8s:io.cilium.k8s.policy.cluster.
	NodeClusterLabel bool
	// The default label filter gained `!topology\.kubernetes\.io` in 1.19
	// (pkg/labelsfilter defaultLabelPrefixCfg); 1.16–1.18 keep those labels.
	KeepTopologyLabels bool
	// Cilium's own ClusterNetworkPolicy support exists from 1.20.
	NativeCNP bool
	// Aggregate identities (pkg/policy/aggregate.go) exist from 1.20: the datapath also looks
	// a flow up by the peer's aggregate (all pods of the cluster, all CIDR identities, all
	// labelled remote nodes), and selectors can select an aggregate. Before, they are not in
	// the selector cache, so only the wildcard uses them (as the old all-identities entry).
	Aggregates bool
}

func profile(version string) (Profile, error) {
	var minor int
	if _, err := fmt.Sscanf(version, "1.%d", &minor); err != nil || minor < 16 || minor > 20 {
		return Profile{}, fmt.Errorf("agentVersion %q: supported are 1.16 to 1.20", version)
	}
	return Profile{
		Minor:                       minor,
		ClusterWideEgressNamedPorts: minor < 20,
		NamedPortIdentityLabels:     minor >= 20,
		HostNodeLabels:              minor >= 20,
		NodeClusterLabel:            minor >= 19,
		KeepTopologyLabels:          minor < 19,
		NativeCNP:                   minor >= 20,
		Aggregates:                  minor >= 20,
	}, nil
}

// configure sets the agent options the parser, sanitiser and repository read from
// option.Config (as cilium-agent does at start-up) and the identity label filter.
func configure(logger *slog.Logger, a Agent, p Profile, ipv4, ipv6 bool) error {
	for _, m := range a.PolicyCIDRMatchMode {
		if m != "pods" && m != "nodes" {
			return fmt.Errorf("policyCidrMatchMode: unknown mode %q", m)
		}
		if m == "pods" && p.Minor < 20 {
			return fmt.Errorf("policyCidrMatchMode pods needs Cilium 1.20")
		}
	}
	if a.PolicyDefaultLocalCluster && p.Minor < 18 {
		return fmt.Errorf("policyDefaultLocalCluster does not exist before Cilium 1.18")
	}
	c := option.Config
	c.ClusterName = a.ClusterName
	if c.ClusterName == "" {
		c.ClusterName = "default"
	}
	c.EnableIPv4 = ipv4
	c.EnableIPv6 = ipv6
	c.EnableNodeSelectorLabels = a.EnableNodeSelectorLabels
	c.PolicyCIDRMatchMode = slices.Clone(a.PolicyCIDRMatchMode)
	c.EnableL7Proxy = true   // Helm default; toFQDNs and DNS rules need it
	c.EnableICMPRules = true // Helm default
	c.EnableNonDefaultDenyPolicies = a.EnableNonDefaultDenyPolicies == nil || *a.EnableNonDefaultDenyPolicies
	c.EnableHostFirewall = false // no host policies: the host endpoint is never a subject
	switch a.AllowLocalhost {
	case "", "always", "auto":
		// "auto" is "always" in Kubernetes mode (daemon/cmd/daemon.go).
		c.UnsafeDaemonConfigOption.AllowLocalhost = option.AllowLocalhostAlways
	case "policy":
		c.UnsafeDaemonConfigOption.AllowLocalhost = option.AllowLocalhostPolicy
	default:
		return fmt.Errorf("allowLocalhost: unknown value %q", a.AllowLocalhost)
	}
	// The cluster entity selects the local cluster by name (pkg/policy/cell newPolicyRepo).
	policyapi.InitEntities(c.ClusterName)
	return labelsfilter.ParseLabelPrefixCfg(logger, a.Labels, a.NodeLabels, "")
}

var topology = regexp.MustCompile(`^topology\.kubernetes\.io`)

// inclusive reports whether the user filter has an inclusive prefix, which turns the
// filter into an allow-list (labelsfilter: "whitelist").
func inclusive(prefixes []string) bool {
	for _, p := range prefixes {
		if _, after, found := strings.Cut(p, ":"); found {
			p = after
		}
		if p != "" && !strings.HasPrefix(p, "!") {
			return true
		}
	}
	return false
}

// filterIdentityLabels is labelsfilter.Filter as the emulated release's defaults had it.
func filterIdentityLabels(a Agent, p Profile, lbls labels.Labels) labels.Labels {
	kept, dropped := labelsfilter.Filter(lbls)
	if p.KeepTopologyLabels && !inclusive(a.Labels) {
		// Without an allow-list, only the expression 1.19 added drops these: no other default
		// matches at the start of a topology.kubernetes.io key.
		for k, l := range dropped {
			if topology.MatchString(l.Key) {
				kept[k] = l
			}
		}
	}
	return kept
}
