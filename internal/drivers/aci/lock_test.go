package aci

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

const lockDN = tnDN + "/brc-fabric-reconciler.lock.unit"

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func lockReq(holder string, at time.Time, ttl time.Duration) drivers.LockRequest {
	return drivers.LockRequest{Holder: holder, RunID: "run-" + holder, TTL: ttl, Now: func() time.Time { return at }}
}

// writer opens a second driver (another writer of the same cluster) on the
// lab's emulator.
func writer(t *testing.T, d *Driver) *Driver {
	t.Helper()
	w, err := New(d.cfg, drivers.Options{Cluster: "unit"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w.(*Driver)
}

func heldBy(t *testing.T, err error, holder string) {
	t.Helper()
	var held *drivers.HeldError
	if !errors.As(err, &held) || held.Record.Holder != holder || held.Where != lockDN {
		t.Fatalf("error %v, want the lock held by %s at %s", err, holder, lockDN)
	}
}

func TestLockText(t *testing.T) {
	for _, c := range []struct {
		rec  drivers.LockRecord
		want string
	}{
		{drivers.LockRecord{Holder: "host-1:4242", RunID: "r@x.y", Expires: t0}, "holder:host-1:4242 run:r@x.y until:1748779200"},
		{drivers.LockRecord{Holder: "h", RunID: "r", Expires: time.Unix(1, 0)}, "holder:h run:r until:1"},
	} {
		got := lockText(c.rec)
		if got != c.want || !descrRe.MatchString(got) {
			t.Errorf("lockText = %q, want %q (a valid descr)", got, c.want)
		}
		back, err := parseLockText(got)
		if err != nil || !back.Same(c.rec) || !back.Expires.Equal(c.rec.Expires) {
			t.Errorf("parseLockText(%q) = %+v, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "holder=h run=r until=1", "holder:h run:r", "holder:h run:r until:x", "hand-made contract"} {
		if _, err := parseLockText(bad); err == nil {
			t.Errorf("parseLockText(%q) accepted it", bad)
		}
	}
}

// TestLock: the writer lock on the APIC, step by step: taken with status
// "created" (the APIC's 103 refuses a second writer), released only by its
// holder, taken over when expired, never over an object without the mark.
func TestLock(t *testing.T) {
	ctx := context.Background()
	const ttl = 10 * time.Minute
	later := t0.Add(ttl + time.Second)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, srv *emulator.Server, a, b *Driver)
	}{
		{"a second writer is refused until the first releases", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			unlock, err := a.TryLock(ctx, lockReq("a", t0, ttl))
			if err != nil {
				t.Fatal(err)
			}
			_, attrs, ok := srv.Lookup(lockDN)
			if !ok || attrs["annotation"] != ourMark || attrs["descr"] != "holder:a run:run-a until:"+fmt.Sprint(t0.Add(ttl).Unix()) {
				t.Fatalf("marker %v", attrs)
			}
			_, err = b.TryLock(ctx, lockReq("b", t0.Add(time.Minute), ttl))
			heldBy(t, err, "a")
			var refused bool
			for _, r := range srv.Requests() {
				refused = refused || (r.Method == "POST" && r.Path == "/api/mo/"+lockDN+".json" && r.Status == 400)
			}
			if !refused {
				t.Error("the second writer's create was not answered 400 (103)")
			}
			if err := unlock(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := srv.Lookup(lockDN); ok {
				t.Fatal("the marker outlived Unlock")
			}
			if _, err := b.TryLock(ctx, lockReq("b", t0.Add(time.Minute), ttl)); err != nil {
				t.Fatal(err)
			}
		}},
		{"the same request again (a retry) gets the lock it holds", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); err != nil {
				t.Fatal(err)
			}
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); err != nil {
				t.Fatalf("retry: %v", err)
			}
		}},
		{"an expired lock is taken over; its old holder cannot release it", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			unlockA, err := a.TryLock(ctx, lockReq("a", t0, ttl))
			if err != nil {
				t.Fatal(err)
			}
			unlockB, err := b.TryLock(ctx, lockReq("b", later, ttl))
			if err != nil {
				t.Fatalf("takeover: %v", err)
			}
			_, err = a.TryLock(ctx, lockReq("a2", later, ttl))
			heldBy(t, err, "b")
			if err := unlockA(ctx); err == nil || !strings.Contains(err.Error(), "held by b") {
				t.Fatalf("the old holder's Unlock: %v", err)
			}
			if _, _, ok := srv.Lookup(lockDN); !ok {
				t.Fatal("the old holder deleted the new holder's lock")
			}
			if err := unlockB(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := srv.Lookup(lockDN); ok {
				t.Fatal("the marker outlived its holder's Unlock")
			}
		}},
		{"a takeover that arrives after the marker was released and made again takes nothing", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			old := lockReq("old", t0, ttl)
			unlock, err := a.TryLock(ctx, old)
			if err != nil {
				t.Fatal(err)
			}
			if err := unlock(ctx); err != nil {
				t.Fatal(err)
			}
			unlockD, err := a.TryLock(ctx, lockReq("d", later, ttl))
			if err != nil {
				t.Fatal(err)
			}
			// b read "old" (expired) before all that; its link lands now.
			late := lockReq("b", later, ttl)
			if err := b.link(ctx, lockText(old.Record()), late.Record()); err != nil {
				t.Fatalf("the late link was refused: %v", err)
			}
			st, err := b.readLock(ctx)
			if err != nil || b.ours(st, late.Record()) || st.rec.Holder != "d" {
				t.Fatalf("after the late link the holder is %+v (%v)", st.rec, err)
			}
			if err := unlockD(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"a lease that ran out is not released by deleting", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			now := t0
			req := lockReq("a", t0, ttl)
			req.Now = func() time.Time { return now }
			unlock, err := a.TryLock(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			now = later
			if err := unlock(ctx); err == nil || !strings.Contains(err.Error(), "lease ran out") {
				t.Fatalf("Unlock after the lease: %v", err)
			}
			if _, _, ok := srv.Lookup(lockDN); !ok {
				t.Fatal("an expired marker was deleted")
			}
		}},
		{"a hand-made contract at the lock's name is left alone", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			handMade(t, srv, tnDN, "vzBrCP", map[string]string{"name": "fabric-reconciler.lock.unit", "descr": "hand-made"})
			before := dump(srv, lockDN)
			if _, err := a.TryLock(ctx, lockReq("a", later, ttl)); err == nil || !strings.Contains(err.Error(), "without an ownership mark") {
				t.Fatalf("TryLock: %v", err)
			}
			if dump(srv, lockDN) != before {
				t.Fatal("the hand-made contract was changed")
			}
		}},
		{"a marker of ours that holds no lock record is left alone", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			handMade(t, srv, tnDN, "vzBrCP", map[string]string{"name": "fabric-reconciler.lock.unit", "descr": "edited by hand", "annotation": ourMark})
			if _, err := a.TryLock(ctx, lockReq("a", later, ttl)); err == nil || !strings.Contains(err.Error(), "no lock record") {
				t.Fatalf("TryLock: %v", err)
			}
		}},
		{"another cluster's lock is another marker", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			handMade(t, srv, tnDN, "vzBrCP", map[string]string{"name": "fabric-reconciler.lock.haystack2", "descr": "holder:x run:y until:9999999999", "annotation": otherMark})
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); err != nil {
				t.Fatal(err)
			}
		}},
		{"Unlock keeps a marker that holds an unmarked object and ends the lease", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			unlock, err := a.TryLock(ctx, lockReq("a", t0, ttl))
			if err != nil {
				t.Fatal(err)
			}
			handMade(t, srv, lockDN, "vzSubj", map[string]string{"name": "hand"})
			if err := unlock(ctx); err == nil || !strings.Contains(err.Error(), "ending its lease") {
				t.Fatalf("Unlock: %v", err)
			}
			if _, _, ok := srv.Lookup(lockDN + "/subj-hand"); !ok {
				t.Fatal("the hand-made subject was deleted")
			}
			if _, err := b.TryLock(ctx, lockReq("b", t0.Add(time.Minute), ttl)); err != nil {
				t.Fatalf("the released lock could not be taken: %v", err)
			}
		}},
		{"no tenant: refused", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			a.names.tenant = "TEN_NOT_THERE"
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); err == nil || !strings.Contains(err.Error(), "102") {
				t.Fatalf("TryLock: %v", err)
			}
		}},
		{"a record too long for descr is refused before anything is sent", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			req := lockReq(strings.Repeat("h", 64), t0, ttl)
			req.RunID = strings.Repeat("r", 64)
			srv.ResetLog()
			if _, err := a.TryLock(ctx, req); err == nil || !strings.Contains(err.Error(), "too long") {
				t.Fatalf("TryLock: %v", err)
			}
			if n := srv.Count("", "/api/mo/"); n != 0 {
				t.Fatalf("%d requests", n)
			}
		}},
		{"a lost answer to the create: the lock is found to be ours", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			srv.AddFault(emulator.Fault{Kind: emulator.FaultResetAfterCommit, Method: "POST", PathPrefix: "/api/mo/" + lockDN, Times: 1})
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); err != nil {
				t.Fatal(err)
			}
			_, err := b.TryLock(ctx, lockReq("b", t0, ttl))
			heldBy(t, err, "a")
		}},
		{"a lost answer and a failed read-back: the outcome is unknown", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			srv.AddFault(emulator.Fault{Kind: emulator.FaultResetAfterCommit, Method: "POST", PathPrefix: "/api/mo/" + lockDN, Times: 1})
			srv.AddFault(emulator.Fault{Kind: emulator.FaultThrottle, Status: 429, RetryAfter: "0", Method: "GET", PathPrefix: "/api/mo/" + lockDN})
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); !errors.Is(err, drivers.ErrOutcomeUnknown) {
				t.Fatalf("TryLock: %v", err)
			}
		}},
		{"the marker is no fabric object", func(t *testing.T, srv *emulator.Server, a, b *Driver) {
			if _, err := a.TryLock(ctx, lockReq("a", t0, ttl)); err != nil {
				t.Fatal(err)
			}
			if _, err := b.TryLock(ctx, lockReq("b", later, ttl)); err != nil { // with a takeover link
				t.Fatal(err)
			}
			handMade(t, srv, tnDN, "vzBrCP", map[string]string{"name": "fabric-reconciler.lock.haystack2", "annotation": otherMark})
			obs, err := a.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range obs.Foreign {
				if f.Kind == fabric.KindContract {
					t.Errorf("a lock marker is reported as foreign: %+v", f)
				}
			}
			if obs.Owned.Len() != 0 {
				t.Fatalf("observed %+v", obs.Owned)
			}
			if plan := fabric.Diff(fabric.Target{Name: "f"}, obs); len(plan.Changes) != 0 {
				t.Fatalf("plan %+v", plan.Changes)
			}
			res, err := a.Apply(ctx, fabric.Changeset{Changes: []fabric.Change{create(fabric.Contract{Name: "fabric-reconciler.lock.unit", Provider: "EPG_A"})}})
			if err == nil || len(res.Applied) != 0 {
				t.Fatalf("a contract at the lock's name was applied: %v", err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, a := lab(t, emulator.Options{}, tlsCA)
			c.run(t, srv, a, writer(t, a))
		})
	}
}

