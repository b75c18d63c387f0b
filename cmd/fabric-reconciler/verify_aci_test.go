package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// aciOperational is what the APIC reports of one leaf of the reference
// lab (node 201 or 202 of pod 1), with the nodes in down gone: their
// bgpPeerEntry idle, their routes withdrawn. With onePath the leaf keeps a
// single next hop for the service range, as ACI does without AS-path
// multipath relax.
func aciOperational(node string, now time.Time, onePath bool, down ...string) []emulator.OperMO {
	isDown := map[string]bool{}
	for _, d := range down {
		isDown[d] = true
	}
	const dom = "dom-TEN_K8_C1:VRF_K8_C1"
	bgp := "topology/pod-1/node-" + node + "/sys/bgp/inst/" + dom
	urib := "topology/pod-1/node-" + node + "/sys/uribv4/" + dom + "/db-rt"
	ts := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-07:00") }
	var mos []emulator.OperMO
	route := func(prefix string, nodes ...string) {
		rt := urib + "/rt-[" + prefix + "]"
		mos = append(mos, emulator.OperMO{Class: "uribv4Route", DN: rt, Attrs: map[string]string{"prefix": prefix}})
		for _, n := range nodes {
			a := haystackNodes[n].String() + "/32"
			mos = append(mos, emulator.OperMO{Class: "uribv4Nexthop", DN: rt + "/nh-[bgp-63500]-[" + a + "]-[unspecified]-[TEN_K8_C1:VRF_K8_C1]",
				Attrs: map[string]string{"addr": a, "routeType": "ebgp", "if": "unspecified", "owner": "bgp-63500"}})
		}
	}
	var up, upLocal []string
	for _, n := range []string{"k8c1m0", "k8c1s1", "k8c1s2"} {
		a := haystackNodes[n].String()
		peer := bgp + "/peer-[" + a + "/32]"
		mos = append(mos, emulator.OperMO{Class: "bgpPeer", DN: peer, Attrs: map[string]string{"addr": a + "/32", "asn": haystackASN[n], "adminSt": "enabled"}})
		ent := emulator.OperMO{Class: "bgpPeerEntry", DN: peer + "/ent-[" + a + "]", Attrs: map[string]string{"addr": a, "type": "ebgp",
			"operSt": "established", "holdIntvl": "180", "kaIntvl": "60", "lastFlapTs": ts(now.Add(-26 * time.Hour))}}
		accepted := "3"
		if isDown[n] {
			ent.Attrs["operSt"], ent.Attrs["lastFlapTs"], accepted = "idle", ts(now.Add(-42*time.Second)), "0"
		}
		mos = append(mos, ent, emulator.OperMO{Class: "bgpPeerAfEntry", DN: ent.DN + "/af-ipv4-ucast",
			Attrs: map[string]string{"type": "ipv4-ucast", "acceptedPaths": accepted, "pfxSent": "1"}})
		if isDown[n] {
			continue
		}
		up = append(up, n)
		if n != "k8c1m0" {
			upLocal = append(upLocal, n)
		}
		route(haystackBlocks[n], n)
	}
	if onePath {
		route("172.29.0.0/16", up[0])
	} else {
		route("172.29.0.0/16", up...)
	}
	route("172.29.0.6/32", upLocal...)
	return mos
}

// TestVerifyACI: verify reads both leaves' sessions and routes through
// the APIC's operational classes after a sync: green; a node idle on
// leaf201 with its cause; a single path where three nodes advertise.
func TestVerifyACI(t *testing.T) {
	l := newACILab(t, labOpts{})
	if r := l.cli(t, "sync"); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	now := time.Now()
	set := func(m201, m202 []emulator.OperMO) {
		t.Helper()
		if err := l.sim.SetOperational(append(m201, m202...)); err != nil {
			t.Fatal(err)
		}
	}
	set(aciOperational("201", now, false), aciOperational("202", now, false))
	r := l.cli(t, "verify")
	if r.code != 0 {
		t.Fatalf("healthy leaves: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"ok       session k8c1s1 192.168.9.194 (AS 63552): established for 26h0m0s, 3 prefixes received, hold time 180 s",
		"ok       Service/multicast/mcast 172.29.0.6 (Local): 172.29.0.6/32 via k8c1s1, k8c1s2 (2 of 2)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify lacks %q:\n%s", want, r.stdout)
		}
	}

	set(aciOperational("201", now, false, "k8c1s1"), aciOperational("202", now, false))
	r = l.cli(t, "verify")
	for _, want := range []string{
		"PROBLEM  session k8c1s1 192.168.9.194 (AS 63552): idle, expected Established",
		"cause: last reset: last change 42s ago; check that calico-node (BIRD) runs on node k8c1s1",
		"PROBLEM  pod block 172.27.15.192/26 of k8c1s1: no route",
		"PROBLEM  Service/kubernetes-dashboard/kubernetes-dashboard 172.29.0.7 (Cluster): 172.29.0.0/16 has 2 of the 3 expected next hops",
		"cause: the session of node k8c1s1 (192.168.9.194) is idle",
		"verify: 5 problems",
	} {
		if r.code != 1 || !strings.Contains(r.stdout, want) {
			t.Errorf("exit %d; verify lacks %q:\n%s", r.code, want, r.stdout)
		}
	}

	set(aciOperational("201", now, true), aciOperational("202", now, true))
	r = l.cli(t, "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "172.29.0.0/16 has 1 of the 3 expected next hops") || !strings.Contains(r.stdout, "AS-path multipath relax") {
		t.Errorf("one path: exit %d\n%s", r.code, r.stdout)
	}
	// The reads are object queries under topology/, two per leaf and family.
	if n := l.sim.Count("GET", "/api/node/mo/topology/pod-1/node-201/"); n < 3 {
		t.Errorf("%d operational GETs for node 201", n)
	}
}
