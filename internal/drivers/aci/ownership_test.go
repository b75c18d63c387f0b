package aci

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

const (
	tnDN      = "uni/tn-TEN_K8_C1"
	ourL3Out  = tnDN + "/out-L3O_K8_C1"
	extL3Out  = tnDN + "/out-L3O_EXTERNAL"
	webEPG    = ourL3Out + "/instP-EPG_WEB"
	webBrc    = tnDN + "/brc-CNT_WEB"
	webFlt    = tnDN + "/flt-CNT_WEB_flt"
	leaf201   = ourL3Out + "/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]"
	ourMark   = "orchestrator:fabric-reconciler.unit"
	otherMark = "orchestrator:fabric-reconciler.haystack2"
	// The BGP protocol profile and its policies (protocol.go).
	ourNP     = ourL3Out + "/lnodep-LNP_K8_C1"
	ourProtP  = ourNP + "/protp"
	ourTimers = tnDN + "/bgpCtxP-BGP_TIMERS_unit"
	ourBest   = tnDN + "/bestpath-BGP_BESTPATH_unit"
)

// relaxTimers is a session policy with the timers and AS-path multipath
// relax.
func relaxTimers(ka, hold int) fabric.SessionPolicy {
	return fabric.SessionPolicy{Keepalive: ka, Hold: hold, MultipathRelax: true}
}

// handMade posts one object under parent as a person (or another tool)
// would: with the attributes given, no mark unless given.
func handMade(t *testing.T, srv *emulator.Server, parent, class string, attrs map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{class: map[string]any{"attributes": attrs}})
	if err := srv.Post(parent, b); err != nil {
		t.Fatalf("hand-made %s under %s: %v", class, parent, err)
	}
}

func webContract(ports ...int) fabric.Contract {
	c := fabric.Contract{Name: "CNT_WEB", Provider: "EPG_WEB", Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"}}
	for _, p := range ports {
		c.Entries = append(c.Entries, fabric.ContractEntry{Protocol: "tcp", Port: p})
	}
	return c
}

func webService(ports ...int) fabric.State {
	return fabric.StateOf(sub("EPG_WEB", "172.29.0.6/32"), webContract(ports...))
}

func keys(cs []fabric.Conflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String())
	}
	sort.Strings(out)
	return out
}

func changeKeys(cs []fabric.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Action)+" "+c.Key().String())
	}
	sort.Strings(out)
	return out
}

// dump is what the emulator holds under dn (DN and configured attributes),
// to show that hand-made objects are left exactly as they were.
func dump(srv *emulator.Server, dn string) string {
	b, _ := json.Marshal(srv.Dump(dn))
	return string(b)
}

