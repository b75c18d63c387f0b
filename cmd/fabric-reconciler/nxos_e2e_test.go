package main

// End-to-end tests of plan and sync with the NX-OS driver against two
// emulated Nexus leaves (test/nxossim), driven by the real command code
// (execute), the real driver and scrapligo's cisco_nxos platform. The
// configuration is examples/haystack/fabric-nxos.yaml, pointed at the
// emulators, with host keys checked against a known_hosts file.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/nxos"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var nxosLeaves = []string{"leaf201", "leaf202"}

// nxosStartup is what the network team configured on each leaf: BGP, the
// instance, a hand-made uplink neighbor with its own prefix-list.
var nxosStartup = []string{
	"feature bgp",
	"router bgp 63500",
	"router-id 192.168.9.204",
	"neighbor 192.168.9.250", "remote-as 65250", "description uplink to the core (hand-made)",
	"address-family ipv4 unicast", "prefix-list CORE-IN in", "exit", "exit", "exit",
	"ip prefix-list CORE-IN seq 5 permit 0.0.0.0/0",
}

type nxosLab struct {
	sims     map[string]*nxossim.Server
	dir      string
	config   string
	password string
	cluster  []string
}

type nxosOpts struct {
	mode            string
	sessionsTakeBGP bool
	recordConfigs   bool // nxossim.Options.RecordConfigs
}

