package nxos

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// TestAdopt: on an emulated leaf with hand-made neighbors at the haystack's
// addresses, only the one whose lines are exactly the driver's is adopted,
// by one description line committed under the run's checkpoint; the
// others (another remote AS, an update-source line) stay as they were and
// are conflicts saying why, naming the line's keyword, never its value. Afterwards the adopted neighbor is owned and in place, and Apply
// never adopts.
func TestAdopt(t *testing.T) {
	hand := append(append([]string(nil), leafStartup...),
		"router bgp 63500",
		"neighbor 192.168.9.193", "remote-as 63551", "description built by hand", "address-family ipv4 unicast", "exit", "exit",
		"neighbor 192.168.9.194", "remote-as 63599", "address-family ipv4 unicast", "exit", "exit",
		"neighbor 192.168.9.195", "remote-as 63553", "update-source loopback0", "address-family ipv4 unicast", "exit", "exit",
		"exit",
	)
	l := newLab(t, labOpts{startup: hand})
	d := l.driver(t, l.fabric(t, func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	var want fabric.State
	for _, p := range haystack().Peers {
		if p.Switch == "leaf201" {
			want.Peers = append(want.Peers, p)
		}
	}
	desired := fabric.Target{Name: "lab", State: want}
	before := l.body(t, "leaf201")

	lock(t, l.ctx, d)
	obs, err := d.ObserveForAdoption(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Adoption(desired, obs)
	if len(plan.Changes) != 1 || plan.Changes[0].Key().String() != "BGPPeer leaf201/192.168.9.193" {
		t.Fatalf("adoptions %+v", plan.Changes)
	}
	wantConflicts := map[string]string{
		"BGPPeer leaf201/192.168.9.194": "remoteASN 63599 on the fabric, 63552 desired",
		"BGPPeer leaf201/192.168.9.195": "lines the driver does not write: update-source",
	}
	if len(plan.Conflicts) != len(wantConflicts) {
		t.Errorf("conflicts %+v", plan.Conflicts)
	}
	for _, c := range plan.Conflicts {
		k := fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String()
		if w := wantConflicts[k]; w == "" || !strings.Contains(c.Reason, w) || strings.Contains(c.Reason, "loopback0") {
			t.Errorf("conflict %s: %s; want ...%s...", k, c.Reason, w)
		}
	}

	// Apply is given the adoption: it plans no line for it.
	if _, err := d.Apply(l.ctx, plan); err != nil {
		t.Logf("apply of an adoption: %v", err)
	}
	if now := l.body(t, "leaf201"); now != before {
		t.Fatalf("Apply adopted:\n%s", now)
	}
	if _, err := d.ObserveForAdoption(l.ctx); err != nil {
		t.Fatal(err)
	}
	res, err := d.Adopt(l.ctx, plan)
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("adopt: %v, %+v", err, res)
	}
	after := l.body(t, "leaf201")
	if !strings.Contains(after, "description orchestrator:fabric-reconciler.haystack node=k8c1m0") || strings.Contains(after, "built by hand") {
		t.Errorf("after adoption:\n%s", after)
	}
	for _, line := range []string{"remote-as 63599", "update-source loopback0", "remote-as 63553"} {
		if !strings.Contains(after, line) {
			t.Errorf("hand-made line %q is gone", line)
		}
	}

	obs, err = d.ObserveForAdoption(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := fabric.Diff(desired, obs)
	if len(p.Changes) != 0 || len(p.Conflicts) != 2 {
		t.Errorf("plan after adoption: changes %+v conflicts %+v", p.Changes, p.Conflicts)
	}
	if again := fabric.Adoption(desired, obs); len(again.Changes) != 0 {
		t.Errorf("adopting again: %+v", again.Changes)
	}
}
