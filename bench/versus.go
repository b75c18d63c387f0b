package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The like-for-like workload: 500 external EPG subnets (10.200.0.0/24 ...,
// scope import-security) written into one external EPG that already exists.
const versusSubnets = 500

const playbookHead = `- hosts: apic
  gather_facts: false
  module_defaults:
    group/cisco.aci.all:
      host: 127.0.0.1
      port: "{{ apic_port }}"
      username: admin
      password: "{{ apic_password }}"
      validate_certs: false
      use_proxy: false
  tasks:
`

// (a) one aci_l3out_extsubnet task per subnet, as a loop.
const loopPlaybook = playbookHead + `    - name: external subnets, one task each
      cisco.aci.aci_l3out_extsubnet:
        tenant: TEN_K8_C1
        l3out: L3O_K8_C1
        extepg: "{{ epg }}"
        network: "10.{{ 200 + item // 256 }}.{{ item % 256 }}.0/24"
        scope: [import-security]
      loop: "{{ range(0, n | int) | list }}"
`

// (b) one aci_rest POST carrying every subnet.
const restPlaybook = playbookHead + `    - name: external subnets, one batched POST
      cisco.aci.aci_rest:
        path: "/api/mo/uni/tn-TEN_K8_C1/out-L3O_K8_C1/instP-{{ epg }}.json"
        method: post
        content: "{{ lookup('file', payload) }}"
`

var recapRe = regexp.MustCompile(`ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// playbook runs one playbook against the emulator and returns its wall time.
func (e *env) playbook(dir, file string, a *apic, vars ...string) (time.Duration, error) {
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		return 0, fmt.Errorf("ansible-playbook is not installed: run make setup (Debian package ansible, scripts/apt-needs.d/aci.txt)")
	}
	port := a.srv.URL[strings.LastIndexByte(a.srv.URL, ':')+1:]
	args := []string{file, "-e", "apic_port=" + port, "-e", "apic_password=" + apicPassword}
	for _, v := range vars {
		args = append(args, "-e", v)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	home := filepath.Join(dir, "home")
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(dir, "ansible.cfg"), "ANSIBLE_LOCAL_TEMP="+home, "ANSIBLE_REMOTE_TEMP="+home,
		"ANSIBLE_NOCOLOR=1", "HOME="+home, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	m := recapRe.FindSubmatch(out)
	if err != nil || m == nil || string(m[4]) != "0" || string(m[3]) != "0" {
		return d, fmt.Errorf("ansible-playbook %s: %v:\n%s", file, err, tail(string(out), 3000))
	}
	return d, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (e *env) ansibleDir() (string, error) {
	dir := filepath.Join(e.tmp, "ansible")
	if err := os.MkdirAll(filepath.Join(dir, "home"), 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"ansible.cfg":   "[defaults]\ninventory = inventory.ini\ngathering = explicit\nforks = 1\nhost_key_checking = False\nretry_files_enabled = False\ninterpreter_python = auto_silent\n",
		"inventory.ini": "[apic]\napic-emulator ansible_connection=local\n",
		"loop.yml":      loopPlaybook,
		"rest.yml":      restPlaybook,
	}
	var subnets []any
	for i := 0; i < versusSubnets; i++ {
		subnets = append(subnets, map[string]any{"l3extSubnet": map[string]any{"attributes": map[string]string{"ip": subnetCIDR(i), "scope": "import-security"}}})
	}
	payload, err := json.Marshal(map[string]any{"l3extInstP": map[string]any{"attributes": map[string]string{}, "children": subnets}})
	if err != nil {
		return "", err
	}
	files["payload-template.json"] = string(payload)
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// payload writes the aci_rest body for one external EPG.
func payload(dir, epg string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "payload-template.json"))
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "payload-"+epg+".json")
	return p, os.WriteFile(p, []byte(strings.Replace(string(b), `"attributes":{}`, fmt.Sprintf(`"attributes":{"name":%q}`, epg), 1)), 0o644)
}

// extEPG creates an empty external EPG on the L3Out (set-up, not timed).
func (a *apic) extEPG(name string) error {
	return a.sim.Post("uni/tn-TEN_K8_C1/out-L3O_K8_C1", []byte(fmt.Sprintf(`{"l3extOut":{"attributes":{"name":"L3O_K8_C1"},"children":[{"l3extInstP":{"attributes":{"name":%q}}}]}}`, name)))
}

type versusRow struct {
	wall      sample // ms
	requests  int
	made      map[string]int
	projected bool
	note      string
}

// versusSection: the same 500 subnets pushed by Ansible's cisco.aci two
// ways and by fabric-reconciler sync, on one emulator per latency.
func versusSection(e *env) (string, error) {
	dir, err := e.ansibleDir()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("\n## Side by side: 500 external EPG subnets on the same APIC emulator\n\n")
	b.WriteString("One emulator per latency holds the reference lab's tenant; the three clients write the same kind and number of objects, ")
	b.WriteString("500 `l3extSubnet` (import-security) into one external EPG that already exists (created untimed before each):\n\n")
	b.WriteString("- **(a)** Ansible `cisco.aci.aci_l3out_extsubnet` in a `loop`, one task per subnet (Debian's ansible; every task is a new Python process that logs in, reads, posts and reads again);\n")
	b.WriteString("- **(b)** Ansible `cisco.aci.aci_rest`, one POST carrying the 500 subnets (one task);\n")
	b.WriteString("- **(c)** `fabric-reconciler sync` of the reference cluster plus 500 Calico IP pools, whose plan is exactly those 500 subnets in `EPG_K8_PODS` ")
	b.WriteString("(transit export off in its configuration so the plan holds nothing else; the journal column proves it). The sync also logs in, locks, ")
	b.WriteString("observes the whole tenant twice and releases the lock.\n\n")
	b.WriteString("Wall time is the client process's, start to exit. Latency is added by the emulator to every request (its latency fault).\n\n")
	b.WriteString("| Latency | Client | Wall time | Requests | Objects created (journal) | (a or b) / (c) | Target |\n|---|---|---|---|---|---|---|\n")
	runs := 3
	if e.quick {
		runs = 1
	}
	cluster := filepath.Join(e.root, "examples", "haystack", "cluster")
	poolFile := filepath.Join(e.tmp, "500-pools.yaml")
	if err := pools(poolFile, versusSubnets); err != nil {
		return "", err
	}
	var notes []string
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		a, err := e.startAPIC()
		if err != nil {
			return b.String(), err
		}
		rows, err := e.versusAt(a, dir, lat, runs, cluster, poolFile)
		a.close()
		if err != nil {
			return b.String(), err
		}
		c := rows[2].wall.median()
		for i, name := range []string{"(a) aci_l3out_extsubnet loop", "(b) aci_rest batched POST", "(c) fabric-reconciler sync"} {
			r := rows[i]
			wall := r.wall.format(0, "ms")
			if r.projected {
				wall += " projected"
			}
			ratio, target := "", ""
			switch i {
			case 0:
				ratio, target = fmt.Sprintf("%.0fx", r.wall.median()/c), "≥ 100x "+pass(r.wall.median()/c >= 100)
			case 1:
				ratio, target = fmt.Sprintf("%.1fx", r.wall.median()/c), "≥ 2x "+pass(r.wall.median()/c >= 2)
			}
			fmt.Fprintf(&b, "| %d ms | %s | %s | %d | %s | %s | %s |\n", lat.Milliseconds(), name, wall, r.requests, classes(r.made), ratio, target)
			if r.note != "" {
				notes = append(notes, fmt.Sprintf("%s at %d ms: %s", name, lat.Milliseconds(), r.note))
			}
		}
	}
	for _, n := range notes {
		b.WriteString("\n" + n + "\n")
	}
	return b.String(), nil
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (e *env) versusAt(a *apic, dir string, lat time.Duration, runs int, cluster, poolFile string) ([3]versusRow, error) {
	var rows [3]versusRow
	// (c) first: the cluster's baseline objects are in place before the
	// latency starts; each run adds the 500 subnets, and an untimed sync
	// without the pools takes them away again.
	if _, _, err := e.sync(a.like, cluster); err != nil {
		return rows, err
	}
	for i := 0; i < runs; i++ {
		a.latency(lat)
		a.sim.ResetLog()
		d, _, err := e.sync(a.like, cluster, poolFile)
		if err != nil {
			return rows, err
		}
		rows[2].wall = append(rows[2].wall, ms(d))
		rows[2].requests = len(a.sim.Requests())
		rows[2].made = created(a.sim.Journal())
		a.latency(0)
		if _, _, err := e.syncArgs(a.like, []string{"--deletion-budget", "100"}, cluster); err != nil {
			return rows, err
		}
	}
	a.latency(lat)

	// (b) one aci_rest POST, into a new empty EPG each run.
	for i := 0; i < runs; i++ {
		epg := fmt.Sprintf("EPG_ANSIBLE_REST_%d", i)
		if err := a.extEPG(epg); err != nil {
			return rows, err
		}
		p, err := payload(dir, epg)
		if err != nil {
			return rows, err
		}
		a.sim.ResetLog()
		d, err := e.playbook(dir, "rest.yml", a, "epg="+epg, "payload="+p)
		if err != nil {
			return rows, err
		}
		rows[1].wall = append(rows[1].wall, ms(d))
		rows[1].requests = len(a.sim.Requests())
		rows[1].made = created(a.sim.Journal())
	}

	// (a) the loop: one run of ansibleLoop tasks. Below 500 the rest is
	// projected: Ansible's start-up (a run of the loop with no task) plus
	// 500 times the measured cost of one task; requests likewise.
	n := min(e.ansibleLoop, versusSubnets)
	if err := a.extEPG("EPG_ANSIBLE_LOOP_0"); err != nil {
		return rows, err
	}
	startup, err := e.playbook(dir, "loop.yml", a, "epg=EPG_ANSIBLE_LOOP_0", "n=0")
	if err != nil {
		return rows, err
	}
	if err := a.extEPG("EPG_ANSIBLE_LOOP"); err != nil {
		return rows, err
	}
	a.sim.ResetLog()
	e.log("ansible loop: %d tasks at %s latency", n, lat)
	d, err := e.playbook(dir, "loop.yml", a, "epg=EPG_ANSIBLE_LOOP", fmt.Sprintf("n=%d", n))
	if err != nil {
		return rows, err
	}
	reqs, made := len(a.sim.Requests()), created(a.sim.Journal())
	if n == versusSubnets {
		rows[0].wall = sample{ms(d)}
		rows[0].requests, rows[0].made = reqs, made
	} else {
		per := (d - startup) / time.Duration(n)
		rows[0].wall = sample{ms(startup + per*versusSubnets)}
		rows[0].requests = reqs * versusSubnets / n
		for k, v := range made {
			made[k] = v * versusSubnets / n
		}
		rows[0].made = made
		rows[0].projected = true
		rows[0].note = fmt.Sprintf("projected from one run of %d tasks (%s; %d requests, %d per task) and one run of none (Ansible's start-up, %s): start-up + 500 × %s per task. `go run ./bench -only versus -ansible-loop 500` runs all 500.",
			n, d.Round(time.Millisecond), reqs, reqs/n, startup.Round(time.Millisecond), per.Round(time.Millisecond))
	}
	return rows, nil
}
