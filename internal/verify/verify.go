// Package verify reads what the switches really do (BGP sessions, the
// routes they installed and how many equal-cost next hops each has) and
// compares it with what the cluster implies: every (node, switch) session
// Established and receiving prefixes; every pod block routed to its node;
// every service range and LoadBalancer address routed to the nodes that
// advertise it, over as many next hops as maximum-paths allows. Each
// mismatch says what is wrong and its likely cause.
//
// It is vendor-neutral: drivers read the state (drivers.Verifier), verify
// decides.
package verify

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// FormatVersion is the version of the JSON report.
const FormatVersion = 1

// Report is the outcome of one verify.
type Report struct {
	FormatVersion int `json:"formatVersion"`
	// Problems counts every mismatch and every fabric or switch that could
	// not be read.
	Problems int            `json:"problems"`
	Fabrics  []FabricReport `json:"fabrics"`
}

// OK reports whether everything matched.
func (r Report) OK() bool { return r.Problems == 0 }

// FabricReport is one fabric's outcome.
type FabricReport struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
	// Error says why the fabric could not be read at all.
	Error    string         `json:"error,omitempty"`
	Problems int            `json:"problems"`
	Switches []SwitchReport `json:"switches"`
}

// SwitchReport is one switch's sessions and routes, checked.
type SwitchReport struct {
	Name     string         `json:"name"`
	Error    string         `json:"error,omitempty"`
	Sessions []SessionCheck `json:"sessions"`
	Routes   []RouteCheck   `json:"routes"`
}

// SessionCheck is one (node, switch) session.
type SessionCheck struct {
	Node        string     `json:"node"`
	PeerAddress netip.Addr `json:"peerAddress"`
	RemoteASN   uint32     `json:"remoteASN"`
	// Expected is "Established", or "shut down" for a node in
	// maintenance (bgp.shutdown).
	Expected string `json:"expected"`
	// State is what the switch reports ("" when it has no such neighbor).
	State            string `json:"state"`
	UptimeSeconds    int64  `json:"uptimeSeconds"`
	PrefixesReceived int    `json:"prefixesReceived"`
	HoldTimeSeconds  int64  `json:"holdTimeSeconds,omitempty"`
	OK               bool   `json:"ok"`
	Problem          string `json:"problem,omitempty"`
	Cause            string `json:"cause,omitempty"`
}

// Route check kinds.
const (
	KindPodBlock     = "pod-block"
	KindServiceRange = "service-range"
	KindService      = "service"
)

// RouteCheck is one prefix or address the switch must route, and how.
type RouteCheck struct {
	Kind string `json:"kind"`
	// Object is what the route is for: Node/<name> (its pod block),
	// BGPConfiguration/default or IPPool/<name> (a range),
	// Service/<namespace>/<name>.
	Object string `json:"object"`
	// Target is the prefix (pod block, range) or the address (a
	// LoadBalancer IP: the switch forwards it on its longest match).
	Target string `json:"target"`
	// Policy is a service's externalTrafficPolicy.
	Policy string `json:"policy,omitempty"`
	// Route is the prefix the switch forwards Target with ("" when none).
	Route    string    `json:"route"`
	NextHops []NextHop `json:"nextHops"`
	// Advertisers are the nodes expected to advertise it to this switch;
	// ExpectedWidth how many next hops it should have (the advertisers,
	// capped by maximum-paths), Width how many of them it has.
	Advertisers   []NextHop `json:"advertisers"`
	ExpectedWidth int       `json:"expectedWidth"`
	Width         int       `json:"width"`
	OK            bool      `json:"ok"`
	Problem       string    `json:"problem,omitempty"`
	Cause         string    `json:"cause,omitempty"`
}

// NextHop is a next hop address and the node it belongs to ("" when it is
// no node of the cluster).
type NextHop struct {
	Address netip.Addr `json:"address"`
	Node    string     `json:"node,omitempty"`
}

// Expectation is what one fabric must show, derived from the cluster.
type Expectation struct {
	Fabric, Driver string
	Switches       []string
	Sessions       []ExpectedSession
	Routes         []ExpectedRoute
}

// ExpectedSession is one session the fabric must hold.
type ExpectedSession struct {
	Switch, Node string
	Address      netip.Addr
	RemoteASN    uint32
	Shutdown     bool
}

// ExpectedRoute is one prefix or address a switch must route.
type ExpectedRoute struct {
	Switch, Kind, Object, Policy string
	// Prefix is set for pod blocks and ranges (an exact route), Address
	// for a LoadBalancer IP (a longest-prefix lookup).
	Prefix  netip.Prefix
	Address netip.Addr
	// Advertisers are the nodes that advertise it to the switch.
	Advertisers []NextHop
	// MaxPaths is the switch's maximum-paths for the family (0: not
	// managed, unknown).
	MaxPaths int
}

