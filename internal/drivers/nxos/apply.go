package nxos

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
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// indent is one mode level, as NX-OS prints its configuration. Lines are sent
// indented exactly as Render shows them; NX-OS ignores leading blanks.
const indent = "  "

var dialect = cli.Dialect{Indent: indent}

// planner turns one switch's changes into CLI lines against its
// configuration, which it updates as it goes: each line is planned against
// the state the previous lines leave, so only missing lines are sent. What
// is not NX-OS's syntax is cli.Planner's. Its no-forms name what they
// remove (cli.Planner.NoFormsInFull), as Cisco documents them: "no ip
// prefix-list name [seq number] {permit | deny} prefix [eq length | [ge
// length] [le length]]" (Cisco Nexus 3548 Switch NX-OS Unicast Routing
// Command Reference, "ip prefix-list"), which is also what cisco.nxos sends
// ("no ip prefix-list plist1 seq 10 permit 192.168.1.0/24",
// tests/unit/modules/network/nxos/test_nxos_prefix_lists.py); "no
// maximum-paths [ibgp] N" is what cisco.nxos builds from "maximum-paths
// {{ parallel_paths }}" (rm_templates/bgp_address_family.py; its unit tests
// send "no maximum-paths eibgp 68"). No Cisco page for the bare forms was
// found.
type planner struct {
	cli.Planner
	vrf string // the driver's VRF context, "default" for the router's own
	v   *bgpVRF
	asn uint32
}

func (d *Driver) script(sw config.Switch, cfg *runningConfig, changes []fabric.Change) (*cli.Script, error) {
	v, err := d.instance(sw, cfg)
	if err != nil {
		return nil, err
	}
	p := &planner{
		Planner: cli.Planner{Script: cli.NewScript(dialect), Ownership: d.own, Switch: sw.Name, PlatformName: "NX-OS",
			MaxPaths: d.maxPaths, MaxDescription: maxDescription, Filters: &cfg.Filters, NoFormsInFull: true},
		vrf: d.vrf, v: v, asn: cfg.BGP.ASN,
	}
	p.Plan(changes, p)
	return p.Script, nil
}

