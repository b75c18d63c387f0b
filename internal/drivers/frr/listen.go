package frr

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// Listen peering (`peering: listen`, cli/listen.go): per address family one
// peer-group, "FR-<cluster>-NODES-IPV4", that takes every session from the
// nodes' subnets:
//
//	router bgp 63500
//	 neighbor FR-haystack-NODES-IPV4 peer-group
//	 neighbor FR-haystack-NODES-IPV4 remote-as external
//	 neighbor FR-haystack-NODES-IPV4 description orchestrator:fabric-reconciler.haystack owns listen ipv4
//	 bgp listen range 192.168.9.192/28 peer-group FR-haystack-NODES-IPV4
//	 address-family ipv4 unicast
//	  neighbor FR-haystack-NODES-IPV4 route-map FR-haystack-NODES-IPV4 in
//
// "bgp listen range <A.B.C.D/M|X:X::X:X/M> peer-group PGNAME: Accept
// connections from any peers in the specified prefix. Configuration from
// the specified peer-group is used to configure these peers"; "bgp listen
// limit <1-65535>: ... This limit is set to 100 by default" (FRR 8.4
// doc/user/bgp.rst). The limit is per BGP instance: in listen peering the
// cluster owns it. The group's own options (password, timers, TTL
// security, local-as) and its family's (route-map, maximum-prefix) apply
// to every dynamic neighbor; the password needs TCP MD5 on prefixes (Linux
// 4.14 and later, same page).

// ownListen reports whether a listen range is one of the cluster's own
// (listen peering): not foreign.
func (p *planner) ownListen(r *listenRange) bool { return p.Ownership.IsListenName(r.Group) }

// listenGroup returns the cluster's listen group of a family, nil when the
// instance has none.
func listenGroup(inst *bgpInstance, own cli.Ownership, af fabric.AddressFamily) *neighbor {
	if n := inst.Neighbors[own.Naming.Listen(af)]; n != nil && n.IsPeerGroup {
		return n
	}
	return nil
}

func (p *planner) ListenGroup(af fabric.AddressFamily) *cli.Neighbor {
	if g := listenGroup(p.inst, p.Ownership, af); g != nil {
		return &g.Neighbor
	}
	return nil
}

// ListenUp writes a listen group's lines: the group, its remote-as and
// description, its options, its family's activation, filter and limit,
// the instance's listen limit, and the ranges last: they open the group to
// sessions.
func (p *planner) ListenUp(l fabric.BGPListen, desc, filter string) {
	bgp := p.bgpMode()
	id := p.Naming.Listen(l.AddressFamily)
	g := listenGroup(p.inst, p.Ownership, l.AddressFamily)
	if g == nil {
		p.In(bgp, fmt.Sprintf("neighbor %s peer-group", id))
		g = p.inst.neighbor(id)
		g.IsPeerGroup = true
	}
	if g.RemoteAS != l.RemoteAS {
		p.In(bgp, fmt.Sprintf("neighbor %s remote-as %s", id, l.RemoteAS))
		g.RemoteAS = l.RemoteAS
	}
	switch send, remove, _ := cli.PasswordChange(g.Password, l.Password); {
	case send != "":
		p.InSecret(bgp, fmt.Sprintf("neighbor %s password %s", id, cli.Sensitive), send)
		g.Password = cli.PasswordState{Set: true, Fingerprint: l.Password.Fingerprint()}
	case remove:
		p.In(bgp, fmt.Sprintf("no neighbor %s password", id))
		g.Password = cli.PasswordState{}
	}
	if g.Description != desc {
		p.In(bgp, fmt.Sprintf("neighbor %s description %s", id, desc))
		g.Description = desc
	}
	p.PeerLines(&g.Options, l.PeerOptions, p.neighborLine(id))
	own := cli.AFName(l.AddressFamily)
	for _, stray := range p.inst.strayFrom(g, own) {
		p.In(append(p.bgpMode(), "address-family "+stray), fmt.Sprintf("no neighbor %s activate", id))
		sn := p.inst.af(stray).neighbor(id)
		sn.Activate, sn.Deactivated = false, p.inst.defaultOn(stray)
	}
	af := p.afMode(l.AddressFamily)
	an := p.inst.af(own).neighbor(id)
	if !p.inst.activeIn(g, own) {
		p.In(af, fmt.Sprintf("neighbor %s activate", id))
		an.Activate, an.Deactivated = true, false
	}
	if an.RouteMapIn != filter {
		p.In(af, fmt.Sprintf("neighbor %s route-map %s in", id, filter))
		an.RouteMapIn = filter
	}
	switch want := wantMaxPrefix(l.MaxPrefix); {
	case want != nil && (an.MaxPrefix == nil || an.MaxPrefix.line() != want.line()):
		p.In(af, fmt.Sprintf("neighbor %s maximum-prefix %s", id, want.line()))
		an.MaxPrefix = want
	case want == nil && an.MaxPrefix != nil:
		p.In(af, fmt.Sprintf("no neighbor %s maximum-prefix", id))
		an.MaxPrefix = nil
	}
	// local-as after the filter, as for a neighbor: FRR may refuse it.
	if l.LocalASN != p.inst.ASN {
		if g.LocalAS != l.LocalASN || g.LocalASFlags != localASFlags {
			p.In(bgp, fmt.Sprintf("neighbor %s local-as %d %s", id, l.LocalASN, localASFlags))
			g.LocalAS, g.LocalASFlags = l.LocalASN, localASFlags
		}
	} else if g.LocalAS != 0 {
		p.In(bgp, fmt.Sprintf("no neighbor %s local-as", id))
		g.LocalAS, g.LocalASFlags = 0, ""
	}
	p.setListenLimit(l.Limit)
	var keep []listenRange
	for _, r := range p.inst.Listen {
		if r.Group == id && !slices.Contains(l.Ranges, r.Prefix.String()) {
			p.In(bgp, fmt.Sprintf("no bgp listen range %s peer-group %s", r.Prefix, id))
			continue
		}
		keep = append(keep, r)
	}
	p.inst.Listen = keep
	for _, rs := range l.Ranges {
		r := listenRange{Prefix: netip.MustParsePrefix(rs).Masked(), Group: id}
		if !slices.Contains(p.inst.Listen, r) {
			p.In(bgp, fmt.Sprintf("bgp listen range %s peer-group %s", r.Prefix, id))
			p.inst.Listen = append(p.inst.Listen, r)
		}
	}
}

