package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/memfabric"
)

// Adoption end to end on the in-memory fabric: only the unmarked objects
// identical to the desired ones become owned; afterwards a plan has no
// changes for them and Diff sees them as the cluster's; an object changed
// by hand between the plan and the adoption stops it whole.
func TestAdoptFabric(t *testing.T) {
	peer := func(addr string, remote, local uint32) fabric.BGPPeer {
		return fabric.BGPPeer{Switch: "leaf201", Node: "n" + addr, PeerAddress: addr, RemoteASN: remote, LocalASN: local, AddressFamily: fabric.IPv4}
	}
	want := fabric.Target{Name: "f", Driver: memfabric.DriverName,
		State: fabric.StateOf(peer("10.0.0.1", 63551, 63500), peer("10.0.0.2", 63552, 63500), peer("10.0.0.3", 63553, 63500))}
	tests := []struct {
		name       string
		between    func(f *memfabric.Fabric) // a hand change after the plan
		adopted    []string
		wantErr    string
		conflicts  int
		stillOwned bool
	}{
		{name: "identical ones adopted, the differing ones left", adopted: []string{"10.0.0.1"}, conflicts: 2},
		{name: "changed after the plan: nothing adopted", between: func(f *memfabric.Fabric) { f.PutUnmarked(peer("10.0.0.1", 1, 63500)) },
			wantErr: "changed since the plan", conflicts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mf := memfabric.New()
			mf.PutUnmarked(peer("10.0.0.1", 63551, 63500), peer("10.0.0.2", 64000, 63500), peer("10.0.0.3", 63553, 65000))
			d := mf.Driver("test", nil, "f").(interface {
				ObserveForAdoption(context.Context) (fabric.Observed, error)
			})
			obs, err := d.ObserveForAdoption(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			plan := PlanAdoption(want, obs)
			if len(plan.Conflicts) != tt.conflicts {
				t.Fatalf("conflicts %+v", plan.Conflicts)
			}
			for _, c := range plan.Conflicts {
				if !strings.Contains(c.Reason, "differs") {
					t.Errorf("conflict %s %s does not say what differs: %s", c.Kind, c.ID, c.Reason)
				}
			}
			if tt.between != nil {
				tt.between(mf)
			}
			out := ApplyFabric(context.Background(), mf.Driver("test", nil, "f"), plan, obs, LockOptions{Holder: "test"})
			if (out.Err == nil) != (tt.wantErr == "") || (out.Err != nil && !strings.Contains(out.Err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", out.Err, tt.wantErr)
			}
			var got []string
			for _, o := range mf.State().Objects() {
				got = append(got, o.ID())
			}
			if strings.Join(got, ",") != strings.Join(tt.adopted, ",") {
				t.Errorf("owned after adopt: %v, want %v", got, tt.adopted)
			}
			if out.Err != nil {
				return
			}
			// A second look: the adopted peer is owned and in place; the
			// others are still conflicts of a normal plan.
			now, _ := mf.Driver("test", nil, "f").Observe(context.Background())
			p := fabric.Diff(want, now)
			if len(p.Changes) != 0 || len(p.Conflicts) != 2 {
				t.Errorf("plan after adopt: changes %+v conflicts %+v", p.Changes, p.Conflicts)
			}
			if again := PlanAdoption(want, obsFor(t, mf)); len(again.Changes) != 0 {
				t.Errorf("adopting again plans %+v", again.Changes)
			}
		})
	}
}

func obsFor(t *testing.T, mf *memfabric.Fabric) fabric.Observed {
	t.Helper()
	d := mf.Driver("test", nil, "f").(interface {
		ObserveForAdoption(context.Context) (fabric.Observed, error)
	})
	obs, err := d.ObserveForAdoption(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// ApplyFabric never hands adoptions to Apply, and refuses a plan mixing
// them with other changes.
func TestAdoptionsNeverMixed(t *testing.T) {
	mf := memfabric.New()
	p := fabric.BGPPeer{Switch: "s", Node: "n", PeerAddress: "10.0.0.1", RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4}
	mf.PutUnmarked(p)
	q := p
	q.PeerAddress = "10.0.0.2"
	plan := fabric.Changeset{Name: "f", Driver: memfabric.DriverName, Changes: []fabric.Change{
		{Action: fabric.ActionAdopt, Kind: p.Kind(), Switch: "s", ID: p.ID(), Before: p, After: p},
		{Action: fabric.ActionCreate, Kind: q.Kind(), Switch: "s", ID: q.ID(), After: q},
	}}
	out := ApplyFabric(context.Background(), mf.Driver("test", nil, "f"), plan, fabric.Observed{}, LockOptions{Holder: "test"})
	if out.Err == nil || !strings.Contains(out.Err.Error(), "mixes") || mf.State().Len() != 0 || len(mf.Applies()) != 0 {
		t.Errorf("err %v, owned %d, applies %d", out.Err, mf.State().Len(), len(mf.Applies()))
	}
}
