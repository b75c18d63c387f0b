package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// editedCopy is the haystack cluster with edit applied to a copy.
func editedCopy(t *testing.T, edit func(dir string)) string { return testenv.HaystackCluster(t, edit) }

func editFile(t *testing.T, path, old, new string) { testenv.ReplaceInFile(t, path, old, new) }

func (l *aciLab) tenant(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(l.sim.Dump(tenantDN))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestACIPartialInputChangesNothing: from a converged tenant, each partial
// or bad input of the safety review leaves the APIC's tenant exactly as it
// was, says what it held and why, and exits 1. Before, each one deleted live
// BGP peers or service objects.
func TestACIPartialInputChangesNothing(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		want []string // in the output
	}{
		{"no Services file", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "services.yaml")) },
			[]string{"held", "no Service at all", "--allow-missing Service"}},
		{"one node of three", func(t *testing.T, dir string) { testenv.KeepFirstNode(t, dir) },
			[]string{"held", "only 1 of the 3 nodes"}},
		{"a node with a malformed AS", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, "nodes.yaml"), `ASNumber: "63553"`, `ASNumber: "63553x"`)
		}, []string{"= delete BGPPeer leaf201/192.168.9.195: input Node/k8c1s2 was skipped"}},
		{"a service with one bad field", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, "services.yaml"), "externalTrafficPolicy: Local", "externalTrafficPolicy: local")
		}, []string{"= delete Contract CNT_K8_APP_MULTICAST_MCAST: input Service/multicast/mcast was skipped"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newACILab(t, labOpts{})
			l.sync(t)
			before := l.tenant(t)
			l.clusterDir = editedCopy(t, func(dir string) { c.edit(t, dir) })
			r := l.cli(t, "sync")
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			if after := l.tenant(t); after != before {
				t.Errorf("the tenant changed:\n%s", r.stdout)
			}
		})
	}
}

