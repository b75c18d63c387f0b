package cli

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

func session(node, addr string, remote uint32) fabric.Session {
	return fabric.Session{Switch: "leaf201", Node: node, NodeAddress: netip.MustParsePrefix(addr + "/28"), RemoteASN: remote, LocalASN: 63500,
		AddressFamily: fabric.IPv4, Allowed: []fabric.PrefixRule{{Prefix: "172.29.0.0/16", LE: 32}}}
}

// A value the platform refuses is skipped when the plan is made: the
// session, its filter and its share of maximum-paths are not planned, so
// apply never meets them.
func TestDesireSkipsWhatThePlatformRefuses(t *testing.T) {
	in := fabric.Intent{Fabric: "f", Cluster: "haystack",
		Sessions: []fabric.Session{
			session("k8c1m0", "192.168.9.193", 63551),
			session("astrans", "192.168.9.194", 23456),
			session("asmax", "192.168.9.195", 4294967295),
			session(strings.Repeat("n", 40), "192.168.9.196", 63554),
		},
		Paths: fabric.PathsIntent{Mode: "auto", AllNodes: map[fabric.AddressFamily]bool{fabric.IPv4: true}}}
	for _, tc := range []struct {
		lim     Limits
		peers   int
		skipped []string
	}{
		{Limits{PlatformName: "FRR", MaxPaths: 256}, 2, []string{"AS 23456 (AS_TRANS)", "AS numbers are 1-4294967294"}},
		{Limits{PlatformName: "NX-OS", MaxDescription: 80, MaxPaths: 64}, 1,
			[]string{"AS 23456 (AS_TRANS)", "AS numbers are 1-4294967294", "NX-OS takes 80 (node names of at most 35 characters fit)"}},
	} {
		r := Desire(in, tc.lim)
		if len(r.State.Peers) != tc.peers || len(r.State.PrefixFilters) != tc.peers {
			t.Errorf("%s: %d peers, %d filters; want %d each", tc.lim.PlatformName, len(r.State.Peers), len(r.State.PrefixFilters), tc.peers)
		}
		if len(r.State.MaximumPaths) != 1 || r.State.MaximumPaths[0].Paths != tc.peers {
			t.Errorf("%s: maximum-paths %+v, want %d: refused sessions do not count", tc.lim.PlatformName, r.State.MaximumPaths, tc.peers)
		}
		if len(r.Skipped) != len(tc.skipped) {
			t.Fatalf("%s: skipped %+v", tc.lim.PlatformName, r.Skipped)
		}
		for i, want := range tc.skipped {
			if !strings.Contains(r.Skipped[i].Reason, want) || !strings.HasPrefix(r.Skipped[i].Object, "Node/") {
				t.Errorf("%s: skip %d = %+v, want %q", tc.lim.PlatformName, i, r.Skipped[i], want)
			}
		}
	}
}
