package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var broken = filepath.Join(testenv.RepoRoot(), "examples", "broken")

// TestDoctorCommand: the reference lab passes (exit 0, no error or
// warning), examples/broken fails (exit 1) in text and JSON, and plan
// shows the same errors and warnings among its warnings.
func TestDoctorCommand(t *testing.T) {
	out, errOut, code := run(t, "doctor", "--config", haystackCfg, "--cluster-state", haystackCS)
	if code != 0 || !strings.Contains(out, "0 errors, 0 warnings") {
		t.Fatalf("reference lab: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = run(t, "doctor", "--config", filepath.Join(broken, "fabric.yaml"), "--cluster-state", filepath.Join(broken, "cluster"))
	if code != 1 || !strings.Contains(out, "ERROR   lb-pool-not-advertised") || !strings.Contains(errOut, "doctor found 7 error(s)") {
		t.Fatalf("broken: exit %d\n%s%s", code, out, errOut)
	}

	out, _, code = run(t, "doctor", "--config", filepath.Join(broken, "fabric.yaml"), "--cluster-state", filepath.Join(broken, "cluster"), "-o", "json")
	var r struct {
		Summary  struct{ Errors, Warnings, Infos int }
		Findings []struct{ ID, Severity string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	if r.Summary.Errors != 7 || len(r.Findings) != r.Summary.Errors+r.Summary.Warnings+r.Summary.Infos {
		t.Errorf("summary %+v, %d findings", r.Summary, len(r.Findings))
	}

	// plan lists the errors and warnings (not the notes, not the skips
	// it lists itself).
	out, _, _ = run(t, "plan", "--offline", "--config", filepath.Join(broken, "fabric.yaml"), "--cluster-state", filepath.Join(broken, "cluster"), "-o", "json")
	var p struct{ Warnings []string }
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(p.Warnings, "\n")
	for _, want := range []string{"error lb-pool-not-advertised: MetalLB IPAddressPool metallb-system/public", "warning service-buggy-ip: Service shop/web"} {
		if !strings.Contains(all, want) {
			t.Errorf("plan warnings lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "input-skipped") || strings.Contains(all, "info ") {
		t.Errorf("plan warnings hold skips or notes:\n%s", all)
	}

	out, _, code = run(t, "doctor", "--list-rules")
	if code != 0 || !strings.Contains(out, "metallb-peer-on-fabric-switch") {
		t.Errorf("--list-rules: exit %d\n%s", code, out)
	}
	if _, errOut, code := run(t, "doctor", "--config", haystackCfg); code != 1 || !strings.Contains(errOut, "--cluster-state files or a cluster to read are required") {
		t.Errorf("no input: exit %d %s", code, errOut)
	}
}

// TestDoctorFromLiveCluster: doctor --kubeconfig reads the cluster once,
// MetalLB's own BGP objects included: the reference lab is clean, and a
// MetalLB BGPPeer on leaf201 plus a BGPAdvertisement make it an error.
func TestDoctorFromLiveCluster(t *testing.T) {
	t.Parallel()
	srv := kubeapi.Start(t, kubeapi.Options{CRDs: append(append([]string{}, labCRDs...), kubeapi.MetalLB)})
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
	out, errOut, code := run(t, "doctor", "--config", haystackCfg, "--kubeconfig", kc)
	if code != 0 || !strings.Contains(out, "0 errors, 0 warnings") {
		t.Fatalf("reference lab, live: exit %d\n%s%s", code, out, errOut)
	}
	metallb, err := kubeapi.DecodeObjects([]byte(`apiVersion: v1
kind: Namespace
metadata: {name: metallb-system}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {peerAddress: 192.168.9.204, peerASN: 63500, myASN: 63551}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, metallb...); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "doctor", "--config", haystackCfg, "--kubeconfig", kc, "-o", "json")
	if code != 1 || !strings.Contains(out, `"id": "metallb-peer-on-fabric-switch"`) || !strings.Contains(out, `"id": "metallb-bgp-advertisement"`) {
		t.Errorf("with MetalLB's BGP objects: exit %d\n%s", code, out)
	}
}
