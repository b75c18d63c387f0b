package nxos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// TestLogin: password and key logins with the switch's host key checked
// against known_hosts; the lab-only opt-out; and the failures: another
// switch's host key at the address, no known_hosts file, a wrong password.
// No secret ever reaches an error or the log.
func TestLogin(t *testing.T) {
	l := newLab(t, labOpts{clientKey: true})
	// leaf202's host key, claimed for leaf201's address: a man in the middle.
	swapped := l.write(t, "swapped_known_hosts",
		knownhosts.Line([]string{knownhosts.Normalize(l.sims["leaf201"].Addr())}, l.sims["leaf202"].HostKey())+"\n")
	wrongPw := l.write(t, "wrong-password", "not-the-lab-password\n")
	tests := []struct {
		name   string
		ssh    func(s *clissh.SSH)
		errHas string
	}{
		{name: "password, known host", ssh: func(s *clissh.SSH) {}},
		{name: "key, known host", ssh: func(s *clissh.SSH) { s.PasswordFile, s.PrivateKeyFile = "", l.keyFile }},
		{name: "lab-only opt-out", ssh: func(s *clissh.SSH) { s.KnownHostsFile, s.InsecureIgnoreHostKey = "", true }},
		{name: "host key of another switch", ssh: func(s *clissh.SSH) { s.KnownHostsFile = swapped }, errHas: "knownhosts: key mismatch"},
		{name: "no known_hosts file", ssh: func(s *clissh.SSH) { s.KnownHostsFile = filepath.Join(t.TempDir(), "missing") }, errHas: "known_hosts file"},
		{name: "wrong password", ssh: func(s *clissh.SSH) { s.PasswordFile = wrongPw }, errHas: "unable to authenticate"},
		{name: "no password file", ssh: func(s *clissh.SSH) { s.PasswordFile = filepath.Join(t.TempDir(), "missing") }, errHas: "ssh password: reading secret file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := l.driver(t, l.fabric(t, func(f *config.Fabric) {
				f.Switches = f.Switches[:1]
				tt.ssh(&clissh.SettingsOf(*f).SSH)
			}))
			obs, err := d.Observe(l.ctx)
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(obs.Foreign) != 2 || obs.Foreign[0].ID != "192.168.9.250" {
					t.Fatalf("observed %+v, want the hand-made neighbor as foreign", obs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tt.errHas)
			}
			key, _ := os.ReadFile(l.keyFile)
			if strings.Contains(err.Error(), strings.TrimSpace(string(key))) {
				t.Fatal("the private key is in the error")
			}
			l.checkNoSecret(t, err.Error())
		})
	}
}
