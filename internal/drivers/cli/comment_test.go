package cli

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

func TestCommentID(t *testing.T) {
	long := strings.Repeat("a", MaxCommentID+20)
	tests := []struct{ in, want string }{
		{"192.168.9.193", "192.168.9.193"},
		{"2001:db8::9", "2001:db8::9"},
		{"leaf201", "leaf201"},
		{"10.9.9.9\nno router bgp 63500\n!", `"10.9.9.9\nno router bgp 63500\n!"`},
		{"a\rb", `"a\rb"`},
		{"esc\x1b[2Jx", `"esc\x1b[2Jx"`},
		{"with space", `"with space"`},
		{"quo\"te", `"quo\"te"`},
		{`back\slash`, `"back\\slash"`},
		{"lea\u0444201", `"lea\u0444201"`},           // Cyrillic
		{"zero\u200bwidth", `"zero\u200bwidth"`},     // zero-width space
		{"rtl\u202eoverride", `"rtl\u202eoverride"`}, // bidi override
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"", `""`},
		{strings.Repeat("a", MaxCommentID), strings.Repeat("a", MaxCommentID)},
		{long, `"` + strings.Repeat("a", MaxCommentID) + `"...`},
		{strings.Repeat("\u0444", 60), `"` + strings.Repeat(`\u0444`, MaxCommentID/2) + `"...`},
	}
	for _, tt := range tests {
		got := CommentID(tt.in)
		if got != tt.want {
			t.Errorf("CommentID(%q) = %s, want %s", tt.in, got, tt.want)
		}
		assertOneSafeLine(t, got)
	}
}

func TestCommentKey(t *testing.T) {
	tests := []struct {
		key  fabric.Key
		want string
	}{
		{fabric.Key{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193"}, "BGPPeer leaf201/192.168.9.193"},
		{fabric.Key{Kind: fabric.KindContract, ID: "c"}, "Contract c"},
		{fabric.Key{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "10.9.9.9\nno router bgp 63500\n!"},
			`BGPPeer leaf201/"10.9.9.9\nno router bgp 63500\n!"`},
		{fabric.Key{Kind: "Evil\nKind", Switch: "leaf\n201", ID: "x"}, `"Evil\nKind" "leaf\n201"/x`},
	}
	for _, tt := range tests {
		got := CommentKey(tt.key)
		if got != tt.want {
			t.Errorf("CommentKey(%+v) = %s, want %s", tt.key, got, tt.want)
		}
		assertOneSafeLine(t, got)
	}
}

func TestCommentText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`node name "bad;node": contains ';'`, `node name "bad;node": contains ';'`},
		{"line one\nline two\r\n  three", "line one line two three"},
		{"a\u2028b\u0085c", "a b c"}, // Unicode line and next-line separators are white space
		{"bell\x07 esc\x1b[31m del\x7f", `bell\a esc\x1b[31m del\x7f`},
		{"nul\x00", `nul\x00`},
		{"bidi\u202e", `bidi\u202e`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"Gr\u00fc\u00dfe", "Gr\u00fc\u00dfe"}, // printable Unicode stays readable
		{strings.Repeat("x", MaxCommentText+5), strings.Repeat("x", MaxCommentText) + "..."},
	}
	for _, tt := range tests {
		got := CommentText(tt.in)
		if got != tt.want {
			t.Errorf("CommentText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		assertOneSafeLine(t, got)
	}
}

// TestWriteNotesEscapes: a refusal and a conflict whose ids carry CLI
// syntax (a tampered saved observation, red-team case 2.3) stay one comment
// line each.
func TestWriteNotesEscapes(t *testing.T) {
	evil := "10.9.9.9\nno router bgp 63500\n!"
	s := NewScript(Dialect{})
	s.Begin(fabric.Change{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: evil})
	s.Refuse(&InputError{Field: "peer address", Value: evil, Reason: "contains a line break"})
	s.Begin(fabric.Change{Action: fabric.ActionCreate, Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: evil})
	s.Conflict("", "neighbor "+evil+" is in the way")
	var b strings.Builder
	WriteNotes(&b, s, func(s string) string { return s })
	want := `! refused delete BGPPeer leaf201/"10.9.9.9\nno router bgp 63500\n!": peer address "10.9.9.9\nno router bgp 63500\n!": contains a line break` + "\n" +
		`! conflict PrefixFilter leaf201/"10.9.9.9\nno router bgp 63500\n!": neighbor 10.9.9.9 no router bgp 63500 ! is in the way` + "\n"
	if b.String() != want {
		t.Fatalf("notes:\n%s\nwant:\n%s", b.String(), want)
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if !strings.HasPrefix(l, "! ") {
			t.Errorf("line %q is not a comment", l)
		}
	}
	if msgs := s.Result(0).Messages; len(msgs) != 1 || strings.Contains(msgs[0], "\n") {
		t.Errorf("result messages %q", msgs)
	}
}

func assertOneSafeLine(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' || r == '\u202e' || r == '\u200b' {
			t.Errorf("%q holds %U", s, r)
		}
	}
}
