package aci

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Everything the driver prints (Render's comments, Apply's messages and
// errors) may quote ids and names that come from outside: a plan built from
// a saved observation (--fabric-state) carries whatever the file says. A
// newline in such an id would end the comment and put a bare line into the
// native output, so ids are printed through these helpers.

// plainRe is what an id may be made of to be printed as it is: the
// characters of APIC names, addresses, prefixes and DNs.
var plainRe = regexp.MustCompile(`^[a-zA-Z0-9_.:/@\[\]-]{1,100}$`)

// maxQuoted bounds a quoted value, in bytes of the original.
const maxQuoted = 80

// printable returns s as it is when it is a plain id, else Go-quoted (no
// control character survives) and cut to maxQuoted bytes.
func printable(s string) string {
	if plainRe.MatchString(s) {
		return s
	}
	cut := ""
	if len(s) > maxQuoted {
		n := maxQuoted
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], "..."
	}
	return strconv.Quote(s) + cut
}

// keyText prints a fabric key with each part through printable.
func keyText(k fabric.Key) string {
	id := printable(k.ID)
	if k.Switch != "" {
		id = printable(k.Switch) + "/" + id
	}
	return printable(string(k.Kind)) + " " + id
}

// maxLine bounds one printed message.
const maxLine = 1000

// oneLine makes a message safe to print on one line: control, format
// (bidirectional, zero-width) and line-separator characters are escaped as
// Go escapes them, and the text is cut to maxLine bytes. It is
// the last line of defence for text the driver did not format itself (a
// reason from a saved plan, an error from a library).
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxLine {
			b.WriteString("...")
			break
		}
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
