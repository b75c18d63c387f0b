package nxos

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Markers of settings that cannot carry a mark.
const (
	markerRelax = "MULTIPATH-RELAX"
	relaxLine   = "bestpath as-path multipath-relax"
)

var afNames = []fabric.AddressFamily{fabric.IPv4, fabric.IPv6}

func markerMaxPaths(af fabric.AddressFamily) string {
	return "MAXPATHS-" + strings.ToUpper(string(af))
}

func afModeName(af fabric.AddressFamily) string {
	if af == fabric.IPv6 {
		return "ipv6 unicast"
	}
	return "ipv4 unicast"
}

func plFamily(a netip.Addr) string {
	if a.Is4() {
		return "ip"
	}
	return "ipv6"
}

// incomplete is the node name Observe reports for an owned object whose
// configuration is incomplete or was changed by hand: the model has no field
// for that, and a node name no desired object has makes the plan update the
// object, which completes it.
func incomplete(reason string) string { return "(incomplete: " + reason + ")" }

// seenConfig is what a switch held at an observation: the texts read, and
// whether they are a leftover checkpoint's that the next apply rolls back to.
type seenConfig struct {
	texts   []string
	pending bool
}

func (s seenConfig) parse() (*runningConfig, error) { return parseConfigs(s.texts...) }

// parseConfigs parses several outputs ("show running-config bgp" and "show
// running-config rpm") into one configuration.
func parseConfigs(texts ...string) (*runningConfig, error) {
	out := newConfig()
	for _, t := range texts {
		c, err := parseConfig(t)
		if err != nil {
			return nil, err
		}
		out.FeatureBGP = out.FeatureBGP || c.FeatureBGP
		if c.BGP != nil {
			if out.BGP != nil {
				return nil, errors.New("two BGP instances")
			}
			out.BGP = c.BGP
		}
		for k, v := range c.PrefixLists {
			out.PrefixLists[k] = v
		}
		for k, v := range c.RouteMaps {
			out.RouteMaps[k] = v
		}
	}
	return out, nil
}

// Observe reads every switch (concurrently) and returns the objects carrying
// this cluster's mark, plus the unmarked ones at places the cluster may
// write. A switch with a checkpoint left by an interrupted apply is observed
// as that checkpoint holds it: the next apply rolls back to it first.
func (d *Driver) Observe(ctx context.Context) (fabric.Observed, error) {
	return d.switches.Observe(ctx, func(ctx context.Context, sw config.Switch) ([]fabric.Object, []fabric.Foreign, error) {
		seen, cfg, err := d.readSwitch(ctx, sw)
		if err != nil {
			return nil, nil, err
		}
		owned, foreign, err := d.observeSwitch(sw, cfg)
		if err != nil {
			return nil, nil, err
		}
		d.mu.Lock()
		d.seen[sw.Name] = seen
		d.mu.Unlock()
		return owned, foreign, nil
	})
}

// readSwitch reads what a switch holds: its running configuration, or the
// configuration of the driver's leftover checkpoint.
func (d *Driver) readSwitch(ctx context.Context, sw config.Switch) (seenConfig, *runningConfig, error) {
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	lo, err := d.findLeftover(ctx, sw, s)
	if err != nil {
		return seenConfig{}, nil, err
	}
	var seen seenConfig
	if lo != nil {
		d.log.Warn("a checkpoint of an interrupted apply is on the switch: observing the configuration it holds; the next apply rolls back to it first",
			"switch", sw.Name, "checkpoint", lo.name)
		seen = seenConfig{texts: []string{lo.text}, pending: true}
	} else {
		texts, err := d.readRunning(ctx, s)
		if err != nil {
			return seenConfig{}, nil, err
		}
		seen = seenConfig{texts: texts}
	}
	cfg, err := seen.parse()
	if err != nil {
		return seenConfig{}, nil, fmt.Errorf("switch %s: reading the configuration: %w", sw.Name, err)
	}
	if _, err := d.instance(sw, cfg); err != nil {
		return seenConfig{}, nil, err
	}
	return seen, cfg, nil
}

// readRunning reads the parts of the running configuration the driver
// works on. The caller holds the session's lock.
func (d *Driver) readRunning(ctx context.Context, s *session) ([]string, error) {
	var texts []string
	for _, cmd := range []string{"show running-config bgp", "show running-config rpm"} {
		out, err := s.Read(ctx, cmd)
		d.observeRequest(cmd, err)
		if err != nil {
			return nil, err
		}
		texts = append(texts, out)
	}
	return texts, nil
}

