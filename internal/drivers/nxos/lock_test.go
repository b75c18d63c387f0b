package nxos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

// The NX-OS driver is a drivers.Locker.
var _ drivers.Locker = (*Driver)(nil)

const lockBase = "fabric-reconciler-haystack-lock-"

// otherLock puts another run's lock checkpoint on a switch, as that run's
// TryLock would.
func otherLock(t *testing.T, sim *nxossim.Server, holder, run string, until time.Time) string {
	t.Helper()
	name := lockBase + runTag(run)
	rec := drivers.LockRecord{Holder: holder, RunID: run, Expires: until}
	if out, err := sim.Show("checkpoint " + name + " description " + rec.String()); err != nil || !strings.Contains(out, "Done") {
		t.Fatalf("checkpoint %s: %v %q", name, err, out)
	}
	return name
}

// checkpointNames lists a switch's user checkpoints.
func checkpointNames(sim *nxossim.Server) []string {
	var out []string
	for _, cp := range sim.Checkpoints() {
		if !cp.System {
			out = append(out, cp.Name)
		}
	}
	return out
}

// TestTryLock: the lock is a checkpoint per switch, taken in switch name
// order, released on all when one switch is held by a live writer, taken
// over when the holder's lease ran out, refused when a checkpoint at the
// lock's names cannot be read; Unlock removes only a lock that still
// carries this run's record.
func TestTryLock(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	future := time.Now().Add(time.Hour)
	cases := []struct {
		name string
		// setup runs on the lab before TryLock.
		setup func(t *testing.T, l *lab)
		// wantHeld is the holder a HeldError must name ("" for success).
		wantHeld string
		wantErr  string
		// after lists each leaf's checkpoints after TryLock ("ours" is
		// this run's lock).
		after map[string][]string
	}{
		{name: "free", setup: func(*testing.T, *lab) {},
			after: map[string][]string{"leaf201": {"ours"}, "leaf202": {"ours"}}},
		{name: "held on the second switch",
			setup: func(t *testing.T, l *lab) {
				otherLock(t, l.sims["leaf202"], "host-b:77", "run-b", future)
			},
			wantHeld: "host-b:77",
			// leaf201's lock was taken, then released.
			after: map[string][]string{"leaf201": nil, "leaf202": {lockBase + runTag("run-b")}}},
		{name: "held on the first switch",
			setup: func(t *testing.T, l *lab) {
				otherLock(t, l.sims["leaf201"], "host-b:77", "run-b", future)
			},
			wantHeld: "host-b:77",
			after:    map[string][]string{"leaf201": {lockBase + runTag("run-b")}, "leaf202": nil}},
		{name: "expired lock taken over",
			setup: func(t *testing.T, l *lab) {
				otherLock(t, l.sims["leaf201"], "host-b:77", "run-b", past)
			},
			after: map[string][]string{"leaf201": {"ours"}, "leaf202": {"ours"}}},
		{name: "same name, another holder",
			setup: func(t *testing.T, l *lab) {
				// Another writer whose run id is ours (or hashes
				// alike): never overwritten, also on a switch that
				// would let it be.
				otherLock(t, l.sims["leaf201"], "host-b:77", "run-a", future)
			},
			wantHeld: "host-b:77",
			after:    map[string][]string{"leaf201": {lockBase + runTag("run-a")}, "leaf202": nil}},
		{name: "an expired lock of an earlier run with this run id",
			setup: func(t *testing.T, l *lab) {
				otherLock(t, l.sims["leaf201"], "host-a:1", "run-a", past)
			},
			after: map[string][]string{"leaf201": {"ours"}, "leaf202": {"ours"}}},
		{name: "unreadable lock",
			setup: func(t *testing.T, l *lab) {
				if _, err := l.sims["leaf201"].Show("checkpoint " + lockBase + "0badc0de description hand-made"); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "switch leaf201: checkpoint " + lockBase + "0badc0de is named like this fabric's writer lock, but its description is not a lock record",
			after:   map[string][]string{"leaf201": {lockBase + "0badc0de"}, "leaf202": nil}},
		{name: "hand-made checkpoints are not locks",
			setup: func(t *testing.T, l *lab) {
				for _, c := range []string{"checkpoint before-upgrade", "checkpoint fabric-reconciler-haystack-lock description x"} {
					if _, err := l.sims["leaf201"].Show(c); err != nil {
						t.Fatal(err)
					}
				}
			},
			after: map[string][]string{"leaf201": {"before-upgrade", "fabric-reconciler-haystack-lock", "ours"}, "leaf202": {"ours"}}},
	}
	for _, tc := range cases {
		for _, overwrite := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/overwriting switch %v", tc.name, overwrite), func(t *testing.T) {
				t.Parallel()
				tryLockCase(t, labOpts{checkpointOverwrite: overwrite}, tc.setup, tc.wantHeld, tc.wantErr, tc.after)
			})
		}
	}
}

