package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sort"

	"github.com/cilium/cilium/pkg/identity"
	"github.com/cilium/cilium/pkg/k8s"
	k8sConst "github.com/cilium/cilium/pkg/k8s/apis/cilium.io"
	slim_corev1 "github.com/cilium/cilium/pkg/k8s/slim/k8s/api/core/v1"
	slim_metav1 "github.com/cilium/cilium/pkg/k8s/slim/k8s/apis/meta/v1"
	"github.com/cilium/cilium/pkg/labels"
	"github.com/cilium/cilium/pkg/labelsfilter"
	"github.com/cilium/cilium/pkg/option"
	ciliumTypes "github.com/cilium/cilium/pkg/types"
	"github.com/cilium/cilium/pkg/u8proto"
)

// Identities as the agents of one cluster derive them. The agent builds them from several
// sources (pod watcher, node manager, ipcache metadata for policy prefixes); this file
// composes the same labels with the same Cilium functions, and allocates numeric
// identities the way the allocators scope them (global, local, remote-node).

type podInfo struct {
	Pod
	ips        []netip.Addr
	namedPorts ciliumTypes.NamedPortMap
	id         *identity.Identity // nil for host-network pods (they are their node)
}

type nodeInfo struct {
	Node
	ips []netip.Addr
}

// allocator hands out numeric identities by label set, scoped as the agent scopes them.
type allocator struct {
	byLabels map[string]*identity.Identity
	next     map[identity.NumericIdentity]identity.NumericIdentity
}

func newAllocator() *allocator {
	return &allocator{
		byLabels: map[string]*identity.Identity{},
		next: map[identity.NumericIdentity]identity.NumericIdentity{
			identity.IdentityScopeGlobal:     identity.GetMinimalAllocationIdentity(0),
			identity.IdentityScopeLocal:      identity.MinLocalIdentity,
			identity.IdentityScopeRemoteNode: identity.IdentityScopeRemoteNode + 1,
		},
	}
}

func (a *allocator) get(lbls labels.Labels) *identity.Identity {
	if id := identity.LookupReservedIdentityByLabels(lbls); id != nil {
		return id
	}
	key := string(lbls.SortedList())
	if id, ok := a.byLabels[key]; ok {
		return id
	}
	scope := identity.ScopeForLabels(lbls)
	id := identity.NewIdentity(a.next[scope], lbls)
	a.next[scope]++
	a.byLabels[key] = id
	return id
}

type namespaceMeta struct {
	name   string
	labels map[string]string
}

func (n namespaceMeta) GetName() string              { return n.name }
func (n namespaceMeta) GetLabels() map[string]string { return n.labels }

// world is the cluster as the agents see it, with the prefixes policies reference.
type world struct {
	logger     *slog.Logger
	agent      Agent
	profile    Profile
	alloc      *allocator
	namespaces map[string]map[string]string
	pods       []*podInfo
	podByName  map[string]*podInfo
	nodes      map[string]*nodeInfo
	nodeNames  []string // every node an agent runs on (nodes and pods' nodeName), sorted
	// prefixes the policies reference (ipcache metadata cidr:<prefix>), for CIDR identities.
	prefixes []netip.Prefix
	// fqdnLabels maps an address to the fqdn: labels of the selectors its names match.
	fqdnLabels map[netip.Addr]labels.Labels
}

