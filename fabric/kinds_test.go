package fabric

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every kind is declared once and every layer follows the declaration: a
// sample of each kind survives the JSON round trip through DecodeObject,
// renders one text line per JSON attribute, and has a place in plan order.
func TestEveryKindFollowsItsDeclaration(t *testing.T) {
	samples := map[Kind]Object{
		KindBGPPeer:        BGPPeer{Switch: "leaf201", Node: "n", PeerAddress: "10.0.0.1", RemoteASN: 1, LocalASN: 2, AddressFamily: IPv4},
		KindExternalSubnet: ExternalSubnet{Group: "G", Prefix: "10.0.0.0/24", Scopes: []Scope{ScopeImportSecurity}},
		KindMaximumPaths:   MaximumPaths{Switch: "leaf201", AddressFamily: IPv6, Paths: 4},
		KindSessionPolicy:  SessionPolicy{Keepalive: 3, Hold: 9, GracefulRestart: 120, MultipathRelax: true},
		KindContract:       Contract{Name: "C", Provider: "G", Consumers: []string{"X"}, Entries: []ContractEntry{{Protocol: "tcp", Port: 80}}},
		KindPrefixFilter:   PrefixFilter{Switch: "leaf201", Node: "n", PeerAddress: "10.0.0.1", Prefixes: []PrefixRule{{Prefix: "10.1.0.0/16", LE: 32}}},
		KindBGPListen: BGPListen{Switch: "leaf201", AddressFamily: IPv4, Ranges: []string{"10.0.0.0/24"}, RemoteAS: RemoteASExternal,
			LocalASN: 2, Limit: 100, Prefixes: []PrefixRule{{Prefix: "10.1.0.0/16", LE: 26}}},
	}
	if len(samples) != len(Kinds) {
		t.Fatalf("a kind without a sample: %v", Kinds)
	}
	for i, k := range Kinds {
		o, ok := samples[k]
		if !ok {
			t.Fatalf("no sample of %s", k)
		}
		if kindRank(k) != i {
			t.Errorf("%s: rank %d, want %d", k, kindRank(k), i)
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeObject(k, o.SwitchName(), o.ID(), b)
		if err != nil || !Equal(back, o) || back.SwitchName() != o.SwitchName() {
			t.Errorf("%s: round trip gave %+v, %v", k, back, err)
		}
		var fields map[string]any
		_ = json.Unmarshal(b, &fields)
		if got := attributes(o); len(got) != len(fields) {
			t.Errorf("%s: %d text attributes for %d JSON attributes: %v", k, len(got), len(fields), got)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("%s: the sample is invalid: %v", k, err)
		}
	}
	if _, err := DecodeObject("Route", "", "x", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("unknown kind: %v", err)
	}
}
