package drivers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Locker is implemented by a driver that can hold a writer lock on the fabric
// itself, so that two writers (two `sync` runs, a `sync` beside the
// controller) never interleave their changes on one fabric.
//
// The lock lives on the fabric, as an object or line carrying the cluster's
// ownership mark and a LockRecord (who holds it, until when): a writer that
// dies leaves a lock that expires rather than one that blocks forever.
//
// TryLock never waits. It takes the lock when nobody holds it or the
// holder's lease has expired, and returns a *HeldError naming the holder when
// another writer holds it. Where the platform offers an atomic "create only
// if absent", the driver uses it; where it does not, the driver reads the
// marker back after writing it and gives up the lock when another holder's
// record is there (and documents the remaining window).
//
// The returned Unlock removes the marker only when it still carries this
// holder's record.
type Locker interface {
	TryLock(ctx context.Context, req LockRequest) (Unlock, error)
}

// Unlock releases a lock taken by TryLock.
type Unlock func(ctx context.Context) error

// LockRequest says who wants the fabric's writer lock and for how long.
type LockRequest struct {
	// Holder names the writer for people: host, process and run, in the
	// characters HolderPattern allows.
	Holder string
	// RunID is unique per run; drivers that name per-run objects (an NX-OS
	// checkpoint) use it.
	RunID string
	// TTL is how long the lock holds without being released; a writer
	// must finish (or give up) within it. Writers set it from their own
	// deadline, with a margin.
	TTL time.Duration
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
}

// HolderPattern is what a holder or run id may contain: it is written into
// switch configuration and APIC attributes, so nothing else is allowed.
var HolderPattern = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,64}$`)

// Validate checks a request before a driver writes any of it to a switch.
func (r LockRequest) Validate() error {
	if !HolderPattern.MatchString(r.Holder) {
		return fmt.Errorf("lock holder %q: use 1-64 of [A-Za-z0-9._:@-]", r.Holder)
	}
	if !HolderPattern.MatchString(r.RunID) {
		return fmt.Errorf("lock run id %q: use 1-64 of [A-Za-z0-9._:@-]", r.RunID)
	}
	if r.TTL < time.Second || r.TTL > 24*time.Hour {
		return fmt.Errorf("lock ttl %s: use 1s to 24h", r.TTL)
	}
	return nil
}

// Clock returns the request's clock.
func (r LockRequest) Clock() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Record is the text a driver stores in its lock marker.
func (r LockRequest) Record() LockRecord {
	return LockRecord{Holder: r.Holder, RunID: r.RunID, Expires: r.Clock().Add(r.TTL).UTC().Truncate(time.Second)}
}

// LockRecord is what a lock marker says: who holds the lock and until when.
type LockRecord struct {
	Holder  string
	RunID   string
	Expires time.Time
}

// String is the marker text: "holder=H run=R until=UNIX". It uses only
// letters, digits, spaces and [=._:@-], which every platform's description
// field takes.
func (l LockRecord) String() string {
	return fmt.Sprintf("holder=%s run=%s until=%d", l.Holder, l.RunID, l.Expires.Unix())
}

// Expired reports whether the lock's lease has run out at now.
func (l LockRecord) Expired(now time.Time) bool { return !now.Before(l.Expires) }

// Same reports whether two records name the same run.
func (l LockRecord) Same(o LockRecord) bool { return l.Holder == o.Holder && l.RunID == o.RunID }

// ParseLockRecord reads a marker's text. A marker that cannot be read is an
// error: the driver must not take it for a free lock.
func ParseLockRecord(s string) (LockRecord, error) {
	var l LockRecord
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || seen[k] {
			return LockRecord{}, fmt.Errorf("lock marker %q: not holder=H run=R until=UNIX", clip(s))
		}
		seen[k] = true
		switch k {
		case "holder":
			l.Holder = v
		case "run":
			l.RunID = v
		case "until":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return LockRecord{}, fmt.Errorf("lock marker %q: until is not a Unix time", clip(s))
			}
			l.Expires = time.Unix(n, 0).UTC()
		}
	}
	if !HolderPattern.MatchString(l.Holder) || !HolderPattern.MatchString(l.RunID) || l.Expires.IsZero() {
		return LockRecord{}, fmt.Errorf("lock marker %q: not holder=H run=R until=UNIX", clip(s))
	}
	return l, nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// HeldError says another writer holds a fabric's lock.
type HeldError struct {
	Record LockRecord
	// Where names the marker for people (a DN, a prefix-list name).
	Where string
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another writer holds the fabric's lock (%s): %s, run %s, until %s",
		e.Where, e.Record.Holder, e.Record.RunID, e.Record.Expires.Format(time.RFC3339))
}

// ErrOutcomeUnknown is wrapped by an apply error when the request may have
// reached the fabric and been committed (a timeout or a reset after the
// request was sent): the caller must observe again to learn what the fabric
// holds, and never report "nothing was changed".
var ErrOutcomeUnknown = errors.New("the outcome is unknown: the request may have been applied")

// AcquireLock calls TryLock until it succeeds, a non-"held" error occurs, or
// wait has passed; then it returns the last HeldError. It polls every poll
// (1s when zero).
func AcquireLock(ctx context.Context, l Locker, req LockRequest, wait, poll time.Duration) (Unlock, error) {
	if poll <= 0 {
		poll = time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		unlock, err := l.TryLock(ctx, req)
		var held *HeldError
		left := time.Until(deadline)
		if err == nil || !errors.As(err, &held) || left <= 0 {
			return unlock, err
		}
		// Jittered: two writers that took a lock at the same moment both
		// back off (the drivers' rule), and retrying in step would make
		// them collide again.
		t := time.NewTimer(min(poll/2+rand.N(poll), left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (waited until %v)", err, ctx.Err())
		case <-t.C:
		}
	}
}
