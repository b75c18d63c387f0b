package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The end-to-end tests drive the lab's leaves only through the built
// fabric-reconciler binary ("sync" with examples/haystack/fabric-frr.yaml),
// and read the routers' state with FRR's JSON commands.

var (
	binOnce sync.Once
	bin     string
	binErr  error
)

// binary builds cmd/fabric-reconciler once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "frlab-e2e-")
		if err != nil {
			binErr = err
			return
		}
		out := filepath.Join(dir, "fabric-reconciler")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/fabric-reconciler")
		cmd.Dir = testenv.RepoRoot()
		if b, err := cmd.CombinedOutput(); err != nil {
			binErr = err
			t.Logf("go build: %s", b)
			return
		}
		bin = out
	})
	if binErr != nil {
		t.Fatalf("building fabric-reconciler: %v", binErr)
	}
	return bin
}

type syncOutcome struct {
	Plan    fabric.Plan `json:"plan"`
	Results []struct {
		Name      string            `json:"name"`
		Stage     string            `json:"stage"`
		Error     string            `json:"error"`
		Applied   int               `json:"applied"`
		Messages  []string          `json:"messages"`
		Conflicts []fabric.Conflict `json:"conflicts"`
	} `json:"results"`
	exit           int
	stdout, stderr string
}

func (o syncOutcome) summary() fabric.Summary { return o.Plan.Summary() }

// runSync runs "fabric-reconciler sync" on the lab's cluster state plus extra
// cluster files. The lab's secret must appear in no output or log.
func runSync(t *testing.T, extra ...string) syncOutcome {
	t.Helper()
	root := testenv.RepoRoot()
	args := []string{"sync", "--config", filepath.Join(root, "examples/haystack/fabric-frr.yaml"),
		"--cluster-state", filepath.Join(root, "examples/haystack/cluster"),
		"--cluster-state", filepath.Join(Dir(), "cluster"),
		"-o", "json", "--log-level", "debug", "--timeout", "60s"}
	for _, e := range extra {
		args = append(args, "--cluster-state", e)
	}
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	o := syncOutcome{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		o.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("sync took %s (exit %d)", time.Since(start).Round(time.Millisecond), o.exit)
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		t.Fatalf("sync output is not JSON: %v\nstdout:\n%s\nstderr:\n%s", err, o.stdout, o.stderr)
	}
	pw, err := os.ReadFile(PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	if secret := strings.TrimSpace(string(pw)); strings.Contains(o.stdout+o.stderr, secret) {
		t.Fatalf("the SSH password appears in the output of sync")
	}
	return o
}

func mustSucceed(t *testing.T, o syncOutcome) {
	t.Helper()
	if o.exit != 0 {
		t.Fatalf("sync exit %d\nstdout:\n%s\nstderr:\n%s", o.exit, o.stdout, o.stderr)
	}
}

func e2e(t *testing.T) (*Lab, context.Context) {
	t.Helper()
	l := Shared(t, e2eLab, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	start := time.Now()
	if err := l.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("lab reset in %s", time.Since(start).Round(time.Millisecond))
	return l, ctx
}

func (l *Lab) nodes(spare bool) []Node {
	var out []Node
	for _, n := range l.Topology.Nodes {
		if !n.Spare || spare {
			out = append(out, n)
		}
	}
	return out
}

func addrs(ns []Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Addr.String())
	}
	slices.Sort(out)
	return out
}

