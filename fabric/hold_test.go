package fabric

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestHoldBack(t *testing.T) {
	p193, p195 := peer("leaf201", "192.168.9.193", 63551), peer("leaf201", "192.168.9.195", 63553)
	filter := func(node, addr string, rules ...PrefixRule) PrefixFilter {
		return PrefixFilter{Switch: "leaf201", Node: node, PeerAddress: addr, Prefixes: rules}
	}
	block := PrefixRule{Prefix: "172.27.15.192/26", LE: 26}
	lb := PrefixRule{Prefix: "172.29.0.0/16", LE: 32}
	svcSubnet := ExternalSubnet{Group: "EPG_K8_APP_X", Prefix: "172.29.0.6/32", Scopes: []Scope{ScopeImportSecurity}}
	nodesSubnet := ExternalSubnet{Group: "EPG_K8_NODES", Prefix: "192.168.9.192/28", Scopes: []Scope{ScopeImportSecurity}}
	paths := func(n int) MaximumPaths { return MaximumPaths{Switch: "leaf201", AddressFamily: IPv4, Paths: n} }

	tests := []struct {
		name     string
		desired  State
		observed State
		holds    []Hold
		changes  []string
		held     []string
	}{
		{
			name:     "a skipped node keeps its peer and filter; the others change",
			desired:  StateOf(p193),
			observed: StateOf(p193, p195, filter(p195.Node, "192.168.9.195", block)),
			holds:    []Hold{{Kind: KindBGPPeer, Node: p195.Node, Reason: "skipped"}, {Kind: KindPrefixFilter, Node: p195.Node, Reason: "skipped"}},
			held:     []string{"delete PrefixFilter leaf201/192.168.9.195", "delete BGPPeer leaf201/192.168.9.195"},
		},
		{
			name:     "shrink-only holds a lower maximum-paths and lets a higher one through",
			desired:  StateOf(paths(2)),
			observed: StateOf(paths(3)),
			holds:    []Hold{{Kind: KindMaximumPaths, ShrinkOnly: true, Reason: "r"}},
			held:     []string{"update MaximumPaths leaf201/ipv4"},
		},
		{
			name:     "shrink-only lets a growth through",
			desired:  StateOf(paths(4)),
			observed: StateOf(paths(3)),
			holds:    []Hold{{Kind: KindMaximumPaths, ShrinkOnly: true, Reason: "r"}},
			changes:  []string{"update MaximumPaths leaf201/ipv4"},
		},
		{
			name:     "shrink-only holds a filter that loses a rule, not one that gains",
			desired:  StateOf(filter("a", "10.0.0.1", block), filter("b", "10.0.0.2", block, lb)),
			observed: StateOf(filter("a", "10.0.0.1", block, lb), filter("b", "10.0.0.2", block)),
			holds:    []Hold{{Kind: KindPrefixFilter, ShrinkOnly: true, Reason: "r"}},
			changes:  []string{"update PrefixFilter leaf201/10.0.0.2"},
			held:     []string{"update PrefixFilter leaf201/10.0.0.1"},
		},
		{
			name:     "a group hold and a not-groups hold",
			desired:  State{},
			observed: StateOf(svcSubnet, nodesSubnet),
			holds:    []Hold{{Kind: KindExternalSubnet, NotGroups: []string{"EPG_K8_NODES"}, Reason: "no services"}},
			changes:  []string{"delete ExternalSubnet EPG_K8_NODES/192.168.9.192/28"},
			held:     []string{"delete ExternalSubnet EPG_K8_APP_X/172.29.0.6/32"},
		},
		{
			name:     "a peers hold covers only addresses in its prefixes",
			desired:  State{},
			observed: StateOf(p193, peer("leaf201", "10.1.1.1", 65001)),
			holds:    []Hold{{Kind: KindBGPPeer, Peers: []string{"192.168.9.192/28"}, Reason: "r"}},
			changes:  []string{"delete BGPPeer leaf201/10.1.1.1"},
			held:     []string{"delete BGPPeer leaf201/192.168.9.193"},
		},
		{
			name:    "creates are never held",
			desired: StateOf(p193),
			holds:   []Hold{{Kind: KindBGPPeer, Reason: "r"}},
			changes: []string{"create BGPPeer leaf201/192.168.9.193"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Diff(Target{Name: "f", State: tc.desired, Holds: tc.holds}, Observed{Owned: tc.observed})
			var changes, held []string
			for _, c := range p.Changes {
				changes = append(changes, string(c.Action)+" "+c.Key().String())
			}
			for _, h := range p.Held {
				held = append(held, string(h.Action)+" "+h.Key().String())
				if h.Reason == "" {
					t.Errorf("held %s without a reason", h.Key())
				}
			}
			if strings.Join(changes, "\n") != strings.Join(tc.changes, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.Join(tc.changes, "\n"))
			}
			if strings.Join(held, "\n") != strings.Join(tc.held, "\n") {
				t.Errorf("held:\n%s\nwant:\n%s", strings.Join(held, "\n"), strings.Join(tc.held, "\n"))
			}
		})
	}
}

