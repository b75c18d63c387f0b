package nxossim

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/transport"
	"github.com/scrapli/scrapligo/util"
	"golang.org/x/crypto/ssh"
)

// The test password is a secret as far as the tests are concerned: they
// check it never shows up in replies or the command log.
const (
	testUser = "admin"
	testPass = "s3cret-nxossim-5c1e7a"
)

// fixedClock makes show output reproducible.
func fixedClock() func() time.Time {
	t0 := time.Date(2024, 3, 5, 17, 22, 38, 0, time.UTC)
	return func() time.Time { return t0 }
}

func startSim(t testing.TB, mod func(*Options)) *Server {
	t.Helper()
	o := Options{Username: testUser, Password: testPass, Hostname: "leaf201", StartupConfig: []string{"feature bgp"}}
	if mod != nil {
		mod(&o)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sessionsTakeBGP plays a switch whose configuration sessions accept the
// BGP, prefix-list and route-map commands (Options.SessionAllFeatures). The
// tests that use it exercise the session machinery (queueing, verify,
// commit, abort, prompts) with the only commands the emulator implements;
// without it a session refuses them, as Cisco documents Session Manager for
// ACL and QoS only (TestSessionRefusesUndocumentedFeatures).
func sessionsTakeBGP(o *Options) { o.SessionAllFeatures = true }

// scrapliDriver opens scrapligo's built-in cisco_nxos platform, unmodified,
// against the emulator.
func scrapliDriver(t testing.TB, s *Server, transportType string, extra ...util.Option) *network.Driver {
	t.Helper()
	opts := []util.Option{
		options.WithPort(s.Port()),
		options.WithAuthUsername(testUser),
		options.WithAuthPassword(testPass),
		options.WithAuthNoStrictKey(),
		options.WithTransportType(transportType),
		options.WithTimeoutOps(10 * time.Second),
	}
	if transportType == transport.SystemTransport {
		// Keep the user's ~/.ssh/config and known_hosts out of the test.
		opts = append(opts, options.WithSSHConfigFile("/dev/null"), options.WithSSHKnownHostsFile("/dev/null"))
	}
	p, err := platform.NewPlatform("cisco_nxos", s.Host(), append(opts, extra...)...)
	if err != nil {
		t.Fatalf("platform: %v", err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		t.Fatalf("driver: %v", err)
	}
	if err := d.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func sshConfig() *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            testUser,
		Auth:            []ssh.AuthMethod{ssh.Password(testPass)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	}
}

// rawTerm is an interactive PTY session read byte for byte, to check echo,
// carets and prompts exactly as a terminal sees them.
type rawTerm struct {
	t    testing.TB
	c    *ssh.Client
	sess *ssh.Session
	in   interface{ Write([]byte) (int, error) }
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func openTerm(t testing.TB, s *Server, height int) *rawTerm {
	t.Helper()
	c, err := ssh.Dial("tcp", s.Addr(), sshConfig())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	if err := sess.RequestPty("xterm", height, 511, ssh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rt := &rawTerm{t: t, c: c, sess: sess, in: in, done: make(chan struct{})}
	go func() {
		defer close(rt.done)
		b := make([]byte, 4096)
		for {
			n, err := out.Read(b)
			rt.mu.Lock()
			rt.buf.Write(b[:n])
			rt.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rt.waitFor(s.Config().Hostname + "# ")
	rt.take()
	return rt
}

// waitFor waits until the output so far ends with suffix.
func (r *rawTerm) waitFor(suffix string) string {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := r.buf.String()
		r.mu.Unlock()
		if strings.HasSuffix(got, suffix) {
			return got
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.Fatalf("timed out waiting for %q; got %q", suffix, r.buf.String())
	return ""
}

// take returns and clears the output read so far.
func (r *rawTerm) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.buf.String()
	r.buf.Reset()
	return s
}

// run types a line and returns what came back up to and including the
// next prompt, with CRLF turned into LF.
func (r *rawTerm) run(line, prompt string) string {
	r.t.Helper()
	if _, err := fmt.Fprintf(r.in, "%s\r", line); err != nil {
		r.t.Fatalf("write: %v", err)
	}
	r.waitFor(prompt)
	return strings.ReplaceAll(r.take(), "\r\n", "\n")
}

func (r *rawTerm) send(s string) {
	r.t.Helper()
	if _, err := r.in.Write([]byte(s)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// trimLines drops trailing blanks on each line and blank lines at both ends.
func trimLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// runningBody is `show running-config <sect>` without the comment header.
func runningBody(t testing.TB, s *Server, sect string) string {
	t.Helper()
	out, err := s.Show("show running-config " + sect)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(out, " Bios:version  \n")
	if !ok {
		t.Fatalf("no version line in %q", out)
	}
	return trimLines(body)
}
