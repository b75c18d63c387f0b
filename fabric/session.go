package fabric

import "fmt"

// KindSessionPolicy is how a platform runs every BGP session of a place at
// once, where it cannot set it per peer.
const KindSessionPolicy Kind = "SessionPolicy"

// SessionPolicyID is the id of the one session policy of a fabric (or of a
// switch).
const SessionPolicyID = "bgp"

// SessionPolicy is what some platforms set once for every session of a
// fabric (or switch), not per peer: the timers, the stale-path time of
// graceful restart helper mode, and AS-path multipath relax. A driver
// produces it only where its platform has no per-peer form; the values are
// those every session of the cluster agrees on (PeerOptions carries them
// per session). Zero values are not managed.
type SessionPolicy struct {
	Switch string `json:"-"`
	// Keepalive and Hold are the session timers, in seconds.
	Keepalive int `json:"keepalive,omitempty"`
	Hold      int `json:"hold,omitempty"`
	// GracefulRestart is how long, in seconds, the switch keeps a
	// restarting node's routes (graceful restart helper).
	GracefulRestart int `json:"gracefulRestart,omitempty"`
	// MultipathRelax makes paths of different AS paths (nodes in different
	// AS numbers) equal for multipath.
	MultipathRelax bool `json:"multipathRelax,omitempty"`
}

func (p SessionPolicy) Kind() Kind         { return KindSessionPolicy }
func (p SessionPolicy) ID() string         { return SessionPolicyID }
func (p SessionPolicy) SwitchName() string { return p.Switch }
func (p SessionPolicy) withSwitch(sw string) Object {
	p.Switch = sw
	return p
}
func (p SessionPolicy) canonical() Object { return p }

// Empty reports whether the policy manages nothing.
func (p SessionPolicy) Empty() bool { return p == SessionPolicy{Switch: p.Switch} }

func (p SessionPolicy) Validate() error {
	if p.Empty() {
		return fmt.Errorf("SessionPolicy: manages nothing")
	}
	o := PeerOptions{Keepalive: p.Keepalive, Hold: p.Hold, GracefulRestart: p.GracefulRestart}
	return o.validate("(every session)")
}
