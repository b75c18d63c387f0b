// Package memfabric is an in-memory fabric for tests of the controller: a
// drivers.Driver that keeps the objects it owns in memory, honours the
// ownership contract (foreign objects are reported and never touched) and
// records every call with the instance that made it, so that a test can
// tell which of two controller replicas wrote.
//
// It stands in for a real driver until the controller's end-to-end tests
// run against the APIC emulator; nothing in the controller knows about it.
package memfabric

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Ops recorded in Call.Op.
const (
	OpObserve = "observe"
	OpApply   = "apply"
	OpLock    = "lock"
	OpUnlock  = "unlock"
)

// Call is one request a driver instance made.
type Call struct {
	At       time.Time
	Instance string
	Op       string
	// Changes are the changes an apply carried.
	Changes []fabric.Change
	Err     error
}

// Fabric is one in-memory fabric, shared by every driver opened on it.
type Fabric struct {
	mu      sync.Mutex
	owned   map[fabric.Key]fabric.Object
	foreign []fabric.Foreign
	// unmarked are the foreign objects without any mark, with their
	// attributes (PutUnmarked): what adoption may take over.
	unmarked map[fabric.Key]fabric.Object
	calls    []Call
	fail     error
	changed  chan struct{} // closed and replaced on every call
	lock     *drivers.LockRecord
}

// New returns an empty fabric.
func New() *Fabric {
	return &Fabric{owned: map[fabric.Key]fabric.Object{}, changed: make(chan struct{})}
}

// Put places objects on the fabric as owned by the cluster, as a previous
// run (or a person editing by hand) would have left them.
func (f *Fabric) Put(objs ...fabric.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range objs {
		f.owned[fabric.KeyOf(fabric.Canonical(o))] = fabric.Canonical(o)
	}
}

// Remove deletes owned objects by key, as a person editing by hand would.
func (f *Fabric) Remove(keys ...fabric.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		delete(f.owned, k)
	}
}

// AddForeign places an object the cluster does not own.
func (f *Fabric) AddForeign(fo fabric.Foreign) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.foreign = append(f.foreign, fo)
}

// SetFailure makes every later request fail with err (nil heals it), as
// an unreachable switch would.
func (f *Fabric) SetFailure(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// State returns what the fabric holds for the cluster.
func (f *Fabric) State() fabric.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s fabric.State
	for _, o := range f.owned {
		s.Add(o)
	}
	return s
}

// Has reports whether the fabric holds an owned object with that key.
func (f *Fabric) Has(k fabric.Key) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.owned[k]
	return ok
}

// Calls returns every call so far.
func (f *Fabric) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Applies returns the apply calls so far.
func (f *Fabric) Applies() []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Op == OpApply {
			out = append(out, c)
		}
	}
	return out
}

// WaitFor blocks until cond holds for the calls so far, or ctx ends.
func (f *Fabric) WaitFor(ctx context.Context, cond func(calls []Call) bool) error {
	for {
		f.mu.Lock()
		calls := append([]Call(nil), f.calls...)
		ch := f.changed
		f.mu.Unlock()
		if cond(calls) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("memfabric: condition not met after %d calls: %w", len(calls), ctx.Err())
		}
	}
}

func (f *Fabric) record(c Call) {
	f.calls = append(f.calls, c)
	close(f.changed)
	f.changed = make(chan struct{})
}

// Driver opens a driver on the fabric for one controller instance.
func (f *Fabric) Driver(instance string, metrics drivers.RequestObserver, fabricName string) drivers.Driver {
	return &driver{f: f, instance: instance, metrics: metrics, fabricName: fabricName}
}

// Factory returns a drivers.Factory for one controller instance: a test
// injects it in place of drivers.Open.
func (f *Fabric) Factory(instance string) drivers.Factory {
	return func(cfg config.Fabric, opts drivers.Options) (drivers.Driver, error) {
		return f.Driver(instance, opts.Metrics, cfg.Name), nil
	}
}

// DriverName is the name plans carry for this driver.
const DriverName = "memfabric"

