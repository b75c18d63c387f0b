package nxossim

import (
	"net/netip"
	"sort"
	"time"
)

// AF names a BGP address family as NX-OS spells it after `address-family`.
type AF string

// The address families the emulator implements.
const (
	IPv4Unicast AF = "ipv4 unicast"
	IPv6Unicast AF = "ipv6 unicast"
)

// Config is the emulated switch's configuration, kept as a tree. The running
// configuration, the startup configuration and each verify/commit candidate
// are Config values; Server.Config returns a deep copy for tests to inspect.
type Config struct {
	Hostname   string
	FeatureBGP bool
	BGP        *BGP // nil until `router bgp`
	// Prefix lists by name; IPv4 and IPv6 lists live in separate name spaces.
	PrefixLists  map[string]*PrefixList
	PrefixLists6 map[string]*PrefixList
	RouteMaps    map[string]*RouteMap
}

// BGP is `router bgp <ASN>`: the default VRF's settings and the VRF contexts.
type BGP struct {
	ASN    string
	Global *BGPVRF
	VRFs   map[string]*BGPVRF
}

// BGPVRF holds what NX-OS allows both directly under `router bgp` and under
// `router bgp / vrf <name>`.
type BGPVRF struct {
	RouterID           string
	MultipathRelax     bool // bestpath as-path multipath-relax
	LogNeighborChanges bool
	AFs                map[AF]*BGPAF
	Neighbors          map[string]*Neighbor // by canonical address
}

// BGPAF is `address-family ...` under the router or a VRF.
type BGPAF struct {
	MaximumPaths     int // 0 = not configured (NX-OS default 1)
	MaximumPathsIBGP int
	Networks         []netip.Prefix
}

// Neighbor is `neighbor <address>` (or `neighbor <prefix>`, a prefix
// neighbor that accepts sessions from every address in it) and its
// sub-mode.
type Neighbor struct {
	Address netip.Addr
	// Prefix is set, and Address not, for a prefix neighbor.
	Prefix   netip.Prefix
	RemoteAS string
	// RemoteASRouteMap is `remote-as route-map NAME` of a prefix neighbor.
	RemoteASRouteMap string
	LocalAS          string // as typed after `local-as`, including no-prepend etc.
	Description      string
	UpdateSource     string
	// Password is what `show running-config` prints after `password`:
	// "3 <encrypted>" (see password3), or "7 <key>" as typed.
	Password string
	// Keepalive and Hold are `timers KEEPALIVE HOLD` (Timers set).
	Timers          bool
	Keepalive, Hold int
	TTLHops         int // `ttl-security hops N`; 0 = none
	Shutdown        bool
	MaximumPeers    int // `maximum-peers N` of a prefix neighbor
	AFs             map[AF]*NeighborAF
	// Since is when the neighbor was configured; `show ip bgp summary`
	// prints it as the Up/Down time of a session that never came up.
	Since time.Time
}

// NeighborAF is `address-family ...` under a neighbor.
type NeighborAF struct {
	PrefixListIn, PrefixListOut string
	RouteMapIn, RouteMapOut     string
	SendCommunity               bool
	SendCommunityExtended       bool
	// MaximumPrefix is what follows `maximum-prefix`, normalised
	// ("N [THRESHOLD] [restart M] [warning-only]"); "" = none.
	MaximumPrefix string
}

// PrefixList is `ip prefix-list <name> ...` (or ipv6).
type PrefixList struct {
	Name        string
	Description string
	Entries     []PrefixListEntry // sorted by Seq
}

// PrefixListEntry is one `seq N permit|deny <prefix> [ge N] [le N]` line.
type PrefixListEntry struct {
	Seq    int64
	Action string // permit or deny
	Prefix netip.Prefix
	GE, LE int // 0 = absent
}

// RouteMap is all `route-map <name> permit|deny <seq>` entries of one name.
type RouteMap struct {
	Name    string
	Entries map[int]*RouteMapEntry
}

