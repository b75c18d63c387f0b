package nxos

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clitest"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

// onenode is the haystack with its first node only: the desired state of a
// sync whose input lost two nodes (safety-redteam, D3).
func onenode() fabric.State {
	var s fabric.State
	for _, p := range haystack().Peers {
		if p.Node == "k8c1m0" {
			s.Peers = append(s.Peers, p)
		}
	}
	for _, f := range haystack().PrefixFilters {
		if f.Node == "k8c1m0" {
			s.PrefixFilters = append(s.PrefixFilters, f)
		}
	}
	for _, leaf := range leafNames {
		s.MaximumPaths = append(s.MaximumPaths, fabric.MaximumPaths{Switch: leaf, AddressFamily: fabric.IPv4, Paths: 1})
	}
	return s
}

// syncOutcome is what one sync did and said.
type syncOutcome struct {
	holder string
	want   fabric.State
	err    error
	res    fabric.ApplyResult
	// applied is set when the sync applied a plan; locked and released
	// bound the time it held the lock.
	applied          bool
	locked, released time.Time
}

// syncOnce does what a sync of one fabric does: observe and plan without
// the lock; with changes, take the lock (waiting up to wait), observe, plan
// and apply under it, and release it.
func syncOnce(ctx context.Context, d *Driver, holder string, want fabric.State, wait time.Duration) syncOutcome {
	out := syncOutcome{holder: holder, want: want}
	desired := fabric.Target{Name: "lab", Driver: Name, State: want}
	obs, err := d.Observe(ctx)
	if err != nil {
		out.err = err
		return out
	}
	if len(fabric.Diff(desired, obs).Changes) == 0 {
		return out
	}
	req := drivers.LockRequest{Holder: holder, RunID: fmt.Sprintf("%s-%d", holder, runs.Add(1)), TTL: time.Minute}
	unlock, err := drivers.AcquireLock(ctx, d, req, wait, 20*time.Millisecond)
	if err != nil {
		out.err = err
		return out
	}
	out.locked = time.Now()
	defer func() {
		out.released = time.Now()
		if err := unlock(context.WithoutCancel(ctx)); err != nil && out.err == nil {
			out.err = err
		}
	}()
	if obs, err = d.Observe(ctx); err != nil {
		out.err = err
		return out
	}
	out.applied = true
	out.res, out.err = d.Apply(ctx, fabric.Diff(desired, obs))
	return out
}

var (
	boundRouteMap = regexp.MustCompile(`(?m)^ {6}route-map (\S+) in$`)
)

