package fabric

import (
	"reflect"
	"testing"
)

func TestPathsFor(t *testing.T) {
	// Two leaves; a, b, c peer with leaf1 over IPv4, c also with leaf2, and
	// c peers with leaf1 over IPv6 too.
	sessions := []Session{
		{Switch: "leaf1", Node: "a", AddressFamily: IPv4},
		{Switch: "leaf1", Node: "b", AddressFamily: IPv4},
		{Switch: "leaf1", Node: "c", AddressFamily: IPv4},
		{Switch: "leaf1", Node: "c", AddressFamily: IPv4}, // the same session twice counts once
		{Switch: "leaf2", Node: "c", AddressFamily: IPv4},
		{Switch: "leaf1", Node: "c", AddressFamily: IPv6},
	}
	mp := func(sw string, af AddressFamily, n int) MaximumPaths {
		return MaximumPaths{Switch: sw, AddressFamily: af, Paths: n}
	}
	tests := []struct {
		name   string
		intent PathsIntent
		want   []MaximumPaths
	}{
		{"nothing advertised: one path",
			PathsIntent{Mode: "auto"},
			[]MaximumPaths{mp("leaf1", IPv4, 1), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"a Local service on a and b: two paths on leaf1 only",
			PathsIntent{Mode: "auto", Advertisers: []Advertised{{Family: IPv4, Nodes: []string{"a", "b"}}}},
			[]MaximumPaths{mp("leaf1", IPv4, 2), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"the largest service counts, per switch",
			PathsIntent{Mode: "auto", Advertisers: []Advertised{
				{Family: IPv4, Nodes: []string{"a"}},
				{Family: IPv4, Nodes: []string{"a", "b", "c"}},
				{Family: IPv4, Nodes: []string{"c"}},
			}},
			[]MaximumPaths{mp("leaf1", IPv4, 3), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"a node that does not peer counts nowhere; families apart",
			PathsIntent{Mode: "auto", Advertisers: []Advertised{{Family: IPv6, Nodes: []string{"a", "b", "c", "z"}}}},
			[]MaximumPaths{mp("leaf1", IPv4, 1), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"a Cluster service: every peering node",
			PathsIntent{Mode: "auto", Advertisers: []Advertised{{Family: IPv4, Every: true}}},
			[]MaximumPaths{mp("leaf1", IPv4, 3), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"a service range advertised by all nodes",
			PathsIntent{Mode: "auto", AllNodes: map[AddressFamily]bool{IPv4: true}},
			[]MaximumPaths{mp("leaf1", IPv4, 3), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"the limit caps",
			PathsIntent{Mode: "auto", Limit: 2, Advertisers: []Advertised{{Family: IPv4, Every: true}}},
			[]MaximumPaths{mp("leaf1", IPv4, 2), mp("leaf2", IPv4, 1), mp("leaf1", IPv6, 1)}},
		{"fixed",
			PathsIntent{Mode: "fixed", Fixed: 8, Limit: 16},
			[]MaximumPaths{mp("leaf1", IPv4, 8), mp("leaf2", IPv4, 8), mp("leaf1", IPv6, 8)}},
		{"off", PathsIntent{Mode: "off", Advertisers: []Advertised{{Family: IPv4, Every: true}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.intent.PathsFor(sessions); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PathsFor:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}
