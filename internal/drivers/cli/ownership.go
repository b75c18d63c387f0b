package cli

import (
	"log/slog"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Ownership is how a CLI driver tells what belongs to its cluster, and
// writes it so: the mark in descriptions, the names of its objects, and the
// marker prefix-lists of settings that cannot carry a mark.
type Ownership struct {
	Mark   Mark
	Naming Naming
	// StrictMarkers makes a marker prefix-list count only when its
	// description carries the mark (NX-OS); otherwise its name is enough
	// (FRR).
	StrictMarkers bool
}

// Describe is the description of a node's objects, checked against the
// grammar.
func (o Ownership) Describe(node string) (string, error) {
	desc := o.Mark.Describe(node)
	if err := Text("description", desc, 0); err != nil {
		return "", err
	}
	return desc, nil
}

// HasMarker reports whether the marker prefix-list of a setting (what:
// MarkerRelax, MarkerMaxPaths(af)) records that the cluster owns it.
func (o Ownership) HasMarker(fs *Filters, what string) bool {
	pl, ok := fs.PrefixLists[PrefixListKey{"ip", o.Naming.Marker(what)}]
	return ok && (!o.StrictMarkers || strings.HasPrefix(pl.Description, string(o.Mark)+" "))
}

// IsFilterName reports whether a prefix-list or route-map name is one of
// the cluster's peer filters.
func (o Ownership) IsFilterName(name string) bool {
	_, ok := o.Naming.ParsePeerFilter(name)
	return ok
}

// IsMarkerName reports whether a prefix-list name is one of the cluster's
// markers.
func (o Ownership) IsMarkerName(name string) bool {
	for _, w := range []string{MarkerRelax, MarkerMaxPaths(fabric.IPv4), MarkerMaxPaths(fabric.IPv6)} {
		if o.Naming.IsMarker(name, w) {
			return true
		}
	}
	return false
}

// BindingFor is the route-map a neighbor must use inbound: its filter's,
// when the filter's prefix-list exists.
func (o Ownership) BindingFor(fs *Filters, a netip.Addr) string {
	name := o.Naming.PeerFilter(a)
	if _, ok := fs.PrefixLists[PrefixListKey{PrefixListFamily(a), name}]; ok {
		return name
	}
	return ""
}

// BindingProblem says what is wrong with an owned neighbor's inbound
// route-map ("" when nothing): want is BindingFor's answer, have the
// route-map bound now.
func (o Ownership) BindingProblem(want, have string) string {
	switch {
	case want != "" && have != want:
		return "route-map " + want + " not applied"
	case want == "" && have != "" && o.IsFilterName(have):
		return "route-map " + have + " applied but missing"
	}
	return ""
}

// FilterAddrs lists the peers that have a prefix-list or route-map of the
// cluster, sorted.
func (o Ownership) FilterAddrs(fs *Filters) []netip.Addr {
	seen := map[netip.Addr]bool{}
	for k := range fs.PrefixLists {
		if a, ok := o.Naming.ParsePeerFilter(k.Name); ok && k.Family == PrefixListFamily(a) {
			seen[a] = true
		}
	}
	for name := range fs.RouteMaps {
		if a, ok := o.Naming.ParsePeerFilter(name); ok {
			seen[a] = true
		}
	}
	out := make([]netip.Addr, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// Neighbor is what a BGP neighbor has on every CLI platform; a driver's
// neighbor type embeds it.
type Neighbor struct {
	ID           string     // as written: an address, or a name or prefix
	Addr         netip.Addr // valid when ID is an address
	RemoteAS     string
	Description  string
	LocalAS      uint32
	LocalASFlags string // "no-prepend replace-as", ...
	// Password is what the neighbor holds of a password (see options.go).
	Password PasswordState
	// Options are the neighbor's PeerLines as read (peerlines.go); the
	// other options are not kept here.
	Options fabric.PeerOptions
}

// Paths are an address family's maximum-paths lines; 0 when a line is
// absent. A driver's address-family type embeds it.
type Paths struct {
	MaxPaths     int
	MaxPathsIBGP int
}

// Or returns the eBGP and iBGP values in effect: a missing line means what
// def says, the platform's default (asked only when needed).
func (p Paths) Or(def func() int) (ebgp, ibgp int) {
	ebgp, ibgp = p.MaxPaths, p.MaxPathsIBGP
	if ebgp == 0 || ibgp == 0 {
		d := def()
		if ebgp == 0 {
			ebgp = d
		}
		if ibgp == 0 {
			ibgp = d
		}
	}
	return ebgp, ibgp
}

// Incomplete is the node name Observe reports for an owned object whose
// configuration is incomplete or was changed by hand (an apply that stopped
// halfway, a route-map unbound by someone): the model has no field for
// that, and a node name no desired object has makes the plan update the
// object, which completes it.
func Incomplete(reason string) string { return "(incomplete: " + reason + ")" }

// Observation collects, for one switch, the objects that carry the
// cluster's ownership and the places the cluster would write that hold
// someone else's. A driver feeds it in a fixed order (neighbors by ID, then
// PeerFilters, then MaxPaths per family) so that observations are stable.
type Observation struct {
	Ownership
	Switch  string
	Filters *Filters
	Log     *slog.Logger
	Owned   []fabric.Object
	Foreign []fabric.Foreign
}

// Neighbor records a neighbor at an address. One whose description carries
// the mark is the cluster's peer, which read returns, with what is wrong
// with it ("" when nothing: the peer is then reported as incomplete). Any
// other is foreign, and so is the filter the cluster would attach to it.
func (o *Observation) Neighbor(n *Neighbor, read func() (fabric.BGPPeer, string)) {
	owner, _ := Parse(n.Description)
	if owner != string(o.Mark) {
		o.Foreign = append(o.Foreign,
			fabric.Foreign{Kind: fabric.KindBGPPeer, Switch: o.Switch, ID: n.Addr.String(), Owner: owner},
			fabric.Foreign{Kind: fabric.KindPrefixFilter, Switch: o.Switch, ID: n.Addr.String(), Owner: owner})
		return
	}
	p, why := read()
	if why != "" {
		o.Log.Warn("owned neighbor is incomplete; the plan completes it", "switch", o.Switch, "neighbor", p.PeerAddress, "reason", why)
		p.Node = Incomplete(why)
	}
	o.Owned = append(o.Owned, p)
}

// PeerFilters records the cluster's prefix filters: one per peer address
// that has a prefix-list or route-map named for it. isDenyAll recognises
// the entry a filter that permits nothing holds (WantEntries' denyAll);
// binding says what is wrong with the filter's binding to the peer's owned
// neighbor ("" when nothing, or when there is no owned neighbor).
func (o *Observation) PeerFilters(isDenyAll func(netip.Addr, PrefixListEntry) bool, binding func(a netip.Addr, name string) string) {
	for _, a := range o.FilterAddrs(o.Filters) {
		name := o.Naming.PeerFilter(a)
		f, why := o.readFilter(a, func(e PrefixListEntry) bool { return isDenyAll(a, e) })
		if why == "" {
			why = binding(a, name)
		}
		if why != "" {
			o.Log.Warn("owned prefix filter is incomplete; the plan completes it", "switch", o.Switch, "filter", name, "reason", why)
			f.Node = Incomplete(why)
		}
		o.Owned = append(o.Owned, f)
	}
}

// readFilter reads a peer filter back from its prefix-list and route-map,
// and says what is wrong with them ("" when nothing).
func (o *Observation) readFilter(a netip.Addr, isDenyAll func(PrefixListEntry) bool) (fabric.PrefixFilter, string) {
	f := fabric.PrefixFilter{Switch: o.Switch, PeerAddress: a.String()}
	var why string
	f.Prefixes, f.Node, why = o.readLists(o.Naming.PeerFilter(a), PrefixListFamily(a), isDenyAll)
	return f, why
}

// readLists reads a filter back from the prefix-list and route-map of one
// name: its rules, the node its description names, and what is wrong with
// them ("" when nothing).
func (o *Observation) readLists(name, fam string, isDenyAll func(PrefixListEntry) bool) (rules []fabric.PrefixRule, node, why string) {
	f := fabric.PrefixFilter{Prefixes: []fabric.PrefixRule{}}
	pl := o.Filters.PrefixLists[PrefixListKey{fam, name}]
	if pl == nil {
		return f.Prefixes, "", "prefix-list missing"
	}
	var owner string
	owner, f.Node = Parse(pl.Description)
	if owner != string(o.Mark) {
		why = "prefix-list description changed"
	}
	denyAll := 0
	for _, e := range pl.Entries {
		if isDenyAll(e) {
			denyAll++ // what a filter that permits nothing holds
			continue
		}
		if e.Action != "permit" || e.Any || e.GE != 0 {
			why = "unexpected prefix-list entry"
			continue
		}
		le := e.LE
		if le == 0 {
			le = e.Prefix.Bits()
		}
		f.Prefixes = append(f.Prefixes, fabric.PrefixRule{Prefix: e.Prefix.String(), LE: le})
	}
	if pl.Bad || denyAll > 1 || (denyAll == 1 && len(f.Prefixes) > 0) || (denyAll == 0 && len(f.Prefixes) == 0) {
		// A list with a line the driver could not read, an empty list, or
		// a deny-all next to permits: not what the driver writes.
		why = "unexpected prefix-list entry"
	}
	if why == "" {
		why = o.routeMapProblem(name, fam, pl)
	}
	return f.Prefixes, f.Node, why
}

// routeMapProblem checks a filter's route-map: one entry, "permit 10", with
// the mark and a match on the prefix-list, nothing else.
func (o *Observation) routeMapProblem(name, fam string, pl *PrefixList) string {
	rm := o.Filters.RouteMaps[name]
	switch {
	case rm == nil:
		return "route-map missing"
	case len(rm.Entries) != 1 || rm.Entries[0].Action != "permit" || rm.Entries[0].Seq != 10:
		return "unexpected route-map entries"
	}
	e := rm.Entries[0]
	if e.Description != pl.Description {
		return "route-map description changed"
	}
	if len(e.Lines) != 1 || e.Lines[0] != matchLine(fam, name) {
		return "route-map match changed"
	}
	return ""
}

// MaxPaths records an address family's maximum-paths: the cluster's when
// its marker is there, foreign when set without it. have are the family's
// lines (nil: no address-family block), relax whether relaxLine is on in
// the BGP context, def what a missing line means on the platform. An owned
// setting that is not in effect (relax missing, eBGP and iBGP differ) is
// observed with 0 paths, so that the plan repairs it.
func (o *Observation) MaxPaths(af fabric.AddressFamily, have *Paths, relax bool, relaxLine string, def func() int) {
	if !o.HasMarker(o.Filters, MarkerMaxPaths(af)) {
		if have != nil && (have.MaxPaths != 0 || have.MaxPathsIBGP != 0) {
			o.Foreign = append(o.Foreign, fabric.Foreign{Kind: fabric.KindMaximumPaths, Switch: o.Switch, ID: string(af)})
		}
		return
	}
	m := fabric.MaximumPaths{Switch: o.Switch, AddressFamily: af}
	var p Paths
	if have != nil {
		p = *have
	}
	ebgp, ibgp := p.Or(def)
	switch {
	case !relax:
		o.Log.Warn("owned maximum-paths is not in effect: "+relaxLine+" is missing", "switch", o.Switch)
	case ebgp != ibgp:
		o.Log.Warn("owned maximum-paths differ for eBGP and iBGP", "switch", o.Switch, "ebgp", ebgp, "ibgp", ibgp)
	default:
		m.Paths = ebgp
	}
	o.Owned = append(o.Owned, m)
}
