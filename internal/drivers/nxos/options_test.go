package nxos

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// A session password of the tests; not a real secret, still never to be
// seen outside what a leaf receives.
const bgpPW = "nx-md5-Kiwi-77"

func pwSecret(pw, addr string) *fabric.Secret {
	return fabric.NewSecret(pw, fabric.PasswordSalt("haystack", addr))
}

// withOptions is the haystack state with every option NX-OS manages on
// each peer.
func withOptions(pw string) fabric.State {
	s := haystack()
	for i := range s.Peers {
		p := &s.Peers[i]
		p.PeerOptions = fabric.PeerOptions{Password: pwSecret(pw, p.PeerAddress),
			MaxPrefix: &fabric.MaxPrefix{Limit: 12, Action: fabric.MaxPrefixRestart, RestartMinutes: 5},
			Keepalive: 3, Hold: 9, TTLSecurityHops: 1, Shutdown: p.Node == "k8c1s2"}
	}
	return s
}

// Lines recorded on real NX-OS switches, each with its source (public
// repositories, as data): a password is printed as "password 3" and its
// encrypted form, whatever type it was typed in.
const recordedNeighbors = `version 9.3(8) Bios:version  
feature bgp

router bgp 63500
  neighbor 10.2.0.0/22 remote-as route-map R_AS
    password 3 9125d59c18a9b015
    timers 3 9
    maximum-peers 10
    address-family ipv4 unicast
  neighbor 10.30.4.0/24 remote-as route-map AS_FILTER
    description LEAF
    password 3 5c0c2e6087f1e976cc0f58d4a90b33e6
    timers 1 3
    address-family ipv4 unicast
  neighbor 10.101.109.2
    remote-as 65001
    description Peer-to-Leaf-1
    password 3 a01efc0492d53b40c0b3aa9b18731403
    timers 3 9
    address-family ipv4 unicast
      default-originate
  neighbor 10.16.2.2
    local-as 222
    description ja
    address-family ipv4 unicast
      send-community
      maximum-prefix 2
`

// TestParseRecordedOptions reads the option lines of public recordings:
// prefix neighbors (spine1 of a Nexus 9000v EVPN lab, "neighbor 10.2.0.0/22
// remote-as route-map R_AS ... maximum-peers 10"; an NX-OS 9.3(8) spine,
// "neighbor 10.30.4.0/24 remote-as route-map AS_FILTER"), a neighbor with
// password and timers (a Nexus lab's spine), and a neighbor address
// family's maximum-prefix (genieparser's NX-OS ShowRunningConfigBgp
// golden_output_1, NX-OS 7.0(3)I7(1)).
func TestParseRecordedOptions(t *testing.T) {
	cfg, err := parseConfig(recordedNeighbors)
	if err != nil {
		t.Fatal(err)
	}
	v := cfg.vrf("default")
	for _, id := range []string{"10.2.0.0/22", "10.30.4.0/24"} {
		n := v.Neighbors[id]
		if n == nil || !n.Range.IsValid() || n.Addr.IsValid() || !n.Password.Set || n.Options.Hold == 0 {
			t.Errorf("prefix neighbor %s: %+v", id, n)
		}
	}
	if n := v.Neighbors["10.101.109.2"]; !n.Password.Set || n.Password.Fingerprint != "" || n.Options.Keepalive != 3 || n.Options.Hold != 9 {
		t.Errorf("10.101.109.2: %+v", n)
	}
	if m := v.Neighbors["10.16.2.2"].AFs["ipv4 unicast"].MaxPrefix; m == nil || m.line() != "2" {
		t.Errorf("maximum-prefix %+v", m)
	}
	if r := v.rangeCovering(mustAddr("10.2.3.4")); r == nil || r.ID != "10.2.0.0/22" {
		t.Errorf("10.2.3.4 is covered by %+v", r)
	}
	if r := v.rangeCovering(mustAddr("10.2.4.1")); r != nil {
		t.Errorf("10.2.4.1 is covered by %+v", r)
	}
}

