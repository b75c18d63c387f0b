// Package lab drives test/lab/lab.sh from Go tests: the reference lab of two
// FRR leaves and Calico-style BIRD nodes in network namespaces. A test
// package uses one lab for its whole run (Shared), resets it between tests
// (Reset) and reads the routers' state with FRR's JSON commands.
//
// Several labs can run at once under different names: each has its own
// namespaces ("<name>-leaf201", ...), its own run folder and its own SSH
// forwarder ports on 127.0.0.1 (2201/2202 shifted by the port shift).
//
// The daemons' files (configs, pid files, sockets, logs) are in a run folder
// outside the checkout, under /run (RunDir): FRR's user must reach it from
// any checkout, a home folder of mode 0700 included, and socket paths must
// stay short whatever the checkout's path. The SSH keys stay in the
// checkout (KeysDir).
package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// Leaf is an FRR leaf of the topology.
type Leaf struct {
	Name     string
	Addr     netip.Addr
	ASN      uint32
	RouterID string
	Port     int // SSH forwarder port on 127.0.0.1, before the lab's shift
}

// Node is a BIRD node; a spare node is not in the cluster state.
type Node struct {
	Name   string
	Addr   netip.Addr
	ASN    uint32
	Block  netip.Prefix
	Routes []netip.Prefix // the service routes it advertises
	Spare  bool
}

// Node6 is an IPv6 node: an FRR bgpd that peers with the leaves over IPv6
// only and advertises Routes, IPv4 prefixes included, over that session (a
// misbehaving node). It is in no cluster state.
type Node6 struct {
	Name  string
	Addr  netip.Addr // its IPv6 address; Addr4 has the same host number
	Addr4 netip.Addr // its IPv4 address, the next hop of its IPv4 routes
	ASN   uint32
	Block netip.Prefix // the IPv6 prefix it may advertise
	// Routes are what it advertises: Block, and prefixes it may not.
	Routes []netip.Prefix
}

// Topology is test/lab/topology.
type Topology struct {
	Leaves []Leaf
	Nodes  []Node
	Nodes6 []Node6
}

// LeafIPv6 is a leaf's address on the lab's IPv6 segment: fd00:9:: with the
// host number of its IPv4 address (lab.sh v6addr).
func LeafIPv6(l Leaf) netip.Addr {
	b := l.Addr.As4()
	return netip.MustParseAddr(fmt.Sprintf("fd00:9::%d", b[3]))
}

// Dir is test/lab in the repository.
func Dir() string { return filepath.Join(testenv.RepoRoot(), "test", "lab") }

