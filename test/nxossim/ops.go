package nxossim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Configuration handlers. A handler returns the modes the command enters
// (push) and an apply function. apply must check everything before it
// changes anything, so that a failing line leaves the configuration as it
// was; in a configuration session apply runs at verify/commit time against a
// copy of the running configuration.

type applyFn = func(c *Config, path []frame, now time.Time) error

func change(f applyFn) *cmd { return &cmd{apply: f} }

func enter(f frame, a applyFn) *cmd { return &cmd{push: []frame{f}, apply: a} }

func pathFind(path []frame, k frameKind) (frame, bool) {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i].kind == k {
			return path[i], true
		}
	}
	return frame{}, false
}

// router returns the BGP instance named by the path, creating it.
func (c *Config) router(path []frame) (*BGP, error) {
	f, _ := pathFind(path, fRouter)
	if !c.FeatureBGP {
		return nil, errReply("BGP feature is not enabled (feature bgp)")
	}
	if c.BGP == nil {
		c.BGP = &BGP{ASN: f.name, Global: newBGPVRF(), VRFs: map[string]*BGPVRF{}}
	} else if c.BGP.ASN != f.name {
		return nil, errReply(fmt.Sprintf("BGP is already running; AS is %s", c.BGP.ASN))
	}
	return c.BGP, nil
}

func (c *Config) bgpVRF(path []frame) (*BGPVRF, error) {
	b, err := c.router(path)
	if err != nil {
		return nil, err
	}
	f, ok := pathFind(path, fVRF)
	if !ok {
		return b.Global, nil
	}
	v := b.VRFs[f.name]
	if v == nil {
		v = newBGPVRF()
		b.VRFs[f.name] = v
	}
	return v, nil
}

func (c *Config) routerAF(path []frame) (*BGPAF, error) {
	v, err := c.bgpVRF(path)
	if err != nil {
		return nil, err
	}
	f, _ := pathFind(path, fAF)
	a := v.AFs[f.af]
	if a == nil {
		a = &BGPAF{}
		v.AFs[f.af] = a
	}
	return a, nil
}

func (c *Config) neighbor(path []frame, now time.Time) (*Neighbor, error) {
	v, err := c.bgpVRF(path)
	if err != nil {
		return nil, err
	}
	f, _ := pathFind(path, fNeighbor)
	n := v.Neighbors[f.name]
	if n == nil {
		n = &Neighbor{AFs: map[AF]*NeighborAF{}, Since: now}
		if pf, err := netip.ParsePrefix(f.name); err == nil {
			n.Prefix = pf
		} else {
			n.Address = netip.MustParseAddr(f.name)
		}
		v.Neighbors[f.name] = n
	}
	return n, nil
}

func (c *Config) neighborAF(path []frame, now time.Time) (*NeighborAF, error) {
	n, err := c.neighbor(path, now)
	if err != nil {
		return nil, err
	}
	f, _ := pathFind(path, fAF)
	a := n.AFs[f.af]
	if a == nil {
		a = &NeighborAF{}
		n.AFs[f.af] = a
	}
	return a, nil
}

// --- configuration mode ---

func hFeatureBGP(on bool) handler {
	return func(sh *shell, a args) *cmd {
		c := change(func(c *Config, _ []frame, _ time.Time) error {
			c.FeatureBGP = on
			if !on {
				c.BGP = nil // disabling the feature removes its configuration
			}
			return nil
		})
		c.feature = &on
		return c
	}
}

func hHostname(sh *shell, a args) *cmd {
	name := a["host"]
	return change(func(c *Config, _ []frame, _ time.Time) error { c.Hostname = name; return nil })
}

func hNoHostname(sh *shell, a args) *cmd {
	return change(func(c *Config, _ []frame, _ time.Time) error { c.Hostname = "switch"; return nil })
}

func hRouterBGP(sh *shell, a args) *cmd {
	return enter(frame{kind: fRouter, name: a["asn"]}, func(c *Config, path []frame, _ time.Time) error {
		_, err := c.router(path)
		return err
	})
}

