package controller_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	"github.com/fabric-reconciler/fabric-reconciler/test/kubeapi"
)

// BenchmarkStatusPatchToApply measures the time from a Service status patch
// (a new LoadBalancer IP, as MetalLB writes it) to the fabric receiving the
// write that creates its subnet, over 200 changes, with the default
// debounce and with a short one (which shows the pipeline's own cost). It
// reports p50 and p99 in milliseconds. Run it with -benchtime 1x (make
// bench does): each run already makes 200 changes.
func BenchmarkStatusPatchToApply(b *testing.B) {
	const changes = 200
	for _, debounce := range []time.Duration{200 * time.Millisecond, 10 * time.Millisecond} {
		for _, f := range fabricsUnderTest {
			b.Run(fmt.Sprintf("%s/debounce=%s", f.name, debounce), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					lat := patchToApply(b, f.new, debounce, changes)
					sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
					pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
					b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
					b.Logf("%d changes, debounce %s: p50 %s, p90 %s, p99 %s, max %s", len(lat), debounce,
						pct(0.50).Round(100*time.Microsecond), pct(0.90).Round(100*time.Microsecond),
						pct(0.99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
				}
			})
		}
	}
}

func patchToApply(b *testing.B, newFabric func(testing.TB) fabricUnderTest, debounce time.Duration, changes int) []time.Duration {
	b.StopTimer()
	fut := newFabric(b)
	cl := startCluster(b, kubeapi.Options{})
	startController(b, cl.srv.Config(), fut, "bench", fastElection, func(o *controller.Options) { o.Loop.Debounce = debounce })
	waitFor(b, 60*time.Second, "convergence", func() bool { return hasSubnet(fut.State(b), "172.29.0.7/32") })
	var lat []time.Duration
	b.StartTimer()
	for i := 0; i < changes; i++ {
		ip := fmt.Sprintf("172.29.%d.%d", 1+i/250, 1+i%250)
		prefix := ip + "/32"
		start := time.Now()
		patchIngress(b, cl.client, "multicast", "mcast", "172.29.0.6", ip)
		var at time.Time
		waitFor(b, 30*time.Second, "the write for "+prefix, func() bool {
			for _, w := range fut.Writes() {
				for _, c := range w.Changes {
					if s, ok := c.Object().(fabric.ExternalSubnet); ok && c.Action == fabric.ActionCreate && s.Prefix == prefix {
						at = w.At
						return true
					}
				}
			}
			return false
		})
		lat = append(lat, at.Sub(start))
	}
	b.StopTimer()
	return lat
}
