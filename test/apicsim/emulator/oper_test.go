package emulator

import (
	"strings"
	"testing"
)

// TestOperational: operational objects a test sets are served read only
// to object queries under topology/ (subtree with class filters, children,
// self) and to class queries; other classes and DNs outside topology/ are
// refused.
func TestOperational(t *testing.T) {
	srv, hc := lab(t, Options{})
	cookie := login(t, hc, srv)
	dom := "topology/pod-1/node-201/sys/bgp/inst/dom-TEN_K8_C1:VRF_K8_C1"
	peer := dom + "/peer-[192.168.9.193/32]"
	mos := []OperMO{
		{Class: "bgpPeer", DN: peer, Attrs: map[string]string{"addr": "192.168.9.193/32", "asn": "63551"}},
		{Class: "bgpPeerEntry", DN: peer + "/ent-[192.168.9.193]", Attrs: map[string]string{"addr": "192.168.9.193", "operSt": "established"}},
		{Class: "bgpPeerAfEntry", DN: peer + "/ent-[192.168.9.193]/af-ipv4-ucast", Attrs: map[string]string{"type": "ipv4-ucast", "acceptedPaths": "3"}},
		{Class: "bgpPeerEntry", DN: "topology/pod-1/node-202/sys/bgp/inst/dom-TEN_K8_C1:VRF_K8_C1/peer-[192.168.9.193/32]/ent-[192.168.9.193]",
			Attrs: map[string]string{"addr": "192.168.9.193", "operSt": "idle"}},
	}
	if err := srv.SetOperational(mos); err != nil {
		t.Fatal(err)
	}
	count := func(path string) (int, string) {
		a := do(t, hc, srv, "GET", path, "", cookie)
		if a.status != 200 {
			t.Fatalf("%s: %d %s", path, a.status, a.body)
		}
		im, _ := a.json(t)["imdata"].([]any)
		return len(im), string(a.body)
	}
	if n, body := count("/api/node/mo/" + dom + ".json?query-target=subtree&target-subtree-class=bgpPeerEntry,bgpPeerAfEntry"); n != 2 ||
		!strings.Contains(body, `"operSt":"established"`) || !strings.Contains(body, `"acceptedPaths":"3"`) || strings.Contains(body, "node-202") {
		t.Errorf("subtree: %d %s", n, body)
	}
	if n, _ := count("/api/node/mo/" + peer + ".json?query-target=children"); n != 1 {
		t.Errorf("children: %d", n)
	}
	if n, body := count("/api/node/class/bgpPeerEntry.json?query-target-filter=eq(bgpPeerEntry.operSt,\"idle\")"); n != 1 || !strings.Contains(body, "node-202") {
		t.Errorf("class query with a filter: %d %s", n, body)
	}
	if n, _ := count("/api/node/class/topology/pod-1/node-201/bgpPeerEntry.json"); n != 1 {
		t.Errorf("scoped class query: %d", n)
	}
	if n, _ := count("/api/node/mo/topology/pod-1/node-203/sys/uribv4/dom-TEN_K8_C1:VRF_K8_C1.json?query-target=subtree&target-subtree-class=uribv4Route,uribv4Nexthop"); n != 0 {
		t.Errorf("an unknown leaf has %d routes", n)
	}
	// Read only: a POST under topology/ is refused.
	if a := do(t, hc, srv, "POST", "/api/node/mo/"+peer+".json", `{"bgpPeer":{"attributes":{"asn":"1"}}}`, cookie); a.status == 200 {
		t.Errorf("POST under topology/ answered %d", a.status)
	}
	if err := srv.SetOperational([]OperMO{{Class: "fvTenant", DN: "topology/x"}}); err == nil {
		t.Error("a configuration class was accepted as operational")
	}
	if err := srv.SetOperational([]OperMO{{Class: "bgpPeerEntry", DN: "uni/tn-x"}}); err == nil {
		t.Error("an operational object outside topology/ was accepted")
	}
}
