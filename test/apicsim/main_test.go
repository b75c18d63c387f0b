package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefuses: the program refuses what would make it unsafe or useless
// before it listens (a successful start blocks until a signal).
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	badSeed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(badSeed, []byte(`{"fvTenant":{"attributes":{"name":"T","bogus":"x"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:8443", "--password", "x"}, "only listens on loopback"},
		{[]string{"--listen", "192.168.9.204:8443", "--password", "x"}, "only listens on loopback"},
		{[]string{"--listen", "127.0.0.1:0"}, "give --password"},
		{[]string{"--listen", "127.0.0.1:0", "--password", "x", "--seed", badSeed}, "unknown attribute 'bogus'"},
		{[]string{"--listen", "127.0.0.1:0", "--password", "x", "--user-cert", "nofile"}, "<certName>=<file.pem>"},
	} {
		err := run(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
