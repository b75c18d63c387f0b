package aci

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

func deleteOf(o fabric.Object) fabric.Change {
	k := fabric.KeyOf(o)
	return fabric.Change{Action: fabric.ActionDelete, Kind: k.Kind, Switch: k.Switch, ID: k.ID, Before: o}
}

// checkNative fails when rendered output could be read as anything but
// comments and one JSON body: every line before "# POST" is a comment, the
// rest parses as JSON, and no line holds a control character or runs on.
func checkNative(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if len(l) > 1200 {
			t.Errorf("line %d is %d bytes long", i+1, len(l))
		}
		for _, r := range l {
			if !unicode.IsPrint(r) {
				t.Errorf("line %d holds %U: %q", i+1, r, l)
			}
		}
		if strings.HasPrefix(l, "# POST ") {
			var body map[string]any
			if err := json.Unmarshal([]byte(strings.Join(lines[i+1:], "\n")), &body); err != nil {
				t.Errorf("the body after line %d is not one JSON object: %v", i+1, err)
			}
			return
		}
		if !strings.HasPrefix(l, "# ") {
			t.Errorf("line %d is not a comment: %q\n%s", i+1, l, out)
		}
	}
}

// TestRenderEscapesTamperedIDs: a plan built from a tampered saved
// observation (ids holding line breaks, terminal escapes, 10 kB) renders
// with every id escaped and bounded, online and offline (case 2.3).
func TestRenderEscapesTamperedIDs(t *testing.T) {
	evil := "10.9.9.9\nno router bgp 63500\n!"
	long := strings.Repeat("A", 10000) + "\nno router bgp 1"
	for _, c := range []struct {
		name     string
		plan     fabric.Changeset
		mentions string // an escaped form the output must show
	}{
		{"peer address with line breaks", fabric.Changeset{Changes: []fabric.Change{deleteOf(fabric.BGPPeer{Switch: "leaf201", PeerAddress: evil,
			RemoteASN: 1, LocalASN: 1, AddressFamily: fabric.IPv4})}}, `"10.9.9.9\nno router bgp 63500\n!"`},
		{"switch name with a line break", fabric.Changeset{Changes: []fabric.Change{deleteOf(fabric.BGPPeer{Switch: "leaf201\nshutdown",
			PeerAddress: "10.0.0.1", RemoteASN: 1, LocalASN: 1, AddressFamily: fabric.IPv4})}}, `"leaf201\nshutdown"`},
		{"contract name with a line break", fabric.Changeset{Changes: []fabric.Change{deleteOf(fabric.Contract{Name: "CNT\n}]}evil",
			Provider: "EPG_A", Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 80}}})}}, `"CNT\n}]}evil"`},
		{"subnet group with an escape sequence", fabric.Changeset{Changes: []fabric.Change{deleteOf(fabric.ExternalSubnet{Group: "EPG\x1b[2J",
			Prefix: "10.0.0.0/8", Scopes: []fabric.Scope{fabric.ScopeImportSecurity}})}}, `"EPG\x1b[2J/10.0.0.0/8"`},
		{"10 kB id", fabric.Changeset{Changes: []fabric.Change{deleteOf(fabric.Contract{Name: long, Provider: "EPG_A"})}}, `"AAAA`},
		{"unknown kind", fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: "Vlan\nvlan 1", ID: "x",
			Before: fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 1}}}}, `"Vlan\nvlan 1"`},
		{"conflict with a line break in id and reason", fabric.Changeset{Conflicts: []fabric.Conflict{{Kind: fabric.KindBGPPeer,
			Switch: "leaf201", ID: evil, Reason: "in the way\nno router bgp 63500"}}}, `in the way\nno router bgp 63500`},
		{"a good change beside a bad one", fabric.Changeset{Changes: []fabric.Change{create(sub("EPG_K8_PODS", "10.1.0.0/16")),
			deleteOf(fabric.BGPPeer{Switch: "leaf201", PeerAddress: evil, RemoteASN: 1, LocalASN: 1, AddressFamily: fabric.IPv4})}}, `"rspathL3OutAtt`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, d := lab(t, emulator.Options{}, tlsCA)
			for _, online := range []bool{false, true} {
				if online {
					if _, err := d.Observe(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				out, err := d.Render(c.plan)
				if err != nil {
					t.Fatal(err)
				}
				checkNative(t, out)
				if strings.Contains(out, "\nno router bgp") || strings.Contains(out, "\nvlan 1") || strings.Contains(out, "\nshutdown") {
					t.Errorf("online=%v: a forged line reached the output:\n%s", online, out)
				}
				if c.name != "a good change beside a bad one" && !strings.Contains(out, c.mentions) {
					t.Errorf("online=%v: the output does not name the object as %s:\n%s", online, c.mentions, out)
				}
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.168.9.193", "192.168.9.193"},
		{"L3O_EXTERNAL/EPG_DEFAULT/10.0.0.0/8", "L3O_EXTERNAL/EPG_DEFAULT/10.0.0.0/8"},
		{"2001:db8::1", "2001:db8::1"},
		{"", `""`},
		{"a b", `"a b"`},
		{"a\nb", `"a\nb"`},
		{"\u202eevil", `"\u202eevil"`},
		{strings.Repeat("x", 101), `"` + strings.Repeat("x", 80) + `"...`},
		{strings.Repeat("é", 50), `"` + strings.Repeat("é", 40) + `"...`},
	} {
		if got := printable(c.in); got != c.want {
			t.Errorf("printable(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a\nb\tc", `a\nb\tc`},
		{"zero\u200bwidth", `zero\u200bwidth`},
	} {
		if got := oneLine(c.in); got != c.want {
			t.Errorf("oneLine(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := oneLine(strings.Repeat("y", 5000)); len(got) > maxLine+3 {
		t.Errorf("oneLine kept %d bytes", len(got))
	}
}
