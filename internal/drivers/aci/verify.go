package aci

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

var _ drivers.Verifier = (*Driver)(nil)

// pathNodeRe reads the pod and node(s) of an SVI path.
var pathNodeRe = regexp.MustCompile(`^topology/pod-([0-9]+)/(?:paths-([0-9]+)|protpaths-([0-9]+)-[0-9]+)/`)

// Operational reads, for each leaf, the BGP sessions and the routes of the
// cluster's VRF from the APIC's operational classes, two GETs per leaf:
//
//	topology/pod-P/node-N/sys/bgp/inst/dom-<tenant>:<vrf>: bgpPeer (asn),
//	  bgpPeerEntry (operSt, holdIntvl, lastFlapTs), bgpPeerAfEntry
//	  (acceptedPaths);
//	topology/pod-P/node-N/sys/uribv4/dom-<tenant>:<vrf> (and uribv6):
//	  uribv4Route (prefix) and its uribv4Nexthop (addr, routeType).
//
// The leaf is the node of the switch's sviPath; for a vPC path
// (protpaths-A-B) the first leaf of the pair is read.
func (d *Driver) Operational(ctx context.Context) (fabric.Operational, error) {
	out := fabric.Operational{Switches: make([]fabric.SwitchOperational, len(d.cfg.Switches))}
	var wg sync.WaitGroup
	for i, sw := range d.cfg.Switches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			so, err := d.operLeaf(ctx, leafOf(sw).SVIPath)
			if err != nil {
				so = fabric.SwitchOperational{Error: err.Error()}
			}
			so.Switch = sw.Name
			out.Switches[i] = so
		}()
	}
	wg.Wait()
	out.Sort()
	return out, nil
}

// nodeDN is the operational root of the leaf an SVI path is on.
func nodeDN(sviPath string) (string, error) {
	m := pathNodeRe.FindStringSubmatch(sviPath)
	if m == nil {
		return "", fmt.Errorf("sviPath %q names no leaf", sviPath)
	}
	node := m[2]
	if node == "" {
		node = m[3]
	}
	return "topology/pod-" + m[1] + "/node-" + node, nil
}

func (d *Driver) operLeaf(ctx context.Context, sviPath string) (fabric.SwitchOperational, error) {
	var so fabric.SwitchOperational
	node, err := nodeDN(sviPath)
	if err != nil {
		return so, err
	}
	dom := "dom-" + d.names.tenant + ":" + d.names.vrf
	cont, err := d.apic.request(ctx, "operational", "GET",
		"/api/node/mo/"+node+"/sys/bgp/inst/"+dom+".json?query-target=subtree&target-subtree-class=bgpPeer,bgpPeerEntry,bgpPeerAfEntry", nil)
	if err != nil {
		return so, fmt.Errorf("BGP sessions of %s: %w", node, err)
	}
	snap, err := parseSnapshot(cont)
	if err != nil {
		return so, fmt.Errorf("BGP sessions of %s: %w", node, err)
	}
	so.Sessions = sessionsOf(snap, time.Now())
	for _, v := range []string{"4", "6"} {
		cont, err := d.apic.request(ctx, "operational", "GET",
			"/api/node/mo/"+node+"/sys/uribv"+v+"/"+dom+".json?query-target=subtree&target-subtree-class=uribv"+v+"Route,uribv"+v+"Nexthop", nil)
		if err != nil {
			return so, fmt.Errorf("IPv%s routes of %s: %w", v, node, err)
		}
		snap, err := parseSnapshot(cont)
		if err != nil {
			return so, fmt.Errorf("IPv%s routes of %s: %w", v, node, err)
		}
		so.Routes = append(so.Routes, routesOf(snap, v)...)
	}
	return so, nil
}

// sessionsOf reads bgpPeerEntry objects, with their parent bgpPeer's asn
// and their bgpPeerAfEntry children's accepted paths.
func sessionsOf(s *snapshot, now time.Time) []fabric.SessionState {
	var out []fabric.SessionState
	for dn, o := range s.objs {
		if o.class != "bgpPeerEntry" {
			continue
		}
		addr, err := netip.ParseAddr(strings.SplitN(o.attrs["addr"], "/", 2)[0])
		if err != nil {
			continue
		}
		st := fabric.SessionState{PeerAddress: addr.Unmap(), State: o.attrs["operSt"]}
		st.Established = st.State == "established"
		st.AdminDown = st.State == "shut"
		if peer, ok := s.get(parentDN(dn)); ok {
			if as, err := strconv.ParseUint(peer.attrs["asn"], 10, 32); err == nil {
				st.RemoteASN = uint32(as)
			}
			st.AdminDown = st.AdminDown || peer.attrs["adminSt"] == "disabled"
		}
		if h, err := strconv.Atoi(o.attrs["holdIntvl"]); err == nil {
			st.HoldTime = time.Duration(h) * time.Second
		}
		flap, flapErr := time.Parse("2006-01-02T15:04:05.000-07:00", o.attrs["lastFlapTs"])
		switch {
		case st.Established && flapErr == nil:
			st.Uptime = now.Sub(flap).Round(time.Second)
		case !st.Established && flapErr == nil:
			st.LastReset = fmt.Sprintf("last change %s ago", now.Sub(flap).Round(time.Second))
			if r := o.attrs["stReason"]; r != "" && r != "none" {
				st.LastReset = r + ", " + st.LastReset
			}
		}
		for _, af := range s.children(dn, "bgpPeerAfEntry") {
			if n, err := strconv.Atoi(af.attrs["acceptedPaths"]); err == nil {
				st.PrefixesReceived += n
			}
		}
		out = append(out, st)
	}
	return out
}

// routesOf reads uribvNRoute objects and their BGP next hops (routeType
// ebgp or ibgp): the URIB holds the paths a route is forwarded over.
func routesOf(s *snapshot, v string) []fabric.Route {
	var out []fabric.Route
	for dn, o := range s.objs {
		if o.class != "uribv"+v+"Route" {
			continue
		}
		p, err := netip.ParsePrefix(o.attrs["prefix"])
		if err != nil {
			continue
		}
		rt := fabric.Route{Prefix: p.Masked()}
		bgp := false
		for _, nh := range s.children(dn, "uribv"+v+"Nexthop") {
			switch nh.attrs["routeType"] {
			case "ebgp", "ibgp":
			default:
				continue
			}
			bgp = true
			a, err := netip.ParseAddr(strings.SplitN(nh.attrs["addr"], "/", 2)[0])
			if err == nil {
				rt.NextHops = append(rt.NextHops, a.Unmap())
			}
		}
		if bgp {
			out = append(out, rt)
		}
	}
	return out
}