func parseAddrs(list []string, what string) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(list))
	for _, s := range list {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s: bad address %q", what, s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

func newWorld(logger *slog.Logger, a Agent, p Profile, c Cluster) (*world, error) {
	w := &world{
		logger: logger, agent: a, profile: p, alloc: newAllocator(),
		namespaces: map[string]map[string]string{},
		podByName:  map[string]*podInfo{},
		nodes:      map[string]*nodeInfo{},
		fqdnLabels: map[netip.Addr]labels.Labels{},
	}
	names := map[string]bool{}
	for _, ns := range c.Namespaces {
		w.namespaces[ns.Name] = ns.Labels
	}
	for _, n := range c.Nodes {
		ips, err := parseAddrs(n.Addresses, "node "+n.Name)
		if err != nil {
			return nil, err
		}
		w.nodes[n.Name] = &nodeInfo{Node: n, ips: ips}
		names[n.Name] = true
	}
	for _, p := range c.Pods {
		ips, err := parseAddrs(p.IPs, "pod "+p.Namespace+"/"+p.Name)
		if err != nil {
			return nil, err
		}
		info := &podInfo{Pod: p, ips: ips}
		w.pods = append(w.pods, info)
		w.podByName[p.Namespace+"/"+p.Name] = info
		if p.NodeName != "" {
			names[p.NodeName] = true
		}
	}
	for n := range names {
		w.nodeNames = append(w.nodeNames, n)
	}
	sort.Strings(w.nodeNames)
	return w, nil
}

// longestPrefix is the ipcache's longest-prefix match among the policy prefixes.
func (w *world) longestPrefix(ip netip.Addr) (netip.Prefix, bool) {
	var best netip.Prefix
	found := false
	for _, p := range w.prefixes {
		if p.Contains(ip) && (!found || p.Bits() > best.Bits()) {
			best, found = p, true
		}
	}
	return best, found
}

// podIdentities derives every pod's identity (pkg/endpoint/metadata: GetPodMetadata,
// Map2Labels, labelsfilter.Filter, NamedPortsIdentityLabels; pkg/endpoint
// computeCIDRLabelsRLocked with policy-cidr-match-mode pods).
func (w *world) podIdentities() {
	for _, p := range w.pods {
		if p.HostNetwork {
			continue
		}
		sa := p.ServiceAccount
		if sa == "" {
			sa = "default" // what admission fills in
		}
		pod := &slim_corev1.Pod{
			ObjectMeta: slim_metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels},
			Spec:       slim_corev1.PodSpec{ServiceAccountName: sa},
		}
		var ports []slim_corev1.ContainerPort
		for _, cp := range p.Ports {
			ports = append(ports, slim_corev1.ContainerPort{Name: cp.Name, ContainerPort: int32(cp.Port), Protocol: slim_corev1.Protocol(cp.Protocol)})
		}
		pod.Spec.Containers = []slim_corev1.Container{{Name: "main", Ports: ports}}
		ns := namespaceMeta{name: p.Namespace, labels: w.namespaces[p.Namespace]}
		namedPorts, lbls := k8s.GetPodMetadata(w.logger, ns, pod)
		p.namedPorts = namedPorts
		id := filterIdentityLabels(w.agent, w.profile, labels.Map2Labels(lbls, labels.LabelSourceK8s))
		if w.profile.NamedPortIdentityLabels {
			for _, l := range k8s.NamedPortsIdentityLabels(namedPorts) {
				id[l.Key] = l
			}
		}
		if option.Config.PolicyCIDRMatchesPods() {
			for _, ip := range p.ips {
				if prefix, ok := w.longestPrefix(ip); ok && prefix.Bits() > 0 {
					l := labels.GetCIDRLabels(prefix)
					for k, v := range l {
						if v.Source == labels.LabelSourceCIDR {
							id[k] = v
						}
					}
					continue
				}
				wildcard := "cidr:0.0.0.0/0"
				if ip.Is6() {
					wildcard = "cidr:::/0"
				}
				l := labels.ParseLabel(wildcard)
				id[l.GetExtendedKey()] = l
			}
		}
		p.id = w.alloc.get(id)
	}
}

func (w *world) familyEnabled(ip netip.Addr) bool {
	return (ip.Is4() && option.Config.EnableIPv4) || (ip.Is6() && option.Config.EnableIPv6)
}

// nodeLabels: node: labels through the node label filter, and the cluster label
// (pkg/node/manager nodeIdentityLabels).
func (w *world) nodeLabels(n *nodeInfo) labels.Labels {
	out := labels.Labels{}
	filtered, _ := labelsfilter.FilterNodeLabels(labels.Map2Labels(n.Labels, labels.LabelSourceNode))
	out.MergeLabels(filtered)
	if w.profile.NodeClusterLabel {
		out.MergeLabels(labels.Map2Labels(map[string]string{k8sConst.PolicyLabelCluster: option.Config.ClusterName}, labels.LabelSourceK8s))
	}
	return out
}

// hostIdentity is identity 1 on the agent of node `local`: its labels are the local node's.
func (w *world) hostIdentity(local string) *identity.Identity {
	lbls := labels.NewFrom(labels.LabelHost)
	n := w.nodes[local]
	if n != nil && option.Config.PolicyCIDRMatchesNodes() {
		for _, ip := range n.ips {
			if w.familyEnabled(ip) {
				lbls.MergeLabels(labels.GetCIDRLabels(netip.PrefixFrom(ip, ip.BitLen())))
			}
		}
	}
	if n != nil && option.Config.PerNodeLabelsEnabled() && w.profile.HostNodeLabels {
		lbls.MergeLabels(w.nodeLabels(n))
	}
	resolveInCluster(lbls)
	return identity.NewIdentity(identity.ReservedIdentityHost, lbls)
}

