// Package docs_test keeps the documentation's worked examples honest: a
// patch the architecture guide walks through must still apply to the code
// it describes, build, and pass the tests it adds.
package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// TestAddAPeerOptionPatchFiles: the guide's claim, that an attribute is
// the kind, the translation and the drivers' tables, at most four files
// outside tests, holds for its worked example.
func TestAddAPeerOptionPatchFiles(t *testing.T) {
	patch := filepath.Join(testenv.RepoRoot(), "docs/examples/add-a-peer-option.patch")
	if files := nonTestFiles(t, patch); len(files) > 4 {
		t.Errorf("the patch touches %d files outside tests, more than 4: %s", len(files), strings.Join(files, ", "))
	}
}

// TestAddAPeerOptionPatch applies docs/examples/add-a-peer-option.patch to a
// copy of the tracked files and runs go vet and the unit tests of the
// packages it touches (the ACI, NX-OS and FRR driver tests it adds need the
// emulators and the lab, and run when a contributor tries the example).
func TestAddAPeerOptionPatch(t *testing.T) {
	if testing.Short() {
		t.Skip("copies the module and builds it")
	}
	root := testenv.RepoRoot()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to list the tracked files: %v", err)
	}
	files := run(t, root, "git", "ls-files", "-z")
	dst := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	patch := filepath.Join(root, "docs/examples/add-a-peer-option.patch")
	run(t, dst, "git", "apply", "--check", patch)
	run(t, dst, "git", "apply", patch)
	// The patch adds the option everywhere the guide says it does.
	for _, want := range []struct{ file, text string }{
		{"fabric/options.go", "EBGPMultihop"},
		{"internal/reconciler/options.go", "EBGPMultihop"},
		{"internal/drivers/cli/peerlines.go", "ebgp-multihop"},
		{"internal/drivers/aci/peeroptions.go", `"ttl"`},
	} {
		b, err := os.ReadFile(filepath.Join(dst, want.file))
		if err != nil || !strings.Contains(string(b), want.text) {
			t.Errorf("%s after the patch does not hold %q (%v)", want.file, want.text, err)
		}
	}
	run(t, dst, "go", "vet", "./fabric/...", "./internal/config/...", "./internal/reconciler/...", "./internal/drivers/...")
	run(t, dst, "go", "test", "-count=1", "./fabric/", "./internal/config/", "./internal/reconciler/", "./internal/drivers/cli/")
}

// nonTestFiles lists the files a patch touches that are not tests (a
// _test.go file, or one under testdata/).
func nonTestFiles(t *testing.T, patch string) []string {
	t.Helper()
	b, err := os.ReadFile(patch)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "diff --git a/")
		if !ok {
			continue
		}
		_, f, ok := strings.Cut(rest, " b/")
		if !ok {
			t.Fatalf("patch header %q", line)
		}
		if !strings.HasSuffix(f, "_test.go") && !strings.HasPrefix(f, "testdata/") && !strings.Contains(f, "/testdata/") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("the patch touches no file outside tests: not a patch git writes?")
	}
	return out
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s in %s: %v\n%s\n%s", name, strings.Join(args, " "), dir, err, out, stderr)
	}
	return string(out)
}
