package deploy

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const chartDir = "charts/fabric-reconciler"

// exampleValues are the values that install what examples/deploy holds:
// its fabric.yaml and credentials, as the README's helm install passes them
// (--set-file). full adds every optional piece, as the kustomize components
// do.
func exampleValues(t *testing.T, full bool) map[string]any {
	t.Helper()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	v := map[string]any{
		"configYAML": read("examples/deploy/fabric.yaml"),
		"secrets":    map[string]any{"apic-password": read("examples/deploy/secrets/apic-password")},
	}
	if full {
		v["bgpPasswordSecrets"] = map[string]any{"namespace": "calico-system", "names": []any{"bgp-password"}}
		v["legacyMetalLB"] = map[string]any{"enabled": true}
		v["serviceMonitor"] = map[string]any{"enabled": true}
	}
	return v
}

// renderChart renders the chart with Helm's own engine, as helm install
// --namespace fabric-reconciler fabric-reconciler would.
func renderChart(t *testing.T, values map[string]any) ([]*unstructured.Unstructured, string, error) {
	t.Helper()
	ch, err := loader.Load(filepath.Join(testenv.RepoRoot(), chartDir))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, values,
		chartutil.ReleaseOptions{Name: "fabric-reconciler", Namespace: namespace, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, "", err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, "", err
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var all strings.Builder
	var notes string
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			notes = files[name]
			continue
		}
		if strings.HasPrefix(filepath.Base(name), "_") {
			continue
		}
		all.WriteString("---\n# " + name + "\n" + files[name] + "\n")
	}
	objs, err := kubeapi.DecodeObjects([]byte(all.String()))
	if err != nil {
		t.Fatalf("the rendered chart is not YAML: %v\n%s", err, all.String())
	}
	return objs, notes, nil
}

