package main

// TestFaultTable is the fault table (docs/faults.md): each
// fault and each partial input, run against a converged haystack fabric on
// the APIC emulator, two emulated NX-OS leaves and the real FRR lab. Per
// row it records what the faulted run did, how long a following normal
// sync takes to converge, and how many objects the cluster does not own
// were created, modified or deleted on the way (faults_unowned_test.go).
// The table is written as Markdown to the test's artifact folder and to
// the log; `make test-faults` prints it. docs/faults.md explains the rows.
//
// Every row must end converged with 0/0/0. A row that does not is reported
// with what went wrong and fails the test: the table is a test, not a
// benchmark, and its times are figures, never assertions.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// faultFabric is one platform under test, already converged with the
// haystack example and seeded with hand-made objects.
type faultFabric interface {
	// run runs the command line in-process with the fabric's
	// configuration and the cluster folders.
	run(t *testing.T, args []string, cluster []string) cliRun
	// unowned snapshots the objects the cluster does not own.
	unowned(t *testing.T) map[string]string
	// startLog clears the emulators' logs; logged adds what they show
	// happened to unowned objects since (nothing for the real lab).
	startLog()
	logged(t *testing.T, c changeSets)
	// useConfig edits the configuration for the faulted run; the returned
	// function puts it back.
	useConfig(t *testing.T, edit func(string) string) func()
	// locked reports whether a writer holds the fabric's lock now.
	locked() bool
}

// faultCase is one row, for each platform it names.
type faultCase struct {
	fault     string
	platforms string // "aci nxos frr"
	// faulted edits a copy of the cluster input for the faulted run, and
	// followUp for the normal syncs after it (nil: the haystack as it is).
	faulted, followUp func(t *testing.T, dir string)
	// inject arms the fault before the faulted run; the function it
	// returns is called when the run is over, ends the fault unless it
	// lasts into the follow-up, and says if it never fired (nil: nothing
	// to undo or check).
	inject func(t *testing.T, f faultFabric) func() string
	// config edits the configuration of the faulted run.
	config func(cfg string) string
	// concurrent replaces the faulted run with two syncs at once: the
	// first on the faulted input, the second on this one, started as soon
	// as the first holds the fabric's lock.
	concurrent func(t *testing.T, dir string)
	// control marks a check of the counting itself, not a row of the
	// table: inject edits hand-made objects by hand, and the row must
	// count exactly want (created, modified, deleted).
	control bool
	want    [3]int
}

// faultRow is one line of the table.
type faultRow struct {
	order              int
	platform, fault    string
	outcome            string
	converged          bool
	converge           time.Duration
	syncs              int
	created, mod, dele int
	problem            string
}

type faultTable struct {
	mu   sync.Mutex
	rows []faultRow
}

func (ft *faultTable) add(r faultRow) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.rows = append(ft.rows, r)
}

var platformNames = map[string]string{"aci": "ACI (apicsim)", "nxos": "NX-OS (nxossim)", "frr": "FRR (lab)"}

func (ft *faultTable) markdown() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	sort.SliceStable(ft.rows, func(i, j int) bool { return ft.rows[i].order < ft.rows[j].order })
	var b strings.Builder
	b.WriteString("| platform | fault | outcome of the faulted run | converge after | unowned created/modified/deleted |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range ft.rows {
		conv := "not converged"
		if r.converged {
			conv = fmt.Sprintf("%.2f s", r.converge.Seconds())
			if r.syncs > 1 {
				conv += fmt.Sprintf(" (%d syncs)", r.syncs)
			}
		}
		outcome := r.outcome
		if r.problem != "" {
			outcome += " **FAILED: " + r.problem + "**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d/%d/%d |\n", platformNames[r.platform], mdCell(r.fault), mdCell(outcome), conv, r.created, r.mod, r.dele)
	}
	return b.String()
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// The cluster inputs. Each row runs on a copy of the haystack example (for
// FRR with the lab's own service added, as test/lab does).
func haystackCopy(t *testing.T, platform string, edit func(t *testing.T, dir string)) string {
	t.Helper()
	return editedCopy(t, func(dir string) {
		if platform == "frr" {
			copyInto(t, filepath.Join(testenv.RepoRoot(), "test", "lab", "cluster", "lab-echo.yaml"), dir)
		}
		if edit != nil {
			edit(t, dir)
		}
	})
}

