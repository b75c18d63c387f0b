// Package controller runs fabric-reconciler as a Kubernetes controller: the
// informers (k8swatch.Watcher), the reconcile loop (reconciler.Loop) on the
// replica that holds a coordination.k8s.io Lease, Prometheus metrics,
// /healthz and /readyz, and Kubernetes Events on the Services and Nodes
// whose fabric objects changed. `fabric-reconciler run` is a thin wrapper.
//
// Nothing here knows a particular driver: each fabric's driver comes from
// Options.OpenDriver (drivers.Open by default).
package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// Defaults of the leader election.
const (
	DefaultLeaseName     = "fabric-reconciler"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// ErrResourcesChanged is Run's answer when the cluster starts or stops
// serving a kind the controller reads (the Calico API server or MetalLB
// installed later): informers are set up at start, so the process should
// exit and be restarted.
var ErrResourcesChanged = errors.New("the cluster serves other kinds than at start")

// DefaultDiscoveryInterval is how often the served kinds are checked.
const DefaultDiscoveryInterval = time.Minute

// ErrLostLeadership is Run's answer when another replica took the lease:
// the process should exit (and be restarted), as its writes have stopped.
var ErrLostLeadership = errors.New("lost the leader lease")

// Options configure one controller.
type Options struct {
	Config     *config.Config
	RestConfig *rest.Config
	Loop       reconciler.LoopOptions
	// LegacyMetalLB: see k8swatch.LiveOptions.
	LegacyMetalLB string

	// LeaderElection makes the replicas share one coordination.k8s.io
	// Lease: only its holder observes and writes the fabrics.
	LeaderElection bool
	LeaseNamespace string
	LeaseName      string
	// Identity names this replica in the Lease (default: hostname plus a
	// random suffix).
	Identity                                  string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration

	// DiscoveryInterval is how often Run checks whether the cluster's
	// served kinds changed (default DefaultDiscoveryInterval).
	DiscoveryInterval time.Duration

	// VerifyInterval is how often the leader reads each fabric's state
	// back and compares it with the cluster (verify.go): metrics, a status
	// ConfigMap per fabric, Events on Nodes whose sessions drop. 0 means
	// DefaultVerifyInterval; negative turns it off.
	VerifyInterval time.Duration
	// StatusNamespace is where the status ConfigMaps are written (default:
	// LeaseNamespace).
	StatusNamespace string

	// MetricsAddress serves /metrics, HealthAddress /healthz and /readyz,
	// on separate ports as controller-runtime's managers do ("" = none;
	// the same address serves both).
	MetricsAddress, HealthAddress string
	// ListenAddress serves all three on one address ("" = none): the
	// single port of earlier versions.
	ListenAddress string
	// OnListen, when set, is told the address ListenAddress bound (useful
	// with port 0); OnBind is told each bound address with what it serves
	// ("metrics", "health", or "metrics,health").
	OnListen func(addr string)
	OnBind   func(serves, addr string)

	Logger *slog.Logger
	// OpenDriver builds a fabric's driver; nil means drivers.Open.
	OpenDriver drivers.Factory
	// Registry receives the metrics; nil means a new one.
	Registry *prometheus.Registry
}

func (o *Options) defaults() error {
	if o.Config == nil || o.RestConfig == nil {
		return errors.New("controller: Config and RestConfig are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OpenDriver == nil {
		o.OpenDriver = drivers.Open
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.LeaseName == "" {
		o.LeaseName = DefaultLeaseName
	}
	if o.LeaseNamespace == "" {
		o.LeaseNamespace = PodNamespace()
	}
	if o.DiscoveryInterval <= 0 {
		o.DiscoveryInterval = DefaultDiscoveryInterval
	}
	if o.VerifyInterval == 0 {
		o.VerifyInterval = DefaultVerifyInterval
	}
	if o.StatusNamespace == "" {
		o.StatusNamespace = o.LeaseNamespace
	}
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.RenewDeadline <= 0 {
		o.RenewDeadline = DefaultRenewDeadline
	}
	if o.RetryPeriod <= 0 {
		o.RetryPeriod = DefaultRetryPeriod
	}
	if o.LeaderElection && !(o.RetryPeriod < o.RenewDeadline && o.RenewDeadline < o.LeaseDuration) {
		return fmt.Errorf("leader election: want retry period (%s) < renew deadline (%s) < lease duration (%s)",
			o.RetryPeriod, o.RenewDeadline, o.LeaseDuration)
	}
	switch o.LegacyMetalLB {
	case "", k8swatch.LegacyMetalLBAuto, k8swatch.LegacyMetalLBOn, k8swatch.LegacyMetalLBOff:
	default:
		return fmt.Errorf("legacy MetalLB ConfigMap mode %q: use auto, on or off", o.LegacyMetalLB)
	}
	if o.Identity == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "fabric-reconciler"
		}
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Identity = host + "_" + hex.EncodeToString(b)
	}
	return nil
}

// PodNamespace is the namespace the process runs in: $POD_NAMESPACE, else
// the service account's namespace file, else "default".
func PodNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns
		}
	}
	return "default"
}

