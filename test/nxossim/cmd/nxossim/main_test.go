package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const secret = "prog-s3cret-77ab"

func buildProgram(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "nxossim")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

var listening = regexp.MustCompile(`^nxossim: listening on (127\.0\.0\.1:\d+) \(hostname (\S+), host key (SHA256:\S+)\)$`)

// TestProgram starts the program twice with the same host key file: it
// serves SSH on loopback, applies its config file, keeps its host key, never
// prints the password, and stops on SIGTERM.
func TestProgram(t *testing.T) {
	bin := buildProgram(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	cfg := filepath.Join(dir, "leaf202.cfg")
	hostKey := filepath.Join(dir, "host_key")
	knownHosts := filepath.Join(dir, "known_hosts")
	otherPub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	// Another switch's line: kept as it is.
	if err := os.WriteFile(knownHosts, []byte(knownhosts.Line([]string{"[127.0.0.1]:1"}, other)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("! start-up lines\nfeature bgp\nrouter bgp 63500\n  router-id 192.168.9.205\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var fingerprints []string
	for run := 0; run < 2; run++ {
		cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--username", "admin", "--password-file", pw,
			"--hostname", "leaf202", "--config", cfg, "--host-key", hostKey, "--known-hosts", knownHosts, "-v")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("no banner: %v (stderr %s)", err, stderr.String())
		}
		m := listening.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[2] != "leaf202" {
			_ = cmd.Process.Kill()
			t.Fatalf("banner %q", line)
		}
		fingerprints = append(fingerprints, m[3])
		var seenKey string
		// The host key is checked against the known_hosts file it wrote.
		check, err := knownhosts.New(knownHosts)
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatal(err)
		}
		c, err := ssh.Dial("tcp", m[1], &ssh.ClientConfig{
			User: "admin", Auth: []ssh.AuthMethod{ssh.Password(secret)},
			HostKeyCallback: func(host string, remote net.Addr, k ssh.PublicKey) error {
				seenKey = ssh.FingerprintSHA256(k)
				return check(host, remote, k)
			},
			Timeout: 5 * time.Second,
		})
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("dial: %v", err)
		}
		sess, _ := c.NewSession()
		out, err := sess.Output("show running-config bgp")
		c.Close()
		if err != nil || !strings.Contains(string(out), "router bgp 63500\n  router-id 192.168.9.205") {
			t.Errorf("show running-config bgp: %v %q", err, out)
		}
		if seenKey != m[3] {
			t.Errorf("host key %s, banner says %s", seenKey, m[3])
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v (stderr %s)", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("did not stop on SIGTERM")
		}
		if strings.Contains(line+stderr.String(), secret) {
			t.Error("the password was printed")
		}
		st, err := os.Stat(hostKey)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("host key file: %v %v", err, st)
		}
	}
	if b, _ := os.ReadFile(knownHosts); !strings.HasPrefix(string(b), "[127.0.0.1]:1 ssh-ed25519") || strings.Count(string(b), "\n") != 3 {
		t.Errorf("known_hosts:\n%s", b)
	}
	if fingerprints[0] != fingerprints[1] {
		t.Errorf("host key changed between runs: %v", fingerprints)
	}
}

func TestProgramRefuses(t *testing.T) {
	bin := buildProgram(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:0", "--password-file", pw}, "not a loopback address"},
		{[]string{"--listen", "127.0.0.1:0", "--password-file", filepath.Join(dir, "missing")}, "password file"},
		{[]string{"--listen", "127.0.0.1:0"}, "--password-file or --authorized-keys"},
	}
	for _, tc := range cases {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: %v %q", tc.args, err, out)
		}
		if strings.Contains(string(out), secret) {
			t.Errorf("%v: printed the password", tc.args)
		}
	}
}
