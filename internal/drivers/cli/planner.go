package cli

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Platform is what the shared planner needs of a driver: its
// configuration model of the switch's BGP context, and its syntax. Planner
// decides what may be written (ownership, grammar, conflicts, refusals); a
// Platform only writes lines for what was decided, and updates its model.
type Platform interface {
	// NeighborAt returns the neighbor configured at an address in the
	// driver's BGP context, nil when there is none.
	NeighborAt(netip.Addr) *Neighbor
	// PeerUp writes the lines a peer still needs, creating its neighbor
	// when absent: the neighbor at its address, if any, is the cluster's;
	// desc is its description (Planner.Describe).
	PeerUp(peer fabric.BGPPeer, desc string)
	// PeerDown deletes an owned neighbor.
	PeerDown(*Neighbor)
	// RouteMapIn is the inbound route-map of a neighbor in its address
	// family ("" when none).
	RouteMapIn(*Neighbor) string
	// Bind makes name the inbound route-map of an owned neighbor unless it
	// is already (a new neighbor gets it in PeerUp); Unbind removes it.
	Bind(n *Neighbor, name string)
	Unbind(n *Neighbor, name string)
	// DenyAll is the entry a filter that permits nothing holds.
	DenyAll(netip.Addr) PrefixListEntry
	// Echo vets a line found in an owned route-map entry before it is sent
	// back after "no "; an error refuses the filter.
	Echo(routeMap, line string) error
	// PathsAt says where the platform keeps an address family's
	// maximum-paths.
	PathsAt(fabric.AddressFamily) PathsAt
}

// Planner plans the lines of one switch's changes. It orders and checks
// them, and decides, the same way on every CLI platform, what may be
// written: a neighbor the cluster does not own is a conflict, a value that
// fails the grammar refuses its change, a new neighbor whose filter was
// refused is not created. It writes what FRR and NX-OS write alike (the
// prefix-list and route-map of a peer filter, the markers, maximum-paths
// and its relax setting) and asks the Platform for the rest. The driver's
// planner embeds it and implements Platform. Both update the switch's
// configuration model as they go, so that only missing lines are planned.
type Planner struct {
	*Script
	Ownership
	// Switch is the switch the changes are for; a change for another one
	// is refused.
	Switch string
	// PlatformName names the platform in refusals ("FRR", "NX-OS").
	PlatformName string
	// MaxPaths is the platform's maximum-paths limit.
	MaxPaths int
	// MaxDescription is the platform's longest description (0: no limit).
	MaxDescription int
	// Filters are the switch's prefix-lists and route-maps.
	Filters *Filters
	// NoFormsInFull writes the no-forms of a prefix-list entry and of
	// maximum-paths with what they remove, as NX-OS documents them: "no ip
	// prefix-list NAME seq N permit PREFIX [le M]" and "no maximum-paths
	// [ibgp] N". Otherwise they are "no ip prefix-list NAME seq N" and
	// "no maximum-paths [ibgp]", which FRR takes (lib/filter_cli.c
	// no_ip_prefix_list_seq, bgpd/bgp_vty.c "no maximum-paths
	// [(1-MULTIPATH_NUM)]").
	NoFormsInFull bool

	refusedFilters map[netip.Addr]bool
}

// Plan checks each change, in the safe order (Order), and plans its lines.
// A change that fails the grammar is refused with the reason and produces
// no line.
func (p *Planner) Plan(changes []fabric.Change, pl Platform) {
	for _, c := range Order(changes) {
		p.change(c, pl)
	}
}

