package nxos

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// runningConfig is what the driver reads from "show running-config bgp" and
// "show running-config rpm" (or from a whole configuration: "show
// running-config", "show checkpoint NAME"): the BGP instance, prefix-lists
// and route-maps. Everything else is ignored.
type runningConfig struct {
	FeatureBGP bool
	BGP        *bgpRouter // nil without "router bgp"
	cli.Filters
}

type bgpRouter struct {
	ASN  uint32
	VRFs map[string]*bgpVRF // "default" is the router's own context
}

// bgpVRF is what NX-OS allows both directly under "router bgp" and under its
// "vrf <name>" contexts.
type bgpVRF struct {
	Name           string
	MultipathRelax bool // bestpath as-path multipath-relax
	AFs            map[string]*bgpAF
	Neighbors      map[string]*neighbor // by the text after "neighbor"
}

type bgpAF struct {
	Name      string // "ipv4 unicast", "ipv6 unicast"
	cli.Paths        // 0: no line (NX-OS's default, 1)
}

// neighbor is a neighbor's lines; its ID is an address, or a prefix for
// dynamic peers (Range).
type neighbor struct {
	cli.Neighbor
	AFs map[string]*nbrAF
	// Range is the prefix of a prefix neighbor ("neighbor 10.0.0.0/24
	// remote-as route-map NAME"): NX-OS accepts sessions from every
	// address in it.
	Range netip.Prefix
	// Shutdown: "shutdown".
	Shutdown bool
}

type nbrAF struct {
	PrefixListIn string
	RouteMapIn   string
	// MaxPrefix is "maximum-prefix ...", nil without one.
	MaxPrefix *maxPrefix
}

// maxPrefix is "maximum-prefix MAXIMUM [THRESHOLD] [restart MINUTES]
// [warning-only]" under a neighbor's address family (Cisco Nexus 3548
// NX-OS Unicast Routing Command Reference, "maximum-prefix (BGP)": maximum
// 1-300000, threshold 1-100, default 75).
type maxPrefix struct {
	Limit     uint32
	Threshold int // 0: not given
	Restart   int // minutes; 0: none
	Warn      bool
}

// line is what follows "maximum-prefix", in the order of Cisco's syntax.
func (m *maxPrefix) line() string {
	s := strconv.FormatUint(uint64(m.Limit), 10)
	if m.Threshold != 0 {
		s += " " + strconv.Itoa(m.Threshold)
	}
	if m.Restart != 0 {
		s += " restart " + strconv.Itoa(m.Restart)
	}
	if m.Warn {
		s += " warning-only"
	}
	return s
}

func newConfig() *runningConfig {
	return &runningConfig{Filters: cli.NewFilters()}
}

func newVRF(name string) *bgpVRF {
	return &bgpVRF{Name: name, AFs: map[string]*bgpAF{}, Neighbors: map[string]*neighbor{}}
}

// vrf returns a VRF context of the BGP instance, nil when absent.
func (c *runningConfig) vrf(name string) *bgpVRF {
	if c.BGP == nil {
		return nil
	}
	return c.BGP.VRFs[name]
}

// af returns an address family of a VRF context, creating it.
func (v *bgpVRF) af(name string) *bgpAF {
	a := v.AFs[name]
	if a == nil {
		a = &bgpAF{Name: name}
		v.AFs[name] = a
	}
	return a
}

// neighborAt finds the neighbor configured for an address.
func (v *bgpVRF) neighborAt(a netip.Addr) *neighbor {
	for _, n := range v.Neighbors {
		if n.Addr.IsValid() && n.Addr == a {
			return n
		}
	}
	return nil
}

func (n *neighbor) af(name string) *nbrAF {
	a := n.AFs[name]
	if a == nil {
		a = &nbrAF{}
		n.AFs[name] = a
	}
	return a
}

// cfgNode is one line of a configuration and the lines indented below it.
type cfgNode struct {
	text string // trimmed
	kids []*cfgNode
}

// configBody returns the configuration lines after NX-OS's header: what
// follows the "version ..." line, or everything when there is none.
func configBody(text string) []string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "version ") {
			return lines[i+1:]
		}
	}
	return lines
}