func newNXOSLab(t testing.TB, o nxosOpts) *nxosLab {
	t.Helper()
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		t.Fatal(err)
	}
	l := &nxosLab{sims: map[string]*nxossim.Server{}, dir: t.TempDir(), password: "nxos-pw-" + hex.EncodeToString(pw),
		cluster: []string{filepath.Join(testenv.RepoRoot(), "examples", "haystack", "cluster")}}
	example, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "fabric-nxos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	replace := func(old, new string) {
		t.Helper()
		if !strings.Contains(cfg, old) {
			t.Fatalf("examples/haystack/fabric-nxos.yaml no longer contains %q", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	var hosts []string
	for i, name := range nxosLeaves {
		sim, err := nxossim.Start(nxossim.Options{Username: "admin", Password: l.password, Hostname: name,
			StartupConfig: nxosStartup, SessionAllFeatures: o.sessionsTakeBGP, RecordConfigs: o.recordConfigs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.Close() })
		l.sims[name] = sim
		hosts = append(hosts, knownhosts.Line([]string{knownhosts.Normalize(sim.Addr())}, sim.HostKey()))
		replace("address: 127.0.0.1:221"+string(rune('1'+i)), "address: "+sim.Addr())
	}
	replace("passwordFile: secrets/nxos-password", "passwordFile: "+l.write(t, "nxos-password", l.password+"\n"))
	replace("knownHostsFile: ../../test/nxossim/run/known_hosts", "knownHostsFile: "+l.write(t, "known_hosts", strings.Join(hosts, "\n")+"\n"))
	if o.mode != "" {
		replace("commitMode: checkpoint", "commitMode: "+o.mode)
	}
	l.config = l.write(t, "fabric-nxos.yaml", cfg)
	return l
}

func (l *nxosLab) write(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(l.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cli runs the command line in-process, as main would; the SSH password
// must appear in no output.
func (l *nxosLab) cli(t testing.TB, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	full := append(args, "--config", l.config)
	for _, c := range l.cluster {
		full = append(full, "--cluster-state", c)
	}
	code := execute(full, &out, &errb)
	r := cliRun{code: code, stdout: out.String(), stderr: errb.String()}
	if strings.Contains(r.stdout+r.stderr, l.password) {
		t.Fatalf("the SSH password appears in the output of %v", args)
	}
	return r
}

type nxosSync struct {
	Plan    fabric.Plan `json:"plan"`
	Results []struct {
		Name     string   `json:"name"`
		Stage    string   `json:"stage"`
		Error    string   `json:"error"`
		Applied  int      `json:"applied"`
		Messages []string `json:"messages"`
	} `json:"results"`
	code int
	raw  cliRun
}

func (l *nxosLab) sync(t *testing.T, extra ...string) nxosSync {
	t.Helper()
	r := l.cli(t, append([]string{"sync", "-o", "json", "--log-level", "debug"}, extra...)...)
	var s nxosSync
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("sync output is not JSON: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	s.code, s.raw = r.code, r
	return s
}

// body is `show running-config bgp` and `rpm` of a leaf without their
// comment headers.
func (l *nxosLab) body(t *testing.T, leaf string) string {
	t.Helper()
	b, err := l.sims[leaf].ConfigBody("bgp", "rpm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (l *nxosLab) nothingLeft(t *testing.T) {
	t.Helper()
	for _, leaf := range nxosLeaves {
		if cps, ss := l.sims[leaf].Checkpoints(), l.sims[leaf].Sessions(); len(cps)+len(ss) != 0 {
			t.Errorf("%s: left behind: checkpoints %+v, sessions %+v", leaf, cps, ss)
		}
	}
}

// keptLines fails when a line of before is missing from after.
func keptLines(t *testing.T, what, before, after string) {
	t.Helper()
	for _, line := range strings.Split(before, "\n") {
		if !strings.Contains(after, line) {
			t.Errorf("%s: line %q is gone", what, line)
		}
	}
}

// TestNXOSSyncHaystack: one sync of the haystack example makes exactly the
// golden running configuration on both leaves, in either commit mode, and
// leaves the hand-made neighbor and prefix-list as they were; the second
// sync is converged and enters no configuration mode: no checkpoint, no
// session, not one configuration line.
func TestNXOSSyncHaystack(t *testing.T) {
	for _, mode := range []string{nxos.CommitCheckpoint, nxos.CommitSession} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			// Session mode plays a switch whose sessions take BGP lines:
			// Cisco documents Session Manager for ACL and QoS only.
			l := newNXOSLab(t, nxosOpts{mode: mode, sessionsTakeBGP: mode == nxos.CommitSession})
			handMade := map[string]string{}
			for _, leaf := range nxosLeaves {
				handMade[leaf] = l.body(t, leaf)
			}
			s := l.sync(t)
			if s.code != 0 || s.Plan.Summary() != (fabric.Summary{Create: 14}) || s.Results[0].Applied != 14 {
				t.Fatalf("first sync exit %d, plan %+v, results %+v\n%s", s.code, s.Plan.Summary(), s.Results, s.raw.stderr)
			}
			for _, leaf := range nxosLeaves {
				testenv.Golden(t, "nxos/haystack-"+leaf+".running.txt", l.body(t, leaf))
				keptLines(t, leaf, handMade[leaf], l.body(t, leaf))
				l.sims[leaf].ResetLog()
			}
			l.nothingLeft(t)

			r := l.cli(t, "sync", "--log-level", "debug")
			if r.code != 0 || !strings.Contains(r.stdout, "Fabric haystack-nxos: already converged") {
				t.Fatalf("second sync exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, leaf := range nxosLeaves {
				st := l.sims[leaf].Stats()
				if st.ConfigLines != 0 || st.Checkpoints != 0 || st.SessionsStarted != 0 {
					t.Errorf("%s: the second sync configured: %+v", leaf, st)
				}
				for _, e := range l.sims[leaf].Log() {
					// Reads, the platform's on-open (terminal ...) and on-close (exit).
					if e.Mode != "" || !strings.HasPrefix(e.Line, "show ") && !strings.HasPrefix(e.Line, "terminal ") && e.Line != "exit" {
						t.Errorf("%s: the second sync typed %q in mode %q", leaf, e.Line, e.Mode)
					}
				}
			}
		})
	}
}

// TestNXOSFailingLine: a line leaf201 refuses in the middle of the plan
// leaves its running configuration exactly as before (rolled back, or the
// session aborted); the sync fails with the switch's own message; leaf202
// converges; nothing is left behind.
func TestNXOSFailingLine(t *testing.T) {
	const reply = "ERROR: peer limit reached on this line card"
	for _, mode := range []string{nxos.CommitCheckpoint, nxos.CommitSession} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			l := newNXOSLab(t, nxosOpts{mode: mode, sessionsTakeBGP: true})
			before := l.body(t, "leaf201")
			l.sims["leaf201"].SetFaults(nxossim.Faults{RejectLines: []nxossim.RejectRule{
				{Match: regexp.MustCompile(`^remote-as 63552$`), Reply: reply, AtEntry: true}}})
			s := l.sync(t)
			if s.code != 1 || s.Results[0].Stage != "apply" {
				t.Fatalf("sync exit %d, results %+v", s.code, s.Results)
			}
			where := "configure terminal"
			if mode == nxos.CommitSession {
				where = "configuration session fabric-reconciler-haystack"
			}
			want := `switch leaf201 refused "remote-as 63552" in ` + where + ": " + reply
			if !strings.Contains(s.Results[0].Error, want) {
				t.Fatalf("error %q\nwant it to contain %q", s.Results[0].Error, want)
			}
			if s.Results[0].Applied != 7 {
				t.Errorf("applied %d changes, want leaf202's 7", s.Results[0].Applied)
			}
			if after := l.body(t, "leaf201"); after != before {
				t.Fatalf("leaf201 changed:\n%s\nbefore:\n%s", after, before)
			}
			l.nothingLeft(t)
			if !strings.Contains(l.body(t, "leaf202"), "neighbor 192.168.9.195") {
				t.Error("leaf202 did not converge")
			}
		})
	}
}

