package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/reconciler"
)

// INTERIM, until reconciler.ReconcileFabric takes the fabric's writer lock
// itself: `sync` takes it here, for drivers that have one (drivers.Locker,
// today NX-OS, whose Apply refuses to run without it). `run` does not lock
// yet.
//
// The protocol: observe and plan without the lock; when the plan has
// changes, take the lock (waiting up to lockWait for another writer to
// finish), observe, plan and apply again under it, and release it. A
// converged fabric is never locked, which on NX-OS means no checkpoint is
// written by a sync that changes nothing.

// lockWait bounds how long a sync waits for another writer's lock.
const lockWait = 30 * time.Second

// lockPoll is how often it asks again.
const lockPoll = 500 * time.Millisecond

var holderJunk = regexp.MustCompile(`[^A-Za-z0-9._:@-]`)

// lockHolder names this process for the lock records: host and pid.
func lockHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	host = holderJunk.ReplaceAllString(host, "-")
	if len(host) > 48 {
		host = host[:48]
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// newRunID is a random id for one sync.
func newRunID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("t%x", time.Now().UnixNano())
	}
	return "sync-" + hex.EncodeToString(b)
}

// lockRequest is the lock request of one fabric's reconcile: the lease lasts
// until the sync's deadline and a minute more (the driver stops sending lines
// when it runs out), 10 minutes without a deadline.
func lockRequest(ctx context.Context, runID string) drivers.LockRequest {
	ttl := 10 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		ttl = time.Until(dl) + time.Minute
	}
	ttl = min(max(ttl, time.Minute), 24*time.Hour)
	return drivers.LockRequest{Holder: lockHolder(), RunID: runID, TTL: ttl}
}

// reconcileLocked reconciles one fabric, under its writer lock when the
// driver has one and the run applies.
func reconcileLocked(ctx context.Context, d drivers.Driver, want fabric.FabricDesired, opts reconciler.Options, runID string) reconciler.Outcome {
	l, ok := d.(drivers.Locker)
	if !ok || opts.DryRun {
		return reconciler.ReconcileFabric(ctx, d, want, opts)
	}
	dry := opts
	dry.DryRun = true
	first := reconciler.ReconcileFabric(ctx, d, want, dry)
	if first.Err != nil || len(first.Plan.Changes) == 0 {
		return first
	}
	start := time.Now()
	req := lockRequest(ctx, runID)
	unlock, err := l.TryLock(ctx, req)
	var (
		held   *drivers.HeldError
		waited string
	)
	if errors.As(err, &held) {
		waited = fmt.Sprintf("waited %%s for the fabric's writer lock, held by %s (run %s)", held.Record.Holder, held.Record.RunID)
		unlock, err = drivers.AcquireLock(ctx, l, req, lockWait, lockPoll)
	}
	if err != nil {
		first.Stage = reconciler.StageApply
		if errors.As(err, &held) {
			err = fmt.Errorf("fabric %s: not applied after waiting %s: %w", want.Name, time.Since(start).Round(time.Second), err)
		} else {
			err = fmt.Errorf("fabric %s: not applied: %w", want.Name, err)
		}
		first.Err = err
		return first
	}
	out := reconciler.ReconcileFabric(ctx, d, want, opts)
	if waited != "" {
		out.Result.Messages = append([]string{fmt.Sprintf(waited, time.Since(start).Round(time.Millisecond))}, out.Result.Messages...)
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := unlock(uctx); err != nil {
		out.Result.Messages = append(out.Result.Messages, "releasing the writer lock: "+err.Error())
	}
	out.Duration = time.Since(start) + first.Duration
	return out
}