func TestHeldJSONRoundTrip(t *testing.T) {
	fp := Diff(Target{Name: "f", Driver: "aci", Holds: []Hold{{Kind: KindBGPPeer, Reason: "Node/n was skipped"}}},
		Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 63551))})
	fp.Refused = "too many deletes"
	b, err := json.Marshal(NewPlan([]Changeset{fp}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reason":"Node/n was skipped"`) || !strings.Contains(string(b), `"refused":"too many deletes"`) {
		t.Fatalf("json lacks the held reason or the refusal: %s", b)
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	h := back.Fabrics[0].Held
	if len(h) != 1 || h[0].Reason != "Node/n was skipped" || h[0].Action != ActionDelete || h[0].Before == nil || back.Fabrics[0].Refused == "" {
		t.Fatalf("round trip lost the held change: %+v", back.Fabrics[0])
	}
}

// Names and reasons come from the cluster or from a saved file: none can
// forge a line of the text plan, whatever it holds.
func TestTextCannotBeForged(t *testing.T) {
	forged := "\n\nPlan: 0 to add, 0 to change, 0 to destroy.\n"
	fp := Changeset{Name: "f", Driver: "aci",
		Changes:   []Change{{Action: ActionDelete, Kind: KindBGPPeer, Switch: "leaf\n201", ID: "10.9.9.9\nno router bgp 63500", Before: peer("leaf201", "10.9.9.9", 1)}},
		Conflicts: []Conflict{{Kind: KindContract, ID: "c" + forged, Reason: "r" + forged}},
		Held:      []Held{{Change: Change{Action: ActionDelete, Kind: KindBGPPeer, ID: "x" + forged, Before: peer("s", "10.0.0.1", 1)}, Reason: forged}}}
	p := NewPlan([]Changeset{fp, {Name: "g" + forged, Error: "observe: " + forged}},
		[]Skip{{Object: "Service/ns" + forged, Reason: strings.Repeat("x", 10000)}}, []string{"w" + forged})
	var buf bytes.Buffer
	if err := WriteText(&buf, p); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "Plan:") {
			n++
		}
		if strings.HasPrefix(strings.TrimSpace(l), "no router bgp") {
			t.Errorf("forged line %q", l)
		}
		if len(l) > 2*SafeMax+100 {
			t.Errorf("line of %d characters", len(l))
		}
	}
	if n != 1 {
		t.Fatalf("%d lines start with Plan:, want 1:\n%s", n, buf.String())
	}
}

func TestFailedFabricNeverSaysNoChanges(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, NewPlan([]Changeset{{Name: "f", Driver: "aci", Error: "observe: connection refused"}}, nil, nil)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "No changes") || !strings.Contains(buf.String(), "NOT PLANNED: observe: connection refused") {
		t.Fatalf("text:\n%s", buf.String())
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"EPG_K8_APP_MCAST": "EPG_K8_APP_MCAST",
		"a\nb":             `"a\nb"`,
		"zero\u200bwidth":  `"zero\u200bwidth"`,
		"tab\there":        `"tab\there"`,
		"кириллица":        "кириллица",
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Safe(strings.Repeat("a", 1000)); len(got) != SafeMax+3 {
		t.Errorf("long string not cut: %d", len(got))
	}
}