// TestNeverAdopt: an object without this cluster's mark at a place the
// driver would write is a conflict, in the plan where the observation can
// tell (cases 4.1, 4.2, 4.5) and at apply time where only the desired state
// can (case 4.4); it is never written into, re-annotated or deleted.
func TestNeverAdopt(t *testing.T) {
	for _, c := range []struct {
		name string
		// converged: the desired state is applied first, then the hand edit.
		converged fabric.State
		hand      func(t *testing.T, srv *emulator.Server)
		want      fabric.State
		// plan: the conflicts the plan lists, and its changes.
		conflicts, changes []string
		// applyConflicts: the changes Apply refuses as conflicts.
		applyConflicts []string
		// untouched are subtrees that must stay exactly as hand-made.
		untouched []string
		absent    []string
	}{
		{
			name: "4.2 hand-made filter at the derived name: the contract is a conflict in the plan",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, tnDN, "vzFilter", map[string]string{"name": "CNT_WEB_flt", "descr": "hand-made"})
			},
			want:      webService(80),
			conflicts: []string{"Contract CNT_WEB"},
			changes:   []string{"create ExternalSubnet EPG_WEB/172.29.0.6/32"},
			untouched: []string{webFlt},
			absent:    []string{webBrc},
		},
		{
			name: "4.4 hand-made EPG at the derived service name: a conflict in the plan, nothing is written into it",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, ourL3Out, "l3extInstP", map[string]string{"name": "EPG_WEB", "descr": "hand-made"})
				handMade(t, srv, webEPG, "l3extSubnet", map[string]string{"ip": "10.50.0.0/16"})
			},
			want:      webService(80),
			conflicts: []string{"Contract CNT_WEB", "ExternalSubnet EPG_WEB/172.29.0.6/32"},
			untouched: []string{webEPG},
			absent:    []string{webBrc, webFlt, extL3Out + "/instP-EPG_DEFAULT/rscons-CNT_WEB"},
		},
		{
			name:      "4.5 hand-made entry in an owned filter: the contract is a conflict, the entry is not taken over",
			converged: webService(80),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, webFlt, "vzEntry", map[string]string{"name": "tcp-443", "etherT": "ip", "prot": "tcp", "dFromPort": "443", "dToPort": "443"})
			},
			want:      webService(80, 443),
			conflicts: []string{"Contract CNT_WEB"},
			untouched: []string{webFlt + "/e-tcp-443"},
		},
		{
			name:      "4.5 the same entry once the port is no longer wanted: not deleted",
			converged: webService(80),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, webFlt, "vzEntry", map[string]string{"name": "tcp-443", "etherT": "ip", "prot": "tcp", "dFromPort": "443", "dToPort": "443"})
			},
			want:      webService(80),
			conflicts: []string{"Contract CNT_WEB"},
			untouched: []string{webFlt + "/e-tcp-443"},
		},
		{
			name:      "hand-made subject in an owned contract",
			converged: webService(80),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, webBrc, "vzSubj", map[string]string{"name": "hand-subj"})
			},
			want:      webService(8080),
			conflicts: []string{"Contract CNT_WEB"},
			untouched: []string{webBrc + "/subj-hand-subj"},
		},
		{
			name: "another cluster's consumer relation where ours goes",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, extL3Out+"/instP-EPG_DEFAULT", "fvRsCons", map[string]string{"tnVzBrCPName": "CNT_WEB", "annotation": otherMark})
			},
			want:      webService(80),
			conflicts: []string{"Contract CNT_WEB"},
			changes:   []string{"create ExternalSubnet EPG_WEB/172.29.0.6/32"},
			untouched: []string{extL3Out + "/instP-EPG_DEFAULT/rscons-CNT_WEB"},
			absent:    []string{webBrc},
		},
		{
			name: "a team's own consumer relation elsewhere is not in the way",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, extL3Out+"/instP-EPG_TRANSIT_OUT_K8_CIDRS", "fvRsCons", map[string]string{"tnVzBrCPName": "CNT_WEB"})
			},
			want:      webService(80),
			changes:   []string{"create Contract CNT_WEB", "create ExternalSubnet EPG_WEB/172.29.0.6/32"},
			untouched: []string{extL3Out + "/instP-EPG_TRANSIT_OUT_K8_CIDRS/rscons-CNT_WEB"},
		},
		{
			name:      "an unmarked remote AS under an owned peer: the peer is a conflict",
			converged: fabric.StateOf(peer("leaf201", "192.168.9.193")),
			hand: func(t *testing.T, srv *emulator.Server) {
				srv.SetAttr(leaf201+"/peerP-[192.168.9.193]/as", "annotation", "")
			},
			want: func() fabric.State {
				p := peer("leaf201", "192.168.9.193")
				p.RemoteASN = 65099
				return fabric.StateOf(p)
			}(),
			conflicts: []string{"BGPPeer leaf201/192.168.9.193"},
			untouched: []string{leaf201 + "/peerP-[192.168.9.193]"},
		},
		{
			name: "4.1 unmarked and other-owned objects before the first sync",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, leaf201, "bgpPeerP", map[string]string{"addr": "192.168.9.193"})
				handMade(t, srv, ourL3Out+"/instP-EPG_K8_NODES", "l3extSubnet", map[string]string{"ip": "192.168.9.192/28"})
				handMade(t, srv, tnDN, "bgpCtxAfPol", map[string]string{"name": "BGP_ECMP_unit", "annotation": otherMark})
				handMade(t, srv, tnDN, "vzBrCP", map[string]string{"name": "CNT_WEB"})
			},
			want: fabric.StateOf(peer("leaf201", "192.168.9.193"), sub("EPG_K8_NODES", "192.168.9.192/28"),
				fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 2}, webContract(80)),
			conflicts: []string{"BGPPeer leaf201/192.168.9.193", "Contract CNT_WEB", "ExternalSubnet EPG_K8_NODES/192.168.9.192/28", "MaximumPaths ipv4"},
			untouched: []string{leaf201 + "/peerP-[192.168.9.193]", ourL3Out + "/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]",
				tnDN + "/bgpCtxAfP-BGP_ECMP_unit", webBrc},
		},
		// The node profile's BGP protocol profile and its two policies
		// (protocol.go): a hand-made or another owner's object at the
		// derived place is never adopted, written into or deleted.
		{
			name: "hand-made BGP protocol profile in the node profile: the session policy is a conflict",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, ourNP, "bgpProtP", map[string]string{"descr": "hand-made"})
			},
			want:      fabric.StateOf(relaxTimers(3, 9)),
			conflicts: []string{"SessionPolicy bgp"},
			untouched: []string{ourProtP},
			absent:    []string{ourTimers, ourBest},
		},
		{
			name: "hand-made timers policy at the derived name",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, tnDN, "bgpCtxPol", map[string]string{"name": "BGP_TIMERS_unit", "kaIntvl": "30", "holdIntvl": "90"})
			},
			want:      fabric.StateOf(relaxTimers(3, 9)),
			conflicts: []string{"SessionPolicy bgp"},
			untouched: []string{ourTimers},
			absent:    []string{ourProtP, ourBest},
		},
		{
			name: "another cluster's best-path policy at the derived name",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, tnDN, "bgpBestPathCtrlPol", map[string]string{"name": "BGP_BESTPATH_unit", "ctrl": "", "annotation": otherMark})
			},
			want:      fabric.StateOf(relaxTimers(3, 9)),
			conflicts: []string{"SessionPolicy bgp"},
			untouched: []string{ourBest},
			absent:    []string{ourProtP, ourTimers},
		},
		{
			name:      "our timers policy with its mark taken off by hand: not rewritten with the new timers",
			converged: fabric.StateOf(relaxTimers(3, 9)),
			hand:      func(t *testing.T, srv *emulator.Server) { srv.SetAttr(ourTimers, "annotation", "") },
			want:      fabric.StateOf(relaxTimers(5, 15)),
			conflicts: []string{"SessionPolicy bgp"},
			untouched: []string{ourTimers, ourProtP, ourBest},
		},
		{
			name:      "a hand-made timers relation in our protocol profile: the profile is not written into",
			converged: fabric.StateOf(relaxTimers(3, 9)),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, tnDN, "bgpCtxPol", map[string]string{"name": "HAND_TIMERS"})
				srv.SetAttr(ourProtP+"/rsbgpNodeCtxPol", "annotation", "")
				srv.SetAttr(ourProtP+"/rsbgpNodeCtxPol", "tnBgpCtxPolName", "HAND_TIMERS")
			},
			want:      fabric.StateOf(relaxTimers(5, 15)),
			conflicts: []string{"SessionPolicy bgp"},
			untouched: []string{ourProtP, ourTimers, tnDN + "/bgpCtxP-HAND_TIMERS"},
		},
		{
			name: "a hand-made protocol profile when none is wanted: not deleted",
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, ourNP, "bgpProtP", map[string]string{"descr": "hand-made"})
				handMade(t, srv, tnDN, "bgpCtxPol", map[string]string{"name": "BGP_TIMERS_unit"})
			},
			untouched: []string{ourProtP, ourTimers},
		},
		{
			name:      "our timers policy outlives our profile while a hand-made profile elsewhere names it",
			converged: fabric.StateOf(relaxTimers(3, 9)),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, ourL3Out, "l3extLNodeP", map[string]string{"name": "LNP_HAND"})
				handMade(t, srv, ourL3Out+"/lnodep-LNP_HAND", "bgpProtP", map[string]string{})
				handMade(t, srv, ourL3Out+"/lnodep-LNP_HAND/protp", "bgpRsBgpNodeCtxPol", map[string]string{"tnBgpCtxPolName": "BGP_TIMERS_unit"})
			},
			changes:   []string{"delete SessionPolicy bgp"},
			untouched: []string{ourTimers, ourL3Out + "/lnodep-LNP_HAND"},
			absent:    []string{ourProtP, ourBest},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, emulator.Options{}, tlsCA)
			ctx := context.Background()
			if c.converged.Len() > 0 {
				reconcile(t, d, c.converged)
			}
			c.hand(t, srv)
			before := map[string]string{}
			for _, dn := range c.untouched {
				if before[dn] = dump(srv, dn); before[dn] == "null" {
					t.Fatalf("%s was not made", dn)
				}
			}

			obs, err := d.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: c.want}, obs)
			if got := keys(plan.Conflicts); strings.Join(got, "\n") != strings.Join(c.conflicts, "\n") {
				t.Errorf("plan conflicts %q, want %q", got, c.conflicts)
			}
			if got := changeKeys(plan.Changes); strings.Join(got, "\n") != strings.Join(c.changes, "\n") {
				t.Errorf("plan changes %q, want %q", got, c.changes)
			}
			res, err := d.Apply(ctx, plan)
			if (err != nil) != (len(c.applyConflicts) > 0) {
				t.Errorf("apply error %v, with %d conflicts found at apply time expected", err, len(c.applyConflicts))
			}
			var atApply []fabric.Conflict
			for _, rc := range res.Conflicts {
				if !strings.Contains(rc.Reason, "is in the way") { // the plan's own conflicts are passed on
					atApply = append(atApply, rc)
				}
			}
			if got := keys(atApply); strings.Join(got, "\n") != strings.Join(c.applyConflicts, "\n") {
				t.Errorf("conflicts found at apply %q, want %q (%+v)", got, c.applyConflicts, res.Conflicts)
			}
			for _, dn := range c.untouched {
				if now := dump(srv, dn); now != before[dn] {
					t.Errorf("%s was changed:\n%s\n->\n%s", dn, before[dn], now)
				}
			}
			for _, dn := range c.absent {
				if _, _, ok := srv.Lookup(dn); ok {
					t.Errorf("%s was created", dn)
				}
			}
			// Converged as far as the conflicts allow: the next plan has
			// the same conflicts and nothing new to do.
			obs, err = d.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			again := fabric.Diff(fabric.Target{Name: "f", State: c.want}, obs)
			if got := keys(again.Conflicts); len(c.applyConflicts) == 0 && strings.Join(got, "\n") != strings.Join(c.conflicts, "\n") {
				t.Errorf("second plan conflicts %q, want %q", got, c.conflicts)
			}
			if len(c.applyConflicts) == 0 && len(again.Changes) != 0 {
				t.Errorf("second plan changes %q", changeKeys(again.Changes))
			}
		})
	}
}

