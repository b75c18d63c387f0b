package cli

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// toy is a minimal platform on top of Planner: neighbors are lines in
// "router bgp 1", bound with "neighbor X route-map NAME in".
type toy struct {
	Planner
	neighbors map[netip.Addr]*Neighbor
	bound     map[netip.Addr]string
	af        *Paths
	relax     bool
}

var toyBGP = []string{"router bgp 1"}

func (p *toy) NeighborAt(a netip.Addr) *Neighbor { return p.neighbors[a] }

func (p *toy) PeerUp(peer fabric.BGPPeer, desc string) {
	a, _ := Addr("peer address", peer.PeerAddress)
	n := p.neighbors[a]
	if n == nil {
		n = &Neighbor{ID: a.String(), Addr: a}
		p.neighbors[a] = n
	}
	if n.Description != desc {
		p.In(toyBGP, fmt.Sprintf("neighbor %s description %s", a, desc))
		n.Description = desc
	}
	if bind, unbind := p.Rebind(a, p.bound[a]); bind != "" {
		p.Bind(n, bind)
	} else if unbind != "" {
		p.Unbind(n, unbind)
	}
}

func (p *toy) PeerDown(n *Neighbor) {
	p.In(toyBGP, "no neighbor "+n.ID)
	delete(p.neighbors, n.Addr)
}

func (p *toy) RouteMapIn(n *Neighbor) string { return p.bound[n.Addr] }

func (p *toy) Bind(n *Neighbor, name string) {
	if p.bound[n.Addr] != name {
		p.In(toyBGP, fmt.Sprintf("neighbor %s route-map %s in", n.ID, name))
		p.bound[n.Addr] = name
	}
}

func (p *toy) Unbind(n *Neighbor, name string) {
	p.In(toyBGP, fmt.Sprintf("no neighbor %s route-map %s in", n.ID, name))
	delete(p.bound, n.Addr)
}

func (p *toy) DenyAll(netip.Addr) PrefixListEntry { return PrefixListEntry{Action: "deny", Any: true} }

func (p *toy) Echo(rm, l string) error {
	if strings.ContainsAny(l, "\x00\x1b") {
		return fmt.Errorf("route-map %s holds %s", rm, Quote(l))
	}
	return nil
}

func (p *toy) PathsAt(fabric.AddressFamily) PathsAt {
	return PathsAt{AF: p.af, NewAF: func() *Paths { p.af = &Paths{}; return p.af }, AFName: "ipv4 unicast",
		AFMode: append(toyBGP, "address-family ipv4 unicast"), BGPMode: toyBGP, Relax: &p.relax, RelaxLine: "relax", Default: 1}
}

