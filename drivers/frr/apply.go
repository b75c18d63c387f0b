package frr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// localASFlags are the local-as options the driver sets: the node sees only
// the AS it peers with (Calico's BGPPeer asNumber), as if the switch were in it.
const localASFlags = "no-prepend replace-as"

// indent is one mode level, as vtysh writes its configuration. Lines are
// sent indented, exactly as Render shows them.
const indent = " "

var dialect = cli.Dialect{Indent: indent, Exit: func(mode string) string {
	if strings.HasPrefix(mode, "address-family ") {
		return "exit-address-family"
	}
	return "exit"
}}

// planner turns one switch's changes into CLI lines against its running
// configuration, which it updates as it goes: each line is planned against
// the state the previous lines leave, so only missing lines are sent.
type planner struct {
	d    *Driver
	sw   config.Switch
	cfg  *runningConfig
	inst *bgpInstance
	// ecmp is the switch's default maximum-paths, 0 when unknown.
	ecmp int
	s    *cli.Script
	// refusedFilters are peers whose filter was refused: their neighbor is
	// not created unfiltered.
	refusedFilters map[netip.Addr]bool
}

func (d *Driver) script(sw config.Switch, cfg *runningConfig, changes []fabric.Change) (*cli.Script, error) {
	inst, err := d.instance(sw, cfg)
	if err != nil {
		return nil, err
	}
	p := &planner{d: d, sw: sw, cfg: cfg, inst: inst, ecmp: cfg.ecmpMax, s: cli.NewScript(dialect), refusedFilters: map[netip.Addr]bool{}}
	for _, c := range cli.Order(changes) {
		p.change(c)
	}
	return p.s, nil
}

func (p *planner) bgpMode() []string {
	return []string{fmt.Sprintf("router bgp %d%s", p.inst.ASN, vrfSuffix(p.inst.VRF))}
}

func (p *planner) afMode(af fabric.AddressFamily) []string {
	return append(p.bgpMode(), "address-family "+cli.AFName(af))
}

func (p *planner) change(c fabric.Change) {
	p.s.Begin(c)
	if c.Switch != p.sw.Name {
		p.s.Refuse(fmt.Errorf("the change is for switch %s", cli.Quote(c.Switch)))
		return
	}
	del := c.Action == fabric.ActionDelete
	switch c.Kind {
	case fabric.KindBGPPeer:
		if del {
			if a, err := cli.Addr("peer address", c.ID); err != nil {
				p.s.Refuse(err)
			} else {
				p.peerDown(a)
			}
			return
		}
		peer, ok := c.After.(fabric.BGPPeer)
		if !ok {
			p.s.Refuse(errors.New("no peer to configure"))
			return
		}
		if err := cli.CheckPeer(peer); err != nil {
			p.s.Refuse(err)
			return
		}
		p.peerUp(peer)
	case fabric.KindPrefixFilter:
		if del {
			if a, err := cli.Addr("peer address", c.ID); err != nil {
				p.s.Refuse(err)
			} else {
				p.filterDown(a)
			}
			return
		}
		f, ok := c.After.(fabric.PrefixFilter)
		if !ok {
			p.s.Refuse(errors.New("no filter to configure"))
			return
		}
		if err := cli.CheckPrefixFilter(f); err != nil {
			if a, aerr := cli.Addr("peer address", f.PeerAddress); aerr == nil {
				p.refusedFilters[a] = true
			}
			p.s.Refuse(err)
			return
		}
		p.filterUp(f)
	case fabric.KindMaximumPaths:
		af := fabric.AddressFamily(c.ID)
		if af != fabric.IPv4 && af != fabric.IPv6 {
			p.s.Refuse(fmt.Errorf("address family %s must be ipv4 or ipv6", cli.Quote(c.ID)))
			return
		}
		if del {
			p.maxPathsDown(af)
			return
		}
		m, ok := c.After.(fabric.MaximumPaths)
		if !ok {
			p.s.Refuse(errors.New("no maximum-paths to configure"))
			return
		}
		if err := cli.CheckMaximumPaths(m, p.d.maxPaths); err != nil {
			p.s.Refuse(err)
			return
		}
		p.maxPathsUp(m)
	default:
		p.s.Refuse(fmt.Errorf("%s objects are not configured on FRR", c.Kind))
	}
}

