package nxos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// relaxLine lets peers of different AS numbers share a prefix: the nodes
// have one AS each.
const relaxLine = "bestpath as-path multipath-relax"

var afNames = []fabric.AddressFamily{fabric.IPv4, fabric.IPv6}

// seenConfig is what a switch held at an observation: the texts read,
// whether they are a leftover checkpoint's that the next apply rolls back to,
// and the writer lock the driver held then (0: none).
type seenConfig struct {
	texts    []string
	pending  bool
	leftover string // the checkpoint, when pending
	lock     uint64
}

func (s seenConfig) parse() (*runningConfig, error) { return parseConfigs(s.texts...) }

// parseConfigs parses several outputs ("show running-config bgp" and "show
// running-config rpm") into one configuration.
func parseConfigs(texts ...string) (*runningConfig, error) {
	out := newConfig()
	for _, t := range texts {
		c, err := parseConfig(t)
		if err != nil {
			return nil, err
		}
		out.FeatureBGP = out.FeatureBGP || c.FeatureBGP
		if c.BGP != nil {
			if out.BGP != nil {
				return nil, errors.New("two BGP instances")
			}
			out.BGP = c.BGP
		}
		for k, v := range c.PrefixLists {
			out.PrefixLists[k] = v
		}
		for k, v := range c.RouteMaps {
			out.RouteMaps[k] = v
		}
	}
	return out, nil
}

// Observe reads every switch (concurrently) and returns the objects carrying
// this cluster's mark, plus the unmarked ones at places the cluster may
// write. A switch with a checkpoint left by an interrupted apply is observed
// as that checkpoint holds it: the next apply rolls back to it first. While
// another run holds the fabric's writer lock, its checkpoint is its apply in
// progress, not a leftover, and the running configuration is observed.
// Observing needs no lock; an apply needs one taken before observing.
func (d *Driver) Observe(ctx context.Context) (fabric.Observed, error) {
	d.lockMu.Lock()
	held := d.held
	d.lockMu.Unlock()
	return d.switches.Observe(ctx, func(ctx context.Context, sw config.Switch) ([]fabric.Object, []fabric.Foreign, error) {
		seen, cfg, err := d.readSwitch(ctx, sw, held)
		if err != nil {
			return nil, nil, err
		}
		owned, foreign, err := d.observeSwitch(sw, cfg)
		if err != nil {
			return nil, nil, err
		}
		d.seen.Set(sw.Name, seen)
		return owned, foreign, nil
	})
}

// readSwitch reads what a switch holds: its running configuration, or the
// configuration of the driver's leftover checkpoint.
func (d *Driver) readSwitch(ctx context.Context, sw config.Switch, held *heldLock) (seenConfig, *runningConfig, error) {
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	st, err := d.checkpointState(ctx, sw, s, held)
	if err != nil {
		return seenConfig{}, nil, err
	}
	var lo *leftover
	switch {
	case st.other != nil && !st.mine:
		if len(st.leftovers) > 0 {
			d.log.Warn("another run holds the fabric's writer lock and may be applying: observing the running configuration as it is now",
				"switch", sw.Name, "holder", st.other.Record.Holder, "run", st.other.Record.RunID)
		}
	default:
		if lo, err = d.findLeftover(ctx, sw, s, st); err != nil {
			return seenConfig{}, nil, err
		}
	}
	var seen seenConfig
	if lo != nil {
		d.log.Warn("a checkpoint of an interrupted apply is on the switch: observing the configuration it holds; the next apply rolls back to it first",
			"switch", sw.Name, "checkpoint", lo.name)
		seen = seenConfig{texts: []string{lo.text}, pending: true, leftover: lo.name}
	} else {
		texts, err := d.readRunning(ctx, s)
		if err != nil {
			return seenConfig{}, nil, err
		}
		seen = seenConfig{texts: texts}
	}
	if held != nil && st.mine {
		seen.lock = held.token
	}
	cfg, err := seen.parse()
	if err != nil {
		return seenConfig{}, nil, fmt.Errorf("switch %s: reading the configuration: %w", sw.Name, err)
	}
	if _, err := d.instance(sw, cfg); err != nil {
		return seenConfig{}, nil, err
	}
	return seen, cfg, nil
}