func (p *Planner) change(c fabric.Change, pl Platform) {
	p.Begin(c)
	if c.Switch != p.Switch {
		p.Refuse(fmt.Errorf("the change is for switch %s", Quote(c.Switch)))
		return
	}
	del := c.Action == fabric.ActionDelete
	switch c.Kind {
	case fabric.KindBGPPeer:
		if del {
			if a, err := Addr("peer address", c.ID); err != nil {
				p.Refuse(err)
			} else {
				p.peerDown(pl, a)
			}
			return
		}
		peer, ok := c.After.(fabric.BGPPeer)
		if !ok {
			p.Refuse(errors.New("no peer to configure"))
			return
		}
		if err := CheckPeer(peer); err != nil {
			p.Refuse(err)
			return
		}
		p.peerUp(pl, peer)
	case fabric.KindPrefixFilter:
		if del {
			if a, err := Addr("peer address", c.ID); err != nil {
				p.Refuse(err)
			} else {
				p.filterDown(pl, a)
			}
			return
		}
		f, ok := c.After.(fabric.PrefixFilter)
		if !ok {
			p.Refuse(errors.New("no filter to configure"))
			return
		}
		if err := CheckPrefixFilter(f); err != nil {
			if a, aerr := Addr("peer address", f.PeerAddress); aerr == nil {
				p.refuseFilter(a)
			}
			p.Refuse(err)
			return
		}
		p.filterUp(pl, f)
	case fabric.KindMaximumPaths:
		af := fabric.AddressFamily(c.ID)
		if af != fabric.IPv4 && af != fabric.IPv6 {
			p.Refuse(fmt.Errorf("address family %s must be ipv4 or ipv6", Quote(c.ID)))
			return
		}
		if del {
			p.dropMaxPaths(af, pl.PathsAt(af))
			return
		}
		m, ok := c.After.(fabric.MaximumPaths)
		if !ok {
			p.Refuse(errors.New("no maximum-paths to configure"))
			return
		}
		if err := CheckMaximumPaths(m, p.MaxPaths); err != nil {
			p.Refuse(err)
			return
		}
		p.planMaxPaths(m, pl.PathsAt(af))
	case fabric.KindBGPListen:
		if del {
			p.listenDown(pl, fabric.AddressFamily(c.ID))
		} else {
			p.listenUp(pl, c)
		}
	default:
		p.Refuse(fmt.Errorf("%s objects are not configured on %s", CommentID(string(c.Kind)), p.PlatformName))
	}
}

// Describe is the description of a node's objects, checked against the
// grammar and the platform's length limit.
func (p *Planner) Describe(node string) (string, error) { return p.DescribePeer(node, nil) }

// DescribePeer is the description of a node's neighbor: Describe's, with
// the fingerprint of its password (Mark.DescribePeer).
func (p *Planner) DescribePeer(node string, password *fabric.Secret) (string, error) {
	if _, err := p.Ownership.Describe(node); err != nil {
		return "", err
	}
	desc := p.Mark.DescribePeer(node, password)
	if err := Text("description", desc, 0); err != nil {
		return "", err
	}
	if p.MaxDescription > 0 && len(desc) > p.MaxDescription {
		return "", fmt.Errorf("node name %s: the description %s would be %d characters, %s takes %d (node names of at most %d characters fit)",
			Quote(node), Quote(desc), len(desc), p.PlatformName, p.MaxDescription, p.MaxDescription-len(p.Mark.DescribePeer("x", password))+1)
	}
	return desc, nil
}

// inTheWay records a conflict when a neighbor the cluster does not own is
// at the change's address; what says what happens to the change.
func (p *Planner) inTheWay(n *Neighbor, what string) bool {
	if n == nil || p.Mark.Owns(n.Description) {
		return false
	}
	owner, _ := Parse(n.Description)
	who := "without this cluster's mark"
	if owner != "" {
		who = "owned by " + owner
	}
	p.Conflict(owner, fmt.Sprintf("neighbor %s is configured %s; %s", n.ID, who, what))
	return true
}

func (p *Planner) peerUp(pl Platform, peer fabric.BGPPeer) {
	a, _ := Addr("peer address", peer.PeerAddress)
	n := pl.NeighborAt(a)
	if p.inTheWay(n, "it is left alone") {
		return
	}
	if n == nil && p.refusedFilters[a] {
		p.Refuse(errors.New("not created: its prefix filter was refused, and a neighbor is never configured unfiltered"))
		return
	}
	desc, err := p.DescribePeer(peer.Node, peer.Password)
	if err != nil {
		p.Refuse(err)
		return
	}
	var have PasswordState
	if n != nil {
		have = n.Password
	}
	if _, _, err := PasswordChange(have, peer.Password); err != nil {
		p.Refuse(err)
		return
	}
	pl.PeerUp(peer, desc)
}

