package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The reference lab as a cluster with Calico's Kubernetes datastore
// (crd.projectcalico.org/v1 and Node annotations) and MetalLB's legacy
// ConfigMap.
var (
	labCRDs    = []string{kubeapi.CalicoCRDV1, kubeapi.PureLB}
	labObjects = []string{"internal/reconciler/testdata/spellings/crdv1", "examples/haystack/cluster/services.yaml",
		"examples/haystack/cluster/endpointslices.yaml", "examples/haystack/cluster/metallb-config.yaml"}
)

// cluster is a real apiserver holding the lab.
type cluster struct {
	srv    *kubeapi.Server
	client kubernetes.Interface
	objs   *kubeapi.Client
}

func startCluster(t testing.TB, opts kubeapi.Options) *cluster {
	t.Helper()
	if opts.CRDs == nil {
		opts.CRDs = labCRDs
	}
	srv := kubeapi.Start(t, opts)
	objs, err := kubeapi.ReadObjects(labObjects...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubeapi.NewClient(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Create(ctx, objs...); err != nil {
		t.Fatal(err)
	}
	return &cluster{srv: srv, client: kubernetes.NewForConfigOrDie(srv.Config()), objs: c}
}

// instance is one controller replica running in the test process.
type instance struct {
	name   string
	cancel context.CancelFunc
	done   chan error
	addr   string
	logs   *testenv.LogBuffer
	reg    *prometheus.Registry
	once   sync.Once
	err    error
}

// stop cancels the replica and returns what Run returned.
func (i *instance) stop(t testing.TB) error {
	t.Helper()
	i.once.Do(func() {
		i.cancel()
		select {
		case i.err = <-i.done:
		case <-time.After(30 * time.Second):
			i.err = errors.New("controller did not stop within 30s")
			t.Error(i.err)
		}
	})
	return i.err
}

// fastElection keeps leader hand-overs within a few seconds.
func fastElection(o *controller.Options) {
	o.LeaderElection = true
	o.LeaseNamespace = "default"
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 4*time.Second, 3*time.Second, 250*time.Millisecond
}

// startController runs a controller replica against the cluster.
func startController(t testing.TB, cfg *rest.Config, fut fabricUnderTest, name string, mod ...func(*controller.Options)) *instance {
	t.Helper()
	inst := &instance{name: name, done: make(chan error, 1), logs: &testenv.LogBuffer{}, reg: prometheus.NewRegistry()}
	addr := make(chan string, 1)
	opts := controller.Options{
		Config:        fut.Config(t),
		RestConfig:    cfg,
		Loop:          reconciler.LoopOptions{Debounce: 50 * time.Millisecond, BackoffInitial: 100 * time.Millisecond, BackoffMax: time.Second},
		Identity:      name,
		ListenAddress: "127.0.0.1:0",
		OnListen:      func(a string) { addr <- a },
		Logger:        slog.New(slog.NewJSONHandler(inst.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OpenDriver:    fut.Factory(name),
		Registry:      inst.reg,
		// The periodic verify is off unless a test turns it on
		// (verify_e2e_test.go).
		VerifyInterval: -1,
	}
	for _, m := range mod {
		m(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst.cancel = cancel
	go func() { inst.done <- controller.Run(ctx, opts) }()
	select {
	case inst.addr = <-addr:
	case err := <-inst.done:
		t.Fatalf("controller %s exited at start: %v", name, err)
	}
	t.Cleanup(func() {
		_ = inst.stop(t)
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, inst.logs.String())
		}
	})
	return inst
}

// get fetches one of the replica's HTTP endpoints.
func (i *instance) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + i.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of one sample from /metrics, or "" when absent.
func (i *instance) metric(t testing.TB, name string, labels ...string) string {
	t.Helper()
	_, body := i.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			return line[strings.LastIndex(line, " ")+1:]
		}
	}
	return ""
}

func patchIngress(t testing.TB, c kubernetes.Interface, ns, name string, ips ...string) {
	t.Helper()
	var ing []string
	for _, ip := range ips {
		ing = append(ing, fmt.Sprintf(`{"ip":%q}`, ip))
	}
	patch := fmt.Sprintf(`{"status":{"loadBalancer":{"ingress":[%s]}}}`, strings.Join(ing, ","))
	_, err := c.CoreV1().Services(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
}

func eventsFor(t testing.TB, c kubernetes.Interface, ns, kind, name string) []corev1.Event {
	t.Helper()
	evs, err := c.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=" + kind + ",involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return evs.Items
}

func hasEvent(evs []corev1.Event, reason, text string) bool {
	for _, e := range evs {
		if e.Reason == reason && strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// TestServiceIngressReachesFabric: a Service gets a LoadBalancer IP (its
// status is patched, as MetalLB does) and its subnet reaches the fabric; the
// Service gets an Event; the metrics count it.
func TestServiceIngressReachesFabric(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		cl := startCluster(t, kubeapi.Options{})
		inst := startController(t, cl.srv.Config(), fut, "solo", fastElection)
		waitFor(t, 30*time.Second, "the lab to converge", func() bool { return hasSubnet(fut.State(t), "172.29.0.7/32") })
		if code, body := inst.get(t, "/readyz"); code != http.StatusOK || !strings.Contains(body, "leader: true") {
			t.Errorf("/readyz = %d %q", code, body)
		}
		if code, _ := inst.get(t, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz = %d", code)
		}

		patchIngress(t, cl.client, "multicast", "mcast", "172.29.0.6", "172.29.0.8")
		waitFor(t, 30*time.Second, "the new subnet in an apply", func() bool {
			return wrote(fut.Writes(), subnetChange(fabric.ActionCreate, "172.29.0.8/32"))
		})
		if !hasSubnet(fut.State(t), "172.29.0.8/32") {
			t.Error("the fabric does not hold 172.29.0.8/32")
		}
		waitFor(t, 30*time.Second, "an Event on the Service", func() bool {
			return hasEvent(eventsFor(t, cl.client, "multicast", "Service", "mcast"), controller.ReasonCreated, "172.29.0.8/32")
		})

		// The IP goes away again: its subnet is deleted.
		patchIngress(t, cl.client, "multicast", "mcast", "172.29.0.6")
		waitFor(t, 30*time.Second, "the subnet's delete", func() bool {
			return wrote(fut.Writes(), subnetChange(fabric.ActionDelete, "172.29.0.8/32"))
		})

		for _, m := range []struct{ name, labels string }{
			{"fabric_reconciler_plan_changes_total", `kind="ExternalSubnet",action="create"`},
			{"fabric_reconciler_applied_changes_total", `kind="ExternalSubnet",action="delete"`},
			{"fabric_reconciler_driver_requests_total", `operation="apply"`},
			{"fabric_reconciler_driver_request_duration_seconds_count", `operation="apply"`},
			{"fabric_reconciler_build_info", `version="`},
			{"fabric_reconciler_last_successful_sync_timestamp_seconds", `fabric="haystack-aci"`},
			{"fabric_reconciler_reconcile_duration_seconds_count", `result="success"`},
			{"fabric_reconciler_leader", ""},
			{"fabric_reconciler_informers_synced", ""},
			{"fabric_reconciler_cluster_objects", `kind="Service"`},
		} {
			v := inst.metric(t, m.name, strings.Split(m.labels, ",")...)
			if v == "" || v == "0" {
				t.Errorf("metric %s{%s} = %q, want > 0", m.name, m.labels, v)
			}
		}
	})
}

// TestNodeAddDelete: a node joins (with its BGPPeers) and its peers appear
// on both leaves; it leaves and they are deleted.
func TestNodeAddDelete(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		cl := startCluster(t, kubeapi.Options{})
		startController(t, cl.srv.Config(), fut, "solo", fastElection)
		waitFor(t, 30*time.Second, "the lab to converge", func() bool { return hasPeer(fut.State(t), "192.168.9.195") })

		newNode, err := kubeapi.DecodeObjects([]byte(`
apiVersion: v1
kind: Node
metadata:
  name: k8c1s3
  labels: {kubernetes.io/hostname: k8c1s3, rack: r1}
  annotations:
    projectcalico.org/IPv4Address: 192.168.9.196/28
    projectcalico.org/ASNumber: "63554"
status:
  addresses: [{address: 192.168.9.196, type: InternalIP}]
---
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: leaf201-k8c1s3}
spec: {peerIP: 192.168.9.204, asNumber: 63500, node: k8c1s3}
---
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: leaf202-k8c1s3}
spec: {peerIP: 192.168.9.205, asNumber: 63500, node: k8c1s3}
`))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := cl.objs.Create(ctx, newNode...); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the new node's peers", func() bool {
			n := 0
			for _, p := range fut.State(t).Peers {
				if p.PeerAddress == "192.168.9.196" && p.RemoteASN == 63554 {
					n++
				}
			}
			return n == 2
		})
		waitFor(t, 30*time.Second, "an Event on the Node", func() bool {
			return hasEvent(eventsFor(t, cl.client, "default", "Node", "k8c1s3"), controller.ReasonCreated, "BGPPeer")
		})

		if err := cl.objs.Delete(ctx, newNode...); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the peers' deletes", func() bool {
			return wrote(fut.Writes(), peerChange(fabric.ActionDelete, "192.168.9.196")) && !hasPeer(fut.State(t), "192.168.9.196")
		})
		if !hasPeer(fut.State(t), "192.168.9.195") {
			t.Error("another node's peer went too")
		}
	})
}

