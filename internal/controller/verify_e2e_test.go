package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
)

var (
	labNodes  = map[string]string{"k8c1m0": "192.168.9.193", "k8c1s1": "192.168.9.194", "k8c1s2": "192.168.9.195"}
	labASN    = map[string]string{"k8c1m0": "63551", "k8c1s1": "63552", "k8c1s2": "63553"}
	labBlocks = map[string]string{"k8c1m0": "172.27.114.0/26", "k8c1s1": "172.27.15.192/26", "k8c1s2": "172.27.111.192/26"}
)

// leafState is what the APIC reports of a reference-lab leaf, the nodes in
// down idle and their routes gone (see cmd/fabric-reconciler's
// verify_aci_test.go for the classes).
func leafState(node string, now time.Time, down ...string) []emulator.OperMO {
	const dom = "dom-TEN_K8_C1:VRF_K8_C1"
	bgp := "topology/pod-1/node-" + node + "/sys/bgp/inst/" + dom
	urib := "topology/pod-1/node-" + node + "/sys/uribv4/" + dom + "/db-rt"
	var mos []emulator.OperMO
	route := func(prefix string, nodes ...string) {
		rt := urib + "/rt-[" + prefix + "]"
		mos = append(mos, emulator.OperMO{Class: "uribv4Route", DN: rt, Attrs: map[string]string{"prefix": prefix}})
		for _, n := range nodes {
			mos = append(mos, emulator.OperMO{Class: "uribv4Nexthop", DN: rt + "/nh-[bgp-63500]-[" + labNodes[n] + "/32]-[unspecified]-[TEN_K8_C1:VRF_K8_C1]",
				Attrs: map[string]string{"addr": labNodes[n] + "/32", "routeType": "ebgp"}})
		}
	}
	var up, local []string
	for _, n := range []string{"k8c1m0", "k8c1s1", "k8c1s2"} {
		isDown := false
		for _, d := range down {
			isDown = isDown || d == n
		}
		peer := bgp + "/peer-[" + labNodes[n] + "/32]"
		st, accepted := "established", "3"
		if isDown {
			st, accepted = "idle", "0"
		}
		mos = append(mos,
			emulator.OperMO{Class: "bgpPeer", DN: peer, Attrs: map[string]string{"addr": labNodes[n] + "/32", "asn": labASN[n]}},
			emulator.OperMO{Class: "bgpPeerEntry", DN: peer + "/ent-[" + labNodes[n] + "]", Attrs: map[string]string{"addr": labNodes[n],
				"operSt": st, "holdIntvl": "180", "lastFlapTs": now.Add(-time.Hour).Format("2006-01-02T15:04:05.000-07:00")}},
			emulator.OperMO{Class: "bgpPeerAfEntry", DN: peer + "/ent-[" + labNodes[n] + "]/af-ipv4-ucast", Attrs: map[string]string{"acceptedPaths": accepted}})
		if isDown {
			continue
		}
		up = append(up, n)
		if n != "k8c1m0" {
			local = append(local, n)
		}
		route(labBlocks[n], n)
	}
	route("172.29.0.0/16", up...)
	route("172.29.0.6/32", local...)
	return mos
}

// TestPeriodicVerify: against a real apiserver, the leader's periodic
// verify exports each session's state and prefixes and each route's
// width as metrics, keeps a status ConfigMap per fabric with a line per
// node, and puts an Event on a Node whose session drops and comes back.
func TestPeriodicVerify(t *testing.T) {
	t.Parallel()
	fut := newACIFabric(t)
	sim := fut.(*aciFabricUT).srv
	cl := startCluster(t, kubeapi.Options{})
	now := time.Now()
	set := func(down ...string) {
		t.Helper()
		if err := sim.SetOperational(append(leafState("201", now, down...), leafState("202", now)...)); err != nil {
			t.Fatal(err)
		}
	}
	set()
	inst := startController(t, cl.srv.Config(), fut, "solo", fastElection, func(o *controller.Options) {
		o.VerifyInterval = 300 * time.Millisecond
		o.StatusNamespace = "default"
	})
	const sessionUp = `fabric_reconciler_bgp_session_up{fabric="haystack-aci",node="k8c1s1",peer="192.168.9.194",switch="leaf201"}`
	metric := func(line string) bool {
		_, body := inst.get(t, "/metrics")
		return strings.Contains(body, line)
	}
	status := func() map[string]string {
		cm, err := cl.client.CoreV1().ConfigMaps("default").Get(context.Background(), controller.StatusConfigMapName("haystack-aci"), metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return cm.Data
	}
	waitFor(t, 60*time.Second, "a green verify", func() bool {
		d := status()
		return metric(sessionUp+" 1") && d != nil && strings.HasPrefix(d["summary"], "OK: 6/6 sessions Established")
	})
	for _, want := range []string{
		`fabric_reconciler_bgp_session_prefixes_received{fabric="haystack-aci",node="k8c1s1",peer="192.168.9.194",switch="leaf201"} 3`,
		`fabric_reconciler_route_next_hops{fabric="haystack-aci",kind="service-range",switch="leaf201",target="172.29.0.0/16"} 3`,
		`fabric_reconciler_route_expected_next_hops{fabric="haystack-aci",kind="service",switch="leaf201",target="172.29.0.6"} 2`,
		`fabric_reconciler_verify_problems{fabric="haystack-aci"} 0`,
	} {
		if !metric(want) {
			_, body := inst.get(t, "/metrics")
			t.Errorf("metrics lack %s\n%s", want, grepLines(body, "fabric_reconciler_bgp|fabric_reconciler_route|verify"))
		}
	}
	d := status()
	if !strings.HasPrefix(d["node.k8c1s1"], "leaf201 established 1h0m0s, 3 prefixes; leaf202 established") || d["fabric"] != "haystack-aci" || d["report.json"] == "" {
		t.Errorf("status ConfigMap: %v", d)
	}

	// k8c1s1's session with leaf201 drops.
	set("k8c1s1")
	waitFor(t, 30*time.Second, "an Event on Node k8c1s1 for its dropped session", func() bool {
		return hasEvent(eventsFor(t, cl.client, "default", "Node", "k8c1s1"), controller.ReasonSessionDown, "BGP session with switch leaf201 (192.168.9.194): idle, expected Established")
	})
	waitFor(t, 30*time.Second, "the metrics and the status to show it", func() bool {
		d := status()
		return metric(sessionUp+" 0") && d != nil && strings.Contains(d["node.k8c1s1"], "leaf201 idle, expected Established") &&
			strings.HasPrefix(d["summary"], "5 problem(s)")
	})
	if hasEvent(eventsFor(t, cl.client, "default", "Node", "k8c1s2"), controller.ReasonSessionDown, "") {
		t.Error("a Node whose sessions stayed up got a FabricSessionDown Event")
	}

	set()
	waitFor(t, 30*time.Second, "an Event on Node k8c1s1 for its session back", func() bool {
		return hasEvent(eventsFor(t, cl.client, "default", "Node", "k8c1s1"), controller.ReasonSessionUp, "leaf201 (192.168.9.194) is Established again")
	})
	waitFor(t, 30*time.Second, "the metric back to 1", func() bool { return metric(sessionUp + " 1") })
}

func grepLines(s, pattern string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range strings.Split(pattern, "|") {
			if strings.Contains(l, p) && !strings.HasPrefix(l, "#") {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