// owns reports whether a neighbor carries this cluster's mark.
func (p *planner) owns(n *neighbor) bool { return p.d.own.Mark.Owns(n.Description) }

func (p *planner) conflictNeighbor(n *neighbor, what string) {
	owner, _ := cli.Parse(n.Description)
	who := "without this cluster's mark"
	if owner != "" {
		who = "owned by " + owner
	}
	p.s.Conflict(owner, fmt.Sprintf("neighbor %s is configured %s; %s", n.ID, who, what))
}

func (p *planner) peerUp(peer fabric.BGPPeer) {
	a, _ := cli.Addr("peer address", peer.PeerAddress)
	id := a.String()
	n := p.inst.neighborAt(a)
	if n != nil && !p.owns(n) {
		p.conflictNeighbor(n, "it is left alone")
		return
	}
	if n == nil && p.refusedFilters[a] {
		p.s.Refuse(errors.New("not created: its prefix filter was refused, and a neighbor is never configured unfiltered"))
		return
	}
	desc := p.d.own.Mark.Describe(peer.Node)
	if err := cli.Text("description", desc, 0); err != nil {
		p.s.Refuse(err)
		return
	}
	bgp := p.bgpMode()
	remote := strconv.FormatUint(uint64(peer.RemoteASN), 10)
	// The mark follows remote-as at once (a neighbor without it would be
	// foreign to the next observation), then the inbound filter: the
	// session cannot come up within these few milliseconds.
	if n == nil || n.RemoteAS != remote {
		p.s.In(bgp, fmt.Sprintf("neighbor %s remote-as %s", id, remote))
		if n == nil {
			n = p.inst.neighbor(id)
		}
		n.RemoteAS = remote
	}
	if n.Description != desc {
		p.s.In(bgp, fmt.Sprintf("neighbor %s description %s", id, desc))
		n.Description = desc
	}
	af := p.afMode(fabric.FamilyOf(a))
	an := p.inst.af(afName(a)).neighbor(id)
	if !p.inst.activated(n) {
		p.s.In(af, fmt.Sprintf("neighbor %s activate", id))
		an.Activate, an.Deactivated = true, false
	}
	want, have := p.d.own.BindingFor(&p.cfg.Filters, a), an.RouteMapIn
	switch {
	case want != "" && have != want:
		p.s.In(af, fmt.Sprintf("neighbor %s route-map %s in", id, want))
		an.RouteMapIn = want
	case want == "" && have != "" && p.d.own.IsFilterName(have):
		p.s.In(af, fmt.Sprintf("no neighbor %s route-map %s in", id, have))
		an.RouteMapIn = ""
	}
	// local-as last: FRR checks it against remote-as and may refuse it; the
	// neighbor is then already filtered.
	if peer.LocalASN != p.inst.ASN {
		if n.LocalAS != peer.LocalASN || n.LocalASFlags != localASFlags {
			p.s.In(bgp, fmt.Sprintf("neighbor %s local-as %d %s", id, peer.LocalASN, localASFlags))
			n.LocalAS, n.LocalASFlags = peer.LocalASN, localASFlags
		}
	} else if n.LocalAS != 0 {
		p.s.In(bgp, fmt.Sprintf("no neighbor %s local-as", id))
		n.LocalAS, n.LocalASFlags = 0, ""
	}
}

func (p *planner) peerDown(a netip.Addr) {
	n := p.inst.neighborAt(a)
	if n == nil {
		return // already gone
	}
	if !p.owns(n) {
		p.conflictNeighbor(n, "it is not deleted")
		return
	}
	p.s.In(p.bgpMode(), "no neighbor "+n.ID)
	delete(p.inst.Neighbors, n.ID)
	for _, af := range p.inst.AFs {
		delete(af.Neighbors, n.ID)
	}
}

