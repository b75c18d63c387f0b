package drivers

import (
	"context"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Adopter is a driver that can take over, on request, unmarked objects
// identical to desired ones: the "adopt" command, the one deliberate
// exception to "the tool changes only what it owns". Every built-in driver
// implements it; what each can adopt, and why not the rest, is its own.
//
// Contract:
//   - ObserveForAdoption is Observe (same Owned, same foreign places, same
//     snapshot kept), with each foreign object that carries no mark read as
//     the driver would read its own (Foreign.Adoption.Object), or the reason
//     it cannot be adopted (Foreign.Adoption.Why). An object inside a
//     container the cluster does not own, or one whose mark would be a new
//     name, is never offered;
//   - Adopt is given only adopt changes (fabric.Adoption's) and writes only
//     the cluster's mark (and what Adoptable.Rewrites names) on those objects,
//     against the snapshot of the latest ObserveForAdoption; an object that
//     is no longer unmarked and identical there is refused, never adopted;
//   - like Apply, it runs under the fabric's writer lock, after an
//     ObserveForAdoption made under it (reconciler.AdoptFabric does both).
type Adopter interface {
	ObserveForAdoption(ctx context.Context) (fabric.Observed, error)
	Adopt(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error)
}
