package nxossim

import (
	"os"
	"strings"
	"testing"
)

// TestConfigTree runs configuration lines and checks the running
// configuration as NX-OS prints it: defaults, no-forms, ordering and
// normalisation.
func TestConfigTree(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		sect  string // bgp or rpm
		want  string // body after the version line
	}{
		{
			name: "prefix-list sequence numbers",
			lines: []string{
				"ip prefix-list A permit 10.0.0.0/8",
				"ip prefix-list A deny 0.0.0.0/0 le 32",
				"ip prefix-list A permit 10.0.0.0/8", // already there: no new entry
				"ip prefix-list A seq 7 permit 192.168.0.0/16 ge 24 le 28",
				"ip prefix-list A description nodes of cluster haystack",
				"ip prefix-list B permit 10.1.2.3/8", // host bits dropped
				"ipv6 prefix-list A6 permit 2001:DB8::/32 le 64",
			},
			sect: "rpm",
			want: "ip prefix-list A description nodes of cluster haystack\n" +
				"ip prefix-list A seq 5 permit 10.0.0.0/8\n" +
				"ip prefix-list A seq 7 permit 192.168.0.0/16 ge 24 le 28\n" +
				"ip prefix-list A seq 10 deny 0.0.0.0/0 le 32\n" +
				"ip prefix-list B seq 5 permit 10.0.0.0/8\n" +
				"ipv6 prefix-list A6 seq 5 permit 2001:db8::/32 le 64",
		},
		{
			name: "prefix-list no forms",
			lines: []string{
				"ip prefix-list A seq 5 permit 10.0.0.0/8",
				"ip prefix-list A seq 10 permit 11.0.0.0/8",
				"ip prefix-list A seq 15 permit 12.0.0.0/8",
				"ip prefix-list A description d",
				"no ip prefix-list A seq 5 permit 10.0.0.0/8",
				"no ip prefix-list A permit 11.0.0.0/8",
				"no ip prefix-list A description",
				"ip prefix-list B permit 10.0.0.0/8",
				"no ip prefix-list B",
				"ip prefix-list C seq 5 permit 10.0.0.0/8",
				"no ip prefix-list C seq 5 permit 10.0.0.0/8", // last entry: the list goes away
				"no ip prefix-list NOSUCH",
			},
			sect: "rpm",
			want: "ip prefix-list A seq 15 permit 12.0.0.0/8",
		},
		{
			name: "route-maps",
			lines: []string{
				"route-map R",
				"match ip address prefix-list A B",
				"match ip address prefix-list B C",
				"route-map R deny 20",
				"description deny the rest",
				"route-map S permit 5",
				"match ipv6 address prefix-list X6",
				"route-map R permit 10",
				"no match ip address prefix-list A",
				"route-map T 30",
				"exit",
				"no route-map T",
			},
			sect: "rpm",
			want: "route-map R permit 10\n  match ip address prefix-list B C\n" +
				"route-map R deny 20\n  description deny the rest\n" +
				"route-map S permit 5\n  match ipv6 address prefix-list X6",
		},
		{
			name: "neighbors and their order",
			lines: []string{
				"router bgp 63500",
				"router-id 192.168.9.204",
				"bestpath as-path multipath-relax",
				"log-neighbor-changes",
				"address-family ipv6 unicast",
				"address-family ipv4 unicast",
				"maximum-paths 3",
				"maximum-paths ibgp 2",
				"network 172.27.0.0/16",
				"neighbor 10.0.0.10 remote-as 65010",
				"neighbor 10.0.0.9",
				"remote-as 65009",
				"update-source eth1/1",
				"description orchestrator:fabric-reconciler.haystack k8c1m0",
				"local-as 63501 no-prepend replace-as",
				"address-family ipv6 unicast",
				"send-community both",
				"address-family ipv4 unicast",
				"send-community extended",
				"route-map RM-OUT out",
				"prefix-list PL-IN in",
				"neighbor 2001:db8::2",
				"remote-as 65020",
			},
			sect: "bgp",
			want: "feature bgp\n\nrouter bgp 63500\n" +
				"  router-id 192.168.9.204\n  bestpath as-path multipath-relax\n  log-neighbor-changes\n" +
				"  address-family ipv4 unicast\n    network 172.27.0.0/16\n    maximum-paths 3\n    maximum-paths ibgp 2\n" +
				"  address-family ipv6 unicast\n" +
				"  neighbor 2001:db8::2\n    remote-as 65020\n" +
				"  neighbor 10.0.0.9\n    remote-as 65009\n    local-as 63501 no-prepend replace-as\n" +
				"    description orchestrator:fabric-reconciler.haystack k8c1m0\n    update-source Ethernet1/1\n" +
				"    address-family ipv4 unicast\n      send-community extended\n      prefix-list PL-IN in\n      route-map RM-OUT out\n" +
				"    address-family ipv6 unicast\n      send-community\n      send-community extended\n" +
				"  neighbor 10.0.0.10\n    remote-as 65010",
		},
		{
			name: "no forms under the router",
			lines: []string{
				"router bgp 63500",
				"router-id 1.1.1.1",
				"bestpath as-path multipath-relax",
				"address-family ipv4 unicast",
				"maximum-paths 4",
				"maximum-paths 1", // the default is not shown
				"network 10.0.0.0/8",
				"no network 10.0.0.0/8",
				"neighbor 10.0.0.1",
				"remote-as 1",
				"description d",
				"update-source loopback0",
				"address-family ipv4 unicast",
				"send-community both",
				"prefix-list P in",
				"no send-community extended",
				"no prefix-list P in",
				"exit",
				"no description",
				"no update-source",
				"neighbor 10.0.0.2 remote-as 2",
				"vrf blue",
				"neighbor 10.0.0.3 remote-as 3",
				"exit",
				"no vrf blue",
				"no neighbor 10.0.0.2",
				"no router-id",
				"no bestpath as-path multipath-relax",
			},
			sect: "bgp",
			want: "feature bgp\n\nrouter bgp 63500\n  address-family ipv4 unicast\n" +
				"  neighbor 10.0.0.1\n    remote-as 1\n    address-family ipv4 unicast\n      send-community",
		},
		{
			name:  "no feature bgp removes BGP",
			lines: []string{"router bgp 63500", "neighbor 10.0.0.1 remote-as 1", "exit", "exit", "no feature bgp"},
			sect:  "bgp",
			want:  "",
		},
		{
			name:  "no router bgp",
			lines: []string{"router bgp 63500", "neighbor 10.0.0.1 remote-as 1", "exit", "exit", "no router bgp 63500"},
			sect:  "bgp",
			want:  "feature bgp",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, nil)
			if err := s.Configure(tc.lines...); err != nil {
				t.Fatal(err)
			}
			if got := runningBody(t, s, tc.sect); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestShowRunningConfigHeader checks the comment header: no change since
// start, then the time of the last change.
func TestShowRunningConfigHeader(t *testing.T) {
	s := startSim(t, func(o *Options) { o.Now = fixedClock() })
	out, _ := s.Show("show running-config bgp")
	want := "\n!Command: show running-config bgp\n!No configuration change since last restart\n" +
		"!Time: Tue Mar  5 17:22:38 2024\n\nversion 9.3(8) Bios:version  \nfeature bgp\n\n\n\n"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	if err := s.Configure("hostname leaf202"); err != nil {
		t.Fatal(err)
	}
	out, _ = s.Show("show running-config")
	for _, w := range []string{"!Running configuration last done at: Tue Mar  5 17:22:38 2024\n", "\nhostname leaf202\n", "\nfeature bgp\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("show running-config lacks %q", w)
		}
	}
}

