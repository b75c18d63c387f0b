package aci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// The session options the driver manages, against the emulator: each one
// created, read back, converged (a second sync changes nothing and sends
// no password), changed and removed.

const (
	sessPW1 = "session-pw-one-31415"
	sessPW2 = "session-pw-two-27182"
	peer193 = leaf201 + "/peerP-[192.168.9.193]"
	peer194 = leaf201 + "/peerP-[192.168.9.194]"
)

// sessLab is a driver on a journaling emulator, with everything the driver
// says (log, messages, errors, renderings) kept for the secrets grep.
type sessLab struct {
	srv  *emulator.Server
	d    *Driver
	said bytes.Buffer
}

func newSessLab(t *testing.T) *sessLab {
	t.Helper()
	l := &sessLab{}
	l.srv, l.d = lab(t, emulator.Options{Journal: true}, tlsCA)
	l.d.log = slog.New(slog.NewTextHandler(&l.said, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return l
}

// sync observes, plans, renders and applies, as a sync does, and checks
// that the next observation has nothing left to do. It returns the plan.
func (l *sessLab) sync(t *testing.T, want fabric.State) fabric.Changeset {
	t.Helper()
	ctx := context.Background()
	obs, err := l.d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: want}, obs)
	out, err := l.d.Render(plan)
	l.said.WriteString(out)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(plan)
	l.said.Write(j)
	l.said.WriteString(planText(plan))
	res, err := l.d.Apply(ctx, plan)
	l.said.WriteString(strings.Join(res.Messages, "\n"))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	obs, err = l.d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again := fabric.Diff(fabric.Target{Name: "f", State: want}, obs); len(again.Changes) != 0 {
		t.Fatalf("not converged: %s", planText(again))
	}
	return plan
}

func planText(p fabric.Changeset) string {
	var b strings.Builder
	_ = fabric.WriteText(&b, fabric.NewPlan([]fabric.Changeset{p}, nil, nil))
	return b.String()
}

// passwordPOSTs counts the POSTs since the last ResetLog that carry a
// password, and the ones that carry pw.
func (l *sessLab) passwordPOSTs(pw string) (any, with int) {
	for _, r := range l.srv.Requests() {
		if r.Method != "POST" || !strings.Contains(r.Body, `"password"`) {
			continue
		}
		any++
		if strings.Contains(r.Body, pw) {
			with++
		}
	}
	return any, with
}

// passwordWrites lists the peers whose password the journal shows written.
func (l *sessLab) passwordWrites() []string {
	var out []string
	for _, e := range l.srv.Journal() {
		for _, c := range e.Changes {
			if len(c.Secrets) > 0 {
				out = append(out, strings.TrimPrefix(c.DN, leaf201+"/"))
			}
		}
	}
	return out
}

func (l *sessLab) attrs(t *testing.T, dn string) map[string]string {
	t.Helper()
	_, a, ok := l.srv.Lookup(dn)
	if !ok {
		t.Fatalf("%s does not exist", dn)
	}
	return a
}

func withOpts(p fabric.BGPPeer, o fabric.PeerOptions) fabric.BGPPeer {
	p.PeerOptions = o
	return p
}

func secret(pw, addr string) *fabric.Secret { return fabric.NewSecret(pw, "unit/"+addr) }

