// Package nxossim emulates a Cisco Nexus switch running NX-OS 9.3 over SSH,
// faithfully enough for scrapligo's cisco_nxos platform to drive it
// unchanged: the login, prompts and configuration modes, the BGP /
// prefix-list / route-map command set a fabric driver needs, configuration
// sessions with verify/commit/abort, NX-OS's error replies, and `show`
// output laid out like recorded NX-OS output (testdata/README.md).
//
// Tests start a Server on 127.0.0.1 with a random port, drive it with a real
// SSH client, and inspect the running configuration, counters and command
// log. Fault switches drop the connection after N configuration lines,
// reject matching lines, or fail the next commit.
package nxossim

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configure a Server. Only Username and one of Password or
// AuthorizedKeys are required.
type Options struct {
	// Listen is the address to listen on. It must be a loopback address;
	// the default "127.0.0.1:0" picks a free port.
	Listen   string
	Hostname string // default "switch"
	Username string
	Password string // empty: password and keyboard-interactive logins are refused
	// AuthorizedKeys may log in as Username with public-key auth.
	AuthorizedKeys []ssh.PublicKey
	HostKey        ssh.Signer // nil: a fresh ed25519 key
	Platform       Platform   // zero: DefaultPlatform()
	// StartupConfig lines are run in configure terminal before the server
	// accepts connections (e.g. "feature bgp", "router bgp 63500").
	StartupConfig []string
	// Now is the clock (for show output); default time.Now.
	Now    func() time.Time
	Logger *slog.Logger // default: discard
	// PreAuthBanner, if set, is sent as the SSH banner before login.
	PreAuthBanner string
	// LogLimit caps the command log (oldest entries are dropped); default 10000.
	LogLimit int
	// RecordConfigs keeps the running configuration (show running-config
	// without its header) after every line a client typed that changed it
	// (configuration lines, commits, rollbacks) and after every Configure
	// (ConfigHistory). A test can then see what a client changed on the
	// way, not only where it ended. At most LogLimit versions are kept.
	RecordConfigs bool
	// SessionAllFeatures lets configuration sessions take every command
	// the emulator knows (BGP, prefix-lists, route-maps, ...). By default
	// they take none of them, as documented: Cisco's Session Manager
	// supports only the ACL and QoS features (Nexus 9000 guides; ACL only on
	// Nexus 3000/5000), and the emulator implements neither. A command of
	// another feature typed in a session is answered "% Invalid command at
	// '^' marker." and not queued (docs/nxossim.md explains the choice).
	SessionAllFeatures bool
	// CheckpointOverwrite plays a switch on which `checkpoint NAME` with
	// the name of an existing user checkpoint replaces it. By default the
	// second one is refused, as Cisco documents ("Checkpoint names must be
	// unique. You cannot overwrite previously saved checkpoints with the
	// same name", Nexus 3548 System Management Configuration Guide,
	// "Configuring Rollback", its guidelines); the refusal's wording is not
	// recorded anywhere public, so clients must survive either.
	CheckpointOverwrite bool
}

