package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// env is one behaviour's run: its harness, its context, and everything the
// drivers it opened said (the debug log, errors, messages, rendered
// output), which must hold no secret.
type env struct {
	h       Harness
	ctx     context.Context
	log     logBuffer
	metrics requestCounter

	mu      sync.Mutex
	outputs []string
}

var runs atomic.Int64

func newEnv(t *testing.T, h Harness) *env {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	e := &env{h: h, ctx: ctx}
	// Checked last (cleanups run in reverse order): after the drivers
	// opened by the behaviour have closed and logged their last lines.
	t.Cleanup(func() { e.checkSecrets(t) })
	return e
}

// open builds a driver for cluster, logging at debug level into the
// behaviour's log, and closes it when the behaviour ends.
func (e *env) open(t *testing.T, cluster string) drivers.Driver {
	t.Helper()
	d := e.h.Open(t, drivers.Options{
		Cluster: cluster,
		Logger:  slog.New(slog.NewTextHandler(&e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: &e.metrics,
	})
	t.Cleanup(func() { e.record("close", d.Close()) })
	return d
}

// record keeps an error or text a driver produced, for the secrets check.
func (e *env) record(what string, v any) {
	var s string
	switch x := v.(type) {
	case nil:
		return
	case error:
		s = x.Error()
	case string:
		s = x
	case []string:
		s = strings.Join(x, "\n")
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outputs = append(e.outputs, what+": "+s)
}

func (e *env) recordResult(res fabric.ApplyResult, err error) {
	e.record("apply error", err)
	e.record("apply messages", res.Messages)
	for _, c := range res.Conflicts {
		e.record("apply conflict", c.Reason)
	}
}

// checkSecrets fails the behaviour when a secret shows in the debug log or
// in anything a driver returned.
func (e *env) checkSecrets(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	outs := strings.Join(e.outputs, "\n")
	e.mu.Unlock()
	log := e.log.String()
	for _, s := range e.h.Secrets {
		if strings.Contains(log, s) {
			t.Errorf("a secret (%d characters) appears in the drivers' debug log", len(s))
		}
		if strings.Contains(outs, s) {
			t.Errorf("a secret (%d characters) appears in an error, message or rendered output", len(s))
		}
	}
}

// request is a lock request of this run for a holder.
func request(holder string) drivers.LockRequest {
	return drivers.LockRequest{Holder: holder, RunID: fmt.Sprintf("%s-run-%d", holder, runs.Add(1)), TTL: time.Minute}
}

// lock takes the fabric's writer lock for holder, failing the test when it
// cannot; the returned Unlock releases it once (again at the end of the
// behaviour if the behaviour did not).
func (e *env) lock(t *testing.T, d drivers.Driver, holder string) drivers.Unlock {
	t.Helper()
	unlock, err := d.TryLock(e.ctx, request(holder))
	e.record("lock", err)
	if err != nil {
		t.Fatalf("TryLock for %s: %v", holder, err)
	}
	return e.once(t, unlock)
}

// once makes an Unlock run at most once, and at the end of the behaviour
// when nobody ran it.
func (e *env) once(t *testing.T, u drivers.Unlock) drivers.Unlock {
	var (
		mu   sync.Mutex
		done bool
	)
	f := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return nil
		}
		done = true
		err := u(ctx)
		e.record("unlock", err)
		return err
	}
	t.Cleanup(func() { _ = f(context.Background()) })
	return f
}

func (e *env) observe(t *testing.T, d drivers.Driver) fabric.Observed {
	t.Helper()
	obs, err := d.Observe(e.ctx)
	e.record("observe", err)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	return obs
}

func (e *env) plan(want fabric.State, obs fabric.Observed) fabric.Changeset {
	return fabric.Diff(fabric.Target{Name: "conformance", Driver: e.h.Driver, State: want}, obs)
}

// reconcile does what reconciler.ApplyFabric does: it takes the writer
// lock, observes under it, plans against want, applies and releases the
// lock. It then checks that the result tells the truth: Applied lists
// exactly the plan's changes a fresh observation finds in place.
func (e *env) reconcile(t *testing.T, d drivers.Driver, holder string, want fabric.State) (fabric.Changeset, fabric.ApplyResult, error) {
	t.Helper()
	unlock := e.lock(t, d, holder)
	obs := e.observe(t, d)
	plan := e.plan(want, obs)
	res, err := d.Apply(e.ctx, plan)
	e.recordResult(res, err)
	if uerr := unlock(e.ctx); uerr != nil {
		t.Errorf("unlock: %v", uerr)
	}
	e.checkTruth(t, d, plan, res)
	return plan, res, err
}

// mustReconcile is reconcile for a state the fabric must take whole.
func (e *env) mustReconcile(t *testing.T, d drivers.Driver, holder string, want fabric.State) (fabric.Changeset, fabric.ApplyResult) {
	t.Helper()
	plan, res, err := e.reconcile(t, d, holder, want)
	if err != nil {
		t.Fatalf("apply: %v\nmessages: %q", err, res.Messages)
	}
	if len(plan.Conflicts) > 0 || len(res.Conflicts) > 0 {
		t.Fatalf("conflicts on a fabric that holds nothing in the way: plan %+v, apply %+v", plan.Conflicts, res.Conflicts)
	}
	if got, want := changeKeys(res.Applied), changeKeys(plan.Changes); !equalStrings(got, want) {
		t.Fatalf("applied %q, the plan had %q", got, want)
	}
	e.converged(t, d, want)
	return plan, res
}

// checkTruth: a change is in Applied exactly when a fresh observation finds
// it in place.
func (e *env) checkTruth(t *testing.T, d drivers.Driver, plan fabric.Changeset, res fabric.ApplyResult) {
	t.Helper()
	obs := e.observe(t, d)
	var inPlace []string
	for _, c := range plan.Changes {
		if changeInPlace(c, obs) {
			inPlace = append(inPlace, changeKey(c))
		}
	}
	sort.Strings(inPlace)
	if applied := changeKeys(res.Applied); !equalStrings(applied, inPlace) {
		t.Errorf("Apply does not tell the truth: it reports applied\n  %q\nand a fresh observation finds in place\n  %q", applied, inPlace)
	}
}

func changeInPlace(c fabric.Change, obs fabric.Observed) bool {
	for _, o := range obs.Owned.Objects() {
		if fabric.KeyOf(o) == c.Key() {
			return c.Action != fabric.ActionDelete && fabric.Equal(o, c.After)
		}
	}
	return c.Action == fabric.ActionDelete
}

// converged fails the test when a fresh observation still needs a change
// to reach want.
func (e *env) converged(t *testing.T, d drivers.Driver, want fabric.State) fabric.Changeset {
	t.Helper()
	obs := e.observe(t, d)
	plan := e.plan(want, obs)
	if len(plan.Changes) > 0 {
		t.Fatalf("not converged, a second plan still has:\n%s", describe(plan.Changes))
	}
	return plan
}

func (e *env) writes(t *testing.T) int {
	t.Helper()
	return e.h.Writes(t)
}

func (e *env) dump(t *testing.T) string {
	t.Helper()
	return e.h.Dump(t)
}

// sameDump fails the test when the fabric's configuration is not what it
// was, showing the first lines that differ.
func sameDump(t *testing.T, what, before, after string) {
	t.Helper()
	if before == after {
		return
	}
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	i := 0
	for i < len(bl) && i < len(al) && bl[i] == al[i] {
		i++
	}
	show := func(ls []string) string {
		return strings.Join(ls[i:min(len(ls), i+8)], "\n")
	}
	t.Errorf("%s: the fabric's configuration differs from line %d\nbefore:\n%s\nafter:\n%s", what, i+1, show(bl), show(al))
}

// sameAfterDelete is sameDump for a fabric the cluster has left: lines the
// harness names as leftovers are not compared.
func (e *env) sameAfterDelete(t *testing.T, what, before, after string) {
	t.Helper()
	if before == after || len(e.h.Leftovers) == 0 {
		sameDump(t, what, before, after)
		return
	}
	drop := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !slices.Contains(e.h.Leftovers, l) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	sameDump(t, what, drop(before), drop(after))
	if drop(before) == drop(after) {
		t.Logf("%s: the fabric differs from its baseline only by leftover lines the driver documents %q", what, e.h.Leftovers)
	}
}

func changeKey(c fabric.Change) string { return string(c.Action) + " " + c.Key().String() }

func changeKeys(cs []fabric.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, changeKey(c))
	}
	sort.Strings(out)
	return out
}

