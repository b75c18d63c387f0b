package cli

import (
	"net/netip"
	"strings"
	"testing"
)

func TestMarkDescribeParse(t *testing.T) {
	m := Mark("orchestrator:fabric-reconciler.haystack")
	tests := []struct {
		desc, owner, node string
		owns              bool
	}{
		{desc: m.Describe("k8c1m0"), owner: string(m), node: "k8c1m0", owns: true},
		{desc: m.Describe(""), owner: string(m), owns: true},
		{desc: m.DescribeSetting("maximum-paths ipv4"), owner: string(m), owns: true},
		{desc: "orchestrator:fabric-reconciler.other node=k8c1m0", owner: "orchestrator:fabric-reconciler.other", node: "k8c1m0"},
		{desc: "orchestrator:fabric-reconciler.haystack-2 node=x", owner: "orchestrator:fabric-reconciler.haystack-2", node: "x"},
		{desc: "border router, configured by hand"},
		{desc: "see orchestrator:fabric-reconciler.haystack"},
		{desc: ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			owner, node := Parse(tt.desc)
			if owner != tt.owner || node != tt.node {
				t.Fatalf("Parse(%q) = %q, %q; want %q, %q", tt.desc, owner, node, tt.owner, tt.node)
			}
			if m.Owns(tt.desc) != tt.owns {
				t.Fatalf("Owns(%q) = %v", tt.desc, !tt.owns)
			}
			if tt.owner != "" {
				if err := Text("description", tt.desc, 0); err != nil {
					t.Fatalf("a description the driver writes fails the grammar: %v", err)
				}
			}
		})
	}
}

func TestNamingPeerFilter(t *testing.T) {
	n, err := NewNaming("", "haystack", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if n.Prefix() != "FR-haystack-" {
		t.Fatalf("prefix %q", n.Prefix())
	}
	other, _ := NewNaming("", "haystack-IN-192.168.9.193", "", 0)
	blue, _ := NewNaming("", "haystack", "BLUE", 0)
	beef, _ := NewNaming("", "haystack", "beef", 0)
	tests := []struct {
		name string
		addr string // "" when not this cluster's peer filter
	}{
		{name: n.PeerFilter(netip.MustParseAddr("192.168.9.193")), addr: "192.168.9.193"},
		{name: n.PeerFilter(netip.MustParseAddr("2001:db8::1")), addr: "2001:db8::1"},
		{name: n.PeerFilter(netip.MustParseAddr("64:ff9b::192.0.2.1")), addr: "64:ff9b::c000:201"},
		{name: "FR-haystack-IN-192.168.9.193-x"},
		{name: "FR-haystack-IN-192.168.009.193"},
		{name: "FR-haystack-IN-2001-DB8--1"},
		{name: "FR-haystack-MARK-MAXPATHS-IPV4"},
		{name: "HANDMADE-BORDER-OUT"},
		{name: other.PeerFilter(netip.MustParseAddr("10.0.0.1"))},
		{name: blue.PeerFilter(netip.MustParseAddr("192.168.9.193"))},
		{name: beef.PeerFilter(netip.MustParseAddr("2001:db8::1"))},
		{name: blue.Marker("MAXPATHS-IPV4")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := n.ParsePeerFilter(tt.name)
			if ok != (tt.addr != "") || (ok && a.String() != tt.addr) {
				t.Fatalf("ParsePeerFilter(%q) = %v, %v; want %q", tt.name, a, ok, tt.addr)
			}
			if ok {
				if err := Name("name", tt.name, 0); err != nil {
					t.Fatalf("a generated name fails the grammar: %v", err)
				}
			}
		})
	}
	if !n.IsMarker(n.Marker("MAXPATHS-IPV4"), "MAXPATHS-IPV4") || n.IsMarker(n.Marker("MAXPATHS-IPV4"), "MAXPATHS-IPV6") ||
		n.IsMarker(blue.Marker("MAXPATHS-IPV4"), "MAXPATHS-IPV4") {
		t.Fatal("IsMarker does not match exactly")
	}
	// A scoped naming reads back its own names only.
	for _, a := range []string{"192.168.9.193", "2001:db8::1"} {
		addr := netip.MustParseAddr(a)
		for _, nm := range []Naming{blue, beef} {
			if got, ok := nm.ParsePeerFilter(nm.PeerFilter(addr)); !ok || got != addr {
				t.Errorf("%q does not parse back", nm.PeerFilter(addr))
			}
			if _, ok := nm.ParsePeerFilter(n.PeerFilter(addr)); ok {
				t.Errorf("scoped naming claims the unscoped %q", n.PeerFilter(addr))
			}
		}
		if _, ok := blue.ParsePeerFilter(beef.PeerFilter(addr)); ok {
			t.Errorf("scope BLUE claims %q", beef.PeerFilter(addr))
		}
	}
}

func TestNamingMaxLength(t *testing.T) {
	long := strings.Repeat("c", 40)
	tests := []struct {
		cluster string
		max     int
	}{
		{"haystack", 63},
		{long, 63},
		{long + "x", 63},
		{long, 0},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		n, err := NewNaming("", tt.cluster, "", tt.max)
		if err != nil {
			t.Fatal(err)
		}
		v6 := netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")
		name := n.PeerFilter(v6)
		if tt.max > 0 && len(name) > tt.max {
			t.Errorf("cluster %q: %q is longer than %d", tt.cluster, name, tt.max)
		}
		if a, ok := n.ParsePeerFilter(name); !ok || a != v6 {
			t.Errorf("cluster %q: %q does not parse back", tt.cluster, name)
		}
		key := n.Prefix()
		if prev, dup := seen[key]; dup && tt.max > 0 {
			t.Errorf("clusters %q and %q share the prefix %q", prev, tt.cluster, key)
		}
		seen[key] = tt.cluster
	}
	if _, err := NewNaming("", "c", "", 40); err == nil {
		t.Error("a 40-character limit was accepted although no IPv6 name fits")
	}
	if _, err := NewNaming("", "bad name", "", 0); err == nil {
		t.Error("a cluster name with a space was accepted")
	}
}
