package reconciler_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/aci"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
	"k8s.io/client-go/util/workqueue"
)

// fakeSource is a cluster whose sync state and content the test sets.
type fakeSource struct {
	mu     sync.Mutex
	synced bool
	cs     k8swatch.ClusterState
	ch     chan struct{}
}

func newSource() *fakeSource { return &fakeSource{ch: make(chan struct{}, 1)} }

func (s *fakeSource) set(synced bool, cs k8swatch.ClusterState) {
	s.mu.Lock()
	s.synced, s.cs = synced, cs
	s.mu.Unlock()
	s.poke()
}

func (s *fakeSource) poke() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

func (s *fakeSource) Synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

func (s *fakeSource) State() (k8swatch.ClusterState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.synced {
		return k8swatch.ClusterState{}, k8swatch.ErrNotSynced
	}
	return s.cs, nil
}

func (s *fakeSource) Changed() <-chan struct{} { return s.ch }

// recorder keeps what the hooks heard.
type recorder struct {
	mu         sync.Mutex
	translated int
	rounds     []reconciler.Round
	at         []time.Time // when each round was heard
	changed    chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Translated(k8swatch.ClusterState, reconciler.Translation) {
	r.mu.Lock()
	r.translated++
	r.mu.Unlock()
}

func (r *recorder) Reconciled(round reconciler.Round) {
	r.mu.Lock()
	r.rounds = append(r.rounds, round)
	r.at = append(r.at, time.Now())
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() (int, []reconciler.Round) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.translated, append([]reconciler.Round(nil), r.rounds...)
}

// times returns when each round so far was heard.
func (r *recorder) times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// waitRounds waits until cond holds for the rounds so far.
func (r *recorder) waitRounds(t *testing.T, what string, cond func([]reconciler.Round) bool) []reconciler.Round {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		rounds := append([]reconciler.Round(nil), r.rounds...)
		ch := r.changed
		r.mu.Unlock()
		if cond(rounds) {
			return rounds
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; rounds so far: %d", what, len(rounds))
		}
	}
}