// tryLockCase runs one case of TestTryLock.
func tryLockCase(t *testing.T, o labOpts, setup func(*testing.T, *lab), wantHeld, wantErr string, after map[string][]string) {
	l := newLab(t, o)
	setup(t, l)
	d := l.driver(t, l.fabric(t, nil))
	req := drivers.LockRequest{Holder: "host-a:1", RunID: "run-a", TTL: time.Minute}
	ours := lockBase + runTag("run-a")
	unlock, err := d.TryLock(l.ctx, req)
	var held *drivers.HeldError
	switch {
	case wantHeld != "":
		if !errors.As(err, &held) || held.Record.Holder != wantHeld || unlock != nil {
			t.Fatalf("TryLock: %v, want a HeldError naming %s", err, wantHeld)
		}
		if !strings.Contains(err.Error(), wantHeld) || !strings.Contains(err.Error(), "run "+held.Record.RunID) {
			t.Errorf("the error does not name the holder and its run: %v", err)
		}
	case wantErr != "":
		if err == nil || errors.As(err, &held) || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("TryLock: %v, want %q", err, wantErr)
		}
	case err != nil:
		t.Fatalf("TryLock: %v", err)
	}
	for _, leaf := range leafNames {
		want := slices.Clone(after[leaf])
		for i, n := range want {
			if n == "ours" {
				want[i] = ours
			}
		}
		if got := checkpointNames(l.sims[leaf]); !slices.Equal(got, want) {
			t.Errorf("%s: checkpoints %q, want %q", leaf, got, want)
		}
		for _, cp := range l.sims[leaf].Checkpoints() {
			if cp.Name != ours || unlock == nil {
				continue
			}
			if rec, err := drivers.ParseLockRecord(cp.Description); err != nil || rec.Holder != "host-a:1" || rec.RunID != "run-a" || rec.Expired(time.Now()) {
				t.Errorf("%s: lock description %q, want this run's live record", leaf, cp.Description)
			}
		}
		// The lock is not configuration: nothing was typed in
		// a configuration mode.
		if st := l.sims[leaf].Stats(); st.ConfigLines != 0 {
			t.Errorf("%s: %d configuration lines", leaf, st.ConfigLines)
		}
	}
	if unlock == nil {
		return
	}
	// Asking again for the same run is the lock it holds;
	// another run is refused.
	if again, err := d.TryLock(l.ctx, req); err != nil || again == nil {
		t.Errorf("TryLock again: %v", err)
	}
	if _, err := d.TryLock(l.ctx, drivers.LockRequest{Holder: "host-a:1", RunID: "run-c", TTL: time.Minute}); err == nil ||
		!strings.Contains(err.Error(), "already holds the writer lock for run run-a") {
		t.Errorf("TryLock for another run: %v", err)
	}
	if err := unlock(l.ctx); err != nil {
		t.Fatal(err)
	}
	for _, leaf := range leafNames {
		if slices.Contains(checkpointNames(l.sims[leaf]), ours) {
			t.Errorf("%s: the lock is still there after Unlock", leaf)
		}
	}
}

