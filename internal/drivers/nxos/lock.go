package nxos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// The fabric's writer lock (drivers.Locker), per switch.
//
// The lock is a user checkpoint: "checkpoint <nxos.sessionName>-lock-<run>
// description holder=H run=R until=UNIX". A checkpoint does not change the
// running configuration, so the lock is never part of what Observe reads,
// of what an apply checkpoint holds, or of what a rollback restores.
//
// Each run creates a checkpoint of its own name (<run> is 8 hex digits of the
// SHA-256 of its run id), then reads "show checkpoint summary" back: it holds
// the lock only if its checkpoint is there with its record and no other live
// (unexpired) lock checkpoint of the fabric is; otherwise it deletes its own
// and reports the other holder. Two runs that create theirs at the same time
// both see both and both back off (and retry); a run that finds its own
// alone created it after every earlier holder had gone, and every later one
// will see it. Nothing depends on NX-OS refusing a checkpoint name that
// exists (Cisco: "Checkpoint names must be unique. You cannot overwrite
// previously saved checkpoints with the same name", Nexus 3548 System
// Management Configuration Guide, "Configuring Rollback", its guidelines; the
// refusal's text is not recorded anywhere public): each run only ever
// creates and deletes its own name, and an expired lock is deleted by name,
// which no live run uses.
//
// Limits (same guide): names "any alphanumeric string up to 80 characters
// but cannot contain spaces" (32 on Nexus 5500: Cisco Nexus 5500 Series NX-OS
// Security Command Reference, "checkpoint"), descriptions "up to 80
// alphanumeric characters, including spaces"; NX-OS takes punctuation in
// descriptions in practice ("*** Testing the checkpoint feature ***",
// test/nxossim/testdata/checkpoint_replies.txt). At most ten user
// checkpoints per switch: a run uses two at most (its lock and its apply
// checkpoint).

const (
	// maxCheckpointName and maxCheckpointDesc are NX-OS's limits.
	maxCheckpointName = 80
	maxCheckpointDesc = 80
	// recordOverhead is "holder= run= until=" and a 10-digit Unix time.
	recordOverhead = len("holder= run= until=") + 10
)

// ErrNoLock is wrapped by an apply refused because this driver does not
// hold the fabric's writer lock, or did not observe the switch under it.
var ErrNoLock = errors.New("this driver does not hold the fabric's writer lock")

// heldLock is the lock a driver took with TryLock.
type heldLock struct {
	req   drivers.LockRequest
	rec   drivers.LockRecord // as written on the switches (compact)
	name  string             // the lock checkpoint's name
	run   string             // the run's apply checkpoint name
	token uint64             // one per TryLock: observations are tied to it
	// switches holds the lock, by switch name.
	switches map[string]bool
}

// runTag is what names a run's checkpoints: 8 hex digits of its run id's
// SHA-256 (run ids may hold ':' and '@' and be 64 characters long).
func runTag(runID string) string {
	sum := sha256.Sum256([]byte(runID))
	return hex.EncodeToString(sum[:4])
}

func (d *Driver) lockName(runID string) string { return d.cpName + "-lock-" + runTag(runID) }

// runCheckpoint is the name of a run's apply checkpoint.
func (d *Driver) runCheckpoint(runID string) string { return d.cpName + "-run-" + runTag(runID) }

var tagRe = regexp.MustCompile(`^[0-9a-f]{8}$`)

func (d *Driver) isLockName(n string) bool {
	t, ok := strings.CutPrefix(n, d.cpName+"-lock-")
	return ok && tagRe.MatchString(t)
}

// isApplyCheckpoint recognises the fabric's apply checkpoints: per run, and
// the one name versions before the lock used for every apply.
func (d *Driver) isApplyCheckpoint(n string) bool {
	if n == d.cpName {
		return true
	}
	t, ok := strings.CutPrefix(n, d.cpName+"-run-")
	return ok && tagRe.MatchString(t)
}

