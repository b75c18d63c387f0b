package nxos

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// TestRoundTrip: one apply of the haystack state makes exactly the golden
// running configuration on both leaves, in either commit mode, and leaves no
// checkpoint or session; the next reconcile finds nothing to do and sends
// no configuration line at all.
func TestRoundTrip(t *testing.T) {
	for _, mode := range []string{CommitCheckpoint, CommitSession} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			// Session mode needs a switch whose sessions take BGP lines:
			// Cisco documents Session Manager for ACL and QoS only.
			l := newLab(t, labOpts{sessionsTakeBGP: mode == CommitSession})
			d := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).CommitMode = mode }))
			want := haystack()
			plan, res, err := reconcile(t, l.ctx, d, want)
			if err != nil {
				t.Fatalf("apply: %v\n%v", err, res.Messages)
			}
			if got := plan.Summary(); got != (fabric.Summary{Create: 14}) {
				t.Fatalf("plan %+v", got)
			}
			if len(res.Applied) != 14 || len(res.Conflicts) != 0 {
				t.Fatalf("result %+v", res)
			}
			for _, leaf := range leafNames {
				testenv.Golden(t, "haystack-"+leaf+".running.txt", l.body(t, leaf))
				if cps := l.sims[leaf].Checkpoints(); len(cps) != 0 {
					t.Errorf("%s: checkpoints left: %+v", leaf, cps)
				}
				if ss := l.sims[leaf].Sessions(); len(ss) != 0 {
					t.Errorf("%s: sessions left: %+v", leaf, ss)
				}
				// One checkpoint is the writer lock, the other the apply's.
				st := l.sims[leaf].Stats()
				if mode == CommitSession && (st.Commits != 1 || st.Checkpoints != 1) {
					t.Errorf("%s: stats %+v", leaf, st)
				}
				if mode == CommitCheckpoint && (st.Commits != 0 || st.Checkpoints != 2 || st.Rollbacks != 0) {
					t.Errorf("%s: stats %+v", leaf, st)
				}
				l.sims[leaf].ResetLog()
			}
			assertConverged(t, l.ctx, d, want)
			plan, res, err = reconcile(t, l.ctx, d, want)
			if err != nil || len(plan.Changes) != 0 || len(res.Messages) != 0 {
				t.Fatalf("second reconcile: %v %+v %+v", err, plan.Changes, res)
			}
			for _, leaf := range leafNames {
				if lines := configLines(l.sims[leaf]); len(lines) != 0 {
					t.Errorf("%s: second reconcile typed %q", leaf, lines)
				}
			}
			l.checkNoSecret(t, strings.Join(res.Messages, "\n"))
		})
	}
}
