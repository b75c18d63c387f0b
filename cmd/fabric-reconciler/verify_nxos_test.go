package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/verify"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

var (
	haystackNodes  = map[string]netip.Addr{"k8c1m0": netip.MustParseAddr("192.168.9.193"), "k8c1s1": netip.MustParseAddr("192.168.9.194"), "k8c1s2": netip.MustParseAddr("192.168.9.195")}
	haystackASN    = map[string]string{"k8c1m0": "63551", "k8c1s1": "63552", "k8c1s2": "63553"}
	haystackBlocks = map[string]string{"k8c1m0": "172.27.114.0/26", "k8c1s1": "172.27.15.192/26", "k8c1s2": "172.27.111.192/26"}
)

// nxosOperational is what a leaf of the reference lab reports with the
// nodes in down gone: their sessions Idle, their routes withdrawn. With
// relaxMissing, the leaf uses one path of the service range and keeps the
// others unused, as NX-OS does without AS-path multipath relax.
func nxosOperational(now time.Time, relaxMissing bool, down ...string) nxossim.Operational {
	isDown := map[string]bool{}
	for _, d := range down {
		isDown[d] = true
	}
	v := nxossim.VRFOperational{Neighbors: map[netip.Addr]nxossim.NeighborState{}}
	var up, upLocal []netip.Addr
	tags := map[netip.Addr]string{}
	for _, n := range []string{"k8c1m0", "k8c1s1", "k8c1s2"} {
		a := haystackNodes[n]
		tags[a] = haystackASN[n]
		if isDown[n] {
			v.Neighbors[a] = nxossim.NeighborState{State: "Idle", Since: now.Add(-4 * time.Second), ResetReason: "Holdtimer expired error"}
			continue
		}
		v.Neighbors[a] = nxossim.NeighborState{State: "Established", Since: now.Add(-time.Hour), HoldTime: 9, PrefixesReceived: 3}
		up = append(up, a)
		if n != "k8c1m0" {
			upLocal = append(upLocal, a)
		}
		v.Routes = append(v.Routes, nxossim.RouteState{Prefix: netip.MustParsePrefix(haystackBlocks[n]), NextHops: []netip.Addr{a}, Since: now.Add(-time.Hour), PeerAS: tags})
	}
	rng := nxossim.RouteState{Prefix: netip.MustParsePrefix("172.29.0.0/16"), NextHops: up, Since: now.Add(-time.Hour), PeerAS: tags}
	if relaxMissing {
		rng.NextHops, rng.Unused = up[:1], up[1:]
	}
	v.Routes = append(v.Routes, rng,
		nxossim.RouteState{Prefix: netip.MustParsePrefix("172.29.0.6/32"), NextHops: upLocal, Since: now.Add(-time.Hour), PeerAS: tags})
	return nxossim.Operational{VRFs: map[string]nxossim.VRFOperational{"default": v}}
}

func verifyReport(t *testing.T, r cliRun) verify.Report {
	t.Helper()
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify -o json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return rep
}

// TestVerifyNXOS: verify reads both emulated Nexus leaves through "show
// ... | json" after a sync: green when they report every session up and
// every route over its expected next hops; a node down reported with its
// cause (its sessions, its block, one next hop fewer on the range and the
// Local service); a leaf that keeps all but one path of the range unused
// reported with multipath relax among the causes.
func TestVerifyNXOS(t *testing.T) {
	l := newNXOSLab(t, nxosOpts{})
	if r := l.cli(t, "sync"); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	now := time.Now()
	for _, sim := range l.sims {
		sim.SetOperational(nxosOperational(now, false))
	}
	r := l.cli(t, "verify", "-o", "json")
	if rep := verifyReport(t, r); r.code != 0 || !rep.OK() {
		t.Fatalf("healthy leaves: exit %d, %d problems\n%s", r.code, rep.Problems, l.cli(t, "verify").stdout)
	}
	text := l.cli(t, "verify").stdout
	for _, want := range []string{"ok       session k8c1s1 192.168.9.194 (AS 63552): Established for 1h0m0s, 3 prefixes received, hold time 9 s",
		"ok       Service/kubernetes-dashboard/kubernetes-dashboard 172.29.0.7 (Cluster): 172.29.0.0/16 via k8c1m0, k8c1s1, k8c1s2 (3 of 3)",
		"ok       Service/multicast/mcast 172.29.0.6 (Local): 172.29.0.6/32 via k8c1s1, k8c1s2 (2 of 2)"} {
		if !strings.Contains(text, want) {
			t.Errorf("verify lacks %q:\n%s", want, text)
		}
	}

	l.sims["leaf201"].SetOperational(nxosOperational(now, false, "k8c1s1"))
	r = l.cli(t, "verify")
	if r.code != 1 {
		t.Fatalf("k8c1s1 down on leaf201: exit %d\n%s", r.code, r.stdout)
	}
	for _, want := range []string{
		"PROBLEM  session k8c1s1 192.168.9.194 (AS 63552): Idle, expected Established",
		"cause: last reset: Holdtimer expired error, 4s ago; check that calico-node (BIRD) runs on node k8c1s1",
		"PROBLEM  pod block 172.27.15.192/26 of k8c1s1: no route",
		"PROBLEM  Service/kubernetes-dashboard/kubernetes-dashboard 172.29.0.7 (Cluster): 172.29.0.0/16 has 2 of the 3 expected next hops",
		"PROBLEM  Service/multicast/mcast 172.29.0.6 (Local): 172.29.0.6/32 has 1 of the 2 expected next hops",
		"cause: the session of node k8c1s1 (192.168.9.194) is Idle",
		"verify: 5 problems",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout[strings.Index(r.stdout, "switch leaf202"):], "PROBLEM") {
		t.Errorf("leaf202 has problems:\n%s", r.stdout)
	}

	l.sims["leaf201"].SetOperational(nxosOperational(now, true))
	r = l.cli(t, "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "PROBLEM  service range 172.29.0.0/16 (BGPConfiguration/default): 172.29.0.0/16 has 1 of the 3 expected next hops") ||
		!strings.Contains(r.stdout, "session Established, but the switch does not use a path from it") {
		t.Errorf("relax missing: exit %d\n%s", r.code, r.stdout)
	}
}
