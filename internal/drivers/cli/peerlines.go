package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// PeerLine declares a peer option that FRR and NX-OS write alike, as one
// line of a neighbor: "neighbor X <line>" in FRR's BGP context, "<line>" in
// NX-OS's neighbor mode. The planners (Planner.PeerLines), the parsers
// (ReadPeerLine), the observers (Neighbor.Options) and the checks
// (CheckOptions) iterate PeerLines: an option with a line of its own is one
// row here. Options with more to them stay with their callers: the
// password (a secret, recorded in the description), the prefix limit (in
// the address family, with values the driver does not write) and shutdown
// (first and last of a neighbor's lines).
type PeerLine struct {
	Option fabric.PeerOption
	// Line is the option's line, "" when the options do not set it.
	Line func(fabric.PeerOptions) string
	// No is what its short no-form names ("timers": "no timers"), on a
	// platform that takes it; "": the no-form always names the line's
	// values ("no ttl-security hops 1").
	No string
	// Read reads the fields of a line into the options: false when the
	// line is not the option's; an error for a value it cannot read (the
	// values are set as far as they were read, unreadable ones 0).
	Read func(f []string, o *fabric.PeerOptions) (bool, error)
	// Check refuses values the line cannot carry (nil: any the model
	// takes).
	Check func(fabric.PeerOptions) error
}

// PeerLines are the options written as a line of a neighbor, in the order
// a planner writes them.
var PeerLines = []PeerLine{
	// "timers KEEPALIVE HOLD" (FRR: both 0-65535; "no neighbor X timers"
	// goes back to the instance's "timers bgp"). Not "timers connect N" or
	// "timers delayopen N".
	{Option: fabric.OptionTimers, No: "timers",
		Line: func(o fabric.PeerOptions) string {
			if o.Keepalive == 0 && o.Hold == 0 {
				return ""
			}
			return fmt.Sprintf("timers %d %d", o.Keepalive, o.Hold)
		},
		Read: func(f []string, o *fabric.PeerOptions) (bool, error) {
			if len(f) != 3 || f[0] != "timers" || f[1] == "connect" || f[1] == "delayopen" {
				return false, nil
			}
			ka, err1 := strconv.Atoi(f[1])
			hold, err2 := strconv.Atoi(f[2])
			o.Keepalive, o.Hold = ka, hold
			if err1 != nil || err2 != nil {
				return true, fmt.Errorf("timers %q %q", f[1], f[2])
			}
			return true, nil
		},
		// One line sets both; Desire fills in the one the cluster left
		// out (Timers).
		Check: func(o fabric.PeerOptions) error {
			if o.Hold == 0 && o.Keepalive == 0 {
				return nil
			}
			if err := Count("hold time", o.Hold, 3, 65535); err != nil {
				return err
			}
			return Count("keepalive", o.Keepalive, 1, o.Hold-1)
		}},
	// "ttl-security hops N" (1-254; GTSM, RFC 5082); its no-form takes the
	// number on FRR too (bgp_vty.c no_neighbor_ttl_security).
	{Option: fabric.OptionTTLSecurity,
		Line: func(o fabric.PeerOptions) string {
			if o.TTLSecurityHops == 0 {
				return ""
			}
			return fmt.Sprintf("ttl-security hops %d", o.TTLSecurityHops)
		},
		Read: func(f []string, o *fabric.PeerOptions) (bool, error) {
			if len(f) != 3 || f[0] != "ttl-security" || f[1] != "hops" {
				return false, nil
			}
			v, err := strconv.Atoi(f[2])
			o.TTLSecurityHops = v
			if err != nil {
				return true, fmt.Errorf("ttl-security hops %q", f[2])
			}
			return true, nil
		},
		Check: func(o fabric.PeerOptions) error {
			if o.TTLSecurityHops == 0 {
				return nil
			}
			return Count("TTL security hops", o.TTLSecurityHops, 1, 254)
		}},
}

// ManagedOptions are the peer options FRR and NX-OS set per neighbor: the
// password, the prefix limit, shutdown, and every PeerLine.
var ManagedOptions = func() map[fabric.PeerOption]bool {
	m := map[fabric.PeerOption]bool{fabric.OptionPassword: true, fabric.OptionMaxPrefix: true, fabric.OptionShutdown: true}
	for _, l := range PeerLines {
		m[l.Option] = true
	}
	return m
}()

// ReadPeerLine reads a neighbor's line (its fields after the neighbor, as
// NX-OS's neighbor mode holds them) into the options when it is one of
// PeerLines; it reports whether it was.
func ReadPeerLine(f []string, o *fabric.PeerOptions) (bool, error) {
	for _, l := range PeerLines {
		if ok, err := l.Read(f, o); ok {
			return true, err
		}
	}
	return false, nil
}

// checkPeerLines checks the values of every PeerLine.
func checkPeerLines(o fabric.PeerOptions) error {
	for _, l := range PeerLines {
		if l.Check == nil {
			continue
		}
		if err := l.Check(o); err != nil {
			return err
		}
	}
	return nil
}

// PeerLines plans the PeerLines of a neighbor: the no-form of each line
// have holds and want no longer sets, then each line want needs and have
// lacks or holds otherwise; have is updated to what the lines leave. typ
// types one line, without the neighbor ("timers 3 9"), or its no-form (no:
// "timers" or "timers 3 9", which the platform prefixes with its "no").
// The no-forms name what they remove where the platform's do
// (NoFormsInFull). Removals go first: options may exclude each other
// (FRR and NX-OS refuse ebgp-multihop beside ttl-security), and one that
// takes another's place must find it gone.
func (p *Planner) PeerLines(have *fabric.PeerOptions, want fabric.PeerOptions, typ func(no bool, line string)) {
	for _, l := range PeerLines {
		if h := l.Line(*have); h != "" && l.Line(want) == "" {
			if l.No != "" && !p.NoFormsInFull {
				h = l.No
			}
			typ(true, h)
			have.Clear(l.Option)
		}
	}
	for _, l := range PeerLines {
		if w := l.Line(want); w != "" && w != l.Line(*have) {
			typ(false, w)
			have.Clear(l.Option)
			l.Read(strings.Fields(w), have)
		}
	}
}
