package fabric

import (
	"errors"
	"fmt"
)

// PeerOptions are how a session runs, beyond who peers with whom. Zero
// values mean "not managed": the platform's default, or what the switch
// holds.
//
// Each option is declared once, in peerOptionSpecs: adding one is adding
// its field here and its row there; Keep, validation and listen groups
// follow the table, and plans render the field from its JSON attribute. An
// option a fabric sets for all its sessions also has its field in
// SessionDefaults.
type PeerOptions struct {
	// Password is the session's TCP MD5 password: plans show only its
	// fingerprint.
	Password *Secret `json:"password,omitempty"`
	// MaxPrefix limits how many prefixes the node may send.
	MaxPrefix *MaxPrefix `json:"maxPrefix,omitempty"`
	// Keepalive and Hold are the session's timers, in seconds.
	Keepalive int `json:"keepalive,omitempty"`
	Hold      int `json:"hold,omitempty"`
	// GracefulRestart is the restart time, in seconds, the switch grants
	// the node (graceful restart helper).
	GracefulRestart int `json:"gracefulRestart,omitempty"`
	// TTLSecurityHops accepts the node's packets only from at most that
	// many hops away (GTSM, RFC 5082).
	TTLSecurityHops int `json:"ttlSecurityHops,omitempty"`
	// Shutdown holds the session administratively down (maintenance).
	Shutdown bool `json:"shutdown,omitempty"`
}

// SessionDefaults are the peer options a fabric sets for every session
// with its nodes: the configuration's bgp section holds them, key for key
// (config.SessionSettings embeds them), and the translation gives them to
// each session. Each field is its PeerOptions field, with the same name
// and JSON key; Options copies it, and peerOptionSpecs checks it. Zero
// values are not set.
type SessionDefaults struct {
	// Keepalive and Hold are the session timers in seconds (0: the
	// platform's default, typically 60 and 180).
	Keepalive int `json:"keepalive,omitempty"`
	Hold      int `json:"hold,omitempty"`
}

// Options are the defaults as a session's options.
func (d SessionDefaults) Options() PeerOptions {
	return PeerOptions{Keepalive: d.Keepalive, Hold: d.Hold}
}

// Check checks the defaults against what every platform takes, with the
// options' own checks (peerOptionSpecs): every problem, each an
// *OptionError naming its key.
func (d SessionDefaults) Check() []error { return d.Options().problems() }

// PeerOption names one of the PeerOptions, for the drivers to say which
// they manage.
type PeerOption string

const (
	OptionPassword        PeerOption = "password"
	OptionMaxPrefix       PeerOption = "maxPrefix"
	OptionTimers          PeerOption = "timers"
	OptionGracefulRestart PeerOption = "gracefulRestart"
	OptionTTLSecurity     PeerOption = "ttlSecurity"
	OptionShutdown        PeerOption = "shutdown"
)

// PeerOptionSpec declares one peer option, in one place: whether a
// session sets it, how it is cleared, what every platform takes of it, and
// whether sessions that share one setting (a BGPListen) set it alike.
type PeerOptionSpec struct {
	Option PeerOption
	// IsSet reports whether the options set it; Clear unsets it.
	IsSet func(PeerOptions) bool
	Clear func(*PeerOptions)
	// Check refuses a value no platform takes (nil: any value): an
	// *OptionError per bad field (several joined by errors.Join), so that
	// the field can be named by its key (SessionDefaults.Check).
	Check func(PeerOptions) error
	// Alike reports whether two sessions set it alike enough to share one
	// setting: equal, or, for the prefix limit, equal but for the limit
	// (the group takes the largest). nil: sessions never share it.
	Alike func(a, b PeerOptions) bool
	// Unlike says how a session's setting is not another's, for people;
	// %s is the other session's node.
	Unlike string
}