// TestNXOSReconnect: the SSH connection to leaf202 drops in the middle of
// the lines; the same sync reconnects, undoes the partial change (rollback
// to the checkpoint, or abort of the session left open on the switch),
// applies again and ends converged with nothing left behind. A checkpoint
// left by a run that died mid-apply (made here by hand, with part of the
// change) is rolled back to by the next sync, which converges too.
func TestNXOSReconnect(t *testing.T) {
	for _, mode := range []string{nxos.CommitCheckpoint, nxos.CommitSession} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			l := newNXOSLab(t, nxosOpts{mode: mode, sessionsTakeBGP: true})
			l.sims["leaf202"].SetFaults(nxossim.Faults{DropAfterConfigLines: 25})
			s := l.sync(t)
			if s.code != 0 {
				t.Fatalf("sync exit %d: %+v\n%s", s.code, s.Results, s.raw.stderr)
			}
			msgs := strings.Join(s.Results[0].Messages, "\n")
			if !strings.Contains(msgs, "switch leaf202: reconnecting to recover and apply again") || l.sims["leaf202"].Stats().Drops != 1 {
				t.Fatalf("the connection was not dropped and recovered:\n%s", msgs)
			}
			l.nothingLeft(t)
			if a, b := l.body(t, "leaf201"), l.body(t, "leaf202"); a != b {
				t.Fatalf("leaf202 differs from leaf201:\n%s\n---\n%s", b, a)
			}
			if r := l.cli(t, "plan", "--detailed-exitcode"); r.code != 0 {
				t.Fatalf("not converged: plan exit %d\n%s", r.code, r.stdout)
			}
		})
	}
	t.Run("leftover checkpoint of a run that died", func(t *testing.T) {
		t.Parallel()
		l := newNXOSLab(t, nxosOpts{})
		sim := l.sims["leaf201"]
		if _, err := sim.Show("checkpoint fabric-reconciler-haystack description orchestrator:fabric-reconciler.haystack"); err != nil {
			t.Fatal(err)
		}
		if err := sim.Configure("ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0",
			"router bgp 63500", "neighbor 192.168.9.193", "description orchestrator:fabric-reconciler.haystack node=k8c1m0"); err != nil {
			t.Fatal(err)
		}
		r := l.cli(t, "plan", "-o", "native")
		if r.code != 0 || !strings.Contains(r.stdout, "! first: rollback running-config checkpoint fabric-reconciler-haystack") {
			t.Fatalf("plan -o native exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		s := l.sync(t)
		if s.code != 0 || !strings.Contains(strings.Join(s.Results[0].Messages, "\n"),
			"switch leaf201: rolled back to checkpoint fabric-reconciler-haystack, left by an interrupted apply, and deleted it") {
			t.Fatalf("sync exit %d: %+v", s.code, s.Results)
		}
		l.nothingLeft(t)
		if r := l.cli(t, "plan", "--detailed-exitcode"); r.code != 0 {
			t.Fatalf("not converged: plan exit %d\n%s", r.code, r.stdout)
		}
	})
}

// TestNXOSCraftedNames: a Node and a Service whose names carry a newline
// and a CLI line are refused (skipped from the plan, with the reason), a
// node name valid for Kubernetes but too long for NX-OS's neighbor
// description is refused by the driver, and the rest applies. Nothing
// crafted reaches a switch.
func TestNXOSCraftedNames(t *testing.T) {
	l := newNXOSLab(t, nxosOpts{})
	crafted := `apiVersion: v1
kind: Node
metadata:
  name: "k8c1x7\nrouter bgp 1"
  annotations:
    projectcalico.org/IPv4Address: 192.168.9.197/28
    projectcalico.org/ASNumber: "63557"
---
apiVersion: v1
kind: Node
metadata:
  name: k8c1-worker-with-a-rather-long-name.example.com
  annotations:
    projectcalico.org/IPv4Address: 192.168.9.198/28
    projectcalico.org/ASNumber: "63558"
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: leaf201-k8c1x7
spec:
  peerIP: 192.168.9.204
  asNumber: 63500
  node: "k8c1x7\nrouter bgp 1"
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: leaf201-long
spec:
  peerIP: 192.168.9.204
  asNumber: 63500
  node: k8c1-worker-with-a-rather-long-name.example.com
---
apiVersion: v1
kind: Service
metadata:
  name: "web\nrouter bgp 1"
  namespace: default
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  ports:
  - port: 80
    protocol: TCP
status:
  loadBalancer:
    ingress:
    - ip: 172.29.0.8
`
	l.cluster = append(l.cluster, l.write(t, "crafted.yaml", crafted))
	s := l.sync(t)
	if s.code != 1 {
		t.Fatalf("sync exit %d, want 1 (skipped objects, a refused node)", s.code)
	}
	var skipped []string
	for _, sk := range s.Plan.Skipped {
		skipped = append(skipped, sk.Object)
	}
	for _, want := range []string{"Node/k8c1x7\nrouter bgp 1", "Service/default/web\nrouter bgp 1"} {
		found := false
		for _, sk := range skipped {
			found = found || sk == want
		}
		if !found {
			t.Errorf("skipped %q lacks %q", skipped, want)
		}
	}
	// A node name NX-OS cannot describe is skipped when the plan is made,
	// with NX-OS's reason: nothing of it is planned, so nothing is refused
	// at apply time.
	reasons := map[string]string{}
	for _, sk := range s.Plan.Skipped {
		reasons[sk.Object] = sk.Reason
	}
	if why := reasons["Node/k8c1-worker-with-a-rather-long-name.example.com"]; !strings.Contains(why, "NX-OS takes 80 (node names of at most 35 characters fit)") {
		t.Errorf("the long node name's skip: %q", why)
	}
	r := s.Results[0]
	if r.Error != "" {
		t.Errorf("apply failed: %s", r.Error)
	}
	if r.Applied != 14 {
		t.Errorf("applied %d changes, want the 14 of the haystack nodes", r.Applied)
	}
	for _, leaf := range nxosLeaves {
		body := l.body(t, leaf)
		for _, bad := range []string{"router bgp 1\n", "192.168.9.197", "192.168.9.198", "k8c1x7"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s holds %q", leaf, bad)
			}
		}
		if !strings.Contains(body, "neighbor 192.168.9.195") {
			t.Errorf("%s: the rest did not apply", leaf)
		}
		for _, e := range l.sims[leaf].Log() {
			if strings.Contains(e.Line, "k8c1x7") || strings.Contains(e.Line, "rather-long") {
				t.Errorf("%s was sent %q", leaf, e.Line)
			}
		}
	}
}

