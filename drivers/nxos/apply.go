package nxos

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
	"github.com/fabric-reconciler/fabric-reconciler/drivers/clissh"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// indent is one mode level, as NX-OS prints its configuration. Lines are sent
// indented exactly as Render shows them; NX-OS ignores leading blanks.
const indent = "  "

var dialect = cli.Dialect{Indent: indent}

// planner turns one switch's changes into CLI lines against its
// configuration, which it updates as it goes: each line is planned against
// the state the previous lines leave, so only missing lines are sent.
type planner struct {
	d   *Driver
	sw  config.Switch
	cfg *runningConfig
	v   *bgpVRF
	asn uint32
	s   *cli.Script
	// refusedFilters are peers whose filter was refused: their neighbor is
	// not created unfiltered.
	refusedFilters map[netip.Addr]bool
}

func (d *Driver) script(sw config.Switch, cfg *runningConfig, changes []fabric.Change) (*cli.Script, error) {
	v, err := d.instance(sw, cfg)
	if err != nil {
		return nil, err
	}
	p := &planner{d: d, sw: sw, cfg: cfg, v: v, asn: cfg.BGP.ASN, s: cli.NewScript(dialect), refusedFilters: map[netip.Addr]bool{}}
	for _, c := range cli.Order(changes) {
		p.change(c)
	}
	return p.s, nil
}

func (p *planner) bgpMode() []string {
	m := []string{"router bgp " + strconv.FormatUint(uint64(p.asn), 10)}
	if p.d.vrf != "default" {
		m = append(m, "vrf "+p.d.vrf)
	}
	return m
}

func (p *planner) afMode(af fabric.AddressFamily) []string {
	return append(p.bgpMode(), "address-family "+cli.AFName(af))
}

func (p *planner) nbrMode(id string) []string { return append(p.bgpMode(), "neighbor "+id) }

func (p *planner) nbrAFMode(id string, af fabric.AddressFamily) []string {
	return append(p.nbrMode(id), "address-family "+cli.AFName(af))
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
		p.s.Refuse(fmt.Errorf("%s objects are not configured on NX-OS", c.Kind))
	}
}

func (p *planner) owns(n *neighbor) bool { return p.d.own.Mark.Owns(n.Description) }

func (p *planner) conflictNeighbor(n *neighbor, what string) {
	owner, _ := cli.Parse(n.Description)
	who := "without this cluster's mark"
	if owner != "" {
		who = "owned by " + owner
	}
	p.s.Conflict(owner, fmt.Sprintf("neighbor %s is configured %s; %s", n.ID, who, what))
}

// describe is the description of a node's objects, checked against the
// grammar and NX-OS's 80-character limit for neighbor descriptions.
func (p *planner) describe(node string) (string, error) {
	desc := p.d.own.Mark.Describe(node)
	if err := cli.Text("description", desc, 0); err != nil {
		return "", err
	}
	if len(desc) > maxDescription {
		return "", fmt.Errorf("node name %s: the description %s would be %d characters, NX-OS takes %d (node names of at most %d characters fit)",
			cli.Quote(node), cli.Quote(desc), len(desc), maxDescription, maxDescription-len(p.d.own.Mark.Describe("x"))+1)
	}
	return desc, nil
}