// TestPeerPassword: a password is sent when the peer is created, kept as
// a fingerprint in descr and read back from it; a second sync sends no
// password; a changed password is sent once; a removed one is cleared.
func TestPeerPassword(t *testing.T) {
	l := newSessLab(t)
	p := peer("leaf201", "192.168.9.193")
	with := withOpts(p, fabric.PeerOptions{Password: secret(sessPW1, "192.168.9.193")})
	fp := with.Password.Fingerprint()

	l.sync(t, fabric.StateOf(with))
	if got := l.srv.Secret(peer193, "password"); got != sessPW1 {
		t.Fatalf("the APIC holds password %q", got)
	}
	if d := l.attrs(t, peer193)["descr"]; d != p.Node+" pw:"+fp {
		t.Fatalf("descr %q", d)
	}
	if w := l.passwordWrites(); !reflect.DeepEqual(w, []string{"peerP-[192.168.9.193]"}) {
		t.Fatalf("password writes %q", w)
	}

	// Converged: a second sync plans nothing and sends nothing, and the
	// first plan replayed (a create of what exists) sends no password.
	l.srv.ResetLog()
	if plan := l.sync(t, fabric.StateOf(with)); len(plan.Changes) != 0 {
		t.Fatalf("second sync planned %+v", plan.Changes)
	}
	if _, err := l.d.Apply(context.Background(), fabric.Changeset{Name: "f", Changes: []fabric.Change{create(with)}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.passwordPOSTs(sessPW1); n != 0 || len(l.passwordWrites()) != 0 {
		t.Fatalf("a converged peer had its password sent again (%d POSTs, journal %q)", n, l.passwordWrites())
	}

	// The node's other AS: the peer is written, its password is not.
	l.srv.ResetLog()
	asChanged := with
	asChanged.RemoteASN = 65009
	if plan := l.sync(t, fabric.StateOf(asChanged)); len(plan.Changes) != 1 {
		t.Fatalf("plan %+v", plan.Changes)
	}
	if n, _ := l.passwordPOSTs(sessPW1); n != 0 {
		t.Fatal("an AS change sent the password")
	}

	// A changed password: sent once, in one POST.
	l.srv.ResetLog()
	changed := withOpts(asChanged, fabric.PeerOptions{Password: secret(sessPW2, "192.168.9.193")})
	l.sync(t, fabric.StateOf(changed))
	l.sync(t, fabric.StateOf(changed))
	if n, with2 := l.passwordPOSTs(sessPW2); n != 1 || with2 != 1 {
		t.Fatalf("the new password went out in %d POSTs (%d with it), want 1", n, with2)
	}
	if w := l.passwordWrites(); len(w) != 1 || l.srv.Secret(peer193, "password") != sessPW2 {
		t.Fatalf("journal %q, APIC %q", w, l.srv.Secret(peer193, "password"))
	}
	if d := l.attrs(t, peer193)["descr"]; d != p.Node+" pw:"+changed.Password.Fingerprint() {
		t.Fatalf("descr %q", d)
	}

	// Removed: cleared once, and the fingerprint goes from descr.
	l.srv.ResetLog()
	none := asChanged
	none.PeerOptions = fabric.PeerOptions{}
	l.sync(t, fabric.StateOf(none))
	l.sync(t, fabric.StateOf(none))
	if n, _ := l.passwordPOSTs("x"); n != 1 || l.srv.Secret(peer193, "password") != "" || l.attrs(t, peer193)["descr"] != p.Node {
		t.Fatalf("%d POSTs with a password, APIC %q, descr %q", n, l.srv.Secret(peer193, "password"), l.attrs(t, peer193)["descr"])
	}

	// A password changed in descr by hand is drift: the password is sent
	// again.
	l.sync(t, fabric.StateOf(changed))
	l.srv.SetAttr(peer193, "descr", p.Node+" pw:0000000000000000")
	l.srv.ResetLog()
	l.sync(t, fabric.StateOf(changed))
	if n, _ := l.passwordPOSTs(sessPW2); n != 1 {
		t.Fatalf("edited fingerprint: %d POSTs with the password", n)
	}

	noSecrets(t, l, sessPW1, sessPW2)
}

// noSecrets greps everything the driver said for the passwords.
func noSecrets(t *testing.T, l *sessLab, pws ...string) {
	t.Helper()
	for _, pw := range pws {
		if strings.Contains(l.said.String(), pw) {
			t.Fatalf("a password is in the driver's log, messages, plans or renderings")
		}
	}
	if !strings.Contains(l.said.String(), "fingerprint") {
		t.Fatal("the transcript shows no password at all: nothing was checked")
	}
}

// TestPeerPasswordNotInSavedPlan: a plan read back from JSON holds the
// fingerprint only; a change that must send the password is refused and
// says why, and the rest of the plan applies.
func TestPeerPasswordNotInSavedPlan(t *testing.T) {
	l := newSessLab(t)
	p := withOpts(peer("leaf201", "192.168.9.193"), fabric.PeerOptions{Password: secret(sessPW1, "192.168.9.193")})
	if _, err := l.d.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan := fabric.Changeset{Name: "f", Changes: []fabric.Change{create(p), create(sub("EPG_K8_PODS", "172.27.0.0/16"))}}
	j, _ := json.Marshal(plan)
	var saved fabric.Changeset
	if err := json.Unmarshal(j, &saved); err != nil {
		t.Fatal(err)
	}
	res, err := l.d.Apply(context.Background(), saved)
	if err == nil || !strings.Contains(err.Error(), "holds only its fingerprint") || len(res.Applied) != 1 {
		t.Fatalf("applied %d, error %v", len(res.Applied), err)
	}
	if _, _, ok := l.srv.Lookup(peer193); ok {
		t.Fatal("the peer was created without its password")
	}
}

// TestPeerPrefixLimit: a limit is a bgpPeerPfxPol named after its values,
// shared by the peers of one limit, and named by each peer's relation; a
// changed limit moves the peer to another policy; a policy no relation
// names any more is deleted; a removed limit leaves the relation naming
// none.
func TestPeerPrefixLimit(t *testing.T) {
	l := newSessLab(t)
	shut100 := fabric.PeerOptions{MaxPrefix: &fabric.MaxPrefix{Limit: 100, Action: fabric.MaxPrefixShutdown}}
	a := withOpts(peer("leaf201", "192.168.9.193"), shut100)
	b := withOpts(peer("leaf201", "192.168.9.194"), shut100)
	l.sync(t, fabric.StateOf(a, b))
	const shutPol = tnDN + "/bgpPfxP-BGP_PFX_unit_100_shut"
	if pol := l.attrs(t, shutPol); pol["maxPfx"] != "100" || pol["action"] != "shut" || pol["annotation"] != ourMark {
		t.Fatalf("policy %v", pol)
	}
	for _, dn := range []string{peer193, peer194} {
		if r := l.attrs(t, dn+"/rspeerPfxPol"); r["tnBgpPeerPfxPolName"] != "BGP_PFX_unit_100_shut" || r["annotation"] != ourMark {
			t.Fatalf("%s relation %v", dn, r)
		}
	}
	l.srv.ResetLog()
	if plan := l.sync(t, fabric.StateOf(a, b)); len(plan.Changes) != 0 || len(l.srv.Journal()) != 0 {
		t.Fatalf("second sync: plan %+v, journal %+v", plan.Changes, l.srv.Journal())
	}

	// One peer moves to a restart limit: the shared policy stays for the
	// other.
	a2 := withOpts(a, fabric.PeerOptions{MaxPrefix: &fabric.MaxPrefix{Limit: 200, Action: fabric.MaxPrefixRestart, RestartMinutes: 5}})
	l.sync(t, fabric.StateOf(a2, b))
	if pol := l.attrs(t, tnDN+"/bgpPfxP-BGP_PFX_unit_200_restart5"); pol["action"] != "restart" || pol["restartTime"] != "5" || pol["maxPfx"] != "200" {
		t.Fatalf("restart policy %v", pol)
	}
	l.attrs(t, shutPol)
	// The other one warns only: the shut policy has no peer left and goes.
	b2 := withOpts(b, fabric.PeerOptions{MaxPrefix: &fabric.MaxPrefix{Limit: 100, Action: fabric.MaxPrefixWarn}})
	l.sync(t, fabric.StateOf(a2, b2))
	if _, _, ok := l.srv.Lookup(shutPol); ok {
		t.Fatal("the shut policy no peer names is still there")
	}
	if pol := l.attrs(t, tnDN+"/bgpPfxP-BGP_PFX_unit_100_log"); pol["action"] != "log" {
		t.Fatalf("log policy %v", pol)
	}

	// Edited by hand: the policy's limit is drift, written back.
	l.srv.SetAttr(tnDN+"/bgpPfxP-BGP_PFX_unit_100_log", "maxPfx", "9999")
	if plan := l.sync(t, fabric.StateOf(a2, b2)); len(plan.Changes) != 1 {
		t.Fatalf("hand-edited limit: plan %+v", plan.Changes)
	}
	// ACI's "reject" is no fabric action: written back too.
	l.srv.SetAttr(tnDN+"/bgpPfxP-BGP_PFX_unit_100_log", "action", "reject")
	if plan := l.sync(t, fabric.StateOf(a2, b2)); len(plan.Changes) != 1 {
		t.Fatalf("hand-edited action: plan %+v", plan.Changes)
	}

	// Removed: the relation names no policy, the policies go.
	a3, b3 := withOpts(a, fabric.PeerOptions{}), withOpts(b, fabric.PeerOptions{})
	l.sync(t, fabric.StateOf(a3, b3))
	for _, dn := range []string{peer193, peer194} {
		if r := l.attrs(t, dn+"/rspeerPfxPol"); r["tnBgpPeerPfxPolName"] != "" || r["annotation"] != ourMark {
			t.Fatalf("%s relation %v", dn, r)
		}
	}
	if pols := l.srv.Dump(tnDN); strings.Contains(dump(l.srv, tnDN), "bgpPeerPfxPol") {
		t.Fatalf("policies left: %v", pols)
	}

	// A deleted peer takes its policy along.
	l.sync(t, fabric.StateOf(a2))
	l.sync(t, fabric.StateOf())
	if strings.Contains(dump(l.srv, tnDN), "bgpPeerPfxPol") {
		t.Fatal("a policy outlived its last peer")
	}
}

// TestPeerPrefixLimitNamedByHand: a policy of ours that a hand-made
// relation names stays when our peers stop using it; a relation set by
// hand under our peer makes the peer someone else's; the relation the APIC
// makes itself does not.
func TestPeerPrefixLimitNamedByHand(t *testing.T) {
	l := newSessLab(t)
	lim := withOpts(peer("leaf201", "192.168.9.193"), fabric.PeerOptions{MaxPrefix: &fabric.MaxPrefix{Limit: 100, Action: fabric.MaxPrefixShutdown}})
	l.sync(t, fabric.StateOf(lim))
	handMade(t, l.srv, leaf201, "bgpPeerP", map[string]string{"addr": "192.168.9.199", "descr": "hand"})
	handMade(t, l.srv, leaf201+"/peerP-[192.168.9.199]", "bgpRsPeerPfxPol", map[string]string{"tnBgpPeerPfxPolName": "BGP_PFX_unit_100_shut"})
	l.sync(t, fabric.StateOf(peer("leaf201", "192.168.9.193")))
	l.attrs(t, tnDN+"/bgpPfxP-BGP_PFX_unit_100_shut")

	// An unmarked relation naming no policy is the APIC's own; one that
	// names a policy is someone's setting.
	foreignPeers := func() []string {
		t.Helper()
		obs, err := l.d.Observe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range obs.Foreign {
			if f.Kind == fabric.KindBGPPeer {
				out = append(out, f.ID)
			}
		}
		return out
	}
	if f := foreignPeers(); !reflect.DeepEqual(f, []string{"192.168.9.199"}) {
		t.Fatalf("foreign peers %q", f)
	}
	l.srv.SetAttr(peer193+"/rspeerPfxPol", "annotation", "")
	l.srv.SetAttr(peer193+"/rspeerPfxPol", "tnBgpPeerPfxPolName", "")
	if f := foreignPeers(); len(f) != 1 {
		t.Fatalf("an unmarked relation naming no policy made our peer foreign: %q", f)
	}
	l.sync(t, fabric.StateOf(lim)) // the limit again: the APIC's relation is written over
	if r := l.attrs(t, peer193+"/rspeerPfxPol"); r["annotation"] != ourMark || r["tnBgpPeerPfxPolName"] != "BGP_PFX_unit_100_shut" {
		t.Fatalf("relation %v", r)
	}
	l.srv.SetAttr(peer193+"/rspeerPfxPol", "annotation", "")
	l.srv.SetAttr(peer193+"/rspeerPfxPol", "tnBgpPeerPfxPolName", "TEAM_PFX")
	if f := foreignPeers(); len(f) != 2 {
		t.Fatalf("a relation set by hand under our peer: foreign peers %q", f)
	}
}

// TestPeerPrefixLimitPolicyInTheWay: a policy without the mark at the name
// of a limit is never written into: the peer's change is a conflict, the
// other changes apply.
func TestPeerPrefixLimitPolicyInTheWay(t *testing.T) {
	l := newSessLab(t)
	handMade(t, l.srv, tnDN, "bgpPeerPfxPol", map[string]string{"name": "BGP_PFX_unit_50_shut", "maxPfx": "7"})
	p := withOpts(peer("leaf201", "192.168.9.193"), fabric.PeerOptions{MaxPrefix: &fabric.MaxPrefix{Limit: 50, Action: fabric.MaxPrefixShutdown}})
	obs, err := l.d.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: fabric.StateOf(p, sub("EPG_K8_PODS", "172.27.0.0/16"))}, obs)
	res, err := l.d.Apply(context.Background(), plan)
	if err == nil || len(res.Conflicts) != 1 || res.Conflicts[0].ID != "192.168.9.193" || len(res.Applied) != 1 {
		t.Fatalf("error %v, conflicts %+v, applied %d", err, res.Conflicts, len(res.Applied))
	}
	if pol := l.attrs(t, tnDN+"/bgpPfxP-BGP_PFX_unit_50_shut"); pol["maxPfx"] != "7" || pol["annotation"] != "" {
		t.Fatalf("the hand-made policy was written into: %v", pol)
	}
	if _, _, ok := l.srv.Lookup(peer193); ok {
		t.Fatal("the peer was created")
	}
}

