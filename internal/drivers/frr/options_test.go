package frr

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// The password of the recorded configuration (testdata/running-config-options.txt,
// typed by hand on a lab leaf, FRR 8.4.4) and one it is changed to. Neither is
// a real secret; the tests still check that no output carries them.
const (
	recordedPW = "REC-pw-0001"
	otherPW    = "Other-pw-0002"
)

func secret(pw, addr string) *fabric.Secret {
	return fabric.NewSecret(pw, fabric.PasswordSalt("haystack", addr))
}

// optionsFixture is the recorded configuration with 192.168.9.193's
// description as the driver writes it for the recorded password (the
// recording has a placeholder fingerprint).
func optionsFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/running-config-options.txt")
	if err != nil {
		t.Fatal(err)
	}
	desc := cli.Mark("orchestrator:fabric-reconciler.haystack").DescribePeer("k8c1m0", secret(recordedPW, "192.168.9.193"))
	return strings.Replace(string(b), "orchestrator:fabric-reconciler.haystack node=k8c1m0 pw=AAAAAAAAAAA", desc, 1)
}

// optPeer is 192.168.9.193 as the recording holds it.
func optPeer() fabric.BGPPeer {
	p := peer("192.168.9.193", "k8c1m0", 63551, 63500)
	p.PeerOptions = fabric.PeerOptions{Password: secret(recordedPW, "192.168.9.193"),
		MaxPrefix: &fabric.MaxPrefix{Limit: 20, Action: fabric.MaxPrefixRestart, RestartMinutes: 5},
		Keepalive: 2, Hold: 6, TTLSecurityHops: 1, Shutdown: true}
	return p
}

