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

// RequireRoot fails the test unless it runs as root, or skips it when
// FABRIC_RECONCILER_SKIP_ROOT_TESTS=1.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(SkipRootEnv) == "1" {
		t.Skipf("needs root (%s=1)", SkipRootEnv)
	}
	t.Fatalf("this test needs root (network namespaces); run as root or set %s=1 to skip it", SkipRootEnv)
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
