package cli

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Rendered configuration (plan -o native) is read by people and may be
// pasted into a switch, so every "!" comment must stay one comment line
// whatever the values in it: an id from a tampered saved observation
// ("10.9.9.9\nno router bgp 63500") must not end the comment and start a
// configuration line. The helpers below make values safe for a comment.

// MaxCommentID is the longest id or name a comment shows before cutting it.
const MaxCommentID = 100

// MaxCommentText is the longest free text (an error, a reason) a comment
// shows before cutting it.
const MaxCommentText = 400

// CommentID returns an id or name (switch, object id, kind) for a comment:
// as it is when it is 1-MaxCommentID printable ASCII characters without
// spaces, otherwise Go-quoted in ASCII (control and non-ASCII characters
// escaped) and cut to MaxCommentID characters, so that it can be told apart
// from a clean id and never breaks the line.
func CommentID(s string) string {
	clean := s != "" && len(s) <= MaxCommentID
	for i := 0; clean && i < len(s); i++ {
		clean = s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\'
	}
	if clean {
		return s
	}
	if len(s) > MaxCommentID {
		return strconv.QuoteToASCII(truncate(s, MaxCommentID)) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// CommentKey returns an object's key for a comment: "Kind switch/id", each
// part through CommentID.
func CommentKey(k fabric.Key) string {
	kind := CommentID(string(k.Kind))
	if k.Switch == "" {
		return kind + " " + CommentID(k.ID)
	}
	return kind + " " + CommentID(k.Switch) + "/" + CommentID(k.ID)
}

// CommentText returns free text for a comment: runs of white space (line
// breaks included) become one space, other control and non-printable
// characters are escaped as in Go strings, and the text is cut to
// MaxCommentText characters. Printable text is kept as it is.
func CommentText(s string) string { return clip(s, MaxCommentText) }

// clip is CommentText with another length limit, in characters.
func clip(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	n := 0
	for i, r := range s {
		if n >= max {
			b.WriteString("...")
			break
		}
		n++
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i]), 16))
		case r < 0x80 && r >= 0x20 && r != 0x7f, r >= 0x80 && unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// validAt reports whether the byte at i starts a valid UTF-8 sequence
// (utf8.RuneError is also a valid, printable rune).
func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || size > 1
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
