package reconciler

import (
	"context"
	"fmt"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// PlanAdoption plans, for one fabric, the adoption of unmarked objects
// identical to desired ones (fabric.Adoption), against an observation made
// with drivers.Adopter.ObserveForAdoption. No guard or policy applies: it
// creates, changes and deletes nothing but marks; what came from skipped or
// missing input is still held.
func PlanAdoption(want fabric.Target, obs fabric.Observed) fabric.Changeset {
	return fabric.Adoption(want, obs)
}

// AdoptFabric applies a plan of adoptions as ApplyFabric applies a plan:
// under the fabric's writer lock, after observing it again (for adoption)
// and refusing when anything changed since the plan, an unmarked object
// included. A plan that mixes adoptions with other changes is refused
// whole: adoption is its own, reviewed step.
func AdoptFabric(ctx context.Context, d drivers.Driver, plan fabric.Changeset, planned fabric.Observed, lo LockOptions) Applied {
	a, ok := d.(drivers.Adopter)
	if !ok {
		return Applied{Stage: StageApply, Err: fmt.Errorf("driver %s cannot adopt objects", plan.Driver)}
	}
	if !plan.AdoptOnly() {
		return Applied{Stage: StageApply, Err: fmt.Errorf("the plan mixes adoptions with other changes; nothing is applied (adopt, then sync)")}
	}
	return underLock(ctx, d, plan, planned, lo, a.ObserveForAdoption, a.Adopt)
}

func hasAdoptions(p fabric.Changeset) bool {
	for _, c := range p.Changes {
		if c.Action == fabric.ActionAdopt {
			return true
		}
	}
	return false
}
