package frr

import (
	"context"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// TestASNotation: FRR 9.0 and later print "router bgp ASN [vrf NAME]
// [as-notation dot|dot+|plain]" and, in dot or dot+ notation or when they
// were typed so, AS numbers as "high.low" (bgpd/bgp_vty.c bgp_config_write,
// lib/asn.c; frr-9.0). The lab runs FRR 8.4, which has neither: the lab's
// recorded configuration is rewritten the way FRR 9 prints it, and the
// driver must observe the same objects as from the original.
func TestASNotation(t *testing.T) {
	full := fixture(t)
	d := newTestDriver(t, testFabric(63500, ""))
	sw, _ := d.switches.ByName("leaf202")
	observe := func(text string) string {
		t.Helper()
		cfg, err := parseRunningConfig(text)
		if err != nil {
			t.Fatal(err)
		}
		owned, foreign, err := d.observeSwitch(context.Background(), sw, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return describe(owned, foreign)
	}
	want := observe(full)
	rewrite := func(pairs ...string) string {
		s := full
		for i := 0; i+1 < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("fixture has no %q", pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		return s
	}
	tests := []struct{ name, text string }{
		{"as-notation plain", rewrite("router bgp 63500\n", "router bgp 63500 as-notation plain\n")},
		{"as-notation dot (AS numbers below 65535 stay plain)", rewrite("router bgp 63500\n", "router bgp 63500 as-notation dot\n")},
		{"as-notation dot+: every AS dotted", rewrite(
			"router bgp 63500\n", "router bgp 0.63500 as-notation dot+\n",
			"neighbor 192.168.9.193 remote-as 63551", "neighbor 192.168.9.193 remote-as 0.63551",
			"neighbor 192.168.9.194 local-as 63501 no-prepend", "neighbor 192.168.9.194 local-as 0.63501 no-prepend",
			"router bgp 65055 vrf BLUE\n", "router bgp 0.65055 vrf BLUE as-notation dot+\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := observe(tt.text); got != want {
				t.Fatalf("observed:\n%s\nwant, as from the FRR 8.4 recording:\n%s", got, want)
			}
		})
	}
	t.Run("a 4-byte AS in dot notation", func(t *testing.T) {
		cfg, err := parseRunningConfig("router bgp 1.10 vrf BLUE as-notation dot\n neighbor 10.0.0.1 remote-as 2.20\n neighbor 10.0.0.1 local-as 1.11\nexit\n")
		if err != nil {
			t.Fatal(err)
		}
		i := cfg.instance("BLUE")
		if i == nil || i.ASN != 65546 || i.ASNotation != "dot" {
			t.Fatalf("instance %+v", i)
		}
		if n := i.Neighbors["10.0.0.1"]; !sameAS(n.RemoteAS, 131092) || n.LocalAS != 65547 {
			t.Fatalf("neighbor %+v", n)
		}
	})
	for _, bad := range []string{"router bgp 63500 as-notation dash\n", "router bgp 63500 vrf\n", "router bgp 0.0\n", "router bgp 65536.1\n"} {
		if _, err := parseRunningConfig(bad); err == nil {
			t.Errorf("%q read without an error", strings.TrimSpace(bad))
		}
	}
}

// TestPlanAgainstDottedRemoteAS: a neighbor of the cluster's whose remote-as
// FRR prints dotted is the same AS; the planner sends no remote-as line.
func TestPlanAgainstDottedRemoteAS(t *testing.T) {
	text := strings.Replace(fixture(t), "neighbor 192.168.9.193 remote-as 63551", "neighbor 192.168.9.193 remote-as 0.63551", 1)
	cfg, err := parseRunningConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDriver(t, testFabric(63500, ""))
	sw, _ := d.switches.ByName("leaf202")
	peer := fabric.BGPPeer{Switch: "leaf202", Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv4}
	s, err := d.script(sw, cfg, []fabric.Change{{Action: fabric.ActionUpdate, Kind: fabric.KindBGPPeer, Switch: "leaf202", ID: "192.168.9.193", After: peer}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.Text(), "remote-as") {
		t.Fatalf("planned a remote-as line against an equal dotted AS:\n%s", s.Text())
	}
}

// TestIsRunningConfig: show output is read by its structure, not by the
// platform's failure strings.
func TestIsRunningConfig(t *testing.T) {
	if err := isRunningConfig(fixture(t)); err != nil {
		t.Errorf("the lab's configuration: %v", err)
	}
	withErrors := strings.Replace(fixture(t), "neighbor 192.168.9.206 remote-as 65000",
		"neighbor 192.168.9.206 remote-as 65000\n neighbor 192.168.9.206 description % Unknown command BGP is already running; AS is 1", 1)
	if err := isRunningConfig(withErrors); err != nil {
		t.Errorf("a description with failure strings: %v", err)
	}
	for _, refusal := range []string{"% Unknown command: show running-config bgpd", "bgpd is not running", ""} {
		if err := isRunningConfig(refusal); err == nil {
			t.Errorf("%q read as a configuration", refusal)
		}
	}
}
