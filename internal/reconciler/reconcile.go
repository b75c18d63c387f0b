package reconciler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Stage names where a fabric's reconcile stopped.
const (
	StageObserve = "observe"
	StageGuard   = "guard"
	StageLock    = "lock"
	StageVerify  = "verify"
	StageApply   = "apply"
	StageDone    = "done"
)

// Outcome is the result of reconciling one fabric once.
type Outcome struct {
	Fabric   string
	Driver   string
	Observed fabric.Observed
	Plan     fabric.Changeset
	Result   fabric.ApplyResult
	// Stage is where it stopped: done, or the stage that failed.
	Stage string
	Err   error
	// After, set when an apply failed, is what a fresh observation found
	// of the plan's changes: which are in place and which are not.
	After    *Progress
	Duration time.Duration
}

// Options tune the guards of one reconcile. Zero values keep the
// configuration's settings.
type Options struct {
	// DryRun observes and plans but applies nothing.
	DryRun bool
	// AllowEmpty lets a plan delete every owned object of a fabric when the
	// cluster wants nothing there. Off by default: an empty desired state is
	// far more often a wrong input (an empty folder, a cache that has not
	// synced) than a cluster that really left the fabric.
	AllowEmpty bool
	// Policy, when set, overrides every fabric's policy.
	Policy string
	// DeletionBudgetPercent, when set, overrides every fabric's budget.
	DeletionBudgetPercent int
	// AllowMissing lists input kinds whose absence is accepted (see
	// TranslateOptions).
	AllowMissing map[string]bool
	// Lock says how writers take a fabric's lock.
	Lock LockOptions
}

// LockOptions say how a writer takes a fabric's writer lock.
type LockOptions struct {
	// Holder names this writer on the lock marker (default: host and
	// process id).
	Holder string
	// Wait is how long to wait for another writer to finish (0: ask once).
	Wait time.Duration
	// TTL is how long the lock holds if this writer dies (default: the
	// context's deadline plus a minute, or DefaultLockTTL).
	TTL time.Duration
	// Poll is how often a waiting writer asks again (default 1s).
	Poll time.Duration
}

// DefaultLockTTL is a lock's lease when the writer has no deadline.
const DefaultLockTTL = 10 * time.Minute

// Guards are one fabric's safety settings, from its configuration and the
// overrides.
type Guards struct {
	Policy     string
	Budget     config.DeletionBudget
	AllowEmpty bool
	// Check, when set, is the driver's own plan check (drivers.PlanCheck
	// bound to the fabric's configuration): a platform limit the plan
	// would pass refuses it like any other guard.
	Check func(want fabric.Target, obs fabric.Observed, plan fabric.Changeset) string
}

// GuardsFor returns the guards of a fabric.
func GuardsFor(f *config.Fabric, o Options) Guards {
	g := Guards{Policy: f.Policy, Budget: f.DeletionBudget, AllowEmpty: o.AllowEmpty}
	if g.Policy == "" {
		g.Policy = config.PolicySync
	}
	if g.Budget.Percent == 0 {
		g.Budget.Percent = config.DefaultDeletionBudgetPercent
	}
	if g.Budget.Objects == 0 {
		g.Budget.Objects = config.DefaultDeletionBudgetObjects
	}
	if o.Policy != "" {
		g.Policy = o.Policy
	}
	if o.DeletionBudgetPercent != 0 {
		g.Budget.Percent = o.DeletionBudgetPercent
	}
	if check := drivers.CheckFunc(f.Driver); check != nil {
		cfg := *f
		g.Check = func(want fabric.Target, obs fabric.Observed, plan fabric.Changeset) string {
			return check(cfg, want, obs, plan)
		}
	}
	return g
}

// PlanFabric diffs a fabric's desired state against what it holds, holds
// back what the policy does not allow, and refuses the whole plan when a
// guard says so (Changeset.Refused).
func PlanFabric(want fabric.Target, obs fabric.Observed, g Guards) fabric.Changeset {
	p := fabric.Diff(want, obs)
	p = applyPolicy(p, g.Policy)
	var reasons []string
	if reason := Guard(want, obs, p, g); reason != "" {
		reasons = append(reasons, reason)
	}
	if g.Check != nil {
		if reason := g.Check(want, obs, p); reason != "" {
			reasons = append(reasons, reason)
		}
	}
	p.Refused = strings.Join(reasons, "; and ")
	return p
}

// applyPolicy holds back the changes a policy does not allow, as
// external-dns's policies do: upsert-only never deletes, create-only never
// updates or deletes.
func applyPolicy(p fabric.Changeset, policy string) fabric.Changeset {
	var reason string
	allowed := func(a fabric.Action) bool { return true }
	switch policy {
	case config.PolicyUpsertOnly:
		reason = "policy upsert-only: nothing is deleted"
		allowed = func(a fabric.Action) bool { return a != fabric.ActionDelete }
	case config.PolicyCreateOnly:
		reason = "policy create-only: nothing is changed or deleted"
		allowed = func(a fabric.Action) bool { return a == fabric.ActionCreate }
	default:
		return p
	}
	kept := p.Changes[:0:0]
	for _, c := range p.Changes {
		if allowed(c.Action) {
			kept = append(kept, c)
		} else {
			p.Held = append(p.Held, fabric.Held{Change: c, Reason: reason})
		}
	}
	p.Changes = kept
	return p
}

