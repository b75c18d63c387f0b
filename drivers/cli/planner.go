package cli

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Handler writes a platform's lines for the changes Planner.Plan has
// checked: every value of a created or updated object passed the grammar
// (CheckPeer, CheckPrefixFilter, CheckMaximumPaths), every deleted address
// parsed. A driver's planner implements it.
type Handler interface {
	PeerUp(fabric.BGPPeer)
	PeerDown(netip.Addr)
	FilterUp(fabric.PrefixFilter)
	FilterDown(netip.Addr)
	MaxPathsUp(fabric.MaximumPaths)
	MaxPathsDown(fabric.AddressFamily)
}

// Planner is the vendor-neutral part of a driver's line planner for one
// switch: it orders and checks the changes, and plans what is the same on
// every CLI platform (the prefix-list and route-map of a peer filter, the
// markers, maximum-paths and its relax setting). The driver's planner
// embeds it and writes its own syntax for neighbors. Both update the
// switch's configuration model as they go, so that only missing lines are
// planned.
type Planner struct {
	*Script
	Ownership
	// Switch is the switch the changes are for; a change for another one
	// is refused.
	Switch string
	// Platform names the platform in refusals ("FRR", "NX-OS").
	Platform string
	// MaxPaths is the platform's maximum-paths limit.
	MaxPaths int
	// Filters are the switch's prefix-lists and route-maps.
	Filters *Filters

	refusedFilters map[netip.Addr]bool
}

// Plan checks each change and hands it to h, in the safe order (Order).
// A change that fails the grammar is refused with the reason and produces
// no line; so is a new neighbor whose filter was refused (see
// RefuseUnfiltered).
func (p *Planner) Plan(changes []fabric.Change, h Handler) {
	for _, c := range Order(changes) {
		p.change(c, h)
	}
}

func (p *Planner) change(c fabric.Change, h Handler) {
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
				h.PeerDown(a)
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
		h.PeerUp(peer)
	case fabric.KindPrefixFilter:
		if del {
			if a, err := Addr("peer address", c.ID); err != nil {
				p.Refuse(err)
			} else {
				h.FilterDown(a)
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
				p.RefuseFilter(a)
			}
			p.Refuse(err)
			return
		}
		h.FilterUp(f)
	case fabric.KindMaximumPaths:
		af := fabric.AddressFamily(c.ID)
		if af != fabric.IPv4 && af != fabric.IPv6 {
			p.Refuse(fmt.Errorf("address family %s must be ipv4 or ipv6", Quote(c.ID)))
			return
		}
		if del {
			h.MaxPathsDown(af)
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
		h.MaxPathsUp(m)
	default:
		p.Refuse(fmt.Errorf("%s objects are not configured on %s", c.Kind, p.Platform))
	}
}

// RefuseFilter records that the filter of a peer was refused: its neighbor,
// if new, is then not created (a neighbor is never configured unfiltered).
func (p *Planner) RefuseFilter(a netip.Addr) {
	if p.refusedFilters == nil {
		p.refusedFilters = map[netip.Addr]bool{}
	}
	p.refusedFilters[a] = true
}

// RefuseUnfiltered refuses the current change, a neighbor at a, when the
// neighbor does not exist yet and its filter was refused; it tells whether
// it did.
func (p *Planner) RefuseUnfiltered(a netip.Addr, exists bool) bool {
	if exists || !p.refusedFilters[a] {
		return false
	}
	p.Refuse(errors.New("not created: its prefix filter was refused, and a neighbor is never configured unfiltered"))
	return true
}

// ConflictNeighbor records that the current change found a neighbor it does
// not own at its address; what says what happens to the change.
func (p *Planner) ConflictNeighbor(n *Neighbor, what string) {
	owner, _ := Parse(n.Description)
	who := "without this cluster's mark"
	if owner != "" {
		who = "owned by " + owner
	}
	p.Conflict(owner, fmt.Sprintf("neighbor %s is configured %s; %s", n.ID, who, what))
}

// Rebind returns the route-map line change an owned neighbor needs: bind
// the filter's route-map (want, from BindingFor) or unbind one of the
// cluster's filters that no longer exists; both "" when nothing is to do.
func (p *Planner) Rebind(want, have string) (bind, unbind string) {
	switch {
	case want != "" && have != want:
		return want, ""
	case want == "" && have != "" && p.IsFilterName(have):
		return "", have
	}
	return "", ""
}

