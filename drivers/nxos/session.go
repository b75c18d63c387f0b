package nxos

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/transport"
	"github.com/scrapli/scrapligo/util"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
)

// sessionPriv is the privilege level the driver adds for "configure session":
// the cisco_nxos platform's configuration level excludes (config-s...)#
// prompts on purpose.
const sessionPriv = "configuration-session"

// extraFailures are NX-OS error replies missing from the platform's
// failed-when-contains list. The driver also treats any other output of a
// configuration line as a refusal: NX-OS prints nothing for a line it takes.
var extraFailures = []string{"% Invalid parameter detected", "% Invalid ip address", "Invalid range"}

// session is the persistent SSH session to one switch. It opens on first use
// and is reopened after a transport failure. Its lock is held for a whole
// observation or apply, so that the commands of one never interleave with
// another's.
type session struct {
	name    string
	host    string
	port    int
	ssh     config.SSH
	cfgName string // configuration session name (session mode)
	log     *slog.Logger

	mu     sync.Mutex
	d      *network.Driver
	opened int // how many times the session was opened (for tests)
}

// connError is a failure of the SSH connection itself: what was sent may or
// may not have reached the switch.
type connError struct{ err error }

func (e *connError) Error() string { return "connection lost: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// LineError is a configuration line the switch refused.
type LineError struct {
	Switch string
	Line   string
	Reply  string
	// Where is "configure terminal" or "configuration session NAME".
	Where string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("switch %s refused %q in %s: %s", e.Switch, strings.TrimSpace(e.Line), e.Where, e.Reply)
}

// StepError is a session step (verify, commit) that did not succeed.
type StepError struct {
	Switch string
	Step   string
	Reply  string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("switch %s: %s failed: %s", e.Switch, e.Step, e.Reply)
}

func (s *session) timeout() time.Duration {
	if s.ssh.Timeout.Duration > 0 {
		return s.ssh.Timeout.Duration
	}
	return 10 * time.Second
}

// slowTimeout bounds checkpoint and rollback, which take seconds to minutes
// on a real switch (the whole configuration is saved or replayed).
func (s *session) slowTimeout() time.Duration { return max(6*s.timeout(), 2*time.Minute) }

// open connects and logs in. Secrets are read here, at each connection, and
// never logged or put into errors.
func (s *session) open() error {
	opts := []util.Option{
		options.WithTransportType(transport.StandardTransport),
		options.WithPort(s.port),
		options.WithAuthUsername(s.ssh.Username),
		options.WithTimeoutSocket(s.timeout()),
		options.WithTimeoutOps(s.timeout()),
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
	p, err := platform.NewPlatform("cisco_nxos", s.host, opts...)
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	// Added to this driver instance only; the platform stays as shipped.
	d.Driver.FailedWhenContains = append(append([]string(nil), d.Driver.FailedWhenContains...), extraFailures...)
	d.PrivilegeLevels[sessionPriv] = &network.PrivilegeLevel{
		Name:         sessionPriv,
		Pattern:      `(?im)^[\w.\-]{1,63}\(config\-s[\w.\-@/:\+]{0,32}\)#\s?$`,
		PreviousPriv: "privilege-exec",
		Deescalate:   "end",
		Escalate:     "configure session " + s.cfgName,
	}
	d.UpdatePrivileges()
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
	if err := s.open(); err != nil {
		return true, fmt.Errorf("switch %s: %w", s.name, err)
	}
	return true, nil
}

// read runs an exec-mode command that changes nothing and returns its
// output. On an established session that fails it is retried once on a new
// one: reads are idempotent, and a switch that restarted its sshd is back in
// one step. The caller holds s.mu.
func (s *session) read(ctx context.Context, cmd string) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		fresh, err := s.ensure()
		if err != nil {
			return "", err
		}
		r, err := s.d.SendCommand(cmd)
		if err == nil {
			if r.Failed != nil {
				return r.Result, fmt.Errorf("switch %s: %q: %s", s.name, cmd, reply(r.Result))
			}
			return r.Result, nil
		}
		s.log.Info("session failed; reconnecting", "error", err)
		s.drop()
		if fresh {
			return "", fmt.Errorf("switch %s: %q: %w", s.name, cmd, &connError{err})
		}
	}
}

// query runs an exec-mode command that changes nothing and may be refused
// (asking for something that may not exist); it returns whether the platform
// flagged the reply as failed. Retried like read. The caller holds s.mu.
func (s *session) query(ctx context.Context, cmd string) (string, bool, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", false, err
		}
		fresh, err := s.ensure()
		if err != nil {
			return "", false, err
		}
		r, err := s.d.SendCommand(cmd)
		if err == nil {
			return r.Result, r.Failed != nil, nil
		}
		s.log.Info("session failed; reconnecting", "error", err)
		s.drop()
		if fresh {
			return "", false, fmt.Errorf("switch %s: %q: %w", s.name, cmd, &connError{err})
		}
	}
}

