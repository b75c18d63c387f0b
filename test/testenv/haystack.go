package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// HaystackCluster copies examples/haystack/cluster into a temporary folder,
// lets edit change the copy (remove a file, break a field: a partial or bad
// export), and returns the folder.
func HaystackCluster(t testing.TB, edit func(dir string)) string {
	t.Helper()
	src := filepath.Join(RepoRoot(), "examples", "haystack", "cluster")
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(dir)
	}
	return dir
}

// ReplaceInFile replaces the first old in a file by new; a file without old
// is a bug in the test.
func ReplaceInFile(t testing.TB, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("test bug: %q not in %s", old, path)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// KeepFirstNode cuts the haystack nodes.yaml in dir down to its first node:
// a partial export.
func KeepFirstNode(t testing.TB, dir string) {
	t.Helper()
	p := filepath.Join(dir, "nodes.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const item = "- apiVersion: v1\n  kind: Node"
	s := string(b)
	first := strings.Index(s, item)
	second := strings.Index(s[first+1:], item)
	if first < 0 || second < 0 {
		t.Fatal("examples/haystack/cluster/nodes.yaml no longer lists its nodes as expected")
	}
	if err := os.WriteFile(p, []byte(s[:first+1+second]), 0o644); err != nil {
		t.Fatal(err)
	}
}