func (p *Planner) peerDown(pl Platform, a netip.Addr) {
	n := pl.NeighborAt(a)
	if n == nil {
		return // already gone
	}
	if p.inTheWay(n, "it is not deleted") {
		return
	}
	pl.PeerDown(n)
}

func (p *Planner) filterUp(pl Platform, f fabric.PrefixFilter) {
	a, _ := Addr("peer address", f.PeerAddress)
	n := pl.NeighborAt(a)
	if p.inTheWay(n, "its inbound filter is not this cluster's to set") {
		return
	}
	desc, err := p.Describe(f.Node)
	if err != nil {
		p.refuseFilter(a)
		p.Refuse(err)
		return
	}
	if !p.filterLists(a, desc, WantEntries(f, pl.DenyAll(a)), pl.Echo) {
		return
	}
	// An existing neighbor of ours gets the filter now; a new one gets it
	// when it is created.
	if n != nil {
		pl.Bind(n, p.Naming.PeerFilter(a))
	}
}

func (p *Planner) filterDown(pl Platform, a netip.Addr) {
	name := p.Naming.PeerFilter(a)
	if n := pl.NeighborAt(a); n != nil && pl.RouteMapIn(n) == name {
		if p.inTheWay(n, "it uses this filter, which is therefore kept") {
			return
		}
		pl.Unbind(n, name)
	}
	p.dropFilterLists(a)
}

// refuseFilter records that the filter of a peer was refused: its neighbor,
// if new, is then not created (a neighbor is never configured unfiltered).
func (p *Planner) refuseFilter(a netip.Addr) {
	if p.refusedFilters == nil {
		p.refusedFilters = map[netip.Addr]bool{}
	}
	p.refusedFilters[a] = true
}

// Rebind says how the inbound route-map of an owned neighbor at a, have
// now, must change: bind its filter's route-map when the filter's
// prefix-list exists, or unbind one of the cluster's filters that no longer
// does; both "" when nothing is to do.
func (p *Planner) Rebind(a netip.Addr, have string) (bind, unbind string) {
	switch want := p.BindingFor(p.Filters, a); {
	case want != "" && have != want:
		return want, ""
	case want == "" && have != "" && p.IsFilterName(have):
		return "", have
	}
	return "", ""
}

// filterLists plans a peer filter's prefix-list and route-map: the
// prefix-list "<fam> prefix-list NAME" with description desc and the
// entries want (new entries before old ones go, so that a route the node
// may keep advertising is never denied in between; a list with a line the
// driver could not read is rebuilt), and the route-map NAME with one entry,
// "permit 10", with the description and the match on the prefix-list.
// echo vets a line found in that entry before the planner sends it back
// after "no "; when it refuses one, the change is refused and filterLists
// returns false.
func (p *Planner) filterLists(a netip.Addr, desc string, want []PrefixListEntry, echo func(routeMap, line string) error) bool {
	return p.lists(p.Naming.PeerFilter(a), PrefixListFamily(a), desc, want, echo)
}

