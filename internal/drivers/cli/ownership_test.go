package cli

import (
	"encoding/json"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

func testOwnership(t *testing.T, strict bool) Ownership {
	t.Helper()
	n, err := NewNaming("FR", "haystack", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return Ownership{Mark: "orchestrator:fabric-reconciler.haystack", Naming: n, StrictMarkers: strict}
}

// filtersOf builds IPv4 filters: prefix-lists with their entries and
// descriptions, route-maps of one entry.
func filtersOf(pls map[string][]PrefixListEntry, descs map[string]string, rms map[string]*RouteMapEntry) *Filters {
	fs := NewFilters()
	for name, es := range pls {
		d, ok := descs[name]
		fs.PrefixLists[PrefixListKey{"ip", name}] = &PrefixList{Key: PrefixListKey{"ip", name}, Description: d, HasDesc: ok, Entries: es}
	}
	for name, e := range rms {
		fs.RouteMaps[name] = &RouteMap{Name: name, Entries: []*RouteMapEntry{e}}
	}
	return &fs
}

func TestObservation(t *testing.T) {
	const (
		mark = "orchestrator:fabric-reconciler.haystack"
		pl   = "FR-haystack-IN-10.0.0.1"
	)
	permit := func(p string, le int) PrefixListEntry {
		return PrefixListEntry{Seq: 5, Action: "permit", Prefix: netip.MustParsePrefix(p), LE: le}
	}
	denyAny := PrefixListEntry{Seq: 5, Action: "deny", Any: true}
	goodRM := &RouteMapEntry{Action: "permit", Seq: 10, Description: mark + " node=n1", Lines: []string{"match ip address prefix-list " + pl}}
	isDenyAll := func(_ netip.Addr, e PrefixListEntry) bool { return e.Action == "deny" && e.Any }
	tests := []struct {
		name    string
		strict  bool
		pls     map[string][]PrefixListEntry
		descs   map[string]string
		rm      *RouteMapEntry
		neigh   *Neighbor
		paths   *Paths
		relax   bool
		binding string
		want    []string
	}{
		{name: "a complete filter and maximum-paths",
			pls:   map[string][]PrefixListEntry{pl: {permit("172.27.0.0/26", 0), permit("172.29.0.0/16", 32)}, "FR-haystack-MARK-MAXPATHS-IPV4": nil},
			descs: map[string]string{pl: mark + " node=n1", "FR-haystack-MARK-MAXPATHS-IPV4": mark + " owns maximum-paths ipv4"},
			rm:    goodRM, paths: &Paths{MaxPaths: 3, MaxPathsIBGP: 3}, relax: true,
			want: []string{
				`owned MaximumPaths s1/ipv4 {"paths":3}`,
				`owned PrefixFilter s1/10.0.0.1 {"node":"n1","peerAddress":"10.0.0.1","prefixes":[{"prefix":"172.27.0.0/26","le":26},{"prefix":"172.29.0.0/16","le":32}]}`,
			}},
		{name: "a filter that permits nothing",
			pls: map[string][]PrefixListEntry{pl: {denyAny}}, descs: map[string]string{pl: mark + " node=n1"}, rm: goodRM,
			want: []string{`owned PrefixFilter s1/10.0.0.1 {"node":"n1","peerAddress":"10.0.0.1","prefixes":null}`}},
		{name: "deny-all next to a permit, route-map and binding wrong",
			pls: map[string][]PrefixListEntry{pl: {denyAny, permit("172.27.0.0/26", 0)}}, descs: map[string]string{pl: mark + " node=n1"}, rm: goodRM,
			want: []string{`owned PrefixFilter s1/10.0.0.1 {"node":"(incomplete: unexpected prefix-list entry)","peerAddress":"10.0.0.1","prefixes":[{"prefix":"172.27.0.0/26","le":26}]}`}},
		{name: "route-map only: the prefix-list is missing", rm: goodRM,
			want: []string{`owned PrefixFilter s1/10.0.0.1 {"node":"(incomplete: prefix-list missing)","peerAddress":"10.0.0.1","prefixes":null}`}},
		{name: "route-map match changed, then the binding",
			pls: map[string][]PrefixListEntry{pl: {permit("172.27.0.0/26", 0)}}, descs: map[string]string{pl: mark + " node=n1"},
			rm:   &RouteMapEntry{Action: "permit", Seq: 10, Description: mark + " node=n1", Lines: []string{"match ip address prefix-list OTHER"}},
			want: []string{`owned PrefixFilter s1/10.0.0.1 {"node":"(incomplete: route-map match changed)","peerAddress":"10.0.0.1","prefixes":[{"prefix":"172.27.0.0/26","le":26}]}`}},
		{name: "unbound", binding: "not applied to the neighbor",
			pls: map[string][]PrefixListEntry{pl: {permit("172.27.0.0/26", 0)}}, descs: map[string]string{pl: mark + " node=n1"}, rm: goodRM,
			want: []string{`owned PrefixFilter s1/10.0.0.1 {"node":"(incomplete: not applied to the neighbor)","peerAddress":"10.0.0.1","prefixes":[{"prefix":"172.27.0.0/26","le":26}]}`}},
		{name: "a hand-made neighbor: foreign peer and filter",
			neigh: &Neighbor{ID: "10.0.0.9", Addr: netip.MustParseAddr("10.0.0.9"), Description: "uplink"},
			want:  []string{"foreign BGPPeer s1/10.0.0.9 owner=", "foreign PrefixFilter s1/10.0.0.9 owner="}},
		{name: "another cluster's neighbor",
			neigh: &Neighbor{ID: "10.0.0.9", Addr: netip.MustParseAddr("10.0.0.9"), Description: "orchestrator:fabric-reconciler.other node=x"},
			want: []string{"foreign BGPPeer s1/10.0.0.9 owner=orchestrator:fabric-reconciler.other",
				"foreign PrefixFilter s1/10.0.0.9 owner=orchestrator:fabric-reconciler.other"}},
		{name: "our neighbor", neigh: &Neighbor{ID: "10.0.0.1", Addr: netip.MustParseAddr("10.0.0.1"), Description: mark + " node=n1"},
			want: []string{`owned BGPPeer s1/10.0.0.1 {"node":"(incomplete: checked)","peerAddress":"10.0.0.1","remoteASN":0,"localASN":0,"addressFamily":""}`}},
		{name: "maximum-paths by hand is foreign", paths: &Paths{MaxPaths: 2}, want: []string{"foreign MaximumPaths s1/ipv4 owner="}},
		{name: "relax missing: not in effect",
			pls: map[string][]PrefixListEntry{"FR-haystack-MARK-MAXPATHS-IPV4": nil}, descs: map[string]string{"FR-haystack-MARK-MAXPATHS-IPV4": "by hand"},
			paths: &Paths{MaxPaths: 3, MaxPathsIBGP: 3}, want: []string{`owned MaximumPaths s1/ipv4 {"paths":0}`}},
		{name: "a marker without the mark is not ours when strict", strict: true,
			pls: map[string][]PrefixListEntry{"FR-haystack-MARK-MAXPATHS-IPV4": nil}, descs: map[string]string{"FR-haystack-MARK-MAXPATHS-IPV4": "by hand"},
			paths: &Paths{MaxPaths: 3, MaxPathsIBGP: 3}, relax: true, want: []string{"foreign MaximumPaths s1/ipv4 owner="}},
		{name: "defaults fill missing lines; eBGP and iBGP differ",
			pls: map[string][]PrefixListEntry{"FR-haystack-MARK-MAXPATHS-IPV4": nil}, descs: map[string]string{"FR-haystack-MARK-MAXPATHS-IPV4": mark + " owns maximum-paths ipv4"},
			paths: &Paths{MaxPathsIBGP: 4}, relax: true, want: []string{`owned MaximumPaths s1/ipv4 {"paths":0}`}},
		{name: "defaults fill missing lines",
			pls: map[string][]PrefixListEntry{"FR-haystack-MARK-MAXPATHS-IPV4": nil}, descs: map[string]string{"FR-haystack-MARK-MAXPATHS-IPV4": mark + " owns maximum-paths ipv4"},
			relax: true, want: []string{`owned MaximumPaths s1/ipv4 {"paths":8}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rms := map[string]*RouteMapEntry{}
			if tt.rm != nil {
				rms[pl] = tt.rm
			}
			o := &Observation{Ownership: testOwnership(t, tt.strict), Switch: "s1", Filters: filtersOf(tt.pls, tt.descs, rms), Log: slog.New(slog.DiscardHandler)}
			if tt.neigh != nil {
				o.Neighbor(tt.neigh, func() (fabric.BGPPeer, string) {
					return fabric.BGPPeer{Switch: "s1", PeerAddress: tt.neigh.Addr.String()}, "checked"
				})
			}
			o.PeerFilters(isDenyAll, func(netip.Addr, string) string { return tt.binding })
			o.MaxPaths(fabric.IPv4, tt.paths, tt.relax, "bestpath as-path multipath-relax", func() int { return 8 })
			var got []string
			for _, ob := range o.Owned {
				b, _ := json.Marshal(fabric.Canonical(ob))
				got = append(got, "owned "+fabric.KeyOf(ob).String()+" "+string(b))
			}
			for _, f := range o.Foreign {
				got = append(got, "foreign "+fabric.Key{Kind: f.Kind, Switch: f.Switch, ID: f.ID}.String()+" owner="+f.Owner)
			}
			sort.Strings(got)
			sort.Strings(tt.want)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("observed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestBindingProblem(t *testing.T) {
	o := testOwnership(t, false)
	tests := []struct{ want, have, problem string }{
		{want: "FR-haystack-IN-10.0.0.1", have: "FR-haystack-IN-10.0.0.1"},
		{want: "FR-haystack-IN-10.0.0.1", have: "", problem: "route-map FR-haystack-IN-10.0.0.1 not applied"},
		{want: "FR-haystack-IN-10.0.0.1", have: "HANDMADE", problem: "route-map FR-haystack-IN-10.0.0.1 not applied"},
		{want: "", have: "FR-haystack-IN-10.0.0.1", problem: "route-map FR-haystack-IN-10.0.0.1 applied but missing"},
		{want: "", have: "HANDMADE"},
		{want: "", have: ""},
	}
	for _, tt := range tests {
		if got := o.BindingProblem(tt.want, tt.have); got != tt.problem {
			t.Errorf("BindingProblem(%q, %q) = %q, want %q", tt.want, tt.have, got, tt.problem)
		}
	}
}
