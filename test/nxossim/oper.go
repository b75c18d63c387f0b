package nxossim

// Operational state: BGP sessions never come up in the emulator and no
// route is ever learned, so a test says what the switch reports
// (SetOperational), and the emulator serves it through
//
//	show bgp ipv4|ipv6 unicast neighbors [vrf NAME] | json
//	show ip|ipv6 route bgp [vrf NAME] | json
//
// in NX-OS's JSON shape (TABLE_x/ROW_x, every value a string, a ROW that
// holds one entry an object rather than a list). The field names and their
// nesting follow public recordings of Nexus 9000 switches:
//
//   - neighbors: allenrobel/nxapi-netbox lib/nxapi/nxapi_bgp_neighbors.py
//     (the docstring of NxapiBgpNeighbors: "show bgp ipv4 unicast
//     neighbors", NX-OS 7.0(3)I7 and 9.2(1): neighbor/ipv6neighbor,
//     remoteas, link, state, up, elapsedtime as an ISO 8601 duration,
//     holdtime, keepalivetime, resetreason, peerresetreason,
//     TABLE_peraf/ROW_peraf/TABLE_persaf/ROW_persaf with pfxrecvd);
//   - routes: allenrobel/nxapi-netbox lib/nxapi/nxapi_forwarding_route.py
//     (make_prefix_info_dict: ROW_prefix with ipprefix, ucast-nhops,
//     mcast-nhops, attached and TABLE_path/ROW_path entries with ipnexthop,
//     uptime, pref, metric, clientname "bgp-<asn>", type, tag, and ubest
//     "true" on the paths in use), nested in TABLE_vrf/ROW_vrf (vrf-name-out)
//     and TABLE_addrf/ROW_addrf (addrf), as napalm-automation/napalm's
//     recordings of "show bgp all summary vrf all"
//     (test/nxos/mocked_data/test_get_bgp_neighbors) nest theirs, with an
//     address family that has nothing reduced to its name.
//
// A configured neighbor the test says nothing about is Idle, as in
// "show ip bgp summary".

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Operational is the operational state a test gives the emulator, per VRF
// ("default" for the global instance).
type Operational struct {
	VRFs map[string]VRFOperational
}

// VRFOperational is one VRF's BGP neighbors and BGP routes.
type VRFOperational struct {
	Neighbors map[netip.Addr]NeighborState
	Routes    []RouteState
}

// NeighborState is what the switch reports of one neighbor.
type NeighborState struct {
	// State is the BGP state: Established, Idle, Active, Connect, ...
	State string
	// Since is when the neighbor entered the state (elapsedtime).
	Since time.Time
	// HoldTime is the negotiated hold time in seconds (0: 180).
	HoldTime int
	// PrefixesReceived is pfxrecvd.
	PrefixesReceived int
	// ResetReason is why the session last went down ("" : "No error").
	ResetReason string
}

// RouteState is a BGP route of the routing table: its next hops in use
// (ubest) and others it knows but does not use.
type RouteState struct {
	Prefix   netip.Prefix
	NextHops []netip.Addr
	Unused   []netip.Addr
	Since    time.Time
	// PeerAS is the tag of each path (the first AS of its path).
	PeerAS map[netip.Addr]string
}

// SetOperational replaces the operational state the emulator reports.
func (s *Server) SetOperational(op Operational) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oper = op
}

// isoDuration writes a duration as NX-OS's JSON does: P1DT4H28M45S,
// PT34M9S.
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	var b strings.Builder
	b.WriteString("P")
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	b.WriteString("T")
	if h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m > 0 || h > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	fmt.Fprintf(&b, "%dS", sec)
	return b.String()
}

// row is NX-OS's ROW_x: one entry is an object, several a list.
func row(entries []map[string]any) any {
	if len(entries) == 1 {
		return entries[0]
	}
	return entries
}

func (s *Server) bgpVRFOf(vrf string) (*BGPVRF, bool) {
	b := s.running.BGP
	if b == nil {
		return nil, false
	}
	if vrf == "" || vrf == "default" {
		return b.Global, true
	}
	v, ok := b.VRFs[vrf]
	return v, ok
}

