package nxos

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// TestParseRecordings reads public recordings of real NX-OS `show
// running-config bgp` output (test/nxossim/testdata/README.md).
func TestParseRecordings(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "test", "nxossim", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c, err := parseConfig(read("running_config_bgp_9.3.8.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.FeatureBGP || c.BGP == nil || c.BGP.ASN != 65535 {
		t.Fatalf("instance %+v", c.BGP)
	}
	if _, ok := c.BGP.VRFs["default"].AFs["ipv4 unicast"]; !ok {
		t.Error("router address family not read")
	}
	if n := c.vrf("test1").Neighbors["1.1.1.1"]; n == nil || n.Description != "SimpleDescription" || n.RemoteAS != "" {
		t.Errorf("test1 neighbor %+v", n)
	}
	if n := c.vrf("test2").Neighbors["2.2.2.2"]; n == nil || n.Description != `More-"complex" Description_1234!` {
		t.Errorf("test2 neighbor %+v", n)
	}

	c, err = parseConfig(read("running_config_bgp_9.3.7.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := c.vrf("bgptesting").Neighbors["192.168.3.2"]
	if c.BGP.ASN != 65000 || n == nil || n.RemoteAS != "65001" || n.AFs["ipv4 unicast"] == nil || n.Addr != netip.MustParseAddr("192.168.3.2") {
		t.Errorf("bgptesting neighbor %+v", n)
	}
}

// TestParseConfig reads a whole configuration, with blocks the driver does
// not know, and keeps going past lines it cannot read.
func TestParseConfig(t *testing.T) {
	text := `
!Command: show running-config
!Time: Tue Mar  5 17:22:38 2024

version 9.3(8) Bios:version  
hostname leaf201
feature bgp

ip prefix-list A seq 5 permit 10.0.0.0/8 ge 16 le 24
ip prefix-list A seq 10 deny 0.0.0.0/0 le 32
ip prefix-list B description two words
ip prefix-list B seq 5 permit 10.0.0.1/8
ipv6 prefix-list C seq 5 permit 2001:db8::/32 le 64
route-map RM permit 10
  description hello
  match ip address prefix-list A 
  set local-preference 200
route-map RM deny 20
interface Ethernet1/1
  description neighbor 10.9.9.9
  no shutdown
router bgp 1.10
  bestpath as-path multipath-relax
  address-family ipv6 unicast
    maximum-paths 4
    maximum-paths ibgp 2
  neighbor 10.0.0.0/24 remote-as route-map PEERS
  neighbor 10.1.1.1
    remote-as 65001
    local-as 65002 no-prepend replace-as
    description  spaced  text
    address-family ipv4 unicast
      prefix-list A in
      route-map RM in
      route-map OUT out
  neighbor 2001:db8::1 remote-as 65003
  vrf blue
    neighbor 10.2.2.2
      remote-as 1.2
`
	c, err := parseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	if c.BGP.ASN != 65546 {
		t.Errorf("asdot AS 1.10 read as %d", c.BGP.ASN)
	}
	def := c.vrf("default")
	if !def.MultipathRelax || def.AFs["ipv6 unicast"].MaxPaths != 4 || def.AFs["ipv6 unicast"].MaxPathsIBGP != 2 {
		t.Errorf("default context %+v %+v", def, def.AFs["ipv6 unicast"])
	}
	if n := def.Neighbors["10.0.0.0/24"]; n == nil || n.Addr.IsValid() {
		t.Errorf("prefix neighbor %+v", n)
	}
	n := def.Neighbors["10.1.1.1"]
	if n.RemoteAS != "65001" || n.LocalAS != 65002 || n.LocalASFlags != "no-prepend replace-as" || n.Description != "spaced  text" {
		t.Errorf("neighbor %+v", n)
	}
	if af := n.AFs["ipv4 unicast"]; af.PrefixListIn != "A" || af.RouteMapIn != "RM" {
		t.Errorf("neighbor af %+v", af)
	}
	if n := def.neighborAt(netip.MustParseAddr("2001:db8::1")); n == nil || n.RemoteAS != "65003" {
		t.Errorf("one-line neighbor %+v", n)
	}
	if n := c.vrf("blue").Neighbors["10.2.2.2"]; n == nil || n.RemoteAS != "1.2" {
		t.Errorf("vrf neighbor %+v", n)
	}
	a := c.PrefixLists[cli.PrefixListKey{Family: "ip", Name: "A"}]
	if len(a.Entries) != 2 || a.Entries[0].GE != 16 || a.Entries[0].LE != 24 || a.Entries[1].Action != "deny" || a.Bad {
		t.Errorf("prefix-list A %+v", a)
	}
	if b := c.PrefixLists[cli.PrefixListKey{Family: "ip", Name: "B"}]; b.Description != "two words" || !b.Bad || len(b.Entries) != 0 {
		t.Errorf("prefix-list B (host bits set: unreadable) %+v", b)
	}
	if c6 := c.PrefixLists[cli.PrefixListKey{Family: "ipv6", Name: "C"}]; c6 == nil || c6.Entries[0].LE != 64 {
		t.Errorf("ipv6 prefix-list %+v", c6)
	}
	rm := c.RouteMaps["RM"]
	if len(rm.Entries) != 2 || rm.Entries[0].Description != "hello" ||
		!slices.Equal(rm.Entries[0].Lines, []string{"match ip address prefix-list A", "set local-preference 200"}) {
		t.Errorf("route-map %+v %+v", rm.Entries[0], rm.Entries[1])
	}
	if _, ok := c.vrf("default").Neighbors["neighbor"]; ok {
		t.Error("the interface description was read as a neighbor")
	}

	for _, bad := range []string{"router bgp 0\n", "router bgp x\n", "router bgp 1\nrouter bgp 2\n"} {
		if _, err := parseConfig("version 9.3(8)\n" + bad); err == nil {
			t.Errorf("parseConfig accepted %q", bad)
		}
	}
}

func TestParseCheckpointSummary(t *testing.T) {
	out := `User Checkpoint Summary
--------------------------------------------------------------------------------
1) fabric-reconciler-haystack:
Created by admin
Created at Tue, 17:22:38 05 Mar 2024
Size is 1,234 bytes
Description: orchestrator:fabric-reconciler.haystack

2) before-upgrade:
Created by admin
Created at Mon, 07:37:22 29 Sep 2014
Size is 1,234 bytes
Description: None

System Checkpoint Summary
--------------------------------------------------------------------------------
3) system-fm-bgp:
Created by admin
Created at Tue, 17:22:38 05 Mar 2024
Size is 1,234 bytes
Description: Created by Feature Manager.
`
	got := parseCheckpointSummary(out)
	want := []cpEntry{
		{"fabric-reconciler-haystack", "orchestrator:fabric-reconciler.haystack", time.Date(2024, 3, 5, 17, 22, 38, 0, time.UTC)},
		{"before-upgrade", "", time.Date(2014, 9, 29, 7, 37, 22, 0, time.UTC)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func offlineDriver(t testing.TB, mod func(*config.Fabric)) *Driver {
	t.Helper()
	f := config.Fabric{Name: "f", Driver: Name, ASN: 63500, MaximumPaths: config.MaximumPaths{Mode: "auto", Limit: 64},
		Switches: []config.Switch{clissh.WithAddress(config.Switch{Name: "leaf201", PeerIPs: []string{"192.168.9.204"}}, "127.0.0.1:2211")},
		Platform: &clissh.Settings{SSH: clissh.SSH{Username: "admin", PasswordFile: "/nonexistent", InsecureIgnoreHostKey: true}}}
	if mod != nil {
		mod(&f)
	}
	d, err := drivers.Open(f, drivers.Options{Cluster: "haystack"})
	if err != nil {
		t.Fatal(err)
	}
	return d.(*Driver)
}

// TestForeignDiff: which differences between a leftover checkpoint and the
// running configuration block a rollback (someone else's) and which do not
// (what the cluster owns, and what an interrupted apply can leave).
func TestForeignDiff(t *testing.T) {
	const base = `version 9.3(8)
hostname leaf201
feature bgp
ip prefix-list CORE seq 5 permit 0.0.0.0/0
router bgp 63500
  log-neighbor-changes
  neighbor 192.168.9.250
    remote-as 65250
`
	cases := []struct {
		name    string
		running string // base with changes
		want    []string
	}{
		{"identical", base, nil},
		{"owned neighbor, filter, markers and settings added", base + `  bestpath as-path multipath-relax
  address-family ipv4 unicast
    maximum-paths 3
  neighbor 192.168.9.193
    description orchestrator:fabric-reconciler.haystack node=k8c1m0
    remote-as 63551
  neighbor 192.168.9.194
ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26
ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4
ip prefix-list FR-haystack-MARK-MULTIPATH-RELAX description orchestrator:fabric-reconciler.haystack owns bestpath as-path multipath-relax
route-map FR-haystack-IN-192.168.9.193 permit 10
  match ip address prefix-list FR-haystack-IN-192.168.9.193
`, nil},
		{"hand-made neighbor", base + "  neighbor 10.9.9.9\n    remote-as 1\n",
			[]string{"+ router bgp 63500 > neighbor 10.9.9.9", "+ router bgp 63500 > neighbor 10.9.9.9 > remote-as 1"}},
		{"another cluster's neighbor", base + "  neighbor 10.9.9.9\n    description orchestrator:fabric-reconciler.other\n",
			[]string{"+ router bgp 63500 > neighbor 10.9.9.9", "+ router bgp 63500 > neighbor 10.9.9.9 > description orchestrator:fabric-reconciler.other"}},
		{"maximum-paths without the marker", base + "  address-family ipv4 unicast\n    maximum-paths 3\n",
			[]string{"+ router bgp 63500 > address-family ipv4 unicast", "+ router bgp 63500 > address-family ipv4 unicast > maximum-paths 3"}},
		{"hand-made neighbor changed", strings.Replace(base, "remote-as 65250", "remote-as 65251", 1),
			[]string{"+ router bgp 63500 > neighbor 192.168.9.250 > remote-as 65251", "- router bgp 63500 > neighbor 192.168.9.250 > remote-as 65250"}},
		{"another prefix-list", base + "ip prefix-list FR-other-IN-10.0.0.1 seq 5 permit 10.0.0.0/8\n",
			[]string{"+ ip prefix-list FR-other-IN-10.0.0.1 seq 5 permit 10.0.0.0/8"}},
		{"outside BGP", strings.Replace(base, "hostname leaf201", "hostname leaf299", 1), []string{"+ hostname leaf299", "- hostname leaf201"}},
	}
	d := offlineDriver(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.foreignDiff(base, tc.running)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("diff %q, want %q", got, tc.want)
			}
		})
	}
}

// TestScriptLines pins the NX-OS lines of each kind of change, planned
// against a given running configuration.
func TestScriptLines(t *testing.T) {
	const running = `version 9.3(8)
feature bgp
router bgp 63500
  neighbor 192.168.9.193
    description orchestrator:fabric-reconciler.haystack node=k8c1m0
    remote-as 63551
    local-as 63501 no-prepend replace-as
    address-family ipv4 unicast
      route-map FR-haystack-IN-192.168.9.193 in
  neighbor 192.168.9.250
    remote-as 65250
ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0
ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26
ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4
route-map FR-haystack-IN-192.168.9.193 permit 10
  description orchestrator:fabric-reconciler.haystack node=k8c1m0
  match ip address prefix-list FR-haystack-IN-192.168.9.193
  match ip address prefix-list SOMETHING-ELSE
route-map FR-haystack-IN-192.168.9.193 deny 20
`
	peer := fabric.BGPPeer{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv4}
	v6 := fabric.BGPPeer{Switch: "leaf201", Node: "k8v6", PeerAddress: "2001:db8::9", RemoteASN: 65009, LocalASN: 63502, AddressFamily: fabric.IPv6}
	v6f := fabric.PrefixFilter{Switch: "leaf201", Node: "k8v6", PeerAddress: "2001:db8::9", Prefixes: []fabric.PrefixRule{{Prefix: "2001:db8:1::/64", LE: 64}, {Prefix: "2001:db8:ffff::/48", LE: 128}}}
	cases := []struct {
		name    string
		changes []fabric.Change
		want    string
	}{
		{"local-as dropped", []fabric.Change{{Action: fabric.ActionUpdate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193", After: peer}},
			"router bgp 63500\n  neighbor 192.168.9.193\n    no local-as\n"},
		{"IPv6 peer with local-as and its filter", []fabric.Change{
			{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: v6.PeerAddress, After: v6},
			{Action: fabric.ActionCreate, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: v6.PeerAddress, After: v6f}},
			"ipv6 prefix-list FR-haystack-IN-2001-db8--9 description orchestrator:fabric-reconciler.haystack node=k8v6\n" +
				"ipv6 prefix-list FR-haystack-IN-2001-db8--9 seq 5 permit 2001:db8:1::/64\n" +
				"ipv6 prefix-list FR-haystack-IN-2001-db8--9 seq 10 permit 2001:db8:ffff::/48 le 128\n" +
				"route-map FR-haystack-IN-2001-db8--9 permit 10\n" +
				"  description orchestrator:fabric-reconciler.haystack node=k8v6\n" +
				"  match ipv6 address prefix-list FR-haystack-IN-2001-db8--9\n" +
				"exit\n" +
				"router bgp 63500\n  neighbor 2001:db8::9\n" +
				"    description orchestrator:fabric-reconciler.haystack node=k8v6\n" +
				"    remote-as 65009\n    local-as 63502 no-prepend replace-as\n" +
				"    address-family ipv6 unicast\n      route-map FR-haystack-IN-2001-db8--9 in\n"},
		{"filter emptied: stray entries and lines go", []fabric.Change{{Action: fabric.ActionUpdate, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: "192.168.9.193",
			After: fabric.PrefixFilter{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193", Prefixes: []fabric.PrefixRule{}}}},
			"ip prefix-list FR-haystack-IN-192.168.9.193 seq 10 deny 0.0.0.0/0 le 32\n" +
				"no ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26\n" +
				"no route-map FR-haystack-IN-192.168.9.193 deny 20\n" +
				"route-map FR-haystack-IN-192.168.9.193 permit 10\n" +
				"  no match ip address prefix-list SOMETHING-ELSE\n"},
		{"peer and filter deleted", []fabric.Change{
			{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193", Before: peer},
			{Action: fabric.ActionDelete, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: "192.168.9.193", Before: fabric.PrefixFilter{Switch: "leaf201", PeerAddress: "192.168.9.193"}}},
			"router bgp 63500\n  no neighbor 192.168.9.193\nexit\n" +
				"no route-map FR-haystack-IN-192.168.9.193\nno ip prefix-list FR-haystack-IN-192.168.9.193\n"},
		{"maximum-paths owned by marker, relax added", []fabric.Change{{Action: fabric.ActionUpdate, Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv4",
			After: fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 1}}},
			"ip prefix-list FR-haystack-MARK-MULTIPATH-RELAX description orchestrator:fabric-reconciler.haystack owns bestpath as-path multipath-relax\n" +
				"router bgp 63500\n  bestpath as-path multipath-relax\n  address-family ipv4 unicast\n"},
		{"maximum-paths deleted", []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv4",
			Before: fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 1}}},
			"no ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4\n"},
		{"hand-made neighbor in the way", []fabric.Change{{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.250",
			After: fabric.BGPPeer{Switch: "leaf201", Node: "x", PeerAddress: "192.168.9.250", RemoteASN: 1, LocalASN: 63500, AddressFamily: fabric.IPv4}}}, ""},
		{"not an NX-OS object", []fabric.Change{{Action: fabric.ActionCreate, Kind: fabric.KindContract, ID: "C",
			After: fabric.Contract{Name: "C", Provider: "P", Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 80}}}}}, ""},
	}
	d := offlineDriver(t, nil)
	sw := d.switches[0]
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig(running)
			if err != nil {
				t.Fatal(err)
			}
			s, err := d.script(sw, cfg, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Text(); got != tc.want {
				t.Errorf("lines:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestNames: object names stay within NX-OS's 63 characters for the longest
// cluster and VRF names and IPv6 addresses, read back to their address, and
// keep two VRFs and two clusters apart.
func TestNames(t *testing.T) {
	long := strings.Repeat("c", 40)
	cases := []struct{ cluster, vrf string }{
		{"haystack", "default"}, {"haystack", "blue"}, {long, "default"}, {long, strings.Repeat("v", 32)}, {"haystack", "production-east"},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		d, err := drivers.Open(config.Fabric{Name: "f", Driver: Name, ASN: 63500,
			Switches: []config.Switch{clissh.WithAddress(config.Switch{Name: "s", PeerIPs: []string{"10.0.0.1"}}, "127.0.0.1:22")},
			Platform: &clissh.Settings{SSH: clissh.SSH{Username: "u", PasswordFile: "p", InsecureIgnoreHostKey: true}, Own: &Settings{VRF: tc.vrf}}}, drivers.Options{Cluster: tc.cluster})
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		n := d.(*Driver).own.Naming
		a := netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")
		for _, name := range []string{n.PeerFilter(a), n.Marker(cli.MarkerRelax), n.Marker(cli.MarkerMaxPaths(fabric.IPv6))} {
			if len(name) > maxNameLen {
				t.Errorf("%+v: %q is %d characters", tc, name, len(name))
			}
			if prev, dup := seen[name]; dup {
				t.Errorf("%q names objects of %s and %+v", name, prev, tc)
			}
			seen[name] = tc.cluster + "/" + tc.vrf
		}
		if back, ok := n.ParsePeerFilter(n.PeerFilter(a)); !ok || back != a {
			t.Errorf("%+v: %q reads back as %v %v", tc, n.PeerFilter(a), back, ok)
		}
	}
	if _, err := drivers.Open(config.Fabric{Name: "f", Driver: Name, ASN: 63500,
		Switches: []config.Switch{clissh.WithAddress(config.Switch{Name: "s", PeerIPs: []string{"10.0.0.1"}}, "127.0.0.1:22")},
		Platform: &clissh.Settings{SSH: clissh.SSH{Username: "u", PasswordFile: "p", InsecureIgnoreHostKey: true}, Own: &Settings{CommitMode: CommitSession}}}, drivers.Options{Cluster: "prod.eu"}); err == nil ||
		!strings.Contains(err.Error(), "a configuration session name has no '.'") {
		t.Errorf("session name with a dot: %v", err)
	}
}

// TestObserveIncomplete: owned objects changed by hand are observed as
// incomplete (so the plan updates them); complete ones as written.
func TestObserveIncomplete(t *testing.T) {
	const nb = "router bgp 63500\n  neighbor 192.168.9.193\n    description orchestrator:fabric-reconciler.haystack node=k8c1m0\n    remote-as 63551\n"
	const af = "    address-family ipv4 unicast\n      route-map FR-haystack-IN-192.168.9.193 in\n"
	const pl = "ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0\n" +
		"ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26\n"
	const rm = "route-map FR-haystack-IN-192.168.9.193 permit 10\n  description orchestrator:fabric-reconciler.haystack node=k8c1m0\n" +
		"  match ip address prefix-list FR-haystack-IN-192.168.9.193 \n"
	cases := []struct {
		name       string
		config     string
		peer, filt string // the observed node names
		paths      int
	}{
		{"complete", nb + af + pl + rm, "k8c1m0", "k8c1m0", -1},
		{"local-as without its flags", nb + "    local-as 63501\n" + af + pl + rm, "(incomplete: local-as without no-prepend replace-as)", "k8c1m0", -1},
		{"address family missing", nb + pl + rm, "(incomplete: address-family ipv4 unicast not configured)", "(incomplete: not applied to the neighbor)", -1},
		{"route-map unbound", nb + "    address-family ipv4 unicast\n" + pl + rm, "(incomplete: route-map FR-haystack-IN-192.168.9.193 not applied)",
			"(incomplete: not applied to the neighbor)", -1},
		{"entry with ge", nb + af + pl + "ip prefix-list FR-haystack-IN-192.168.9.193 seq 10 permit 10.0.0.0/8 ge 16\n" + rm, "k8c1m0",
			"(incomplete: unexpected prefix-list entry)", -1},
		{"extra route-map entry", nb + af + pl + rm + "route-map FR-haystack-IN-192.168.9.193 permit 20\n", "k8c1m0",
			"(incomplete: unexpected route-map entries)", -1},
		{"route-map match changed", nb + af + pl + strings.Replace(rm, "prefix-list FR-haystack-IN-192.168.9.193 ", "prefix-list OTHER ", 1), "k8c1m0",
			"(incomplete: route-map match changed)", -1},
		{"maximum-paths without relax", "router bgp 63500\n  address-family ipv4 unicast\n    maximum-paths 3\n    maximum-paths ibgp 3\n" +
			"ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4\n", "", "", 0},
		{"maximum-paths 1 is not shown", "router bgp 63500\n  bestpath as-path multipath-relax\n" +
			"ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4\n", "", "", 1},
	}
	d := offlineDriver(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig("version 9.3(8)\nfeature bgp\n" + tc.config)
			if err != nil {
				t.Fatal(err)
			}
			owned, foreign, err := d.observeSwitch(d.switches[0], cfg)
			if err != nil || len(foreign) != 0 {
				t.Fatalf("%v %+v", err, foreign)
			}
			st := fabric.StateOf(owned...)
			var peer, filt string
			if len(st.Peers) > 0 {
				peer = st.Peers[0].Node
			}
			if len(st.PrefixFilters) > 0 {
				filt = st.PrefixFilters[0].Node
			}
			if peer != tc.peer || filt != tc.filt {
				t.Errorf("peer node %q, filter node %q; want %q, %q", peer, filt, tc.peer, tc.filt)
			}
			if tc.paths >= 0 && (len(st.MaximumPaths) != 1 || st.MaximumPaths[0].Paths != tc.paths) {
				t.Errorf("maximum-paths %+v, want paths %d", st.MaximumPaths, tc.paths)
			}
		})
	}
}

// TestForeignDiffQuotesNoSecret: a line someone changed by hand may be a
// neighbor's password (NX-OS prints "password 3 <key>" under the neighbor);
// the message about it names the line but not the key.
func TestForeignDiffQuotesNoSecret(t *testing.T) {
	const base = "version 9.3(8)\nfeature bgp\nrouter bgp 63500\n  neighbor 10.9.9.9\n    remote-as 65009\n"
	running := base + "    password 3 5ba8b3a5a4e0a5f1c2d3\n"
	d := offlineDriver(t, nil)
	diff, err := d.foreignDiff(base, running)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(quoteDiff(diff), "; ")
	if want := "+ router bgp 63500 > neighbor 10.9.9.9 > password <redacted>"; got != want {
		t.Fatalf("quoted %q, want %q", got, want)
	}
}