// Faults are switched on with Server.SetFaults to test how a client copes.
type Faults struct {
	// DropAfterConfigLines > 0 closes the SSH connection right after the
	// Nth non-empty line typed in a configuration mode (counted from
	// SetFaults), before any reply. It fires once.
	DropAfterConfigLines int
	// DropAfterExec, if set, closes the SSH connection right after the
	// first exec-mode command matching it has run (a rollback, a
	// checkpoint), before its reply. It fires once.
	DropAfterExec *regexp.Regexp
	// UnreachableAfterDrop keeps the switch unreachable once
	// DropAfterConfigLines or DropAfterExec has fired: every new TCP
	// connection is closed before the SSH handshake (a switch that
	// reloaded, or whose management link went down), until the next
	// SetFaults. Its configuration is left as the drop left it.
	UnreachableAfterDrop bool
	// RejectLines reject configuration lines whose text matches.
	RejectLines []RejectRule
	// FailNextCommit, if set, makes the next commit fail with this message
	// (as a hardware or resource check would) and leave the running
	// configuration unchanged. It fires once.
	FailNextCommit string
	// CommandDelay is slept before answering each line.
	CommandDelay time.Duration
	// RejectExec answers exec-mode commands (show, checkpoint, rollback,
	// ...) whose text matches with the rule's Reply, without running them:
	// a switch busy with another user's checkpoint, say. AtEntry and
	// SessionOnly do not apply.
	RejectExec []RejectRule
	// FailNextRollback, if set, makes the next rollback fail with this
	// message and leave the running configuration unchanged (an atomic
	// rollback that hit an error). It fires once.
	FailNextRollback string
	// OtherUser plays an operator or another tool changing the switch in
	// the middle of a client's work: right after the AfterConfigLines-th
	// non-empty line typed in a configuration mode (counted from
	// SetFaults), its Lines run in configure terminal as that other user
	// would type them. It fires once.
	OtherUser OtherUser
	// WarnLines run lines matching a rule and add its Reply to what they
	// print: a switch that prints a warning after a configuration line it
	// took, or a message after an exec command that succeeded ("no
	// checkpoint", say). The wording is the test's (docs/nxossim.md lists
	// the recorded ones). Not in configuration sessions; AtEntry and
	// SessionOnly do not apply.
	WarnLines []RejectRule
}

// OtherUser is a change someone else makes while a client works (Faults).
type OtherUser struct {
	AfterConfigLines int
	Lines            []string
}

// RejectRule rejects configuration lines matching Match. In configure
// terminal the line is answered with Reply and not applied. In a
// configuration session the line is queued and verify/commit fail on it,
// unless AtEntry is set, in which case it is refused when typed.
// SessionOnly limits the rule to configuration sessions: Cisco documents
// Session Manager for ACL and QoS only, and a test can use this to play a
// switch that refuses other features inside a session.
type RejectRule struct {
	Match       *regexp.Regexp
	Reply       string // default "ERROR: configuration rejected (nxossim fault injection)"
	AtEntry     bool
	SessionOnly bool
}

func (r *RejectRule) reply() string {
	if r.Reply != "" {
		return r.Reply
	}
	return "ERROR: configuration rejected (nxossim fault injection)"
}

// Stats counts what clients did. Lines run through Configure and Show are
// not counted.
type Stats struct {
	Connections       int // SSH connections that logged in
	ActiveConnections int
	AuthFailures      int
	Commands          int // non-empty lines and exec requests
	ConfigLines       int // non-empty lines typed in a configuration mode
	Errors            int // lines answered with an error
	SessionsStarted   int // configuration sessions created
	Verifies          int
	Commits           int
	CommitFailures    int
	Aborts            int
	Drops             int // connections closed by DropAfterConfigLines or DropAfterExec
	Checkpoints       int // user checkpoints created
	Rollbacks         int // rollback commands run
	RollbackFailures  int
}

// LogEntry is one line a client typed and the emulator's reply.
type LogEntry struct {
	Time   time.Time
	Conn   int
	User   string
	Mode   string // mode before the line: "" (exec), "config", "config-s-router", ...
	Line   string
	Reply  string
	Failed bool
}

