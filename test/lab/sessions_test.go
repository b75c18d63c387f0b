package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The session tests run the built binary against a lab of their own (they
// give its BIRD nodes passwords and stop them): namespaces "frsess-*", SSH
// on 127.0.0.1:3101/3102. Each test writes its configuration (the example's,
// pointed at this lab, with a bgp section) and its cluster state (the
// example's, with the BGPPeers naming the passwords of
// cluster-md5/bgp-passwords.yaml, and test/lab/cluster).
const (
	sessionsLab   = "frsess"
	sessionsShift = 900
)

func sessionsSetup(t *testing.T) (*Lab, context.Context) {
	t.Helper()
	l := Shared(t, sessionsLab, sessionsShift)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	if err := l.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	return l, ctx
}

// labPasswords are the BGP passwords of cluster-md5/bgp-passwords.yaml, by
// node.
func labPasswords(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), "cluster-md5", "bgp-passwords.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal(b, &s); err != nil || len(s.StringData) != 3 {
		t.Fatalf("bgp-passwords.yaml: %v %v", err, len(s.StringData))
	}
	return s.StringData
}

// sessionsConfig writes the example's configuration for this lab, with
// extra fabric settings (a bgp section, peering).
func sessionsConfig(t *testing.T, l *Lab, extra string) string {
	t.Helper()
	root := testenv.RepoRoot()
	b, err := os.ReadFile(filepath.Join(root, "examples/haystack/fabric-frr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := string(b)
	for _, r := range [][2]string{
		{"address: 127.0.0.1:2201", "address: " + l.Address("leaf201")},
		{"address: 127.0.0.1:2202", "address: " + l.Address("leaf202")},
		{"passwordFile: secrets/frr-password", "passwordFile: " + PasswordFile()},
		{"knownHostsFile: ../../test/lab/run/frlab/keys/known_hosts", "knownHostsFile: " + l.KnownHosts()},
		// The example's own session timers give way to the test's settings.
		{"  bgp:\n    keepalive: 3\n    hold: 9\n", ""},
		{"  frr:\n", extra + "  frr:\n"},
	} {
		if !strings.Contains(c, r[0]) {
			t.Fatalf("fabric-frr.yaml has no %q", r[0])
		}
		c = strings.Replace(c, r[0], r[1], 1)
	}
	p := filepath.Join(t.TempDir(), "fabric.yaml")
	if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withPasswordRefs is the example's cluster state with every BGPPeer
// naming its node's key of the lab's Secret.
func withPasswordRefs(t *testing.T) string {
	t.Helper()
	return testenv.HaystackCluster(t, func(dir string) {
		p := filepath.Join(dir, "calico.yaml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(`(?m)^    node: (k8c1\w+)$`)
		out := re.ReplaceAllString(string(b), "    node: $1\n    password: {secretKeyRef: {name: bgp-passwords, key: $1}}")
		if strings.Count(out, "secretKeyRef") != 6 {
			t.Fatalf("calico.yaml: %d BGPPeers given a password", strings.Count(out, "secretKeyRef"))
		}
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

// syncWith runs "fabric-reconciler sync" with a configuration and cluster
// state folders; no secret of the lab (the SSH password, a BGP password)
// may appear in its output or its debug log.
func syncWith(t *testing.T, cfg string, secrets []string, clusters ...string) syncOutcome {
	t.Helper()
	args := []string{"sync", "--config", cfg, "-o", "json", "--log-level", "debug", "--timeout", "60s"}
	for _, c := range clusters {
		args = append(args, "--cluster-state", c)
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
	pw, err := os.ReadFile(PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range append([]string{strings.TrimSpace(string(pw))}, secrets...) {
		if strings.Contains(o.stdout+o.stderr, s) {
			t.Fatalf("secret %d appears in the output of sync", i)
		}
	}
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		t.Fatalf("sync output is not JSON: %v (exit %d)", err, o.exit)
	}
	return o
}

// setNodePasswords gives each BIRD node its password from the Secret (on
// stdin: never on a command line).
func setNodePasswords(t *testing.T, ctx context.Context, l *Lab, pws map[string]string) {
	t.Helper()
	for node, pw := range pws {
		cmd := exec.CommandContext(ctx, filepath.Join(Dir(), "lab.sh"), "session", node)
		cmd.Env = append(os.Environ(), "LAB="+l.Name, "LAB_PORT_SHIFT="+fmt.Sprint(l.PortShift))
		cmd.Stdin = strings.NewReader(fmt.Sprintf("password %q;\n", pw))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("lab.sh session %s: %v: %s", node, err, redact(string(out), pws))
		}
	}
}

func redact(s string, pws map[string]string) string {
	for _, pw := range pws {
		s = strings.ReplaceAll(s, pw, "(sensitive)")
	}
	return s
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// state is a leaf's session state with a node ("" when it has none).
func (l *Lab) state(ctx context.Context, leaf string, n Node) (string, error) {
	peers, err := l.Summary(ctx, leaf)
	if err != nil {
		return "", err
	}
	return peers[n.Addr.String()].State, nil
}

// TestMD5Sessions: the BIRD nodes require TCP MD5 with the passwords of
// the lab's Secret. A sync whose BGPPeers name no password configures the
// leaves, and no session comes up; the sync whose BGPPeers name the Secret
// sets the passwords on the leaves (nothing else changes), and every session
// is Established, only because of that. The next sync sends nothing: the
// passwords are not sent again. No output or log holds a password.
func TestMD5Sessions(t *testing.T) {
	l, ctx := sessionsSetup(t)
	pws := labPasswords(t)
	secrets := values(pws)
	nodes := l.nodes(false)
	setNodePasswords(t, ctx, l, pws)
	cfg := sessionsConfig(t, l, "")

	o := syncWith(t, cfg, secrets, filepath.Join(testenv.RepoRoot(), "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"))
	mustSucceed(t, o)
	// BIRD retries every 5 s (connect retry time): give both sides
	// several attempts.
	time.Sleep(8 * time.Second)
	for _, leaf := range l.leaves() {
		for _, n := range nodes {
			if st, err := l.state(ctx, leaf, n); err != nil || st == "Established" {
				t.Fatalf("%s: %s is %q (%v) without the password", leaf, n.Name, st, err)
			}
		}
	}

	withPW := withPasswordRefs(t)
	md5 := filepath.Join(Dir(), "cluster-md5")
	o = syncWith(t, cfg, secrets, withPW, filepath.Join(Dir(), "cluster"), md5)
	mustSucceed(t, o)
	if s := o.summary(); s.Create != 0 || s.Update != 6 || s.Delete != 0 {
		t.Fatalf("plan %+v, want the 6 peers updated with their passwords", s)
	}
	start := time.Now()
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, nodes)
		for _, n := range nodes {
			l.waitNextHops(t, ctx, leaf, n.Block, []Node{n})
		}
	}
	t.Logf("all %d MD5 sessions Established %s after the sync", 2*len(nodes), time.Since(start).Round(time.Millisecond))
	for leaf, c := range l.runningConfigs(t, ctx) {
		for _, n := range nodes {
			if !strings.Contains(c, " neighbor "+n.Addr.String()+" password "+pws[n.Name]+"\n") {
				t.Errorf("%s: %s has not its password", leaf, n.Name)
			}
		}
	}

	o = syncWith(t, cfg, secrets, withPW, filepath.Join(Dir(), "cluster"), md5)
	mustSucceed(t, o)
	if s := o.summary(); s.Create+s.Update+s.Delete != 0 || strings.Contains(o.stderr, "line accepted") {
		t.Fatalf("the converged fabric got changes: %+v", s)
	}
}

// TestMaxPrefixCutsOff: with bgp.maxPrefix.limit 20, a node that floods
// /32s inside the service range (each passes its filter, so each counts) is
// cut off by both leaves once it sends more than 20; the other nodes keep
// their sessions.
func TestMaxPrefixCutsOff(t *testing.T) {
	l, ctx := sessionsSetup(t)
	nodes := l.nodes(false)
	cfg := sessionsConfig(t, l, "  bgp:\n    maxPrefix: {limit: 20, action: shutdown}\n")
	o := syncWith(t, cfg, nil, filepath.Join(testenv.RepoRoot(), "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"))
	mustSucceed(t, o)
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, nodes)
	}
	m0 := nodeNamed(l, "k8c1m0")
	peers, err := l.Summary(ctx, "leaf201")
	if err != nil {
		t.Fatal(err)
	}
	before := peers[m0.Addr.String()].PfxRcd
	var flood []string
	for i := 1; i <= 40; i++ {
		flood = append(flood, fmt.Sprintf("172.29.1.%d/32", i))
	}
	start := time.Now()
	if err := l.Rogue(ctx, m0.Name, flood...); err != nil {
		t.Fatal(err)
	}
	for _, leaf := range l.leaves() {
		err := Eventually(ctx, leaf+" cuts "+m0.Name+" off", func() (bool, string, error) {
			st, err := l.state(ctx, leaf, m0)
			return st != "Established", st, err
		})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]struct {
			State  string `json:"bgpState"`
			Reason string `json:"lastNotificationReason"`
			Code   string `json:"lastErrorCodeSubcode"`
		}
		if err := l.JSON(ctx, leaf, "show bgp neighbors "+m0.Addr.String()+" json", &v); err != nil {
			t.Fatal(err)
		}
		n := v[m0.Addr.String()]
		t.Logf("%s: %s cut off %s after the flood began (it had %d prefixes, the flood adds 40, the limit is 20): %s, %q",
			leaf, m0.Name, time.Since(start).Round(time.Millisecond), before, n.State, n.Reason)
		// Cease, subcode 1: "Maximum Number of Prefixes Reached" (RFC 4486).
		if n.Code != "0601" || n.State != "Idle" {
			t.Errorf("%s: %s, notification %s %q; want Idle after Cease/Maximum Number of Prefixes Reached", leaf, n.State, n.Code, n.Reason)
		}
		for _, other := range nodes {
			if other.Name == m0.Name {
				continue
			}
			if st, err := l.state(ctx, leaf, other); err != nil || st != "Established" {
				t.Errorf("%s: %s is %q (%v)", leaf, other.Name, st, err)
			}
		}
	}
	if err := l.Rogue(ctx, m0.Name); err != nil {
		t.Fatal(err)
	}
}

// TestHoldTimerDetectsDeadNode: with bgp.hold 6 (keepalive 2), a node that
// hangs (its BIRD stopped, its TCP connections still open) is declared dead
// by the leaves after about 6 s. Measured, and only bounded generously.
func TestHoldTimerDetectsDeadNode(t *testing.T) {
	const hold = 6
	l, ctx := sessionsSetup(t)
	nodes := l.nodes(false)
	cfg := sessionsConfig(t, l, fmt.Sprintf("  bgp:\n    hold: %d\n", hold))
	o := syncWith(t, cfg, nil, filepath.Join(testenv.RepoRoot(), "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"))
	mustSucceed(t, o)
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, nodes)
	}
	s1 := nodeNamed(l, "k8c1s1")
	var v map[string]struct {
		Hold      int `json:"bgpTimerHoldTimeMsecs"`
		Keepalive int `json:"bgpTimerKeepAliveIntervalMsecs"`
	}
	if err := l.JSON(ctx, "leaf201", "show bgp neighbors "+s1.Addr.String()+" json", &v); err != nil {
		t.Fatal(err)
	}
	if got := v[s1.Addr.String()]; got.Hold != hold*1000 || got.Keepalive != hold*1000/3 {
		t.Fatalf("negotiated timers %+v, want hold %d s, keepalive %d s", got, hold, hold/3)
	}
	if _, err := l.Script(ctx, "pause", s1.Name); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	t.Cleanup(func() { _, _ = l.Script(context.Background(), "resume", s1.Name) })
	detected := map[string]time.Duration{}
	for len(detected) < len(l.leaves()) {
		for _, leaf := range l.leaves() {
			if _, ok := detected[leaf]; ok {
				continue
			}
			st, err := l.state(ctx, leaf, s1)
			if err != nil {
				t.Fatal(err)
			}
			if st != "Established" {
				detected[leaf] = time.Since(start)
			}
		}
		if time.Since(start) > 5*hold*time.Second {
			t.Fatalf("the dead node is still Established after %s (hold %d s): detected %v", time.Since(start).Round(time.Millisecond), hold, detected)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, leaf := range l.leaves() {
		t.Logf("%s: dead node %s detected after %s (hold time %d s)", leaf, s1.Name, detected[leaf].Round(10*time.Millisecond), hold)
	}
	for _, n := range nodes {
		if n.Name != s1.Name {
			if st, _ := l.state(ctx, "leaf201", n); st != "Established" {
				t.Errorf("%s is %q", n.Name, st)
			}
		}
	}
}

// TestListenRangeLeaf: in listen peering each leaf carries the lab's nodes
// with one listen range and one peer-group (no line per node), with the
// fabric-wide password of bgp.passwordFile (TCP MD5 on a prefix, Linux 4.14
// and later): every node's session is Established, each block is learned,
// a prefix outside the pools and service ranges is refused. What per-node
// filtering is lost: the spare node, which is in no cluster state, peers
// too, and its block is accepted (any block of the pool is).
func TestListenRangeLeaf(t *testing.T) {
	l, ctx := sessionsSetup(t)
	const shared = "lab-md5-group-51e0c7"
	pwFile := filepath.Join(t.TempDir(), "bgp-password")
	if err := os.WriteFile(pwFile, []byte(shared+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{}
	for _, n := range l.Topology.Nodes {
		all[n.Name] = shared
	}
	setNodePasswords(t, ctx, l, all)
	cfg := sessionsConfig(t, l, "  peering: listen\n  bgp:\n    passwordFile: "+pwFile+"\n")
	o := syncWith(t, cfg, []string{shared}, filepath.Join(testenv.RepoRoot(), "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"))
	mustSucceed(t, o)
	if s := o.summary(); s.Create != 4 || s.Update != 0 || s.Delete != 0 {
		t.Fatalf("plan %+v, want per leaf a listen group and maximum-paths", s)
	}
	nodes := l.nodes(false)
	spare := nodeNamed(l, "k8c1s3")
	start := time.Now()
	for _, leaf := range l.leaves() {
		l.waitEstablished(t, ctx, leaf, append(nodes, spare))
		for _, n := range nodes {
			l.waitNextHops(t, ctx, leaf, n.Block, []Node{n})
		}
	}
	t.Logf("all sessions Established %s after the sync", time.Since(start).Round(time.Millisecond))
	const group = "FR-haystack-NODES-IPV4"
	for leaf, c := range l.runningConfigs(t, ctx) {
		if !strings.Contains(c, " bgp listen range 192.168.9.192/28 peer-group "+group+"\n") || !strings.Contains(c, " neighbor "+group+" peer-group\n") {
			t.Errorf("%s:\n%s", leaf, strings.ReplaceAll(c, shared, "(sensitive)"))
		}
		for _, n := range l.Topology.Nodes {
			if strings.Contains(c, " neighbor "+n.Addr.String()+" ") {
				t.Errorf("%s: a line for %s", leaf, n.Name)
			}
		}
	}
	// The shared filter still refuses what no node may send.
	if err := l.Rogue(ctx, "k8c1m0", "10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if nh, err := l.NextHops(ctx, "leaf201", netip.MustParsePrefix("10.0.0.0/8")); err != nil || len(nh) != 0 {
		t.Errorf("10.0.0.0/8 via %v (%v)", nh, err)
	}
	// The spare node is not in the cluster, yet it peers and its block is
	// installed: the per-node filtering listen peering gives up.
	l.waitNextHops(t, ctx, "leaf201", spare.Block, []Node{spare})

	o = syncWith(t, cfg, []string{shared}, filepath.Join(testenv.RepoRoot(), "examples/haystack/cluster"), filepath.Join(Dir(), "cluster"))
	mustSucceed(t, o)
	if s := o.summary(); s.Create+s.Update+s.Delete != 0 || strings.Contains(o.stderr, "line accepted") {
		t.Fatalf("the converged fabric got changes: %+v", s)
	}
}
