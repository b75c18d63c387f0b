// Package testenv holds small helpers shared by the project's tests.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SkipRootEnv, set to 1, turns tests that need root (network namespaces,
// mounts) into skips. CI runs as root and never sets it: those tests are part
// of `make test`.
const SkipRootEnv = "FABRIC_RECONCILER_SKIP_ROOT_TESTS"

// RequireRoot is called first by tests that need root (the FRR and BIRD lab
// in network namespaces). Under -short (`make test-short`, the contributors'
// quick loop) it skips them, root or not. Otherwise it fails them unless they
// run as root, so that `make test` and CI, which run everything, fail rather
// than skip when root is missing; FABRIC_RECONCILER_SKIP_ROOT_TESTS=1 turns
// that failure into a skip.
func RequireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root (network namespaces): run make test")
	}
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(SkipRootEnv) == "1" {
		t.Skipf("needs root (network namespaces); skipped: %s=1", SkipRootEnv)
	}
	t.Fatal("this test needs root (network namespaces): run it as root (make test does), or go test -short to skip it")
}

// RepoRoot returns the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CacheDir is where tests keep built binaries between runs: $CACHE_DIR, else
// ~/.cache/fabric-reconciler.
func CacheDir() string {
	if d := os.Getenv("CACHE_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "fabric-reconciler-cache")
	}
	return filepath.Join(home, ".cache", "fabric-reconciler")
}
