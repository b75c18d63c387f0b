package frr

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// FuzzParseRunningConfig feeds arbitrary switch output to the parser, the
// observation and the line planner: none may panic, and every line planned
// against whatever the switch printed is a single printable line.
func FuzzParseRunningConfig(f *testing.F) {
	b, err := os.ReadFile("testdata/running-config-leaf202.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	if b, err = os.ReadFile("testdata/running-config-options.txt"); err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("router bgp 63500\n neighbor 192.168.9.193 remote-as 63551\n address-family ipv4 unicast\n  maximum-paths 3\n")
	f.Add("ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 deny any\nroute-map FR-haystack-IN-192.168.9.193 permit 10\n set x\n")
	d, err := New(testFabric(63500, ""), drivers.Options{Cluster: "haystack"})
	if err != nil {
		f.Fatal(err)
	}
	drv := d.(*Driver)
	sw, _ := drv.switches.ByName("leaf202")
	changes := []fabric.Change{
		create(filter("192.168.9.193", "k8c1m0", rule("172.27.114.0/26", 26), rule("172.29.0.0/16", 32))),
		create(peer("192.168.9.193", "k8c1m0", 63551, 63501)),
		update(maxPaths(fabric.IPv4, 2), maxPaths(fabric.IPv4, 3)),
		del(filter("192.168.9.194", "k8c1s1")),
		del(peer("192.168.9.194", "k8c1s1", 63552, 63500)),
		del(maxPaths(fabric.IPv6, 2)),
		create(func() fabric.BGPPeer { p := optPeer(); p.PeerAddress, p.Node = "192.168.9.195", "k8c1s2"; return p }()),
		create(listenGroupOf(recordedPW)),
	}
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := drv.parse(sw, text)
		if err != nil {
			return
		}
		cfg.ecmpMax = 256
		if _, _, err := drv.observeSwitch(context.Background(), sw, cfg); err != nil {
			return
		}
		s, err := drv.script(sw, cfg, changes)
		if err != nil {
			return
		}
		for _, l := range s.Lines() {
			if hasControl(l.Wire()) || strings.Contains(l.Text, recordedPW) {
				t.Fatalf("planned line %q", l.Text)
			}
		}
	})
}
