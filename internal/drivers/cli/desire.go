package cli

import (
	"fmt"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// Limits are what a CLI platform cannot express, checked when a plan is
// made, so that a plan never holds a change the driver would refuse.
type Limits struct {
	PlatformName string
	// MaxDescription is the longest neighbor description (0: no limit).
	MaxDescription int
	// MaxPaths is the largest maximum-paths.
	MaxPaths int
	// NoFilters: the fabric's per-node filters are turned off.
	NoFilters bool
	// Options are the peer options the platform manages.
	Options map[fabric.PeerOption]bool
	// CheckOptions, when set, refuses option values the platform cannot
	// express (its ranges).
	CheckOptions func(fabric.PeerOptions) error
	// Listen: the fabric peers by listen ranges (listen.go).
	Listen bool
}

// Desire realizes an intent on a CLI platform (FRR, NX-OS): per session a
// neighbor and, unless filters are disabled, its inbound filter; and
// maximum-paths per switch and family. A session the platform cannot
// express (an AS it refuses, a description too long) is skipped with the
// reason, and neither its filter nor its node's paths are planned.
func Desire(in fabric.Intent, lim Limits) fabric.Realized {
	if lim.Listen {
		return desireListen(in, lim)
	}
	var r fabric.Realized
	mark := Mark(config.OwnerMarkOf(in.Cluster))
	accepted := make([]fabric.Session, 0, len(in.Sessions))
	warned := map[fabric.PeerOption]bool{}
	filled := map[string]bool{}
	for _, s := range in.Sessions {
		r.KeepOptions(lim.PlatformName, &s, lim.Options, warned)
		if what := Timers(&s.Options); what != "" && !filled[what] {
			filled[what] = true
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s sets keepalive and hold time together: the sessions get %s", lim.PlatformName, what))
		}
		peer, filter := s.Peer(), s.Filter()
		err := CheckPeer(peer)
		if err == nil && lim.CheckOptions != nil {
			err = lim.CheckOptions(peer.PeerOptions)
		}
		if err == nil && !lim.NoFilters {
			err = CheckPrefixFilter(filter)
		}
		if desc := mark.DescribePeer(peer.Node, peer.Password); err == nil && lim.MaxDescription > 0 && len(desc) > lim.MaxDescription {
			err = fmt.Errorf("the neighbor description %s would be %d characters, %s takes %d (node names of at most %d characters fit)",
				Quote(desc), len(desc), lim.PlatformName, lim.MaxDescription, lim.MaxDescription-len(mark.DescribePeer("x", peer.Password))+1)
		}
		if err != nil {
			r.Skipped = append(r.Skipped, fabric.Skip{Object: "Node/" + s.Node,
				Reason: fmt.Sprintf("fabric %s, switch %s: %s cannot peer with it: %v; its session, filter and paths are not planned", in.Fabric, s.Switch, lim.PlatformName, err)})
			continue
		}
		accepted = append(accepted, s)
		r.Add(peer, s.Sources...)
		if !lim.NoFilters {
			r.Add(filter, s.FilterSources...)
		}
	}
	paths := in.Paths
	if paths.Limit == 0 || (lim.MaxPaths > 0 && paths.Limit > lim.MaxPaths) {
		paths.Limit = lim.MaxPaths
	}
	for _, m := range paths.PathsFor(accepted) {
		r.Add(m, "Node/*", "Service/*", "BGPConfiguration/default")
	}
	for _, h := range in.Holds {
		r.Holds = append(r.Holds, Holds(h)...)
	}
	return r
}

// Holds maps an intent hold to the objects a CLI platform holds for it: the
// shared scopes, and the filters for the pods' and the exported prefixes
// (what a node may send).
func Holds(h fabric.IntentHold) []fabric.Hold {
	switch h.Scope {
	case fabric.HoldPodPrefixes, fabric.HoldExports:
		return []fabric.Hold{{Reason: h.Reason, Kind: fabric.KindPrefixFilter, ShrinkOnly: h.ShrinkOnly}}
	}
	return fabric.CommonHolds(h)
}
