package frr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clitest"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// TestAdopt: of four hand-made neighbors, only the one whose lines are
// exactly the driver's is adopted, by one description line; the others are
// conflicts saying why (another AS, a password line, a route-map under
// another name), the password never quoted. The prefix filter is not
// adoptable (its mark is its name). Afterwards the neighbor is owned and in
// place. Against a fake vtysh on 127.0.0.1.
func TestAdopt(t *testing.T) {
	const head = "!\nfrr version 8.4.4\nhostname leaf202\n!\nrouter bgp 63500\n bgp router-id 2.0.0.2\n"
	const hand = " neighbor 192.168.9.193 remote-as 63551\n" +
		" neighbor 192.168.9.194 remote-as 63599\n" +
		" neighbor 192.168.9.195 remote-as 63553\n neighbor 192.168.9.195 password s3cret-pw\n" +
		" neighbor 192.168.9.196 remote-as 63554\n neighbor 192.168.9.196 description made by hand\n" +
		" address-family ipv4 unicast\n  neighbor 192.168.9.196 route-map CALICO-IN in\n exit-address-family\n"
	const tail = "exit\n!\nend\n"
	const mark = "neighbor 192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0"
	fake := newFakeVtysh(t, "leaf202", head+hand+tail)
	d := clitest.Open(t, fake.fabric(t), "haystack", &testenv.LogBuffer{}).(*Driver)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	want := fabric.Target{Name: "fake", Driver: Name, State: fabric.StateOf(
		peer("192.168.9.193", "k8c1m0", 63551, 63500), peer("192.168.9.194", "k8c1s1", 63552, 63500),
		peer("192.168.9.195", "k8c1s2", 63553, 63500), peer("192.168.9.196", "k8c1s3", 63554, 63500),
		filter("192.168.9.193", "k8c1m0", rule("172.27.0.0/26", 26)))}
	obs, err := d.ObserveForAdoption(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Adoption(want, obs)
	if got := strings.Join(changeKeysOf(plan.Changes), ","); got != "adopt BGPPeer leaf202/192.168.9.193" {
		t.Fatalf("adoptions: %s", got)
	}
	wantConflicts := []struct{ key, has string }{
		{"BGPPeer leaf202/192.168.9.194", "remoteASN 63599 on the fabric, 63552 desired"},
		{"BGPPeer leaf202/192.168.9.195", "lines the driver does not write: neighbor 192.168.9.195 password"},
		{"BGPPeer leaf202/192.168.9.196", `inbound route-map "CALICO-IN" is not the cluster's filter`},
		{"PrefixFilter leaf202/192.168.9.193", "marked by their name"},
	}
	for _, w := range wantConflicts {
		found := false
		for _, c := range plan.Conflicts {
			if (fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}).String() == w.key {
				found = true
				if !strings.Contains(c.Reason, w.has) || strings.Contains(c.Reason, "s3cret") {
					t.Errorf("conflict %s: %s; want ...%s...", w.key, c.Reason, w.has)
				}
			}
		}
		if !found {
			t.Errorf("no conflict for %s: %+v", w.key, plan.Conflicts)
		}
	}

	res, err := d.Adopt(ctx, plan)
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("adopt: %v, %+v", err, res)
	}
	var neighborLines []string
	for _, l := range fake.accepted() {
		if strings.HasPrefix(l, "neighbor") || strings.HasPrefix(l, "no ") {
			neighborLines = append(neighborLines, l)
		}
	}
	if strings.Join(neighborLines, "\n") != mark {
		t.Errorf("lines sent: %q", fake.accepted())
	}

	// The switch now holds the description: the neighbor is owned and in
	// place, the others still conflicts, nothing left to adopt.
	fake.mu.Lock()
	fake.running = head + " neighbor 192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0\n" + hand + tail
	fake.mu.Unlock()
	obs, err = d.ObserveForAdoption(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := fabric.Diff(want, obs)
	for _, c := range p.Changes {
		if c.Kind == fabric.KindBGPPeer {
			t.Errorf("after adoption the plan changes %s %s", c.Action, c.Key())
		}
	}
	if again := fabric.Adoption(want, obs); len(again.Changes) != 0 {
		t.Errorf("adopting again: %v", changeKeysOf(again.Changes))
	}
}

func changeKeysOf(cs []fabric.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Action)+" "+c.Key().String())
	}
	return out
}