// FilterLists plans a peer filter's prefix-list and route-map: the
// prefix-list "<fam> prefix-list NAME" with description desc and the
// entries want (new entries before old ones go, so that a route the node
// may keep advertising is never denied in between; a list with a line the
// driver could not read is rebuilt), and the route-map NAME with one entry,
// "permit 10", with the description and the match on the prefix-list.
// echo vets a line found in that entry before the planner sends it back
// after "no "; when it refuses one, the change is refused and FilterLists
// returns false. Binding the route-map to the neighbor is the driver's.
func (p *Planner) FilterLists(a netip.Addr, desc string, want []PrefixListEntry, echo func(routeMap, line string) error) bool {
	name := p.Naming.PeerFilter(a)
	fam := PrefixListFamily(a)
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
		if wanted {
			kept = append(kept, h)
		} else {
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
	match := MatchLine(a, name)
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

// DropFilterLists plans the deletion of a peer filter's route-map and
// prefix-list, once no neighbor uses it.
func (p *Planner) DropFilterLists(a netip.Addr) {
	name := p.Naming.PeerFilter(a)
	key := PrefixListKey{PrefixListFamily(a), name}
	if _, ok := p.Filters.RouteMaps[name]; ok {
		p.Top("no route-map " + name)
		delete(p.Filters.RouteMaps, name)
	}
	if _, ok := p.Filters.PrefixLists[key]; ok {
		p.Top(fmt.Sprintf("no %s prefix-list %s", key.Family, name))
		delete(p.Filters.PrefixLists, key)
	}
}

// AddMarker records that the cluster owns a setting, before the setting is
// made: an apply that stops in between leaves an owned, incomplete setting
// (completed by the next sync), never an unowned one.
func (p *Planner) AddMarker(what, setting string) {
	name := p.Naming.Marker(what)
	desc := p.Mark.DescribeSetting(setting)
	p.Top(fmt.Sprintf("ip prefix-list %s description %s", name, desc))
	key := PrefixListKey{"ip", name}
	p.Filters.PrefixLists[key] = &PrefixList{Key: key, Description: desc, HasDesc: true}
}

// DropMarker deletes a setting's marker.
func (p *Planner) DropMarker(what string) {
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
	// NewAF adds the block to the model; PlanMaxPaths enters AFMode for it
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

// PlanMaxPaths plans maximum-paths (eBGP and iBGP) for an address family,
// with multipath-relax: the nodes have different AS numbers. The marker
// goes first; maximum-paths set without it is a conflict and left alone;
// relax set by hand stays the network team's (no marker for it).
func (p *Planner) PlanMaxPaths(m fabric.MaximumPaths, at PathsAt) {
	what := MarkerMaxPaths(m.AddressFamily)
	af := at.AF
	if !p.HasMarker(p.Filters, what) {
		if af != nil && (af.MaxPaths != 0 || af.MaxPathsIBGP != 0) {
			p.Conflict("", fmt.Sprintf("maximum-paths is set in address-family %s without this cluster's marker (prefix-list %s); it is left alone",
				at.AFName, p.Naming.Marker(what)))
			return
		}
		p.AddMarker(what, "maximum-paths "+string(m.AddressFamily))
	}
	if !*at.Relax {
		if !p.HasMarker(p.Filters, MarkerRelax) {
			p.AddMarker(MarkerRelax, at.RelaxLine)
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

// DropMaxPaths plans the deletion of an owned maximum-paths, and of relax
// with the last family when the driver turned it on.
func (p *Planner) DropMaxPaths(fam fabric.AddressFamily, at PathsAt) {
	what := MarkerMaxPaths(fam)
	if !p.HasMarker(p.Filters, what) {
		return // no longer ours: nothing to delete
	}
	if af := at.AF; af != nil {
		if af.MaxPaths != 0 {
			p.In(at.AFMode, "no maximum-paths")
			af.MaxPaths = 0
		}
		if af.MaxPathsIBGP != 0 {
			p.In(at.AFMode, "no maximum-paths ibgp")
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
		p.DropMarker(MarkerRelax)
	}
	p.DropMarker(what)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
