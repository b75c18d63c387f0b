package frr

import (
	"context"
	"errors"
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

// Adoption on FRR. A neighbor's mark is its description, an attribute: a
// hand-made neighbor whose lines are exactly those the driver would write
// (remote-as, local-as with the driver's flags, activation in its own
// family only, no inbound route-map or the cluster's filter) is adopted by
// writing one line, "neighbor ADDR description <mark> node=<node>", which
// replaces any description it had (the node name is part of the mark, so
// it is not compared). Everything else about the neighbor stays as it is.
//
// Not adoptable, and the plan says why:
//   - a neighbor with any other line (password, timers, ebgp-multihop, an
//     outbound route-map, a peer-group, shutdown, ...): not what the driver
//     would write;
//   - a neighbor whose inbound route-map is not the cluster's filter, and
//     prefix filters and maximum-paths settings: their mark is a name (the
//     filter's FR-<cluster>-IN-<addr>, the marker prefix-lists), so taking
//     one over would mean renaming it, which is a new object, not an
//     adoption. Once a neighbor without a route-map is adopted, sync creates
//     its filter and binds it as for any new peer.

// neighborKeywords are the neighbor lines the driver writes (after
// "neighbor ADDR"), description included: it becomes the mark.
var neighborKeywords = map[string]bool{"remote-as": true, "description": true, "local-as": true, "activate": true, "route-map": true}

// ObserveForAdoption is Observe with each unmarked neighbor read for
// adoption.
func (d *Driver) ObserveForAdoption(ctx context.Context) (fabric.Observed, error) {
	obs, err := d.Observe(ctx)
	if err != nil {
		return obs, err
	}
	cfgs := map[string]*runningConfig{}
	for i, f := range obs.Foreign {
		if f.Owner != "" {
			continue
		}
		a := fabric.Adoptable{Why: notAdoptable(f.Kind, d.own)}
		if f.Kind == fabric.KindBGPPeer {
			seen, observed := d.seen.Get(f.Switch)
			cfg, ok := cfgs[f.Switch]
			if observed && !ok {
				cfg, _ = parseRunningConfig(seen.text)
				cfgs[f.Switch] = cfg
			}
			sw, known := d.switches.ByName(f.Switch)
			if cfg == nil || !known {
				a.Why = "the switch's configuration was not read"
			} else if p, why := d.adoptablePeer(sw, seen.text, cfg, f.ID); why != "" {
				a.Why = why
			} else {
				a = fabric.Adoptable{Object: p, Rewrites: []string{"node"}}
			}
		}
		obs.Foreign[i].Adoption = &a
	}
	return obs, nil
}

// notAdoptable says why objects of a kind are never adopted on a CLI
// platform.
func notAdoptable(k fabric.Kind, own cli.Ownership) string {
	switch k {
	case fabric.KindPrefixFilter:
		return "the cluster's filters are marked by their name (" + own.Naming.PeerFilter(netip.MustParseAddr("192.0.2.1")) +
			" for 192.0.2.1); one made under another name cannot be adopted without renaming it. Adopt the neighbor: sync then creates and binds its filter"
	case fabric.KindMaximumPaths:
		return "maximum-paths is the BGP instance's setting, marked by the cluster's marker prefix-list; it is not adopted"
	}
	return "not a kind this driver adopts"
}

// adoptablePeer reads the unmarked neighbor at id as Observe reads an
// owned one, or says why it cannot be adopted.
func (d *Driver) adoptablePeer(sw config.Switch, text string, cfg *runningConfig, id string) (fabric.BGPPeer, string) {
	inst, err := d.instance(sw, cfg)
	if err != nil {
		return fabric.BGPPeer{}, err.Error()
	}
	a, err := netip.ParseAddr(id)
	if err != nil {
		return fabric.BGPPeer{}, "not a neighbor address"
	}
	n := inst.neighborAt(a)
	if n == nil {
		return fabric.BGPPeer{}, "no such neighbor"
	}
	if owner, _ := cli.Parse(n.Description); owner != "" {
		return fabric.BGPPeer{}, fmt.Sprintf("its description carries the mark %q", owner)
	}
	switch {
	case n.PeerGroup != "":
		return fabric.BGPPeer{}, fmt.Sprintf("it is a member of peer-group %s, whose settings the driver does not write", cli.Quote(n.PeerGroup))
	case n.Shutdown:
		return fabric.BGPPeer{}, "it is shut down (neighbor shutdown), which the driver does not write"
	}
	if extra := otherNeighborLines(text, inst, n.ID); len(extra) > 0 {
		return fabric.BGPPeer{}, "it has lines the driver does not write: neighbor " + n.ID + " " + strings.Join(extra, ", ")
	}
	if rm, ours := inst.routeMapIn(&n.Neighbor), d.own.Naming.PeerFilter(a); rm != "" && rm != ours {
		return fabric.BGPPeer{}, fmt.Sprintf("its inbound route-map %s is not the cluster's filter %s: a filter's mark is its name, so it is not adopted under another", cli.Quote(rm), ours)
	}
	p, why := d.observePeer(sw, cfg, inst, n)
	if why != "" {
		return fabric.BGPPeer{}, "it is not what the driver writes: " + why
	}
	p.Node = "" // the mark's text: rewritten
	return p, ""
}

// otherNeighborLines lists the keywords of the neighbor's lines in the
// instance's block that the driver does not write (keywords only: a
// password line must not reach a plan).
func otherNeighborLines(text string, inst *bgpInstance, id string) []string {
	seen := map[string]bool{}
	{
		head := fmt.Sprintf("router bgp %d%s", inst.ASN, vrfSuffix(inst.VRF))
		in := false
		for _, raw := range strings.Split(text, "\n") {
			line := strings.TrimRight(raw, "\r")
			if !strings.HasPrefix(line, " ") {
				in = line == head
				continue
			}
			f := strings.Fields(line)
			if len(f) > 0 && f[0] == "no" {
				f = f[1:]
			}
			if !in || len(f) < 3 || f[0] != "neighbor" || f[1] != id {
				continue
			}
			if !neighborKeywords[f[2]] || (f[2] == "route-map" && (len(f) != 5 || f[4] != "in")) {
				seen[f[2]] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Adopt writes the mark into the description of each adopted neighbor,
// switch by switch, after reading the switch's configuration again: a
// neighbor that is no longer unmarked and identical is refused.
func (d *Driver) Adopt(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	if !plan.AdoptOnly() {
		return fabric.ApplyResult{}, errors.New("FRR Adopt takes adoptions only")
	}
	return d.switches.Apply(ctx, plan, d.adoptSwitch)
}

func (d *Driver) adoptSwitch(ctx context.Context, sw config.Switch, changes []fabric.Change) (fabric.ApplyResult, error) {
	text, cfg, err := d.readConfig(ctx, sw)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	d.seen.Set(sw.Name, seenConfig{text: text, ecmp: cfg.ecmpMax})
	if err := d.checkLock(sw, cfg); err != nil {
		return fabric.ApplyResult{}, fmt.Errorf("switch %s: %w", sw.Name, err)
	}
	inst, err := d.instance(sw, cfg)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	s := cli.NewScript(dialect)
	for _, c := range changes {
		s.Begin(c)
		want, isPeer := c.After.(fabric.BGPPeer)
		if !isPeer {
			s.Conflict("", "not adopted: "+notAdoptable(c.Kind, d.own))
			continue
		}
		have, why := d.adoptablePeer(sw, text, cfg, c.ID)
		if why == "" {
			if diffs := fabric.Differences(have, want, []string{"node"}); len(diffs) > 0 {
				why = "it differs from the desired object now (" + strings.Join(diffs, "; ") + ")"
			}
		}
		if why != "" {
			s.Conflict("", "not adopted: "+why)
			continue
		}
		desc, err := d.own.Describe(want.Node)
		if err != nil {
			s.Refuse(err)
			continue
		}
		s.In([]string{fmt.Sprintf("router bgp %d%s", inst.ASN, vrfSuffix(inst.VRF))}, fmt.Sprintf("neighbor %s description %s", c.ID, desc))
	}
	start := time.Now()
	lines := s.Lines()
	accepted, sendErr := d.session(sw).configure(ctx, lines)
	d.observeRequest("configure", time.Since(start), sendErr)
	res := s.Result(accepted)
	var errs []error
	switch {
	case sendErr != nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d of %d line(s) accepted, then: %v", sw.Name, accepted, len(lines), sendErr))
		errs = append(errs, sendErr)
	case len(lines) > 0:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d neighbor(s) adopted in %s", sw.Name, len(lines), time.Since(start).Round(time.Millisecond)))
	}
	errs = append(errs, refusalErrors(s)...)
	for _, c := range s.Conflicts() {
		errs = append(errs, fmt.Errorf("%s: %s", cli.CommentKey(fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}), c.Reason))
	}
	return res, errors.Join(errs...)
}
