package frr

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

func peer(addr, node string, remote, local uint32) fabric.BGPPeer {
	af := fabric.IPv4
	if strings.Contains(addr, ":") {
		af = fabric.IPv6
	}
	return fabric.BGPPeer{Switch: "leaf202", Node: node, PeerAddress: addr, RemoteASN: remote, LocalASN: local, AddressFamily: af}
}

func filter(addr, node string, rules ...fabric.PrefixRule) fabric.PrefixFilter {
	return fabric.PrefixFilter{Switch: "leaf202", Node: node, PeerAddress: addr, Prefixes: rules}
}

func rule(p string, le int) fabric.PrefixRule { return fabric.PrefixRule{Prefix: p, LE: le} }

func create(o fabric.Object) fabric.Change {
	return fabric.Change{Action: fabric.ActionCreate, Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID(), After: o}
}

func update(before, after fabric.Object) fabric.Change {
	return fabric.Change{Action: fabric.ActionUpdate, Kind: after.Kind(), Switch: after.SwitchName(), ID: after.ID(), Before: before, After: after}
}

func del(o fabric.Object) fabric.Change {
	return fabric.Change{Action: fabric.ActionDelete, Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID(), Before: o}
}

func maxPaths(af fabric.AddressFamily, n int) fabric.MaximumPaths {
	return fabric.MaximumPaths{Switch: "leaf202", AddressFamily: af, Paths: n}
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// TestScriptLines checks the lines planned for changes against a running
// configuration: only what is missing, in the safe order.
func TestScriptLines(t *testing.T) {
	full := fixture(t)
	const pre = "FR-haystack-IN-"
	spare := peer("192.168.9.196", "k8c1s3", 63554, 63500)
	spareFilter := filter("192.168.9.196", "k8c1s3", rule("172.27.200.0/26", 26), rule("172.29.0.0/16", 32))
	m0 := peer("192.168.9.193", "k8c1m0", 63551, 63500)
	m0Filter := filter("192.168.9.193", "k8c1m0", rule("172.27.114.0/26", 26), rule("172.29.0.0/16", 32))
	empty := "router bgp 63500\n"
	tests := []struct {
		name     string
		running  string
		vrf      string
		asn      uint32
		changes  []fabric.Change
		want     string
		refused  string // substring of the one expected refusal
		conflict string
	}{
		{
			name: "new node: filter first, neighbor marked at once, then bound", running: full,
			changes: []fabric.Change{create(spare), create(spareFilter)},
			want: lines(
				"ip prefix-list "+pre+"192.168.9.196 description orchestrator:fabric-reconciler.haystack node=k8c1s3",
				"ip prefix-list "+pre+"192.168.9.196 seq 5 permit 172.27.200.0/26",
				"ip prefix-list "+pre+"192.168.9.196 seq 10 permit 172.29.0.0/16 le 32",
				"route-map "+pre+"192.168.9.196 permit 10",
				" description orchestrator:fabric-reconciler.haystack node=k8c1s3",
				" match ip address prefix-list "+pre+"192.168.9.196",
				"exit",
				"router bgp 63500",
				" neighbor 192.168.9.196 remote-as 63554",
				" neighbor 192.168.9.196 description orchestrator:fabric-reconciler.haystack node=k8c1s3",
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.196 route-map "+pre+"192.168.9.196 in"),
		},
		{
			name: "new node with local-as: filtered before local-as, which FRR may refuse", running: full,
			changes: []fabric.Change{create(peer("192.168.9.196", "k8c1s3", 63554, 63600)), create(spareFilter)},
			want: lines(
				"ip prefix-list "+pre+"192.168.9.196 description orchestrator:fabric-reconciler.haystack node=k8c1s3",
				"ip prefix-list "+pre+"192.168.9.196 seq 5 permit 172.27.200.0/26",
				"ip prefix-list "+pre+"192.168.9.196 seq 10 permit 172.29.0.0/16 le 32",
				"route-map "+pre+"192.168.9.196 permit 10",
				" description orchestrator:fabric-reconciler.haystack node=k8c1s3",
				" match ip address prefix-list "+pre+"192.168.9.196",
				"exit",
				"router bgp 63500",
				" neighbor 192.168.9.196 remote-as 63554",
				" neighbor 192.168.9.196 description orchestrator:fabric-reconciler.haystack node=k8c1s3",
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.196 route-map "+pre+"192.168.9.196 in",
				" exit-address-family",
				" neighbor 192.168.9.196 local-as 63600 no-prepend replace-as"),
		},
		{
			name: "node removed: neighbor before its filter", running: full,
			changes: []fabric.Change{del(m0Filter), del(m0)},
			want: lines(
				"router bgp 63500",
				" no neighbor 192.168.9.193",
				"exit",
				"no route-map "+pre+"192.168.9.193",
				"no ip prefix-list "+pre+"192.168.9.193"),
		},
		{
			name: "filter removed, neighbor kept: unbound first", running: full,
			changes: []fabric.Change{del(m0Filter)},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  no neighbor 192.168.9.193 route-map "+pre+"192.168.9.193 in",
				" exit-address-family",
				"exit",
				"no route-map "+pre+"192.168.9.193",
				"no ip prefix-list "+pre+"192.168.9.193"),
		},
		{
			name: "new block: added before the old one goes", running: full,
			changes: []fabric.Change{update(m0Filter, filter("192.168.9.193", "k8c1m0", rule("172.27.114.64/26", 26), rule("172.29.0.0/16", 32)))},
			want: lines(
				"ip prefix-list "+pre+"192.168.9.193 seq 15 permit 172.27.114.64/26",
				"no ip prefix-list "+pre+"192.168.9.193 seq 5"),
		},
		{
			name: "a filter that permits nothing denies any", running: full,
			changes: []fabric.Change{update(m0Filter, filter("192.168.9.193", "k8c1m0"))},
			want: lines(
				"ip prefix-list "+pre+"192.168.9.193 seq 15 deny any",
				"no ip prefix-list "+pre+"192.168.9.193 seq 5",
				"no ip prefix-list "+pre+"192.168.9.193 seq 10"),
		},
		{
			name: "incomplete filter completed: only the binding", running: strings.Replace(full,
				"  neighbor 192.168.9.194 route-map FR-haystack-IN-192.168.9.194 in\n", "", 1),
			changes: []fabric.Change{
				update(filter("192.168.9.194", "(incomplete: not applied to the neighbor)"), filter("192.168.9.194", "k8c1s1", rule("172.27.15.192/26", 26), rule("172.29.0.0/16", 32))),
				update(peer("192.168.9.194", "(incomplete: route-map not applied)", 63552, 63501), peer("192.168.9.194", "k8c1s1", 63552, 63501)),
			},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.194 route-map "+pre+"192.168.9.194 in"),
		},
		{
			name: "local-as back to the instance's AS, node renamed", running: full,
			changes: []fabric.Change{update(peer("192.168.9.194", "k8c1s1", 63552, 63501), peer("192.168.9.194", "k8c1s1b", 63552, 63500))},
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.194 description orchestrator:fabric-reconciler.haystack node=k8c1s1b",
				" no neighbor 192.168.9.194 local-as"),
		},
		{
			name: "local-as and a new remote AS", running: full,
			changes: []fabric.Change{update(m0, peer("192.168.9.193", "k8c1m0", 64001, 63499))},
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.193 remote-as 64001",
				" neighbor 192.168.9.193 local-as 63499 no-prepend replace-as"),
		},
		{
			name: "maximum-paths 3 to 4", running: full,
			changes: []fabric.Change{update(maxPaths(fabric.IPv4, 3), maxPaths(fabric.IPv4, 4))},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  maximum-paths 4",
				"  maximum-paths ibgp 4"),
		},
		{
			name: "maximum-paths gone: relax goes with the last family", running: full,
			changes: []fabric.Change{del(maxPaths(fabric.IPv4, 3))},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  no maximum-paths",
				"  no maximum-paths ibgp",
				" exit-address-family",
				" no bgp bestpath as-path multipath-relax",
				"exit",
				"no ip prefix-list FR-haystack-MARK-MULTIPATH-RELAX",
				"no ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4"),
		},
		{
			name: "maximum-paths for IPv6 too: marker first, relax already there", running: full,
			changes: []fabric.Change{create(maxPaths(fabric.IPv6, 2))},
			want: lines(
				"ip prefix-list FR-haystack-MARK-MAXPATHS-IPV6 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv6",
				"router bgp 63500",
				" address-family ipv6 unicast",
				"  maximum-paths 2",
				"  maximum-paths ibgp 2"),
		},
		{
			name: "relax set by hand is not claimed", running: empty + " bgp bestpath as-path multipath-relax\n",
			changes: []fabric.Change{create(maxPaths(fabric.IPv4, 3))},
			want: lines(
				"ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4",
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  maximum-paths 3",
				"  maximum-paths ibgp 3"),
		},
		{
			name: "maximum-paths set by hand is a conflict", running: empty + " address-family ipv4 unicast\n  maximum-paths 2\n exit-address-family\n",
			changes:  []fabric.Change{create(maxPaths(fabric.IPv4, 3))},
			want:     "",
			conflict: "maximum-paths is set in address-family ipv4 unicast without this cluster's marker",
		},
		{
			name: "hand-made neighbor in the way", running: full,
			changes:  []fabric.Change{create(peer("192.168.9.206", "k8c1s9", 65000, 63500))},
			want:     "",
			conflict: "neighbor 192.168.9.206 is configured without this cluster's mark; it is left alone",
		},
		{
			name: "another cluster's neighbor in the way of a filter", running: full,
			changes:  []fabric.Change{create(filter("192.168.9.250", "x9", rule("10.9.0.0/26", 26)))},
			want:     "",
			conflict: "neighbor 192.168.9.250 is configured owned by orchestrator:fabric-reconciler.other; its inbound filter is not this cluster's to set",
		},
		{
			name: "a bad filter prefix is refused, with its neighbor; the rest goes", running: full,
			changes: []fabric.Change{
				create(filter("192.168.9.197", "k8c1s7", rule("172.27.9.0/26\nrouter bgp 1", 26))),
				create(peer("192.168.9.197", "k8c1s7", 63557, 63500)),
				update(maxPaths(fabric.IPv4, 3), maxPaths(fabric.IPv4, 4)),
			},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  maximum-paths 4",
				"  maximum-paths ibgp 4"),
			refused: `filter prefix "172.27.9.0/26\nrouter bgp 1": contains a line break|its prefix filter was refused`,
		},
		{
			name: "a node name with a newline is refused; the rest goes", running: full,
			changes: []fabric.Change{
				create(peer("192.168.9.197", "evil\nrouter bgp 1", 63557, 63500)),
				create(peer("192.168.9.198", "k8c1s8", 63558, 63500)),
			},
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.198 remote-as 63558",
				" neighbor 192.168.9.198 description orchestrator:fabric-reconciler.haystack node=k8c1s8"),
			refused: `node name "evil\nrouter bgp 1": contains a line break`,
		},
		{
			name: "IPv6 node on a switch without default IPv4 activation", running: "router bgp 63500\n no bgp default ipv4-unicast\nexit\n",
			changes: []fabric.Change{
				create(fabric.PrefixFilter{Switch: "leaf202", Node: "k8v6", PeerAddress: "2001:db8::9", Prefixes: []fabric.PrefixRule{rule("2001:db8:1::/64", 64), rule("2001:db8:ffff::/48", 128)}}),
				create(peer("2001:db8::9", "k8v6", 65009, 63500)),
			},
			want: lines(
				"ipv6 prefix-list "+pre+"2001-db8--9 description orchestrator:fabric-reconciler.haystack node=k8v6",
				"ipv6 prefix-list "+pre+"2001-db8--9 seq 5 permit 2001:db8:1::/64",
				"ipv6 prefix-list "+pre+"2001-db8--9 seq 10 permit 2001:db8:ffff::/48 le 128",
				"route-map "+pre+"2001-db8--9 permit 10",
				" description orchestrator:fabric-reconciler.haystack node=k8v6",
				" match ipv6 address prefix-list "+pre+"2001-db8--9",
				"exit",
				"router bgp 63500",
				" neighbor 2001:db8::9 remote-as 65009",
				" neighbor 2001:db8::9 description orchestrator:fabric-reconciler.haystack node=k8v6",
				" address-family ipv6 unicast",
				"  neighbor 2001:db8::9 activate",
				"  neighbor 2001:db8::9 route-map "+pre+"2001-db8--9 in"),
		},
		{
			name: "IPv6 node with FRR's default: deactivated in IPv4 unicast before it is activated and filtered in IPv6", running: empty,
			changes: []fabric.Change{
				create(fabric.PrefixFilter{Switch: "leaf202", Node: "k8v6", PeerAddress: "2001:db8::9", Prefixes: []fabric.PrefixRule{rule("2001:db8:1::/64", 64)}}),
				create(peer("2001:db8::9", "k8v6", 65009, 63500)),
			},
			want: lines(
				"ipv6 prefix-list "+pre+"2001-db8--9 description orchestrator:fabric-reconciler.haystack node=k8v6",
				"ipv6 prefix-list "+pre+"2001-db8--9 seq 5 permit 2001:db8:1::/64",
				"route-map "+pre+"2001-db8--9 permit 10",
				" description orchestrator:fabric-reconciler.haystack node=k8v6",
				" match ipv6 address prefix-list "+pre+"2001-db8--9",
				"exit",
				"router bgp 63500",
				" neighbor 2001:db8::9 remote-as 65009",
				" neighbor 2001:db8::9 description orchestrator:fabric-reconciler.haystack node=k8v6",
				" address-family ipv4 unicast",
				"  no neighbor 2001:db8::9 activate",
				" exit-address-family",
				" address-family ipv6 unicast",
				"  neighbor 2001:db8::9 activate",
				"  neighbor 2001:db8::9 route-map "+pre+"2001-db8--9 in"),
		},
		{
			name: "IPv6 neighbor active in IPv4 unicast is repaired, nothing else", running: strings.Replace(full, "  no neighbor 2001:db8::9 activate\n", "", 1),
			changes: []fabric.Change{update(peer("2001:db8::9", "(incomplete: active in ipv4 unicast without this cluster's filter)", 65009, 63500), peer("2001:db8::9", "k8v6", 65009, 63500))},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  no neighbor 2001:db8::9 activate"),
		},
		{
			name: "IPv6 neighbor already deactivated in IPv4 unicast: no line", running: full,
			changes: []fabric.Change{update(peer("2001:db8::9", "k8v6", 65009, 63500), peer("2001:db8::9", "k8v6", 65009, 63500))},
			want:    "",
		},
		{
			name:    "IPv4 node where FRR activates ipv6 unicast and l2vpn evpn by default: deactivated in both",
			running: "router bgp 63500\n bgp default ipv6-unicast\n bgp default l2vpn-evpn\nexit\n",
			changes: []fabric.Change{create(m0)},
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.193 remote-as 63551",
				" neighbor 192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
				" address-family ipv6 unicast",
				"  no neighbor 192.168.9.193 activate",
				" exit-address-family",
				" address-family l2vpn evpn",
				"  no neighbor 192.168.9.193 activate"),
		},
		{
			name: "owned neighbor activated by hand in another family is deactivated there",
			running: strings.Replace(full, "exit\n!\nrouter bgp 65055 vrf BLUE\n",
				" !\n address-family ipv4 vpn\n  neighbor 192.168.9.193 activate\n exit-address-family\nexit\n!\nrouter bgp 65055 vrf BLUE\n", 1),
			changes: []fabric.Change{update(peer("192.168.9.193", "(incomplete: active in ipv4 vpn without this cluster's filter)", 63551, 63500), m0)},
			want: lines(
				"router bgp 63500",
				" address-family ipv4 vpn",
				"  no neighbor 192.168.9.193 activate"),
		},
		{
			name: "IPv4 activation when the switch does not activate by default", running: "router bgp 63500\n no bgp default ipv4-unicast\nexit\n",
			changes: []fabric.Change{create(m0)},
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.193 remote-as 63551",
				" neighbor 192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.193 activate"),
		},
		{
			name: "a VRF instance", running: full, vrf: "BLUE", asn: 65055,
			changes: []fabric.Change{create(peer("10.1.1.2", "k8c1m0", 63551, 65055)), create(maxPaths(fabric.IPv4, 2))},
			want: lines(
				"router bgp 65055 vrf BLUE",
				" neighbor 10.1.1.2 remote-as 63551",
				" neighbor 10.1.1.2 description orchestrator:fabric-reconciler.haystack node=k8c1m0"),
			conflict: "maximum-paths is set in address-family ipv4 unicast without this cluster's marker",
		},
		{
			name: "a route-map edited by hand is put back", running: strings.Replace(full,
				" match ip address prefix-list FR-haystack-IN-192.168.9.193\nexit\n",
				" match ip address prefix-list FR-haystack-IN-192.168.9.193\n set local-preference 200\nexit\n!\nroute-map FR-haystack-IN-192.168.9.193 permit 20\nexit\n", 1),
			changes: []fabric.Change{update(filter("192.168.9.193", "(incomplete: unexpected route-map entries)"), m0Filter)},
			want: lines(
				"no route-map "+pre+"192.168.9.193 permit 20",
				"route-map "+pre+"192.168.9.193 permit 10",
				" no set local-preference 200"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asn := tt.asn
			if asn == 0 {
				asn = 63500
			}
			d := newTestDriver(t, testFabric(asn, tt.vrf))
			cfg, err := parseRunningConfig(tt.running)
			if err != nil {
				t.Fatal(err)
			}
			sw, _ := d.switches.ByName("leaf202")
			s, err := d.script(sw, cfg, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Text(); got != tt.want {
				t.Fatalf("lines:\n%s\nwant:\n%s", got, tt.want)
			}
			refused := s.Refused()
			if tt.refused == "" && len(refused) > 0 {
				t.Fatalf("unexpected refusal: %v", refused[0].Err)
			}
			if tt.refused != "" {
				want := strings.Split(tt.refused, "|")
				if len(refused) != len(want) {
					t.Fatalf("%d refusals (%v), want %d", len(refused), refused, len(want))
				}
				for i, w := range want {
					if !strings.Contains(refused[i].Err.Error(), w) {
						t.Fatalf("refusal %d: %v, want %q", i, refused[i].Err, w)
					}
				}
			}
			conflicts := s.Conflicts()
			if (tt.conflict == "") != (len(conflicts) == 0) || (tt.conflict != "" && !strings.Contains(conflicts[0].Reason, tt.conflict)) {
				t.Fatalf("conflicts %+v, want %q", conflicts, tt.conflict)
			}
			applied := s.Applied(len(s.Lines()))
			if len(applied)+len(refused)+len(conflicts) != len(tt.changes) {
				t.Fatalf("%d applied + %d refused + %d conflicts for %d changes", len(applied), len(refused), len(conflicts), len(tt.changes))
			}
		})
	}
}