// A container the cluster does not own ("<group>/*") makes everything the
// plan would put into it a conflict, and a contract it would provide too.
func TestWideForeign(t *testing.T) {
	sub := ExternalSubnet{Group: "EPG_X", Prefix: "172.29.0.6/32", Scopes: []Scope{ScopeImportSecurity}}
	other := ExternalSubnet{Group: "EPG_XY", Prefix: "172.29.0.7/32", Scopes: []Scope{ScopeImportSecurity}}
	c := Contract{Name: "CNT_X", Provider: "EPG_X", Entries: []ContractEntry{{Protocol: "tcp", Port: 80}}}
	p := Diff(Target{State: StateOf(sub, other, c)}, Observed{Foreign: []Foreign{{Kind: KindExternalSubnet, ID: "EPG_X/" + AnyID}}})
	var conflicts, changes []string
	for _, c := range p.Conflicts {
		conflicts = append(conflicts, Key{Kind: c.Kind, ID: c.ID}.String()+": "+c.Reason)
	}
	for _, c := range p.Changes {
		changes = append(changes, c.Key().String())
	}
	want := []string{
		"ExternalSubnet EPG_X/172.29.0.6/32: EPG_X, without an ownership mark, is in the way; nothing is added to it",
		"Contract CNT_X: its provider EPG_X, without an ownership mark, is in the way; nothing is added to it",
	}
	if strings.Join(conflicts, "\n") != strings.Join(want, "\n") || strings.Join(changes, ",") != "ExternalSubnet EPG_XY/172.29.0.7/32" {
		t.Fatalf("conflicts:\n%s\nchanges %v", strings.Join(conflicts, "\n"), changes)
	}
}

// A session's password never appears in a plan: only a fingerprint, and
// whether it changes.
func TestSecretNeverShows(t *testing.T) {
	const pw = "BGP-MD5-KIWI-4410"
	before := peer("leaf201", "192.168.9.193", 63551)
	before.Password = NewSecret("old-"+pw, "haystack/192.168.9.193")
	after := before
	after.Password = NewSecret(pw, "haystack/192.168.9.193")
	after.MaxPrefix = &MaxPrefix{Limit: 100, Action: MaxPrefixRestart, RestartMinutes: 5}
	p := Diff(Target{Name: "f", State: StateOf(after)}, Observed{Owned: StateOf(before)})
	var text, md bytes.Buffer
	_ = WriteText(&text, NewPlan([]Changeset{p}, nil, nil))
	_ = WriteMarkdown(&md, NewPlan([]Changeset{p}, nil, nil))
	js, _ := json.Marshal(NewPlan([]Changeset{p}, nil, nil))
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String(), "json": string(js), "%v": fmt.Sprintf("%v %+v %#v", after, after, after)} {
		if strings.Contains(out, pw) {
			t.Errorf("%s shows the password:\n%s", name, out)
		}
	}
	if !strings.Contains(text.String(), "~ password") || !strings.Contains(text.String(), "(sensitive, fingerprint ") || !strings.Contains(text.String(), "100 (restart after 5 min)") {
		t.Errorf("the text plan does not say the password changes:\n%s", text.String())
	}
	same := after
	same.Password = NewSecret(pw, "haystack/192.168.9.193")
	if p := Diff(Target{Name: "f", State: StateOf(same)}, Observed{Owned: StateOf(after)}); len(p.Changes) != 0 {
		t.Errorf("an unchanged password is planned: %+v", p.Changes)
	}
	var back Plan
	if err := json.Unmarshal(js, &back); err != nil || back.Fabrics[0].Changes[0].After.(BGPPeer).Password.Fingerprint() != after.Password.Fingerprint() {
		t.Errorf("the fingerprint does not survive a round trip: %v", err)
	}
}
