package clissh

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// Pool keeps one session per switch of a fabric for the life of the
// driver. S is the driver's session type (usually a struct embedding
// *Session).
type Pool[S interface{ Close() error }] struct {
	newSession func(sw config.Switch, c Config) S
	base       Config

	mu       sync.Mutex
	sessions map[string]S
}

// NewPool returns an empty pool. base is the Config every session starts
// from (platform, SSH, hooks); the pool fills in the switch's name, host,
// port and logger. newSession wraps the Session the driver builds with
// New(c).
func NewPool[S interface{ Close() error }](base Config, newSession func(sw config.Switch, c Config) S) *Pool[S] {
	return &Pool[S]{base: base, newSession: newSession, sessions: map[string]S{}}
}

// Get returns the switch's session, creating it unopened. The switch's
// address must have passed CheckSwitches.
func (p *Pool[S]) Get(sw config.Switch) S {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[sw.Name]
	if !ok {
		c := p.base
		c.Switch = sw.Name
		c.Host, c.Port, _ = SplitHostPort(AddressOf(sw))
		if c.Log != nil {
			c.Log = c.Log.With("switch", sw.Name)
		}
		s = p.newSession(sw, c)
		p.sessions[sw.Name] = s
	}
	return s
}

// Close closes every session and forgets them; it returns the first error.
func (p *Pool[S]) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for _, s := range p.sessions {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.sessions = map[string]S{}
	return first
}

// SplitHostPort reads a switch address, "host:port".
func SplitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q is not host:port", addr)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port", addr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("address %q: no host", addr)
	}
	return host, port, nil
}

// CheckSwitches checks what a driver needs of each switch before it may
// connect: an address host:port and an AS number the grammar accepts.
func CheckSwitches(f config.Fabric) error {
	for _, s := range f.Switches {
		if _, _, err := SplitHostPort(AddressOf(s)); err != nil {
			return fmt.Errorf("switch %s: %w", s.Name, err)
		}
		if err := cli.ASN("switch AS", f.SwitchASN(s)); err != nil {
			return fmt.Errorf("switch %s: %w", s.Name, err)
		}
	}
	return nil
}

// Metrics tells the driver's request observer about requests to switches.
type Metrics struct {
	Fabric   string
	Driver   string
	Observer drivers.RequestObserver // nil: nothing is counted
}

// Request counts one request (a command, a configure), how long it took
// and its outcome.
func (m Metrics) Request(op string, took time.Duration, err error) {
	if m.Observer != nil {
		m.Observer.ObserveRequest(m.Fabric, m.Driver, op, took, err)
	}
}
