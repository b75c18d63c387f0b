package frr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clitest"
	"github.com/fabric-reconciler/fabric-reconciler/test/lab"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The tests in this file run the driver against the real FRR leaves of a
// lab of its own (namespaces "frdrv-*", SSH on 127.0.0.1:2301/2302), next
// to the end-to-end lab of test/lab.
const (
	driverLab       = "frdrv"
	driverPortShift = 100
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := lab.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "lab down:", err)
		code = 1
	}
	os.Exit(code)
}

type labEnv struct {
	lab *lab.Lab
	ctx context.Context
	log *testenv.LogBuffer
}

func labSetup(t *testing.T) *labEnv {
	t.Helper()
	l := lab.Shared(t, driverLab, driverPortShift)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if err := l.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	e := &labEnv{lab: l, ctx: ctx, log: &testenv.LogBuffer{}}
	t.Cleanup(func() { e.checkNoSecret(t, e.log.String()) })
	return e
}

func (e *labEnv) fabric(mod func(*config.Fabric)) config.Fabric {
	f := config.Fabric{
		Name: "lab", Driver: "frr", ASN: 63500,
		Switches: []config.Switch{
			clissh.WithAddress(config.Switch{Name: "leaf201", PeerIPs: []string{"192.168.9.204"}}, e.lab.Address("leaf201")),
			clissh.WithAddress(config.Switch{Name: "leaf202", PeerIPs: []string{"192.168.9.205"}}, e.lab.Address("leaf202")),
		},
		MaximumPaths: config.MaximumPaths{Mode: "auto", Limit: 64},
		Platform: &clissh.Settings{SSH: clissh.SSH{Username: "admin", PasswordFile: lab.PasswordFile(), KnownHostsFile: e.lab.KnownHosts(),
			Timeout: config.Duration{Duration: 5 * time.Second}}},
	}
	if mod != nil {
		mod(&f)
	}
	return f
}

func (e *labEnv) driver(t *testing.T, f config.Fabric) *Driver {
	t.Helper()
	return clitest.Open(t, f, "haystack", e.log).(*Driver)
}

func (e *labEnv) checkNoSecret(t *testing.T, text string) {
	t.Helper()
	pw, err := config.ReadSecretFile(lab.PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, pw) {
		t.Errorf("the SSH password appears in the driver's log or errors")
	}
}

// reconcile observes, plans and applies, as the reconciler does.
func reconcile(t *testing.T, ctx context.Context, d *Driver, want fabric.State) (fabric.Changeset, fabric.ApplyResult, error) {
	t.Helper()
	return clitest.Reconcile(t, ctx, d, Name, want)
}

func assertConverged(t *testing.T, ctx context.Context, d *Driver, want fabric.State) {
	t.Helper()
	clitest.AssertConverged(t, ctx, d, Name, want)
}

func TestLabLogin(t *testing.T) {
	e := labSetup(t)
	otherKey := filepath.Join(t.TempDir(), "known_hosts")
	b, err := os.ReadFile(e.lab.KnownHosts())
	if err != nil {
		t.Fatal(err)
	}
	// leaf202's host key, claimed for leaf201's address: a man in the middle.
	var swapped []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if strings.Contains(f[0], strconv.Itoa(2202+driverPortShift)) {
			swapped = append(swapped, strings.Replace(line, f[0], "[127.0.0.1]:"+strconv.Itoa(2201+driverPortShift), 1))
		}
	}
	if err := os.WriteFile(otherKey, []byte(strings.Join(swapped, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongPw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(wrongPw, []byte("not-the-lab-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ssh    func(s *clissh.SSH)
		errHas string
	}{
		{name: "password, known host", ssh: func(s *clissh.SSH) {}},
		{name: "key, known host", ssh: func(s *clissh.SSH) { s.PasswordFile, s.PrivateKeyFile = "", e.lab.ClientKey() }},
		{name: "lab-only opt-out", ssh: func(s *clissh.SSH) { s.KnownHostsFile, s.InsecureIgnoreHostKey = "", true }},
		{name: "host key of another switch", ssh: func(s *clissh.SSH) { s.KnownHostsFile = otherKey }, errHas: "knownhosts: key mismatch"},
		{name: "no known_hosts file", ssh: func(s *clissh.SSH) { s.KnownHostsFile = filepath.Join(t.TempDir(), "missing") }, errHas: "known_hosts file"},
		{name: "wrong password", ssh: func(s *clissh.SSH) { s.PasswordFile = wrongPw }, errHas: "unable to authenticate"},
		{name: "wrong key", ssh: func(s *clissh.SSH) {
			s.PasswordFile, s.PrivateKeyFile = "", filepath.Join(e.lab.KeysDir(), "leaf201_host_ed25519")
		},
			errHas: "unable to authenticate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.driver(t, e.fabric(func(f *config.Fabric) {
				f.Switches = f.Switches[:1]
				tt.ssh(&clissh.SettingsOf(*f).SSH)
			}))
			obs, err := d.Observe(e.ctx)
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(obs.Foreign) != 2 || obs.Foreign[0].ID != "192.168.9.206" {
					t.Fatalf("observed %+v, want the hand-made neighbor as foreign", obs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tt.errHas)
			}
			e.checkNoSecret(t, err.Error())
		})
	}
}