// setListenLimit sets the instance's "bgp listen limit" (no line for
// FRR's default).
func (p *planner) setListenLimit(n int) {
	have := p.inst.ListenLimit
	if have == 0 {
		have = cli.DefaultListenLimit
	}
	switch {
	case n == have:
	case n == cli.DefaultListenLimit:
		p.In(p.bgpMode(), "no bgp listen limit")
		p.inst.ListenLimit = 0
	default:
		p.In(p.bgpMode(), "bgp listen limit "+strconv.Itoa(n))
		p.inst.ListenLimit = n
	}
}

// ListenDown deletes a family's listen group: its ranges first (no new
// session), then the group, which closes its sessions; the instance's
// listen limit goes back to FRR's default with the cluster's last group.
func (p *planner) ListenDown(af fabric.AddressFamily) {
	id := p.Naming.Listen(af)
	var keep []listenRange
	for _, r := range p.inst.Listen {
		if r.Group == id {
			p.In(p.bgpMode(), fmt.Sprintf("no bgp listen range %s peer-group %s", r.Prefix, id))
			continue
		}
		keep = append(keep, r)
	}
	p.inst.Listen = keep
	if listenGroup(p.inst, p.Ownership, af) != nil {
		p.In(p.bgpMode(), fmt.Sprintf("no neighbor %s peer-group", id))
		delete(p.inst.Neighbors, id)
		for _, a := range p.inst.AFs {
			delete(a.Neighbors, id)
		}
	}
	other := fabric.IPv4
	if af == fabric.IPv4 {
		other = fabric.IPv6
	}
	if listenGroup(p.inst, p.Ownership, other) == nil {
		p.setListenLimit(cli.DefaultListenLimit)
	}
}

// observeListen reads the cluster's listen groups back, exactly as desired
// when they are complete; what is wrong with one is its remote AS
// (cli.Incomplete), so that the plan shows it and writes the group again.
func (d *Driver) observeListen(sw config.Switch, inst *bgpInstance, o *cli.Observation) {
	for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
		g := listenGroup(inst, d.own, af)
		if g == nil {
			continue
		}
		id := d.own.Naming.Listen(af)
		own := cli.AFName(af)
		l := fabric.BGPListen{Switch: sw.Name, AddressFamily: af, RemoteAS: g.RemoteAS, LocalASN: inst.ASN, Ranges: []string{},
			Limit: cli.DefaultListenLimit}
		if inst.ListenLimit != 0 {
			l.Limit = inst.ListenLimit
		}
		if g.LocalAS != 0 {
			l.LocalASN = g.LocalAS
		}
		for _, r := range inst.Listen {
			if r.Group == id {
				l.Ranges = append(l.Ranges, r.Prefix.String())
			}
		}
		var an *afNeighbor
		if a := inst.AFs[own]; a != nil {
			an = a.Neighbors[id]
		}
		var mp *maxPrefix
		if an != nil {
			mp = an.MaxPrefix
		}
		pw := g.Password // fingerprinted by parse
		l.PeerOptions = g.Options
		l.Password, l.MaxPrefix = pw.Observed(), observedMaxPrefix(mp)
		var why string
		l.Prefixes, why = o.ListenFilter(af, isDenyAll)
		switch {
		case why != "":
		case !d.own.Mark.Owns(g.Description):
			why = "its description lost the mark"
		case g.Shutdown:
			why = "shut down"
		case g.LocalAS != 0 && g.LocalASFlags != localASFlags:
			why = "local-as without " + localASFlags
		case !inst.activeIn(g, own):
			why = "not activated in " + own
		case len(inst.strayFrom(g, own)) > 0:
			why = "active in another address family without this cluster's filter"
		case an == nil || an.RouteMapIn != id:
			why = "route-map " + id + " not applied"
		case mp != nil && (mp.Threshold != 0 || mp.Force || (mp.Warn && mp.Restart != 0)):
			why = "maximum-prefix " + mp.line() + " is not what this cluster writes"
		case pw.Set && cli.PasswordMark(g.Description) != pw.Fingerprint:
			why = "the description's password fingerprint is not the password's"
		}
		if why != "" {
			// The model has no field for it: a remote AS no cluster
			// desires makes the plan update the group, which completes it.
			d.log.Warn("owned listen group is incomplete; the plan completes it", "switch", sw.Name, "group", id, "reason", why)
			l.RemoteAS = cli.Incomplete(why)
		}
		o.Owned = append(o.Owned, l)
	}
}
