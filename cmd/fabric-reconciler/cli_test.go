package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fabric-reconciler/fabric-reconciler/internal/buildinfo"
	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
)

// TestVersion: `version` and `--version` print the build's version and
// commit; -o json for scripts.
func TestVersion(t *testing.T) {
	want := versionLine(buildinfo.Get())
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		if code := execute(args, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != want {
			t.Errorf("%v: exit %d, %q; want %q", args, code, out.String(), want)
		}
	}
	if !strings.HasPrefix(want, "fabric-reconciler ") || !strings.Contains(want, "(commit ") {
		t.Errorf("version line %q", want)
	}
	var out bytes.Buffer
	if code := execute([]string{"version", "-o", "json"}, &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got buildinfo.Info
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got != buildinfo.Get() {
		t.Errorf("version -o json: %q (%v)", out.String(), err)
	}
}

// TestLeaderElectFlags: Kubernetes' names for the leader election's flags,
// and the earlier names, deprecated, setting the same options.
func TestLeaderElectFlags(t *testing.T) {
	parse := func(args ...string) (controller.Options, string) {
		t.Helper()
		var opts controller.Options
		var ns string
		f := pflag.NewFlagSet("run", pflag.ContinueOnError)
		var warn bytes.Buffer
		f.SetOutput(&warn)
		leaderElectionFlags(f, &opts, &ns)
		if err := f.Parse(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		opts.LeaseNamespace = ns
		return opts, warn.String()
	}
	defaults, _ := parse()
	if !defaults.LeaderElection || defaults.LeaseDuration != controller.DefaultLeaseDuration || defaults.RenewDeadline != controller.DefaultRenewDeadline ||
		defaults.RetryPeriod != controller.DefaultRetryPeriod || defaults.LeaseName != controller.DefaultLeaseName || defaults.LeaseNamespace != "" {
		t.Errorf("defaults: %+v", defaults)
	}
	want := controller.Options{LeaderElection: false, LeaseDuration: 30 * time.Second, RenewDeadline: 20 * time.Second,
		RetryPeriod: 3 * time.Second, LeaseName: "fr", LeaseNamespace: "ops"}
	now, warn := parse("--leader-elect=false", "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s",
		"--leader-elect-retry-period=3s", "--leader-elect-resource-name=fr", "--leader-elect-resource-namespace=ops")
	if now.LeaderElection != want.LeaderElection || now.LeaseDuration != want.LeaseDuration || now.RenewDeadline != want.RenewDeadline ||
		now.RetryPeriod != want.RetryPeriod || now.LeaseName != want.LeaseName || now.LeaseNamespace != want.LeaseNamespace || warn != "" {
		t.Errorf("new names: %+v, warnings %q", now, warn)
	}
	old, warn := parse("--leader-elect=false", "--lease-duration=30s", "--renew-deadline=20s", "--retry-period=3s",
		"--leader-election-id=fr", "--leader-election-namespace=ops")
	if old.LeaseDuration != want.LeaseDuration || old.RenewDeadline != want.RenewDeadline || old.RetryPeriod != want.RetryPeriod ||
		old.LeaseName != want.LeaseName || old.LeaseNamespace != want.LeaseNamespace {
		t.Errorf("old names: %+v", old)
	}
	for _, w := range []string{"--lease-duration has been deprecated, use --leader-elect-lease-duration",
		"--leader-election-id has been deprecated, use --leader-elect-resource-name",
		"--leader-election-namespace has been deprecated, use --leader-elect-resource-namespace"} {
		if !strings.Contains(warn, w) {
			t.Errorf("no %q in %q", w, warn)
		}
	}
}

// TestKubeconfigLikeKubectl: the cluster is found as kubectl finds it:
// --kubeconfig, else $KUBECONFIG (files merged), else ~/.kube/config; and
// --context picks a context.
func TestKubeconfigLikeKubectl(t *testing.T) {
	dir := t.TempDir()
	write := func(name, server string) string {
		p := filepath.Join(dir, name)
		kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: '" + server + "'}\n- name: other\n  cluster: {server: 'https://127.0.0.9:6443'}\n" +
			"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n- name: other\n  context: {cluster: other, user: u}\ncurrent-context: c\n"
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// clientcmd reads ~/.kube/config from RecommendedHomeFile, set from
	// $HOME when the process starts.
	saved := clientcmd.RecommendedHomeFile
	t.Cleanup(func() { clientcmd.RecommendedHomeFile = saved })
	clientcmd.RecommendedHomeFile = write("home/.kube/config", "https://127.0.0.1:6443")
	env := write("env", "https://127.0.0.2:6443")
	flag := write("flag", "https://127.0.0.3:6443")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	tests := []struct {
		name, kubeconfigEnv string
		flags               clusterFlags
		want                string
	}{
		{"~/.kube/config", "", clusterFlags{}, "https://127.0.0.1:6443"},
		{"$KUBECONFIG", env, clusterFlags{}, "https://127.0.0.2:6443"},
		{"$KUBECONFIG with a missing file first", filepath.Join(dir, "absent") + string(os.PathListSeparator) + env, clusterFlags{}, "https://127.0.0.2:6443"},
		{"--kubeconfig over $KUBECONFIG", env, clusterFlags{kubeconfig: flag}, "https://127.0.0.3:6443"},
		{"--context", env, clusterFlags{context: "other"}, "https://127.0.0.9:6443"},
	}
	for _, tt := range tests {
		t.Setenv("KUBECONFIG", tt.kubeconfigEnv)
		rc, err := tt.flags.restConfig()
		if err != nil || rc.Host != tt.want {
			t.Errorf("%s: %v, %v; want %s", tt.name, rc, err, tt.want)
		}
	}
	t.Setenv("KUBECONFIG", "")
	clientcmd.RecommendedHomeFile = filepath.Join(dir, "absent")
	if _, err := (&clusterFlags{}).restConfig(); err != errNoCluster {
		t.Errorf("nowhere: %v, want errNoCluster", err)
	}
}

// TestPlanGoesOnAfterAFailedFabric: a fabric that cannot be observed is
// reported NOT PLANNED, the others are planned all the same, and plan
// exits 1 at the end.
func TestPlanGoesOnAfterAFailedFabric(t *testing.T) {
	l := newACILab(t, labOpts{})
	b, err := os.ReadFile(l.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	at := strings.Index(cfg, "- name: haystack-aci")
	if at < 0 {
		t.Fatal("no haystack-aci fabric in the lab's configuration")
	}
	// A second fabric, first in the file, whose APIC does not answer.
	down := strings.NewReplacer("- name: haystack-aci", "- name: down-aci", l.sim.URL, "https://127.0.0.1:1",
		"192.168.9.204", "192.0.2.204", "192.168.9.205", "192.0.2.205").Replace(cfg[at:])
	if err := os.WriteFile(l.config, []byte(cfg[:at]+down+cfg[at:]), 0o600); err != nil {
		t.Fatal(err)
	}
	r := l.cli(t, "plan", "--timeout", "10s")
	down, up, ok := strings.Cut(r.stdout, "Fabric haystack-aci")
	if r.code != 1 || !ok || !strings.Contains(down, "Fabric down-aci") || !strings.Contains(down, "NOT PLANNED") ||
		!strings.Contains(up, "Plan: 23 to add") {
		t.Errorf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