// Guard says why a plan must not be applied at all ("" when it may): when
// it would delete everything the cluster owns on the fabric while the
// cluster wants nothing there, or more than the deletion budget allows.
func Guard(want fabric.Target, obs fabric.Observed, plan fabric.Changeset, g Guards) string {
	owned := obs.Owned.Len()
	if !g.AllowEmpty && want.State.Len() == 0 && owned > 0 && plan.Summary().Delete > 0 {
		return fmt.Sprintf("it would delete all %d objects this cluster owns on the fabric: the cluster state wants none "+
			"(an empty or wrong --cluster-state?); pass --allow-empty if the cluster really left this fabric", owned)
	}
	dels := plan.Summary().Delete
	if owned > 0 && dels > g.Budget.Objects && dels*100 > g.Budget.Percent*owned {
		return fmt.Sprintf("it would delete %d of the %d objects this cluster owns on the fabric (%d%%), more than the deletion budget "+
			"(%d%% and %d objects); raise deletionBudget.percent or pass --deletion-budget if this is intended",
			dels, owned, dels*100/owned, g.Budget.Percent, g.Budget.Objects)
	}
	return ""
}

// Reconcile observes one fabric, plans against the desired state the
// want function gives for that observation, checks the guards and applies
// the plan under the fabric's lock.
func Reconcile(ctx context.Context, d drivers.Driver, fabricName, driverName string, want func(fabric.Observed) fabric.Target, g Guards, opts Options) (out Outcome) {
	start := time.Now()
	out = Outcome{Fabric: fabricName, Driver: driverName, Stage: StageObserve}
	defer func() { out.Duration = time.Since(start) }()

	obs, err := d.Observe(ctx)
	if err != nil {
		out.Err = fmt.Errorf("fabric %s: observe: %w", fabricName, err)
		out.Plan = fabric.Changeset{Name: fabricName, Driver: driverName, Error: out.Err.Error()}
		return out
	}
	out.Observed = obs
	out.Plan = PlanFabric(want(obs), obs, g)
	if out.Plan.Refused != "" {
		out.Stage = StageGuard
		out.Err = fmt.Errorf("fabric %s: plan refused: %s", fabricName, out.Plan.Refused)
		return out
	}
	if opts.DryRun || len(out.Plan.Changes) == 0 {
		out.Stage = StageDone
		return out
	}
	ap := ApplyFabric(ctx, d, out.Plan, obs, opts.Lock)
	out.Stage, out.Result, out.After = ap.Stage, ap.Result, ap.After
	if ap.Err != nil {
		out.Err = fmt.Errorf("fabric %s: %w", fabricName, ap.Err)
	}
	return out
}

// Applied is what ApplyFabric did.
type Applied struct {
	Stage  string
	Result fabric.ApplyResult
	Err    error
	// After is what a fresh observation found after a failed apply.
	After *Progress
}

// ApplyFabric applies a plan that was made against the observation planned.
// It takes the fabric's writer lock, observes again and refuses when the
// fabric changed since the plan was made (the plan reviewed is the plan
// applied), applies, and releases the lock. When the apply fails, it
// observes once more and reports which of the plan's changes are in place:
// an apply whose outcome is unknown is never reported as "nothing changed".
//
// A plan of adoptions (fabric.Adoption's) goes to the driver's Adopter
// instead: see AdoptFabric.
func ApplyFabric(ctx context.Context, d drivers.Driver, plan fabric.Changeset, planned fabric.Observed, lo LockOptions) (out Applied) {
	if hasAdoptions(plan) {
		return AdoptFabric(ctx, d, plan, planned, lo)
	}
	return underLock(ctx, d, plan, planned, lo, d.Observe, d.Apply)
}