// TestACIDeletionBudget: a plan that deletes more than the budget is
// refused whole; the flag raises the budget and the same plan applies.
func TestACIDeletionBudget(t *testing.T) {
	l := newACILab(t, labOpts{})
	l.sync(t)
	before := l.tenant(t)
	// The budget is lowered so that the example's 17 objects can exceed
	// it: the services' 4 objects gone are 25%, more than 10%.
	cfg, _ := os.ReadFile(l.config)
	if err := os.WriteFile(l.config, bytes.Replace(cfg, []byte("  driver: aci\n"), []byte("  driver: aci\n  deletionBudget: {percent: 10, objects: 2}\n"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	l.clusterDir = editedCopy(t, func(dir string) { os.Remove(filepath.Join(dir, "services.yaml")) })
	r := l.cli(t, "sync", "--allow-missing", "Service")
	if r.code != 1 || !strings.Contains(r.stdout, "REFUSED") || !strings.Contains(r.stdout, "more than the deletion budget") {
		t.Fatalf("exit %d, want a refusal:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if l.tenant(t) != before {
		t.Fatal("a refused plan changed the tenant")
	}
	r = l.cli(t, "sync", "--allow-missing", "Service", "--deletion-budget", "100")
	if r.code != 0 || !strings.Contains(r.stdout, "to destroy") || strings.Contains(r.stdout, "REFUSED") {
		t.Fatalf("exit %d with the budget raised:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if l.tenant(t) == before {
		t.Fatal("the raised budget applied nothing")
	}
}

// TestACIPolicies: upsert-only never deletes, create-only never changes.
func TestACIPolicies(t *testing.T) {
	l := newACILab(t, labOpts{})
	l.sync(t)
	before := l.tenant(t)
	l.clusterDir = editedCopy(t, func(dir string) { os.Remove(filepath.Join(dir, "services.yaml")) })
	r := l.cli(t, "sync", "--allow-missing", "Service", "--policy", "upsert-only")
	if r.code != 0 || !strings.Contains(r.stdout, "policy upsert-only: nothing is deleted") {
		t.Fatalf("upsert-only: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if l.tenant(t) != before {
		t.Fatal("upsert-only deleted")
	}
	l.clusterDir = editedCopy(t, func(dir string) {
		editFile(t, filepath.Join(dir, "services.yaml"), "port: 80", "port: 8080")
	})
	r = l.cli(t, "sync", "--policy", "create-only")
	if r.code != 0 || !strings.Contains(r.stdout, "policy create-only") {
		t.Fatalf("create-only: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if l.tenant(t) != before {
		t.Fatal("create-only changed an object")
	}
	r = l.cli(t, "sync")
	if r.code != 0 || l.tenant(t) == before {
		t.Fatalf("policy sync: exit %d, changed %v:\n%s", r.code, l.tenant(t) != before, r.stdout)
	}
}

// TestSavedPlanIsTheAppliedPlan: apply applies exactly a saved plan, and
// refuses, changing nothing, when the fabric, the cluster input or the
// configuration changed since the plan was made.
func TestSavedPlanIsTheAppliedPlan(t *testing.T) {
	planFile := func(t *testing.T, l *aciLab) string {
		p := filepath.Join(t.TempDir(), "reviewed.plan")
		if r := l.cli(t, "plan", "--out", p); r.code != 0 {
			t.Fatalf("plan --out: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		return p
	}
	t.Run("applied as reviewed", func(t *testing.T) {
		t.Parallel()
		l := newACILab(t, labOpts{})
		p := planFile(t, l)
		r := l.cli(t, "apply", p)
		if r.code != 0 || !strings.Contains(r.stdout, "23 to add") || !strings.Contains(r.stdout, "APIC accepted one POST") {
			t.Fatalf("apply: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		l.checkGolden(t)
		// The same file again: the fabric is no longer what it was planned against.
		before := l.tenant(t)
		r = l.cli(t, "apply", p)
		if r.code != 1 || !strings.Contains(r.stdout, "is not applied") || !strings.Contains(r.stdout, "appeared") {
			t.Fatalf("second apply: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if l.tenant(t) != before {
			t.Fatal("a refused apply changed the tenant")
		}
	})
	t.Run("the fabric changed by hand", func(t *testing.T) {
		t.Parallel()
		l := newACILab(t, labOpts{})
		l.sync(t)
		l.clusterDir = editedCopy(t, func(dir string) { editFile(t, filepath.Join(dir, "services.yaml"), "port: 80", "port: 8080") })
		p := planFile(t, l)
		l.sim.SetAttr(tenantDN+"/out-L3O_K8_C1/instP-EPG_K8_PODS/extsubnet-[172.27.0.0/16]", "scope", "import-security,shared-security")
		before := l.tenant(t)
		r := l.cli(t, "apply", p)
		if r.code != 1 || !strings.Contains(r.stdout, "ExternalSubnet EPG_K8_PODS/172.27.0.0/16 changed") {
			t.Fatalf("apply: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if l.tenant(t) != before {
			t.Fatal("a refused apply changed the tenant")
		}
	})
	t.Run("the cluster input changed", func(t *testing.T) {
		t.Parallel()
		l := newACILab(t, labOpts{})
		p := planFile(t, l)
		l.clusterDir = editedCopy(t, func(dir string) { editFile(t, filepath.Join(dir, "services.yaml"), "port: 80", "port: 8080") })
		before := l.tenant(t)
		r := l.cli(t, "apply", p)
		if r.code != 1 || !strings.Contains(r.stdout, "the cluster input changed") || !strings.Contains(r.stdout, "no longer planned: fabric haystack-aci: create Contract") {
			t.Fatalf("apply: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if l.tenant(t) != before {
			t.Fatal("a refused apply changed the tenant")
		}
	})
	t.Run("the configuration changed", func(t *testing.T) {
		t.Parallel()
		l := newACILab(t, labOpts{})
		p := planFile(t, l)
		cfg, _ := os.ReadFile(l.config)
		if err := os.WriteFile(l.config, append(cfg, []byte("# edited\n")...), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := l.cli(t, "apply", p); r.code != 1 || !strings.Contains(r.stdout, "the configuration file changed") {
			t.Fatalf("apply: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("not a saved plan", func(t *testing.T) {
		t.Parallel()
		l := newACILab(t, labOpts{})
		bad := filepath.Join(t.TempDir(), "plan.json")
		r := l.cli(t, "plan", "-o", "json")
		if err := os.WriteFile(bad, []byte(r.stdout), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := l.cli(t, "apply", bad); r.code != 1 || !strings.Contains(r.stderr, "not a saved plan") {
			t.Fatalf("apply of a JSON plan: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

// stampedWriter remembers when each write happened.
type stampedWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	stamps []time.Time
	texts  []string
}

func (w *stampedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stamps = append(w.stamps, time.Now())
	w.texts = append(w.texts, string(p))
	return w.buf.Write(p)
}

// TestSyncPrintsThePlanBeforeApplying: the plan's summary line is written
// before the APIC receives the configuration POST.
func TestSyncPrintsThePlanBeforeApplying(t *testing.T) {
	l := newACILab(t, labOpts{})
	var out stampedWriter
	var errb bytes.Buffer
	if code := execute([]string{"sync", "--config", l.config, "--cluster-state", l.clusterDir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out.buf.String(), errb.String())
	}
	var planAt time.Time
	for i, s := range out.texts {
		if strings.Contains(s, "Plan: 23 to add") {
			planAt = out.stamps[i]
		}
	}
	var postAt time.Time
	for _, r := range l.sim.Requests() {
		if r.Method == "POST" && r.Path == "/api/mo/"+tenantDN+".json" {
			postAt = r.Time
		}
	}
	if planAt.IsZero() || postAt.IsZero() || !planAt.Before(postAt) {
		t.Fatalf("plan printed at %v, configuration POSTed at %v", planAt, postAt)
	}
}

// TestFailedObserveNeverSaysNoChanges: an APIC that cannot be reached is a
// fabric that was not planned, in every output.
func TestFailedObserveNeverSaysNoChanges(t *testing.T) {
	l := newACILab(t, labOpts{})
	l.sim.Close()
	for _, args := range [][]string{{"sync"}, {"plan"}} {
		r := l.cli(t, append(args, "--timeout", "5s")...)
		if r.code != 1 || strings.Contains(r.stdout, "No changes") || !strings.Contains(r.stdout, "NOT PLANNED") {
			t.Errorf("%v: exit %d:\n%s", args, r.code, r.stdout)
		}
	}
	r := l.cli(t, "sync", "-o", "json", "--timeout", "5s")
	var res struct {
		Plan struct {
			Fabrics []struct {
				Name  string `json:"name"`
				Error string `json:"error"`
			} `json:"fabrics"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	if len(res.Plan.Fabrics) != 1 || res.Plan.Fabrics[0].Name != "haystack-aci" || res.Plan.Fabrics[0].Error == "" {
		t.Fatalf("json fabrics: %+v", res.Plan.Fabrics)
	}
}
