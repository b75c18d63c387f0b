package frr

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// relaxLine lets peers of different AS numbers share a prefix: the nodes
// have one AS each.
const relaxLine = "bgp bestpath as-path multipath-relax"

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
		d.seen.Set(sw.Name, seen)
		return owned, foreign, nil
	})
}

// showConfig is what the driver reads: bgpd's own running configuration.
// vtysh's "show running-config" merges every daemon's, and zebra keeps its
// own copy of each prefix-list and route-map typed through vtysh: after
// bgpd restarts (watchfrr loads the saved configuration into it alone,
// frrcommon.sh), the merged output still shows the filters typed since the
// last "write memory" while bgpd has none. Read that way, a neighbor
// re-created by the driver was bound to a route-map bgpd does not have
// ("The route-map ... does not exist."), took no route, and every later
// sync stopped at the same line (lab: the fault table's bgpd row).
const showConfig = "show running-config bgpd"

// readConfig reads and parses one switch's running configuration (bgpd's),
// and checks that the BGP instance is there with the configured AS.
func (d *Driver) readConfig(ctx context.Context, sw config.Switch) (string, *runningConfig, error) {
	sess := d.session(sw)
	began := time.Now()
	out, err := sess.command(ctx, showConfig, isRunningConfig)
	d.observeRequest(showConfig, time.Since(began), err)
	if err != nil {
		return "", nil, err
	}
	cfg, err := d.parse(sw, out)
	if err != nil {
		return "", nil, fmt.Errorf("switch %s: reading the running configuration: %w", sw.Name, err)
	}
	if _, err := d.instance(sw, cfg); err != nil {
		return "", nil, err
	}
	cfg.ecmpMax = sess.cachedECMP()
	return out, cfg, nil
}

// parse reads a switch's running configuration and fingerprints its
// neighbors' and listen groups' passwords.
func (d *Driver) parse(sw config.Switch, text string) (*runningConfig, error) {
	cfg, err := parseRunningConfig(text)
	if err != nil {
		return nil, err
	}
	cfg.fillPasswords(d.cluster)
	if inst := cfg.instance(d.vrf()); inst != nil {
		for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
			if g := listenGroup(inst, d.own, af); g != nil && g.password != "" {
				g.Password.Fingerprint = fabric.Fingerprint(g.password, cli.ListenSalt(d.cluster, sw.Name, af))
			}
		}
	}
	return cfg, nil
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
	o := &cli.Observation{Ownership: d.own, Switch: sw.Name, Filters: &cfg.Filters, Log: d.log}
	for _, id := range slices.Sorted(maps.Keys(inst.Neighbors)) {
		n := inst.Neighbors[id]
		if !n.Addr.IsValid() || n.IsPeerGroup {
			continue
		}
		o.Neighbor(&n.Neighbor, func() (fabric.BGPPeer, string) { return d.observePeer(sw, cfg, inst, n) })
	}
	// A listen range takes every address in it: a node there is a dynamic
	// neighbor of the range's peer-group, and FRR refuses any line for it
	// ("% Operation not allowed on a dynamic neighbor", bgpd/bgp_vty.c
	// peer_and_group_lookup_vty). The range is foreign: a peer or filter
	// of the cluster at an address in it is a conflict (the prefix as
	// the foreign object's id stands for every address in it).
	for _, r := range inst.Listen {
		if d.own.IsListenName(r.Group) {
			continue // the cluster's own (listen peering)
		}
		o.Foreign = append(o.Foreign,
			fabric.Foreign{Kind: fabric.KindBGPPeer, Switch: sw.Name, ID: r.Prefix.String()},
			fabric.Foreign{Kind: fabric.KindPrefixFilter, Switch: sw.Name, ID: r.Prefix.String()})
	}
	o.PeerFilters(isDenyAll, func(a netip.Addr, name string) string {
		if n := inst.neighborAt(a); n != nil && d.own.Mark.Owns(n.Description) && inst.routeMapIn(&n.Neighbor) != name {
			return "not applied to the neighbor"
		}
		return ""
	})
	d.observeListen(sw, inst, o)
	for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
		var have *cli.Paths
		if a := inst.AFs[cli.AFName(af)]; a != nil {
			have = &a.Paths
		}
		o.MaxPaths(af, have, inst.MultipathRelax, relaxLine, func() int {
			// FRR omits a maximum-paths line equal to its default.
			if cfg.ecmpMax != 0 {
				return cfg.ecmpMax
			}
			return d.session(sw).ecmp(ctx)
		})
	}
	return o.Owned, o.Foreign, nil
}

