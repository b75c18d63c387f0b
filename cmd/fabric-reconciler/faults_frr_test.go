package main

// The FRR rows of the fault table run on one lab of their own (test/lab,
// namespaces "frfault-*", SSH forwarders on 127.0.0.1:2501/2502), row after
// row. leaf201 is reached through a TCP proxy in this process, so that a
// row can cut its SSH connection, refuse new ones for a while, or slow
// each line down enough for the row to act between two of them.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/lab"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const (
	faultLab          = "frfault"
	faultLabPortShift = 300
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := lab.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "lab down:", err)
		code = 1
	}
	os.Exit(code)
}

type frrFaults struct {
	lab    *lab.Lab
	ctx    context.Context
	config string
	proxy  *cutProxy
}

func newFRRFaults(t *testing.T) *frrFaults {
	l := lab.Shared(t, faultLab, faultLabPortShift)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	if err := l.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	f := &frrFaults{lab: l, ctx: ctx, proxy: startCutProxy(t, l.Address("leaf201"))}

	// known_hosts: the lab's, plus leaf201's key at the proxy's address.
	kh, err := os.ReadFile(l.KnownHosts())
	if err != nil {
		t.Fatal(err)
	}
	direct := "[127.0.0.1]:" + strings.TrimPrefix(l.Address("leaf201"), "127.0.0.1:")
	var extra []string
	for _, line := range strings.Split(string(kh), "\n") {
		if hosts, key, ok := strings.Cut(line, " "); ok && strings.HasPrefix(hosts+",", direct+",") {
			extra = append(extra, "[127.0.0.1]:"+strconv.Itoa(f.proxy.port())+" "+key)
		}
	}
	if len(extra) == 0 {
		t.Fatalf("no %s line in %s", direct, l.KnownHosts())
	}
	dir := t.TempDir()
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(string(kh)+strings.Join(extra, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "fabric-frr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	for _, r := range [][2]string{
		{"address: 127.0.0.1:2201", "address: " + f.proxy.addr()},
		{"address: 127.0.0.1:2202", "address: " + l.Address("leaf202")},
		{"passwordFile: secrets/frr-password", "passwordFile: " + lab.PasswordFile()},
		{"knownHostsFile: ../../test/lab/run/frlab/keys/known_hosts", "knownHostsFile: " + knownHosts},
	} {
		if !strings.Contains(cfg, r[0]) {
			t.Fatalf("examples/haystack/fabric-frr.yaml no longer contains %q", r[0])
		}
		cfg = strings.Replace(cfg, r[0], r[1], 1)
	}
	f.config = filepath.Join(dir, "fabric-frr.yaml")
	if err := os.WriteFile(f.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// Hand-made, besides the lab's border neighbor and its prefix-list: a
	// prefix-list and a route-map of the network team's, and another
	// cluster's filter at a node's address; saved, as a network team
	// would, so that a daemon restart keeps them.
	for _, leaf := range []string{"leaf201", "leaf202"} {
		if err := l.Configure(ctx, leaf, "ip prefix-list HAND-PL seq 5 permit 10.99.0.0/16",
			"route-map HAND-RM permit 10", "match ip address prefix-list HAND-PL", "exit",
			"ip prefix-list FR-haystack2-IN-192.168.9.193 seq 5 permit 172.27.114.0/26"); err != nil {
			t.Fatal(err)
		}
		if out, err := l.Vtysh(ctx, leaf, "write memory"); err != nil {
			t.Fatalf("write memory on %s: %v\n%s", leaf, err, out)
		}
	}
	converge(t, f, haystackCopy(t, "frr", nil))
	return f
}

// converge brings the lab back to the haystack before a row.
func (f *frrFaults) converge(t *testing.T) { converge(t, f, haystackCopy(t, "frr", nil)) }

func (f *frrFaults) run(t *testing.T, args []string, cluster []string) cliRun {
	return runCLI(args, f.config, cluster)
}

func (f *frrFaults) unowned(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, leaf := range []string{"leaf201", "leaf202"} {
		c, err := f.lab.RunningConfig(f.ctx, leaf)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range cliUnowned(leaf, c) {
			out[k] = v
		}
	}
	return out
}

func (f *frrFaults) startLog()                         {}
func (f *frrFaults) logged(t *testing.T, c changeSets) {}

func (f *frrFaults) locked() bool {
	c, err := f.lab.RunningConfig(f.ctx, "leaf201")
	return err == nil && strings.Contains(c, lockTrigger)
}

func (f *frrFaults) useConfig(t *testing.T, edit func(string) string) func() {
	old := f.config
	f.config = editedConfig(t, old, edit)
	return func() { f.config = old }
}

// spareTrigger is the first line the spare's join writes on a leaf (its
// filter comes before its neighbor).
const spareTrigger = "ip prefix-list FR-haystack-IN-192.168.9.196"

// lockTrigger is the FRR writer lock's marker, written before the apply.
const lockTrigger = "neighbor " + faultPrefix + "MARK-LOCK peer-group"

// lineDelay slows every chunk the client sends to leaf201 once the run
// holds the writer lock, so that polling leaf201's configuration sees the
// apply between two lines. Not before: the lock's read-then-write must
// take less than 500 ms (docs/frr.md), which this delay would exceed.
const lineDelay = 40 * time.Millisecond

// cutMidApply cuts leaf201's connections once the spare's first line is
// on it, and refuses new connections for refuseFor.
func (f *frrFaults) cutMidApply(t *testing.T, refuseFor time.Duration) func() string {
	return f.midApply(t, func() { f.proxy.cut(refuseFor) })
}

// bgpdRestart restarts leaf201's bgpd between two lines of the spare's
// join, as watchfrr would (lab.sh restart).
func bgpdRestart(t *testing.T, ff faultFabric) func() string {
	f := ff.(*frrFaults)
	return f.midApply(t, func() {
		if out, err := f.lab.Script(f.ctx, "restart", "leaf201", "bgpd"); err != nil {
			t.Errorf("restarting bgpd: %v\n%s", err, out)
		}
	})
}

// midApply slows leaf201's lines down once the run holds the lock, and
// runs action once leaf201 holds the spare's first line; the returned
// function waits for it and says if it never ran.
func (f *frrFaults) midApply(t *testing.T, action func()) func() string {
	done := make(chan struct{})
	fired := make(chan bool, 1)
	go func() {
		for {
			c, err := f.lab.RunningConfig(f.ctx, "leaf201")
			if err == nil && strings.Contains(c, lockTrigger) {
				f.proxy.setDelay(lineDelay)
			}
			if err == nil && strings.Contains(c, spareTrigger) {
				action()
				fired <- true
				return
			}
			select {
			case <-done:
				fired <- false
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() string {
		close(done)
		ok := <-fired
		f.proxy.setDelay(0)
		if !ok {
			return fmt.Sprintf("the fault never fired: leaf201 never showed %q during the faulted run", spareTrigger)
		}
		return ""
	}
}

// routesCheck: after the follow-up, each node of the input has its session
// up and its pod block routed through it, on both leaves: what the tool
// calls converged is converged on the routers too.
func (f *frrFaults) routesCheck(t *testing.T, cluster string) string {
	var nodes []lab.Node
	for _, n := range f.lab.Topology.Nodes {
		if !n.Spare {
			nodes = append(nodes, n)
		} else if _, err := os.Stat(filepath.Join(cluster, n.Name+".yaml")); err == nil {
			nodes = append(nodes, n)
		}
	}
	ctx, cancel := context.WithTimeout(f.ctx, 20*time.Second)
	defer cancel()
	for _, leaf := range []string{"leaf201", "leaf202"} {
		for _, n := range nodes {
			err := lab.Eventually(ctx, leaf+": "+n.Block.String()+" via "+n.Name, func() (bool, string, error) {
				nh, err := f.lab.NextHops(f.ctx, leaf, n.Block)
				if err != nil {
					return false, "", err
				}
				return len(nh) == 1 && nh[0] == n.Addr.String(), fmt.Sprintf("next hops %v", nh), nil
			})
			if err != nil {
				return "converged, but the routers do not route: " + err.Error()
			}
		}
	}
	return ""
}

// cutProxy forwards TCP connections to one address. It can slow down what
// the client sends, cut every connection with a reset, and refuse new
// connections for a while (a switch whose management link is down).
type cutProxy struct {
	ln     net.Listener
	target string

	mu          sync.Mutex
	delay       time.Duration
	refuseUntil time.Time
	conns       map[net.Conn]bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		p.cut(0)
	})
	go p.accept()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }
func (p *cutProxy) port() int    { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *cutProxy) setDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// cut resets every open connection and refuses new ones for refuseFor.
func (p *cutProxy) cut(refuseFor time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuseUntil = time.Now().Add(refuseFor)
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := time.Now().Before(p.refuseUntil)
		p.mu.Unlock()
		if refuse {
			reset(c)
			continue
		}
		go p.serve(c)
	}
}

func (p *cutProxy) serve(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(client)
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[server] = true, true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, server)
		p.mu.Unlock()
		client.Close()
		server.Close()
	}()
	go func() {
		_, _ = io.Copy(client, server)
		client.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.delay
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
