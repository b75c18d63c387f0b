package clissh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/transport"
	"github.com/scrapli/scrapligo/util"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// Config is what a Session needs to reach one switch and talk to it.
type Config struct {
	// Switch is the switch's name, in errors and logs.
	Switch string
	Host   string
	Port   int
	SSH    SSH
	// Platform is the scrapligo platform: a built-in name ("cisco_nxos")
	// or a definition (the bytes of a platform YAML file).
	Platform any
	// Options are more scrapligo options, after the ones built from SSH.
	Options []util.Option
	// Prepare adjusts this session's scrapligo driver before it opens
	// (privilege levels, failure strings), never the platform itself.
	Prepare func(*network.Driver)
	// ExecLevel is the privilege level Leave returns to ("exec",
	// "privilege-exec").
	ExecLevel string
	// Indent is typed once per mode level before a configuration line.
	Indent string
	// Reply renders a reply for an error: one bounded, escaped line of it
	// (default: cli.Excerpt without markers). Whether a configuration line
	// was accepted does not depend on it (see SendLines).
	Reply func(string) string
	// Benign are the warnings the switch prints after a configuration line
	// it took (see Benign). Empty: any output is a refusal.
	Benign []Benign
	// LabelConnLoss puts "connection lost: " before transport failures in
	// error texts. Either way they are *ConnError.
	LabelConnLoss bool
	Log           *slog.Logger
}

// Session is the persistent SSH session to one switch. It opens on first
// use and is reopened after a transport failure. Its lock is held by one
// observation or apply at a time (Lock/Unlock); every other method except
// Close and Opened expects the caller to hold it.
type Session struct {
	cfg Config

	mu     sync.Mutex
	d      *network.Driver
	opened int
}