// leaseHolder returns who holds the controller's Lease.
func leaseHolder(t testing.TB, c kubernetes.Interface) string {
	t.Helper()
	l, err := c.CoordinationV1().Leases("default").Get(context.Background(), controller.DefaultLeaseName, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// writers returns the instances that wrote, in the order of their first write.
func writers(ws []fabricWrite) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range ws {
		if !seen[w.Instance] {
			seen[w.Instance] = true
			out = append(out, w.Instance)
		}
	}
	return out
}

// TestLeaderElection: two replicas, one writer. The leader converges the
// fabric and follows a change while the standby writes nothing; when the
// leader stops it releases the Lease only after its last write, the standby
// takes over and follows the next change. Every write of the first leader
// precedes every write of the second.
func TestLeaderElection(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		cl := startCluster(t, kubeapi.Options{})
		a := startController(t, cl.srv.Config(), fut, "replica-a", fastElection)
		b := startController(t, cl.srv.Config(), fut, "replica-b", fastElection)
		byName := map[string]*instance{"replica-a": a, "replica-b": b}

		waitFor(t, 30*time.Second, "convergence", func() bool { return hasSubnet(fut.State(t), "172.29.0.7/32") })
		leader := leaseHolder(t, cl.client)
		standby := map[string]string{"replica-a": "replica-b", "replica-b": "replica-a"}[leader]
		if standby == "" {
			t.Fatalf("lease holder %q is neither replica", leader)
		}
		patchIngress(t, cl.client, "multicast", "mcast", "172.29.0.6", "172.29.0.9")
		waitFor(t, 30*time.Second, "the leader to apply the change", func() bool {
			return wrote(fut.Writes(), subnetChange(fabric.ActionCreate, "172.29.0.9/32"))
		})
		if got := writers(fut.Writes()); len(got) != 1 || got[0] != leader {
			t.Fatalf("writers = %v, want only the leader %s", got, leader)
		}
		if v := byName[standby].metric(t, "fabric_reconciler_leader"); v != "0" {
			t.Errorf("standby's leader metric = %q", v)
		}
		if code, body := byName[standby].get(t, "/readyz"); code != http.StatusOK || !strings.Contains(body, "leader: false") {
			t.Errorf("standby /readyz = %d %q (a synced standby is ready to take over)", code, body)
		}

		// The leader stops; the standby takes over.
		if err := byName[leader].stop(t); err != nil {
			t.Fatalf("leader stopped with %v", err)
		}
		stoppedAt := time.Now()
		waitFor(t, 30*time.Second, "the standby to take the lease", func() bool { return leaseHolder(t, cl.client) == standby })
		patchIngress(t, cl.client, "multicast", "mcast", "172.29.0.6", "172.29.0.9", "172.29.0.10")
		waitFor(t, 30*time.Second, "the new leader to apply the change", func() bool {
			return wrote(fut.Writes(), subnetChange(fabric.ActionCreate, "172.29.0.10/32"))
		})
		ws := fut.Writes()
		if got := writers(ws); len(got) != 2 || got[0] != leader || got[1] != standby {
			t.Fatalf("writers in order = %v, want [%s %s]", got, leader, standby)
		}
		for _, w := range ws {
			if w.Instance == leader && w.At.After(stoppedAt) {
				t.Errorf("the old leader wrote after it stopped: %s", w)
			}
			if w.Instance == standby && w.At.Before(stoppedAt) {
				t.Errorf("the standby wrote while the leader held the lease: %s", w)
			}
		}
	})
}

