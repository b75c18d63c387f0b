package nxos

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

func keysOf(cs []fabric.Conflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String())
	}
	slices.Sort(out)
	return out
}

func foreignKeys(fs []fabric.Foreign) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fabric.Key{Kind: f.Kind, Switch: f.Switch, ID: f.ID}.String()+" owner="+f.Owner)
	}
	slices.Sort(out)
	return out
}

// TestForeignObjectsUntouched: hand-made neighbors, prefix-lists and
// maximum-paths, and another cluster's neighbor, are observed as foreign
// where the cluster would write, become conflicts, and are never changed;
// the rest of the plan applies.
func TestForeignObjectsUntouched(t *testing.T) {
	hand := append(append([]string(nil), leafStartup...),
		"router bgp 63500",
		// at a desired address, without a mark
		"neighbor 192.168.9.194", "remote-as 65194", "description set by hand", "exit",
		// another cluster's
		"neighbor 192.168.9.195", "remote-as 63553", "description orchestrator:fabric-reconciler.other node=k8c1s2", "exit",
		"address-family ipv4 unicast", "maximum-paths 2", "exit", "exit",
		// a prefix-list of the same shape, not named for this cluster
		"ip prefix-list FR-other-IN-192.168.9.193 seq 5 permit 10.0.0.0/8",
	)
	l := newLab(t, labOpts{startup: hand})
	d := l.driver(t, l.fabric(t, func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	var want fabric.State
	for _, p := range haystack().Peers {
		if p.Switch == "leaf201" {
			want.Peers = append(want.Peers, p)
		}
	}
	for _, f := range haystack().PrefixFilters {
		if f.Switch == "leaf201" {
			want.PrefixFilters = append(want.PrefixFilters, f)
		}
	}
	want.MaximumPaths = []fabric.MaximumPaths{{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 3}}
	before := l.body(t, "leaf201")

	lock(t, l.ctx, d)
	obs, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantForeign := []string{
		"BGPPeer leaf201/192.168.9.194 owner=", "BGPPeer leaf201/192.168.9.195 owner=orchestrator:fabric-reconciler.other",
		"BGPPeer leaf201/192.168.9.250 owner=", "MaximumPaths leaf201/ipv4 owner=",
		"PrefixFilter leaf201/192.168.9.194 owner=", "PrefixFilter leaf201/192.168.9.195 owner=orchestrator:fabric-reconciler.other",
		"PrefixFilter leaf201/192.168.9.250 owner=",
	}
	if got := foreignKeys(obs.Foreign); !slices.Equal(got, wantForeign) {
		t.Fatalf("foreign:\n%q\nwant\n%q", got, wantForeign)
	}
	if obs.Owned.Len() != 0 {
		t.Fatalf("owned %+v", obs.Owned)
	}
	plan := fabric.Diff(fabric.Target{Name: "lab", State: want}, obs)
	wantConflicts := []string{"BGPPeer leaf201/192.168.9.194", "BGPPeer leaf201/192.168.9.195", "MaximumPaths leaf201/ipv4",
		"PrefixFilter leaf201/192.168.9.194", "PrefixFilter leaf201/192.168.9.195"}
	if got := keysOf(plan.Conflicts); !slices.Equal(got, wantConflicts) {
		t.Fatalf("conflicts %q", got)
	}
	res, err := d.Apply(l.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 2 {
		t.Fatalf("applied %d, want the filter and neighbor of .193", len(res.Applied))
	}
	after := l.body(t, "leaf201")
	for _, line := range strings.Split(before, "\n") {
		if !strings.Contains(after, line) {
			t.Errorf("hand-made line %q is gone", line)
		}
	}
	for _, bad := range []string{"FR-haystack-IN-192.168.9.194", "FR-haystack-IN-192.168.9.195", "maximum-paths 3", "MAXPATHS"} {
		if strings.Contains(after, bad) {
			t.Errorf("the switch got %q:\n%s", bad, after)
		}
	}
	if !strings.Contains(after, "neighbor 192.168.9.193\n    remote-as 63551") {
		t.Errorf("the rest of the plan did not apply:\n%s", after)
	}

	// Hand-made between Observe and Apply: found at apply time, reported,
	// left alone.
	want.Peers = append(want.Peers, fabric.BGPPeer{Switch: "leaf201", Node: "k8c1s3", PeerAddress: "192.168.9.196", RemoteASN: 63554, LocalASN: 63500, AddressFamily: fabric.IPv4})
	obs, err = d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan = fabric.Diff(fabric.Target{Name: "lab", State: want}, obs)
	if err := l.sims["leaf201"].Configure("router bgp 63500", "neighbor 192.168.9.196", "remote-as 65196"); err != nil {
		t.Fatal(err)
	}
	res, err = d.Apply(l.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(res.Conflicts); !slices.Equal(got, []string{"BGPPeer leaf201/192.168.9.196"}) ||
		!strings.Contains(res.Conflicts[0].Reason, "neighbor 192.168.9.196 is configured without this cluster's mark") {
		t.Fatalf("conflicts %+v", res.Conflicts)
	}
	if !strings.Contains(l.body(t, "leaf201"), "neighbor 192.168.9.196\n    remote-as 65196\n  neighbor") {
		t.Errorf("the hand-made neighbor changed:\n%s", l.body(t, "leaf201"))
	}
}

// TestBadValuesRefused: values that fail the grammar (a node name crafted
// to inject a line, a prefix with ';', a description over NX-OS's limit)
// fail their own changes, and a neighbor whose filter failed is not
// created; the rest applies, and nothing crafted reaches the switch.
func TestBadValuesRefused(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	evil := "k8c1x7\nrouter bgp 1"
	long := strings.Repeat("n", 40)
	peer := func(node, addr string) fabric.BGPPeer {
		return fabric.BGPPeer{Switch: "leaf201", Node: node, PeerAddress: addr, RemoteASN: 63557, LocalASN: 63500, AddressFamily: fabric.IPv4}
	}
	filter := func(node, addr, prefix string) fabric.PrefixFilter {
		return fabric.PrefixFilter{Switch: "leaf201", Node: node, PeerAddress: addr, Prefixes: []fabric.PrefixRule{{Prefix: prefix, LE: 26}}}
	}
	want := fabric.State{
		Peers: []fabric.BGPPeer{peer(evil, "192.168.9.197"), peer("k8c1s8", "192.168.9.198"), peer(long, "192.168.9.199"), peer("k8c1s9", "192.168.9.200")},
		PrefixFilters: []fabric.PrefixFilter{filter(evil, "192.168.9.197", "172.27.97.0/26"), filter("k8c1s8", "192.168.9.198", "172.27.98.0/26;"),
			filter(long, "192.168.9.199", "172.27.99.0/26"), filter("k8c1s9", "192.168.9.200", "172.27.100.0/26")},
	}
	_, res, err := reconcile(t, l.ctx, d, want)
	if err == nil {
		t.Fatal("apply reported no error")
	}
	for _, w := range []string{
		`refused create PrefixFilter leaf201/192.168.9.197: node name "k8c1x7\nrouter bgp 1": contains a line break`,
		`refused create BGPPeer leaf201/192.168.9.197: node name "k8c1x7\nrouter bgp 1": contains a line break`,
		`refused create PrefixFilter leaf201/192.168.9.198: filter prefix "172.27.98.0/26;": contains ';'`,
		`refused create BGPPeer leaf201/192.168.9.198: not created: its prefix filter was refused`,
		`refused create PrefixFilter leaf201/192.168.9.199: node name "` + long + `": the description`,
		`refused create BGPPeer leaf201/192.168.9.199: not created: its prefix filter was refused`,
		"NX-OS takes 80 (node names of at most 35 characters fit)",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if len(res.Applied) != 2 {
		t.Errorf("applied %d changes, want the 2 of k8c1s9", len(res.Applied))
	}
	all := strings.Join(res.Messages, "\n") + err.Error()
	if strings.Contains(all, "\nrouter bgp 1") {
		t.Error("the raw newline reached the error or the messages")
	}
	body := l.body(t, "leaf201")
	for _, bad := range []string{"192.168.9.197", "192.168.9.198", "192.168.9.199", "router bgp 1\n"} {
		if strings.Contains(body, bad) {
			t.Errorf("leaf201 holds %q:\n%s", bad, body)
		}
	}
	if !strings.Contains(body, "neighbor 192.168.9.200") {
		t.Errorf("the valid peer was not applied:\n%s", body)
	}
	for _, e := range l.sims["leaf201"].Log() {
		if strings.Contains(e.Line, "k8c1x7") || strings.Contains(e.Line, ";") {
			t.Errorf("the switch was sent %q", e.Line)
		}
	}
}

// TestIncompleteRepaired: an owned filter unbound by hand, and an owned
// prefix-list entry changed by hand, are observed as incomplete; one apply
// puts exactly them back.
func TestIncompleteRepaired(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	want := haystack()
	if _, _, err := reconcile(t, l.ctx, d, want); err != nil {
		t.Fatal(err)
	}
	sim := l.sims["leaf202"]
	if err := sim.Configure("router bgp 63500", "neighbor 192.168.9.193", "address-family ipv4 unicast",
		"no route-map FR-haystack-IN-192.168.9.193 in", "end"); err != nil {
		t.Fatal(err)
	}
	if err := sim.Configure("ip prefix-list FR-haystack-IN-192.168.9.194 seq 10 permit 172.29.0.0/16 le 24"); err != nil {
		t.Fatal(err)
	}
	lock(t, l.ctx, d)
	run := d.currentLock().run
	obs, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: want}, obs)
	var got []string
	for _, c := range plan.Changes {
		got = append(got, string(c.Action)+" "+c.Key().String())
	}
	wantPlan := []string{"update PrefixFilter leaf202/192.168.9.193", "update PrefixFilter leaf202/192.168.9.194", "update BGPPeer leaf202/192.168.9.193"}
	if strings.Join(got, ",") != strings.Join(wantPlan, ",") {
		t.Fatalf("plan %v", got)
	}
	native, err := d.Render(plan)
	if err != nil {
		t.Fatal(err)
	}
	wantNative := "! switch leaf202 (" + sim.Addr() + "): 3 change(s), 9 line(s), against the configuration read at the last observation, commit mode checkpoint\n" +
		"! under the fabric's writer lock, checkpoint " + d.currentLock().name + ", taken before observing\n" +
		"checkpoint " + run + " description orchestrator:fabric-reconciler.haystack\n" +
		"configure terminal\n" +
		"router bgp 63500\n  neighbor 192.168.9.193\n    address-family ipv4 unicast\n      route-map FR-haystack-IN-192.168.9.193 in\n" +
		"    exit\n  exit\nexit\n" +
		"ip prefix-list FR-haystack-IN-192.168.9.194 seq 15 permit 172.29.0.0/16 le 32\n" +
		"no ip prefix-list FR-haystack-IN-192.168.9.194 seq 10 permit 172.29.0.0/16 le 24\n" +
		"end\nno checkpoint " + run + "\n" +
		"! on a refused line instead: end; rollback running-config checkpoint " + run + "; no checkpoint " + run + "\n"
	if native != wantNative {
		t.Fatalf("Render after Observe:\n%s\nwant:\n%s", native, wantNative)
	}
	sim.ResetLog()
	if _, err := d.Apply(l.ctx, plan); err != nil {
		t.Fatal(err)
	}
	var typed []string
	for _, e := range sim.Log() {
		if e.Mode != "" {
			typed = append(typed, strings.TrimSpace(e.Line))
		}
	}
	wantTyped := []string{"router bgp 63500", "neighbor 192.168.9.193", "address-family ipv4 unicast",
		"route-map FR-haystack-IN-192.168.9.193 in", "exit", "exit", "exit",
		"ip prefix-list FR-haystack-IN-192.168.9.194 seq 15 permit 172.29.0.0/16 le 32",
		"no ip prefix-list FR-haystack-IN-192.168.9.194 seq 10 permit 172.29.0.0/16 le 24", "end"}
	if !slices.Equal(typed, wantTyped) {
		t.Fatalf("typed in configuration mode:\n%q\nwant\n%q", typed, wantTyped)
	}
	assertConverged(t, l.ctx, d, want)
	// Restored to what leaf201 holds, but for the new entry's sequence number.
	a := l.body(t, "leaf201")
	b := strings.Replace(l.body(t, "leaf202"), "194 seq 15 permit", "194 seq 10 permit", 1)
	if a != b {
		t.Errorf("leaf202 was not restored to what leaf201 holds:\n%s\n---\n%s", b, a)
	}
}

// TestShrinkAndDelete: peers and filters the cluster no longer wants are
// deleted, maximum-paths and its markers go when unmanaged, and the
// hand-made configuration stays; then the leaf is back to what it held
// before the cluster came.
func TestShrinkAndDelete(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	before := map[string]string{}
	for _, leaf := range leafNames {
		before[leaf] = l.body(t, leaf)
	}
	if _, _, err := reconcile(t, l.ctx, d, haystack()); err != nil {
		t.Fatal(err)
	}
	// One node leaves.
	want := haystack()
	want.Peers = slices.DeleteFunc(want.Peers, func(p fabric.BGPPeer) bool { return p.PeerAddress == "192.168.9.195" })
	want.PrefixFilters = slices.DeleteFunc(want.PrefixFilters, func(f fabric.PrefixFilter) bool { return f.PeerAddress == "192.168.9.195" })
	for i := range want.MaximumPaths {
		want.MaximumPaths[i].Paths = 2
	}
	plan, _, err := reconcile(t, l.ctx, d, want)
	if err != nil {
		t.Fatal(err)
	}
	if s := plan.Summary(); s != (fabric.Summary{Update: 2, Delete: 4}) {
		t.Fatalf("plan %+v", s)
	}
	assertConverged(t, l.ctx, d, want)
	body := l.body(t, "leaf201")
	if strings.Contains(body, "192.168.9.195") || !strings.Contains(body, "maximum-paths 2") {
		t.Fatalf("after the node left:\n%s", body)
	}
	// The cluster leaves the fabric. The no-forms name what they remove,
	// as Cisco documents them (docs/nxos.md).
	l.sims["leaf201"].ResetLog()
	if _, _, err := reconcile(t, l.ctx, d, fabric.State{}); err != nil {
		t.Fatal(err)
	}
	typed := strings.Join(configLines(l.sims["leaf201"]), "\n")
	for _, w := range []string{"no maximum-paths 2", "no maximum-paths ibgp 2"} {
		if !strings.Contains(typed, w) {
			t.Errorf("deleting maximum-paths did not type %q:\n%s", w, typed)
		}
	}
	// The router's address-family block maximum-paths needed stays, empty:
	// nothing records whether it existed before, and an empty one does
	// nothing.
	for _, leaf := range leafNames {
		wantBody := strings.Replace(before[leaf], "  log-neighbor-changes\n", "  log-neighbor-changes\n  address-family ipv4 unicast\n", 1)
		if got := l.body(t, leaf); got != wantBody {
			t.Errorf("%s after everything was deleted:\n%s\nwant what it held before:\n%s", leaf, got, wantBody)
		}
	}
}

// TestVRFContext: with nxos.vrf the neighbors go into the VRF context, the
// object names carry the VRF, and the default VRF is not touched; a missing
// VRF context is the network team's to create.
func TestVRFContext(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).VRF = "blue"; f.Switches = f.Switches[:1] }))
	want := fabric.State{
		Peers: []fabric.BGPPeer{{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "10.20.0.5", RemoteASN: 63551, LocalASN: 63501, AddressFamily: fabric.IPv4},
			{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "2001:db8:20::5", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv6}},
		PrefixFilters: []fabric.PrefixFilter{{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "10.20.0.5", Prefixes: []fabric.PrefixRule{{Prefix: "172.27.114.0/26", LE: 26}}},
			{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "2001:db8:20::5", Prefixes: []fabric.PrefixRule{}}},
		MaximumPaths: []fabric.MaximumPaths{{Switch: "leaf201", AddressFamily: fabric.IPv6, Paths: 2}},
	}
	if _, _, err := reconcile(t, l.ctx, d, want); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, l.ctx, d, want)
	testenv.Golden(t, "vrf-blue-leaf201.running.txt", l.body(t, "leaf201"))

	red := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).VRF = "red" }))
	if _, err := red.Observe(l.ctx); err == nil || !strings.Contains(err.Error(),
		`switch leaf201: router bgp 63500 has no "vrf red" context: configure it first`) {
		t.Fatalf("observe with a missing VRF: %v", err)
	}
}