// readRunning reads the parts of the running configuration the driver
// works on. The caller holds the session's lock.
func (d *Driver) readRunning(ctx context.Context, s *session) ([]string, error) {
	var texts []string
	for _, cmd := range []string{"show running-config bgp", "show running-config rpm"} {
		began := time.Now()
		out, err := s.Read(ctx, cmd, isConfig)
		d.observeRequest(cmd, time.Since(began), err)
		if err != nil {
			return nil, err
		}
		texts = append(texts, out)
	}
	return texts, nil
}

// instance returns the VRF context of the BGP instance the fabric uses on a
// switch. The instance and the VRF context are the network team's: missing,
// or another AS, is an error, never something the driver creates or changes.
func (d *Driver) instance(sw config.Switch, cfg *runningConfig) (*bgpVRF, error) {
	want := d.fabric.SwitchASN(sw)
	if cfg.BGP == nil {
		return nil, fmt.Errorf("switch %s: BGP is not configured: configure \"feature bgp\" and \"router bgp %d\" first "+
			"(the BGP instance belongs to the network team; fabric-reconciler never creates it)", sw.Name, want)
	}
	if cfg.BGP.ASN != want {
		return nil, fmt.Errorf("switch %s: the BGP instance is AS %d, but the configuration says AS %d; fix one of them "+
			"(fabric-reconciler never changes the instance)", sw.Name, cfg.BGP.ASN, want)
	}
	v := cfg.vrf(d.vrf)
	if v == nil {
		return nil, fmt.Errorf("switch %s: router bgp %d has no \"vrf %s\" context: configure it first "+
			"(the VRF context belongs to the network team; fabric-reconciler never creates it)", sw.Name, want, d.vrf)
	}
	return v, nil
}

// observeSwitch turns one switch's configuration into fabric objects.
func (d *Driver) observeSwitch(sw config.Switch, cfg *runningConfig) ([]fabric.Object, []fabric.Foreign, error) {
	v, err := d.instance(sw, cfg)
	if err != nil {
		return nil, nil, err
	}
	o := &cli.Observation{Ownership: d.own, Switch: sw.Name, Filters: &cfg.Filters, Log: d.log}
	for _, id := range slices.Sorted(maps.Keys(v.Neighbors)) {
		n := v.Neighbors[id]
		if n.Range.IsValid() {
			// A prefix (dynamic) neighbor takes every address in its
			// range: a peer or filter of the cluster there is a conflict
			// (the prefix as the foreign object's id stands for every
			// address in it).
			owner, _ := cli.Parse(n.Description)
			if owner != string(d.own.Mark) {
				o.Foreign = append(o.Foreign,
					fabric.Foreign{Kind: fabric.KindBGPPeer, Switch: sw.Name, ID: n.Range.String(), Owner: owner},
					fabric.Foreign{Kind: fabric.KindPrefixFilter, Switch: sw.Name, ID: n.Range.String(), Owner: owner})
			}
			continue
		}
		if !n.Addr.IsValid() {
			continue
		}
		o.Neighbor(&n.Neighbor, func() (fabric.BGPPeer, string) { return d.observePeer(sw, cfg, n) })
	}
	o.PeerFilters(isDenyAll, func(a netip.Addr, name string) string {
		if n := v.neighborAt(a); n != nil && d.own.Mark.Owns(n.Description) {
			if naf := n.AFs[cli.AFName(fabric.FamilyOf(a))]; naf == nil || naf.RouteMapIn != name {
				return "not applied to the neighbor"
			}
		}
		return ""
	})
	for _, af := range afNames {
		var have *cli.Paths
		if a := v.AFs[cli.AFName(af)]; a != nil {
			have = &a.Paths
		}
		// NX-OS does not show maximum-paths 1, its default.
		o.MaxPaths(af, have, v.MultipathRelax, relaxLine, func() int { return 1 })
	}
	return o.Owned, o.Foreign, nil
}