// TestNeverCollateral: deleting an owned object that holds objects without
// the mark deletes only this cluster's objects under it, keeps it, and says
// so (cases 4.6, 4.7). status: deleted would remove the whole subtree. The
// plans here were made before the hand edits (a plan applied later, or a
// hand edit between observe and apply); Apply goes by what it observed
// last.
func TestNeverCollateral(t *testing.T) {
	p := peer("leaf201", "192.168.9.193")
	p.LocalASN = 64999 // with a bgpLocalAsnP
	for _, c := range []struct {
		name     string
		have     fabric.State
		hand     func(t *testing.T, srv *emulator.Server)
		want     fabric.State
		kept     []string // DNs kept, each reported
		gone     []string // our objects under them, deleted
		conflict []string // the changes reported as only partly made
	}{
		{
			name: "4.6 hand-made subject and entry in an owned contract and filter",
			have: webService(80),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, webBrc, "vzSubj", map[string]string{"name": "hand-subj"})
				handMade(t, srv, webFlt, "vzEntry", map[string]string{"name": "hand-ssh", "etherT": "ip", "prot": "tcp", "dFromPort": "22", "dToPort": "22"})
			},
			kept: []string{webBrc, webBrc + "/subj-hand-subj", webFlt, webFlt + "/e-hand-ssh"},
			gone: []string{webBrc + "/subj-k8s-service", webFlt + "/e-tcp-80", webEPG + "/rsprov-CNT_WEB",
				extL3Out + "/instP-EPG_DEFAULT/rscons-CNT_WEB", webEPG + "/extsubnet-[172.29.0.6/32]", webEPG},
			conflict: []string{"Contract CNT_WEB"},
		},
		{
			name: "a hand-made filter relation under our subject",
			have: webService(80),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, tnDN, "vzFilter", map[string]string{"name": "HAND_flt"})
				handMade(t, srv, webBrc+"/subj-k8s-service", "vzRsSubjFiltAtt", map[string]string{"tnVzFilterName": "HAND_flt"})
			},
			kept:     []string{webBrc, webBrc + "/subj-k8s-service", webBrc + "/subj-k8s-service/rssubjFiltAtt-HAND_flt"},
			gone:     []string{webBrc + "/subj-k8s-service/rssubjFiltAtt-CNT_WEB_flt", webFlt},
			conflict: []string{"Contract CNT_WEB"},
		},
		{
			name: "4.7 a hand-made subnet in an owned EPG",
			have: webService(80),
			hand: func(t *testing.T, srv *emulator.Server) {
				handMade(t, srv, webEPG, "l3extSubnet", map[string]string{"ip": "172.29.0.60/32"})
			},
			kept: []string{webEPG, webEPG + "/extsubnet-[172.29.0.60/32]"},
			gone: []string{webEPG + "/extsubnet-[172.29.0.6/32]", webEPG + "/rsprov-CNT_WEB", webBrc, webFlt},
		},
		{
			name: "an unmarked local AS under an owned peer",
			have: fabric.StateOf(p),
			hand: func(t *testing.T, srv *emulator.Server) {
				srv.SetAttr(leaf201+"/peerP-[192.168.9.193]/localasn", "annotation", "")
			},
			kept:     []string{leaf201 + "/peerP-[192.168.9.193]", leaf201 + "/peerP-[192.168.9.193]/localasn"},
			gone:     []string{leaf201 + "/peerP-[192.168.9.193]/as"},
			conflict: []string{"BGPPeer leaf201/192.168.9.193"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, emulator.Options{}, tlsCA)
			ctx := context.Background()
			reconcile(t, d, c.have)
			obs, err := d.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: c.want}, obs)
			c.hand(t, srv)
			if _, err := d.Observe(ctx); err != nil { // what Apply goes by
				t.Fatal(err)
			}
			res, err := d.Apply(ctx, plan)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			for _, dn := range c.kept {
				if _, _, ok := srv.Lookup(dn); !ok {
					t.Errorf("%s was deleted", dn)
				}
			}
			for _, dn := range c.gone {
				if _, _, ok := srv.Lookup(dn); ok {
					t.Errorf("%s was kept", dn)
				}
			}
			msgs := strings.Join(res.Messages, "\n")
			for _, dn := range c.kept {
				if _, _, ok := srv.Lookup(dn); ok && strings.Count(dn, "/") == strings.Count(c.kept[0], "/") && !strings.Contains(msgs, "kept "+dn+":") {
					t.Errorf("keeping %s is not reported:\n%s", dn, msgs)
				}
			}
			var partial []fabric.Conflict
			for _, rc := range res.Conflicts {
				if strings.Contains(rc.Reason, "only this cluster's objects in it were deleted") {
					partial = append(partial, rc)
				}
			}
			if got := keys(partial); strings.Join(got, "\n") != strings.Join(c.conflict, "\n") {
				t.Errorf("partly made changes %q, want %q", got, c.conflict)
			}
			// The next run sees what was kept as foreign and leaves it be.
			obs, err = d.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again := fabric.Diff(fabric.Target{Name: "f", State: c.want}, obs); len(again.Changes) != 0 {
				t.Errorf("second plan changes %q", changeKeys(again.Changes))
			}
		})
	}
}

