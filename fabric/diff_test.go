package fabric

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func peer(sw, addr string, remote uint32) BGPPeer {
	return BGPPeer{Switch: sw, Node: "n-" + addr, PeerAddress: addr, RemoteASN: remote, LocalASN: 63500, AddressFamily: IPv4}
}

func TestDiff(t *testing.T) {
	nodes := ExternalSubnet{Group: "EPG_K8_NODES", Prefix: "192.168.9.192/28", Scopes: []Scope{ScopeImportSecurity}}
	tests := []struct {
		name      string
		desired   State
		observed  Observed
		want      []string // "action key"
		conflicts []string
	}{
		{
			name:    "empty fabric: everything is created",
			desired: StateOf(peer("leaf201", "192.168.9.193", 63551), nodes),
			want:    []string{"create ExternalSubnet EPG_K8_NODES/192.168.9.192/28", "create BGPPeer leaf201/192.168.9.193"},
		},
		{
			name:     "in place: nothing to do",
			desired:  StateOf(peer("leaf201", "192.168.9.193", 63551), nodes),
			observed: Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 63551), nodes)},
		},
		{
			name:     "changed attribute: update",
			desired:  StateOf(peer("leaf201", "192.168.9.193", 63551)),
			observed: Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 65000))},
			want:     []string{"update BGPPeer leaf201/192.168.9.193"},
		},
		{
			name:     "owned but no longer desired: delete",
			desired:  StateOf(peer("leaf201", "192.168.9.193", 63551)),
			observed: Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 63551), peer("leaf201", "192.168.9.196", 63554))},
			want:     []string{"delete BGPPeer leaf201/192.168.9.196"},
		},
		{
			name:      "foreign object in the way: conflict, no change",
			desired:   StateOf(peer("leaf201", "192.168.9.193", 63551), nodes),
			observed:  Observed{Foreign: []Foreign{{Kind: KindExternalSubnet, ID: "EPG_K8_NODES/192.168.9.192/28", Owner: "orchestrator:terraform"}}},
			want:      []string{"create BGPPeer leaf201/192.168.9.193"},
			conflicts: []string{"ExternalSubnet EPG_K8_NODES/192.168.9.192/28"},
		},
		{
			name:     "foreign objects that are not desired are never deleted",
			desired:  State{},
			observed: Observed{Foreign: []Foreign{{Kind: KindBGPPeer, Switch: "leaf201", ID: "10.0.0.1"}}},
		},
		{
			name:     "same peer address on two switches are two objects",
			desired:  StateOf(peer("leaf201", "192.168.9.193", 63551), peer("leaf202", "192.168.9.193", 63551)),
			observed: Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 63551))},
			want:     []string{"create BGPPeer leaf202/192.168.9.193"},
		},
		{
			name: "canonical forms compare equal: scope order, IPv6 text, prefix-rule order",
			desired: StateOf(
				ExternalSubnet{Group: "G", Prefix: "2001:db8::/64", Scopes: []Scope{ScopeImportSecurity, ScopeExportRtctrl}},
				PrefixFilter{Switch: "s", Node: "n", PeerAddress: "2001:db8::1", Prefixes: []PrefixRule{{"2001:db8:1::/64", 128}, {"2001:db8::/122", 122}}}),
			observed: Observed{Owned: StateOf(
				ExternalSubnet{Group: "G", Prefix: "2001:0db8::/64", Scopes: []Scope{ScopeExportRtctrl, ScopeImportSecurity}},
				PrefixFilter{Switch: "s", Node: "n", PeerAddress: "2001:db8:0::1", Prefixes: []PrefixRule{{"2001:db8::/122", 122}, {"2001:db8:1::/64", 128}}})},
		},
		{
			name: "maximum-paths change",
			desired: StateOf(MaximumPaths{AddressFamily: IPv4, Paths: 3},
				Contract{Name: "C", Provider: "P", Consumers: []string{"b", "a"}, Entries: []ContractEntry{{"TCP", 443}, {"tcp", 80}}}),
			observed: Observed{Owned: StateOf(MaximumPaths{AddressFamily: IPv4, Paths: 2},
				Contract{Name: "C", Provider: "P", Consumers: []string{"a", "b"}, Entries: []ContractEntry{{"tcp", 80}, {"tcp", 443}}})},
			want: []string{"update MaximumPaths ipv4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := Diff(Target{Name: "f", Driver: "aci", State: tt.desired}, tt.observed)
			var got []string
			for _, c := range plan.Changes {
				got = append(got, string(c.Action)+" "+c.Key().String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("changes:\n got %q\nwant %q", got, tt.want)
			}
			var conf []string
			for _, c := range plan.Conflicts {
				conf = append(conf, Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String())
			}
			if strings.Join(conf, "\n") != strings.Join(tt.conflicts, "\n") {
				t.Errorf("conflicts: got %q, want %q", conf, tt.conflicts)
			}
			for _, c := range plan.Changes {
				if c.Action == ActionUpdate && (c.Before == nil || c.After == nil) {
					t.Errorf("update %s without before and after", c.Key())
				}
			}
		})
	}
}

