package testenv

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update, set with `go test -update`, rewrites golden files instead of
// comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files")

// Golden compares got with the golden file testdata/<name> of the package
// under test, or rewrites the file with -update.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", path, got)
	}
}