// TestMaximumPathsBesideAHandMadeRelation: a VRF ECMP relation for the
// address family made by hand after the plan, and seen by the observation
// Apply goes by, is in the way of the cluster's maximum-paths as Observe
// says it is: Apply reports a conflict and writes neither a policy nor a
// second relation for that family (found by the conformance suite,
// conflict-at-apply).
func TestMaximumPathsBesideAHandMadeRelation(t *testing.T) {
	const vrf = tnDN + "/ctx-VRF_K8_C1"
	for _, c := range []struct {
		name      string
		converged fabric.State
		want      fabric.State
	}{
		{"create", fabric.State{}, fabric.StateOf(fabric.MaximumPaths{AddressFamily: fabric.IPv6, Paths: 4})},
		{"update", fabric.StateOf(fabric.MaximumPaths{AddressFamily: fabric.IPv6, Paths: 4}),
			fabric.StateOf(fabric.MaximumPaths{AddressFamily: fabric.IPv6, Paths: 8})},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, emulator.Options{}, tlsCA)
			ctx := context.Background()
			if c.converged.Len() > 0 {
				reconcile(t, d, c.converged)
			}
			obs, err := d.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: c.want}, obs)
			if len(plan.Changes) != 1 {
				t.Fatalf("plan %q", changeKeys(plan.Changes))
			}
			handMade(t, srv, tnDN, "bgpCtxAfPol", map[string]string{"name": "HAND_ECMP", "maxEcmp": "2"})
			handMade(t, srv, vrf, "fvRsCtxToBgpCtxAfPol", map[string]string{"tnBgpCtxAfPolName": "HAND_ECMP", "af": "ipv6-ucast"})
			before := dump(srv, tnDN)
			if _, err := d.Observe(ctx); err != nil { // what Apply goes by
				t.Fatal(err)
			}
			res, err := d.Apply(ctx, plan)
			if len(res.Applied) != 0 || strings.Join(keys(res.Conflicts), ",") != "MaximumPaths ipv6" {
				t.Fatalf("apply: applied %q, conflicts %+v, error %v; want the change in conflict", changeKeys(res.Applied), res.Conflicts, err)
			}
			if after := dump(srv, tnDN); after != before {
				t.Errorf("the tenant changed:\n%s\nbefore:\n%s", after, before)
			}
		})
	}
}
