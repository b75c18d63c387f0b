package k8swatch_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// typed turns an object into what a typed informer holds for the core
// kinds, and leaves custom resources unstructured as the dynamic informers
// hold them.
func typed(t *testing.T, u *unstructured.Unstructured) any {
	t.Helper()
	var into any
	switch u.GetAPIVersion() + "/" + u.GetKind() {
	case "v1/Node":
		into = &corev1.Node{}
	case "v1/Service":
		into = &corev1.Service{}
	case "v1/ConfigMap":
		into = &corev1.ConfigMap{}
	case "discovery.k8s.io/v1/EndpointSlice":
		into = &discoveryv1.EndpointSlice{}
	default:
		return u
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return into
}

func repoPaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Join(testenv.RepoRoot(), p))
	}
	return out
}

// comparable returns the state as JSON, without the problems' sources
// (file names for the loader, nothing for the informers).
func comparable(t *testing.T, cs k8swatch.ClusterState) string {
	t.Helper()
	for i := range cs.Problems {
		cs.Problems[i].Source = ""
	}
	b, err := json.MarshalIndent(cs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var liveInputs = []struct {
	name  string
	paths []string
}{
	{"reference lab: projectcalico.org/v3, legacy MetalLB ConfigMap", []string{"examples/haystack/cluster"}},
	{"crd.projectcalico.org/v1 with Node annotations", []string{"internal/reconciler/testdata/spellings/crdv1",
		"examples/haystack/cluster/services.yaml", "examples/haystack/cluster/endpointslices.yaml"}},
	{"MetalLB and PureLB pools, a v3 Calico Node", []string{"examples/haystack/cluster/nodes.yaml",
		"internal/k8swatch/testdata/live/lbpools.yaml", "internal/k8swatch/testdata/live/calico-v3-nodes.yaml"}},
	{"live objects full of fields nobody reads", []string{"internal/k8swatch/testdata/live/noisy.yaml"}},
}

// TestStripKeepsState feeds the same objects to the YAML loader and to the
// informers' path (typed objects, the Strip transform, ObjectJSON, the
// Builder) and requires the same ClusterState.
func TestStripKeepsState(t *testing.T) {
	for _, tt := range liveInputs {
		t.Run(tt.name, func(t *testing.T) {
			want, err := k8swatch.LoadFiles(repoPaths(tt.paths)...)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := kubeapi.ReadObjects(tt.paths...)
			if err != nil {
				t.Fatal(err)
			}
			b := k8swatch.NewBuilder()
			for _, u := range objs {
				stripped, err := k8swatch.Strip(typed(t, u))
				if err != nil {
					t.Fatal(err)
				}
				js, err := k8swatch.ObjectJSON(stripped)
				if err != nil {
					t.Fatal(err)
				}
				again, _ := k8swatch.Strip(stripped)
				js2, _ := k8swatch.ObjectJSON(again)
				if string(js) != string(js2) {
					t.Errorf("%s %s: Strip is not idempotent:\n%s\n%s", u.GetKind(), u.GetName(), js, js2)
				}
				b.Add("", js)
			}
			got := b.Build()
			if len(want.Nodes)+len(want.Services)+len(want.LBPools) == 0 {
				t.Fatal("the input gave an empty state: the comparison would prove nothing")
			}
			if g, w := comparable(t, got), comparable(t, want); g != w {
				t.Errorf("informer path differs from the loader:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// TestStripDropsUnreadFields checks the transform really sheds what the
// reconciler never reads.
func TestStripDropsUnreadFields(t *testing.T) {
	objs, err := kubeapi.ReadObjects("internal/k8swatch/testdata/live/noisy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, name string
		keep, drop []string
	}{
		{"Node", "noisy-node",
			[]string{"projectcalico.org/IPv4Address", "rack", "10.10.7.0/24", "10.9.0.7", "4711"},
			[]string{"managedFields", "conditions", "images", "Debian", "10250", "capacity", "203.0.113.7", "providerID", "taints", "node.alpha.kubernetes.io/ttl"}},
		{"Service", "noisy-lb",
			[]string{"metallb.io/allow-shared-ip", "172.29.9.9", "Local", "dns", "UDP"},
			[]string{"managedFields", "last-applied-configuration", "clusterIP", "172.28.9.9", "nodePort", "selector", "shop.example.test", "conditions", "healthCheckNodePort"}},
		{"Service", "noisy-clusterip",
			[]string{"ClusterIP"},
			[]string{"ignored-here", "172.28.9.10", "ports"}},
		{"EndpointSlice", "noisy-lb-abcde",
			[]string{"kubernetes.io/service-name", "noisy-node", "third-node"},
			[]string{"10.10.7.11", "targetRef", "other-node", "ownerReferences", "managed-by", "last-change-trigger-time", "8080"}},
		{"IPAMBlock", "10-10-7-0-26",
			[]string{"10.10.7.0/26", "host:noisy-node", "deleted", "projectcalico.org/metadata"},
			[]string{"allocations", "unallocated", "attributes", "sequenceNumber", "managedFields", "generation"}},
		{"ConfigMap", "config",
			[]string{"address-pools"},
			[]string{"unrelated", "last-applied-configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			var obj *unstructured.Unstructured
			for _, o := range objs {
				if o.GetKind() == tt.kind && o.GetName() == tt.name {
					obj = o
				}
			}
			if obj == nil {
				t.Fatalf("no %s %s in noisy.yaml", tt.kind, tt.name)
			}
			full, _ := json.Marshal(obj.Object)
			stripped, err := k8swatch.Strip(typed(t, obj))
			if err != nil {
				t.Fatal(err)
			}
			// ObjectJSON leaves the resourceVersion out; the cache keeps it.
			js, _ := json.Marshal(stripped)
			for _, s := range tt.keep {
				if !strings.Contains(string(js), s) {
					t.Errorf("stripped object lost %q: %s", s, js)
				}
			}
			for _, s := range tt.drop {
				if strings.Contains(string(js), s) {
					t.Errorf("stripped object still holds %q: %s", s, js)
				}
			}
			t.Logf("%d -> %d bytes", len(full), len(js))
		})
	}
}