// labState is what the cluster wants in the tests below: IPv4 peers (one
// with local-as), an IPv6 peer, their filters and maximum-paths for both
// families, on both leaves.
func labState() fabric.State {
	var st fabric.State
	for _, sw := range []string{"leaf201", "leaf202"} {
		st.Peers = append(st.Peers,
			fabric.BGPPeer{Switch: sw, Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv4},
			fabric.BGPPeer{Switch: sw, Node: "k8c1s1", PeerAddress: "192.168.9.194", RemoteASN: 63552, LocalASN: 63501, AddressFamily: fabric.IPv4},
			fabric.BGPPeer{Switch: sw, Node: "k8v6", PeerAddress: "2001:db8::9", RemoteASN: 65009, LocalASN: 63500, AddressFamily: fabric.IPv6})
		st.PrefixFilters = append(st.PrefixFilters,
			fabric.PrefixFilter{Switch: sw, Node: "k8c1m0", PeerAddress: "192.168.9.193", Prefixes: []fabric.PrefixRule{{Prefix: "172.27.114.0/26", LE: 26}, {Prefix: "172.29.0.0/16", LE: 32}}},
			fabric.PrefixFilter{Switch: sw, Node: "k8c1s1", PeerAddress: "192.168.9.194", Prefixes: []fabric.PrefixRule{}},
			fabric.PrefixFilter{Switch: sw, Node: "k8v6", PeerAddress: "2001:db8::9", Prefixes: []fabric.PrefixRule{{Prefix: "2001:db8:1::/64", LE: 64}, {Prefix: "2001:db8:ffff::/48", LE: 128}}})
		st.MaximumPaths = append(st.MaximumPaths,
			fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv4, Paths: 3},
			fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv6, Paths: 2})
	}
	return st
}

// TestLabRoundTrip: what the driver writes, it reads back as written (no
// change planned afterwards); deleting everything returns each leaf to its
// exact baseline configuration.
func TestLabRoundTrip(t *testing.T) {
	e := labSetup(t)
	baseline := map[string]string{}
	for _, leaf := range []string{"leaf201", "leaf202"} {
		c, err := e.lab.RunningConfig(e.ctx, leaf)
		if err != nil {
			t.Fatal(err)
		}
		baseline[leaf] = c
	}
	d := e.driver(t, e.fabric(nil))
	plan, res, err := reconcile(t, e.ctx, d, labState())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != len(plan.Changes) || len(plan.Changes) != 16 {
		t.Fatalf("applied %d of %d changes (want 16): %v", len(res.Applied), len(plan.Changes), res.Messages)
	}
	assertConverged(t, e.ctx, d, labState())
	out, err := e.lab.Vtysh(e.ctx, "leaf201", "show running-config")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ip prefix-list FR-haystack-IN-192.168.9.194 seq 5 deny any",
		"neighbor 192.168.9.194 local-as 63501 no-prepend replace-as",
		"neighbor 2001:db8::9 activate",
		"ipv6 prefix-list FR-haystack-IN-2001-db8--9 seq 10 permit 2001:db8:ffff::/48 le 128",
		"maximum-paths ibgp 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("leaf201 lacks %q", want)
		}
	}

	// The cluster leaves the fabric.
	_, res, err = reconcile(t, e.ctx, d, fabric.State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 16 {
		t.Fatalf("deleted %d of 16: %v", len(res.Applied), res.Messages)
	}
	for leaf, want := range baseline {
		got, err := e.lab.RunningConfig(e.ctx, leaf)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s after deleting everything:\n%s\nbaseline:\n%s", leaf, got, want)
		}
	}
}

