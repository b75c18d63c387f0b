package main

import (
	"bytes"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkTranslateDiff/steady-2   	       5	 295612345 ns/op
BenchmarkStatusPatchToApply/memfabric/debounce=200ms-2   	       1	 912 ns/op	  205.3 p50-ms	   240.1 p99-ms	  251.0 max-ms
BenchmarkControllerScale   	       1	 900773538 ns/op	        21.37 cache-MiB
PASS
`)
	got := parseBench(out)
	if len(got) != 3 {
		t.Fatalf("parsed %d lines, want 3: %+v", len(got), got)
	}
	if got[0].name != "BenchmarkTranslateDiff/steady" || got[0].metrics["ns/op"] != 295612345 {
		t.Errorf("line 1: %+v", got[0])
	}
	if got[1].name != "BenchmarkStatusPatchToApply/memfabric/debounce=200ms" || got[1].metrics["p99-ms"] != 240.1 {
		t.Errorf("line 2: %+v", got[1])
	}
	if got[2].metrics["cache-MiB"] != 21.37 {
		t.Errorf("line 3: %+v", got[2])
	}
}

func TestSample(t *testing.T) {
	s := sample{30, 10, 20, 40}
	if s.median() != 25 || s.min() != 10 || s.max() != 40 {
		t.Errorf("median %v min %v max %v", s.median(), s.min(), s.max())
	}
	if got := s.format(0, "ms"); got != "25 ms (10–40, 4 runs)" {
		t.Errorf("format: %q", got)
	}
	if got := verdict(sample{900}, 1000); got != "PASS" {
		t.Errorf("verdict: %s", got)
	}
}

func TestLineFilter(t *testing.T) {
	var out bytes.Buffer
	f := &lineFilter{w: &out}
	f.Write([]byte("keep me\nE1208 01:30:57.284075   20613 event.go:468] dropped\nand "))
	f.Write([]byte("me\n"))
	if got := out.String(); got != "keep me\n(client-go log lines hidden: 1 so far)\nand me\n" {
		t.Errorf("got %q", got)
	}
}