// TestLockRace: writers that race for a free lock, or to take over one
// lock that expired, end with exactly one holder each time.
func TestLockRace(t *testing.T) {
	const writers, rounds = 4, 10
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		expired bool // an earlier holder's lease has run out
	}{
		{name: "free lock"},
		{name: "expired lock", expired: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, emulator.Options{}, tlsCA)
			ws := []*Driver{d}
			for len(ws) < writers {
				ws = append(ws, writer(t, d))
			}
			for round := 0; round < rounds; round++ {
				start := t0.Add(time.Duration(round) * time.Hour)
				if c.expired {
					if _, err := d.TryLock(ctx, lockReq(fmt.Sprintf("old%d", round), start, time.Minute)); err != nil {
						t.Fatal(err)
					}
					start = start.Add(2 * time.Minute)
				}
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					winners []string
					unlocks []drivers.Unlock
				)
				for i, w := range ws {
					wg.Add(1)
					go func(i int, w *Driver) {
						defer wg.Done()
						name := fmt.Sprintf("w%d-%d", round, i)
						unlock, err := w.TryLock(ctx, lockReq(name, start, time.Minute))
						var held *drivers.HeldError
						switch {
						case err == nil:
							mu.Lock()
							winners = append(winners, name)
							unlocks = append(unlocks, unlock)
							mu.Unlock()
						case !errors.As(err, &held):
							t.Errorf("%s: %v", name, err)
						}
					}(i, w)
				}
				wg.Wait()
				if len(winners) != 1 {
					t.Fatalf("round %d: holders %v", round, winners)
				}
				if err := unlocks[0](ctx); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if _, _, ok := srv.Lookup(lockDN); ok {
					t.Fatalf("round %d: the marker outlived Unlock", round)
				}
			}
			// The writers did race: some were refused by the APIC's 103.
			refused := 0
			for _, r := range srv.Requests() {
				if r.Method == "POST" && r.Status == 400 && strings.HasPrefix(r.Path, "/api/mo/"+lockDN) &&
					strings.Contains(r.Path, "/subj-takeover-") == c.expired {
					refused++
				}
			}
			t.Logf("%d creates refused with 103", refused)
			if refused == 0 {
				t.Error("no writer was refused with 103: the writers did not race")
			}
		})
	}
}
