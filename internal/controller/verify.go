package controller

// The periodic verify: every VerifyInterval the leader reads each fabric's
// operational state back (drivers.Verifier), compares it with the cluster
// (package verify), and
//
//   - exports per-session state and prefix counts, and per-route next-hop
//     widths, as Prometheus metrics;
//   - writes a status ConfigMap per fabric, fabric-reconciler-status-<fabric>
//     in the controller's namespace, with a line per node that kubectl shows;
//   - records an Event on a Node when one of its fabric sessions goes down
//     (FabricSessionDown, Warning) and when it is back (FabricSessionUp).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/verify"
)

// DefaultVerifyInterval is how often the leader verifies the fabrics.
const DefaultVerifyInterval = time.Minute

// Event reasons of the periodic verify, on Nodes.
const (
	ReasonSessionDown = "FabricSessionDown"
	ReasonSessionUp   = "FabricSessionUp"
)

// Labels and annotation of the status ConfigMaps.
const (
	StatusLabel        = "fabric-reconciler.io/status"
	StatusFabricAnnot  = "fabric-reconciler.io/fabric"
	statusNamePrefix   = "fabric-reconciler-status-"
	statusReportKey    = "report.json"
	statusNodeKeyStart = "node."
)

// StatusConfigMapName is the name of a fabric's status ConfigMap: the
// fabric's name lower-cased with "_" as "-"; a name that still is no valid
// object name gets a hash.
func StatusConfigMapName(fabric string) string {
	n := strings.ReplaceAll(strings.ToLower(fabric), "_", "-")
	if !dnsNameRe.MatchString(n) || len(statusNamePrefix+n) > 253 {
		sum := sha256.Sum256([]byte(fabric))
		n = hex.EncodeToString(sum[:6])
	}
	return statusNamePrefix + n
}

var dnsNameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// verifyMetrics are the periodic verify's metrics.
type verifyMetrics struct {
	sessionUp       *prometheus.GaugeVec
	sessionPrefixes *prometheus.GaugeVec
	sessionUptime   *prometheus.GaugeVec
	routeWidth      *prometheus.GaugeVec
	routeExpected   *prometheus.GaugeVec
	problems        *prometheus.GaugeVec
	lastVerify      *prometheus.GaugeVec
	errors          *prometheus.CounterVec
}

func newVerifyMetrics(reg prometheus.Registerer) *verifyMetrics {
	session := []string{"fabric", "switch", "node", "peer"}
	route := []string{"fabric", "switch", "kind", "target"}
	m := &verifyMetrics{
		sessionUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "bgp_session_up",
			Help: "1 when the switch reports the node's BGP session Established (last verify), else 0."}, session),
		sessionPrefixes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "bgp_session_prefixes_received",
			Help: "Prefixes the switch accepted from the node on the session (last verify)."}, session),
		sessionUptime: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "bgp_session_uptime_seconds",
			Help: "How long the session has been Established (0 when it is not), at the last verify."}, session),
		routeWidth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "route_next_hops",
			Help: "Next hops the switch forwards a pod block, service range or LoadBalancer address over, among the nodes that advertise it (last verify)."}, route),
		routeExpected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "route_expected_next_hops",
			Help: "Next hops the route should have: its advertisers, capped by maximum-paths."}, route),
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "verify_problems",
			Help: "Mismatches the last verify found on the fabric (sessions, routes, unreadable switches)."}, []string{"fabric"}),
		lastVerify: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "last_verify_timestamp_seconds",
			Help: "Unix time of the fabric's last verify."}, []string{"fabric"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "verify_errors_total",
			Help: "Verifies that could not read the fabric at all."}, []string{"fabric"}),
	}
	reg.MustRegister(m.sessionUp, m.sessionPrefixes, m.sessionUptime, m.routeWidth, m.routeExpected, m.problems, m.lastVerify, m.errors)
	return m
}