const localASFlags = "no-prepend replace-as"

// observePeer reads an owned neighbor, and what is wrong with it.
func (d *Driver) observePeer(sw config.Switch, cfg *runningConfig, n *neighbor) (fabric.BGPPeer, string) {
	_, node := cli.Parse(n.Description)
	p := fabric.BGPPeer{Switch: sw.Name, Node: node, PeerAddress: n.Addr.String(), LocalASN: d.fabric.SwitchASN(sw),
		AddressFamily: fabric.FamilyOf(n.Addr)}
	if asn, err := parseASN(n.RemoteAS); err == nil {
		p.RemoteASN = asn
	}
	if n.LocalAS != 0 {
		p.LocalASN = n.LocalAS
	}
	af := cli.AFName(p.AddressFamily)
	var mp *maxPrefix
	if naf := n.AFs[af]; naf != nil {
		mp = naf.MaxPrefix
	}
	// The password's fingerprint is the one the description records
	// (parse.go): NX-OS prints the password encrypted ("password 3 ...").
	// A password whose description records none (set by hand) reads as an
	// unknown fingerprint, which no cluster desires: the plan sets it again.
	p.PeerOptions = n.Options
	p.Password, p.MaxPrefix, p.Shutdown = n.Password.Observed(), observedMaxPrefix(mp), n.Shutdown
	switch {
	case mp != nil && (mp.Threshold != 0 || (mp.Warn && mp.Restart != 0)):
		return p, "maximum-prefix " + mp.line() + " is not what this cluster writes"
	case p.RemoteASN == 0:
		return p, fmt.Sprintf("remote-as %q", n.RemoteAS)
	case (n.LocalAS != 0 || n.LocalASFlags != "") && n.LocalASFlags != localASFlags:
		return p, "local-as without " + localASFlags
	case n.AFs[af] == nil:
		return p, "address-family " + af + " not configured"
	}
	return p, d.own.BindingProblem(d.own.BindingFor(&cfg.Filters, n.Addr), n.AFs[af].RouteMapIn)
}

// anyPrefix is what a filter that permits nothing denies: NX-OS has no
// "any" in prefix-lists.
func anyPrefix(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.MustParsePrefix("0.0.0.0/0")
	}
	return netip.MustParsePrefix("::/0")
}

// denyAll is the entry of a filter that permits nothing.
func denyAll(a netip.Addr) cli.PrefixListEntry {
	return cli.PrefixListEntry{Action: "deny", Prefix: anyPrefix(a), LE: a.BitLen()}
}

// isDenyAll recognises denyAll.
func isDenyAll(a netip.Addr, e cli.PrefixListEntry) bool {
	return e.Action == "deny" && e.Prefix == anyPrefix(a) && e.LE == a.BitLen() && e.GE == 0
}

// observedMaxPrefix is a maximum-prefix line as the model says it.
func observedMaxPrefix(m *maxPrefix) *fabric.MaxPrefix {
	if m == nil {
		return nil
	}
	out := &fabric.MaxPrefix{Limit: m.Limit, Action: fabric.MaxPrefixShutdown}
	switch {
	case m.Warn:
		out.Action = fabric.MaxPrefixWarn
	case m.Restart != 0:
		out.Action, out.RestartMinutes = fabric.MaxPrefixRestart, m.Restart
	}
	return out
}

// wantMaxPrefix is the line a limit needs: "N", "N warning-only" or "N
// restart MINUTES" (without restart, "a disabled session stays down after
// the maximum-prefix limit is exceeded": Cisco's command reference).
func wantMaxPrefix(m *fabric.MaxPrefix) *maxPrefix {
	if m == nil {
		return nil
	}
	out := &maxPrefix{Limit: m.Limit}
	switch m.Action {
	case fabric.MaxPrefixWarn:
		out.Warn = true
	case fabric.MaxPrefixRestart:
		out.Restart = m.RestartMinutes
	}
	return out
}