// dangling lists the route-maps neighbors are bound to that do not exist,
// or whose prefix-list does not.
func dangling(body string) []string {
	var out []string
	for _, m := range boundRouteMap.FindAllStringSubmatch(body, -1) {
		name := regexp.QuoteMeta(m[1])
		if !regexp.MustCompile(`(?m)^route-map `+name+` permit 10$`).MatchString(body) ||
			!regexp.MustCompile(`(?m)^ip prefix-list `+name+` seq `).MatchString(body) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestConcurrentSyncs reproduces D3 of the safety review: a sync of the
// haystack and a sync that lost two nodes, the second started 50 ms after
// the first, against the same two leaves, several times over. Each switch
// takes a few milliseconds per command, so that the second sync asks for
// the lock while the first holds it. The second either waits for the first
// and then applies its own plan, or (without waiting) refuses, naming the
// first; the two never hold the lock at once, no neighbor is ever bound to a
// route-map or prefix-list that does not exist, nothing is left behind, and
// the leaves end as the last sync that applied wants them.
func TestConcurrentSyncs(t *testing.T) {
	cases := []struct {
		name string
		wait time.Duration
	}{
		{"second waits", 20 * time.Second},
		{"second refuses", 0},
	}
	const rounds = 4
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused := 0
			for round := range rounds {
				l := newLab(t, labOpts{})
				for _, leaf := range leafNames {
					l.sims[leaf].SetFaults(nxossim.Faults{CommandDelay: 3 * time.Millisecond})
				}
				f := l.fabric(t, nil)
				a, b := l.driver(t, f), l.driver(t, f)
				var (
					wg       sync.WaitGroup
					outA, oB syncOutcome
				)
				wg.Add(2)
				go func() { defer wg.Done(); outA = syncOnce(l.ctx, a, "sync-a", haystack(), tc.wait) }()
				go func() {
					defer wg.Done()
					time.Sleep(50 * time.Millisecond)
					oB = syncOnce(l.ctx, b, "sync-b", onenode(), tc.wait)
				}()
				wg.Wait()
				outB := oB
				t.Logf("round %d: A applied %v err %v; B applied %v err %v", round, outA.applied, outA.err, outB.applied, outB.err)

				// Both took their checkpoints at the same moment and both
				// backed off (lockSwitch): safe, and allowed only when
				// neither waits; a waiting A retries and applies.
				var heldA, heldB *drivers.HeldError
				if tc.wait == 0 && errors.As(outA.err, &heldA) && errors.As(outB.err, &heldB) &&
					heldA.Record.Holder == "sync-b" && heldB.Record.Holder == "sync-a" && !outA.applied && !outB.applied {
					refused++
					for _, leaf := range leafNames {
						if bad := dangling(l.body(t, leaf)); len(bad) > 0 {
							t.Fatalf("round %d: %s: neighbors bound to route-maps that do not exist: %v", round, leaf, bad)
						}
					}
					continue
				}
				// A started first on a free fabric: it applies.
				if outA.err != nil || !outA.applied {
					t.Fatalf("round %d: A: applied %v, %v\n%s", round, outA.applied, outA.err, strings.Join(outA.res.Messages, "\n"))
				}
				var held *drivers.HeldError
				switch {
				case outB.err == nil && outB.applied:
					if !outB.locked.After(outA.released) {
						t.Fatalf("round %d: B took the lock at %s, before A released it at %s", round, outB.locked, outA.released)
					}
				case errors.As(outB.err, &held):
					refused++
					if tc.wait > 0 {
						t.Fatalf("round %d: B gave up waiting: %v", round, outB.err)
					}
					if outB.applied || held.Record.Holder != "sync-a" || !strings.Contains(outB.err.Error(), "sync-a") {
						t.Fatalf("round %d: B's refusal does not name A: %v", round, outB.err)
					}
				default:
					t.Fatalf("round %d: B: applied %v, %v\n%s", round, outB.applied, outB.err, strings.Join(outB.res.Messages, "\n"))
				}
				// Honest reports: an apply that returned no error says
				// it applied under its own run's checkpoint.
				for _, o := range []syncOutcome{outA, outB} {
					if o.applied && o.err == nil {
						msgs := strings.Join(o.res.Messages, "\n")
						if strings.Count(msgs, "line(s) applied under checkpoint fabric-reconciler-haystack-run-") != len(leafNames) ||
							strings.Contains(msgs, "rolled back") {
							t.Errorf("round %d: %s's messages:\n%s", round, o.holder, msgs)
						}
					}
				}
				last := outA
				if outB.applied {
					last = outB
				}
				for _, leaf := range leafNames {
					body := l.body(t, leaf)
					if bad := dangling(body); len(bad) > 0 {
						t.Fatalf("round %d: %s: neighbors bound to route-maps that do not exist: %v\n%s", round, leaf, bad, body)
					}
					if cps := checkpointNames(l.sims[leaf]); len(cps) != 0 {
						t.Errorf("round %d: %s: left behind %q", round, leaf, cps)
					}
				}
				check := l.driver(t, f)
				clitest.AssertConverged(t, l.ctx, check, Name, last.want)
			}
			if tc.wait == 0 && refused == 0 {
				t.Errorf("B was never refused in %d rounds: the test did not make the syncs overlap", rounds)
			}
		})
	}
}
