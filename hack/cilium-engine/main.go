// Command cilium-engine decides flows the way a Cilium agent does, with Cilium's own code
// (github.com/cilium/cilium at the version go.mod pins): it parses and sanitises
// CiliumClusterwideNetworkPolicies, NetworkPolicies and ClusterNetworkPolicies, derives
// identities as the agents do, computes each endpoint's policy in the policy repository and
// looks each flow up in that map state as the datapath does.
//
// stdin: one or more JSON documents (input.go); stdout: one JSON line per document.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/cilium/cilium/pkg/identity"
	"github.com/cilium/cilium/pkg/policy"
	"github.com/cilium/cilium/pkg/u8proto"
)

func main() {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dec := json.NewDecoder(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for {
		var in Input
		if err := dec.Decode(&in); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			fail(fmt.Errorf("reading input: %w", err))
		}
		out, err := run(logger, &in)
		if err != nil {
			fail(err)
		}
		if err := enc.Encode(out); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "cilium-engine: %v\n", err)
	os.Exit(1)
}

// families: the address families the cluster uses are the ones the agent enables.
func families(c Cluster) (ipv4, ipv6 bool) {
	for _, n := range c.Nodes {
		for _, a := range n.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil {
				ipv4 = ipv4 || ip.Unmap().Is4()
				ipv6 = ipv6 || ip.Is6() && !ip.Is4In6()
			}
		}
	}
	for _, p := range c.Pods {
		for _, a := range p.IPs {
			if ip, err := netip.ParseAddr(a); err == nil {
				ipv4 = ipv4 || ip.Unmap().Is4()
				ipv6 = ipv6 || ip.Is6() && !ip.Is4In6()
			}
		}
	}
	if !ipv4 && !ipv6 {
		ipv4 = true
	}
	return
}

func run(logger *slog.Logger, in *Input) (*Output, error) {
	p, err := profile(in.Agent.AgentVersion)
	if err != nil {
		return nil, err
	}
	ipv4, ipv6 := families(in.Cluster)
	if err := configure(logger, in.Agent, p, ipv4, ipv6); err != nil {
		return nil, err
	}
	w, err := newWorld(logger, in.Agent, p, in.Cluster)
	if err != nil {
		return nil, err
	}
	all, rejected := importAll(logger, in, p)
	w.prefixes = policyPrefixes(all)
	if w.fqdnLabels, err = fqdnLabels(all, in.DNS); err != nil {
		return nil, err
	}
	w.podIdentities()

	// Every identity the flows can meet, allocated before any policy is computed (as the
	// ipcache allocates them before policy uses them).
	type resolved struct{ from, to party }
	flows := make([]resolved, len(in.Flows))
	for i, f := range in.Flows {
		from, err := w.resolve(f.From)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		to, err := w.resolve(f.To)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		flows[i] = resolved{from, to}
		for _, x := range []party{from, to} {
			if x.pod == nil && x.node == nil {
				w.worldIdentity(x.ip)
			}
		}
	}
	for _, name := range w.nodeNames {
		if n := w.nodes[name]; n != nil {
			for _, ip := range n.ips {
				w.remoteNodeIdentity(n, ip)
			}
		}
	}
	ids := identity.ListReservedIdentities()
	if !p.Aggregates {
		for _, id := range policy.AllAggregates {
			delete(ids, id)
		}
	}
	for _, id := range w.alloc.byLabels {
		ids[id.ID] = id.LabelArray
	}

	var ports = perIdentityPorts(w)
	if p.ClusterWideEgressNamedPorts {
		ports = portsGetter{clusterWidePorts{w}}
	}
	agents := map[string]*agentEngine{}
	agentOf := func(node string) *agentEngine {
		a, ok := agents[node]
		if !ok {
			a = newAgent(logger, w, node, all, ids, ports)
			agents[node] = a
		}
		return a
	}
	epIDs := map[*podInfo]uint64{}
	for i, pod := range w.pods {
		epIDs[pod] = uint64(i + 1)
	}

	out := &Output{Rejected: rejected, Verdicts: make([]Verdict, len(flows)), SelectedBy: selectedBy(all, w.pods), Identities: map[string][]string{}}
	for _, p := range w.pods {
		if p.id != nil {
			out.Identities[p.Namespace+"/"+p.Name] = p.id.LabelArray.GetModel()
		}
	}
	if out.Rejected == nil {
		out.Rejected = []Rejected{}
	}
	for i, f := range flows {
		proto, err := u8proto.ParseProtocol(strings.ToUpper(in.Flows[i].Protocol))
		if err != nil || proto == u8proto.ANY {
			return nil, fmt.Errorf("flow %d: bad protocol %q", i, in.Flows[i].Protocol)
		}
		port := in.Flows[i].Port
		if port == 0 {
			return nil, fmt.Errorf("flow %d: port 0", i)
		}
		v := Verdict{Egress: "allow", Ingress: "allow"}
		if f.from.pod != nil && f.from.pod == f.to.pod {
			// A pod reaching its own address never leaves it: no policy applies.
			out.Verdicts[i] = v
			continue
		}
		if src := f.from.pod; src != nil {
			a := agentOf(src.NodeName)
			ok, rule, err := a.lookup(src, epIDs[src], false, w.identityOn(a.node, f.to, a.host), proto, port)
			if err != nil {
				return nil, fmt.Errorf("flow %d egress: %w", i, err)
			}
			v.Egress, v.EgressRule = verdictOf(ok), rule
		}
		if dst := f.to.pod; dst != nil {
			a := agentOf(dst.NodeName)
			ok, rule, err := a.lookup(dst, epIDs[dst], true, w.identityOn(a.node, f.from, a.host), proto, port)
			if err != nil {
				return nil, fmt.Errorf("flow %d ingress: %w", i, err)
			}
			v.Ingress, v.IngressRule = verdictOf(ok), rule
		}
		out.Verdicts[i] = v
	}
	return out, nil
}

func verdictOf(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}
