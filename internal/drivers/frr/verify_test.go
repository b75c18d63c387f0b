package frr

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// The fixtures under testdata/verify were read from the lab's FRR 8.4.4
// leaf201 (test/lab): after a sync, with k8c1s1's BIRD stopped, and with
// k8c1s2's BIRD frozen until the leaf's hold timer ran out.
func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "verify", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sessionsByAddr(t *testing.T, text string) map[string]fabric.SessionState {
	t.Helper()
	ss, err := parseNeighborsJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fabric.SessionState{}
	for _, s := range ss {
		out[s.PeerAddress.String()] = s
	}
	return out
}

func TestParseNeighborsJSON(t *testing.T) {
	ss := sessionsByAddr(t, readFixture(t, "neighbors-synced.json"))
	if len(ss) != 4 {
		t.Fatalf("neighbors: %v", ss)
	}
	s1 := ss["192.168.9.194"]
	if !s1.Established || s1.State != "Established" || s1.RemoteASN != 63552 || s1.PrefixesReceived != 5 || s1.HoldTime != 9*time.Second || s1.Uptime <= 0 || s1.LastReset != "" {
		t.Errorf("k8c1s1: %+v", s1)
	}
	if b := ss["192.168.9.206"]; b.Established || b.State != "Active" {
		t.Errorf("hand-made border neighbor: %+v", b)
	}

	ss = sessionsByAddr(t, readFixture(t, "neighbors-k8c1s1-stopped.json"))
	if s := ss["192.168.9.194"]; s.Established || s.State != "Idle" || s.Uptime != 0 || !strings.Contains(s.LastReset, "BGP Notification received (Cease/Administrative Shutdown)") {
		t.Errorf("stopped k8c1s1: %+v", s)
	}
	ss = sessionsByAddr(t, readFixture(t, "neighbors-k8c1s2-paused.json"))
	if s := ss["192.168.9.195"]; s.Established || !strings.Contains(s.LastReset, "Hold Timer Expired") {
		t.Errorf("frozen k8c1s2: %+v", s)
	}
	if _, err := parseNeighborsJSON("% Unknown command"); err == nil {
		t.Error("an error reply parsed")
	}
}

func TestParseRoutesJSON(t *testing.T) {
	routes, err := parseRoutesJSON(readFixture(t, "routes-synced.json"))
	if err != nil {
		t.Fatal(err)
	}
	so := fabric.SwitchOperational{Routes: routes}
	(&fabric.Operational{Switches: []fabric.SwitchOperational{so}}).Sort()
	r, ok := so.Lookup(netip.MustParseAddr("172.29.0.6"))
	if !ok || r.Prefix.String() != "172.29.0.6/32" || len(r.NextHops) != 2 {
		t.Errorf("172.29.0.6: %+v", r)
	}
	r, _ = so.Lookup(netip.MustParseAddr("172.29.9.9"))
	if r.Prefix.String() != "172.29.0.0/16" || len(r.NextHops) != 3 {
		t.Errorf("172.29.9.9 (the range): %+v", r)
	}
	if r, ok := so.Route(netip.MustParsePrefix("172.27.15.192/26")); !ok || len(r.NextHops) != 1 || r.NextHops[0].String() != "192.168.9.194" {
		t.Errorf("k8c1s1's block: %+v", r)
	}
	routes, _ = parseRoutesJSON(readFixture(t, "routes-k8c1s1-stopped.json"))
	so = fabric.SwitchOperational{Routes: routes}
	if _, ok := so.Route(netip.MustParsePrefix("172.27.15.192/26")); ok {
		t.Error("the stopped node's block is still routed")
	}
	if r, _ := so.Route(netip.MustParsePrefix("172.29.0.7/32")); len(r.NextHops) != 2 {
		t.Errorf("172.29.0.7/32 with k8c1s1 stopped: %+v", r)
	}
	if got, err := parseRoutesJSON("{}"); err != nil || len(got) != 0 {
		t.Errorf("no route: %v %v", got, err)
	}
}
