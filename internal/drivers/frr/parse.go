package frr

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// runningConfig is what the driver reads from "show running-config bgpd":
// the BGP instances, prefix-lists and route-maps. Everything else is
// ignored.
type runningConfig struct {
	Hostname string
	BGP      []*bgpInstance
	cli.Filters
	// ecmpMax is bgpd's default maximum-paths (zebra's ECMP limit): FRR
	// omits a maximum-paths line with that value. 0 when unknown.
	ecmpMax int
}

type bgpInstance struct {
	ASN            uint32
	VRF            string // "" for the default instance
	ASNotation     string // "as-notation" of FRR 9+ ("dot", "dot+", "plain"), "" when not set
	MultipathRelax bool
	NoDefaultIPv4  bool // "no bgp default ipv4-unicast"
	// DefaultOn are the address families, besides IPv4 unicast, in which
	// FRR activates every new neighbor ("bgp default ipv6-unicast",
	// "bgp default l2vpn-evpn", ...), by address-family block name.
	DefaultOn map[string]bool
	Neighbors map[string]*neighbor
	AFs       map[string]*bgpAF // by "ipv4 unicast", "ipv6 unicast", ...
	// Listen are the dynamic-neighbor ranges ("bgp listen range P
	// peer-group G"); ListenLimit is "bgp listen limit N" (0: FRR's
	// default, 100).
	Listen      []listenRange
	ListenLimit int
}

// listenRange is "bgp listen range PREFIX peer-group GROUP": FRR accepts a
// session from any address in the prefix, configured as the group is
// (bgpd/bgp_vty.c bgp_config_write_listen).
type listenRange struct {
	Prefix netip.Prefix
	Group  string
}

// neighbor is a neighbor's lines; its ID is an address, an interface or a
// peer-group name as written, and RemoteAS a number, "external",
// "internal", or "" (peer-group member).
type neighbor struct {
	cli.Neighbor
	Shutdown    bool
	PeerGroup   string // the peer-group it belongs to
	IsPeerGroup bool
	// password is the value of "neighbor X password VALUE": FRR prints it
	// as it was typed (bgp_config_write_peer_global). It stays in memory:
	// never logged, rendered or put into an error; Observe reports its
	// fingerprint only (cli.PasswordState).
	password string
}

// String and GoString never show the password (%v, %+v, %#v of a
// neighbor).
func (n *neighbor) String() string   { return "neighbor " + n.ID }
func (n *neighbor) GoString() string { return n.String() }

type bgpAF struct {
	Name      string
	cli.Paths // 0: no line (FRR's default)
	Neighbors map[string]*afNeighbor
}

type afNeighbor struct {
	Activate    bool // "neighbor X activate"
	Deactivated bool // "no neighbor X activate"
	RouteMapIn  string
	// MaxPrefix is "neighbor X maximum-prefix ...", nil without one.
	MaxPrefix *maxPrefix
}

// maxPrefix is "neighbor X maximum-prefix N [THRESHOLD] [warning-only]
// [restart MINUTES] [force]", in the order FRR writes it
// (bgp_config_write_peer_af: the threshold only when not 75, FRR's
// MAXIMUM_PREFIX_THRESHOLD_DEFAULT).
type maxPrefix struct {
	Limit     uint32
	Threshold int // 0: FRR's default
	Warn      bool
	Restart   int // minutes; 0: none
	Force     bool
}

