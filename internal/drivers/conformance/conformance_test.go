package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/conformance"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The tests here run the suite against a small in-memory driver (memDriver)
// that keeps the contract: a new driver gets the suite for free, and the
// suite's own logic is checked in milliseconds. Broken variants of the
// driver, each breaking one rule, must fail the behaviour that guards it.

// brokenEnv selects a broken variant of memDriver in a child test process.
const brokenEnv = "CONFORMANCE_MEM_BROKEN"

const memSecret = "mem-fabric-secret-31337"

// memFabric is one in-memory fabric shared by the drivers opened on it.
type memFabric struct {
	mu     sync.Mutex
	objs   map[fabric.Key]memObj
	locks  map[string]drivers.LockRecord // by cluster
	refuse map[fabric.Key]bool           // the platform refuses these
	writes int
	broken string
	secret string
}

type memObj struct {
	obj   fabric.Object
	owner string // the cluster; "" when made by hand
}

func newMemFabric(broken string) *memFabric {
	return &memFabric{objs: map[fabric.Key]memObj{}, locks: map[string]drivers.LockRecord{}, refuse: map[fabric.Key]bool{},
		broken: broken, secret: memSecret}
}

type memDriver struct {
	f       *memFabric
	cluster string
	log     *slog.Logger
	metrics drivers.RequestObserver
	held    *drivers.LockRecord // the lock this driver took, under f.mu
}

func (d *memDriver) request(op string) {
	if d.metrics != nil {
		d.metrics.ObserveRequest("mem", "mem", op, 0, nil)
	}
}

func (d *memDriver) Observe(ctx context.Context) (fabric.Observed, error) {
	d.request("observe")
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	var obs fabric.Observed
	for k, o := range d.f.objs {
		if o.owner == d.cluster || d.f.broken == "adopts" && o.owner == "" {
			obs.Owned.Add(o.obj)
			continue
		}
		obs.Foreign = append(obs.Foreign, fabric.Foreign{Kind: k.Kind, Switch: k.Switch, ID: k.ID, Owner: o.owner})
	}
	sort.Slice(obs.Foreign, func(i, j int) bool { return obs.Foreign[i].Key().String() < obs.Foreign[j].Key().String() })
	d.log.Debug("observed", "owned", obs.Owned.Len(), "foreign", len(obs.Foreign))
	if d.f.broken == "leaks" {
		d.log.Debug("logged in", "password", d.f.secret)
	}
	return obs, nil
}

// bad is the driver's grammar: a node name is one line.
func bad(o fabric.Object) error {
	var node string
	switch v := o.(type) {
	case fabric.BGPPeer:
		node = v.Node
	case fabric.PrefixFilter:
		node = v.Node
	}
	if strings.ContainsAny(node, "\r\n") {
		return fmt.Errorf("node name %q: contains a line break", node)
	}
	return nil
}

func (d *memDriver) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	d.request("apply")
	f := d.f
	f.mu.Lock()
	defer f.mu.Unlock()
	var res fabric.ApplyResult
	// Another writer's live lock refuses the apply; taking one is the
	// caller's duty.
	if r, ok := f.locks[d.cluster]; ok && !r.Expired(time.Now()) && (d.held == nil || !d.held.Same(r)) && f.broken != "ignores-locks" {
		return res, &drivers.HeldError{Record: r, Where: "mem"}
	}
	// The platform takes a plan all or nothing.
	for _, c := range plan.Changes {
		if f.refuse[c.Key()] {
			return res, fmt.Errorf("the fabric refused %s: nothing applied", c.Key())
		}
	}
	var errs []error
	for _, c := range plan.Changes {
		k := c.Key()
		if c.Action != fabric.ActionDelete && f.broken != "trusts-values" {
			if err := bad(c.After); err != nil {
				errs = append(errs, fmt.Errorf("refused %s %s: %w", c.Action, k, err))
				continue
			}
		}
		cur, ok := f.objs[k]
		if ok && cur.owner != d.cluster && f.broken != "overwrites" {
			res.Conflicts = append(res.Conflicts, fabric.Conflict{Kind: k.Kind, Switch: k.Switch, ID: k.ID, Owner: cur.owner,
				Reason: "an object without this cluster's mark is in the way; it is left alone"})
			if f.broken == "lies" {
				res.Applied = append(res.Applied, c)
			}
			continue
		}
		switch {
		case c.Action == fabric.ActionDelete:
			if ok && f.broken != "keeps-deleted" {
				delete(f.objs, k)
				f.writes++
			}
		case !ok || !fabric.Equal(cur.obj, c.After) || cur.owner != d.cluster || f.broken == "rewrites":
			f.objs[k] = memObj{obj: fabric.Canonical(c.After), owner: d.cluster}
			f.writes++
		}
		res.Applied = append(res.Applied, c)
	}
	return res, errors.Join(errs...)
}