// lists plans the prefix-list and route-map of one name (see filterLists).
func (p *Planner) lists(name, fam, desc string, want []PrefixListEntry, echo func(routeMap, line string) error) bool {
	key := PrefixListKey{fam, name}

	pl := p.Filters.PrefixLists[key]
	if pl != nil && pl.Bad {
		p.Top(fmt.Sprintf("no %s prefix-list %s", fam, name))
		pl = nil
	}
	if pl == nil {
		pl = &PrefixList{Key: key}
		p.Filters.PrefixLists[key] = pl
	}
	if !pl.HasDesc || pl.Description != desc {
		p.Top(fmt.Sprintf("%s prefix-list %s description %s", fam, name, desc))
		pl.Description, pl.HasDesc = desc, true
	}
	var seq int64
	for _, e := range pl.Entries {
		seq = max(seq, e.Seq)
	}
	for _, w := range want {
		found := false
		for _, h := range pl.Entries {
			found = found || w.Same(h)
		}
		if !found {
			seq += 5
			w.Seq = seq
			p.Top(fmt.Sprintf("%s prefix-list %s seq %d %s", fam, name, seq, w.Text()))
			pl.Entries = append(pl.Entries, w)
		}
	}
	kept := pl.Entries[:0]
	for _, h := range pl.Entries {
		wanted := false
		for _, w := range want {
			wanted = wanted || w.Same(h)
		}
		switch {
		case wanted:
			kept = append(kept, h)
		case p.NoFormsInFull:
			p.Top(fmt.Sprintf("no %s prefix-list %s seq %d %s", fam, name, h.Seq, h.Text()))
		default:
			p.Top(fmt.Sprintf("no %s prefix-list %s seq %d", fam, name, h.Seq))
		}
	}
	pl.Entries = kept

	// The route-map: one entry "permit 10" matching the prefix-list; routes
	// it does not permit fall to the route-map's implicit deny.
	rm := p.Filters.RouteMaps[name]
	if rm == nil {
		rm = &RouteMap{Name: name}
		p.Filters.RouteMaps[name] = rm
	}
	var entry *RouteMapEntry
	var others []*RouteMapEntry
	for _, e := range rm.Entries {
		if e.Action == "permit" && e.Seq == 10 {
			entry = e
		} else {
			others = append(others, e)
		}
	}
	for _, e := range others {
		p.Top(fmt.Sprintf("no route-map %s %s %d", name, e.Action, e.Seq))
	}
	if entry == nil {
		entry = &RouteMapEntry{Action: "permit", Seq: 10}
	}
	rm.Entries = []*RouteMapEntry{entry}
	mode := []string{"route-map " + name + " permit 10"}
	if entry.Description != desc {
		p.In(mode, "description "+desc)
		entry.Description = desc
	}
	match := matchLine(fam, name)
	hasMatch := false
	var lines []string
	for _, l := range entry.Lines {
		switch {
		case l == match:
			hasMatch = true
			lines = append(lines, l)
		default:
			// Only what the switch printed reaches this line.
			if err := echo(name, l); err != nil {
				p.Refuse(err)
				return false
			}
			p.In(mode, "no "+l)
		}
	}
	if !hasMatch {
		p.In(mode, match)
		lines = append(lines, match)
	}
	entry.Lines = lines
	return true
}

// dropFilterLists plans the deletion of a peer filter's route-map and
// prefix-list, once no neighbor uses it.
func (p *Planner) dropFilterLists(a netip.Addr) {
	p.dropLists(p.Naming.PeerFilter(a), PrefixListFamily(a))
}

// dropLists plans the deletion of the route-map and prefix-list of one
// name.
func (p *Planner) dropLists(name, fam string) {
	key := PrefixListKey{fam, name}
	if _, ok := p.Filters.RouteMaps[name]; ok {
		p.Top("no route-map " + name)
		delete(p.Filters.RouteMaps, name)
	}
	if _, ok := p.Filters.PrefixLists[key]; ok {
		p.Top(fmt.Sprintf("no %s prefix-list %s", key.Family, name))
		delete(p.Filters.PrefixLists, key)
	}
}

// addMarker records that the cluster owns a setting, before the setting is
// made: an apply that stops in between leaves an owned, incomplete setting
// (completed by the next sync), never an unowned one.
func (p *Planner) addMarker(what, setting string) {
	name := p.Naming.Marker(what)
	desc := p.Mark.DescribeSetting(setting)
	p.Top(fmt.Sprintf("ip prefix-list %s description %s", name, desc))
	key := PrefixListKey{"ip", name}
	p.Filters.PrefixLists[key] = &PrefixList{Key: key, Description: desc, HasDesc: true}
}

// dropMarker deletes a setting's marker.
func (p *Planner) dropMarker(what string) {
	name := p.Naming.Marker(what)
	p.Top("no ip prefix-list " + name)
	delete(p.Filters.PrefixLists, PrefixListKey{"ip", name})
}

