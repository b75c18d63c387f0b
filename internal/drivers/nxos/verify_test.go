package nxos

import (
	"strings"
	"testing"
	"time"
)

// The shapes below follow the public recordings test/nxossim's oper.go
// names (TABLE_x/ROW_x, strings everywhere, ROW_x an object for one
// entry); the values are the reference lab's.

func TestParseNeighborsJSON(t *testing.T) {
	// Two neighbors (a list), one up, one down after a reset.
	text := `{"TABLE_neighbor": {"ROW_neighbor": [
	  {"neighbor": "192.168.9.193", "remoteas": "63551", "state": "Established", "up": "true", "elapsedtime": "P1DT4H28M45S",
	   "holdtime": "9", "resetreason": "No error",
	   "TABLE_peraf": {"ROW_peraf": {"per-afi": "1", "TABLE_persaf": {"ROW_persaf": {"per-safi": "1", "per-af-name": "IPv4 Unicast", "pfxrecvd": "4"}}}}},
	  {"neighbor": "192.168.9.194", "remoteas": "63552", "state": "Idle", "up": "false", "elapsedtime": "PT12S",
	   "holdtime": "180", "resetreason": "Holdtimer expired error"}]}}`
	ss, err := parseNeighborsJSON(text)
	if err != nil || len(ss) != 2 {
		t.Fatalf("%v %+v", err, ss)
	}
	up, down := ss[0], ss[1]
	if !up.Established || up.RemoteASN != 63551 || up.Uptime != 28*time.Hour+28*time.Minute+45*time.Second || up.HoldTime != 9*time.Second || up.PrefixesReceived != 4 || up.LastReset != "" {
		t.Errorf("up: %+v", up)
	}
	if down.Established || down.State != "Idle" || down.Uptime != 0 || down.LastReset != "Holdtimer expired error, 12s ago" {
		t.Errorf("down: %+v", down)
	}
	// One IPv6 neighbor (an object), shut down, inside a TABLE_vrf.
	ss, err = parseNeighborsJSON(`{"TABLE_vrf": {"ROW_vrf": {"vrf-name-out": "K8S", "TABLE_neighbor": {"ROW_neighbor":
	  {"ipv6neighbor": "fd00:9::199", "remoteas": "65009", "state": "Shut (Admin)", "elapsedtime": "1d02h"}}}}}`)
	if err != nil || len(ss) != 1 || ss[0].PeerAddress.String() != "fd00:9::199" || !ss[0].AdminDown || ss[0].Established {
		t.Errorf("%v %+v", err, ss)
	}
	if ss, err := parseNeighborsJSON("\n"); err != nil || len(ss) != 0 {
		t.Errorf("no neighbor: %v %+v", err, ss)
	}
	if _, err := parseNeighborsJSON("% Invalid command"); err == nil {
		t.Error("an error reply parsed")
	}
}

func TestParseRoutesJSON(t *testing.T) {
	text := `{"TABLE_vrf": {"ROW_vrf": {"vrf-name-out": "default", "TABLE_addrf": {"ROW_addrf": {"addrf": "ipv4", "TABLE_prefix": {"ROW_prefix": [
	  {"ipprefix": "172.29.0.0/16", "ucast-nhops": "2", "mcast-nhops": "0", "attached": "false", "TABLE_path": {"ROW_path": [
	    {"ipnexthop": "192.168.9.193", "uptime": "PT17H3M49S", "pref": "20", "metric": "0", "clientname": "bgp-63500", "type": "external", "tag": "63551", "ubest": "true"},
	    {"ipnexthop": "192.168.9.194", "uptime": "PT17H3M49S", "pref": "20", "metric": "0", "clientname": "bgp-63500", "type": "external", "tag": "63552", "ubest": "true"},
	    {"ipnexthop": "192.168.9.195", "uptime": "PT17H3M49S", "pref": "20", "metric": "0", "clientname": "bgp-63500", "type": "external", "tag": "63553"}]}},
	  {"ipprefix": "172.27.114.0/26", "ucast-nhops": "1", "mcast-nhops": "0", "attached": "false", "TABLE_path": {"ROW_path":
	    {"ipnexthop": "192.168.9.193", "uptime": "P19DT37M39S", "pref": "20", "metric": "0", "clientname": "bgp-63500", "type": "external", "tag": "63551", "ubest": "true"}}}]}}}}}}`
	rs, err := parseRoutesJSON(text)
	if err != nil || len(rs) != 2 {
		t.Fatalf("%v %+v", err, rs)
	}
	if rs[0].Prefix.String() != "172.29.0.0/16" || len(rs[0].NextHops) != 2 || rs[0].NextHops[1].String() != "192.168.9.194" {
		t.Errorf("range: %+v (the path without ubest is not in use)", rs[0])
	}
	if len(rs[1].NextHops) != 1 {
		t.Errorf("block: %+v", rs[1])
	}
	rs, err = parseRoutesJSON(`{"TABLE_vrf": {"ROW_vrf": {"vrf-name-out": "default", "TABLE_addrf": {"ROW_addrf": {"addrf": "ipv6"}}}}}`)
	if err != nil || len(rs) != 0 {
		t.Errorf("no route: %v %+v", err, rs)
	}
}

func TestParseNXDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"P1DT4H28M45S": 28*time.Hour + 28*time.Minute + 45*time.Second, "PT34M9S": 34*time.Minute + 9*time.Second, "PT40S": 40 * time.Second,
		"P2W": 14 * 24 * time.Hour, "00:01:02": 62 * time.Second, "1d02h": 26 * time.Hour, "6w3d": 45 * 24 * time.Hour,
	} {
		if got, ok := parseNXDuration(in); !ok || got != want {
			t.Errorf("%s: %s %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "never", "P", strings.Repeat("9", 3)} {
		if got, ok := parseNXDuration(bad); ok {
			t.Errorf("%q parsed as %s", bad, got)
		}
	}
}