// exec runs an exec-mode command that changes the switch (checkpoint,
// rollback): never retried. It returns the output and whether the platform
// flagged it as failed. The caller holds s.mu.
func (s *session) exec(ctx context.Context, cmd string, timeout time.Duration) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if _, err := s.ensure(); err != nil {
		return "", false, err
	}
	r, err := s.d.SendCommand(cmd, opoptions.WithTimeoutOps(timeout))
	if err != nil {
		s.drop()
		return "", false, fmt.Errorf("switch %s: %q: %w", s.name, cmd, &connError{err})
	}
	return r.Result, r.Failed != nil, nil
}

// configure sends lines in configure terminal, one by one, and stops at the
// first one the switch refuses (an error reply, or any output at all). It
// returns how many lines were accepted, and leaves configuration mode. The
// caller holds s.mu.
func (s *session) configure(ctx context.Context, lines []cli.Line) (int, error) {
	if _, err := s.ensure(); err != nil {
		return 0, err
	}
	if err := s.d.AcquirePriv("configuration"); err != nil {
		s.drop()
		return 0, fmt.Errorf("switch %s: entering configuration mode: %w", s.name, &connError{err})
	}
	for i, l := range lines {
		if err := ctx.Err(); err != nil {
			s.leave()
			return i, fmt.Errorf("switch %s: stopped before line %d: %w", s.name, i+1, err)
		}
		if err := s.send(l, "configure terminal"); err != nil {
			if _, ok := err.(*LineError); ok {
				s.leave()
			}
			return i, err
		}
	}
	s.leave()
	return len(lines), nil
}

// send types one configuration line and checks the reply.
func (s *session) send(l cli.Line, where string) error {
	text := strings.Repeat(indent, l.Depth) + l.Text
	r, err := s.d.Driver.SendCommand(text)
	if err != nil {
		s.drop()
		return fmt.Errorf("switch %s: sending %q: %w", s.name, l.Text, &connError{err})
	}
	if rep := reply(r.Result); r.Failed != nil || rep != "" {
		return &LineError{Switch: s.name, Line: l.Text, Reply: rep, Where: where}
	}
	return nil
}

// leave returns to exec mode ("end"); a session that cannot is dropped.
func (s *session) leave() {
	if s.d == nil {
		return
	}
	if err := s.d.AcquirePriv("privilege-exec"); err != nil {
		s.log.Info("could not leave configuration mode; dropping the session", "error", err)
		s.drop()
	}
}

// configureSession sends lines in the configuration session, then verify
// and commit. On a refused line or a failed step it aborts the session; the
// running configuration is then unchanged. It returns how many lines were
// queued. The caller holds s.mu.
func (s *session) configureSession(ctx context.Context, lines []cli.Line) (int, error) {
	if _, err := s.ensure(); err != nil {
		return 0, err
	}
	where := "configuration session " + s.cfgName
	if err := s.d.AcquirePriv(sessionPriv); err != nil {
		s.drop()
		return 0, fmt.Errorf("switch %s: entering %s: %w", s.name, where, &connError{err})
	}
	for i, l := range lines {
		if err := ctx.Err(); err != nil {
			return i, s.abortWith(fmt.Errorf("switch %s: stopped before line %d: %w", s.name, i+1, err))
		}
		if err := s.send(l, where); err != nil {
			if _, ok := err.(*LineError); ok {
				return i, s.abortWith(err)
			}
			return i, err
		}
	}
	for _, step := range []struct{ cmd, ok string }{{"verify", "Verification Successful"}, {"commit", "Commit Successful"}} {
		if err := ctx.Err(); err != nil && step.cmd == "verify" {
			return len(lines), s.abortWith(err)
		}
		r, err := s.d.Driver.SendCommand(step.cmd, opoptions.WithTimeoutOps(s.slowTimeout()))
		if err != nil {
			s.drop()
			return len(lines), fmt.Errorf("switch %s: %s: %w", s.name, step.cmd, &connError{err})
		}
		if r.Failed != nil || !strings.Contains(r.Result, step.ok) {
			return len(lines), s.abortWith(&StepError{Switch: s.name, Step: step.cmd, Reply: reply(r.Result)})
		}
	}
	// commit left configuration mode; scrapligo finds out from the prompt.
	return len(lines), nil
}

// abortWith aborts the configuration session the driver is in and returns
// cause, with the abort's own failure if it had one.
func (s *session) abortWith(cause error) error {
	if s.d == nil {
		return cause
	}
	r, err := s.d.Driver.SendCommand("abort")
	switch {
	case err != nil:
		s.drop()
		return fmt.Errorf("%w; abort: %w (the session %s stays on the switch and is aborted on the next apply)", cause, &connError{err}, s.cfgName)
	case r.Failed != nil:
		s.leave()
		return fmt.Errorf("%w; abort failed: %s", cause, reply(r.Result))
	}
	return cause
}

// reply is a switch's answer in one line, without the caret line NX-OS
// prints above an error.
func reply(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && t != "^" {
			keep = append(keep, t)
		}
	}
	return strings.Join(strings.Fields(strings.Join(keep, " ")), " ")
}
