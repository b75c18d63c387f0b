// Command bench runs the project's benchmarks and
// prints one Markdown report, also written to bench/RESULTS.md:
//
//	go run ./bench                      every section (make bench)
//	go run ./bench -only scale,apic     some of them
//
// Sections: scale (plan --offline end to end, Translate+Diff), apic (APIC
// request economy), versus (Ansible cisco.aci against fabric-reconciler on
// the same APIC emulator), frr (the FRR lab; root), convergence (Service
// status patch to switch write) and controller (informers and reconcile
// against a real kube-apiserver). Every figure comes from this run: the
// median of several runs with the minimum and maximum. Targets are shown
// next to the figures; a miss is reported, never failed on.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type section struct {
	name string
	run  func(*env) (string, error)
}

// env is what the sections share.
type env struct {
	root string // the repository
	bin  string // the built fabric-reconciler
	tmp  string
	// quick: fewer repetitions (a smoke run).
	quick       bool
	ansibleLoop int
	ctrlSizes   []string
	ctrlBudget  time.Duration
	// partial, when a long section calls it, writes the report with what
	// the section measured so far.
	partial func(md string)
	log     func(format string, a ...any)
}

func main() {
	out := flag.String("out", "bench/RESULTS.md", "write the report here too (\"\" for stdout only)")
	only := flag.String("only", "", "comma-separated sections to run (default all): scale,apic,versus,frr,convergence,controller")
	quick := flag.Bool("quick", false, "fewer repetitions (a smoke run, not for RESULTS.md)")
	ansibleLoop := flag.Int("ansible-loop", 25, "tasks of the aci_l3out_extsubnet loop actually run (the rest of 500 is projected from them); 500 runs them all")
	ctrlSizes := flag.String("controller-sizes", "M", "synthetic cluster sizes for the controller figure (M,L adds L: loading it takes longer than make bench's budget on 2 cores)")
	ctrlBudget := flag.Duration("controller-create-budget", 30*time.Minute, "give up a controller size whose cluster takes longer than this to load into the apiserver")
	flag.Parse()

	root, err := repoRoot()
	if err != nil {
		fatal(err)
	}
	tmp, err := os.MkdirTemp("", "fabric-reconciler-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	e := &env{root: root, tmp: tmp, quick: *quick, ansibleLoop: *ansibleLoop, ctrlSizes: strings.Split(*ctrlSizes, ","), ctrlBudget: *ctrlBudget,
		log: func(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...) }}
	e.bin = filepath.Join(tmp, "fabric-reconciler")
	e.log("building %s", e.bin)
	if err := e.goCmd("build", "-o", e.bin, "./cmd/fabric-reconciler").Run(); err != nil {
		fatal(fmt.Errorf("go build: %w", err))
	}

	sections := []section{
		{"scale", scaleSection},
		{"apic", apicSection},
		{"versus", versusSection},
		{"frr", frrSection},
		{"convergence", convergenceSection},
		{"controller", controllerSection},
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	var report bytes.Buffer
	report.WriteString(header(e))
	fmt.Fprintf(&report, "| Command | `%s` |\n", strings.Join(append([]string{"go run ./bench"}, os.Args[1:]...), " "))
	began := time.Now()
	for _, s := range sections {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		e.log("section %s", s.name)
		e.partial = func(md string) { write(*out, root, append(report.Bytes(), md...), nil) }
		start := time.Now()
		md, err := s.run(e)
		if err != nil {
			md += fmt.Sprintf("\n**%s: not measured**: %v\n", s.name, err)
			e.log("section %s: %v", s.name, err)
		}
		report.WriteString(md)
		fmt.Fprintf(&report, "\n<sub>%s took %s; load average at its end %s.</sub>\n", s.name, time.Since(start).Round(time.Second), loadAvgShort())
		// What is measured so far survives an interrupted run.
		write(*out, root, report.Bytes(), nil)
	}
	fmt.Fprintf(&report, "\nThe whole run took %s.\n", time.Since(began).Round(time.Second))
	os.Stdout.Write(report.Bytes())
	write(*out, root, report.Bytes(), e.log)
}

func write(out, root string, report []byte, log func(string, ...any)) {
	if out == "" {
		return
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.WriteFile(out, report, 0o644); err != nil {
		fatal(err)
	}
	if log != nil {
		log("wrote %s", out)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// goCmd is a go command run in the repository, its output on stderr.
func (e *env) goCmd(args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = e.root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd
}

// header describes the machine.
func header(e *env) string {
	var b strings.Builder
	b.WriteString("# fabric-reconciler benchmarks\n\n")
	b.WriteString("Written by `make bench` (`go run ./bench`); every figure below comes from that run. ")
	b.WriteString("Figures are the median of the runs, with the minimum and maximum in brackets. ")
	b.WriteString("Targets are the project's performance goals; PASS/MISS is a reading of the figure, not a test.\n\n")
	b.WriteString("| Machine | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "| CPU | %s, %d cores (GOMAXPROCS %d) |\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "| Memory | %s |\n", memTotal())
	fmt.Fprintf(&b, "| Go | %s %s/%s |\n", goVersion(e), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "| Load average at start | %s |\n", loadAvg())
	if rev, err := exec.Command("git", "-C", e.root, "describe", "--always", "--dirty").Output(); err == nil {
		fmt.Fprintf(&b, "| Commit | %s |\n", strings.TrimSpace(string(rev)))
	}
	return b.String()
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ") + " (1, 5, 15 min; other work on the machine slows every figure)"
}

func loadAvgShort() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func goVersion(e *env) string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}