// compactRecord fits a record in a checkpoint description: a holder or run
// id too long keeps its start and gets 8 hex digits of its hash, so that it
// stays readable, in drivers.HolderPattern, and distinct.
func compactRecord(r drivers.LockRecord) drivers.LockRecord {
	short := func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n-9] + "." + runTag(s)
	}
	budget := maxCheckpointDesc - recordOverhead
	if len(r.Holder)+len(r.RunID) <= budget {
		return r
	}
	r.RunID = short(r.RunID, 25)
	r.Holder = short(r.Holder, budget-len(r.RunID))
	return r
}

// TryLock takes the fabric's writer lock on every switch of the fabric, in
// switch name order, and returns the function that releases it. When a
// switch's lock is held by another live run, it releases what it took and
// returns a *drivers.HeldError naming that run. It never waits
// (drivers.AcquireLock polls it). A driver holds one lock at a time; asking
// again for the same run returns the lock it holds.
func (d *Driver) TryLock(ctx context.Context, req drivers.LockRequest) (drivers.Unlock, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", d.fabric.Name, err)
	}
	rec := compactRecord(req.Record())
	desc := rec.String()
	if err := cli.Text("lock record", desc, maxCheckpointDesc); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", d.fabric.Name, err)
	}
	h := &heldLock{req: req, rec: rec, name: d.lockName(req.RunID), run: d.runCheckpoint(req.RunID), switches: map[string]bool{}}
	if len(h.name) > maxCheckpointName || len(h.run) > maxCheckpointName {
		return nil, fmt.Errorf("fabric %s: checkpoint name %s is longer than NX-OS's %d characters: shorten nxos.sessionName", d.fabric.Name, h.name, maxCheckpointName)
	}
	d.lockMu.Lock()
	if cur := d.held; cur != nil {
		d.lockMu.Unlock()
		if cur.rec.Same(rec) {
			return d.unlockFunc(cur), nil
		}
		return nil, fmt.Errorf("fabric %s: this driver already holds the writer lock for run %s", d.fabric.Name, cur.rec.RunID)
	}
	d.lockSeq++
	h.token = d.lockSeq
	d.lockMu.Unlock()

	names := make([]string, 0, len(d.switches))
	for _, sw := range d.switches {
		names = append(names, sw.Name)
	}
	slices.Sort(names)
	for _, name := range names {
		sw, _ := d.switches.ByName(name)
		// Counted before the attempt: a checkpoint whose reply was lost
		// may be there, and Unlock deletes only what carries our record.
		h.switches[name] = true
		if err := d.lockSwitch(ctx, sw, h, desc); err != nil {
			if uerr := d.release(context.WithoutCancel(ctx), h); uerr != nil {
				d.log.Warn("releasing the lock after a failed TryLock", "error", uerr)
			}
			var held *drivers.HeldError
			if errors.As(err, &held) {
				return nil, held
			}
			return nil, fmt.Errorf("fabric %s: taking the writer lock: %w", d.fabric.Name, err)
		}
	}
	d.lockMu.Lock()
	if d.held != nil { // a concurrent TryLock of the same driver won
		d.lockMu.Unlock()
		_ = d.release(context.WithoutCancel(ctx), h)
		return nil, fmt.Errorf("fabric %s: this driver already holds the writer lock", d.fabric.Name)
	}
	d.held = h
	d.lockMu.Unlock()
	d.log.Info("writer lock taken", "checkpoint", h.name, "holder", rec.Holder, "run", rec.RunID, "until", rec.Expires.Format(time.RFC3339))
	return d.unlockFunc(h), nil
}

