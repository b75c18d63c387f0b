package fabric

import (
	"slices"
	"testing"
)

// TestPeerNodesFollowObjects: PeerNodes gives what Objects gives for the
// peers and prefix filters, in the same order, mapped addresses unmapped.
func TestPeerNodesFollowObjects(t *testing.T) {
	s := StateOf(
		PrefixFilter{Switch: "leaf202", Node: "b", PeerAddress: "10.0.0.2", Prefixes: []PrefixRule{{Prefix: "10.1.0.0/16", LE: 26}, {Prefix: "10.0.0.0/16", LE: 26}}},
		BGPPeer{Switch: "leaf202", Node: "b", PeerAddress: "::ffff:10.0.0.2", RemoteASN: 1, LocalASN: 2, AddressFamily: IPv4},
		BGPPeer{Switch: "leaf201", Node: "a", PeerAddress: "10.0.0.1", RemoteASN: 1, LocalASN: 2, AddressFamily: IPv4},
		PrefixFilter{Switch: "leaf201", Node: "c", PeerAddress: "10.0.0.1"},
		BGPPeer{Switch: "leaf201", Node: "d", PeerAddress: "2001:db8::1", RemoteASN: 1, LocalASN: 2, AddressFamily: IPv6},
		ExternalSubnet{Group: "G", Prefix: "10.0.0.0/24", Scopes: []Scope{ScopeImportSecurity}},
		MaximumPaths{Switch: "leaf201", AddressFamily: IPv4, Paths: 4},
		BGPPeer{Switch: "", Node: "e", PeerAddress: "10.0.0.9", RemoteASN: 1, LocalASN: 2, AddressFamily: IPv4},
	)
	var want []PeerNode
	for _, o := range s.Objects() {
		switch v := o.(type) {
		case BGPPeer:
			want = append(want, PeerNode{v.Node, v.PeerAddress})
		case PrefixFilter:
			want = append(want, PeerNode{v.Node, v.PeerAddress})
		}
	}
	if got := s.PeerNodes(); !slices.Equal(got, want) || len(got) != 6 {
		t.Errorf("PeerNodes:\n%v\nObjects' peers and filters:\n%v", got, want)
	}
}