// wantEntries are the prefix-list entries of a filter's rules: exact
// entries, "le" for ranges; a filter that permits nothing holds one explicit
// "deny any". FRR 8.4 denies on an empty prefix-list too (checked in the
// lab), but a list whose only entry is its description reads like a
// forgotten filter, and the entry does not depend on that behaviour.
func wantEntries(f fabric.PrefixFilter) []cli.PrefixListEntry {
	f = fabric.Canonical(f).(fabric.PrefixFilter)
	var out []cli.PrefixListEntry
	for _, r := range f.Prefixes {
		p := netip.MustParsePrefix(r.Prefix) // checked by cli.CheckPrefixFilter
		e := cli.PrefixListEntry{Action: "permit", Prefix: p}
		if r.LE != p.Bits() {
			e.LE = r.LE
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		out = append(out, cli.PrefixListEntry{Action: "deny", Any: true})
	}
	return out
}

func (p *planner) filterUp(f fabric.PrefixFilter) {
	a, _ := cli.Addr("peer address", f.PeerAddress)
	id := a.String()
	n := p.inst.neighborAt(a)
	if n != nil && !p.owns(n) {
		p.conflictNeighbor(n, "its inbound filter is not this cluster's to set")
		return
	}
	desc := p.d.own.Mark.Describe(f.Node)
	if err := cli.Text("description", desc, 0); err != nil {
		p.s.Refuse(err)
		return
	}
	name := p.d.own.Naming.PeerFilter(a)
	fam := plFamily(a)
	key := cli.PrefixListKey{Family: fam, Name: name}

	// The prefix-list: new entries before old ones go, so that a route the
	// node may keep advertising is never denied in between.
	pl := p.cfg.PrefixLists[key]
	if pl == nil {
		pl = &cli.PrefixList{Key: key}
		p.cfg.PrefixLists[key] = pl
	}
	if !pl.HasDesc || pl.Description != desc {
		p.s.Top(fmt.Sprintf("%s prefix-list %s description %s", fam, name, desc))
		pl.Description, pl.HasDesc = desc, true
	}
	want := wantEntries(f)
	var seq int64
	for _, e := range pl.Entries {
		seq = max(seq, e.Seq)
	}
	have := pl.Entries
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || w.Same(h)
		}
		if !found {
			seq += 5
			w.Seq = seq
			p.s.Top(fmt.Sprintf("%s prefix-list %s seq %d %s", fam, name, seq, w.Text()))
			pl.Entries = append(pl.Entries, w)
		}
	}
	kept := pl.Entries[:0]
	for _, h := range pl.Entries {
		wanted := false
		for _, w := range want {
			wanted = wanted || w.Same(h)
		}
		if wanted {
			kept = append(kept, h)
		} else {
			p.s.Top(fmt.Sprintf("no %s prefix-list %s seq %d", fam, name, h.Seq))
		}
	}
	pl.Entries = kept

	// The route-map: one entry "permit 10" matching the prefix-list; routes
	// it does not permit fall to the route-map's implicit deny.
	rm := p.cfg.RouteMaps[name]
	if rm == nil {
		rm = &cli.RouteMap{Name: name}
		p.cfg.RouteMaps[name] = rm
	}
	var entry *cli.RouteMapEntry
	var others []*cli.RouteMapEntry
	for _, e := range rm.Entries {
		if e.Action == "permit" && e.Seq == 10 {
			entry = e
		} else {
			others = append(others, e)
		}
	}
	for _, e := range others {
		p.s.Top(fmt.Sprintf("no route-map %s %s %d", name, e.Action, e.Seq))
	}
	if entry == nil {
		entry = &cli.RouteMapEntry{Action: "permit", Seq: 10}
	}
	rm.Entries = []*cli.RouteMapEntry{entry}
	mode := []string{"route-map " + name + " permit 10"}
	if entry.Description != desc {
		p.s.In(mode, "description "+desc)
		entry.Description = desc
	}
	match := cli.MatchLine(a, name)
	hasMatch := false
	var lines []string
	for _, l := range entry.Lines {
		switch {
		case l == match:
			hasMatch = true
			lines = append(lines, l)
		case hasControl(l):
			// Only what the switch printed reaches this line: never echo
			// control characters back to it.
			p.s.Refuse(fmt.Errorf("route-map %s holds a line with control characters: %s", name, cli.Quote(l)))
			return
		default:
			p.s.In(mode, "no "+l)
		}
	}
	if !hasMatch {
		p.s.In(mode, match)
		lines = append(lines, match)
	}
	entry.Lines = lines

	// An existing neighbor of ours gets the filter now; a new one gets it
	// when it is created.
	if n != nil {
		an := p.inst.af(afName(a)).neighbor(id)
		if an.RouteMapIn != name {
			p.s.In(p.afMode(fabric.FamilyOf(a)), fmt.Sprintf("neighbor %s route-map %s in", id, name))
			an.RouteMapIn = name
		}
	}
}