// waitEstablished waits until a leaf's sessions with the nodes are up.
func (l *Lab) waitEstablished(t *testing.T, ctx context.Context, leaf string, nodes []Node) {
	t.Helper()
	start := time.Now()
	err := Eventually(ctx, leaf+": sessions Established with "+strings.Join(addrs(nodes), ", "), func() (bool, string, error) {
		peers, err := l.Summary(ctx, leaf)
		if err != nil {
			return false, "", err
		}
		for _, n := range nodes {
			if p := peers[n.Addr.String()]; p.State != "Established" {
				return false, n.Addr.String() + " is " + p.State, nil
			}
		}
		return true, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d sessions Established %s after sync", leaf, len(nodes), time.Since(start).Round(time.Millisecond))
}

// waitNextHops waits until a leaf routes prefix to exactly these nodes.
func (l *Lab) waitNextHops(t *testing.T, ctx context.Context, leaf string, prefix netip.Prefix, nodes []Node) {
	t.Helper()
	want := strings.Join(addrs(nodes), ",")
	err := Eventually(ctx, leaf+": "+prefix.String()+" via "+want, func() (bool, string, error) {
		nh, err := l.NextHops(ctx, leaf, prefix)
		got := strings.Join(nh, ",")
		return got == want, "via " + got, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (l *Lab) leaves() []string {
	var out []string
	for _, lf := range l.Topology.Leaves {
		out = append(out, lf.Name)
	}
	return out
}

func (l *Lab) runningConfigs(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, leaf := range l.leaves() {
		c, err := l.RunningConfig(ctx, leaf)
		if err != nil {
			t.Fatal(err)
		}
		out[leaf] = c
	}
	return out
}

// missingLines reports the lines of before that are missing from after.
func missingLines(before, after string) []string {
	have := map[string]int{}
	for _, l := range strings.Split(after, "\n") {
		have[l]++
	}
	var out []string
	for _, l := range strings.Split(before, "\n") {
		if have[l] == 0 {
			out = append(out, l)
		}
		have[l]--
	}
	return out
}

func nodeNamed(l *Lab, name string) Node {
	for _, n := range l.Topology.Nodes {
		if n.Name == name {
			return n
		}
	}
	panic("no node " + name)
}

// TestSyncFromEmptyLeaves: one sync configures both leaves from their
// baseline; all sessions come up, every pod block is learned, the service
// /32s have one next hop per advertising node; the hand-made neighbor and
// prefix-list are untouched; a second sync sends no line.
func TestSyncFromEmptyLeaves(t *testing.T) {
	l, ctx := e2e(t)
	baseline := l.runningConfigs(t, ctx)
	nodes := l.nodes(false)

	o := runSync(t)
	mustSucceed(t, o)
	if s := o.summary(); s.Create != 14 || s.Update != 0 || s.Delete != 0 {
		t.Fatalf("plan %+v, want 14 creates (per leaf: 3 filters, 3 neighbors, maximum-paths)", s)
	}
	if r := o.Results[0]; r.Stage != "done" || r.Applied != 14 {
		t.Fatalf("result %+v", r)
	}
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, nodes)
		for _, n := range nodes {
			l.waitNextHops(t, ctx, leaf, n.Block, []Node{n})
		}
		all := nodes
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.29.0.1/32"), all)
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.29.0.7/32"), all)
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.29.0.0/16"), all)
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.29.0.6/32"), []Node{nodeNamed(l, "k8c1s1"), nodeNamed(l, "k8c1s2")})
	}
	after := l.runningConfigs(t, ctx)
	for leaf, c := range baseline {
		if miss := missingLines(c, after[leaf]); len(miss) > 0 {
			t.Errorf("%s: lines of the baseline configuration are gone: %q", leaf, miss)
		}
	}

	o = runSync(t)
	mustSucceed(t, o)
	if o.Plan.HasChanges() || o.Results[0].Applied != 0 || len(o.Results[0].Messages) != 0 {
		t.Fatalf("second sync: plan %+v, result %+v", o.summary(), o.Results[0])
	}
	if again := l.runningConfigs(t, ctx); !mapsEqual(again, after) {
		t.Fatal("the second sync changed a running configuration")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSpareNodeJoinsAndLeaves: the spare node added to the cluster state
// gets its sessions after one sync; removed, its neighbor and filters go and
// nothing else changes.
func TestSpareNodeJoinsAndLeaves(t *testing.T) {
	l, ctx := e2e(t)
	mustSucceed(t, runSync(t))
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, l.nodes(false))
	}
	before := l.runningConfigs(t, ctx)

	spare := nodeNamed(l, "k8c1s3")
	o := runSync(t, filepath.Join(Dir(), "spare"))
	mustSucceed(t, o)
	if s := o.summary(); s.Create != 4 || s.Update != 2 || s.Delete != 0 {
		t.Fatalf("joining: plan %+v, want per leaf a filter and a neighbor created and maximum-paths 3 -> 4", s)
	}
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, l.nodes(true))
		l.waitNextHops(t, ctx, leaf, spare.Block, []Node{spare})
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.29.0.1/32"), l.nodes(true))
	}

	o = runSync(t)
	mustSucceed(t, o)
	if s := o.summary(); s.Create != 0 || s.Update != 2 || s.Delete != 4 {
		t.Fatalf("leaving: plan %+v", s)
	}
	after := l.runningConfigs(t, ctx)
	for _, leaf := range l.leaves() {
		if after[leaf] != before[leaf] {
			t.Errorf("%s: the configuration after the spare left differs from before it joined:\nbefore:\n%s\nafter:\n%s", leaf, before[leaf], after[leaf])
		}
		peers, err := l.Summary(ctx, leaf)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := peers[spare.Addr.String()]; ok {
			t.Errorf("%s still has neighbor %s", leaf, spare.Addr)
		}
		l.waitNextHops(t, ctx, leaf, spare.Block, nil)
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.29.0.1/32"), l.nodes(false))
	}
}

// TestForeignPrefixesRefused: a node that advertises what it does not own
// (another node's block, a longer prefix of its own block, 10.0.0.0/8) has
// it refused by both leaves; a /32 inside the service range still passes.
func TestForeignPrefixesRefused(t *testing.T) {
	l, ctx := e2e(t)
	mustSucceed(t, runSync(t))
	m0 := nodeNamed(l, "k8c1m0")
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, l.nodes(false))
		l.waitNextHops(t, ctx, leaf, m0.Block, []Node{m0})
		// By hand, to see what the node sends before the inbound policy.
		if err := l.Configure(ctx, leaf, "router bgp 63500", "address-family ipv4 unicast",
			"neighbor "+m0.Addr.String()+" soft-reconfiguration inbound"); err != nil {
			t.Fatal(err)
		}
	}
	rogue := []string{"10.0.0.0/8", "172.27.15.192/26", "172.27.114.0/27"}
	allowed := "172.29.0.99/32"
	if err := l.Rogue(ctx, m0.Name, append(rogue, allowed)...); err != nil {
		t.Fatal(err)
	}
	for _, leaf := range l.leaves() {
		err := Eventually(ctx, leaf+": every rogue prefix received from "+m0.Name, func() (bool, string, error) {
			var v struct {
				ReceivedRoutes map[string]json.RawMessage `json:"receivedRoutes"`
			}
			if err := l.JSON(ctx, leaf, "show bgp ipv4 unicast neighbors "+m0.Addr.String()+" received-routes json", &v); err != nil {
				return false, "", err
			}
			for _, p := range append(rogue, allowed) {
				if _, ok := v.ReceivedRoutes[p]; !ok {
					return false, p + " not received yet", nil
				}
			}
			return true, "", nil
		})
		if err != nil {
			t.Fatal(err)
		}
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix(allowed), []Node{m0})
		for _, p := range rogue {
			nh, err := l.NextHops(ctx, leaf, netip.MustParsePrefix(p))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(nh, m0.Addr.String()) {
				t.Errorf("%s accepted %s from %s: next hops %v", leaf, p, m0.Name, nh)
			}
		}
		// The other node's block stays where it belongs.
		l.waitNextHops(t, ctx, leaf, netip.MustParsePrefix("172.27.15.192/26"), []Node{nodeNamed(l, "k8c1s1")})
	}
}

