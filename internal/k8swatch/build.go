package k8swatch

// Build: the ClusterState of everything added.

import (
	"maps"
	"sort"
	"strconv"
	"strings"
)

// Build returns the ClusterState of everything added so far.
func (b *Builder) Build() ClusterState {
	var cs ClusterState

	names := map[string]bool{}
	for n := range b.coreNodes {
		names[n] = true
	}
	for n := range b.calicoNodes {
		names[n] = true
	}
	if len(names) > 0 {
		cs.Nodes = make([]Node, 0, len(names))
	}
	for name := range names {
		core, hasCore := b.coreNodes[name]
		cal, hasCal := b.calicoNodes[name]
		node := core.node
		if !hasCore {
			node = cal.node
		} else if hasCal {
			// The v3 Node is the Calico view of the same node: its labels
			// and BGP spec take precedence over the annotations.
			for k, v := range cal.node.Labels {
				if node.Labels == nil {
					node.Labels = map[string]string{}
				}
				node.Labels[k] = v
			}
			if cal.hasBGP || cal.node.BGP.ASN != 0 {
				node.BGP = cal.node.BGP
			}
		}
		cs.Nodes = append(cs.Nodes, node)
	}
	sort.Slice(cs.Nodes, func(i, j int) bool { return cs.Nodes[i].Name < cs.Nodes[j].Name })

	for _, p := range b.peers {
		cs.BGPPeers = append(cs.BGPPeers, p.v)
	}
	sort.Slice(cs.BGPPeers, func(i, j int) bool { return cs.BGPPeers[i].Name < cs.BGPPeers[j].Name })

	if b.bgpConfig != nil {
		cs.BGPConfig = b.bgpConfig.v
	}

	for _, p := range b.pools {
		cs.IPPools = append(cs.IPPools, p.v)
	}
	sort.Slice(cs.IPPools, func(i, j int) bool { return cs.IPPools[i].Name < cs.IPPools[j].Name })

	blocks := map[string]IPAMBlock{}
	for k, blk := range b.blocks {
		blocks[k+"@"+blk.Node] = blk
	}
	for k, blk := range b.affinities {
		blocks[k] = blk
	}
	for _, blk := range blocks {
		cs.Blocks = append(cs.Blocks, blk)
	}
	sort.Slice(cs.Blocks, func(i, j int) bool {
		if c := cs.Blocks[i].CIDR.Addr().Compare(cs.Blocks[j].CIDR.Addr()); c != 0 {
			return c < 0
		}
		return cs.Blocks[i].Node < cs.Blocks[j].Node
	})

	endpointNodes := make(map[string]map[string]bool, len(b.services))
	for _, si := range b.slices {
		if endpointNodes[si.service] == nil {
			endpointNodes[si.service] = map[string]bool{}
		}
		for _, n := range si.nodes {
			endpointNodes[si.service][n] = true
		}
	}
	// Sorted by key ("<namespace>/<name>"), each key made once: a sort
	// that builds both keys per comparison spends more on that than on
	// everything else here.
	keys := make([]string, 0, len(b.services))
	for key := range b.services {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		cs.Services = make([]Service, 0, len(keys)) // nil stays nil: digests marshal the state
	}
	for _, key := range keys {
		svc := b.services[key]
		for n := range endpointNodes[key] {
			svc.EndpointNodes = append(svc.EndpointNodes, n)
		}
		sort.Strings(svc.EndpointNodes)
		cs.Services = append(cs.Services, svc)
	}

	for _, p := range b.lbPools {
		cs.LBPools = append(cs.LBPools, p)
	}
	sort.Slice(cs.LBPools, func(i, j int) bool {
		a, c := cs.LBPools[i], cs.LBPools[j]
		return a.Source+"/"+a.Namespace+"/"+a.Name < c.Source+"/"+c.Namespace+"/"+c.Name
	})

	for _, p := range b.lbPeers {
		cs.LBBGPPeers = append(cs.LBBGPPeers, p)
	}
	sort.Slice(cs.LBBGPPeers, func(i, j int) bool {
		a, c := cs.LBBGPPeers[i], cs.LBBGPPeers[j]
		return a.Source+"/"+a.Namespace+"/"+a.Name < c.Source+"/"+c.Namespace+"/"+c.Name
	})
	for _, a := range b.lbAdverts {
		cs.LBAdvertisements = append(cs.LBAdvertisements, a)
	}
	sort.Slice(cs.LBAdvertisements, func(i, j int) bool {
		return cs.LBAdvertisements[i].Namespace+"/"+cs.LBAdvertisements[i].Name < cs.LBAdvertisements[j].Namespace+"/"+cs.LBAdvertisements[j].Name
	})

	// Only the Secret keys a BGPPeer names are kept, in whatever namespace
	// (the reconciler knows which one calico-node runs in).
	for _, p := range cs.BGPPeers {
		if p.Password == nil {
			continue
		}
		for k, v := range b.secrets {
			if strings.HasSuffix(k, "/"+p.Password.Name+"/"+p.Password.Key) {
				if cs.Secrets == nil {
					cs.Secrets = map[string]SecretValue{}
				}
				cs.Secrets[k] = v
			}
		}
	}
	cs.Seen = maps.Clone(b.seen)
	cs.Problems = append([]Problem(nil), b.problems...)
	sort.SliceStable(cs.Problems, func(i, j int) bool { return cs.Problems[i].Object < cs.Problems[j].Object })
	return cs
}

// FormatASN prints an AS number as plain digits.
func FormatASN(a uint32) string { return strconv.FormatUint(uint64(a), 10) }