func (p *planner) filterDown(a netip.Addr) {
	name := p.d.own.Naming.PeerFilter(a)
	key := cli.PrefixListKey{Family: plFamily(a), Name: name}
	if n := p.inst.neighborAt(a); n != nil && p.inst.routeMapIn(n) == name {
		if !p.owns(n) {
			p.conflictNeighbor(n, "it uses this filter, which is therefore kept")
			return
		}
		p.s.In(p.afMode(fabric.FamilyOf(a)), fmt.Sprintf("no neighbor %s route-map %s in", n.ID, name))
		p.inst.af(afName(a)).neighbor(n.ID).RouteMapIn = ""
	}
	if _, ok := p.cfg.RouteMaps[name]; ok {
		p.s.Top("no route-map " + name)
		delete(p.cfg.RouteMaps, name)
	}
	if _, ok := p.cfg.PrefixLists[key]; ok {
		p.s.Top(fmt.Sprintf("no %s prefix-list %s", key.Family, name))
		delete(p.cfg.PrefixLists, key)
	}
}

func (p *planner) hasMarker(what string) bool {
	_, ok := p.cfg.PrefixLists[cli.PrefixListKey{Family: "ip", Name: p.d.own.Naming.Marker(what)}]
	return ok
}

// addMarker records that the cluster owns a setting, before the setting is
// made: an apply that stops in between leaves an owned, incomplete setting
// (completed by the next sync), never an unowned one.
func (p *planner) addMarker(what, setting string) {
	name := p.d.own.Naming.Marker(what)
	p.s.Top(fmt.Sprintf("ip prefix-list %s description %s", name, p.d.own.Mark.DescribeSetting(setting)))
	p.cfg.PrefixLists[cli.PrefixListKey{Family: "ip", Name: name}] = &cli.PrefixList{Key: cli.PrefixListKey{Family: "ip", Name: name}, HasDesc: true}
}

func (p *planner) dropMarker(what string) {
	name := p.d.own.Naming.Marker(what)
	p.s.Top("no ip prefix-list " + name)
	delete(p.cfg.PrefixLists, cli.PrefixListKey{Family: "ip", Name: name})
}