// TestNXOSPlanNative: plan -o native --offline with the haystack example
// shows the NX-OS configuration it would send, framed by the run's
// checkpoint under the writer lock, and contacts no switch.
func TestNXOSPlanNative(t *testing.T) {
	cfg := filepath.Join(haystack, "fabric-nxos.yaml")
	out, errOut, code := run(t, "plan", "--offline", "-o", "native", "--config", cfg, "--cluster-state", haystackCS)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	testenv.Golden(t, "haystack-nxos.native.txt", out)
	// The checkpoints are named per run (<run>: from the run id, unknown
	// to an offline plan); the apply runs under the fabric's writer lock.
	for _, want := range []string{
		"! under the fabric's writer lock, checkpoint fabric-reconciler-haystack-lock-<run>, taken before observing",
		"checkpoint fabric-reconciler-haystack-run-<run> description orchestrator:fabric-reconciler.haystack\nconfigure terminal\n",
		"  neighbor 192.168.9.193\n    description orchestrator:fabric-reconciler.haystack node=k8c1m0\n    remote-as 63551\n",
		"end\nno checkpoint fabric-reconciler-haystack-run-<run>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("native plan lacks %q", want)
		}
	}
	// With commitMode: session the framing is the session's.
	example, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess := filepath.Join(t.TempDir(), "fabric-nxos.yaml")
	text := strings.Replace(string(example), "commitMode: checkpoint", "commitMode: session", 1)
	text = strings.Replace(text, "passwordFile: secrets/nxos-password", "passwordFile: "+filepath.Join(haystack, "secrets", "nxos-password"), 1)
	if err := os.WriteFile(sess, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, "plan", "--offline", "-o", "native", "--config", sess, "--cluster-state", haystackCS)
	if code != 0 || !strings.Contains(out, "configure session fabric-reconciler-haystack\nip prefix-list") ||
		!strings.Contains(out, "      route-map FR-haystack-IN-192.168.9.195 in\nverify\ncommit\n") {
		t.Fatalf("session framing, exit %d:\n%s%s", code, out, errOut)
	}
}

