package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// watch follows the change notifications of a fabric whose driver pushes
// them (drivers.ChangeNotifier) and reconciles the fabric after each burst,
// debounced like cluster events. The reconcile is an ordinary one: the
// worker observes, plans against the latest desired state, and applies
// under the same guards and writer lock as any other round; the periodic
// resync goes on as the fallback.
func (w *fabricWorker) watch(ctx context.Context, n drivers.ChangeNotifier, q workQueue) {
	log := w.loop.log.With("fabric", w.name)
	debounce := w.loop.opts.Debounce
	signal := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var (
			timer  *time.Timer
			fire   <-chan time.Time
			reason string
		)
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-signal:
				if fire == nil { // the first notification of a burst opens the window
					reason = r
					timer = time.NewTimer(debounce)
					fire = timer.C
				}
			case <-fire:
				fire = nil
				if w.fabricChanged(q) {
					log.Debug("the fabric notified a change; reconciling", "reason", reason)
				}
			}
		}
	}()
	err := n.WatchChanges(ctx, func(reason string) {
		select {
		case signal <- reason:
		default: // a burst is already pending
		}
	})
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, drivers.ErrNotifyUnsupported):
		log.Info("this fabric does not notify its changes; drift is found by the periodic resync", "reason", err.Error())
	default:
		log.Warn("watching the fabric's changes stopped; drift is found by the periodic resync", "error", err.Error())
	}
	<-done // until ctx ends: nothing more comes from the driver
}

// fabricChanged asks for a reconcile because the fabric changed. Before the
// first desired state there is nothing to do: the first round observes
// anyway. While the fabric backs off, the retry observes it (the change
// does not cut the wait short). It reports whether a reconcile was asked
// for.
func (w *fabricWorker) fabricChanged(q workQueue) bool {
	w.mu.Lock()
	if w.want == nil {
		w.mu.Unlock()
		return false
	}
	// A pending cluster change may be skipped when the desired state is
	// unchanged; a fabric change never is.
	if w.trigger == "" || w.trigger == TriggerChange {
		w.trigger = TriggerFabric
	}
	backingOff := !w.retryAt.IsZero()
	w.mu.Unlock()
	if !backingOff {
		q.Add(w.name)
	}
	return true
}