func (d *memDriver) Render(plan fabric.Changeset) (string, error) {
	var b strings.Builder
	for _, c := range plan.Changes {
		j, _ := json.Marshal(c.After)
		fmt.Fprintf(&b, "%s %s %s\n", c.Action, fabric.Safe(c.Key().String()), fabric.Safe(string(j)))
	}
	if b.Len() == 0 {
		b.WriteString("# no changes\n")
	}
	if d.f.broken == "renders-secret" {
		fmt.Fprintf(&b, "# password %s\n", d.f.secret)
	}
	return b.String(), nil
}

func (d *memDriver) Close() error { return nil }

func (d *memDriver) TryLock(ctx context.Context, req drivers.LockRequest) (drivers.Unlock, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	d.request("lock")
	f := d.f
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := req.Record()
	if cur, ok := f.locks[d.cluster]; ok && !cur.Same(rec) && !cur.Expired(req.Clock()) && f.broken != "ignores-locks" {
		return nil, &drivers.HeldError{Record: cur, Where: "mem"}
	}
	f.locks[d.cluster] = rec
	d.held = &rec
	return func(context.Context) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		d.held = nil
		if cur, ok := f.locks[d.cluster]; ok && cur.Same(rec) {
			delete(f.locks, d.cluster)
			return nil
		}
		return errors.New("the lock is held by another writer now; left alone")
	}, nil
}

