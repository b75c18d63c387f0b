package main

import (
	"io"
	"os"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
)

// BenchmarkPlanOffline is `plan --offline -o json` end to end on the
// synthetic clusters (SIZE=S|M|L, default M), as make bench runs it.
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
