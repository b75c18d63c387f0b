package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/buildinfo"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

const metricsNamespace = "fabric_reconciler"

// Metrics are the controller's Prometheus metrics. It implements
// drivers.RequestObserver (driver requests and errors) and
// reconciler.Hooks (everything about reconciles).
type Metrics struct {
	reconcileDuration *prometheus.HistogramVec
	reconciles        *prometheus.CounterVec
	planChanges       *prometheus.CounterVec
	appliedChanges    *prometheus.CounterVec
	conflicts         *prometheus.GaugeVec
	driverRequests    *prometheus.CounterVec
	driverErrors      *prometheus.CounterVec
	driverLatency     *prometheus.HistogramVec
	lastSuccess       *prometheus.GaugeVec
	driftFound        *prometheus.CounterVec
	failures          *prometheus.GaugeVec
	desiredObjects    *prometheus.GaugeVec
	clusterObjects    *prometheus.GaugeVec
	skipped           prometheus.Gauge
	leader            prometheus.Gauge
	synced            prometheus.Gauge
	refused           *prometheus.CounterVec
	held              *prometheus.GaugeVec
}

// NewMetrics registers the metrics (and the Go and process collectors) in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "reconcile_duration_seconds",
			Help:    "Time to observe, plan and apply one fabric, by result (success, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"fabric", "result"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "reconciles_total",
			Help: "Reconciles of a fabric, by trigger (change, resync, retry, fabric) and result (success, error).",
		}, []string{"fabric", "trigger", "result"}),
		planChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "plan_changes_total",
			Help: "Changes in the plans computed, by fabric object kind and action (create, update, delete).",
		}, []string{"fabric", "kind", "action"}),
		appliedChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "applied_changes_total",
			Help: "Changes the fabric accepted, by object kind and action.",
		}, []string{"fabric", "kind", "action"}),
		conflicts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "conflicts",
			Help: "Desired objects whose place on the fabric is held by an object this cluster does not own (last plan).",
		}, []string{"fabric"}),
		driverRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "driver_requests_total",
			Help: "Requests drivers sent to switches or controllers, by operation.",
		}, []string{"fabric", "driver", "operation"}),
		driverErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "driver_request_errors_total",
			Help: "Driver requests that failed, by operation.",
		}, []string{"fabric", "driver", "operation"}),
		driverLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "driver_request_duration_seconds",
			Help: "Time from sending a driver request to its answer, by operation (failed requests included).",
			// An APIC call or a show command takes milliseconds; a
			// configure of many lines, a checkpoint or a rollback seconds.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"fabric", "driver", "operation"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "last_successful_sync_timestamp_seconds",
			Help: "Unix time of the last reconcile of the fabric that ended without error.",
		}, []string{"fabric"}),
		driftFound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "drift_found_total",
			Help: "Reconciles that found the fabric changed behind the controller's back (changes planned while the desired state was unchanged).",
		}, []string{"fabric"}),
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "consecutive_failures",
			Help: "Failed reconciles of the fabric since its last success.",
		}, []string{"fabric"}),
		desiredObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "desired_objects",
			Help: "Objects the fabric should hold for the cluster, by kind.",
		}, []string{"fabric", "kind"}),
		clusterObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "cluster_objects",
			Help: "Objects read from the cluster, by kind (Node, BGPPeer, IPPool, IPAMBlock, Service, LBPool).",
		}, []string{"kind"}),
		skipped: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "skipped_objects",
			Help: "Cluster objects left out of the desired state because they are malformed or conflict.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "leader",
			Help: "1 while this replica holds the leader lease and writes to the fabrics.",
		}),
		synced: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "informers_synced",
			Help: "1 once every informer cache has synced.",
		}),
	}
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "plans_refused_total",
		Help: "Plans a safety guard refused whole (deletion budget, empty desired state), per fabric.",
	}, []string{"fabric"})
	m.held = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "held_changes",
		Help: "Changes the last plan held back (skipped or missing input, the policy), per fabric.",
	}, []string{"fabric"})
	bi := buildinfo.Get()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "build_info",
		Help:        "Always 1; its labels say which build runs (version, commit, Go version).",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.GoVersion},
	})
	buildInfo.Set(1)
	reg.MustRegister(buildInfo, m.reconcileDuration, m.reconciles, m.planChanges, m.appliedChanges, m.conflicts,
		m.driverRequests, m.driverErrors, m.driverLatency, m.lastSuccess, m.driftFound, m.failures, m.desiredObjects,
		m.clusterObjects, m.skipped, m.leader, m.synced, m.refused, m.held,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchEvents exposes the watcher's event counts.
func (m *Metrics) watchEvents(reg prometheus.Registerer, w *k8swatch.Watcher) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "cluster_events_total", ConstLabels: prometheus.Labels{"relevant": "true"},
			Help: "Informer events; relevant=false are updates that changed nothing the reconciler reads (e.g. Node heartbeats).",
		}, func() float64 { r, _ := w.EventCounts(); return float64(r) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "cluster_events_total", ConstLabels: prometheus.Labels{"relevant": "false"},
			Help: "Informer events; relevant=false are updates that changed nothing the reconciler reads (e.g. Node heartbeats).",
		}, func() float64 { _, i := w.EventCounts(); return float64(i) }),
	)
}

