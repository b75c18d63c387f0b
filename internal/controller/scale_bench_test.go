package controller_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/builtin" // the synthetic cluster's fabric is FRR
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
)

// BenchmarkControllerScale loads a synthetic cluster (test/gen, SIZE=S|M|L,
// default M) into a real kube-apiserver with parallel creates, then reports:
//
//   - create-s: how long loading the cluster took (not the controller's cost);
//   - sync-s and cache-MiB: the informers' first list and the Go heap they
//     hold once synced (live heap after GC, less the heap before they started);
//     state-MiB: the same once the watcher has built its first ClusterState
//     (its per-object JSON memo included);
//   - first-s: controller start to the first write of the whole desired
//     state to an in-memory fabric (test/memfabric), informers' list included;
//   - change-ms: a Node added to a rack, to the fabric's write of its
//     neighbours (median of 5; debounce 10 ms, so the pipeline's own cost
//     shows), and reconcile-ms: the loop's reconcile_duration for those
//     (observe, plan and apply of the fabric, median);
//   - heap-MiB: the whole process's live heap once converged (informers,
//     the controller, and memfabric's copy of the fabric).
//
// make bench runs it at M and L with -benchtime 1x; it asserts nothing
// about time.
func BenchmarkControllerScale(b *testing.B) {
	size := os.Getenv("SIZE")
	if size == "" {
		size = "M"
	}
	var s gen.Size
	for _, x := range gen.Sizes {
		if x.Name == size {
			s = x
		}
	}
	if s.Name == "" {
		b.Fatalf("SIZE=%s: want S, M or L", size)
	}
	for i := 0; i < b.N; i++ {
		controllerScale(b, s)
	}
}

func controllerScale(b *testing.B, s gen.Size) {
	b.StopTimer()
	dir := b.TempDir()
	clusterDir, cfgPath, err := gen.Write(dir, s)
	if err != nil {
		b.Fatal(err)
	}
	srv := kubeapi.Start(b, kubeapi.Options{CRDs: []string{kubeapi.CalicoCRDV1}, NodePortRange: "1024-65535"})
	objs, err := kubeapi.ReadObjects(clusterDir)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// CREATE_BUDGET bounds the loading (make bench keeps to its time
	// budget): past it the size is skipped, saying how far it got.
	budget := 30 * time.Minute
	if v := os.Getenv("CREATE_BUDGET"); v != "" {
		if budget, err = time.ParseDuration(v); err != nil {
			b.Fatalf("CREATE_BUDGET: %v", err)
		}
	}
	cctx, ccancel := context.WithTimeout(ctx, budget)
	start := time.Now()
	n, err := bulkCreate(cctx, srv.Config(), objs)
	ccancel()
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		b.Skipf("over budget: %d of about %d create and status requests in %s (%.0f/s) at SIZE=%s", n, len(objs)+len(objs)/2, budget,
			float64(n)/time.Since(start).Seconds(), s.Name)
	}
	if err != nil {
		b.Fatal(err)
	}
	created := time.Since(start)
	b.ReportMetric(created.Seconds(), "create-s")
	b.ReportMetric(float64(n)/created.Seconds(), "creates/s")
	b.ReportMetric(float64(n), "requests")
	b.Logf("SIZE=%s: %d objects (%d requests, statuses included) created in %s", s.Name, len(objs), n, created.Round(time.Millisecond))

	// The informers alone: what the controller's cache holds.
	objs = nil
	base := liveHeap()
	wctx, wcancel := context.WithCancel(ctx)
	w, err := k8swatch.NewWatcher(wctx, srv.Config(), k8swatch.LiveOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start = time.Now()
	w.Start(wctx)
	if !w.WaitForSync(wctx) {
		b.Fatal("informers did not sync")
	}
	b.StopTimer()
	b.ReportMetric(time.Since(start).Seconds(), "sync-s")
	b.ReportMetric(mib(liveHeap()-base), "cache-MiB")
	start = time.Now()
	cs, err := w.State()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "state-ms")
	b.ReportMetric(mib(liveHeap()-base), "state-MiB")
	b.Logf("ClusterState: %d nodes, %d services", len(cs.Nodes), len(cs.Services))
	runtime.KeepAlive(w)
	cs = k8swatch.ClusterState{}
	wcancel()
	w = nil

	// The controller, writing to an in-memory fabric.
	cfg, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	mf := memfabric.New()
	reg := prometheus.NewRegistry()
	rc := rest.CopyConfig(srv.Config())
	cctx, ccancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	start = time.Now()
	go func() {
		done <- controller.Run(cctx, controller.Options{Config: cfg, RestConfig: rc, Identity: "bench", OpenDriver: mf.Factory("bench"),
			Registry: reg, Loop: reconciler.LoopOptions{Debounce: 10 * time.Millisecond}})
	}()
	defer func() {
		ccancel()
		<-done
	}()
	wait := func(what string, cond func([]memfabric.Call) bool) {
		wc, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		if err := mf.WaitFor(wc, cond); err != nil {
			select {
			case err := <-done:
				b.Fatalf("%s: controller exited: %v", what, err)
			default:
			}
			b.Fatalf("%s: %v", what, err)
		}
	}
	applies := func(calls []memfabric.Call) int {
		n := 0
		for _, c := range calls {
			if c.Op == memfabric.OpApply && c.Err == nil {
				n++
			}
		}
		return n
	}
	wait("first write", func(c []memfabric.Call) bool { return applies(c) > 0 })
	b.ReportMetric(time.Since(start).Seconds(), "first-s")
	b.Logf("first write: %d objects on the fabric", len(mf.State().Objects()))

	client := kubernetes.NewForConfigOrDie(rc)
	var changes, reconciles []float64
	for i := 0; i < 5; i++ {
		_, sum0, count0 := reconcileHistogram(b, reg)
		name := fmt.Sprintf("bench-new-%d", i)
		ip := fmt.Sprintf("10.100.0.%d", 200+i)
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"rack": "r0", "kubernetes.io/hostname": name},
			Annotations: map[string]string{"projectcalico.org/IPv4Address": ip + "/24", "projectcalico.org/ASNumber": "64999"}}}
		start := time.Now()
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		wait("the write for "+name, func(c []memfabric.Call) bool {
			for _, call := range c {
				if call.Op != memfabric.OpApply || call.Err != nil {
					continue
				}
				for _, ch := range call.Changes {
					if p, ok := ch.Object().(fabric.BGPPeer); ok && ch.Action == fabric.ActionCreate && p.PeerAddress == ip {
						return true
					}
				}
			}
			return false
		})
		changes = append(changes, float64(time.Since(start).Microseconds())/1000)
		// The reconcile's own duration, from the controller's histogram.
		time.Sleep(50 * time.Millisecond)
		_, sum1, count1 := reconcileHistogram(b, reg)
		if count1 > count0 {
			reconciles = append(reconciles, (sum1-sum0)/float64(count1-count0)*1000)
		}
	}
	b.ReportMetric(median(changes), "change-ms")
	if len(reconciles) > 0 {
		b.ReportMetric(median(reconciles), "reconcile-ms")
	}
	b.ReportMetric(mib(liveHeap()), "heap-MiB")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// reconcileHistogram sums the controller's reconcile_duration_seconds over
