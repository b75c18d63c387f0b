package aci

import (
	"strings"
	"testing"
)

func TestACINames(t *testing.T) {
	tests := []struct {
		in      string
		want    string // "" means: check only validity and length
		wantErr bool
	}{
		{"EPG_K8_APP_MULTICAST_MCAST", "EPG_K8_APP_MULTICAST_MCAST", false},
		{"EPG-a.b_c", "EPG-a.b_c", false},
		{strings.Repeat("x", 64), strings.Repeat("x", 64), false},
		{strings.Repeat("x", 65), "", false},
		{"EPG with space", "", false},
		{"EPG:colon", "", false},
		{"bad]name", "", false},
		{"new\nline", "", true},
		{"tab\there", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := aciName(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("aciName(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("aciName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) > 64 || strings.IndexFunc(got, func(r rune) bool { return !aciNameChar(r) }) >= 0 {
			t.Errorf("aciName(%q) = %q is not a valid ACI name", tt.in, got)
		}
		again, _ := aciName(tt.in)
		if again != got {
			t.Errorf("aciName(%q) is not stable", tt.in)
		}
	}
	// Shortened names keep distinct inputs distinct.
	a, _ := aciName(strings.Repeat("x", 70) + "a")
	b, _ := aciName(strings.Repeat("x", 70) + "b")
	c, _ := aciName("a b")
	d, _ := aciName("a_b")
	if a == b || c == d {
		t.Errorf("collisions: %q %q / %q %q", a, b, c, d)
	}
	long, err := expandTemplate("EPG_K8_APP_{NAMESPACE}_{NAME}", strings.Repeat("n", 63), strings.Repeat("s", 63))
	if err != nil || len(long) != 64 || !strings.HasPrefix(long, "EPG_K8_APP_NNN") {
		t.Errorf("long template = %q, %v", long, err)
	}
}
