package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	labCRDs    = []string{kubeapi.CalicoCRDV1, kubeapi.PureLB}
	labObjects = []string{"internal/reconciler/testdata/spellings/crdv1", "examples/haystack/cluster/services.yaml",
		"examples/haystack/cluster/endpointslices.yaml", "examples/haystack/cluster/metallb-config.yaml"}
	haystackConfig = filepath.Join(testenv.RepoRoot(), "examples/haystack/fabric.yaml")
)

// labKubeconfig starts an apiserver holding the reference lab and returns
// a kubeconfig for it.
func labKubeconfig(t *testing.T) string {
	t.Helper()
	srv := kubeapi.Start(t, kubeapi.Options{CRDs: labCRDs})
	objs, err := kubeapi.ReadObjects(labObjects...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubeapi.NewClient(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(context.Background(), objs...); err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Kubeconfig(kubeapi.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestPlanFromLiveCluster: plan --kubeconfig reads the cluster once and
// gives the same plan as the exported files of the same objects.
func TestPlanFromLiveCluster(t *testing.T) {
	t.Parallel()
	kc := labKubeconfig(t)
	var files []string
	for _, p := range labObjects {
		files = append(files, "--cluster-state", filepath.Join(testenv.RepoRoot(), p))
	}
	tests := []struct {
		name string
		args []string
	}{
		{"files", files},
		{"live", []string{"--kubeconfig", kc}},
	}
	outs := map[string]string{}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		args := append([]string{"plan", "--offline", "-o", "json", "--config", haystackConfig}, tt.args...)
		if code := execute(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", tt.name, code, stderr.String())
		}
		outs[tt.name] = stdout.String()
	}
	if !strings.Contains(outs["live"], "172.29.0.7/32") {
		t.Fatalf("the live plan lacks the dashboard's subnet:\n%s", outs["live"])
	}
	if outs["live"] != outs["files"] {
		t.Errorf("live plan differs from the files' plan:\n live %s\nfiles %s", outs["live"], outs["files"])
	}

	var stderr bytes.Buffer
	code := execute([]string{"plan", "--offline", "--config", haystackConfig, "--kubeconfig", kc, "--cluster-state", "x"}, &bytes.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "exclude each other") {
		t.Errorf("--kubeconfig with --cluster-state: exit %d, %q", code, stderr.String())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestRunCommand runs `fabric-reconciler run` against a real apiserver
// with the in-memory driver: it converges the fabric, serves its endpoints,
// logs JSON, and stops cleanly on cancel.
func TestRunCommand(t *testing.T) {
	kc := labKubeconfig(t)
	fab := memfabric.New()
	saved := openDriver
	openDriver = fab.Factory("run")
	t.Cleanup(func() { openDriver = saved })

	metricsAddr, healthAddr := freeAddr(t), freeAddr(t)
	root := newRootCommand()
	var stdout bytes.Buffer
	stderr := &testenv.LogBuffer{}
	root.SetOut(&stdout)
	root.SetErr(stderr)
	root.SetArgs([]string{"run", "--config", haystackConfig, "--kubeconfig", kc, "--metrics-bind-address", metricsAddr,
		"--health-probe-bind-address", healthAddr, "--leader-elect-resource-namespace", "default", "--debounce", "50ms"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	deadline := time.Now().Add(30 * time.Second)
	for len(fab.Applies()) == 0 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no apply within 30s; logs:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("run exited: %v; logs:\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Health and metrics on separate ports, as controller-runtime serves them.
	for _, ep := range []struct {
		addr, path string
		want       int
	}{
		{healthAddr, "/healthz", http.StatusOK}, {healthAddr, "/readyz", http.StatusOK}, {healthAddr, "/metrics", http.StatusNotFound},
		{metricsAddr, "/metrics", http.StatusOK}, {metricsAddr, "/healthz", http.StatusNotFound},
	} {
		resp, err := http.Get("http://" + ep.addr + ep.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != ep.want {
			t.Errorf("%s%s: %d, want %d", ep.addr, ep.path, resp.StatusCode, ep.want)
		}
		if ep.path == "/metrics" && ep.want == http.StatusOK && !strings.Contains(string(b), `fabric_reconciler_build_info{commit="`) {
			t.Errorf("/metrics has no build_info:\n%s", b)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}

	logs := stderr.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	msgs := map[string]bool{}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", l)
			continue
		}
		msgs[fmt.Sprint(rec["msg"])] = true
	}
	for _, m := range []string{"starting", "watching the cluster", "became the leader; reconciling", "reconciled", "stopped"} {
		if !msgs[m] {
			t.Errorf("no %q log line in:\n%s", m, logs)
		}
	}
	secret, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples/haystack/secrets/apic-password"))
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(secret)); s != "" && strings.Contains(logs+stdout.String(), s) {
		t.Error("the APIC password appears in the output")
	}
}

// TestRunFlags: bad input is refused with a clear message before anything
// starts.
func TestRunFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{"run"}, `required flag(s) "config" not set`},
		{"bad log format", []string{"run", "--config", haystackConfig, "--log-format", "xml"}, "--log-format"},
		{"outside a cluster", []string{"run", "--config", haystackConfig}, "pass --kubeconfig"},
		{"unknown context", []string{"run", "--config", haystackConfig, "--kubeconfig", writeKubeconfig(t), "--context", "elsewhere"}, `context "elsewhere" does not exist`},
		{"missing kubeconfig", []string{"run", "--config", haystackConfig, "--kubeconfig", "/nonexistent/kc"}, "--kubeconfig"},
		{"bad lease timings", []string{"run", "--config", haystackConfig, "--kubeconfig", writeKubeconfig(t),
			"--leader-elect-lease-duration", "5s", "--leader-elect-renew-deadline", "10s"}, "renew deadline"},
		{"bad lease timings, old flag names", []string{"run", "--config", haystackConfig, "--kubeconfig", writeKubeconfig(t),
			"--lease-duration", "5s", "--renew-deadline", "10s"}, "flag --lease-duration is deprecated, use --leader-elect-lease-duration"},
		{"bad legacy mode", []string{"run", "--config", haystackConfig, "--kubeconfig", writeKubeconfig(t),
			"--legacy-metallb-configmap", "maybe"}, "auto, on or off"},
	}
	// Nothing says where a cluster is: no pod, no $KUBECONFIG file, no
	// ~/.kube/config.
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent"))
	noHomeKubeconfig(t)
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := execute(tt.args, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", tt.name, code, stderr.String(), tt.want)
		}
	}
}

// writeKubeconfig writes a kubeconfig for a server that is never dialled
// (the errors tested come first).
func writeKubeconfig(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n" +
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noHomeKubeconfig hides ~/.kube/config from clientcmd for the test.
func noHomeKubeconfig(t *testing.T) {
	saved := clientcmd.RecommendedHomeFile
	t.Cleanup(func() { clientcmd.RecommendedHomeFile = saved })
	clientcmd.RecommendedHomeFile = filepath.Join(t.TempDir(), "absent")
}
