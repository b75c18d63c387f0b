package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Behaviour is one row of the suite's table.
type Behaviour struct {
	// Name is the subtest's name.
	Name string
	// Checks says, for people, what the behaviour checks.
	Checks string
	run    func(t *testing.T, e *env)
}

// Behaviours is the table every driver must pass, in the order Run runs it.
// Each behaviour starts from a fabric the harness has just reset.
var Behaviours = []Behaviour{
	{"observe-fresh", "a fresh fabric holds nothing the cluster owns (the network team's objects are never Owned), " +
		"two observations agree, and observing writes nothing", observeFresh},
	{"converge", "applying the desired state to a fresh fabric applies every change; a fresh driver observes exactly " +
		"the desired state back", converge},
	{"idempotent", "once converged, the next plan is empty and applying it sends nothing; replaying the first plan " +
		"leaves the fabric byte for byte as it was (and, where Apply reads the fabric, sends nothing)", idempotent},
	{"update", "changed attributes, removed and added objects converge, and back again", update},
	{"round-trip", "deleting everything the cluster owns returns the fabric to its baseline byte for byte", roundTrip},
	{"foreign-left-alone", "hand-made objects and another cluster's, at places the cluster would write, are never in " +
		"Owned, are in Foreign, become conflicts; the rest of the plan applies; they stay byte for byte through the " +
		"apply and through deleting everything the cluster owns", foreignLeftAlone},
	{"conflict-at-apply", "an object made by hand after the plan was made is found in the way at apply, reported " +
		"in ApplyResult.Conflicts and left byte for byte; the rest applies", conflictAtApply},
	{"refused-value", "a value the driver must refuse fails its own change only: every other change applies, the " +
		"error names the refused change, nothing of it reaches the fabric", refusedValue},
	{"platform-refusal", "a change the platform refuses fails as much of the plan as the platform's atomicity says " +
		"(Harness.Refusal), Applied still tells the truth, and the next run converges", platformRefusal},
	{"lock-held", "a second writer's TryLock gets a *drivers.HeldError naming the first; the marker is never " +
		"observed; Unlock frees the lock and leaves the fabric as it was", lockHeld},
	{"lock-expired", "an expired lock is taken over; the old holder's Unlock leaves the new holder's lock", lockExpired},
	{"lock-apply", "Apply without the lock is refused where the driver requires it (Harness.Lock) and writes nothing", lockApply},
	{"render-offline", "Render works before any Observe, contacts nothing, and prints no secret", renderOffline},
	{"secrets", "a whole cycle at debug level (observe, render, apply, a refused value, a held lock) leaves no secret in " +
		"the log, errors, messages or rendered output", secrets},
}

// Run runs every behaviour of the table against the harness's driver, each
// as a subtest, on a fabric reset before each.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if err := h.check(); err != nil {
		t.Fatalf("conformance harness: %v", err)
	}
	for _, b := range Behaviours {
		t.Run(b.Name, func(t *testing.T) {
			h.Reset(t)
			b.run(t, newEnv(t, h))
		})
	}
}