// parseRunningConfig reads the output of "show running-config [bgpd]".
func parseRunningConfig(text string) (*runningConfig, error) {
	cfg := &runningConfig{Filters: cli.NewFilters()}
	var (
		inst  *bgpInstance
		af    *bgpAF
		rme   *cli.RouteMapEntry
		other bool // inside a block the driver does not read
	)
	closeBlock := func() { inst, af, rme, other = nil, nil, nil, false }
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for n, raw := range lines {
		line := strings.TrimRight(raw, " \t")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "!") {
			continue
		}
		if line == "Building configuration..." || line == "Current configuration:" {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if !indented {
			closeBlock()
			f := strings.Fields(line)
			switch {
			case line == "exit" || line == "end":
			case f[0] == "hostname" && len(f) == 2:
				cfg.Hostname = f[1]
			case len(f) >= 3 && f[0] == "router" && f[1] == "bgp":
				i, err := parseRouterBGP(f)
				if err != nil {
					return nil, fmt.Errorf("line %d %s: %w", n+1, cli.Quote(cli.Redact(line)), err)
				}
				if cfg.instance(i.VRF) != nil {
					return nil, fmt.Errorf("line %d: two BGP instances for VRF %q", n+1, i.VRF)
				}
				cfg.BGP = append(cfg.BGP, i)
				inst = i
			case len(f) >= 3 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list":
				if err := cfg.parsePrefixList(f, trimmed); err != nil {
					return nil, fmt.Errorf("line %d %s: %w", n+1, cli.Quote(cli.Redact(line)), err)
				}
			case len(f) == 4 && f[0] == "route-map":
				seq, err := strconv.Atoi(f[3])
				if err != nil || (f[2] != "permit" && f[2] != "deny") {
					return nil, fmt.Errorf("line %d %s: not a route-map entry", n+1, cli.Quote(line))
				}
				rm := cfg.RouteMaps[f[1]]
				if rm == nil {
					rm = &cli.RouteMap{Name: f[1]}
					cfg.RouteMaps[f[1]] = rm
				}
				rme = &cli.RouteMapEntry{Action: f[2], Seq: seq}
				rm.Entries = append(rm.Entries, rme)
			default:
				other = true
			}
			continue
		}
		switch {
		case other:
		case rme != nil:
			if d, ok := strings.CutPrefix(trimmed, "description "); ok {
				rme.Description = d
			} else {
				rme.Lines = append(rme.Lines, trimmed)
			}
		case inst != nil:
			if err := inst.parseLine(trimmed, &af); err != nil {
				return nil, fmt.Errorf("line %d %s: %w", n+1, cli.Quote(cli.Redact(line)), err)
			}
		}
	}
	return cfg, nil
}

// parseRouterBGP reads "router bgp ASN [vrf NAME|view NAME] [as-notation
// dot|dot+|plain]". FRR 9.0 added the notation, and prints the line this
// way (bgpd/bgp_vty.c, "router bgp [ASNUM$instasn [<view|vrf> VIEWVRFNAME]
// [as-notation <dot|dot+|plain>]]", and bgp_config_write: "router bgp %s",
// as_pretty, then " vrf|view NAME", then " as-notation %s" when set);
// the AS itself may be dotted (cli.ParseASN).
func parseRouterBGP(f []string) (*bgpInstance, error) {
	asn, err := cli.ParseASN(f[2])
	if err != nil {
		return nil, fmt.Errorf("AS %q is not an AS number", f[2])
	}
	i := &bgpInstance{ASN: asn, DefaultOn: map[string]bool{}, Neighbors: map[string]*neighbor{}, AFs: map[string]*bgpAF{}}
	rest := f[3:]
	if n := len(rest); n >= 2 && rest[n-2] == "as-notation" {
		switch rest[n-1] {
		case "dot", "dot+", "plain":
			i.ASNotation = rest[n-1]
		default:
			return nil, fmt.Errorf("unknown as-notation %q", rest[n-1])
		}
		rest = rest[:n-2]
	}
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && rest[0] == "vrf":
		i.VRF = rest[1]
	case len(rest) == 2 && rest[0] == "view":
		i.VRF = "view " + rest[1] // never selected: views are not VRFs
	default:
		return nil, fmt.Errorf("unknown router bgp form")
	}
	return i, nil
}

func (c *runningConfig) parsePrefixList(f []string, line string) error {
	k := cli.PrefixListKey{Family: f[0], Name: f[2]}
	pl := c.PrefixLists[k]
	if pl == nil {
		pl = &cli.PrefixList{Key: k}
		c.PrefixLists[k] = pl
	}
	rest := f[3:]
	if len(rest) == 0 {
		return fmt.Errorf("empty prefix-list line")
	}
	if rest[0] == "description" {
		_, d, _ := strings.Cut(line, " description ")
		pl.Description, pl.HasDesc = d, true
		return nil
	}
	e := cli.PrefixListEntry{}
	if rest[0] == "seq" {
		if len(rest) < 2 {
			return fmt.Errorf("seq without a number")
		}
		seq, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			return fmt.Errorf("bad seq %q", rest[1])
		}
		e.Seq, rest = seq, rest[2:]
	}
	if len(rest) < 2 || (rest[0] != "permit" && rest[0] != "deny") {
		return fmt.Errorf("not a prefix-list entry")
	}
	e.Action = rest[0]
	if rest[1] == "any" {
		e.Any = true
	} else {
		p, err := netip.ParsePrefix(rest[1])
		if err != nil {
			return fmt.Errorf("bad prefix %q", rest[1])
		}
		e.Prefix = p
	}
	for i := 2; i+1 < len(rest); i += 2 {
		v, err := strconv.Atoi(rest[i+1])
		if err != nil {
			return fmt.Errorf("bad %s %q", rest[i], rest[i+1])
		}
		switch rest[i] {
		case "ge":
			e.GE = v
		case "le":
			e.LE = v
		default:
			return fmt.Errorf("unknown %q", rest[i])
		}
	}
	pl.Entries = append(pl.Entries, e)
	return nil
}

