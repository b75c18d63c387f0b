package nxos

import (
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// TestRenderEscapesTamperedIDs: ids from a tampered saved observation
// (red-team case 2.3) are refused and shown escaped; plan -o native never
// holds a configuration line that came from them. Offline: no switch is
// contacted.
func TestRenderEscapesTamperedIDs(t *testing.T) {
	const evil = "10.9.9.9\nno router bgp 63500\n!"
	tests := []struct {
		name string
		plan fabric.Changeset
		want string // a line the output must hold
	}{
		{name: "peer deleted",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: evil}}},
			want: `! refused delete BGPPeer leaf201/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break`},
		{name: "filter deleted",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: evil}}},
			want: `! refused delete PrefixFilter leaf201/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break`},
		{name: "maximum-paths deleted",
			plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionDelete, Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv4\r\nno router bgp 63500"}}},
			want: `! refused delete MaximumPaths leaf201/"ipv4\r\nno router bgp 63500": address family "ipv4\r\nno router bgp 63500" must be ipv4 or ipv6`},
		{name: "conflict",
			plan: fabric.Changeset{Conflicts: []fabric.Conflict{{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: evil, Reason: "in the way\nno router bgp 63500"}}},
			want: `! conflict BGPPeer leaf201/"10.9.9.9\nno router bgp 63500\n!": in the way no router bgp 63500`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(config.Fabric{Name: "x", Driver: Name, ASN: 63500,
				Switches: []config.Switch{clissh.WithAddress(config.Switch{Name: "leaf201", PeerIPs: []string{"192.168.9.204"}}, "127.0.0.1:1")},
				Platform: &clissh.Settings{SSH: clissh.SSH{Username: "admin", PasswordFile: "/nonexistent", InsecureIgnoreHostKey: true,
					Timeout: config.Duration{Duration: time.Second}}}},
				drivers.Options{Cluster: "haystack"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			got, err := d.Render(tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				if strings.Contains(l, "router bgp") && !strings.HasPrefix(l, "! ") {
					t.Errorf("line %q is configuration that came from a tampered id", l)
				}
				for _, r := range l {
					if r < 0x20 || r == 0x7f {
						t.Errorf("line %q holds %U", l, r)
					}
				}
			}
			if !strings.Contains(got, tt.want+"\n") {
				t.Fatalf("Render:\n%s\nwant a line:\n%s", got, tt.want)
			}
		})
	}
}
