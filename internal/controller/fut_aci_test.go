package controller_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/aci"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// aciFabricUT is the real ACI driver against the APIC emulator
// (test/apicsim), seeded with the tenant the network engineer built by hand.
// Each controller replica logs in as its own APIC user, so the emulator's
// request log says who wrote: Writes are the emulator's logged config POSTs
// of those users, paired with the plan changes the driver applied with them.
type aciFabricUT struct {
	srv    *emulator.Server
	caFile string
	pwFile string

	mu       sync.Mutex
	replicas map[string]bool
	applied  map[string][][]fabric.Change // per replica, one entry per accepted apply
	observer drivers.Driver
	seeder   drivers.Driver
}

const aciTestPassword = "controller-e2e"

func newACIFabric(t testing.TB) fabricUnderTest {
	t.Helper()
	sim := emulator.New(emulator.Options{Users: map[string]string{"observer": aciTestPassword, "seeder": aciTestPassword}})
	seed, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "apic-baseline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Post("uni", seed); err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := &aciFabricUT{srv: srv, caFile: filepath.Join(dir, "apic-ca.pem"), pwFile: filepath.Join(dir, "apic-password"),
		replicas: map[string]bool{}, applied: map[string][][]fabric.Change{}}
	if err := os.WriteFile(a.caFile, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.pwFile, []byte(aciTestPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, d := range []drivers.Driver{a.observer, a.seeder} {
			if d != nil {
				_ = d.Close()
			}
		}
		_ = srv.Close()
	})
	return a
}

// point aims a fabric's ACI section at the emulator as one APIC user, with
// TLS verified against the emulator's certificate.
func (a *aciFabricUT) point(f config.Fabric, user string) config.Fabric {
	set := *f.Platform.(*aci.Settings)
	set.APIC.URL, set.APIC.Username, set.APIC.PasswordFile = a.srv.URL, user, a.pwFile
	set.APIC.CAFile, set.APIC.InsecureSkipVerify = a.caFile, false
	set.APIC.PrivateKeyFile, set.APIC.CertificateName = "", ""
	f.Platform = &set
	return f
}

func (a *aciFabricUT) Config(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join(testenv.RepoRoot(), "examples/haystack/fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Fabrics {
		cfg.Fabrics[i] = a.point(cfg.Fabrics[i], "observer")
	}
	return cfg
}

func (a *aciFabricUT) Factory(instance string) drivers.Factory {
	a.srv.AddUser(instance, aciTestPassword)
	a.mu.Lock()
	a.replicas[instance] = true
	a.mu.Unlock()
	return func(cfg config.Fabric, opts drivers.Options) (drivers.Driver, error) {
		d, err := drivers.Open(a.point(cfg, instance), opts)
		if err != nil {
			return nil, err
		}
		return &recordingDriver{Driver: d, record: func(ch []fabric.Change) {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.applied[instance] = append(a.applied[instance], ch)
		}}, nil
	}
}

// recordingDriver remembers which changes each accepted apply carried.
type recordingDriver struct {
	drivers.Driver
	record func([]fabric.Change)
}

// Operational passes the read of the fabric's state through, so that the
// controller's periodic verify can use the driver (drivers.Verifier).
func (r *recordingDriver) Operational(ctx context.Context) (fabric.Operational, error) {
	return r.Driver.(drivers.Verifier).Operational(ctx)
}

func (r *recordingDriver) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	res, err := r.Driver.Apply(ctx, plan)
	if len(res.Applied) > 0 {
		r.record(res.Applied)
	}
	return res, err
}

// Writes reads the emulator's request log: every configuration POST the
// APIC accepted from a replica's user. The ACI driver applies a plan in one
// POST, so the k-th accepted POST of a user carries that user's k-th
// recorded apply.
func (a *aciFabricUT) Writes() []fabricWrite {
	reqs := a.srv.Requests()
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []fabricWrite
	seen := map[string]int{}
	for _, r := range reqs {
		if r.Method != "POST" || r.Status != 200 || !a.replicas[r.User] ||
			!(strings.HasPrefix(r.Path, "/api/mo/") || strings.HasPrefix(r.Path, "/api/node/mo")) ||
			strings.Contains(r.Path, "/brc-fabric-reconciler.lock.") {
			continue // the writer lock's marker is not a change of the fabric
		}
		w := fabricWrite{At: r.Time, Instance: r.User}
		if k := seen[r.User]; k < len(a.applied[r.User]) {
			w.Changes = a.applied[r.User][k]
		}
		seen[r.User]++
		out = append(out, w)
	}
	return out
}

// driver opens (once) a driver of the test's own, as observer or seeder.
func (a *aciFabricUT) driver(t testing.TB, user string, slot *drivers.Driver) drivers.Driver {
	t.Helper()
	if *slot == nil {
		cfg := a.Config(t)
		d, err := drivers.Open(a.point(cfg.Fabrics[0], user), drivers.Options{Cluster: cfg.Cluster})
		if err != nil {
			t.Fatal(err)
		}
		*slot = d
	}
	return *slot
}

func (a *aciFabricUT) State(t testing.TB) fabric.State {
	t.Helper()
	a.mu.Lock()
	d := a.driver(t, "observer", &a.observer)
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatalf("observe the emulator: %v", err)
	}
	return obs.Owned
}

// Seed writes objects the cluster owns, as a previous run would have left
// them, through the driver itself (as user "seeder", not a replica).
func (a *aciFabricUT) Seed(t testing.TB, objs ...fabric.Object) {
	t.Helper()
	a.mu.Lock()
	d := a.driver(t, "seeder", &a.seeder)
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := obs.Owned
	for _, o := range objs {
		want.Add(o)
	}
	plan := fabric.Diff(fabric.Target{Name: "seed", Driver: aci.Name, State: want}, obs)
	if _, err := d.Apply(ctx, plan); err != nil {
		t.Fatalf("seed the emulator: %v", err)
	}
}
