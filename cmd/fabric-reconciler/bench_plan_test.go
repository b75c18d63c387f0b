package main

import (
	"io"
	"os"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
)

// BenchmarkPlanOffline is `plan --offline -o json` end to end on the
// synthetic clusters (SIZE=S|M|L, default M). make bench runs the built
// binary instead, for its peak RSS (bench/scale.go).
//
//	SIZE=L go test -run '^$' -bench PlanOffline -benchtime 3x ./cmd/fabric-reconciler/
func BenchmarkPlanOffline(b *testing.B) {
	size := os.Getenv("SIZE")
	if size == "" {
		size = "M"
	}
	for _, s := range gen.Sizes {
		if s.Name != size {
			continue
		}
		cluster, cfg, err := gen.Write(b.TempDir(), s)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if code := execute([]string{"plan", "--offline", "-o", "json", "--config", cfg, "--cluster-state", cluster}, io.Discard, io.Discard); code != 0 {
				b.Fatalf("exit %d", code)
			}
		}
	}
}

// BenchmarkTranslateDiff is what the controller pays per reconcile once the
// cluster state is in its informers: Translate and the guarded diff
// (reconciler.PlanFabric) of every fabric against an observation, at SIZE
// (default M). "steady" observes exactly what is desired (the usual
// reconcile: nothing to do); "empty" observes nothing (the first reconcile:
// everything to create). "steady-plan" is plan's whole pipeline on the
// steady observation, doctor's checks of the translation included.
func BenchmarkTranslateDiff(b *testing.B) {
	size := os.Getenv("SIZE")
	if size == "" {
		size = "M"
	}
	for _, s := range gen.Sizes {
		if s.Name != size {
			continue
		}
		clusterDir, cfgPath, err := gen.Write(b.TempDir(), s)
		if err != nil {
			b.Fatal(err)
		}
		in := inputFlags{configPath: cfgPath, clusterState: []string{clusterDir}}
		ins, err := in.load()
		if err != nil {
			b.Fatal(err)
		}
		empty := map[string]fabric.Observed{}
		first := makePlan(ins, nil, empty, nil, reconciler.Options{})
		steady := map[string]fabric.Observed{}
		for _, fd := range reconciler.Translate(ins.cluster, ins.cfg, reconciler.TranslateOptions{CalicoNamespace: ins.cfg.CalicoNamespace}).Fabrics {
			steady[fd.Name] = fabric.Observed{Owned: fd.State}
		}
		translateDiff := func(observed map[string]fabric.Observed) (creates int) {
			d := reconciler.Translate(ins.cluster, ins.cfg, reconciler.TranslateOptions{Observed: observed, CalicoNamespace: ins.cfg.CalicoNamespace})
			for _, fd := range d.Fabrics {
				p := reconciler.PlanFabric(fd, observed[fd.Name], reconciler.GuardsFor(fabricConfig(ins.cfg, fd.Name), reconciler.Options{}))
				creates += p.Summary().Create
			}
			return creates
		}
		for _, tc := range []struct {
			name     string
			observed map[string]fabric.Observed
			changes  bool
			plan     bool
		}{{"steady", steady, false, false}, {"empty", empty, true, false}, {"steady-plan", steady, false, true}} {
			b.Run(tc.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					var creates int
					if tc.plan {
						creates = makePlan(ins, nil, tc.observed, nil, reconciler.Options{}).plan.Summary().Create
					} else {
						creates = translateDiff(tc.observed)
					}
					if got := creates > 0; got != tc.changes {
						b.Fatalf("creates = %d (first plan %d)", creates, first.plan.Summary().Create)
					}
				}
			})
		}
	}
}
