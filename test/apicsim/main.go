// Command apicsim runs the APIC emulator (package emulator) as a server, so
// fabric-reconciler can be tried without an APIC:
//
//	go run ./test/apicsim --listen 127.0.0.1:8443 --password lab-password \
//	    --seed examples/haystack/apic-baseline.json
//
// It serves HTTPS with a fresh self-signed certificate (write it out with
// --cert-out to verify it), accepts admin/<password> at aaaLogin, lists what
// it was asked at GET /_emulator/requests, and takes faults to inject at
// POST /_emulator/faults (DELETE clears them).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "apicsim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("apicsim", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8443", "address to serve HTTPS on (loopback only)")
	user := fs.String("username", "admin", "the user aaaLogin accepts")
	password := fs.String("password", "", "the user's password (or --password-file)")
	passwordFile := fs.String("password-file", "", "file holding the user's password")
	ttl := fs.Duration("token-ttl", 600*time.Second, "session lifetime (refreshTimeoutSeconds)")
	dup := fs.String("duplicate-cookie", emulator.CookieFirst, "which of several APIC-Cookie values counts: first, last or any")
	seed := fs.String("seed", "", "a JSON payload (polUni or fvTenant tree) loaded at start, e.g. examples/haystack/apic-baseline.json")
	certOut := fs.String("cert-out", "", "write the server's self-signed certificate (PEM) here, for caFile")
	userCert := fs.String("user-cert", "", "register a user certificate for signature login: <certName>=<file.pem>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %s: the emulator only listens on loopback addresses", *listen)
	}
	pw := *password
	if *passwordFile != "" {
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			return err
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	if pw == "" {
		return fmt.Errorf("give --password or --password-file")
	}
	sim := emulator.New(emulator.Options{Users: map[string]string{*user: pw}, TokenTTL: *ttl, DuplicateCookie: *dup})
	if *seed != "" {
		b, err := os.ReadFile(*seed)
		if err != nil {
			return err
		}
		if err := sim.Post("uni", b); err != nil {
			return fmt.Errorf("--seed %s: %v", *seed, err)
		}
	}
	if *userCert != "" {
		name, file, ok := strings.Cut(*userCert, "=")
		if !ok {
			return fmt.Errorf("--user-cert: want <certName>=<file.pem>")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if err := sim.AddCertificate(*user, name, b); err != nil {
			return fmt.Errorf("--user-cert: %w", err)
		}
	}
	// Catch SIGTERM before the banner says we are up: whoever reads the
	// banner may stop us at once, and must not hit the default action.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := emulator.Start(sim, *listen)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *certOut != "" {
		if err := os.WriteFile(*certOut, srv.CertPEM, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("apicsim: serving %s (user %s); request log at %s/_emulator/requests\n", srv.URL, *user, srv.URL)
	<-ctx.Done()
	return nil
}
