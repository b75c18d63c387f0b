// Package clitest holds what the tests of the CLI drivers (FRR, NX-OS)
// share: a log buffer to grep for secrets, opening a driver with a debug
// log, and reconciling it the way the reconciler does. It is imported by
// tests only.
package clitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Open builds the driver of a fabric for cluster, logging at debug level
// (where secrets would show if a driver leaked them) to log, and closes it
// when the test ends.
func Open(t testing.TB, f config.Fabric, cluster string, log io.Writer) drivers.Driver {
	t.Helper()
	d, err := drivers.Open(f, drivers.Options{Cluster: cluster,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// Reconcile observes, plans against want and applies, as the reconciler
// does for a fabric named "lab".
func Reconcile(t testing.TB, ctx context.Context, d drivers.Driver, driver string, want fabric.State) (fabric.Changeset, fabric.ApplyResult, error) {
	t.Helper()
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	plan := fabric.Diff(fabric.Target{Name: "lab", Driver: driver, State: want}, obs)
	res, err := d.Apply(ctx, plan)
	return plan, res, err
}

// AssertConverged fails the test when a fresh observation still needs a
// change to reach want.
func AssertConverged(t testing.TB, ctx context.Context, d drivers.Driver, driver string, want fabric.State) {
	t.Helper()
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if plan := fabric.Diff(fabric.Target{Name: "lab", Driver: driver, State: want}, obs); len(plan.Changes) > 0 {
		t.Fatalf("not converged:\n%s", Changes(plan))
	}
}

// Changes lists a plan's changes, one a line, with their objects before and
// after.
func Changes(p fabric.Changeset) string {
	var b strings.Builder
	for _, c := range p.Changes {
		before, _ := json.Marshal(c.Before)
		after, _ := json.Marshal(c.After)
		fmt.Fprintf(&b, "%s %s before %s after %s\n", c.Action, c.Key(), before, after)
	}
	return b.String()
}