// Server is a running emulated switch.
type Server struct {
	opts     Options
	ln       net.Listener
	cfg      *ssh.ServerConfig
	hostKey  ssh.Signer
	platform Platform
	now      func() time.Time
	boot     time.Time
	log      *slog.Logger

	mu            sync.Mutex
	running       *Config
	startup       *Config
	lastChange    time.Time
	sessions      map[string]*cfgSession
	nextSessionID int
	checkpoints   []*checkpoint
	stats         Stats
	entries       []LogEntry
	history       []string
	faults        Faults
	faultLines    int
	otherLines    int         // configuration lines counted for Faults.OtherUser
	unreachable   bool        // UnreachableAfterDrop has fired
	oper          Operational // what the operational show commands report (oper.go)
	conns         map[int]*ssh.ServerConn
	nextConn      int
	closed        bool
	wg            sync.WaitGroup
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if err := checkLoopback(opts.Listen); err != nil {
		return nil, err
	}
	if opts.Username == "" {
		return nil, errors.New("nxossim: a username is required")
	}
	if opts.Password == "" && len(opts.AuthorizedKeys) == 0 {
		return nil, errors.New("nxossim: a password or an authorized key is required")
	}
	if opts.Hostname == "" {
		opts.Hostname = "switch"
	}
	if !hostRe.MatchString(opts.Hostname) || len(opts.Hostname) > 63 {
		return nil, fmt.Errorf("nxossim: invalid hostname %q", opts.Hostname)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.LogLimit <= 0 {
		opts.LogLimit = 10000
	}
	s := &Server{
		opts:     opts,
		platform: opts.Platform.withDefaults(),
		now:      opts.Now,
		log:      opts.Logger,
		running:  newConfig(opts.Hostname),
		sessions: map[string]*cfgSession{},
		conns:    map[int]*ssh.ServerConn{},
	}
	s.boot = s.now()
	s.hostKey = opts.HostKey
	if s.hostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if s.hostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, err
		}
	}
	if err := s.Configure(opts.StartupConfig...); err != nil {
		return nil, fmt.Errorf("nxossim: startup config: %w", err)
	}
	s.lastChange = time.Time{} // NX-OS: "No configuration change since last restart"
	s.startup = s.running.Clone()
	if opts.RecordConfigs {
		s.recordConfig()
	}
	s.cfg = &ssh.ServerConfig{MaxAuthTries: 6}
	if opts.Password != "" {
		s.cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			return s.checkPassword(c.User(), pw)
		}
		s.cfg.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			// NX-OS greets keyboard-interactive logins this way.
			ans, err := ch("", "User Access Verification", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(ans) != 1 {
				return nil, s.authFailed()
			}
			return s.checkPassword(c.User(), []byte(ans[0]))
		}
	}
	if len(opts.AuthorizedKeys) > 0 {
		s.cfg.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == opts.Username {
				for _, k := range opts.AuthorizedKeys {
					if subtle.ConstantTimeCompare(k.Marshal(), key.Marshal()) == 1 {
						return &ssh.Permissions{}, nil
					}
				}
			}
			return nil, s.authFailed()
		}
	}
	if opts.PreAuthBanner != "" {
		s.cfg.BannerCallback = func(ssh.ConnMetadata) string { return opts.PreAuthBanner }
	}
	s.cfg.AddHostKey(s.hostKey)
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	s.log.Info("nxossim listening", "addr", ln.Addr().String(), "hostname", opts.Hostname)
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("nxossim: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("nxossim: listen address %q is not a loopback address (use 127.0.0.1 or [::1])", addr)
	}
	return nil
}

func (s *Server) checkPassword(user string, pw []byte) (*ssh.Permissions, error) {
	okUser := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.Username)) == 1
	okPw := subtle.ConstantTimeCompare(pw, []byte(s.opts.Password)) == 1
	if okUser && okPw {
		return &ssh.Permissions{}, nil
	}
	return nil, s.authFailed()
}

func (s *Server) authFailed() error {
	s.mu.Lock()
	s.stats.AuthFailures++
	s.mu.Unlock()
	return errors.New("authentication failed")
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the listening IP address.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the listening TCP port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// HostKey is the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// Close stops listening and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := make([]*ssh.ServerConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	s.wg.Wait()
	return err
}

// Config returns a copy of the running configuration.
func (s *Server) Config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running.Clone()
}

// Configure runs lines in configure terminal, as a test's setup would type
// them, and returns the first error reply.
func (s *Server) Configure(lines ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := &shell{srv: s, user: s.opts.Username}
	sh.setFrames([]frame{{kind: fConfig}})
	if s.opts.RecordConfigs {
		defer s.recordConfig()
	}
	for _, l := range lines {
		out := sh.runLine(l)
		if sh.failed {
			return fmt.Errorf("%q: %s", l, strings.TrimSpace(out))
		}
	}
	return nil
}

