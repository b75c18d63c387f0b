package nxossim

import (
	"strings"
	"testing"
)

func caret(col int, msg string) string { return strings.Repeat(" ", col) + "^\n" + msg + "\n" }

// TestErrorReplies checks NX-OS's replies to lines outside the grammar: the
// message and the caret under the first character no command could
// continue (prompt lengths: "leaf201# " 9, "leaf201(config)# " 17,
// "leaf201(config-router)# " 24, "leaf201(config-router-af)# " 27,
// "leaf201(config-route-map)# " 27, "leaf201(config-router-neighbor)# " 33,
// "leaf201(config-router-neighbor-af)# " 36). The router mode has
// maxas-limit, so "maximum-paths" there is marked at its fourth letter.
func TestErrorReplies(t *testing.T) {
	router := []string{"configure terminal", "router bgp 63500"}
	nbr := append(append([]string(nil), router...), "neighbor 192.168.9.193")
	naf := append(append([]string(nil), nbr...), "address-family ipv4 unicast")
	rm := []string{"configure terminal", "route-map RM permit 10"}
	long := strings.Repeat("x", 81)
	cases := []struct {
		name    string
		noBGP   bool // switch without feature bgp
		setup   []string
		line    string
		want    string
		applied string // substring expected in show running-config afterwards
	}{
		{name: "typo in keyword", line: "show versoin", want: caret(18, msgInvalid)},
		{name: "incomplete", line: "show", want: caret(13, msgIncomplete)},
		{name: "incomplete after keyword", line: "configure session", want: caret(26, msgIncomplete)},
		{name: "trailing token", line: "show running-config bgp extra", want: caret(33, msgInvalid)},
		{name: "ambiguous abbreviation", setup: []string{"configure terminal"}, line: "s", want: caret(17, msgAmbiguous)},
		{name: "abbreviations accepted", line: "sh run b", want: "\n!Command: show running-config bgp\n"},
		{name: "ASN out of range", setup: []string{"configure terminal"}, line: "router bgp 4294967296", want: caret(28, msgRange)},
		{name: "ASN not a number", setup: []string{"configure terminal"}, line: "router bgp 65x", want: caret(28, msgInvalid)},
		{name: "asdot ASN", setup: []string{"configure terminal"}, line: "router bgp 1.10", want: "", applied: "router bgp 1.10"},
		{name: "router bgp without the feature", noBGP: true, setup: []string{"configure terminal"}, line: "router bgp 1", want: caret(24, msgInvalid)},
		{name: "show ip bgp without the feature", noBGP: true, line: "show ip bgp summary", want: caret(17, msgInvalid)},
		{name: "second BGP instance", setup: []string{"configure terminal", "router bgp 63500", "end", "configure terminal"},
			line: "router bgp 65001", want: "ERROR: BGP is already running; AS is 63500\n"},
		{name: "bad prefix length", setup: []string{"configure terminal"}, line: "ip prefix-list PL permit 10.0.0.0/33", want: caret(42, msgPrefix)},
		{name: "IPv6 prefix in ip prefix-list", setup: []string{"configure terminal"}, line: "ip prefix-list PL permit 2001:db8::/32", want: caret(42, msgPrefix)},
		{name: "name with semicolon", setup: []string{"configure terminal"}, line: "ip prefix-list bad;name permit 10.0.0.0/8", want: caret(32, msgParam)},
		{name: "name with bracket", setup: []string{"configure terminal"}, line: "route-map rm] permit 10", want: caret(27, msgParam)},
		{name: "le equal to length", setup: []string{"configure terminal"}, line: "ip prefix-list PL permit 10.0.0.0/8 le 8",
			want: "ERROR: Invalid prefix range for 10.0.0.0/8, make sure: len < ge-value <= le-value\n"},
		{name: "ge above le", setup: []string{"configure terminal"}, line: "ip prefix-list PL permit 10.0.0.0/8 ge 24 le 16",
			want: "ERROR: Invalid prefix range for 10.0.0.0/8, make sure: len < ge-value <= le-value\n"},
		{name: "le out of range", setup: []string{"configure terminal"}, line: "ip prefix-list PL permit 10.0.0.0/8 le 33", want: caret(56, msgRange)},
		{name: "short no-form of a prefix-list entry (not in Cisco's syntax)", setup: []string{"configure terminal", "ip prefix-list PL seq 5 permit 10.0.0.0/8"},
			line: "no ip prefix-list PL seq 5", want: caret(43, msgIncomplete), applied: "ip prefix-list PL seq 5 permit 10.0.0.0/8"},
		{name: "documented no-form of a prefix-list entry", setup: []string{"configure terminal", "ip prefix-list PL seq 5 permit 10.0.0.0/8", "ip prefix-list PL seq 10 deny 0.0.0.0/0 le 32"},
			line: "no ip prefix-list PL seq 5 permit 10.0.0.0/8", want: "", applied: "ip prefix-list PL seq 10 deny 0.0.0.0/0 le 32"},
		{name: "bad neighbor address", setup: router, line: "neighbor 10.0.0.256", want: caret(33, msgIPAddr)},
		{name: "maximum-paths belongs to the address family", setup: router, line: "maximum-paths 3", want: caret(27, msgInvalid)},
		{name: "maximum-paths out of range", setup: append(append([]string(nil), router...), "address-family ipv4 unicast"),
			line: "maximum-paths 65", want: caret(41, msgRange)},
		{name: "description too long", setup: nbr, line: "description " + long, want: caret(45, msgParam)},
		{name: "bad interface", setup: nbr, line: "update-source foo0", want: caret(47, msgIface)},
		{name: "interface normalised", setup: nbr, line: "update-source lo0", applied: "update-source loopback0"},
		{name: "local-as equal to router AS", setup: nbr, line: "local-as 63500",
			want: "ERROR: local-as cannot be the same as the router's AS 63500\n"},
		{name: "bad direction", setup: naf, line: "prefix-list PL sideways", want: caret(51, msgInvalid)},
		{name: "route-map in", setup: naf, line: "route-map RM in", applied: "      route-map RM in"},
		{name: "not implemented keyword", setup: router, line: "timers bgp 3 9", want: msgNotImpl + "\n"},
		{name: "match list with bad name", setup: rm, line: "match ip address prefix-list A B;C", want: caret(58, msgParam)},
		{name: "chained commands", setup: []string{"configure terminal"}, line: "hostname spine1 ; hostname spine2", applied: "hostname spine2"},
		{name: "description swallows a semicolon", setup: nbr, line: "description x ; remote-as 1", applied: "    description x ; remote-as 1\n"},
		{name: "non-ASCII description", setup: nbr, line: "description caf\xc3\xa9", want: caret(45, msgParam)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, func(o *Options) {
				if tc.noBGP {
					o.StartupConfig = nil
				}
			})
			rt := openTerm(t, s, 0)
			prompt := "leaf201# "
			for _, l := range tc.setup {
				out := rt.run(l, "# ")
				if strings.Contains(out, "%") || strings.Contains(out, "ERROR") {
					t.Fatalf("setup %q: %q", l, out)
				}
				prompt = out[strings.LastIndex(out, "\n")+1:]
			}
			if len(tc.setup) == 0 {
				prompt = "leaf201# "
			}
			got := rt.run(tc.line, "# ")
			got = strings.TrimPrefix(got, tc.line+"\n")
			if !strings.HasSuffix(got, prompt) && tc.applied == "" {
				t.Errorf("prompt changed: %q", got)
			}
			if i := strings.LastIndex(got, "\n"); i >= 0 {
				got = got[:i+1]
			} else {
				got = ""
			}
			if tc.applied == "" || tc.want != "" {
				if tc.name == "abbreviations accepted" {
					if !strings.HasPrefix(got, tc.want) {
						t.Errorf("got %q", got)
					}
				} else if got != tc.want {
					t.Errorf("reply %q\nwant  %q", got, tc.want)
				}
			}
			if tc.applied != "" {
				run, _ := s.Show("show running-config")
				if !strings.Contains(run, tc.applied) {
					t.Errorf("running config lacks %q:\n%s", tc.applied, run)
				}
			}
		})
	}
}
