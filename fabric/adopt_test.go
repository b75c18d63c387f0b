package fabric

import (
	"encoding/json"
	"strings"
	"testing"
)

func unmarked(o Object, rewrites ...string) Foreign {
	return Foreign{Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID(), Adoption: &Adoptable{Object: o, Rewrites: rewrites}}
}

func TestAdoption(t *testing.T) {
	p193 := peer("leaf201", "192.168.9.193", 63551)
	p194 := peer("leaf201", "192.168.9.194", 63552)
	other := p193
	other.RemoteASN = 64999
	otherLocal := p194
	otherLocal.LocalASN = 65000
	noNode := p193
	noNode.Node = ""
	sub := ExternalSubnet{Group: "EPG_K8_APP_MCAST", Prefix: "172.29.0.6/32", Scopes: []Scope{ScopeImportSecurity}}
	tests := []struct {
		name      string
		desired   State
		observed  Observed
		want      []string // adopted keys
		conflicts []string // "key: part of the reason"
	}{
		{
			name:     "identical and unmarked: adopted",
			desired:  StateOf(p193, p194),
			observed: Observed{Foreign: []Foreign{unmarked(p193), unmarked(p194)}},
			want:     []string{"BGPPeer leaf201/192.168.9.193", "BGPPeer leaf201/192.168.9.194"},
		},
		{
			name:     "a different remote or local AS: a conflict saying what differs",
			desired:  StateOf(p193, p194),
			observed: Observed{Foreign: []Foreign{unmarked(other), unmarked(otherLocal)}},
			conflicts: []string{
				"BGPPeer leaf201/192.168.9.193: remoteASN 64999 on the fabric, 63551 desired",
				"BGPPeer leaf201/192.168.9.194: localASN 65000 on the fabric, 63500 desired",
			},
		},
		{
			name:     "attributes the mark rewrites are not compared",
			desired:  StateOf(p193),
			observed: Observed{Foreign: []Foreign{unmarked(noNode, "node")}},
			want:     []string{"BGPPeer leaf201/192.168.9.193"},
		},
		{
			name:      "only the rewritten attributes are skipped",
			desired:   StateOf(p193),
			observed:  Observed{Foreign: []Foreign{unmarked(noNode)}},
			conflicts: []string{`BGPPeer leaf201/192.168.9.193: node "" on the fabric, "n-192.168.9.193" desired`},
		},
		{
			name:    "another owner's object is never adopted",
			desired: StateOf(p193),
			observed: Observed{Foreign: []Foreign{{Kind: KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193", Owner: "orchestrator:terraform",
				Adoption: &Adoptable{Object: p193}}}},
			conflicts: []string{"BGPPeer leaf201/192.168.9.193: another owner's mark"},
		},
		{
			name:    "a driver that says why not",
			desired: StateOf(p193),
			observed: Observed{Foreign: []Foreign{{Kind: KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193",
				Adoption: &Adoptable{Why: "its route-map is CALICO-IN"}}}},
			conflicts: []string{"BGPPeer leaf201/192.168.9.193: cannot be adopted: its route-map is CALICO-IN"},
		},
		{
			name:      "not read for adoption",
			desired:   StateOf(p193),
			observed:  Observed{Foreign: []Foreign{{Kind: KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193"}}},
			conflicts: []string{"BGPPeer leaf201/192.168.9.193: did not read it for adoption"},
		},
		{
			name:    "a child of a container the cluster does not own is never adopted, even identical",
			desired: StateOf(sub),
			observed: Observed{Foreign: []Foreign{{Kind: KindExternalSubnet, ID: "EPG_K8_APP_MCAST/" + AnyID},
				unmarked(sub)}},
			conflicts: []string{"ExternalSubnet EPG_K8_APP_MCAST/172.29.0.6/32: its container is not the cluster's"},
		},
		{
			name:     "owned objects, creates and objects outside the desired state: nothing",
			desired:  StateOf(p193, p194),
			observed: Observed{Owned: StateOf(p193), Foreign: []Foreign{unmarked(peer("leaf201", "10.0.0.1", 1))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := Adoption(Target{Name: "f", Driver: "aci", State: tt.desired}, tt.observed)
			var got []string
			for _, c := range fp.Changes {
				if c.Action != ActionAdopt {
					t.Errorf("planned %s %s: an adoption plans adoptions only", c.Action, c.Key())
				}
				if d := Differences(c.Before, c.After, []string{"node"}); len(d) > 0 {
					t.Errorf("adopted %s although it differs: %v", c.Key(), d)
				}
				got = append(got, c.Key().String())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("adopted %v, want %v", got, tt.want)
			}
			if len(fp.Conflicts) != len(tt.conflicts) {
				t.Fatalf("conflicts %+v, want %d", fp.Conflicts, len(tt.conflicts))
			}
			for i, c := range fp.Conflicts {
				key, part, _ := strings.Cut(tt.conflicts[i], ": ")
				if k := (Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}).String(); k != key || !strings.Contains(c.Reason, part) {
					t.Errorf("conflict %s: %s; want %s: ...%s...", k, c.Reason, key, part)
				}
			}
			if s := fp.Summary(); s.Adopt != len(tt.want) || s.Create+s.Update+s.Delete != 0 {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

// An adoption plan and an observation made for adoption survive JSON (saved
// plans and observations), and what was read of a foreign object counts in
// the fingerprint: a hand change between plan and apply is seen.
func TestAdoptionJSON(t *testing.T) {
	p := peer("leaf201", "192.168.9.193", 63551)
	obs := Observed{Foreign: []Foreign{unmarked(p, "node"), {Kind: KindBGPPeer, Switch: "leaf202", ID: "x", Adoption: &Adoptable{Why: "no"}}}}
	sf := NewSnapshotFabric("f", obs)
	b, err := json.Marshal(sf)
	if err != nil {
		t.Fatal(err)
	}
	var back SnapshotFabric
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := back.Observed()
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint() != obs.Fingerprint() {
		t.Errorf("fingerprint changed through JSON: %s", b)
	}
	if d := CompareObserved(obs, got); len(d) > 0 {
		t.Errorf("differences through JSON: %v", d)
	}

	changed := peer("leaf201", "192.168.9.193", 64000)
	now := Observed{Foreign: []Foreign{unmarked(changed, "node"), obs.Foreign[1]}}
	if now.Fingerprint() == obs.Fingerprint() {
		t.Error("a changed foreign object keeps the fingerprint")
	}
	if d := CompareObserved(obs, now); len(d) != 2 {
		t.Errorf("CompareObserved = %v, want the peer gone and appeared", d)
	}
	// Without adoption data the format is what it was.
	plain, _ := json.Marshal(Foreign{Kind: KindBGPPeer, Switch: "s", ID: "1.1.1.1"})
	if string(plain) != `{"kind":"BGPPeer","switch":"s","id":"1.1.1.1","owner":""}` {
		t.Errorf("plain foreign JSON = %s", plain)
	}

	fp := Adoption(Target{Name: "f", Driver: "aci", State: StateOf(p)}, obs)
	pb, _ := json.Marshal(NewPlan([]Changeset{fp}, nil, nil))
	back2, err := ParsePlan(pb)
	if err != nil {
		t.Fatalf("%v: %s", err, pb)
	}
	if c := back2.Fabrics[0].Changes; len(c) != 1 || c[0].Action != ActionAdopt || back2.Summary().Adopt != 1 {
		t.Errorf("plan through JSON: %s", pb)
	}
	var sb strings.Builder
	if err := WriteText(&sb, back2); err != nil || !strings.Contains(sb.String(), "@ BGPPeer 192.168.9.193") || !strings.Contains(sb.String(), "1 to adopt") {
		t.Errorf("text plan:\n%s", sb.String())
	}
}