// instance returns the VRF context of the BGP instance the fabric uses on a
// switch. The instance and the VRF context are the network team's: missing,
// or another AS, is an error, never something the driver creates or changes.
func (d *Driver) instance(sw config.Switch, cfg *runningConfig) (*bgpVRF, error) {
	want := d.fabric.SwitchASN(sw)
	if cfg.BGP == nil {
		return nil, fmt.Errorf("switch %s: BGP is not configured: configure \"feature bgp\" and \"router bgp %d\" first "+
			"(the BGP instance belongs to the network team; fabric-reconciler never creates it)", sw.Name, want)
	}
	if cfg.BGP.ASN != want {
		return nil, fmt.Errorf("switch %s: the BGP instance is AS %d, but the configuration says AS %d; fix one of them "+
			"(fabric-reconciler never changes the instance)", sw.Name, cfg.BGP.ASN, want)
	}
	v := cfg.vrf(d.vrf)
	if v == nil {
		return nil, fmt.Errorf("switch %s: router bgp %d has no \"vrf %s\" context: configure it first "+
			"(the VRF context belongs to the network team; fabric-reconciler never creates it)", sw.Name, want, d.vrf)
	}
	return v, nil
}

// observeSwitch turns one switch's configuration into fabric objects.
func (d *Driver) observeSwitch(sw config.Switch, cfg *runningConfig) ([]fabric.Object, []fabric.Foreign, error) {
	v, err := d.instance(sw, cfg)
	if err != nil {
		return nil, nil, err
	}
	var (
		owned   []fabric.Object
		foreign []fabric.Foreign
	)
	ids := make([]string, 0, len(v.Neighbors))
	for id := range v.Neighbors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := v.Neighbors[id]
		if !n.Addr.IsValid() {
			continue // a prefix (dynamic) neighbor: never the cluster's
		}
		owner, _ := cli.Parse(n.Description)
		if owner != string(d.mark) {
			foreign = append(foreign,
				fabric.Foreign{Kind: fabric.KindBGPPeer, Switch: sw.Name, ID: n.Addr.String(), Owner: owner},
				fabric.Foreign{Kind: fabric.KindPrefixFilter, Switch: sw.Name, ID: n.Addr.String(), Owner: owner})
			continue
		}
		owned = append(owned, d.observePeer(sw, cfg, v, n))
	}
	for _, a := range d.filterAddrs(cfg) {
		owned = append(owned, d.observeFilter(sw, cfg, v, a))
	}
	for _, af := range afNames {
		a := v.AFs[afModeName(af)]
		if !d.hasMarker(cfg, markerMaxPaths(af)) {
			if a != nil && (a.MaxPaths != 0 || a.MaxPathsIBGP != 0) {
				foreign = append(foreign, fabric.Foreign{Kind: fabric.KindMaximumPaths, Switch: sw.Name, ID: string(af)})
			}
			continue
		}
		owned = append(owned, d.observeMaxPaths(sw, v, a, af))
	}
	return owned, foreign, nil
}

const localASFlags = "no-prepend replace-as"

func (d *Driver) observePeer(sw config.Switch, cfg *runningConfig, v *bgpVRF, n *neighbor) fabric.BGPPeer {
	_, node := cli.Parse(n.Description)
	p := fabric.BGPPeer{Switch: sw.Name, Node: node, PeerAddress: n.Addr.String(), LocalASN: d.fabric.SwitchASN(sw),
		AddressFamily: fabric.FamilyOf(n.Addr)}
	if asn, err := parseASN(n.RemoteAS); err == nil {
		p.RemoteASN = asn
	}
	if n.LocalAS != 0 {
		p.LocalASN = n.LocalAS
	}
	af := afModeName(p.AddressFamily)
	var why string
	switch {
	case p.RemoteASN == 0:
		why = fmt.Sprintf("remote-as %q", n.RemoteAS)
	case (n.LocalAS != 0 || n.LocalASFlags != "") && n.LocalASFlags != localASFlags:
		why = "local-as without " + localASFlags
	case n.AFs[af] == nil:
		why = "address-family " + af + " not configured"
	}
	if why == "" {
		have := n.AFs[af].RouteMapIn
		if want := d.bindingFor(cfg, n.Addr); want != "" && have != want {
			why = "route-map " + want + " not applied"
		} else if want == "" && have != "" && d.isFilterName(have) {
			why = "route-map " + have + " applied but missing"
		}
	}
	if why != "" {
		d.log.Warn("owned neighbor is incomplete; the plan completes it", "switch", sw.Name, "neighbor", p.PeerAddress, "reason", why)
		p.Node = incomplete(why)
	}
	return p
}

// bindingFor is the route-map a neighbor must use inbound: its filter's,
// when the filter's prefix-list exists.
func (d *Driver) bindingFor(cfg *runningConfig, a netip.Addr) string {
	name := d.naming.PeerFilter(a)
	if _, ok := cfg.PrefixLists[plKey{plFamily(a), name}]; ok {
		return name
	}
	return ""
}