// TestUnlockLeavesAnotherRecord: a lock checkpoint that no longer carries
// this run's record (deleted, then made again by someone else) is left
// alone by Unlock.
func TestUnlockLeavesAnotherRecord(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	unlock, err := d.TryLock(l.ctx, drivers.LockRequest{Holder: "host-a:1", RunID: "run-a", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ours := lockBase + runTag("run-a")
	sim := l.sims["leaf202"]
	if _, err := sim.Show("no checkpoint " + ours); err != nil {
		t.Fatal(err)
	}
	theirs := drivers.LockRecord{Holder: "host-b:2", RunID: "run-a", Expires: time.Now().Add(time.Hour)}
	if _, err := sim.Show("checkpoint " + ours + " description " + theirs.String()); err != nil {
		t.Fatal(err)
	}
	if err := unlock(l.ctx); err != nil {
		t.Fatal(err)
	}
	if got := checkpointNames(l.sims["leaf201"]); len(got) != 0 {
		t.Errorf("leaf201: %q left", got)
	}
	cps := sim.Checkpoints()
	if len(cps) != 1 || cps[0].Description != theirs.String() {
		t.Errorf("leaf202: %+v, want the other record kept", cps)
	}
}

// TestApplyNeedsTheLock: Apply refuses, sending nothing, without the lock,
// with a lock taken after the observation the plan comes from, with a lock
// that expired, and on a switch whose lock checkpoint is gone.
func TestApplyNeedsTheLock(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, l *lab, d *Driver) fabric.Changeset
		want    string
	}{
		{name: "no lock", want: "fabric lab: not applied: this driver does not hold the fabric's writer lock; take it with TryLock",
			prepare: func(t *testing.T, l *lab, d *Driver) fabric.Changeset { return observePlan(t, l, d) }},
		{name: "observed before the lock", want: "switch leaf201: not applied: this driver does not hold the fabric's writer lock: " +
			"the plan was not made from an observation under the lock",
			prepare: func(t *testing.T, l *lab, d *Driver) fabric.Changeset {
				p := observePlan(t, l, d)
				lock(t, l.ctx, d)
				return p
			}},
		{name: "expired", want: "the lock of run late expired at",
			prepare: func(t *testing.T, l *lab, d *Driver) fabric.Changeset {
				clock := time.Now()
				var mu sync.Mutex
				now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
				unlock, err := d.TryLock(l.ctx, drivers.LockRequest{Holder: "h", RunID: "late", TTL: time.Minute, Now: now})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = unlock(context.Background()) })
				p := observePlan(t, l, d)
				mu.Lock()
				clock = clock.Add(2 * time.Minute)
				mu.Unlock()
				return p
			}},
		{name: "lock checkpoint gone", want: "switch leaf201: not applied: this driver does not hold the fabric's writer lock on this switch any more",
			prepare: func(t *testing.T, l *lab, d *Driver) fabric.Changeset {
				lock(t, l.ctx, d)
				p := observePlan(t, l, d)
				for _, leaf := range leafNames {
					if _, err := l.sims[leaf].Show("clear checkpoint database user"); err != nil {
						t.Fatal(err)
					}
				}
				return p
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{})
			d := l.driver(t, l.fabric(t, nil))
			plan := tc.prepare(t, l, d)
			if len(plan.Changes) == 0 {
				t.Fatal("empty plan")
			}
			res, err := d.Apply(l.ctx, plan)
			if !errors.Is(err, ErrNoLock) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("apply: %v, want %q", err, tc.want)
			}
			if len(res.Applied) != 0 {
				t.Errorf("applied %d", len(res.Applied))
			}
			if st := l.sims["leaf201"].Stats(); st.ConfigLines != 0 || st.Rollbacks != 0 {
				t.Errorf("leaf201 was configured: %+v", st)
			}
		})
	}
}

func observePlan(t *testing.T, l *lab, d *Driver) fabric.Changeset {
	t.Helper()
	obs, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: haystack()}, obs)
}

// TestObserveDoesNotSeeTheLock: the lock is not configuration; Observe
// reports the same objects, and the running configuration is the same, with
// and without it.
func TestObserveDoesNotSeeTheLock(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	if _, _, err := reconcile(t, l.ctx, d, haystack()); err != nil {
		t.Fatal(err)
	}
	before, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	body := l.body(t, "leaf201")
	run, err := l.sims["leaf201"].Show("show running-config")
	if err != nil {
		t.Fatal(err)
	}
	lock(t, l.ctx, d)
	after, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if plan := fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: before.Owned}, after); len(plan.Changes) != 0 ||
		len(after.Foreign) != len(before.Foreign) || after.Owned.Len() != before.Owned.Len() {
		t.Fatalf("observed differently under the lock: %+v", plan.Changes)
	}
	if l.body(t, "leaf201") != body {
		t.Error("taking the lock changed the configuration")
	}
	runLocked, err := l.sims["leaf201"].Show("show running-config")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(runLocked, "lock") || strings.Count(runLocked, "\n") != strings.Count(run, "\n") {
		t.Errorf("the lock shows in the running configuration:\n%s", runLocked)
	}
}