func copyInto(t *testing.T, file, dir string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(file)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeInput(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// spareJoins: the lab's spare node k8c1s3 joins (a Node, its two BGPPeers,
// its IPAM block): the change every infrastructure fault interrupts.
func spareJoins(t *testing.T, dir string) {
	copyInto(t, filepath.Join(testenv.RepoRoot(), "test", "lab", "spare", "k8c1s3.yaml"), dir)
}

// blockAndPort: k8c1s2 gains a second IPAM block (a filter entry on NX-OS
// and FRR) and mcast a second port (a filter entry on ACI): the other
// writer of the concurrent row.
func blockAndPort(t *testing.T, dir string) {
	writeInput(t, dir, "zz-extra-block.yaml", `apiVersion: crd.projectcalico.org/v1
kind: IPAMBlock
metadata:
  name: 172-27-112-0-26
spec:
  cidr: 172.27.112.0/26
  affinity: host:k8c1s2
  strictAffinity: false
  deleted: false
`)
	editFile(t, filepath.Join(dir, "services.yaml"), "    - port: 80\n      targetPort: 80\n      protocol: TCP\n      nodePort: 31080\n",
		"    - port: 80\n      targetPort: 80\n      protocol: TCP\n      nodePort: 31080\n    - port: 8080\n      targetPort: 8080\n      protocol: TCP\n      nodePort: 31081\n")
}

// The partial or bad inputs of the safety review (sections 1, 3 and 4).
var partialInputs = []faultCase{
	{fault: "input: no Services file", faulted: func(t *testing.T, dir string) {
		os.Remove(filepath.Join(dir, "services.yaml"))
		os.Remove(filepath.Join(dir, "lab-echo.yaml"))
	}},
	{fault: "input: the node file holds 1 of 3 nodes", faulted: func(t *testing.T, dir string) { testenv.KeepFirstNode(t, dir) }},
	{fault: "input: no IPAM blocks file", faulted: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ipam.yaml")) }},
	{fault: "input: no BGPConfiguration", faulted: func(t *testing.T, dir string) {
		editFile(t, filepath.Join(dir, "calico.yaml"), `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: false
  # LoadBalancer addresses are assigned by MetalLB and advertised by Calico.
  serviceLoadBalancerIPs:
  - cidr: 172.29.0.0/16
---
`, "")
	}},
	{fault: "input: a node's AS annotation is malformed", faulted: func(t *testing.T, dir string) {
		editFile(t, filepath.Join(dir, "nodes.yaml"), `ASNumber: "63553"`, `ASNumber: "63553x"`)
	}},
	{fault: "input: a Service with one bad field", faulted: func(t *testing.T, dir string) {
		editFile(t, filepath.Join(dir, "services.yaml"), "externalTrafficPolicy: Local", "externalTrafficPolicy: local")
	}},
	{fault: "input: a BGPConfiguration with one bad CIDR", faulted: func(t *testing.T, dir string) {
		editFile(t, filepath.Join(dir, "calico.yaml"), "  - cidr: 172.29.0.0/16\n", "  - cidr: 172.29.0.0/16\n  - cidr: 172.30.0.0/33\n")
	}},
	{fault: "input: a new node claims an established node's BGP address", faulted: func(t *testing.T, dir string) {
		writeInput(t, dir, "zz-newcomer.yaml", `apiVersion: v1
kind: Node
metadata:
  name: k8c1x1
  creationTimestamp: "2025-01-01T00:00:00Z"
  annotations:
    projectcalico.org/IPv4Address: 192.168.9.193/28
    projectcalico.org/ASNumber: "63560"
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: leaf201-k8c1x1
spec:
  peerIP: 192.168.9.204
  asNumber: 63500
  node: k8c1x1
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: leaf202-k8c1x1
spec:
  peerIP: 192.168.9.205
  asNumber: 63500
  node: k8c1x1
`)
	}},
	{fault: "input: an IP pool and serviceLoadBalancerIPs of 0.0.0.0/0", faulted: func(t *testing.T, dir string) {
		writeInput(t, dir, "zz-everything.yaml", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: everything}\nspec: {cidr: 0.0.0.0/0, blockSize: 26}\n")
		editFile(t, filepath.Join(dir, "calico.yaml"), "  - cidr: 172.29.0.0/16\n", "  - cidr: 172.29.0.0/16\n  - cidr: 0.0.0.0/0\n")
	}},
	{fault: "input: a new same-named Service in an earlier namespace", faulted: func(t *testing.T, dir string) {
		writeInput(t, dir, "zz-namesake.yaml", `apiVersion: v1
kind: Service
metadata: {name: mcast, namespace: aaa, creationTimestamp: "2025-01-01T00:00:00Z"}
spec: {type: LoadBalancer, externalTrafficPolicy: Cluster, ports: [{port: 22, protocol: TCP}]}
status: {loadBalancer: {ingress: [{ip: 172.29.0.99}]}}
`)
	}},
	{fault: "input: the same Node twice with different content", faulted: func(t *testing.T, dir string) {
		writeInput(t, dir, "nodes-old.yaml", `apiVersion: v1
kind: Node
metadata:
  name: k8c1s2
  annotations:
    projectcalico.org/IPv4Address: 192.168.9.195/28
    projectcalico.org/ASNumber: "63551"
`)
	}},
}

// The infrastructure faults: each interrupts the spare node joining; the
// follow-up syncs finish the join.
var infraFaults = []faultCase{
	{fault: "APIC 503 burst (2, Retry-After: 1)", platforms: "aci", inject: apicFault(emulator.Fault{Kind: emulator.FaultThrottle, Times: 2, RetryAfter: "1"})},
	{fault: "APIC 429 burst (2, Retry-After: 1)", platforms: "aci", inject: apicFault(emulator.Fault{Kind: emulator.FaultThrottle, Status: 429, Times: 2, RetryAfter: "1"})},
	{fault: "APIC 429 on every POST (past every retry)", platforms: "aci", inject: apicFault(emulator.Fault{Kind: emulator.FaultThrottle, Status: 429, RetryAfter: "0"})},
	{fault: "APIC token expires mid-sync (403 Token timeout on the POST)", platforms: "aci", inject: apicFault(emulator.Fault{Kind: emulator.FaultTokenTimeout, Times: 1})},
	{fault: "TCP reset during the POST", platforms: "aci", inject: apicFault(emulator.Fault{Kind: emulator.FaultReset, Times: 1})},
	{fault: "APIC commits, then the connection resets", platforms: "aci", inject: apicFault(emulator.Fault{Kind: emulator.FaultResetAfterCommit, Times: 1})},
	{fault: "APIC commits, then answers after the client's 2 s timeout", platforms: "aci",
		inject: apicFault(emulator.Fault{Kind: emulator.FaultLatencyAfterCommit, Times: 1, Delay: 4 * time.Second}),
		config: func(cfg string) string {
			return strings.Replace(cfg, "      username: admin\n", "      username: admin\n      timeout: 2s\n", 1)
		}},
	{fault: "APIC unreachable for 3 s from the POST on (every request reset)", platforms: "aci", inject: apicUnreachable},
	{fault: "SSH drop between two configuration lines", platforms: "nxos frr", inject: sshDrop},
	{fault: "FRR bgpd restarts during the apply (watchfrr: saved config reloaded)", platforms: "frr", inject: bgpdRestart},
	{fault: "switch unreachable for 3 s from a drop mid-apply", platforms: "nxos frr", inject: switchUnreachable},
	{fault: "two concurrent syncs (node joins / block and port added)", platforms: "aci nxos frr", concurrent: blockAndPort, inject: slowWriter},
}

// countingControls edit hand-made objects by hand while a row runs: the
// counts must see exactly those edits, or the zeros of the table mean
// nothing.
var countingControls = []faultCase{
	{fault: "control: hand edits", platforms: "aci nxos frr", control: true, want: [3]int{0, 1, 2}, inject: handEdits},
}

// handEdits changes one hand-made object and deletes two (ACI: the uplink
// neighbor's description; the hand-made filter and its entry. The uplink
// neighbor is not deleted: it holds three objects, the APIC's own
// prefix-policy relation among them. NX-OS and FRR, on leaf201: the uplink
// neighbor's remote-as; the hand-made prefix-list and the route-map's
// match line).
func handEdits(t *testing.T, ff faultFabric) func() string {
	switch f := ff.(type) {
	case *aciFaults:
		path := tenantDN + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]"
		for _, edit := range []string{
			`{"bgpPeerP":{"attributes":{"dn":"` + path + `/peerP-[192.168.9.250]","descr":"edited by hand"}}}`,
			`{"vzFilter":{"attributes":{"dn":"` + tenantDN + `/flt-HAND_flt","status":"deleted"}}}`,
		} {
			if err := f.l.sim.Post("", []byte(edit)); err != nil {
				t.Fatal(err)
			}
		}
	case *nxosFaults:
		if err := f.l.sims["leaf201"].Configure("router bgp 63500", "neighbor 192.168.9.250", "remote-as 65251", "exit", "exit",
			"no ip prefix-list HAND-PL", "route-map HAND-RM permit 10", "no match ip address prefix-list HAND-PL"); err != nil {
			t.Fatal(err)
		}
	case *frrFaults:
		if err := f.lab.Configure(f.ctx, "leaf201", "router bgp 63500", "neighbor 192.168.9.206 remote-as 65001", "exit",
			"no ip prefix-list HAND-PL", "route-map HAND-RM permit 10", "no match ip address prefix-list HAND-PL"); err != nil {
			t.Fatal(err)
		}
	}
	return nil
}

func allFaultCases() []faultCase {
	var out []faultCase
	for _, c := range infraFaults {
		c.faulted, c.followUp = spareJoins, spareJoins
		if c.concurrent != nil {
			c.followUp = nil // back to the haystack: both writers' changes undone
		}
		out = append(out, c)
	}
	for _, c := range partialInputs {
		c.platforms = "aci nxos frr"
		out = append(out, c)
	}
	return append(out, countingControls...)
}

// apicFault injects a fault into the tenant's configuration POSTs.
func apicFault(f emulator.Fault) func(t *testing.T, ff faultFabric) func() string {
	return func(t *testing.T, ff faultFabric) func() string {
		sim := ff.(*aciFaults).l.sim
		f.Method, f.PathPrefix = "POST", "/api/mo/"+tenantDN+".json"
		sim.AddFault(f)
		return func() string {
			sim.ClearFaults()
			return firedOr(sim.Counters().FaultsFired > 0)
		}
	}
}

func firedOr(fired bool) string {
	if fired {
		return ""
	}
	return "the fault never fired"
}

// outage starts, once fired reports true, an outage that heal ends after
// 3 s. The function it returns stops waiting for the fault to fire and
// reports whether it did; the outage goes on into the follow-up syncs, as
// it would in life, and the row waits for its end before finishing.
func outage(t *testing.T, fired func() bool, heal func()) func() string {
	done := make(chan struct{})
	ended := make(chan struct{})
	t.Cleanup(func() { <-ended })
	go func() {
		defer close(ended)
		for !fired() {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		time.Sleep(3 * time.Second)
		heal()
	}()
	return func() string {
		close(done)
		return firedOr(fired())
	}
}

// apicUnreachable resets every request from the configuration POST on (the
// sixth request of a sync that changes something: login, observe, lock
// write and read-back, observe again, POST), for 3 s after the first reset.
func apicUnreachable(t *testing.T, ff faultFabric) func() string {
	sim := ff.(*aciFaults).l.sim
	sim.AddFault(emulator.Fault{Kind: emulator.FaultReset, Skip: 5})
	stop := outage(t, func() bool { return sim.Counters().FaultsFired > 0 }, sim.ClearFaults)
	t.Cleanup(sim.ClearFaults)
	return stop
}

// slowWriter makes the APIC take 300 ms to answer the first configuration
// POST, so that the first writer holds the lock long enough for the second
// to observe the fabric before the first has changed it (a sync takes
// 30 ms against the emulator otherwise). The switches are slow enough.
func slowWriter(t *testing.T, ff faultFabric) func() string {
	if _, ok := ff.(*aciFaults); ok {
		return apicFault(emulator.Fault{Kind: emulator.FaultLatency, Times: 1, Delay: 300 * time.Millisecond})(t, ff)
	}
	return nil
}

// sshDrop cuts the SSH connection to one leaf after the third line of the
// apply.
func sshDrop(t *testing.T, ff faultFabric) func() string {
	switch f := ff.(type) {
	case *nxosFaults:
		sim := f.l.sims["leaf202"]
		sim.SetFaults(nxossim.Faults{DropAfterConfigLines: 3})
		return func() string {
			sim.SetFaults(nxossim.Faults{})
			return firedOr(sim.Stats().Drops > 0)
		}
	case *frrFaults:
		return f.cutMidApply(t, 0)
	}
	t.Fatalf("sshDrop: %T", ff)
	return nil
}

// switchUnreachable drops the connection mid-apply, then refuses every new
// one for 3 s.
func switchUnreachable(t *testing.T, ff faultFabric) func() string {
	switch f := ff.(type) {
	case *nxosFaults:
		sim := f.l.sims["leaf202"]
		sim.SetFaults(nxossim.Faults{DropAfterConfigLines: 3, UnreachableAfterDrop: true})
		return outage(t, func() bool { return sim.Stats().Drops > 0 }, func() { sim.SetFaults(nxossim.Faults{}) })
	case *frrFaults:
		return f.cutMidApply(t, 3*time.Second)
	}
	t.Fatalf("switchUnreachable: %T", ff)
	return nil
}

// syncJSON is `sync -o json`.
type syncJSON struct {
	Plan    fabric.Plan `json:"plan"`
	Results []struct {
		Name       string   `json:"name"`
		Stage      string   `json:"stage"`
		Error      string   `json:"error"`
		Applied    int      `json:"applied"`
		Messages   []string `json:"messages"`
		InPlace    *int     `json:"inPlace"`
		NotInPlace *int     `json:"notInPlace"`
	} `json:"results"`
}

// timedRun runs a command and notes its duration in its output, for
// describe.
func timedRun(t *testing.T, f faultFabric, args []string, cluster string) cliRun {
	start := time.Now()
	r := f.run(t, args, []string{cluster})
	r.stderr += fmt.Sprintf("\n(run took %.2f s)", time.Since(start).Seconds())
	return r
}

var tookRe = regexp.MustCompile(`\(run took ([0-9.]+ s)\)`)

// describe is the table's short phrase for a sync run.
func describe(r cliRun) string {
	var s syncJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || len(s.Plan.Fabrics) != 1 || len(s.Results) != 1 {
		return fmt.Sprintf("exit %d: %s", r.code, firstLineOf(r.stdout+r.stderr))
	}
	fp, res := s.Plan.Fabrics[0], s.Results[0]
	msgs := strings.Join(res.Messages, "\n")
	var parts []string
	sum := fp.Summary()
	switch {
	case fp.Error != "":
		parts = append(parts, "failed to observe, nothing planned")
	case fp.Refused != "":
		parts = append(parts, fmt.Sprintf("refused (%s), nothing changed", shortReason(fp.Refused)))
	case res.Stage == "verify" && strings.Contains(res.Error, "changed since the plan was made"):
		parts = append(parts, "refused after the lock: the fabric changed since its plan, nothing changed")
	case res.Error != "":
		p := "failed at " + res.Stage
		if strings.Contains(res.Error, "outcome is unknown") || strings.Contains(res.Error, "outcome unknown") {
			p += " (outcome unknown)"
		}
		switch {
		case res.InPlace != nil:
			p += fmt.Sprintf("; observed after: %d of %s in place", *res.InPlace, plural(*res.InPlace+*res.NotInPlace, "change"))
		case res.Applied > 0:
			p += fmt.Sprintf("; %s applied", plural(res.Applied, "change"))
		case res.Stage == "verify" || res.Stage == "lock" || res.Stage == "observe":
			p += ", nothing changed"
		}
		parts = append(parts, p)
	case sum.Total() == 0 && len(fp.Held) == 0:
		parts = append(parts, "nothing to change")
	case sum.Total() == 0:
		parts = append(parts, fmt.Sprintf("held %s, nothing changed", plural(len(fp.Held), "change")))
	default:
		p := fmt.Sprintf("converged in the same run (%s)", changeCount(sum))
		if len(fp.Held) > 0 {
			p = fmt.Sprintf("applied %s, held %d", changeCount(sum), len(fp.Held))
		}
		parts = append(parts, p)
	}
	reconnect := "reconnected"
	if r.code != 0 {
		reconnect = "could not reconnect"
	}
	for _, q := range []struct{ marker, what string }{
		{"for the fabric's writer lock", "waited for the lock"},
		{"reconnecting", reconnect},
		{"rolled back", "rolled back"},
		{"releasing the fabric's lock failed", "its lock left behind"},
	} {
		if strings.Contains(msgs, q.marker) || strings.Contains(res.Error, q.marker) {
			parts = append(parts, q.what)
		}
	}
	if n := len(s.Plan.Skipped); n > 0 {
		parts = append(parts, plural(n, "input object")+" skipped")
	}
	if n := len(fp.Conflicts); n > 0 {
		parts = append(parts, plural(n, "conflict")+" left alone")
	}
	took := ""
	if m := tookRe.FindStringSubmatch(r.stderr); m != nil {
		took = " in " + m[1]
	}
	return fmt.Sprintf("exit %d%s: %s", r.code, took, strings.Join(parts, ", "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func changeCount(s fabric.Summary) string {
	var p []string
	for _, c := range []struct {
		n    int
		what string
	}{{s.Create, "created"}, {s.Update, "changed"}, {s.Delete, "deleted"}} {
		if c.n > 0 {
			p = append(p, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(p, ", ")
}

var reasonCut = regexp.MustCompile(`[:;(]`)

func shortReason(s string) string {
	if loc := reasonCut.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	return strings.TrimSpace(s)
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// followUpDeadline bounds how long the normal syncs after a fault may take
// to converge before the row is reported as not converging.
const followUpDeadline = 90 * time.Second

// runFaultRow runs one row on a converged, seeded fabric.
func runFaultRow(t *testing.T, platform string, c faultCase, f faultFabric, check func(t *testing.T, cluster string) string) faultRow {
	row := faultRow{platform: platform, fault: c.fault}
	faulted := haystackCopy(t, platform, c.faulted)
	follow := haystackCopy(t, platform, c.followUp)

	before := f.unowned(t)
	f.startLog()
	restoreConfig := func() {}
	if c.config != nil {
		restoreConfig = f.useConfig(t, c.config)
	}
	stop := func() string { return "" }
	if c.inject != nil {
		if s := c.inject(t, f); s != nil {
			stop = s
		}
	}
	syncArgs := []string{"sync", "-o", "json", "--timeout", "60s"}
	if c.concurrent != nil {
		second := haystackCopy(t, platform, c.concurrent)
		var a, b cliRun
		var wg sync.WaitGroup
		wg.Add(2)
		firstDone := make(chan struct{})
		go func() { defer wg.Done(); defer close(firstDone); a = timedRun(t, f, syncArgs, faulted) }()
		overlapped := false
	wait:
		for {
			select {
			case <-firstDone:
				break wait
			case <-time.After(time.Millisecond):
				if overlapped = f.locked(); overlapped {
					break wait
				}
			}
		}
		go func() { defer wg.Done(); b = timedRun(t, f, syncArgs, second) }()
		wg.Wait()
		if !overlapped {
			row.problem = "the first sync ended before it was seen holding the lock: the syncs did not overlap"
		}
		t.Logf("first sync:\n%s\n%s\nsecond sync:\n%s\n%s", a.stdout, a.stderr, b.stdout, b.stderr)
		row.outcome = "first: " + describe(a) + "; second, started while the first held the lock: " + describe(b)
	} else {
		r := timedRun(t, f, syncArgs, faulted)
		t.Logf("faulted sync:\n%s\n%s", r.stdout, r.stderr)
		row.outcome = describe(r)
	}
	row.problem = joinProblems(row.problem, stop())
	restoreConfig()
	mid := f.unowned(t)

	start := time.Now()
	for {
		row.syncs++
		r := f.run(t, syncArgs, []string{follow})
		row.converge = time.Since(start)
		if r.code == 0 {
			if p := f.run(t, []string{"plan", "--detailed-exitcode"}, []string{follow}); p.code == 0 {
				row.converged = true
				break
			} else {
				t.Logf("sync %d exited 0 but the plan still has changes:\n%s", row.syncs, p.stdout)
			}
		} else {
			t.Logf("follow-up sync %d exited %d:\n%s\n%s", row.syncs, r.code, r.stdout, r.stderr)
		}
		if time.Since(start) > followUpDeadline {
			row.problem = joinProblems(row.problem, fmt.Sprintf("not converged after %d syncs in %s: %s", row.syncs, time.Since(start).Round(time.Second), describe(r)))
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if row.converged && check != nil {
		row.problem = joinProblems(row.problem, check(t, follow))
	}

	changes := newChangeSets()
	changes.sequence([]map[string]string{before, mid, f.unowned(t)})
	f.logged(t, changes)
	row.created, row.mod, row.dele = changes.counts()
	if [3]int{row.created, row.mod, row.dele} != c.want {
		row.problem = joinProblems(row.problem, fmt.Sprintf("unowned objects touched (want %d/%d/%d): %s", c.want[0], c.want[1], c.want[2], changes))
	}
	if row.problem != "" {
		t.Errorf("%s on %s: %s (outcome: %s)", c.fault, platform, row.problem, row.outcome)
	}
	return row
}

func joinProblems(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// TestFaultTable runs every row and writes the table.
func TestFaultTable(t *testing.T) {
	table := &faultTable{}
	cases := allFaultCases()
	order := func(platform string, i int) int {
		return map[string]int{"aci": 0, "nxos": 1, "frr": 2}[platform]*1000 + i
	}
	start := time.Now()
	t.Run("rows", func(t *testing.T) {
		for _, platform := range []string{"aci", "nxos"} {
			t.Run(platform, func(t *testing.T) {
				t.Parallel()
				for i, c := range cases {
					if !strings.Contains(c.platforms, platform) {
						continue
					}
					t.Run(c.fault, func(t *testing.T) {
						t.Parallel()
						var f faultFabric
						if platform == "aci" {
							f = newACIFaults(t)
						} else {
							f = newNXOSFaults(t)
						}
						row := runFaultRow(t, platform, c, f, nil)
						row.order = order(platform, i)
						if !c.control {
							table.add(row)
						}
					})
				}
			})
		}
		t.Run("frr", func(t *testing.T) {
			t.Parallel()
			f := newFRRFaults(t)
			for i, c := range cases {
				if !strings.Contains(c.platforms, "frr") {
					continue
				}
				t.Run(c.fault, func(t *testing.T) {
					f.converge(t)
					row := runFaultRow(t, "frr", c, f, f.routesCheck)
					row.order = order("frr", i)
					if !c.control {
						table.add(row)
					}
				})
			}
		})
	})
	md := table.markdown()
	md += fmt.Sprintf("\n%d rows in %s.\n", len(table.rows), time.Since(start).Round(time.Second))
	path := filepath.Join(t.ArtifactDir(), "fault-table.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("fault table (%s):\n%s", path, md)
}

// aciFaults is the haystack tenant on a journaling APIC emulator.
type aciFaults struct {
	l      *aciLab
	config string
}

func newACIFaults(t *testing.T) *aciFaults {
	l := newACILab(t, labOpts{emu: emulator.Options{Journal: true}})
	f := &aciFaults{l: l, config: l.config}
	converge(t, f, haystackCopy(t, "aci", nil))
	// Hand-made objects, unmarked: a neighbor on leaf201's interface, a
	// subnet inside a service EPG the cluster owns, an entry inside that
	// service's owned filter (both make the dashboard's objects conflicts,
	// frozen as they are), and a filter of the network team's.
	l3 := tenantDN + "/out-L3O_K8_C1"
	path := l3 + "/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]"
	for _, seed := range []string{
		`{"bgpPeerP":{"attributes":{"dn":"` + path + `/peerP-[192.168.9.250]","descr":"uplink to the core (hand-made)"},"children":[{"bgpAsP":{"attributes":{"asn":"65250"}}}]}}`,
		`{"l3extSubnet":{"attributes":{"dn":"` + l3 + `/instP-EPG_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD/extsubnet-[10.50.0.0/16]","scope":"import-security"}}}`,
		`{"vzEntry":{"attributes":{"dn":"` + tenantDN + `/flt-CNT_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD_flt/e-hand-ssh","etherT":"ip","prot":"tcp","dFromPort":"22","dToPort":"22"}}}`,
		`{"vzFilter":{"attributes":{"dn":"` + tenantDN + `/flt-HAND_flt","descr":"hand-made"},"children":[{"vzEntry":{"attributes":{"name":"https","etherT":"ip","prot":"tcp","dFromPort":"443","dToPort":"443"}}}]}}`,
	} {
		if err := l.sim.Post("", []byte(seed)); err != nil {
			t.Fatalf("seed %s: %v", seed, err)
		}
	}
	if p := f.run(t, []string{"plan", "--detailed-exitcode"}, []string{haystackCopy(t, "aci", nil)}); p.code != 0 {
		t.Fatalf("the hand-made objects make the converged tenant plan changes (exit %d):\n%s", p.code, p.stdout)
	}
	return f
}

func (f *aciFaults) run(t *testing.T, args []string, cluster []string) cliRun {
	return runCLI(args, f.config, cluster)
}

func (f *aciFaults) unowned(t *testing.T) map[string]string {
	return aciUnowned(f.l.sim.Dump(tenantDN))
}
func (f *aciFaults) startLog()                         { f.l.sim.ResetLog() }
func (f *aciFaults) logged(t *testing.T, c changeSets) { c.aciJournal(f.l.sim.Journal()) }

func (f *aciFaults) locked() bool {
	_, _, ok := f.l.sim.Lookup(tenantDN + "/brc-fabric-reconciler.lock.haystack")
	return ok
}

func (f *aciFaults) useConfig(t *testing.T, edit func(string) string) func() {
	old := f.config
	f.config = editedConfig(t, old, edit)
	return func() { f.config = old }
}

// nxosFaults is the two emulated leaves, recording every configuration.
type nxosFaults struct {
	l      *nxosLab
	config string
}

func newNXOSFaults(t *testing.T) *nxosFaults {
	l := newNXOSLab(t, nxosOpts{recordConfigs: true})
	f := &nxosFaults{l: l, config: l.config}
	converge(t, f, haystackCopy(t, "nxos", nil))
	// Hand-made, besides the start-up configuration's uplink neighbor and
	// its CORE-IN prefix-list: a prefix-list and a route-map of the
	// network team's, and another cluster's filter at a node's address.
	for _, leaf := range nxosLeaves {
		if err := l.sims[leaf].Configure(
			"ip prefix-list HAND-PL seq 5 permit 10.99.0.0/16",
			"route-map HAND-RM permit 10", "match ip address prefix-list HAND-PL", "exit",
			"ip prefix-list FR-haystack2-IN-192.168.9.193 seq 5 permit 172.27.114.0/26"); err != nil {
			t.Fatal(err)
		}
	}
	if p := f.run(t, []string{"plan", "--detailed-exitcode"}, []string{haystackCopy(t, "nxos", nil)}); p.code != 0 {
		t.Fatalf("the hand-made objects make the converged leaves plan changes (exit %d):\n%s", p.code, p.stdout)
	}
	return f
}

func (f *nxosFaults) run(t *testing.T, args []string, cluster []string) cliRun {
	return runCLI(args, f.config, cluster)
}

func (f *nxosFaults) unowned(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, leaf := range nxosLeaves {
		h := f.l.sims[leaf].ConfigHistory()
		for k, v := range cliUnowned(leaf, h[len(h)-1]) {
			out[k] = v
		}
	}
	return out
}

func (f *nxosFaults) startLog() {
	for _, leaf := range nxosLeaves {
		f.l.sims[leaf].ResetLog()
	}
}

// logged walks every configuration the leaves went through.
func (f *nxosFaults) logged(t *testing.T, c changeSets) {
	for _, leaf := range nxosLeaves {
		var states []map[string]string
		for _, cfg := range f.l.sims[leaf].ConfigHistory() {
			states = append(states, cliUnowned(leaf, cfg))
		}
		c.sequence(states)
	}
}

func (f *nxosFaults) locked() bool {
	for _, cp := range f.l.sims["leaf201"].Checkpoints() {
		if strings.HasPrefix(cp.Name, "fabric-reconciler-haystack-lock-") {
			return true
		}
	}
	return false
}

func (f *nxosFaults) useConfig(t *testing.T, edit func(string) string) func() {
	old := f.config
	f.config = editedConfig(t, old, edit)
	return func() { f.config = old }
}

// runCLI runs a command line in-process with a configuration and cluster
// folders.
func runCLI(args []string, config string, cluster []string) cliRun {
	full := append(append([]string(nil), args...), "--config", config)
	for _, c := range cluster {
		full = append(full, "--cluster-state", c)
	}
	var out, errb strings.Builder
	code := execute(full, &out, &errb)
	return cliRun{code: code, stdout: out.String(), stderr: errb.String()}
}

func editedConfig(t *testing.T, path string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "faulted-"+filepath.Base(path))
	edited := edit(string(b))
	if edited == string(b) {
		t.Fatal("test bug: the configuration edit changed nothing")
	}
	if err := os.WriteFile(out, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// converge syncs the haystack and checks that a plan then has nothing to do.
func converge(t *testing.T, f faultFabric, cluster string) {
	t.Helper()
	r := f.run(t, []string{"sync"}, []string{cluster})
	if r.code != 0 {
		t.Fatalf("converging: sync exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if p := f.run(t, []string{"plan", "--detailed-exitcode"}, []string{cluster}); p.code != 0 {
		t.Fatalf("converging: the plan after sync still has changes (exit %d):\n%s", p.code, p.stdout)
	}
}
