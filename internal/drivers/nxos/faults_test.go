package nxos

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

// TestRefusedLineLeavesNothing: a line the switch refuses in the middle of
// the plan leaves its running configuration exactly as before (rolled back
// to the checkpoint, or the session aborted), the report carries the
// switch's own message, and no checkpoint or session is left behind. The
// other leaf applies.
func TestRefusedLineLeavesNothing(t *testing.T) {
	const reject = "ERROR: neighbor limit of this line card reached"
	cases := []struct {
		name       string
		mode       string
		rule       nxossim.RejectRule
		wantErr    []string
		rollbacks  int
		aborts     int
		commitFail int
	}{
		{name: "checkpoint: refused line", mode: CommitCheckpoint,
			rule: nxossim.RejectRule{Match: regexp.MustCompile(`^remote-as 63552$`), Reply: reject},
			wantErr: []string{`create BGPPeer leaf201/192.168.9.194: switch leaf201 refused "remote-as 63552" in configure terminal: ` + reject,
				"rolled back to checkpoint fabric-reconciler-haystack-run-"},
			rollbacks: 1},
		{name: "session: refused when typed", mode: CommitSession,
			rule:    nxossim.RejectRule{Match: regexp.MustCompile(`^remote-as 63552$`), Reply: reject, AtEntry: true},
			wantErr: []string{`create BGPPeer leaf201/192.168.9.194: switch leaf201 refused "remote-as 63552" in configuration session fabric-reconciler-haystack: ` + reject},
			aborts:  1},
		{name: "session: refused at verify", mode: CommitSession,
			rule:    nxossim.RejectRule{Match: regexp.MustCompile(`^remote-as 63552$`), Reply: reject},
			wantErr: []string{"switch leaf201: verify failed: " + reject + " (+2 more lines)"},
			aborts:  1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{sessionsTakeBGP: true})
			d := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).CommitMode = tc.mode }))
			before := l.body(t, "leaf201")
			l.sims["leaf201"].SetFaults(nxossim.Faults{RejectLines: []nxossim.RejectRule{tc.rule}})
			_, res, err := reconcile(t, l.ctx, d, haystack())
			if err == nil {
				t.Fatal("apply reported no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if after := l.body(t, "leaf201"); after != before {
				t.Fatalf("leaf201 changed:\n%s\nbefore:\n%s", after, before)
			}
			st := l.sims["leaf201"].Stats()
			if st.Rollbacks != tc.rollbacks || st.Aborts != tc.aborts || st.Commits != 0 {
				t.Errorf("stats %+v", st)
			}
			if cps, ss := l.sims["leaf201"].Checkpoints(), l.sims["leaf201"].Sessions(); len(cps)+len(ss) != 0 {
				t.Errorf("left behind: %+v %+v", cps, ss)
			}
			// leaf202 applied its 7 changes; leaf201 none.
			applied := map[string]int{}
			for _, c := range res.Applied {
				applied[c.Switch]++
			}
			if applied["leaf201"] != 0 || applied["leaf202"] != 7 {
				t.Errorf("applied %v", applied)
			}
			if !strings.Contains(l.body(t, "leaf202"), "neighbor 192.168.9.194") {
				t.Error("leaf202 did not apply")
			}
			l.checkNoSecret(t, err.Error()+strings.Join(res.Messages, "\n"))

			// With the fault gone, the next reconcile converges.
			l.sims["leaf201"].SetFaults(nxossim.Faults{})
			if _, _, err := reconcile(t, l.ctx, d, haystack()); err != nil {
				t.Fatal(err)
			}
			assertConverged(t, l.ctx, d, haystack())
		})
	}
}

