package emulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSemanticRulesRaiseFaults: each of ACI's semantic rules raises a fault
// on the offending object when the setting is wrong, none when it is right,
// and the fault is cleared when the cause goes.
func TestSemanticRulesRaiseFaults(t *testing.T) {
	const tn = "uni/tn-TEN_K8_C1"
	const path = tn + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]"
	cases := []struct {
		name    string
		dn      string // where the payload is posted
		payload string
		faultOn string // "" for no fault
		rule    string
	}{
		{"import-security prefix unique in the VRF", tn + "/out-L3O_K8_C1/instP-EPG_K8_NODES",
			`{"l3extSubnet":{"attributes":{"ip":"192.168.9.192/28","scope":"import-security"}}}`, "", ""},
		{"import-security prefix in two EPGs of one VRF", tn + "/out-L3O_K8_C1/instP-EPG_K8_NODES",
			`{"l3extSubnet":{"attributes":{"ip":"0.0.0.0/0","scope":"import-security"}}}`,
			tn + "/out-L3O_K8_C1/instP-EPG_K8_NODES/extsubnet-[0.0.0.0/0]", RuleDuplicatePrefix},
		{"aggregate export on 0/0 with its scope", tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS",
			`{"l3extSubnet":{"attributes":{"ip":"0.0.0.0/0","scope":"export-rtctrl","aggregate":"export-rtctrl"}}}`, "", ""},
		{"aggregate export on a /16", tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS",
			`{"l3extSubnet":{"attributes":{"ip":"172.27.0.0/16","scope":"export-rtctrl","aggregate":"export-rtctrl"}}}`,
			tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS/extsubnet-[172.27.0.0/16]", RuleAggregate},
		{"aggregate export without the export scope", tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS",
			`{"l3extSubnet":{"attributes":{"ip":"0.0.0.0/0","scope":"shared-rtctrl","aggregate":"export-rtctrl"}}}`,
			tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS/extsubnet-[0.0.0.0/0]", RuleAggregate},
		{"IPv4 peer on an IPv4 path", path, `{"bgpPeerP":{"attributes":{"addr":"192.168.9.193"}}}`, "", ""},
		{"IPv6 peer on an IPv4 path", path, `{"bgpPeerP":{"attributes":{"addr":"2001:db8:9::193"}}}`,
			path + "/peerP-[2001:db8:9::193]", RulePeerFamily},
		{"import-rtctrl subnet without import enforcement", tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS",
			`{"l3extSubnet":{"attributes":{"ip":"10.9.0.0/16","scope":"import-rtctrl"}}}`,
			tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS/extsubnet-[10.9.0.0/16]", RuleImportEnforce},
		{"import route map on a peer of an L3Out enforcing import", path,
			`{"bgpPeerP":{"attributes":{"addr":"192.168.9.194"},"children":[{"bgpRsPeerToProfile":{"attributes":{"tDn":"uni/tn-TEN_K8_C1/prof-x","direction":"import"}}}]}}`, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := New(Options{})
			seed, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "haystack", "apic-baseline.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := sim.Post("uni", seed); err != nil {
				t.Fatalf("seed: %v", err)
			}
			if f := sim.Faults(tn); len(f) != 0 {
				t.Fatalf("the baseline raises faults: %v", f)
			}
			if err := sim.Post(c.dn, []byte(c.payload)); err != nil {
				t.Fatalf("post: %v", err)
			}
			got := sim.Faults(tn)
			if c.faultOn == "" {
				if len(got) != 0 {
					t.Fatalf("faults raised for a right setting: %v", got)
				}
				return
			}
			if len(got) != 1 || got[0].DN != c.faultOn+"/fault-"+deployFault || got[0].Attrs["cause"] != c.rule ||
				got[0].Attrs["lc"] != "raised" || !strings.Contains(got[0].Attrs["descr"], "Configuration failed for") {
				t.Fatalf("want one %s fault on %s, got %+v", c.rule, c.faultOn, got)
			}
			// The cause goes, and the fault with it.
			if !sim.Delete(c.faultOn) {
				t.Fatalf("delete %s", c.faultOn)
			}
			if f := sim.Faults(tn); len(f) != 0 {
				t.Fatalf("the fault outlived its cause: %v", f)
			}
		})
	}
}

// TestFaultsAreNotConfigurable: a POST holding a faultInst is refused.
func TestFaultsAreNotConfigurable(t *testing.T) {
	sim := New(Options{})
	if err := sim.Post("uni", []byte(`{"polUni":{"attributes":{},"children":[{"fvTenant":{"attributes":{"name":"T"},"children":[{"faultInst":{"attributes":{"code":"F0467"}}}]}}]}}`)); err == nil {
		t.Fatal("a faultInst was accepted in a POST")
	}
}
