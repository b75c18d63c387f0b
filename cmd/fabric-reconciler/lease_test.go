package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
)

// TestSyncTakesTheControllerLease: with --kubeconfig, sync is one writer
// among the controller's replicas: while a replica holds the Lease it waits,
// then refuses naming the holder and writing nothing; once the Lease has
// expired it takes it, syncs, and releases it.
func TestSyncTakesTheControllerLease(t *testing.T) {
	t.Parallel()
	srv := kubeapi.Start(t, kubeapi.Options{CRDs: labCRDs})
	objs, err := kubeapi.ReadObjects(labObjects...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubeapi.NewClient(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Create(ctx, objs...); err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Kubeconfig(kubeapi.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fabric-reconciler"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	holder, secs, now := "fabric-reconciler-7d9f_replica-a", int32(60), metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "fabric-reconciler", Name: "fabric-reconciler"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}}
	if _, err := cs.CoordinationV1().Leases("fabric-reconciler").Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	l := newACILab(t, labOpts{})
	run := func() (int, string, string) {
		var out, errb bytes.Buffer
		code := execute([]string{"sync", "--config", l.config, "--kubeconfig", kc, "--lock-wait", "2s"}, &out, &errb)
		return code, out.String(), errb.String()
	}
	start := time.Now()
	code, out, errs := run()
	if code != 1 || !strings.Contains(errs, "held by "+holder) || time.Since(start) < 2*time.Second {
		t.Fatalf("sync while the controller leads: exit %d after %v:\n%s\n%s", code, time.Since(start), out, errs)
	}
	for _, r := range l.sim.Requests() {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/api/mo/") {
			t.Fatalf("a sync that did not hold the Lease wrote to the APIC: %+v", r)
		}
	}

	// The replica died: its Lease runs out.
	old := metav1.NewMicroTime(time.Now().Add(-2 * time.Minute))
	got, err := cs.CoordinationV1().Leases("fabric-reconciler").Get(ctx, "fabric-reconciler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.RenewTime = &old
	if _, err := cs.CoordinationV1().Leases("fabric-reconciler").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(); code != 0 || !strings.Contains(out, "APIC accepted one POST") {
		t.Fatalf("sync after the Lease expired: exit %d:\n%s\n%s", code, out, errs)
	}
	after, err := cs.CoordinationV1().Leases("fabric-reconciler").Get(ctx, "fabric-reconciler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := after.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("the Lease is still held by %q after the sync", *h)
	}
	if after.Spec.LeaseTransitions == nil || *after.Spec.LeaseTransitions < 1 {
		t.Errorf("lease transitions %v, want the sync's takeover counted", after.Spec.LeaseTransitions)
	}

	// A cluster without the controller's namespace has no controller to
	// wait for: the fabrics' own locks keep writers apart.
	var sout, serr bytes.Buffer
	if code := execute([]string{"sync", "--config", l.config, "--kubeconfig", kc, "--lease-namespace", "nowhere"}, &sout, &serr); code != 0 ||
		!strings.Contains(serr.String(), "namespace nowhere does not exist") {
		t.Fatalf("sync with no controller namespace: exit %d:\n%s\n%s", code, sout.String(), serr.String())
	}
}
