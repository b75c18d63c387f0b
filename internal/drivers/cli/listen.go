package cli

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Listen peering: instead of one neighbor and one filter per node, a switch
// accepts sessions from the nodes' subnets (a range of dynamic neighbors),
// all configured as one group with one shared inbound filter. For fabrics
// with thousands of nodes: the switch's configuration no longer grows with
// them. A fabric.BGPListen per switch and address family says what the
// group holds; the driver writes it (ListenPlatform) and the Planner its
// filter lists, named Naming.Listen(af).

// listenPart names the group and its filter.
const listenPart = "NODES-"

// Listen is the name of a family's listen group and of its shared filter's
// prefix-list and route-map: "<prefix>NODES-IPV4[_<scope>]".
func (n Naming) Listen(af fabric.AddressFamily) string {
	return n.prefix + listenPart + strings.ToUpper(string(af)) + n.suffix
}

// ListenSalt salts a listen group's password: the group has one password
// for every session, so the salt is the cluster, the switch and the family
// rather than a peer's address.
func ListenSalt(cluster, sw string, af fabric.AddressFamily) string {
	return fabric.PasswordSalt(cluster, "listen/"+sw+"/"+string(af))
}

// DefaultListenLimit is how many dynamic neighbors FRR accepts without
// "bgp listen limit" (BGP_DYNAMIC_NEIGHBORS_LIMIT_DEFAULT, bgpd/bgpd.h).
const DefaultListenLimit = 100

// ListenLimit is the session limit a switch with n nodes gets: room for
// twice as many, in hundreds, and never below FRR's default (so that small
// fabrics need no line).
func ListenLimit(n int) int {
	return max(DefaultListenLimit, (2*n+99)/100*100)
}

// desireListen realizes an intent in listen peering: per switch and family
// one BGPListen, whose options every session shares. A session whose
// options or AS relation differ from the first's of its switch and family
// cannot be expressed, and is skipped with the reason.
func desireListen(in fabric.Intent, lim Limits) fabric.Realized {
	var r fabric.Realized
	type groupKey struct {
		sw string
		af fabric.AddressFamily
	}
	var order []groupKey
	groups := map[groupKey]*fabric.BGPListen{}
	first := map[groupKey]fabric.Session{}
	sources := map[groupKey][]string{}
	perSwitch := map[string]int{}
	warned := map[fabric.PeerOption]bool{}
	var held []string
	var accepted []fabric.Session
	skip := func(s fabric.Session, why string) {
		r.Skipped = append(r.Skipped, fabric.Skip{Object: "Node/" + s.Node,
			Reason: fmt.Sprintf("fabric %s, switch %s: %s cannot peer with it in listen peering: %s; it is not counted in maximum-paths", in.Fabric, s.Switch, lim.PlatformName, why)})
	}
	for _, s := range in.Sessions {
		r.KeepOptions(lim.PlatformName, &s, lim.Options, warned)
		Timers(&s.Options)
		if s.Options.Shutdown {
			// A dynamic neighbor cannot be held down alone: the node
			// connects again to the range.
			held = append(held, s.Node)
			s.Options.Shutdown = false
		}
		err := CheckPeer(s.Peer())
		if err == nil && lim.CheckOptions != nil {
			err = lim.CheckOptions(s.Options)
		}
		if err != nil {
			skip(s, err.Error())
			continue
		}
		k := groupKey{s.Switch, s.AddressFamily}
		remote := fabric.RemoteASExternal
		if s.RemoteASN == s.LocalASN {
			remote = fabric.RemoteASInternal
		}
		g := groups[k]
		if g == nil {
			o := s.Options
			if o.Password != nil {
				o.Password = fabric.NewSecret(o.Password.Value(), ListenSalt(in.Cluster, s.Switch, s.AddressFamily))
			}
			g = &fabric.BGPListen{Switch: s.Switch, AddressFamily: s.AddressFamily, RemoteAS: remote, LocalASN: s.LocalASN, PeerOptions: o}
			for _, rule := range in.AnyNodeAllowed {
				if p, err := netip.ParsePrefix(rule.Prefix); err == nil && fabric.FamilyOf(p.Addr()) == s.AddressFamily {
					g.Prefixes = append(g.Prefixes, rule)
				}
			}
			groups[k], first[k] = g, s
			order = append(order, k)
		} else if why := listenDiffers(first[k], s, g.RemoteAS, remote); why != "" {
			skip(s, why)
			continue
		} else if m := s.Options.MaxPrefix; m != nil && m.Limit > g.MaxPrefix.Limit {
			g.MaxPrefix = &fabric.MaxPrefix{Limit: m.Limit, Action: m.Action, RestartMinutes: m.RestartMinutes}
		}
		if rg := s.NodeAddress.Masked().String(); !slices.Contains(g.Ranges, rg) {
			g.Ranges = append(g.Ranges, rg)
		}
		sources[k] = appendMissing(sources[k], s.Sources...)
		perSwitch[s.Switch]++
		accepted = append(accepted, s)
	}
	if len(held) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("listen peering cannot hold one node's session down (the node connects to the range again): "+
			"bgp.shutdown does not apply to %s; use neighbors peering for maintenance", strings.Join(held, ", ")))
	}
	for _, k := range order {
		g := groups[k]
		g.Limit = ListenLimit(perSwitch[k.sw])
		r.Add(*g, appendMissing(sources[k], in.AnyNodeSources...)...)
	}
	paths := in.Paths
	if paths.Limit == 0 || (lim.MaxPaths > 0 && paths.Limit > lim.MaxPaths) {
		paths.Limit = lim.MaxPaths
	}
	for _, m := range paths.PathsFor(accepted) {
		r.Add(m, "Node/*", "Service/*", "BGPConfiguration/default")
	}
	for _, h := range in.Holds {
		r.Holds = append(r.Holds, ListenHolds(h)...)
	}
	return r
}