// New returns the session of a switch, unopened.
func New(cfg Config) *Session {
	if cfg.Reply == nil {
		cfg.Reply = func(out string) string { return cli.Excerpt(out, nil) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Session{cfg: cfg}
}

// ConnError is a failure of the SSH connection itself: what was sent may or
// may not have reached the switch. The session is dropped; its next use
// reconnects.
type ConnError struct {
	Err   error
	label bool
}

func (e *ConnError) Error() string {
	if e.label {
		return "connection lost: " + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *ConnError) Unwrap() error { return e.Err }

// IsConnError reports whether err comes from a lost connection.
func IsConnError(err error) bool {
	var ce *ConnError
	return errors.As(err, &ce)
}

// LineError is a configuration line the switch refused.
type LineError struct {
	Switch string
	// Line is the line, its secrets redacted (cli.Redact).
	Line string
	// Reply is the switch's reply through Config.Reply: one bounded,
	// escaped line of it.
	Reply string
	// Where names the mode the line was typed in ("configure terminal");
	// empty when the driver has one.
	Where string
}

func (e *LineError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("switch %s refused %q: %s", e.Switch, strings.TrimSpace(e.Line), e.Reply)
	}
	return fmt.Sprintf("switch %s refused %q in %s: %s", e.Switch, strings.TrimSpace(e.Line), e.Where, e.Reply)
}

// Lock takes the session for a whole observation or apply, so that the
// commands of one never interleave with another's.
func (s *Session) Lock() { s.mu.Lock() }

// Unlock releases what Lock took.
func (s *Session) Unlock() { s.mu.Unlock() }

// Name is the switch's name.
func (s *Session) Name() string { return s.cfg.Switch }

// Connected reports whether the session is open (it may still have died
// since its last use).
func (s *Session) Connected() bool { return s.d != nil }

// Opened tells how many times the session was opened (for tests). It takes
// the lock.
func (s *Session) Opened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// Timeout is ssh.timeout, 10 s by default: for the connection and for each
// command.
func (s *Session) Timeout() time.Duration {
	if s.cfg.SSH.Timeout.Duration > 0 {
		return s.cfg.SSH.Timeout.Duration
	}
	return 10 * time.Second
}

func (s *Session) conn(err error) error { return &ConnError{Err: err, label: s.cfg.LabelConnLoss} }

// open connects and logs in. Secrets are read here, at each connection, and
// never logged or put into errors.
func (s *Session) open() error {
	ssh := s.cfg.SSH
	opts := []util.Option{
		options.WithTransportType(transport.StandardTransport),
		options.WithPort(s.cfg.Port),
		options.WithAuthUsername(ssh.Username),
		options.WithTimeoutSocket(s.Timeout()),
		options.WithTimeoutOps(s.Timeout()),
	}
	opts = append(opts, s.cfg.Options...)
	if ssh.PasswordFile != "" {
		pw, err := config.ReadSecretFile(ssh.PasswordFile)
		if err != nil {
			return fmt.Errorf("ssh password: %w", err)
		}
		opts = append(opts, options.WithAuthPassword(pw))
	}
	if ssh.PrivateKeyFile != "" {
		if _, err := os.Stat(ssh.PrivateKeyFile); err != nil {
			return fmt.Errorf("ssh private key: %w", err)
		}
		opts = append(opts, options.WithAuthPrivateKey(ssh.PrivateKeyFile, ""))
	}
	if ssh.InsecureIgnoreHostKey {
		s.cfg.Log.Warn("the switch's host key is not checked (ssh.insecureIgnoreHostKey is for labs only)")
		opts = append(opts, options.WithAuthNoStrictKey())
	} else {
		if _, err := os.Stat(ssh.KnownHostsFile); err != nil {
			return fmt.Errorf("known_hosts file: %w", err)
		}
		opts = append(opts, options.WithSSHKnownHostsFile(ssh.KnownHostsFile))
	}
	p, err := platform.NewPlatform(s.cfg.Platform, s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	if s.cfg.Prepare != nil {
		s.cfg.Prepare(d)
	}
	start := time.Now()
	if err := d.Open(); err != nil {
		return fmt.Errorf("connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	s.d = d
	s.opened++
	s.cfg.Log.Debug("session open", "address", fmt.Sprintf("%s:%d", s.cfg.Host, s.cfg.Port), "took", time.Since(start))
	return nil
}

// Drop forgets the session after a transport failure; the next use reopens.
func (s *Session) Drop() {
	if s.d != nil {
		_ = s.d.Channel.Close()
		s.d = nil
	}
}

// Close logs out. It takes the lock.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		return nil
	}
	err := s.d.Close()
	s.d = nil
	return err
}

// Ensure opens the session if needed; fresh tells whether it just did.
func (s *Session) Ensure() (fresh bool, err error) {
	if s.d != nil {
		return false, nil
	}
	if err := s.open(); err != nil {
		return true, fmt.Errorf("switch %s: %w", s.cfg.Switch, err)
	}
	return true, nil
}

// Query runs an exec-mode command that changes nothing (a show command) and
// returns its output. The platform's failure strings are not applied to it:
// a show command prints text the network team wrote (descriptions,
// banners), and "description core uplink ERROR: see ticket 42" must not
// make a switch unreadable. The caller tells from the output's structure
// whether it is what the command prints (Read). A command that fails on an
// established session is retried once on a new one: reads are idempotent,
// and a switch that restarted its sshd is back in one step.
func (s *Session) Query(ctx context.Context, cmd string) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		fresh, err := s.Ensure()
		if err != nil {
			return "", err
		}
		r, err := s.d.SendCommand(cmd)
		if err == nil {
			return r.Result, nil
		}
		s.cfg.Log.Info("session failed; reconnecting", "error", err)
		s.Drop()
		if fresh {
			return "", fmt.Errorf("switch %s: %q: %w", s.cfg.Switch, cmd, s.conn(err))
		}
	}
}

// Read is Query for a show command whose output must be what the command
// prints: check says whether it is, by its structure (a configuration
// header, the layout of a summary), and returns why not. Output that is
// not is an error quoting its first line only (cli.DeviceLine), never the
// whole output: a running configuration holds other neighbors' secrets.
func (s *Session) Read(ctx context.Context, cmd string, check func(out string) error) (string, error) {
	out, err := s.Query(ctx, cmd)
	if err != nil {
		return "", err
	}
	if err := check(out); err != nil {
		first := ""
		if l := cli.Lines(out); len(l) > 0 {
			first = cli.DeviceLine(l[0])
		}
		return "", &ReadError{Switch: s.cfg.Switch, Cmd: cmd, Why: err, First: first}
	}
	return out, nil
}

// ReadError is the output of a show command that is not what the command
// prints: a refusal ("% Permission denied", "% Invalid command"), or a
// layout the driver does not know.
type ReadError struct {
	Switch, Cmd string
	Why         error
	// First is the output's first line, through cli.DeviceLine ("" when
	// the output was empty).
	First string
}

func (e *ReadError) Error() string {
	if e.First == "" {
		return fmt.Sprintf("switch %s: %q: %v; the switch printed nothing", e.Switch, e.Cmd, e.Why)
	}
	return fmt.Sprintf("switch %s: %q: %v; the switch printed: %s", e.Switch, e.Cmd, e.Why, e.First)
}

func (e *ReadError) Unwrap() error { return e.Why }

// Exec runs an exec-mode command that changes the switch (a checkpoint, a
// rollback): never retried. timeout bounds it (0: Timeout). It returns the
// output and whether the platform flagged it as failed.
func (s *Session) Exec(ctx context.Context, cmd string, timeout time.Duration) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if _, err := s.Ensure(); err != nil {
		return "", false, err
	}
	if timeout <= 0 {
		timeout = s.Timeout()
	}
	r, err := s.d.SendCommand(cmd, opoptions.WithTimeoutOps(timeout))
	if err != nil {
		s.Drop()
		return "", false, fmt.Errorf("switch %s: %q: %w", s.cfg.Switch, cmd, s.conn(err))
	}
	return r.Result, r.Failed != nil, nil
}