func hNoRouterBGP(sh *shell, a args) *cmd {
	asn := a["asn"]
	return change(func(c *Config, _ []frame, _ time.Time) error {
		if c.BGP == nil {
			return nil
		}
		if c.BGP.ASN != asn {
			return errReply(fmt.Sprintf("BGP is running with AS %s, not %s", c.BGP.ASN, asn))
		}
		c.BGP = nil
		return nil
	})
}

func prefixLists(c *Config, v6 bool) map[string]*PrefixList {
	if v6 {
		return c.PrefixLists6
	}
	return c.PrefixLists
}

// checkRange enforces NX-OS's rule len < ge <= le <= max for prefix lists.
func checkRange(p netip.Prefix, ge, le int) error {
	l := p.Bits()
	ok := (ge == 0 || l < ge) && (le == 0 || l < le) && (ge == 0 || le == 0 || ge <= le)
	if !ok {
		return errReply(fmt.Sprintf("Invalid prefix range for %s, make sure: len < ge-value <= le-value", p))
	}
	return nil
}

func plEntryFromArgs(a args) (PrefixListEntry, error) {
	p, err := netip.ParsePrefix(a["prefix"])
	if err != nil {
		return PrefixListEntry{}, errReply("invalid prefix")
	}
	e := PrefixListEntry{Action: a["action"], Prefix: p, GE: atoi(a["ge"]), LE: atoi(a["le"])}
	if a.has("seq") {
		e.Seq, _ = strconv.ParseInt(a["seq"], 10, 64)
	}
	return e, nil
}

func hPrefixList(v6 bool) handler {
	return func(sh *shell, a args) *cmd {
		name := a["name"]
		if a.has("desc") {
			desc := a["desc"]
			return change(func(c *Config, _ []frame, _ time.Time) error {
				m := prefixLists(c, v6)
				pl := m[name]
				if pl == nil {
					pl = &PrefixList{Name: name}
					m[name] = pl
				}
				pl.Description = desc
				return nil
			})
		}
		e, err := plEntryFromArgs(a)
		return change(func(c *Config, _ []frame, _ time.Time) error {
			if err != nil {
				return err
			}
			if err := checkRange(e.Prefix, e.GE, e.LE); err != nil {
				return err
			}
			m := prefixLists(c, v6)
			pl := m[name]
			if pl == nil {
				pl = &PrefixList{Name: name}
				m[name] = pl
			}
			if e.Seq == 0 {
				for _, x := range pl.Entries {
					if x.Action == e.Action && x.Prefix == e.Prefix && x.GE == e.GE && x.LE == e.LE {
						return nil // already there
					}
				}
				e.Seq = 5
				if n := len(pl.Entries); n > 0 {
					e.Seq = pl.Entries[n-1].Seq + 5
				}
			}
			pl.Entries = slices.DeleteFunc(pl.Entries, func(x PrefixListEntry) bool { return x.Seq == e.Seq })
			pl.Entries = append(pl.Entries, e)
			sort.Slice(pl.Entries, func(i, j int) bool { return pl.Entries[i].Seq < pl.Entries[j].Seq })
			return nil
		})
	}
}

func hNoPrefixList(v6 bool) handler {
	return func(sh *shell, a args) *cmd {
		name := a["name"]
		return change(func(c *Config, _ []frame, _ time.Time) error {
			m := prefixLists(c, v6)
			pl := m[name]
			if pl == nil {
				return nil
			}
			switch {
			case a.has("prefix"):
				e, err := plEntryFromArgs(a)
				if err != nil {
					return err
				}
				pl.Entries = slices.DeleteFunc(pl.Entries, func(x PrefixListEntry) bool {
					if e.Seq != 0 {
						return x.Seq == e.Seq
					}
					return x.Action == e.Action && x.Prefix == e.Prefix && x.GE == e.GE && x.LE == e.LE
				})
			case a.has("seq"):
				seq, _ := strconv.ParseInt(a["seq"], 10, 64)
				pl.Entries = slices.DeleteFunc(pl.Entries, func(x PrefixListEntry) bool { return x.Seq == seq })
			case a["what"] == "description":
				pl.Description = ""
			default:
				delete(m, name)
				return nil
			}
			if len(pl.Entries) == 0 && pl.Description == "" {
				delete(m, name)
			}
			return nil
		})
	}
}

