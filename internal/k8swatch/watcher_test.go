package k8swatch_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
)

func resourceNames(w *k8swatch.Watcher) []string {
	var out []string
	for _, r := range w.Resources() {
		out = append(out, r.String())
	}
	return out
}

func startWatcher(t *testing.T, ctx context.Context, srv *kubeapi.Server, user string) *k8swatch.Watcher {
	t.Helper()
	w, err := k8swatch.NewWatcher(ctx, srv.UserConfig(user), k8swatch.LiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Start(ctx)
	return w
}

// TestWatcherMatchesLoader creates the same objects in a real apiserver that
// the YAML loader reads from files, and requires the informers to give the
// same ClusterState, for each form in which a cluster serves Calico.
func TestWatcherMatchesLoader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		crds      []string
		paths     []string
		watched   []string // resources that must be watched
		unwatched []string // and must not
	}{
		{
			name:  "Calico API server (projectcalico.org/v3), legacy MetalLB",
			crds:  []string{kubeapi.CalicoV3, kubeapi.CalicoCRDV1, kubeapi.PureLB},
			paths: []string{"examples/haystack/cluster", "internal/k8swatch/testdata/live/calico-v3-nodes.yaml"},
			watched: []string{"nodes/v1", "services/v1", "endpointslices.discovery.k8s.io/v1",
				"nodes.projectcalico.org/v3", "bgppeers.projectcalico.org/v3", "bgpconfigurations.projectcalico.org/v3",
				"ippools.projectcalico.org/v3", "blockaffinities.projectcalico.org/v3", "ipamblocks.crd.projectcalico.org/v1",
				"servicegroups.purelb.io/v1", "configmaps/v1 in metallb-system (metadata.name=config)"},
			unwatched: []string{"bgppeers.crd.projectcalico.org/v1", "ipaddresspools.metallb.io/v1beta1"},
		},
		{
			name: "Kubernetes datastore (crd.projectcalico.org/v1), MetalLB and PureLB CRDs",
			crds: kubeapi.AllCRDs,
			paths: []string{"internal/reconciler/testdata/spellings/crdv1", "examples/haystack/cluster/services.yaml",
				"examples/haystack/cluster/endpointslices.yaml", "internal/k8swatch/testdata/live/lbpools.yaml"},
			watched: []string{"bgppeers.crd.projectcalico.org/v1", "bgpconfigurations.crd.projectcalico.org/v1",
				"ippools.crd.projectcalico.org/v1", "ipamblocks.crd.projectcalico.org/v1", "blockaffinities.crd.projectcalico.org/v1",
				"ipaddresspools.metallb.io/v1beta1", "bgppeers.metallb.io/v1beta2", "bgpadvertisements.metallb.io/v1beta1", "servicegroups.purelb.io/v1"},
			unwatched: []string{"nodes.projectcalico.org/v3", "configmaps/v1 in metallb-system (metadata.name=config)"},
		},
		{
			name: "no Calico, MetalLB or PureLB CRDs",
			paths: []string{"examples/haystack/cluster/nodes.yaml", "examples/haystack/cluster/services.yaml",
				"examples/haystack/cluster/metallb-config.yaml"},
			watched:   []string{"nodes/v1", "configmaps/v1 in metallb-system (metadata.name=config)"},
			unwatched: []string{"bgppeers.crd.projectcalico.org/v1", "servicegroups.purelb.io/v1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := kubeapi.Start(t, kubeapi.Options{CRDs: tt.crds})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			objs, err := kubeapi.ReadObjects(tt.paths...)
			if err != nil {
				t.Fatal(err)
			}
			c, err := kubeapi.NewClient(srv.Config())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Create(ctx, objs...); err != nil {
				t.Fatal(err)
			}
			want, err := k8swatch.LoadFiles(repoPaths(tt.paths)...)
			if err != nil {
				t.Fatal(err)
			}

			w := startWatcher(t, ctx, srv, kubeapi.AdminUser)
			names := resourceNames(w)
			for _, r := range tt.watched {
				if !slices.Contains(names, r) {
					t.Errorf("%s is not watched (watching %v)", r, names)
				}
			}
			for _, r := range tt.unwatched {
				if slices.Contains(names, r) {
					t.Errorf("%s is watched, but should not be", r)
				}
			}
			if !w.WaitForSync(ctx) {
				t.Fatal("informers did not sync")
			}
			got, err := w.State()
			if err != nil {
				t.Fatal(err)
			}
			// The apiserver stamps its own creation time on each Service.
			for _, cs := range []*k8swatch.ClusterState{&got, &want} {
				for i := range cs.Services {
					if cs == &got && time.Since(cs.Services[i].Created) > time.Hour {
						t.Errorf("service %s: creation time %s is not the apiserver's", cs.Services[i].Key(), cs.Services[i].Created)
					}
					cs.Services[i].Created = time.Time{}
				}
			}
			if len(want.Nodes) == 0 {
				t.Fatal("empty expectation")
			}
			// The informers list every kind (Complete) and count what the
			// apiserver holds besides the test's objects (default/kubernetes):
			// the loader cannot, and the objects are what must match.
			if !got.Complete || want.Complete {
				t.Errorf("complete: informers %v, loader %v; want true, false", got.Complete, want.Complete)
			}
			got.Complete, got.Seen, want.Seen = false, nil, nil
			if g, w := comparable(t, got), comparable(t, want); g != w {
				t.Errorf("informers differ from the loader:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// TestWatcherEvents checks which updates count as changes: a Service's new
// load-balancer IP does, a Node heartbeat (conditions only) does not.
func TestWatcherEvents(t *testing.T) {
	t.Parallel()
	srv := kubeapi.Start(t, kubeapi.Options{CRDs: kubeapi.AllCRDs})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs, err := kubeapi.ReadObjects("examples/haystack/cluster/nodes.yaml", "examples/haystack/cluster/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := kubeapi.NewClient(srv.Config())
	if err := c.Create(ctx, objs...); err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(srv.Config())
	w := startWatcher(t, ctx, srv, kubeapi.AdminUser)
	if !w.WaitForSync(ctx) {
		t.Fatal("not synced")
	}

	tests := []struct {
		name     string
		change   func() error
		relevant bool
		check    func(k8swatch.ClusterState) bool
	}{
		{"node heartbeat", func() error {
			n, err := client.CoreV1().Nodes().Get(ctx, "k8c1s1", metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				LastHeartbeatTime: metav1.Now(), Reason: "KubeletReady"}}
			_, err = client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		}, false, nil},
		{"service annotation nobody reads", func() error {
			s, err := client.CoreV1().Services("multicast").Get(ctx, "mcast", metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Annotations = map[string]string{"example.test/owner": "team-a"}
			_, err = client.CoreV1().Services("multicast").Update(ctx, s, metav1.UpdateOptions{})
			return err
		}, false, nil},
		{"service gets a second load-balancer IP", func() error {
			s, err := client.CoreV1().Services("multicast").Get(ctx, "mcast", metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: "172.29.0.66"})
			_, err = client.CoreV1().Services("multicast").UpdateStatus(ctx, s, metav1.UpdateOptions{})
			return err
		}, true, func(cs k8swatch.ClusterState) bool {
			for _, s := range cs.Services {
				if s.Name == "mcast" && len(s.IPs) == 2 && s.IPs[1].String() == "172.29.0.66" {
					return true
				}
			}
			return false
		}},
		{"node label", func() error {
			n, err := client.CoreV1().Nodes().Get(ctx, "k8c1s1", metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Labels["rack"] = "r7"
			_, err = client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
			return err
		}, true, func(cs k8swatch.ClusterState) bool {
			n, ok := cs.Node("k8c1s1")
			return ok && n.Labels["rack"] == "r7"
		}},
	}
	for _, tt := range tests {
		rel0, ign0 := w.EventCounts()
		if err := tt.change(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		// Wait until the informer has handled exactly this one event.
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			rel, ign := w.EventCounts()
			return rel+ign > rel0+ign0, nil
		})
		if err != nil {
			t.Fatalf("%s: no informer event", tt.name)
		}
		rel, ign := w.EventCounts()
		if got := rel > rel0; got != tt.relevant {
			t.Errorf("%s: counted as relevant = %v (relevant +%d, ignored +%d), want %v", tt.name, got, rel-rel0, ign-ign0, tt.relevant)
		}
		if tt.check != nil {
			cs, err := w.State()
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cs) {
				t.Errorf("%s: the state does not show the change", tt.name)
			}
		}
	}
}

// TestWatcherNotSyncedWithoutPermission: an identity that may not list
// what the watcher needs never gets a synced cache, so State refuses to
// build a (partial) state; once RBAC allows it, the caches sync.
func TestWatcherNotSyncedWithoutPermission(t *testing.T) {
	t.Parallel()
	srv := kubeapi.Start(t, kubeapi.Options{Authorization: kubeapi.RBAC, CRDs: kubeapi.AllCRDs,
		Users: []kubeapi.User{{Name: "watcher", Groups: []string{"system:authenticated"}}}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := startWatcher(t, ctx, srv, "watcher")

	// Reflectors retry a forbidden list with backoff; give them a few rounds.
	time.Sleep(2 * time.Second)
	if w.Synced() {
		t.Fatal("synced without permission to list")
	}
	if _, err := w.State(); !errors.Is(err, k8swatch.ErrNotSynced) {
		t.Fatalf("State before sync: err = %v, want ErrNotSynced", err)
	}

	admin := kubernetes.NewForConfigOrDie(srv.Config())
	_, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "watcher-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "watcher", APIGroup: "rbac.authorization.k8s.io"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !w.WaitForSync(ctx) {
		t.Fatal("did not sync after the permission was granted")
	}
	if _, err := w.State(); err != nil {
		t.Fatal(err)
	}
}