func TestPlanner(t *testing.T) {
	const (
		mark = "orchestrator:fabric-reconciler.haystack"
		name = "FR-haystack-IN-10.0.0.1"
	)
	a1 := netip.MustParseAddr("10.0.0.1")
	peer := func(addr, node string) fabric.BGPPeer {
		return fabric.BGPPeer{Switch: "s1", Node: node, PeerAddress: addr, RemoteASN: 65001, LocalASN: 63500, AddressFamily: fabric.IPv4}
	}
	filter := func(addr, node string, rules ...fabric.PrefixRule) fabric.PrefixFilter {
		return fabric.PrefixFilter{Switch: "s1", Node: node, PeerAddress: addr, Prefixes: rules}
	}
	rule := func(p string, le int) fabric.PrefixRule { return fabric.PrefixRule{Prefix: p, LE: le} }
	paths := func(n int) fabric.MaximumPaths {
		return fabric.MaximumPaths{Switch: "s1", AddressFamily: fabric.IPv4, Paths: n}
	}
	create := func(o fabric.Object) fabric.Change {
		return fabric.Change{Action: fabric.ActionCreate, Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID(), After: o}
	}
	del := func(o fabric.Object) fabric.Change {
		return fabric.Change{Action: fabric.ActionDelete, Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID(), Before: o}
	}
	entry := func(seq int64, action, prefix string, le int) PrefixListEntry {
		return PrefixListEntry{Seq: seq, Action: action, Prefix: netip.MustParsePrefix(prefix), LE: le}
	}
	ownList := func(es ...PrefixListEntry) func(*toy) {
		return func(p *toy) {
			k := PrefixListKey{"ip", name}
			p.Filters.PrefixLists[k] = &PrefixList{Key: k, Description: mark + " node=n1", HasDesc: true, Entries: es}
			p.Filters.RouteMaps[name] = &RouteMap{Name: name, Entries: []*RouteMapEntry{{Action: "permit", Seq: 10,
				Description: mark + " node=n1", Lines: []string{"match ip address prefix-list " + name}}}}
		}
	}
	marker := func(what string) func(*toy) {
		return func(p *toy) {
			k := PrefixListKey{"ip", p.Naming.Marker(what)}
			p.Filters.PrefixLists[k] = &PrefixList{Key: k, Description: mark + " owns x", HasDesc: true}
		}
	}
	tests := []struct {
		name      string
		maxDesc   int
		setup     []func(*toy)
		changes   []fabric.Change
		want      []string
		refused   []string
		conflicts []string
	}{
		{name: "a new node: its filter first, then the neighbor, bound",
			changes: []fabric.Change{create(peer("10.0.0.1", "n1")), create(filter("10.0.0.1", "n1", rule("172.27.0.0/26", 26), rule("172.29.0.0/16", 32)))},
			want: []string{
				"ip prefix-list " + name + " description " + mark + " node=n1",
				"ip prefix-list " + name + " seq 5 permit 172.27.0.0/26",
				"ip prefix-list " + name + " seq 10 permit 172.29.0.0/16 le 32",
				"route-map " + name + " permit 10",
				" description " + mark + " node=n1",
				" match ip address prefix-list " + name,
				"exit",
				"router bgp 1",
				" neighbor 10.0.0.1 description " + mark + " node=n1",
				" neighbor 10.0.0.1 route-map " + name + " in",
			}},
		{name: "grammar, switch and kind refusals; a neighbor whose filter was refused is not created",
			changes: []fabric.Change{
				create(filter("10.0.0.1", "n1", rule("172.27.0.0/26;", 26))), create(peer("10.0.0.1", "n1")),
				create(peer("10.0.0.2", "n2\nx")),
				create(fabric.BGPPeer{Switch: "s2", Node: "n3", PeerAddress: "10.0.0.3", RemoteASN: 1, LocalASN: 1, AddressFamily: fabric.IPv4}),
				{Action: fabric.ActionCreate, Kind: fabric.KindContract, Switch: "s1", ID: "c", After: fabric.Contract{Name: "c"}},
				create(paths(65)),
				{Action: fabric.ActionDelete, Kind: fabric.KindBGPPeer, Switch: "s1", ID: "not-an-address"},
			},
			// In the safe order: filters, maximum-paths, deleted peers, peers.
			refused: []string{`filter prefix "172.27.0.0/26;": contains ';'`, "maximum-paths \"65\": must be 1-64",
				`peer address "not-an-address": not an IP address`, "not created: its prefix filter was refused",
				`node name "n2\nx": contains a line break`, `the change is for switch "s2"`, "Contract objects are not configured on TOY"}},
		{name: "an existing neighbor keeps its session when its filter is refused", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: mark + " node=n1"}
		}},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1", rule("10.0.0.0/33", 33))), create(peer("10.0.0.1", "n1b"))},
			want:    []string{"router bgp 1", " neighbor 10.0.0.1 description " + mark + " node=n1b"},
			refused: []string{`filter prefix "10.0.0.0/33": not a prefix`}},
		{name: "a hand-made neighbor in the way", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: "uplink"}
		}},
			changes:   []fabric.Change{create(peer("10.0.0.1", "n1"))},
			conflicts: []string{"neighbor 10.0.0.1 is configured without this cluster's mark; it is left alone"}},
		{name: "new entries before old ones go; a foreign route-map line removed", setup: []func(*toy){
			ownList(entry(5, "permit", "172.27.0.0/26", 0), entry(10, "permit", "172.29.0.0/16", 32)),
			func(p *toy) {
				e := p.Filters.RouteMaps[name].Entries[0]
				e.Lines = append(e.Lines, "set local-preference 200")
			},
		},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1", rule("172.27.0.64/26", 26), rule("172.29.0.0/16", 32)))},
			want: []string{
				"ip prefix-list " + name + " seq 15 permit 172.27.0.64/26",
				"no ip prefix-list " + name + " seq 5",
				"route-map " + name + " permit 10",
				" no set local-preference 200",
			}},
		{name: "permits nothing: the platform's deny-all", setup: []func(*toy){ownList(entry(5, "permit", "172.27.0.0/26", 0))},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1"))},
			want:    []string{"ip prefix-list " + name + " seq 10 deny any", "no ip prefix-list " + name + " seq 5"}},
		{name: "no-forms in full (NX-OS): an entry is removed by what it is", setup: []func(*toy){
			ownList(entry(5, "permit", "172.27.0.0/26", 0), entry(10, "permit", "172.29.0.0/16", 32)),
			func(p *toy) { p.NoFormsInFull = true },
		},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1"))},
			want: []string{"ip prefix-list " + name + " seq 15 deny any",
				"no ip prefix-list " + name + " seq 5 permit 172.27.0.0/26",
				"no ip prefix-list " + name + " seq 10 permit 172.29.0.0/16 le 32"}},
		{name: "a list with an unreadable line is rebuilt", setup: []func(*toy){
			ownList(entry(5, "permit", "172.27.0.0/26", 0)), func(p *toy) { p.Filters.PrefixLists[PrefixListKey{"ip", name}].Bad = true },
		},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1", rule("172.27.0.0/26", 26)))},
			want: []string{
				"no ip prefix-list " + name,
				"ip prefix-list " + name + " description " + mark + " node=n1",
				"ip prefix-list " + name + " seq 5 permit 172.27.0.0/26",
			}},
		{name: "a route-map line that cannot be echoed refuses the filter", setup: []func(*toy){
			ownList(entry(5, "permit", "172.27.0.0/26", 0)),
			func(p *toy) { e := p.Filters.RouteMaps[name].Entries[0]; e.Lines = append(e.Lines, "set \x1b[2J") },
		},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1", rule("172.27.0.0/26", 26)))},
			refused: []string{`route-map ` + name + ` holds "set \x1b[2J"`}},
		{name: "filter deleted", setup: []func(*toy){ownList(entry(5, "permit", "172.27.0.0/26", 0))},
			changes: []fabric.Change{del(filter("10.0.0.1", "n1"))},
			want:    []string{"no route-map " + name, "no ip prefix-list " + name}},
		{name: "filter deleted: the neighbor is unbound first", setup: []func(*toy){ownList(entry(5, "permit", "172.27.0.0/26", 0)), func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: mark + " node=n1"}
			p.bound[a1] = name
		}},
			changes: []fabric.Change{del(filter("10.0.0.1", "n1"))},
			want:    []string{"router bgp 1", " no neighbor 10.0.0.1 route-map " + name + " in", "exit", "no route-map " + name, "no ip prefix-list " + name}},
		{name: "a filter another cluster's neighbor uses is kept", setup: []func(*toy){ownList(entry(5, "permit", "172.27.0.0/26", 0)), func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: "orchestrator:fabric-reconciler.other node=x"}
			p.bound[a1] = name
		}},
			changes:   []fabric.Change{del(filter("10.0.0.1", "n1"))},
			conflicts: []string{"neighbor 10.0.0.1 is configured owned by orchestrator:fabric-reconciler.other; it uses this filter, which is therefore kept"}},
		{name: "a hand-made neighbor is not deleted", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: "uplink"}
		}},
			changes:   []fabric.Change{del(peer("10.0.0.1", "n1"))},
			conflicts: []string{"neighbor 10.0.0.1 is configured without this cluster's mark; it is not deleted"}},
		{name: "an owned neighbor is deleted, a missing one is gone already", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: mark + " node=n1"}
		}},
			changes: []fabric.Change{del(peer("10.0.0.1", "n1")), del(peer("10.0.0.2", "n2"))},
			want:    []string{"router bgp 1", " no neighbor 10.0.0.1"}},
		{name: "an existing owned neighbor gets its new filter bound", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: mark + " node=n1"}
		}},
			changes: []fabric.Change{create(filter("10.0.0.1", "n1", rule("172.27.0.0/26", 26)))},
			want: []string{
				"ip prefix-list " + name + " description " + mark + " node=n1",
				"ip prefix-list " + name + " seq 5 permit 172.27.0.0/26",
				"route-map " + name + " permit 10",
				" description " + mark + " node=n1",
				" match ip address prefix-list " + name,
				"exit",
				"router bgp 1",
				" neighbor 10.0.0.1 route-map " + name + " in",
			}},
		{name: "another cluster's neighbor in the way of a filter", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: "orchestrator:fabric-reconciler.other node=x"}
		}},
			changes:   []fabric.Change{create(filter("10.0.0.1", "n1", rule("172.27.0.0/26", 26)))},
			conflicts: []string{"neighbor 10.0.0.1 is configured owned by orchestrator:fabric-reconciler.other; its inbound filter is not this cluster's to set"}},
		{name: "a description over the platform's limit refuses the filter and its new neighbor", maxDesc: 48,
			changes: []fabric.Change{create(filter("10.0.0.1", "a-rather-long-node-name", rule("172.27.0.0/26", 26))), create(peer("10.0.0.1", "a-rather-long-node-name"))},
			refused: []string{`node name "a-rather-long-node-name": the description "` + mark + ` node=a-rather-long-node-name" would be 68 characters, TOY takes 48 (node names of at most 3 characters fit)`,
				"not created: its prefix filter was refused"}},
		{name: "a neighbor bound to a filter that is gone is unbound", setup: []func(*toy){func(p *toy) {
			p.neighbors[a1] = &Neighbor{ID: "10.0.0.1", Addr: a1, Description: mark + " node=n1"}
			p.bound[a1] = name
		}},
			changes: []fabric.Change{create(peer("10.0.0.1", "n1"))},
			want:    []string{"router bgp 1", " no neighbor 10.0.0.1 route-map " + name + " in"}},
		{name: "maximum-paths: markers first, relax, the address family even at the default",
			changes: []fabric.Change{create(paths(1))},
			want: []string{
				"ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description " + mark + " owns maximum-paths ipv4",
				"ip prefix-list FR-haystack-MARK-MULTIPATH-RELAX description " + mark + " owns relax",
				"router bgp 1",
				" relax",
				" address-family ipv4 unicast",
			}},
		{name: "maximum-paths set by hand is a conflict", setup: []func(*toy){func(p *toy) { p.af = &Paths{MaxPaths: 2} }},
			changes:   []fabric.Change{create(paths(3))},
			conflicts: []string{"maximum-paths is set in address-family ipv4 unicast without this cluster's marker (prefix-list FR-haystack-MARK-MAXPATHS-IPV4); it is left alone"}},
		{name: "relax set by hand stays; maximum-paths changes", setup: []func(*toy){marker(MarkerMaxPaths(fabric.IPv4)), func(p *toy) {
			p.af, p.relax = &Paths{MaxPaths: 3, MaxPathsIBGP: 3}, true
		}},
			changes: []fabric.Change{create(paths(4))},
			want:    []string{"router bgp 1", " address-family ipv4 unicast", "  maximum-paths 4", "  maximum-paths ibgp 4"}},
		{name: "maximum-paths deleted: relax goes with the last family", setup: []func(*toy){marker(MarkerMaxPaths(fabric.IPv4)), marker(MarkerRelax), func(p *toy) {
			p.af, p.relax = &Paths{MaxPaths: 3, MaxPathsIBGP: 3}, true
		}},
			changes: []fabric.Change{del(paths(3))},
			want: []string{"router bgp 1", " address-family ipv4 unicast", "  no maximum-paths", "  no maximum-paths ibgp", " exit", " no relax", "exit",
				"no ip prefix-list FR-haystack-MARK-MULTIPATH-RELAX", "no ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4"}},
		{name: "maximum-paths deleted, no-forms in full (NX-OS)", setup: []func(*toy){marker(MarkerMaxPaths(fabric.IPv4)), func(p *toy) {
			p.af, p.relax, p.NoFormsInFull = &Paths{MaxPaths: 3, MaxPathsIBGP: 2}, true, true
		}},
			changes: []fabric.Change{del(paths(3))},
			want: []string{"router bgp 1", " address-family ipv4 unicast", "  no maximum-paths 3", "  no maximum-paths ibgp 2", " exit", "exit",
				"no ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4"}},
		{name: "maximum-paths deleted: relax stays for the other family", setup: []func(*toy){
			marker(MarkerMaxPaths(fabric.IPv4)), marker(MarkerMaxPaths(fabric.IPv6)), marker(MarkerRelax),
			func(p *toy) { p.af, p.relax = &Paths{MaxPaths: 3, MaxPathsIBGP: 3}, true },
		},
			changes: []fabric.Change{del(paths(3))},
			want: []string{"router bgp 1", " address-family ipv4 unicast", "  no maximum-paths", "  no maximum-paths ibgp", " exit", "exit",
				"no ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4"}},
		{name: "maximum-paths no longer ours: nothing deleted", changes: []fabric.Change{del(paths(3))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewFilters()
			p := &toy{Planner: Planner{Script: NewScript(Dialect{}), Ownership: testOwnership(t, false), Switch: "s1", PlatformName: "TOY",
				MaxPaths: 64, MaxDescription: tt.maxDesc, Filters: &fs}, neighbors: map[netip.Addr]*Neighbor{}, bound: map[netip.Addr]string{}}
			for _, f := range tt.setup {
				f(p)
			}
			p.Plan(tt.changes, p)
			want := ""
			if len(tt.want) > 0 {
				want = strings.Join(tt.want, "\n") + "\n"
			}
			if got := p.Text(); got != want {
				t.Fatalf("lines:\n%s\nwant:\n%s", got, want)
			}
			refused := p.Refused()
			if len(refused) != len(tt.refused) {
				t.Fatalf("refused %v, want %q", refused, tt.refused)
			}
			for i, w := range tt.refused {
				if !strings.Contains(refused[i].Err.Error(), w) {
					t.Errorf("refusal %d: %v, want %q", i, refused[i].Err, w)
				}
			}
			conflicts := p.Conflicts()
			if len(conflicts) != len(tt.conflicts) {
				t.Fatalf("conflicts %+v, want %q", conflicts, tt.conflicts)
			}
			for i, w := range tt.conflicts {
				if conflicts[i].Reason != w {
					t.Errorf("conflict %d: %q, want %q", i, conflicts[i].Reason, w)
				}
			}
			if n := len(p.Applied(len(p.Lines()))) + len(refused) + len(conflicts); n != len(tt.changes) {
				t.Errorf("%d applied, refused or in conflict, for %d changes", n, len(tt.changes))
			}
		})
	}
}

func TestRebind(t *testing.T) {
	const name = "FR-haystack-IN-10.0.0.1"
	tests := []struct {
		filter             bool // the filter's prefix-list exists
		have, bind, unbind string
	}{
		{filter: true, have: name},
		{filter: true, have: "", bind: name},
		{filter: true, have: "HANDMADE", bind: name},
		{have: name, unbind: name},
		{have: "HANDMADE"},
		{have: ""},
	}
	for _, tt := range tests {
		fs := NewFilters()
		if tt.filter {
			fs.PrefixLists[PrefixListKey{"ip", name}] = &PrefixList{}
		}
		p := &Planner{Ownership: testOwnership(t, false), Filters: &fs}
		if bind, unbind := p.Rebind(netip.MustParseAddr("10.0.0.1"), tt.have); bind != tt.bind || unbind != tt.unbind {
			t.Errorf("filter %v, Rebind(%q) = %q, %q; want %q, %q", tt.filter, tt.have, bind, unbind, tt.bind, tt.unbind)
		}
	}
}