// state is what the health endpoints look at.
type state struct {
	watcher  atomic.Pointer[k8swatch.Watcher]
	leading  atomic.Bool
	watchdog *leaderelection.HealthzAdaptor
}

// Run runs the controller until ctx ends (it then returns nil) or this
// replica loses the lease (ErrLostLeadership).
func Run(ctx context.Context, opts Options) error {
	if err := opts.defaults(); err != nil {
		return err
	}
	log := opts.Logger
	metrics := NewMetrics(opts.Registry)
	vmetrics := newVerifyMetrics(opts.Registry)
	st := &state{watchdog: leaderelection.NewLeaderHealthzAdaptor(opts.RenewDeadline)}

	var wg sync.WaitGroup
	defer wg.Wait()
	// Everything started below stops when Run returns, before wg.Wait.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvs, err := serve(opts, st, &wg)
	for _, srv := range srvs {
		defer srv.Close()
	}
	if err != nil {
		return err
	}

	client, err := kubernetes.NewForConfig(opts.RestConfig)
	if err != nil {
		return err
	}
	watcher, err := newWatcher(ctx, opts, log)
	if err != nil {
		return err
	}
	if watcher == nil {
		return nil // ctx ended during discovery
	}
	var names []string
	for _, r := range watcher.Resources() {
		names = append(names, r.String())
	}
	log.Info("watching the cluster", "resources", names)
	metrics.watchEvents(opts.Registry, watcher)
	watcher.Start(ctx)
	st.watcher.Store(watcher)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if watcher.WaitForSync(ctx) {
			metrics.synced.Set(1)
		}
	}()

	// A change of the served kinds ends Run; it cancels ctx and reports
	// through changed.
	changed := make(chan []string, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if diff := watchDiscovery(ctx, client, opts, watcher.Resources()); diff != nil {
			changed <- diff
			cancel()
		}
	}()

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	defer broadcaster.Shutdown()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "fabric-reconciler", Host: opts.Identity})

	lead := func(ctx context.Context) error {
		if ctx.Err() != nil {
			return nil
		}
		ds := map[string]drivers.Driver{}
		defer func() {
			for name, d := range ds {
				if err := d.Close(); err != nil {
					log.Warn("closing driver", "fabric", name, "error", err)
				}
			}
		}()
		for _, f := range opts.Config.Fabrics {
			d, err := opts.OpenDriver(f, drivers.Options{Cluster: opts.Config.Cluster, Logger: log.With("fabric", f.Name), Metrics: metrics})
			if err != nil {
				return fmt.Errorf("fabric %s: %w", f.Name, err)
			}
			ds[f.Name] = d
		}
		if opts.VerifyInterval > 0 {
			// Stopped before the drivers close (defers run last first).
			vctx, vcancel := context.WithCancel(ctx)
			done := make(chan struct{})
			v := &verifier{cfg: opts.Config, ds: ds, watcher: watcher, client: client, namespace: opts.StatusNamespace,
				interval: opts.VerifyInterval, metrics: vmetrics, rec: recorder, log: log.With("component", "verify"), now: time.Now,
				up: map[string]bool{}, skipped: map[string]bool{}}
			go func() {
				defer close(done)
				v.run(vctx)
			}()
			defer func() {
				vcancel()
				<-done
			}()
		}
		lo := opts.Loop
		lo.Logger = log
		anchor := corev1.ObjectReference{APIVersion: "coordination.k8s.io/v1", Kind: "Lease", Namespace: opts.LeaseNamespace, Name: opts.LeaseName}
		lo.Hooks = hooks{metrics, newEventer(recorder, watcher, log, anchor), &logHooks{log: log, cfg: opts.Config}}
		// The replica's identity names it on every fabric's writer lock.
		lo.Options.Lock.Holder = opts.Identity
		loop, err := reconciler.NewLoop(watcher, opts.Config, ds, lo)
		if err != nil {
			return err
		}
		return loop.Run(ctx)
	}

	var runErr error
	if !opts.LeaderElection {
		st.leading.Store(true)
		metrics.leader.Set(1)
		runErr = lead(ctx)
	} else {
		runErr = runElected(ctx, opts, client, st, metrics, lead)
	}
	select {
	case diff := <-changed:
		log.Warn("the served kinds changed; exiting so that a restart watches them", "changes", diff)
		return fmt.Errorf("%w: %s", ErrResourcesChanged, strings.Join(diff, ", "))
	default:
	}
	return runErr
}

