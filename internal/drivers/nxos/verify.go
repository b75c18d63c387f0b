package nxos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

var _ drivers.Verifier = (*Driver)(nil)

// Operational reads each switch's BGP neighbors and BGP routes in the
// fabric's VRF with NX-OS's JSON output:
//
//	show bgp ipv4|ipv6 unicast neighbors vrf V | json
//	show ip|ipv6 route bgp vrf V | json
//
// (neighbors: state, elapsedtime, holdtime, resetreason, pfxrecvd;
// routes: each prefix's paths, those in use marked ubest). The shapes are
// those of public recordings of Nexus 9000 switches (see test/nxossim's
// oper.go, which serves them).
func (d *Driver) Operational(ctx context.Context) (fabric.Operational, error) {
	return d.switches.Operational(ctx, d.operSwitch), nil
}

func (d *Driver) operSwitch(ctx context.Context, sw config.Switch) (fabric.SwitchOperational, error) {
	var so fabric.SwitchOperational
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	for _, af := range []struct{ bgp, route string }{{"ipv4", "ip"}, {"ipv6", "ipv6"}} {
		cmd := "show bgp " + af.bgp + " unicast neighbors vrf " + d.vrf + " | json"
		began := time.Now()
		out, err := s.Read(ctx, cmd, jsonReply)
		d.observeRequest("show bgp neighbors json", time.Since(began), err)
		if err != nil {
			return so, err
		}
		sessions, err := parseNeighborsJSON(out)
		if err != nil {
			return so, fmt.Errorf("switch %s: %s: %w", sw.Name, cmd, err)
		}
		so.Sessions = append(so.Sessions, sessions...)
		cmd = "show " + af.route + " route bgp vrf " + d.vrf + " | json"
		began = time.Now()
		out, err = s.Read(ctx, cmd, jsonReply)
		d.observeRequest("show route bgp json", time.Since(began), err)
		if err != nil {
			return so, err
		}
		routes, err := parseRoutesJSON(out)
		if err != nil {
			return so, fmt.Errorf("switch %s: %s: %w", sw.Name, cmd, err)
		}
		so.Routes = append(so.Routes, routes...)
	}
	return so, nil
}

// rowsOf reads NX-OS's ROW_x, which holds an object for one entry and a
// list for several.
func rowsOf(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var out []json.RawMessage
		err := json.Unmarshal(raw, &out)
		return out, err
	}
	return []json.RawMessage{raw}, nil
}