func (p *planner) bgpMode() []string {
	m := []string{"router bgp " + strconv.FormatUint(uint64(p.asn), 10)}
	if p.vrf != "default" {
		m = append(m, "vrf "+p.vrf)
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

// NeighborAt returns the neighbor at an address. An address in the range
// of a prefix neighbor (not the cluster's), without a neighbor of its own,
// is that range's: it is returned as a neighbor without the mark, so the
// planner reports a conflict and types nothing there.
func (p *planner) NeighborAt(a netip.Addr) *cli.Neighbor {
	if n := p.v.neighborAt(a); n != nil {
		return &n.Neighbor
	}
	if r := p.v.rangeCovering(a); r != nil && !p.Mark.Owns(r.Description) {
		owner, _ := cli.Parse(r.Description)
		return &cli.Neighbor{ID: fmt.Sprintf("%s (in prefix neighbor %s)", a, r.Range), Addr: a, Description: owner}
	}
	return nil
}

// nbrAF is the address-family block of a neighbor in its family, nil when
// it has none.
func (p *planner) nbrAF(n *cli.Neighbor) *nbrAF {
	if nb := p.v.Neighbors[n.ID]; nb != nil {
		return nb.AFs[cli.AFName(fabric.FamilyOf(n.Addr))]
	}
	return nil
}

func (p *planner) PeerUp(peer fabric.BGPPeer, desc string) {
	a, _ := cli.Addr("peer address", peer.PeerAddress)
	id := a.String()
	n := p.v.neighborAt(a)
	isNew := n == nil
	if n == nil {
		n = &neighbor{Neighbor: cli.Neighbor{ID: id, Addr: a}, AFs: map[string]*nbrAF{}}
		p.v.Neighbors[id] = n
	}
	// The mark first: a neighbor cut off after it is the cluster's, and the
	// only unmarked state an interrupted apply can leave is a bare
	// "neighbor" line, which recovery knows is harmless. An existing
	// neighbor's description follows its password instead (below): it
	// records the password's fingerprint.
	mode := p.nbrMode(n.ID)
	if isNew && n.Description != desc {
		p.In(mode, "description "+desc)
		n.Description = desc
	}
	remote := strconv.FormatUint(uint64(peer.RemoteASN), 10)
	if n.RemoteAS != remote {
		p.In(mode, "remote-as "+remote)
		n.RemoteAS = remote
	}
	if peer.Shutdown && !n.Shutdown {
		p.In(mode, "shutdown")
		n.Shutdown = true
	}
	// "password 0 VALUE": type 0, unencrypted, said explicitly, so that a
	// password that is a digit is not read as an encryption type (NX-OS
	// "password [0|3|7] string"; the running configuration shows it as
	// "password 3 ..."). Sent only when the fingerprint differs.
	switch send, remove, _ := cli.PasswordChange(n.Password, peer.Password); {
	case send != "":
		p.InSecret(mode, "password 0 "+cli.Sensitive, send)
		n.Password = cli.PasswordState{Set: true, Fingerprint: peer.Password.Fingerprint()}
	case remove:
		p.In(mode, "no password")
		n.Password = cli.PasswordState{}
	}
	if peer.LocalASN != p.asn {
		if n.LocalAS != peer.LocalASN || n.LocalASFlags != localASFlags {
			p.In(mode, fmt.Sprintf("local-as %d %s", peer.LocalASN, localASFlags))
			n.LocalAS, n.LocalASFlags = peer.LocalASN, localASFlags
		}
	} else if n.LocalAS != 0 || n.LocalASFlags != "" {
		p.In(mode, "no local-as")
		n.LocalAS, n.LocalASFlags = 0, ""
	}
	// The PeerLines ("timers KEEPALIVE HOLD", "ttl-security hops N", ...)
	// in neighbor mode (Cisco NX-OS Unicast Routing Configuration Guide,
	// "Configuring Advanced BGP"; ansible cisco.nxos bgp_global parses
	// them there), their no-forms with the values they remove.
	p.PeerLines(&n.Options, peer.PeerOptions, func(no bool, line string) {
		if no {
			line = "no " + line
		}
		p.In(mode, line)
	})
	if n.Description != desc {
		p.In(mode, "description "+desc)
		n.Description = desc
	}
	// The address family last: it starts the exchange of routes, and the
	// inbound route-map and the prefix limit come with it.
	fam := fabric.FamilyOf(a)
	afMode := p.nbrAFMode(n.ID, fam)
	naf := n.AFs[cli.AFName(fam)]
	if naf == nil {
		p.In(afMode)
		naf = n.af(cli.AFName(fam))
	}
	switch bind, unbind := p.Rebind(a, naf.RouteMapIn); {
	case bind != "":
		p.In(afMode, "route-map "+bind+" in")
		naf.RouteMapIn = bind
	case unbind != "":
		p.In(afMode, "no route-map "+unbind+" in")
		naf.RouteMapIn = ""
	}
	switch want := wantMaxPrefix(peer.MaxPrefix); {
	case want != nil && (naf.MaxPrefix == nil || naf.MaxPrefix.line() != want.line()):
		p.In(afMode, "maximum-prefix "+want.line())
		naf.MaxPrefix = want
	case want == nil && naf.MaxPrefix != nil:
		p.In(afMode, "no maximum-prefix")
		naf.MaxPrefix = nil
	}
	// Released from maintenance once everything else is in place.
	if !peer.Shutdown && n.Shutdown {
		p.In(mode, "no shutdown")
		n.Shutdown = false
	}
}

func (p *planner) PeerDown(n *cli.Neighbor) {
	p.In(p.bgpMode(), "no neighbor "+n.ID)
	delete(p.v.Neighbors, n.ID)
}

func (p *planner) RouteMapIn(n *cli.Neighbor) string {
	if naf := p.nbrAF(n); naf != nil {
		return naf.RouteMapIn
	}
	return ""
}

// Bind binds in the neighbor's address family; a neighbor without one gets
// it, with the route-map, from PeerUp.
func (p *planner) Bind(n *cli.Neighbor, name string) {
	if naf := p.nbrAF(n); naf != nil && naf.RouteMapIn != name {
		p.In(p.nbrAFMode(n.ID, fabric.FamilyOf(n.Addr)), "route-map "+name+" in")
		naf.RouteMapIn = name
	}
}

func (p *planner) Unbind(n *cli.Neighbor, name string) {
	p.In(p.nbrAFMode(n.ID, fabric.FamilyOf(n.Addr)), "no route-map "+name+" in")
	p.nbrAF(n).RouteMapIn = ""
}

// DenyAll is 0.0.0.0/0 le 32 (::/0 le 128): NX-OS prefix-lists have no
// "any".
func (p *planner) DenyAll(a netip.Addr) cli.PrefixListEntry { return denyAll(a) }

// Echo refuses to send back a route-map line that is not clean: only what
// the switch printed reaches it.
func (p *planner) Echo(routeMap, line string) error {
	if !cleanLine(line) {
		return fmt.Errorf("route-map %s holds a line the driver will not echo back: %s", routeMap, cli.Quote(line))
	}
	return nil
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

// PathsAt is where NX-OS keeps an address family's maximum-paths: in the
// router's (or VRF context's) address-family block, which may not exist. A
// missing line means 1.
func (p *planner) PathsAt(af fabric.AddressFamily) cli.PathsAt {
	at := cli.PathsAt{AFName: cli.AFName(af), AFMode: p.afMode(af), BGPMode: p.bgpMode(),
		NewAF: func() *cli.Paths { return &p.v.af(cli.AFName(af)).Paths },
		Relax: &p.v.MultipathRelax, RelaxLine: relaxLine, Default: 1}
	if a := p.v.AFs[cli.AFName(af)]; a != nil {
		at.AF = &a.Paths
	}
	return at
}

// Apply makes the plan's changes, switch by switch (concurrently). It needs
// the fabric's writer lock, taken with TryLock before the Observe the plan
// comes from: without it, or for a switch not observed under it, nothing is
// applied and the error wraps ErrNoLock. On each switch it first checks
// that the lock is still there and recovers from an interrupted apply (rolls
// back to a leftover checkpoint, aborts a leftover session), reads the
// running configuration again, plans the missing lines in the safe order,
// and commits them atomically: all of them or none. A switch whose
// connection drops during the apply is reconnected, recovered and applied
// again once; when that cannot tell what the switch holds, the error wraps
// drivers.ErrOutcomeUnknown.
func (d *Driver) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	held, err := d.heldLock()
	if err != nil {
		return fabric.ApplyResult{Messages: []string{err.Error()}}, err
	}
	return d.switches.Apply(ctx, plan, func(ctx context.Context, sw config.Switch, changes []fabric.Change) (fabric.ApplyResult, error) {
		return d.applySwitch(ctx, sw, changes, held)
	})
}

// attempt is what one applyOnce left behind.
type attempt struct {
	// recovered: the switch was checked and recovered; what earlier
	// attempts left is known to be undone.
	recovered bool
	// unknown: the connection was lost while the switch may have been
	// taking a change (a configuration line, a commit, a rollback) that
	// was not undone.
	unknown bool
}

func (d *Driver) applySwitch(ctx context.Context, sw config.Switch, changes []fabric.Change, held *heldLock) (fabric.ApplyResult, error) {
	if seen, ok := d.seen.Get(sw.Name); !ok || seen.lock != held.token {
		err := fmt.Errorf("switch %s: not applied: %w: the plan was not made from an observation under the lock (run %s); "+
			"observe after TryLock, then plan and apply", sw.Name, ErrNoLock, held.rec.RunID)
		return fabric.ApplyResult{Messages: []string{err.Error()}}, err
	}
	var (
		msgs    []string
		unknown bool
	)
	for try := 1; ; try++ {
		res, at, err := d.applyOnce(ctx, sw, changes, held)
		// What an attempt left unknown stays so until a later one has
		// recovered the switch (rolled back, or found nothing to undo).
		unknown = at.unknown || (unknown && !at.recovered)
		if clissh.IsConnError(err) && try == 1 && ctx.Err() == nil {
			d.log.Warn("connection lost during the apply; reconnecting to recover and apply again", "switch", sw.Name, "error", err)
			msgs = append(msgs, res.Messages...)
			msgs = append(msgs, fmt.Sprintf("switch %s: reconnecting to recover and apply again", sw.Name))
			continue
		}
		res.Messages = append(msgs, res.Messages...)
		if err != nil && unknown {
			res.Applied = nil
			res.Messages = append(res.Messages, fmt.Sprintf("switch %s: the outcome is unknown: the connection was lost while the switch was "+
				"taking a change, and it could not be recovered; observe again to learn what it holds (the next apply rolls back to "+
				"this run's checkpoint, or aborts its session, first)", sw.Name))
			err = fmt.Errorf("switch %s: %w: %w", sw.Name, drivers.ErrOutcomeUnknown, err)
		}
		return res, err
	}
}

func (d *Driver) applyOnce(ctx context.Context, sw config.Switch, changes []fabric.Change, held *heldLock) (fabric.ApplyResult, attempt, error) {
	var at attempt
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	msgs, err := d.recover(ctx, sw, s, held)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, at, err
	}
	at.recovered = true
	texts, err := d.readRunning(ctx, s)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, at, err
	}
	cfg, err := parseConfigs(texts...)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, at, fmt.Errorf("switch %s: reading the configuration: %w", sw.Name, err)
	}
	sc, err := d.scriptFor(ctx, sw, cfg, texts, changes)
	if err != nil {
		return fabric.ApplyResult{Messages: msgs}, at, err
	}
	var errs []error
	for _, r := range sc.Refused() {
		errs = append(errs, fmt.Errorf("refused %s %s: %w", r.Change.Action, r.Change.Key(), r.Err))
	}
	lines := sc.Lines()
	if len(lines) == 0 {
		res := sc.Result(0)
		res.Messages = append(msgs, res.Messages...)
		return res, at, errors.Join(errs...)
	}
	// No line is sent after the lock expires: another writer may take it
	// over then.
	lctx, cancel := context.WithDeadline(ctx, held.deadline())
	defer cancel()
	start := time.Now()
	var c commit
	if d.mode == CommitSession {
		began := time.Now()
		c.n, c.err = s.configureSession(lctx, lines)
		d.observeRequest("configure session", time.Since(began), c.err)
		// Lines are only queued until commit: a drop loses nothing but
		// the commit's reply.
		c.kept = c.err == nil
		c.unknown = clissh.IsConnError(c.err) && s.committing
	} else {
		c = d.commitCheckpoint(lctx, s, lines, held.run)
	}
	at.unknown = c.unknown
	accepted := 0
	switch {
	case c.kept:
		accepted = len(lines)
	case c.left:
		accepted = c.n
	}
	res := sc.Result(accepted)
	res.Messages = append(msgs, res.Messages...)
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case c.leftover != nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) applied in %s, but %v; the next apply rolls back to it and applies again",
			sw.Name, len(lines), took, c.leftover))
		errs = append(errs, c.leftover)
	case c.err == nil && d.mode == CommitSession:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) committed in configuration session %s in %s", sw.Name, len(lines), d.cpName, took))
	case c.err == nil:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d line(s) applied under checkpoint %s in %s", sw.Name, len(lines), held.run, took))
	default:
		res.Messages = append(res.Messages, fmt.Sprintf("switch %s: %d of %d line(s) sent, then: %v; %s", sw.Name, c.n, len(lines), c.err, c.state(d.mode)))
		err := c.err
		if c.n < len(lines) {
			ch := sc.ChangeOf(c.n)
			err = fmt.Errorf("%s %s: %w", ch.Action, ch.Key(), err)
		}
		errs = append(errs, err)
	}
	for _, l := range lines[:accepted] {
		d.log.Debug("line applied", "switch", sw.Name, "line", l.Text)
	}
	return res, at, errors.Join(errs...)
}

