package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"

	cmtypes "github.com/cilium/cilium/pkg/clustermesh/types"
	ipcachetypes "github.com/cilium/cilium/pkg/ipcache/types"
	"github.com/cilium/cilium/pkg/k8s"
	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	slim_networkingv1 "github.com/cilium/cilium/pkg/k8s/slim/k8s/api/networking/v1"
	"github.com/cilium/cilium/pkg/labels"
	"github.com/cilium/cilium/pkg/option"
	"github.com/cilium/cilium/pkg/policy"
	"github.com/cilium/cilium/pkg/policy/types"
	policyutils "github.com/cilium/cilium/pkg/policy/utils"
	policyv1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// One parsed object: the entries the agent's policy importer hands to the repository,
// under the resource the watcher names it by.
type imported struct {
	kind, name string
	resource   ipcachetypes.ResourceID
	entries    types.PolicyEntries
}

// strict decoding: a field Cilium's types do not have would be silently dropped by the
// agent, so the object would not mean what we wrote. Report it instead.
func decode(raw json.RawMessage, into any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(into)
}

// importAll parses every object as the agent's watchers do (pkg/policy/k8s): the cluster
// name is what policy-default-local-cluster makes it (LocalClusterNameForPolicies).
func importAll(logger *slog.Logger, in *Input, p Profile) ([]imported, []Rejected) {
	clusterName := cmtypes.LocalClusterNameForPolicies(cmtypes.PolicyConfig{PolicyDefaultLocalCluster: in.Agent.PolicyDefaultLocalCluster}, option.Config.ClusterName)
	var out []imported
	var rejected []Rejected
	reject := func(kind, name string, err error) {
		rejected = append(rejected, Rejected{Kind: kind, Name: name, Error: err.Error()})
	}
	for _, raw := range in.CCNPs {
		var ccnp ciliumv2.CiliumClusterwideNetworkPolicy
		if err := decode(raw, &ccnp); err != nil {
			reject("CiliumClusterwideNetworkPolicy", nameOf(raw), err)
			continue
		}
		rules, err := ccnp.Parse(logger, clusterName)
		if err != nil {
			reject("CiliumClusterwideNetworkPolicy", ccnp.Name, err)
			continue
		}
		out = append(out, imported{
			kind: "CiliumClusterwideNetworkPolicy", name: ccnp.Name,
			resource: ipcachetypes.NewResourceID(ipcachetypes.ResourceKindCCNP, "", ccnp.Name),
			entries:  policyutils.RulesToPolicyEntries(rules),
		})
	}
	for _, raw := range in.NetworkPolicies {
		var np slim_networkingv1.NetworkPolicy
		if err := decode(raw, &np); err != nil {
			reject("NetworkPolicy", nameOf(raw), err)
			continue
		}
		entries, err := k8s.ParseNetworkPolicy(logger, clusterName, &np)
		if err != nil {
			reject("NetworkPolicy", np.Namespace+"/"+np.Name, err)
			continue
		}
		out = append(out, imported{
			kind: "NetworkPolicy", name: np.Namespace + "/" + np.Name,
			resource: ipcachetypes.NewResourceID(ipcachetypes.ResourceKindNetpol, np.Namespace, np.Name),
			entries:  entries,
		})
	}
	for _, raw := range in.CNPs {
		if !p.NativeCNP {
			reject("ClusterNetworkPolicy", nameOf(raw), fmt.Errorf("Cilium %s has no ClusterNetworkPolicy support", in.Agent.AgentVersion))
			continue
		}
		// Cilium 1.20 reads policy.networking.k8s.io/v1alpha2 (network-policy-api v0.2.0),
		// whose fields v1beta1 kept; the strict decoder says where they differ.
		var cnp policyv1alpha2.ClusterNetworkPolicy
		if err := decode(raw, &cnp); err != nil {
			reject("ClusterNetworkPolicy", nameOf(raw), err)
			continue
		}
		entries, err := k8s.ParseClusterNetworkPolicy(logger, clusterName, &cnp)
		if err != nil {
			reject("ClusterNetworkPolicy", cnp.Name, err)
			continue
		}
		out = append(out, imported{
			kind: "ClusterNetworkPolicy", name: cnp.Name,
			resource: ipcachetypes.NewResourceID(ipcachetypes.ResourceKindKCNP, "", cnp.Name),
			entries:  entries,
		})
	}
	return out, rejected
}

func nameOf(raw json.RawMessage) string {
	var o struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &o)
	if o.Metadata.Namespace != "" {
		return o.Metadata.Namespace + "/" + o.Metadata.Name
	}
	return o.Metadata.Name
}

// policyPrefixes are the prefixes the policy importer puts in the ipcache (with labels
// cidr:<prefix>) before the policies take effect (pkg/policy/cell updatePrefixes).
func policyPrefixes(all []imported) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	for _, im := range all {
		for _, p := range policy.GetCIDRPrefixes(im.entries) {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// fqdnLabels: the DNS proxy labels each address an answer carried with the fqdn: label of
// every policy FQDN selector the name matches (pkg/fqdn NameManager → ipcache metadata).
func fqdnLabels(all []imported, dns map[string][]string) (map[netip.Addr]labels.Labels, error) {
	out := map[netip.Addr]labels.Labels{}
	for _, im := range all {
		for _, e := range im.entries {
			for _, sel := range e.L3 {
				f, ok := sel.GetFQDNSelector()
				if !ok {
					continue
				}
				re, err := f.ToRegex()
				if err != nil {
					return nil, err
				}
				for name, addrs := range dns {
					if !re.MatchString(dnsName(name)) {
						continue
					}
					for _, a := range addrs {
						ip, err := netip.ParseAddr(a)
						if err != nil {
							return nil, fmt.Errorf("dns %s: bad address %q", name, a)
						}
						ip = ip.Unmap()
						if out[ip] == nil {
							out[ip] = labels.Labels{}
						}
						l := f.IdentityLabel()
						out[ip][l.Key] = l
					}
				}
			}
		}
	}
	return out, nil
}

// dnsName is a name as DNS answers carry it: lower case, fully qualified.
func dnsName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	if len(b) == 0 || b[len(b)-1] != '.' {
		b = append(b, '.')
	}
	return string(b)
}

// selectedBy: which objects have a rule whose subject selects the pod (the rule's subject
// selector over the pod's identity labels, as the repository matches subjects). A
// NetworkPolicy's rules only apply in its own namespace, which its subject selector says.
func selectedBy(all []imported, pods []*podInfo) map[string][]string {
	out := map[string][]string{}
	for _, p := range pods {
		if p.id == nil {
			continue
		}
		var names []string
		for _, im := range all {
			for _, e := range im.entries {
				if e.Subject != nil && e.Subject.Matches(p.id.LabelArray) {
					names = append(names, im.kind+"/"+im.name)
					break
				}
			}
		}
		out[p.Namespace+"/"+p.Name] = names
	}
	return out
}
