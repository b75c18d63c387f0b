package aci

import (
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// TestSessionPolicyLifecycle: the node profile's BGP protocol profile and
// its policies are created, changed and deleted with the session policy,
// each object carrying this cluster's mark; a policy no longer named is
// deleted, its relation left naming none. (Hand-made objects in their
// place: TestNeverAdopt.)
func TestSessionPolicyLifecycle(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	timersRel, bestRel := ourProtP+"/rsbgpNodeCtxPol", ourProtP+"/rsBestPathCtrlPol"
	for _, step := range []struct {
		name string
		want fabric.State
		// attrs: the objects expected, with some of their attributes
		// (each also carries the mark); absent: the objects expected gone.
		attrs  map[string]map[string]string
		absent []string
	}{
		{
			name: "timers and relax",
			want: fabric.StateOf(relaxTimers(3, 9)),
			attrs: map[string]map[string]string{
				ourProtP:  {},
				timersRel: {"tnBgpCtxPolName": "BGP_TIMERS_unit"},
				bestRel:   {"tnBgpBestPathCtrlPolName": "BGP_BESTPATH_unit"},
				ourTimers: {"kaIntvl": "3", "holdIntvl": "9", "grCtrl": "helper", "staleIntvl": "default"},
				ourBest:   {"ctrl": "asPathMultipathRelax"},
			},
		},
		{
			name: "other timers, graceful restart, no relax: the best-path policy goes",
			want: fabric.StateOf(fabric.SessionPolicy{Keepalive: 5, Hold: 15, GracefulRestart: 120}),
			attrs: map[string]map[string]string{
				timersRel: {"tnBgpCtxPolName": "BGP_TIMERS_unit"},
				bestRel:   {"tnBgpBestPathCtrlPolName": ""},
				ourTimers: {"kaIntvl": "5", "holdIntvl": "15", "grCtrl": "helper", "staleIntvl": "120"},
			},
			absent: []string{ourBest},
		},
		{
			name: "relax alone: the timers policy goes",
			want: fabric.StateOf(fabric.SessionPolicy{MultipathRelax: true}),
			attrs: map[string]map[string]string{
				timersRel: {"tnBgpCtxPolName": ""},
				bestRel:   {"tnBgpBestPathCtrlPolName": "BGP_BESTPATH_unit"},
				ourBest:   {"ctrl": "asPathMultipathRelax"},
			},
			absent: []string{ourTimers},
		},
		{
			name:   "none: the profile and its policies go",
			want:   fabric.State{},
			absent: []string{ourProtP, ourTimers, ourBest},
		},
	} {
		reconcile(t, d, step.want) // fails unless the next plan is empty
		for dn, want := range step.attrs {
			_, got, ok := srv.Lookup(dn)
			if !ok {
				t.Errorf("%s: %s is missing", step.name, dn)
				continue
			}
			if got["annotation"] != ourMark {
				t.Errorf("%s: %s has annotation %q, want this cluster's mark", step.name, dn, got["annotation"])
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %s %s = %q, want %q", step.name, dn, k, got[k], v)
				}
			}
		}
		for _, dn := range step.absent {
			if _, _, ok := srv.Lookup(dn); ok {
				t.Errorf("%s: %s is still there", step.name, dn)
			}
		}
	}
}