func (h Harness) check() error {
	var missing []string
	for name, ok := range map[string]bool{
		"Driver": h.Driver != "", "Open": h.Open != nil, "Reset": h.Reset != nil, "Dump": h.Dump != nil,
		"Writes": h.Writes != nil, "Desired (two objects at least)": h.Desired.Len() >= 2, "HandMake": h.HandMake != nil,
		"Other": h.Other.Len() > 0, "Refused": len(h.Refused) > 0, "RefusedText": h.RefusedText != "",
		"Secrets": len(h.Secrets) > 0, "Lock": h.Lock != "", "ApplyBasis": h.ApplyBasis != "",
		"Refusal (with PlatformRefuses)": h.PlatformRefuses == nil || h.Refusal != "",
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	for _, s := range h.Secrets {
		if len(s) < 6 {
			return fmt.Errorf("a secret of %d characters is too short to grep for", len(s))
		}
	}
	want := map[fabric.Key]bool{}
	for _, o := range h.Desired.Objects() {
		want[fabric.KeyOf(o)] = true
	}
	for _, o := range h.Other.Objects() {
		if !want[fabric.KeyOf(o)] {
			return fmt.Errorf("Other holds %s, which is not a place of Desired", fabric.KeyOf(o))
		}
	}
	for _, o := range h.Refused {
		if want[fabric.KeyOf(o)] {
			return fmt.Errorf("Refused holds %s, a key of Desired", fabric.KeyOf(o))
		}
	}
	return nil
}

func observeFresh(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	w := e.writes(t)
	obs := e.observe(t, d)
	if obs.Owned.Len() != 0 {
		t.Errorf("a fresh fabric: Owned holds %d objects:\n%s", obs.Owned.Len(), ownedText(obs))
	}
	again := e.observe(t, d)
	if obs.Fingerprint() != again.Fingerprint() {
		t.Errorf("two observations of an unchanged fabric differ: %q", fabric.CompareObserved(obs, again))
	}
	if n := e.writes(t) - w; n != 0 {
		t.Errorf("observing wrote %d times to the fabric", n)
	}
}

func converge(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	w := e.writes(t)
	plan, _ := e.mustReconcile(t, d, "conf-writer", e.h.Desired)
	if e.writes(t) == w {
		t.Error("applying the desired state counted no write: does Harness.Writes count them?")
	}
	if s := plan.Summary(); s.Create != e.h.Desired.Len() || s.Total() != s.Create {
		t.Errorf("the first plan is %+v, want %d creates", s, e.h.Desired.Len())
	}
	// What the fabric holds, not what a driver remembers.
	e.converged(t, e.open(t, Cluster), e.h.Desired)
}

func idempotent(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	first, _ := e.mustReconcile(t, d, "conf-writer", e.h.Desired)
	before := e.dump(t)

	unlock := e.lock(t, d, "conf-writer")
	second := e.plan(e.h.Desired, e.observe(t, d))
	if len(second.Changes) > 0 || len(second.Conflicts) > 0 {
		t.Fatalf("the second plan is not empty:\n%s%+v", describe(second.Changes), second.Conflicts)
	}
	w := e.writes(t)
	res, err := d.Apply(e.ctx, second)
	e.recordResult(res, err)
	if err != nil || len(res.Applied) > 0 {
		t.Errorf("applying the empty plan: %v, applied %d", err, len(res.Applied))
	}
	if n := e.writes(t) - w; n != 0 {
		t.Errorf("applying the empty plan wrote %d times", n)
	}

	// The first plan again (a plan applied twice, a retry after a lost
	// answer): harmless.
	e.observe(t, d)
	w = e.writes(t)
	res, err = d.Apply(e.ctx, first)
	e.recordResult(res, err)
	if err != nil {
		t.Errorf("replaying the first plan: %v", err)
	}
	sent := e.writes(t) - w
	switch e.h.ApplyBasis {
	case ApplyReadsFabric:
		if sent != 0 {
			t.Errorf("replaying the first plan on the converged fabric wrote %d times; Apply reads the fabric, so nothing is missing", sent)
		}
	case ApplyGoesByObservation:
		t.Logf("replaying the first plan wrote %d times (Apply goes by the last observation and sends each change whole)", sent)
	}
	if err := unlock(e.ctx); err != nil {
		t.Errorf("unlock: %v", err)
	}
	sameDump(t, "after replaying the first plan", before, e.dump(t))
	e.converged(t, d, e.h.Desired)
}

func update(t *testing.T, e *env) {
	if e.h.Updated.Len() == 0 {
		t.Skip("the harness has no Updated state")
	}
	d := e.open(t, Cluster)
	e.mustReconcile(t, d, "conf-writer", e.h.Desired)
	plan, _ := e.mustReconcile(t, d, "conf-writer", e.h.Updated)
	if s := plan.Summary(); s.Update == 0 || s.Delete == 0 {
		t.Errorf("Desired to Updated is %+v: the harness's Updated should change and remove objects", s)
	}
	e.mustReconcile(t, d, "conf-writer", e.h.Desired)
}

func roundTrip(t *testing.T, e *env) {
	baseline := e.dump(t)
	d := e.open(t, Cluster)
	e.mustReconcile(t, d, "conf-writer", e.h.Desired)
	if e.dump(t) == baseline {
		t.Fatal("applying the desired state did not change the fabric's configuration (does Dump show it?)")
	}
	e.mustReconcile(t, d, "conf-writer", fabric.State{})
	if obs := e.observe(t, d); obs.Owned.Len() != 0 {
		t.Errorf("after deleting everything, Owned holds:\n%s", ownedText(obs))
	}
	e.sameAfterDelete(t, "after deleting everything the cluster owns", baseline, e.dump(t))
}

// foreignSetup makes the hand-made objects and has the other cluster apply
// its state; it returns the keys of Desired each occupies, how to show the
// hand-made ones, the other cluster's driver and what it owns.
func foreignSetup(t *testing.T, e *env) (hand, other map[fabric.Key]bool, show func(*testing.T) string, theirs drivers.Driver, theirsOwned string) {
	t.Helper()
	keys, show := e.h.HandMake(t)
	if len(keys) == 0 {
		t.Fatal("HandMake put nothing in the way")
	}
	hand, other = map[fabric.Key]bool{}, map[fabric.Key]bool{}
	for _, k := range keys {
		hand[k] = true
	}
	theirs = e.open(t, OtherCluster)
	e.mustReconcile(t, theirs, "conf-other-writer", e.h.Other)
	for _, o := range e.h.Other.Objects() {
		k := fabric.KeyOf(o)
		if hand[k] {
			t.Fatalf("the harness puts %s both in HandMake and in Other", k)
		}
		other[k] = true
	}
	return hand, other, show, theirs, ownedText(e.observe(t, theirs))
}

func foreignLeftAlone(t *testing.T, e *env) {
	hand, other, show, theirs, theirsOwned := foreignSetup(t, e)
	shown := show(t)
	if strings.TrimSpace(shown) == "" {
		t.Fatal("HandMake's show shows nothing")
	}
	baseline := e.dump(t)
	stillTheirs := func(when string) {
		t.Helper()
		if got := show(t); got != shown {
			t.Errorf("%s: the hand-made objects changed:\n%s\nwere:\n%s", when, got, shown)
		}
		if got := ownedText(e.observe(t, theirs)); got != theirsOwned {
			t.Errorf("%s: the other cluster's objects changed:\n%s\nwere:\n%s", when, got, theirsOwned)
		}
	}

	d := e.open(t, Cluster)
	obs := e.observe(t, d)
	for k := range hand {
		if owns(obs, k) {
			t.Errorf("a hand-made %s is in Owned", k)
		}
		if f, ok := foreignAt(obs, k); !ok {
			t.Errorf("a hand-made %s is not in Foreign", k)
		} else if f.Owner != "" {
			t.Errorf("a hand-made %s is in Foreign with owner %q, want none", k, f.Owner)
		}
	}
	for k := range other {
		if owns(obs, k) {
			t.Errorf("the other cluster's %s is in Owned", k)
		}
		if f, ok := foreignAt(obs, k); !ok {
			t.Errorf("the other cluster's %s is not in Foreign", k)
		} else if f.Owner != "" && !strings.Contains(f.Owner, OtherCluster) {
			t.Errorf("the other cluster's %s is in Foreign with owner %q", k, f.Owner)
		}
	}
	plan := e.plan(e.h.Desired, obs)
	conflicts := conflictKeys(plan.Conflicts)
	for k := range hand {
		if !conflicts[k] {
			t.Errorf("the plan has no conflict for the hand-made %s", k)
		}
	}
	for k := range other {
		if !conflicts[k] {
			t.Errorf("the plan has no conflict for the other cluster's %s", k)
		}
	}
	if len(plan.Changes) == 0 {
		t.Fatal("everything of Desired is in the way: the harness must leave part of it free")
	}

	_, res, err := e.reconcile(t, d, "conf-writer", e.h.Desired)
	if err != nil {
		t.Fatalf("apply beside foreign objects: %v\nmessages: %q", err, res.Messages)
	}
	if got, want := changeKeys(res.Applied), changeKeys(plan.Changes); !equalStrings(got, want) {
		t.Errorf("applied %q, want the free part of the plan %q", got, want)
	}
	again := e.converged(t, d, e.h.Desired)
	if got := conflictKeys(again.Conflicts); len(got) != len(conflicts) {
		t.Errorf("the second plan has %d conflicts, the first %d", len(got), len(conflicts))
	}
	stillTheirs("after the apply")

	e.mustReconcile(t, d, "conf-writer", fabric.State{})
	if obs := e.observe(t, d); obs.Owned.Len() != 0 {
		t.Errorf("after deleting everything, Owned holds:\n%s", ownedText(obs))
	}
	stillTheirs("after deleting everything the cluster owns")
	e.sameAfterDelete(t, "after deleting everything the cluster owns beside foreign objects", baseline, e.dump(t))
}

func conflictAtApply(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	unlock := e.lock(t, d, "conf-writer")
	plan := e.plan(e.h.Desired, e.observe(t, d))
	keys, show := e.h.HandMake(t)
	shown := show(t)
	if strings.TrimSpace(shown) == "" {
		t.Fatal("HandMake's show shows nothing")
	}
	if e.h.ApplyBasis == ApplyGoesByObservation {
		// Apply goes by the last observation: the one the reconciler
		// makes under the lock just before applying (a plan made from
		// another is then refused as stale; here it is applied anyway).
		e.observe(t, d)
	}
	res, err := d.Apply(e.ctx, plan)
	e.recordResult(res, err)
	if err := unlock(e.ctx); err != nil {
		t.Errorf("unlock: %v", err)
	}
	conflicts := conflictKeys(res.Conflicts)
	applied := map[fabric.Key]bool{}
	for _, c := range res.Applied {
		applied[c.Key()] = true
	}
	for _, k := range keys {
		if !conflicts[k] {
			t.Errorf("%s, made by hand after the plan, is not in ApplyResult.Conflicts (%+v)", k, res.Conflicts)
		}
		if applied[k] {
			t.Errorf("%s, made by hand after the plan, is reported applied", k)
		}
	}
	for _, c := range plan.Changes {
		if !conflicts[c.Key()] && !applied[c.Key()] {
			t.Errorf("%s was neither applied nor reported in the way (error %v)", changeKey(c), err)
		}
	}
	if got := show(t); got != shown {
		t.Errorf("the hand-made objects changed:\n%s\nwere:\n%s", got, shown)
	}
	e.checkTruth(t, d, plan, res)
}

func refusedValue(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	want := union(e.h.Desired, e.h.Refused...)
	plan, res, err := e.reconcile(t, d, "conf-writer", want)
	if err == nil {
		t.Fatal("apply reported no error for the refused values")
	}
	for _, o := range e.h.Refused {
		if k := fabric.KeyOf(o).String(); !strings.Contains(err.Error(), k) {
			t.Errorf("the error does not name the refused change %s:\n%v", k, err)
		}
	}
	var good []fabric.Change
	refused := map[fabric.Key]bool{}
	for _, o := range e.h.Refused {
		refused[fabric.KeyOf(o)] = true
	}
	for _, c := range plan.Changes {
		if !refused[c.Key()] {
			good = append(good, c)
		}
	}
	if got, want := changeKeys(res.Applied), changeKeys(good); !equalStrings(got, want) {
		t.Errorf("applied %q, want every change but the refused ones: %q", got, want)
	}
	obs := e.observe(t, d)
	for k := range refused {
		if owns(obs, k) {
			t.Errorf("the refused %s is on the fabric", k)
		}
	}
	if p := e.plan(e.h.Desired, obs); len(p.Changes) > 0 {
		t.Errorf("the rest of the plan did not converge:\n%s", describe(p.Changes))
	}
	if strings.Contains(e.dump(t), e.h.RefusedText) {
		t.Errorf("the refused text %q reached the fabric", e.h.RefusedText)
	}
}

func platformRefusal(t *testing.T, e *env) {
	if e.h.PlatformRefuses == nil {
		t.Skip("the harness has no change the platform refuses")
	}
	baseline := e.dump(t)
	obj, undo := e.h.PlatformRefuses(t)
	k := fabric.KeyOf(obj)
	d := e.open(t, Cluster)
	plan, res, err := e.reconcile(t, d, "conf-writer", union(e.h.Desired, obj)) // checks the truth of Applied
	if err == nil {
		t.Fatalf("the platform refused %s, and apply reported no error", k)
	}
	t.Logf("the platform's refusal: %v", err)
	obs := e.observe(t, d)
	var other, same []fabric.Change // changes on other switches, and on the refused one's
	for _, c := range plan.Changes {
		switch {
		case c.Key() == k:
			if changeInPlace(c, obs) {
				t.Errorf("the refused %s is in place", k)
			}
		case c.Switch != "" && c.Switch == k.Switch || e.h.Refusal == RefusalFailsPlan:
			same = append(same, c)
		default:
			other = append(other, c)
		}
	}
	for _, c := range res.Applied {
		if c.Key() == k {
			t.Errorf("the refused %s is reported applied", k)
		}
	}
	switch e.h.Refusal {
	case RefusalFailsPlan:
		if len(res.Applied) > 0 {
			t.Errorf("the platform takes a plan all or nothing, and %d changes are reported applied", len(res.Applied))
		}
		sameDump(t, "after a refused plan", baseline, e.dump(t))
	case RefusalFailsSwitch:
		for _, c := range same {
			if changeInPlace(c, obs) {
				t.Errorf("%s is in place, on the switch whose lines were refused (all or nothing per switch)", changeKey(c))
			}
		}
	case RefusalStopsSwitch:
		// What came before the refused line stays; checkTruth has
		// checked that Applied says which.
	}
	for _, c := range other {
		if !changeInPlace(c, obs) {
			t.Errorf("%s, on another switch, was not applied", changeKey(c))
		}
	}
	undo()
	e.mustReconcile(t, d, "conf-writer", e.h.Desired)
}

func lockHeld(t *testing.T, e *env) {
	baseline := e.dump(t)
	a, b := e.open(t, Cluster), e.open(t, Cluster)
	before := e.observe(t, b)
	unlockA := e.lock(t, a, "conf-writer-a")
	_, err := b.TryLock(e.ctx, request("conf-writer-b"))
	e.record("lock", err)
	heldBy(t, err, "conf-writer-a")
	if during := e.observe(t, b); during.Fingerprint() != before.Fingerprint() {
		t.Errorf("the lock marker shows in the observation: %q", fabric.CompareObserved(before, during))
	}
	if err := unlockA(e.ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	unlockB := e.lock(t, b, "conf-writer-b")
	if err := unlockB(e.ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	sameDump(t, "after taking and releasing the lock", baseline, e.dump(t))
}

func lockExpired(t *testing.T, e *env) {
	baseline := e.dump(t)
	a, b, c := e.open(t, Cluster), e.open(t, Cluster), e.open(t, Cluster)
	// a's clock is an hour behind: its minute-long lease has long run out.
	past := request("conf-writer-a")
	past.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	unlockA, err := a.TryLock(e.ctx, past)
	e.record("lock", err)
	if err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	unlockA = e.once(t, unlockA)
	unlockB := e.lock(t, b, "conf-writer-b")
	// The old holder's Unlock may say it no longer holds the lock; it must
	// not release the new holder's.
	if err := unlockA(e.ctx); err != nil {
		t.Logf("the old holder's Unlock: %v", err)
	}
	_, err = c.TryLock(e.ctx, request("conf-writer-c"))
	e.record("lock", err)
	heldBy(t, err, "conf-writer-b")
	if err := unlockB(e.ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	unlockC := e.lock(t, c, "conf-writer-c")
	if err := unlockC(e.ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	sameDump(t, "after the takeover and the releases", baseline, e.dump(t))
}

func lockApply(t *testing.T, e *env) {
	if e.h.Lock == LockCallersDuty {
		t.Skip("Apply does not check the writer lock on this platform: the caller takes it before observing " +
			"(reconciler.ApplyFabric does); see docs/conformance.md")
	}
	refused := func(t *testing.T, d drivers.Driver, why string, check func(error)) {
		t.Helper()
		plan := e.plan(e.h.Desired, e.observe(t, d))
		before, w := e.dump(t), e.writes(t)
		res, err := d.Apply(e.ctx, plan)
		e.recordResult(res, err)
		if err == nil {
			t.Fatalf("%s: Apply was not refused", why)
		}
		check(err)
		if len(res.Applied) > 0 {
			t.Errorf("%s: %d changes reported applied", why, len(res.Applied))
		}
		if n := e.writes(t) - w; n != 0 {
			t.Errorf("%s: %d writes", why, n)
		}
		sameDump(t, why, before, e.dump(t))
	}

	// Another writer of the cluster holds the lock.
	a, b := e.open(t, Cluster), e.open(t, Cluster)
	unlockA := e.lock(t, a, "conf-writer-a")
	refused(t, b, "Apply while another writer holds the lock", func(err error) {
		var held *drivers.HeldError
		if e.h.Lock == LockHeldByOtherRefused && (!errors.As(err, &held) || held.Record.Holder != "conf-writer-a") {
			t.Errorf("Apply while another writer holds the lock: %v, want a *drivers.HeldError naming conf-writer-a", err)
		}
	})
	if err := unlockA(e.ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if e.h.Lock == LockRequired {
		// Nobody holds it: still refused without this driver's own lock,
		// and with a lock taken after the observation the plan came from.
		refused(t, b, "Apply without the lock", func(error) {})
		plan := e.plan(e.h.Desired, e.observe(t, b))
		unlockB := e.lock(t, b, "conf-writer-b")
		w := e.writes(t)
		res, err := b.Apply(e.ctx, plan)
		e.recordResult(res, err)
		if err == nil || len(res.Applied) > 0 || e.writes(t) != w {
			t.Errorf("Apply of a plan observed before the lock: %v, %d applied: want it refused", err, len(res.Applied))
		}
		if err := unlockB(e.ctx); err != nil {
			t.Fatalf("unlock: %v", err)
		}
	}
	// With the lock, observed under it: applied.
	e.mustReconcile(t, b, "conf-writer-b", e.h.Desired)
}

func renderOffline(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	requests, w := e.metrics.count(), e.writes(t)
	for _, p := range []struct {
		what string
		plan fabric.Changeset
	}{
		{"the desired state", e.plan(e.h.Desired, fabric.Observed{})},
		{"refused values", e.plan(union(e.h.Desired, e.h.Refused...), fabric.Observed{})},
		{"an empty plan", e.plan(fabric.State{}, fabric.Observed{})},
	} {
		out, err := d.Render(p.plan)
		e.record("render", out)
		e.record("render error", err)
		if err != nil {
			t.Errorf("Render of %s offline: %v", p.what, err)
		}
		if strings.TrimSpace(out) == "" {
			t.Errorf("Render of %s offline printed nothing", p.what)
		}
	}
	if n := e.metrics.count() - requests; n != 0 {
		t.Errorf("Render made %d requests", n)
	}
	if n := e.writes(t) - w; n != 0 {
		t.Errorf("Render wrote %d times", n)
	}
}

func secrets(t *testing.T, e *env) {
	d := e.open(t, Cluster)
	unlock := e.lock(t, d, "conf-writer")
	plan := e.plan(union(e.h.Desired, e.h.Refused...), e.observe(t, d))
	out, err := d.Render(plan)
	e.record("render", out)
	e.record("render error", err)
	res, err := d.Apply(e.ctx, plan)
	e.recordResult(res, err)
	other := e.open(t, Cluster)
	_, err = other.TryLock(e.ctx, request("conf-writer-b"))
	e.record("lock", err)
	if err := unlock(context.WithoutCancel(e.ctx)); err != nil {
		t.Errorf("unlock: %v", err)
	}
	if e.log.String() == "" {
		t.Error("the drivers logged nothing at debug level: is Harness.Open passing the logger on?")
	}
	// The secrets are checked when the behaviour ends, as for every other.
}