// TestInstanceErrors: no BGP, or BGP in another AS, is the network team's
// to fix; the driver says so and changes nothing.
func TestInstanceErrors(t *testing.T) {
	cases := []struct {
		name    string
		startup []string
		want    string
	}{
		{"no feature bgp", []string{"hostname x"}, `switch leaf201: BGP is not configured: configure "feature bgp" and "router bgp 63500" first`},
		{"no router bgp", []string{"feature bgp"}, `switch leaf201: BGP is not configured`},
		{"another AS", []string{"feature bgp", "router bgp 65000"}, "switch leaf201: the BGP instance is AS 65000, but the configuration says AS 63500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{startup: tc.startup})
			d := l.driver(t, l.fabric(t, nil))
			lock(t, l.ctx, d)
			if _, err := d.Observe(l.ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("observe: %v, want %q", err, tc.want)
			}
			before := l.body(t, "leaf201")
			// A plan from elsewhere: leaf201 was not observed, and is refused.
			_, err := d.Apply(l.ctx, fabric.Diff(fabric.Target{Name: "lab", State: haystack()}, fabric.Observed{}))
			if !errors.Is(err, ErrNoLock) || !strings.Contains(err.Error(), "switch leaf201: not applied") {
				t.Fatalf("apply: %v", err)
			}
			if st := l.sims["leaf201"].Stats(); l.body(t, "leaf201") != before || st.ConfigLines != 0 || st.Checkpoints != 1 {
				t.Fatalf("the switch changed: %+v", st)
			}
		})
	}
}