type driver struct {
	f          *Fabric
	instance   string
	metrics    drivers.RequestObserver
	fabricName string
	closed     bool
}

func (d *driver) observe(op string, began time.Time, err error) {
	if d.metrics != nil {
		d.metrics.ObserveRequest(d.fabricName, DriverName, op, time.Since(began), err)
	}
}

func (d *driver) Observe(ctx context.Context) (fabric.Observed, error) {
	began := time.Now()
	if err := ctx.Err(); err != nil {
		return fabric.Observed{}, err
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if d.closed {
		return fabric.Observed{}, errors.New("memfabric: driver is closed")
	}
	err := d.f.fail
	d.f.record(Call{At: time.Now(), Instance: d.instance, Op: OpObserve, Err: err})
	d.observe(OpObserve, began, err)
	if err != nil {
		return fabric.Observed{}, err
	}
	var obs fabric.Observed
	for _, o := range d.f.owned {
		obs.Owned.Add(o)
	}
	obs.Foreign = append(obs.Foreign, d.f.foreign...)
	return obs, nil
}

func (d *driver) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	began := time.Now()
	if err := ctx.Err(); err != nil {
		return fabric.ApplyResult{}, err
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if d.closed {
		return fabric.ApplyResult{}, errors.New("memfabric: driver is closed")
	}
	err := d.f.fail
	d.f.record(Call{At: time.Now(), Instance: d.instance, Op: OpApply, Changes: plan.Changes, Err: err})
	d.observe(OpApply, began, err)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	foreign := map[fabric.Key]bool{}
	for _, fo := range d.f.foreign {
		foreign[fo.Key()] = true
	}
	var res fabric.ApplyResult
	for _, c := range plan.Changes {
		k := c.Key()
		if foreign[k] {
			// The safety contract: never touch what the cluster does not own.
			res.Conflicts = append(res.Conflicts, fabric.Conflict{Kind: k.Kind, Switch: k.Switch, ID: k.ID, Reason: "foreign object in the way"})
			continue
		}
		switch c.Action {
		case fabric.ActionCreate, fabric.ActionUpdate:
			d.f.owned[k] = fabric.Canonical(c.After)
		case fabric.ActionDelete:
			delete(d.f.owned, k)
		}
		res.Applied = append(res.Applied, c)
	}
	res.Messages = append(res.Messages, fmt.Sprintf("memfabric: %d change(s) by %s", len(res.Applied), d.instance))
	return res, nil
}

// TryLock takes the fabric's writer lock: an in-memory marker replaced only
// when free or expired, atomically (the fabric's mutex).
func (d *driver) TryLock(ctx context.Context, req drivers.LockRequest) (drivers.Unlock, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	err := d.f.fail
	d.f.record(Call{At: time.Now(), Instance: d.instance, Op: OpLock, Err: err})
	if err != nil {
		return nil, err
	}
	if l := d.f.lock; l != nil && !l.Expired(req.Clock()) && !l.Same(req.Record()) {
		return nil, &drivers.HeldError{Record: *l, Where: "memfabric"}
	}
	rec := req.Record()
	d.f.lock = &rec
	return func(context.Context) error {
		d.f.mu.Lock()
		defer d.f.mu.Unlock()
		err := d.f.fail
		d.f.record(Call{At: time.Now(), Instance: d.instance, Op: OpUnlock, Err: err})
		if err != nil {
			return err
		}
		if d.f.lock != nil && d.f.lock.Same(rec) {
			d.f.lock = nil
		}
		return nil
	}, nil
}

// Lock returns the lock record the fabric holds, if any.
func (f *Fabric) Lock() (drivers.LockRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lock == nil {
		return drivers.LockRecord{}, false
	}
	return *f.lock, true
}

func (d *driver) Render(plan fabric.Changeset) (string, error) {
	var lines []string
	for _, c := range plan.Changes {
		lines = append(lines, fmt.Sprintf("%s %s", c.Action, c.Key()))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}

func (d *driver) Close() error {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	d.closed = true
	return nil
}
