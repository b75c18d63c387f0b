package nxos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// Adoption on NX-OS. A neighbor's mark is its description, an attribute: a
// hand-made neighbor whose lines are exactly those the driver would write
// (remote-as, local-as with the driver's flags, its own address family with
// no inbound route-map or the cluster's filter, nothing else) is adopted by
// one line in its neighbor block, "description <mark> node=<node>", which
// replaces any description it had (the node name is part of the mark, so
// it is not compared). It is committed like any apply: under the fabric's
// lock and the run's checkpoint (or configuration session), all or nothing
// per switch.
//
// Not adoptable, and the plan says why: a neighbor with any other line
// (password, timers, update-source, another address family, a prefix-list,
// ...), one whose inbound route-map is not the cluster's filter, and
// prefix filters and maximum-paths: their mark is a name (FR-<cluster>-...),
// so taking one over would mean renaming it, a new object.

// adoptingKey marks a context of Adopt: only then does an apply plan
// adoption lines, so Apply never adopts whatever it is given.
type adoptingKey struct{}

// ObserveForAdoption is Observe with each unmarked neighbor read for
// adoption.
func (d *Driver) ObserveForAdoption(ctx context.Context) (fabric.Observed, error) {
	obs, err := d.Observe(ctx)
	if err != nil {
		return obs, err
	}
	for i, f := range obs.Foreign {
		if f.Owner != "" {
			continue
		}
		a := fabric.Adoptable{Why: notAdoptable(f.Kind)}
		if f.Kind == fabric.KindBGPPeer {
			seen, observed := d.seen.Get(f.Switch)
			sw, known := d.switches.ByName(f.Switch)
			cfg, perr := seen.parse()
			switch {
			case !observed || !known || perr != nil:
				a.Why = "the switch's configuration was not read"
			default:
				if p, why := d.adoptablePeer(sw, seen.texts, cfg, f.ID); why != "" {
					a.Why = why
				} else {
					a = fabric.Adoptable{Object: p, Rewrites: []string{"node"}}
				}
			}
		}
		obs.Foreign[i].Adoption = &a
	}
	return obs, nil
}

func notAdoptable(k fabric.Kind) string {
	switch k {
	case fabric.KindPrefixFilter:
		return "the cluster's filters are marked by their name (FR-<cluster>-IN-<address>); one made under another name cannot be adopted without renaming it. Adopt the neighbor: sync then creates and binds its filter"
	case fabric.KindMaximumPaths:
		return "maximum-paths is the BGP context's setting, marked by the cluster's marker prefix-list; it is not adopted"
	}
	return "not a kind this driver adopts"
}

// adoptablePeer reads the unmarked neighbor at id as Observe reads an
// owned one, or says why it cannot be adopted.
func (d *Driver) adoptablePeer(sw config.Switch, texts []string, cfg *runningConfig, id string) (fabric.BGPPeer, string) {
	v, err := d.instance(sw, cfg)
	if err != nil {
		return fabric.BGPPeer{}, err.Error()
	}
	a, err := netip.ParseAddr(id)
	if err != nil {
		return fabric.BGPPeer{}, "not a neighbor address"
	}
	n := v.neighborAt(a)
	if n == nil {
		return fabric.BGPPeer{}, "no such neighbor"
	}
	if owner, _ := cli.Parse(n.Description); owner != "" {
		return fabric.BGPPeer{}, fmt.Sprintf("its description carries the mark %q", owner)
	}
	af := cli.AFName(fabric.FamilyOf(a))
	if extra := neighborExtras(texts, cfg.BGP.ASN, d.vrf, n.ID, af); len(extra) > 0 {
		return fabric.BGPPeer{}, "it has lines the driver does not write: " + strings.Join(extra, ", ")
	}
	if naf := n.AFs[af]; naf != nil && naf.RouteMapIn != "" && naf.RouteMapIn != d.own.Naming.PeerFilter(a) {
		return fabric.BGPPeer{}, fmt.Sprintf("its inbound route-map %s is not the cluster's filter %s: a filter's mark is its name, so it is not adopted under another",
			cli.Quote(naf.RouteMapIn), d.own.Naming.PeerFilter(a))
	}
	p, why := d.observePeer(sw, cfg, n)
	if why != "" {
		return fabric.BGPPeer{}, "it is not what the driver writes: " + why
	}
	p.Node = "" // the mark's text: rewritten
	return p, ""
}

// neighborExtras lists the lines of a neighbor's block the driver does not
// write, by keyword only (a password line must not reach a plan).
func neighborExtras(texts []string, asn uint32, vrf, id, af string) []string {
	seen := map[string]bool{}
	for _, text := range texts {
		for _, r := range parseTree(text) {
			if r.text != "router bgp "+strconv.FormatUint(uint64(asn), 10) {
				continue
			}
			ctx := r.kids
			if vrf != "default" {
				ctx = nil
				for _, k := range r.kids {
					if k.text == "vrf "+vrf {
						ctx = k.kids
					}
				}
			}
			for _, k := range ctx {
				f := strings.Fields(k.text)
				if len(f) < 2 || f[0] != "neighbor" || f[1] != id {
					continue
				}
				if len(f) > 2 && !(len(f) == 4 && f[2] == "remote-as") {
					seen["neighbor ... "+f[2]] = true
				}
				for _, l := range k.kids {
					lf := strings.Fields(l.text)
					switch {
					case len(lf) == 0:
					case lf[0] == "remote-as" || lf[0] == "description" || lf[0] == "local-as":
					case l.text == "address-family "+af:
						for _, x := range l.kids {
							xf := strings.Fields(x.text)
							if !(len(xf) == 3 && xf[0] == "route-map" && xf[2] == "in") {
								seen["address-family "+af+" "+xf[0]] = true
							}
						}
					case lf[0] == "address-family":
						seen[l.text] = true
					default:
						seen[lf[0]] = true
					}
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Adopt writes the mark into the description of each adopted neighbor,
// through the apply path (lock check, recovery, checkpoint or configuration
// session), after reading the switch again: a neighbor that is no longer
// unmarked and identical is refused.
func (d *Driver) Adopt(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	if !plan.AdoptOnly() {
		return fabric.ApplyResult{}, errors.New("NX-OS Adopt takes adoptions only")
	}
	return d.Apply(context.WithValue(ctx, adoptingKey{}, true), plan)
}

// scriptFor is the script of an apply: the planner's, or in Adopt the
// adoption lines.
func (d *Driver) scriptFor(ctx context.Context, sw config.Switch, cfg *runningConfig, texts []string, changes []fabric.Change) (*cli.Script, error) {
	if ctx.Value(adoptingKey{}) == nil {
		return d.script(sw, cfg, changes)
	}
	v, err := d.instance(sw, cfg)
	if err != nil {
		return nil, err
	}
	p := &planner{Planner: cli.Planner{Script: cli.NewScript(dialect)}, vrf: d.vrf, v: v, asn: cfg.BGP.ASN}
	s := p.Script
	for _, c := range changes {
		s.Begin(c)
		want, isPeer := c.After.(fabric.BGPPeer)
		if c.Action != fabric.ActionAdopt || !isPeer {
			s.Conflict("", "not adopted: "+notAdoptable(c.Kind))
			continue
		}
		have, why := d.adoptablePeer(sw, texts, cfg, c.ID)
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
		if err == nil && len(desc) > maxDescription {
			err = fmt.Errorf("the description %q would be %d characters, NX-OS takes %d", desc, len(desc), maxDescription)
		}
		if err != nil {
			s.Refuse(err)
			continue
		}
		s.In(p.nbrMode(c.ID), "description "+desc)
	}
	return s, nil
}