// TestLiveRunsCheckpointUntouched: while another run holds the lock, its
// apply checkpoint (and the half-applied change beside it) is its own:
// Observe reports the running configuration, TryLock reports the holder,
// and nothing is rolled back or deleted. Once its lease has run out, the
// next writer takes the lock over and recovers the switch from that
// checkpoint, as from any interrupted apply.
func TestLiveRunsCheckpointUntouched(t *testing.T) {
	l := newLab(t, labOpts{})
	sim := l.sims["leaf201"]
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	// Run B: its lock, its apply checkpoint, and part of its lines.
	lockB := otherLock(t, sim, "host-b:77", "run-b", clock.Add(time.Minute))
	applyB := "fabric-reconciler-haystack-run-" + runTag("run-b")
	if _, err := sim.Show("checkpoint " + applyB + " description orchestrator:fabric-reconciler.haystack"); err != nil {
		t.Fatal(err)
	}
	half := []string{
		"ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
		"ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26",
	}
	if err := sim.Configure(half...); err != nil {
		t.Fatal(err)
	}
	body := l.body(t, "leaf201")

	d := l.driver(t, l.fabric(t, nil))
	obs, err := d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(obs.Owned.PrefixFilters, func(f fabric.PrefixFilter) bool { return f.Switch == "leaf201" }) {
		t.Error("Observe did not report the running configuration (B's filter in progress)")
	}
	req := drivers.LockRequest{Holder: "host-a:1", RunID: "run-a", TTL: time.Minute, Now: now}
	_, err = d.TryLock(l.ctx, req)
	var held *drivers.HeldError
	if !errors.As(err, &held) || held.Record.RunID != "run-b" {
		t.Fatalf("TryLock: %v, want B's lock", err)
	}
	if got := checkpointNames(sim); !slices.Equal(got, []string{lockB, applyB}) || l.body(t, "leaf201") != body {
		t.Fatalf("B's checkpoints or change touched: %q", got)
	}
	if st := sim.Stats(); st.Rollbacks != 0 {
		t.Fatalf("rolled back: %+v", st)
	}

	// B's lease runs out: B is gone.
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	unlock, err := d.TryLock(l.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unlock(context.Background()) }()
	obs, err = d.Observe(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(obs.Owned.PrefixFilters, func(f fabric.PrefixFilter) bool { return f.Switch == "leaf201" }) {
		t.Error("Observe under the lock did not report B's checkpoint's configuration")
	}
	res, err := d.Apply(l.ctx, fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: haystack()}, obs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Messages, "\n"), "switch leaf201: rolled back to checkpoint "+applyB+", left by an interrupted apply, and deleted it") {
		t.Errorf("messages %q", res.Messages)
	}
	if got := checkpointNames(sim); !slices.Equal(got, []string{lockBase + runTag("run-a")}) {
		t.Errorf("checkpoints %q, want only A's lock", got)
	}
	assertConverged(t, l.ctx, d, haystack())
}

// TestConcurrentTryLock: drivers of two runs (two processes) asking at once,
// many times over: never both hold the lock; a loser is told who holds it,
// or backs off when both asked at the same moment.
func TestConcurrentTryLock(t *testing.T) {
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("overwriting switch %v", overwrite), func(t *testing.T) {
			concurrentTryLock(t, labOpts{checkpointOverwrite: overwrite})
		})
	}
}

