package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

const apicPassword = "bench-apic-pw"

// apic is one fresh APIC emulator holding the reference lab's baseline
// tenant, served over loopback TLS.
type apic struct {
	sim *emulator.Sim
	srv *emulator.Server
	// config is examples/haystack/fabric.yaml pointed at this emulator;
	// like is the same without transit export (see versusSection);
	// grouped groups services by namespace (apicSection).
	config, like, grouped string
}

func (e *env) startAPIC() (*apic, error) {
	sim := emulator.New(emulator.Options{Users: map[string]string{"admin": apicPassword}, Journal: true})
	seed, err := os.ReadFile(filepath.Join(e.root, "examples", "haystack", "apic-baseline.json"))
	if err != nil {
		return nil, err
	}
	if err := sim.Post("uni", seed); err != nil {
		return nil, err
	}
	srv, err := emulator.Start(sim, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &apic{sim: sim, srv: srv}
	dir, err := os.MkdirTemp(e.tmp, "apic-")
	if err != nil {
		return nil, err
	}
	pw := filepath.Join(dir, "apic-password")
	if err := os.WriteFile(pw, []byte(apicPassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(e.root, "examples", "haystack", "fabric.yaml"))
	if err != nil {
		return nil, err
	}
	cfg := string(b)
	for old, new := range map[string]string{"url: https://127.0.0.1:8443": "url: " + srv.URL, "passwordFile: secrets/apic-password": "passwordFile: " + pw} {
		if !strings.Contains(cfg, old) {
			return nil, fmt.Errorf("examples/haystack/fabric.yaml no longer holds %q", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	a.config = filepath.Join(dir, "fabric.yaml")
	if err := os.WriteFile(a.config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	// The economy rows group services by namespace: 500 services with an
	// external EPG each are refused (Cisco's verified limit is 250 per
	// L3Out), and a cluster that size would be configured so.
	if !strings.Contains(cfg, "\n  aci:\n") {
		return nil, fmt.Errorf("examples/haystack/fabric.yaml no longer has an aci section where expected")
	}
	a.grouped = filepath.Join(dir, "fabric-grouped.yaml")
	if err := os.WriteFile(a.grouped, []byte(strings.Replace(cfg, "\n  aci:\n", "\n  aci:\n    serviceGrouping: namespace\n", 1)), 0o644); err != nil {
		return nil, err
	}
	like := regexp.MustCompile(`(?m)^\s*transitExport:.*\n`).ReplaceAllString(cfg, "")
	a.like = filepath.Join(dir, "fabric-like.yaml")
	return a, os.WriteFile(a.like, []byte(like), 0o644)
}

func (a *apic) close() { a.srv.Close() }

// latency delays every request from now on by d (the emulator's latency
// fault, hitting every request until cleared).
func (a *apic) latency(d time.Duration) {
	a.sim.ClearFaults()
	if d > 0 {
		a.sim.AddFault(emulator.Fault{Kind: emulator.FaultLatency, Delay: d})
	}
}

// kinds counts a request log by kind.
type kinds struct{ login, logout, lock, get, post, other int }

func (k kinds) total() int { return k.login + k.logout + k.lock + k.get + k.post + k.other }

func (k kinds) String() string {
	return fmt.Sprintf("%d | %d | %d | %d | %d", k.login, k.lock, k.get, k.post, k.logout+k.other)
}

func countKinds(reqs []emulator.Request) kinds {
	var k kinds
	for _, r := range reqs {
		switch {
		case strings.Contains(r.Path, "aaaLogin") || strings.Contains(r.Path, "aaaRefresh"):
			k.login++
		case strings.Contains(r.Path, "aaaLogout"):
			k.logout++
		case strings.Contains(r.Path, ".lock."):
			k.lock++
		case r.Method == "GET":
			k.get++
		case r.Method == "POST":
			k.post++
		default:
			k.other++
		}
	}
	return k
}

// created counts the objects the journal shows created, by class.
func created(j []emulator.JournalEntry) map[string]int {
	out := map[string]int{}
	for _, e := range j {
		for _, c := range e.Changes {
			if c.Status == "created" && !strings.Contains(c.DN, ".lock.") {
				out[c.Class]++
			}
		}
	}
	return out
}

func classes(m map[string]int) string {
	var parts []string
	for c, v := range m {
		parts = append(parts, fmt.Sprintf("%d %s", v, c))
	}
	if len(parts) == 0 {
		return "none"
	}
	sort.Slice(parts, func(i, j int) bool { return strings.Fields(parts[i])[1] < strings.Fields(parts[j])[1] })
	return strings.Join(parts, ", ")
}

// sync runs the built binary's sync and returns its wall time.
func (e *env) sync(config string, state ...string) (time.Duration, string, error) {
	return e.syncArgs(config, nil, state...)
}

func (e *env) syncArgs(config string, extra []string, state ...string) (time.Duration, string, error) {
	args := append([]string{"sync", "--config", config}, extra...)
	for _, s := range state {
		args = append(args, "--cluster-state", s)
	}
	cmd := exec.Command(e.bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, out.String(), fmt.Errorf("sync: %v:\n%s", err, out.String())
	}
	return d, out.String(), nil
}

// services writes n LoadBalancer services (Cluster policy, one TCP port,
// an address from MetalLB's 172.29.0.0/16 pool) into a file.
func services(path string, n, from int) error {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, `- apiVersion: v1
  kind: Service
  metadata: {name: bench-%d, namespace: bench, creationTimestamp: "2024-01-01T00:00:00Z"}
  spec:
    type: LoadBalancer
    externalTrafficPolicy: Cluster
    ports: [{port: 80, protocol: TCP}]
  status: {loadBalancer: {ingress: [{ip: 172.29.%d.%d}]}}
`, i, 100+i/250, 1+i%250)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// pools writes n enabled Calico IP pools (10.<200+i/256>.<i%256>.0/24).
func pools(path string, n int) error {
	var b strings.Builder
	b.WriteString("apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- apiVersion: projectcalico.org/v3\n  kind: IPPool\n  metadata: {name: bench-%d}\n  spec: {cidr: %s, blockSize: 26, nodeSelector: all()}\n", i, subnetCIDR(i))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func subnetCIDR(i int) string { return fmt.Sprintf("10.%d.%d.0/24", 200+i/256, i%256) }

// apicSection: how many requests a sync makes with no change, one change
// and 500 changes, from the emulator's request log.
func apicSection(e *env) (string, error) {
	var b strings.Builder
	b.WriteString("\n## APIC economy: requests per `sync` (APIC emulator's request log)\n\n")
	b.WriteString("Each `sync` is a new process, so it logs in (a new token) and logs out. It takes the fabric's writer lock ")
	b.WriteString("(a vzBrCP lock object: POST, then GET to confirm the holder; GET and POST to release) and observes again under the lock before writing, for safety. ")
	b.WriteString("The configuration is the reference lab's with `serviceGrouping: namespace` (a plan giving 500 services an external EPG each is refused: Cisco's verified limit is 250 per L3Out). ")
	b.WriteString("*One change* adds one LoadBalancer service in a new namespace (its group's external EPG, /32 subnet, contract, subject, filter, consumer); *500 changes* adds 500 more in that namespace at once (their 500 /32 subnets join the group's EPG; the contract already opens their port). ")
	b.WriteString("The issue's target is 1, 2, 2 requests, plus a login when the token is new.\n\n")
	b.WriteString("| Sync | Requests | login | lock | GET | POST | logout | Target | Objects created | Wall time |\n|---|---|---|---|---|---|---|---|---|---|\n")
	runs := 3
	if e.quick {
		runs = 1
	}
	cluster := filepath.Join(e.root, "examples", "haystack", "cluster")
	one, many := filepath.Join(e.tmp, "one-service.yaml"), filepath.Join(e.tmp, "500-services.yaml")
	if err := services(one, 1, 0); err != nil {
		return "", err
	}
	if err := services(many, 500, 1); err != nil {
		return "", err
	}
	type row struct {
		name, target string
		state        []string
		wall         sample
		k            kinds
		made         map[string]int
	}
	rows := []*row{
		{name: "no change", target: "1 (+ login)", state: []string{cluster}},
		{name: "one change", target: "2 (+ login)", state: []string{cluster, one}},
		{name: "500 changes", target: "2 (+ login)", state: []string{cluster, one, many}},
	}
	for i := 0; i < runs; i++ {
		a, err := e.startAPIC()
		if err != nil {
			return b.String(), err
		}
		if _, _, err := e.sync(a.grouped, cluster); err != nil {
			a.close()
			return b.String(), err
		}
		for _, r := range rows {
			a.sim.ResetLog()
			d, _, err := e.sync(a.grouped, r.state...)
			if err != nil {
				a.close()
				return b.String(), err
			}
			r.wall = append(r.wall, ms(d))
			r.k = countKinds(a.sim.Requests())
			r.made = created(a.sim.Journal())
		}
		a.close()
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", r.name, r.k.total(), r.k, r.target, classes(r.made), r.wall.format(0, "ms"))
	}
	return b.String(), nil
}