// memHarness is the harness of a memFabric, reset before each behaviour.
func memHarness(broken string) conformance.Harness {
	var f *memFabric
	peer := func(sw, addr, node string) fabric.BGPPeer {
		return fabric.BGPPeer{Switch: sw, Node: node, PeerAddress: addr, RemoteASN: 65001, LocalASN: 65000, AddressFamily: fabric.IPv4}
	}
	var desired fabric.State
	for _, sw := range []string{"sw1", "sw2"} {
		desired.Add(peer(sw, "10.0.0.1", "n1"))
		desired.Add(peer(sw, "10.0.0.2", "n2"))
		desired.Add(peer(sw, "10.0.0.3", "n3"))
		desired.Add(fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv4, Paths: 2})
	}
	updated := fabric.StateOf(peer("sw1", "10.0.0.1", "n1-renamed"), peer("sw2", "10.0.0.4", "n4"),
		fabric.MaximumPaths{Switch: "sw1", AddressFamily: fabric.IPv4, Paths: 4})
	return conformance.Harness{
		Driver: "mem",
		Open: func(t *testing.T, opts drivers.Options) drivers.Driver {
			return &memDriver{f: f, cluster: opts.Cluster, log: opts.Logger, metrics: opts.Metrics}
		},
		Reset: func(t *testing.T) { f = newMemFabric(broken) },
		Dump: func(t *testing.T) string {
			f.mu.Lock()
			defer f.mu.Unlock()
			var lines []string
			for k, o := range f.objs {
				j, _ := json.Marshal(o.obj)
				lines = append(lines, fmt.Sprintf("%s owner=%q %s", k, o.owner, j))
			}
			sort.Strings(lines)
			return strings.Join(lines, "\n")
		},
		Writes: func(t *testing.T) int {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.writes
		},
		Desired: desired,
		Updated: updated,
		HandMake: func(t *testing.T) ([]fabric.Key, func(*testing.T) string) {
			hand := []fabric.Object{peer("sw1", "10.0.0.1", "by-hand"), fabric.MaximumPaths{Switch: "sw1", AddressFamily: fabric.IPv4, Paths: 8}}
			var keys []fabric.Key
			f.mu.Lock()
			for _, o := range hand {
				f.objs[fabric.KeyOf(o)] = memObj{obj: o}
				keys = append(keys, fabric.KeyOf(o))
			}
			f.mu.Unlock()
			return keys, func(t *testing.T) string {
				f.mu.Lock()
				defer f.mu.Unlock()
				var b strings.Builder
				for _, k := range keys {
					j, _ := json.Marshal(f.objs[k])
					fmt.Fprintf(&b, "%s %s %q\n", k, j, f.objs[k].owner)
				}
				return b.String()
			}
		},
		Other:   fabric.StateOf(peer("sw2", "10.0.0.2", "n2")),
		Refused: []fabric.Object{peer("sw1", "10.0.0.9", "evil\nshutdown")},
		// the fabric's Dump shows node names, so the refused one must not
		// reach it
		RefusedText: "evil",
		PlatformRefuses: func(t *testing.T) (fabric.Object, func()) {
			o := peer("sw2", "10.0.0.8", "n8")
			f.mu.Lock()
			f.refuse[fabric.KeyOf(o)] = true
			f.mu.Unlock()
			return o, func() {
				f.mu.Lock()
				defer f.mu.Unlock()
				delete(f.refuse, fabric.KeyOf(o))
			}
		},
		Refusal:    conformance.RefusalFailsPlan,
		Lock:       conformance.LockHeldByOtherRefused,
		ApplyBasis: conformance.ApplyReadsFabric,
		Secrets:    []string{memSecret},
	}
}

// TestMemDriver: the in-memory driver that keeps the contract passes the
// whole table. In a child process (brokenEnv set), a broken variant runs
// instead, for TestSuiteCatchesBrokenDrivers.
func TestMemDriver(t *testing.T) {
	conformance.Run(t, memHarness(os.Getenv(brokenEnv)))
}

// TestSuiteCatchesBrokenDrivers: a driver that breaks one rule of the
// contract fails the behaviour that guards the rule.
func TestSuiteCatchesBrokenDrivers(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in the child process")
	}
	for _, c := range []struct {
		broken string
		fails  []string // behaviours that must fail
	}{
		{"adopts", []string{"foreign-left-alone"}},
		{"overwrites", []string{"conflict-at-apply"}},
		{"trusts-values", []string{"refused-value"}},
		{"leaks", []string{"secrets", "converge"}},
		{"ignores-locks", []string{"lock-held", "lock-expired", "lock-apply"}},
		{"lies", []string{"conflict-at-apply"}},
		{"keeps-deleted", []string{"update", "round-trip", "foreign-left-alone"}},
		{"rewrites", []string{"idempotent"}},
		{"renders-secret", []string{"render-offline", "secrets"}},
	} {
		t.Run(c.broken, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMemDriver$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+c.broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a driver that %s:\n%s", c.broken, out)
			}
			for _, b := range c.fails {
				if !strings.Contains(string(out), "--- FAIL: TestMemDriver/"+b+" ") {
					t.Errorf("behaviour %s did not fail for a driver that %s:\n%s", b, c.broken, out)
				}
			}
		})
	}
}

// TestDocListsBehaviours: docs/conformance.md names every behaviour of the
// table.
func TestDocListsBehaviours(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "conformance.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bh := range conformance.Behaviours {
		if !strings.Contains(string(b), "`"+bh.Name+"`") {
			t.Errorf("docs/conformance.md does not list the behaviour `%s`", bh.Name)
		}
	}
}