// showBGPNeighborsJSON renders "show bgp ipv4|ipv6 unicast neighbors [vrf
// V] | json": the configured neighbors active in the family.
func (s *Server) showBGPNeighborsJSON(v6 bool, vrf string, now time.Time) (string, error) {
	v, ok := s.bgpVRFOf(vrf)
	if !ok {
		return "", fmt.Errorf("VRF %s not found", vrf)
	}
	if vrf == "" {
		vrf = "default"
	}
	af, key, afName, afi := IPv4Unicast, "neighbor", "IPv4 Unicast", "1"
	if v6 {
		af, key, afName, afi = IPv6Unicast, "ipv6neighbor", "IPv6 Unicast", "2"
	}
	op := s.oper.VRFs[vrf]
	var rows []map[string]any
	for _, n := range v.sortedNeighbors() {
		if _, active := n.AFs[af]; !active {
			continue
		}
		st, known := op.Neighbors[n.Address]
		if !known {
			st = NeighborState{State: "Idle", Since: n.Since}
		}
		hold := st.HoldTime
		if hold == 0 {
			hold = 180
		}
		reset := st.ResetReason
		if reset == "" {
			reset = "No error"
		}
		link := "ebgp"
		if n.RemoteAS == s.running.BGP.ASN {
			link = "ibgp"
		}
		up := st.State == "Established"
		pfx := st.PrefixesReceived
		if !up {
			pfx = 0
		}
		r := map[string]any{
			key:               n.Address.String(),
			"remoteas":        n.RemoteAS,
			"link":            link,
			"version":         "4",
			"state":           st.State,
			"up":              strconv.FormatBool(up),
			"elapsedtime":     isoDuration(now.Sub(st.Since)),
			"holdtime":        strconv.Itoa(hold),
			"keepalivetime":   strconv.Itoa(hold / 3),
			"resetreason":     reset,
			"peerresetreason": "No error",
			"TABLE_peraf": map[string]any{"ROW_peraf": map[string]any{
				"per-afi": afi,
				"TABLE_persaf": map[string]any{"ROW_persaf": map[string]any{
					"per-safi": "1", "per-af-name": afName,
					"pfxrecvd": strconv.Itoa(pfx), "pathsrecvd": strconv.Itoa(pfx), "pfxsent": "0", "pathssent": "0",
				}},
			}},
		}
		if n.Description != "" {
			r["description"] = n.Description
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return "", nil // NX-OS prints nothing when there is nothing to show
	}
	return jsonOut(map[string]any{"TABLE_neighbor": map[string]any{"ROW_neighbor": row(rows)}})
}

// showRouteBGPJSON renders "show ip|ipv6 route bgp [vrf V] | json".
func (s *Server) showRouteBGPJSON(v6 bool, vrf string, now time.Time) (string, error) {
	if _, ok := s.bgpVRFOf(vrf); !ok && s.running.BGP != nil {
		return "", fmt.Errorf("VRF %s not found", vrf)
	}
	if vrf == "" {
		vrf = "default"
	}
	addrf := "ipv4"
	if v6 {
		addrf = "ipv6"
	}
	asn := ""
	if s.running.BGP != nil {
		asn = s.running.BGP.ASN
	}
	routes := append([]RouteState(nil), s.oper.VRFs[vrf].Routes...)
	sort.Slice(routes, func(i, j int) bool {
		if c := routes[i].Prefix.Addr().Compare(routes[j].Prefix.Addr()); c != 0 {
			return c < 0
		}
		return routes[i].Prefix.Bits() < routes[j].Prefix.Bits()
	})
	var prefixes []map[string]any
	for _, r := range routes {
		if r.Prefix.Addr().Is6() != v6 {
			continue
		}
		var paths []map[string]any
		path := func(nh netip.Addr, best bool) {
			p := map[string]any{"ipnexthop": nh.String(), "uptime": isoDuration(now.Sub(r.Since)), "pref": "20", "metric": "0",
				"clientname": "bgp-" + asn, "type": "external", "tag": r.PeerAS[nh]}
			if best {
				p["ubest"] = "true"
			}
			paths = append(paths, p)
		}
		for _, nh := range r.NextHops {
			path(nh, true)
		}
		for _, nh := range r.Unused {
			path(nh, false)
		}
		prefixes = append(prefixes, map[string]any{
			"ipprefix": r.Prefix.String(), "ucast-nhops": strconv.Itoa(len(r.NextHops)), "mcast-nhops": "0", "attached": "false",
			"TABLE_path": map[string]any{"ROW_path": row(paths)},
		})
	}
	af := map[string]any{"addrf": addrf}
	if len(prefixes) > 0 {
		af["TABLE_prefix"] = map[string]any{"ROW_prefix": row(prefixes)}
	}
	return jsonOut(map[string]any{"TABLE_vrf": map[string]any{"ROW_vrf": map[string]any{
		"vrf-name-out": vrf, "TABLE_addrf": map[string]any{"ROW_addrf": af}}}})
}

func jsonOut(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

func hShowBGPNeighbors(sh *shell, a args) *cmd {
	v6, vrf := a["af"] == "ipv6", a["vrf"]
	return &cmd{do: func(sh *shell) string {
		if !sh.json {
			sh.failed = true
			return "% this emulator serves this command with | json only\n"
		}
		sh.jsonDone = true
		out, err := sh.srv.showBGPNeighborsJSON(v6, vrf, sh.now)
		if err != nil {
			sh.failed = true
			return "% " + err.Error() + "\n"
		}
		return out
	}}
}

func hShowRouteBGP(v6 bool) handler {
	return func(sh *shell, a args) *cmd {
		vrf := a["vrf"]
		return &cmd{do: func(sh *shell) string {
			if !sh.json {
				sh.failed = true
				return "% this emulator serves this command with | json only\n"
			}
			sh.jsonDone = true
			out, err := sh.srv.showRouteBGPJSON(v6, vrf, sh.now)
			if err != nil {
				sh.failed = true
				return "% " + err.Error() + "\n"
			}
			return out
		}}
	}
}
