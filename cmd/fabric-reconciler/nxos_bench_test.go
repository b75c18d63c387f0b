package main

import (
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/nxos"
)

// BenchmarkNXOSSync times `fabric-reconciler sync` of the haystack example
// (in-process, as the binary runs it) against two emulated Nexus leaves on
// 127.0.0.1, per commit mode: "first" applies the 14 changes to fresh leaves
// (48 lines per leaf), "converged" observes and finds nothing to do. It
// reports the switch commands each sync sends (cmds/op, both leaves).
//
//	make bench-nxos   or   go test -run '^$' -bench NXOSSync ./cmd/fabric-reconciler/
func BenchmarkNXOSSync(b *testing.B) {
	for _, mode := range []string{nxos.CommitCheckpoint, nxos.CommitSession} {
		o := nxosOpts{mode: mode, sessionsTakeBGP: mode == nxos.CommitSession}
		b.Run(mode+"/first", func(b *testing.B) {
			cmds := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				l := newNXOSLab(b, o)
				b.StartTimer()
				if r := l.cli(b, "sync"); r.code != 0 {
					b.Fatalf("sync exit %d: %s", r.code, r.stderr)
				}
				b.StopTimer()
				for _, s := range l.sims {
					cmds += s.Stats().Commands
					_ = s.Close()
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(cmds)/float64(b.N), "cmds/op")
		})
		b.Run(mode+"/converged", func(b *testing.B) {
			l := newNXOSLab(b, o)
			if r := l.cli(b, "sync"); r.code != 0 {
				b.Fatalf("sync exit %d: %s", r.code, r.stderr)
			}
			for _, s := range l.sims {
				s.ResetLog()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := l.cli(b, "sync"); r.code != 0 {
					b.Fatalf("sync exit %d: %s", r.code, r.stderr)
				}
			}
			b.StopTimer()
			cmds := 0
			for _, s := range l.sims {
				cmds += s.Stats().Commands
			}
			b.ReportMetric(float64(cmds)/float64(b.N), "cmds/op")
		})
	}
}