// watchDiscovery checks every DiscoveryInterval what the cluster serves and
// returns the differences to what is watched once there are any (nil when
// ctx ends). Discovery errors are passing states, not changes.
func watchDiscovery(ctx context.Context, client kubernetes.Interface, opts Options, watched []k8swatch.Resource) []string {
	tick := time.NewTicker(opts.DiscoveryInterval)
	defer tick.Stop()
	have := map[string]bool{}
	for _, r := range watched {
		have[r.String()] = true
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now, err := k8swatch.DiscoverResources(ctx, client, k8swatch.LiveOptions{LegacyMetalLB: opts.LegacyMetalLB})
		if err != nil {
			if ctx.Err() == nil {
				opts.Logger.Debug("discovery check failed", "error", err)
			}
			continue
		}
		var diff []string
		seen := map[string]bool{}
		for _, r := range now {
			seen[r.String()] = true
			if !have[r.String()] {
				diff = append(diff, "+"+r.String())
			}
		}
		for _, r := range watched {
			if !seen[r.String()] {
				diff = append(diff, "-"+r.String())
			}
		}
		if len(diff) > 0 {
			return diff
		}
	}
}

// runElected runs lead while this replica holds the lease. The lease is
// released only after lead has returned (and closed its drivers), so a
// replica taking over never writes while this one still does.
func runElected(ctx context.Context, opts Options, client kubernetes.Interface, st *state, metrics *Metrics, lead func(context.Context) error) error {
	log := opts.Logger
	// The elector gets its own context: cancelling ctx must first stop the
	// loop, and only then release the lease.
	leCtx, leCancel := context.WithCancel(context.Background())
	defer leCancel()
	var (
		started  = make(chan struct{})
		finished = make(chan struct{})
		leadErr  error
	)
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: opts.LeaseNamespace, Name: opts.LeaseName},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: opts.Identity},
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   opts.LeaseDuration,
		RenewDeadline:   opts.RenewDeadline,
		RetryPeriod:     opts.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            opts.LeaseName,
		WatchDog:        st.watchdog,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				close(started)
				defer close(finished)
				runCtx, cancel := context.WithCancel(lctx)
				defer cancel()
				stop := context.AfterFunc(ctx, cancel)
				defer stop()
				st.leading.Store(true)
				metrics.leader.Set(1)
				log.Info("became the leader; reconciling", "identity", opts.Identity, "lease", opts.LeaseNamespace+"/"+opts.LeaseName)
				leadErr = lead(runCtx)
				st.leading.Store(false)
				metrics.leader.Set(0)
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(identity string) {
				if identity != opts.Identity {
					log.Info("another replica leads; standing by", "leader", identity)
				}
			},
		},
	})
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		select {
		case <-started:
			<-finished
		default:
		}
		leCancel()
	}()
	log.Info("waiting for the leader lease", "identity", opts.Identity, "lease", opts.LeaseNamespace+"/"+opts.LeaseName)
	le.Run(leCtx)
	select {
	case <-started:
		<-finished
	default:
	}
	if leadErr != nil {
		return leadErr
	}
	if ctx.Err() != nil {
		return nil
	}
	return ErrLostLeadership
}