// listenDiffers says how a session differs from the first of its group in
// what the group holds once for all ("" when it does not): its AS relation,
// and the options (fabric.PeerOptions.Unlike).
func listenDiffers(first, s fabric.Session, groupRemote, remote string) string {
	switch {
	case remote != groupRemote:
		return fmt.Sprintf("its session is %s BGP, %s's %s BGP", remote, first.Node, groupRemote)
	case s.LocalASN != first.LocalASN:
		return fmt.Sprintf("the switch presents AS %d to it, AS %d to %s", s.LocalASN, first.LocalASN, first.Node)
	}
	return s.Options.Unlike(first.Options, first.Node)
}

func appendMissing(list []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// ListenHolds maps an intent hold to the objects of listen peering: what
// holds a node's peer or the filters holds what the group takes away.
func ListenHolds(h fabric.IntentHold) []fabric.Hold {
	hold := func(shrink bool) []fabric.Hold {
		return []fabric.Hold{{Reason: h.Reason, Kind: fabric.KindBGPListen, ShrinkOnly: shrink}}
	}
	switch h.Scope {
	case fabric.HoldPodPrefixes, fabric.HoldExports, fabric.HoldFilters, fabric.HoldNode:
		return hold(true)
	case fabric.HoldPeers:
		return hold(h.ShrinkOnly)
	case fabric.HoldPaths:
		return fabric.CommonHolds(h)
	}
	return nil
}

// ListenPlatform is what a driver that writes listen peering adds to
// Platform: its group's lines. The Planner writes the shared filter.
type ListenPlatform interface {
	// ListenGroup returns a family's listen group as a neighbor (its
	// password state), nil when there is none.
	ListenGroup(af fabric.AddressFamily) *Neighbor
	// ListenUp writes the lines a listen group still needs; desc is its
	// description, filter the name of its shared filter.
	ListenUp(l fabric.BGPListen, desc, filter string)
	// ListenDown deletes a family's listen group and its ranges.
	ListenDown(af fabric.AddressFamily)
}

// CheckListen validates every value of a listen group a CLI line carries.
func CheckListen(l fabric.BGPListen) error {
	if err := l.Validate(); err != nil {
		return inputErr("listen group", string(l.AddressFamily), "%v", err)
	}
	if err := Name("switch name", l.Switch, 63); err != nil {
		return err
	}
	for _, r := range l.Ranges {
		if _, err := Prefix("listen range", r); err != nil {
			return err
		}
	}
	for _, r := range l.Prefixes {
		p, err := Prefix("filter prefix", r.Prefix)
		if err != nil {
			return err
		}
		if err := PrefixRange("filter prefix", p, r.LE); err != nil {
			return err
		}
	}
	if err := ASN("local AS", l.LocalASN); err != nil {
		return err
	}
	if err := Count("listen limit", l.Limit, 1, 65535); err != nil {
		return err
	}
	return CheckOptions(l.PeerOptions)
}

// DescribeListen is the description of a listen group: the mark, what it
// is, and its password's fingerprint.
func (m Mark) DescribeListen(af fabric.AddressFamily, password *fabric.Secret) string {
	d := m.DescribeSetting("listen " + string(af))
	if password != nil {
		d += " " + passwordKey + encodeFingerprint(password.Fingerprint())
	}
	return d
}

// anyAddr is an address of a family, for the platform calls that take one
// (DenyAll).
func anyAddr(af fabric.AddressFamily) netip.Addr {
	if af == fabric.IPv6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

func famOf(af fabric.AddressFamily) string { return PrefixListFamily(anyAddr(af)) }

// listenUp plans a listen group: its shared filter first, then the group
// (the driver's lines, the ranges last).
func (p *Planner) listenUp(pl Platform, c fabric.Change) {
	lp, ok := pl.(ListenPlatform)
	if !ok {
		p.Refuse(fmt.Errorf("listen peering is not configured on %s", p.PlatformName))
		return
	}
	l, ok := c.After.(fabric.BGPListen)
	if !ok {
		p.Refuse(errors.New("no listen group to configure"))
		return
	}
	if err := CheckListen(l); err != nil {
		p.Refuse(err)
		return
	}
	var have PasswordState
	if g := lp.ListenGroup(l.AddressFamily); g != nil {
		have = g.Password
	}
	if _, _, err := PasswordChange(have, l.Password); err != nil {
		p.Refuse(err)
		return
	}
	desc := p.Mark.DescribeListen(l.AddressFamily, l.Password)
	if err := Text("description", desc, p.MaxDescription); err != nil {
		p.Refuse(err)
		return
	}
	name := p.Naming.Listen(l.AddressFamily)
	f := fabric.PrefixFilter{Prefixes: l.Prefixes}
	if !p.lists(name, famOf(l.AddressFamily), p.Mark.DescribeSetting("listen "+string(l.AddressFamily)),
		WantEntries(f, pl.DenyAll(anyAddr(l.AddressFamily))), pl.Echo) {
		return
	}
	lp.ListenUp(l, desc, name)
}

// listenDown deletes a listen group, then its filter.
func (p *Planner) listenDown(pl Platform, af fabric.AddressFamily) {
	if af != fabric.IPv4 && af != fabric.IPv6 {
		p.Refuse(fmt.Errorf("address family %s must be ipv4 or ipv6", Quote(string(af))))
		return
	}
	lp, ok := pl.(ListenPlatform)
	if !ok {
		p.Refuse(fmt.Errorf("listen peering is not configured on %s", p.PlatformName))
		return
	}
	lp.ListenDown(af)
	p.dropLists(p.Naming.Listen(af), famOf(af))
}

// ListenFilter reads a listen group's shared filter back: its rules, and
// what is wrong with it ("" when nothing).
func (o *Observation) ListenFilter(af fabric.AddressFamily, isDenyAll func(netip.Addr, PrefixListEntry) bool) ([]fabric.PrefixRule, string) {
	rules, _, why := o.readLists(o.Naming.Listen(af), famOf(af), func(e PrefixListEntry) bool { return isDenyAll(anyAddr(af), e) })
	if why == "" {
		pl := o.Filters.PrefixLists[PrefixListKey{famOf(af), o.Naming.Listen(af)}]
		if pl.Description != o.Mark.DescribeSetting("listen "+string(af)) {
			why = "prefix-list description changed"
		}
	}
	return rules, why
}

// IsListenName reports whether a name is one of the cluster's listen
// groups or shared filters.
func (o Ownership) IsListenName(name string) bool {
	return name == o.Naming.Listen(fabric.IPv4) || name == o.Naming.Listen(fabric.IPv6)
}
