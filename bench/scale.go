package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
)

// scaleSection: `plan --offline -o json` of the built binary on the
// synthetic clusters (wall time and peak RSS from the child's rusage), and
// Translate+Diff alone (BenchmarkTranslateDiff).
func scaleSection(e *env) (string, error) {
	var b strings.Builder
	b.WriteString("\n## Scale: synthetic clusters (test/gen)\n\n")
	b.WriteString("`plan --offline -o json` is the built binary run end to end (process start, reading the JSON export, Translate, writing the plan to /dev/null): ")
	b.WriteString("wall time and the child's peak RSS (rusage maxrss), after one uncounted warm-up run. Translate+Diff is `BenchmarkTranslateDiff`: Translate and every fabric's guarded diff (`reconciler.PlanFabric`), ")
	b.WriteString("what the controller pays per reconcile once the cluster is in its informers (doctor's checks of the translation, which plan and the controller's log run once per rebuild, add the difference to `steady-plan`): *steady* observes exactly the desired state (nothing to do), *empty* observes nothing (everything to create); ")
	b.WriteString("each run is the mean of a `-benchtime Nx` batch.\n\n")
	b.WriteString("| Size | Nodes / Services / Switches | Export | plan wall time | Target (L) | | plan peak RSS | Target (L) | | Translate+Diff steady | Target (L) | | Translate+Diff empty |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var errs []string
	for _, s := range gen.Sizes {
		dir := filepath.Join(e.tmp, "gen-"+s.Name)
		cluster, cfg, err := e.generate(s.Name, dir)
		if err != nil {
			return b.String(), err
		}
		runs := map[string]int{"S": 7, "M": 5, "L": 5}[s.Name]
		if e.quick {
			runs = 2
		}
		var wall, rss sample
		// One run first that is not counted (as farm-bench and hyperfine
		// do): it pays for the just-written export's first read.
		for i := -1; i < runs; i++ {
			cmd := exec.Command(e.bin, "plan", "--offline", "-o", "json", "--config", cfg, "--cluster-state", cluster)
			cmd.Stdout = nil // /dev/null
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err != nil {
				errs = append(errs, fmt.Sprintf("plan at %s: %v: %s", s.Name, err, stderr.String()))
				break
			}
			if i < 0 {
				continue
			}
			wall = append(wall, ms(d))
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = append(rss, float64(ru.Maxrss)/1024) // KiB on Linux
			}
		}
		e.log("plan %s: %s, %s", s.Name, wall.format(0, "ms"), rss.format(0, "MiB"))

		n, bt := 5, "5x"
		if s.Name == "L" {
			n, bt = 3, "3x"
		}
		if e.quick {
			n = 1
		}
		lines, err := e.goBench([]string{"SIZE=" + s.Name}, "-bench", "^BenchmarkTranslateDiff$", "-benchtime", bt,
			"-count", fmt.Sprint(n), "-timeout", "20m", "./cmd/fabric-reconciler/")
		if err != nil {
			errs = append(errs, err.Error())
		}
		var steady, empty sample
		for _, l := range lines {
			v, ok := l.metrics["ns/op"]
			if !ok {
				continue
			}
			switch {
			case strings.HasSuffix(l.name, "/steady"):
				steady = append(steady, v/1e6)
			case strings.HasSuffix(l.name, "/empty"):
				empty = append(empty, v/1e6)
			}
		}
		size := "—"
		if st, err := dirSize(cluster); err == nil {
			size = fmt.Sprintf("%.1f MB JSON", float64(st)/1e6)
		}
		tWall, tRSS, tTD := "", "", ""
		vWall, vRSS, vTD := "", "", ""
		if s.Name == "L" {
			tWall, tRSS, tTD = "< 1000 ms", "< 512 MiB", "< 250 ms"
			vWall, vRSS, vTD = verdict(wall, 1000), verdict(rss, 512), verdict(steady, 250)
		}
		fmt.Fprintf(&b, "| %s | %d / %d / %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Name, s.Nodes, s.Services, s.Switches, size,
			wall.format(0, "ms"), tWall, vWall, rss.format(0, "MiB"), tRSS, vRSS, steady.format(1, "ms"), tTD, vTD, empty.format(1, "ms"))
		os.RemoveAll(dir)
	}
	if len(errs) > 0 {
		return b.String(), fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return b.String(), nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// generate writes a synthetic cluster through test/gen's command, in a
// process of its own. Generating it here would grow this process, and a
// child's peak RSS counts this process's peak: os/exec starts children with
// vfork, and Linux's exec records the peak of the memory it leaves (the
// parent's, under vfork) in the child's maxrss (fs/exec.c, exec_mmap:
// setmax_mm_hiwater_rss). Generated in this process, L's cluster made
// plan's peak read 447 MiB; the plan process's own peak is half that.
func (e *env) generate(size, dir string) (cluster, cfg string, err error) {
	cmd := e.goCmd("run", "./test/gen/cmd/gen", "-size", size, "-out", dir)
	cmd.Stdout = nil // Output collects it
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("generate %s: %w", size, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", "", fmt.Errorf("generate %s: gen printed %q", size, out)
	}
	return f[0], f[1], nil
}
