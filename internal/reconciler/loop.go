package reconciler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"k8s.io/client-go/util/workqueue"
)

// Source is where the loop reads the cluster: the informers
// (k8swatch.Watcher) in a controller.
type Source interface {
	// Synced reports whether the caches hold every object once. Until
	// then nothing is reconciled: a partial view could delete what the
	// fabric rightly holds.
	Synced() bool
	// State builds the cluster state from the caches.
	State() (k8swatch.ClusterState, error)
	// Changed delivers a value after the cluster changed (and once when the
	// caches synced).
	Changed() <-chan struct{}
}

// Trigger says why a fabric was reconciled.
type Trigger string

const (
	// TriggerChange: the cluster changed, or this is the first round.
	TriggerChange Trigger = "change"
	// TriggerResync: the periodic resync, which catches drift made on the
	// switches by hand.
	TriggerResync Trigger = "resync"
	// TriggerRetry: an earlier attempt failed and its backoff ran out.
	TriggerRetry Trigger = "retry"
	// TriggerFabric: the fabric's driver notified a change on the fabric
	// (drivers.ChangeNotifier): drift found in seconds, not at the next
	// resync.
	TriggerFabric Trigger = "fabric"
)

// Defaults of LoopOptions.
const (
	DefaultDebounce       = 200 * time.Millisecond
	DefaultResync         = 5 * time.Minute
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = 5 * time.Minute
	DefaultTimeout        = 2 * time.Minute
)

// LoopOptions tune the loop; zero values take the defaults.
type LoopOptions struct {
	Options
	// Debounce is how long the loop gathers cluster events before it
	// recomputes: the first event of a burst starts the window.
	Debounce time.Duration
	// Resync is how often every fabric is observed and planned even when
	// the cluster did not change.
	Resync time.Duration
	// BackoffInitial and BackoffMax bound the exponential wait before a
	// failed fabric is tried again (see Backoff). Changes offered while a
	// fabric backs off do not cut the wait short: the retry takes the
	// latest of them.
	BackoffInitial, BackoffMax time.Duration
	// Timeout bounds one reconcile of one fabric.
	Timeout time.Duration
	Logger  *slog.Logger
	// Hooks, when set, hear about every round (metrics, events).
	Hooks Hooks
}

// Hooks hear what the loop does. Calls come from several goroutines (one per
// fabric) and must return quickly.
type Hooks interface {
	// Translated is called after each rebuild of the desired state, with
	// the intents it was made from (what doctor checks, without
	// translating again).
	Translated(cs k8swatch.ClusterState, tr Translation)
	// Reconciled is called after each reconcile of one fabric.
	Reconciled(r Round)
}

// Round is one reconcile of one fabric.
type Round struct {
	Outcome
	Trigger Trigger
	// Drift is true when the plan had changes although the desired state
	// was the one the fabric last converged to: someone changed the fabric.
	Drift bool
	// Failures counts consecutive failures, this one included; RetryIn is
	// the wait before the next attempt.
	Failures int
	RetryIn  time.Duration
	// Cluster is the state the desired state came from.
	Cluster k8swatch.ClusterState
}

// Loop keeps every configured fabric in step with the cluster. It is
// level-triggered: events only mark the state dirty; one goroutine rebuilds
// the whole desired state after a short debounce and hands each fabric its
// part. The fabrics' rounds are scheduled by a client-go rate-limiting work
// queue keyed by fabric name, served by as many workers as there are
// fabrics, so a slow or unreachable fabric never holds up another; a
// failing one backs off exponentially (the queue's per-item rate limiter).
type Loop struct {
	src     Source
	cfg     *config.Config
	opts    LoopOptions
	log     *slog.Logger
	workers map[string]*fabricWorker
	order   []string

	// observed is the latest observation of each fabric: what is in place
	// keeps its place against newcomers (see TranslateOptions.Observed).
	obsMu    sync.Mutex
	observed map[string]fabric.Observed
}