// underLock takes the lock, observes again (observe), compares, applies
// (apply) and releases, as ApplyFabric says.
func underLock(ctx context.Context, d drivers.Driver, plan fabric.Changeset, planned fabric.Observed, lo LockOptions,
	observe func(context.Context) (fabric.Observed, error),
	apply func(context.Context, fabric.Changeset) (fabric.ApplyResult, error)) (out Applied) {
	out.Stage = StageLock
	unlock, waited, err := takeLock(ctx, d, lo)
	if err != nil {
		out.Err = fmt.Errorf("lock: %w", err)
		return out
	}
	defer func() {
		if waited != "" {
			out.Result.Messages = append([]string{waited}, out.Result.Messages...)
		}
	}()
	defer func() {
		// Release even when ctx has ended: a lock left behind blocks the
		// next writer until its lease runs out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockFor)
		defer cancel()
		err := release(rctx, unlock)
		switch {
		case err == nil:
		case out.Err == nil:
			out.Err = fmt.Errorf("the changes were applied, but releasing the fabric's lock failed (it expires on its own): %w", err)
		default:
			out.Err = fmt.Errorf("%w; releasing the fabric's lock failed too (it expires on its own): %w", out.Err, err)
		}
	}()

	out.Stage = StageVerify
	now, err := observe(ctx)
	if err != nil {
		out.Err = fmt.Errorf("observe before apply: %w", err)
		return out
	}
	if diffs := fabric.CompareObserved(planned, now); len(diffs) > 0 {
		out.Err = fmt.Errorf("the fabric changed since the plan was made, so the plan is not applied; plan again: %s", summarize(diffs, 10))
		return out
	}

	out.Stage = StageApply
	res, err := apply(ctx, plan)
	out.Result = res
	if err == nil {
		out.Stage = StageDone
		return out
	}
	out.Err = fmt.Errorf("apply: %w", err)
	// What does the fabric hold now? Ask, whatever the driver said.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if after, oerr := d.Observe(actx); oerr == nil {
		p := ProgressOf(plan, after)
		out.After = &p
	} else if errors.Is(err, drivers.ErrOutcomeUnknown) {
		out.Err = fmt.Errorf("%w; observing the fabric afterwards failed too (%v): what it holds now is unknown", out.Err, oerr)
	}
	return out
}

// unlockFor bounds how long ApplyFabric keeps trying to release the lock.
var unlockFor = 30 * time.Second

// release releases the lock, trying again while it fails until ctx ends: a
// switch that stopped answering in the middle of the run (which is often
// why the run failed) may answer again a few seconds later, and a lock left
// behind holds every other writer off for its whole lease (the run's
// deadline plus a minute). Every driver's Unlock may be repeated: it
// removes the marker only while it holds this writer's own record.
func release(ctx context.Context, unlock drivers.Unlock) error {
	wait := 250 * time.Millisecond
	for {
		err := unlock(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}

// takeLock takes a fabric's writer lock, waiting for another writer up to
// lo.Wait; waited says for how long and for whom, when it had to wait.
func takeLock(ctx context.Context, d drivers.Driver, lo LockOptions) (unlock drivers.Unlock, waited string, err error) {
	req := lockRequest(ctx, lo)
	start := time.Now()
	unlock, err = d.TryLock(ctx, req)
	var held *drivers.HeldError
	if !errors.As(err, &held) {
		return unlock, "", err
	}
	who := fmt.Sprintf("held by %s (run %s)", held.Record.Holder, held.Record.RunID)
	if unlock, err = drivers.AcquireLock(ctx, d, req, lo.Wait, lo.Poll); err != nil {
		if errors.As(err, &held) {
			err = fmt.Errorf("not applied after waiting %s for the fabric's writer lock: %w", time.Since(start).Round(time.Second), err)
		}
		return nil, "", err
	}
	return unlock, fmt.Sprintf("waited %s for the fabric's writer lock, %s", time.Since(start).Round(time.Millisecond), who), nil
}

var holderUnsafe = regexp.MustCompile(`[^A-Za-z0-9._:@-]`)

func lockRequest(ctx context.Context, lo LockOptions) drivers.LockRequest {
	holder := lo.Holder
	if holder == "" {
		host, _ := os.Hostname()
		holder = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	holder = holderUnsafe.ReplaceAllString(holder, "_")
	if len(holder) > 64 {
		holder = holder[:64]
	}
	if holder == "" {
		holder = "fabric-reconciler"
	}
	ttl := lo.TTL
	if ttl <= 0 {
		ttl = DefaultLockTTL
		if dl, ok := ctx.Deadline(); ok {
			ttl = time.Until(dl) + time.Minute
		}
	}
	ttl = max(ttl, time.Minute)
	return drivers.LockRequest{Holder: holder, RunID: NewRunID(), TTL: ttl}
}

// NewRunID returns a random id for one run.
func NewRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:n], "; ") + fmt.Sprintf("; and %d more", len(items)-n)
}

// Progress is what a fresh observation found of a plan's changes.
type Progress struct {
	InPlace    []fabric.Change
	NotInPlace []fabric.Change
}

// ProgressOf sorts a plan's changes by whether the observation shows them
// done: a create or update whose object is there as planned, a delete whose
// object is gone.
func ProgressOf(plan fabric.Changeset, obs fabric.Observed) Progress {
	have := map[fabric.Key]fabric.Object{}
	for _, o := range obs.Owned.Objects() {
		have[fabric.KeyOf(o)] = o
	}
	var p Progress
	for _, c := range plan.Changes {
		o, ok := have[c.Key()]
		done := false
		switch c.Action {
		case fabric.ActionDelete:
			done = !ok
		default:
			done = ok && fabric.Equal(o, c.After)
		}
		if done {
			p.InPlace = append(p.InPlace, c)
		} else {
			p.NotInPlace = append(p.NotInPlace, c)
		}
	}
	return p
}