func writeManifests(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	p := filepath.Join(t.TempDir(), "manifests.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHelmChart lints the chart and renders it with Helm's Go packages
// (chart loader, lint, engine), checks what the manifests promise, applies
// them to a real apiserver (server-side dry run, then for real), and asks
// it with SubjectAccessReviews what the ServiceAccount may do: what run
// does, get on exactly the named BGPPeer password Secrets, nothing more.
func TestHelmChart(t *testing.T) {
	t.Parallel()
	start := time.Now()
	// helm lint --strict: no warning, no error, with the example's values
	// and with every optional piece on.
	for _, full := range []bool{false, true} {
		l := lint.All(filepath.Join(testenv.RepoRoot(), chartDir), exampleValues(t, full), namespace, false)
		for _, m := range l.Messages {
			if m.Severity > support.InfoSev {
				t.Errorf("helm lint (optional pieces %v): %s", full, m)
			}
		}
	}

	// What the values turn on and off.
	objs, notes, err := renderChart(t, exampleValues(t, false))
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, append(objs, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": namespace}}}))
	for _, kind := range []string{"ServiceMonitor"} {
		if find(objs, kind, "fabric-reconciler") != nil {
			t.Errorf("a %s without its value", kind)
		}
	}
	if find(objs, "Role", "fabric-reconciler-bgp-passwords") != nil || find(objs, "Role", "fabric-reconciler-metallb-config") != nil {
		t.Error("optional Roles without their values")
	}
	if !strings.Contains(notes, "fabric-reconciler v0.1.0 runs in namespace "+namespace) {
		t.Errorf("NOTES.txt: %s", notes)
	}
	noConfig := exampleValues(t, false)
	delete(noConfig, "configYAML")
	if _, _, err := renderChart(t, noConfig); err == nil || !strings.Contains(err.Error(), "configYAML or config is required") {
		t.Errorf("without a configuration: %v", err)
	}
	// values.schema.json: a misspelt value is refused, not ignored.
	typo := exampleValues(t, false)
	typo["replicas"] = 3
	if _, _, err := renderChart(t, typo); err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("an unknown value: %v", err)
	}
	typo = exampleValues(t, false)
	typo["metrics"] = map[string]any{"port": "http"}
	if _, _, err := renderChart(t, typo); err == nil || !strings.Contains(err.Error(), "/metrics/port") {
		t.Errorf("a port that is not a number: %v", err)
	}
	asValues := exampleValues(t, false)
	delete(asValues, "configYAML")
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(exampleValues(t, false)["configYAML"].(string)), &cfg); err != nil {
		t.Fatal(err)
	}
	asValues["config"] = cfg
	asValues["existingSecret"] = "made-elsewhere"
	if objs, _, err := renderChart(t, asValues); err != nil {
		t.Errorf("config as values: %v", err)
	} else {
		checkConfigParses(t, objs)
		if find(objs, "Secret", "fabric-reconciler-secrets") != nil {
			t.Error("a Secret is made although existingSecret names one")
		}
		dep := find(objs, "Deployment", "fabric-reconciler")
		vols, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "volumes")
		mounted := false
		for _, v := range vols {
			name, _, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName")
			mounted = mounted || name == "made-elsewhere"
		}
		if !mounted {
			t.Errorf("the Deployment does not mount existingSecret: %v", vols)
		}
	}

	// The real apiserver: schemas and RBAC.
	full, _, err := renderChart(t, exampleValues(t, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linted and rendered in %s", time.Since(start).Round(time.Millisecond))
	srv := kubeapi.Start(t, kubeapi.Options{Authorization: kubeapi.RBAC, CRDs: []string{kubeapi.CalicoCRDV1, kubeapi.PureLB, kubeapi.ServiceMonitor},
		Users: []kubeapi.User{{Name: saUser, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace}}}})
	kc, err := srv.Kubeconfig(kubeapi.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	bin := srv.Binaries().Kubectl
	for _, ns := range []string{namespace, "calico-system", "metallb-system"} {
		kubectl(t, bin, kc, "create", "namespace", ns)
	}
	manifests := writeManifests(t, full)
	out := kubectl(t, bin, kc, "apply", "--server-side", "--dry-run=server", "-f", manifests)
	if n := strings.Count(out, "serverside-applied (server dry run)"); n != len(full) {
		t.Errorf("server dry run applied %d of %d objects:\n%s", n, len(full), out)
	}
	kubectl(t, bin, kc, "apply", "--server-side", "-f", manifests)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	checkRBAC(t, ctx, kubernetes.NewForConfigOrDie(srv.Config()), []access{
		{"get", "", "secrets", "calico-system", "bgp-password", true},
		{"get", "", "secrets", "calico-system", "another-secret", false},
		{"list", "", "secrets", "calico-system", "", false},
		{"watch", "", "secrets", "calico-system", "bgp-password", false},
		{"get", "", "secrets", "kube-system", "bgp-password", false},
		{"get", "", "configmaps", "metallb-system", "config", true},
		{"get", "", "configmaps", "metallb-system", "other", false},
	})
	t.Logf("lint, render, dry run, apply and RBAC checks: %s", time.Since(start).Round(time.Millisecond))
}

// checkConfigParses: the configuration the chart puts in the ConfigMap is
// one run accepts.
func checkConfigParses(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	cm := find(objs, "ConfigMap", "fabric-reconciler-config")
	if cm == nil {
		t.Fatal("no ConfigMap")
	}
	data, _, _ := unstructured.NestedString(cm.Object, "data", "fabric.yaml")
	cfg, err := config.Parse([]byte(data))
	if err != nil || cfg.Cluster != "haystack" || len(cfg.Fabrics) != 1 || cfg.Fabrics[0].ASN != 63500 {
		t.Errorf("the ConfigMap's fabric.yaml (%v):\n%s", err, data)
	}
}

// TestInstallPathsAgree: helm install and kubectl apply -k make the same
// objects, with the example's configuration and credentials, with and
// without the optional pieces (the chart's values, the kustomize
// components). Only what belongs to each tool differs: Helm's labels
// (chart, version, managed-by), the chart's checksum annotations and
// kustomize's name hashes (both roll the pods when the configuration
// changes), and the Namespace, which kustomize makes and helm install
// --create-namespace does.
func TestInstallPathsAgree(t *testing.T) {
	t.Parallel()
	bin := kubeapi.RequireBinaries(t).Kubectl
	root := testenv.RepoRoot()
	for _, full := range []bool{false, true} {
		overlay := t.TempDir()
		rel, err := filepath.Rel(overlay, filepath.Join(root, "examples/deploy"))
		if err != nil {
			t.Fatal(err)
		}
		k := "resources:\n- " + rel + "\n"
		if full {
			k += "components:\n"
			for _, c := range []string{"bgp-passwords", "legacy-metallb", "servicemonitor"} {
				k += "- " + rel + "/components/" + c + "\n"
			}
		}
		if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o600); err != nil {
			t.Fatal(err)
		}
		kust, err := kubeapi.DecodeObjects([]byte(kubectl(t, bin, "", "kustomize", overlay)))
		if err != nil {
			t.Fatal(err)
		}
		helm, _, err := renderChart(t, exampleValues(t, full))
		if err != nil {
			t.Fatal(err)
		}
		got, want := normalize(helm), normalize(kust)
		delete(want, "Namespace//"+namespace)
		for key, w := range want {
			g, ok := got[key]
			if !ok {
				t.Errorf("optional pieces %v: kustomize makes %s, the chart does not", full, key)
				continue
			}
			if !reflect.DeepEqual(g, w) {
				gy, _ := yaml.Marshal(g)
				wy, _ := yaml.Marshal(w)
				t.Errorf("optional pieces %v: %s differs:\n--- chart\n%s\n--- kustomize\n%s", full, key, gy, wy)
			}
		}
		for key := range got {
			if _, ok := want[key]; !ok {
				t.Errorf("optional pieces %v: the chart makes %s, kustomize does not", full, key)
			}
		}
	}
}

var kustomizeHash = regexp.MustCompile(`^(fabric-reconciler-(?:config|secrets))-[a-z0-9]{10}$`)

// normalize keys the objects by kind, namespace and name, without what
// belongs to each tool.
func normalize(objs []*unstructured.Unstructured) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		o = o.DeepCopy()
		unhash := func(fields ...string) {
			if v, ok, _ := unstructured.NestedString(o.Object, fields...); ok {
				_ = unstructured.SetNestedField(o.Object, kustomizeHash.ReplaceAllString(v, "$1"), fields...)
			}
		}
		unhash("metadata", "name")
		labels := o.GetLabels()
		for _, l := range []string{"helm.sh/chart", "app.kubernetes.io/version", "app.kubernetes.io/managed-by"} {
			delete(labels, l)
		}
		o.SetLabels(labels)
		if o.GetKind() == "Deployment" {
			ann, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations")
			for k := range ann {
				if strings.HasPrefix(k, "checksum/") {
					delete(ann, k)
				}
			}
			if len(ann) == 0 {
				unstructured.RemoveNestedField(o.Object, "spec", "template", "metadata", "annotations")
			} else {
				_ = unstructured.SetNestedStringMap(o.Object, ann, "spec", "template", "metadata", "annotations")
			}
			vols, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
			for _, v := range vols {
				m := v.(map[string]any)
				for _, f := range [][]string{{"configMap", "name"}, {"secret", "secretName"}} {
					if s, ok, _ := unstructured.NestedString(m, f...); ok {
						_ = unstructured.SetNestedField(m, kustomizeHash.ReplaceAllString(s, "$1"), f...)
					}
				}
			}
			_ = unstructured.SetNestedSlice(o.Object, vols, "spec", "template", "spec", "volumes")
		}
		// Through JSON, so that numbers compare alike (int64 and float64).
		b, _ := o.MarshalJSON()
		var m map[string]any
		_ = yaml.Unmarshal(b, &m)
		out[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = m
	}
	return out
}
