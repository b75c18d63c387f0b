package frr

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// frrErrorStrings are the platform's failure strings (frr_vtysh.yaml).
var frrErrorStrings = []string{
	"% Unknown command", "% Command incomplete", "% Ambiguous command",
	"% Specify remote-as or peer-group commands first", "% Create the peer-group or interface first",
	"% Malformed", "% Invalid", "% Cannot", "% Warning: closing connection", "BGP is already running; AS is",
}

// handMadePassword is another neighbor's TCP-MD5 password, configured by
// hand. FRR prints it in clear in the running configuration ("neighbor X
// password ..."); no error, message or log may quote it.
const handMadePassword = "hand-made-md5-secret-42"

// TestLabHandMadeErrorStrings: on a real FRR, hand-made neighbors whose
// descriptions hold each of the platform's failure strings are text, not
// errors: the leaf is read, planned and applied, and the hand-made lines
// stay. A line FRR refuses afterwards (local-as equal to the remote AS)
// stops the switch with FRR's reply in one line, and nothing the driver
// reports or logs holds another neighbor's password.
func TestLabHandMadeErrorStrings(t *testing.T) {
	e := labSetup(t)
	lines := []string{"router bgp 63500", "neighbor 10.9.9.99 remote-as 65099", "neighbor 10.9.9.99 password " + handMadePassword}
	for i, s := range frrErrorStrings {
		n := "10.9.9." + string(rune('1'+i/10)) + string(rune('0'+i%10))
		lines = append(lines, "neighbor "+n+" remote-as 65010", "neighbor "+n+" description core uplink "+s+" see ticket 42")
	}
	if err := e.lab.Configure(e.ctx, "leaf201", lines...); err != nil {
		t.Fatal(err)
	}
	d := e.driver(t, e.fabric(func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	want := fabric.State{}
	for _, p := range labState().Peers {
		if p.Switch == "leaf201" {
			want.Peers = append(want.Peers, p)
		}
	}
	for _, f := range labState().PrefixFilters {
		if f.Switch == "leaf201" {
			want.PrefixFilters = append(want.PrefixFilters, f)
		}
	}
	_, res, err := reconcile(t, e.ctx, d, want)
	if err != nil {
		t.Fatalf("apply with hand-made error strings in the descriptions: %v", err)
	}
	assertConverged(t, e.ctx, d, want)
	reported := strings.Join(res.Messages, "\n")
	out, err := e.lab.Vtysh(e.ctx, "leaf201", "show running-config bgpd")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range frrErrorStrings {
		if !strings.Contains(out, "core uplink "+s+" see ticket 42") {
			t.Errorf("the hand-made description with %q is gone", s)
		}
	}
	if !strings.Contains(out, "password "+handMadePassword) {
		t.Fatalf("the lab's FRR does not show the hand-made password; the test proves nothing:\n%s", out)
	}

	// A line FRR refuses, with the passwords in the running configuration.
	bad := want
	bad.Peers = append([]fabric.BGPPeer(nil), want.Peers...)
	bad.Peers[1].LocalASN = bad.Peers[1].RemoteASN
	_, res, err = reconcile(t, e.ctx, d, bad)
	if err == nil {
		t.Fatal("FRR took local-as equal to the remote AS")
	}
	if !strings.Contains(err.Error(), "refused \"neighbor 192.168.9.194 local-as 63552 no-prepend replace-as\": %") {
		t.Errorf("error %v", err)
	}
	reported += "\n" + err.Error() + "\n" + strings.Join(res.Messages, "\n")
	if strings.Contains(reported+e.log.String(), handMadePassword) {
		t.Errorf("another neighbor's password reached the messages, errors or log:\n%s\n%s", reported, e.log.String())
	}
}
