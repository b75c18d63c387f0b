package fabric

import (
	"fmt"
	"net/netip"
	"sort"
)

// KindBGPListen is a switch's dynamic peering with the nodes.
const KindBGPListen Kind = "BGPListen"

// BGPListen is a switch's dynamic peering with the nodes of one address
// family: the switch accepts a session from any address in Ranges (the
// nodes' subnets), every session configured alike (one peer group, its
// options, one inbound filter that permits Prefixes), instead of one
// neighbor and one filter per node. The id is the address family.
//
// What the per-node objects hold and this does not: each node's AS (any
// eBGP AS, or the switch's own with RemoteAS internal, is accepted), what
// each node may advertise (Prefixes is what any node may: every block of
// the pools, not the node's own), and a per-node password or maintenance
// shutdown.
type BGPListen struct {
	Switch        string        `json:"-"`
	AddressFamily AddressFamily `json:"-"`
	// Ranges are the prefixes sessions are accepted from.
	Ranges []string `json:"ranges"`
	// RemoteAS is "external" (any AS but the switch's) or "internal".
	RemoteAS string `json:"remoteAS"`
	// LocalASN is the AS the switch presents to the nodes.
	LocalASN uint32 `json:"localASN"`
	// Limit is how many dynamic sessions the switch accepts at most.
	Limit int `json:"limit"`
	// Prefixes is what any node may advertise.
	Prefixes []PrefixRule `json:"prefixes"`
	PeerOptions
}

// The values of BGPListen.RemoteAS.
const (
	RemoteASExternal = "external"
	RemoteASInternal = "internal"
)

func (l BGPListen) Kind() Kind         { return KindBGPListen }
func (l BGPListen) ID() string         { return string(l.AddressFamily) }
func (l BGPListen) SwitchName() string { return l.Switch }
func (l BGPListen) withSwitch(sw string) Object {
	l.Switch = sw
	return l
}

func (l BGPListen) withID(id string) Object {
	l.AddressFamily = AddressFamily(id)
	return l
}

func (l BGPListen) canonical() Object {
	rs := make([]string, 0, len(l.Ranges))
	for _, r := range l.Ranges {
		if p, err := netip.ParsePrefix(r); err == nil {
			r = p.Masked().String()
		}
		rs = append(rs, r)
	}
	sort.Strings(rs)
	l.Ranges = dedupe(rs)
	f := PrefixFilter{Prefixes: l.Prefixes}.canonical().(PrefixFilter)
	l.Prefixes = f.Prefixes
	if l.Prefixes == nil {
		l.Prefixes = []PrefixRule{}
	}
	return l
}

func (l BGPListen) Validate() error {
	af := l.AddressFamily
	if af != IPv4 && af != IPv6 {
		return fmt.Errorf("BGPListen: unknown address family %q", af)
	}
	if l.Switch == "" {
		return fmt.Errorf("BGPListen %s: no switch", af)
	}
	if len(l.Ranges) == 0 {
		return fmt.Errorf("BGPListen %s: no range", af)
	}
	for _, r := range l.Ranges {
		p, err := netip.ParsePrefix(r)
		if err != nil || FamilyOf(p.Addr()) != af {
			return fmt.Errorf("BGPListen %s: range %q is not an %s prefix", af, r, af)
		}
	}
	if l.RemoteAS != RemoteASExternal && l.RemoteAS != RemoteASInternal {
		return fmt.Errorf("BGPListen %s: remote AS %q is not external or internal", af, l.RemoteAS)
	}
	if l.LocalASN == 0 {
		return fmt.Errorf("BGPListen %s: AS numbers must be 1-4294967295", af)
	}
	if l.Limit < 1 {
		return fmt.Errorf("BGPListen %s: the session limit must be at least 1", af)
	}
	for _, r := range l.Prefixes {
		p, err := netip.ParsePrefix(r.Prefix)
		if err != nil || FamilyOf(p.Addr()) != af || r.LE < p.Bits() || r.LE > af.MaxPrefixLen() {
			return fmt.Errorf("BGPListen %s: %s is not an %s prefix rule", af, r, af)
		}
	}
	return l.PeerOptions.validate("listen " + string(af))
}

// listenShrinks: an update that accepts sessions from fewer addresses, or
// lets the nodes advertise less.
func listenShrinks(b, a Object) bool {
	bl, al := b.(BGPListen), a.(BGPListen)
	return !subset(bl.Ranges, al.Ranges) || !subset(bl.Prefixes, al.Prefixes) || al.Limit < bl.Limit
}