// parseLine reads one line inside "router bgp"; *af is the address family
// the line is in, if any.
func (i *bgpInstance) parseLine(line string, af **bgpAF) error {
	f := strings.Fields(line)
	switch {
	case line == "exit-address-family":
		*af = nil
		return nil
	case f[0] == "address-family" && len(f) >= 2:
		name := strings.Join(f[1:], " ")
		a := i.AFs[name]
		if a == nil {
			a = &bgpAF{Name: name, Neighbors: map[string]*afNeighbor{}}
			i.AFs[name] = a
		}
		*af = a
		return nil
	case *af != nil:
		return (*af).parseLine(f)
	case line == "bgp bestpath as-path multipath-relax" || strings.HasPrefix(line, "bgp bestpath as-path multipath-relax "):
		i.MultipathRelax = true
	case line == "no bgp default ipv4-unicast":
		i.NoDefaultIPv4 = true
	case len(f) == 6 && f[0] == "bgp" && f[1] == "listen" && f[2] == "range" && f[4] == "peer-group":
		p, err := netip.ParsePrefix(f[3])
		if err != nil {
			return fmt.Errorf("listen range %q", f[3])
		}
		i.Listen = append(i.Listen, listenRange{Prefix: p.Masked(), Group: f[5]})
	case len(f) == 4 && f[0] == "bgp" && f[1] == "listen" && f[2] == "limit":
		v, err := strconv.Atoi(f[3])
		if err != nil {
			return fmt.Errorf("listen limit %q", f[3])
		}
		i.ListenLimit = v
	case len(f) == 3 && f[0] == "bgp" && f[1] == "default" &&
		(strings.HasPrefix(f[2], "ipv4-") || strings.HasPrefix(f[2], "ipv6-") || strings.HasPrefix(f[2], "l2vpn-")):
		// "bgp default ipv6-unicast", "bgp default ipv4-labeled-unicast",
		// "bgp default l2vpn-evpn": FRR activates every new neighbor in
		// that family (bgpd.c peer_create). FRR writes "ipv4-unicast" only
		// in its "no" form (bgp_vty.c bgp_config_write).
		afi, safi, _ := strings.Cut(f[2], "-")
		i.DefaultOn[afi+" "+safi] = true
	case f[0] == "neighbor" && len(f) >= 3:
		return i.parseNeighbor(f, line)
	}
	return nil
}

func (i *bgpInstance) neighbor(id string) *neighbor {
	n := i.Neighbors[id]
	if n == nil {
		n = &neighbor{Neighbor: cli.Neighbor{ID: id}}
		if a, err := netip.ParseAddr(id); err == nil {
			n.Addr = a.Unmap()
		}
		i.Neighbors[id] = n
	}
	return n
}

