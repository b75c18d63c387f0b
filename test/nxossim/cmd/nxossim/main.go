// Command nxossim runs the NX-OS switch emulator for demos:
//
//	go run ./test/nxossim/cmd/nxossim --listen 127.0.0.1:2222 \
//	    --username admin --password-file secrets/nxos-password --hostname leaf201
//
// It prints "nxossim: listening on ADDR" once it accepts connections and runs
// until interrupted. It listens on loopback addresses only.
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nxossim:", err)
		os.Exit(1)
	}
}

func run(argv []string) error {
	fl := flag.NewFlagSet("nxossim", flag.ContinueOnError)
	listen := fl.String("listen", "127.0.0.1:2222", "loopback address to listen on (port 0 picks one)")
	user := fl.String("username", "admin", "login user")
	pwFile := fl.String("password-file", "", "file holding the login password")
	keysFile := fl.String("authorized-keys", "", "authorized_keys file for public-key logins")
	hostKeyFile := fl.String("host-key", "", "SSH host key (PEM); generated and saved there if missing; default: a fresh key")
	hostname := fl.String("hostname", "switch", "switch hostname (the prompt)")
	configFile := fl.String("config", "", "file of configuration lines to apply at start (e.g. feature bgp)")
	knownHosts := fl.String("known-hosts", "", "write this server's host key line to this known_hosts file (replacing the line for its address)")
	sessionAll := fl.Bool("session-all-features", false, "let configuration sessions take BGP, prefix-list and route-map lines (Cisco documents ACL and QoS only)")
	verbose := fl.Bool("v", false, "log logins and faults to stderr")
	if err := fl.Parse(argv); err != nil {
		return err
	}
	opts := nxossim.Options{Listen: *listen, Username: *user, Hostname: *hostname, SessionAllFeatures: *sessionAll}
	if *pwFile != "" {
		pw, err := readSecret(*pwFile)
		if err != nil {
			return err
		}
		opts.Password = pw
	}
	if *keysFile != "" {
		keys, err := readAuthorizedKeys(*keysFile)
		if err != nil {
			return err
		}
		opts.AuthorizedKeys = keys
	}
	if opts.Password == "" && len(opts.AuthorizedKeys) == 0 {
		return errors.New("give --password-file or --authorized-keys")
	}
	if *hostKeyFile != "" {
		k, err := loadOrCreateHostKey(*hostKeyFile)
		if err != nil {
			return err
		}
		opts.HostKey = k
	}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "!") {
				opts.StartupConfig = append(opts.StartupConfig, t)
			}
		}
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	// Catch SIGTERM before the banner says we are up: whoever reads the
	// banner may stop us at once, and must not hit the default action.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	srv, err := nxossim.Start(opts)
	if err != nil {
		return err
	}
	if *knownHosts != "" {
		if err := writeKnownHost(*knownHosts, srv.Addr(), srv.HostKey()); err != nil {
			_ = srv.Close()
			return err
		}
	}
	fmt.Printf("nxossim: listening on %s (hostname %s, host key %s)\n", srv.Addr(), *hostname,
		ssh.FingerprintSHA256(srv.HostKey()))
	<-sig
	return srv.Close()
}

// writeKnownHost puts the server's host key line into a known_hosts file,
// replacing an older line for the same address.
func writeKnownHost(path, addr string, key ssh.PublicKey) error {
	host := knownhosts.Normalize(addr)
	var keep []string
	if b, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] != host {
				keep = append(keep, l)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	keep = append(keep, knownhosts.Line([]string{host}, key))
	return os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o644)
}

// readSecret reads a secret file, dropping one trailing newline. The value
// is never printed.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("password file %s is empty", path)
	}
	return s, nil
}

func readAuthorizedKeys(path string) ([]ssh.PublicKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []ssh.PublicKey
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		keys = append(keys, k)
	}
	return keys, sc.Err()
}

func loadOrCreateHostKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("host key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "nxossim host key")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}
