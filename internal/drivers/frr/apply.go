package frr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
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
// the state the previous lines leave, so only missing lines are sent. What
// is not FRR's syntax is cli.Planner's.
type planner struct {
	cli.Planner
	inst *bgpInstance
	// ecmp is the switch's default maximum-paths, 0 when unknown.
	ecmp int
}

func (d *Driver) script(sw config.Switch, cfg *runningConfig, changes []fabric.Change) (*cli.Script, error) {
	inst, err := d.instance(sw, cfg)
	if err != nil {
		return nil, err
	}
	p := &planner{
		Planner: cli.Planner{Script: cli.NewScript(dialect), Ownership: d.own, Switch: sw.Name, PlatformName: "FRR",
			MaxPaths: d.maxPaths, Filters: &cfg.Filters},
		inst: inst, ecmp: cfg.ecmpMax,
	}
	p.Plan(changes, p)
	return p.Script, nil
}

func (p *planner) bgpMode() []string {
	return []string{fmt.Sprintf("router bgp %d%s", p.inst.ASN, vrfSuffix(p.inst.VRF))}
}

func (p *planner) afMode(af fabric.AddressFamily) []string {
	return append(p.bgpMode(), "address-family "+cli.AFName(af))
}

// NeighborAt returns the neighbor at an address. An address in a listen
// range without a neighbor of its own is the range's: a dynamic neighbor
// of its peer-group, on which FRR refuses every line ("% Operation not
// allowed on a dynamic neighbor"); it is returned as a neighbor without
// the mark, so the planner reports a conflict and types nothing there.
func (p *planner) NeighborAt(a netip.Addr) *cli.Neighbor {
	if n := p.inst.neighborAt(a); n != nil {
		return &n.Neighbor
	}
	if r := p.inst.listenCovering(a); r != nil && !p.ownListen(r) {
		return &cli.Neighbor{ID: fmt.Sprintf("%s (in bgp listen range %s peer-group %s)", a, r.Prefix, r.Group), Addr: a}
	}
	return nil
}