func rmEntryArgs(a args) (string, int) {
	action := a["action"]
	if action == "" {
		action = "permit"
	}
	seq := 10
	if a.has("seq") {
		seq = atoi(a["seq"])
	}
	return action, seq
}

func hRouteMap(sh *shell, a args) *cmd {
	name := a["rm"]
	action, seq := rmEntryArgs(a)
	return enter(frame{kind: fRouteMap, name: name, action: action, seq: seq},
		func(c *Config, _ []frame, _ time.Time) error {
			rm := c.RouteMaps[name]
			if rm == nil {
				rm = &RouteMap{Name: name, Entries: map[int]*RouteMapEntry{}}
				c.RouteMaps[name] = rm
			}
			e := rm.Entries[seq]
			if e == nil {
				e = &RouteMapEntry{Seq: seq}
				rm.Entries[seq] = e
			}
			e.Action = action
			return nil
		})
}

func hNoRouteMap(sh *shell, a args) *cmd {
	name := a["rm"]
	_, seq := rmEntryArgs(a)
	whole := !a.has("seq")
	return change(func(c *Config, _ []frame, _ time.Time) error {
		rm := c.RouteMaps[name]
		if rm == nil {
			return nil
		}
		if whole {
			delete(c.RouteMaps, name)
			return nil
		}
		delete(rm.Entries, seq)
		if len(rm.Entries) == 0 {
			delete(c.RouteMaps, name)
		}
		return nil
	})
}

// --- router bgp / vrf ---

func vrfChange(f func(v *BGPVRF)) *cmd {
	return change(func(c *Config, path []frame, _ time.Time) error {
		v, err := c.bgpVRF(path)
		if err != nil {
			return err
		}
		f(v)
		return nil
	})
}

func hRouterID(sh *shell, a args) *cmd {
	rid := a["rid"]
	return vrfChange(func(v *BGPVRF) { v.RouterID = rid })
}

func hNoRouterID(sh *shell, a args) *cmd { return vrfChange(func(v *BGPVRF) { v.RouterID = "" }) }

func hMultipathRelax(sh *shell, a args) *cmd {
	return vrfChange(func(v *BGPVRF) { v.MultipathRelax = true })
}

func hNoMultipathRelax(sh *shell, a args) *cmd {
	return vrfChange(func(v *BGPVRF) { v.MultipathRelax = false })
}

func hLogNeighbor(sh *shell, a args) *cmd {
	return vrfChange(func(v *BGPVRF) { v.LogNeighborChanges = true })
}

func hNoLogNeighbor(sh *shell, a args) *cmd {
	return vrfChange(func(v *BGPVRF) { v.LogNeighborChanges = false })
}

func hRouterAF(af AF) handler {
	return func(sh *shell, a args) *cmd {
		return enter(frame{kind: fAF, af: af}, func(c *Config, path []frame, _ time.Time) error {
			_, err := c.routerAF(path)
			return err
		})
	}
}

func hNoRouterAF(af AF) handler {
	return func(sh *shell, a args) *cmd {
		return vrfChange(func(v *BGPVRF) { delete(v.AFs, af) })
	}
}

func hNeighbor(sh *shell, a args) *cmd {
	addr, ras, rasMap := a["ip"], a["ras"], a["rasmap"]
	if addr == "" {
		addr = a["pfx"]
	}
	return enter(frame{kind: fNeighbor, name: addr}, func(c *Config, path []frame, now time.Time) error {
		n, err := c.neighbor(path, now)
		if err != nil {
			return err
		}
		if ras != "" {
			n.RemoteAS = ras
		}
		if rasMap != "" {
			// "remote-as route-map NAME: a route map that matches the BGP
			// peer AS number" (NX-OS command reference, "neighbor"),
			// for prefix neighbors.
			if !n.Prefix.IsValid() {
				return errReply("remote-as route-map is only for prefix peers")
			}
			n.RemoteASRouteMap = rasMap
		}
		return nil
	})
}