func concurrentTryLock(t *testing.T, o labOpts) {
	l := newLab(t, o)
	f := l.fabric(t, nil)
	ds := []*Driver{l.driver(t, f), l.driver(t, f)}
	for i := range 10 {
		var (
			wg      sync.WaitGroup
			unlocks = make([]drivers.Unlock, 2)
			errs    = make([]error, 2)
		)
		for j, d := range ds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlocks[j], errs[j] = d.TryLock(l.ctx, drivers.LockRequest{Holder: fmt.Sprintf("proc-%d", j), RunID: fmt.Sprintf("r%d-%d", i, j), TTL: time.Minute})
			}()
		}
		wg.Wait()
		won := 0
		for j := range ds {
			var held *drivers.HeldError
			switch {
			case errs[j] == nil:
				won++
			case !errors.As(errs[j], &held):
				t.Fatalf("round %d, run %d: %v", i, j, errs[j])
			}
		}
		if won > 1 {
			t.Fatalf("round %d: both runs hold the lock", i)
		}
		for j, u := range unlocks {
			if u != nil {
				if err := u(l.ctx); err != nil {
					t.Fatalf("round %d, run %d: unlock: %v", i, j, err)
				}
			}
		}
		for _, leaf := range leafNames {
			if got := checkpointNames(l.sims[leaf]); len(got) != 0 {
				t.Fatalf("round %d: %s: left %q", i, leaf, got)
			}
		}
	}
}

// TestLockRecordFitsNXOS: the longest holders and run ids fit a checkpoint
// description (80 characters) and stay distinct.
func TestLockRecordFitsNXOS(t *testing.T) {
	long := strings.Repeat("h", 64)
	cases := []drivers.LockRecord{
		{Holder: "host:1", RunID: "run", Expires: time.Unix(1_900_000_000, 0)},
		{Holder: long, RunID: strings.Repeat("r", 64), Expires: time.Unix(1_900_000_000, 0)},
		{Holder: long, RunID: "short", Expires: time.Unix(1_900_000_000, 0)},
		{Holder: "h", RunID: strings.Repeat("r", 64), Expires: time.Unix(1_900_000_000, 0)},
	}
	seen := map[string]bool{}
	for _, r := range cases {
		c := compactRecord(r)
		s := c.String()
		if len(s) > maxCheckpointDesc {
			t.Errorf("%q: %d characters", s, len(s))
		}
		back, err := drivers.ParseLockRecord(s)
		if err != nil || !back.Same(c) || !back.Expires.Equal(r.Expires) {
			t.Errorf("%q: read back %+v, %v", s, back, err)
		}
		if seen[s] {
			t.Errorf("%q: two records compact alike", s)
		}
		seen[s] = true
		if len(r.Holder)+len(r.RunID) <= maxCheckpointDesc-recordOverhead && c != r {
			t.Errorf("%+v was shortened though it fits", r)
		}
	}
	d := offlineDriver(t, func(f *config.Fabric) {})
	if n := d.lockName(strings.Repeat("r", 64)); len(n) > maxCheckpointName || !d.isLockName(n) || d.isApplyCheckpoint(n) {
		t.Errorf("lock name %q", n)
	}
	if n := d.runCheckpoint("x"); !d.isApplyCheckpoint(n) || d.isLockName(n) {
		t.Errorf("run checkpoint %q", n)
	}
}

// TestNoConfirmationPrompts: every session turns confirmation prompts off
// ("terminal dont-ask") before it sends a checkpoint, rollback or "no
// checkpoint", on the first connection and on one reopened after a drop.
func TestNoConfirmationPrompts(t *testing.T) {
	l := newLab(t, labOpts{})
	d := l.driver(t, l.fabric(t, nil))
	l.sims["leaf202"].SetFaults(nxossim.Faults{DropAfterConfigLines: 10})
	if _, res, err := reconcile(t, l.ctx, d, haystack()); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(res.Messages, "\n"))
	}
	for _, leaf := range leafNames {
		asked := map[int]bool{}
		checked := 0
		for _, e := range l.sims[leaf].Log() {
			f := strings.Fields(e.Line)
			switch {
			case e.Line == "terminal dont-ask":
				asked[e.Conn] = true
			case len(f) > 0 && (f[0] == "checkpoint" || f[0] == "rollback" || (f[0] == "no" && len(f) > 1 && f[1] == "checkpoint")):
				checked++
				if !asked[e.Conn] {
					t.Errorf("%s: connection %d sent %q before terminal dont-ask", leaf, e.Conn, e.Line)
				}
			}
		}
		if checked == 0 || len(asked) != l.sims[leaf].Stats().Connections {
			t.Errorf("%s: %d checkpoint commands, %d of %d connections asked", leaf, checked, len(asked), l.sims[leaf].Stats().Connections)
		}
	}
}
