package aci

import (
	"context"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

const leaf202 = ourL3Out + "/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-202/pathep-[eth1/33]]"

// TestAdopt: on the baseline tenant with hand-built peers and subnets,
// adoption marks exactly the unmarked objects identical to the desired
// ones (the peer with its remote and local AS), and nothing else: the
// differing, other-owned, unreadable and undesired ones stay byte for byte,
// and a hand-made EPG's identical subnet is not taken without the EPG.
// Afterwards a plan sees the adopted ones as owned and in place.
func TestAdopt(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	// These peers' nodes expect the fabric's own AS (peer() presents 63500).
	srv.SetAttr("uni/fabric/bgpInstP-default/as", "asn", "63500")
	ctx := context.Background()

	withLocal := func(p fabric.BGPPeer, local uint32) fabric.BGPPeer { p.LocalASN = local; return p }
	want := fabric.StateOf(
		peer("leaf201", "192.168.9.193"), withLocal(peer("leaf202", "192.168.9.193"), 63600),
		peer("leaf201", "192.168.9.194"), withLocal(peer("leaf202", "192.168.9.194"), 63600),
		peer("leaf201", "192.168.9.195"), peer("leaf202", "192.168.9.195"), withLocal(peer("leaf201", "192.168.9.196"), 63600),
		sub("EPG_K8_NODES", "192.168.9.192/28"), sub("EPG_WEB", "172.29.0.6/32"), relaxTimers(3, 9),
	)
	hand := func(path, addr, descr string, kids ...[2]any) {
		attrs := map[string]string{"addr": addr, "descr": descr}
		handMade(t, srv, path, "bgpPeerP", attrs)
		for _, k := range kids {
			handMade(t, srv, path+"/peerP-["+addr+"]", k[0].(string), k[1].(map[string]string))
		}
	}
	as := func(n string) [2]any { return [2]any{"bgpAsP", map[string]string{"asn": n}} }
	local := func(n string, extra ...string) [2]any {
		a := map[string]string{"localAsn": n}
		if len(extra) == 2 {
			a[extra[0]] = extra[1]
		}
		return [2]any{"bgpLocalAsnP", a}
	}
	// Identical: adopted.
	hand(leaf201, "192.168.9.193", "node-192.168.9.193", as("65001"))
	hand(leaf202, "192.168.9.193", "node-192.168.9.193", as("65001"), local("63600"))
	handMade(t, srv, ourL3Out+"/instP-EPG_K8_NODES", "l3extSubnet", map[string]string{"ip": "192.168.9.192/28", "scope": "import-security"})
	// Differing, other-owned or not adoptable: left alone.
	hand(leaf201, "192.168.9.194", "node-192.168.9.194", as("65002"))
	hand(leaf202, "192.168.9.194", "node-192.168.9.194", as("65001"), local("63999"))
	hand(leaf201, "192.168.9.195", "built by hand", as("65001"))
	handMade(t, srv, leaf202, "bgpPeerP", map[string]string{"addr": "192.168.9.195", "descr": "node-192.168.9.195", "annotation": "orchestrator:terraform"})
	hand(leaf201, "192.168.9.196", "node-192.168.9.196", as("65001"), local("63600", "asnPropagate", "no-prepend"))
	handMade(t, srv, ourL3Out, "l3extInstP", map[string]string{"name": "EPG_WEB", "descr": "hand-made"})
	handMade(t, srv, ourL3Out+"/instP-EPG_WEB", "l3extSubnet", map[string]string{"ip": "172.29.0.6/32", "scope": "import-security"})
	handMade(t, srv, ourNP, "bgpProtP", map[string]string{})
	handMade(t, srv, tnDN, "bgpCtxPol", map[string]string{"name": "BGP_TIMERS_unit", "kaIntvl": "3", "holdIntvl": "9"})
	// Not desired at all: never looked at.
	hand(leaf201, "10.9.9.9", "someone", as("65009"))

	peerDN := func(path, addr string) string { return path + "/peerP-[" + addr + "]" }
	untouched := []string{peerDN(leaf201, "192.168.9.194"), peerDN(leaf202, "192.168.9.194"), peerDN(leaf201, "192.168.9.195"),
		peerDN(leaf202, "192.168.9.195"), peerDN(leaf201, "192.168.9.196"), ourL3Out + "/instP-EPG_WEB", peerDN(leaf201, "10.9.9.9"),
		ourProtP, ourTimers}
	before := map[string]string{}
	for _, dn := range untouched {
		before[dn] = dump(srv, dn)
	}

	desired := fabric.Target{Name: "f", Driver: "aci", State: want}
	obs, err := d.ObserveForAdoption(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Adoption(desired, obs)
	wantAdopt := []string{"adopt BGPPeer leaf201/192.168.9.193", "adopt BGPPeer leaf202/192.168.9.193", "adopt ExternalSubnet EPG_K8_NODES/192.168.9.192/28"}
	if got := changeKeys(plan.Changes); strings.Join(got, "\n") != strings.Join(wantAdopt, "\n") {
		t.Fatalf("adoptions %q, want %q", got, wantAdopt)
	}
	wantConflicts := map[string]string{
		"BGPPeer leaf201/192.168.9.194":        "remoteASN 65002 on the fabric, 65001 desired",
		"BGPPeer leaf202/192.168.9.194":        "localASN 63999 on the fabric, 63600 desired",
		"BGPPeer leaf201/192.168.9.195":        `node "built by hand" on the fabric, "node-192.168.9.195" desired`,
		"BGPPeer leaf202/192.168.9.195":        "never adopted",
		"BGPPeer leaf201/192.168.9.196":        `asnPropagate "no-prepend"`,
		"ExternalSubnet EPG_WEB/172.29.0.6/32": "its container is not the cluster's",
		"SessionPolicy bgp":                    "does not adopt them",
	}
	if len(plan.Conflicts) != len(wantConflicts) {
		t.Errorf("conflicts %+v", plan.Conflicts)
	}
	for _, c := range plan.Conflicts {
		k := fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String()
		if w, ok := wantConflicts[k]; !ok || !strings.Contains(c.Reason, w) {
			t.Errorf("conflict %s: %s; want ...%s...", k, c.Reason, w)
		}
	}

	res, err := d.Adopt(ctx, plan)
	if err != nil || len(res.Applied) != 3 {
		t.Fatalf("adopt: %v (%+v)", err, res)
	}
	for _, dn := range []string{peerDN(leaf201, "192.168.9.193"), peerDN(leaf201, "192.168.9.193") + "/as",
		peerDN(leaf201, "192.168.9.193") + "/rspeerPfxPol", // the relation the APIC makes under a new peer
		peerDN(leaf202, "192.168.9.193"), peerDN(leaf202, "192.168.9.193") + "/as", peerDN(leaf202, "192.168.9.193") + "/localasn",
		ourL3Out + "/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]"} {
		if _, attrs, ok := srv.Lookup(dn); !ok || attrs["annotation"] != ourMark {
			t.Errorf("%s not adopted: %v", dn, attrs)
		}
	}
	if _, attrs, _ := srv.Lookup(ourL3Out + "/instP-EPG_K8_NODES"); attrs["annotation"] != "" {
		t.Errorf("the configured container EPG_K8_NODES was annotated: %v", attrs)
	}
	for _, dn := range untouched {
		if now := dump(srv, dn); now != before[dn] {
			t.Errorf("%s was changed:\n%s\n->\n%s", dn, before[dn], now)
		}
	}

	// A second look: the adopted objects are owned and in place; the rest
	// are still conflicts; nothing is left to adopt.
	obs, err = d.ObserveForAdoption(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again := fabric.Adoption(desired, obs); len(again.Changes) != 0 || len(again.Conflicts) != len(wantConflicts) {
		t.Errorf("second adoption: %q, %d conflicts", changeKeys(again.Changes), len(again.Conflicts))
	}
	p := fabric.Diff(desired, obs)
	if len(p.Changes) != 0 {
		t.Errorf("plan after adoption changes %q", changeKeys(p.Changes))
	}
	for _, k := range []fabric.Key{{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193"}, {Kind: fabric.KindBGPPeer, Switch: "leaf202", ID: "192.168.9.193"}} {
		found := false
		for _, o := range obs.Owned.Objects() {
			found = found || fabric.KeyOf(o) == k
		}
		if !found {
			t.Errorf("%s is not owned after adoption", k)
		}
	}
}

// An object changed by hand after the plan was read is not adopted, even if
// the caller skips the check under the lock: Adopt re-reads it from its
// latest observation.
func TestAdoptRefusesWhatChanged(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	// These peers' nodes expect the fabric's own AS (peer() presents 63500).
	srv.SetAttr("uni/fabric/bgpInstP-default/as", "asn", "63500")
	ctx := context.Background()
	handMade(t, srv, leaf201, "bgpPeerP", map[string]string{"addr": "192.168.9.193", "descr": "node-192.168.9.193"})
	handMade(t, srv, leaf201+"/peerP-[192.168.9.193]", "bgpAsP", map[string]string{"asn": "65001"})
	desired := fabric.Target{Name: "f", Driver: "aci", State: fabric.StateOf(peer("leaf201", "192.168.9.193"))}
	obs, err := d.ObserveForAdoption(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Adoption(desired, obs)
	if len(plan.Changes) != 1 {
		t.Fatalf("plan %+v", plan)
	}
	srv.SetAttr(leaf201+"/peerP-[192.168.9.193]/as", "asn", "65005")
	if _, err := d.ObserveForAdoption(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := d.Adopt(ctx, plan)
	if err == nil || len(res.Applied) != 0 || !strings.Contains(err.Error(), "remoteASN 65005") {
		t.Errorf("adopt: %v, %+v", err, res)
	}
	if _, attrs, _ := srv.Lookup(leaf201 + "/peerP-[192.168.9.193]"); attrs["annotation"] != "" {
		t.Errorf("changed peer was adopted: %v", attrs)
	}
	// Apply never adopts, whatever it is given.
	srv.SetAttr(leaf201+"/peerP-[192.168.9.193]/as", "asn", "65001")
	if _, err := d.ObserveForAdoption(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(ctx, plan); err == nil {
		t.Error("Apply took an adoption without complaint")
	}
	if _, attrs, _ := srv.Lookup(leaf201 + "/peerP-[192.168.9.193]"); attrs["annotation"] != "" {
		t.Errorf("Apply adopted: %v", attrs)
	}
}
