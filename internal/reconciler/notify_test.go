package reconciler_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
)

// notifying is a driver that pushes changes when the test says so.
type notifying struct {
	drivers.Driver
	err     error // WatchChanges' answer, when set
	mu      sync.Mutex
	changed func(string)
	watched chan struct{}
}

func (n *notifying) WatchChanges(ctx context.Context, changed func(string)) error {
	if n.err != nil {
		return n.err
	}
	n.mu.Lock()
	n.changed = changed
	n.mu.Unlock()
	close(n.watched)
	<-ctx.Done()
	return nil
}

func (n *notifying) notify(reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.changed(reason)
}

// TestLoopFabricNotification: a change the fabric notifies is reconciled
// at once, debounced, as drift, under the ordinary guards; the periodic
// resync (an hour here) plays no part.
func TestLoopFabricNotification(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		burst     int  // notifications sent at once
		unchanged bool // notify without changing the fabric
	}{
		{"one notification", 1, false},
		{"a burst is one reconcile", 25, false},
		{"a notification with nothing changed", 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cs, cfg := haystack(t)
			cfg.Fabrics = cfg.Fabrics[:1]
			src := newSource()
			src.set(true, cs)
			fab := memfabric.New()
			drv := &notifying{Driver: fab.Driver("loop", nil, cfg.Fabrics[0].Name), watched: make(chan struct{})}
			rec := newRecorder()
			l, err := reconciler.NewLoop(src, cfg, map[string]drivers.Driver{cfg.Fabrics[0].Name: drv},
				fast(reconciler.LoopOptions{Hooks: rec, Debounce: 50 * time.Millisecond}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- l.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			<-drv.watched
			first := rec.waitRounds(t, "the first round", func(rs []reconciler.Round) bool { return len(rs) >= 1 && rs[0].Err == nil })
			var key fabric.Key
			for _, s := range fab.State().Subnets {
				if s.Prefix == "172.29.0.6/32" {
					key = fabric.KeyOf(s)
				}
			}
			if !c.unchanged {
				fab.Remove(key)
			}
			start := time.Now()
			for i := range c.burst {
				drv.notify(fmt.Sprintf("deleted l3extSubnet %d", i))
			}
			rounds := rec.waitRounds(t, "the notified round", func(rs []reconciler.Round) bool { return len(rs) > len(first) })
			r := rounds[len(first)]
			if r.Trigger != reconciler.TriggerFabric || r.Err != nil {
				t.Fatalf("round: trigger %s, err %v", r.Trigger, r.Err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the notified round came after %s", took)
			}
			if c.unchanged {
				if r.Drift || len(r.Plan.Changes) != 0 {
					t.Errorf("nothing changed, yet drift %v with %d changes", r.Drift, len(r.Plan.Changes))
				}
			} else {
				if !r.Drift || len(r.Plan.Changes) != 1 || r.Plan.Changes[0].Key() != key {
					t.Errorf("round: drift %v, changes %+v; want the one create of %s", r.Drift, r.Plan.Changes, key)
				}
				if !fab.Has(key) {
					t.Error("the removed subnet was not put back")
				}
			}
			time.Sleep(300 * time.Millisecond) // room for a second round, which must not come
			if _, rs := rec.snapshot(); len(rs) != len(first)+1 {
				var triggers []string
				for _, r := range rs {
					triggers = append(triggers, fmt.Sprintf("%s(drift %v, %d changes)", r.Trigger, r.Drift, len(r.Plan.Changes)))
				}
				t.Errorf("%d rounds after the notification, want 1; rounds: %v", len(rs)-len(first), triggers)
			}
		})
	}
}

// TestLoopNotifyUnsupported: a driver that cannot watch leaves the loop to
// its resync.
func TestLoopNotifyUnsupported(t *testing.T) {
	t.Parallel()
	cs, cfg := haystack(t)
	cfg.Fabrics = cfg.Fabrics[:1]
	src := newSource()
	src.set(true, cs)
	fab := memfabric.New()
	drv := &notifying{Driver: fab.Driver("loop", nil, cfg.Fabrics[0].Name), err: fmt.Errorf("no: %w", drivers.ErrNotifyUnsupported)}
	rec := newRecorder()
	l, err := reconciler.NewLoop(src, cfg, map[string]drivers.Driver{cfg.Fabrics[0].Name: drv},
		fast(reconciler.LoopOptions{Hooks: rec, Resync: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	rec.waitRounds(t, "resyncs", func(rs []reconciler.Round) bool {
		n := 0
		for _, r := range rs {
			if r.Trigger == reconciler.TriggerResync {
				n++
			}
		}
		return n >= 2
	})
}

// TestLoopNoBypassOfBackoff: a fabric that failed waits out its backoff
// even when its driver notifies a change and the cluster changes
// meanwhile. The retry, when it comes, takes the latest cluster state and
// reports TriggerRetry; the notification and the change need no round of
// their own after it.
func TestLoopNoBypassOfBackoff(t *testing.T) {
	t.Parallel()
	const backoff = 600 * time.Millisecond
	cs, cfg := haystack(t)
	cfg.Fabrics = cfg.Fabrics[:1]
	src := newSource()
	fab := memfabric.New()
	drv := &notifying{Driver: fab.Driver("loop", nil, cfg.Fabrics[0].Name), watched: make(chan struct{})}
	rec := newRecorder()
	l, err := reconciler.NewLoop(src, cfg, map[string]drivers.Driver{cfg.Fabrics[0].Name: drv},
		fast(reconciler.LoopOptions{Hooks: rec, BackoffInitial: backoff, BackoffMax: backoff}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-drv.watched

	fab.SetFailure(errors.New("connection refused"))
	src.set(true, cs)
	rounds := rec.waitRounds(t, "the failed round", func(rs []reconciler.Round) bool { return len(rs) >= 1 })
	if r := rounds[0]; r.Err == nil || r.Failures != 1 || r.RetryIn != backoff {
		t.Fatalf("first round: err %v, failures %d, retry in %s; want a failure with a retry in %s", r.Err, r.Failures, r.RetryIn, backoff)
	}
	// During the backoff: the fabric heals, notifies a change, and the
	// cluster moves the dashboard to a new address.
	fab.SetFailure(nil)
	for i := range 5 {
		drv.notify(fmt.Sprintf("change %d", i))
	}
	src.set(true, withServiceIP(cs, "kubernetes-dashboard", "172.29.0.70"))

	rounds = rec.waitRounds(t, "the retry", func(rs []reconciler.Round) bool { return len(rs) >= 2 })
	at := rec.times()
	r := rounds[1]
	if r.Trigger != reconciler.TriggerRetry || r.Err != nil {
		t.Errorf("second round: trigger %s, err %v; want a converged retry", r.Trigger, r.Err)
	}
	// The retry is due RetryIn after the failure; the hook of the failed
	// round ran just after the wait began, hence the small margin. A
	// bypass would come within the 5 ms debounce.
	if gap := at[1].Sub(at[0]); gap < backoff-50*time.Millisecond {
		t.Errorf("the second round came %s after the failure, inside the %s backoff", gap, backoff)
	}
	if !fabricHasSubnet(fab, "172.29.0.70/32") {
		t.Error("the retry did not take the latest cluster state")
	}
	time.Sleep(300 * time.Millisecond) // room for a third round, which must not come
	if _, rs := rec.snapshot(); len(rs) != 2 {
		var triggers []string
		for _, r := range rs {
			triggers = append(triggers, string(r.Trigger))
		}
		t.Errorf("%d rounds, want 2 (the failure and its retry); triggers %v", len(rs), triggers)
	}
}

// TestLoopRunLeavesNoGoroutines: when Run returns, nothing it started is
// left: not the fabrics' workers, not the notification watchers, not the
// work queue's goroutine, even with a retry still waiting in the queue.
// Not parallel, so no other test's loop runs meanwhile.
func TestLoopRunLeavesNoGoroutines(t *testing.T) {
	cs, _ := haystack(t)
	cfg := twoFabrics(t)
	src := newSource()
	src.set(true, cs)
	bad, good := memfabric.New(), memfabric.New()
	bad.SetFailure(errors.New("connection refused"))
	drv := &notifying{Driver: good.Driver("loop", nil, "second-aci"), watched: make(chan struct{})}
	rec := newRecorder()
	l, err := reconciler.NewLoop(src, cfg, map[string]drivers.Driver{"haystack-aci": bad.Driver("loop", nil, "haystack-aci"), "second-aci": drv},
		fast(reconciler.LoopOptions{Hooks: rec, BackoffInitial: time.Hour, BackoffMax: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	<-drv.watched
	rec.waitRounds(t, "both fabrics' first rounds", func(rs []reconciler.Round) bool {
		seen := map[string]bool{}
		for _, r := range rs {
			seen[r.Fabric] = true
		}
		return seen["haystack-aci"] && seen["second-aci"]
	})
	// The loop's goroutines, as the stacks name them.
	loopGoroutines := func() (queue, loop []string) {
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			switch {
			case strings.Contains(g, "k8s.io/client-go/util/workqueue."):
				queue = append(queue, g)
			case strings.Contains(g, "fabric-reconciler/internal/reconciler."):
				loop = append(loop, g)
			}
		}
		return queue, loop
	}
	// While it runs: Run itself, two workers (waiting in the queue's Get),
	// a watcher and its debouncer, the queue's goroutine for delayed adds.
	// This shows the stacks are read right, so that none found below
	// means none left.
	if queue, loop := loopGoroutines(); len(queue) == 0 || len(queue)+len(loop) < 5 {
		t.Fatalf("running loop: %d goroutine(s) in the queue, %d more of the loop; want >= 1 and >= 5 in all", len(queue), len(loop))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// Run waits for its own goroutines; the queue's ends when it sees the
	// shutdown, which may take a moment.
	var left []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		queue, loop := loopGoroutines()
		if left = append(queue, loop...); len(left) == 0 {
			return
		}
	}
	t.Errorf("%d goroutine(s) of the loop outlived Run:\n%s", len(left), strings.Join(left, "\n\n"))
}
