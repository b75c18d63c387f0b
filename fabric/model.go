// Package fabric is the vendor-neutral model of what a switch fabric holds for
// a cluster: BGP peers, external subnets, maximum-paths, contracts and per-peer
// prefix filters, and the plan (diff) between a desired and an observed state.
//
// It does no I/O and imports none of the project's other packages: the
// reconciler produces fabric values, drivers consume them.
package fabric

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Kind names one class of fabric object. The values are part of the public
// JSON plan format.
type Kind string

const (
	KindBGPPeer        Kind = "BGPPeer"
	KindExternalSubnet Kind = "ExternalSubnet"
	KindMaximumPaths   Kind = "MaximumPaths"
	KindContract       Kind = "Contract"
	KindPrefixFilter   Kind = "PrefixFilter"
)

// AddressFamily is "ipv4" or "ipv6".
type AddressFamily string

const (
	IPv4 AddressFamily = "ipv4"
	IPv6 AddressFamily = "ipv6"
)

// FamilyOf returns the address family of an address.
func FamilyOf(a netip.Addr) AddressFamily {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// MaxPrefixLen is 32 for IPv4 and 128 for IPv6.
func (af AddressFamily) MaxPrefixLen() int {
	if af == IPv6 {
		return 128
	}
	return 32
}

// Scope is an external-subnet flag, named as ACI names it. Drivers without
// external EPGs ignore external subnets altogether.
type Scope string

const (
	// ScopeImportSecurity classifies traffic from the prefix into the group.
	ScopeImportSecurity Scope = "import-security"
	// ScopeExportRtctrl marks the prefix for export out of the group's L3Out (transit).
	ScopeExportRtctrl Scope = "export-rtctrl"
	// ScopeExportAggregate exports the prefix and every more specific
	// route inside it out of the group's L3Out (transit). ACI's
	// export-rtctrl matches the exact prefix only; the ACI driver makes
	// this one a route-map match with aggregate.
	ScopeExportAggregate Scope = "export-aggregate"
	// ScopeImportRtctrl marks the prefix for import route control.
	ScopeImportRtctrl Scope = "import-rtctrl"
	// ScopeSharedSecurity and ScopeSharedRtctrl leak the prefix to other VRFs.
	ScopeSharedSecurity Scope = "shared-security"
	ScopeSharedRtctrl   Scope = "shared-rtctrl"
)

// Object is one fabric object. Every object has a kind, a stable id unique
// within its fabric, kind and switch, and the switch it lives on ("" when it
// is fabric-wide, as ACI tenant policy is).
type Object interface {
	Kind() Kind
	ID() string
	SwitchName() string
	// Validate reports an object no driver could render.
	Validate() error
	// canonical returns a copy with every list sorted and every address in
	// canonical text, so that equal meaning compares equal.
	canonical() Object
	withSwitch(sw string) Object
}

// Key identifies an object within one fabric.
type Key struct {
	Kind   Kind
	Switch string
	ID     string
}

func (k Key) String() string {
	if k.Switch == "" {
		return fmt.Sprintf("%s %s", k.Kind, k.ID)
	}
	return fmt.Sprintf("%s %s/%s", k.Kind, k.Switch, k.ID)
}

// KeyOf returns the key of an object.
func KeyOf(o Object) Key { return Key{Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID()} }

// BGPPeer is one BGP neighbor on a switch: the switch peers with a node's BGP
// address. RemoteASN is the node's AS, LocalASN the AS the switch presents to
// the node (the asNumber of the Calico BGPPeer).
type BGPPeer struct {
	Switch        string        `json:"-"`
	Node          string        `json:"node"`
	PeerAddress   string        `json:"peerAddress"`
	RemoteASN     uint32        `json:"remoteASN"`
	LocalASN      uint32        `json:"localASN"`
	AddressFamily AddressFamily `json:"addressFamily"`
	PeerOptions
}

func (p BGPPeer) Kind() Kind         { return KindBGPPeer }
func (p BGPPeer) ID() string         { return p.PeerAddress }
func (p BGPPeer) SwitchName() string { return p.Switch }
func (p BGPPeer) withSwitch(sw string) Object {
	p.Switch = sw
	return p
}

func (p BGPPeer) canonical() Object {
	p.PeerAddress = p.canonicalID()
	return p
}

func (p BGPPeer) canonicalID() string { return unmappedAddress(p.PeerAddress) }

// unmappedAddress is an address in its canonical text, IPv4-mapped IPv6
// as IPv4; text that is not an address is left as it is.
func unmappedAddress(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

func (p BGPPeer) Validate() error {
	a, err := netip.ParseAddr(p.PeerAddress)
	if err != nil {
		return fmt.Errorf("BGPPeer %q: peer address is not an IP address", p.PeerAddress)
	}
	if p.Switch == "" {
		return fmt.Errorf("BGPPeer %s: no switch", p.PeerAddress)
	}
	if p.RemoteASN == 0 || p.LocalASN == 0 {
		return fmt.Errorf("BGPPeer %s: AS numbers must be 1-4294967295", p.PeerAddress)
	}
	if FamilyOf(a) != p.AddressFamily {
		return fmt.Errorf("BGPPeer %s: address family %q does not match the address", p.PeerAddress, p.AddressFamily)
	}
	return p.PeerOptions.validate(p.PeerAddress)
}

// ExternalSubnet is a prefix classified into a group of external endpoints
// (an ACI external EPG) with scopes. Group is the external EPG's name, or
// "<l3out>/<epg>" when the EPG belongs to another L3Out than the fabric's own.
type ExternalSubnet struct {
	Group  string  `json:"group"`
	Prefix string  `json:"prefix"`
	Scopes []Scope `json:"scopes"`
}

func (s ExternalSubnet) Kind() Kind                  { return KindExternalSubnet }
func (s ExternalSubnet) ID() string                  { return s.Group + "/" + s.Prefix }
func (s ExternalSubnet) SwitchName() string          { return "" }
func (s ExternalSubnet) withSwitch(sw string) Object { return s }

func (s ExternalSubnet) canonicalID() string { return s.Group + "/" + s.canonicalPrefix() }

func (s ExternalSubnet) canonicalPrefix() string {
	if p, err := netip.ParsePrefix(s.Prefix); err == nil {
		return p.Masked().String()
	}
	return s.Prefix
}

func (s ExternalSubnet) canonical() Object {
	s.Prefix = s.canonicalPrefix()
	sc := append([]Scope(nil), s.Scopes...)
	sort.Slice(sc, func(i, j int) bool { return sc[i] < sc[j] })
	s.Scopes = dedupe(sc)
	return s
}

func (s ExternalSubnet) Validate() error {
	p, err := netip.ParsePrefix(s.Prefix)
	if err != nil {
		return fmt.Errorf("ExternalSubnet %q: not a prefix", s.Prefix)
	}
	if p.Masked() != p {
		return fmt.Errorf("ExternalSubnet %s: host bits set", s.Prefix)
	}
	if s.Group == "" {
		return fmt.Errorf("ExternalSubnet %s: no group", s.Prefix)
	}
	if len(s.Scopes) == 0 {
		return fmt.Errorf("ExternalSubnet %s: no scope", s.Prefix)
	}
	return nil
}

// MaximumPaths is the number of equal-cost BGP paths a switch (or, with an
// empty switch, the whole fabric) installs for one address family. The id is
// the address family.
type MaximumPaths struct {
	Switch        string        `json:"-"`
	AddressFamily AddressFamily `json:"-"`
	Paths         int           `json:"paths"`
}

func (m MaximumPaths) Kind() Kind         { return KindMaximumPaths }
func (m MaximumPaths) ID() string         { return string(m.AddressFamily) }
func (m MaximumPaths) SwitchName() string { return m.Switch }
func (m MaximumPaths) withSwitch(sw string) Object {
	m.Switch = sw
	return m
}
func (m MaximumPaths) canonical() Object { return m }

func (m MaximumPaths) Validate() error {
	if m.AddressFamily != IPv4 && m.AddressFamily != IPv6 {
		return fmt.Errorf("MaximumPaths: unknown address family %q", m.AddressFamily)
	}
	if m.Paths < 1 {
		return fmt.Errorf("MaximumPaths %s: paths must be at least 1", m.AddressFamily)
	}
	return nil
}

// ContractEntry is one protocol/port a contract permits.
type ContractEntry struct {
	Protocol string `json:"protocol"` // tcp, udp or sctp
	Port     int    `json:"port"`
}

func (e ContractEntry) String() string { return fmt.Sprintf("%s/%d", e.Protocol, e.Port) }

// Contract permits its entries from the consumer groups to the provider group.
type Contract struct {
	Name      string          `json:"name"`
	Provider  string          `json:"provider"`
	Consumers []string        `json:"consumers"`
	Entries   []ContractEntry `json:"entries"`
}

func (c Contract) Kind() Kind                  { return KindContract }
func (c Contract) ID() string                  { return c.Name }
func (c Contract) SwitchName() string          { return "" }
func (c Contract) withSwitch(sw string) Object { return c }

func (c Contract) canonical() Object {
	cons := append([]string(nil), c.Consumers...)
	sort.Strings(cons)
	c.Consumers = dedupe(cons)
	ents := append([]ContractEntry(nil), c.Entries...)
	for i := range ents {
		ents[i].Protocol = strings.ToLower(ents[i].Protocol)
	}
	sort.Slice(ents, func(i, j int) bool {
		if ents[i].Protocol != ents[j].Protocol {
			return ents[i].Protocol < ents[j].Protocol
		}
		return ents[i].Port < ents[j].Port
	})
	c.Entries = dedupe(ents)
	return c
}

func (c Contract) Validate() error {
	if c.Name == "" || c.Provider == "" {
		return fmt.Errorf("Contract %q: name and provider are required", c.Name)
	}
	if len(c.Entries) == 0 {
		return fmt.Errorf("Contract %s: no entries", c.Name)
	}
	for _, e := range c.Entries {
		switch strings.ToLower(e.Protocol) {
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("Contract %s: unknown protocol %q", c.Name, e.Protocol)
		}
		if e.Port < 1 || e.Port > 65535 {
			return fmt.Errorf("Contract %s: port %d out of range", c.Name, e.Port)
		}
	}
	return nil
}

// PrefixRule permits Prefix and every more specific prefix up to length LE.
// LE equal to the prefix length permits the prefix exactly.
type PrefixRule struct {
	Prefix string `json:"prefix"`
	LE     int    `json:"le"`
}

// String is the rule as a plan prints it: the prefix, and "le N" unless it
// permits the prefix exactly.
func (r PrefixRule) String() string {
	if i := strings.LastIndexByte(r.Prefix, '/'); i >= 0 && r.Prefix[i+1:] == strconv.Itoa(r.LE) {
		return r.Prefix
	}
	return fmt.Sprintf("%s le %d", r.Prefix, r.LE)
}

// PrefixFilter is the inbound filter a switch applies to one peer: what that
// node may legitimately advertise. Everything else is denied.
type PrefixFilter struct {
	Switch      string       `json:"-"`
	Node        string       `json:"node"`
	PeerAddress string       `json:"peerAddress"`
	Prefixes    []PrefixRule `json:"prefixes"`
}

func (f PrefixFilter) Kind() Kind         { return KindPrefixFilter }
func (f PrefixFilter) ID() string         { return f.PeerAddress }
func (f PrefixFilter) SwitchName() string { return f.Switch }
func (f PrefixFilter) withSwitch(sw string) Object {
	f.Switch = sw
	return f
}

func (f PrefixFilter) canonicalID() string { return unmappedAddress(f.PeerAddress) }

func (f PrefixFilter) canonical() Object {
	f.PeerAddress = f.canonicalID()
	// Each prefix is parsed once (Diff canonicalizes every filter of a
	// large fabric on every reconcile); a list already in order, as the
	// translation makes them, is not sorted again.
	parsed := make([]parsedRule, len(f.Prefixes))
	var buf []byte
	for i, r := range f.Prefixes {
		parsed[i].rule = r
		if p, err := netip.ParsePrefix(r.Prefix); err == nil {
			p = p.Masked()
			parsed[i].prefix, parsed[i].ok = p, true
			if buf = p.AppendTo(buf[:0]); string(buf) != r.Prefix {
				parsed[i].rule.Prefix = string(buf)
			}
		}
	}
	if !slices.IsSortedFunc(parsed, compareParsed) {
		sort.Slice(parsed, func(i, j int) bool { return compareParsed(parsed[i], parsed[j]) < 0 })
	}
	var rules []PrefixRule // nil for none, as before
	if len(parsed) > 0 {
		rules = make([]PrefixRule, len(parsed))
		for i := range parsed {
			rules[i] = parsed[i].rule
		}
	}
	f.Prefixes = dedupe(rules)
	return f
}

// parsedRule is a PrefixRule with its prefix parsed (ok) for ordering.
type parsedRule struct {
	rule   PrefixRule
	prefix netip.Prefix
	ok     bool
}

// compareParsed orders rules: by address, then prefix length, then le;
// a prefix that does not parse sorts by its text.
func compareParsed(a, b parsedRule) int {
	if !a.ok || !b.ok {
		return strings.Compare(a.rule.Prefix, b.rule.Prefix)
	}
	if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.prefix.Bits(), b.prefix.Bits()); c != 0 {
		return c
	}
	return cmp.Compare(a.rule.LE, b.rule.LE)
}

func (f PrefixFilter) Validate() error {
	a, err := netip.ParseAddr(f.PeerAddress)
	if err != nil {
		return fmt.Errorf("PrefixFilter %q: peer address is not an IP address", f.PeerAddress)
	}
	af := FamilyOf(a)
	for _, r := range f.Prefixes {
		p, err := netip.ParsePrefix(r.Prefix)
		if err != nil {
			return fmt.Errorf("PrefixFilter %s: %q is not a prefix", f.PeerAddress, r.Prefix)
		}
		if FamilyOf(p.Addr()) != af {
			return fmt.Errorf("PrefixFilter %s: %s is not %s", f.PeerAddress, r.Prefix, af)
		}
		if r.LE < p.Bits() || r.LE > af.MaxPrefixLen() {
			return fmt.Errorf("PrefixFilter %s: le %d out of range for %s", f.PeerAddress, r.LE, r.Prefix)
		}
	}
	return nil
}

func dedupe[T comparable](s []T) []T {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// Canonical returns o with lists sorted and addresses in canonical form.
func Canonical(o Object) Object { return o.canonical() }
