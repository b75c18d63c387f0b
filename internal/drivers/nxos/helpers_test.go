package nxos

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clitest"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The tests drive emulated Nexus leaves (test/nxossim) on 127.0.0.1 with
// the real driver and scrapligo's cisco_nxos platform.

var leafNames = []string{"leaf201", "leaf202"}

// leafStartup is what the network team configured on each leaf before
// fabric-reconciler: feature bgp, the instance, a hand-made uplink neighbor
// and its prefix-list.
var leafStartup = []string{
	"feature bgp",
	"router bgp 63500",
	"router-id 192.168.9.204",
	"log-neighbor-changes",
	"neighbor 192.168.9.250",
	"remote-as 65250",
	"description uplink to the core (hand-made)",
	"address-family ipv4 unicast",
	"prefix-list CORE-IN in",
	"exit",
	"exit",
	"vrf blue",
	"exit",
	"exit",
	"ip prefix-list CORE-IN seq 5 permit 0.0.0.0/0",
}

type lab struct {
	sims       map[string]*nxossim.Server
	keyFile    string // a client key the leaves accept (labOpts.clientKey)
	password   string
	dir        string
	knownHosts string
	log        *testenv.LogBuffer
	ctx        context.Context
}

type labOpts struct {
	sessionsTakeBGP bool // the emulator's Options.SessionAllFeatures
	startup         []string
	clientKey       bool // the leaves also accept a public-key login
	// checkpointOverwrite plays leaves that replace a checkpoint of an
	// existing name instead of refusing it (the emulator's
	// Options.CheckpointOverwrite).
	checkpointOverwrite bool
	// password, when set, is the leaves' password instead of a random one.
	password string
}