// TestSessionModeOnDocumentedSwitch: on a switch that follows Cisco's
// documentation (Session Manager for ACL and QoS only), session mode fails
// with the switch's message and changes nothing.
func TestSessionModeOnDocumentedSwitch(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).CommitMode = CommitSession }))
	before := map[string]string{}
	for _, leaf := range leafNames {
		before[leaf] = l.body(t, leaf)
	}
	_, res, err := reconcile(t, l.ctx, d, haystack())
	if err == nil {
		t.Fatal("apply reported no error")
	}
	want := `refused "ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0" ` +
		`in configuration session fabric-reconciler-haystack: % Invalid command at '^' marker.`
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error lacks %q:\n%v", want, err)
	}
	if len(res.Applied) != 0 {
		t.Errorf("applied %d changes", len(res.Applied))
	}
	for _, leaf := range leafNames {
		if after := l.body(t, leaf); after != before[leaf] {
			t.Errorf("%s changed:\n%s", leaf, after)
		}
		if st := l.sims[leaf].Stats(); st.Aborts != 1 || len(l.sims[leaf].Sessions()) != 0 {
			t.Errorf("%s: aborts %d, sessions %+v", leaf, st.Aborts, l.sims[leaf].Sessions())
		}
	}
}

// TestReconnectMidApply: the SSH connection drops in the middle of the
// lines; the driver reconnects, undoes the partial change (rollback to the
// checkpoint, or abort of the session left open) and applies again, in the
// same Apply. It ends converged with nothing left behind.
func TestReconnectMidApply(t *testing.T) {
	for _, mode := range []string{CommitCheckpoint, CommitSession} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{sessionsTakeBGP: true})
			d := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).CommitMode = mode }))
			sim := l.sims["leaf202"]
			sim.SetFaults(nxossim.Faults{DropAfterConfigLines: 20})
			_, res, err := reconcile(t, l.ctx, d, haystack())
			if err != nil {
				t.Fatalf("apply: %v\n%s", err, strings.Join(res.Messages, "\n"))
			}
			msgs := strings.Join(res.Messages, "\n")
			recovered := "switch leaf202: rolled back to checkpoint fabric-reconciler-haystack-run-"
			if mode == CommitSession {
				recovered = "switch leaf202: aborted configuration session fabric-reconciler-haystack, left uncommitted by an interrupted apply"
			}
			for _, w := range []string{"connection lost", "switch leaf202: reconnecting to recover and apply again", recovered} {
				if !strings.Contains(msgs, w) {
					t.Errorf("messages lack %q:\n%s", w, msgs)
				}
			}
			if len(res.Applied) != 14 {
				t.Errorf("applied %d changes, want 14", len(res.Applied))
			}
			st := sim.Stats()
			if st.Drops != 1 || st.Connections != 2 {
				t.Errorf("stats %+v", st)
			}
			if got := d.session(d.switches[1]).Opened(); got != 2 {
				t.Errorf("leaf202's session was opened %d times", got)
			}
			if cps, ss := sim.Checkpoints(), sim.Sessions(); len(cps)+len(ss) != 0 {
				t.Errorf("left behind: %+v %+v", cps, ss)
			}
			if a, b := l.body(t, "leaf201"), l.body(t, "leaf202"); a != b {
				t.Errorf("the leaves differ:\n%s\n---\n%s", a, b)
			}
			assertConverged(t, l.ctx, d, haystack())
		})
	}
}