// TestLostLeaseStopsWrites: someone else takes the Lease (as a replica
// whose clock ran ahead would): the leader cannot renew, stops writing and
// Run returns ErrLostLeadership.
func TestLostLeaseStopsWrites(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		cl := startCluster(t, kubeapi.Options{})
		inst := startController(t, cl.srv.Config(), fut, "victim", fastElection)
		waitFor(t, 30*time.Second, "convergence", func() bool { return hasSubnet(fut.State(t), "172.29.0.7/32") })

		ctx := context.Background()
		l, err := cl.client.CoordinationV1().Leases("default").Get(ctx, controller.DefaultLeaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		thief, dur := "thief", int32(3600)
		now := metav1.NewMicroTime(time.Now())
		l.Spec = coordinationv1.LeaseSpec{HolderIdentity: &thief, LeaseDurationSeconds: &dur, AcquireTime: &now, RenewTime: &now}
		if _, err := cl.client.CoordinationV1().Leases("default").Update(ctx, l, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		var runErr error
		select {
		case runErr = <-inst.done:
			inst.once.Do(func() { inst.err = runErr })
		case <-time.After(30 * time.Second):
			t.Fatal("the controller kept running without the lease")
		}
		if !errors.Is(runErr, controller.ErrLostLeadership) {
			t.Fatalf("Run returned %v, want ErrLostLeadership", runErr)
		}
		before := len(fut.Writes())
		patchIngress(t, cl.client, "multicast", "mcast", "172.29.0.6", "172.29.0.11")
		time.Sleep(time.Second)
		if after := len(fut.Writes()); after != before {
			t.Errorf("%d write(s) after the lease was lost", after-before)
		}
	})
}

