package frr

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Markers of settings that cannot carry a mark.
const (
	markerRelax = "MULTIPATH-RELAX"
	relaxLine   = "bgp bestpath as-path multipath-relax"
)

func markerMaxPaths(af fabric.AddressFamily) string {
	return "MAXPATHS-" + strings.ToUpper(string(af))
}

// incomplete is the node name Observe reports for an owned object whose
// configuration is incomplete or was changed by hand (an apply that stopped
// halfway, a route-map unbound by someone): the model has no field for that,
// and a node name no desired object has makes the plan update the object,
// which completes it.
func incomplete(reason string) string { return "(incomplete: " + reason + ")" }

// Observe reads every switch's running configuration (concurrently) and
// returns the objects carrying this cluster's mark, plus the unmarked ones
// at places the cluster may write.
func (d *Driver) Observe(ctx context.Context) (fabric.Observed, error) {
	return d.switches.Observe(ctx, func(ctx context.Context, sw config.Switch) ([]fabric.Object, []fabric.Foreign, error) {
		text, cfg, err := d.readConfig(ctx, sw)
		if err != nil {
			return nil, nil, err
		}
		owned, foreign, err := d.observeSwitch(ctx, sw, cfg)
		if err != nil {
			return nil, nil, err
		}
		seen := seenConfig{text: text, ecmp: d.session(sw).cachedECMP()}
		d.mu.Lock()
		d.seen[sw.Name] = seen
		d.mu.Unlock()
		return owned, foreign, nil
	})
}

// readConfig reads and parses one switch's running configuration, and checks
// that the BGP instance is there with the configured AS.
func (d *Driver) readConfig(ctx context.Context, sw config.Switch) (string, *runningConfig, error) {
	sess := d.session(sw)
	out, err := sess.command(ctx, "show running-config")
	d.observeRequest("show running-config", err)
	if err != nil {
		return "", nil, err
	}
	cfg, err := parseRunningConfig(out)
	if err != nil {
		return "", nil, fmt.Errorf("switch %s: reading the running configuration: %w", sw.Name, err)
	}
	if _, err := d.instance(sw, cfg); err != nil {
		return "", nil, err
	}
	cfg.ecmpMax = sess.cachedECMP()
	return out, cfg, nil
}

// seenConfig is a switch's configuration as the last Observe read it.
type seenConfig struct {
	text string
	ecmp int
}

// instance returns the BGP instance the fabric uses on a switch. It is the
// network team's: a missing instance or another AS is an error, never
// something the driver creates or changes.
func (d *Driver) instance(sw config.Switch, cfg *runningConfig) (*bgpInstance, error) {
	want := d.fabric.SwitchASN(sw)
	inst := cfg.instance(d.vrf())
	where := "the default VRF"
	if d.vrf() != "" {
		where = "VRF " + d.vrf()
	}
	if inst == nil {
		return nil, fmt.Errorf("switch %s: no BGP instance in %s: configure \"router bgp %d%s\" first "+
			"(the BGP instance belongs to the network team; fabric-reconciler never creates it)", sw.Name, where, want, vrfSuffix(d.vrf()))
	}
	if inst.ASN != want {
		return nil, fmt.Errorf("switch %s: the BGP instance in %s is AS %d, but the configuration says AS %d; fix one of them "+
			"(fabric-reconciler never changes the instance)", sw.Name, where, inst.ASN, want)
	}
	return inst, nil
}

func vrfSuffix(vrf string) string {
	if vrf == "" {
		return ""
	}
	return " vrf " + vrf
}