// NewLoop sets up the loop. ds holds one driver per configured fabric.
func NewLoop(src Source, cfg *config.Config, ds map[string]drivers.Driver, opts LoopOptions) (*Loop, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Resync <= 0 {
		opts.Resync = DefaultResync
	}
	if opts.BackoffInitial <= 0 {
		opts.BackoffInitial = DefaultBackoffInitial
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = DefaultBackoffMax
	}
	if opts.BackoffMax < opts.BackoffInitial {
		opts.BackoffMax = opts.BackoffInitial
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Loop{src: src, cfg: cfg, opts: opts, log: opts.Logger, workers: map[string]*fabricWorker{}, observed: map[string]fabric.Observed{}}
	for _, f := range cfg.Fabrics {
		d, ok := ds[f.Name]
		if !ok || d == nil {
			return nil, fmt.Errorf("fabric %s: no driver", f.Name)
		}
		l.workers[f.Name] = &fabricWorker{loop: l, name: f.Name, driver: d, guards: GuardsFor(&f, opts.Options)}
		l.order = append(l.order, f.Name)
	}
	return l, nil
}

// Backoff returns the wait after the n-th consecutive failure: initial,
// doubled per failure, capped at max. It is the formula of client-go's
// workqueue.TypedItemExponentialFailureRateLimiter, which times the loop's
// retries (a test checks that they agree), so Round.RetryIn, which is
// Backoff(Round.Failures, ...), is the wait the queue applies.
func Backoff(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// Run reconciles until ctx ends. Nothing is observed or applied before the
// source has synced.
func (l *Loop) Run(ctx context.Context) error {
	q := workqueue.NewTypedRateLimitingQueueWithConfig[string](
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](l.opts.BackoffInitial, l.opts.BackoffMax),
		workqueue.TypedRateLimitingQueueConfig[string]{})
	var wg sync.WaitGroup
	defer wg.Wait()
	// Before the wait: the workers return once the queue is shut down, and
	// the queue's own goroutine (delayed adds) ends with it.
	defer q.ShutDown()
	// One worker per fabric, all on the one queue. The queue never hands a
	// fabric to two workers at once, so at most one worker per fabric is
	// busy and a queued fabric always finds an idle one: a slow fabric never
	// holds up another.
	for range l.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.processNext(ctx, q) {
			}
		}()
	}
	for _, name := range l.order {
		w := l.workers[name]
		if n, ok := w.driver.(drivers.ChangeNotifier); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.watch(ctx, n, q) // notify.go
			}()
		}
	}

	resync := time.NewTicker(l.opts.Resync)
	defer resync.Stop()
	var (
		timer    *time.Timer
		debounce <-chan time.Time
	)
	arm := func(d time.Duration) {
		if debounce == nil {
			timer = time.NewTimer(d)
			debounce = timer.C
		}
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	// The first round runs as soon as the caches have synced.
	arm(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.src.Changed():
			arm(l.opts.Debounce)
		case <-debounce:
			debounce = nil
			if ctx.Err() != nil {
				return nil
			}
			if !l.rebuild(q, TriggerChange) {
				arm(l.opts.Debounce) // not synced yet: look again shortly
			}
		case <-resync.C:
			l.rebuild(q, TriggerResync)
		}
	}
}

// rebuild recomputes the desired state and hands it to the fabrics. It
// reports false when the source is not ready.
func (l *Loop) rebuild(q workQueue, trigger Trigger) bool {
	if !l.src.Synced() {
		l.log.Debug("cluster caches not synced yet; nothing is reconciled")
		return false
	}
	cs, err := l.src.State()
	if err != nil {
		l.log.Warn("cannot read the cluster state", "error", err)
		return false
	}
	tr := TranslateWithIntents(cs, l.cfg, l.translateOptions(nil))
	d := tr.Desired
	if l.opts.Hooks != nil {
		l.opts.Hooks.Translated(cs, tr)
	}
	for _, fd := range d.Fabrics {
		if w, ok := l.workers[fd.Name]; ok {
			w.offer(q, fd, trigger, cs)
		}
	}
	return true
}

// translateOptions are the options of a translation, with the latest
// observation of every fabric, fresh ones overriding.
func (l *Loop) translateOptions(fresh map[string]fabric.Observed) TranslateOptions {
	l.obsMu.Lock()
	defer l.obsMu.Unlock()
	for n, o := range fresh {
		l.observed[n] = o
	}
	obs := make(map[string]fabric.Observed, len(l.observed))
	for n, o := range l.observed {
		obs[n] = o
	}
	return TranslateOptions{Observed: obs, AllowMissing: l.opts.AllowMissing, CalicoNamespace: l.cfg.CalicoNamespace}
}

// desired translates the cluster with a fabric's fresh observation and
// returns that fabric's part.
func (l *Loop) desired(cs k8swatch.ClusterState, name string, obs fabric.Observed) fabric.Target {
	d := Translate(cs, l.cfg, l.translateOptions(map[string]fabric.Observed{name: obs}))
	fd, _ := d.Fabric(name)
	return fd
}

// workQueue schedules the fabrics' rounds; its keys are fabric names.
type workQueue = workqueue.TypedRateLimitingInterface[string]

// processNext runs the round of the next fabric the queue hands out. It
// reports false once the queue is shut down and empty.
func (l *Loop) processNext(ctx context.Context, q workQueue) bool {
	name, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(name)
	if ctx.Err() != nil {
		return true // stopping: what is still queued is dropped, not reconciled
	}
	l.workers[name].round(ctx, q)
	return true
}