// observePeer reads an owned neighbor, and what is wrong with it.
func (d *Driver) observePeer(sw config.Switch, cfg *runningConfig, inst *bgpInstance, n *neighbor) (fabric.BGPPeer, string) {
	_, node := cli.Parse(n.Description)
	p := fabric.BGPPeer{Switch: sw.Name, Node: node, PeerAddress: n.Addr.String(), LocalASN: inst.ASN,
		AddressFamily: fabric.FamilyOf(n.Addr)}
	if v, err := cli.ParseASN(n.RemoteAS); err == nil {
		p.RemoteASN = v
	}
	if n.LocalAS != 0 {
		p.LocalASN = n.LocalAS
	}
	var mp *maxPrefix
	if a := inst.AFs[afName(n.Addr)]; a != nil && a.Neighbors[n.ID] != nil {
		mp = a.Neighbors[n.ID].MaxPrefix
	}
	p.PeerOptions = n.Options
	p.Password, p.MaxPrefix, p.Shutdown = n.Password.Observed(), observedMaxPrefix(mp), n.Shutdown
	switch {
	case p.RemoteASN == 0:
		return p, fmt.Sprintf("remote-as %q", n.RemoteAS)
	case n.LocalAS != 0 && n.LocalASFlags != localASFlags:
		return p, "local-as without " + localASFlags
	case !inst.activated(n):
		return p, "not activated in " + afName(n.Addr)
	}
	if stray := inst.strayFamilies(n); len(stray) > 0 {
		// Its inbound filter is bound in its own family only: active
		// anywhere else, it installs what the node sends there unfiltered.
		return p, "active in " + strings.Join(stray, ", ") + " without this cluster's filter"
	}
	if mp != nil && (mp.Threshold != 0 || mp.Force || (mp.Warn && mp.Restart != 0)) {
		return p, "maximum-prefix " + mp.line() + " is not what this cluster writes"
	}
	if fp := cli.PasswordMark(n.Description); n.Password.Set && fp != n.Password.Fingerprint {
		// The description records what the cluster set; the password
		// FRR holds is another (changed by hand, or an apply cut off
		// between the two lines). The password is then observed as it is,
		// and the plan rewrites the description (and the password, if
		// it is not the cluster's).
		return p, "the description's password fingerprint is not the password's"
	}
	return p, d.own.BindingProblem(d.own.BindingFor(&cfg.Filters, n.Addr), inst.routeMapIn(&n.Neighbor))
}

// isDenyAll recognises the entry of a filter that permits nothing: "deny
// any".
func isDenyAll(_ netip.Addr, e cli.PrefixListEntry) bool { return e.Action == "deny" && e.Any }

// observedMaxPrefix is a maximum-prefix line as the model says it.
func observedMaxPrefix(m *maxPrefix) *fabric.MaxPrefix {
	if m == nil {
		return nil
	}
	out := &fabric.MaxPrefix{Limit: m.Limit, Action: fabric.MaxPrefixShutdown}
	switch {
	case m.Warn:
		out.Action = fabric.MaxPrefixWarn
	case m.Restart != 0:
		out.Action, out.RestartMinutes = fabric.MaxPrefixRestart, m.Restart
	}
	return out
}

// wantMaxPrefix is the maximum-prefix line a limit needs: "N", "N
// warning-only" or "N restart MINUTES" (bgpd/bgp_vty.c neighbor_maximum_prefix
// and its variants; FRR counts the prefixes the inbound policy accepted,
// unless "force": doc/user/bgp.rst).
func wantMaxPrefix(m *fabric.MaxPrefix) *maxPrefix {
	if m == nil {
		return nil
	}
	out := &maxPrefix{Limit: m.Limit}
	switch m.Action {
	case fabric.MaxPrefixWarn:
		out.Warn = true
	case fabric.MaxPrefixRestart:
		out.Restart = m.RestartMinutes
	}
	return out
}