// TestOutputFilters checks the "| include/exclude/begin/section/count"
// filters of show commands.
func TestOutputFilters(t *testing.T) {
	s := startSim(t, nil)
	if err := s.Configure("router bgp 63500", "router-id 10.0.0.1", "neighbor 10.0.0.1 remote-as 1",
		"neighbor 10.0.0.2 remote-as 2", "ip prefix-list PL permit 10.0.0.0/8", "route-map RM", "match ip address prefix-list PL"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cmd  string
		want string
		err  bool
	}{
		{cmd: "show running-config bgp | include neighbor", want: "  neighbor 10.0.0.1\n  neighbor 10.0.0.2\n"},
		{cmd: "show running-config bgp | inc neighbor | exclude 10.0.0.2", want: "  neighbor 10.0.0.1\n"},
		{cmd: `sh run | section "router bgp"`, want: "router bgp 63500\n  router-id 10.0.0.1\n  neighbor 10.0.0.1\n" +
			"    remote-as 1\n  neighbor 10.0.0.2\n    remote-as 2\n"},
		{cmd: "show running-config rpm | begin ^route-map", want: "route-map RM permit 10\n  match ip address prefix-list PL \n\n\n"},
		{cmd: "show running-config bgp | include remote-as | count", want: "2\n"},
		{cmd: "show version | json", want: msgNotImpl + "\n", err: true},
		{cmd: "show version | bogus", want: caret(25, msgInvalid), err: true}, // "b" could start begin
		{cmd: "show version | include (", want: "ERROR: invalid regular expression\n", err: true},
	}
	for _, tc := range cases {
		out, err := s.Show(tc.cmd)
		if out != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: %q (err %v)\nwant %q", tc.cmd, out, err, tc.want)
		}
	}
}

// TestDemoConfig loads the demo start-up file the way the program does.
func TestDemoConfig(t *testing.T) {
	b, err := os.ReadFile("demo/leaf201.cfg")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "!") {
			lines = append(lines, l)
		}
	}
	s := startSim(t, func(o *Options) { o.StartupConfig = lines })
	if body := runningBody(t, s, "bgp"); !strings.Contains(body, "  neighbor 192.168.9.250\n    remote-as 65250\n"+
		"    description uplink to the core (hand-made)\n    address-family ipv4 unicast") {
		t.Errorf("demo config:\n%s", body)
	}
}