func (i *bgpInstance) parseNeighbor(f []string, line string) error {
	n := i.neighbor(f[1])
	switch f[2] {
	case "remote-as":
		if len(f) != 4 {
			return fmt.Errorf("remote-as takes one value")
		}
		n.RemoteAS = f[3]
	case "description":
		_, d, _ := strings.Cut(line, " description ")
		n.Description = d
	case "local-as":
		if len(f) < 4 {
			return fmt.Errorf("local-as without an AS")
		}
		v, err := cli.ParseASN(f[3])
		if err != nil {
			return fmt.Errorf("local-as %q is not an AS number", f[3])
		}
		n.LocalAS, n.LocalASFlags = v, strings.Join(f[4:], " ")
	case "shutdown":
		// "shutdown" and "shutdown message MSG" hold the session down;
		// "shutdown rtt N" does not (it shuts it down on high RTT).
		n.Shutdown = n.Shutdown || len(f) == 3 || f[3] == "message"
	case "password":
		// Never quoted in an error: this line holds a secret.
		// FRR's "password LINE" takes one word (bgpd/bgp_vty.c).
		if len(f) >= 4 {
			n.password = strings.Join(f[3:], " ")
		}
	case "peer-group":
		if len(f) == 3 {
			n.IsPeerGroup = true
		} else {
			n.PeerGroup = f[3]
		}
	case "interface":
		if len(f) >= 5 && f[3] == "remote-as" {
			n.RemoteAS = f[4]
		}
	default:
		// "neighbor X timers 3 9", "neighbor X ttl-security hops 1", ...
		if _, err := cli.ReadPeerLine(f[2:], &n.Options); err != nil {
			return err
		}
	}
	return nil
}

func (a *bgpAF) neighbor(id string) *afNeighbor {
	n := a.Neighbors[id]
	if n == nil {
		n = &afNeighbor{}
		a.Neighbors[id] = n
	}
	return n
}

func (a *bgpAF) parseLine(f []string) error {
	switch {
	case f[0] == "maximum-paths" && len(f) == 2:
		v, err := strconv.Atoi(f[1])
		if err != nil {
			return fmt.Errorf("maximum-paths %q", f[1])
		}
		a.MaxPaths = v
	case f[0] == "maximum-paths" && len(f) >= 3 && f[1] == "ibgp":
		v, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("maximum-paths ibgp %q", f[2])
		}
		a.MaxPathsIBGP = v
	case f[0] == "neighbor" && len(f) >= 3:
		n := a.neighbor(f[1])
		switch {
		case f[2] == "activate":
			n.Activate = true
		case f[2] == "route-map" && len(f) == 5 && f[4] == "in":
			n.RouteMapIn = f[3]
		case f[2] == "maximum-prefix" && len(f) >= 4:
			m, err := parseMaxPrefix(f[3:])
			if err != nil {
				return err
			}
			n.MaxPrefix = m
		}
	case f[0] == "no" && len(f) == 4 && f[1] == "neighbor" && f[3] == "activate":
		a.neighbor(f[2]).Deactivated = true
	}
	return nil
}

// instance returns the BGP instance of a VRF ("" is the default instance).
func (c *runningConfig) instance(vrf string) *bgpInstance {
	for _, i := range c.BGP {
		if i.VRF == vrf {
			return i
		}
	}
	return nil
}

// neighborAt returns the neighbor configured at an address, if any.
func (i *bgpInstance) neighborAt(a netip.Addr) *neighbor {
	if n, ok := i.Neighbors[a.String()]; ok {
		return n
	}
	for _, n := range i.Neighbors {
		if n.Addr == a {
			return n
		}
	}
	return nil
}

// af returns the address family section ("ipv4 unicast"), creating it.
func (i *bgpInstance) af(name string) *bgpAF {
	a := i.AFs[name]
	if a == nil {
		a = &bgpAF{Name: name, Neighbors: map[string]*afNeighbor{}}
		i.AFs[name] = a
	}
	return a
}

// defaultOn reports whether FRR activates a new neighbor in an address
// family by itself: IPv4 unicast unless "no bgp default ipv4-unicast"
// (bgp_create sets default_af[AFI_IP][SAFI_UNICAST]), any other family
// after "bgp default <afi>-<safi>" (bgpd.c peer_create: "FOREACH_AFI_SAFI
// ... if (bgp->default_af[afi][safi]) peer->afc[afi][safi] = 1").
func (i *bgpInstance) defaultOn(af string) bool {
	if af == "ipv4 unicast" {
		return !i.NoDefaultIPv4
	}
	return i.DefaultOn[af]
}

// activeIn reports whether a neighbor (not a peer-group member) is active
// in an address family. FRR writes activation relative to the family's
// default (bgp_vty.c bgp_config_write_peer_af): "no neighbor X activate"
// when the family is on by default and the neighbor is not, "neighbor X
// activate" when it is off by default and the neighbor is; nothing
// otherwise.
func (i *bgpInstance) activeIn(n *neighbor, af string) bool {
	var an *afNeighbor
	if a := i.AFs[af]; a != nil {
		an = a.Neighbors[n.ID]
	}
	if i.defaultOn(af) {
		return an == nil || !an.Deactivated
	}
	return an != nil && an.Activate
}

