package k8swatch

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch/selector"
)

// NodePeer is one BGP session a Calico node opens towards an external peer,
// as Calico resolves its BGPPeers.
type NodePeer struct {
	Node string
	// BGPPeer is the name of the BGPPeer that produced the session.
	BGPPeer string
	// PeerIP and PeerASN are the remote side (the switch) as the node sees it.
	PeerIP  netip.Addr
	PeerASN uint32
	// NodeAddress is the node's BGP address (with its subnet) in the
	// session's address family; NodeASN is the node's effective AS.
	NodeAddress netip.Prefix
	NodeASN     uint32
	// IPv6 is true for an IPv6 session.
	IPv6 bool
}

// NodeASN returns a node's AS number as Calico chooses it: the node's own,
// else the global BGPConfiguration's, else 64512.
func (cs ClusterState) NodeASN(n Node) uint32 {
	switch {
	case n.BGP.ASN != 0:
		return n.BGP.ASN
	case cs.BGPConfig.ASN != 0:
		return cs.BGPConfig.ASN
	}
	return DefaultASN
}

// HasBGPAddress reports whether Calico runs BGP on the node.
func (n Node) HasBGPAddress() bool { return n.BGP.IPv4Address.IsValid() || n.BGP.IPv6Address.IsValid() }

// ResolvePeers applies Calico's BGPPeer semantics to every node:
//
//   - a BGPPeer with `node` applies to that node only; with `nodeSelector` to
//     the nodes whose labels match; with neither to every node (global peer);
//   - `peerSelector` peers are node-to-node sessions (route reflection), not
//     external peers, and produce nothing here;
//   - IPv4 and IPv6 are separate sessions: an IPv4 peerIP needs the node's
//     IPv4 BGP address, an IPv6 one its IPv6 address;
//   - nodes without a BGP address run no BGP and get no peers;
//   - a node never peers with its own address.
//
// A BGPPeer that names a node which does not exist is reported. When two
// BGPPeers give one node the same peer IP with different AS numbers, the
// first by name wins and the other is reported.
func (cs ClusterState) ResolvePeers() ([]NodePeer, []Problem) {
	var (
		out      []NodePeer
		problems []Problem
	)
	nodes := map[string]Node{}
	for _, n := range cs.Nodes {
		nodes[n.Name] = n
	}
	type sessionKey struct {
		node string
		ip   netip.Addr
	}
	seen := map[sessionKey]NodePeer{}

	for _, p := range cs.BGPPeers {
		obj := "BGPPeer/" + p.Name
		if p.PeerSelector != "" {
			continue // node-to-node
		}
		var targets []Node
		switch {
		case p.Node != "":
			n, ok := nodes[p.Node]
			if !ok {
				problems = append(problems, Problem{Object: obj, Reason: fmt.Sprintf("spec.node %q names a node that does not exist", p.Node)})
				continue
			}
			targets = []Node{n}
		case p.NodeSelector != "":
			sel, err := selector.Parse(p.NodeSelector)
			if err != nil {
				problems = append(problems, Problem{Object: obj, Reason: fmt.Sprintf("spec.nodeSelector: %v", err)})
				continue
			}
			for _, n := range cs.Nodes {
				if sel.Matches(n.Labels) {
					targets = append(targets, n)
				}
			}
		default:
			targets = cs.Nodes
		}
		for _, n := range targets {
			addr := n.BGP.IPv4Address
			v6 := p.PeerIP.Is6()
			if v6 {
				addr = n.BGP.IPv6Address
			}
			if !addr.IsValid() || addr.Addr() == p.PeerIP {
				continue
			}
			np := NodePeer{Node: n.Name, BGPPeer: p.Name, PeerIP: p.PeerIP, PeerASN: p.ASN,
				NodeAddress: addr, NodeASN: cs.NodeASN(n), IPv6: v6}
			k := sessionKey{n.Name, p.PeerIP}
			if prev, dup := seen[k]; dup {
				if prev.PeerASN != np.PeerASN {
					problems = append(problems, Problem{Object: obj, Reason: fmt.Sprintf(
						"gives node %s peer %s with AS %d, but BGPPeer %s already gives it AS %d; ignored for that node",
						n.Name, p.PeerIP, p.ASN, prev.BGPPeer, prev.PeerASN)})
				}
				continue
			}
			seen[k] = np
			out = append(out, np)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Node != out[j].Node {
			return out[i].Node < out[j].Node
		}
		return out[i].PeerIP.Less(out[j].PeerIP)
	})
	return out, problems
}

// NodeBlocks returns the IPAM blocks affine to a node, in address order.
func (cs ClusterState) NodeBlocks(node string) []netip.Prefix {
	var out []netip.Prefix
	for _, b := range cs.Blocks {
		if b.Node == node {
			out = append(out, b.CIDR)
		}
	}
	return out
}