// its labels.
func reconcileHistogram(b *testing.B, reg *prometheus.Registry) (name string, sum float64, count uint64) {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range mfs {
		if !strings.HasSuffix(f.GetName(), "reconcile_duration_seconds") {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
			count += m.GetHistogram().GetSampleCount()
		}
		return f.GetName(), sum, count
	}
	return "", 0, 0
}

// bulkCreate creates the synthetic cluster's objects with parallel
// requests: namespaces first, then everything else, Services and their
// load-balancer status through the typed clients in protobuf. The
// projectcalico.org/v3 kinds are created as Calico's Kubernetes datastore
// holds them (crd.projectcalico.org/v1). It returns how many requests it
// made.
func bulkCreate(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) (int64, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit
	pcfg := rest.CopyConfig(cfg)
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	client, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		return 0, err
	}
	dyn, err := kubeapi.NewClient(cfg)
	if err != nil {
		return 0, err
	}
	var requests atomic.Int64
	nss := map[string]bool{}
	for _, o := range objs {
		if strings.HasPrefix(o.GetAPIVersion(), "projectcalico.org/") {
			o.SetAPIVersion("crd.projectcalico.org/v1")
		}
		if ns := o.GetNamespace(); ns != "" && ns != "default" {
			nss[ns] = true
		}
	}
	var nsObjs []*unstructured.Unstructured
	for ns := range nss {
		nsObjs = append(nsObjs, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}})
	}
	create := func(o *unstructured.Unstructured) error {
		requests.Add(1)
		var err error
		switch o.GetKind() {
		case "Namespace":
			_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.GetName()}}, metav1.CreateOptions{})
		case "Node":
			var n corev1.Node
			if err = k8sruntime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &n); err == nil {
				_, err = client.CoreV1().Nodes().Create(ctx, &n, metav1.CreateOptions{})
			}
		case "EndpointSlice":
			var es discoveryv1.EndpointSlice
			if err = k8sruntime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &es); err == nil {
				_, err = client.DiscoveryV1().EndpointSlices(es.Namespace).Create(ctx, &es, metav1.CreateOptions{})
			}
		case "Service":
			var svc corev1.Service
			if err = k8sruntime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &svc); err != nil {
				break
			}
			if svc.Namespace == "default" && svc.Name == "kubernetes" {
				return nil // the apiserver's own
			}
			status := svc.Status
			svc.Status = corev1.ServiceStatus{}
			svc.CreationTimestamp = metav1.Time{}
			if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
				// 50,000 services do not fit the node-port range.
				no := false
				svc.Spec.AllocateLoadBalancerNodePorts = &no
			}
			var made *corev1.Service
			if made, err = client.CoreV1().Services(svc.Namespace).Create(ctx, &svc, metav1.CreateOptions{}); err == nil && len(status.LoadBalancer.Ingress) > 0 {
				made.Status = status
				requests.Add(1)
				_, err = client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, made, metav1.UpdateOptions{})
			}
		default:
			var ri interface {
				Create(context.Context, *unstructured.Unstructured, metav1.CreateOptions, ...string) (*unstructured.Unstructured, error)
			}
			if ri, err = dyn.Resource(o); err == nil {
				_, err = ri.Create(ctx, o, metav1.CreateOptions{})
			}
		}
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("create %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		return nil
	}
	for _, batch := range [][]*unstructured.Unstructured{nsObjs, objs} {
		if err := parallel(ctx, 32, batch, create); err != nil {
			return requests.Load(), err
		}
	}
	return requests.Load(), nil
}

func parallel(ctx context.Context, workers int, objs []*unstructured.Unstructured, f func(*unstructured.Unstructured) error) error {
	ch := make(chan *unstructured.Unstructured)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range ch {
				if err := f(o); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
loop:
	for _, o := range objs {
		select {
		case ch <- o:
		case <-ctx.Done():
			break loop
		}
	}
	close(ch)
	wg.Wait()
	return first
}