// TestLeftoverCheckpoint: a checkpoint of an apply that was cut off (the
// process died after part of the lines) is found by the next run. Observe
// reports the configuration the checkpoint holds; Apply rolls back to it,
// deletes it, and applies. When the running configuration changed outside
// the cluster's objects since, nothing is done and the error says why; a
// checkpoint of that name the driver did not make is never used.
func TestLeftoverCheckpoint(t *testing.T) {
	const cp = "fabric-reconciler-haystack"
	halfApplied := []string{
		"ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
		"ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26",
		"router bgp 63500", "neighbor 192.168.9.193", "remote-as 63551",
		"description orchestrator:fabric-reconciler.haystack node=k8c1m0",
	}
	cases := []struct {
		name      string
		desc      string   // the checkpoint's description
		handAfter []string // configured by hand after the interruption
		wantErr   string   // from Observe
		lockErr   bool     // TryLock fails with wantErr too
	}{
		{name: "rolled back and applied", desc: "orchestrator:fabric-reconciler.haystack"},
		{name: "changed by hand since", desc: "orchestrator:fabric-reconciler.haystack",
			handAfter: []string{"router bgp 63500", "neighbor 192.168.9.251", "remote-as 65251"},
			wantErr: "switch leaf201: checkpoint " + cp + " was left by an interrupted apply, but the running configuration has changed since " +
				"outside fabric-reconciler's objects (+ router bgp 63500 > neighbor 192.168.9.251; + router bgp 63500 > neighbor 192.168.9.251 > remote-as 65251)"},
		{name: "not ours", desc: "made by the network team", lockErr: true,
			wantErr: "switch leaf201: a checkpoint named " + cp + " exists that fabric-reconciler did not make"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{})
			sim := l.sims["leaf201"]
			if _, err := sim.Show("checkpoint " + cp + " description " + tc.desc); err != nil {
				t.Fatal(err)
			}
			if err := sim.Configure(halfApplied...); err != nil {
				t.Fatal(err)
			}
			if err := sim.Configure(tc.handAfter...); err != nil {
				t.Fatal(err)
			}
			handMade := l.body(t, "leaf201")
			d := l.driver(t, l.fabric(t, nil))
			if tc.wantErr != "" {
				if _, err := d.Observe(l.ctx); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("observe error %v, want %q", err, tc.wantErr)
				}
				// A checkpoint at the fabric's names that it did not
				// make keeps the lock from being taken; otherwise
				// Observe under the lock fails the same way.
				if unlock, err := d.TryLock(l.ctx, lockRequest()); err != nil {
					if !tc.lockErr || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("lock error %v, want %q", err, tc.wantErr)
					}
				} else {
					defer func() { _ = unlock(context.Background()) }()
					if tc.lockErr {
						t.Fatal("locked a switch with a checkpoint at the fabric's names it did not make")
					}
					if _, err := d.Observe(l.ctx); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("observe under the lock: error %v, want %q", err, tc.wantErr)
					}
				}
				// Apply (a plan from elsewhere) refuses leaf201: not
				// observed under the lock, or no lock at all.
				_, err := d.Apply(l.ctx, fabric.Diff(fabric.Target{Name: "lab", State: haystack()}, fabric.Observed{}))
				if !errors.Is(err, ErrNoLock) {
					t.Fatalf("apply error %v, want it refused", err)
				}
				if body := l.body(t, "leaf201"); body != handMade {
					t.Fatalf("leaf201 changed:\n%s", body)
				}
				if cps := sim.Checkpoints(); len(cps) == 0 || cps[0].Name != cp || cps[0].Description != tc.desc {
					t.Fatalf("checkpoints %+v, want the leftover kept", cps)
				}
				return
			}
			lock(t, l.ctx, d)
			obs, err := d.Observe(l.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range obs.Owned.Peers {
				if p.Switch == "leaf201" {
					t.Errorf("observed the half-applied neighbor %s instead of the checkpoint's configuration", p.PeerAddress)
				}
			}
			plan := fabric.Diff(fabric.Target{Name: "lab", State: haystack()}, obs)
			native, err := d.Render(plan)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(native, "! first: rollback running-config checkpoint "+cp+"; no checkpoint "+cp) {
				t.Errorf("Render does not announce the rollback:\n%s", native)
			}
			if body := l.body(t, "leaf201"); body != handMade {
				t.Fatalf("observe or render changed the switch:\n%s", body)
			}
			res, err := d.Apply(l.ctx, plan)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(res.Messages, "\n"), "switch leaf201: rolled back to checkpoint "+cp+", left by an interrupted apply, and deleted it") {
				t.Errorf("messages %q", res.Messages)
			}
			if cps := sim.Checkpoints(); len(cps) != 1 || !d.isLockName(cps[0].Name) {
				t.Errorf("checkpoints left besides the lock: %+v", cps)
			}
			assertConverged(t, l.ctx, d, haystack())
			if a, b := l.body(t, "leaf201"), l.body(t, "leaf202"); a != b {
				t.Errorf("leaf201 differs from leaf202 (never interrupted):\n%s\n---\n%s", a, b)
			}
		})
	}
}