func (p *planner) PeerUp(peer fabric.BGPPeer, desc string) {
	a, _ := cli.Addr("peer address", peer.PeerAddress)
	id := a.String()
	n := p.inst.neighborAt(a)
	isNew := n == nil
	bgp := p.bgpMode()
	remote := strconv.FormatUint(uint64(peer.RemoteASN), 10)
	// The mark follows remote-as at once (a neighbor without it would be
	// foreign to the next observation), then the inbound filter: the
	// session cannot come up within these few milliseconds.
	if n == nil || !sameAS(n.RemoteAS, peer.RemoteASN) {
		p.In(bgp, fmt.Sprintf("neighbor %s remote-as %s", id, remote))
		if n == nil {
			n = p.inst.neighbor(id)
		}
		n.RemoteAS = remote
	}
	// A new neighbor gets its whole description now: its password
	// fingerprint is true as soon as the password line follows, and a
	// neighbor without a password line is observed as such. An existing
	// one gets it after its password (below): a description claiming a
	// password the switch does not hold yet would hide the drift.
	if isNew && n.Description != desc {
		p.In(bgp, fmt.Sprintf("neighbor %s description %s", id, desc))
		n.Description = desc
	}
	// Held down before anything else changes (maintenance).
	if peer.Shutdown && !n.Shutdown {
		p.In(bgp, fmt.Sprintf("neighbor %s shutdown", id))
		n.Shutdown = true
	}
	// "neighbor X password LINE", one word (bgpd/bgp_vty.c
	// neighbor_password): sent only when the switch holds another
	// password or none; FRR itself resets the session when the password
	// changes (bgpd.c peer_password_set).
	switch send, remove, _ := cli.PasswordChange(n.Password, peer.Password); {
	case send != "":
		p.InSecret(bgp, fmt.Sprintf("neighbor %s password %s", id, cli.Sensitive), send)
		n.Password = cli.PasswordState{Set: true, Fingerprint: peer.Password.Fingerprint()}
	case remove:
		p.In(bgp, fmt.Sprintf("no neighbor %s password", id))
		n.Password = cli.PasswordState{}
	}
	// Active in its own family only: FRR activates every new neighbor in
	// IPv4 unicast (and in each family of a "bgp default <afi>-<safi>"),
	// whatever its address, where it would have no inbound filter. This
	// comes before the own family's activation, so the session never
	// opens in a family without the filter (lab: TestLabIPv6PeerRefusesIPv4).
	for _, stray := range p.inst.strayFamilies(n) {
		p.In(append(p.bgpMode(), "address-family "+stray), fmt.Sprintf("no neighbor %s activate", id))
		sn := p.inst.af(stray).neighbor(id)
		sn.Activate, sn.Deactivated = false, p.inst.defaultOn(stray)
	}
	af := p.afMode(fabric.FamilyOf(a))
	an := p.inst.af(afName(a)).neighbor(id)
	if !p.inst.activated(n) {
		p.In(af, fmt.Sprintf("neighbor %s activate", id))
		an.Activate, an.Deactivated = true, false
	}
	switch bind, unbind := p.Rebind(a, an.RouteMapIn); {
	case bind != "":
		p.In(af, fmt.Sprintf("neighbor %s route-map %s in", id, bind))
		an.RouteMapIn = bind
	case unbind != "":
		p.In(af, fmt.Sprintf("no neighbor %s route-map %s in", id, unbind))
		an.RouteMapIn = ""
	}
	// The prefix limit, in the neighbor's own family: "neighbor X
	// maximum-prefix N [warning-only|restart MINUTES]" (bgp_vty.c; a line
	// without threshold or force sets them back to 75 and off).
	switch want := wantMaxPrefix(peer.MaxPrefix); {
	case want != nil && (an.MaxPrefix == nil || an.MaxPrefix.line() != want.line()):
		p.In(af, fmt.Sprintf("neighbor %s maximum-prefix %s", id, want.line()))
		an.MaxPrefix = want
	case want == nil && an.MaxPrefix != nil:
		p.In(af, fmt.Sprintf("no neighbor %s maximum-prefix", id))
		an.MaxPrefix = nil
	}
	p.PeerLines(&n.Options, peer.PeerOptions, p.neighborLine(id))
	if n.Description != desc {
		p.In(bgp, fmt.Sprintf("neighbor %s description %s", id, desc))
		n.Description = desc
	}
	// local-as last: FRR checks it against remote-as and may refuse it; the
	// neighbor is then already filtered.
	if peer.LocalASN != p.inst.ASN {
		if n.LocalAS != peer.LocalASN || n.LocalASFlags != localASFlags {
			p.In(bgp, fmt.Sprintf("neighbor %s local-as %d %s", id, peer.LocalASN, localASFlags))
			n.LocalAS, n.LocalASFlags = peer.LocalASN, localASFlags
		}
	} else if n.LocalAS != 0 {
		p.In(bgp, fmt.Sprintf("no neighbor %s local-as", id))
		n.LocalAS, n.LocalASFlags = 0, ""
	}
	// Released from maintenance once everything else is in place (a
	// refused local-as leaves it down).
	if !peer.Shutdown && n.Shutdown {
		p.In(bgp, fmt.Sprintf("no neighbor %s shutdown", id))
		n.Shutdown = false
	}
}

// neighborLine types a PeerLine of a neighbor or peer-group, "neighbor ID
// LINE" in the BGP context, or its no-form.
func (p *planner) neighborLine(id string) func(no bool, line string) {
	return func(no bool, line string) {
		if no {
			p.In(p.bgpMode(), fmt.Sprintf("no neighbor %s %s", id, line))
		} else {
			p.In(p.bgpMode(), fmt.Sprintf("neighbor %s %s", id, line))
		}
	}
}

func (p *planner) PeerDown(n *cli.Neighbor) {
	p.In(p.bgpMode(), "no neighbor "+n.ID)
	delete(p.inst.Neighbors, n.ID)
	for _, af := range p.inst.AFs {
		delete(af.Neighbors, n.ID)
	}
}

func (p *planner) RouteMapIn(n *cli.Neighbor) string { return p.inst.routeMapIn(n) }

func (p *planner) Bind(n *cli.Neighbor, name string) {
	id := n.Addr.String()
	if an := p.inst.af(afName(n.Addr)).neighbor(id); an.RouteMapIn != name {
		p.In(p.afMode(fabric.FamilyOf(n.Addr)), fmt.Sprintf("neighbor %s route-map %s in", id, name))
		an.RouteMapIn = name
	}
}

func (p *planner) Unbind(n *cli.Neighbor, name string) {
	p.In(p.afMode(fabric.FamilyOf(n.Addr)), fmt.Sprintf("no neighbor %s route-map %s in", n.ID, name))
	p.inst.af(afName(n.Addr)).neighbor(n.ID).RouteMapIn = ""
}

// DenyAll is "deny any". The entry is required, not cosmetic: FRR permits
// everything on a prefix-list without entries (lib/plist.c
// prefix_list_apply_ext, frr-8.4.4: "if (plist->count == 0) return
// PREFIX_PERMIT"), so a list with only its description would let the node
// advertise anything.
func (p *planner) DenyAll(netip.Addr) cli.PrefixListEntry {
	return cli.PrefixListEntry{Action: "deny", Any: true}
}