// TestAPIServerRestart: the apiserver goes away and comes back; the
// controller keeps its lease (the outage is shorter than the renew
// deadline), its watches resume, nothing is re-applied, and the next change
// is followed with exactly that change.
func TestAPIServerRestart(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		cl := startCluster(t, kubeapi.Options{})
		inst := startController(t, cl.srv.Config(), fut, "solo", func(o *controller.Options) {
			o.LeaderElection, o.LeaseNamespace = true, "default"
			o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 40*time.Second, 30*time.Second, time.Second
		})
		waitFor(t, 30*time.Second, "convergence", func() bool { return hasSubnet(fut.State(t), "172.29.0.7/32") })
		before := len(fut.Writes())

		start := time.Now()
		cl.srv.StopAPIServer()
		t.Logf("apiserver stopped in %s", time.Since(start).Round(time.Millisecond))
		time.Sleep(time.Second)
		if err := cl.srv.StartAPIServer(); err != nil {
			t.Fatal(err)
		}
		t.Logf("apiserver was away for %s", time.Since(start).Round(time.Millisecond))

		patchIngress(t, cl.client, "multicast", "mcast", "172.29.0.6", "172.29.0.12")
		waitFor(t, 60*time.Second, "the change after the restart", func() bool {
			return wrote(fut.Writes(), subnetChange(fabric.ActionCreate, "172.29.0.12/32"))
		})
		ws := fut.Writes()[before:]
		if len(ws) != 1 || len(ws[0].Changes) != 1 {
			t.Errorf("writes after the restart = %v, want the one create of 172.29.0.12/32", ws)
		}
		select {
		case err := <-inst.done:
			t.Fatalf("the controller exited during the outage: %v", err)
		default:
		}
		if leaseHolder(t, cl.client) != "solo" {
			t.Error("the controller lost its lease over the restart")
		}
	})
}

