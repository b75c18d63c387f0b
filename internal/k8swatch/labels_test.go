package k8swatch

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A LoadBalancer Service's labels reach the cluster state (a driver may
// group services by one); stripping a live Service keeps them for a
// LoadBalancer only.
func TestServiceLabels(t *testing.T) {
	dir := writeFiles(t, map[string]string{"svc.json": `{"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": "web", "namespace": "shop", "labels": {"team": "blue", "app.kubernetes.io/part-of": "shop"}},
		"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
		"status": {"loadBalancer": {"ingress": [{"ip": "172.29.0.9"}]}}}`})
	cs, err := LoadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Services) != 1 || !reflect.DeepEqual(cs.Services[0].Labels, map[string]string{"team": "blue", "app.kubernetes.io/part-of": "shop"}) {
		t.Fatalf("services %+v", cs.Services)
	}
	lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"team": "blue"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	if got := stripService(lb).Labels; got["team"] != "blue" {
		t.Errorf("stripped LoadBalancer labels %v", got)
	}
	lb.Spec.Type = corev1.ServiceTypeClusterIP
	if got := stripService(lb).Labels; got != nil {
		t.Errorf("stripped ClusterIP labels %v, want none", got)
	}
}