// commit is how a commit of lines ended.
type commit struct {
	n        int   // lines the switch took
	err      error // why it stopped; nil when every line went through
	leftover error // every line went through, but the checkpoint stayed
	kept     bool  // the lines are in the running configuration
	// partial: the lines sent stay, the rollback failed (or could not be
	// checked) and its checkpoint is kept.
	partial bool
	// left: the lines sent stay for good: someone else changed the switch
	// since the checkpoint, so it was not rolled back.
	left    bool
	unknown bool // the connection was lost while a change was under way
}

// state says what a failed commit left on the switch, for the messages.
func (c commit) state(mode string) string {
	switch {
	case c.unknown:
		return "what the switch holds is not known until it is reached again"
	case c.partial:
		return fmt.Sprintf("the switch keeps the first %d line(s) until the next apply rolls them back", c.n)
	case c.left:
		return fmt.Sprintf("the switch keeps the first %d line(s)", c.n)
	case clissh.IsConnError(c.err) && mode == CommitSession:
		return "nothing was committed; the session is aborted when the switch is reached again"
	case clissh.IsConnError(c.err):
		return "no line was sent; the switch is recovered when it is reached again"
	}
	return "nothing was changed"
}

// commitCheckpoint takes the run's checkpoint, sends the lines in configure
// terminal and deletes the checkpoint; on a refused line it rolls back to
// the checkpoint first. The rollback and the deletions run even when ctx
// has ended (bounded by their own timeouts): a cut-off apply is undone, not
// left half done. The caller holds the session's lock.
func (d *Driver) commitCheckpoint(ctx context.Context, s *session, lines []cli.Line, name string) commit {
	cleanup := context.WithoutCancel(ctx)
	if err := d.takeCheckpoint(ctx, s, name, string(d.own.Mark)); err != nil {
		return commit{err: err}
	}
	var c commit
	began := time.Now()
	c.n, c.err = s.configure(ctx, lines)
	d.observeRequest("configure", time.Since(began), c.err)
	switch {
	case clissh.IsConnError(c.err):
		// The last line may or may not have been taken; the checkpoint
		// stays, and the next attempt recovers.
		c.unknown = true
		return c
	case c.err == nil:
		c.kept = true
		c.leftover = d.deleteCheckpoint(cleanup, s, name)
		return c
	}
	// A rollback reapplies the whole checkpoint, so it would also undo
	// what someone else changed since it was taken (an operator, another
	// tool; not another fabric-reconciler, which waits for the lock).
	// Compare first, as leftover recovery does (changedOutside).
	if _, diff, derr := d.changedOutside(cleanup, s, name); derr != nil {
		// The lines sent stay until the next apply, which compares again
		// before it rolls back. %w: a lost connection makes the apply
		// reconnect and recover.
		c.partial = true
		c.err = fmt.Errorf("%w; not rolled back: whether the switch changed since checkpoint %s outside fabric-reconciler's objects could not be read: %w "+
			"(the checkpoint is kept; the next apply compares again before rolling back)", c.err, name, derr)
		return c
	} else if len(diff) > 0 {
		c.left = true
		quoted := strings.Join(quoteDiff(diff), "; ")
		d.log.Warn("not rolling back: the running configuration changed outside fabric-reconciler's objects since the apply's checkpoint",
			"switch", s.Name(), "checkpoint", name, "changed", quoted)
		c.err = fmt.Errorf("%w; not rolled back: the running configuration changed outside fabric-reconciler's objects since checkpoint %s was taken (%s), "+
			"and a rollback would undo that too; the switch keeps the first %d line(s) of this apply, the cluster's own objects in the safe order, "+
			"and the next sync completes or removes them", c.err, name, quoted, c.n)
		if derr := d.deleteCheckpoint(cleanup, s, name); derr != nil {
			c.err = fmt.Errorf("%w; %v (the next apply finds the checkpoint and reports the difference again)", c.err, derr)
		}
		return c
	}
	if rerr := d.rollback(cleanup, s, name); rerr != nil {
		c.unknown = clissh.IsConnError(rerr)
		c.partial = !c.unknown
		// %w: a lost connection here makes the apply reconnect and
		// recover, like one lost during the lines.
		c.err = fmt.Errorf("%w; rolling back to checkpoint %s failed too: %w (the checkpoint is kept; the next apply tries again)", c.err, name, rerr)
		return c
	}
	if derr := d.deleteCheckpoint(cleanup, s, name); derr != nil {
		c.err = fmt.Errorf("%w; rolled back, but %v", c.err, derr)
		return c
	}
	c.err = fmt.Errorf("%w; rolled back to checkpoint %s", c.err, name)
	return c
}