// newWatcher discovers what the cluster serves, retrying while discovery
// fails (an aggregated API being down answers 503). It returns nil when
// ctx ends first.
func newWatcher(ctx context.Context, opts Options, log *slog.Logger) (*k8swatch.Watcher, error) {
	wait := time.Second
	for {
		w, err := k8swatch.NewWatcher(ctx, opts.RestConfig, k8swatch.LiveOptions{Logger: log, LegacyMetalLB: opts.LegacyMetalLB,
			SecretNamespace: opts.Config.CalicoNamespace})
		if err == nil {
			return w, nil
		}
		log.Warn("cluster discovery failed; retrying", "error", err, "retryIn", wait.String())
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(wait):
		}
		if wait *= 2; wait > time.Minute {
			wait = time.Minute
		}
	}
}

// serve starts the HTTP endpoints: /metrics on MetricsAddress, /healthz
// and /readyz on HealthAddress, all three on ListenAddress.
func serve(opts Options, st *state, wg *sync.WaitGroup) ([]*http.Server, error) {
	metrics := promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{Registry: opts.Registry})
	// healthz: the process works; a leader whose lease renewals stalled
	// is not healthy and should be restarted.
	healthz := func(w http.ResponseWriter, r *http.Request) {
		if err := st.watchdog.Check(r); err != nil {
			http.Error(w, "leader election: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	}
	// readyz: the caches have synced (leader and standby alike), so this
	// replica could take over at once.
	readyz := func(w http.ResponseWriter, _ *http.Request) {
		wt := st.watcher.Load()
		if wt == nil || !wt.Synced() {
			http.Error(w, "informer caches not synced", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok (leader: %v)\n", st.leading.Load())
	}
	type endpoint struct {
		mux    *http.ServeMux
		serves []string
	}
	var order []string
	eps := map[string]*endpoint{}
	at := func(addr, what string) *http.ServeMux {
		ep := eps[addr]
		if ep == nil {
			ep = &endpoint{mux: http.NewServeMux()}
			eps[addr] = ep
			order = append(order, addr)
		}
		ep.serves = append(ep.serves, what)
		return ep.mux
	}
	for _, a := range []struct{ addr, what string }{{opts.ListenAddress, "metrics,health"}, {opts.MetricsAddress, "metrics"}, {opts.HealthAddress, "health"}} {
		if a.addr == "" {
			continue
		}
		mux := at(a.addr, a.what)
		if strings.Contains(a.what, "metrics") {
			mux.Handle("/metrics", metrics)
		}
		if strings.Contains(a.what, "health") {
			mux.HandleFunc("/healthz", healthz)
			mux.HandleFunc("/readyz", readyz)
		}
	}
	var srvs []*http.Server
	for _, addr := range order {
		ep := eps[addr]
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return srvs, fmt.Errorf("listen %s: %w", addr, err)
		}
		serves := strings.Join(ep.serves, ",")
		if addr == opts.ListenAddress && opts.OnListen != nil {
			opts.OnListen(l.Addr().String())
		}
		if opts.OnBind != nil {
			opts.OnBind(serves, l.Addr().String())
		}
		srv := &http.Server{Handler: ep.mux, ReadHeaderTimeout: 10 * time.Second}
		srvs = append(srvs, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				opts.Logger.Error("HTTP server", "serves", serves, "error", err)
			}
		}()
	}
	return srvs, nil
}