// record replaces a fabric's series with those of its last report.
func (m *verifyMetrics) record(f verify.FabricReport, now time.Time) {
	for _, v := range []*prometheus.GaugeVec{m.sessionUp, m.sessionPrefixes, m.sessionUptime, m.routeWidth, m.routeExpected} {
		v.DeletePartialMatch(prometheus.Labels{"fabric": f.Name})
	}
	m.problems.WithLabelValues(f.Name).Set(float64(f.Problems))
	m.lastVerify.WithLabelValues(f.Name).Set(float64(now.Unix()))
	if f.Error != "" {
		m.errors.WithLabelValues(f.Name).Inc()
	}
	for _, s := range f.Switches {
		for _, c := range s.Sessions {
			l := []string{f.Name, s.Name, c.Node, c.PeerAddress.String()}
			up := 0.0
			if c.UptimeSeconds > 0 || (c.State != "" && strings.EqualFold(c.State, "established")) {
				up = 1
			}
			m.sessionUp.WithLabelValues(l...).Set(up)
			m.sessionPrefixes.WithLabelValues(l...).Set(float64(c.PrefixesReceived))
			m.sessionUptime.WithLabelValues(l...).Set(float64(c.UptimeSeconds))
		}
		for _, r := range s.Routes {
			l := []string{f.Name, s.Name, r.Kind, r.Target}
			m.routeWidth.WithLabelValues(l...).Set(float64(r.Width))
			m.routeExpected.WithLabelValues(l...).Set(float64(r.ExpectedWidth))
		}
	}
}

// verifier runs the periodic verify on the leader.
type verifier struct {
	cfg       *config.Config
	ds        map[string]drivers.Driver
	watcher   *k8swatch.Watcher
	client    kubernetes.Interface
	namespace string
	interval  time.Duration
	metrics   *verifyMetrics
	rec       record.EventRecorder
	log       *slog.Logger
	now       func() time.Time

	mu sync.Mutex
	// up is each (fabric, switch, node address) session's state at the
	// last verify: true when Established.
	up map[string]bool
	// skipped lists the fabrics whose driver cannot verify (logged once).
	skipped map[string]bool
}

