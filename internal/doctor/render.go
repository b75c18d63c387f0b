package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the report for people: each finding with its severity,
// id, message, objects and fix, then the counts.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-7s %s\n", strings.ToUpper(string(f.Severity)), f.ID)
		fmt.Fprintf(&b, "        %s\n", oneLine(f.Message))
		if len(f.Objects) > 0 {
			var objs []string
			for _, o := range f.Objects {
				objs = append(objs, o.String())
			}
			fmt.Fprintf(&b, "        objects: %s\n", oneLine(strings.Join(objs, ", ")))
		}
		fmt.Fprintf(&b, "        fix: %s\n\n", oneLine(f.Fix))
	}
	fmt.Fprintf(&b, "%s, %s, %s\n", count(r.Summary.Errors, "error"), count(r.Summary.Warnings, "warning"), count(r.Summary.Infos, "note"))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as JSON (formatVersion 1).
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteRules lists the rules.
func WriteRules(w io.Writer) error {
	var b strings.Builder
	for _, r := range Rules() {
		fmt.Fprintf(&b, "%-34s %-7s %s\n", r.ID, r.Severity, r.What)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// oneLine keeps a text printable on one line: cluster input must not forge
// report lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
