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
	// failed fabric is tried again.
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
// level-triggered: events only mark the state dirty; one worker rebuilds
// the whole desired state after a short debounce and hands each fabric its
// part. Each fabric has its own worker, so a slow or unreachable fabric
// never holds up another; a failing one backs off exponentially.
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
		l.workers[f.Name] = &fabricWorker{loop: l, name: f.Name, driver: d, wake: make(chan struct{}, 1), guards: GuardsFor(&f, opts.Options)}
		l.order = append(l.order, f.Name)
	}
	return l, nil
}

// Backoff returns the wait after the n-th consecutive failure: initial,
// doubled per failure, capped at max.
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
	var wg sync.WaitGroup
	for _, name := range l.order {
		w := l.workers[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
		if n, ok := w.driver.(drivers.ChangeNotifier); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.watch(ctx, n) // notify.go
			}()
		}
	}
	defer wg.Wait()

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
			if !l.rebuild(TriggerChange) {
				arm(l.opts.Debounce) // not synced yet: look again shortly
			}
		case <-resync.C:
			l.rebuild(TriggerResync)
		}
	}
}

// rebuild recomputes the desired state and hands it to the fabrics. It
// reports false when the source is not ready.
func (l *Loop) rebuild(trigger Trigger) bool {
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
			w.offer(fd, trigger, cs)
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

// fabricWorker reconciles one fabric with the latest desired state it was
// offered.
type fabricWorker struct {
	loop   *Loop
	name   string
	driver drivers.Driver
	guards Guards
	wake   chan struct{}

	mu      sync.Mutex
	want    *fabric.Target
	cluster k8swatch.ClusterState
	trigger Trigger // "" when nothing is pending
}

func (w *fabricWorker) offer(fd fabric.Target, trigger Trigger, cs k8swatch.ClusterState) {
	w.mu.Lock()
	w.want, w.cluster = &fd, cs
	if w.trigger == "" || trigger == TriggerResync {
		w.trigger = trigger
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *fabricWorker) take() (*fabric.Target, Trigger, k8swatch.ClusterState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.trigger
	w.trigger = ""
	return w.want, t, w.cluster
}

func (w *fabricWorker) run(ctx context.Context) {
	opts := w.loop.opts
	log := w.loop.log.With("fabric", w.name)
	var (
		converged *fabric.Target // the last desired state reconciled without error
		failures  int
		retryAt   time.Time
		retry     *time.Timer
		retryC    <-chan time.Time
	)
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	for {
		retrying := false
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-retryC:
			retryC, retrying = nil, true
		}
		if failures > 0 && !retrying && time.Now().Before(retryAt) {
			continue // backing off; the retry takes the latest state
		}
		if ctx.Err() != nil {
			return
		}
		want, trigger, cs := w.take()
		if want == nil || (trigger == "" && !retrying) {
			// Nothing pending: a wake left over from an offer whose
			// trigger the previous take already consumed.
			continue
		}
		if retrying {
			trigger = TriggerRetry
		}
		unchanged := converged != nil && SameDesired(*converged, *want)
		if trigger == TriggerChange && failures == 0 && unchanged {
			continue // this fabric's part did not change
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
			failures++
			r.Failures = failures
			r.RetryIn = Backoff(failures, opts.BackoffInitial, opts.BackoffMax)
			retryAt = time.Now().Add(r.RetryIn)
			if retry != nil {
				retry.Stop()
			}
			retry = time.NewTimer(r.RetryIn)
			retryC = retry.C
			log.Warn("reconcile failed", "stage", out.Stage, "error", out.Err, "failures", failures, "retryIn", r.RetryIn.String())
		} else {
			failures = 0
			converged = want
			if retry != nil {
				retry.Stop()
				retryC = nil
			}
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
}

// SameDesired reports whether two desired states of a fabric hold the same
// objects.
func SameDesired(a, b fabric.Target) bool {
	return a.Name == b.Name && a.Driver == b.Driver && len(fabric.Diff(a, fabric.Observed{Owned: b.State}).Changes) == 0
}