// Render returns, per switch, what Apply would send: against the
// configuration read at the last Observe, or, when the driver has not
// observed (plan --offline), against a switch that holds only its BGP
// instance.
func (d *Driver) Render(plan fabric.Changeset) (string, error) {
	return d.switches.Render(plan, func(b *strings.Builder, sw config.Switch, changes []fabric.Change) error {
		seen, observed := d.seen.Get(sw.Name)
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
		fmt.Fprintf(b, "! switch %s (%s): %d change(s), %d line(s), %s, commit mode %s\n", sw.Name, clissh.AddressOf(sw), len(changes), len(lines), basis, d.mode)
		lock, run := d.cpName+"-lock-<run>", d.cpName+"-run-<run>"
		if h := d.currentLock(); h != nil {
			lock, run = h.name, h.run
		}
		fmt.Fprintf(b, "! under the fabric's writer lock, checkpoint %s, taken before observing", lock)
		if strings.HasSuffix(run, "<run>") {
			b.WriteString(" (<run>: 8 hex digits of the SHA-256 of the run id)")
		}
		b.WriteString("\n")
		if seen.pending {
			fmt.Fprintf(b, "! first: rollback running-config checkpoint %s; no checkpoint %s (left by an interrupted apply)\n", seen.leftover, seen.leftover)
		}
		cli.WriteNotes(b, s, strings.TrimSpace)
		if len(lines) == 0 {
			return nil
		}
		if d.mode == CommitSession {
			fmt.Fprintf(b, "configure session %s\n%sverify\ncommit\n", d.cpName, s.Text())
			b.WriteString("! on a refused line or a failed verify/commit instead: abort\n")
			return nil
		}
		fmt.Fprintf(b, "checkpoint %s description %s\nconfigure terminal\n%send\nno checkpoint %s\n", run, d.own.Mark, s.Text(), run)
		fmt.Fprintf(b, "! on a refused line instead: end; rollback running-config checkpoint %s; no checkpoint %s\n", run, run)
		return nil
	})
}

// currentLock is the lock the driver holds, nil when none.
func (d *Driver) currentLock() *heldLock {
	d.lockMu.Lock()
	defer d.lockMu.Unlock()
	return d.held
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
