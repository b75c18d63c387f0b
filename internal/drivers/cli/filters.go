package cli

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// PrefixListKey names a prefix-list: IPv4 ("ip") and IPv6 ("ipv6") lists
// have separate name spaces.
type PrefixListKey struct {
	Family string // "ip" or "ipv6"
	Name   string
}

// PrefixList is a prefix-list as a driver read it from a switch.
type PrefixList struct {
	Key         PrefixListKey
	Description string
	HasDesc     bool
	Entries     []PrefixListEntry
	// Bad is set when a line of the list could not be read: an owned list
	// with it is rewritten, a foreign one left alone.
	Bad bool
}

// PrefixListEntry is one entry: "seq N permit|deny PREFIX [ge N] [le N]",
// or "... any" where the platform has it (FRR).
type PrefixListEntry struct {
	Seq    int64
	Action string // permit or deny
	Prefix netip.Prefix
	Any    bool
	GE, LE int // 0 when absent
}

// Same reports whether two entries match the same routes the same way,
// whatever their sequence numbers.
func (e PrefixListEntry) Same(o PrefixListEntry) bool {
	return e.Action == o.Action && e.Any == o.Any && e.Prefix == o.Prefix && e.GE == o.GE && e.LE == o.LE
}

// Text is the entry after its sequence number: "permit 10.0.0.0/8 le 32",
// "deny any".
func (e PrefixListEntry) Text() string {
	s := e.Action + " "
	if e.Any {
		return s + "any"
	}
	s += e.Prefix.String()
	if e.GE != 0 {
		s += fmt.Sprintf(" ge %d", e.GE)
	}
	if e.LE != 0 {
		s += fmt.Sprintf(" le %d", e.LE)
	}
	return s
}

// RouteMap is a route-map as a driver read it from a switch.
type RouteMap struct {
	Name    string
	Entries []*RouteMapEntry
}

// RouteMapEntry is one "route-map NAME permit|deny SEQ" block.
type RouteMapEntry struct {
	Action      string // permit or deny
	Seq         int
	Description string
	Lines       []string // every other line of the entry, trimmed
}

// Filters are the prefix-lists and route-maps of a switch. A driver's
// parser fills them; its planner updates them as it plans lines, so that
// each line is planned against the state the previous ones leave.
type Filters struct {
	PrefixLists map[PrefixListKey]*PrefixList
	RouteMaps   map[string]*RouteMap
}

// NewFilters returns empty filters.
func NewFilters() Filters {
	return Filters{PrefixLists: map[PrefixListKey]*PrefixList{}, RouteMaps: map[string]*RouteMap{}}
}

// PrefixListFamily is the prefix-list family of an address: "ip" or "ipv6".
func PrefixListFamily(a netip.Addr) string {
	if a.Is4() {
		return "ip"
	}
	return "ipv6"
}

// AFName is the address family's name in BGP configuration modes:
// "ipv4 unicast", "ipv6 unicast".
func AFName(af fabric.AddressFamily) string {
	if af == fabric.IPv6 {
		return "ipv6 unicast"
	}
	return "ipv4 unicast"
}

// MatchLine is the line of a filter's route-map that matches its
// prefix-list (the same on FRR and NX-OS).
func MatchLine(a netip.Addr, name string) string { return matchLine(PrefixListFamily(a), name) }

func matchLine(fam, name string) string { return "match " + fam + " address prefix-list " + name }

// WantEntries are the prefix-list entries of a filter's rules: exact
// entries without "le" (NX-OS refuses an "le" equal to the prefix length),
// "le" for ranges. A filter that permits nothing holds denyAll, the
// platform's explicit deny of everything, so that it never reads like a
// forgotten list. The rules must have passed CheckPrefixFilter.
func WantEntries(f fabric.PrefixFilter, denyAll PrefixListEntry) []PrefixListEntry {
	f = fabric.Canonical(f).(fabric.PrefixFilter)
	var out []PrefixListEntry
	for _, r := range f.Prefixes {
		p := netip.MustParsePrefix(r.Prefix)
		e := PrefixListEntry{Action: "permit", Prefix: p}
		if r.LE != p.Bits() {
			e.LE = r.LE
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		out = append(out, denyAll)
	}
	return out
}

// MarkerRelax is the marker recording that the driver turned
// "bestpath as-path multipath-relax" on (see Naming.Marker): set by hand,
// relax stays the network team's.
const MarkerRelax = "MULTIPATH-RELAX"

// MarkerMaxPaths is the marker of an address family's maximum-paths.
func MarkerMaxPaths(af fabric.AddressFamily) string {
	return "MAXPATHS-" + strings.ToUpper(string(af))
}