// TestPeerShutdown: shutdown is the peer's adminSt; back up when it ends.
func TestPeerShutdown(t *testing.T) {
	l := newSessLab(t)
	p := peer("leaf201", "192.168.9.193")
	down := withOpts(p, fabric.PeerOptions{Shutdown: true})
	l.sync(t, fabric.StateOf(p))
	if st := l.attrs(t, peer193)["adminSt"]; st != "enabled" {
		t.Fatalf("adminSt %q", st)
	}
	l.sync(t, fabric.StateOf(down))
	if st := l.attrs(t, peer193)["adminSt"]; st != "disabled" {
		t.Fatalf("adminSt %q", st)
	}
	l.srv.ResetLog()
	if plan := l.sync(t, fabric.StateOf(down)); len(plan.Changes) != 0 || len(l.srv.Journal()) != 0 {
		t.Fatal("a held-down peer is not converged")
	}
	l.sync(t, fabric.StateOf(p))
	if st := l.attrs(t, peer193)["adminSt"]; st != "enabled" {
		t.Fatalf("adminSt %q after the maintenance", st)
	}
}

// TestPeerOptionsTogether: every managed option at once on a new peer,
// converged, then all removed; nothing of them is left.
func TestPeerOptionsTogether(t *testing.T) {
	l := newSessLab(t)
	before := dump(l.srv, tnDN)
	all := withOpts(peer("leaf201", "192.168.9.193"), fabric.PeerOptions{Password: secret(sessPW1, "192.168.9.193"), Shutdown: true,
		MaxPrefix: &fabric.MaxPrefix{Limit: 300000, Action: fabric.MaxPrefixRestart, RestartMinutes: 65535}})
	l.sync(t, fabric.StateOf(all))
	if a := l.attrs(t, peer193); a["adminSt"] != "disabled" || !strings.Contains(a["descr"], " pw:") {
		t.Fatalf("peer %v", a)
	}
	// The APIC may report the largest restart time as "infinite".
	l.srv.SetAttr(tnDN+"/bgpPfxP-BGP_PFX_unit_300000_restart65535", "restartTime", "infinite")
	l.sync(t, fabric.StateOf(all))
	l.sync(t, fabric.StateOf())
	if after := dump(l.srv, tnDN); after != before {
		t.Fatalf("the tenant is not back to its baseline:\n%s\n%s", before, after)
	}
	noSecrets(t, l, sessPW1)
}