// fabricWorker holds one fabric's latest offered desired state and runs
// its rounds when the queue hands the fabric out.
type fabricWorker struct {
	loop   *Loop
	name   string
	driver drivers.Driver
	guards Guards

	mu      sync.Mutex
	want    *fabric.Target
	cluster k8swatch.ClusterState
	trigger Trigger // "" when nothing is pending
	// retryAt is when the retry of a failed round is due; zero when the
	// fabric is not backing off. Until then offers are kept for the retry
	// and do not queue the fabric.
	retryAt time.Time

	// converged is the last desired state reconciled without error. Only a
	// round reads or writes it, and the queue runs one round of a fabric at
	// a time (its Get and Done order them).
	converged *fabric.Target
}

// offer makes fd the fabric's desired state and queues the fabric, unless
// it is backing off: then the retry takes fd.
func (w *fabricWorker) offer(q workQueue, fd fabric.Target, trigger Trigger, cs k8swatch.ClusterState) {
	w.mu.Lock()
	w.want, w.cluster = &fd, cs
	if w.trigger == "" || trigger == TriggerResync {
		w.trigger = trigger
	}
	backingOff := !w.retryAt.IsZero()
	w.mu.Unlock()
	if !backingOff {
		q.Add(w.name)
	}
}

// take returns what a round is to reconcile, and false when there is
// nothing to do now: nothing was offered yet, an earlier round already took
// the pending trigger, or the fabric is backing off and its retry is not
// due (an Add that raced with the failure). A due retry takes the latest
// state, pending or not, with TriggerRetry.
func (w *fabricWorker) take(now time.Time) (want *fabric.Target, trigger Trigger, cs k8swatch.ClusterState, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	retrying := false
	if !w.retryAt.IsZero() {
		if now.Before(w.retryAt) {
			return nil, "", cs, false
		}
		w.retryAt, retrying = time.Time{}, true
	}
	if w.want == nil || (w.trigger == "" && !retrying) {
		return nil, "", cs, false
	}
	trigger, w.trigger = w.trigger, ""
	if retrying {
		trigger = TriggerRetry
	}
	return w.want, trigger, w.cluster, true
}

// round reconciles the fabric once, if there is something to do. The queue
// calls Done after it; on failure the fabric is queued again rate-limited
// (AddRateLimited), on success the rate limiter forgets it.
func (w *fabricWorker) round(ctx context.Context, q workQueue) {
	opts := w.loop.opts
	log := w.loop.log.With("fabric", w.name)
	want, trigger, cs, ok := w.take(time.Now())
	if !ok {
		return
	}
	unchanged := w.converged != nil && SameDesired(*w.converged, *want)
	if trigger == TriggerChange && unchanged && q.NumRequeues(w.name) == 0 {
		return // this fabric's part did not change
	}

	rctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	out := Reconcile(rctx, w.driver, want.Name, want.Driver,
		func(obs fabric.Observed) fabric.Target { return w.loop.desired(cs, w.name, obs) }, w.guards, opts.Options)
	cancel()
	if ctx.Err() != nil {
		return // stopping (shutdown, lost leadership): not a failure
	}
	r := Round{Outcome: out, Trigger: trigger, Cluster: cs, Drift: unchanged && len(out.Plan.Changes) > 0}
	if out.Err != nil {
		// Read the clock before the queue does (AddAfter): the retry it
		// adds then never comes before retryAt. Until Done the fabric
		// cannot be handed out again, so retryAt is set in time.
		now := time.Now()
		q.AddRateLimited(w.name)
		r.Failures = q.NumRequeues(w.name)
		r.RetryIn = Backoff(r.Failures, opts.BackoffInitial, opts.BackoffMax)
		w.mu.Lock()
		w.retryAt = now.Add(r.RetryIn)
		w.mu.Unlock()
		log.Warn("reconcile failed", "stage", out.Stage, "error", out.Err, "failures", r.Failures, "retryIn", r.RetryIn.String())
	} else {
		q.Forget(w.name)
		w.converged = want
		s := out.Plan.Summary()
		level := slog.LevelDebug
		if s.Total() > 0 || len(out.Plan.Conflicts) > 0 {
			level = slog.LevelInfo
		}
		log.Log(ctx, level, "reconciled", "trigger", string(trigger), "create", s.Create, "update", s.Update, "delete", s.Delete,
			"conflicts", len(out.Plan.Conflicts), "drift", r.Drift, "dryRun", opts.DryRun, "duration", out.Duration.String())
	}
	if opts.Hooks != nil {
		opts.Hooks.Reconciled(r)
	}
}

// SameDesired reports whether two desired states of a fabric hold the same
// objects.
func SameDesired(a, b fabric.Target) bool {
	return a.Name == b.Name && a.Driver == b.Driver && len(fabric.Diff(a, fabric.Observed{Owned: b.State}).Changes) == 0
}
