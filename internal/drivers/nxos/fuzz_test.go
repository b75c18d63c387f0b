package nxos

import (
	"os"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// FuzzParseConfig feeds arbitrary switch output to the parser, the
// observation, the leftover-checkpoint comparison and the line planner: none
// may panic, and every line planned against whatever the switch printed is a
// single printable line without ';'.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"testdata/haystack-leaf201.running.txt", "testdata/vrf-blue-leaf201.running.txt",
		"../../../test/nxossim/testdata/running_config_bgp_9.3.8.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("router bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551\n  address-family ipv4 unicast\n    maximum-paths 3\n")
	f.Add("ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 deny 0.0.0.0/0 le 32\nroute-map FR-haystack-IN-192.168.9.193 permit 10\n  set x\n")
	f.Add(recordedNeighbors)
	d := offlineDriver(f, nil)
	sw := d.switches[0]
	p := func(addr, node string, remote uint32) fabric.BGPPeer {
		return fabric.BGPPeer{Switch: "leaf201", Node: node, PeerAddress: addr, RemoteASN: remote, LocalASN: 63501, AddressFamily: fabric.IPv4}
	}
	flt := func(addr, node string, rules ...fabric.PrefixRule) fabric.PrefixFilter {
		return fabric.PrefixFilter{Switch: "leaf201", Node: node, PeerAddress: addr, Prefixes: rules}
	}
	changes := []fabric.Change{
		{Action: fabric.ActionCreate, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: "192.168.9.193",
			After: flt("192.168.9.193", "k8c1m0", fabric.PrefixRule{Prefix: "172.27.114.0/26", LE: 26}, fabric.PrefixRule{Prefix: "172.29.0.0/16", LE: 32})},
		{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193", After: p("192.168.9.193", "k8c1m0", 63551)},
		{Action: fabric.ActionUpdate, Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv4",
			Before: fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 2}, After: fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 3}},
		{Action: fabric.ActionDelete, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: "192.168.9.194", Before: flt("192.168.9.194", "k8c1s1")},
		{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.194", Before: p("192.168.9.194", "k8c1s1", 63552)},
		{Action: fabric.ActionDelete, Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv6", Before: fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv6, Paths: 2}},
		{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.195", After: func() fabric.BGPPeer {
			o := p("192.168.9.195", "k8c1s2", 63553)
			o.PeerOptions = withOptions(bgpPW).Peers[0].PeerOptions
			return o
		}()},
	}
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := d.foreignDiff(text, text); err == nil {
			if diff, _ := d.foreignDiff(text, text); len(diff) != 0 {
				t.Fatalf("a configuration differs from itself: %q", diff)
			}
		}
		cfg, err := parseConfig(text)
		if err != nil {
			return
		}
		if _, _, err := d.observeSwitch(sw, cfg); err != nil {
			return
		}
		s, err := d.script(sw, cfg, changes)
		if err != nil {
			return
		}
		for _, l := range s.Lines() {
			if !cleanLine(l.Wire()) || strings.Contains(l.Text, bgpPW) {
				t.Fatalf("planned line %q", l.Text)
			}
		}
	})
}