func conflictKeys(cs []fabric.Conflict) map[fabric.Key]bool {
	out := map[fabric.Key]bool{}
	for _, c := range cs {
		out[fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}] = true
	}
	return out
}

func describe(cs []fabric.Change) string {
	var b strings.Builder
	for _, c := range cs {
		before, _ := json.Marshal(c.Before)
		after, _ := json.Marshal(c.After)
		fmt.Fprintf(&b, "  %s before %s after %s\n", changeKey(c), before, after)
	}
	return b.String()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// owns reports whether an observation's owned objects hold key k.
func owns(obs fabric.Observed, k fabric.Key) bool {
	for _, o := range obs.Owned.Objects() {
		if fabric.KeyOf(o) == k {
			return true
		}
	}
	return false
}

// foreignAt returns the foreign object that occupies key k: one at k, or
// one standing for every id under a prefix ("EPG_X/*"), as fabric.Diff
// reads them.
func foreignAt(obs fabric.Observed, k fabric.Key) (fabric.Foreign, bool) {
	for _, f := range obs.Foreign {
		if f.Key() == k {
			return f, true
		}
		if f.Kind == k.Kind && f.Switch == k.Switch && strings.HasSuffix(f.ID, "/"+fabric.AnyID) &&
			strings.HasPrefix(k.ID, strings.TrimSuffix(f.ID, fabric.AnyID)) {
			return f, true
		}
	}
	return fabric.Foreign{}, false
}

// ownedText is a comparable text of what an observation owns.
func ownedText(obs fabric.Observed) string {
	var b strings.Builder
	for _, o := range obs.Owned.Objects() {
		j, _ := json.Marshal(o)
		fmt.Fprintf(&b, "%s %s\n", fabric.KeyOf(o), j)
	}
	return b.String()
}

// union returns a state with the objects of both.
func union(a fabric.State, objs ...fabric.Object) fabric.State {
	var s fabric.State
	for _, o := range a.Objects() {
		s.Add(o)
	}
	for _, o := range objs {
		s.Add(o)
	}
	return s
}

// heldBy checks that err says another writer, holder, holds the lock.
func heldBy(t *testing.T, err error, holder string) {
	t.Helper()
	var held *drivers.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("error %v, want a *drivers.HeldError naming %s", err, holder)
	}
	if held.Record.Holder != holder || !strings.Contains(err.Error(), holder) {
		t.Fatalf("error %v names %s, want %s", err, held.Record.Holder, holder)
	}
}

// logBuffer collects the debug log of every driver of a behaviour.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requestCounter counts the requests drivers report (drivers.Options.Metrics).
type requestCounter struct{ n atomic.Int64 }

func (c *requestCounter) ObserveRequest(fabricName, driver, operation string, took time.Duration, err error) {
	c.n.Add(1)
}

func (c *requestCounter) count() int64 { return c.n.Load() }