// TestDesireSessionOptions: the options ACI sets per peer are kept; the
// timers and graceful restart go to the session policy; the others are
// dropped with a warning that says why; a limit above ACI's is
// lowered to it; a node name that no longer fits descr with the password's
// fingerprint is skipped.
func TestDesireSessionOptions(t *testing.T) {
	cfg := config.Fabric{Name: "f", Driver: "aci", Platform: &Settings{L3Out: "L3O", ExternalEPGs: ExternalEPGs{
		Nodes: "EPG_NODES", Pods: "EPG_PODS", Service: "EPG_{namespace}_{name}"}, Contract: "CNT_{namespace}_{name}"}}
	opts := fabric.PeerOptions{Password: fabric.NewSecret("pw", "s"), MaxPrefix: &fabric.MaxPrefix{Limit: 400000, Action: fabric.MaxPrefixShutdown},
		Keepalive: 10, Hold: 30, GracefulRestart: 120, TTLSecurityHops: 1, Shutdown: true}
	sess := func(node, addr string) fabric.Session {
		return fabric.Session{Switch: "leaf201", Node: node, NodeAddress: netip.MustParsePrefix(addr + "/28"), RemoteASN: 1, LocalASN: 2,
			AddressFamily: fabric.IPv4, Options: opts}
	}
	r := Desire(cfg, fabric.Intent{Fabric: "f", Sessions: []fabric.Session{sess("n1", "192.168.9.193"), sess(strings.Repeat("n", 110), "192.168.9.194")}})
	if len(r.State.Peers) != 1 {
		t.Fatalf("peers %+v", r.State.Peers)
	}
	got := r.State.Peers[0].PeerOptions
	if got.Password == nil || !got.Shutdown || got.MaxPrefix == nil || got.MaxPrefix.Limit != aciMaxPrefix ||
		got.Keepalive != 0 || got.Hold != 0 || got.GracefulRestart != 0 || got.TTLSecurityHops != 0 {
		t.Fatalf("options %+v", got)
	}
	if opts.MaxPrefix.Limit != 400000 {
		t.Fatal("Desire changed the intent's limit")
	}
	// Timers and graceful restart go to the node profile's policy, for
	// every peer at once (protocol.go), not per peer.
	if want := (fabric.SessionPolicy{Keepalive: 10, Hold: 30, GracefulRestart: 120}); len(r.State.Sessions) != 1 || r.State.Sessions[0] != want {
		t.Errorf("session policy %+v, want %+v", r.State.Sessions, want)
	}
	all := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"ttlSecurity: ACI has no TTL security (GTSM)", "above 300000 is set to 300000"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if len(r.Warnings) != 2 {
		t.Errorf("warnings repeat:\n%s", all)
	}
	if len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Reason, "108 with the password's fingerprint") {
		t.Fatalf("skipped %+v", r.Skipped)
	}
}