// remoteNodeIdentity is the identity other agents give node n's address ip.
func (w *world) remoteNodeIdentity(n *nodeInfo, ip netip.Addr) *identity.Identity {
	lbls := labels.NewFrom(labels.LabelRemoteNode)
	if option.Config.PerNodeLabelsEnabled() {
		lbls.MergeLabels(w.nodeLabels(n))
	}
	if option.Config.PolicyCIDRMatchesNodes() {
		lbls.MergeLabels(labels.GetCIDRLabels(netip.PrefixFrom(ip, ip.BitLen())))
	}
	resolveInCluster(lbls)
	return w.alloc.get(lbls)
}

// resolveInCluster: in-cluster entities carry no world label (pkg/ipcache resolveLabels).
func resolveInCluster(lbls labels.Labels) {
	lbls.Remove(labels.LabelWorld)
	lbls.Remove(labels.LabelWorldIPv4)
	lbls.Remove(labels.LabelWorldIPv6)
}

// worldIdentity is the identity of an address outside the cluster: the CIDR identity of
// the longest policy prefix holding it (plus fqdn: labels of names it answered for), or
// the world identity.
func (w *world) worldIdentity(ip netip.Addr) *identity.Identity {
	lbls := labels.Labels{}
	if prefix, ok := w.longestPrefix(ip); ok {
		lbls.MergeLabels(labels.GetCIDRLabels(prefix))
	}
	if f, ok := w.fqdnLabels[ip]; ok {
		lbls.MergeLabels(f)
	}
	if len(lbls) == 0 {
		return identity.LookupReservedIdentity(identity.GetWorldIdentityFromIP(ip))
	}
	lbls.AddWorldLabel(ip)
	return w.alloc.get(lbls)
}

// party is one end of a flow as an agent resolves its address.
type party struct {
	pod  *podInfo  // a pod endpoint (not host-network)
	node *nodeInfo // a node, or a host-network pod's node
	ip   netip.Addr
}

func (w *world) resolve(e Endpoint) (party, error) {
	if e.Pod != "" {
		p, ok := w.podByName[e.Pod]
		if !ok {
			return party{}, fmt.Errorf("unknown pod %s", e.Pod)
		}
		var ip netip.Addr
		if len(p.ips) > 0 {
			ip = p.ips[0]
		}
		if p.HostNetwork {
			n, ok := w.nodes[p.NodeName]
			if !ok {
				return party{}, fmt.Errorf("host-network pod %s is on unknown node %q", e.Pod, p.NodeName)
			}
			return party{node: n, ip: ip}, nil
		}
		return party{pod: p, ip: ip}, nil
	}
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return party{}, fmt.Errorf("bad address %q", e.IP)
	}
	ip = ip.Unmap()
	for _, p := range w.pods {
		if !p.HostNetwork && containsAddr(p.ips, ip) {
			return party{pod: p, ip: ip}, nil
		}
	}
	for _, name := range w.nodeNames {
		if n := w.nodes[name]; n != nil && containsAddr(n.ips, ip) {
			return party{node: n, ip: ip}, nil
		}
	}
	return party{ip: ip}, nil
}

func containsAddr(list []netip.Addr, ip netip.Addr) bool {
	for _, a := range list {
		if a == ip {
			return true
		}
	}
	return false
}

// identityOn is the identity the agent of node `local` sees for a party.
func (w *world) identityOn(local string, p party, host *identity.Identity) *identity.Identity {
	switch {
	case p.pod != nil:
		return p.pod.id
	case p.node != nil && p.node.Name == local:
		return host
	case p.node != nil:
		return w.remoteNodeIdentity(p.node, p.ip)
	default:
		return w.worldIdentity(p.ip)
	}
}

// ingressNamedPort resolves a named port on the pod itself (pkg/endpoint GetIngressNamedPort).
func (p *podInfo) ingressNamedPort(name string, proto u8proto.U8proto) uint16 {
	port, err := p.namedPorts.GetNamedPort(name, proto)
	if err != nil {
		return 0
	}
	return port
}
