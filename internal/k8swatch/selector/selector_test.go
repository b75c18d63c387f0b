package selector

import "testing"

func TestMatches(t *testing.T) {
	labels := map[string]string{"rack": "a", "zone": "eu-1", "route-reflector": "true", "kubernetes.io/hostname": "k8c1m0"}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"all()", true},
		{"global()", true},
		{"has(rack)", true},
		{"has('route-reflector')", true},
		{"has(missing)", false},
		{"!has(rack)", false},
		{"!has(missing)", true},
		{"rack == 'a'", true},
		{`rack == "b"`, false},
		{"missing == 'a'", false},
		{"rack != 'b'", true},
		{"rack != 'a'", false},
		{"missing != 'a'", true}, // absent label: != is true, as in Calico
		{"rack in {'a', 'b'}", true},
		{"rack in {'b'}", false},
		{"rack in {}", false},
		{"missing in {'a'}", false},
		{"rack not in {'b', 'c'}", true},
		{"rack not in {'a'}", false},
		{"missing not in {'a'}", true},
		{"zone contains 'eu'", true},
		{"zone starts with 'eu-'", true},
		{"zone ends with '-2'", false},
		{"kubernetes.io/hostname == 'k8c1m0'", true},
		{"rack == 'a' && zone == 'eu-1'", true},
		{"rack == 'a' && zone == 'us'", false},
		{"rack == 'b' || zone == 'eu-1'", true},
		{"rack == 'b' || zone == 'us'", false},
		// && binds tighter than ||
		{"rack == 'b' && zone == 'us' || has(rack)", true},
		{"rack == 'b' && (zone == 'us' || has(rack))", false},
		{"!(rack == 'b' || zone == 'us')", true},
		{"!!has(rack)", true},
		{"  has( rack )  &&  all( )", true},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			s, err := Parse(tt.sel)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.sel, err)
			}
			if got := s.Matches(labels); got != tt.want {
				t.Errorf("%q (parsed as %s) = %v, want %v", tt.sel, s, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, sel := range []string{
		"rack ==",
		"rack == a",
		"rack = 'a'",
		"has(rack",
		"(rack == 'a'",
		"rack == 'a')",
		"rack in {'a',}",
		"rack in 'a'",
		"rack == 'a' &&",
		"&& rack == 'a'",
		"rack == 'unterminated",
		"rack == 'a' # comment",
		"all",
		"rack",
		"has()",
	} {
		if s, err := Parse(sel); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", sel, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"all()", "has(a) && b in {'x'}", "!(a == 'b' || c != \"d\")", "a not in {}", "a starts with 'x'", `a == 'q"q'`, "has(\"x y\")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			return
		}
		// A parsed selector prints as a selector that parses to the same meaning.
		again, err := Parse(sel.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, sel.String(), err)
		}
		l := map[string]string{"a": "x", "b": "y"}
		if sel.Matches(l) != again.Matches(l) {
			t.Fatalf("%q and its printed form %q disagree", s, sel.String())
		}
	})
}
