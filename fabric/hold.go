package fabric

import (
	"net/netip"
	"slices"
)

// Hold keeps the fabric objects it matches as they are: Diff plans no delete
// and no update for them, and lists what it held back with the reason.
// The reconciler holds what came from an input object it had to skip, or
// from a kind of input that is missing: what cannot be seen is not deleted.
//
// Empty fields match anything; an object matches when every set field does.
type Hold struct {
	// Reason says why, for people: which input is skipped or missing.
	Reason string `json:"reason"`
	Kind   Kind   `json:"kind"`
	Switch string `json:"switch,omitempty"`
	ID     string `json:"id,omitempty"`
	// Node matches the objects that belong to one node (BGPPeer and
	// PrefixFilter carry a node).
	Node string `json:"node,omitempty"`
	// Group matches the ExternalSubnets of one group; NotGroups those of
	// every group but the ones listed.
	Group     string   `json:"group,omitempty"`
	NotGroups []string `json:"notGroups,omitempty"`
	// Peers matches BGPPeers and PrefixFilters whose peer address is in
	// one of these prefixes.
	Peers []string `json:"peers,omitempty"`
	// ShrinkOnly holds only the changes that take something away (a
	// delete, fewer paths, a filter rule or contract entry less); changes
	// that only add go through.
	ShrinkOnly bool `json:"shrinkOnly,omitempty"`
}

// Matches reports whether the hold covers an object.
func (h Hold) Matches(o Object) bool {
	if h.Kind != "" && o.Kind() != h.Kind {
		return false
	}
	if h.Switch != "" && o.SwitchName() != h.Switch {
		return false
	}
	if h.ID != "" && o.ID() != h.ID {
		return false
	}
	if h.Node != "" && nodeOf(o) != h.Node {
		return false
	}
	if h.Group != "" || len(h.NotGroups) > 0 {
		s, ok := o.(ExternalSubnet)
		if !ok || (h.Group != "" && s.Group != h.Group) || slices.Contains(h.NotGroups, s.Group) {
			return false
		}
	}
	if len(h.Peers) > 0 {
		a, err := netip.ParseAddr(peerOf(o))
		if err != nil {
			return false
		}
		in := false
		for _, p := range h.Peers {
			if pp, err := netip.ParsePrefix(p); err == nil && pp.Contains(a.Unmap()) {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// holds reports whether the hold keeps a change back.
func (h Hold) holds(c Change) bool {
	if c.Action == ActionCreate || !h.Matches(c.Before) {
		return false
	}
	return !h.ShrinkOnly || Shrinks(c)
}

func nodeOf(o Object) string {
	switch v := o.(type) {
	case BGPPeer:
		return v.Node
	case PrefixFilter:
		return v.Node
	}
	return ""
}

func peerOf(o Object) string {
	switch v := o.(type) {
	case BGPPeer:
		return v.PeerAddress
	case PrefixFilter:
		return v.PeerAddress
	}
	return ""
}

// Shrinks reports whether a change takes something away from the fabric:
// every delete, and an update its kind says shrinks (KindSpec.Shrinks).
func Shrinks(c Change) bool {
	switch c.Action {
	case ActionCreate, ActionAdopt:
		return false
	case ActionDelete:
		return true
	}
	if spec, ok := SpecOf(c.Kind); ok && spec.Shrinks != nil {
		return spec.Shrinks(c.Before, c.After)
	}
	return true
}

func subset[T comparable](small, big []T) bool {
	for _, v := range small {
		if !slices.Contains(big, v) {
			return false
		}
	}
	return true
}