// TestLabBgpdRestart: bgpd restarts with the saved configuration (lab.sh
// restart, as watchfrr restarts a daemon), losing everything the driver
// typed; zebra keeps its copies of the prefix-lists and route-maps, which
// vtysh's merged "show running-config" still shows. The driver reads
// bgpd's own configuration: it sees the filters gone too, puts them back
// before the neighbors, and bgpd ends with every filter its neighbors use.
func TestLabBgpdRestart(t *testing.T) {
	e := labSetup(t)
	d := e.driver(t, e.fabric(nil))
	if _, _, err := reconcile(t, e.ctx, d, labState()); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, e.ctx, d, labState())
	if out, err := e.lab.Script(e.ctx, "restart", "leaf201", "bgpd"); err != nil {
		t.Fatalf("restarting bgpd: %v\n%s", err, out)
	}
	merged, err := e.lab.Vtysh(e.ctx, "leaf201", "show running-config")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(merged, "route-map FR-haystack-IN-192.168.9.193 permit 10") {
		t.Fatalf("zebra no longer shows the route-map: the case this test is about is gone:\n%s", merged)
	}
	plan, res, err := reconcile(t, e.ctx, d, labState())
	if err != nil {
		t.Fatalf("apply after the restart: %v\n%v", err, res.Messages)
	}
	created := map[fabric.Kind]int{}
	for _, c := range plan.Changes {
		if c.Switch != "leaf201" || c.Action != fabric.ActionCreate {
			t.Errorf("unexpected change %s %s", c.Action, c.Key())
		}
		created[c.Kind]++
	}
	if created[fabric.KindPrefixFilter] != 3 || created[fabric.KindBGPPeer] != 3 {
		t.Errorf("planned %v, want leaf201's 3 filters and 3 peers created again", created)
	}
	assertConverged(t, e.ctx, d, labState())
	bgpd, err := e.lab.Vtysh(e.ctx, "leaf201", "show running-config bgpd")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"route-map FR-haystack-IN-192.168.9.193 permit 10", "neighbor 192.168.9.193 route-map FR-haystack-IN-192.168.9.193 in",
		"ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26"} {
		if !strings.Contains(bgpd, want) {
			t.Errorf("bgpd lacks %q:\n%s", want, bgpd)
		}
	}
}

// sshSessions lists the per-connection sshd processes of a leaf.
func sshSessions(t *testing.T, l *lab.Lab, leaf string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.RunDir(), leaf, "sshd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	daemon := strings.TrimSpace(string(b))
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		st, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(st[bytes.LastIndexByte(st, ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == daemon && f[0] != "Z" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, pid)
		}
	}
	return out
}