// TestParseOptions reads each option line of a recorded running
// configuration, in FRR's own order and forms (bgp_config_write_peer_global,
// bgp_config_write_peer_af, bgp_config_write_listen).
func TestParseOptions(t *testing.T) {
	cfg, err := parseRunningConfig(optionsFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	inst := cfg.instance("")
	n := inst.Neighbors["192.168.9.193"]
	if n.password != recordedPW || n.Options.Keepalive != 2 || n.Options.Hold != 6 || n.Options.TTLSecurityHops != 1 || !n.Shutdown {
		t.Errorf("192.168.9.193: %+v", *n)
	}
	if m := inst.AFs["ipv4 unicast"].Neighbors["192.168.9.193"].MaxPrefix; m == nil || m.line() != "20 restart 5" {
		t.Errorf("192.168.9.193 maximum-prefix %+v", m)
	}
	// "shutdown message MSG" holds the session down; "timers connect" is
	// not the session timers.
	if n := inst.Neighbors["192.168.9.194"]; !n.Shutdown || n.Options.Keepalive != 0 || n.Options.Hold != 0 {
		t.Errorf("192.168.9.194: %+v", *n)
	}
	for addr, want := range map[string]string{"192.168.9.194": "30 90 warning-only", "192.168.9.195": "40 restart 10 force"} {
		if m := inst.AFs["ipv4 unicast"].Neighbors[addr].MaxPrefix; m == nil || m.line() != want {
			t.Errorf("%s maximum-prefix %+v, want %q", addr, m, want)
		}
	}
	if len(inst.Listen) != 1 || inst.Listen[0].Prefix.String() != "10.44.0.0/24" || inst.Listen[0].Group != "DYN" || inst.ListenLimit != 500 {
		t.Errorf("listen %+v limit %d", inst.Listen, inst.ListenLimit)
	}
	// A neighbor prints without its password.
	if s := fmtAll(n); strings.Contains(s, recordedPW) {
		t.Errorf("%%v of a neighbor shows its password: %s", s)
	}
}

func fmtAll(v any) string {
	b, _ := json.Marshal(v)
	return string(b) + " " + sprint(v)
}

func sprint(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// TestObserveOptions reads the options back exactly as the cluster
// desires them (Diff compares JSON), the password as its fingerprint only;
// a password changed by hand, or a maximum-prefix line the driver does not
// write, makes the peer differ so that the plan repairs it; a listen range
// is foreign at every address in it.
func TestObserveOptions(t *testing.T) {
	d := newTestDriver(t, testFabric(63500, ""))
	sw, _ := d.switches.ByName("leaf202")
	observe := func(text string) (fabric.BGPPeer, []fabric.Foreign) {
		t.Helper()
		cfg, err := d.parse(sw, text)
		if err != nil {
			t.Fatal(err)
		}
		owned, foreign, err := d.observeSwitch(t.Context(), sw, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range owned {
			if p, ok := o.(fabric.BGPPeer); ok && p.PeerAddress == "192.168.9.193" {
				b, _ := json.Marshal(p)
				if strings.Contains(string(b), recordedPW) || strings.Contains(sprint(p), recordedPW) {
					t.Fatalf("the observed peer shows the password: %s", b)
				}
				return p, foreign
			}
		}
		t.Fatalf("192.168.9.193 not observed: %+v", owned)
		return fabric.BGPPeer{}, nil
	}
	full := optionsFixture(t)
	got, foreign := observe(full)
	want := optPeer()
	want.Switch = "leaf202"
	if plan := fabric.Diff(fabric.Target{State: fabric.StateOf(want)}, fabric.Observed{Owned: fabric.StateOf(got)}); len(plan.Changes) != 0 {
		t.Errorf("observed %s\nwant     %s\nplan %+v", js(got), js(want), plan.Changes)
	}
	wantForeign := map[string]bool{}
	for _, f := range foreign {
		if f.ID == "10.44.0.0/24" {
			wantForeign[string(f.Kind)] = true
		}
	}
	if !wantForeign["BGPPeer"] || !wantForeign["PrefixFilter"] {
		t.Errorf("the listen range is not foreign: %+v", foreign)
	}
	// A peer the cluster wants at an address of the range is a conflict.
	plan := fabric.Diff(fabric.Target{State: fabric.StateOf(fabric.BGPPeer{Switch: "leaf202", Node: "k8dyn", PeerAddress: "10.44.0.9",
		RemoteASN: 65001, LocalASN: 63500, AddressFamily: fabric.IPv4})}, fabric.Observed{Foreign: foreign})
	if len(plan.Changes) != 0 || len(plan.Conflicts) != 1 || !strings.Contains(plan.Conflicts[0].Reason, "10.44.0.0/24") {
		t.Errorf("a peer in a listen range: %+v", plan)
	}

	for _, tc := range []struct {
		name, from, to string
		want           func(p *fabric.BGPPeer)
	}{
		{"password changed by hand", "password " + recordedPW, "password " + otherPW, func(p *fabric.BGPPeer) {
			p.Password = fabric.ObservedSecret(secret(otherPW, "192.168.9.193").Fingerprint())
			p.Node = cli.Incomplete("the description's password fingerprint is not the password's")
		}},
		{"password removed by hand", " neighbor 192.168.9.193 password " + recordedPW + "\n", "", func(p *fabric.BGPPeer) { p.Password = nil }},
		{"threshold set by hand", "maximum-prefix 20 restart 5", "maximum-prefix 20 80 restart 5", func(p *fabric.BGPPeer) {
			p.Node = cli.Incomplete("maximum-prefix 20 80 restart 5 is not what this cluster writes")
		}},
		{"timers changed", "timers 2 6", "timers 10 30", func(p *fabric.BGPPeer) { p.Keepalive, p.Hold = 10, 30 }},
		{"no longer shut down", " neighbor 192.168.9.193 shutdown\n", "", func(p *fabric.BGPPeer) { p.Shutdown = false }},
	} {
		got, _ := observe(strings.Replace(full, tc.from, tc.to, 1))
		w := optPeer()
		w.Switch = "leaf202"
		tc.want(&w)
		if js(got) != js(w) {
			t.Errorf("%s: observed %s\nwant %s", tc.name, js(got), js(w))
		}
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestScriptOptions plans the option lines: each in FRR's syntax, only what
// differs, the password only when its fingerprint differs (never again
// otherwise: FRR resets the session), shown and logged as a placeholder.
func TestScriptOptions(t *testing.T) {
	full := optionsFixture(t)
	base := "router bgp 63500\nexit\n"
	const desc = "orchestrator:fabric-reconciler.haystack node=k8c1m0"
	pwDesc := func(pw string) string {
		return cli.Mark("orchestrator:fabric-reconciler.haystack").DescribePeer("k8c1m0", secret(pw, "192.168.9.193"))
	}
	plain := peer("192.168.9.193", "k8c1m0", 63551, 63500)
	withPW := func(pw string) fabric.BGPPeer {
		p := optPeer()
		p.Password = secret(pw, "192.168.9.193")
		return p
	}
	saved := optPeer()
	saved.Password = fabric.ObservedSecret(secret(otherPW, "192.168.9.193").Fingerprint()) // from a saved plan
	tests := []struct {
		name, running string
		change        fabric.Change
		want          string
		refused       string
		conflict      string
	}{
		{
			name: "new neighbor: held down, password, filter, limit, timers, TTL", running: base,
			change: create(optPeer()),
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.193 remote-as 63551",
				" neighbor 192.168.9.193 description "+pwDesc(recordedPW),
				" neighbor 192.168.9.193 shutdown",
				" neighbor 192.168.9.193 password "+cli.Sensitive,
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.193 maximum-prefix 20 restart 5",
				" exit-address-family",
				" neighbor 192.168.9.193 timers 2 6",
				" neighbor 192.168.9.193 ttl-security hops 1"),
		},
		{
			name: "converged: no line, the password is not sent again", running: full,
			change: update(optPeer(), optPeer()),
			want:   "",
		},
		{
			name: "password changed: the password, then the description that records it", running: full,
			change: update(optPeer(), withPW(otherPW)),
			want: lines(
				"router bgp 63500",
				" neighbor 192.168.9.193 password "+cli.Sensitive,
				" neighbor 192.168.9.193 description "+pwDesc(otherPW)),
		},
		{
			name: "a saved plan's password (fingerprint only) that must be sent is refused", running: full,
			change:  update(optPeer(), saved),
			refused: "the plan holds only its fingerprint",
		},
		{
			name: "every option removed, and released from maintenance last", running: full,
			change: update(optPeer(), plain),
			want: lines(
				"router bgp 63500",
				" no neighbor 192.168.9.193 password",
				" address-family ipv4 unicast",
				"  no neighbor 192.168.9.193 maximum-prefix",
				" exit-address-family",
				" no neighbor 192.168.9.193 timers",
				" no neighbor 192.168.9.193 ttl-security hops 1",
				" neighbor 192.168.9.193 description "+desc,
				" no neighbor 192.168.9.193 shutdown"),
		},
		{
			name: "limit actions: warning-only, and shutdown (FRR's default)", running: full,
			change: update(optPeer(), func() fabric.BGPPeer {
				p := optPeer()
				p.MaxPrefix = &fabric.MaxPrefix{Limit: 25, Action: fabric.MaxPrefixWarn}
				return p
			}()),
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.193 maximum-prefix 25 warning-only"),
		},
		{
			name: "a threshold set by hand is written over", running: strings.Replace(full, "maximum-prefix 20 restart 5", "maximum-prefix 20 80 restart 5", 1),
			change: update(optPeer(), optPeer()),
			want: lines(
				"router bgp 63500",
				" address-family ipv4 unicast",
				"  neighbor 192.168.9.193 maximum-prefix 20 restart 5"),
		},
		{
			name: "an address in a listen range is the range's: nothing is typed", running: full,
			change:   create(peer("10.44.0.9", "k8dyn", 65001, 63500)),
			conflict: "10.44.0.9 (in bgp listen range 10.44.0.0/24 peer-group DYN) is configured without this cluster's mark",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDriver(t, testFabric(63500, ""))
			sw, _ := d.switches.ByName("leaf202")
			cfg, err := d.parse(sw, tt.running)
			if err != nil {
				t.Fatal(err)
			}
			s, err := d.script(sw, cfg, []fabric.Change{tt.change})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Text(); got != tt.want {
				t.Fatalf("lines:\n%s\nwant:\n%s", got, tt.want)
			}
			refused := s.Refused()
			if (tt.refused == "") != (len(refused) == 0) || (tt.refused != "" && !strings.Contains(refused[0].Err.Error(), tt.refused)) {
				t.Fatalf("refusals %v, want %q", refused, tt.refused)
			}
			conflicts := s.Conflicts()
			if (tt.conflict == "") != (len(conflicts) == 0) || (tt.conflict != "" && !strings.Contains(conflicts[0].Reason, tt.conflict)) {
				t.Fatalf("conflicts %+v, want %q", conflicts, tt.conflict)
			}
			// What the switch receives holds the password; nothing else does.
			var wire []string
			for _, l := range s.Lines() {
				wire = append(wire, l.Wire())
				if strings.Contains(l.Text, recordedPW) || strings.Contains(l.Text, otherPW) {
					t.Errorf("a line's text holds the password: %q", l.Text)
				}
			}
			if strings.Contains(tt.want, "password "+cli.Sensitive) {
				pw := tt.change.After.(fabric.BGPPeer).Password.Value()
				if !strings.Contains(strings.Join(wire, "\n"), "password "+pw) {
					t.Errorf("the password is not what the switch receives: %q", wire)
				}
			}
		})
	}
}

// TestRenderOptions: plan -o native shows the placeholder, never the value.
func TestRenderOptions(t *testing.T) {
	d := newTestDriver(t, testFabric(63500, ""))
	out, err := d.Render(fabric.Changeset{Changes: []fabric.Change{create(optPeer())}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, recordedPW) || !strings.Contains(out, " neighbor 192.168.9.193 password "+cli.Sensitive+"\n") {
		t.Fatalf("Render:\n%s", out)
	}
}

// TestDesireOptions: FRR manages every option but graceful restart, which
// it sets for the whole instance only; a password a CLI would read as
// syntax skips the session without showing the password.
func TestDesireOptions(t *testing.T) {
	s := fabric.Session{Switch: "leaf201", Node: "k8c1m0", NodeAddress: mustPrefix("192.168.9.193/28"), RemoteASN: 63551, LocalASN: 63500,
		AddressFamily: fabric.IPv4, Options: optPeer().PeerOptions}
	s.Options.GracefulRestart = 120
	bad := s
	bad.Node, bad.NodeAddress = "k8c1s1", mustPrefix("192.168.9.194/28")
	bad.Options.Password = secret("has space?", "192.168.9.194")
	r := Desire(testFabric(63500, ""), fabric.Intent{Fabric: "f", Cluster: "haystack", Sessions: []fabric.Session{s, bad}})
	if len(r.State.Peers) != 1 {
		t.Fatalf("peers %+v", r.State.Peers)
	}
	got := r.State.Peers[0]
	if got.GracefulRestart != 0 || got.Password == nil || got.MaxPrefix == nil || got.Hold != 6 || got.TTLSecurityHops != 1 || !got.Shutdown {
		t.Errorf("peer options %+v", got.PeerOptions)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "does not manage the peers' gracefulRestart") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Reason, "the password (fingerprint") || strings.Contains(r.Skipped[0].Reason, "has space") {
		t.Errorf("skipped %+v", r.Skipped)
	}
}