// Show runs one exec-mode command (e.g. "show running-config bgp") and
// returns its output; an error reply becomes an error.
func (s *Server) Show(command string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := &shell{srv: s, user: s.opts.Username}
	out := sh.runLine(command)
	if sh.failed {
		return out, fmt.Errorf("%q: %s", command, strings.TrimSpace(out))
	}
	return out, nil
}

// ConfigBody returns `show running-config <section>` for each section,
// without the comment header and version line that change from run to run,
// joined by "!" lines: what golden files compare.
func (s *Server) ConfigBody(sections ...string) (string, error) {
	var parts []string
	for _, sect := range sections {
		out, err := s.Show("show running-config " + sect)
		if err != nil {
			return "", err
		}
		_, b, ok := strings.Cut(out, " Bios:version  \n")
		if !ok {
			return "", fmt.Errorf("show running-config %s: no version line in %q", sect, out)
		}
		parts = append(parts, strings.Trim(b, "\n"))
	}
	return strings.Join(parts, "\n!\n") + "\n", nil
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ActiveConnections = len(s.conns)
	return st
}

// Log returns the command log.
func (s *Server) Log() []LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogEntry(nil), s.entries...)
}

// ResetLog empties the command log and the configuration history, and
// zeroes the counters.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = nil
	s.history = nil
	if s.opts.RecordConfigs {
		s.recordConfig()
	}
	s.stats = Stats{}
}

// ConfigHistory returns the running configurations recorded since the
// server started or the last ResetLog (Options.RecordConfigs), oldest
// first: the configuration at that moment, then one per change, the last
// the current one.
func (s *Server) ConfigHistory() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.history...)
}

// recordConfig adds the running configuration to the history when it
// differs from the last one recorded (with s.mu held).
func (s *Server) recordConfig() {
	cur := strings.Join(s.runningBody(s.running, ""), "\n")
	if n := len(s.history); n > 0 && s.history[n-1] == cur {
		return
	}
	s.history = append(s.history, cur)
	if n := len(s.history) - s.opts.LogLimit; n > 0 {
		s.history = append(s.history[:0:0], s.history[n:]...)
	}
}

// SetFaults replaces the fault switches and restarts the line count of
// DropAfterConfigLines.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.faultLines = 0
	s.otherLines = 0
	s.unreachable = false
}

// Sessions lists the open configuration sessions.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionInfos()
}

func (s *Server) execRejectRule(text string) *RejectRule {
	for i := range s.faults.RejectExec {
		r := &s.faults.RejectExec[i]
		if r.Match != nil && r.Match.MatchString(text) {
			return r
		}
	}
	return nil
}

// warning is what a line that was taken or run adds to its reply: the
// Reply of the first Faults.WarnLines rule it matches outside a
// configuration session, else nothing.
func (s *Server) warning(text string, inSession bool) string {
	if inSession {
		return ""
	}
	for _, r := range s.faults.WarnLines {
		if r.Match != nil && r.Match.MatchString(text) {
			return r.Reply + "\n"
		}
	}
	return ""
}

func (s *Server) rejectRule(text string, inSession bool) *RejectRule {
	for i := range s.faults.RejectLines {
		r := &s.faults.RejectLines[i]
		if r.SessionOnly && !inSession {
			continue
		}
		if r.Match != nil && r.Match.MatchString(text) {
			return r
		}
	}
	return nil
}

