package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sample is one figure's runs.
type sample []float64

func (s sample) sorted() []float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c
}

func (s sample) median() float64 {
	c := s.sorted()
	if len(c) == 0 {
		return 0
	}
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s sample) min() float64 { return s.sorted()[0] }
func (s sample) max() float64 { c := s.sorted(); return c[len(c)-1] }

// format prints "median (min–max) unit", or just the value for one run.
func (s sample) format(prec int, unit string) string {
	if len(s) == 0 {
		return "—"
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	sp := ""
	if unit != "" {
		sp = " " + unit
	}
	if len(s) == 1 {
		return f(s[0]) + sp + " (1 run)"
	}
	return fmt.Sprintf("%s%s (%s–%s, %d runs)", f(s.median()), sp, f(s.min()), f(s.max()), len(s))
}

// ms formats durations in milliseconds, s in seconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// verdict is PASS when the median is under the target.
func verdict(s sample, target float64) string {
	if len(s) == 0 {
		return "—"
	}
	if s.median() < target {
		return "PASS"
	}
	return "MISS"
}

// benchLine is one line of go test -bench output.
type benchLine struct {
	name    string
	metrics map[string]float64 // unit -> value (ns/op, p50-ms, ...)
}

var benchRe = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

// parseBench reads go test -bench output.
func parseBench(out []byte) []benchLine {
	var lines []benchLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := benchRe.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		bl := benchLine{name: m[1], metrics: map[string]float64{}}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			bl.metrics[f[i+1]] = v
		}
		lines = append(lines, bl)
	}
	return lines
}

// goBench runs go test -bench in the repository with extra environment and
// returns the parsed lines; its output goes to stderr as it runs.
func (e *env) goBench(envv []string, args ...string) ([]benchLine, error) {
	out, err := e.goBenchOut(envv, args...)
	return out.parsed, err
}

type benchOutput struct {
	raw    string
	parsed []benchLine
}

func (e *env) goBenchOut(envv []string, args ...string) (benchOutput, error) {
	cmd := e.goCmd(append([]string{"test", "-run", "^$"}, args...)...)
	var buf bytes.Buffer
	cmd.Stdout = teeWriter{&buf, &lineFilter{w: os.Stderr}}
	cmd.Env = append(os.Environ(), envv...)
	err := cmd.Run()
	out := benchOutput{raw: buf.String(), parsed: parseBench(buf.Bytes())}
	if err != nil {
		return out, fmt.Errorf("go test %s: %w (output above)", strings.Join(args, " "), err)
	}
	return out, nil
}

// lineFilter passes lines on, but client-go's klog lines (thousands of
// "too many queued events" when the controller first writes a large
// fabric) only counted.
type lineFilter struct {
	w       io.Writer
	partial []byte
	dropped int
}

var klogRe = regexp.MustCompile(`^[EWI]\d{4} \d\d:\d\d:\d\d`)

func (f *lineFilter) Write(p []byte) (int, error) {
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.partial[:i+1]
		if klogRe.Match(line) {
			if f.dropped++; f.dropped%1000 == 1 {
				fmt.Fprintf(f.w, "(client-go log lines hidden: %d so far)\n", f.dropped)
			}
		} else {
			f.w.Write(line)
		}
		f.partial = f.partial[i+1:]
	}
}

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.a.Write(p)
	return t.b.Write(p)
}
