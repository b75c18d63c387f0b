package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

const testPW = "Kiwi-4410:x"

// A line with a secret shows the placeholder everywhere but on the wire,
// and a reply that echoes the secret is redacted.
func TestSecretLine(t *testing.T) {
	s := NewScript(Dialect{})
	s.Begin(change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "192.168.9.193"))
	s.InSecret([]string{"router bgp 1"}, "neighbor 192.168.9.193 password "+Sensitive, testPW)
	l := s.Lines()[1]
	if strings.Contains(s.Text(), testPW) || l.Text != "neighbor 192.168.9.193 password (sensitive)" {
		t.Fatalf("text %q", s.Text())
	}
	if l.Wire() != "neighbor 192.168.9.193 password "+testPW {
		t.Fatalf("wire %q", l.Wire())
	}
	if got := l.Redact("% Unknown command: neighbor 192.168.9.193 password " + testPW); strings.Contains(got, testPW) {
		t.Fatalf("redacted %q", got)
	}
	if plain := s.Lines()[0]; plain.Wire() != plain.Text || plain.Redact("x") != "x" {
		t.Fatalf("a line without a secret: %+v", plain)
	}
}

// The description records the password's fingerprint in 11 characters
// and reads it back; no password, no field.
func TestDescribePeer(t *testing.T) {
	m := Mark("orchestrator:fabric-reconciler.haystack")
	pw := fabric.NewSecret(testPW, "haystack/192.168.9.193")
	d := m.DescribePeer("k8c1m0", pw)
	if d != "orchestrator:fabric-reconciler.haystack node=k8c1m0 pw="+encodeFingerprint(pw.Fingerprint()) || len(d)-len(m.Describe("k8c1m0")) != 15 {
		t.Fatalf("description %q", d)
	}
	if err := Text("description", d, 80); err != nil {
		t.Fatal(err)
	}
	if got := PasswordMark(d); got != pw.Fingerprint() {
		t.Fatalf("PasswordMark = %q, want %q", got, pw.Fingerprint())
	}
	if owner, node := Parse(d); owner != string(m) || node != "k8c1m0" || !m.Owns(d) {
		t.Fatalf("Parse: %q %q", owner, node)
	}
	if m.DescribePeer("k8c1m0", nil) != m.Describe("k8c1m0") || PasswordMark(m.Describe("k8c1m0")) != "" {
		t.Fatal("no password, yet a fingerprint")
	}
	if got := PasswordMark("x pw=%%%"); got == "" || got == pw.Fingerprint() {
		t.Fatalf("an unreadable fingerprint reads as %q", got)
	}
}

// A password a CLI would read as syntax is refused, and the refusal never
// quotes it.
func TestCheckPassword(t *testing.T) {
	for _, bad := range []string{"has space", "why?", "a!b", "x#y", "p|q", "a>b", "$var", `q"x`, "a'b", "b\\c", "semi;", "a]b",
		"new\nline", "tab\tx", "caf\u00e9", strings.Repeat("x", 81)} {
		err := CheckPassword(fabric.NewSecret(bad, "salt"))
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), bad) {
			t.Errorf("the refusal quotes the password: %v", err)
		}
	}
	for _, good := range []string{"a", testPW, "A-z_0.9:=/,@+~^*%&(){}[", strings.Repeat("x", 80)} {
		if err := CheckPassword(fabric.NewSecret(good, "salt")); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
	if err := CheckPeer(fabric.BGPPeer{Switch: "leaf201", Node: "n", PeerAddress: "192.168.9.193", RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4,
		PeerOptions: fabric.PeerOptions{Password: fabric.NewSecret("bad pw", "s")}}); err == nil || strings.Contains(err.Error(), "bad pw") {
		t.Errorf("CheckPeer: %v", err)
	}
}

// The password is sent only when the switch holds another one or none;
// a value the plan lacks (a saved plan) refuses the change when it must be
// sent, and only then.
func TestPasswordChange(t *testing.T) {
	want := fabric.NewSecret(testPW, "s")
	saved := fabric.ObservedSecret(want.Fingerprint())
	for _, tc := range []struct {
		name   string
		have   PasswordState
		want   *fabric.Secret
		send   string
		remove bool
		err    bool
	}{
		{"none wanted, none held", PasswordState{}, nil, "", false, false},
		{"none wanted, one held", PasswordState{Set: true, Fingerprint: "x"}, nil, "", true, false},
		{"new", PasswordState{}, want, testPW, false, false},
		{"same", PasswordState{Set: true, Fingerprint: want.Fingerprint()}, want, "", false, false},
		{"set by hand, fingerprint unknown", PasswordState{Set: true}, want, testPW, false, false},
		{"saved plan, same", PasswordState{Set: true, Fingerprint: want.Fingerprint()}, saved, "", false, false},
		{"saved plan, must send", PasswordState{}, saved, "", false, true},
	} {
		send, remove, err := PasswordChange(tc.have, tc.want)
		if send != tc.send || remove != tc.remove || (err != nil) != tc.err || (err != nil && !errors.Is(err, errNoPasswordValue)) {
			t.Errorf("%s: send %q remove %v err %v", tc.name, send, remove, err)
		}
	}
	if (PasswordState{}).Observed() != nil {
		t.Error("no password observed as one")
	}
	if o := (PasswordState{Set: true, Fingerprint: "abc"}).Observed(); o.Fingerprint() != "abc" || o.Value() != "" {
		t.Errorf("observed %v", o)
	}
}

