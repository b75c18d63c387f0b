package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/go-test.json is `go test -json ./...` on a module with a package
// that passes, skips and fails (a subtest), one whose subtest skips, and
// one that does not build (times and durations zeroed).
func run(t *testing.T, input string) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	s := newSummary(&out)
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if e.Package == "" {
			e.Package = e.ImportPath
		}
		s.add(e)
	}
	ok := s.finish()
	return out.String(), ok
}

func TestSummary(t *testing.T) {
	in, err := os.ReadFile("testdata/go-test.json")
	if err != nil {
		t.Fatal(err)
	}
	out, ok := run(t, string(in))
	if ok {
		t.Errorf("a failed test and a failed build: want not ok")
	}
	for _, want := range []string{
		// the build error, the failed test's output, the package lines
		"c/c_test.go:5:32: undefined: undefined\n",
		"    a_test.go:8: broken sub\n",
		"--- FAIL: TestFail (0.00s)\n",
		"FAIL\texample.com/m/a\t0.001s\n",
		"ok  \texample.com/m/b\t0.001s\n",
		"FAIL\texample.com/m/c [build failed]\n",
		// the skips, by reason
		"\nskipped 2 tests:\n",
		"  needs root (network namespaces): run make test\n    example.com/m/a: TestSkip\n",
		"  needs a built kube-apiserver and etcd: run make test\n    example.com/m/b: TestSub/one\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"=== RUN", "noise", "TestPass"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output has %q:\n%s", unwanted, out)
		}
	}
}

func TestSummaryPassing(t *testing.T) {
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"PASS\n"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.01s\n"}
{"Action":"pass","Package":"p"}`
	out, ok := run(t, in)
	if !ok || out != "ok  \tp\t0.01s\n" {
		t.Errorf("ok %v, output %q", ok, out)
	}
}

func TestSummaryUnfinished(t *testing.T) {
	// go test killed while a package ran: no final action for it.
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}`
	out, ok := run(t, in)
	if ok || !strings.Contains(out, "FAIL\tp\t(did not finish)") {
		t.Errorf("ok %v, output %q", ok, out)
	}
}

func TestSummaryNothing(t *testing.T) {
	var out bytes.Buffer
	if newSummary(&out).finish() {
		t.Errorf("no results at all: want not ok")
	}
}
