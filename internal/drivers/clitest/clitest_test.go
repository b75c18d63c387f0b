package clitest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// memDriver holds its objects in memory and applies plans to them.
type memDriver struct{ owned fabric.State }

func (m *memDriver) Observe(context.Context) (fabric.Observed, error) {
	return fabric.Observed{Owned: m.owned}, nil
}

func (m *memDriver) Apply(_ context.Context, p fabric.Changeset) (fabric.ApplyResult, error) {
	for _, c := range p.Changes {
		if c.Action != fabric.ActionDelete {
			m.owned.Add(c.After)
		}
	}
	return fabric.ApplyResult{Applied: p.Changes}, nil
}

func (m *memDriver) Render(fabric.Changeset) (string, error) { return "", nil }
func (m *memDriver) Close() error                            { return nil }

// TryLock always succeeds: these tests have one writer.
func (m *memDriver) TryLock(context.Context, drivers.LockRequest) (drivers.Unlock, error) {
	return func(context.Context) error { return nil }, nil
}

// failures records what a helper reports instead of failing the test.
type failures struct {
	testing.TB
	msgs []string
}

func (f *failures) Helper() {}
func (f *failures) Fatalf(format string, a ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, a...))
}

func TestReconcileAndConverged(t *testing.T) {
	peer := fabric.BGPPeer{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv4}
	want := fabric.StateOf(peer)
	d := &memDriver{}

	f := &failures{TB: t}
	AssertConverged(f, context.Background(), d, "mem", want)
	if len(f.msgs) != 1 || !strings.Contains(f.msgs[0], "create BGPPeer leaf201/192.168.9.193 before null after {") {
		t.Fatalf("before the apply: %q, want a not-converged failure naming the change", f.msgs)
	}
	plan, res, err := Reconcile(t, context.Background(), d, "mem", want)
	if err != nil || plan.Name != "lab" || plan.Driver != "mem" || len(plan.Changes) != 1 || len(res.Applied) != 1 {
		t.Fatalf("reconcile: %+v %+v %v", plan, res, err)
	}
	f = &failures{TB: t}
	AssertConverged(f, context.Background(), d, "mem", want)
	if len(f.msgs) != 0 {
		t.Fatalf("after the apply: %q", f.msgs)
	}
}
