package nxossim

import (
	"fmt"
	"testing"

	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/transport"
)

// planFor returns the lines a driver would send for n peers: neighbor,
// remote-as, description, address family, inbound prefix-list, and a
// two-entry prefix list.
func planFor(n int) []string {
	lines := []string{"router bgp 63500", "address-family ipv4 unicast", "maximum-paths 3"}
	for i := 0; i < n; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d", i/(254*256)%256, i/254%256, i%254+1)
		pl := "FR-IN-" + ip
		lines = append(lines,
			"neighbor "+ip,
			fmt.Sprintf("remote-as %d", 64512+i%1000),
			"description orchestrator:fabric-reconciler.bench node"+fmt.Sprint(i),
			"address-family ipv4 unicast",
			"prefix-list "+pl+" in",
			"ip prefix-list "+pl+" seq 5 permit 172.27.0.0/26",
			"ip prefix-list "+pl+" seq 10 permit 172.29.0.0/16 le 32",
			"router bgp 63500",
		)
	}
	return lines
}

// BenchmarkConfigure parses and applies a 100-peer plan in process.
func BenchmarkConfigure(b *testing.B) {
	lines := planFor(100)
	s := startSim(b, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Configure(lines...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(lines)*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkShowRunningConfigBGP renders a 500-peer configuration.
func BenchmarkShowRunningConfigBGP(b *testing.B) {
	s := startSim(b, nil)
	if err := s.Configure(planFor(500)...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Show("show running-config bgp"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrapligoSessionCommit pushes a 10-peer plan (83 lines) through
// scrapligo's cisco_nxos platform over SSH in a configuration session, then
// verify and commit: the emulator's side of one driver apply.
func BenchmarkScrapligoSessionCommit(b *testing.B) {
	lines := planFor(10)
	s := startSim(b, sessionsTakeBGP)
	d := scrapliDriver(b, s, transport.StandardTransport)
	addSessionPriv(d, "bench")
	sess := opoptions.WithPrivilegeLevel("configuration-session")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := d.SendConfigs(lines, sess)
		if err != nil || m.Failed != nil {
			b.Fatal(err, m.Failed)
		}
		for _, c := range []string{"verify", "commit"} {
			r, err := d.SendConfig(c, sess)
			if err != nil || r.Failed != nil {
				b.Fatal(c, err, r.Failed)
			}
		}
	}
	b.ReportMetric(float64((len(lines)+2)*b.N)/b.Elapsed().Seconds(), "lines/s")
}