// RouteMapEntry is one sequence of a route-map.
type RouteMapEntry struct {
	Seq              int
	Action           string
	Description      string
	MatchPrefixList  []string // match ip address prefix-list ...
	MatchPrefixList6 []string // match ipv6 address prefix-list ...
}

func newConfig(hostname string) *Config {
	return &Config{
		Hostname:     hostname,
		PrefixLists:  map[string]*PrefixList{},
		PrefixLists6: map[string]*PrefixList{},
		RouteMaps:    map[string]*RouteMap{},
	}
}

func newBGPVRF() *BGPVRF {
	return &BGPVRF{AFs: map[AF]*BGPAF{}, Neighbors: map[string]*Neighbor{}}
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	n := &Config{
		Hostname:     c.Hostname,
		FeatureBGP:   c.FeatureBGP,
		PrefixLists:  clonePrefixLists(c.PrefixLists),
		PrefixLists6: clonePrefixLists(c.PrefixLists6),
		RouteMaps:    map[string]*RouteMap{},
	}
	if c.BGP != nil {
		b := &BGP{ASN: c.BGP.ASN, Global: c.BGP.Global.clone(), VRFs: map[string]*BGPVRF{}}
		for k, v := range c.BGP.VRFs {
			b.VRFs[k] = v.clone()
		}
		n.BGP = b
	}
	for k, rm := range c.RouteMaps {
		r := &RouteMap{Name: rm.Name, Entries: map[int]*RouteMapEntry{}}
		for s, e := range rm.Entries {
			ce := *e
			ce.MatchPrefixList = append([]string(nil), e.MatchPrefixList...)
			ce.MatchPrefixList6 = append([]string(nil), e.MatchPrefixList6...)
			r.Entries[s] = &ce
		}
		n.RouteMaps[k] = r
	}
	return n
}

func clonePrefixLists(m map[string]*PrefixList) map[string]*PrefixList {
	out := make(map[string]*PrefixList, len(m))
	for k, pl := range m {
		c := *pl
		c.Entries = append([]PrefixListEntry(nil), pl.Entries...)
		out[k] = &c
	}
	return out
}

func (v *BGPVRF) clone() *BGPVRF {
	n := &BGPVRF{
		RouterID:           v.RouterID,
		MultipathRelax:     v.MultipathRelax,
		LogNeighborChanges: v.LogNeighborChanges,
		AFs:                map[AF]*BGPAF{},
		Neighbors:          map[string]*Neighbor{},
	}
	for k, af := range v.AFs {
		c := *af
		c.Networks = append([]netip.Prefix(nil), af.Networks...)
		n.AFs[k] = &c
	}
	for k, nb := range v.Neighbors {
		c := *nb
		c.AFs = map[AF]*NeighborAF{}
		for a, naf := range nb.AFs {
			cc := *naf
			c.AFs[a] = &cc
		}
		n.Neighbors[k] = &c
	}
	return n
}

// sortedNeighbors returns neighbors in the order NX-OS prints them: IPv6
// neighbors first, then IPv4, each in address order (the recordings in
// testdata show IPv6 before IPv4 and IPv4 in numeric order).
func (v *BGPVRF) sortedNeighbors() []*Neighbor {
	out := make([]*Neighbor, 0, len(v.Neighbors))
	for _, n := range v.Neighbors {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].key(), out[j].key()
		if a.Is4() != b.Is4() {
			return b.Is4()
		}
		return a.Less(b)
	})
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// key is the address a neighbor sorts by: its address, or its prefix's.
func (n *Neighbor) key() netip.Addr {
	if n.Prefix.IsValid() {
		return n.Prefix.Addr()
	}
	return n.Address
}

// Name is the neighbor as `neighbor` names it: an address or a prefix.
func (n *Neighbor) Name() string {
	if n.Prefix.IsValid() {
		return n.Prefix.String()
	}
	return n.Address.String()
}