// TestLabReconnect: a session the switch dropped is reopened on next use,
// for observing and for applying.
func TestLabReconnect(t *testing.T) {
	e := labSetup(t)
	d := e.driver(t, e.fabric(func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	want := fabric.State{}
	for _, o := range labState().Objects() {
		if o.SwitchName() == "leaf201" {
			want.Add(o)
		}
	}
	for round, op := range []string{"observe", "apply"} {
		if _, err := d.Observe(e.ctx); err != nil {
			t.Fatal(err)
		}
		sessions := sshSessions(t, e.lab, "leaf201")
		if len(sessions) == 0 {
			t.Fatal("no SSH session on leaf201")
		}
		for _, pid := range sessions {
			p, _ := os.FindProcess(pid)
			_ = p.Kill()
		}
		start := time.Now()
		switch op {
		case "observe":
			if _, err := d.Observe(e.ctx); err != nil {
				t.Fatalf("observe after the switch dropped the session: %v", err)
			}
		case "apply":
			if _, _, err := reconcile(t, e.ctx, d, want); err != nil {
				t.Fatalf("apply after the switch dropped the session: %v", err)
			}
			assertConverged(t, e.ctx, d, want)
		}
		t.Logf("%s after the switch dropped the session: %s", op, time.Since(start).Round(time.Millisecond))
		if got := d.session(d.switches[0]).Opened(); got != round+2 {
			t.Fatalf("the session was opened %d times, want %d", got, round+2)
		}
	}
}

// TestLabBadValuesRefused: a value that fails the grammar fails its own
// change (and a neighbor whose filter failed); the rest applies.
func TestLabBadValuesRefused(t *testing.T) {
	e := labSetup(t)
	d := e.driver(t, e.fabric(func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	evil := "k8c1x7\nrouter bgp 1"
	want := fabric.State{
		Peers: []fabric.BGPPeer{
			{Switch: "leaf201", Node: evil, PeerAddress: "192.168.9.197", RemoteASN: 63557, LocalASN: 63500, AddressFamily: fabric.IPv4},
			{Switch: "leaf201", Node: "k8c1s8", PeerAddress: "192.168.9.198", RemoteASN: 63558, LocalASN: 63500, AddressFamily: fabric.IPv4},
		},
		PrefixFilters: []fabric.PrefixFilter{
			{Switch: "leaf201", Node: evil, PeerAddress: "192.168.9.197", Prefixes: []fabric.PrefixRule{{Prefix: "172.27.97.0/26", LE: 26}}},
			{Switch: "leaf201", Node: "k8c1s8", PeerAddress: "192.168.9.198", Prefixes: []fabric.PrefixRule{{Prefix: "172.27.98.0/26;", LE: 26}}},
		},
	}
	_, res, err := reconcile(t, e.ctx, d, want)
	if err == nil {
		t.Fatal("apply reported no error")
	}
	for _, w := range []string{
		`refused create PrefixFilter leaf201/192.168.9.197: node name "k8c1x7\nrouter bgp 1": contains a line break`,
		`refused create BGPPeer leaf201/192.168.9.197: node name "k8c1x7\nrouter bgp 1": contains a line break`,
		`refused create PrefixFilter leaf201/192.168.9.198: filter prefix "172.27.98.0/26;": contains ';'`,
		`refused create BGPPeer leaf201/192.168.9.198: not created: its prefix filter was refused`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "\nrouter") || strings.Contains(strings.Join(res.Messages, " "), "\nrouter") {
		t.Error("the raw newline reached the error or the messages")
	}
	c, _ := e.lab.RunningConfig(e.ctx, "leaf201")
	for _, bad := range []string{"192.168.9.197", "192.168.9.198", "router bgp 1\n"} {
		if strings.Contains(c, bad) {
			t.Errorf("leaf201 holds %q:\n%s", bad, c)
		}
	}

	// The same plan with the bad values fixed goes through.
	want.Peers[0].Node, want.PrefixFilters[0].Node = "k8c1x7", "k8c1x7"
	want.PrefixFilters[1].Prefixes[0].Prefix = "172.27.98.0/26"
	if _, _, err := reconcile(t, e.ctx, d, want); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, e.ctx, d, want)
}

// TestLabConflictAtApply: a neighbor configured by hand between observing
// and applying is found in the way, reported and left alone.
func TestLabConflictAtApply(t *testing.T) {
	e := labSetup(t)
	d := e.driver(t, e.fabric(func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	want := fabric.State{
		Peers:         []fabric.BGPPeer{{Switch: "leaf201", Node: "k8c1s3", PeerAddress: "192.168.9.196", RemoteASN: 63554, LocalASN: 63500, AddressFamily: fabric.IPv4}},
		PrefixFilters: []fabric.PrefixFilter{{Switch: "leaf201", Node: "k8c1s3", PeerAddress: "192.168.9.196", Prefixes: []fabric.PrefixRule{{Prefix: "172.27.200.0/26", LE: 26}}}},
	}
	obs, err := d.Observe(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "lab", State: want}, obs)
	if err := e.lab.Configure(e.ctx, "leaf201", "router bgp 63500", "neighbor 192.168.9.196 remote-as 65196",
		"neighbor 192.168.9.196 description set by hand"); err != nil {
		t.Fatal(err)
	}
	before, _ := e.lab.RunningConfig(e.ctx, "leaf201")
	res, err := d.Apply(e.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conflicts) != 2 || len(res.Applied) != 0 {
		t.Fatalf("result %+v, want both changes in conflict", res)
	}
	for _, c := range res.Conflicts {
		if !strings.Contains(c.Reason, "neighbor 192.168.9.196 is configured without this cluster's mark") {
			t.Errorf("conflict reason %q", c.Reason)
		}
	}
	if after, _ := e.lab.RunningConfig(e.ctx, "leaf201"); after != before {
		t.Fatalf("the switch changed:\n%s\nbefore:\n%s", after, before)
	}
}

// TestLabIncompleteRepaired: an owned filter unbound by hand is observed as
// incomplete, and one apply puts the binding back, nothing else.
func TestLabIncompleteRepaired(t *testing.T) {
	e := labSetup(t)
	d := e.driver(t, e.fabric(nil))
	want := labState()
	if _, _, err := reconcile(t, e.ctx, d, want); err != nil {
		t.Fatal(err)
	}
	if err := e.lab.Configure(e.ctx, "leaf202", "router bgp 63500", "address-family ipv4 unicast",
		"no neighbor 192.168.9.193 route-map FR-haystack-IN-192.168.9.193 in"); err != nil {
		t.Fatal(err)
	}
	obs, err := d.Observe(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "lab", Driver: "frr", State: want}, obs)
	// plan -o native after observing: exactly the lines Apply sends.
	native, err := d.Render(plan)
	if err != nil {
		t.Fatal(err)
	}
	wantNative := "! switch leaf202 (" + e.lab.Address("leaf202") + "): 2 change(s), 3 line(s), against the configuration read at the last observation\n" +
		"configure terminal\nrouter bgp 63500\n address-family ipv4 unicast\n  neighbor 192.168.9.193 route-map FR-haystack-IN-192.168.9.193 in\nend\n"
	if native != wantNative {
		t.Fatalf("Render after Observe:\n%s\nwant:\n%s", native, wantNative)
	}
	res, err := d.Apply(e.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range plan.Changes {
		got = append(got, string(c.Action)+" "+c.Key().String())
	}
	if strings.Join(got, ",") != "update PrefixFilter leaf202/192.168.9.193,update BGPPeer leaf202/192.168.9.193" {
		t.Fatalf("plan %v", got)
	}
	if len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "switch leaf202: 3 line(s) accepted") {
		t.Fatalf("messages %v, want the 3 lines of the binding", res.Messages)
	}
	assertConverged(t, e.ctx, d, want)
}

// TestLabIPv6PeerRefusesIPv4: an IPv6 node peer is active in IPv6 unicast
// only. The lab's IPv6 node advertises, over its IPv6 session, its block,
// an IPv6 prefix it does not own and IPv4 prefixes (10.0.0.0/8); the leaf
// installs the block and nothing else. FRR activates every new neighbor in
// IPv4 unicast (bgp default ipv4-unicast), where the node's filter is not
// bound: re-activated there by hand, the leaf installs 10.0.0.0/8 (the
// lab's proof that the deactivation matters), the driver observes the drift
// and one apply removes it again.
func TestLabIPv6PeerRefusesIPv4(t *testing.T) {
	e := labSetup(t)
	if len(e.lab.Topology.Nodes6) == 0 {
		t.Fatal("the lab topology has no IPv6 node")
	}
	n6 := e.lab.Topology.Nodes6[0]
	const leaf = "leaf201"
	d := e.driver(t, e.fabric(func(f *config.Fabric) { f.Switches = f.Switches[:1] }))
	id := n6.Addr.String()
	want := fabric.State{
		Peers: []fabric.BGPPeer{{Switch: leaf, Node: n6.Name, PeerAddress: id, RemoteASN: n6.ASN, LocalASN: 63500, AddressFamily: fabric.IPv6}},
		PrefixFilters: []fabric.PrefixFilter{{Switch: leaf, Node: n6.Name, PeerAddress: id,
			Prefixes: []fabric.PrefixRule{{Prefix: n6.Block.String(), LE: n6.Block.Bits()}}}},
	}
	if _, _, err := reconcile(t, e.ctx, d, want); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, e.ctx, d, want)

	var v4, foreign6 []netip.Prefix
	for _, r := range n6.Routes {
		switch {
		case r.Addr().Is4():
			v4 = append(v4, r)
		case r != n6.Block:
			foreign6 = append(foreign6, r)
		}
	}
	if len(v4) == 0 || len(foreign6) == 0 {
		t.Fatalf("the IPv6 node advertises %v: the test needs IPv4 prefixes and a foreign IPv6 one", n6.Routes)
	}
	installed := func(p netip.Prefix) func() (bool, string, error) {
		return func() (bool, string, error) {
			nh, err := e.lab.NextHops(e.ctx, leaf, p)
			return len(nh) > 0, fmt.Sprintf("%s via %v", p, nh), err
		}
	}
	notInstalled := func(p netip.Prefix) {
		t.Helper()
		if nh, err := e.lab.NextHops(e.ctx, leaf, p); err != nil || len(nh) > 0 {
			t.Errorf("%s installed %s via %v (%v)", leaf, p, nh, err)
		}
	}
	// The session carries IPv6 only; the node's own block is learned.
	if err := lab.Eventually(e.ctx, "the IPv6 node's block on "+leaf, installed(n6.Block)); err != nil {
		t.Fatal(err)
	}
	state, fams, err := e.lab.NeighborState(e.ctx, leaf, id)
	if err != nil || state != "Established" || strings.Join(fams, ",") != "ipv6Unicast" {
		t.Fatalf("neighbor %s: %s in %v (%v), want Established in ipv6Unicast only", id, state, fams, err)
	}
	// Let a second route refresh's worth of time pass: anything else the
	// node sent arrived with its block.
	time.Sleep(time.Second)
	for _, p := range append(v4, foreign6...) {
		notInstalled(p)
	}

	// Re-activated in IPv4 unicast by hand, as FRR does by default: the
	// node's IPv4 prefixes go in unfiltered.
	if err := e.lab.Configure(e.ctx, leaf, "router bgp 63500", "address-family ipv4 unicast", "neighbor "+id+" activate"); err != nil {
		t.Fatal(err)
	}
	for _, p := range v4 {
		if err := lab.Eventually(e.ctx, p.String()+" through the IPv4 family of the IPv6 session", installed(p)); err != nil {
			t.Fatal(err)
		}
		if nh, _ := e.lab.NextHops(e.ctx, leaf, p); strings.Join(nh, ",") != n6.Addr4.String() {
			t.Fatalf("%s via %v, want via the IPv6 node %s", p, nh, n6.Addr4)
		}
	}

	// The driver sees the drift, plans an update, and repairs only that.
	obs, err := d.Observe(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: want}, obs)
	if len(plan.Changes) != 1 || plan.Changes[0].Action != fabric.ActionUpdate || plan.Changes[0].Kind != fabric.KindBGPPeer ||
		!strings.Contains(plan.Changes[0].Before.(fabric.BGPPeer).Node, "active in ipv4 unicast without this cluster's filter") {
		t.Fatalf("plan after the re-activation:\n%s", clitest.Changes(plan))
	}
	res, err := d.Apply(e.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "3 line(s) accepted") {
		t.Fatalf("messages %v, want the 3 lines of the deactivation", res.Messages)
	}
	assertConverged(t, e.ctx, d, want)
	for _, p := range v4 {
		if err := lab.Eventually(e.ctx, p.String()+" withdrawn", func() (bool, string, error) {
			ok, why, err := installed(p)()
			return !ok, why, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := lab.Eventually(e.ctx, "the IPv6 session back, IPv6 only", func() (bool, string, error) {
		state, fams, err := e.lab.NeighborState(e.ctx, leaf, id)
		return state == "Established" && strings.Join(fams, ",") == "ipv6Unicast", fmt.Sprintf("%s in %v", state, fams), err
	}); err != nil {
		t.Fatal(err)
	}
}

func lockRequest(holder string, ttl time.Duration, now func() time.Time) drivers.LockRequest {
	return drivers.LockRequest{Holder: holder, RunID: "run-" + holder, TTL: ttl, Now: now}
}

// race has two drivers call TryLock at once and checks that exactly one
// wins and the other gets a *drivers.HeldError naming the winner; it
// returns the winner's index and Unlock.
func race(t *testing.T, ctx context.Context, ds [2]*Driver, reqs [2]drivers.LockRequest) (int, drivers.Unlock) {
	t.Helper()
	var unlocks [2]drivers.Unlock
	var errs [2]error
	var wg sync.WaitGroup
	for i := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlocks[i], errs[i] = ds[i].TryLock(ctx, reqs[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatal("both writers hold the lock")
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("neither writer holds the lock: %v; %v", errs[0], errs[1])
	}
	var held *drivers.HeldError
	if err := errs[1-winner]; !errors.As(err, &held) || held.Record.Holder != reqs[winner].Holder ||
		!strings.Contains(err.Error(), reqs[winner].Holder) {
		t.Fatalf("the loser's error %v, want a HeldError naming %s", err, reqs[winner].Holder)
	}
	return winner, unlocks[winner]
}

// TestLabLock: the writer lock on the real leaves. Two writers racing for
// it (both past their first read before either writes, or just started
// together): exactly one wins, the other gets a HeldError naming it. A
// second writer, and its Apply, are refused while the lock is held; an
// expired lock is taken over, and the old holder's Unlock leaves the new
// holder's marker; Unlock removes only its own marker, leaving the leaves
// as they were. Observe never reports the marker.
func TestLabLock(t *testing.T) {
	e := labSetup(t)
	baseline := map[string]string{}
	for _, leaf := range []string{"leaf201", "leaf202"} {
		c, err := e.lab.RunningConfig(e.ctx, leaf)
		if err != nil {
			t.Fatal(err)
		}
		baseline[leaf] = c
	}
	assertBaseline := func(t *testing.T) {
		t.Helper()
		for leaf, want := range baseline {
			if got, _ := e.lab.RunningConfig(e.ctx, leaf); got != want {
				t.Fatalf("%s is not back to its baseline:\n%s", leaf, got)
			}
		}
	}
	markers := func(t *testing.T) string {
		t.Helper()
		var out []string
		for _, leaf := range []string{"leaf201", "leaf202"} {
			c, err := e.lab.RunningConfig(e.ctx, leaf)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(c, "\n") {
				if strings.Contains(l, "FR-haystack-MARK-LOCK description") {
					out = append(out, leaf+": "+l)
				}
			}
		}
		return strings.Join(out, "\n")
	}
	pair := func(t *testing.T) [2]*Driver {
		var ds [2]*Driver
		for i := range ds {
			ds[i] = e.driver(t, e.fabric(nil))
			// Sessions open before the race: the writers then meet at
			// the marker, not at the SSH handshake.
			if _, err := ds[i].Observe(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		return ds
	}
	reqs := [2]drivers.LockRequest{lockRequest("writer-a", time.Minute, nil), lockRequest("writer-b", time.Minute, nil)}

	t.Run("a fresh driver (no session yet) takes and releases the lock", func(t *testing.T) {
		d := e.driver(t, e.fabric(nil))
		unlock, err := d.TryLock(e.ctx, reqs[0])
		if err != nil {
			t.Fatal(err)
		}
		if m := markers(t); strings.Count(m, "holder=writer-a run=run-writer-a") != 2 {
			t.Fatalf("markers:\n%s", m)
		}
		if err := unlock(e.ctx); err != nil {
			t.Fatal(err)
		}
		assertBaseline(t)
	})

	t.Run("a slow attempt is given up and tried again; always slow, nothing is left", func(t *testing.T) {
		for _, tc := range []struct {
			slow    int // attempts on leaf201 held past lockSettle
			wantErr bool
		}{{slow: 1}, {slow: lockAttempts, wantErr: true}} {
			d := e.driver(t, e.fabric(nil))
			d.lockSettle = 150 * time.Millisecond
			var reads atomic.Int32
			d.testLockHook = func(stage string, sw config.Switch) {
				if stage == "read" && sw.Name == "leaf201" && int(reads.Add(1)) <= tc.slow {
					time.Sleep(2 * d.lockSettle)
				}
			}
			unlock, err := d.TryLock(e.ctx, reqs[0])
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "gave up the lock") {
					t.Fatalf("slow %d times: err %v, want the lock given up", tc.slow, err)
				}
				assertBaseline(t)
				continue
			}
			if err != nil {
				t.Fatalf("slow once: %v", err)
			}
			if m := markers(t); strings.Count(m, "holder=writer-a run=run-writer-a") != 2 {
				t.Fatalf("markers:\n%s", m)
			}
			if err := unlock(e.ctx); err != nil {
				t.Fatal(err)
			}
			assertBaseline(t)
		}
	})

	t.Run("both read the marker free, then both write: one wins", func(t *testing.T) {
		ds := pair(t)
		for round := 0; round < 3; round++ {
			var read sync.WaitGroup
			read.Add(2)
			for _, d := range ds {
				d.testLockHook = func(stage string, sw config.Switch) {
					if stage == "read" && sw.Name == "leaf201" {
						read.Done()
						read.Wait() // neither writes before both have read
					}
				}
			}
			winner, unlock := race(t, e.ctx, ds, reqs)
			if m := markers(t); strings.Count(m, "\n")+1 != 2 || !strings.Contains(m, "holder="+reqs[winner].Holder) {
				t.Fatalf("markers after the race:\n%s", m)
			}
			if err := unlock(e.ctx); err != nil {
				t.Fatal(err)
			}
			assertBaseline(t)
		}
	})

	t.Run("started together: one wins", func(t *testing.T) {
		ds := pair(t)
		for round := 0; round < 3; round++ {
			_, unlock := race(t, e.ctx, ds, reqs)
			if err := unlock(e.ctx); err != nil {
				t.Fatal(err)
			}
			assertBaseline(t)
		}
	})

	t.Run("held: the other writer and its apply are refused; Observe does not see the marker", func(t *testing.T) {
		ds := pair(t)
		before, err := ds[1].Observe(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		unlock, err := ds[0].TryLock(e.ctx, reqs[0])
		if err != nil {
			t.Fatal(err)
		}
		var held *drivers.HeldError
		if _, err := ds[1].TryLock(e.ctx, reqs[1]); !errors.As(err, &held) || held.Record.Holder != "writer-a" ||
			held.Where != "switch leaf201 peer-group FR-haystack-MARK-LOCK" {
			t.Fatalf("second writer: %v, want a HeldError naming writer-a at leaf201", err)
		}
		after, err := ds[1].Observe(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := describe(after.Owned.Objects(), after.Foreign), describe(before.Owned.Objects(), before.Foreign); got != want {
			t.Fatalf("Observe with the lock held:\n%s\nwithout:\n%s", got, want)
		}
		want := labState()
		plan := fabric.Diff(fabric.Target{Name: "lab", Driver: Name, State: want}, after)
		configs := markers(t)
		if _, err := ds[1].Apply(e.ctx, plan); !errors.As(err, &held) || held.Record.Holder != "writer-a" {
			t.Fatalf("apply without the lock: %v, want a HeldError naming writer-a", err)
		}
		if markers(t) != configs {
			t.Fatal("the markers changed")
		}
		for leaf, c := range baseline {
			if got, _ := e.lab.RunningConfig(e.ctx, leaf); withoutLock(got) != c {
				t.Fatalf("%s changed under another writer's lock:\n%s", leaf, got)
			}
		}
		if _, _, err := reconcile(t, e.ctx, ds[0], want); err != nil {
			t.Fatalf("the holder's apply: %v", err)
		}
		assertConverged(t, e.ctx, ds[0], want)
		if _, _, err := reconcile(t, e.ctx, ds[0], fabric.State{}); err != nil {
			t.Fatal(err)
		}
		if err := unlock(e.ctx); err != nil {
			t.Fatal(err)
		}
		assertBaseline(t)
	})

	t.Run("an expired lock is taken over; the old holder's unlock leaves it", func(t *testing.T) {
		ds := pair(t)
		past := func() time.Time { return time.Now().Add(-time.Hour) }
		oldUnlock, err := ds[0].TryLock(e.ctx, lockRequest("writer-a", time.Minute, past))
		if err != nil {
			t.Fatal(err)
		}
		unlock, err := ds[1].TryLock(e.ctx, reqs[1])
		if err != nil {
			t.Fatalf("taking over an expired lock: %v", err)
		}
		if err := oldUnlock(e.ctx); err != nil {
			t.Fatal(err)
		}
		if m := markers(t); strings.Count(m, "holder=writer-b") != 2 {
			t.Fatalf("markers after the old holder's unlock:\n%s", m)
		}
		var held *drivers.HeldError
		if _, err := ds[0].TryLock(e.ctx, reqs[0]); !errors.As(err, &held) || held.Record.Holder != "writer-b" {
			t.Fatalf("the old holder again: %v, want a HeldError naming writer-b", err)
		}
		if err := unlock(e.ctx); err != nil {
			t.Fatal(err)
		}
		assertBaseline(t)
	})
}

// withoutLock is a running configuration without its lock marker lines.
func withoutLock(c string) string {
	var out []string
	for _, l := range strings.SplitAfter(c, "\n") {
		if !strings.Contains(l, "-MARK-LOCK ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