// TestFailedRollbackKeepsCheckpoint: when the rollback after a refused line
// fails too, the error says so and the checkpoint stays for the next run,
// which recovers.
func TestFailedRollbackKeepsCheckpoint(t *testing.T) {
	l := newLab(t, labOpts{})
	sim := l.sims["leaf201"]
	d := l.driver(t, l.fabric(t, func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	want := fabric.State{}
	for _, p := range haystack().Peers {
		if p.Switch == "leaf201" {
			want.Peers = append(want.Peers, p)
		}
	}
	for _, f := range haystack().PrefixFilters {
		if f.Switch == "leaf201" {
			want.PrefixFilters = append(want.PrefixFilters, f)
		}
	}
	sim.SetFaults(nxossim.Faults{RejectLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^remote-as 63553$`)}},
		FailNextRollback: "ERROR: rollback patch failed at line 3"})
	_, _, err := reconcile(t, l.ctx, d, want)
	if err == nil || !regexp.MustCompile(`rolling back to checkpoint fabric-reconciler-haystack-run-[0-9a-f]{8} failed too`).MatchString(err.Error()) ||
		!strings.Contains(err.Error(), "ERROR: rollback patch failed at line 3") {
		t.Fatalf("error %v", err)
	}
	if cps := sim.Checkpoints(); len(cps) != 1 {
		t.Fatalf("checkpoints %+v, want the driver's kept", cps)
	}
	sim.SetFaults(nxossim.Faults{})
	if _, res, err := reconcile(t, l.ctx, d, want); err != nil {
		t.Fatalf("next run: %v %v", err, res.Messages)
	}
	assertConverged(t, l.ctx, d, want)
	if cps := sim.Checkpoints(); len(cps) != 0 {
		t.Fatalf("checkpoints %+v", cps)
	}
}

// TestCheckpointCommandRefused: a switch that refuses the checkpoint
// (another user's checkpoint or rollback is running) gets no configuration
// line; one that cannot delete it afterwards keeps the applied change, the
// result says so, and the next run rolls back to the checkpoint and applies
// again, ending converged and clean.
func TestCheckpointCommandRefused(t *testing.T) {
	single := func(f *config.Fabric) { f.Switches = f.Switches[:1] }
	want := fabric.State{}
	for _, p := range haystack().Peers {
		if p.Switch == "leaf201" {
			want.Peers = append(want.Peers, p)
		}
	}
	t.Run("checkpoint refused", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labOpts{})
		sim := l.sims["leaf201"]
		d := l.driver(t, l.fabric(t, single))
		before := l.body(t, "leaf201")
		sim.SetFaults(nxossim.Faults{RejectExec: []nxossim.RejectRule{{Match: regexp.MustCompile(`^checkpoint \S+-run-`),
			Reply: "ERROR: another checkpoint or rollback operation is in progress"}}})
		_, _, err := reconcile(t, l.ctx, d, want)
		if err == nil || !regexp.MustCompile(`switch leaf201: checkpoint fabric-reconciler-haystack-run-[0-9a-f]{8}: ERROR: another checkpoint or rollback operation is in progress`).MatchString(err.Error()) {
			t.Fatalf("error %v", err)
		}
		if st := sim.Stats(); st.ConfigLines != 0 || l.body(t, "leaf201") != before {
			t.Fatalf("the switch was configured: %+v", st)
		}
	})
	t.Run("lock checkpoint refused", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labOpts{})
		sim := l.sims["leaf201"]
		d := l.driver(t, l.fabric(t, single))
		sim.SetFaults(nxossim.Faults{RejectExec: []nxossim.RejectRule{{Match: regexp.MustCompile(`^checkpoint \S+-lock-`),
			Reply: "ERROR: another checkpoint or rollback operation is in progress"}}})
		unlock, err := d.TryLock(l.ctx, lockRequest())
		var held *drivers.HeldError
		if err == nil || errors.As(err, &held) || !regexp.MustCompile(`fabric lab: taking the writer lock: switch leaf201: checkpoint `+
			`fabric-reconciler-haystack-lock-[0-9a-f]{8}: ERROR: another checkpoint or rollback operation is in progress`).MatchString(err.Error()) {
			t.Fatalf("TryLock: %v, want the switch's refusal (not a HeldError)", err)
		}
		if unlock != nil {
			t.Error("TryLock returned an unlock with its error")
		}
		if _, err := d.Apply(l.ctx, fabric.Diff(fabric.Target{Name: "lab", State: want}, fabric.Observed{})); !errors.Is(err, ErrNoLock) {
			t.Fatalf("apply without the lock: %v", err)
		}
		if st := sim.Stats(); st.ConfigLines != 0 || len(sim.Checkpoints()) != 0 {
			t.Fatalf("the switch was configured: %+v %+v", st, sim.Checkpoints())
		}
	})
	t.Run("checkpoint not deleted", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labOpts{})
		sim := l.sims["leaf201"]
		d := l.driver(t, l.fabric(t, single))
		sim.SetFaults(nxossim.Faults{RejectExec: []nxossim.RejectRule{{Match: regexp.MustCompile(`^no checkpoint \S+-run-`), Reply: "ERROR: checkpoint database busy"}}})
		_, res, err := reconcile(t, l.ctx, d, want)
		if err == nil || len(res.Applied) != 3 {
			t.Fatalf("error %v, applied %d", err, len(res.Applied))
		}
		msgs := strings.Join(res.Messages, "\n")
		if !strings.Contains(msgs, "switch leaf201: 17 line(s) applied in") ||
			!regexp.MustCompile(`deleting checkpoint fabric-reconciler-haystack-run-[0-9a-f]{8}: ERROR: checkpoint database busy; the next apply rolls back to it and applies again`).MatchString(msgs) {
			t.Fatalf("messages:\n%s", msgs)
		}
		if !strings.Contains(l.body(t, "leaf201"), "neighbor 192.168.9.195") || len(sim.Checkpoints()) != 1 {
			t.Fatalf("applied config or checkpoint missing: %+v", sim.Checkpoints())
		}
		sim.SetFaults(nxossim.Faults{})
		if _, res, err := reconcile(t, l.ctx, d, want); err != nil {
			t.Fatalf("next run: %v %q", err, res.Messages)
		}
		assertConverged(t, l.ctx, d, want)
		if len(sim.Checkpoints()) != 0 {
			t.Fatalf("checkpoints %+v", sim.Checkpoints())
		}
	})
}

// TestOutcomeUnknown: when the connection drops while the switch may be
// taking a change (a configuration line, a commit) and the switch cannot be
// reached again to recover, the apply's error wraps
// drivers.ErrOutcomeUnknown and reports nothing as applied. When the drop
// loses nothing (lines only queued in a session) or the recovery succeeds,
// it does not. Once the switch is back, the next run recovers and converges.
func TestOutcomeUnknown(t *testing.T) {
	cases := []struct {
		name        string
		mode        string
		faults      nxossim.Faults
		wantErr     bool
		wantUnknown bool
		wantMsg     string
		recovered   string // in the next run's messages
	}{
		{name: "checkpoint: drop mid-lines, switch gone", mode: CommitCheckpoint,
			faults:  nxossim.Faults{DropAfterConfigLines: 20, UnreachableAfterDrop: true},
			wantErr: true, wantUnknown: true, wantMsg: "switch leaf202: the outcome is unknown",
			recovered: "switch leaf202: rolled back to checkpoint fabric-reconciler-haystack-run-"},
		{name: "session: drop after commit, switch gone", mode: CommitSession,
			faults:  nxossim.Faults{DropAfterConfigLines: 50, UnreachableAfterDrop: true},
			wantErr: true, wantUnknown: true, wantMsg: "switch leaf202: the outcome is unknown"},
		{name: "session: drop mid-lines, switch gone", mode: CommitSession,
			faults:  nxossim.Faults{DropAfterConfigLines: 20, UnreachableAfterDrop: true},
			wantErr: true, wantMsg: "nothing was committed; the session is aborted when the switch is reached again",
			recovered: "switch leaf202: aborted configuration session fabric-reconciler-haystack"},
		{name: "checkpoint: drop mid-lines, switch back", mode: CommitCheckpoint,
			faults:  nxossim.Faults{DropAfterConfigLines: 20},
			wantMsg: "switch leaf202: rolled back to checkpoint fabric-reconciler-haystack-run-"},
		// A refused line, then the rollback's reply is lost: the apply
		// reconnects, recovers from its checkpoint and tries again, and is
		// refused again: a known outcome, nothing changed.
		{name: "checkpoint: rollback's reply lost, switch back", mode: CommitCheckpoint,
			faults: nxossim.Faults{RejectLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^remote-as 63552$`)}},
				DropAfterExec: regexp.MustCompile(`^rollback `)},
			wantErr: true, wantMsg: "switch leaf202: reconnecting to recover and apply again",
			recovered: "switch leaf202: 48 line(s) applied under checkpoint"},
		{name: "checkpoint: rollback's reply lost, switch gone", mode: CommitCheckpoint,
			faults: nxossim.Faults{RejectLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^remote-as 63552$`)}},
				DropAfterExec: regexp.MustCompile(`^rollback `), UnreachableAfterDrop: true},
			wantErr: true, wantUnknown: true, wantMsg: "switch leaf202: the outcome is unknown",
			recovered: "switch leaf202: rolled back to checkpoint fabric-reconciler-haystack-run-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{sessionsTakeBGP: true})
			d := l.driver(t, l.fabric(t, func(f *config.Fabric) { nxosOf(f).CommitMode = tc.mode }))
			sim := l.sims["leaf202"]
			unlock := lock(t, l.ctx, d)
			plan := observePlan(t, l, d)
			sim.SetFaults(tc.faults)
			res, err := d.Apply(l.ctx, plan)
			msgs := strings.Join(res.Messages, "\n")
			if (err != nil) != tc.wantErr || errors.Is(err, drivers.ErrOutcomeUnknown) != tc.wantUnknown {
				t.Fatalf("apply error %v, want error %v, outcome unknown %v\n%s", err, tc.wantErr, tc.wantUnknown, msgs)
			}
			if !strings.Contains(msgs, tc.wantMsg) {
				t.Errorf("messages lack %q:\n%s", tc.wantMsg, msgs)
			}
			applied := map[string]int{}
			for _, c := range res.Applied {
				applied[c.Switch]++
			}
			if want := map[bool]int{true: 0, false: 7}[tc.wantErr]; applied["leaf202"] != want || applied["leaf201"] != 7 {
				t.Errorf("applied %v, want leaf202 %d", applied, want)
			}
			if sim.Stats().Drops != 1 {
				t.Fatalf("the fault did not fire: %+v", sim.Stats())
			}
			l.checkNoSecret(t, msgs+fmt.Sprint(err))

			// The switch is back: the next run recovers and converges.
			sim.SetFaults(nxossim.Faults{})
			if err := unlock(l.ctx); err != nil {
				t.Fatal(err)
			}
			_, res, err = reconcile(t, l.ctx, d, haystack())
			if err != nil {
				t.Fatalf("next run: %v\n%s", err, strings.Join(res.Messages, "\n"))
			}
			if !strings.Contains(strings.Join(res.Messages, "\n"), tc.recovered) {
				t.Errorf("next run's messages lack %q: %q", tc.recovered, res.Messages)
			}
			assertConverged(t, l.ctx, d, haystack())
			if cps, ss := sim.Checkpoints(), sim.Sessions(); len(cps)+len(ss) != 0 {
				t.Errorf("left behind: %+v %+v", cps, ss)
			}
		})
	}
}
