package nxossim

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
	"github.com/scrapli/scrapligo/transport"
	"golang.org/x/crypto/ssh"
)

func TestAuth(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(other)
	kbd := func(pw string) ssh.AuthMethod {
		return ssh.KeyboardInteractive(func(user, instr string, qs []string, echos []bool) ([]string, error) {
			ans := make([]string, len(qs))
			for i := range qs {
				ans[i] = pw
			}
			return ans, nil
		})
	}
	cases := []struct {
		name string
		user string
		auth ssh.AuthMethod
		ok   bool
	}{
		{"password", testUser, ssh.Password(testPass), true},
		{"keyboard-interactive", testUser, kbd(testPass), true},
		{"public key", testUser, ssh.PublicKeys(signer), true},
		{"wrong password", testUser, ssh.Password("nope"), false},
		{"wrong keyboard-interactive answer", testUser, kbd("nope"), false},
		{"wrong user", "root", ssh.Password(testPass), false},
		{"unknown key", testUser, ssh.PublicKeys(otherSigner), false},
		{"authorized key, wrong user", "root", ssh.PublicKeys(signer), false},
	}
	s := startSim(t, func(o *Options) { o.AuthorizedKeys = []ssh.PublicKey{signer.PublicKey()} })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats().AuthFailures
			cfg := sshConfig()
			cfg.User, cfg.Auth = tc.user, []ssh.AuthMethod{tc.auth}
			c, err := ssh.Dial("tcp", s.Addr(), cfg)
			if tc.ok {
				if err != nil {
					t.Fatalf("login refused: %v", err)
				}
				defer c.Close()
				out := execCmd(t, c, "show hostname")
				if out != "leaf201\n" {
					t.Errorf("show hostname: %q", out)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("login accepted")
			}
			if s.Stats().AuthFailures <= before {
				t.Error("failure not counted")
			}
		})
	}
}

func execCmd(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Output(cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return string(out)
}

// TestExecRequest runs single commands the way `ssh switch "show version"`
// does, including NX-OS's ";" chaining; errors give exit status 1.
func TestExecRequest(t *testing.T) {
	cases := []struct {
		cmd    string
		want   string // substring of the output
		status int
	}{
		{"show hostname", "leaf201\n", 0},
		{"show versoin", "% Invalid command at '^' marker.", 1},
		{"configure terminal ; router bgp 63500 ; neighbor 10.0.0.1 remote-as 65001 ; address-family ipv4 unicast", "", 0},
		{"show running-config bgp", "  neighbor 10.0.0.1\n    remote-as 65001\n", 0},
		{"show ip bgp summary", "10.0.0.1", 0},
		{"copy running-config startup-config", "Copy complete.\n", 0},
	}
	s := startSim(t, nil)
	c, err := ssh.Dial("tcp", s.Addr(), sshConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range cases {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.CombinedOutput(tc.cmd)
		sess.Close()
		status := 0
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			status = exit.ExitStatus()
		} else if err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		if status != tc.status || !strings.Contains(string(out), tc.want) {
			t.Errorf("%q: status %d output %q", tc.cmd, status, out)
		}
		if strings.Contains(string(out), "\r") {
			t.Errorf("%q: CR in output without a PTY", tc.cmd)
		}
	}
}

// TestPager checks the --More-- prompt when terminal length is set.
func TestPager(t *testing.T) {
	s := startSim(t, nil)
	rt := openTerm(t, s, 0)
	rt.run("terminal length 10", "leaf201# ")
	rt.send("show running-config\r")
	first := rt.waitFor(morePrompt)
	if n := strings.Count(rt.take(), "\r\n"); n != 1+9 { // the echo's newline and 9 lines
		t.Errorf("first page has %d newlines:\n%s", n, first)
	}
	rt.send(" ")
	rt.waitFor(morePrompt)
	if page := rt.take(); strings.Count(page, "\r\n") != 9 || !strings.HasPrefix(page, "\r\x1b[K") {
		t.Errorf("second page %q", page)
	}
	rt.send("\r")
	rt.waitFor(morePrompt)
	if line := rt.take(); strings.Count(line, "\r\n") != 1 {
		t.Errorf("one line %q", line)
	}
	rt.send("q")
	rt.waitFor("leaf201# ")
	rt.take()
	// terminal length 0, as scrapligo sends it, turns paging off.
	rt.run("terminal length 0", "leaf201# ")
	out := rt.run("show running-config", "leaf201# ")
	if strings.Contains(out, "--More--") || !strings.Contains(out, "line vty") {
		t.Errorf("paged with length 0: %q", out)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"192.168.9.204:0", false}, // the lab's documentation address: refused before any use
		{"[::]:0", false},
	}
	for _, tc := range cases {
		s, err := Start(Options{Listen: tc.addr, Username: testUser, Password: testPass})
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.addr, err)
				continue
			}
			if !strings.HasPrefix(s.Addr(), "127.") && !strings.HasPrefix(s.Addr(), "[::1]") {
				t.Errorf("%s: listening on %s", tc.addr, s.Addr())
			}
			s.Close()
		} else if err == nil || !strings.Contains(err.Error(), "loopback") {
			if s != nil {
				s.Close()
			}
			t.Errorf("%s: accepted (%v)", tc.addr, err)
		}
	}
}

