package fabric

import (
	"net/netip"
	"sort"
	"time"
)

// Operational is what a fabric's switches report about their BGP sessions
// and the routes they learned: the state `verify` compares with what the
// cluster implies. Drivers read it (drivers.Verifier); nothing of it is
// configuration.
type Operational struct {
	Switches []SwitchOperational `json:"switches"`
}

// SwitchOperational is one switch's sessions and BGP routes, or why it
// could not be read.
type SwitchOperational struct {
	Switch string `json:"switch"`
	// Error says why the switch could not be read (then nothing else is
	// known of it).
	Error    string         `json:"error,omitempty"`
	Sessions []SessionState `json:"sessions"`
	// Routes are the BGP routes the switch installed, each with the next
	// hops it forwards to (equal-cost paths).
	Routes []Route `json:"routes"`
}

// SessionState is one BGP neighbor as the switch reports it.
type SessionState struct {
	PeerAddress netip.Addr `json:"peerAddress"`
	RemoteASN   uint32     `json:"remoteASN,omitempty"`
	// State is the BGP state as the platform names it (Established,
	// Active, Idle, Connect, OpenSent, ...); Established tells whether it is
	// up, whatever the spelling.
	State       string `json:"state"`
	Established bool   `json:"established"`
	// AdminDown is true when the session is shut down on purpose.
	AdminDown bool `json:"adminDown,omitempty"`
	// Uptime is how long it has been Established (0 when it is not).
	Uptime time.Duration `json:"uptime,omitempty"`
	// PrefixesReceived counts the prefixes the switch accepted from the
	// neighbor (after its inbound policy), all families together.
	PrefixesReceived int `json:"prefixesReceived"`
	// HoldTime is the negotiated hold time (0: unknown).
	HoldTime time.Duration `json:"holdTime,omitempty"`
	// LastReset says why the session last went down, when the platform
	// says so.
	LastReset string `json:"lastReset,omitempty"`
}

// Route is a route the switch installed.
type Route struct {
	Prefix netip.Prefix `json:"prefix"`
	// NextHops are the addresses it forwards to, sorted.
	NextHops []netip.Addr `json:"nextHops"`
}

// Session returns the state of the neighbor at an address.
func (s SwitchOperational) Session(addr netip.Addr) (SessionState, bool) {
	for _, st := range s.Sessions {
		if st.PeerAddress == addr {
			return st, true
		}
	}
	return SessionState{}, false
}

// Lookup returns the route the switch forwards an address with: the
// longest prefix that contains it.
func (s SwitchOperational) Lookup(addr netip.Addr) (Route, bool) {
	var best Route
	found := false
	for _, r := range s.Routes {
		if r.Prefix.Contains(addr) && (!found || r.Prefix.Bits() > best.Prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

// Route returns the route for exactly a prefix.
func (s SwitchOperational) Route(p netip.Prefix) (Route, bool) {
	for _, r := range s.Routes {
		if r.Prefix == p {
			return r, true
		}
	}
	return Route{}, false
}

// Sort puts sessions, routes and next hops in a stable order.
func (o *Operational) Sort() {
	sort.Slice(o.Switches, func(i, j int) bool { return o.Switches[i].Switch < o.Switches[j].Switch })
	for i := range o.Switches {
		sw := &o.Switches[i]
		sort.Slice(sw.Sessions, func(a, b int) bool { return sw.Sessions[a].PeerAddress.Less(sw.Sessions[b].PeerAddress) })
		sort.Slice(sw.Routes, func(a, b int) bool {
			if c := sw.Routes[a].Prefix.Addr().Compare(sw.Routes[b].Prefix.Addr()); c != 0 {
				return c < 0
			}
			return sw.Routes[a].Prefix.Bits() < sw.Routes[b].Prefix.Bits()
		})
		for k := range sw.Routes {
			nh := sw.Routes[k].NextHops
			sort.Slice(nh, func(a, b int) bool { return nh[a].Less(nh[b]) })
		}
	}
}