// TestLegacyBGPPasswordFileRefused: the old aci.bgpPasswordFile is refused
// with where the password goes now.
func TestLegacyBGPPasswordFileRefused(t *testing.T) {
	yaml := `cluster: unit
fabrics:
- name: f
  driver: aci
  asn: 63500
  switches:
  - {name: leaf201, peerIPs: [192.168.9.204], sviPath: "topology/pod-1/paths-201/pathep-[eth1/33]"}
  aci:
    apic: {url: "https://127.0.0.1:1", username: admin, passwordFile: /nonexistent}
    tenant: T
    vrf: V
    l3out: L
    nodeProfile: NP
    interfaceProfile: IP
    externalEPGs: {nodes: EPG_N, pods: EPG_P, service: "EPG_{namespace}_{name}"}
    bgpPasswordFile: /secrets/bgp-password
`
	_, err := config.Parse([]byte(yaml))
	if err == nil || !strings.Contains(err.Error(), "aci.bgpPasswordFile: no longer read; move it to the fabric's bgp section as bgp.passwordFile") {
		t.Fatalf("error %v", err)
	}
}

// TestPasswordRefusedNotEchoed: the APIC refuses a password and quotes it
// in its error ("failed validation for value '...'"); the driver's error
// keeps its kind and loses the value.
func TestPasswordRefusedNotEchoed(t *testing.T) {
	l := newSessLab(t)
	const bad = "tab\tin-the-password-161"
	p := withOpts(peer("leaf201", "192.168.9.193"), fabric.PeerOptions{Password: secret(bad, "192.168.9.193")})
	if _, err := l.d.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := l.d.Apply(context.Background(), fabric.Changeset{Name: "f", Changes: []fabric.Change{create(p)}})
	if err == nil || !errors.Is(err, errNotApplied) || !strings.Contains(err.Error(), "failed validation for value '(sensitive)'") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), bad) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), bad) {
		t.Fatal("the refused password is in the error")
	}
	if body := l.srv.Requests()[len(l.srv.Requests())-1].Body; !strings.Contains(body, `in-the-password-161`) {
		t.Fatal("the emulator did not get the password: nothing was checked")
	}
}
