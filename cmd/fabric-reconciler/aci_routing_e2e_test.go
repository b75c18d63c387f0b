package main

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// TestACIHaystackLocalAS: sync of examples/haystack into an emulator holding
// fabric AS 65000 (the reference lab's baseline) gives each of the 6 peers
// local-AS 63500, the AS their Calico BGPPeers expect.
func TestACIHaystackLocalAS(t *testing.T) {
	l := newACILab(t, labOpts{})
	if _, a, ok := l.sim.Lookup("uni/fabric/bgpInstP-default/as"); !ok || a["asn"] != "65000" {
		t.Fatalf("the baseline's fabric AS: %v", a)
	}
	l.sync(t)
	const lifp = tenantDN + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1"
	peers := 0
	for _, leaf := range []string{"201", "202"} {
		for _, node := range []string{"192.168.9.193", "192.168.9.194", "192.168.9.195"} {
			dn := lifp + "/rspathL3OutAtt-[topology/pod-1/paths-" + leaf + "/pathep-[eth1/33]]/peerP-[" + node + "]/localasn"
			_, a, ok := l.sim.Lookup(dn)
			if !ok || a["localAsn"] != "63500" || a["asnPropagate"] != "none" {
				t.Errorf("%s: %v (present %v), want localAsn 63500", dn, a, ok)
				continue
			}
			peers++
		}
	}
	if peers != 6 {
		t.Fatalf("%d of 6 peers have local-AS 63500", peers)
	}
}

// TestACISyncReportsFaults: when the APIC accepts the POST but raises a
// fault on one of this cluster's objects (a setting a person made by hand
// that the driver's objects then contradict), sync says the fabric did not
// converge, with the fault's code and text, and exits non-zero.
func TestACISyncReportsFaults(t *testing.T) {
	for _, c := range []struct {
		name, dn, payload, want string
	}{
		{"import route control no longer enforced on the cluster's L3Out", tenantDN + "/out-L3O_K8_C1",
			`{"l3extOut":{"attributes":{"enforceRtctrl":"export"}}}`, emulator.RuleImportEnforce},
		{"the pod pool already classified in another EPG of the VRF", tenantDN + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT",
			`{"l3extSubnet":{"attributes":{"ip":"172.27.0.0/16","scope":"import-security"}}}`, emulator.RuleDuplicatePrefix},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newACILab(t, labOpts{})
			if err := l.sim.Post(c.dn, []byte(c.payload)); err != nil {
				t.Fatal(err)
			}
			r := l.cli(t, "sync")
			if r.code == 0 {
				t.Fatalf("sync exited 0:\n%s", r.stdout)
			}
			for _, w := range []string{"FAILED", "not converged", "F0467", c.want} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("sync output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}