// run verifies every interval until ctx ends, the first time once the
// informers have synced.
func (v *verifier) run(ctx context.Context) {
	if !v.watcher.WaitForSync(ctx) {
		return
	}
	t := time.NewTicker(v.interval)
	defer t.Stop()
	for {
		v.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// round verifies the fabrics whose driver can read its state back.
func (v *verifier) round(ctx context.Context) {
	cs, err := v.watcher.State()
	if err != nil {
		v.log.Warn("verify: no cluster state", "error", err)
		return
	}
	ds := map[string]drivers.Driver{}
	var names []string
	for name, d := range v.ds {
		if _, ok := d.(drivers.Verifier); !ok {
			v.mu.Lock()
			if !v.skipped[name] {
				v.skipped[name] = true
				v.log.Info("verify: the fabric's driver cannot read its state back; not verified", "fabric", name)
			}
			v.mu.Unlock()
			continue
		}
		ds[name] = d
		names = append(names, name)
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	rctx, cancel := context.WithTimeout(ctx, max(v.interval, 30*time.Second))
	defer cancel()
	rep := verify.Run(rctx, cs, v.cfg, ds, names)
	if ctx.Err() != nil {
		return
	}
	now := v.now()
	for _, f := range rep.Fabrics {
		v.metrics.record(f, now)
		v.sessionEvents(f)
		if err := v.writeStatus(ctx, f, now); err != nil && ctx.Err() == nil {
			v.log.Warn("verify: writing the status ConfigMap", "fabric", f.Name, "error", err)
		}
		if f.Problems > 0 {
			v.log.Warn("verify: the fabric differs from what the cluster implies", "fabric", f.Name, "problems", f.Problems)
		}
	}
}

// sessionEvents records an Event on a Node whose session went down or
// came back since the last verify (a session down at the first verify is
// reported too).
func (v *verifier) sessionEvents(f verify.FabricReport) {
	if f.Error != "" {
		return // unread: nothing is known of the sessions
	}
	for _, s := range f.Switches {
		if s.Error != "" {
			continue
		}
		for _, c := range s.Sessions {
			if c.Expected != "Established" {
				continue
			}
			key := f.Name + "/" + s.Name + "/" + c.PeerAddress.String()
			up := c.OK
			v.mu.Lock()
			was, known := v.up[key]
			v.up[key] = up
			v.mu.Unlock()
			if known && was == up || !known && up {
				continue
			}
			ref, ok := v.watcher.Reference("Node", "", c.Node)
			if !ok {
				continue
			}
			if up {
				v.rec.Eventf(&ref, corev1.EventTypeNormal, ReasonSessionUp, "fabric %s: BGP session with switch %s (%s) is Established again",
					f.Name, s.Name, c.PeerAddress)
				continue
			}
			msg := fmt.Sprintf("fabric %s: BGP session with switch %s (%s): %s", f.Name, s.Name, c.PeerAddress, c.Problem)
			if c.Cause != "" {
				msg += "; " + c.Cause
			}
			v.rec.Event(&ref, corev1.EventTypeWarning, ReasonSessionDown, msg)
		}
	}
}

// statusData is what a fabric's status ConfigMap holds: a summary, a line
// per node (its sessions, switch by switch) and the whole report.
func statusData(f verify.FabricReport, now time.Time) map[string]string {
	d := map[string]string{"fabric": f.Name, "driver": f.Driver, "verified": now.UTC().Format(time.RFC3339), "problems": strconv.Itoa(f.Problems)}
	sessions, up, routes, routesOK := 0, 0, 0, 0
	nodes := map[string][]string{}
	for _, s := range f.Switches {
		if s.Error != "" {
			continue
		}
		for _, c := range s.Sessions {
			sessions++
			var line string
			switch {
			case c.OK && c.Expected == "Established":
				up++
				line = fmt.Sprintf("%s %s %s, %d prefixes", s.Name, c.State, time.Duration(c.UptimeSeconds)*time.Second, c.PrefixesReceived)
			case c.OK:
				up++
				line = fmt.Sprintf("%s %s (%s)", s.Name, c.State, c.Expected)
			default:
				line = fmt.Sprintf("%s %s", s.Name, c.Problem)
			}
			nodes[c.Node] = append(nodes[c.Node], line)
		}
		for _, r := range s.Routes {
			routes++
			if r.OK {
				routesOK++
			}
		}
	}
	for n, lines := range nodes {
		d[statusNodeKeyStart+n] = strings.Join(lines, "; ")
	}
	switch {
	case f.Error != "":
		d["summary"] = "cannot read the fabric: " + f.Error
	case f.Problems == 0:
		d["summary"] = fmt.Sprintf("OK: %d/%d sessions Established, %d/%d routes as expected", up, sessions, routesOK, routes)
	default:
		d["summary"] = fmt.Sprintf("%d problem(s): %d/%d sessions as expected, %d/%d routes as expected", f.Problems, up, sessions, routesOK, routes)
	}
	if b, err := json.Marshal(f); err == nil && len(b) < 512*1024 {
		d[statusReportKey] = string(b)
	}
	return d
}

// writeStatus creates or updates the fabric's status ConfigMap.
func (v *verifier) writeStatus(ctx context.Context, f verify.FabricReport, now time.Time) error {
	name := StatusConfigMapName(f.Name)
	data := statusData(f, now)
	cms := v.client.CoreV1().ConfigMaps(v.namespace)
	cur, err := cms.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: v.namespace,
			Labels:      map[string]string{StatusLabel: "true", "app.kubernetes.io/name": "fabric-reconciler"},
			Annotations: map[string]string{StatusFabricAnnot: f.Name}}, Data: data}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	cur = cur.DeepCopy()
	cur.Data = data
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	cur.Labels[StatusLabel] = "true"
	_, err = cms.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}