func hNoNeighbor(sh *shell, a args) *cmd {
	addr := a["ip"]
	if addr == "" {
		addr = a["pfx"]
	}
	return vrfChange(func(v *BGPVRF) { delete(v.Neighbors, addr) })
}

func hVRF(sh *shell, a args) *cmd {
	return enter(frame{kind: fVRF, name: a["vrf"]}, func(c *Config, path []frame, _ time.Time) error {
		_, err := c.bgpVRF(path)
		return err
	})
}

func hNoVRF(sh *shell, a args) *cmd {
	name := a["vrf"]
	return change(func(c *Config, path []frame, _ time.Time) error {
		b, err := c.router(path)
		if err != nil {
			return err
		}
		delete(b.VRFs, name)
		return nil
	})
}

// --- address family under the router or a VRF ---

func afChange(f func(a *BGPAF) error) *cmd {
	return change(func(c *Config, path []frame, _ time.Time) error {
		a, err := c.routerAF(path)
		if err != nil {
			return err
		}
		return f(a)
	})
}

func hMaxPaths(sh *shell, a args) *cmd {
	n, ibgp := atoi(a["n"]), a.has("ibgp")
	return afChange(func(af *BGPAF) error {
		if n == 1 {
			n = 0 // 1 is the default and is not shown
		}
		if ibgp {
			af.MaximumPathsIBGP = n
		} else {
			af.MaximumPaths = n
		}
		return nil
	})
}

func hNoMaxPaths(sh *shell, a args) *cmd {
	ibgp := a.has("ibgp")
	return afChange(func(af *BGPAF) error {
		if ibgp {
			af.MaximumPathsIBGP = 0
		} else {
			af.MaximumPaths = 0
		}
		return nil
	})
}

func hNetwork(sh *shell, a args) *cmd {
	p := netip.MustParsePrefix(a["net"])
	return afChange(func(af *BGPAF) error {
		if !slices.Contains(af.Networks, p) {
			af.Networks = append(af.Networks, p)
		}
		return nil
	})
}

func hNoNetwork(sh *shell, a args) *cmd {
	p := netip.MustParsePrefix(a["net"])
	return afChange(func(af *BGPAF) error {
		af.Networks = slices.DeleteFunc(af.Networks, func(x netip.Prefix) bool { return x == p })
		return nil
	})
}

// --- neighbor ---

func nbrChange(f func(c *Config, n *Neighbor) error) *cmd {
	return change(func(c *Config, path []frame, now time.Time) error {
		n, err := c.neighbor(path, now)
		if err != nil {
			return err
		}
		return f(c, n)
	})
}

func hRemoteAS(sh *shell, a args) *cmd {
	ras := a["ras"]
	return nbrChange(func(_ *Config, n *Neighbor) error { n.RemoteAS = ras; return nil })
}

func hNoRemoteAS(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.RemoteAS = ""; return nil })
}

func hLocalAS(sh *shell, a args) *cmd {
	las := a["las"]
	text := las
	for _, k := range []string{"np", "ra", "da"} {
		if a.has(k) {
			text += " " + a[k]
		}
	}
	return nbrChange(func(c *Config, n *Neighbor) error {
		if c.BGP != nil && c.BGP.ASN == las {
			return errReply("local-as cannot be the same as the router's AS " + las)
		}
		n.LocalAS = text
		return nil
	})
}

func hNoLocalAS(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.LocalAS = ""; return nil })
}

func hDescription(sh *shell, a args) *cmd {
	d := a["desc"]
	return nbrChange(func(_ *Config, n *Neighbor) error { n.Description = d; return nil })
}

func hNoDescription(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.Description = ""; return nil })
}

func hUpdateSource(sh *shell, a args) *cmd {
	ifc := a["ifc"]
	return nbrChange(func(_ *Config, n *Neighbor) error { n.UpdateSource = ifc; return nil })
}

