package kubeapi

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
)

// TestServer starts a real apiserver, creates the reference lab objects with
// their status, restarts the apiserver and checks nothing was lost.
func TestServer(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{CRDs: append([]string{CalicoV3}, AllCRDs...)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	objs, err := ReadObjects("examples/haystack/cluster")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, objs...); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(srv.Config())

	check := func(t *testing.T) {
		tests := []struct {
			name string
			got  func() (string, error)
			want string
		}{
			{"service ingress (status subresource)", func() (string, error) {
				s, err := cs.CoreV1().Services("multicast").Get(ctx, "mcast", metav1.GetOptions{})
				if err != nil || len(s.Status.LoadBalancer.Ingress) == 0 {
					return "", err
				}
				return s.Status.LoadBalancer.Ingress[0].IP, nil
			}, "172.29.0.6"},
			{"node address (status subresource)", func() (string, error) {
				n, err := cs.CoreV1().Nodes().Get(ctx, "k8c1s2", metav1.GetOptions{})
				if err != nil || len(n.Status.Addresses) == 0 {
					return "", err
				}
				return n.Status.Addresses[0].Address, nil
			}, "192.168.9.195"},
			{"node annotation", func() (string, error) {
				n, err := cs.CoreV1().Nodes().Get(ctx, "k8c1m0", metav1.GetOptions{})
				if err != nil {
					return "", err
				}
				return n.Annotations["projectcalico.org/ASNumber"], nil
			}, "63551"},
			{"custom resource (IPAMBlock)", func() (string, error) {
				for _, o := range objs {
					if o.GetKind() == "IPAMBlock" && o.GetName() == "172-27-15-192-26" {
						ri, err := c.Resource(o)
						if err != nil {
							return "", err
						}
						got, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
						if err != nil {
							return "", err
						}
						aff, _, _ := unstructured.NestedString(got.Object, "spec", "affinity")
						return aff, nil
					}
				}
				return "", nil
			}, "host:k8c1s1"},
		}
		for _, tt := range tests {
			got, err := tt.got()
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got != tt.want {
				t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			}
		}
	}
	check(t)

	srv.StopAPIServer()
	if _, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("the apiserver still answers after StopAPIServer")
	}
	if err := srv.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	check(t)
}