func TestRenderOffline(t *testing.T) {
	d := newTestDriver(t, testFabric(63500, ""))
	plan := fabric.Changeset{Name: "haystack-frr", Driver: "frr", Changes: []fabric.Change{
		create(filter("192.168.9.193", "k8c1m0", rule("172.27.114.0/26", 26), rule("172.29.0.0/16", 32))),
		create(maxPaths(fabric.IPv4, 3)),
		create(peer("192.168.9.193", "k8c1m0", 63551, 63500)),
		create(peer("192.168.9.197", "bad;node", 63557, 63500)),
	}, Conflicts: []fabric.Conflict{{Kind: fabric.KindBGPPeer, Switch: "leaf202", ID: "192.168.9.206", Reason: "in the way"}}}
	got, err := d.Render(plan)
	if err != nil {
		t.Fatal(err)
	}
	want := lines(
		"! switch leaf202 (127.0.0.1:1): 4 change(s), 19 line(s), assuming the switch holds only its BGP instance",
		`! refused create BGPPeer leaf202/192.168.9.197: node name "bad;node": contains ';'`,
		"configure terminal",
		"ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
		"ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26",
		"ip prefix-list FR-haystack-IN-192.168.9.193 seq 10 permit 172.29.0.0/16 le 32",
		"route-map FR-haystack-IN-192.168.9.193 permit 10",
		" description orchestrator:fabric-reconciler.haystack node=k8c1m0",
		" match ip address prefix-list FR-haystack-IN-192.168.9.193",
		"exit",
		"ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4",
		"ip prefix-list FR-haystack-MARK-MULTIPATH-RELAX description orchestrator:fabric-reconciler.haystack owns bgp bestpath as-path multipath-relax",
		"router bgp 63500",
		" bgp bestpath as-path multipath-relax",
		" address-family ipv4 unicast",
		"  maximum-paths 3",
		"  maximum-paths ibgp 3",
		" exit-address-family",
		" neighbor 192.168.9.193 remote-as 63551",
		" neighbor 192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
		" address-family ipv4 unicast",
		"  neighbor 192.168.9.193 route-map FR-haystack-IN-192.168.9.193 in",
		"end",
		"! conflict BGPPeer leaf202/192.168.9.206: in the way")
	if got != want {
		t.Fatalf("Render:\n%s\nwant:\n%s", got, want)
	}
	if got, _ := d.Render(fabric.Changeset{}); got != "! no changes\n" {
		t.Fatalf("empty plan renders %q", got)
	}
}
