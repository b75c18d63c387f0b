package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func loadList(t *testing.T) []secret {
	t.Helper()
	f, err := os.Open("passwords.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := parseList(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEveryListedSecretIsUsed keeps the list true: each literal secret and
// each pattern's prefix still occurs in the repository's tests or test
// data (a list of secrets nobody uses would scan for nothing).
func TestEveryListedSecretIsUsed(t *testing.T) {
	secrets := loadList(t)
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets listed", len(secrets))
	}
	for _, s := range secrets {
		needle := string(s.literal)
		if s.re != nil {
			needle, _ = s.re.LiteralPrefix()
		}
		out, err := exec.Command("git", "-C", "../..", "grep", "-lF", needle, "--", ":!test/secretscan").Output()
		if err != nil || len(strings.TrimSpace(string(out))) == 0 {
			t.Errorf("list line %d: %q occurs nowhere in the repository (%v)", s.entry, needle, err)
		}
	}
}

func TestScan(t *testing.T) {
	secrets := loadList(t)
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("clean.json", `{"Action":"output","Output":"neighbor 10.0.0.1 password (sensitive)\n"}`+"\n")
	write("logs/bgpd.log", "line one\nneighbor 10.0.0.1 password lab-md5-s1-2c6e08\n")
	write("unit.json", `{"Output":"pwd=apic-pw-0123456789abcdef01234567"}`+"\nno secret\n"+`{"Output":"bgp-pw-0123"}`)
	found, err := scan([]string{dir, filepath.Join(dir, "absent")}, secrets)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		s := f.String()
		if strings.Contains(s, "lab-md5") || strings.Contains(s, "apic-pw-0") {
			t.Errorf("a finding prints the secret: %s", s)
		}
		got = append(got, strings.TrimPrefix(s, dir+"/"))
	}
	entry := func(text string) int {
		for _, s := range secrets {
			if string(s.literal) == text || s.re != nil && s.re.String() == text {
				return s.entry
			}
		}
		t.Fatalf("%q is not listed", text)
		return 0
	}
	// bgp-pw-0123 is too short for the generated secrets' pattern.
	want := []string{fmt.Sprintf("logs/bgpd.log:2: holds the secret on line %d of the list", entry("lab-md5-s1-2c6e08")),
		fmt.Sprintf("unit.json:1: holds the secret on line %d of the list", entry("apic-pw-[0-9a-f]{24}"))}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