// TestObjectsInTheWay: a neighbor configured by hand at the spare's address
// and a hand-set maximum-paths are conflicts: left alone, reported, and the
// rest of the plan still applies; a second sync sends nothing.
func TestObjectsInTheWay(t *testing.T) {
	l, ctx := e2e(t)
	spare := nodeNamed(l, "k8c1s3")
	if err := l.Configure(ctx, "leaf201", "router bgp 63500", "neighbor "+spare.Addr.String()+" remote-as 63554"); err != nil {
		t.Fatal(err)
	}
	if err := l.Configure(ctx, "leaf202", "router bgp 63500", "address-family ipv4 unicast", "maximum-paths 2"); err != nil {
		t.Fatal(err)
	}
	handMade := l.runningConfigs(t, ctx)

	o := runSync(t, filepath.Join(Dir(), "spare"))
	mustSucceed(t, o)
	var conflicts []string
	for _, f := range o.Plan.Fabrics {
		for _, c := range f.Conflicts {
			conflicts = append(conflicts, fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String())
		}
	}
	slices.Sort(conflicts)
	want := []string{"BGPPeer leaf201/192.168.9.196", "MaximumPaths leaf202/ipv4", "PrefixFilter leaf201/192.168.9.196"}
	if !slices.Equal(conflicts, want) {
		t.Fatalf("conflicts %v, want %v", conflicts, want)
	}
	after := l.runningConfigs(t, ctx)
	for leaf, c := range handMade {
		if miss := missingLines(c, after[leaf]); len(miss) > 0 {
			t.Errorf("%s: hand-made lines changed: %q", leaf, miss)
		}
	}
	for _, bad := range []string{"neighbor 192.168.9.196 description", "FR-haystack-IN-192.168.9.196", "neighbor 192.168.9.196 route-map"} {
		if strings.Contains(after["leaf201"], bad) {
			t.Errorf("leaf201 got %q although a hand-made neighbor is at that address", bad)
		}
	}
	if strings.Contains(after["leaf202"], "maximum-paths 4") || strings.Contains(after["leaf202"], "MAXPATHS") {
		t.Errorf("leaf202's hand-set maximum-paths was taken over:\n%s", after["leaf202"])
	}
	l.waitEstablished(t, ctx, "leaf202", l.nodes(true))

	o = runSync(t, filepath.Join(Dir(), "spare"))
	mustSucceed(t, o)
	if o.Plan.HasChanges() || o.Results[0].Applied != 0 {
		t.Fatalf("second sync: %+v", o.summary())
	}
}