// peerOptionSpecs lists every peer option, in the order they are checked
// and reported.
var peerOptionSpecs = []PeerOptionSpec{
	{Option: OptionPassword,
		IsSet: func(o PeerOptions) bool { return o.Password != nil },
		Clear: func(o *PeerOptions) { o.Password = nil },
		// The group's password is the value: each session's fingerprint
		// is salted with its own address.
		Alike: func(a, b PeerOptions) bool {
			return (a.Password == nil) == (b.Password == nil) && (a.Password == nil || a.Password.Value() == b.Password.Value())
		},
		Unlike: "its password is not %s's (the group has one)"},
	{Option: OptionMaxPrefix,
		IsSet: func(o PeerOptions) bool { return o.MaxPrefix != nil },
		Clear: func(o *PeerOptions) { o.MaxPrefix = nil },
		Check: func(o PeerOptions) error { return o.MaxPrefix.check() },
		Alike: func(a, b PeerOptions) bool {
			return (a.MaxPrefix == nil) == (b.MaxPrefix == nil) && (a.MaxPrefix == nil ||
				(a.MaxPrefix.Action == b.MaxPrefix.Action && a.MaxPrefix.RestartMinutes == b.MaxPrefix.RestartMinutes))
		},
		Unlike: "its prefix limit's action is not %s's"},
	{Option: OptionTimers,
		IsSet: func(o PeerOptions) bool { return o.Keepalive != 0 || o.Hold != 0 },
		Clear: func(o *PeerOptions) { o.Keepalive, o.Hold = 0, 0 },
		Check: func(o PeerOptions) error {
			var errs []error
			if o.Hold != 0 && (o.Hold < 3 || o.Hold > 65535) {
				errs = append(errs, &OptionError{Name: "hold time", Key: "hold", Value: o.Hold, Rule: "must be 0 or 3-65535 seconds"})
			}
			if o.Keepalive < 0 || o.Keepalive > 65535 || (o.Hold != 0 && o.Keepalive >= o.Hold) {
				errs = append(errs, &OptionError{Name: "keepalive", Key: "keepalive", Value: o.Keepalive,
					Rule: "must be 0-65535 seconds and less than the hold time"})
			}
			return errors.Join(errs...)
		},
		Alike:  func(a, b PeerOptions) bool { return a.Keepalive == b.Keepalive && a.Hold == b.Hold },
		Unlike: "its timers are not %s's"},
	{Option: OptionGracefulRestart,
		IsSet: func(o PeerOptions) bool { return o.GracefulRestart != 0 },
		Clear: func(o *PeerOptions) { o.GracefulRestart = 0 },
		Check: func(o PeerOptions) error {
			if o.GracefulRestart < 0 || o.GracefulRestart > 4095 {
				return &OptionError{Name: "graceful restart time", Key: "gracefulRestart", Value: o.GracefulRestart, Rule: "must be 0-4095 seconds"}
			}
			return nil
		},
		Alike:  func(a, b PeerOptions) bool { return a.GracefulRestart == b.GracefulRestart },
		Unlike: "its graceful restart time is not %s's"},
	{Option: OptionTTLSecurity,
		IsSet: func(o PeerOptions) bool { return o.TTLSecurityHops != 0 },
		Clear: func(o *PeerOptions) { o.TTLSecurityHops = 0 },
		Check: func(o PeerOptions) error {
			if o.TTLSecurityHops < 0 || o.TTLSecurityHops > 254 {
				return &OptionError{Name: "TTL security hops", Key: "ttlSecurityHops", Value: o.TTLSecurityHops, Rule: "must be 0-254"}
			}
			return nil
		},
		Alike:  func(a, b PeerOptions) bool { return a.TTLSecurityHops == b.TTLSecurityHops },
		Unlike: "its TTL security is not %s's"},
	// A group cannot hold one session down: a dynamic neighbor connects
	// again (drivers say what they do instead).
	{Option: OptionShutdown,
		IsSet: func(o PeerOptions) bool { return o.Shutdown },
		Clear: func(o *PeerOptions) { o.Shutdown = false }},
}

