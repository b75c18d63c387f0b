package main

import (
	"io"
	"os"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/reconciler"
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
// cluster state is in its informers: Translate and the guarded diff against
// an observation, at SIZE (default M). "steady" observes exactly what is
// desired (the usual reconcile: nothing to do); "empty" observes nothing
// (the first reconcile: everything to create).
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
		for _, tc := range []struct {
			name     string
			observed map[string]fabric.Observed
			changes  bool
		}{{"steady", steady, false}, {"empty", empty, true}} {
			b.Run(tc.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					p := makePlan(ins, nil, tc.observed, nil, reconciler.Options{})
					if got := p.plan.Summary().Create > 0; got != tc.changes {
						b.Fatalf("creates = %d (first plan %d)", p.plan.Summary().Create, first.plan.Summary().Create)
					}
				}
			})
		}
	}
}