// lockSwitch takes the lock on one switch.
func (d *Driver) lockSwitch(ctx context.Context, sw config.Switch, h *heldLock, desc string) error {
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	st, err := d.checkpointState(ctx, sw, s, h)
	if err != nil {
		return err
	}
	if st.mine {
		return nil
	}
	if st.other != nil {
		return st.other
	}
	for _, name := range st.expired {
		// A lease that ran out: its run is gone (or broke its own TTL).
		// Deleting it by name can only fail when another writer did first.
		if err := d.deleteCheckpoint(ctx, s, name); err != nil {
			if clissh.IsConnError(err) {
				return err
			}
			d.log.Info("an expired lock was not deleted; someone may have done it", "switch", sw.Name, "checkpoint", name, "error", err)
		} else {
			d.log.Warn("deleted an expired writer lock", "switch", sw.Name, "checkpoint", name)
		}
	}
	cerr := d.takeCheckpoint(ctx, s, h.name, desc)
	if clissh.IsConnError(cerr) {
		return cerr
	}
	// Read back whatever the reply was: the switch may have refused a
	// name that exists, or overwritten it, or another run may have
	// created its lock at the same moment.
	st, err = d.checkpointState(ctx, sw, s, h)
	if err != nil {
		return err
	}
	switch {
	case st.mine && st.other == nil:
		return nil
	case st.mine:
		// Both created at once: back off. The other run does the same,
		// or has already; one of the next attempts finds no other.
		if err := d.deleteCheckpoint(ctx, s, h.name); err != nil {
			return fmt.Errorf("switch %s: backing off from a lock taken at the same time as %s: %w", sw.Name, st.other.Record.RunID, err)
		}
		return st.other
	case st.other != nil:
		return st.other
	case cerr != nil:
		return cerr
	}
	return fmt.Errorf("switch %s: the switch answered the lock checkpoint %s, but \"show checkpoint summary\" does not list it with this run's record", sw.Name, h.name)
}

// unlockFunc is the Unlock of a held lock.
func (d *Driver) unlockFunc(h *heldLock) drivers.Unlock {
	return func(ctx context.Context) error {
		d.lockMu.Lock()
		if d.held == h {
			d.held = nil
		}
		d.lockMu.Unlock()
		err := d.release(ctx, h)
		if err == nil {
			d.log.Info("writer lock released", "checkpoint", h.name)
		}
		return err
	}
}

// release deletes the lock checkpoint on every switch that has it with this
// run's record, and leaves alone any other.
func (d *Driver) release(ctx context.Context, h *heldLock) error {
	var errs []error
	for _, sw := range d.switches {
		if !h.switches[sw.Name] {
			continue
		}
		if err := d.unlockSwitch(ctx, sw, h); err != nil {
			errs = append(errs, fmt.Errorf("switch %s: releasing the writer lock (it expires at %s): %w", sw.Name, h.rec.Expires.Format(time.RFC3339), err))
		}
	}
	return errors.Join(errs...)
}

func (d *Driver) unlockSwitch(ctx context.Context, sw config.Switch, h *heldLock) error {
	s := d.session(sw)
	s.Lock()
	defer s.Unlock()
	st, err := d.checkpointState(ctx, sw, s, h)
	if err != nil {
		return err
	}
	if !st.mine {
		return nil // gone, or another run's now
	}
	return d.deleteCheckpoint(ctx, s, h.name)
}

// heldLock returns the lock this driver holds, or an error wrapping
// ErrNoLock when it holds none or it has expired.
func (d *Driver) heldLock() (*heldLock, error) {
	d.lockMu.Lock()
	h := d.held
	d.lockMu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("fabric %s: not applied: %w; take it with TryLock (drivers.Locker) before observing, so that no other "+
			"writer's apply interleaves with this one", d.fabric.Name, ErrNoLock)
	}
	if now := h.req.Clock(); h.rec.Expired(now) {
		return nil, fmt.Errorf("fabric %s: not applied: %w: the lock of run %s expired at %s", d.fabric.Name, ErrNoLock, h.rec.RunID,
			h.rec.Expires.Format(time.RFC3339))
	}
	return h, nil
}

// lostLock explains an apply refused because the switch no longer holds
// this driver's lock.
func (d *Driver) lostLock(sw config.Switch, h *heldLock, st cpState) error {
	who := "it is not there"
	if st.other != nil {
		who = "another writer holds it: " + st.other.Error()
	}
	return fmt.Errorf("switch %s: not applied: %w on this switch any more (checkpoint %s): %s", sw.Name, ErrNoLock, h.name, who)
}

// lockDeadline is when the lock expires, on the wall clock: no line is sent
// after it.
func (h *heldLock) deadline() time.Time { return time.Now().Add(h.rec.Expires.Sub(h.req.Clock())) }
