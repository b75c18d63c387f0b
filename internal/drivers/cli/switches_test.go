package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

var twoLeaves = Switches{{Name: "leaf201"}, {Name: "leaf202"}}

func TestSwitchesObserve(t *testing.T) {
	peer := func(sw string) fabric.Object {
		return fabric.BGPPeer{Switch: sw, Node: "n", PeerAddress: "10.0.0.1", RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4}
	}
	tests := []struct {
		name        string
		failing     map[string]bool
		wantOwned   int
		wantForeign string
		errHas      []string
	}{
		{name: "all switches", wantOwned: 2, wantForeign: "leaf201,leaf202"},
		{name: "one fails: the other's objects stay", failing: map[string]bool{"leaf201": true}, wantOwned: 1, wantForeign: "leaf202",
			errHas: []string{"leaf201 unreachable"}},
		{name: "both fail", failing: map[string]bool{"leaf201": true, "leaf202": true},
			errHas: []string{"leaf201 unreachable", "leaf202 unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, err := twoLeaves.Observe(context.Background(), func(_ context.Context, sw config.Switch) ([]fabric.Object, []fabric.Foreign, error) {
				if tt.failing[sw.Name] {
					return nil, nil, fmt.Errorf("%s unreachable", sw.Name)
				}
				return []fabric.Object{peer(sw.Name)}, []fabric.Foreign{{Kind: fabric.KindBGPPeer, Switch: sw.Name, ID: "10.0.0.9"}}, nil
			})
			if got := len(obs.Owned.Objects()); got != tt.wantOwned {
				t.Errorf("%d owned objects, want %d", got, tt.wantOwned)
			}
			var foreign []string
			for _, f := range obs.Foreign {
				foreign = append(foreign, f.Switch)
			}
			if got := strings.Join(foreign, ","); got != tt.wantForeign {
				t.Errorf("foreign on %q, want %q (switch order)", got, tt.wantForeign)
			}
			if (err == nil) != (len(tt.errHas) == 0) {
				t.Fatalf("error %v, want %v", err, tt.errHas)
			}
			for _, w := range tt.errHas {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
		})
	}
}

func TestSwitchesApply(t *testing.T) {
	c := func(sw, id string) fabric.Change { return change(fabric.ActionCreate, fabric.KindBGPPeer, sw, id) }
	tests := []struct {
		name      string
		changes   []fabric.Change
		wantCalls int64
		applied   string
		messages  string
		errHas    string
	}{
		{name: "per switch", changes: []fabric.Change{c("leaf202", "10.0.0.2"), c("leaf201", "10.0.0.1"), c("leaf201", "10.0.0.3")},
			wantCalls: 2, applied: "10.0.0.1,10.0.0.3,10.0.0.2", messages: "leaf201: 2|leaf202: 1"},
		{name: "unknown switch: not applied, the rest is", changes: []fabric.Change{c("leaf201", "10.0.0.1"), c("leaf9\n", "10.0.0.2")},
			wantCalls: 1, applied: "10.0.0.1", messages: "leaf201: 1|switch \"leaf9\\n\" is not in the configuration: 1 change(s) not applied",
			errHas: `switch "leaf9\n" is not in the configuration`},
		{name: "nothing to do", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			res, err := twoLeaves.Apply(context.Background(), fabric.Changeset{Changes: tt.changes},
				func(_ context.Context, sw config.Switch, cs []fabric.Change) (fabric.ApplyResult, error) {
					calls.Add(1)
					return fabric.ApplyResult{Applied: cs, Messages: []string{fmt.Sprintf("%s: %d", sw.Name, len(cs))}}, nil
				})
			if calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
			var ids []string
			for _, a := range res.Applied {
				ids = append(ids, a.ID)
			}
			if got := strings.Join(ids, ","); got != tt.applied {
				t.Errorf("applied %q, want %q", got, tt.applied)
			}
			if got := strings.Join(res.Messages, "|"); got != tt.messages {
				t.Errorf("messages %q, want %q", got, tt.messages)
			}
			if (err == nil) != (tt.errHas == "") || (err != nil && !strings.Contains(err.Error(), tt.errHas)) {
				t.Errorf("error %v, want %q", err, tt.errHas)
			}
		})
	}
}

func TestSwitchesRender(t *testing.T) {
	conflict := fabric.Conflict{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "10.0.0.9", Reason: "in the way"}
	tests := []struct {
		name   string
		plan   fabric.Changeset
		fail   bool
		want   string
		errHas string
	}{
		{name: "empty plan", want: "! no changes\n"},
		{name: "conflicts only", plan: fabric.Changeset{Conflicts: []fabric.Conflict{conflict}},
			want: "! no changes\n! conflict BGPPeer leaf201/10.0.0.9: in the way\n"},
		{name: "switches, an unknown one, then the plan's conflicts",
			plan: fabric.Changeset{Changes: []fabric.Change{
				change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf202", "10.0.0.2"),
				change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf203", "10.0.0.3"),
				change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "10.0.0.1"),
			}, Conflicts: []fabric.Conflict{conflict}},
			want: "leaf201: 1\nleaf202: 1\n" +
				"! switch \"leaf203\" is not in the configuration: 1 change(s) not rendered\n" +
				"! conflict BGPPeer leaf201/10.0.0.9: in the way\n"},
		{name: "a switch fails", plan: fabric.Changeset{Changes: []fabric.Change{change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "x")}},
			fail: true, errHas: "cannot render leaf201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := twoLeaves.Render(tt.plan, func(b *strings.Builder, sw config.Switch, cs []fabric.Change) error {
				if tt.fail {
					return errors.New("cannot render " + sw.Name)
				}
				fmt.Fprintf(b, "%s: %d\n", sw.Name, len(cs))
				return nil
			})
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || got != "" {
					t.Fatalf("%q, %v; want error %q", got, err, tt.errHas)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Render:\n%s(%v)\nwant:\n%s", got, err, tt.want)
			}
		})
	}
}

func TestWriteNotes(t *testing.T) {
	s := NewScript(Dialect{})
	s.Begin(change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "10.0.0.1"))
	s.Refuse(errors.New("node name \"a\":\n  bad"))
	s.Begin(change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "10.0.0.2"))
	s.Conflict("", "neighbor 10.0.0.2 is configured without this cluster's mark")
	var b strings.Builder
	WriteNotes(&b, s, func(s string) string { return strings.Join(strings.Fields(s), " ") })
	want := "! refused create BGPPeer leaf201/10.0.0.1: node name \"a\": bad\n" +
		"! conflict BGPPeer leaf201/10.0.0.2: neighbor 10.0.0.2 is configured without this cluster's mark\n"
	if b.String() != want {
		t.Fatalf("notes:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSeen(t *testing.T) {
	var s Seen[int]
	if _, ok := s.Get("leaf201"); ok {
		t.Fatal("an unobserved switch was seen")
	}
	_, err := twoLeaves.Observe(context.Background(), func(_ context.Context, sw config.Switch) ([]fabric.Object, []fabric.Foreign, error) {
		s.Set(sw.Name, len(sw.Name))
		return nil, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Set("leaf202", 7)
	for name, want := range map[string]int{"leaf201": len("leaf201"), "leaf202": 7} {
		if v, ok := s.Get(name); !ok || v != want {
			t.Errorf("%s: %d %v, want %d", name, v, ok, want)
		}
	}
}