// Echo refuses to send back a route-map line with control characters: only
// what the switch printed reaches it.
func (p *planner) Echo(routeMap, line string) error {
	if hasControl(line) {
		return fmt.Errorf("route-map %s holds a line with control characters: %s", routeMap, cli.Quote(line))
	}
	return nil
}

// PathsAt is where FRR keeps an address family's maximum-paths: in the
// instance's address-family block (created in the model if missing; FRR
// creates it with the first line). A missing line means the switch's ECMP
// maximum.
func (p *planner) PathsAt(af fabric.AddressFamily) cli.PathsAt {
	return cli.PathsAt{AF: &p.inst.af(cli.AFName(af)).Paths, AFName: cli.AFName(af), AFMode: p.afMode(af), BGPMode: p.bgpMode(),
		Relax: &p.inst.MultipathRelax, RelaxLine: relaxLine, Default: p.ecmp}
}

// Apply makes the plan's changes, switch by switch (concurrently). On each
// switch it reads the running configuration again, plans the missing lines
// in the safe order and sends them one by one; the first refused line stops
// that switch. Applied lists the changes that went through completely.
func (d *Driver) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	return d.switches.Apply(ctx, plan, d.applySwitch)
}

func (d *Driver) applySwitch(ctx context.Context, sw config.Switch, changes []fabric.Change) (fabric.ApplyResult, error) {
	_, cfg, err := d.readConfig(ctx, sw)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	if err := d.checkLock(sw, cfg); err != nil {
		return fabric.ApplyResult{Messages: []string{fmt.Sprintf("switch %s: %d change(s) not applied: %v", sw.Name, len(changes), err)}},
			fmt.Errorf("switch %s: %w", sw.Name, err)
	}
	s, err := d.script(sw, cfg, changes)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	start := time.Now()
	lines := s.Lines()
	accepted, sendErr := d.session(sw).configure(ctx, lines)
	d.observeRequest("configure", time.Since(start), sendErr)
	res := s.Result(accepted)
	var errs []error
	switch {
	case sendErr != nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d of %d line(s) accepted, then: %v", sw.Name, accepted, len(lines), sendErr))
		if accepted < len(lines) {
			c := s.ChangeOf(accepted)
			errs = append(errs, fmt.Errorf("%s %s: %w", c.Action, cli.CommentKey(c.Key()), sendErr))
		} else {
			errs = append(errs, sendErr)
		}
	case len(lines) > 0:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) accepted in %s", sw.Name, len(lines), time.Since(start).Round(time.Millisecond)))
	}
	errs = append(errs, refusalErrors(s)...)
	for _, l := range lines[:accepted] {
		d.log.Debug("line accepted", "switch", sw.Name, "line", l.Text)
	}
	return res, errors.Join(errs...)
}

// refusalErrors are the errors of a script's refused changes, their keys
// escaped (a tampered saved observation may hold any id).
func refusalErrors(s *cli.Script) []error {
	var errs []error
	for _, r := range s.Refused() {
		errs = append(errs, fmt.Errorf("refused %s %s: %w", r.Change.Action, cli.CommentKey(r.Change.Key()), r.Err))
	}
	return errs
}

// Render returns, per switch, the lines Apply would send: against the
// configuration read at the last Observe, or, when the driver has not
// observed (plan --offline), against a switch that holds only its BGP
// instance.
func (d *Driver) Render(plan fabric.Changeset) (string, error) {
	return d.switches.Render(plan, func(b *strings.Builder, sw config.Switch, changes []fabric.Change) error {
		seen, observed := d.seen.Get(sw.Name)
		basis := "against the configuration read at the last observation"
		cfg := emptyConfig(d.fabric.SwitchASN(sw), d.vrf())
		if observed {
			parsed, err := d.parse(sw, seen.text)
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
		fmt.Fprintf(b, "! switch %s (%s): %d change(s), %d line(s), %s\n", sw.Name, clissh.AddressOf(sw), len(changes), len(s.Lines()), basis)
		cli.WriteNotes(b, s, strings.TrimSpace)
		if len(s.Lines()) > 0 {
			b.WriteString("configure terminal\n")
			b.WriteString(s.Text())
			b.WriteString("end\n")
		}
		return nil
	})
}

// sameAS tells whether an AS number as FRR wrote it (asplain, or asdot
// after FRR 9's as-notation) is asn.
func sameAS(written string, asn uint32) bool {
	v, err := cli.ParseASN(written)
	return err == nil && v == asn
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
