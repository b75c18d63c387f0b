package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
)

// aciGenConfig writes an ACI configuration for a synthetic cluster of
// test/gen: its ToRs as leaves of one L3Out, with the given aci keys
// added (serviceGrouping, apicVersion).
func aciGenConfig(t testing.TB, dir string, s gen.Size, extra string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "cluster: bench\nfabrics:\n- name: aci\n  driver: aci\n  asn: 65000\n  switches:\n")
	for r := 0; r < max(s.Switches/2, 1); r++ {
		for side := 1; side <= 2; side++ {
			fmt.Fprintf(&b, "  - {name: tor-%d-%d, peerIPs: [10.%d.%d.%d], sviPath: \"topology/pod-1/paths-%d/pathep-[eth1/1]\"}\n",
				r, side, 100+r/250, r%250, 250+side, 1000+2*r+side)
		}
	}
	b.WriteString(`  aci:
    apic: {url: "https://127.0.0.1:1", username: admin, passwordFile: /dev/null}
    tenant: TEN_K8_C1
    vrf: VRF_K8_C1
    l3out: L3O_K8_C1
    nodeProfile: LNP_K8_C1
    interfaceProfile: LIP_K8_C1
    externalEPGs: {nodes: EPG_K8_NODES, pods: EPG_K8_PODS, service: "EPG_K8_APP_{NAMESPACE}_{NAME}"}
    contract: "CNT_K8_APP_{NAMESPACE}_{NAME}"
    consumers: [L3O_EXTERNAL/EPG_DEFAULT]
` + extra)
	path := filepath.Join(dir, "fabric-aci.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The 50,000-service cluster (test/gen L) through the real plan path
// (plan --offline): one external EPG per service is refused with Cisco's
// limit before anything could be sent; grouped per namespace (200
// namespaces) it plans within the limits.
func TestPlanACIScaleLimitsL(t *testing.T) {
	var size gen.Size
	for _, s := range gen.Sizes {
		if s.Name == "L" {
			size = s
		}
	}
	dir := t.TempDir()
	cluster, _, err := gen.Write(dir, size)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("per service", func(t *testing.T) {
		cfg := aciGenConfig(t, t.TempDir(), size, "    apicVersion: 6.1(2)\n")
		out, errOut, code := run(t, "plan", "--offline", "-o", "json", "--config", cfg, "--cluster-state", cluster)
		if code != 1 {
			t.Fatalf("exit %d, want 1 (refused)\n%s", code, errOut)
		}
		var p fabric.Plan
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		refused := p.Fabrics[0].Refused
		for _, want := range []string{
			"it would create 50,000 external EPGs on L3Out L3O_K8_C1, which would then hold 50,002",
			"Cisco's verified limit for APIC 6.1(2) is 250 per L3Out (source: Cisco APIC Verified Scalability Guide 6.1(2)",
			"it would create 50,000 external EPGs on fabric aci, which would then hold 50,003",
			"Cisco's verified limit for APIC 6.1(2) is 600 per fabric",
		} {
			if !strings.Contains(refused, want) || !strings.Contains(errOut, want) {
				t.Errorf("refusal lacks %q:\nplan: %s\nstderr: %s", want, refused, errOut)
			}
		}
	})

	t.Run("per namespace", func(t *testing.T) {
		cfg := aciGenConfig(t, t.TempDir(), size, "    serviceGrouping: namespace\n")
		out, errOut, code := run(t, "plan", "--offline", "-o", "json", "--config", cfg, "--cluster-state", cluster)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		var p fabric.Plan
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		f := p.Fabrics[0]
		if f.Refused != "" {
			t.Fatalf("refused: %s", f.Refused)
		}
		epgs, subnets, contracts := map[string]bool{}, 0, 0
		for _, c := range f.Changes {
			switch o := c.After.(type) {
			case fabric.ExternalSubnet:
				epgs[o.Group] = true
				if strings.HasPrefix(o.Group, "EPG_K8_NS_") {
					subnets++
				}
			case fabric.Contract:
				contracts++
			}
		}
		// 200 namespace groups, the nodes' and the pods' EPGs.
		if len(epgs) != 202 || subnets != 50000 || contracts != 200 {
			t.Errorf("%d EPGs, %d service subnets, %d contracts; want 202, 50000, 200", len(epgs), subnets, contracts)
		}
	})
}

// Changing the grouping is a migration: the plan deletes the per-service
// objects and creates the grouped ones, and the deletion budget applies to
// it as to any plan.
func TestPlanACIGroupingMigration(t *testing.T) {
	var size gen.Size
	for _, s := range gen.Sizes {
		if s.Name == "S" {
			size = s
		}
	}
	dir := t.TempDir()
	cluster, _, err := gen.Write(dir, size)
	if err != nil {
		t.Fatal(err)
	}
	load := func(extra string) *inputs {
		in := inputFlags{configPath: aciGenConfig(t, t.TempDir(), size, extra), clusterState: []string{cluster}}
		ins, err := in.load()
		if err != nil {
			t.Fatal(err)
		}
		return ins
	}
	// What the fabric holds: the per-service objects, all 500 services on
	// one L3Out: above Cisco's 250 already, as a fabric that grew so would be.
	perService := load("")
	observed := map[string]fabric.Observed{}
	for _, fd := range reconciler.Translate(perService.cluster, perService.cfg, reconciler.TranslateOptions{}).Fabrics {
		observed[fd.Name] = fabric.Observed{Owned: fd.State}
	}
	grouped := load("    serviceGrouping: namespace\n")

	p := makePlan(grouped, nil, observed, nil, reconciler.Options{}).plan.Fabrics[0]
	if !strings.Contains(p.Refused, "more than the deletion budget") {
		t.Errorf("refused %q: want the deletion budget to refuse the migration", p.Refused)
	}

	p = makePlan(grouped, nil, observed, nil, reconciler.Options{DeletionBudgetPercent: 100}).plan.Fabrics[0]
	if p.Refused != "" {
		t.Fatalf("refused: %s", p.Refused)
	}
	count := map[string]int{}
	for _, c := range p.Changes {
		prefix := c.ID
		if i := strings.IndexAny(prefix, "/"); i > 0 {
			prefix = prefix[:i]
		}
		switch {
		case strings.HasPrefix(prefix, "EPG_K8_APP_") || strings.HasPrefix(prefix, "CNT_K8_APP_"):
			count[string(c.Action)+" "+string(c.Kind)+" per service"]++
		case strings.HasPrefix(prefix, "EPG_K8_NS_") || strings.HasPrefix(prefix, "CNT_K8_NS_"):
			count[string(c.Action)+" "+string(c.Kind)+" per namespace"]++
		default:
			count["other "+c.ID]++
		}
	}
	want := map[string]int{
		"delete ExternalSubnet per service": 500, "delete Contract per service": 500,
		"create ExternalSubnet per namespace": 500, "create Contract per namespace": 200,
	}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("changes %v, want %v", count, want)
	}
}