func (d *Driver) isFilterName(name string) bool {
	_, ok := d.naming.ParsePeerFilter(name)
	return ok
}

func (d *Driver) isMarkerName(name string) bool {
	for _, w := range []string{markerRelax, markerMaxPaths(fabric.IPv4), markerMaxPaths(fabric.IPv6)} {
		if d.naming.IsMarker(name, w) {
			return true
		}
	}
	return false
}

// hasMarker reports whether the marker prefix-list of a setting exists and
// carries this cluster's mark.
func (d *Driver) hasMarker(cfg *runningConfig, what string) bool {
	pl, ok := cfg.PrefixLists[plKey{"ip", d.naming.Marker(what)}]
	return ok && strings.HasPrefix(pl.Description, string(d.mark)+" ")
}

// filterAddrs lists the peers that have a prefix-list or route-map of this
// cluster, sorted.
func (d *Driver) filterAddrs(cfg *runningConfig) []netip.Addr {
	seen := map[netip.Addr]bool{}
	for k := range cfg.PrefixLists {
		if a, ok := d.naming.ParsePeerFilter(k.Name); ok && k.Family == plFamily(a) {
			seen[a] = true
		}
	}
	for name := range cfg.RouteMaps {
		if a, ok := d.naming.ParsePeerFilter(name); ok {
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

// anyPrefix is what a filter that permits nothing denies: NX-OS has no
// "any" in prefix-lists.
func anyPrefix(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.MustParsePrefix("0.0.0.0/0")
	}
	return netip.MustParsePrefix("::/0")
}

func (d *Driver) observeFilter(sw config.Switch, cfg *runningConfig, v *bgpVRF, a netip.Addr) fabric.PrefixFilter {
	name := d.naming.PeerFilter(a)
	f := fabric.PrefixFilter{Switch: sw.Name, PeerAddress: a.String(), Prefixes: []fabric.PrefixRule{}}
	var why string
	pl := cfg.PrefixLists[plKey{plFamily(a), name}]
	if pl == nil {
		why = "prefix-list missing"
	} else {
		var owner string
		owner, f.Node = cli.Parse(pl.Description)
		if owner != string(d.mark) {
			why = "prefix-list description changed"
		}
		denyAll := 0
		for _, e := range pl.Entries {
			if e.Action == "deny" && e.Prefix == anyPrefix(a) && e.LE == a.BitLen() && e.GE == 0 {
				denyAll++ // what a filter that permits nothing holds
				continue
			}
			if e.Action != "permit" || e.GE != 0 {
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
			why = "unexpected prefix-list entry"
		}
	}
	if why == "" {
		why = d.routeMapProblem(cfg, a, pl)
	}
	if why == "" {
		if n := v.neighborAt(a); n != nil && d.mark.Owns(n.Description) {
			if naf := n.AFs[afModeName(fabric.FamilyOf(a))]; naf == nil || naf.RouteMapIn != name {
				why = "not applied to the neighbor"
			}
		}
	}
	if why != "" {
		d.log.Warn("owned prefix filter is incomplete; the plan completes it", "switch", sw.Name, "filter", name, "reason", why)
		f.Node = incomplete(why)
	}
	return f
}

// routeMapProblem checks a filter's route-map: one entry, "permit 10", with
// the mark and a match on the prefix-list, nothing else.
func (d *Driver) routeMapProblem(cfg *runningConfig, a netip.Addr, pl *prefixList) string {
	name := d.naming.PeerFilter(a)
	rm := cfg.RouteMaps[name]
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
	if len(e.Lines) != 1 || e.Lines[0] != matchLine(a, name) {
		return "route-map match changed"
	}
	return ""
}

func matchLine(a netip.Addr, name string) string {
	return "match " + plFamily(a) + " address prefix-list " + name
}

func (d *Driver) observeMaxPaths(sw config.Switch, v *bgpVRF, a *bgpAF, af fabric.AddressFamily) fabric.MaximumPaths {
	m := fabric.MaximumPaths{Switch: sw.Name, AddressFamily: af}
	// NX-OS does not show maximum-paths 1, its default.
	ebgp, ibgp := 1, 1
	if a != nil {
		ebgp, ibgp = orDefault(a.MaxPaths, 1), orDefault(a.MaxPathsIBGP, 1)
	}
	switch {
	case !v.MultipathRelax:
		d.log.Warn("owned maximum-paths is not in effect: bestpath as-path multipath-relax is missing", "switch", sw.Name)
	case ebgp != ibgp:
		d.log.Warn("owned maximum-paths differ for eBGP and iBGP", "switch", sw.Name, "ebgp", ebgp, "ibgp", ibgp)
	default:
		m.Paths = ebgp
	}
	return m
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
