package cli

import (
	"fmt"
	"strings"
)

// A switch's output is text the network team wrote as much as the switch:
// "show running-config" prints every description and banner, and other
// neighbors' secrets (FRR prints "neighbor X password SECRET" in clear,
// NX-OS "password 3 <key>"); a refusal may repeat the line it refused. So
// an error or a log never quotes more than one line of device output, and
// that line goes through DeviceLine: the value after a secret keyword
// removed, control and non-printable characters escaped, cut to
// MaxDeviceLine.

// MaxDeviceLine is the longest piece of device output an error or a log
// quotes, in characters, before "...".
const MaxDeviceLine = 160

// secretWords are the keywords after which a configuration line of FRR or
// NX-OS holds a secret, its hash or its encrypted form: "neighbor X
// password SECRET" (FRR), "password 3 KEY" (NX-OS neighbor), "username U
// password 5 HASH", "tacacs-server key 7 KEY", "key-string KEY", "snmp-server
// user U ROLE auth md5 KEY priv KEY", "ntp authentication-key N md5 KEY",
// "enable secret ...". Redacting too much is harmless: the quote only has
// to say which line it is.
var secretWords = map[string]bool{
	"password": true, "secret": true, "key": true, "key-string": true,
	"auth": true, "priv": true, "authentication-key": true, "md5": true,
	"community": true, "pre-shared-key": true,
}

// Redact replaces what follows the first secret keyword of a line (see
// secretWords) with "<redacted>". A line without one is returned as it is.
func Redact(line string) string {
	fields := strings.Fields(line)
	for i, f := range fields {
		if secretWords[strings.ToLower(f)] && i+1 < len(fields) {
			// Keep the line's own spacing up to the keyword.
			at := 0
			for j := 0; j <= i; j++ {
				at += strings.Index(line[at:], fields[j]) + len(fields[j])
			}
			return line[:at] + " <redacted>"
		}
	}
	return line
}

// DeviceLine renders one line of device output for an error or a log: its
// secrets redacted (Redact), runs of white space made one space, control and
// non-printable characters escaped as in Go strings, cut to MaxDeviceLine.
// Text after a line break is dropped: pass one line.
func DeviceLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return clip(Redact(s), MaxDeviceLine)
}

// Lines returns the lines of a reply that say something: not blank, and
// not NX-OS's caret line (blanks and one "^" under the error).
func Lines(out string) []string {
	var keep []string
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if t := strings.TrimSpace(l); t != "" && t != "^" {
			keep = append(keep, t)
		}
	}
	return keep
}

// Excerpt renders a switch's reply for an error: one of its lines through
// DeviceLine: the first that contains markers[0], else the first that
// contains markers[1], and so on (the platform's failure strings, most
// telling first), else the first one that says something (Lines), followed by
// "(+N more lines)" when the reply had more. It is "" for a reply that says
// nothing.
func Excerpt(out string, markers []string) string {
	lines := Lines(out)
	if len(lines) == 0 {
		return ""
	}
	pick := lines[0]
pick:
	for _, m := range markers {
		for _, l := range lines {
			if m != "" && strings.Contains(l, m) {
				pick = l
				break pick
			}
		}
	}
	q := DeviceLine(pick)
	if len(lines) > 1 {
		q += fmt.Sprintf(" (+%d more lines)", len(lines)-1)
	}
	return q
}