// One line sets both timers: the one the cluster leaves out is derived.
func TestTimers(t *testing.T) {
	for _, tc := range []struct{ ka, hold, wantKA, wantHold int }{
		{0, 0, 0, 0}, {0, 9, 3, 9}, {0, 3, 1, 3}, {2, 0, 2, 6}, {30, 90, 30, 90}, {40000, 0, 40000, 65535},
	} {
		o := fabric.PeerOptions{Keepalive: tc.ka, Hold: tc.hold}
		Timers(&o)
		if o.Keepalive != tc.wantKA || o.Hold != tc.wantHold {
			t.Errorf("%d/%d -> %d/%d, want %d/%d", tc.ka, tc.hold, o.Keepalive, o.Hold, tc.wantKA, tc.wantHold)
		}
	}
	if err := CheckOptions(fabric.PeerOptions{Keepalive: 3}); err == nil {
		t.Error("keepalive without hold time accepted")
	}
	if err := CheckOptions(fabric.PeerOptions{Keepalive: 9, Hold: 9}); err == nil {
		t.Error("keepalive equal to the hold time accepted")
	}
}

// Desire keeps the options a platform manages, completes the timers, and
// counts the password's fingerprint in the description's length.
func TestDesireOptions(t *testing.T) {
	opts := fabric.PeerOptions{Password: fabric.NewSecret(testPW, "s"), Hold: 9,
		MaxPrefix: &fabric.MaxPrefix{Limit: 100, Action: fabric.MaxPrefixShutdown}, GracefulRestart: 120}
	long := session(strings.Repeat("n", 30), "192.168.9.194", 63552) // 35 would fit without a password
	s := session("k8c1m0", "192.168.9.193", 63551)
	s.Options, long.Options = opts, opts
	managed := map[fabric.PeerOption]bool{fabric.OptionPassword: true, fabric.OptionMaxPrefix: true, fabric.OptionTimers: true}
	r := Desire(fabric.Intent{Fabric: "f", Cluster: "haystack", Sessions: []fabric.Session{s, long}},
		Limits{PlatformName: "NX-OS", MaxDescription: 80, MaxPaths: 64, Options: managed,
			CheckOptions: func(o fabric.PeerOptions) error {
				if o.MaxPrefix != nil && o.MaxPrefix.Limit > 50 {
					return errors.New("NX-OS takes maximum-prefix 1-50 here")
				}
				return nil
			}})
	if len(r.State.Peers) != 0 || len(r.Skipped) != 2 || !strings.Contains(r.Skipped[0].Reason, "1-50") {
		t.Fatalf("peers %+v skipped %+v", r.State.Peers, r.Skipped)
	}
	s.Options.MaxPrefix.Limit, long.Options.MaxPrefix = 50, &fabric.MaxPrefix{Limit: 50, Action: fabric.MaxPrefixShutdown}
	r = Desire(fabric.Intent{Fabric: "f", Cluster: "haystack", Sessions: []fabric.Session{s, long}},
		Limits{PlatformName: "NX-OS", MaxDescription: 80, MaxPaths: 64, Options: managed})
	if len(r.State.Peers) != 1 || len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Reason, "node names of at most 20 characters fit") {
		t.Fatalf("peers %+v skipped %+v", r.State.Peers, r.Skipped)
	}
	p := r.State.Peers[0]
	if p.Keepalive != 3 || p.Hold != 9 || p.GracefulRestart != 0 || p.Password == nil {
		t.Errorf("options %+v", p.PeerOptions)
	}
	joined := strings.Join(r.Warnings, "\n")
	if !strings.Contains(joined, "keepalive 3 s (a third of the hold time)") || !strings.Contains(joined, "does not manage the peers' gracefulRestart") {
		t.Errorf("warnings %q", r.Warnings)
	}
}
