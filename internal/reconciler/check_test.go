package reconciler

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// A driver's plan check refuses a plan like the guards do, and says so
// beside the deletion budget when both refuse.
func TestPlanFabricDriverCheck(t *testing.T) {
	sub := func(i int) fabric.Object {
		return fabric.ExternalSubnet{Group: "G", Prefix: "10.0.0." + string(rune('0'+i)) + "/32", Scopes: []fabric.Scope{fabric.ScopeImportSecurity}}
	}
	var owned fabric.State
	for i := 0; i < 9; i++ {
		owned.Add(sub(i))
	}
	check := func(want fabric.Target, obs fabric.Observed, plan fabric.Changeset) string {
		if len(plan.Changes) > 0 {
			return "over the platform's limit"
		}
		return ""
	}
	g := Guards{Policy: "sync", AllowEmpty: true, Check: check}
	g.Budget.Percent, g.Budget.Objects = 100, 100
	p := PlanFabric(fabric.Target{Name: "f", State: fabric.StateOf(sub(0), sub(1))}, fabric.Observed{Owned: owned}, g)
	if p.Refused != "over the platform's limit" {
		t.Errorf("refused %q", p.Refused)
	}
	g.Budget.Percent, g.Budget.Objects = 10, 1
	p = PlanFabric(fabric.Target{Name: "f", State: fabric.StateOf(sub(0), sub(1))}, fabric.Observed{Owned: owned}, g)
	if !strings.Contains(p.Refused, "deletion budget") || !strings.HasSuffix(p.Refused, "; and over the platform's limit") {
		t.Errorf("refused %q: want the budget and the check", p.Refused)
	}
	g.Check = nil
	if p := PlanFabric(fabric.Target{Name: "f", State: owned}, fabric.Observed{Owned: owned}, g); p.Refused != "" {
		t.Errorf("refused %q without a check and with nothing to do", p.Refused)
	}
}
