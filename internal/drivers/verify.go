package drivers

import (
	"context"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Verifier is implemented by drivers that can read a fabric's operational
// state back: per switch, its BGP sessions (state, uptime, prefixes
// received) and the BGP routes it installed with their next hops. `verify`
// and the controller's periodic verify use it and stay vendor-neutral; a
// driver without it is reported as unable to verify.
//
// Operational reads, and changes nothing on the fabric or in the driver's
// snapshot (Apply and Render do not see it). A switch that cannot be read
// is reported in its SwitchOperational.Error; the error return is for a
// fabric that cannot be read at all.
type Verifier interface {
	Operational(ctx context.Context) (fabric.Operational, error)
}
