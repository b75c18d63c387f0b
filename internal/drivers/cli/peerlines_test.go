package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// TestPeerLines plans the option lines of a neighbor from what it holds to
// what it must: only what differs, removals first, no-forms short or in
// full as the platform writes them, and the model left as the lines leave
// it (read back, the lines give the same options).
func TestPeerLines(t *testing.T) {
	timers := fabric.PeerOptions{Keepalive: 3, Hold: 9}
	ttl := fabric.PeerOptions{TTLSecurityHops: 1}
	both := fabric.PeerOptions{Keepalive: 3, Hold: 9, TTLSecurityHops: 1}
	for _, tc := range []struct {
		name       string
		have, want fabric.PeerOptions
		inFull     bool
		lines      []string
	}{
		{"nothing to do", both, both, false, nil},
		{"set", fabric.PeerOptions{}, both, false, []string{"timers 3 9", "ttl-security hops 1"}},
		{"changed", timers, fabric.PeerOptions{Keepalive: 10, Hold: 30}, false, []string{"timers 10 30"}},
		{"removed, short no-forms", both, fabric.PeerOptions{}, false, []string{"no timers", "no ttl-security hops 1"}},
		{"removed, no-forms in full", both, fabric.PeerOptions{}, true, []string{"no timers 3 9", "no ttl-security hops 1"}},
		{"one removed before another is set", ttl, timers, false, []string{"no ttl-security hops 1", "timers 3 9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Planner{NoFormsInFull: tc.inFull}
			have := tc.have
			var got []string
			p.PeerLines(&have, tc.want, func(no bool, line string) {
				if no {
					line = "no " + line
				}
				got = append(got, line)
			})
			if !reflect.DeepEqual(got, tc.lines) {
				t.Errorf("lines %q, want %q", got, tc.lines)
			}
			if have != tc.want {
				t.Errorf("model %+v after the lines, want %+v", have, tc.want)
			}
			var read fabric.PeerOptions
			for _, l := range PeerLines {
				if s := l.Line(tc.want); s != "" {
					if ok, err := ReadPeerLine(strings.Fields(s), &read); !ok || err != nil {
						t.Errorf("%q read back: %v %v", s, ok, err)
					}
				}
			}
			if read != tc.want {
				t.Errorf("lines read back as %+v, want %+v", read, tc.want)
			}
		})
	}
}

// TestReadPeerLineErrors: a value that is not a number is an error that
// quotes it; a line of the same words that is not the option is not read.
func TestReadPeerLineErrors(t *testing.T) {
	for _, tc := range []struct {
		line    string
		ok      bool
		wantErr string
	}{
		{"timers x 9", true, `timers "x" "9"`},
		{"ttl-security hops many", true, `ttl-security hops "many"`},
		{"timers connect 10", false, ""},
		{"description timers 3 9", false, ""},
	} {
		var o fabric.PeerOptions
		ok, err := ReadPeerLine(strings.Fields(tc.line), &o)
		if ok != tc.ok || (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
			t.Errorf("%q: %v %v", tc.line, ok, err)
		}
	}
}
