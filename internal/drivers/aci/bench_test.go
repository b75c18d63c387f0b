package aci

import (
	"context"
	"fmt"
	"io"
	"log"
	"testing"

	"github.com/ciscoecosystem/aci-go-client/v2/client"
	"github.com/ciscoecosystem/aci-go-client/v2/models"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// Benchmarks against the in-process emulator (loopback TLS). They print
// figures; they assert nothing about time.
//
//	go test -run '^$' -bench . -benchtime 5x ./internal/drivers/aci/

func subnets(n int) fabric.State {
	var st fabric.State
	for i := 0; i < n; i++ {
		st.Subnets = append(st.Subnets, sub("EPG_K8_PODS", fmt.Sprintf("10.%d.%d.0/24", 200+i/256, i%256)))
	}
	return st
}

// BenchmarkSyncSubnets: observe, diff and apply n new subnets (one GET,
// one POST), then observe again to confirm.
func BenchmarkSyncSubnets(b *testing.B) {
	for _, n := range []int{10, 500} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			want := subnets(n)
			var reqs int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv, d := lab(b, emulator.Options{}, tlsCA)
				b.StartTimer()
				ctx := context.Background()
				obs, err := d.Observe(ctx)
				if err != nil {
					b.Fatal(err)
				}
				plan := fabric.Diff(fabric.Target{Name: "f", State: want}, obs)
				if _, err := d.Apply(ctx, plan); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				reqs = len(srv.Requests())
				d.Close()
				srv.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(reqs), "requests/op")
		})
	}
}

// BenchmarkTypedHelpers: the same subnets with aci-go-client's
// CreateL3ExtSubnet, one POST each, for comparison.
func BenchmarkTypedHelpers(b *testing.B) {
	log.SetOutput(io.Discard)
	for _, n := range []int{10, 500} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var reqs int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv, _ := lab(b, emulator.Options{}, tlsCA)
				c := client.NewClient(srv.URL, "admin", client.Password(apicPW), client.Insecure(true), client.SkipLoggingPayload(true))
				b.StartTimer()
				for j := 0; j < n; j++ {
					ip := fmt.Sprintf("10.%d.%d.0/24", 200+j/256, j%256)
					if _, err := c.CreateL3ExtSubnet(ip, "EPG_K8_NODES", "L3O_K8_C1", "TEN_K8_C1", "", models.L3ExtSubnetAttributes{Scope: "import-security"}); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				reqs = len(srv.Requests())
				srv.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(reqs), "requests/op")
		})
	}
}
