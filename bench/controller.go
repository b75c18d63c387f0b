package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
)

// convergenceSection: BenchmarkStatusPatchToApply (internal/controller/bench_test.go):
// a real kube-apiserver, the controller in-process, 200 Service status
// patches one after another, each timed to the fabric's write.
func convergenceSection(e *env) (string, error) {
	var b strings.Builder
	b.WriteString("\n## Convergence in `run`: Service status patch to the switch write\n\n")
	b.WriteString("`BenchmarkStatusPatchToApply`: a real kube-apiserver (test/kubeapi), the controller in-process, 200 Service status patches ")
	b.WriteString("(a new LoadBalancer IP each, as MetalLB writes it), each timed from the patch to the fabric's write of its subnet: ")
	b.WriteString("in memory (test/memfabric) and through the ACI driver to the APIC emulator. p50/p99/max are over the 200 changes of one run; ")
	b.WriteString("the debounce (default 200 ms) gathers a burst of changes into one reconcile, the 10 ms row shows the pipeline's own cost.\n\n")
	b.WriteString("| Fabric | Debounce | p50 | p99 | max |\n|---|---|---|---|---|\n")
	lines, err := e.goBench(nil, "-bench", "^BenchmarkStatusPatchToApply$", "-benchtime", "1x", "-timeout", "30m", "./internal/controller/")
	for _, l := range lines {
		parts := strings.Split(l.name, "/")
		if len(parts) != 3 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f ms | %.1f ms | %.1f ms |\n", parts[1], strings.TrimPrefix(parts[2], "debounce="),
			l.metrics["p50-ms"], l.metrics["p99-ms"], l.metrics["max-ms"])
	}
	return b.String(), err
}

var overBudgetRe = regexp.MustCompile(`over budget: (.*)`)

// controllerSection: BenchmarkControllerScale at each size.
func controllerSection(e *env) (string, error) {
	var b strings.Builder
	b.WriteString("\n## Controller against a real kube-apiserver (synthetic clusters)\n\n")
	b.WriteString("`BenchmarkControllerScale` (internal/controller/scale_bench_test.go): the synthetic cluster is created in a real kube-apiserver 1.34 with etcd on tmpfs ")
	b.WriteString("(32 parallel creates, protobuf, then each Service's load-balancer status; Calico's kinds as crd.projectcalico.org/v1). ")
	b.WriteString("*Informer cache* is the Go heap the controller's informers hold once synced (live heap after GC, less the heap before they started); ")
	b.WriteString("*+ first state* adds the watcher's first ClusterState (its per-object JSON memo included). ")
	b.WriteString("*First write* is controller start to the first write of the whole desired state (informers' list, Translate, observe, plan, apply) to an in-memory fabric. ")
	b.WriteString("*Change → write* is a Node added to a rack, to the fabric's write of its neighbours (median of 5, debounce 10 ms); ")
	b.WriteString("*reconcile* is the loop's own reconcile_duration for those (observe, plan, apply). *Process heap* is everything once converged, ")
	b.WriteString("memfabric's copy of the fabric included. One run per size: loading the cluster dominates.\n\n")
	b.WriteString("| Size | Load the cluster | Informer sync | Informer cache | + first state | First write | Change → write | Reconcile | Process heap |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	var errs []string
	var rate, requests float64 // of the last size measured
	last := ""
	for _, size := range e.ctrlSizes {
		size = strings.TrimSpace(size)
		budget := e.ctrlBudget
		lines, err := e.goBenchOut([]string{"SIZE=" + size, "CREATE_BUDGET=" + budget.String()},
			"-bench", "^BenchmarkControllerScale$", "-benchtime", "1x", "-timeout", "60m", "./internal/controller/")
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", size, err))
		}
		var m map[string]float64
		for _, l := range lines.parsed {
			if strings.HasPrefix(l.name, "BenchmarkControllerScale") {
				m = l.metrics
			}
		}
		if m == nil {
			why := "no figures (see the error below)"
			if mm := overBudgetRe.FindStringSubmatch(lines.raw); mm != nil {
				why = "not measured: loading the cluster went over its budget: " + mm[1]
			}
			fmt.Fprintf(&b, "| %s | %s | | | | | | | |\n", size, why)
			continue
		}
		rate, requests, last = m["creates/s"], m["requests"], size
		fmt.Fprintf(&b, "| %s | %.0f s (%.0f requests/s) | %.1f s | %.0f MiB | %.0f MiB | %.1f s | %.0f ms | %.0f ms | %.0f MiB |\n", size,
			m["create-s"], m["creates/s"], m["sync-s"], m["cache-MiB"], m["state-MiB"], m["first-s"], m["change-ms"], m["reconcile-ms"], m["heap-MiB"])
		e.partial(b.String())
	}
	if !slices.Contains(e.ctrlSizes, "L") && rate > 0 {
		// What L would take to load, from the rate just measured.
		f := float64(sizeOf("L").Services) / float64(sizeOf(last).Services)
		fmt.Fprintf(&b, "| L | not run by default: loading it (about %.0f requests, %g times %s's) at %s's rate of %.0f requests/s would take at least %.0f minutes, "+
			"past make bench's budget, and the rate falls as etcd grows (on 2 cores a load of L has not finished within the 30-minute create budget); "+
			"`go run ./bench -only controller -controller-sizes L -controller-create-budget 90m` runs it | | | | | | | |\n",
			requests*f, f, last, last, rate, requests*f/rate/60)
	}
	if len(errs) > 0 {
		return b.String(), fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return b.String(), nil
}

func sizeOf(name string) gen.Size {
	for _, s := range gen.Sizes {
		if s.Name == name {
			return s
		}
	}
	return gen.Size{Services: 1}
}