func TestDiffIsIdempotentAfterApply(t *testing.T) {
	desired := StateOf(peer("leaf201", "192.168.9.193", 63551), MaximumPaths{AddressFamily: IPv4, Paths: 3},
		ExternalSubnet{Group: "G", Prefix: "10.0.0.0/8", Scopes: []Scope{ScopeImportSecurity}})
	observed := Observed{Owned: StateOf(peer("leaf201", "192.168.9.199", 63559))}
	plan := Diff(Target{Name: "f", State: desired}, observed)

	// Apply the plan to the observed state the way a driver would.
	have := map[Key]Object{}
	for _, o := range observed.Owned.Objects() {
		have[KeyOf(o)] = o
	}
	for _, c := range plan.Changes {
		if c.Action == ActionDelete {
			delete(have, c.Key())
		} else {
			have[c.Key()] = c.After
		}
	}
	var after State
	for _, o := range have {
		after.Add(o)
	}
	if again := Diff(Target{Name: "f", State: desired}, Observed{Owned: after}); len(again.Changes) != 0 {
		t.Fatalf("second diff after applying the plan is not empty: %+v", again.Changes)
	}
}

func TestPlanJSONRoundTrip(t *testing.T) {
	fp := Diff(Target{Name: "haystack-aci", Driver: "aci", State: StateOf(
		peer("leaf201", "192.168.9.193", 63551),
		MaximumPaths{AddressFamily: IPv6, Paths: 4},
		Contract{Name: "C", Provider: "P", Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"}, Entries: []ContractEntry{{"tcp", 80}}},
		PrefixFilter{Switch: "leaf201", Node: "n", PeerAddress: "192.168.9.193", Prefixes: []PrefixRule{{"172.29.0.0/16", 32}}},
	)}, Observed{Owned: StateOf(
		peer("leaf201", "192.168.9.193", 1),
		ExternalSubnet{Group: "G", Prefix: "10.0.0.0/8", Scopes: []Scope{ScopeImportSecurity}},
	)})
	p := NewPlan([]Changeset{fp}, []Skip{{Object: "Service/a/b", Reason: "bad"}}, nil)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	back, err := ParsePlan(buf.Bytes())
	if err != nil {
		t.Fatalf("ParsePlan: %v\n%s", err, buf.String())
	}
	var again bytes.Buffer
	if err := WriteJSON(&again, back); err != nil {
		t.Fatal(err)
	}
	if buf.String() != again.String() {
		t.Fatalf("round trip changed the plan:\n%s\n---\n%s", buf.String(), again.String())
	}
	// MaximumPaths keeps its address family through the id.
	for _, c := range back.Fabrics[0].Changes {
		if m, ok := c.After.(MaximumPaths); ok && m.AddressFamily != IPv6 {
			t.Errorf("MaximumPaths address family lost: %+v", m)
		}
	}
}

func TestPlanJSONSchema(t *testing.T) {
	fp := Diff(Target{Name: "f", Driver: "frr", State: StateOf(
		peer("leaf201", "192.168.9.193", 63551),
		ExternalSubnet{Group: "G", Prefix: "10.0.0.0/8", Scopes: []Scope{ScopeImportSecurity}},
		MaximumPaths{Switch: "leaf201", AddressFamily: IPv4, Paths: 3},
		Contract{Name: "C", Provider: "P", Consumers: []string{"X"}, Entries: []ContractEntry{{"udp", 53}}},
		PrefixFilter{Switch: "leaf201", Node: "n", PeerAddress: "192.168.9.193", Prefixes: []PrefixRule{{"172.27.15.192/26", 26}}},
	)}, Observed{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, NewPlan([]Changeset{fp}, nil, nil)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	wantKeys := func(where string, m map[string]any, keys ...string) {
		t.Helper()
		if len(m) != len(keys) {
			t.Errorf("%s: keys %v, want exactly %v", where, mapKeys(m), keys)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: missing %q", where, k)
			}
		}
	}
	wantKeys("plan", doc, "formatVersion", "fabrics", "skipped")
	if doc["formatVersion"] != float64(1) {
		t.Errorf("formatVersion = %v", doc["formatVersion"])
	}
	if s, ok := doc["skipped"].([]any); !ok || len(s) != 0 {
		t.Errorf("skipped must be an empty list, got %v", doc["skipped"])
	}
	f := doc["fabrics"].([]any)[0].(map[string]any)
	wantKeys("fabric", f, "name", "driver", "changes", "summary")
	wantKeys("summary", f["summary"].(map[string]any), "create", "update", "delete")
	attrs := map[string][]string{
		"BGPPeer":        {"node", "peerAddress", "remoteASN", "localASN", "addressFamily"},
		"ExternalSubnet": {"group", "prefix", "scopes"},
		"MaximumPaths":   {"paths"},
		"Contract":       {"name", "provider", "consumers", "entries"},
		"PrefixFilter":   {"node", "peerAddress", "prefixes"},
	}
	for _, c := range f["changes"].([]any) {
		ch := c.(map[string]any)
		wantKeys("change", ch, "action", "kind", "switch", "id", "before", "after")
		if ch["before"] != nil {
			t.Errorf("create with before: %v", ch)
		}
		kind := ch["kind"].(string)
		wantKeys(kind, ch["after"].(map[string]any), attrs[kind]...)
		delete(attrs, kind)
	}
	if len(attrs) != 0 {
		t.Errorf("kinds not seen: %v", attrs)
	}
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestParsePlanRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"wrong version":         `{"formatVersion":2,"fabrics":[],"skipped":[]}`,
		"unknown kind":          `{"formatVersion":1,"fabrics":[{"name":"f","driver":"aci","changes":[{"action":"create","kind":"Vlan","switch":"","id":"x","before":null,"after":{}}],"summary":{"create":1,"update":0,"delete":0}}],"skipped":[]}`,
		"create with before":    `{"formatVersion":1,"fabrics":[{"name":"f","driver":"aci","changes":[{"action":"create","kind":"MaximumPaths","switch":"","id":"ipv4","before":{"paths":1},"after":{"paths":2}}],"summary":{"create":1,"update":0,"delete":0}}],"skipped":[]}`,
		"summary mismatch":      `{"formatVersion":1,"fabrics":[{"name":"f","driver":"aci","changes":[],"summary":{"create":1,"update":0,"delete":0}}],"skipped":[]}`,
		"id does not match":     `{"formatVersion":1,"fabrics":[{"name":"f","driver":"aci","changes":[{"action":"create","kind":"Contract","switch":"","id":"A","before":null,"after":{"name":"B","provider":"P","consumers":[],"entries":[]}}],"summary":{"create":1,"update":0,"delete":0}}],"skipped":[]}`,
		"unknown action":        `{"formatVersion":1,"fabrics":[{"name":"f","driver":"aci","changes":[{"action":"replace","kind":"MaximumPaths","switch":"","id":"ipv4","before":null,"after":{"paths":2}}],"summary":{"create":0,"update":0,"delete":0}}],"skipped":[]}`,
		"not json":              `formatVersion: 1`,
		"update without before": `{"formatVersion":1,"fabrics":[{"name":"f","driver":"aci","changes":[{"action":"update","kind":"MaximumPaths","switch":"","id":"ipv4","before":null,"after":{"paths":2}}],"summary":{"create":0,"update":1,"delete":0}}],"skipped":[]}`,
	} {
		if _, err := ParsePlan([]byte(doc)); err == nil {
			t.Errorf("%s: ParsePlan accepted %s", name, doc)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		obj Object
		ok  bool
	}{
		{peer("leaf201", "192.168.9.193", 63551), true},
		{peer("leaf201", "192.168.9.300", 63551), false},
		{peer("", "192.168.9.193", 63551), false},
		{peer("leaf201", "192.168.9.193", 0), false},
		{BGPPeer{Switch: "s", PeerAddress: "2001:db8::1", RemoteASN: 1, LocalASN: 1, AddressFamily: IPv4}, false},
		{ExternalSubnet{Group: "G", Prefix: "10.0.0.1/8", Scopes: []Scope{ScopeImportSecurity}}, false},
		{ExternalSubnet{Group: "G", Prefix: "10.0.0.0/8"}, false},
		{ExternalSubnet{Group: "", Prefix: "10.0.0.0/8", Scopes: []Scope{ScopeImportSecurity}}, false},
		{MaximumPaths{AddressFamily: IPv4, Paths: 0}, false},
		{MaximumPaths{AddressFamily: "ipx", Paths: 2}, false},
		{Contract{Name: "C", Provider: "P", Entries: []ContractEntry{{"icmp", 0}}}, false},
		{Contract{Name: "C", Provider: "P", Entries: []ContractEntry{{"tcp", 70000}}}, false},
		{Contract{Name: "C", Provider: "P", Entries: []ContractEntry{{"sctp", 9}}}, true},
		{PrefixFilter{Switch: "s", PeerAddress: "192.168.9.193", Prefixes: []PrefixRule{{"172.29.0.0/16", 8}}}, false},
		{PrefixFilter{Switch: "s", PeerAddress: "192.168.9.193", Prefixes: []PrefixRule{{"172.29.0.0/16", 33}}}, false},
		{PrefixFilter{Switch: "s", PeerAddress: "192.168.9.193", Prefixes: []PrefixRule{{"2001:db8::/32", 64}}}, false},
		{PrefixFilter{Switch: "s", PeerAddress: "192.168.9.193", Prefixes: []PrefixRule{{"172.29.0.0/16", 32}}}, true},
	}
	for _, tt := range tests {
		err := tt.obj.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%#v: Validate() = %v, want ok=%v", tt.obj, err, tt.ok)
		}
	}
}

func TestMarkdownEscapesClusterInput(t *testing.T) {
	p := NewPlan(nil, []Skip{{Object: "Service/ns/a|b", Reason: "name with\nnewline and <script>"}}, nil)
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, p); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script>", "a|b", "with\nnewline"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown contains unescaped %q:\n%s", bad, out)
		}
	}
}

