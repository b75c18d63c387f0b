package cli

import (
	"strings"
	"testing"
)

// FuzzGrammar: whatever passes the grammar is safe to type into a CLI.
func FuzzGrammar(f *testing.F) {
	for _, s := range []string{"k8c1m0", "node\nexit", "a;b", "x]", "192.168.9.193", "10.0.0.0/8", "?", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checks := map[string]func(string) error{
			"name": func(v string) error { return Name("f", v, 0) },
			"text": func(v string) error { return Text("f", v, 0) },
			"addr": func(v string) error { _, err := Addr("f", v); return err },
			"prefix": func(v string) error {
				_, err := Prefix("f", v)
				return err
			},
		}
		for what, check := range checks {
			if check(s) != nil {
				continue
			}
			for _, r := range s {
				if r < 0x20 || r > 0x7e || strings.ContainsRune(";]?!#%\\\"'|", r) {
					t.Fatalf("%s accepted %q, which contains %q", what, s, r)
				}
			}
		}
	})
}