// PeerOptionSpecs returns the declarations of the peer options, in order.
func PeerOptionSpecs() []PeerOptionSpec { return peerOptionSpecs }

// Keep returns the options with those a platform does not manage cleared,
// and which of the set ones were cleared.
func (o PeerOptions) Keep(managed map[PeerOption]bool) (PeerOptions, []PeerOption) {
	var dropped []PeerOption
	for _, s := range peerOptionSpecs {
		if s.IsSet(o) && !managed[s.Option] {
			dropped = append(dropped, s.Option)
			s.Clear(&o)
		}
	}
	return o, dropped
}

// Clear unsets one option.
func (o *PeerOptions) Clear(opt PeerOption) {
	for _, s := range peerOptionSpecs {
		if s.Option == opt {
			s.Clear(o)
		}
	}
}

// Unlike says how a session's options differ from those of the session of
// node first in what sessions sharing one setting must set alike ("" when
// they do not).
func (o PeerOptions) Unlike(first PeerOptions, node string) string {
	for _, s := range peerOptionSpecs {
		if s.Alike != nil && !s.Alike(first, o) {
			return fmt.Sprintf(s.Unlike, node)
		}
	}
	return ""
}

// validate checks the options against what every platform takes, and
// refuses the first problem.
func (o PeerOptions) validate(addr string) error {
	if errs := o.problems(); len(errs) > 0 {
		return fmt.Errorf("BGPPeer %s: %w", addr, errs[0])
	}
	return nil
}

// problems lists what no platform takes in the options, in the table's
// order, a joined error of a Check as its parts.
func (o PeerOptions) problems() []error {
	var out []error
	for _, s := range peerOptionSpecs {
		if s.Check == nil {
			continue
		}
		switch err := s.Check(o).(type) {
		case nil:
		case interface{ Unwrap() []error }:
			out = append(out, err.Unwrap()...)
		default:
			out = append(out, err)
		}
	}
	return out
}

// An OptionError is an option's value that no platform takes.
type OptionError struct {
	// Name names the option for people ("hold time"); Key is its JSON key
	// in PeerOptions and SessionDefaults ("hold").
	Name, Key string
	Value     any
	// Rule is what the value must be ("must be 0 or 3-65535 seconds").
	Rule string
}

func (e *OptionError) Error() string { return e.Name + " " + e.Rule }

// What a switch does when a node sends more prefixes than MaxPrefix.Limit.
const (
	// MaxPrefixShutdown: the session goes down until cleared by hand.
	MaxPrefixShutdown = "shutdown"
	// MaxPrefixRestart: down, then up again after RestartMinutes.
	MaxPrefixRestart = "restart"
	// MaxPrefixWarn: a log message only.
	MaxPrefixWarn = "warning-only"
)

// MaxPrefix is a session's prefix limit.
type MaxPrefix struct {
	Limit          uint32 `json:"limit"`
	Action         string `json:"action"`
	RestartMinutes int    `json:"restartMinutes,omitempty"`
}

func (m *MaxPrefix) String() string {
	switch m.Action {
	case MaxPrefixRestart:
		return fmt.Sprintf("%d (restart after %d min)", m.Limit, m.RestartMinutes)
	case MaxPrefixWarn:
		return fmt.Sprintf("%d (warning only)", m.Limit)
	}
	return fmt.Sprintf("%d (shut down)", m.Limit)
}

// check checks a limit (nil: none) against what every platform takes.
func (m *MaxPrefix) check() error {
	if m == nil {
		return nil
	}
	if m.Limit < 1 {
		return fmt.Errorf("maximum-prefix must be at least 1")
	}
	switch m.Action {
	case MaxPrefixShutdown, MaxPrefixWarn:
	case MaxPrefixRestart:
		if m.RestartMinutes < 1 || m.RestartMinutes > 65535 {
			return fmt.Errorf("maximum-prefix restart must be 1-65535 minutes")
		}
	default:
		return fmt.Errorf("maximum-prefix action %q is not shutdown, restart or warning-only", m.Action)
	}
	return nil
}
