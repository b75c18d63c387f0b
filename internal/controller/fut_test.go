package controller_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// fabricUnderTest is the fabric the end-to-end tests drive: the one
// parameter that changes when they run against another driver. memFabric
// (test/memfabric) is the in-memory recording driver; aciFabricUT is the
// real ACI driver against the APIC emulator (test/apicsim), one APIC user
// per replica so that the emulator's request log tells the replicas apart.
type fabricUnderTest interface {
	// Config is the configuration, with the fabric under test in it.
	Config(t testing.TB) *config.Config
	// Factory opens the driver of one controller replica; the fabric
	// attributes that replica's writes to instance.
	Factory(instance string) drivers.Factory
	// Writes are the write requests the fabric received so far.
	Writes() []fabricWrite
	// State is what the fabric holds for the cluster now.
	State(t testing.TB) fabric.State
	// Seed places objects the cluster owns on the fabric before a test.
	Seed(t testing.TB, objs ...fabric.Object)
}

// fabricWrite is one write request the fabric received.
type fabricWrite struct {
	At       time.Time
	Instance string
	// Changes are the plan changes the write carried.
	Changes []fabric.Change
}

func (w fabricWrite) String() string {
	var cs []string
	for _, c := range w.Changes {
		cs = append(cs, string(c.Action)+" "+c.Key().String())
	}
	return fmt.Sprintf("%s by %s: %s", w.At.Format("15:04:05.000"), w.Instance, strings.Join(cs, ", "))
}

// fabricsUnderTest lists the fabrics every end-to-end test runs against.
var fabricsUnderTest = []struct {
	name string
	new  func(t testing.TB) fabricUnderTest
}{
	{"memfabric", newMemFabric},
	{"aci+apicsim", newACIFabric},
}

type memFabricUT struct{ f *memfabric.Fabric }

func newMemFabric(testing.TB) fabricUnderTest { return memFabricUT{f: memfabric.New()} }

func (m memFabricUT) Config(t testing.TB) *config.Config {
	cfg, err := config.Load(filepath.Join(testenv.RepoRoot(), "examples/haystack/fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (m memFabricUT) Factory(instance string) drivers.Factory { return m.f.Factory(instance) }

func (m memFabricUT) Writes() []fabricWrite {
	var out []fabricWrite
	for _, c := range m.f.Applies() {
		out = append(out, fabricWrite{At: c.At, Instance: c.Instance, Changes: c.Changes})
	}
	return out
}

func (m memFabricUT) State(testing.TB) fabric.State { return m.f.State() }

func (m memFabricUT) Seed(_ testing.TB, objs ...fabric.Object) { m.f.Put(objs...) }

// eachFabric runs a test against every fabric under test.
func eachFabric(t *testing.T, test func(t *testing.T, fut fabricUnderTest)) {
	for _, f := range fabricsUnderTest {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			test(t, f.new(t))
		})
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}

func hasSubnet(s fabric.State, prefix string) bool {
	for _, x := range s.Subnets {
		if x.Prefix == prefix {
			return true
		}
	}
	return false
}

func hasPeer(s fabric.State, addr string) bool {
	for _, x := range s.Peers {
		if x.PeerAddress == addr {
			return true
		}
	}
	return false
}

// wrote reports whether any write carried a change matching pred.
func wrote(ws []fabricWrite, pred func(fabric.Change) bool) bool {
	for _, w := range ws {
		for _, c := range w.Changes {
			if pred(c) {
				return true
			}
		}
	}
	return false
}

func subnetChange(action fabric.Action, prefix string) func(fabric.Change) bool {
	return func(c fabric.Change) bool {
		s, ok := c.Object().(fabric.ExternalSubnet)
		return ok && c.Action == action && s.Prefix == prefix
	}
}

func peerChange(action fabric.Action, addr string) func(fabric.Change) bool {
	return func(c fabric.Change) bool {
		p, ok := c.Object().(fabric.BGPPeer)
		return ok && c.Action == action && p.PeerAddress == addr
	}
}