func (e ExpectedRoute) target() string {
	if e.Prefix.IsValid() {
		return e.Prefix.String()
	}
	return e.Address.String()
}

func (e ExpectedRoute) width() int {
	if e.MaxPaths > 0 {
		return min(len(e.Advertisers), e.MaxPaths)
	}
	return len(e.Advertisers)
}

// Expect derives, for every configured fabric, the sessions and routes
// the cluster implies.
func Expect(cs k8swatch.ClusterState, cfg *config.Config) []Expectation {
	opts := reconciler.TranslateOptions{CalicoNamespace: cfg.CalicoNamespace}
	intents := reconciler.Intents(cs, cfg, opts)
	desired := reconciler.Translate(cs, cfg, opts)
	services := map[string]k8swatch.Service{}
	for _, s := range cs.Services {
		services[s.Key()] = s
	}
	var out []Expectation
	for i, in := range intents {
		f := cfg.Fabrics[i]
		e := Expectation{Fabric: f.Name, Driver: f.Driver}
		for _, s := range f.Switches {
			e.Switches = append(e.Switches, s.Name)
		}
		var paths []fabric.MaximumPaths
		for _, fd := range desired.Fabrics {
			if fd.Name == f.Name {
				paths = fd.State.MaximumPaths
			}
		}
		maxPaths := func(sw string, af fabric.AddressFamily) int {
			for _, m := range paths {
				if (m.Switch == sw || m.Switch == "") && m.AddressFamily == af {
					return m.Paths
				}
			}
			return 0
		}
		// The nodes each switch has a session with, per family.
		type swaf struct {
			sw string
			af fabric.AddressFamily
		}
		peers := map[swaf][]NextHop{}
		for _, s := range in.Sessions {
			e.Sessions = append(e.Sessions, ExpectedSession{Switch: s.Switch, Node: s.Node, Address: s.NodeAddress.Addr(),
				RemoteASN: s.RemoteASN, Shutdown: s.Options.Shutdown})
			if !s.Options.Shutdown {
				k := swaf{s.Switch, s.AddressFamily}
				peers[k] = append(peers[k], NextHop{Address: s.NodeAddress.Addr(), Node: s.Node})
			}
		}
		for _, sw := range e.Switches {
			for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
				nodes := peers[swaf{sw, af}]
				if len(nodes) == 0 {
					continue
				}
				mp := maxPaths(sw, af)
				for _, b := range in.PodBlocks {
					if family(b.Prefix.Addr()) != af {
						continue
					}
					node := nodeOf(b.Sources)
					var adv []NextHop
					for _, n := range nodes {
						if n.Node == node {
							adv = append(adv, n)
						}
					}
					if len(adv) == 0 {
						continue
					}
					e.Routes = append(e.Routes, ExpectedRoute{Switch: sw, Kind: KindPodBlock, Object: "Node/" + node, Prefix: b.Prefix, Advertisers: adv, MaxPaths: mp})
				}
				for _, r := range in.ServiceRanges {
					if family(r.Prefix.Addr()) != af {
						continue
					}
					e.Routes = append(e.Routes, ExpectedRoute{Switch: sw, Kind: KindServiceRange, Object: strings.Join(r.Sources, ", "), Prefix: r.Prefix,
						Advertisers: nodes, MaxPaths: mp})
				}
				for _, si := range in.Services {
					svc := services[si.Key()]
					for _, ip := range si.OwnIPs {
						if family(ip) != af || !cs.AdvertisesLoadBalancerIP(ip) {
							continue
						}
						adv := nodes
						if svc.ExternalTrafficPolicy == "Local" {
							adv = nil
							for _, n := range nodes {
								if slices.Contains(svc.EndpointNodes, n.Node) {
									adv = append(adv, n)
								}
							}
						}
						e.Routes = append(e.Routes, ExpectedRoute{Switch: sw, Kind: KindService, Object: "Service/" + si.Key(),
							Policy: svc.ExternalTrafficPolicy, Address: ip, Advertisers: adv, MaxPaths: mp})
					}
				}
			}
		}
		out = append(out, e)
	}
	return out
}

func family(a netip.Addr) fabric.AddressFamily {
	if a.Is6() {
		return fabric.IPv6
	}
	return fabric.IPv4
}

func nodeOf(sources []string) string {
	for _, s := range sources {
		if n, ok := strings.CutPrefix(s, "Node/"); ok {
			return n
		}
	}
	return ""
}

