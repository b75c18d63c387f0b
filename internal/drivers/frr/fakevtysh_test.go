package frr

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// fakeVtysh is a minimal SSH server on 127.0.0.1 that answers like FRR's
// vtysh for what the driver types: prompts per mode, the echo of each line,
// "show running-config bgpd", silence for an accepted configuration line. It
// can drop the connection right after a given line arrived, before its
// reply, or refuse a line with a '%' reply: the faults the real lab cannot
// time. What it accepts changes nothing but its log.
type fakeVtysh struct {
	t        *testing.T
	hostname string
	password string
	ln       net.Listener
	hostKey  ssh.PublicKey
	dir      string

	mu      sync.Mutex
	running string            // the reply to "show running-config bgpd"
	drop    map[string]int    // line -> how many more times to drop the connection after it
	refuse  map[string]string // line -> reply
	got     []string          // configuration lines accepted, as typed (trimmed)
}

func newFakeVtysh(t *testing.T, hostname, running string) *fakeVtysh {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeVtysh{t: t, hostname: hostname, password: "fake-vtysh-pw-" + hostname, ln: ln, hostKey: sshPub,
		dir: t.TempDir(), running: running, drop: map[string]int{}, refuse: map[string]string{}}
	cfg := &ssh.ServerConfig{PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if c.User() == "admin" && string(pw) == f.password {
			return nil, nil
		}
		return nil, fmt.Errorf("denied")
	}}
	cfg.AddHostKey(signer)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c, cfg)
		}
	}()
	return f
}

// fabric is a one-switch FRR fabric pointing at the fake.
func (f *fakeVtysh) fabric(t *testing.T) config.Fabric {
	t.Helper()
	pw := filepath.Join(f.dir, "password")
	kh := filepath.Join(f.dir, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", f.ln.Addr().(*net.TCPAddr).Port, ssh.MarshalAuthorizedKey(f.hostKey))
	if err := os.WriteFile(pw, []byte(f.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Fabric{Name: "fake", Driver: Name, ASN: 63500,
		Switches:     []config.Switch{clissh.WithAddress(config.Switch{Name: f.hostname, PeerIPs: []string{"192.168.9.205"}}, f.ln.Addr().String())},
		MaximumPaths: config.MaximumPaths{Mode: "auto", Limit: 64},
		Platform: &clissh.Settings{SSH: clissh.SSH{Username: "admin", PasswordFile: pw, KnownHostsFile: kh,
			Timeout: config.Duration{Duration: 5 * time.Second}}}}
}

// dropAfter makes the fake close the connection right after line arrives,
// times times, without replying.
func (f *fakeVtysh) dropAfter(line string, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop[line] = times
}

// refuseLine makes the fake answer line with reply (FRR's "% ...").
func (f *fakeVtysh) refuseLine(line, reply string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse[line] = reply
}

// accepted returns the configuration lines accepted so far.
func (f *fakeVtysh) accepted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fakeVtysh) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		shell := make(chan bool, 1)
		go func() {
			for r := range chReqs {
				ok := r.Type == "pty-req" || r.Type == "shell" || r.Type == "window-change" || r.Type == "env"
				if r.WantReply {
					_ = r.Reply(ok, nil)
				}
				if r.Type == "shell" {
					shell <- true
				}
			}
		}()
		<-shell
		f.repl(ch, c)
		return
	}
}

// repl is vtysh: echo, then per line a reply and the prompt of the mode.
func (f *fakeVtysh) repl(ch ssh.Channel, conn net.Conn) {
	defer ch.Close()
	var modes []string // "config", "config-router", "config-router-af", ...
	prompt := func() string {
		if len(modes) == 0 {
			return f.hostname + "# "
		}
		return f.hostname + "(" + modes[len(modes)-1] + ")# "
	}
	r := bufio.NewReader(ch)
	_, _ = ch.Write([]byte("\r\nHello, this is a fake FRRouting vtysh.\r\n\r\n" + prompt()))
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return
		}
		if b != '\n' && b != '\r' {
			line = append(line, b)
			_, _ = ch.Write([]byte{b})
			continue
		}
		typed := string(line)
		cmd := strings.TrimSpace(typed)
		line = line[:0]
		f.mu.Lock()
		if f.drop[cmd] > 0 {
			f.drop[cmd]--
			f.mu.Unlock()
			conn.Close() // the line arrived; its reply never leaves
			return
		}
		refusal, refused := f.refuse[cmd]
		f.mu.Unlock()
		out := ""
		switch {
		case cmd == "":
		case refused:
			out = refusal + "\r\n"
		case cmd == "terminal length 0" || cmd == "show zebra":
		case cmd == showConfig:
			f.mu.Lock()
			out = "Building configuration...\r\n\r\nCurrent configuration:\r\n" + strings.ReplaceAll(f.running, "\n", "\r\n")
			f.mu.Unlock()
		case cmd == "exit" && len(modes) == 0:
			return
		case cmd == "configure terminal" && len(modes) == 0:
			modes = append(modes, "config")
		case len(modes) == 0:
			out = "% Unknown command: " + cmd + "\r\n"
		case cmd == "end":
			modes = nil
		case cmd == "exit" || cmd == "exit-address-family":
			modes = modes[:len(modes)-1]
		default:
			f.mu.Lock()
			f.got = append(f.got, cmd)
			f.mu.Unlock()
			switch {
			case strings.HasPrefix(cmd, "router bgp "):
				modes = append(modes, "config-router")
			case strings.HasPrefix(cmd, "address-family "):
				modes = append(modes, "config-router-af")
			case strings.HasPrefix(cmd, "route-map "):
				modes = append(modes, "config-route-map")
			}
		}
		_, _ = ch.Write([]byte("\r\n" + out + prompt()))
	}
}