func hNoUpdateSource(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.UpdateSource = ""; return nil })
}

// password3 stands in for NX-OS's type-3 encryption of a BGP password
// (a reversible cipher whose key this project does not use): a keyed hash,
// hex, 16 digits per 8 bytes of the password plus one, which is the length
// of the recorded type-3 strings (16 hex digits for short passwords, 32 for
// longer ones: test/nxossim/testdata/README.md).
func password3(v string) string {
	m := hmac.New(sha256.New, []byte("nxossim type-3 stand-in"))
	m.Write([]byte(v))
	sum := hex.EncodeToString(m.Sum(nil))
	n := 16 * ((len(v) + 8) / 8)
	for len(sum) < n {
		sum += sum
	}
	return "3 " + sum[:n]
}

// hPassword is `password [0|3|7] STRING`: type 0 (or no type) is the
// password in clear, which NX-OS keeps and prints encrypted, as type 3;
// types 3 and 7 are kept as typed.
func hPassword(sh *shell, a args) *cmd {
	typ, v := a["pwtype"], a["pw"]
	stored := password3(v)
	if typ == "3" || typ == "7" {
		stored = typ + " " + v
	}
	return nbrChange(func(_ *Config, n *Neighbor) error { n.Password = stored; return nil })
}

func hNoPassword(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.Password = ""; return nil })
}

func hTimers(sh *shell, a args) *cmd {
	ka, hold := atoi(a["ka"]), atoi(a["hold"])
	return nbrChange(func(_ *Config, n *Neighbor) error {
		if hold != 0 && ka >= hold {
			return errReply("keepalive must be less than the hold time")
		}
		n.Timers, n.Keepalive, n.Hold = true, ka, hold
		return nil
	})
}

func hNoTimers(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.Timers, n.Keepalive, n.Hold = false, 0, 0; return nil })
}

func hTTLSecurity(sh *shell, a args) *cmd {
	hops := atoi(a["hops"])
	return nbrChange(func(_ *Config, n *Neighbor) error { n.TTLHops = hops; return nil })
}

func hNoTTLSecurity(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.TTLHops = 0; return nil })
}

func hShutdown(on bool) handler {
	return func(sh *shell, a args) *cmd {
		return nbrChange(func(_ *Config, n *Neighbor) error { n.Shutdown = on; return nil })
	}
}

func hMaximumPeers(sh *shell, a args) *cmd {
	v := atoi(a["n"])
	return nbrChange(func(_ *Config, n *Neighbor) error {
		if !n.Prefix.IsValid() {
			return errReply("maximum-peers is only for prefix peers")
		}
		n.MaximumPeers = v
		return nil
	})
}

func hNoMaximumPeers(sh *shell, a args) *cmd {
	return nbrChange(func(_ *Config, n *Neighbor) error { n.MaximumPeers = 0; return nil })
}

func hNeighborAF(af AF) handler {
	return func(sh *shell, a args) *cmd {
		return enter(frame{kind: fAF, af: af}, func(c *Config, path []frame, now time.Time) error {
			_, err := c.neighborAF(path, now)
			return err
		})
	}
}

func hNoNeighborAF(af AF) handler {
	return func(sh *shell, a args) *cmd {
		return nbrChange(func(_ *Config, n *Neighbor) error { delete(n.AFs, af); return nil })
	}
}

// --- neighbor address family ---

func nafChange(f func(a *NeighborAF)) *cmd {
	return change(func(c *Config, path []frame, now time.Time) error {
		a, err := c.neighborAF(path, now)
		if err != nil {
			return err
		}
		f(a)
		return nil
	})
}

func hNbrPrefixList(sh *shell, a args) *cmd {
	name, in := a["pl"], a["dir"] == "in"
	return nafChange(func(x *NeighborAF) {
		if in {
			x.PrefixListIn = name
		} else {
			x.PrefixListOut = name
		}
	})
}