// TestUnsyncedCacheNeverDeletes: the controller may not list one of the
// kinds it needs (IPAM blocks), so its caches never sync: it must neither
// observe nor write, even though the fabric holds objects the partial view
// would delete. Once RBAC lets it list, it converges.
func TestUnsyncedCacheNeverDeletes(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		user := "restricted"
		cl := startCluster(t, kubeapi.Options{Authorization: kubeapi.RBAC, Users: []kubeapi.User{{Name: user}}})
		ctx := context.Background()
		// Everything the controller needs except ipamblocks.
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "restricted"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes", "services", "configmaps"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"crd.projectcalico.org"}, Resources: []string{"bgppeers", "bgpconfigurations", "ippools", "blockaffinities"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"purelb.io"}, Resources: []string{"servicegroups"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
				{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
			},
		}
		if _, err := cl.client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		bind := func(name, roleName string) {
			_, err := cl.client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: roleName},
				Subjects:   []rbacv1.Subject{{Kind: "User", Name: user, APIGroup: "rbac.authorization.k8s.io"}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
		}
		bind("restricted", "restricted")

		// The fabric holds what a previous run left, including an object
		// the cluster no longer wants.
		stale := fabric.ExternalSubnet{Group: "EPG_K8_APP_OLD", Prefix: "172.29.0.99/32", Scopes: []fabric.Scope{fabric.ScopeImportSecurity}}
		fut.Seed(t, stale, fabric.ExternalSubnet{Group: "EPG_K8_PODS", Prefix: "172.27.0.0/16", Scopes: []fabric.Scope{fabric.ScopeImportSecurity}})

		inst := startController(t, cl.srv.UserConfig(user), fut, "restricted", fastElection)
		waitFor(t, 30*time.Second, "the lease", func() bool { return leaseHolder(t, cl.client) == "restricted" })
		// Give the loop time to act, were it going to.
		time.Sleep(2 * time.Second)
		if ws := fut.Writes(); len(ws) != 0 {
			t.Fatalf("%d write(s) with unsynced caches: %v", len(ws), ws)
		}
		if v := inst.metric(t, "fabric_reconciler_driver_requests_total"); v != "" {
			t.Errorf("the driver was used before sync (%s requests)", v)
		}
		if code, _ := inst.get(t, "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d before sync, want 503", code)
		}
		if !hasSubnet(fut.State(t), "172.29.0.99/32") {
			t.Fatal("the stale subnet is gone before sync")
		}

		bind("restricted-view", "cluster-admin")
		waitFor(t, 60*time.Second, "convergence after sync", func() bool {
			s := fut.State(t)
			return hasSubnet(s, "172.29.0.7/32") && !hasSubnet(s, "172.29.0.99/32")
		})
	})
}

// TestServedKindsChange: MetalLB is installed while the controller runs;
// informers are fixed at start, so Run ends with ErrResourcesChanged (the
// process exits and its restart watches the new kind).
func TestServedKindsChange(t *testing.T) {
	t.Parallel()
	eachFabric(t, func(t *testing.T, fut fabricUnderTest) {
		cl := startCluster(t, kubeapi.Options{})
		inst := startController(t, cl.srv.Config(), fut, "solo", fastElection, func(o *controller.Options) {
			o.DiscoveryInterval = 200 * time.Millisecond
		})
		waitFor(t, 30*time.Second, "convergence", func() bool { return hasSubnet(fut.State(t), "172.29.0.7/32") })
		select {
		case err := <-inst.done:
			t.Fatalf("Run returned before anything changed: %v", err)
		case <-time.After(time.Second):
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := kubeapi.InstallCRDs(ctx, cl.srv.Config(), kubeapi.MetalLB); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-inst.done:
			inst.once.Do(func() { inst.err = err })
			if !errors.Is(err, controller.ErrResourcesChanged) || !strings.Contains(err.Error(), "+ipaddresspools.metallb.io/v1beta1") {
				t.Fatalf("Run returned %v, want ErrResourcesChanged naming ipaddresspools", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not notice the new kind")
		}
	})
}