func (p *planner) peerUp(peer fabric.BGPPeer) {
	a, _ := cli.Addr("peer address", peer.PeerAddress)
	id := a.String()
	n := p.v.neighborAt(a)
	if n != nil && !p.owns(n) {
		p.conflictNeighbor(n, "it is left alone")
		return
	}
	if n == nil && p.refusedFilters[a] {
		p.s.Refuse(errors.New("not created: its prefix filter was refused, and a neighbor is never configured unfiltered"))
		return
	}
	desc, err := p.describe(peer.Node)
	if err != nil {
		p.s.Refuse(err)
		return
	}
	if n == nil {
		n = &neighbor{Neighbor: cli.Neighbor{ID: id, Addr: a}, AFs: map[string]*nbrAF{}}
		p.v.Neighbors[id] = n
	}
	// The mark first: a neighbor cut off after it is the cluster's, and the
	// only unmarked state an interrupted apply can leave is a bare
	// "neighbor" line, which recovery knows is harmless.
	mode := p.nbrMode(n.ID)
	if n.Description != desc {
		p.s.In(mode, "description "+desc)
		n.Description = desc
	}
	remote := strconv.FormatUint(uint64(peer.RemoteASN), 10)
	if n.RemoteAS != remote {
		p.s.In(mode, "remote-as "+remote)
		n.RemoteAS = remote
	}
	if peer.LocalASN != p.asn {
		if n.LocalAS != peer.LocalASN || n.LocalASFlags != localASFlags {
			p.s.In(mode, fmt.Sprintf("local-as %d %s", peer.LocalASN, localASFlags))
			n.LocalAS, n.LocalASFlags = peer.LocalASN, localASFlags
		}
	} else if n.LocalAS != 0 || n.LocalASFlags != "" {
		p.s.In(mode, "no local-as")
		n.LocalAS, n.LocalASFlags = 0, ""
	}
	// The address family last: it starts the exchange of routes, and the
	// inbound route-map comes with it.
	fam := fabric.FamilyOf(a)
	afMode := p.nbrAFMode(n.ID, fam)
	naf := n.AFs[cli.AFName(fam)]
	if naf == nil {
		p.s.In(afMode)
		naf = n.af(cli.AFName(fam))
	}
	want, have := p.d.own.BindingFor(&p.cfg.Filters, a), naf.RouteMapIn
	switch {
	case want != "" && have != want:
		p.s.In(afMode, "route-map "+want+" in")
		naf.RouteMapIn = want
	case want == "" && have != "" && p.d.own.IsFilterName(have):
		p.s.In(afMode, "no route-map "+have+" in")
		naf.RouteMapIn = ""
	}
}

func (p *planner) peerDown(a netip.Addr) {
	n := p.v.neighborAt(a)
	if n == nil {
		return // already gone
	}
	if !p.owns(n) {
		p.conflictNeighbor(n, "it is not deleted")
		return
	}
	p.s.In(p.bgpMode(), "no neighbor "+n.ID)
	delete(p.v.Neighbors, n.ID)
}

// wantEntries are the prefix-list entries of a filter's rules: exact entries
// without "le" (NX-OS refuses an "le" equal to the prefix length), "le" for
// ranges; a filter that permits nothing holds one explicit deny of
// everything, so that it never reads like a forgotten list.
func wantEntries(f fabric.PrefixFilter, a netip.Addr) []cli.PrefixListEntry {
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
		out = append(out, cli.PrefixListEntry{Action: "deny", Prefix: anyPrefix(a), LE: a.BitLen()})
	}
	return out
}