// parseTree builds the line tree from indentation (NX-OS indents each level
// by two spaces). Comment lines ("!...") and blank lines are dropped.
func parseTree(text string) []*cfgNode {
	type open struct {
		indent int
		n      *cfgNode
	}
	var roots []*cfgNode
	var stack []open
	for _, raw := range configBody(text) {
		line := strings.TrimRight(raw, " \t")
		trimmed := strings.TrimLeft(line, " \t")
		// A line of other white space only (a form feed, say) is blank
		// too: every node below holds at least one word.
		if strings.TrimSpace(trimmed) == "" || strings.HasPrefix(trimmed, "!") {
			continue
		}
		indent := len(line) - len(trimmed)
		n := &cfgNode{text: trimmed}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			roots = append(roots, n)
		} else {
			p := stack[len(stack)-1].n
			p.kids = append(p.kids, n)
		}
		stack = append(stack, open{indent, n})
	}
	return roots
}

// parseConfig reads the BGP instance, prefix-lists and route-maps out of
// NX-OS configuration text. It fails only on a "router bgp" line it cannot
// read: everything else it does not understand belongs to someone else and
// is skipped.
func parseConfig(text string) (*runningConfig, error) {
	cfg := newConfig()
	for _, n := range parseTree(text) {
		f := strings.Fields(n.text)
		switch {
		case n.text == "feature bgp":
			cfg.FeatureBGP = true
		case len(f) == 3 && f[0] == "router" && f[1] == "bgp":
			asn, err := parseASN(f[2])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cli.Quote(n.text), err)
			}
			if cfg.BGP != nil {
				return nil, fmt.Errorf("two BGP instances (router bgp %d and %s)", cfg.BGP.ASN, f[2])
			}
			cfg.BGP = &bgpRouter{ASN: asn, VRFs: map[string]*bgpVRF{"default": newVRF("default")}}
			for _, k := range n.kids {
				kf := strings.Fields(k.text)
				if len(kf) == 2 && kf[0] == "vrf" {
					v := cfg.BGP.VRFs[kf[1]]
					if v == nil {
						v = newVRF(kf[1])
						cfg.BGP.VRFs[kf[1]] = v
					}
					for _, vk := range k.kids {
						parseVRFLine(v, vk)
					}
					continue
				}
				parseVRFLine(cfg.BGP.VRFs["default"], k)
			}
		case len(f) >= 3 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list":
			cfg.parsePrefixList(f)
		case len(f) == 4 && f[0] == "route-map" && (f[2] == "permit" || f[2] == "deny"):
			seq, err := strconv.Atoi(f[3])
			if err != nil {
				continue
			}
			rm := cfg.RouteMaps[f[1]]
			if rm == nil {
				rm = &cli.RouteMap{Name: f[1]}
				cfg.RouteMaps[f[1]] = rm
			}
			e := &cli.RouteMapEntry{Action: f[2], Seq: seq}
			for _, k := range n.kids {
				if d, ok := strings.CutPrefix(k.text, "description "); ok {
					e.Description = d
				} else {
					e.Lines = append(e.Lines, k.text)
				}
			}
			rm.Entries = append(rm.Entries, e)
		}
	}
	return cfg, nil
}

func parseVRFLine(v *bgpVRF, n *cfgNode) {
	f := strings.Fields(n.text)
	switch {
	case n.text == "bestpath as-path multipath-relax":
		v.MultipathRelax = true
	case len(f) == 3 && f[0] == "address-family":
		a := v.af(f[1] + " " + f[2])
		for _, k := range n.kids {
			kf := strings.Fields(k.text)
			switch {
			case len(kf) == 2 && kf[0] == "maximum-paths":
				a.MaxPaths, _ = strconv.Atoi(kf[1])
			case len(kf) == 3 && kf[0] == "maximum-paths" && kf[1] == "ibgp":
				a.MaxPathsIBGP, _ = strconv.Atoi(kf[2])
			}
		}
	case len(f) >= 2 && f[0] == "neighbor":
		nb := &neighbor{Neighbor: cli.Neighbor{ID: f[1]}, AFs: map[string]*nbrAF{}}
		if a, err := netip.ParseAddr(f[1]); err == nil {
			nb.Addr = a.Unmap()
		} else if p, err := netip.ParsePrefix(f[1]); err == nil {
			nb.Range = p.Masked()
		}
		if len(f) >= 4 && f[2] == "remote-as" {
			nb.RemoteAS = f[3]
		}
		for _, k := range n.kids {
			parseNeighborLine(nb, k)
		}
		if nb.Password.Set {
			// NX-OS prints the password encrypted: its fingerprint is the
			// one the description records ("" when it records none).
			nb.Password.Fingerprint = cli.PasswordMark(nb.Description)
		}
		v.Neighbors[nb.ID] = nb
	}
}