// table reads TABLE_<name>/ROW_<name> out of an object, each row decoded.
func table(obj map[string]json.RawMessage, name string) ([]map[string]json.RawMessage, error) {
	t, ok := obj["TABLE_"+name]
	if !ok {
		return nil, nil
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(t, &inner); err != nil {
		return nil, fmt.Errorf("TABLE_%s: %w", name, err)
	}
	raws, err := rowsOf(inner["ROW_"+name])
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]json.RawMessage, len(raws))
	for i, r := range raws {
		if rows[i], err = objectOf(r); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

func objectOf(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	err := json.Unmarshal(raw, &m)
	return m, err
}

// str reads a value NX-OS writes as a string (or, in some releases, a
// number).
func str(m map[string]json.RawMessage, key string) string {
	raw, ok := m[key]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return strings.Trim(string(raw), `"`)
}

// parseNeighborsJSON reads "show bgp ipv4|ipv6 unicast neighbors | json":
// TABLE_neighbor/ROW_neighbor, keyed "neighbor" (IPv4) or "ipv6neighbor";
// nothing at all when there is no neighbor. A TABLE_vrf around it is
// accepted too.
func parseNeighborsJSON(text string) ([]fabric.SessionState, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	top, err := objectOf(json.RawMessage(text))
	if err != nil {
		return nil, err
	}
	vrfs, err := table(top, "vrf")
	if err != nil {
		return nil, err
	}
	objs := append([]map[string]json.RawMessage{top}, vrfs...)
	var out []fabric.SessionState
	for _, o := range objs {
		rows, err := table(o, "neighbor")
		if err != nil {
			return nil, err
		}
		for _, n := range rows {
			addrText := str(n, "neighbor")
			if addrText == "" {
				addrText = str(n, "ipv6neighbor")
			}
			addr, err := netip.ParseAddr(addrText)
			if err != nil {
				continue // a prefix (dynamic) neighbor
			}
			st := fabric.SessionState{PeerAddress: addr.Unmap(), State: str(n, "state")}
			st.Established = st.State == "Established"
			st.AdminDown = strings.Contains(st.State, "Admin") || strings.HasPrefix(st.State, "Shut")
			if as, err := strconv.ParseUint(str(n, "remoteas"), 10, 32); err == nil {
				st.RemoteASN = uint32(as)
			}
			if h, err := strconv.Atoi(str(n, "holdtime")); err == nil {
				st.HoldTime = time.Duration(h) * time.Second
			}
			elapsed, _ := parseNXDuration(str(n, "elapsedtime"))
			if st.Established {
				st.Uptime = elapsed
			} else if r := str(n, "resetreason"); r != "" && r != "No error" {
				st.LastReset = r
				if elapsed > 0 {
					st.LastReset += fmt.Sprintf(", %s ago", elapsed)
				}
			}
			afs, err := table(n, "peraf")
			if err != nil {
				return nil, err
			}
			for _, ao := range afs {
				safs, err := table(ao, "persaf")
				if err != nil {
					return nil, err
				}
				for _, so := range safs {
					if p, err := strconv.Atoi(str(so, "pfxrecvd")); err == nil {
						st.PrefixesReceived += p
					}
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// parseRoutesJSON reads "show ip route bgp | json": TABLE_vrf, TABLE_addrf,
// TABLE_prefix (ipprefix), TABLE_path (ipnexthop; ubest "true" on the
// paths in use).
func parseRoutesJSON(text string) ([]fabric.Route, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	top, err := objectOf(json.RawMessage(text))
	if err != nil {
		return nil, err
	}
	var out []fabric.Route
	vrfs, err := table(top, "vrf")
	if err != nil {
		return nil, err
	}
	for _, vo := range vrfs {
		afs, err := table(vo, "addrf")
		if err != nil {
			return nil, err
		}
		for _, ao := range afs {
			prefixes, err := table(ao, "prefix")
			if err != nil {
				return nil, err
			}
			for _, po := range prefixes {
				prefix, err := netip.ParsePrefix(str(po, "ipprefix"))
				if err != nil {
					return nil, fmt.Errorf("ipprefix %q: %w", str(po, "ipprefix"), err)
				}
				rt := fabric.Route{Prefix: prefix}
				paths, err := table(po, "path")
				if err != nil {
					return nil, err
				}
				for _, pth := range paths {
					if str(pth, "ubest") != "true" {
						continue
					}
					if nh, err := netip.ParseAddr(str(pth, "ipnexthop")); err == nil {
						rt.NextHops = append(rt.NextHops, nh.Unmap())
					}
				}
				out = append(out, rt)
			}
		}
	}
	return out, nil
}

var (
	isoRe   = regexp.MustCompile(`^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)
	clockRe = regexp.MustCompile(`^(\d+):(\d{2}):(\d{2})$`)
	shortRe = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?$`)
)

// parseNXDuration reads NX-OS's times: an ISO 8601 duration in JSON
// (P1DT4H28M45S), or the CLI's 00:01:02, 1d02h, 6w3d.
func parseNXDuration(s string) (time.Duration, bool) {
	n := func(x string) time.Duration {
		v, _ := strconv.Atoi(x)
		return time.Duration(v)
	}
	switch {
	case s == "" || s == "P" || s == "PT":
		return 0, false
	case isoRe.MatchString(s):
		m := isoRe.FindStringSubmatch(s)
		return n(m[1])*7*24*time.Hour + n(m[2])*24*time.Hour + n(m[3])*time.Hour + n(m[4])*time.Minute + n(m[5])*time.Second, true
	case clockRe.MatchString(s):
		m := clockRe.FindStringSubmatch(s)
		return n(m[1])*time.Hour + n(m[2])*time.Minute + n(m[3])*time.Second, true
	case shortRe.MatchString(s):
		m := shortRe.FindStringSubmatch(s)
		return n(m[1])*365*24*time.Hour + n(m[2])*7*24*time.Hour + n(m[3])*24*time.Hour + n(m[4])*time.Hour, true
	}
	return 0, false
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