// ReadTopology reads a topology file.
func ReadTopology(path string) (Topology, error) {
	f, err := os.Open(path)
	if err != nil {
		return Topology{}, err
	}
	defer f.Close()
	var t Topology
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 6 {
			return Topology{}, fmt.Errorf("%s:%d: want 6 fields", path, n)
		}
		addr, err1 := netip.ParseAddr(f[2])
		asn, err2 := strconv.ParseUint(f[3], 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return Topology{}, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		switch f[0] {
		case "leaf":
			port, err := strconv.Atoi(f[5])
			if err != nil {
				return Topology{}, fmt.Errorf("%s:%d: port: %w", path, n, err)
			}
			t.Leaves = append(t.Leaves, Leaf{Name: f[1], Addr: addr, ASN: uint32(asn), RouterID: f[4], Port: port})
		case "node6":
			block, err := netip.ParsePrefix(f[4])
			if err != nil || !addr.Is6() {
				return Topology{}, fmt.Errorf("%s:%d: node6 wants an IPv6 address and block", path, n)
			}
			host := addr.String()[strings.LastIndex(addr.String(), ":")+1:]
			addr4, err := netip.ParseAddr("192.168.9." + host)
			if err != nil {
				return Topology{}, fmt.Errorf("%s:%d: node6 host number %q: %w", path, n, host, err)
			}
			nd := Node6{Name: f[1], Addr: addr, Addr4: addr4, ASN: uint32(asn), Block: block}
			for _, r := range strings.Split(f[5], ",") {
				p, err := netip.ParsePrefix(r)
				if err != nil {
					return Topology{}, fmt.Errorf("%s:%d: %w", path, n, err)
				}
				nd.Routes = append(nd.Routes, p)
			}
			t.Nodes6 = append(t.Nodes6, nd)
		case "node", "spare":
			block, err := netip.ParsePrefix(f[4])
			if err != nil {
				return Topology{}, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			nd := Node{Name: f[1], Addr: addr, ASN: uint32(asn), Block: block, Spare: f[0] == "spare"}
			for _, r := range strings.Split(f[5], ",") {
				p, err := netip.ParsePrefix(r)
				if err != nil {
					return Topology{}, fmt.Errorf("%s:%d: %w", path, n, err)
				}
				nd.Routes = append(nd.Routes, p)
			}
			t.Nodes = append(t.Nodes, nd)
		default:
			return Topology{}, fmt.Errorf("%s:%d: unknown role %q", path, n, f[0])
		}
	}
	return t, sc.Err()
}

// Lab is one instance of the lab.
type Lab struct {
	Name      string
	PortShift int
	Topology  Topology
	// Started is true when this process brought the lab up (so Stop takes
	// it down); a lab that was already up is left up.
	Started bool
	lock    *os.File
	runDir  string
}

// New describes a lab; nothing is started.
func New(name string, portShift int) (*Lab, error) {
	t, err := ReadTopology(filepath.Join(Dir(), "topology"))
	if err != nil {
		return nil, err
	}
	l := &Lab{Name: name, PortShift: portShift, Topology: t}
	// lab.sh alone knows where the run folder of this checkout's lab is.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := l.Script(ctx, "rundir")
	if err != nil {
		return nil, err
	}
	l.runDir = strings.TrimSpace(out)
	if !filepath.IsAbs(l.runDir) {
		return nil, fmt.Errorf("lab.sh rundir: %q is no absolute path", l.runDir)
	}
	return l, nil
}

// RunDir is the folder of the lab's daemons (lab.sh rundir): per node its
// configuration, pid files, sockets and logs.
func (l *Lab) RunDir() string { return l.runDir }

// KeysDir holds the lab's SSH keys and known_hosts file, in the checkout
// (examples/haystack/fabric-frr.yaml names the frlab one).
func (l *Lab) KeysDir() string { return filepath.Join(Dir(), "run", l.Name, "keys") }

// KnownHosts is the known_hosts file with the leaves' host keys.
func (l *Lab) KnownHosts() string { return filepath.Join(l.KeysDir(), "known_hosts") }

// ClientKey is the private key the leaves accept for user admin.
func (l *Lab) ClientKey() string { return filepath.Join(l.KeysDir(), "client_ed25519") }

// PasswordFile holds the leaves' admin password.
func PasswordFile() string {
	return filepath.Join(testenv.RepoRoot(), "examples", "haystack", "secrets", "frr-password")
}

// Address is a leaf's SSH endpoint on 127.0.0.1.
func (l *Lab) Address(leaf string) string {
	for _, lf := range l.Topology.Leaves {
		if lf.Name == leaf {
			return fmt.Sprintf("127.0.0.1:%d", lf.Port+l.PortShift)
		}
	}
	return ""
}

// Script runs lab.sh with the lab's name and port shift.
func (l *Lab) Script(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(Dir(), "lab.sh"), args...)
	cmd.Env = append(os.Environ(), "LAB="+l.Name, "LAB_PORT_SHIFT="+strconv.Itoa(l.PortShift))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("lab.sh %s: %w\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), nil
}

// Up brings the lab up, or checks that it is; Started tells which.
func (l *Lab) Up(ctx context.Context) error {
	if _, err := l.Script(ctx, "status"); err == nil {
		return nil
	}
	l.Started = true
	_, err := l.Script(ctx, "up")
	return err
}

// Down takes the lab down.
func (l *Lab) Down(ctx context.Context) error {
	_, err := l.Script(ctx, "down")
	return err
}

// Reset puts the leaves back to their baseline configuration and the nodes
// back to their Calico routes.
func (l *Lab) Reset(ctx context.Context) error {
	_, err := l.Script(ctx, "reset")
	return err
}

// Vtysh runs commands in a leaf's vtysh (from the host, not over SSH).
func (l *Lab) Vtysh(ctx context.Context, leaf string, cmds ...string) (string, error) {
	args := []string{"vtysh", leaf}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	return l.Script(ctx, args...)
}

// Configure sends configuration lines to a leaf by hand, as the network
// team would.
func (l *Lab) Configure(ctx context.Context, leaf string, lines ...string) error {
	out, err := l.Vtysh(ctx, leaf, append([]string{"configure terminal"}, lines...)...)
	if err == nil && strings.TrimSpace(out) != "" {
		err = fmt.Errorf("vtysh on %s: %s", leaf, out)
	}
	return err
}

// RunningConfig returns a leaf's running configuration without its header.
func (l *Lab) RunningConfig(ctx context.Context, leaf string) (string, error) {
	out, err := l.Vtysh(ctx, leaf, "show running-config")
	if i := strings.Index(out, "\nfrr version"); i >= 0 {
		out = out[i+1:]
	}
	return out, err
}

// JSON runs a vtysh show command with JSON output and decodes it.
func (l *Lab) JSON(ctx context.Context, leaf, cmd string, v any) error {
	out, err := l.Vtysh(ctx, leaf, cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("%s on %s: %w: %.200s", cmd, leaf, err, out)
	}
	return nil
}

// Peer is one neighbor in "show bgp summary json".
type Peer struct {
	RemoteAS uint32 `json:"remoteAs"`
	State    string `json:"state"`
	PfxRcd   int    `json:"pfxRcd"`
	Desc     string `json:"desc"`
}

// Summary returns the IPv4 unicast neighbors of a leaf by address.
func (l *Lab) Summary(ctx context.Context, leaf string) (map[string]Peer, error) {
	var s struct {
		IPv4 struct {
			Peers map[string]Peer `json:"peers"`
		} `json:"ipv4Unicast"`
	}
	if err := l.JSON(ctx, leaf, "show bgp summary json", &s); err != nil {
		return nil, err
	}
	if s.IPv4.Peers == nil {
		s.IPv4.Peers = map[string]Peer{}
	}
	return s.IPv4.Peers, nil
}

// NextHops returns the next hops of the selected route for exactly prefix
// in a leaf's RIB (from "show ip route PREFIX json", or "show ipv6 route"),
// sorted; none when there is no such route.
func (l *Lab) NextHops(ctx context.Context, leaf string, prefix netip.Prefix) ([]string, error) {
	var routes map[string][]struct {
		Prefix   string `json:"prefix"`
		Protocol string `json:"protocol"`
		Selected bool   `json:"selected"`
		Nexthops []struct {
			IP     string `json:"ip"`
			Active bool   `json:"active"`
		} `json:"nexthops"`
	}
	show := "show ip route "
	if prefix.Addr().Is6() {
		show = "show ipv6 route "
	}
	if err := l.JSON(ctx, leaf, show+prefix.String()+" json", &routes); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range routes[prefix.String()] {
		if r.Prefix != prefix.String() || !r.Selected {
			continue
		}
		for _, nh := range r.Nexthops {
			if nh.Active {
				out = append(out, nh.IP)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// UpdatesReceived is how many BGP UPDATE messages a leaf received from a
// neighbor.
func (l *Lab) UpdatesReceived(ctx context.Context, leaf, neighbor string) (int, error) {
	var v map[string]struct {
		MessageStats struct {
			UpdatesRecv int `json:"updatesRecv"`
		} `json:"messageStats"`
	}
	if err := l.JSON(ctx, leaf, "show bgp neighbors "+neighbor+" json", &v); err != nil {
		return 0, err
	}
	n, ok := v[neighbor]
	if !ok {
		return 0, fmt.Errorf("%s has no neighbor %s", leaf, neighbor)
	}
	return n.MessageStats.UpdatesRecv, nil
}

// NodeVtysh runs commands in an IPv6 node's vtysh.
func (l *Lab) NodeVtysh(ctx context.Context, node string, cmds ...string) (string, error) {
	args := []string{"nodevtysh", node}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	return l.Script(ctx, args...)
}

// NeighborState is a leaf's view of one neighbor ("show bgp neighbors X
// json"): its session state and the address families it is active in
// ("ipv4Unicast", "ipv6Unicast", ...), sorted.
func (l *Lab) NeighborState(ctx context.Context, leaf, neighbor string) (state string, families []string, err error) {
	var v map[string]struct {
		State    string                     `json:"bgpState"`
		Families map[string]json.RawMessage `json:"addressFamilyInfo"`
	}
	if err := l.JSON(ctx, leaf, "show bgp neighbors "+neighbor+" json", &v); err != nil {
		return "", nil, err
	}
	n, ok := v[neighbor]
	if !ok {
		return "", nil, fmt.Errorf("%s has no neighbor %s", leaf, neighbor)
	}
	for f := range n.Families {
		families = append(families, f)
	}
	sort.Strings(families)
	return n.State, families, nil
}

// Birdc runs a birdc command on a node.
func (l *Lab) Birdc(ctx context.Context, node string, args ...string) (string, error) {
	return l.Script(ctx, append([]string{"birdc", node}, args...)...)
}

// Rogue makes a node advertise prefixes it does not own (none: stop).
func (l *Lab) Rogue(ctx context.Context, node string, prefixes ...string) error {
	_, err := l.Script(ctx, append([]string{"rogue", node}, prefixes...)...)
	return err
}

// Eventually polls cond every 50 ms until it holds or the context ends; the
// error says what was awaited and the last reason it did not hold.
func Eventually(ctx context.Context, what string, cond func() (bool, string, error)) error {
	start := time.Now()
	last := ""
	for {
		ok, why, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		last = why
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not after %s (%s)", what, time.Since(start).Round(time.Millisecond), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Lock takes an exclusive lock on the lab for this process, so that two
// test runs never share one lab; it waits up to the context's deadline.
func (l *Lab) Lock(ctx context.Context) error {
	// The lock is machine-wide, not per checkout: namespaces and forwarder
	// ports are global, so two checkouts running the same lab must take turns.
	dir := filepath.Join(os.TempDir(), "fabric-reconciler-labs")
	if err := os.MkdirAll(dir, 0o1777); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, l.Name+".tests.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			l.lock = f
			return nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return fmt.Errorf("lab %s is in use by another test run", l.Name)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Unlock releases Lock.
func (l *Lab) Unlock() {
	if l.lock != nil {
		_ = syscall.Flock(int(l.lock.Fd()), syscall.LOCK_UN)
		l.lock.Close()
		l.lock = nil
	}
}

var (
	sharedMu  sync.Mutex
	sharedLab = map[string]*Lab{}
	sharedErr = map[string]error{}
)

// Shared returns the lab of this test binary, bringing it up on first use.
// It needs root (testenv.RequireRoot). Call Stop from TestMain when the
// tests are done.
func Shared(t testing.TB, name string, portShift int) *Lab {
	t.Helper()
	testenv.RequireRoot(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if err := sharedErr[name]; err != nil {
		t.Fatalf("lab %s: %v", name, err)
	}
	if l := sharedLab[name]; l != nil {
		return l
	}
	lockCtx, cancelLock := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancelLock()
	l, err := New(name, portShift)
	if err == nil {
		err = l.Lock(lockCtx)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err == nil {
		err = l.Up(ctx)
		if err != nil && l.Started {
			// What lab.sh printed (the failing component's log
			// included) is in err; leave no namespace or daemon behind.
			downCtx, cancelDown := context.WithTimeout(context.Background(), time.Minute)
			if derr := l.Down(downCtx); derr != nil {
				err = errors.Join(err, derr)
			}
			cancelDown()
		}
		if err != nil {
			l.Unlock()
		}
	}
	if err != nil {
		sharedErr[name] = err
		t.Fatalf("lab %s: %v", name, err)
	}
	sharedLab[name] = l
	return l
}

// Stop takes down the shared labs this process started and releases them.
func Stop() error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	var errs []error
	for name, l := range sharedLab {
		if l.Started {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			errs = append(errs, l.Down(ctx))
			cancel()
		}
		l.Unlock()
		delete(sharedLab, name)
	}
	return errors.Join(errs...)
}