func parseNeighborLine(nb *neighbor, n *cfgNode) {
	f := strings.Fields(n.text)
	switch {
	case len(f) == 2 && f[0] == "remote-as":
		nb.RemoteAS = f[1]
	case len(f) >= 2 && f[0] == "local-as":
		if asn, err := parseASN(f[1]); err == nil {
			nb.LocalAS = asn
			nb.LocalASFlags = strings.Join(f[2:], " ")
		} else {
			nb.LocalAS = 0
			nb.LocalASFlags = "unreadable " + f[1]
		}
	case f[0] == "description":
		nb.Description = strings.TrimSpace(strings.TrimPrefix(n.text, "description"))
	case f[0] == "password":
		// "password 3 <encrypted>" (NX-OS prints the password encrypted
		// with its type-3 cipher, whatever type it was typed in: public
		// recordings, test/nxossim/testdata/README.md). The driver reads
		// only that there is one; its fingerprint is in the description.
		nb.Password.Set = true
	case n.text == "shutdown":
		nb.Shutdown = true
	case len(f) == 3 && f[0] == "address-family":
		a := nb.af(f[1] + " " + f[2])
		for _, k := range n.kids {
			kf := strings.Fields(k.text)
			switch {
			case len(kf) == 3 && kf[2] == "in" && kf[0] == "prefix-list":
				a.PrefixListIn = kf[1]
			case len(kf) == 3 && kf[2] == "in" && kf[0] == "route-map":
				a.RouteMapIn = kf[1]
			case len(kf) >= 2 && kf[0] == "maximum-prefix":
				a.MaxPrefix = parseMaxPrefix(kf[1:])
			}
		}
	default:
		// "timers 3 9", "ttl-security hops 1", ...: a value NX-OS would
		// not print reads as 0.
		cli.ReadPeerLine(f, &nb.Options)
	}
}

// parsePrefixList reads "ip[v6] prefix-list NAME description TEXT" and
// "ip[v6] prefix-list NAME seq N permit|deny PREFIX [ge N] [le N]".
func (c *runningConfig) parsePrefixList(f []string) {
	key := cli.PrefixListKey{Family: f[0], Name: f[2]}
	pl := c.PrefixLists[key]
	if pl == nil {
		pl = &cli.PrefixList{Key: key}
		c.PrefixLists[key] = pl
	}
	rest := f[3:]
	if len(rest) >= 1 && rest[0] == "description" {
		pl.Description, pl.HasDesc = strings.Join(rest[1:], " "), true
		return
	}
	e, ok := parseEntry(rest, f[0] == "ipv6")
	if !ok {
		pl.Bad = true
		return
	}
	pl.Entries = append(pl.Entries, e)
}

func parseEntry(f []string, v6 bool) (cli.PrefixListEntry, bool) {
	var e cli.PrefixListEntry
	if len(f) < 4 || f[0] != "seq" {
		return e, false
	}
	seq, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || (f[2] != "permit" && f[2] != "deny") {
		return e, false
	}
	p, err := netip.ParsePrefix(f[3])
	if err != nil || p.Addr().Is6() != v6 || p.Masked() != p {
		return e, false
	}
	e = cli.PrefixListEntry{Seq: seq, Action: f[2], Prefix: p}
	for i := 4; i < len(f); i += 2 {
		if i+1 >= len(f) {
			return e, false
		}
		n, err := strconv.Atoi(f[i+1])
		if err != nil {
			return e, false
		}
		switch f[i] {
		case "ge":
			e.GE = n
		case "le":
			e.LE = n
		default:
			return e, false
		}
	}
	return e, true
}

// parseASN reads an AS number in asplain or asdot ("1.10").
func parseASN(s string) (uint32, error) { return cli.ParseASN(s) }

// parseMaxPrefix reads what follows "maximum-prefix"; a form it does not
// know reads as a limit of 0, which no cluster desires, so the plan writes
// the line again.
func parseMaxPrefix(f []string) *maxPrefix {
	v, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return &maxPrefix{}
	}
	m := &maxPrefix{Limit: uint32(v)}
	for i := 1; i < len(f); i++ {
		switch {
		case f[i] == "warning-only":
			m.Warn = true
		case f[i] == "restart" && i+1 < len(f):
			i++
			m.Restart, _ = strconv.Atoi(f[i])
		case i == 1:
			m.Threshold, _ = strconv.Atoi(f[i])
		default:
			return &maxPrefix{}
		}
	}
	return m
}

// rangeCovering returns the prefix neighbor whose range holds an address,
// nil when none does.
func (v *bgpVRF) rangeCovering(a netip.Addr) *neighbor {
	for _, n := range v.Neighbors {
		if n.Range.IsValid() && n.Range.Contains(a) {
			return n
		}
	}
	return nil
}
