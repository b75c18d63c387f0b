package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
)

// dropsAtApply is a fabric that stops answering in the middle of the apply
// (after taking the change) and answers again after outage.
type dropsAtApply struct {
	drivers.Driver
	fab    *memfabric.Fabric
	outage time.Duration
}

var errUnreachable = errors.New("connection refused")

func (d *dropsAtApply) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	res, err := d.Driver.Apply(ctx, plan)
	if err != nil {
		return res, err
	}
	d.fab.SetFailure(errUnreachable)
	if d.outage > 0 {
		time.AfterFunc(d.outage, func() { d.fab.SetFailure(nil) })
	}
	return fabric.ApplyResult{}, errors.New("connection lost: " + drivers.ErrOutcomeUnknown.Error())
}

// TestApplyFabricReleasesTheLockAfterAnOutage: the fabric stops answering
// in the middle of an apply. When it answers again a moment later, the
// failed run still releases its writer lock (it keeps trying), so the next
// writer finds the fabric free instead of waiting out the lock's lease.
// When it stays away, the failure says the lock was left behind.
func TestApplyFabricReleasesTheLockAfterAnOutage(t *testing.T) {
	old := unlockFor
	unlockFor = 2 * time.Second
	t.Cleanup(func() { unlockFor = old })
	peer := fabric.BGPPeer{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500,
		AddressFamily: fabric.IPv4}
	plan := fabric.Changeset{Name: "f", Driver: memfabric.DriverName,
		Changes: []fabric.Change{{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: peer.ID(), After: peer}}}
	for _, c := range []struct {
		name     string
		outage   time.Duration // 0: for good
		released bool
	}{{"the fabric answers again after 600 ms", 600 * time.Millisecond, true}, {"the fabric stays away", 0, false}} {
		t.Run(c.name, func(t *testing.T) {
			fab := memfabric.New()
			d := &dropsAtApply{Driver: fab.Driver("a", nil, "f"), fab: fab, outage: c.outage}
			start := time.Now()
			out := ApplyFabric(context.Background(), d, plan, fabric.Observed{}, LockOptions{Holder: "test"})
			took := time.Since(start)
			if out.Err == nil || out.Stage != StageApply {
				t.Fatalf("stage %s, err %v", out.Stage, out.Err)
			}
			_, held := fab.Lock()
			if held == c.released {
				t.Fatalf("lock held %v after the run (took %s): %v", held, took, out.Err)
			}
			left := strings.Contains(out.Err.Error(), "releasing the fabric's lock failed too")
			if left == c.released || c.released && took > 1500*time.Millisecond || !c.released && took < unlockFor {
				t.Fatalf("took %s: %v", took, out.Err)
			}
			if !c.released && !errors.Is(out.Err, errUnreachable) {
				t.Fatalf("the unlock's error is not reported: %v", out.Err)
			}
		})
	}
}