// execLine runs a line typed by a client: it records it and applies the
// fault switches. drop tells the caller to close the connection unanswered.
func (s *Server) execLine(sh *shell, line string) (reply string, drop bool, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mode := sh.modeName()
	inConfig := sh.inConfig()
	reply = sh.runLine(line)
	if s.opts.RecordConfigs {
		s.recordConfig()
	}
	if strings.TrimSpace(line) != "" {
		s.stats.Commands++
		if sh.failed {
			s.stats.Errors++
		}
		s.entries = append(s.entries, LogEntry{Time: sh.now, Conn: sh.conn, User: sh.user, Mode: mode,
			Line: line, Reply: reply, Failed: sh.failed})
		if n := len(s.entries) - s.opts.LogLimit; n > 0 {
			s.entries = append(s.entries[:0:0], s.entries[n:]...)
		}
	}
	if re := s.faults.DropAfterExec; re != nil && !inConfig && re.MatchString(strings.TrimSpace(line)) {
		s.faults.DropAfterExec = nil
		s.stats.Drops++
		s.unreachable = s.faults.UnreachableAfterDrop
		drop = true
	}
	if inConfig && strings.TrimSpace(line) != "" {
		s.stats.ConfigLines++
		if o := s.faults.OtherUser; o.AfterConfigLines > 0 {
			s.otherLines++
			if s.otherLines >= o.AfterConfigLines {
				s.faults.OtherUser = OtherUser{}
				other := &shell{srv: s, user: "operator"}
				other.setFrames([]frame{{kind: fConfig}})
				for _, l := range o.Lines {
					other.runLine(l)
				}
				if s.opts.RecordConfigs {
					s.recordConfig()
				}
			}
		}
		if f := s.faults.DropAfterConfigLines; f > 0 {
			s.faultLines++
			if s.faultLines >= f {
				s.faults.DropAfterConfigLines = 0
				s.stats.Drops++
				s.unreachable = s.faults.UnreachableAfterDrop
				drop = true
			}
		}
	}
	return reply, drop, s.faults.CommandDelay
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.serveConn(nc)
	}
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	s.mu.Lock()
	down := s.unreachable
	s.mu.Unlock()
	if down {
		_ = nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second)) // the handshake only
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.cfg)
	if err != nil {
		s.log.Debug("ssh handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		_ = nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = sc.Close()
		return
	}
	s.nextConn++
	id := s.nextConn
	s.conns[id] = sc
	s.stats.Connections++
	s.mu.Unlock()
	s.log.Info("login", "conn", id, "user", sc.User(), "remote", nc.RemoteAddr().String())
	defer func() {
		s.mu.Lock()
		delete(s.conns, id)
		s.mu.Unlock()
		_ = sc.Close()
	}()
	go ssh.DiscardRequests(reqs)
	var chwg sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		chwg.Add(1)
		go func() {
			defer chwg.Done()
			s.serveChannel(id, sc, ch, creqs)
		}()
	}
	chwg.Wait()
}

type ptyReq struct {
	Term          string
	Width, Height uint32
	PixW, PixH    uint32
	Modes         string
}

func (s *Server) serveChannel(id int, sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	sh := &shell{srv: s, conn: id, user: sc.User(), width: 80}
	t := &term{srv: s, sh: sh, ch: ch, conn: sc}
	started := false
	done := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "pty-req":
			var p ptyReq
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			t.pty = true
			if p.Height > 0 {
				sh.length = int(p.Height)
			} else {
				sh.length = 24
			}
			if p.Width > 0 {
				sh.width = int(p.Width)
			}
			_ = req.Reply(true, nil)
		case "env", "window-change":
			if req.WantReply {
				_ = req.Reply(true, nil)
			}
		case "shell":
			if started {
				_ = req.Reply(false, nil)
				continue
			}
			started = true
			_ = req.Reply(true, nil)
			go func() {
				defer close(done)
				t.interactive()
				_ = ch.CloseWrite()
				_ = ch.Close()
			}()
		case "exec":
			var p struct{ Command string }
			if started || ssh.Unmarshal(req.Payload, &p) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			started = true
			_ = req.Reply(true, nil)
			go func() {
				defer close(done)
				status := t.exec(p.Command)
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				_ = ch.CloseWrite()
				_ = ch.Close()
			}()
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	if started {
		<-done
	}
}