func TestStartOptions(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		err  string
	}{
		{"no username", Options{Password: "x"}, "username"},
		{"no credential", Options{Username: "admin"}, "password or an authorized key"},
		{"bad hostname", Options{Username: "admin", Password: "x", Hostname: "leaf 1"}, "hostname"},
		{"bad startup line", Options{Username: "admin", Password: "x", StartupConfig: []string{"router bgp 1"}}, "Invalid command"},
	}
	for _, tc := range cases {
		s, err := Start(tc.opts)
		if err == nil {
			s.Close()
			t.Errorf("%s: started", tc.name)
		} else if !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestSecretNeverShown logs in, makes errors and reads everything the
// emulator can show or log: the password must appear nowhere.
func TestSecretNeverShown(t *testing.T) {
	logBuf := &testenv.LogBuffer{}
	s := startSim(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	d := scrapliDriver(t, s, transport.StandardTransport)
	_, _ = d.SendConfigs([]string{"router bgp 63500", "bogus " + testPass, "description " + "x"})
	for _, cmd := range []string{"show running-config", "show version", "show configuration session summary"} {
		r, err := d.SendCommand(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.Result, testPass) {
			t.Errorf("%s shows the password", cmd)
		}
	}
	// A wrong login attempt is logged without the attempted password.
	cfg := sshConfig()
	cfg.Auth = []ssh.AuthMethod{ssh.Password(testPass + "-wrong")}
	if c, err := ssh.Dial("tcp", s.Addr(), cfg); err == nil {
		c.Close()
	}
	for _, e := range s.Log() {
		// The only place it may appear is the line the test typed itself.
		if strings.Contains(e.Reply, testPass) {
			t.Errorf("reply to %q contains the password", e.Line)
		}
	}
	_ = s.Close() // waits for the connection goroutines that log
	if strings.Contains(logBuf.String(), testPass) {
		t.Errorf("server log contains the password:\n%s", logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "login") {
		t.Errorf("server log is empty: %q", logBuf.String())
	}
}

// TestCloseEndsSessions checks that Close disconnects clients.
func TestCloseEndsSessions(t *testing.T) {
	s := startSim(t, nil)
	rt := openTerm(t, s, 0)
	if s.Stats().ActiveConnections != 1 {
		t.Errorf("active %d", s.Stats().ActiveConnections)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-rt.done
	if _, err := ssh.Dial("tcp", s.Addr(), sshConfig()); err == nil {
		t.Error("still accepting after Close")
	}
}
