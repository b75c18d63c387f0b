package aci

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// ACI filters match ports of tcp and udp only: an SCTP port is skipped when
// the plan is made, and the contract carries the others (before, the plan
// showed the contract and every sync failed on it).
func TestDesireSkipsWhatACIRefuses(t *testing.T) {
	cfg := config.Fabric{Name: "f", Driver: "aci", Platform: &Settings{L3Out: "L3O", ExternalEPGs: ExternalEPGs{
		Nodes: "EPG_NODES", Pods: "EPG_PODS", Service: "EPG_{namespace}_{name}"}, Contract: "CNT_{namespace}_{name}"}}
	in := fabric.Intent{Fabric: "f",
		Sessions: []fabric.Session{{Switch: "leaf201", Node: "n1", NodeAddress: netip.MustParsePrefix("192.168.9.193/28"), RemoteASN: 1, LocalASN: 2,
			AddressFamily: fabric.IPv4}, {Switch: "leaf201", Node: strings.Repeat("n", 129), NodeAddress: netip.MustParsePrefix("192.168.9.194/28"),
			RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4}},
		Services: []fabric.ServiceIntent{
			{Namespace: "x", Name: "mixed", OwnIPs: []netip.Addr{netip.MustParseAddr("172.29.0.1")},
				Ports: []fabric.ContractEntry{{Protocol: "tcp", Port: 85}, {Protocol: "sctp", Port: 85}}},
			{Namespace: "x", Name: "sctponly", OwnIPs: []netip.Addr{netip.MustParseAddr("172.29.0.2")},
				Ports: []fabric.ContractEntry{{Protocol: "sctp", Port: 9}}},
		}}
	r := Desire(cfg, in)
	if len(r.State.Contracts) != 1 || r.State.Contracts[0].Name != "CNT_x_mixed" || len(r.State.Contracts[0].Entries) != 1 ||
		r.State.Contracts[0].Entries[0].Protocol != "tcp" {
		t.Errorf("contracts %+v, want CNT_x_mixed with tcp/85 only", r.State.Contracts)
	}
	if len(r.State.Peers) != 1 {
		t.Errorf("peers %+v: a node name that cannot be a descr is not planned", r.State.Peers)
	}
	var why []string
	for _, s := range r.Skipped {
		why = append(why, s.Object+": "+s.Reason)
	}
	all := strings.Join(why, "\n")
	for _, want := range []string{"Service/x/mixed: fabric f: port sctp/85", "Service/x/sctponly: fabric f: port sctp/9", "cannot be an ACI peer's descr"} {
		if !strings.Contains(all, want) {
			t.Errorf("skips lack %q:\n%s", want, all)
		}
	}
}
