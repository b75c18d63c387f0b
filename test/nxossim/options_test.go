package nxossim

import (
	"strings"
	"testing"
)

// TestNeighborOptions: the session options a neighbor takes and how `show
// running-config` prints them back (password, timers, TTL security,
// shutdown, maximum-prefix in the neighbor's address family), their no
// forms, and prefix neighbors with remote-as route-map and maximum-peers.
// The forms and order follow public recordings (testdata/README.md) and
// Cisco's command references; the password is printed encrypted, never as
// typed (password3 stands in for NX-OS's type-3 cipher).
func TestNeighborOptions(t *testing.T) {
	const pw = "md5-Kiwi-4410"
	s := startSim(t, nil)
	if err := s.Configure("feature bgp", "router bgp 63500",
		"neighbor 192.168.9.193", "remote-as 63551", "description node k8c1m0",
		"password 0 "+pw, "timers 3 9", "ttl-security hops 1", "shutdown",
		"address-family ipv4 unicast", "route-map RM in", "maximum-prefix 12 restart 5", "exit", "exit",
		"neighbor 192.168.9.194", "remote-as 63552", "password 3 9125d59c18a9b015",
		"address-family ipv4 unicast", "maximum-prefix 300000 90 warning-only", "exit", "exit",
		"neighbor 10.2.0.0/22 remote-as route-map R_AS", "password 7 12090404011C03162E", "maximum-peers 10",
		"address-family ipv4 unicast"); err != nil {
		t.Fatal(err)
	}
	got := runningBody(t, s, "bgp")
	want := "feature bgp\n\n" +
		"router bgp 63500\n" +
		"  neighbor 10.2.0.0/22 remote-as route-map R_AS\n" +
		"    password 7 12090404011C03162E\n" +
		"    maximum-peers 10\n" +
		"    address-family ipv4 unicast\n" +
		"  neighbor 192.168.9.193\n" +
		"    remote-as 63551\n" +
		"    description node k8c1m0\n" +
		"    password " + password3(pw) + "\n" +
		"    timers 3 9\n" +
		"    ttl-security hops 1\n" +
		"    shutdown\n" +
		"    address-family ipv4 unicast\n" +
		"      route-map RM in\n" +
		"      maximum-prefix 12 restart 5\n" +
		"  neighbor 192.168.9.194\n" +
		"    remote-as 63552\n" +
		"    password 3 9125d59c18a9b015\n" +
		"    address-family ipv4 unicast\n" +
		"      maximum-prefix 300000 90 warning-only"
	if got != want {
		t.Fatalf("running config:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, pw) || !strings.HasPrefix(password3(pw), "3 ") || len(password3(pw)) != len("3 ")+32 || len(password3("short")) != len("3 ")+16 {
		t.Errorf("type-3 stand-in: %q %q", password3(pw), password3("short"))
	}

	if err := s.Configure("router bgp 63500", "neighbor 192.168.9.193", "no password", "no timers 3 9", "no ttl-security hops 1",
		"no shutdown", "address-family ipv4 unicast", "no maximum-prefix", "exit", "exit",
		"neighbor 10.2.0.0/22", "no maximum-peers", "exit", "no neighbor 10.2.0.0/22"); err != nil {
		t.Fatal(err)
	}
	got = runningBody(t, s, "bgp")
	for _, gone := range []string{"10.2.0.0/22", "password " + password3(pw), "timers", "ttl-security", "shutdown", "maximum-prefix 12"} {
		if strings.Contains(got, gone) {
			t.Errorf("%q left after its no form:\n%s", gone, got)
		}
	}

	// What NX-OS refuses.
	for _, tc := range []struct{ lines []string }{
		{[]string{"router bgp 63500", "neighbor 192.168.9.193", "password has space"}},
		{[]string{"router bgp 63500", "neighbor 192.168.9.193", "timers 9 3"}},
		{[]string{"router bgp 63500", "neighbor 192.168.9.193", "timers 3 3601"}},
		{[]string{"router bgp 63500", "neighbor 192.168.9.193", "ttl-security hops 255"}},
		{[]string{"router bgp 63500", "neighbor 192.168.9.193", "maximum-peers 10"}},
		{[]string{"router bgp 63500", "neighbor 192.168.9.193", "address-family ipv4 unicast", "maximum-prefix 300001"}},
		{[]string{"router bgp 63500", "neighbor 192.168.9.195 remote-as route-map R_AS"}},
	} {
		if err := s.Configure(tc.lines...); err == nil {
			t.Errorf("%q accepted", tc.lines)
		}
	}
}