// Enter acquires a privilege level of the open session (configuration
// mode, a configuration session). A failure drops the session and is a
// *ConnError, without the switch's name.
func (s *Session) Enter(level string) error {
	if s.d == nil {
		return s.conn(errors.New("the session is not open"))
	}
	if err := s.d.AcquirePriv(level); err != nil {
		s.Drop()
		return s.conn(err)
	}
	return nil
}

// Leave returns to Config.ExecLevel; a session that cannot is dropped.
func (s *Session) Leave() {
	if s.d == nil {
		return
	}
	if err := s.d.AcquirePriv(s.cfg.ExecLevel); err != nil {
		s.cfg.Log.Info("could not leave configuration mode; dropping the session", "error", err)
		s.Drop()
	}
}

// Send types one command at the current privilege level and returns the
// reply and whether the platform flagged it as failed; timeout 0 is
// Timeout. A transport failure drops the session and is a *ConnError,
// without the switch's name.
func (s *Session) Send(cmd string, timeout time.Duration) (string, bool, error) {
	if s.d == nil {
		return "", false, s.conn(errors.New("the session is not open"))
	}
	var opts []util.Option
	if timeout > 0 {
		opts = append(opts, opoptions.WithTimeoutOps(timeout))
	}
	r, err := s.d.Driver.SendCommand(cmd, opts...)
	if err != nil {
		s.Drop()
		return "", false, s.conn(err)
	}
	return r.Result, r.Failed != nil, nil
}

// SendLines types configuration lines one by one, indented by their depth,
// in the mode the session is in, and stops at the first one the switch
// refuses. FRR and NX-OS print nothing for a line they accept; a reply is a
// refusal when the platform flags it as failed, or when any of its lines
// is not one of Config.Benign's known warnings. It returns how many lines
// were accepted and, on a stop, a *LineError (where names the mode), a
// *ConnError, or the context's error. It does not leave the mode.
func (s *Session) SendLines(ctx context.Context, lines []cli.Line, where string) (int, error) {
	for i, l := range lines {
		if err := ctx.Err(); err != nil {
			return i, fmt.Errorf("switch %s: stopped before line %d: %w", s.cfg.Switch, i+1, err)
		}
		// Wire puts a line's secret (a BGP password) in. Errors carry Text,
		// and the reply is redacted; scrapligo's own errors never quote
		// the input (channel/sendinput.go: timeouts and transport errors),
		// and it logs input only to a logger, which sessions do not give it.
		out, failed, err := s.Send(strings.Repeat(s.cfg.Indent, l.Depth)+l.Wire(), 0)
		if err != nil {
			return i, fmt.Errorf("switch %s: sending %q: %w", s.cfg.Switch, cli.Redact(l.Text), err)
		}
		said := cli.Lines(out)
		if len(said) == 0 && !failed {
			continue
		}
		if known, ok := MatchBenign(s.cfg.Benign, said); ok && !failed {
			for j, w := range said {
				s.cfg.Log.Warn("the switch took the line with a known warning", "switch", s.cfg.Switch,
					"line", cli.Redact(l.Text), "warning", l.Redact(cli.DeviceLine(w)), "source", known[j].Source)
			}
			continue
		}
		return i, &LineError{Switch: s.cfg.Switch, Line: cli.Redact(l.Text), Reply: l.Redact(s.cfg.Reply(out)), Where: where}
	}
	return len(lines), nil
}

// Benign is a warning a switch prints after a configuration line it has
// taken. A driver lists the ones it knows, each with where its wording
// comes from; a reply counts as accepted only when every line of it
// (cli.Lines) matches one of them and the platform did not flag it as
// failed. Anything else the switch prints is a refusal.
type Benign struct {
	// Pattern is matched against a whole trimmed line of the reply; anchor
	// it (^...$) so that a known warning cannot hide an error in the same
	// line.
	Pattern *regexp.Regexp
	// Source says where the wording was seen (a recording, an issue, the
	// platform's source).
	Source string
}

// MatchBenign returns, for each line, the known warning it is; ok is false
// when a line is none of them (or there is no line).
func MatchBenign(known []Benign, lines []string) (which []Benign, ok bool) {
	if len(lines) == 0 {
		return nil, false
	}
	for _, l := range lines {
		found := false
		for _, b := range known {
			if b.Pattern.MatchString(l) {
				which, found = append(which, b), true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return which, true
}
