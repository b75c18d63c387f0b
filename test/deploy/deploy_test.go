// Package deploy tests examples/deploy and the Dockerfile for real: the
// manifests are built with kubectl kustomize, validated by a real apiserver
// (server-side dry run), applied, and the controller then runs with exactly
// the ServiceAccount, RBAC and configuration they define.
package deploy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/builtin"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const (
	namespace = "fabric-reconciler"
	saUser    = "system:serviceaccount:fabric-reconciler:fabric-reconciler"
)

func kubectl(t *testing.T, bin, kubeconfig string, args ...string) string {
	t.Helper()
	if kubeconfig != "" {
		args = append([]string{"--kubeconfig", kubeconfig}, args...)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = testenv.RepoRoot()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && (o.GetName() == name || strings.HasPrefix(o.GetName(), name+"-")) {
			return o
		}
	}
	return nil
}

// TestDeployManifests builds examples/deploy, validates it against a real
// apiserver, applies it, and runs the controller as its ServiceAccount
// with its ConfigMap: RBAC must allow everything run does, and nothing it
// does not need.
func TestDeployManifests(t *testing.T) {
	t.Parallel()
	srv := kubeapi.Start(t, kubeapi.Options{Authorization: kubeapi.RBAC, CRDs: []string{kubeapi.CalicoCRDV1, kubeapi.PureLB},
		Users: []kubeapi.User{{Name: saUser, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace}}}})
	kc, err := srv.Kubeconfig(kubeapi.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	bin := srv.Binaries().Kubectl

	// 1. What `kubectl apply -k` would send.
	built, err := kubeapi.DecodeObjects([]byte(kubectl(t, bin, "", "kustomize", "examples/deploy")))
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, built)

	// 2. kubectl's own checks, then the apiserver's (schemas, RBAC rules).
	// A server-side dry run does not create the Namespace, so the objects
	// in it are checked once it exists.
	if out := kubectl(t, bin, kc, "apply", "-k", "examples/deploy", "--dry-run=client"); strings.Count(out, "(dry run)") != len(built) {
		t.Errorf("client dry run:\n%s", out)
	}
	kubectl(t, bin, kc, "create", "namespace", namespace)
	out := kubectl(t, bin, kc, "apply", "-k", "examples/deploy", "--server-side", "--dry-run=server")
	if n := strings.Count(out, "serverside-applied (server dry run)"); n != len(built) {
		t.Errorf("server dry run applied %d of %d objects:\n%s", n, len(built), out)
	}

	// 3. What the user does.
	kubectl(t, bin, kc, "apply", "-k", "examples/deploy")

	// 4. The controller, as the ServiceAccount, with the shipped config.
	cmObj := find(built, "ConfigMap", "fabric-reconciler-config")
	data, _, _ := unstructured.NestedString(cmObj.Object, "data", "fabric.yaml")
	cfg, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatalf("the shipped fabric.yaml is not a valid configuration: %v", err)
	}
	lab, err := kubeapi.ReadObjects("internal/reconciler/testdata/spellings/crdv1", "examples/haystack/cluster/services.yaml",
		"examples/haystack/cluster/endpointslices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kubeapi.NewClient(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := objs.Create(ctx, lab...); err != nil {
		t.Fatal(err)
	}
	fab := memfabric.New()
	logs := &testenv.LogBuffer{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(runCtx, controller.Options{
			// The Deployment passes its namespace in POD_NAMESPACE (downward
			// API), which is where PodNamespace puts the Lease.
			Config: cfg, RestConfig: srv.UserConfig(saUser), LeaderElection: true, LeaseNamespace: namespace,
			Loop:       reconciler.LoopOptions{Debounce: 50 * time.Millisecond},
			Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			OpenDriver: fab.Factory("deployed"), Identity: "deployed",
		})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
		if t.Failed() {
			t.Logf("controller logs:\n%s", logs.String())
		}
	}()
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	deadline := time.Now().Add(60 * time.Second)
	for {
		converged := false
		for _, s := range fab.State().Subnets {
			converged = converged || s.Prefix == "172.29.0.7/32"
		}
		evs, _ := admin.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "source=fabric-reconciler"})
		lease, _ := admin.CoordinationV1().Leases(namespace).Get(ctx, controller.DefaultLeaseName, metav1.GetOptions{})
		if converged && evs != nil && len(evs.Items) > 0 && lease != nil && lease.Spec.HolderIdentity != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("as the ServiceAccount: converged %v, events %v, lease %v", converged, evs != nil && len(evs.Items) > 0, lease != nil)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(strings.ToLower(logs.String()), "forbidden") {
		t.Errorf("the ServiceAccount was refused something run does:\n%s", logs.String())
	}

	// 5. Nothing beyond what it needs.
	checkRBAC(t, ctx, admin, nil)
}

// access is one SubjectAccessReview of the controller's ServiceAccount.
type access struct {
	verb, group, resource, ns, name string
	allowed                         bool
}