// activated reports whether a neighbor is active in its address family.
func (i *bgpInstance) activated(n *neighbor) bool { return i.activeIn(n, afName(n.Addr)) }

// strayFamilies lists, sorted, the address families other than the
// neighbor's own in which it is active: those on by default (FRR's
// "bgp default ipv4-unicast" activates an IPv6 neighbor in IPv4 unicast)
// and those activated by hand. A node peer must be active in its own
// family only, where its inbound filter is bound.
func (i *bgpInstance) strayFamilies(n *neighbor) []string { return i.strayFrom(n, afName(n.Addr)) }

// strayFrom lists the address families other than own in which a
// neighbor or peer-group is active (see strayFamilies).
func (i *bgpInstance) strayFrom(n *neighbor, own string) []string {
	cand := map[string]bool{"ipv4 unicast": true}
	for af, on := range i.DefaultOn {
		cand[af] = cand[af] || on
	}
	for af, a := range i.AFs {
		if an := a.Neighbors[n.ID]; an != nil && an.Activate {
			cand[af] = true
		}
	}
	var out []string
	for af := range cand {
		if af != own && i.activeIn(n, af) {
			out = append(out, af)
		}
	}
	sort.Strings(out)
	return out
}

// routeMapIn is the inbound route-map of a neighbor in its address family.
func (i *bgpInstance) routeMapIn(n *cli.Neighbor) string {
	if an := i.af(afName(n.Addr)).Neighbors[n.ID]; an != nil {
		return an.RouteMapIn
	}
	return ""
}

// afName is the address family of a neighbor's address.
func afName(a netip.Addr) string { return cli.AFName(fabric.FamilyOf(a)) }

// parseECMPMax reads "ECMP Maximum" from "show zebra".
func parseECMPMax(text string) int {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "ECMP Maximum"); ok {
			if v, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				return v
			}
		}
	}
	return 0
}

// parseMaxPrefix reads what follows "neighbor X maximum-prefix".
func parseMaxPrefix(f []string) (*maxPrefix, error) {
	v, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("maximum-prefix %q", f[0])
	}
	m := &maxPrefix{Limit: uint32(v)}
	for i := 1; i < len(f); i++ {
		switch {
		case f[i] == "warning-only":
			m.Warn = true
		case f[i] == "force":
			m.Force = true
		case f[i] == "restart" && i+1 < len(f):
			i++
			if m.Restart, err = strconv.Atoi(f[i]); err != nil {
				return nil, fmt.Errorf("maximum-prefix restart %q", f[i])
			}
		default:
			if m.Threshold, err = strconv.Atoi(f[i]); err != nil || i != 1 {
				return nil, fmt.Errorf("maximum-prefix: unexpected %q", f[i])
			}
		}
	}
	return m, nil
}

// line is the maximum-prefix line's arguments as the driver writes them.
func (m *maxPrefix) line() string {
	s := strconv.FormatUint(uint64(m.Limit), 10)
	if m.Threshold != 0 {
		s += " " + strconv.Itoa(m.Threshold)
	}
	if m.Warn {
		s += " warning-only"
	}
	if m.Restart != 0 {
		s += " restart " + strconv.Itoa(m.Restart)
	}
	if m.Force {
		s += " force"
	}
	return s
}

// listenCovering returns the listen range that covers an address, if any.
func (i *bgpInstance) listenCovering(a netip.Addr) *listenRange {
	for k := range i.Listen {
		if i.Listen[k].Prefix.Contains(a) {
			return &i.Listen[k]
		}
	}
	return nil
}

// fillPasswords records, for each neighbor with a password, the
// fingerprint of the password FRR holds (FRR prints it in clear), salted
// as the cluster salts its own (fabric.PasswordSalt): a password changed
// by hand reads as a different fingerprint, so the plan sets it again.
func (c *runningConfig) fillPasswords(cluster string) {
	for _, inst := range c.BGP {
		for _, n := range inst.Neighbors {
			n.Password = cli.PasswordState{}
			if n.password == "" {
				continue
			}
			n.Password.Set = true
			if n.Addr.IsValid() {
				n.Password.Fingerprint = fabric.Fingerprint(n.password, fabric.PasswordSalt(cluster, n.Addr.String()))
			}
		}
	}
}
