package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// e2eLab is the lab the tests of this package use: the one
// examples/haystack/fabric-frr.yaml points at (ports 2201/2202).
const e2eLab = "frlab"

func TestMain(m *testing.M) {
	code := m.Run()
	var started []*Lab
	for _, l := range sharedLab {
		if l.Started {
			started = append(started, l)
		}
	}
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "lab down:", err)
		code = 1
	}
	// A lab this run started must leave nothing behind.
	for _, l := range started {
		if left := leftovers(l); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "lab %s left behind: %s\n", l.Name, strings.Join(left, ", "))
			code = 1
		}
	}
	if bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// leftovers lists the lab's namespaces and processes still present.
func leftovers(l *Lab) []string {
	var out []string
	if m, _ := filepath.Glob("/run/netns/" + l.Name + "-*"); len(m) > 0 {
		out = append(out, m...)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), l.RunDir()+"/") {
			continue
		}
		st, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			continue // exited, not yet reaped by PID 1
		}
		out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// TestTopologyMatchesClusterState keeps the lab honest: the BIRD nodes
// advertise what the cluster state says they do (blocks, the service range,
// Cluster-policy /32s from every node, Local-policy /32s from the nodes with
// an endpoint), with the addresses and AS numbers Calico gives them.
func TestTopologyMatchesClusterState(t *testing.T) {
	topo, err := ReadTopology(filepath.Join(Dir(), "topology"))
	if err != nil {
		t.Fatal(err)
	}
	root := testenv.RepoRoot()
	cs, err := k8swatch.LoadFiles(filepath.Join(root, "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"), filepath.Join(Dir(), "spare"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Problems) > 0 {
		t.Fatalf("cluster state problems: %v", cs.Problems)
	}
	inCluster, err := k8swatch.LoadFiles(filepath.Join(root, "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range topo.Nodes {
		t.Run(n.Name, func(t *testing.T) {
			if _, ok := inCluster.Node(n.Name); ok == n.Spare {
				t.Fatalf("spare=%v but in the cluster state: %v", n.Spare, ok)
			}
			cn, ok := cs.Node(n.Name)
			if !ok {
				t.Fatalf("node %s is in no cluster file", n.Name)
			}
			if cn.BGP.IPv4Address.Addr() != n.Addr || cn.BGP.ASN != n.ASN {
				t.Errorf("Calico says %s AS %d, the lab %s AS %d", cn.BGP.IPv4Address, cn.BGP.ASN, n.Addr, n.ASN)
			}
			if blocks := cs.NodeBlocks(n.Name); len(blocks) != 1 || blocks[0] != n.Block {
				t.Errorf("IPAM blocks %v, the lab advertises %s", blocks, n.Block)
			}
			want := append([]netip.Prefix(nil), cs.BGPConfig.ServiceLoadBalancerIPs...)
			for _, s := range cs.Services {
				if s.ExternalTrafficPolicy == "Local" && !slices.Contains(s.EndpointNodes, n.Name) {
					continue
				}
				for _, ip := range s.IPs {
					want = append(want, netip.PrefixFrom(ip, 32))
				}
			}
			if got, w := prefixSet(n.Routes), prefixSet(want); got != w {
				t.Errorf("service routes %s, the cluster state says %s", got, w)
			}
		})
	}
	for _, l := range topo.Leaves {
		found := false
		for _, p := range cs.BGPPeers {
			found = found || (p.PeerIP == l.Addr && p.ASN == l.ASN)
		}
		if !found {
			t.Errorf("leaf %s (%s AS %d) is no BGPPeer of the cluster", l.Name, l.Addr, l.ASN)
		}
	}
}

func prefixSet(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}

// TestLabRepairsItself checks lab.sh's promises: "up" on a running lab
// changes nothing, and brings back daemons that died.
func TestLabRepairsItself(t *testing.T) {
	l := Shared(t, e2eLab, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := l.Script(ctx, "status"); err != nil {
		t.Fatalf("status of a running lab: %v", err)
	}
	pids := func() string {
		out, err := l.Script(ctx, "status")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := pids()
	start := time.Now()
	if _, err := l.Script(ctx, "up"); err != nil {
		t.Fatal(err)
	}
	t.Logf("up on a running lab took %s", time.Since(start).Round(time.Millisecond))
	if after := pids(); after != before {
		t.Fatalf("up restarted components of a running lab:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Kill bgpd of leaf201 and BIRD of k8c1s1: status fails, up repairs.
	for _, f := range []string{"leaf201/bgpd.pid", "k8c1s1/bird.pid"} {
		b, err := os.ReadFile(filepath.Join(l.RunDir(), f))
		if err != nil {
			t.Fatal(err)
		}
		var pid int
		fmt.Sscan(string(b), &pid)
		p, err := os.FindProcess(pid)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	if err := Eventually(ctx, "status to notice the dead daemons", func() (bool, string, error) {
		_, err := l.Script(ctx, "status")
		return err != nil, "status still ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := l.Script(ctx, "up"); err != nil {
		t.Fatal(err)
	}
	t.Logf("repair took %s", time.Since(start).Round(time.Millisecond))
	if out, err := l.Script(ctx, "status"); err != nil {
		t.Fatalf("after repair: %v\n%s", err, out)
	}
	out, err := l.Vtysh(ctx, "leaf201", "show bgp summary json")
	if err != nil || !strings.Contains(out, `"as":63500`) {
		t.Fatalf("bgpd of leaf201 after repair: %v %s", err, out)
	}
}

// TestReadTopologyNode6: IPv6 node lines, and the lab's own IPv6 node, which
// must advertise IPv4 prefixes over its IPv6 session (what
// internal/drivers/frr's TestLabIPv6PeerRefusesIPv4 needs).
func TestReadTopologyNode6(t *testing.T) {
	tests := []struct {
		line   string
		want   string // Name Addr Addr4 ASN Block Routes
		errHas string
	}{
		{line: "node6 n6 fd00:9::199 65009 2001:db8:9::/64 2001:db8:9::/64,10.0.0.0/8",
			want: "n6 fd00:9::199 192.168.9.199 65009 2001:db8:9::/64 [2001:db8:9::/64 10.0.0.0/8]"},
		{line: "node6 n6 192.168.9.199 65009 2001:db8:9::/64 10.0.0.0/8", errHas: "wants an IPv6 address"},
		{line: "node6 n6 fd00:9::1ff 65009 2001:db8:9::/64 10.0.0.0/8", errHas: "host number"},
		{line: "node6 n6 fd00:9::199 65009 2001:db8:9::/64 10.0.0.0/33", errHas: "10.0.0.0/33"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "topology")
			if err := os.WriteFile(path, []byte(tt.line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			topo, err := ReadTopology(path)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error %v, want %q", err, tt.errHas)
				}
				return
			}
			if err != nil || len(topo.Nodes6) != 1 {
				t.Fatalf("%v, %d IPv6 nodes", err, len(topo.Nodes6))
			}
			n := topo.Nodes6[0]
			if got := fmt.Sprint(n.Name, " ", n.Addr, " ", n.Addr4, " ", n.ASN, " ", n.Block, " ", n.Routes); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}

	topo, err := ReadTopology(filepath.Join(Dir(), "topology"))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Nodes6) != 1 {
		t.Fatalf("%d IPv6 nodes, want 1", len(topo.Nodes6))
	}
	n := topo.Nodes6[0]
	v4 := 0
	for _, r := range n.Routes {
		if r.Addr().Is4() {
			v4++
		}
	}
	if v4 == 0 || !slices.Contains(n.Routes, n.Block) || !netip.MustParsePrefix("192.168.9.192/28").Contains(n.Addr4) {
		t.Fatalf("IPv6 node %+v: want IPv4 routes, its block among its routes, an IPv4 address on the segment", n)
	}
	if got := LeafIPv6(topo.Leaves[0]).String(); got != "fd00:9::204" {
		t.Fatalf("leaf201's IPv6 address %s", got)
	}
}

// TestRunDirFitsSockets: the lab's daemons keep their sockets outside the
// checkout, in paths that fit a Unix socket address (108 bytes with the
// final NUL) however long the checkout's path is, and two checkouts never
// share a run folder. It needs no root: lab.sh rundir only prints the path.
func TestRunDirFitsSockets(t *testing.T) {
	topo, err := ReadTopology(filepath.Join(Dir(), "topology"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range topo.Leaves {
		names = append(names, l.Name)
	}
	for _, n := range topo.Nodes {
		names = append(names, n.Name)
	}
	for _, n := range topo.Nodes6 {
		names = append(names, n.Name)
	}

	// A copy of lab.sh and its topology at a long path is a checkout there.
	long := filepath.Join(t.TempDir(), strings.Repeat("a", 60), strings.Repeat("b", 60), "checkout")
	if err := os.MkdirAll(filepath.Join(long, "test", "lab"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lab.sh", "topology"} {
		b, err := os.ReadFile(filepath.Join(Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(long, "test", "lab", f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	runs := map[string]string{}
	for _, checkout := range []string{testenv.RepoRoot(), long} {
		cmd := exec.Command(filepath.Join(checkout, "test", "lab", "lab.sh"), "rundir")
		cmd.Env = append(os.Environ(), "LAB=frlab")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("lab.sh rundir in %s: %v", checkout, err)
		}
		run := strings.TrimSpace(string(out))
		t.Logf("checkout %s (%d bytes): run folder %s", checkout, len(checkout), run)
		if !filepath.IsAbs(run) || strings.HasPrefix(run, checkout+"/") {
			t.Errorf("run folder %q of checkout %s: want an absolute path outside the checkout", run, checkout)
		}
		if other, ok := runs[run]; ok {
			t.Errorf("checkouts %s and %s share the run folder %s", other, checkout, run)
		}
		runs[run] = checkout
		for _, n := range names {
			for _, sock := range []string{"sock/zserv.api", "sock/zebra.vty", "sock/bgpd.vty", "bird.ctl"} {
				if p := filepath.Join(run, n, sock); len(p) >= 108 {
					t.Errorf("socket %s is %d bytes: a Unix socket path has at most 107", p, len(p))
				}
			}
		}
	}
}
