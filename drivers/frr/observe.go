package frr

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
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
	out, err := sess.command(ctx, showConfig, isRunningConfig)
	d.observeRequest(showConfig, err)
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
	o := &cli.Observation{Ownership: d.own, Switch: sw.Name, Filters: &cfg.Filters, Log: d.log}
	for _, id := range slices.Sorted(maps.Keys(inst.Neighbors)) {
		n := inst.Neighbors[id]
		if !n.Addr.IsValid() || n.IsPeerGroup {
			continue
		}
		o.Neighbor(&n.Neighbor, func() (fabric.BGPPeer, string) { return d.observePeer(sw, cfg, inst, n) })
	}
	o.PeerFilters(isDenyAll, func(a netip.Addr, name string) string {
		if n := inst.neighborAt(a); n != nil && d.own.Mark.Owns(n.Description) && inst.routeMapIn(&n.Neighbor) != name {
			return "not applied to the neighbor"
		}
		return ""
	})
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
	return p, d.own.BindingProblem(d.own.BindingFor(&cfg.Filters, n.Addr), inst.routeMapIn(&n.Neighbor))
}

// isDenyAll recognises the entry of a filter that permits nothing: "deny
// any".
func isDenyAll(_ netip.Addr, e cli.PrefixListEntry) bool { return e.Action == "deny" && e.Any }
