package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/verify"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The verify tests run on a lab of their own (its own namespaces and SSH
// ports), so that they stop and start nodes without disturbing the other
// tests' lab.
const (
	verifyLab          = "frverify"
	verifyLabPortShift = 700
)

// verifyConfig is examples/haystack/fabric-frr.yaml pointed at the verify
// lab's leaves.
func verifyConfig(t *testing.T, l *Lab) string {
	t.Helper()
	root := testenv.RepoRoot()
	b, err := os.ReadFile(filepath.Join(root, "examples/haystack/fabric-frr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, lf := range l.Topology.Leaves {
		s = strings.Replace(s, "address: 127.0.0.1:"+itoa(lf.Port), "address: "+l.Address(lf.Name), 1)
	}
	s = strings.Replace(s, "knownHostsFile: ../../test/lab/run/frlab/keys/known_hosts", "knownHostsFile: "+l.KnownHosts(), 1)
	s = strings.Replace(s, "passwordFile: secrets/frr-password", "passwordFile: "+PasswordFile(), 1)
	if !strings.Contains(s, l.KnownHosts()) || strings.Contains(s, "passwordFile: secrets/") {
		t.Fatal("examples/haystack/fabric-frr.yaml no longer has the lines this test rewrites")
	}
	p := filepath.Join(t.TempDir(), "fabric-frr.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(n int) string { return strconv.Itoa(n) }

type verifyRun struct {
	report verify.Report
	text   string
	exit   int
}

// runVerify runs the built binary's verify (JSON, then text when asked).
func runVerify(t *testing.T, ctx context.Context, cfg string, text bool) verifyRun {
	t.Helper()
	root := testenv.RepoRoot()
	args := []string{"verify", "--config", cfg, "--cluster-state", filepath.Join(root, "examples/haystack/cluster"),
		"--cluster-state", filepath.Join(Dir(), "cluster"), "--timeout", "20s"}
	exec1 := func(extra ...string) (string, int) {
		cmd := exec.CommandContext(ctx, binary(t), append(args, extra...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	out, code := exec1("-o", "json")
	var r verifyRun
	r.exit = code
	if err := json.Unmarshal([]byte(out), &r.report); err != nil {
		t.Fatalf("verify -o json: exit %d, %v\n%s", code, err, out)
	}
	if (code == 0) != r.report.OK() {
		t.Fatalf("verify exit %d with %d problems", code, r.report.Problems)
	}
	if text {
		r.text, _ = exec1()
	}
	return r
}

// waitVerify runs verify until cond holds, and returns that run and when.
func waitVerify(t *testing.T, ctx context.Context, cfg, what string, cond func(verifyRun) (bool, string)) (verifyRun, time.Time) {
	t.Helper()
	var last verifyRun
	err := Eventually(ctx, what, func() (bool, string, error) {
		last = runVerify(t, ctx, cfg, false)
		ok, why := cond(last)
		return ok, why, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return last, time.Now()
}

// sessionOf returns a node's session check on a switch.
func sessionOf(r verify.Report, sw, node string) (verify.SessionCheck, bool) {
	for _, f := range r.Fabrics {
		for _, s := range f.Switches {
			if s.Name != sw {
				continue
			}
			for _, c := range s.Sessions {
				if c.Node == node {
					return c, true
				}
			}
		}
	}
	return verify.SessionCheck{}, false
}

func routeOf(r verify.Report, sw, target string) (verify.RouteCheck, bool) {
	for _, f := range r.Fabrics {
		for _, s := range f.Switches {
			if s.Name != sw {
				continue
			}
			for _, c := range s.Routes {
				if c.Target == target {
					return c, true
				}
			}
		}
	}
	return verify.RouteCheck{}, false
}

// nodeDown is what verify must report, on both leaves, for a node whose
// BIRD is gone: its sessions down, its pod block unrouted, and every
// prefix it advertised with one next hop fewer.
func nodeDown(node, block string, local bool) func(verifyRun) (bool, string) {
	return func(v verifyRun) (bool, string) {
		for _, leaf := range []string{"leaf201", "leaf202"} {
			if s, ok := sessionOf(v.report, leaf, node); !ok || s.OK {
				return false, leaf + ": session of " + node + " still " + s.State
			}
			if b, ok := routeOf(v.report, leaf, block); !ok || b.OK || b.Problem != "no route" {
				return false, leaf + ": pod block " + block + " still routed"
			}
			for _, target := range []string{"172.29.0.0/16", "172.29.0.7", "172.29.0.1"} {
				r, ok := routeOf(v.report, leaf, target)
				if !ok || r.OK || r.Width != 2 || r.ExpectedWidth != 3 || !strings.Contains(r.Cause, "node "+node) {
					return false, leaf + ": " + target + " " + r.Problem
				}
			}
			if r, ok := routeOf(v.report, leaf, "172.29.0.6"); local && (!ok || r.OK || r.Width != 1 || r.ExpectedWidth != 2) {
				return false, leaf + ": 172.29.0.6 " + r.Problem
			}
		}
		return true, ""
	}
}

// TestVerifyFailover: verify is green after sync; a node whose BIRD stops
// (its sessions close) or freezes (silent: the leaves wait for their hold
// timer) is reported down, with one next hop fewer on every prefix it
// advertised, within the negotiated hold time; started again, verify is
// green again.
func TestVerifyFailover(t *testing.T) {
	l := Shared(t, verifyLab, verifyLabPortShift)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := l.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := verifyConfig(t, l)
	root := testenv.RepoRoot()
	sync := exec.CommandContext(ctx, binary(t), "sync", "--config", cfg, "--cluster-state", filepath.Join(root, "examples/haystack/cluster"),
		"--cluster-state", filepath.Join(Dir(), "cluster"))
	if out, err := sync.CombinedOutput(); err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}

	green := func(v verifyRun) (bool, string) {
		if v.report.OK() {
			return true, ""
		}
		return false, v.report.Fabrics[0].Error + " " + itoa(v.report.Problems) + " problems"
	}
	start := time.Now()
	v, _ := waitVerify(t, ctx, cfg, "verify green after sync", green)
	t.Logf("verify green %s after sync", time.Since(start).Round(time.Millisecond))
	s, _ := sessionOf(v.report, "leaf201", "k8c1s1")
	hold := time.Duration(s.HoldTimeSeconds) * time.Second
	if hold == 0 || s.PrefixesReceived == 0 || s.UptimeSeconds < 0 {
		t.Fatalf("session check without hold time or prefixes: %+v", s)
	}
	text := runVerify(t, ctx, cfg, true).text
	for _, want := range []string{"ok       session k8c1s1 192.168.9.194 (AS 63552): Established",
		"ok       Service/multicast/mcast 172.29.0.6 (Local): 172.29.0.6/32 via k8c1s1, k8c1s2 (2 of 2)",
		"verify: every session and route as expected"} {
		if !strings.Contains(text, want) {
			t.Errorf("verify text lacks %q:\n%s", want, text)
		}
	}

	// BIRD stops: its sessions close at once.
	if _, err := l.Script(ctx, "bird", "k8c1s1", "stop"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	v, at := waitVerify(t, ctx, cfg, "verify reports k8c1s1 down", nodeDown("k8c1s1", "172.27.15.192/26", true))
	t.Logf("k8c1s1 stopped: verify red after %s (hold time %s)", at.Sub(stopped).Round(time.Millisecond), hold)
	if at.Sub(stopped) > hold {
		t.Errorf("verify took %s to see the stopped node, more than the hold time %s", at.Sub(stopped), hold)
	}
	if v.exit != 1 {
		t.Errorf("verify exit %d, want 1", v.exit)
	}
	s, _ = sessionOf(v.report, "leaf201", "k8c1s1")
	if !strings.Contains(s.Problem, "expected Established") || !strings.Contains(s.Cause, "k8c1s1") {
		t.Errorf("session check: %+v", s)
	}
	t.Logf("verify while k8c1s1 is stopped:\n%s", runVerify(t, ctx, cfg, true).text)
	if _, err := l.Script(ctx, "bird", "k8c1s1", "start"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitVerify(t, ctx, cfg, "verify green after k8c1s1 started", green)
	t.Logf("k8c1s1 started: verify green after %s", time.Since(start).Round(time.Millisecond))

	// BIRD freezes: nothing closes; the leaves drop the sessions when
	// their hold timer runs out.
	if _, err := l.Script(ctx, "bird", "k8c1s2", "pause"); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	resumed := false
	defer func() {
		if !resumed {
			_, _ = l.Script(context.Background(), "bird", "k8c1s2", "resume")
		}
	}()
	v, at = waitVerify(t, ctx, cfg, "verify reports k8c1s2 down", nodeDown("k8c1s2", "172.27.111.192/26", true))
	t.Logf("k8c1s2 frozen: verify red after %s (hold time %s)", at.Sub(paused).Round(time.Millisecond), hold)
	// The hold timer started at the last keepalive before the freeze; one
	// verify run (well under a second) may come on top.
	if at.Sub(paused) > hold+2*time.Second {
		t.Errorf("verify took %s to see the frozen node, more than the hold time %s", at.Sub(paused), hold)
	}
	s, _ = sessionOf(v.report, "leaf201", "k8c1s2")
	if !strings.Contains(s.Cause, "Hold Timer Expired") {
		t.Errorf("the frozen node's cause does not name the hold timer: %+v", s)
	}
	if _, err := l.Script(ctx, "bird", "k8c1s2", "resume"); err != nil {
		t.Fatal(err)
	}
	resumed = true
	start = time.Now()
	waitVerify(t, ctx, cfg, "verify green after k8c1s2 resumed", green)
	t.Logf("k8c1s2 resumed: verify green after %s", time.Since(start).Round(time.Millisecond))
}