// TestRefusedLineStopsTheSwitch: a node whose BGPPeer puts leaf201 in the
// node's own AS makes FRR refuse the neighbor's local-as line; the apply on
// leaf201 stops there with FRR's message, what went before stays (the
// neighbor already filtered), leaf202 converges.
func TestRefusedLineStopsTheSwitch(t *testing.T) {
	l, ctx := e2e(t)
	dir := t.TempDir()
	bad := `apiVersion: v1
kind: Node
metadata:
  name: k8c1x9
  annotations:
    projectcalico.org/IPv4Address: 192.168.9.199/28
    projectcalico.org/ASNumber: "63600"
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: leaf201-k8c1x9
spec:
  peerIP: 192.168.9.204
  asNumber: 63600
  node: k8c1x9
`
	if err := os.WriteFile(filepath.Join(dir, "k8c1x9.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	o := runSync(t, dir)
	if o.exit != 1 {
		t.Fatalf("sync exit %d, want 1\n%s", o.exit, o.stdout)
	}
	r := o.Results[0]
	msg := `switch leaf201 refused "neighbor 192.168.9.199 local-as 63600 no-prepend replace-as": ` +
		`% AS specified for local as is the same as the remote as and this is not allowed.`
	if r.Stage != "apply" || !strings.Contains(r.Error, msg) {
		t.Fatalf("result %+v\nwant an error with %q", r, msg)
	}
	// leaf201: 4 filters, maximum-paths and the neighbors .193-.195 went
	// through before the refused one (the last); leaf202: its 7 changes.
	if r.Applied != 15 {
		t.Fatalf("applied %d changes, want 15: %+v", r.Applied, r)
	}
	c, err := l.RunningConfig(ctx, "leaf201")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"neighbor 192.168.9.195 remote-as 63553", "neighbor 192.168.9.199 remote-as 63600",
		"neighbor 192.168.9.199 route-map FR-haystack-IN-192.168.9.199 in"} {
		if !strings.Contains(c, want) {
			t.Errorf("leaf201 lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "local-as") {
		t.Errorf("leaf201 holds a local-as:\n%s", c)
	}
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, l.nodes(false))
	}
}