func hNoNbrPrefixList(sh *shell, a args) *cmd {
	in := a["dir"] == "in"
	return nafChange(func(x *NeighborAF) {
		if in {
			x.PrefixListIn = ""
		} else {
			x.PrefixListOut = ""
		}
	})
}

func hNbrRouteMap(sh *shell, a args) *cmd {
	name, in := a["rm"], a["dir"] == "in"
	return nafChange(func(x *NeighborAF) {
		if in {
			x.RouteMapIn = name
		} else {
			x.RouteMapOut = name
		}
	})
}

func hNoNbrRouteMap(sh *shell, a args) *cmd {
	in := a["dir"] == "in"
	return nafChange(func(x *NeighborAF) {
		if in {
			x.RouteMapIn = ""
		} else {
			x.RouteMapOut = ""
		}
	})
}

func hSendCommunity(sh *shell, a args) *cmd {
	sc := a["sc"]
	return nafChange(func(x *NeighborAF) {
		switch sc {
		case "extended":
			x.SendCommunityExtended = true
		case "both":
			x.SendCommunity, x.SendCommunityExtended = true, true
		default:
			x.SendCommunity = true
		}
	})
}

func hNoSendCommunity(sh *shell, a args) *cmd {
	sc := a["sc"]
	return nafChange(func(x *NeighborAF) {
		switch sc {
		case "extended":
			x.SendCommunityExtended = false
		case "both":
			x.SendCommunity, x.SendCommunityExtended = false, false
		default:
			x.SendCommunity = false
		}
	})
}

// --- route-map ---

func rmChange(f func(e *RouteMapEntry)) *cmd {
	return change(func(c *Config, path []frame, _ time.Time) error {
		fr, _ := pathFind(path, fRouteMap)
		rm := c.RouteMaps[fr.name]
		if rm == nil {
			rm = &RouteMap{Name: fr.name, Entries: map[int]*RouteMapEntry{}}
			c.RouteMaps[fr.name] = rm
		}
		e := rm.Entries[fr.seq]
		if e == nil {
			e = &RouteMapEntry{Seq: fr.seq, Action: fr.action}
			rm.Entries[fr.seq] = e
		}
		f(e)
		return nil
	})
}

func hMatchPL(v6 bool) handler {
	return func(sh *shell, a args) *cmd {
		names := strings.Fields(a["names"])
		return rmChange(func(e *RouteMapEntry) {
			list := &e.MatchPrefixList
			if v6 {
				list = &e.MatchPrefixList6
			}
			for _, n := range names {
				if !slices.Contains(*list, n) {
					*list = append(*list, n)
				}
			}
		})
	}
}

func hNoMatchPL(v6 bool) handler {
	return func(sh *shell, a args) *cmd {
		names := strings.Fields(a["names"])
		return rmChange(func(e *RouteMapEntry) {
			list := &e.MatchPrefixList
			if v6 {
				list = &e.MatchPrefixList6
			}
			if len(names) == 0 {
				*list = nil
				return
			}
			*list = slices.DeleteFunc(*list, func(n string) bool { return slices.Contains(names, n) })
		})
	}
}

func hRMDescription(sh *shell, a args) *cmd {
	d := a["desc"]
	return rmChange(func(e *RouteMapEntry) { e.Description = d })
}

func hNoRMDescription(sh *shell, a args) *cmd {
	return rmChange(func(e *RouteMapEntry) { e.Description = "" })
}

// hMaxPrefix is `maximum-prefix MAXIMUM [THRESHOLD] [restart MINUTES |
// warning-only]` in a neighbor's address family.
func hMaxPrefix(sh *shell, a args) *cmd {
	v := a["max"]
	if a.has("thr") {
		v += " " + a["thr"]
	}
	if a.has("restart") {
		v += " restart " + a["restart"]
	}
	if a.has("warn") {
		v += " warning-only"
	}
	return nafChange(func(x *NeighborAF) { x.MaximumPrefix = v })
}

func hNoMaxPrefix(sh *shell, a args) *cmd {
	return nafChange(func(x *NeighborAF) { x.MaximumPrefix = "" })
}
