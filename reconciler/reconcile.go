package reconciler

import (
	"context"
	"fmt"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Stage names where a fabric's reconcile stopped.
const (
	StageObserve = "observe"
	StageGuard   = "guard"
	StageApply   = "apply"
	StageDone    = "done"
)

// Outcome is the result of reconciling one fabric once.
type Outcome struct {
	Fabric   string
	Driver   string
	Observed fabric.Observed
	Plan     fabric.FabricPlan
	Result   fabric.ApplyResult
	// Stage is where it stopped: done, or the stage that failed.
	Stage    string
	Err      error
	Duration time.Duration
}

// Options tune one reconcile.
type Options struct {
	// DryRun observes and plans but applies nothing.
	DryRun bool
	// AllowEmpty lets a plan delete every owned object of a fabric when the
	// cluster wants nothing there. Off by default: an empty desired state is
	// far more often a wrong input (an empty folder, a cache that has not
	// synced) than a cluster that really left the fabric.
	AllowEmpty bool
}

// ReconcileFabric observes one fabric, plans the difference to the desired
// state, checks the safety guard and applies the plan.
func ReconcileFabric(ctx context.Context, d drivers.Driver, want fabric.FabricDesired, opts Options) (out Outcome) {
	start := time.Now()
	out = Outcome{Fabric: want.Name, Driver: want.Driver, Stage: StageObserve}
	defer func() { out.Duration = time.Since(start) }()

	obs, err := d.Observe(ctx)
	if err != nil {
		out.Err = fmt.Errorf("fabric %s: observe: %w", want.Name, err)
		return out
	}
	out.Observed = obs
	out.Plan = fabric.Diff(want, obs)

	out.Stage = StageGuard
	if err := Guard(want, obs, out.Plan, opts); err != nil {
		out.Err = fmt.Errorf("fabric %s: %w", want.Name, err)
		return out
	}
	if opts.DryRun || len(out.Plan.Changes) == 0 {
		out.Stage = StageDone
		return out
	}
	out.Stage = StageApply
	res, err := d.Apply(ctx, out.Plan)
	out.Result = res
	if err != nil {
		out.Err = fmt.Errorf("fabric %s: apply: %w", want.Name, err)
		return out
	}
	out.Stage = StageDone
	return out
}

// Guard refuses a plan that would empty a fabric of everything the cluster
// owns there, unless allowed.
func Guard(want fabric.FabricDesired, obs fabric.Observed, plan fabric.FabricPlan, opts Options) error {
	if opts.AllowEmpty || want.State.Len() > 0 || obs.Owned.Len() == 0 {
		return nil
	}
	return fmt.Errorf("refusing to delete all %d objects this cluster owns on the fabric: the cluster state wants none "+
		"(an empty or wrong --cluster-state?); pass --allow-empty if the cluster really left this fabric", obs.Owned.Len())
}
