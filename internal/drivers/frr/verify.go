package frr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

var _ drivers.Verifier = (*Driver)(nil)

// Operational reads each switch's BGP neighbors and BGP routes with FRR's
// JSON show commands: "show bgp [vrf V] neighbors json" (state, uptime,
// negotiated hold time, accepted prefixes, why it last went down) and
// "show ip route [vrf V] bgp json" and its IPv6 twin (the selected routes
// and their active next hops, as installed in the FIB).
func (d *Driver) Operational(ctx context.Context) (fabric.Operational, error) {
	return d.switches.Operational(ctx, d.operSwitch), nil
}

func (d *Driver) operSwitch(ctx context.Context, sw config.Switch) (fabric.SwitchOperational, error) {
	var so fabric.SwitchOperational
	vrf := ""
	if v := d.vrf(); v != "" {
		vrf = " vrf " + v
	}
	s := d.session(sw)
	cmd := "show bgp" + vrf + " neighbors json"
	began := time.Now()
	out, err := s.command(ctx, cmd, jsonReply)
	d.observeRequest("show bgp neighbors json", time.Since(began), err)
	if err != nil {
		return so, err
	}
	if so.Sessions, err = parseNeighborsJSON(out); err != nil {
		return so, fmt.Errorf("switch %s: %s: %w", sw.Name, cmd, err)
	}
	for _, show := range []string{"show ip route" + vrf + " bgp json", "show ipv6 route" + vrf + " bgp json"} {
		began := time.Now()
		out, err := s.command(ctx, show, jsonReply)
		d.observeRequest("show route bgp json", time.Since(began), err)
		if err != nil {
			return so, err
		}
		routes, err := parseRoutesJSON(out)
		if err != nil {
			return so, fmt.Errorf("switch %s: %s: %w", sw.Name, show, err)
		}
		so.Routes = append(so.Routes, routes...)
	}
	return so, nil
}

// frrNeighbor is the part of a neighbor in "show bgp neighbors json" that
// verify reads (FRR 8.4: bgpd/bgp_vty.c bgp_show_peer).
type frrNeighbor struct {
	RemoteAS        uint32 `json:"remoteAs"`
	State           string `json:"bgpState"`
	AdminShutDown   bool   `json:"adminShutDown"`
	UpMsec          int64  `json:"bgpTimerUpMsec"`
	HoldTimeMsecs   int64  `json:"bgpTimerHoldTimeMsecs"`
	LastResetDueTo  string `json:"lastResetDueTo"`
	LastResetMsecs  int64  `json:"lastResetTimerMsecs"`
	Notification    string `json:"lastNotificationReason"`
	AddressFamilies map[string]struct {
		Accepted int `json:"acceptedPrefixCounter"`
	} `json:"addressFamilyInfo"`
}

// parseNeighborsJSON reads "show bgp neighbors json": an object keyed by
// neighbor address (peer-groups and interface neighbors are skipped).
func parseNeighborsJSON(text string) ([]fabric.SessionState, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	var out []fabric.SessionState
	for key, v := range raw {
		addr, err := netip.ParseAddr(key)
		if err != nil {
			continue
		}
		var n frrNeighbor
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, fmt.Errorf("neighbor %s: %w", key, err)
		}
		st := fabric.SessionState{PeerAddress: addr.Unmap(), RemoteASN: n.RemoteAS, State: n.State,
			Established: n.State == "Established", AdminDown: n.AdminShutDown,
			HoldTime: time.Duration(n.HoldTimeMsecs) * time.Millisecond}
		if st.Established {
			st.Uptime = time.Duration(n.UpMsec) * time.Millisecond
		} else if n.LastResetDueTo != "" {
			// "BGP Notification send" / "... received" alone does not say
			// which: FRR adds the notification's reason.
			st.LastReset = n.LastResetDueTo
			if n.Notification != "" {
				st.LastReset += " (" + n.Notification + ")"
			}
			if n.LastResetMsecs > 0 {
				st.LastReset += fmt.Sprintf(", %s ago", (time.Duration(n.LastResetMsecs) * time.Millisecond).Round(time.Second))
			}
		}
		for _, af := range n.AddressFamilies {
			st.PrefixesReceived += af.Accepted
		}
		out = append(out, st)
	}
	return out, nil
}

// parseRoutesJSON reads "show ip route bgp json": per prefix its routes;
// the selected one's active FIB next hops are what the switch forwards to
// (FRR 8.4: zebra/zebra_vty.c vty_show_ip_route).
func parseRoutesJSON(text string) ([]fabric.Route, error) {
	var raw map[string][]struct {
		Prefix    string `json:"prefix"`
		Protocol  string `json:"protocol"`
		Selected  bool   `json:"selected"`
		Installed bool   `json:"installed"`
		Nexthops  []struct {
			IP     string `json:"ip"`
			Active bool   `json:"active"`
			FIB    bool   `json:"fib"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	var out []fabric.Route
	for key, routes := range raw {
		p, err := netip.ParsePrefix(key)
		if err != nil {
			return nil, fmt.Errorf("prefix %q: %w", key, err)
		}
		for _, r := range routes {
			if r.Protocol != "bgp" || !r.Selected {
				continue
			}
			rt := fabric.Route{Prefix: p}
			for _, nh := range r.Nexthops {
				a, err := netip.ParseAddr(nh.IP)
				if err != nil || !nh.Active || !(nh.FIB || !r.Installed) {
					continue
				}
				rt.NextHops = append(rt.NextHops, a.Unmap())
			}
			out = append(out, rt)
		}
	}
	return out, nil
}

// jsonReply checks that a "| json" / "json" show command answered JSON (or
// nothing, for an empty table); a refusal ("% Invalid command") is an
// error quoting its first line, not a parse error on its text.
func jsonReply(out string) error {
	if t := strings.TrimSpace(out); t == "" || t[0] == '{' || t[0] == '[' {
		return nil
	}
	return errors.New("not a JSON reply")
}
