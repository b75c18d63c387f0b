package reconciler_test

import (
	"context"
	"fmt"
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