// Compare checks one fabric's operational state against its expectation.
// readErr is why the fabric could not be read at all (nil when it was).
func Compare(e Expectation, op fabric.Operational, readErr error) FabricReport {
	fr := FabricReport{Name: e.Fabric, Driver: e.Driver, Switches: []SwitchReport{}}
	if readErr != nil {
		fr.Error = readErr.Error()
		fr.Problems = 1
		return fr
	}
	byName := map[string]fabric.SwitchOperational{}
	for _, so := range op.Switches {
		byName[so.Switch] = so
	}
	// Node names by address, for naming next hops.
	nodeAt := map[netip.Addr]string{}
	for _, s := range e.Sessions {
		nodeAt[s.Address] = s.Node
	}
	for _, sw := range e.Switches {
		sr := SwitchReport{Name: sw, Sessions: []SessionCheck{}, Routes: []RouteCheck{}}
		so, ok := byName[sw]
		switch {
		case !ok:
			sr.Error = "the driver reported nothing for this switch"
		case so.Error != "":
			sr.Error = so.Error
		}
		if sr.Error != "" {
			fr.Problems++
			fr.Switches = append(fr.Switches, sr)
			continue
		}
		for _, es := range e.Sessions {
			if es.Switch != sw {
				continue
			}
			sc := checkSession(es, so)
			if !sc.OK {
				fr.Problems++
			}
			sr.Sessions = append(sr.Sessions, sc)
		}
		for _, er := range e.Routes {
			if er.Switch != sw {
				continue
			}
			rc := checkRoute(er, so, nodeAt)
			if !rc.OK {
				fr.Problems++
			}
			sr.Routes = append(sr.Routes, rc)
		}
		fr.Switches = append(fr.Switches, sr)
	}
	return fr
}

func checkSession(es ExpectedSession, so fabric.SwitchOperational) SessionCheck {
	sc := SessionCheck{Node: es.Node, PeerAddress: es.Address, RemoteASN: es.RemoteASN, Expected: "Established"}
	if es.Shutdown {
		sc.Expected = "shut down"
	}
	st, ok := so.Session(es.Address)
	if !ok {
		sc.Problem = "the switch has no neighbor " + es.Address.String()
		sc.Cause = "the session is not configured: run plan to see why (skipped input, a held change, a conflict), then sync"
		return sc
	}
	sc.State = st.State
	sc.PrefixesReceived = st.PrefixesReceived
	sc.HoldTimeSeconds = int64(st.HoldTime / time.Second)
	if st.Established {
		sc.UptimeSeconds = int64(st.Uptime / time.Second)
	}
	switch {
	case es.Shutdown && st.Established:
		sc.Problem = "Established, expected shut down (maintenance)"
		sc.Cause = "the shutdown is not applied yet: run sync"
	case es.Shutdown:
		sc.OK = true
	case !st.Established:
		sc.Problem = fmt.Sprintf("%s, expected Established", st.State)
		var why []string
		if st.AdminDown {
			why = append(why, "the switch shut the session down")
		}
		if st.LastReset != "" {
			why = append(why, "last reset: "+st.LastReset)
		}
		why = append(why, fmt.Sprintf("check that calico-node (BIRD) runs on node %s and reaches the switch", es.Node))
		sc.Cause = strings.Join(why, "; ")
	case st.RemoteASN != 0 && st.RemoteASN != es.RemoteASN:
		sc.Problem = fmt.Sprintf("remote AS %d, expected %d", st.RemoteASN, es.RemoteASN)
		sc.Cause = "the node's AS changed since the last sync: run sync"
	case st.PrefixesReceived == 0:
		sc.Problem = "Established, but no prefix received"
		sc.Cause = fmt.Sprintf("node %s advertises nothing the switch accepts: check its IPAM blocks, Calico's BGPConfiguration, and the switch's inbound filter", es.Node)
	default:
		sc.OK = true
	}
	return sc
}