// A prefix neighbor is foreign at every address of its range: a peer the
// cluster wants there is a conflict in the plan, and at apply nothing is
// typed for it.
func TestPrefixNeighborIsForeign(t *testing.T) {
	d := offlineDriver(t, nil)
	sw, _ := d.switches.ByName("leaf201")
	cfg, err := parseConfig(recordedNeighbors)
	if err != nil {
		t.Fatal(err)
	}
	_, foreign, err := d.observeSwitch(sw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := fabric.BGPPeer{Switch: "leaf201", Node: "k8dyn", PeerAddress: "10.30.4.9", RemoteASN: 65001, LocalASN: 63500, AddressFamily: fabric.IPv4}
	plan := fabric.Diff(fabric.Target{State: fabric.StateOf(want)}, fabric.Observed{Foreign: foreign})
	if len(plan.Changes) != 0 || len(plan.Conflicts) != 1 || !strings.Contains(plan.Conflicts[0].Reason, "10.30.4.0/24") {
		t.Fatalf("plan %+v (foreign %+v)", plan, foreign)
	}
	s, err := d.script(sw, cfg, []fabric.Change{{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: want.PeerAddress, After: want}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Lines()) != 0 || len(s.Conflicts()) != 1 || !strings.Contains(s.Conflicts()[0].Reason, "10.30.4.9 (in prefix neighbor 10.30.4.0/24)") {
		t.Fatalf("lines %q conflicts %+v", s.Text(), s.Conflicts())
	}
}

// TestOptionsOnEmulatedLeaves applies every option to two emulated leaves,
// reads them back exactly as desired (a second plan is empty and sends
// nothing), changes the password (only the password line and the
// description that records it are sent), and removes every option; the
// password reaches the leaves, and nothing else: not the driver's log, its
// errors, its messages, nor plan -o native.
func TestOptionsOnEmulatedLeaves(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	check := func(text string) {
		t.Helper()
		l.checkNoSecret(t, text)
		for _, pw := range []string{bgpPW, bgpPW + "-2"} {
			if strings.Contains(text, pw) || strings.Contains(l.log.String(), pw) {
				t.Fatalf("a BGP password appears in an output or the driver's log")
			}
		}
	}

	want := withOptions(bgpPW)
	plan, res, err := reconcile(t, l.ctx, d, want)
	if err != nil {
		t.Fatalf("apply: %v\n%v", err, res.Messages)
	}
	check(js(plan) + js(res))
	assertConverged(t, l.ctx, d, want)
	body := l.body(t, "leaf201")
	for _, line := range []string{
		"  neighbor 192.168.9.193\n    remote-as 63551\n    description orchestrator:fabric-reconciler.haystack node=k8c1m0 pw=",
		"    password 3 ",
		"    timers 3 9\n    ttl-security hops 1\n",
		"      route-map FR-haystack-IN-192.168.9.193 in\n      maximum-prefix 12 restart 5\n",
		"  neighbor 192.168.9.195\n", "    ttl-security hops 1\n    shutdown\n",
	} {
		if !strings.Contains(body, line) {
			t.Errorf("leaf201 lacks %q:\n%s", line, body)
		}
	}
	if strings.Contains(body, bgpPW) {
		t.Error("the running configuration prints the password in clear")
	}
	received := strings.Join(configLines(l.sims["leaf201"]), "\n")
	if !strings.Contains(received, "password 0 "+bgpPW) {
		t.Errorf("leaf201 did not receive the password:\n%s", received)
	}

	// Converged: nothing is sent, the password least of all.
	for _, s := range l.sims {
		s.ResetLog()
	}
	if plan, _, err := reconcile(t, l.ctx, d, want); err != nil || len(plan.Changes) != 0 {
		t.Fatalf("second plan %+v, %v", plan.Changes, err)
	}
	if got := configLines(l.sims["leaf201"]); len(got) != 0 {
		t.Fatalf("a converged fabric received %q", got)
	}

	// A new password: the password line, then the description that
	// records its fingerprint; nothing else.
	changed := withOptions(bgpPW + "-2")
	obs, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	native, err := d.Render(fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: changed}, obs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(native, "    password 0 "+cli.Sensitive+"\n") {
		t.Errorf("plan -o native:\n%s", native)
	}
	check(native)
	if _, res, err := reconcile(t, l.ctx, d, changed); err != nil {
		t.Fatalf("apply: %v\n%v", err, res.Messages)
	}
	var typed []string
	for _, line := range configLines(l.sims["leaf202"]) {
		if !strings.HasPrefix(line, "checkpoint") && !strings.HasPrefix(line, "no checkpoint") && line != "configure terminal" && line != "end" {
			typed = append(typed, strings.TrimSpace(line))
		}
	}
	if len(typed) != 3*4 || typed[2] != "password 0 "+bgpPW+"-2" || !strings.HasPrefix(typed[3], "description orchestrator:fabric-reconciler.haystack node=") {
		t.Errorf("a password change typed %q", typed)
	}
	assertConverged(t, l.ctx, d, changed)

	// The cluster drops every option: each is removed, and the node in
	// maintenance released last.
	plain := haystack()
	if _, res, err := reconcile(t, l.ctx, d, plain); err != nil {
		t.Fatalf("apply: %v\n%v", err, res.Messages)
	}
	assertConverged(t, l.ctx, d, plain)
	body = l.body(t, "leaf202")
	for _, gone := range []string{"password", "timers", "ttl-security", "shutdown", "maximum-prefix", " pw="} {
		if strings.Contains(body, gone) {
			t.Errorf("leaf202 still holds %q:\n%s", gone, body)
		}
	}
	check(l.log.String())
}

// An option changed by hand on an owned neighbor is observed as it is, so
// the plan puts it back; a password set by hand (its fingerprint unknown)
// is set again.
func TestOptionsChangedByHand(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	want := withOptions(bgpPW)
	if _, res, err := reconcile(t, l.ctx, d, want); err != nil {
		t.Fatalf("apply: %v\n%v", err, res.Messages)
	}
	if err := l.sims["leaf201"].Configure("router bgp 63500", "neighbor 192.168.9.193", "timers 10 30", "no ttl-security hops 1",
		"description orchestrator:fabric-reconciler.haystack node=k8c1m0", "address-family ipv4 unicast", "maximum-prefix 12 90 restart 5"); err != nil {
		t.Fatal(err)
	}
	obs, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got fabric.BGPPeer
	for _, p := range obs.Owned.Peers {
		if p.Switch == "leaf201" && p.PeerAddress == "192.168.9.193" {
			got = p
		}
	}
	if got.Keepalive != 10 || got.Hold != 30 || got.TTLSecurityHops != 0 || got.Password == nil || got.Password.Fingerprint() != "" ||
		got.Node != cli.Incomplete("maximum-prefix 12 90 restart 5 is not what this cluster writes") {
		t.Fatalf("observed %s", js(got))
	}
	l.sims["leaf201"].ResetLog()
	if _, res, err := reconcile(t, l.ctx, d, want); err != nil {
		t.Fatalf("apply: %v\n%v", err, res.Messages)
	}
	assertConverged(t, l.ctx, d, want)
	typed := strings.Join(configLines(l.sims["leaf201"]), "\n")
	for _, line := range []string{"password 0 " + bgpPW, "timers 3 9", "ttl-security hops 1", "maximum-prefix 12 restart 5"} {
		if !strings.Contains(typed, line) {
			t.Errorf("the repair lacks %q:\n%s", line, typed)
		}
	}
}

// Desire: NX-OS manages every option but graceful restart (per instance
// or VRF only), and refuses values outside its ranges.
func TestDesireOptionRanges(t *testing.T) {
	s := fabric.Session{Switch: "leaf201", Node: "k8c1m0", NodeAddress: mustPrefix("192.168.9.193/28"), RemoteASN: 63551, LocalASN: 63500,
		AddressFamily: fabric.IPv4, Options: fabric.PeerOptions{Password: pwSecret(bgpPW, "192.168.9.193"), GracefulRestart: 90,
			MaxPrefix: &fabric.MaxPrefix{Limit: 300000, Action: fabric.MaxPrefixShutdown}}}
	big := s
	big.Node, big.NodeAddress = "k8c1s1", mustPrefix("192.168.9.194/28")
	big.Options.MaxPrefix = &fabric.MaxPrefix{Limit: 300001, Action: fabric.MaxPrefixShutdown}
	slow := s
	slow.Node, slow.NodeAddress = "k8c1s2", mustPrefix("192.168.9.195/28")
	slow.Options.Hold = 7200
	r := Desire(offlineDriver(t, nil).fabric, fabric.Intent{Fabric: "f", Cluster: "haystack", Sessions: []fabric.Session{s, big, slow}})
	if len(r.State.Peers) != 1 || r.State.Peers[0].GracefulRestart != 0 || r.State.Peers[0].Password == nil {
		t.Fatalf("peers %s", js(r.State.Peers))
	}
	if len(r.Skipped) != 2 || !strings.Contains(r.Skipped[0].Reason, "maximum-prefix 1-300000") || !strings.Contains(r.Skipped[1].Reason, "0-3600") {
		t.Errorf("skipped %+v", r.Skipped)
	}
	if len(r.Warnings) == 0 || !strings.Contains(strings.Join(r.Warnings, "\n"), "does not manage the peers' gracefulRestart") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// maskPassword hides a password line in what recovery reports.
func TestMaskPassword(t *testing.T) {
	for in, want := range map[string]string{
		"router bgp 63500 > neighbor 10.0.0.1 > password 3 9125d59c18a9b015": "router bgp 63500 > neighbor 10.0.0.1 > password 3 (sensitive)",
		"password 7 12090404011C03162E":                                      "password 7 (sensitive)",
		"router bgp 63500 > neighbor 10.0.0.1 > description password 3 x":    "router bgp 63500 > neighbor 10.0.0.1 > description password 3 x",
	} {
		if got := maskPassword(in); got != want {
			t.Errorf("maskPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
