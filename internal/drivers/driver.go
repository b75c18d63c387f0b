// Package drivers defines what a fabric driver does and keeps the registry of
// built-in drivers. Each driver lives in its own package (internal/drivers/aci,
// internal/drivers/frr, internal/drivers/nxos), registers itself in init, and keeps its vendor
// knowledge inside: DNs and JSON for ACI, CLI and its parsing for FRR and
// NX-OS. A driver imports fabric and config, never k8swatch or reconciler.
package drivers

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// Driver drives one fabric.
//
// Safety contract, kept by every driver:
//   - Observe returns in Observed.Owned only objects that carry this
//     cluster's ownership mark, and in Observed.Foreign the objects it finds at
//     places the cluster would write that do not carry it;
//   - Apply never modifies or deletes an object without the mark; an object
//     in the way is reported in ApplyResult.Conflicts and left alone;
//   - every string that reaches a switch was validated against a strict
//     grammar first: a bad value fails its own change, not the whole plan;
//   - secrets are never logged, rendered or put in errors;
//   - changes are applied only under the fabric's writer lock (TryLock),
//     after an Observe made under it.
//
// State between calls: a driver keeps the snapshot of its latest Observe
// (the native objects or running configurations behind the Observed it
// returned). Apply writes against that snapshot: it decides the lines or
// objects to send, and re-checks ownership, from what the fabric held then.
// A caller therefore observes, under the lock, right before it applies (as
// reconciler.ApplyFabric does); NX-OS refuses an Apply whose snapshot
// predates its lock, FRR one while another writer holds the lock. Render reads the same snapshot and changes
// nothing: with no Observe yet, it shows what Apply would send to a fabric
// taken as empty.
type Driver interface {
	// Observe reads what the fabric holds now, returns it, and keeps it as
	// the snapshot Apply and Render work against.
	Observe(ctx context.Context) (fabric.Observed, error)
	// Apply makes the plan's changes on the fabric, against the snapshot of
	// the latest Observe.
	Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error)
	// Render returns the native configuration Apply would send for the plan
	// (APIC JSON, CLI lines), for review, against the latest snapshot (or
	// an empty fabric). It contacts no switch and changes no state.
	Render(plan fabric.Changeset) (string, error)
	// Close releases connections.
	Close() error
	// Locker: every driver holds a writer lock on its fabric, so that two
	// writers never interleave their changes (see lock.go).
	Locker
}

// Options are what every driver gets besides its fabric's configuration.
type Options struct {
	// Cluster is the cluster name; drivers derive their ownership mark from it.
	Cluster string
	Logger  *slog.Logger
	// Metrics, when set, counts the driver's requests, times them and
	// counts their errors.
	Metrics RequestObserver
}

// RequestObserver is told about every request a driver sends to a switch
// or controller: its operation (an API call, a CLI command or configure),
// how long it took until the answer (0 when it was never sent), and its
// error (nil on success).
type RequestObserver interface {
	ObserveRequest(fabricName, driver, operation string, took time.Duration, err error)
}

// Factory builds a driver for one fabric. It must not contact the switch:
// Render works offline, connections are made on first use.
type Factory func(cfg config.Fabric, opts Options) (Driver, error)

// Desire turns what a fabric must provide for the cluster (the intent, which
// the reconciler derives without knowing any platform) into the objects the
// platform holds: vendor naming and shape stay with the vendor. It is pure:
// no I/O, the same inputs give the same output. Parts of the intent the
// platform cannot express are skipped with the reason, and nothing derived
// from them is planned.
type Desire func(cfg config.Fabric, in fabric.Intent) fabric.Realized

// PlanCheck says why a fabric's plan must not be applied at all ("" when
// it may), from what only the platform knows: a limit of the platform
// that the fabric would pass once the plan is applied. It sees the
// desired state, what the fabric holds for the cluster and the plan (after
// the policy held back what it does not allow), and runs when the plan is
// made, before anything is sent. It is pure, like Desire.
type PlanCheck func(cfg config.Fabric, want fabric.Target, obs fabric.Observed, plan fabric.Changeset) string

// Spec is what a driver registers: how to open it, how it realizes an
// intent, and its configuration (parsed and validated by the driver).
type Spec struct {
	Open   Factory
	Desire Desire
	Config config.DriverSpec
	// Check, when set, refuses plans the platform cannot take.
	Check PlanCheck
}

var (
	mu       sync.Mutex
	registry = map[string]Spec{}
)

// Register makes a driver available under a name. Drivers call it from init.
func Register(name string, s Spec) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("drivers: duplicate driver " + name)
	}
	if s.Open == nil || s.Desire == nil || s.Config.Parse == nil {
		panic("drivers: driver " + name + " registers no factory, desire or configuration")
	}
	registry[name] = s
	config.RegisterDriver(name, s.Config)
}

// DesireFunc returns the Desire of a registered driver.
func DesireFunc(name string) (Desire, bool) {
	mu.Lock()
	defer mu.Unlock()
	s, ok := registry[name]
	return s.Desire, ok
}

// CheckFunc returns the plan check of a registered driver (nil when it has
// none).
func CheckFunc(name string) PlanCheck {
	mu.Lock()
	defer mu.Unlock()
	return registry[name].Check
}

// Names lists the registered drivers.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Open builds the driver for a fabric.
func Open(cfg config.Fabric, opts Options) (Driver, error) {
	mu.Lock()
	s, ok := registry[cfg.Driver]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("fabric %s: driver %q is not built in (have %v)", cfg.Name, cfg.Driver, Names())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return s.Open(cfg, opts)
}