func (p *planner) maxPathsUp(m fabric.MaximumPaths) {
	what := cli.MarkerMaxPaths(m.AddressFamily)
	af := p.inst.af(cli.AFName(m.AddressFamily))
	if !p.hasMarker(what) {
		if af.MaxPaths != 0 || af.MaxPathsIBGP != 0 {
			p.s.Conflict("", fmt.Sprintf("maximum-paths is set in address-family %s without this cluster's marker (prefix-list %s); it is left alone",
				af.Name, p.d.own.Naming.Marker(what)))
			return
		}
		p.addMarker(what, "maximum-paths "+string(m.AddressFamily))
	}
	if !p.inst.MultipathRelax {
		if !p.hasMarker(cli.MarkerRelax) {
			p.addMarker(cli.MarkerRelax, relaxLine)
		}
		p.s.In(p.bgpMode(), relaxLine)
		p.inst.MultipathRelax = true
	}
	mode := p.afMode(m.AddressFamily)
	if cur := orDefault(af.MaxPaths, p.ecmp); cur != m.Paths {
		p.s.In(mode, fmt.Sprintf("maximum-paths %d", m.Paths))
		af.MaxPaths = m.Paths
	}
	if cur := orDefault(af.MaxPathsIBGP, p.ecmp); cur != m.Paths {
		p.s.In(mode, fmt.Sprintf("maximum-paths ibgp %d", m.Paths))
		af.MaxPathsIBGP = m.Paths
	}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (p *planner) maxPathsDown(fam fabric.AddressFamily) {
	what := cli.MarkerMaxPaths(fam)
	if !p.hasMarker(what) {
		return // no longer ours: nothing to delete
	}
	af := p.inst.af(cli.AFName(fam))
	mode := p.afMode(fam)
	if af.MaxPaths != 0 {
		p.s.In(mode, "no maximum-paths")
		af.MaxPaths = 0
	}
	if af.MaxPathsIBGP != 0 {
		p.s.In(mode, "no maximum-paths ibgp")
		af.MaxPathsIBGP = 0
	}
	other := cli.MarkerMaxPaths(fabric.IPv4)
	if fam == fabric.IPv4 {
		other = cli.MarkerMaxPaths(fabric.IPv6)
	}
	if p.hasMarker(cli.MarkerRelax) && !p.hasMarker(other) {
		if p.inst.MultipathRelax {
			p.s.In(p.bgpMode(), "no "+relaxLine)
			p.inst.MultipathRelax = false
		}
		p.dropMarker(cli.MarkerRelax)
	}
	p.dropMarker(what)
}

// Apply makes the plan's changes, switch by switch (concurrently). On each
// switch it reads the running configuration again, plans the missing lines
// in the safe order and sends them one by one; the first refused line stops
// that switch. Applied lists the changes that went through completely.
func (d *Driver) Apply(ctx context.Context, plan fabric.FabricPlan) (fabric.ApplyResult, error) {
	return d.switches.Apply(ctx, plan, d.applySwitch)
}

func (d *Driver) applySwitch(ctx context.Context, sw config.Switch, changes []fabric.Change) (fabric.ApplyResult, error) {
	_, cfg, err := d.readConfig(ctx, sw)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	s, err := d.script(sw, cfg, changes)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	start := time.Now()
	lines := s.Lines()
	accepted, sendErr := d.session(sw).configure(ctx, lines)
	d.observeRequest("configure", sendErr)
	res := s.Result(accepted)
	var errs []error
	switch {
	case sendErr != nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d of %d line(s) accepted, then: %v", sw.Name, accepted, len(lines), sendErr))
		if accepted < len(lines) {
			c := s.ChangeOf(accepted)
			errs = append(errs, fmt.Errorf("%s %s: %w", c.Action, c.Key(), sendErr))
		} else {
			errs = append(errs, sendErr)
		}
	case len(lines) > 0:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) accepted in %s", sw.Name, len(lines), time.Since(start).Round(time.Millisecond)))
	}
	for _, r := range s.Refused() {
		errs = append(errs, fmt.Errorf("refused %s %s: %w", r.Change.Action, r.Change.Key(), r.Err))
	}
	for _, l := range lines[:accepted] {
		d.log.Debug("line accepted", "switch", sw.Name, "line", l.Text)
	}
	return res, errors.Join(errs...)
}

// Render returns, per switch, the lines Apply would send: against the
// configuration read at the last Observe, or, when the driver has not
// observed (plan --offline), against a switch that holds only its BGP
// instance.
func (d *Driver) Render(plan fabric.FabricPlan) (string, error) {
	return d.switches.Render(plan, func(b *strings.Builder, sw config.Switch, changes []fabric.Change) error {
		d.mu.Lock()
		seen, observed := d.seen[sw.Name]
		d.mu.Unlock()
		basis := "against the configuration read at the last observation"
		cfg := emptyConfig(d.fabric.SwitchASN(sw), d.vrf())
		if observed {
			parsed, err := parseRunningConfig(seen.text)
			if err != nil {
				return fmt.Errorf("switch %s: %w", sw.Name, err)
			}
			cfg, cfg.ecmpMax = parsed, seen.ecmp
		} else {
			basis = "assuming the switch holds only its BGP instance"
		}
		s, err := d.script(sw, cfg, changes)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "! switch %s (%s): %d change(s), %d line(s), %s\n", sw.Name, sw.Address, len(changes), len(s.Lines()), basis)
		cli.WriteNotes(b, s, oneLine)
		if len(s.Lines()) > 0 {
			b.WriteString("configure terminal\n")
			b.WriteString(s.Text())
			b.WriteString("end\n")
		}
		return nil
	})
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// emptyConfig is a switch that holds only its BGP instance.
func emptyConfig(asn uint32, vrf string) *runningConfig {
	return &runningConfig{
		BGP:     []*bgpInstance{{ASN: asn, VRF: vrf, Neighbors: map[string]*neighbor{}, AFs: map[string]*bgpAF{}}},
		Filters: cli.NewFilters(),
	}
}
