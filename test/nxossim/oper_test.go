package nxossim

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestOperationalJSON: the operational show commands answer with | json
// only, in NX-OS's shape: a configured neighbor the test says nothing of
// is Idle, the test's states, prefixes and hold times are reported, a ROW
// with one entry is an object, and the routes' paths in use carry ubest.
func TestOperationalJSON(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := Start(Options{Username: testUser, Password: testPass, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Configure("feature bgp", "router bgp 63500",
		"neighbor 192.168.9.193", "remote-as 63551", "address-family ipv4 unicast",
		"neighbor 192.168.9.194", "remote-as 63552", "address-family ipv4 unicast",
		"vrf K8S", "neighbor 10.1.1.1", "remote-as 65001", "address-family ipv4 unicast"); err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("192.168.9.193"), netip.MustParseAddr("192.168.9.194")
	s.SetOperational(Operational{VRFs: map[string]VRFOperational{"default": {
		Neighbors: map[netip.Addr]NeighborState{a: {State: "Established", Since: now.Add(-(26*time.Hour + 3*time.Minute + 4*time.Second)), HoldTime: 9, PrefixesReceived: 4}},
		Routes: []RouteState{
			{Prefix: netip.MustParsePrefix("172.29.0.0/16"), NextHops: []netip.Addr{a}, Unused: []netip.Addr{b}, Since: now.Add(-time.Minute), PeerAS: map[netip.Addr]string{a: "63551"}},
			{Prefix: netip.MustParsePrefix("172.27.114.0/26"), NextHops: []netip.Addr{a}, Since: now.Add(-time.Minute)},
		},
	}}})

	out, err := s.Show("show bgp ipv4 unicast neighbors vrf default | json")
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Table struct {
			Row []map[string]any `json:"ROW_neighbor"`
		} `json:"TABLE_neighbor"`
	}
	if err := json.Unmarshal([]byte(out), &nb); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(nb.Table.Row) != 2 {
		t.Fatalf("neighbors: %s", out)
	}
	up, idle := nb.Table.Row[0], nb.Table.Row[1]
	if up["neighbor"] != "192.168.9.193" || up["state"] != "Established" || up["up"] != "true" || up["elapsedtime"] != "P1DT2H3M4S" || up["holdtime"] != "9" || up["remoteas"] != "63551" {
		t.Errorf("established neighbor: %v", up)
	}
	if !strings.Contains(out, `"pfxrecvd":"4"`) {
		t.Errorf("no pfxrecvd 4: %s", out)
	}
	if idle["state"] != "Idle" || idle["up"] != "false" || idle["holdtime"] != "180" {
		t.Errorf("neighbor without state: %v", idle)
	}
	// One neighbor: ROW_neighbor is an object.
	out, err = s.Show("show bgp ipv4 unicast neighbors vrf K8S | json")
	if err != nil || !strings.Contains(out, `"ROW_neighbor":{`) {
		t.Errorf("one neighbor: %v %s", err, out)
	}

	out, err = s.Show("show ip route bgp | json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"vrf-name-out":"default"`, `"addrf":"ipv4"`, `"ipprefix":"172.27.114.0/26"`, `"ucast-nhops":"1"`,
		`"ipnexthop":"192.168.9.193","metric":"0","pref":"20","tag":"63551","type":"external","ubest":"true","uptime":"PT1M0S"`,
		`"clientname":"bgp-63500","ipnexthop":"192.168.9.194","metric":"0"`} {
		if !strings.Contains(out, want) {
			t.Errorf("routes lack %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"ipnexthop":"192.168.9.194","metric":"0","pref":"20","tag":"","type":"external","ubest"`) {
		t.Errorf("an unused path is marked ubest: %s", out)
	}
	out, err = s.Show("show ipv6 route bgp vrf K8S | json")
	if err != nil || !strings.Contains(out, `"ROW_addrf":{"addrf":"ipv6"}`) {
		t.Errorf("no IPv6 route: %v %s", err, out)
	}

	if _, err := s.Show("show ip route bgp"); err == nil || !strings.Contains(err.Error(), "| json only") {
		t.Errorf("text form: %v", err)
	}
	if _, err := s.Show("show version | json"); err == nil || !strings.Contains(err.Error(), "not implemented by nxossim") {
		t.Errorf("show version | json: %v", err)
	}
	if _, err := s.Show("show bgp ipv4 unicast neighbors vrf NOPE | json"); err == nil {
		t.Error("an unknown VRF answered")
	}
	// The text filters still work.
	if out, err := s.Show("show running-config bgp | include remote-as"); err != nil || strings.Count(out, "remote-as") != 3 {
		t.Errorf("include filter: %v %s", err, out)
	}
}
