// Command secretscan looks for the test suite's secrets in what the suite
// printed and logged, and fails when it finds one:
//
//	secretscan [-list passwords.txt] PATH...
//
// PATH is a file or a folder (read recursively; missing paths are
// skipped, since a lab that did not run left no logs). The secrets are
// listed in passwords.txt beside this file. A finding names the file,
// the line and the list entry's line number, never the secret itself.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// secret is one entry of the list: a literal or a pattern.
type secret struct {
	entry   int // its line in the list
	literal []byte
	re      *regexp.Regexp
}

func (s secret) in(line []byte) bool {
	if s.re != nil {
		return s.re.Match(line)
	}
	return bytes.Contains(line, s.literal)
}

// parseList reads the list: one secret per line, "re:" before a regular
// expression, # comments and blank lines ignored.
func parseList(r io.Reader) ([]secret, error) {
	var out []secret
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "re:"):
			re, err := regexp.Compile(strings.TrimPrefix(line, "re:"))
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			out = append(out, secret{entry: n, re: re})
		default:
			out = append(out, secret{entry: n, literal: []byte(line)})
		}
	}
	return out, sc.Err()
}

// finding is one secret seen on one line of one file.
type finding struct {
	file  string
	line  int
	entry int
}

func (f finding) String() string {
	return fmt.Sprintf("%s:%d: holds the secret on line %d of the list", f.file, f.line, f.entry)
}

// scanFile reports every line of r holding a secret.
func scanFile(name string, r io.Reader, secrets []secret) ([]finding, error) {
	var out []finding
	br := bufio.NewReaderSize(r, 1<<16)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		for _, s := range secrets {
			if len(line) > 0 && s.in(line) {
				out = append(out, finding{file: name, line: n, entry: s.entry})
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// scan walks the paths.
func scan(paths []string, secrets []secret) ([]finding, error) {
	var out []finding
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			fs, err := scanFile(path, f, secrets)
			out = append(out, fs...)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func main() {
	list := flag.String("list", defaultList(), "the list of secrets")
	flag.Parse()
	f, err := os.Open(*list)
	if err != nil {
		fmt.Fprintln(os.Stderr, "secretscan:", err)
		os.Exit(2)
	}
	secrets, err := parseList(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "secretscan: %s: %v\n", *list, err)
		os.Exit(2)
	}
	found, err := scan(flag.Args(), secrets)
	for _, fd := range found {
		fmt.Println(fd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "secretscan:", err)
		os.Exit(2)
	}
	if len(found) > 0 {
		fmt.Printf("secretscan: %d lines hold test secrets\n", len(found))
		os.Exit(1)
	}
	fmt.Printf("secretscan: no test secret in %s (%d secrets looked for)\n", strings.Join(flag.Args(), ", "), len(secrets))
}

// defaultList is passwords.txt beside this command, run from the
// repository's root (as make does).
func defaultList() string { return filepath.Join("test", "secretscan", "passwords.txt") }