// ObserveRequest counts and times one driver request
// (drivers.RequestObserver). A request never sent (took 0) is counted, not
// timed.
func (m *Metrics) ObserveRequest(fabricName, driver, operation string, took time.Duration, err error) {
	m.driverRequests.WithLabelValues(fabricName, driver, operation).Inc()
	if took > 0 {
		m.driverLatency.WithLabelValues(fabricName, driver, operation).Observe(took.Seconds())
	}
	if err != nil {
		m.driverErrors.WithLabelValues(fabricName, driver, operation).Inc()
	}
}

// Translated records the size of the cluster and the desired state.
func (m *Metrics) Translated(cs k8swatch.ClusterState, tr reconciler.Translation) {
	d := tr.Desired
	for kind, n := range map[string]int{"Node": len(cs.Nodes), "BGPPeer": len(cs.BGPPeers), "IPPool": len(cs.IPPools),
		"IPAMBlock": len(cs.Blocks), "Service": len(cs.Services), "LBPool": len(cs.LBPools)} {
		m.clusterObjects.WithLabelValues(kind).Set(float64(n))
	}
	m.skipped.Set(float64(len(d.Skipped)))
	for _, f := range d.Fabrics {
		counts := map[fabric.Kind]int{}
		for _, o := range f.State.Objects() {
			counts[o.Kind()]++
		}
		for _, k := range fabric.Kinds {
			m.desiredObjects.WithLabelValues(f.Name, string(k)).Set(float64(counts[k]))
		}
	}
}

// Reconciled records one round.
func (m *Metrics) Reconciled(r reconciler.Round) {
	result := "success"
	if r.Err != nil {
		result = "error"
	}
	m.reconcileDuration.WithLabelValues(r.Fabric, result).Observe(r.Duration.Seconds())
	m.reconciles.WithLabelValues(r.Fabric, string(r.Trigger), result).Inc()
	for _, c := range r.Plan.Changes {
		m.planChanges.WithLabelValues(r.Fabric, string(c.Kind), string(c.Action)).Inc()
	}
	for _, c := range r.Result.Applied {
		m.appliedChanges.WithLabelValues(r.Fabric, string(c.Kind), string(c.Action)).Inc()
	}
	if r.Stage != reconciler.StageObserve {
		m.conflicts.WithLabelValues(r.Fabric).Set(float64(len(r.Plan.Conflicts)))
		m.held.WithLabelValues(r.Fabric).Set(float64(len(r.Plan.Held)))
	}
	if r.Plan.Refused != "" {
		m.refused.WithLabelValues(r.Fabric).Inc()
	}
	if r.Drift {
		m.driftFound.WithLabelValues(r.Fabric).Inc()
	}
	m.failures.WithLabelValues(r.Fabric).Set(float64(r.Failures))
	if r.Err == nil {
		m.lastSuccess.WithLabelValues(r.Fabric).Set(float64(time.Now().UnixNano()) / 1e9)
	}
}