func (p *planner) filterUp(f fabric.PrefixFilter) {
	a, _ := cli.Addr("peer address", f.PeerAddress)
	n := p.v.neighborAt(a)
	if n != nil && !p.owns(n) {
		p.conflictNeighbor(n, "its inbound filter is not this cluster's to set")
		return
	}
	desc, err := p.describe(f.Node)
	if err != nil {
		p.refusedFilters[a] = true
		p.s.Refuse(err)
		return
	}
	name := p.d.own.Naming.PeerFilter(a)
	fam := plFamily(a)
	key := cli.PrefixListKey{Family: fam, Name: name}

	// The prefix-list: new entries before old ones go, so that a route the
	// node may keep advertising is never denied in between. A list with a
	// line the driver could not read is rebuilt.
	pl := p.cfg.PrefixLists[key]
	if pl != nil && pl.Bad {
		p.s.Top(fmt.Sprintf("no %s prefix-list %s", fam, name))
		pl = nil
	}
	if pl == nil {
		pl = &cli.PrefixList{Key: key}
		p.cfg.PrefixLists[key] = pl
	}
	if !pl.HasDesc || pl.Description != desc {
		p.s.Top(fmt.Sprintf("%s prefix-list %s description %s", fam, name, desc))
		pl.Description, pl.HasDesc = desc, true
	}
	want := wantEntries(f, a)
	var seq int64
	for _, e := range pl.Entries {
		seq = max(seq, e.Seq)
	}
	for _, w := range want {
		found := false
		for _, h := range pl.Entries {
			found = found || w.Same(h)
		}
		if !found {
			seq += 5
			w.Seq = seq
			p.s.Top(fmt.Sprintf("%s prefix-list %s seq %d %s", fam, name, w.Seq, w.Text()))
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
		case !cleanLine(l):
			// Only what the switch printed reaches this line: never echo
			// anything unexpected back to it.
			p.s.Refuse(fmt.Errorf("route-map %s holds a line the driver will not echo back: %s", name, cli.Quote(l)))
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
		fam := fabric.FamilyOf(a)
		naf := n.AFs[cli.AFName(fam)]
		if naf != nil && naf.RouteMapIn != name {
			p.s.In(p.nbrAFMode(n.ID, fam), "route-map "+name+" in")
			naf.RouteMapIn = name
		}
	}
}

// cleanLine tells whether a line read from the switch may be sent back
// after "no ": printable ASCII without the characters a CLI reads as syntax.
func cleanLine(l string) bool {
	for _, r := range l {
		if r < 0x20 || r > 0x7e || r == ';' {
			return false
		}
	}
	return true
}

func (p *planner) filterDown(a netip.Addr) {
	name := p.d.own.Naming.PeerFilter(a)
	key := cli.PrefixListKey{Family: plFamily(a), Name: name}
	fam := fabric.FamilyOf(a)
	if n := p.v.neighborAt(a); n != nil {
		if naf := n.AFs[cli.AFName(fam)]; naf != nil && naf.RouteMapIn == name {
			if !p.owns(n) {
				p.conflictNeighbor(n, "it uses this filter, which is therefore kept")
				return
			}
			p.s.In(p.nbrAFMode(n.ID, fam), "no route-map "+name+" in")
			naf.RouteMapIn = ""
		}
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

// addMarker records that the cluster owns a setting, before the setting is
// made.
func (p *planner) addMarker(what, setting string) {
	name := p.d.own.Naming.Marker(what)
	desc := p.d.own.Mark.DescribeSetting(setting)
	p.s.Top(fmt.Sprintf("ip prefix-list %s description %s", name, desc))
	p.cfg.PrefixLists[cli.PrefixListKey{Family: "ip", Name: name}] = &cli.PrefixList{Key: cli.PrefixListKey{Family: "ip", Name: name}, Description: desc, HasDesc: true}
}

func (p *planner) dropMarker(what string) {
	name := p.d.own.Naming.Marker(what)
	p.s.Top("no ip prefix-list " + name)
	delete(p.cfg.PrefixLists, cli.PrefixListKey{Family: "ip", Name: name})
}

func (p *planner) maxPathsUp(m fabric.MaximumPaths) {
	what := cli.MarkerMaxPaths(m.AddressFamily)
	af := p.v.AFs[cli.AFName(m.AddressFamily)]
	if !p.d.own.HasMarker(&p.cfg.Filters, what) {
		if af != nil && (af.MaxPaths != 0 || af.MaxPathsIBGP != 0) {
			p.s.Conflict("", fmt.Sprintf("maximum-paths is set in address-family %s without this cluster's marker (prefix-list %s); it is left alone",
				af.Name, p.d.own.Naming.Marker(what)))
			return
		}
		p.addMarker(what, "maximum-paths "+string(m.AddressFamily))
	}
	if !p.v.MultipathRelax {
		if !p.d.own.HasMarker(&p.cfg.Filters, cli.MarkerRelax) {
			p.addMarker(cli.MarkerRelax, relaxLine)
		}
		p.s.In(p.bgpMode(), relaxLine)
		p.v.MultipathRelax = true
	}
	mode := p.afMode(m.AddressFamily)
	if af == nil {
		af = p.v.af(cli.AFName(m.AddressFamily))
		p.s.In(mode)
	}
	if orDefault(af.MaxPaths, 1) != m.Paths {
		p.s.In(mode, fmt.Sprintf("maximum-paths %d", m.Paths))
		af.MaxPaths = m.Paths
	}
	if orDefault(af.MaxPathsIBGP, 1) != m.Paths {
		p.s.In(mode, fmt.Sprintf("maximum-paths ibgp %d", m.Paths))
		af.MaxPathsIBGP = m.Paths
	}
}

func (p *planner) maxPathsDown(fam fabric.AddressFamily) {
	what := cli.MarkerMaxPaths(fam)
	if !p.d.own.HasMarker(&p.cfg.Filters, what) {
		return // no longer ours: nothing to delete
	}
	mode := p.afMode(fam)
	if af := p.v.AFs[cli.AFName(fam)]; af != nil {
		if af.MaxPaths != 0 {
			p.s.In(mode, "no maximum-paths")
			af.MaxPaths = 0
		}
		if af.MaxPathsIBGP != 0 {
			p.s.In(mode, "no maximum-paths ibgp")
			af.MaxPathsIBGP = 0
		}
	}
	other := cli.MarkerMaxPaths(fabric.IPv4)
	if fam == fabric.IPv4 {
		other = cli.MarkerMaxPaths(fabric.IPv6)
	}
	if p.d.own.HasMarker(&p.cfg.Filters, cli.MarkerRelax) && !p.d.own.HasMarker(&p.cfg.Filters, other) {
		if p.v.MultipathRelax {
			p.s.In(p.bgpMode(), "no "+relaxLine)
			p.v.MultipathRelax = false
		}
		p.dropMarker(cli.MarkerRelax)
	}
	p.dropMarker(what)
}

// Apply makes the plan's changes, switch by switch (concurrently). On each
// switch it first recovers from an interrupted apply (rolls back to a
// leftover checkpoint, aborts a leftover session), reads the running
// configuration again, plans the missing lines in the safe order, and
// commits them atomically: all of them or none. A switch whose connection
// drops during the apply is reconnected, recovered and applied again once.
func (d *Driver) Apply(ctx context.Context, plan fabric.FabricPlan) (fabric.ApplyResult, error) {
	return d.switches.Apply(ctx, plan, d.applySwitch)
}

func (d *Driver) applySwitch(ctx context.Context, sw config.Switch, changes []fabric.Change) (fabric.ApplyResult, error) {
	var msgs []string
	for attempt := 1; ; attempt++ {
		res, err := d.applyOnce(ctx, sw, changes)
		if clissh.IsConnError(err) && attempt == 1 && ctx.Err() == nil {
			d.log.Warn("connection lost during the apply; reconnecting to recover and apply again", "switch", sw.Name, "error", err)
			msgs = append(msgs, res.Messages...)
			msgs = append(msgs, fmt.Sprintf("switch %s: reconnecting to recover and apply again", sw.Name))
			continue
		}
		res.Messages = append(msgs, res.Messages...)
		return res, err
	}
}

func (d *Driver) applyOnce(ctx context.Context, sw config.Switch, changes []fabric.Change) (fabric.ApplyResult, error) {
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	msgs, err := d.recover(ctx, sw, s)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, err
	}
	texts, err := d.readRunning(ctx, s)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, err
	}
	cfg, err := parseConfigs(texts...)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, fmt.Errorf("switch %s: reading the configuration: %w", sw.Name, err)
	}
	sc, err := d.script(sw, cfg, changes)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, err
	}
	var errs []error
	for _, r := range sc.Refused() {
		errs = append(errs, fmt.Errorf("refused %s %s: %w", r.Change.Action, r.Change.Key(), r.Err))
	}
	lines := sc.Lines()
	if len(lines) == 0 {
		res := sc.Result(0)
		res.Messages = append(msgs, res.Messages...)
		return res, errors.Join(errs...)
	}
	start := time.Now()
	var (
		n        int
		leftover error // the lines went through, but the checkpoint stayed
	)
	if d.mode == config.CommitSession {
		n, err = s.configureSession(ctx, lines)
		d.observeRequest("configure session", err)
	} else {
		n, leftover, err = d.commitCheckpoint(ctx, s, lines)
	}
	accepted := len(lines)
	if err != nil {
		accepted = 0 // atomic: nothing stays
	}
	res := sc.Result(accepted)
	res.Messages = append(msgs, res.Messages...)
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case leftover != nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) applied in %s, but %v; the next apply rolls back to it and applies again",
			sw.Name, len(lines), took, leftover))
		errs = append(errs, leftover)
	case err == nil && d.mode == config.CommitSession:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) committed in configuration session %s in %s", sw.Name, len(lines), d.cpName, took))
	case err == nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) applied under checkpoint %s in %s", sw.Name, len(lines), d.cpName, took))
	default:
		undone := "nothing was changed"
		if clissh.IsConnError(err) {
			undone = "the switch is recovered when it is reached again"
		}
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d of %d line(s) sent, then: %v; %s", sw.Name, n, len(lines), err, undone))
		if n < len(lines) {
			c := sc.ChangeOf(n)
			err = fmt.Errorf("%s %s: %w", c.Action, c.Key(), err)
		}
		errs = append(errs, err)
	}
	for _, l := range lines[:accepted] {
		d.log.Debug("line applied", "switch", sw.Name, "line", l.Text)
	}
	return res, errors.Join(errs...)
}