// checkRBAC asks the apiserver whether the ServiceAccount may do what run
// does, and nothing else: the table every install path passes, plus more.
func checkRBAC(t *testing.T, ctx context.Context, admin kubernetes.Interface, more []access) {
	t.Helper()
	tests := append([]access{
		{"watch", "", "nodes", "", "", true},
		{"list", "crd.projectcalico.org", "ipamblocks", "", "", true},
		{"list", "projectcalico.org", "bgppeers", "", "", true},
		{"watch", "metallb.io", "ipaddresspools", "", "", true},
		{"create", "", "events", "multicast", "", true},
		{"update", "coordination.k8s.io", "leases", namespace, controller.DefaultLeaseName, true},
		{"update", "coordination.k8s.io", "leases", namespace, "someone-elses-lease", false},
		{"update", "coordination.k8s.io", "leases", "kube-system", controller.DefaultLeaseName, false},
		{"get", "", "secrets", namespace, "", false},
		{"list", "", "secrets", "", "", false},
		{"list", "", "configmaps", "", "", false},
		{"update", "", "configmaps", namespace, controller.StatusConfigMapName("haystack-aci"), true},
		{"create", "", "configmaps", namespace, "", true},
		{"update", "", "configmaps", namespace, "fabric-reconciler-config", false},
		{"create", "", "configmaps", "kube-system", "", false},
		{"update", "", "nodes", "", "k8c1m0", false},
		{"patch", "", "services", "multicast", "mcast", false},
		{"update", "", "services/status", "multicast", "mcast", false},
		{"delete", "crd.projectcalico.org", "bgppeers", "", "", false},
		{"create", "", "pods", namespace, "", false},
	}, more...)
	for _, tt := range tests {
		res := tt.resource
		sub := ""
		if i := strings.Index(res, "/"); i > 0 {
			res, sub = res[:i], res[i+1:]
		}
		r, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: saUser, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: tt.verb, Group: tt.group, Resource: res, Subresource: sub, Namespace: tt.ns, Name: tt.name}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed != tt.allowed {
			t.Errorf("%s %s %s (ns %q, name %q): allowed = %v, want %v", tt.verb, tt.group, tt.resource, tt.ns, tt.name, r.Status.Allowed, tt.allowed)
		}
	}
}

// checkManifests checks what the built manifests promise.
func checkManifests(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, want := range []struct{ kind, name string }{
		{"Namespace", namespace}, {"ServiceAccount", "fabric-reconciler"}, {"ClusterRole", "fabric-reconciler"},
		{"ClusterRoleBinding", "fabric-reconciler"}, {"Role", "fabric-reconciler-leader-election"},
		{"RoleBinding", "fabric-reconciler-leader-election"}, {"Role", "fabric-reconciler-status"},
		{"RoleBinding", "fabric-reconciler-status"}, {"Deployment", "fabric-reconciler"},
		{"ConfigMap", "fabric-reconciler-config"}, {"Secret", "fabric-reconciler-secrets"}, {"Service", "fabric-reconciler-metrics"},
		{"PodDisruptionBudget", "fabric-reconciler"},
	} {
		if find(objs, want.kind, want.name) == nil {
			t.Errorf("no %s %s in the manifests", want.kind, want.name)
		}
	}
	dep := find(objs, "Deployment", "fabric-reconciler")
	if dep == nil {
		t.FailNow()
	}
	str := func(fields ...string) string {
		v, _, _ := unstructured.NestedFieldNoCopy(dep.Object, fields...)
		return fmt.Sprint(v)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers", len(containers))
	}
	c := containers[0].(map[string]any)
	cstr := func(fields ...string) string {
		v, _, _ := unstructured.NestedFieldNoCopy(c, fields...)
		return fmt.Sprint(v)
	}
	tests := []struct{ what, got, want string }{
		{"replicas", str("spec", "replicas"), "2"},
		{"runAsNonRoot", str("spec", "template", "spec", "securityContext", "runAsNonRoot"), "true"},
		{"readOnlyRootFilesystem", cstr("securityContext", "readOnlyRootFilesystem"), "true"},
		{"allowPrivilegeEscalation", cstr("securityContext", "allowPrivilegeEscalation"), "false"},
		{"liveness probe", cstr("livenessProbe", "httpGet", "path"), "/healthz"},
		{"readiness probe", cstr("readinessProbe", "httpGet", "path"), "/readyz"},
		{"probes' port", cstr("livenessProbe", "httpGet", "port") + " " + cstr("readinessProbe", "httpGet", "port"), "health health"},
		{"service account", str("spec", "template", "spec", "serviceAccountName"), "fabric-reconciler"},
		{"image", cstr("image"), "ghcr.io/fabric-reconciler/fabric-reconciler:v0.1.0"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("Deployment %s = %q, want %q", tt.what, tt.got, tt.want)
		}
	}

	// The config's secret files must be where the Secret is mounted.
	cm := find(objs, "ConfigMap", "fabric-reconciler-config")
	data, _, _ := unstructured.NestedString(cm.Object, "data", "fabric.yaml")
	secret := find(objs, "Secret", "fabric-reconciler-secrets")
	mounts := map[string]string{} // volume -> mount path
	vms, _, _ := unstructured.NestedSlice(c, "volumeMounts")
	for _, vm := range vms {
		m := vm.(map[string]any)
		mounts[m["name"].(string)] = m["mountPath"].(string)
	}
	args := cstr("args")
	if !strings.Contains(args, "--config="+mounts["config"]+"/fabric.yaml") {
		t.Errorf("args %s do not read the ConfigMap's fabric.yaml at %s", args, mounts["config"])
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*\w+File:\s*(\S+)`).FindAllStringSubmatch(data, -1) {
		path := filepath.Join(mounts["config"], m[1]) // relative to the config file's folder
		key := strings.TrimPrefix(path, mounts["secrets"]+"/")
		if key == path {
			t.Errorf("config file setting %s is not under the Secret mount %s", m[1], mounts["secrets"])
			continue
		}
		if _, ok, _ := unstructured.NestedString(secret.Object, "data", key); !ok {
			t.Errorf("config file %s: the Secret has no key %q", m[1], key)
		}
	}
}
