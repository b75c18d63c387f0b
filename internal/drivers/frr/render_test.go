package frr

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// TestRenderEscapesTamperedIDs: ids from a tampered saved observation
// (red-team case 2.3) are refused and shown escaped; plan -o native never
// holds a configuration line that came from them.
func TestRenderEscapesTamperedIDs(t *testing.T) {
	const evil = "10.9.9.9\nno router bgp 63500\n!"
	tests := []struct {
		name string
		plan fabric.Changeset
		want string // a line the output must hold
	}{
		{name: "peer deleted",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "leaf202", ID: evil}}},
			want: `! refused delete BGPPeer leaf202/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break`},
		{name: "filter deleted",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindPrefixFilter, Switch: "leaf202", ID: evil}}},
			want: `! refused delete PrefixFilter leaf202/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break`},
		{name: "maximum-paths deleted",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindMaximumPaths, Switch: "leaf202", ID: "ipv4\r\nno router bgp 63500"}}},
			want: `! refused delete MaximumPaths leaf202/"ipv4\r\nno router bgp 63500": address family "ipv4\r\nno router bgp 63500" must be ipv4 or ipv6`},
		{name: "unknown kind",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: "Evil\nno router bgp 63500", Switch: "leaf202", ID: "x"}}},
			want: `! refused delete "Evil\nno router bgp 63500" leaf202/x: "Evil\nno router bgp 63500" objects are not configured on FRR`},
		{name: "conflict",
			plan: fabric.Changeset{Conflicts: []fabric.Conflict{{Kind: fabric.KindBGPPeer, Switch: "leaf202", ID: evil, Reason: "in the way\nno router bgp 63500"}}},
			want: `! conflict BGPPeer leaf202/"10.9.9.9\nno router bgp 63500\n!": in the way no router bgp 63500`},
		{name: "a switch not in the configuration",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "leaf9\nno router bgp 63500", ID: "10.0.0.1"}}},
			want: `! switch "leaf9\nno router bgp 63500" is not in the configuration: 1 change(s) not rendered`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDriver(t, testFabric(63500, ""))
			got, err := d.Render(tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			assertNoForeignLine(t, got)
			if !strings.Contains(got, tt.want+"\n") {
				t.Fatalf("Render:\n%s\nwant a line:\n%s", got, tt.want)
			}
		})
	}
}

// assertNoForeignLine fails when rendered configuration holds a line that is
// neither a "!" comment nor one of the driver's own lines, or a control
// character.
func assertNoForeignLine(t *testing.T, native string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(native, "\n"), "\n") {
		if !strings.HasPrefix(l, "! ") && l != "configure terminal" && l != "end" {
			t.Errorf("line %q is not a comment", l)
		}
		for _, r := range l {
			if r < 0x20 || r == 0x7f {
				t.Errorf("line %q holds %U", l, r)
			}
		}
	}
}

// TestApplyErrorsEscapeTamperedIDs: the same tampered ids, applied, are
// refused without contacting the switch (nothing listens at its address),
// and the error shows them escaped, one line.
func TestApplyErrorsEscapeTamperedIDs(t *testing.T) {
	const evil = "10.9.9.9\nno router bgp 63500\n!"
	tests := []struct {
		kind fabric.Kind
		want string
	}{
		{fabric.KindBGPPeer, `refused delete BGPPeer leaf202/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break`},
		{fabric.KindPrefixFilter, `refused delete PrefixFilter leaf202/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break`},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			d := newTestDriver(t, testFabric(63500, ""))
			sw, _ := d.switches.ByName("leaf202")
			s, err := d.script(sw, emptyConfig(63500, ""), []fabric.Change{{Action: fabric.ActionDelete, Kind: tt.kind, Switch: "leaf202", ID: evil}})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Lines()) != 0 {
				t.Fatalf("lines planned: %q", s.Text())
			}
			errs := refusalErrors(s)
			if len(errs) != 1 || errs[0].Error() != tt.want {
				t.Fatalf("errors %v, want %s", errs, tt.want)
			}
		})
	}
}