// observeSwitch turns one switch's configuration into fabric objects.
func (d *Driver) observeSwitch(ctx context.Context, sw config.Switch, cfg *runningConfig) ([]fabric.Object, []fabric.Foreign, error) {
	inst, err := d.instance(sw, cfg)
	if err != nil {
		return nil, nil, err
	}
	var (
		owned   []fabric.Object
		foreign []fabric.Foreign
	)

	// Neighbors: owned by their description; any other neighbor at an
	// address is foreign, and so is the filter the cluster would attach.
	ids := make([]string, 0, len(inst.Neighbors))
	for id := range inst.Neighbors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := inst.Neighbors[id]
		if !n.Addr.IsValid() || n.IsPeerGroup {
			continue
		}
		owner, _ := cli.Parse(n.Description)
		if owner != string(d.mark) {
			foreign = append(foreign,
				fabric.Foreign{Kind: fabric.KindBGPPeer, Switch: sw.Name, ID: n.Addr.String(), Owner: owner},
				fabric.Foreign{Kind: fabric.KindPrefixFilter, Switch: sw.Name, ID: n.Addr.String(), Owner: owner})
			continue
		}
		owned = append(owned, d.observePeer(sw, cfg, inst, n))
	}

	// Prefix filters: prefix-lists and route-maps named for a peer.
	for _, a := range d.filterAddrs(cfg) {
		owned = append(owned, d.observeFilter(sw, cfg, inst, a))
	}

	// maximum-paths: owned through the marker prefix-list.
	for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
		a := inst.AFs[afModeName(af)]
		marker := d.naming.Marker(markerMaxPaths(af))
		if _, ok := cfg.PrefixLists[plKey{"ip", marker}]; !ok {
			if a != nil && (a.MaxPaths != 0 || a.MaxPathsIBGP != 0) {
				foreign = append(foreign, fabric.Foreign{Kind: fabric.KindMaximumPaths, Switch: sw.Name, ID: string(af)})
			}
			continue
		}
		owned = append(owned, d.observeMaxPaths(ctx, sw, cfg, inst, a, af))
	}
	return owned, foreign, nil
}

func (d *Driver) observePeer(sw config.Switch, cfg *runningConfig, inst *bgpInstance, n *neighbor) fabric.BGPPeer {
	_, node := cli.Parse(n.Description)
	p := fabric.BGPPeer{Switch: sw.Name, Node: node, PeerAddress: n.Addr.String(), LocalASN: inst.ASN,
		AddressFamily: fabric.FamilyOf(n.Addr)}
	if v, err := strconv.ParseUint(n.RemoteAS, 10, 32); err == nil {
		p.RemoteASN = uint32(v)
	}
	if n.LocalAS != 0 {
		p.LocalASN = n.LocalAS
	}
	var why string
	switch {
	case p.RemoteASN == 0:
		why = fmt.Sprintf("remote-as %q", n.RemoteAS)
	case n.LocalAS != 0 && n.LocalASFlags != localASFlags:
		why = "local-as without " + localASFlags
	case !inst.activated(n):
		why = "not activated in " + afName(n.Addr)
	}
	if why == "" {
		if want, have := d.bindingFor(cfg, n.Addr), inst.routeMapIn(n); want != "" && have != want {
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

func (d *Driver) observeFilter(sw config.Switch, cfg *runningConfig, inst *bgpInstance, a netip.Addr) fabric.PrefixFilter {
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
		denyAny := 0
		for _, e := range pl.Entries {
			if e.Action == "deny" && e.Any {
				denyAny++ // what a filter that permits nothing holds
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
		if denyAny > 1 || (denyAny == 1 && len(f.Prefixes) > 0) || (denyAny == 0 && len(f.Prefixes) == 0) {
			// An empty list, or "deny any" next to permits: not what the
			// driver writes.
			why = "unexpected prefix-list entry"
		}
	}
	if why == "" {
		why = d.routeMapProblem(cfg, a, pl)
	}
	if why == "" {
		if n := inst.neighborAt(a); n != nil && d.mark.Owns(n.Description) && inst.routeMapIn(n) != name {
			why = "not applied to the neighbor"
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

func (d *Driver) observeMaxPaths(ctx context.Context, sw config.Switch, cfg *runningConfig, inst *bgpInstance, a *bgpAF, af fabric.AddressFamily) fabric.MaximumPaths {
	m := fabric.MaximumPaths{Switch: sw.Name, AddressFamily: af}
	ebgp, ibgp := 0, 0
	if a != nil {
		ebgp, ibgp = a.MaxPaths, a.MaxPathsIBGP
	}
	if ebgp == 0 || ibgp == 0 {
		// FRR omits a maximum-paths line equal to its default.
		def := cfg.ecmpMax
		if def == 0 {
			def = d.session(sw).ecmp(ctx)
		}
		if ebgp == 0 {
			ebgp = def
		}
		if ibgp == 0 {
			ibgp = def
		}
	}
	switch {
	case !inst.MultipathRelax:
		d.log.Warn("owned maximum-paths is not in effect: bgp bestpath as-path multipath-relax is missing", "switch", sw.Name)
	case ebgp != ibgp:
		d.log.Warn("owned maximum-paths differ for eBGP and iBGP", "switch", sw.Name, "ebgp", ebgp, "ibgp", ibgp)
	default:
		m.Paths = ebgp
	}
	return m
}