func checkRoute(er ExpectedRoute, so fabric.SwitchOperational, nodeAt map[netip.Addr]string) RouteCheck {
	rc := RouteCheck{Kind: er.Kind, Object: er.Object, Target: er.target(), Policy: er.Policy, NextHops: []NextHop{},
		Advertisers: er.Advertisers, ExpectedWidth: er.width()}
	if rc.Advertisers == nil {
		rc.Advertisers = []NextHop{}
	}
	var (
		r     fabric.Route
		found bool
	)
	if er.Prefix.IsValid() {
		r, found = so.Route(er.Prefix)
	} else {
		r, found = so.Lookup(er.Address)
	}
	expected := map[netip.Addr]bool{}
	for _, a := range er.Advertisers {
		expected[a.Address] = true
	}
	var unexpected []NextHop
	if found {
		rc.Route = r.Prefix.String()
		for _, nh := range r.NextHops {
			h := NextHop{Address: nh, Node: nodeAt[nh]}
			rc.NextHops = append(rc.NextHops, h)
			if expected[nh] {
				rc.Width++
			} else if h.Node != "" {
				unexpected = append(unexpected, h)
			}
		}
	}
	switch {
	case len(er.Advertisers) == 0 && found && len(unexpected) > 0:
		rc.Problem = fmt.Sprintf("routed through %s to %s, though no node of this switch has an endpoint", rc.Route, hopList(unexpected))
		rc.Cause = "externalTrafficPolicy Local without a ready endpoint on these nodes: the aggregate sends its traffic to nodes that drop it"
	case len(er.Advertisers) == 0:
		rc.OK = true // nothing to route: no node has an endpoint
	case !found:
		rc.Problem = "no route"
		rc.Cause = missingCause(er.Advertisers, so)
	case er.Policy == "Local" && len(unexpected) > 0:
		rc.Problem = fmt.Sprintf("routed through %s to %s, nodes without an endpoint", rc.Route, hopList(unexpected))
		rc.Cause = fmt.Sprintf("the %s/32 of this Local service is not advertised (or not preferred) on this switch, so the aggregate spreads its traffic over every node: check serviceLoadBalancerIPs and the endpoints", er.Address)
	case rc.Width < rc.ExpectedWidth:
		rc.Problem = fmt.Sprintf("%s has %d of the %d expected next hops", rc.Route, rc.Width, rc.ExpectedWidth)
		var missing []NextHop
		for _, a := range er.Advertisers {
			if !slices.ContainsFunc(r.NextHops, func(x netip.Addr) bool { return x == a.Address }) {
				missing = append(missing, a)
			}
		}
		rc.Cause = missingCause(missing, so)
	default:
		rc.OK = true
	}
	return rc
}

// missingCause says why advertisers are missing from a route: their
// sessions, or, with the sessions up, what else it can be.
func missingCause(missing []NextHop, so fabric.SwitchOperational) string {
	var down, up []string
	for _, m := range missing {
		st, ok := so.Session(m.Address)
		switch {
		case !ok:
			down = append(down, fmt.Sprintf("%s has no session with the switch (not configured)", hopName(m)))
		case !st.Established:
			down = append(down, fmt.Sprintf("the session of %s is %s", hopName(m), st.State))
		default:
			up = append(up, hopName(m))
		}
	}
	var parts []string
	if len(down) > 0 {
		parts = append(parts, strings.Join(down, "; "))
	}
	if len(up) > 0 {
		parts = append(parts, fmt.Sprintf("%s: session Established, but the switch does not use a path from it (the node does not advertise it, the inbound filter refuses it, or maximum-paths / AS-path multipath relax keep it out)", strings.Join(up, ", ")))
	}
	return strings.Join(parts, "; ")
}

func hopName(h NextHop) string {
	if h.Node != "" {
		return fmt.Sprintf("node %s (%s)", h.Node, h.Address)
	}
	return h.Address.String()
}

func hopList(hs []NextHop) string {
	var s []string
	for _, h := range hs {
		s = append(s, hopName(h))
	}
	return strings.Join(s, ", ")
}

// Run verifies every configured fabric (those named in only, when given)
// with its driver, concurrently.
func Run(ctx context.Context, cs k8swatch.ClusterState, cfg *config.Config, ds map[string]drivers.Driver, only []string) Report {
	exps := Expect(cs, cfg)
	var sel []Expectation
	for _, e := range exps {
		if len(only) == 0 || slices.Contains(only, e.Fabric) {
			sel = append(sel, e)
		}
	}
	out := make([]FabricReport, len(sel))
	done := make(chan struct{})
	for i, e := range sel {
		go func() {
			defer func() { done <- struct{}{} }()
			d, ok := ds[e.Fabric]
			if !ok {
				out[i] = Compare(e, fabric.Operational{}, fmt.Errorf("no driver is open for this fabric"))
				return
			}
			v, ok := d.(drivers.Verifier)
			if !ok {
				out[i] = Compare(e, fabric.Operational{}, fmt.Errorf("driver %s cannot read the operational state back", e.Driver))
				return
			}
			op, err := v.Operational(ctx)
			out[i] = Compare(e, op, err)
		}()
	}
	for range sel {
		<-done
	}
	return Assemble(out)
}

// Assemble makes a report of fabric reports.
func Assemble(fabrics []FabricReport) Report {
	r := Report{FormatVersion: FormatVersion, Fabrics: fabrics}
	if r.Fabrics == nil {
		r.Fabrics = []FabricReport{}
	}
	sort.SliceStable(r.Fabrics, func(i, j int) bool { return r.Fabrics[i].Name < r.Fabrics[j].Name })
	for _, f := range r.Fabrics {
		r.Problems += f.Problems
	}
	return r
}
