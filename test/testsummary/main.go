// Command testsummary reads `go test -json` on its input and prints what
// `go test` prints without -v (a line per package, the output of the tests
// that failed), then the tests that were skipped, grouped by the reason they
// gave. `make test-short` uses it, so that the contributors' quick loop says
// what it did not run and what running it needs:
//
//	go test -short -json ./... | go run ./test/testsummary
//
// It exits 1 when a package failed, did not build or did not finish, or when
// there was no test result at all.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail
	Test       string
	Output     string
}

type testKey struct{ pkg, test string }

type summary struct {
	out io.Writer
	// Output lines per test and per package (test ""), kept until the
	// test or package ends.
	lines    map[testKey][]string
	failed   map[string][]testKey           // per package, the failed tests in order
	started  map[string]bool                // packages with no final action yet
	skipped  map[string]map[string][]string // reason -> package -> tests
	nresults int
	bad      bool
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, lines: map[testKey][]string{}, failed: map[string][]testKey{},
		started: map[string]bool{}, skipped: map[string]map[string][]string{}}
}

// location is the "file_test.go:123: " go test puts before a logged line.
var location = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

func (s *summary) add(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
	case "build-fail":
		s.bad = true
	case "start":
		s.started[e.Package] = true
	case "output":
		s.lines[k] = append(s.lines[k], e.Output)
	case "fail":
		if e.Test != "" {
			s.failed[e.Package] = append(s.failed[e.Package], k)
			return
		}
		s.bad = true
		s.endPackage(e.Package, true)
	case "skip":
		if e.Test != "" {
			s.nresults++
			r := s.reason(k)
			if s.skipped[r] == nil {
				s.skipped[r] = map[string][]string{}
			}
			pkg := strings.TrimPrefix(e.Package, modulePrefix(e.Package))
			s.skipped[r][pkg] = append(s.skipped[r][pkg], e.Test)
			delete(s.lines, k)
			return
		}
		s.endPackage(e.Package, false)
	case "pass":
		if e.Test != "" {
			s.nresults++
			delete(s.lines, k)
			return
		}
		s.endPackage(e.Package, false)
	}
}

// reason is the last line a skipped test logged (t.Skip's message), without
// its file:line.
func (s *summary) reason(k testKey) string {
	lines := s.lines[k]
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		return location.ReplaceAllString(lines[i], "")
	}
	return "(no reason given)"
}

// endPackage prints a package's result: its failed tests' output, then the
// package's own lines (go test's "ok"/"FAIL" line among them).
func (s *summary) endPackage(pkg string, failed bool) {
	delete(s.started, pkg)
	s.nresults++
	if failed {
		for _, k := range s.failed[pkg] {
			s.print(s.lines[k])
		}
	}
	own := s.lines[testKey{pkg, ""}]
	if failed {
		s.print(own)
	} else {
		for _, l := range own {
			if strings.HasPrefix(l, "ok  ") || strings.HasPrefix(l, "?   ") {
				fmt.Fprint(s.out, l)
			}
		}
	}
	for k := range s.lines {
		if k.pkg == pkg {
			delete(s.lines, k)
		}
	}
	delete(s.failed, pkg)
}

// wrap prints head and the words after it on lines of at most 110
// characters; continuation lines are indented under the first word.
func (s *summary) wrap(head string, words []string) {
	indent := strings.Repeat(" ", len(head)+1)
	line, n := head, 0
	for _, w := range words {
		if n > 0 && len(line)+1+len(w) > 110 {
			fmt.Fprintln(s.out, line)
			line, n = indent[:len(indent)-1], 0
		}
		line += " " + w
		n++
	}
	fmt.Fprintln(s.out, line)
}

func (s *summary) print(lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "=== ") {
			continue
		}
		fmt.Fprint(s.out, l)
	}
}

// modulePrefix is the module path shown before package paths:
// github.com/fabric-reconciler/fabric-reconciler/ for this repository.
func modulePrefix(pkg string) string {
	const mod = "github.com/fabric-reconciler/fabric-reconciler/"
	if strings.HasPrefix(pkg, mod) {
		return mod
	}
	return ""
}

// finish prints the skipped tests and says whether everything passed.
func (s *summary) finish() bool {
	for pkg := range s.started {
		fmt.Fprintf(s.out, "FAIL\t%s\t(did not finish)\n", pkg)
		s.bad = true
	}
	if s.nresults == 0 {
		fmt.Fprintln(s.out, "testsummary: no test results (go test failed before running tests?)")
		return false
	}
	if len(s.skipped) > 0 {
		reasons := make([]string, 0, len(s.skipped))
		n := 0
		for r, pkgs := range s.skipped {
			reasons = append(reasons, r)
			for _, tests := range pkgs {
				n += len(tests)
			}
		}
		sort.Strings(reasons)
		fmt.Fprintf(s.out, "\nskipped %d tests:\n", n)
		for _, r := range reasons {
			fmt.Fprintf(s.out, "  %s\n", strings.TrimSpace(r))
			pkgs := make([]string, 0, len(s.skipped[r]))
			for p := range s.skipped[r] {
				pkgs = append(pkgs, p)
			}
			sort.Strings(pkgs)
			for _, p := range pkgs {
				tests := s.skipped[r][p]
				sort.Strings(tests)
				s.wrap("    "+p+":", tests)
			}
		}
	}
	return !s.bad
}

func main() {
	s := newSummary(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Println(sc.Text()) // not go test -json: pass it on
			continue
		}
		if e.Package == "" {
			e.Package = e.ImportPath
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if !s.finish() {
		os.Exit(1)
	}
}