func haystack(t *testing.T) (k8swatch.ClusterState, *config.Config) {
	t.Helper()
	cs, err := k8swatch.LoadFiles(filepath.Join(testenv.RepoRoot(), "examples/haystack/cluster"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(testenv.RepoRoot(), "examples/haystack/fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cs, cfg
}

// twoFabrics splits the haystack config in two fabrics, one leaf each.
func twoFabrics(t *testing.T) *config.Config {
	t.Helper()
	_, cfg := haystack(t)
	first, second := cfg.Fabrics[0], cfg.Fabrics[0]
	first.Switches = first.Switches[:1]
	second.Name = "second-aci"
	set := *second.Platform.(*aci.Settings)
	set.Tenant = "TEN_SECOND"
	second.Platform = &set
	second.Switches = second.Switches[1:]
	cfg.Fabrics = []config.Fabric{first, second}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

type loopRun struct {
	rec     *recorder
	fabrics map[string]*memfabric.Fabric
}

func startLoop(t *testing.T, src reconciler.Source, cfg *config.Config, opts reconciler.LoopOptions) loopRun {
	t.Helper()
	run := loopRun{rec: newRecorder(), fabrics: map[string]*memfabric.Fabric{}}
	ds := map[string]drivers.Driver{}
	for _, f := range cfg.Fabrics {
		run.fabrics[f.Name] = memfabric.New()
		ds[f.Name] = run.fabrics[f.Name].Driver("loop", nil, f.Name)
	}
	opts.Hooks = run.rec
	l, err := reconciler.NewLoop(src, cfg, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return run
}

func fast(o reconciler.LoopOptions) reconciler.LoopOptions {
	if o.Debounce == 0 {
		o.Debounce = 5 * time.Millisecond
	}
	if o.BackoffInitial == 0 {
		o.BackoffInitial = 10 * time.Millisecond
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = 80 * time.Millisecond
	}
	if o.Resync == 0 {
		o.Resync = time.Hour
	}
	return o
}

var staleSubnet = fabric.ExternalSubnet{Group: "EPG_K8_APP_GONE", Prefix: "172.29.0.99/32", Scopes: []fabric.Scope{fabric.ScopeImportSecurity}}

// TestLoopNothingBeforeSync: while the cache has not synced the loop
// neither observes nor applies, so objects the fabric holds are never
// deleted from a half-loaded view; once synced, the fabric converges
// (stale objects go).
func TestLoopNothingBeforeSync(t *testing.T) {
	t.Parallel()
	cs, cfg := haystack(t)
	src := newSource()
	run := startLoop(t, src, cfg, fast(reconciler.LoopOptions{}))
	fab := run.fabrics["haystack-aci"]
	fab.Put(staleSubnet)

	// Many events while unsynced, and a partial state ready to be served.
	for i := 0; i < 20; i++ {
		src.set(false, k8swatch.ClusterState{Nodes: cs.Nodes[:1]})
		time.Sleep(10 * time.Millisecond)
	}
	if calls := fab.Calls(); len(calls) != 0 {
		t.Fatalf("the driver was called %d time(s) before the cache synced: %+v", len(calls), calls)
	}
	if n, _ := run.rec.snapshot(); n != 0 {
		t.Fatalf("desired state computed %d time(s) before sync", n)
	}

	src.set(true, cs)
	run.rec.waitRounds(t, "a converged round", func(rs []reconciler.Round) bool { return len(rs) > 0 })
	_, rounds := run.rec.snapshot()
	r := rounds[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if !fabricHasSubnet(fab, "172.29.0.7/32") {
		t.Error("the dashboard's subnet was not created")
	}
	if fab.Has(fabric.KeyOf(staleSubnet)) {
		t.Error("the stale subnet survived a synced round")
	}
}

// TestLoopEmptyClusterIsRefused: a synced but empty cluster would delete
// everything; the guard refuses and the loop backs off instead.
func TestLoopEmptyClusterIsRefused(t *testing.T) {
	t.Parallel()
	_, cfg := haystack(t)
	src := newSource()
	run := startLoop(t, src, cfg, fast(reconciler.LoopOptions{}))
	fab := run.fabrics["haystack-aci"]
	fab.Put(staleSubnet)
	// Complete, as the informers are: an empty kind is really empty, so no
	// hold keeps the subnet and only the guard stands in the way.
	src.set(true, k8swatch.ClusterState{Complete: true})
	rounds := run.rec.waitRounds(t, "two failed rounds", func(rs []reconciler.Round) bool { return len(rs) >= 2 })
	for _, r := range rounds {
		if r.Err == nil || r.Stage != reconciler.StageGuard {
			t.Errorf("round %+v: want a guard failure", r.Outcome)
		}
	}
	if len(fab.Applies()) != 0 || !fab.Has(fabric.KeyOf(staleSubnet)) {
		t.Error("an empty cluster emptied the fabric")
	}
}

func fabricHasSubnet(f *memfabric.Fabric, prefix string) bool {
	for _, s := range f.State().Subnets {
		if s.Prefix == prefix {
			return true
		}
	}
	return false
}

// TestLoopDebounce: a burst of events inside the debounce window gives one
// recomputation.
func TestLoopDebounce(t *testing.T) {
	t.Parallel()
	cs, cfg := haystack(t)
	src := newSource()
	src.set(true, cs)
	run := startLoop(t, src, cfg, fast(reconciler.LoopOptions{Debounce: 300 * time.Millisecond}))
	run.rec.waitRounds(t, "the first round", func(rs []reconciler.Round) bool { return len(rs) == 1 })
	before, _ := run.rec.snapshot()
	for i := 0; i < 50; i++ {
		src.poke()
	}
	// One more round must come (the burst), but not fifty: wait for the
	// window to close, then count.
	time.Sleep(600 * time.Millisecond)
	after, _ := run.rec.snapshot()
	if got := after - before; got != 1 {
		t.Errorf("50 events in one window gave %d recomputations, want 1", got)
	}
	// Nothing changed for the fabric: no second observe. The first round
	// observed, took the lock, observed again under it, applied, unlocked.
	if obs := len(run.fabrics["haystack-aci"].Calls()); obs != 5 {
		t.Errorf("driver calls = %d, want 5 (an unchanged desired state is not reconciled again)", obs)
	}
}

// TestLoopBackoffPerFabric: a failing fabric is retried with exponential
// backoff up to the cap while the other fabric converges and keeps
// following changes.
func TestLoopBackoffPerFabric(t *testing.T) {
	t.Parallel()
	cs, _ := haystack(t)
	cfg := twoFabrics(t)
	src := newSource()
	run := startLoop(t, src, cfg, fast(reconciler.LoopOptions{}))
	bad, good := run.fabrics["haystack-aci"], run.fabrics["second-aci"]
	bad.SetFailure(errors.New("connection refused"))
	src.set(true, cs)

	rounds := run.rec.waitRounds(t, "six failures", func(rs []reconciler.Round) bool {
		n := 0
		for _, r := range rs {
			if r.Fabric == "haystack-aci" {
				n++
			}
		}
		return n >= 6
	})
	var waits []time.Duration
	for _, r := range rounds {
		if r.Fabric != "haystack-aci" {
			continue
		}
		if r.Err == nil || r.Stage != reconciler.StageObserve {
			t.Fatalf("round %d of the failing fabric: %v at %s", r.Failures, r.Err, r.Stage)
		}
		waits = append(waits, r.RetryIn)
	}
	want := []time.Duration{10, 20, 40, 80, 80, 80}
	for i := range want {
		if waits[i] != want[i]*time.Millisecond {
			t.Errorf("backoff %d = %s, want %s (all: %v)", i+1, waits[i], want[i]*time.Millisecond, waits)
		}
	}
	if !fabricHasSubnet(good, "172.29.0.7/32") {
		t.Error("the healthy fabric did not converge while the other failed")
	}

	// Heal it: the next retry converges and the failure count resets.
	bad.SetFailure(nil)
	run.rec.waitRounds(t, "recovery", func(rs []reconciler.Round) bool {
		last := rs[len(rs)-1]
		return last.Fabric == "haystack-aci" && last.Err == nil
	})
	if !fabricHasSubnet(bad, "172.29.0.7/32") {
		t.Error("the healed fabric did not converge")
	}
}

// blockingDriver hangs in Observe until its context ends: a switch that
// accepts the connection and never answers.
type blockingDriver struct{ drivers.Driver }

func (blockingDriver) Observe(ctx context.Context) (fabric.Observed, error) {
	<-ctx.Done()
	return fabric.Observed{}, ctx.Err()
}

// TestLoopHungFabricDoesNotBlockOthers: one fabric hangs until its
// reconcile timeout; the other follows several cluster changes meanwhile.
func TestLoopHungFabricDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	cs, _ := haystack(t)
	cfg := twoFabrics(t)
	src := newSource()
	good := memfabric.New()
	ds := map[string]drivers.Driver{
		"haystack-aci": blockingDriver{memfabric.New().Driver("hung", nil, "haystack-aci")},
		"second-aci":   good.Driver("loop", nil, "second-aci"),
	}
	rec := newRecorder()
	l, err := reconciler.NewLoop(src, cfg, ds, fast(reconciler.LoopOptions{Timeout: time.Hour, Hooks: rec}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	src.set(true, cs)

	// Three changes, each a new LoadBalancer IP for the dashboard.
	for i, ip := range []string{"172.29.0.70", "172.29.0.71", "172.29.0.72"} {
		next := withServiceIP(cs, "kubernetes-dashboard", ip)
		src.set(true, next)
		rec.waitRounds(t, "the healthy fabric to follow change "+ip, func([]reconciler.Round) bool {
			return fabricHasSubnet(good, ip+"/32")
		})
		if i == 2 && len(good.Applies()) < 3 {
			t.Errorf("healthy fabric applied %d times, want >= 3", len(good.Applies()))
		}
	}
	for _, r := range func() []reconciler.Round { _, rs := rec.snapshot(); return rs }() {
		if r.Fabric == "haystack-aci" {
			t.Errorf("the hung fabric finished a round: %+v", r.Outcome)
		}
	}
	// Shutting down cancels the hung reconcile too.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel while a fabric hung")
	}
}

func withServiceIP(cs k8swatch.ClusterState, name, ip string) k8swatch.ClusterState {
	out := cs
	out.Services = nil
	for _, s := range cs.Services {
		if s.Name == name {
			s.IPs = []netip.Addr{netip.MustParseAddr(ip)}
		}
		out.Services = append(out.Services, s)
	}
	return out
}

// TestLoopResyncFindsDrift: an object removed from the fabric by hand is
// found by the periodic resync, reported as drift and put back.
func TestLoopResyncFindsDrift(t *testing.T) {
	t.Parallel()
	cs, cfg := haystack(t)
	src := newSource()
	src.set(true, cs)
	run := startLoop(t, src, cfg, fast(reconciler.LoopOptions{Resync: 150 * time.Millisecond}))
	fab := run.fabrics["haystack-aci"]
	run.rec.waitRounds(t, "the first round", func(rs []reconciler.Round) bool { return len(rs) >= 1 && rs[0].Err == nil })
	var key fabric.Key
	for _, s := range fab.State().Subnets {
		if s.Prefix == "172.29.0.6/32" {
			key = fabric.KeyOf(s)
		}
	}
	if key.ID == "" {
		t.Fatal("no subnet for 172.29.0.6")
	}
	fab.Remove(key)
	rounds := run.rec.waitRounds(t, "drift", func(rs []reconciler.Round) bool {
		return rs[len(rs)-1].Drift
	})
	r := rounds[len(rounds)-1]
	if r.Trigger != reconciler.TriggerResync || r.Err != nil {
		t.Errorf("drift round: trigger %s, err %v", r.Trigger, r.Err)
	}
	if len(r.Plan.Changes) != 1 || r.Plan.Changes[0].Action != fabric.ActionCreate || r.Plan.Changes[0].Key() != key {
		t.Errorf("drift plan = %+v, want the one create of %s", r.Plan.Changes, key)
	}
	if !fab.Has(key) {
		t.Error("the removed subnet was not put back")
	}
	// Resyncs with nothing to do are not drift.
	rounds = run.rec.waitRounds(t, "a quiet resync", func(rs []reconciler.Round) bool {
		return len(rs) > len(rounds)
	})
	if last := rounds[len(rounds)-1]; last.Drift || len(last.Plan.Changes) != 0 {
		t.Errorf("quiet resync: drift %v, %d changes", last.Drift, len(last.Plan.Changes))
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
		want     time.Duration
	}{
		{1, time.Second, time.Minute, time.Second},
		{2, time.Second, time.Minute, 2 * time.Second},
		{6, time.Second, time.Minute, 32 * time.Second},
		{7, time.Second, time.Minute, time.Minute},
		{500, time.Second, time.Minute, time.Minute},
		{3, 5 * time.Second, 7 * time.Second, 7 * time.Second},
	}
	for _, tt := range tests {
		if got := reconciler.Backoff(tt.n, tt.min, tt.max); got != tt.want {
			t.Errorf("Backoff(%d, %s, %s) = %s, want %s", tt.n, tt.min, tt.max, got, tt.want)
		}
	}
}

// TestBackoffIsTheRateLimiters: the loop's retries are timed by client-go's
// per-item exponential rate limiter and reported as Backoff(failures): the
// two must give the same wait after every failure, the cap and very long
// failure runs included.
func TestBackoffIsTheRateLimiters(t *testing.T) {
	for _, b := range []struct{ initial, max time.Duration }{
		{reconciler.DefaultBackoffInitial, reconciler.DefaultBackoffMax},
		{10 * time.Millisecond, 80 * time.Millisecond},
		{5 * time.Second, 7 * time.Second},
		{3 * time.Millisecond, time.Hour},
		{time.Second, time.Second},
	} {
		rl := workqueue.NewTypedItemExponentialFailureRateLimiter[string](b.initial, b.max)
		for n := 1; n <= 200; n++ {
			if got, want := rl.When("f"), reconciler.Backoff(n, b.initial, b.max); got != want {
				t.Errorf("failure %d with %s..%s: the rate limiter waits %s, Backoff says %s", n, b.initial, b.max, got, want)
				break
			}
		}
	}
}

// TestLoopRefusedPlanIsNeverAppliedInPart: the controller keeps the CLI's
// guards. A plan beyond the deletion budget is refused whole, round after
// round with backoff, and applies once the cluster state is acceptable.
func TestLoopRefusedPlanIsNeverAppliedInPart(t *testing.T) {
	t.Parallel()
	cs, cfg := haystack(t)
	cs.Complete = true
	cfg.Fabrics[0].DeletionBudget.Objects = 2
	src := newSource()
	run := startLoop(t, src, cfg, fast(reconciler.LoopOptions{}))
	fab := run.fabrics["haystack-aci"]
	// Twelve stale subnets of services long gone: 12 deletes of 12 owned.
	for i := 0; i < 12; i++ {
		s := staleSubnet
		s.Prefix = fmt.Sprintf("172.29.1.%d/32", i)
		fab.Put(s)
	}
	src.set(true, cs)
	rounds := run.rec.waitRounds(t, "two refused rounds", func(rs []reconciler.Round) bool { return len(rs) >= 2 })
	for _, r := range rounds[:2] {
		if r.Stage != reconciler.StageGuard || r.Plan.Refused == "" || r.RetryIn == 0 {
			t.Errorf("round %+v: want a refusal with a retry", r.Outcome)
		}
	}
	if n := len(fab.Applies()); n != 0 {
		t.Fatalf("%d apply call(s) for a refused plan", n)
	}
	// Someone removes ten of them by hand; the plan is within the budget
	// now and goes through on the next round.
	for i := 2; i < 12; i++ {
		s := staleSubnet
		s.Prefix = fmt.Sprintf("172.29.1.%d/32", i)
		fab.Remove(fabric.KeyOf(s))
	}
	src.set(true, cs)
	run.rec.waitRounds(t, "a converged round", func(rs []reconciler.Round) bool {
		return len(rs) > 0 && rs[len(rs)-1].Err == nil
	})
	if fabricHasSubnet(fab, "172.29.1.0/32") {
		t.Error("the stale subnets survived a plan within the budget")
	}
}