// commitCheckpoint takes the checkpoint, sends the lines in configure
// terminal and deletes the checkpoint; on a refused line it rolls back to
// the checkpoint first. It returns how many lines the switch took, and, when
// all went through but the checkpoint could not be deleted, why. The caller
// holds the session's lock.
func (d *Driver) commitCheckpoint(ctx context.Context, s *session, lines []cli.Line) (n int, leftover, err error) {
	if err := d.takeCheckpoint(ctx, s); err != nil {
		return 0, nil, err
	}
	n, err = s.configure(ctx, lines)
	d.observeRequest("configure", err)
	if clissh.IsConnError(err) {
		return n, nil, err // the checkpoint stays; the next attempt recovers
	}
	if err != nil {
		if rerr := d.rollback(ctx, s); rerr != nil {
			return n, nil, fmt.Errorf("%w; rolling back to checkpoint %s failed too: %v (the checkpoint is kept; the next apply tries again)", err, d.cpName, rerr)
		}
		if derr := d.deleteCheckpoint(ctx, s); derr != nil {
			return n, nil, fmt.Errorf("%w; rolled back, but %v", err, derr)
		}
		return n, nil, fmt.Errorf("%w; rolled back to checkpoint %s", err, d.cpName)
	}
	return n, d.deleteCheckpoint(ctx, s), nil
}

