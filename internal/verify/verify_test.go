package verify_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/builtin"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/verify"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var root = testenv.RepoRoot()

// lab is the reference lab as the FRR lab runs it: the haystack cluster
// plus the lab's echo service.
func lab(t *testing.T) (k8swatch.ClusterState, *config.Config) {
	t.Helper()
	cs, err := k8swatch.LoadFiles(filepath.Join(root, "examples/haystack/cluster"), filepath.Join(root, "test/lab/cluster"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(root, "examples/haystack/fabric-frr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cs, cfg
}

var nodes = map[string]netip.Addr{"k8c1m0": netip.MustParseAddr("192.168.9.193"), "k8c1s1": netip.MustParseAddr("192.168.9.194"), "k8c1s2": netip.MustParseAddr("192.168.9.195")}
var asn = map[string]uint32{"k8c1m0": 63551, "k8c1s1": 63552, "k8c1s2": 63553}
var blocks = map[string]string{"k8c1m0": "172.27.114.0/26", "k8c1s1": "172.27.15.192/26", "k8c1s2": "172.27.111.192/26"}

// healthy is what a leaf of the lab reports after a sync, without the
// nodes in down.
func healthy(sw string, down ...string) fabric.SwitchOperational {
	so := fabric.SwitchOperational{Switch: sw}
	var up []netip.Addr
	var upLocal []netip.Addr
	for _, n := range []string{"k8c1m0", "k8c1s1", "k8c1s2"} {
		st := fabric.SessionState{PeerAddress: nodes[n], RemoteASN: asn[n], State: "Established", Established: true,
			Uptime: time.Hour, PrefixesReceived: 4, HoldTime: 9 * time.Second}
		isDown := false
		for _, d := range down {
			isDown = isDown || d == n
		}
		if isDown {
			st = fabric.SessionState{PeerAddress: nodes[n], RemoteASN: asn[n], State: "Active", LastReset: "BGP Notification received"}
		}
		so.Sessions = append(so.Sessions, st)
		if isDown {
			continue
		}
		up = append(up, nodes[n])
		if n != "k8c1m0" {
			upLocal = append(upLocal, nodes[n])
		}
		so.Routes = append(so.Routes, fabric.Route{Prefix: netip.MustParsePrefix(blocks[n]), NextHops: []netip.Addr{nodes[n]}})
	}
	for _, p := range []string{"172.29.0.0/16", "172.29.0.1/32", "172.29.0.7/32"} {
		so.Routes = append(so.Routes, fabric.Route{Prefix: netip.MustParsePrefix(p), NextHops: up})
	}
	if len(upLocal) > 0 {
		so.Routes = append(so.Routes, fabric.Route{Prefix: netip.MustParsePrefix("172.29.0.6/32"), NextHops: upLocal})
	}
	return so
}

func compare(t *testing.T, op fabric.Operational) verify.FabricReport {
	t.Helper()
	cs, cfg := lab(t)
	exps := verify.Expect(cs, cfg)
	if len(exps) != 1 {
		t.Fatalf("expectations: %+v", exps)
	}
	return verify.Compare(exps[0], op, nil)
}

func find(fr verify.FabricReport, sw, target string) verify.RouteCheck {
	for _, s := range fr.Switches {
		if s.Name == sw {
			for _, r := range s.Routes {
				if r.Target == target {
					return r
				}
			}
		}
	}
	return verify.RouteCheck{}
}

func text(t *testing.T, fr verify.FabricReport) string {
	var b bytes.Buffer
	if err := verify.WriteText(&b, verify.Assemble([]verify.FabricReport{fr})); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestExpect: the reference lab's expectation per leaf: three sessions,
// three pod blocks (one next hop each), the service range and the two
// Cluster services over three next hops (maximum-paths 3), the Local
// service over its two endpoint nodes.
func TestExpect(t *testing.T) {
	cs, cfg := lab(t)
	e := verify.Expect(cs, cfg)[0]
	if len(e.Sessions) != 6 || len(e.Switches) != 2 {
		t.Fatalf("sessions %d, switches %v", len(e.Sessions), e.Switches)
	}
	got := map[string]string{}
	for _, r := range e.Routes {
		if r.Switch != "leaf201" {
			continue
		}
		var adv []string
		for _, a := range r.Advertisers {
			adv = append(adv, a.Node)
		}
		got[r.Kind+" "+r.Object] = strings.Join(adv, ",") + " max " + itoa(r.MaxPaths)
	}
	want := map[string]string{
		"pod-block Node/k8c1m0": "k8c1m0 max 3", "pod-block Node/k8c1s1": "k8c1s1 max 3", "pod-block Node/k8c1s2": "k8c1s2 max 3",
		"service-range BGPConfiguration/default":                    "k8c1m0,k8c1s1,k8c1s2 max 3",
		"service Service/lab/echo":                                  "k8c1m0,k8c1s1,k8c1s2 max 3",
		"service Service/kubernetes-dashboard/kubernetes-dashboard": "k8c1m0,k8c1s1,k8c1s2 max 3",
		"service Service/multicast/mcast":                           "k8c1s1,k8c1s2 max 3",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("routes: %v", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCompareHealthy(t *testing.T) {
	fr := compare(t, fabric.Operational{Switches: []fabric.SwitchOperational{healthy("leaf201"), healthy("leaf202")}})
	if fr.Problems != 0 {
		t.Fatalf("healthy lab: %d problems\n%s", fr.Problems, text(t, fr))
	}
	if r := find(fr, "leaf201", "172.29.0.7"); r.Route != "172.29.0.7/32" || r.Width != 3 || r.ExpectedWidth != 3 {
		t.Errorf("172.29.0.7: %+v", r)
	}
}

// TestCompareNodeDown: a node's sessions down on one leaf: its session,
// its block and every prefix it advertised there, each with the cause.
func TestCompareNodeDown(t *testing.T) {
	fr := compare(t, fabric.Operational{Switches: []fabric.SwitchOperational{healthy("leaf201", "k8c1s1"), healthy("leaf202")}})
	// session, block, range, two Cluster services, the Local service
	if fr.Problems != 6 {
		t.Fatalf("%d problems\n%s", fr.Problems, text(t, fr))
	}
	out := text(t, fr)
	for _, want := range []string{
		"PROBLEM  session k8c1s1 192.168.9.194 (AS 63552): Active, expected Established",
		"cause: last reset: BGP Notification received; check that calico-node (BIRD) runs on node k8c1s1",
		"PROBLEM  pod block 172.27.15.192/26 of k8c1s1: no route",
		"PROBLEM  Service/kubernetes-dashboard/kubernetes-dashboard 172.29.0.7 (Cluster): 172.29.0.7/32 has 2 of the 3 expected next hops",
		"cause: the session of node k8c1s1 (192.168.9.194) is Active",
		"PROBLEM  Service/multicast/mcast 172.29.0.6 (Local): 172.29.0.6/32 has 1 of the 2 expected next hops",
		"verify: 6 problems",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestCompareLocalThroughAggregate: without its /32, a Local service's
// address goes by the aggregate to a node without an endpoint.
func TestCompareLocalThroughAggregate(t *testing.T) {
	sw := healthy("leaf201")
	var routes []fabric.Route
	for _, r := range sw.Routes {
		if r.Prefix.String() != "172.29.0.6/32" {
			routes = append(routes, r)
		}
	}
	sw.Routes = routes
	fr := compare(t, fabric.Operational{Switches: []fabric.SwitchOperational{sw, healthy("leaf202")}})
	r := find(fr, "leaf201", "172.29.0.6")
	if r.OK || !strings.Contains(r.Problem, "routed through 172.29.0.0/16 to node k8c1m0 (192.168.9.193), nodes without an endpoint") || !strings.Contains(r.Cause, "172.29.0.6/32 of this Local service is not advertised") {
		t.Errorf("check: %+v", r)
	}
}

// TestCompareSessionUpPathUnused: sessions up, a next hop missing: the
// cause names the other suspects (the node, the filter, maximum-paths,
// multipath relax).
func TestCompareSessionUpPathUnused(t *testing.T) {
	sw := healthy("leaf201")
	for i, r := range sw.Routes {
		if r.Prefix.String() == "172.29.0.0/16" {
			sw.Routes[i].NextHops = r.NextHops[:1]
		}
	}
	fr := compare(t, fabric.Operational{Switches: []fabric.SwitchOperational{sw, healthy("leaf202")}})
	r := find(fr, "leaf201", "172.29.0.0/16")
	if r.OK || r.Width != 1 || !strings.Contains(r.Cause, "session Established, but the switch does not use a path from it") || !strings.Contains(r.Cause, "multipath relax") {
		t.Errorf("check: %+v", r)
	}
}

func TestCompareMissingAndUnreadable(t *testing.T) {
	sw := healthy("leaf201")
	sw.Sessions = sw.Sessions[1:] // no neighbor for k8c1m0
	fr := compare(t, fabric.Operational{Switches: []fabric.SwitchOperational{sw, {Switch: "leaf202", Error: "ssh: connection refused"}}})
	out := text(t, fr)
	for _, want := range []string{"PROBLEM  session k8c1m0 192.168.9.193 (AS 63551): the switch has no neighbor 192.168.9.193",
		"cause: the session is not configured: run plan", "PROBLEM  cannot read the switch: ssh: connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	cs, cfg := lab(t)
	fr = verify.Compare(verify.Expect(cs, cfg)[0], fabric.Operational{}, errors.New("APIC unreachable"))
	if fr.Problems != 1 || fr.Error != "APIC unreachable" {
		t.Errorf("unreadable fabric: %+v", fr)
	}
}

// notVerifier is a driver without drivers.Verifier.
type notVerifier struct{ drivers.Driver }

type fakeVerifier struct {
	drivers.Driver
	op fabric.Operational
}

func (f fakeVerifier) Operational(context.Context) (fabric.Operational, error) { return f.op, nil }

func TestRun(t *testing.T) {
	cs, cfg := lab(t)
	r := verify.Run(context.Background(), cs, cfg, map[string]drivers.Driver{"haystack-frr": notVerifier{}}, nil)
	if r.OK() || !strings.Contains(r.Fabrics[0].Error, "driver frr cannot read the operational state back") {
		t.Errorf("no Verifier: %+v", r)
	}
	op := fabric.Operational{Switches: []fabric.SwitchOperational{healthy("leaf201"), healthy("leaf202")}}
	r = verify.Run(context.Background(), cs, cfg, map[string]drivers.Driver{"haystack-frr": fakeVerifier{op: op}}, nil)
	if !r.OK() || r.FormatVersion != 1 {
		t.Errorf("healthy: %+v", r)
	}
	var b bytes.Buffer
	if err := verify.WriteJSON(&b, r); err != nil || !strings.Contains(b.String(), `"expectedWidth": 3`) {
		t.Errorf("json: %v\n%s", err, b.String())
	}
}