// newLab starts two emulated leaves with a random password and writes a
// known_hosts file for them.
func newLab(t *testing.T, o labOpts) *lab {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	l := &lab{sims: map[string]*nxossim.Server{}, password: "nxos-pw-" + hex.EncodeToString(b), dir: t.TempDir(), log: &testenv.LogBuffer{}}
	if o.password != "" {
		l.password = o.password
	}
	startup := o.startup
	if startup == nil {
		startup = leafStartup
	}
	var keys []ssh.PublicKey
	if o.clientKey {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		blk, err := ssh.MarshalPrivateKey(priv, "fabric-reconciler test")
		if err != nil {
			t.Fatal(err)
		}
		l.keyFile = l.write(t, "id_ed25519", string(pem.EncodeToMemory(blk)))
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, sp)
	}
	var hosts []string
	for _, name := range leafNames {
		sim, err := nxossim.Start(nxossim.Options{Username: "admin", Password: l.password, Hostname: name,
			StartupConfig: startup, SessionAllFeatures: o.sessionsTakeBGP, AuthorizedKeys: keys, CheckpointOverwrite: o.checkpointOverwrite})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.Close() })
		l.sims[name] = sim
		hosts = append(hosts, knownhosts.Line([]string{knownhosts.Normalize(sim.Addr())}, sim.HostKey()))
	}
	l.knownHosts = l.write(t, "known_hosts", strings.Join(hosts, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	l.ctx = ctx
	return l
}

func (l *lab) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(l.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fabric is the lab's fabric configuration, changed by mod.
func (l *lab) fabric(t *testing.T, mod func(*config.Fabric)) config.Fabric {
	t.Helper()
	f := config.Fabric{Name: "lab", Driver: Name, ASN: 63500,
		MaximumPaths: config.MaximumPaths{Mode: "auto", Limit: 64},
		Platform: &clissh.Settings{SSH: clissh.SSH{Username: "admin", PasswordFile: l.write(t, "password", l.password+"\n"),
			KnownHostsFile: l.knownHosts, Timeout: config.Duration{Duration: 5 * time.Second}}, Own: &Settings{VRF: "default", SessionName: "fabric-reconciler-haystack", CommitMode: CommitCheckpoint}}}
	for i, name := range leafNames {
		f.Switches = append(f.Switches, clissh.WithAddress(config.Switch{Name: name, PeerIPs: []string{"192.168.9.20" + string(rune('4'+i))}}, l.sims[name].Addr()))
	}
	if mod != nil {
		mod(&f)
	}
	return f
}

func (l *lab) driver(t *testing.T, f config.Fabric) *Driver {
	t.Helper()
	return clitest.Open(t, f, "haystack", l.log).(*Driver)
}

// checkNoSecret fails when the password shows up in text or the log.
func (l *lab) checkNoSecret(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, l.password) || strings.Contains(l.log.String(), l.password) {
		t.Fatal("the SSH password appears in an output or the log")
	}
}

// body is `show running-config bgp` and `rpm` without their comment headers.
func (l *lab) body(t *testing.T, leaf string) string {
	t.Helper()
	b, err := l.sims[leaf].ConfigBody("bgp", "rpm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// haystack is the desired state of the reference lab on both leaves, as the
// reconciler translates examples/haystack (checked end to end in
// cmd/fabric-reconciler).
func haystack() fabric.State {
	var s fabric.State
	nodes := []struct {
		name, addr, block string
		asn               uint32
	}{
		{"k8c1m0", "192.168.9.193", "172.27.114.0/26", 63551},
		{"k8c1s1", "192.168.9.194", "172.27.15.192/26", 63552},
		{"k8c1s2", "192.168.9.195", "172.27.111.192/26", 63553},
	}
	for _, leaf := range leafNames {
		for _, n := range nodes {
			s.Peers = append(s.Peers, fabric.BGPPeer{Switch: leaf, Node: n.name, PeerAddress: n.addr, RemoteASN: n.asn, LocalASN: 63500, AddressFamily: fabric.IPv4})
			s.PrefixFilters = append(s.PrefixFilters, fabric.PrefixFilter{Switch: leaf, Node: n.name, PeerAddress: n.addr,
				Prefixes: []fabric.PrefixRule{{Prefix: n.block, LE: 26}, {Prefix: "172.29.0.0/16", LE: 32}}})
		}
		s.MaximumPaths = append(s.MaximumPaths, fabric.MaximumPaths{Switch: leaf, AddressFamily: fabric.IPv4, Paths: 3})
	}
	return s
}

var runs atomic.Int64

// lockRequest is a test run's request for the fabric's writer lock, with a
// run id of its own.
func lockRequest() drivers.LockRequest {
	return drivers.LockRequest{Holder: "test-host:4242", RunID: fmt.Sprintf("run-%d", runs.Add(1)), TTL: time.Minute}
}

// lock takes the fabric's writer lock for the rest of the test.
func lock(t *testing.T, ctx context.Context, d *Driver) drivers.Unlock {
	t.Helper()
	unlock, err := d.TryLock(ctx, lockRequest())
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	t.Cleanup(func() { _ = unlock(context.Background()) })
	return unlock
}

// reconcile observes, plans and applies, as the reconciler does: it
// observes without the lock; when the plan needs changes, it takes the lock,
// observes and plans again under it, applies and releases the lock.
func reconcile(t *testing.T, ctx context.Context, d *Driver, want fabric.State) (fabric.Changeset, fabric.ApplyResult, error) {
	t.Helper()
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if plan := fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: want}, obs); len(plan.Changes) == 0 {
		return plan, fabric.ApplyResult{}, nil
	}
	unlock, err := d.TryLock(ctx, lockRequest())
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer func() {
		if err := unlock(context.Background()); err != nil {
			t.Errorf("unlock: %v", err)
		}
	}()
	return clitest.Reconcile(t, ctx, d, Name, want)
}

// assertConverged checks that a fresh observation needs no change.
func assertConverged(t *testing.T, ctx context.Context, d *Driver, want fabric.State) {
	t.Helper()
	clitest.AssertConverged(t, ctx, d, Name, want)
}

// configLines are the lines typed in configuration modes (and session
// controls) since the last ResetLog.
func configLines(s *nxossim.Server) []string {
	var out []string
	for _, e := range s.Log() {
		if e.Mode != "" || strings.HasPrefix(e.Line, "configure") || strings.HasPrefix(e.Line, "checkpoint") ||
			strings.HasPrefix(e.Line, "rollback") || strings.HasPrefix(e.Line, "no checkpoint") {
			out = append(out, e.Line)
		}
	}
	return out
}

// nxosOf returns the fabric's own nxos section, to change in a test.
func nxosOf(f *config.Fabric) *Settings {
	set := clissh.SettingsOf(*f)
	if set.Own == nil {
		set.Own = &Settings{}
	}
	return set.Own.(*Settings)
}