// PathsAt is where a platform keeps one address family's maximum-paths,
// as the planner sees it.
type PathsAt struct {
	// AF holds the family's lines; nil when its address-family block does
	// not exist (yet).
	AF *Paths
	// NewAF adds the block to the model; the planner enters AFMode for it
	// before its first line.
	NewAF func() *Paths
	// AFName is "ipv4 unicast" or "ipv6 unicast".
	AFName string
	// AFMode and BGPMode are the mode paths of the address family and of
	// the BGP context (router, VRF).
	AFMode, BGPMode []string
	// Relax is whether RelaxLine is on in the BGP context.
	Relax     *bool
	RelaxLine string
	// Default is what a missing maximum-paths line means on the platform.
	Default int
}

// planMaxPaths plans maximum-paths (eBGP and iBGP) for an address family,
// with multipath-relax: the nodes have different AS numbers. The marker
// goes first; maximum-paths set without it is a conflict and left alone;
// relax set by hand stays the network team's (no marker for it).
func (p *Planner) planMaxPaths(m fabric.MaximumPaths, at PathsAt) {
	what := MarkerMaxPaths(m.AddressFamily)
	af := at.AF
	if !p.HasMarker(p.Filters, what) {
		if af != nil && (af.MaxPaths != 0 || af.MaxPathsIBGP != 0) {
			p.Conflict("", fmt.Sprintf("maximum-paths is set in address-family %s without this cluster's marker (prefix-list %s); it is left alone",
				at.AFName, p.Naming.Marker(what)))
			return
		}
		p.addMarker(what, "maximum-paths "+string(m.AddressFamily))
	}
	if !*at.Relax {
		if !p.HasMarker(p.Filters, MarkerRelax) {
			p.addMarker(MarkerRelax, at.RelaxLine)
		}
		p.In(at.BGPMode, at.RelaxLine)
		*at.Relax = true
	}
	if af == nil {
		af = at.NewAF()
		p.In(at.AFMode)
	}
	if orDefault(af.MaxPaths, at.Default) != m.Paths {
		p.In(at.AFMode, fmt.Sprintf("maximum-paths %d", m.Paths))
		af.MaxPaths = m.Paths
	}
	if orDefault(af.MaxPathsIBGP, at.Default) != m.Paths {
		p.In(at.AFMode, fmt.Sprintf("maximum-paths ibgp %d", m.Paths))
		af.MaxPathsIBGP = m.Paths
	}
}

// dropMaxPaths plans the deletion of an owned maximum-paths, and of relax
// with the last family when the driver turned it on.
func (p *Planner) dropMaxPaths(fam fabric.AddressFamily, at PathsAt) {
	what := MarkerMaxPaths(fam)
	if !p.HasMarker(p.Filters, what) {
		return // no longer ours: nothing to delete
	}
	if af := at.AF; af != nil {
		if af.MaxPaths != 0 {
			p.In(at.AFMode, p.noPaths("maximum-paths", af.MaxPaths))
			af.MaxPaths = 0
		}
		if af.MaxPathsIBGP != 0 {
			p.In(at.AFMode, p.noPaths("maximum-paths ibgp", af.MaxPathsIBGP))
			af.MaxPathsIBGP = 0
		}
	}
	other := MarkerMaxPaths(fabric.IPv4)
	if fam == fabric.IPv4 {
		other = MarkerMaxPaths(fabric.IPv6)
	}
	if p.HasMarker(p.Filters, MarkerRelax) && !p.HasMarker(p.Filters, other) {
		if *at.Relax {
			p.In(at.BGPMode, "no "+at.RelaxLine)
			*at.Relax = false
		}
		p.dropMarker(MarkerRelax)
	}
	p.dropMarker(what)
}

// noPaths is the no-form of a maximum-paths line that is set to n.
func (p *Planner) noPaths(cmd string, n int) string {
	if p.NoFormsInFull {
		return fmt.Sprintf("no %s %d", cmd, n)
	}
	return "no " + cmd
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