func TestTextUpdateShowsOnlyChangedAttributes(t *testing.T) {
	fp := Diff(Target{Name: "f", Driver: "frr", State: StateOf(peer("leaf201", "192.168.9.193", 63551))},
		Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 65000))})
	var buf bytes.Buffer
	if err := WriteText(&buf, NewPlan([]Changeset{fp}, nil, nil)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"~ BGPPeer 192.168.9.193", "~ remoteASN     = 65000 -> 63551", "Plan: 0 to add, 1 to change, 0 to destroy."} {
		if !strings.Contains(out, want) {
			t.Errorf("text plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "~ localASN") {
		t.Errorf("unchanged attribute marked as changed:\n%s", out)
	}
}

// A foreign peer or filter whose id is a prefix (a range of dynamic
// neighbors) stands for every address in it: a desired peer or filter
// there is a conflict; one outside it, or of another kind, is not.
func TestForeignPeerRange(t *testing.T) {
	peer := func(addr string) BGPPeer {
		return BGPPeer{Switch: "leaf201", Node: "n", PeerAddress: addr, RemoteASN: 65001, LocalASN: 65000, AddressFamily: IPv4}
	}
	in, out := peer("10.44.0.9"), peer("10.45.0.9")
	filter := PrefixFilter{Switch: "leaf201", Node: "n", PeerAddress: "10.44.0.9"}
	other := PrefixFilter{Switch: "leaf202", Node: "n", PeerAddress: "10.44.0.10"}
	plan := Diff(Target{State: StateOf(in, out, filter, other)}, Observed{Foreign: []Foreign{
		{Kind: KindBGPPeer, Switch: "leaf201", ID: "10.44.0.0/24"},
		{Kind: KindPrefixFilter, Switch: "leaf201", ID: "10.44.0.0/24"},
	}})
	var created, conflicts []string
	for _, c := range plan.Changes {
		created = append(created, c.Key().String())
	}
	for _, c := range plan.Conflicts {
		conflicts = append(conflicts, Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String())
		if !strings.Contains(c.Reason, "10.44.0.0/24, a range of dynamic neighbors") {
			t.Errorf("reason %q", c.Reason)
		}
	}
	sort.Strings(conflicts)
	if strings.Join(created, ",") != "BGPPeer leaf201/10.45.0.9,PrefixFilter leaf202/10.44.0.10" ||
		strings.Join(conflicts, ",") != "BGPPeer leaf201/10.44.0.9,PrefixFilter leaf201/10.44.0.9" {
		t.Errorf("created %v, conflicts %v", created, conflicts)
	}
}

// TestWriteJSONIsTheEncoding: WriteJSON, which writes change by change,
// writes what json.Encoder writes for the whole plan, and planJSON lists
// Plan's fields.
func TestWriteJSONIsTheEncoding(t *testing.T) {
	changed := Diff(Target{Name: "aci", Driver: "aci", State: StateOf(
		peer("leaf201", "192.168.9.193", 63551),
		MaximumPaths{AddressFamily: IPv6, Paths: 4},
		Contract{Name: "C", Provider: "P", Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"}, Entries: []ContractEntry{{"tcp", 80}}},
	)}, Observed{Owned: StateOf(peer("leaf201", "192.168.9.193", 1), ExternalSubnet{Group: "G", Prefix: "10.0.0.0/8"})})
	changed.Conflicts = []Conflict{{Kind: KindBGPPeer, Switch: "leaf202", ID: "192.168.9.194", Reason: "in the way"}}
	refused := Diff(Target{Name: "frr", Driver: "frr", State: StateOf(peer("leaf1", "10.0.0.1", 65001))}, Observed{})
	refused.Refused = "deletes more than the budget"
	tricky := "a warning with \n      \"changes\": [] inside, and </script> & \u2028"
	for _, tc := range []struct {
		name string
		plan Plan
	}{
		{"several fabrics", NewPlan([]Changeset{changed, {Name: "empty", Driver: "nxos"}, refused, {Name: "broken", Driver: "aci", Error: "unreachable"}},
			[]Skip{{Object: "Service/a/b", Reason: tricky}}, []string{tricky, "second"})},
		{"no fabrics", NewPlan(nil, nil, nil)},
		{"nil fabrics", Plan{FormatVersion: FormatVersion}},
		{"changes named in strings", NewPlan([]Changeset{{Name: "changes\": []", Driver: "frr", Changes: changed.Changes}}, nil, nil)},
		{"every kind, hostile names and sources", NewPlan([]Changeset{{Name: "x", Driver: "aci", Changes: hostileChanges()}}, nil, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(tc.plan); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteJSON(&got, tc.plan); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("WriteJSON:\n%s\njson.Encoder:\n%s", got.String(), want.String())
			}
		})
	}
	// WriteJSON writes each change's fields itself (appendChangeIndented):
	// a new field of changeJSON must be added there too.
	if n := reflect.TypeOf(changeJSON{}).NumField(); n != 7 {
		t.Errorf("changeJSON has %d fields; appendChangeIndented writes 7", n)
	}
	pt, jt := reflect.TypeOf(Plan{}), reflect.TypeOf(planJSON{})
	if pt.NumField() != jt.NumField() {
		t.Fatalf("Plan has %d fields, planJSON %d", pt.NumField(), jt.NumField())
	}
	for i := range pt.NumField() {
		if pt.Field(i).Name != jt.Field(i).Name || pt.Field(i).Tag != jt.Field(i).Tag {
			t.Errorf("field %d: Plan %s %q, planJSON %s %q", i, pt.Field(i).Name, pt.Field(i).Tag, jt.Field(i).Name, jt.Field(i).Tag)
		}
	}
}

// hostileChanges has a change of every kind and action, with names and
// sources holding what JSON must escape: quotes, backslashes, control
// characters, HTML, U+2028, non-ASCII and invalid UTF-8.
func hostileChanges() []Change {
	names := []string{"plain", "q\"uote\\back", "ctl\x01\t\n", "<b>&amp;</b>", "line\u2028sep", "caf\u00e9 \U0001F600", "bad\xff\xfeutf8", ""}
	objs := []Object{
		BGPPeer{Switch: names[1], Node: names[2], PeerAddress: "10.0.0.1", RemoteASN: 1, LocalASN: 2, AddressFamily: IPv4},
		ExternalSubnet{Group: names[3], Prefix: "10.0.0.0/24", Scopes: []Scope{ScopeImportSecurity}},
		MaximumPaths{Switch: names[4], AddressFamily: IPv6, Paths: 4},
		SessionPolicy{Keepalive: 3, Hold: 9},
		Contract{Name: names[5], Provider: names[6], Consumers: []string{names[0], names[3]}, Entries: []ContractEntry{{Protocol: "tcp", Port: 80}}},
		PrefixFilter{Switch: "leaf201", Node: names[6], PeerAddress: "10.0.0.1", Prefixes: []PrefixRule{{Prefix: "10.1.0.0/16", LE: 32}}},
		BGPListen{Switch: "leaf201", AddressFamily: IPv4, Ranges: []string{"10.0.0.0/24"}, RemoteAS: RemoteASExternal},
	}
	var out []Change
	for i, o := range objs {
		n := names[i%len(names)]
		for j, a := range []Action{ActionCreate, ActionUpdate, ActionDelete, ActionAdopt} {
			c := Change{Action: a, Kind: o.Kind(), Switch: n, ID: names[(i+j)%len(names)]}
			switch a {
			case ActionCreate:
				c.After = o
			case ActionDelete:
				c.Before = o
			default:
				c.Before, c.After = o, o
			}
			if j%2 == 0 {
				c.Sources = names[:1+(i+j)%len(names)]
			}
			out = append(out, c)
		}
	}
	return out
}
