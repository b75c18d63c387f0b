package frr

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/transport"
	"github.com/scrapli/scrapligo/util"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
)

// session is the persistent SSH session to one switch's vtysh. It opens on
// first use and is reopened after any transport failure.
type session struct {
	name string
	host string
	port int
	ssh  config.SSH
	log  *slog.Logger

	mu      sync.Mutex
	d       *network.Driver
	ecmpMax int // cached "ECMP Maximum" of the switch (0: not read yet)
	opened  int // how many times the session was opened (for tests)
}

// LineError is a configuration line the switch refused.
type LineError struct {
	Switch string
	Line   string
	Reply  string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("switch %s refused %q: %s", e.Switch, strings.TrimSpace(e.Line), e.Reply)
}

func (s *session) timeout() time.Duration {
	if s.ssh.Timeout.Duration > 0 {
		return s.ssh.Timeout.Duration
	}
	return 10 * time.Second
}

// open connects and logs in. Secrets are read here, at each connection, and
// never logged or put into errors.
func (s *session) open() error {
	opts := []util.Option{
		options.WithTransportType(transport.StandardTransport),
		options.WithPort(s.port),
		options.WithAuthUsername(s.ssh.Username),
		options.WithTimeoutSocket(s.timeout()),
		options.WithTimeoutOps(s.timeout()),
		// A wide terminal: readline would redraw the echo of long lines.
		options.WithTermWidth(511),
	}
	if s.ssh.PasswordFile != "" {
		pw, err := config.ReadSecretFile(s.ssh.PasswordFile)
		if err != nil {
			return fmt.Errorf("ssh password: %w", err)
		}
		opts = append(opts, options.WithAuthPassword(pw))
	}
	if s.ssh.PrivateKeyFile != "" {
		if _, err := os.Stat(s.ssh.PrivateKeyFile); err != nil {
			return fmt.Errorf("ssh private key: %w", err)
		}
		opts = append(opts, options.WithAuthPrivateKey(s.ssh.PrivateKeyFile, ""))
	}
	if s.ssh.InsecureIgnoreHostKey {
		s.log.Warn("the switch's host key is not checked (ssh.insecureIgnoreHostKey is for labs only)")
		opts = append(opts, options.WithAuthNoStrictKey())
	} else {
		if _, err := os.Stat(s.ssh.KnownHostsFile); err != nil {
			return fmt.Errorf("known_hosts file: %w", err)
		}
		opts = append(opts, options.WithSSHKnownHostsFile(s.ssh.KnownHostsFile))
	}
	p, err := platform.NewPlatform(platformYAML, s.host, opts...)
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	start := time.Now()
	if err := d.Open(); err != nil {
		return fmt.Errorf("connect to %s:%d: %w", s.host, s.port, err)
	}
	s.d = d
	s.opened++
	s.log.Debug("session open", "address", fmt.Sprintf("%s:%d", s.host, s.port), "took", time.Since(start))
	return nil
}

// drop forgets a session after a transport failure; the next use reopens.
func (s *session) drop() {
	if s.d != nil {
		_ = s.d.Channel.Close()
		s.d = nil
	}
}

func (s *session) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return nil
	}
	err := s.d.Close()
	s.d = nil
	return err
}

// ensure opens the session if needed; fresh tells whether it just did.
func (s *session) ensure() (fresh bool, err error) {
	if s.d != nil {
		return false, nil
	}
	return true, s.open()
}

// command runs one exec-mode command and returns its output. A command that
// fails on an established session is retried once on a new one: reads are
// idempotent, and a switch that restarted its sshd is back in one step.
func (s *session) command(ctx context.Context, cmd string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		fresh, err := s.ensure()
		if err != nil {
			return "", fmt.Errorf("switch %s: %w", s.name, err)
		}
		r, err := s.d.SendCommand(cmd)
		if err == nil {
			if r.Failed != nil {
				return "", fmt.Errorf("switch %s: %q: %s", s.name, cmd, firstLine(r.Result))
			}
			return r.Result, nil
		}
		s.log.Info("session failed; reconnecting", "error", err)
		s.drop()
		if fresh {
			return "", fmt.Errorf("switch %s: %q: %w", s.name, cmd, err)
		}
	}
}

// configure enters configuration mode, sends the lines one by one and stops
// at the first line the switch refuses (a '%' reply, or any output at all:
// FRR prints nothing for a line it accepts). It returns how many lines were
// accepted.
func (s *session) configure(ctx context.Context, lines []cli.Line, indent string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(lines) == 0 {
		return 0, nil
	}
	fresh, err := s.ensure()
	if err != nil {
		return 0, fmt.Errorf("switch %s: %w", s.name, err)
	}
	if err := s.d.AcquirePriv("configuration"); err != nil {
		s.drop()
		if fresh {
			return 0, fmt.Errorf("switch %s: entering configuration mode: %w", s.name, err)
		}
		// The session died since its last use: nothing was sent, so retry once.
		if _, err := s.ensure(); err != nil {
			return 0, fmt.Errorf("switch %s: %w", s.name, err)
		}
		if err := s.d.AcquirePriv("configuration"); err != nil {
			s.drop()
			return 0, fmt.Errorf("switch %s: entering configuration mode: %w", s.name, err)
		}
	}
	for i, l := range lines {
		if err := ctx.Err(); err != nil {
			s.leaveConfig()
			return i, fmt.Errorf("switch %s: stopped before line %d: %w", s.name, i+1, err)
		}
		text := strings.Repeat(indent, l.Depth) + l.Text
		r, err := s.d.Driver.SendCommand(text)
		if err != nil {
			s.drop()
			return i, fmt.Errorf("switch %s: sending %q: %w", s.name, l.Text, err)
		}
		if reply := strings.TrimSpace(r.Result); r.Failed != nil || reply != "" {
			s.leaveConfig()
			return i, &LineError{Switch: s.name, Line: l.Text, Reply: oneLine(reply)}
		}
	}
	s.leaveConfig()
	return len(lines), nil
}

// leaveConfig returns to exec mode ("end").
func (s *session) leaveConfig() {
	if s.d == nil {
		return
	}
	if err := s.d.AcquirePriv("exec"); err != nil {
		s.log.Info("could not leave configuration mode; dropping the session", "error", err)
		s.drop()
	}
}

// ecmp returns the switch's default maximum-paths (zebra's ECMP limit),
// read once per session.
func (s *session) ecmp(ctx context.Context) int {
	s.mu.Lock()
	v := s.ecmpMax
	s.mu.Unlock()
	if v > 0 {
		return v
	}
	out, err := s.command(ctx, "show zebra")
	if err != nil {
		return 0
	}
	v = parseECMPMax(out)
	s.mu.Lock()
	s.ecmpMax = v
	s.mu.Unlock()
	return v
}

func (s *session) cachedECMP() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ecmpMax
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
