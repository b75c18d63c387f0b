package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

func change(a fabric.Action, k fabric.Kind, sw, id string) fabric.Change {
	return fabric.Change{Action: a, Kind: k, Switch: sw, ID: id}
}

func keys(cs []fabric.Change) string {
	var s []string
	for _, c := range cs {
		s = append(s, string(c.Action)+" "+c.Key().String())
	}
	return strings.Join(s, "\n")
}

func TestOrder(t *testing.T) {
	// The plan order of fabric.Diff: by switch, kind rank, id; deletes after
	// creates within a kind.
	in := []fabric.Change{
		change(fabric.ActionCreate, fabric.KindPrefixFilter, "leaf201", "192.168.9.196"),
		change(fabric.ActionDelete, fabric.KindPrefixFilter, "leaf201", "192.168.9.197"),
		change(fabric.ActionUpdate, fabric.KindMaximumPaths, "leaf201", "ipv4"),
		change(fabric.ActionDelete, fabric.KindMaximumPaths, "leaf201", "ipv6"),
		change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "192.168.9.196"),
		change(fabric.ActionDelete, fabric.KindBGPPeer, "leaf201", "192.168.9.197"),
		change(fabric.ActionUpdate, fabric.KindBGPPeer, "leaf201", "192.168.9.198"),
		change(fabric.ActionCreate, fabric.KindContract, "", "c"),
	}
	want := strings.Join([]string{
		"create PrefixFilter leaf201/192.168.9.196",
		"update MaximumPaths leaf201/ipv4",
		"delete BGPPeer leaf201/192.168.9.197",
		"create BGPPeer leaf201/192.168.9.196",
		"update BGPPeer leaf201/192.168.9.198",
		"delete PrefixFilter leaf201/192.168.9.197",
		"delete MaximumPaths leaf201/ipv6",
		"create Contract c",
	}, "\n")
	if got := keys(Order(in)); got != want {
		t.Fatalf("Order:\n%s\nwant:\n%s", got, want)
	}
	if in[0].ID != "192.168.9.196" || in[1].Action != fabric.ActionDelete {
		t.Fatal("Order modified its input")
	}
	sws, by := BySwitch(append(in, change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf202", "x")))
	if strings.Join(sws, ",") != ",leaf201,leaf202" || len(by["leaf201"]) != 7 || len(by["leaf202"]) != 1 {
		t.Fatalf("BySwitch = %v, %d/%d", sws, len(by["leaf201"]), len(by["leaf202"]))
	}
}

var frrDialect = Dialect{Exit: func(mode string) string {
	if strings.HasPrefix(mode, "address-family") {
		return "exit-address-family"
	}
	return "exit"
}}

func TestScriptModes(t *testing.T) {
	bgp := []string{"router bgp 63500"}
	af := []string{"router bgp 63500", "address-family ipv4 unicast"}
	nxNbr := []string{"router bgp 63500", "neighbor 10.0.0.1", "address-family ipv4 unicast"}
	tests := []struct {
		name  string
		d     Dialect
		build func(s *Script)
		want  string
	}{
		{
			name: "frr",
			d:    frrDialect,
			build: func(s *Script) {
				s.Begin(change(fabric.ActionCreate, fabric.KindPrefixFilter, "leaf201", "a"))
				s.Top("ip prefix-list P seq 5 permit 10.0.0.0/8")
				s.In([]string{"route-map P permit 10"}, "match ip address prefix-list P")
				s.Begin(change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "a"))
				s.In(bgp, "neighbor a remote-as 1")
				s.In(af, "neighbor a route-map P in")
				s.In(bgp, "neighbor a description d")
				s.Top("ip prefix-list Q description q")
			},
			want: "ip prefix-list P seq 5 permit 10.0.0.0/8\n" +
				"route-map P permit 10\n match ip address prefix-list P\nexit\n" +
				"router bgp 63500\n neighbor a remote-as 1\n address-family ipv4 unicast\n  neighbor a route-map P in\n" +
				" exit-address-family\n neighbor a description d\nexit\nip prefix-list Q description q\n",
		},
		{
			name: "nxos neighbor sub-mode",
			d:    Dialect{Indent: "  "},
			build: func(s *Script) {
				s.Begin(change(fabric.ActionCreate, fabric.KindBGPPeer, "n9k", "10.0.0.1"))
				s.In(nxNbr[:2], "remote-as 65001", "description x")
				s.In(nxNbr, "route-map P in")
				s.Begin(change(fabric.ActionCreate, fabric.KindBGPPeer, "n9k", "10.0.0.2"))
				s.In([]string{"router bgp 63500", "neighbor 10.0.0.2"}, "remote-as 65002")
			},
			want: "router bgp 63500\n  neighbor 10.0.0.1\n    remote-as 65001\n    description x\n" +
				"    address-family ipv4 unicast\n      route-map P in\n    exit\n  exit\n" +
				"  neighbor 10.0.0.2\n    remote-as 65002\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewScript(tt.d)
			tt.build(s)
			if got := s.Text(); got != tt.want {
				t.Fatalf("Text:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestScriptResult(t *testing.T) {
	pf := change(fabric.ActionCreate, fabric.KindPrefixFilter, "leaf201", "a")
	peer := change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "a")
	noop := change(fabric.ActionUpdate, fabric.KindMaximumPaths, "leaf201", "ipv4")
	bad := change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "b")
	busy := change(fabric.ActionCreate, fabric.KindBGPPeer, "leaf201", "c")
	build := func() *Script {
		s := NewScript(frrDialect)
		s.Begin(pf)
		s.Top("l1", "l2")
		s.Begin(noop)
		s.Begin(bad)
		s.Refuse(errors.New("node name \"x\\n\": contains a line break"))
		s.Begin(busy)
		s.Conflict("", "a neighbor without the mark is in the way")
		s.Begin(peer)
		s.In([]string{"router bgp 1"}, "l3")
		return s
	}
	tests := []struct {
		accepted int
		applied  string
		failed   string
	}{
		{accepted: 4, applied: "create PrefixFilter leaf201/a\nupdate MaximumPaths leaf201/ipv4\ncreate BGPPeer leaf201/a"},
		{accepted: 3, applied: "create PrefixFilter leaf201/a\nupdate MaximumPaths leaf201/ipv4", failed: "create BGPPeer leaf201/a"},
		{accepted: 2, applied: "create PrefixFilter leaf201/a\nupdate MaximumPaths leaf201/ipv4", failed: "create BGPPeer leaf201/a"},
		{accepted: 1, applied: "update MaximumPaths leaf201/ipv4", failed: "create PrefixFilter leaf201/a"},
		{accepted: 0, applied: "update MaximumPaths leaf201/ipv4", failed: "create PrefixFilter leaf201/a"},
	}
	for _, tt := range tests {
		s := build()
		res := s.Result(tt.accepted)
		if got := keys(res.Applied); got != tt.applied {
			t.Errorf("accepted %d: applied\n%s\nwant\n%s", tt.accepted, got, tt.applied)
		}
		if tt.failed != "" {
			if c := s.ChangeOf(tt.accepted); string(c.Action)+" "+c.Key().String() != tt.failed {
				t.Errorf("accepted %d: line %d belongs to %s, want %s", tt.accepted, tt.accepted, c.Key(), tt.failed)
			}
		}
		if len(res.Conflicts) != 1 || res.Conflicts[0].ID != "c" {
			t.Errorf("conflicts %+v", res.Conflicts)
		}
		if len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "refused create BGPPeer leaf201/b") {
			t.Errorf("messages %q", res.Messages)
		}
	}
}
