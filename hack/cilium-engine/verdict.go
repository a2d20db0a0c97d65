package main

import (
	"iter"
	"log/slog"
	"math"

	"github.com/cilium/cilium/pkg/crypto/certificatemanager"
	"github.com/cilium/cilium/pkg/endpoint/regeneration"
	envoypolicy "github.com/cilium/cilium/pkg/envoy/policy"
	"github.com/cilium/cilium/pkg/identity"
	"github.com/cilium/cilium/pkg/identity/identitymanager"
	"github.com/cilium/cilium/pkg/policy"
	testidentity "github.com/cilium/cilium/pkg/testutils/identity"
	testpolicy "github.com/cilium/cilium/pkg/testutils/policy"
	ciliumTypes "github.com/cilium/cilium/pkg/types"
	"github.com/cilium/cilium/pkg/u8proto"
)

// One agent: the policy repository of the node a pod runs on. Agents differ only in
// identity 1 (reserved:host has the local node's labels) and in which node is "host".
type agentEngine struct {
	logger   *slog.Logger
	node     string
	host     *identity.Identity
	repo     *policy.Repository
	policies map[*podInfo]*policy.EndpointPolicy
}

func newAgent(logger *slog.Logger, w *world, node string, all []imported, ids identity.IdentityMap, ports policy.NamedPortsGetter) *agentEngine {
	host := w.hostIdentity(node)
	local := identity.IdentityMap{}
	for id, l := range ids {
		local[id] = l
	}
	local[host.ID] = host.LabelArray
	idmgr := identitymanager.NewIDManager(logger)
	repo := policy.NewPolicyRepository(logger, local, nil,
		envoypolicy.NewEnvoyL7RulesTranslator(logger, certificatemanager.NewMockSecretManagerInline()),
		idmgr, testpolicy.NewPolicyMetricsNoop())
	repo.GetSelectorCache().SetLocalIdentityNotifier(testidentity.NewDummyIdentityNotifier())
	repo.UpdateIdentities(local, nil) // the subject selector cache, which policies are indexed by
	repo.SetNamedPortsGetter(ports)
	for _, im := range all {
		repo.ReplaceByResource(im.entries, im.resource)
	}
	return &agentEngine{logger: logger, node: node, host: host, repo: repo, policies: map[*podInfo]*policy.EndpointPolicy{}}
}

// endpointPolicy is the pod's computed policy (its map state), as the endpoint
// regeneration distills it; the proxy port is the simulation's fallback (pkg/policy LookupFlow).
func (a *agentEngine) endpointPolicy(p *podInfo, epID uint64) (*policy.EndpointPolicy, error) {
	if epp, ok := a.policies[p]; ok {
		return epp, nil
	}
	sp, _, err := a.repo.ComputeSelectorPolicy(p.id)
	if err != nil {
		return nil, err
	}
	epp := sp.DistillPolicy(a.logger, &owner{id: epID, pod: p}, map[string]uint16{policy.FallbackRedirectID: math.MaxUint16})
	epp.Ready()
	a.policies[p] = epp
	return epp, nil
}

// lookup is the datapath's policy map lookup for one direction (L3/L4 keys, deny precedence:
// EndpointPolicy.Lookup); no entry is a drop.
func (a *agentEngine) lookup(p *podInfo, epID uint64, ingress bool, peer *identity.Identity, proto u8proto.U8proto, port uint16) (bool, string, error) {
	epp, err := a.endpointPolicy(p, epID)
	if err != nil {
		return false, "", err
	}
	key := policy.EgressKey()
	if ingress {
		key = policy.IngressKey()
	}
	entry, meta, _ := epp.Lookup(key.WithIdentity(peer.ID).WithPortProto(proto, port))
	return !entry.IsDeny(), string(meta.LabelArrayListString()), nil
}

// owner is the endpoint as the policy sees it: only ingress named ports matter.
type owner struct {
	id  uint64
	pod *podInfo
}

func (o *owner) GetID() uint64 { return o.id }
func (o *owner) GetIngressNamedPort(name string, proto u8proto.U8proto) uint16 {
	return o.pod.ingressNamedPort(name, proto)
}
func (o *owner) PolicyDebug(string, ...any)                  {}
func (o *owner) IsHost() bool                                { return false }
func (o *owner) PreviousMapStateSizes() policy.MapStateSizes { return policy.MapStateSizes{} }
func (o *owner) RegenerateIfAlive(*regeneration.ExternalRegenerationMetadata) <-chan bool {
	ch := make(chan bool)
	close(ch)
	return ch
}

// Egress named ports.

type portsGetter struct{ m ciliumTypes.NamedPortMultiMap }

func (g portsGetter) GetNamedPorts() ciliumTypes.NamedPortMultiMap { return g.m }

// perIdentityPorts is the 1.20 ipcache's map: each identity's pods' named ports.
func perIdentityPorts(w *world) policy.NamedPortsGetter {
	m := ciliumTypes.NewNamedPortMultiMap()
	for _, p := range w.pods {
		if p.id != nil {
			m.Update(p.id.ID, nil, p.namedPorts)
		}
	}
	return portsGetter{m}
}

// clusterWidePorts emulates Cilium up to 1.19: an egress named port resolves to the one
// number every pod of the cluster gives the name on that protocol, for every destination,
// or to nothing when pods disagree (1.19 pkg/types namedPortMultiMap.GetNamedPort).
type clusterWidePorts struct{ w *world }

func (c clusterWidePorts) port(name string, proto u8proto.U8proto) (uint16, bool) {
	var port uint16
	for _, p := range c.w.pods {
		pp, ok := p.namedPorts[name]
		if !ok || pp.Proto != proto {
			continue
		}
		if port != 0 && pp.Port != port {
			return 0, false
		}
		port = pp.Port
	}
	return port, port != 0
}

func (c clusterWidePorts) GetNamedPort(name string, proto u8proto.U8proto, _ iter.Seq[identity.NumericIdentity]) (uint16, error) {
	if port, ok := c.port(name, proto); ok {
		return port, nil
	}
	return 0, ciliumTypes.ErrUnknownNamedPort
}

func (c clusterWidePorts) GetNamedPorts(name string, proto u8proto.U8proto, nids iter.Seq[identity.NumericIdentity]) ciliumTypes.NidPortSeq {
	port, ok := c.port(name, proto)
	return func(yield func(identity.NumericIdentity, uint16) bool) {
		if !ok {
			return
		}
		for nid := range nids {
			if !yield(nid, port) {
				return
			}
		}
	}
}

func (c clusterWidePorts) Len() int { return len(c.w.pods) }