// TestNXOSNoSecretsInOutput runs every command that talks to the leaves, at
// debug level, and a login with a wrong password; the SSH password (and the
// wrong one) appear in no output (nxosLab.cli checks each run). observe's
// saved state reads back into the same plan.
func TestNXOSNoSecretsInOutput(t *testing.T) {
	l := newNXOSLab(t, nxosOpts{})
	for _, args := range [][]string{
		{"plan", "-o", "native", "--offline"},
		{"plan", "-o", "native"},
		{"plan", "-o", "json"},
		{"sync", "--log-level", "debug"},
		{"sync", "-o", "json", "--log-level", "debug"},
		{"plan", "-o", "markdown"},
	} {
		if r := l.cli(t, args...); r.code != 0 {
			t.Fatalf("%v exited %d:\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	var out, errb bytes.Buffer
	if code := execute([]string{"observe", "--config", l.config}, &out, &errb); code != 0 {
		t.Fatalf("observe exited %d: %s", code, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), l.password) {
		t.Fatal("the SSH password appears in the output of observe")
	}
	state := l.write(t, "state.json", out.String())
	if r := l.cli(t, "plan", "--fabric-state", state, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("plan from the saved observation exited %d:\n%s", r.code, r.stdout)
	}

	wrong := "wrong-" + l.password[8:]
	cfg, err := os.ReadFile(l.config)
	if err != nil {
		t.Fatal(err)
	}
	pwFile := l.write(t, "wrong-password", wrong+"\n")
	l.config = l.write(t, "wrong.yaml", regexp.MustCompile(`passwordFile: .*`).ReplaceAllString(string(cfg), "passwordFile: "+pwFile))
	r := l.cli(t, "sync", "--log-level", "debug")
	if r.code != 1 || !strings.Contains(r.stdout, "unable to authenticate") {
		t.Fatalf("sync with a wrong password exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, wrong) {
		t.Fatal("the wrong password appears in the output")
	}
}

// onenodeCluster is the haystack cluster state with its first node only (a
// partial export), in a folder of its own.
func onenodeCluster(t *testing.T) string {
	return testenv.HaystackCluster(t, func(dir string) { testenv.KeepFirstNode(t, dir) })
}

var (
	e2eBoundRouteMap = regexp.MustCompile(`(?m)^ {6}route-map (\S+) in$`)
	e2eRunCheckpoint = regexp.MustCompile(`applied under checkpoint (fabric-reconciler-haystack-run-[0-9a-f]{8})`)
)

// TestNXOSConcurrentSyncs is D3 of the safety review, end to end: `sync` of
// the haystack and `sync` of a cluster state that lost two nodes, the second
// started 50 ms after the first, against the same two leaves, three times.
// The second waits for the first's writer lock (and says so) and then
// applies its own plan: both report what they applied under their own run's
// checkpoint, nothing is rolled back, no neighbor is bound to a route-map or
// prefix-list that does not exist, nothing is left behind, and the leaves
// end as the sync that applied last wants them.
func TestNXOSConcurrentSyncs(t *testing.T) {
	one := onenodeCluster(t)
	for round := range 3 {
		l := newNXOSLab(t, nxosOpts{})
		for _, leaf := range nxosLeaves {
			l.sims[leaf].SetFaults(nxossim.Faults{CommandDelay: 2 * time.Millisecond})
		}
		type result struct {
			code           int
			stdout, stderr string
		}
		runSync := func(cluster string) result {
			var out, errb bytes.Buffer
			// onenode's BGPPeers name nodes it lacks: skipped, as the review's run.
			code := execute([]string{"sync", "-o", "json", "--allow-skips", "--config", l.config, "--cluster-state", cluster}, &out, &errb)
			return result{code, out.String(), errb.String()}
		}
		var (
			wg   sync.WaitGroup
			a, b result
		)
		wg.Add(2)
		go func() { defer wg.Done(); a = runSync(l.cluster[0]) }()
		go func() { defer wg.Done(); time.Sleep(50 * time.Millisecond); b = runSync(one) }()
		wg.Wait()
		// Exactly one sync applies. The other waits for the first's lock
		// and then finds the fabric changed since it made the plan it
		// printed: it applies nothing and says so.
		runs := map[string]int{} // the run's apply checkpoint -> neighbors it wants
		applied, refused := 0, 0
		for _, r := range []struct {
			name      string
			res       result
			neighbors int
		}{{"haystack", a, 3}, {"onenode", b, 1}} {
			if strings.Contains(r.res.stdout+r.res.stderr, l.password) {
				t.Fatal("the SSH password appears in an output")
			}
			var s nxosSync
			if err := json.Unmarshal([]byte(r.res.stdout), &s); err != nil {
				t.Fatalf("round %d: %s: %v\n%s", round, r.name, err, r.res.stderr)
			}
			if len(s.Results) != 1 {
				t.Fatalf("round %d: %s: %+v", round, r.name, s.Results)
			}
			msgs := strings.Join(s.Results[0].Messages, "\n")
			switch {
			case r.res.code == 0 && s.Results[0].Stage == "done":
				applied++
				m := e2eRunCheckpoint.FindAllStringSubmatch(msgs, -1)
				if len(m) != len(nxosLeaves) || m[0][1] != m[1][1] || strings.Contains(msgs, "rolled back") {
					t.Fatalf("round %d: %s reports:\n%s", round, r.name, msgs)
				}
				runs[m[0][1]] = r.neighbors
			case r.res.code == 1 && s.Results[0].Stage == "verify":
				refused++
				if !strings.Contains(s.Results[0].Error, "changed since the plan was made") ||
					!strings.Contains(msgs, "for the fabric's writer lock, held by ") || s.Results[0].Applied != 0 {
					t.Fatalf("round %d: %s: %+v", round, r.name, s.Results[0])
				}
			default:
				t.Fatalf("round %d: %s: exit %d %+v\n%s", round, r.name, r.res.code, s.Results, r.res.stderr)
			}
		}
		// Under load the second may also plan only after the first is done:
		// then both apply, one after the other.
		if applied+refused != 2 || applied == 0 {
			t.Fatalf("round %d: %d applied, %d refused", round, applied, refused)
		}
		for _, leaf := range nxosLeaves {
			body := l.body(t, leaf)
			for _, m := range e2eBoundRouteMap.FindAllStringSubmatch(body, -1) {
				name := regexp.QuoteMeta(m[1])
				if !regexp.MustCompile(`(?m)^route-map `+name+` permit 10$`).MatchString(body) ||
					!regexp.MustCompile(`(?m)^ip prefix-list `+name+` seq `).MatchString(body) {
					t.Fatalf("round %d: %s: a neighbor is bound to %s, which does not exist:\n%s", round, leaf, m[1], body)
				}
			}
			// The run whose apply checkpoint the switch saw last applied
			// last.
			last := ""
			for _, e := range l.sims[leaf].Log() {
				if f := strings.Fields(e.Line); len(f) > 1 && f[0] == "checkpoint" && runs[f[1]] > 0 {
					last = f[1]
				}
			}
			if got := strings.Count(body, "\n    description orchestrator:fabric-reconciler.haystack node="); got != runs[last] {
				t.Fatalf("round %d: %s has %d owned neighbors, the last sync (%s) wants %d:\n%s", round, leaf, got, last, runs[last], body)
			}
		}
		l.nothingLeft(t)
	}
}