// Render returns, per switch, what Apply would send: against the
// configuration read at the last Observe, or, when the driver has not
// observed (plan --offline), against a switch that holds only its BGP
// instance.
func (d *Driver) Render(plan fabric.FabricPlan) (string, error) {
	return d.switches.Render(plan, func(b *strings.Builder, sw config.Switch, changes []fabric.Change) error {
		d.mu.Lock()
		seen, observed := d.seen[sw.Name]
		d.mu.Unlock()
		basis := "against the configuration read at the last observation"
		cfg := d.emptyConfig(sw)
		if observed {
			parsed, err := seen.parse()
			if err != nil {
				return fmt.Errorf("switch %s: %w", sw.Name, err)
			}
			cfg = parsed
		} else {
			basis = "assuming the switch holds only its BGP instance"
		}
		s, err := d.script(sw, cfg, changes)
		if err != nil {
			return err
		}
		lines := s.Lines()
		fmt.Fprintf(b, "! switch %s (%s): %d change(s), %d line(s), %s, commit mode %s\n", sw.Name, sw.Address, len(changes), len(lines), basis, d.mode)
		if seen.pending {
			fmt.Fprintf(b, "! first: rollback running-config checkpoint %s; no checkpoint %s (left by an interrupted apply)\n", d.cpName, d.cpName)
		}
		cli.WriteNotes(b, s, reply)
		if len(lines) == 0 {
			return nil
		}
		if d.mode == config.CommitSession {
			fmt.Fprintf(b, "configure session %s\n%sverify\ncommit\n", d.cpName, s.Text())
			b.WriteString("! on a refused line or a failed verify/commit instead: abort\n")
			return nil
		}
		fmt.Fprintf(b, "checkpoint %s description %s\nconfigure terminal\n%send\nno checkpoint %s\n", d.cpName, d.own.Mark, s.Text(), d.cpName)
		fmt.Fprintf(b, "! on a refused line instead: end; rollback running-config checkpoint %s; no checkpoint %s\n", d.cpName, d.cpName)
		return nil
	})
}

// emptyConfig is a switch that holds only its BGP instance (and VRF).
func (d *Driver) emptyConfig(sw config.Switch) *runningConfig {
	c := newConfig()
	c.FeatureBGP = true
	c.BGP = &bgpRouter{ASN: d.fabric.SwitchASN(sw), VRFs: map[string]*bgpVRF{"default": newVRF("default")}}
	if d.vrf != "default" {
		c.BGP.VRFs[d.vrf] = newVRF(d.vrf)
	}
	return c
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
