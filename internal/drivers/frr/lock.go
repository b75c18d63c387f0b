package frr

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// The writer lock (drivers.Locker) lives on the switches as a marker: an
// empty peer-group in the fabric's BGP instance, one per switch, whose
// description holds the holder's record while a writer holds the lock:
//
//	router bgp <asn> [vrf <vrf>]
//	 neighbor FR-<cluster>-MARK-LOCK[_<vrf>] peer-group
//	 neighbor FR-<cluster>-MARK-LOCK[_<vrf>] description <mark> lock holder=H run=R until=UNIX
//
// It carries the ownership mark and the cluster's name prefix like every
// line the driver writes. A peer-group without members or remote-as opens
// no session and changes no route; the driver never adds members, and
// never deletes the group when someone has (deleting a peer-group deletes
// its members, bgpd.c peer_group_delete). Observe skips peer-groups: the
// marker is neither an owned nor a foreign object.
//
// Why not a prefix-list like the other markers: vtysh sends an "ip
// prefix-list" line to every daemon that keeps prefix-lists (zebra and
// bgpd), one after the other, so two writers' descriptions can interleave
// and leave zebra with one and bgpd with the other for good; vtysh then
// shows both (vtysh_config.c keys top-level prefix-list lines by their
// whole text). Seen in the lab: both racing writers gave up and the marker
// was stuck. A peer-group lives in bgpd alone, which applies lines one at
// a time: the last description written is the one every reader sees.
//
// FRR has no "create only if absent": a description line replaces the
// previous one. So TryLock reads the marker, writes its own record when the
// marker is free, expired or already its own, waits lockSettle, and reads it
// back; when another record is there then, that writer wrote last and holds
// the lock, and this one gives up. A writer whose own read-then-write took
// longer than lockSettle gives up too: its write may have landed after
// another writer's read-back. docs/frr.md explains the window that remains.

// lockWhat names the lock marker (cli.Naming.Marker).
const lockWhat = "LOCK"

// defaultLockSettle is how long a writer waits between writing its lock
// record and reading it back, and the longest its own read-then-write may
// take. It must exceed the time from one writer's read of the marker to
// the end of its write (a few tens of milliseconds on a LAN).
const defaultLockSettle = 500 * time.Millisecond

// lockState is what a switch's lock marker holds.
type lockState struct {
	present bool                // the peer-group exists
	record  *drivers.LockRecord // nil: no description (free)
	members []string            // neighbors someone put in the group
}

// lockName is the lock marker's peer-group name.
func (d *Driver) lockName() string { return d.own.Naming.Marker(lockWhat) }

// lockText is the marker's description for a record.
func (d *Driver) lockText(r drivers.LockRecord) string {
	return string(d.own.Mark) + " lock " + r.String()
}

// lockWhere names a switch's marker for people.
func (d *Driver) lockWhere(sw config.Switch) string {
	return "switch " + sw.Name + " peer-group " + d.lockName()
}

// readLock reads the lock marker of a parsed running configuration. A
// marker whose description does not carry this cluster's mark and a lock
// record is an error: it must not be taken for a free lock, nor
// overwritten. A peer-group without a description is free: a writer is
// between its two lines, or someone removed the description.
func (d *Driver) readLock(sw config.Switch, cfg *runningConfig) (lockState, error) {
	inst, err := d.instance(sw, cfg)
	if err != nil {
		return lockState{}, err
	}
	name := d.lockName()
	var st lockState
	for _, id := range slices.Sorted(maps.Keys(inst.Neighbors)) {
		if inst.Neighbors[id].PeerGroup == name {
			st.members = append(st.members, id)
		}
	}
	n, ok := inst.Neighbors[name]
	if !ok {
		return st, nil
	}
	st.present = true
	if !n.IsPeerGroup {
		return st, fmt.Errorf("%s: %s is configured, but not as a peer-group; it is left alone", d.lockWhere(sw), name)
	}
	if n.Description == "" {
		return st, nil
	}
	rest, ok := strings.CutPrefix(n.Description, string(d.own.Mark)+" lock ")
	if !ok {
		return st, fmt.Errorf("%s: description %s is not this cluster's lock record; remove it once no writer runs", d.lockWhere(sw), cli.Quote(n.Description))
	}
	r, err := drivers.ParseLockRecord(rest)
	if err != nil {
		return st, fmt.Errorf("%s: %w", d.lockWhere(sw), err)
	}
	st.record = &r
	return st, nil
}

// otherHolder returns the record of another writer whose lease runs at
// now, if the marker holds one.
func (st lockState) otherHolder(rec drivers.LockRecord, now time.Time) (drivers.LockRecord, bool) {
	if r := st.record; r != nil && !r.Same(rec) && !r.Expired(now) {
		return *r, true
	}
	return drivers.LockRecord{}, false
}

// ours reports whether the marker holds exactly our record.
func (st lockState) ours(rec drivers.LockRecord) bool {
	return st.record != nil && st.record.Same(rec) && st.record.Expires.Equal(rec.Expires)
}

// heldLock is the lock this driver holds, for Apply to check.
type heldLock struct {
	mu  sync.Mutex
	rec *drivers.LockRecord
	now func() time.Time
}

func (h *heldLock) set(rec *drivers.LockRecord, now func() time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rec, h.now = rec, now
}

func (h *heldLock) get() (*drivers.LockRecord, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.now != nil {
		now = h.now()
	}
	return h.rec, now
}

// TryLock takes the fabric's writer lock: the lock marker on every switch
// of the fabric, the switches in name order. The first switch decides
// between writers of the same fabric (it is taken alone, before the
// others); the rest are taken together. When a switch holds another
// writer's live record, the switches taken so far are released and the
// error is a *drivers.HeldError naming that writer.
func (d *Driver) TryLock(ctx context.Context, req drivers.LockRequest) (drivers.Unlock, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	rec := req.Record()
	if err := cli.Text("lock record", d.lockText(rec), 0); err != nil {
		return nil, err
	}
	sws := slices.Clone([]config.Switch(d.switches))
	slices.SortFunc(sws, func(a, b config.Switch) int { return strings.Compare(a.Name, b.Name) })
	if len(sws) == 0 {
		return nil, errors.New("the fabric has no switch to hold its lock")
	}
	// release removes our record from switches, where it still is.
	release := func(taken []config.Switch) {
		// A fresh context: the caller's may be what ended the attempt.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, sw := range taken {
			if err := d.unlockSwitch(ctx, sw, rec, req.Clock()); err != nil {
				d.log.Warn("could not release the lock marker after a failed attempt", "switch", sw.Name, "error", err)
			}
		}
	}
	if err := d.lockSwitch(ctx, sws[0], req, rec); err != nil {
		var h *drivers.HeldError
		if !errors.As(err, &h) {
			// The write's outcome may be unknown: remove our record if
			// it is there.
			release(sws[:1])
		}
		return nil, err
	}
	errs := make([]error, len(sws))
	var wg sync.WaitGroup
	for i, sw := range sws[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i+1] = d.lockSwitch(ctx, sw, req, rec)
		}()
	}
	wg.Wait()
	var taken []config.Switch // ours, or maybe ours (an unknown outcome)
	var held *drivers.HeldError
	var other []error
	for i, sw := range sws {
		var h *drivers.HeldError
		switch err := errs[i]; {
		case err == nil:
			taken = append(taken, sw)
		case errors.As(err, &h):
			if held == nil {
				held = h
			}
		default:
			taken = append(taken, sw)
			other = append(other, err)
		}
	}
	if held != nil || len(other) > 0 {
		release(taken)
		if held != nil {
			return nil, held
		}
		return nil, errors.Join(other...)
	}
	d.held.set(&rec, req.Now)
	return func(ctx context.Context) error {
		d.held.set(nil, nil)
		errs := make([]error, len(sws))
		var wg sync.WaitGroup
		for i, sw := range sws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = d.unlockSwitch(ctx, sw, rec, req.Clock())
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}, nil
}

// lockAttempts bounds how often a switch's lock is tried when the
// attempts are too slow to be safe (not when someone else holds it): a
// busy switch or a loaded machine makes one slow round trip now and then,
// and giving up the whole sync for it would make the lock the thing that
// fails.
const lockAttempts = 3

// errSlowLock: an attempt took longer than lockSettle and was given up.
var errSlowLock = errors.New("too slow")

// lockSwitch takes one switch's lock marker (see TryLock), trying again
// when an attempt was given up for being slow.
func (d *Driver) lockSwitch(ctx context.Context, sw config.Switch, req drivers.LockRequest, rec drivers.LockRecord) error {
	var err error
	for attempt := 1; attempt <= lockAttempts; attempt++ {
		if err = d.tryLockSwitch(ctx, sw, req, rec); !errors.Is(err, errSlowLock) {
			return err
		}
		d.log.Info("lock attempt too slow, trying again", "switch", sw.Name, "attempt", attempt)
	}
	return err
}

// tryLockSwitch is one attempt of lockSwitch.
func (d *Driver) tryLockSwitch(ctx context.Context, sw config.Switch, req drivers.LockRequest, rec drivers.LockRecord) error {
	settle := d.lockSettle
	if settle <= 0 {
		settle = defaultLockSettle
	}
	// The bound below runs from the moment the read is sent: open the
	// session first, so that an SSH handshake does not count.
	if err := d.session(sw).open(); err != nil {
		return err
	}
	start := time.Now()
	_, cfg, err := d.readConfig(ctx, sw)
	if err != nil {
		return err
	}
	st, err := d.readLock(sw, cfg)
	if err != nil {
		return err
	}
	if r, ok := st.otherHolder(rec, req.Clock()); ok {
		return &drivers.HeldError{Record: r, Where: d.lockWhere(sw)}
	}
	if len(st.members) > 0 {
		return fmt.Errorf("%s has members %v, added by hand: not used as a lock", d.lockWhere(sw), st.members)
	}
	d.lockHook("read", sw)
	began := time.Now()
	if _, err := d.session(sw).configure(ctx, d.lockLines(cfg,
		"neighbor "+d.lockName()+" peer-group",
		"neighbor "+d.lockName()+" description "+d.lockText(rec))); err != nil {
		d.observeRequest("configure", time.Since(began), err)
		return fmt.Errorf("switch %s: writing the lock marker: %w", sw.Name, err)
	}
	d.observeRequest("configure", time.Since(began), nil)
	if took := time.Since(start); took > settle {
		// Our write may have landed after another writer read its own
		// record back: neither may hold the lock on it.
		if err := d.unlockSwitch(ctx, sw, rec, req.Clock()); err != nil {
			d.log.Warn("could not release a slow lock attempt", "switch", sw.Name, "error", err)
		}
		return fmt.Errorf("switch %s: reading and writing the lock marker took %s, more than %s; gave up the lock (%d attempts): %w",
			sw.Name, took.Round(time.Millisecond), settle, lockAttempts, errSlowLock)
	}
	d.lockHook("written", sw)
	t := time.NewTimer(settle)
	select {
	case <-ctx.Done():
		t.Stop()
		return fmt.Errorf("switch %s: waiting to read the lock marker back: %w", sw.Name, ctx.Err())
	case <-t.C:
	}
	_, cfg, err = d.readConfig(ctx, sw)
	if err != nil {
		return err
	}
	if st, err = d.readLock(sw, cfg); err != nil {
		return err
	}
	switch {
	case st.ours(rec):
		return nil
	case st.record != nil && !st.record.Same(rec):
		// Another writer wrote after us: it holds the lock.
		return &drivers.HeldError{Record: *st.record, Where: d.lockWhere(sw)}
	}
	return fmt.Errorf("%s: the marker was removed or changed while the lock was being taken", d.lockWhere(sw))
}

// lockLines are lines typed in the fabric's BGP instance.
func (d *Driver) lockLines(cfg *runningConfig, lines ...string) []cli.Line {
	inst := cfg.instance(d.vrf())
	out := []cli.Line{{Text: fmt.Sprintf("router bgp %d%s", inst.ASN, vrfSuffix(inst.VRF))}}
	for _, l := range lines {
		out = append(out, cli.Line{Text: l, Depth: 1})
	}
	return out
}

// unlockSwitch removes a switch's lock marker when it holds exactly our
// record and that record has not expired at now: an expired record may be
// being taken over, and deleting it could delete the next holder's. A group
// someone put neighbors in is never deleted (that would delete them).
func (d *Driver) unlockSwitch(ctx context.Context, sw config.Switch, rec drivers.LockRecord, now time.Time) error {
	_, cfg, err := d.readConfig(ctx, sw)
	if err != nil {
		return err
	}
	st, err := d.readLock(sw, cfg)
	if err != nil || !st.ours(rec) || rec.Expired(now) {
		return err
	}
	if len(st.members) > 0 {
		return fmt.Errorf("%s has members %v, added by hand: it is not deleted (that would delete them); remove them, then the group",
			d.lockWhere(sw), st.members)
	}
	began := time.Now()
	_, err = d.session(sw).configure(ctx, d.lockLines(cfg, "no neighbor "+d.lockName()+" peer-group"))
	d.observeRequest("configure", time.Since(began), err)
	if err != nil {
		return fmt.Errorf("switch %s: removing the lock marker: %w", sw.Name, err)
	}
	return nil
}

// checkLock is Apply's check of a switch's lock marker, on the running
// configuration it has just read: when this driver holds the fabric's lock,
// the marker must still hold exactly its record, unexpired; when it holds
// none, no other writer may hold a live one. Either way nothing is applied
// on the switch otherwise.
func (d *Driver) checkLock(sw config.Switch, cfg *runningConfig) error {
	held, now := d.held.get()
	st, err := d.readLock(sw, cfg)
	if err != nil {
		return err
	}
	if held == nil {
		if r, ok := st.otherHolder(drivers.LockRecord{}, now); ok {
			return &drivers.HeldError{Record: r, Where: d.lockWhere(sw)}
		}
		return nil
	}
	switch r, other := st.otherHolder(*held, now); {
	case other:
		return fmt.Errorf("nothing applied: this writer's lock was taken over: %w", &drivers.HeldError{Record: r, Where: d.lockWhere(sw)})
	case held.Expired(now):
		return fmt.Errorf("nothing applied on switch %s: this writer's lock expired at %s", sw.Name, held.Expires.Format(time.RFC3339))
	case !st.ours(*held):
		return fmt.Errorf("nothing applied: %s no longer holds this writer's lock record", d.lockWhere(sw))
	}
	return nil
}

// lockHook lets a test hold writers at a stage of lockSwitch ("read": the
// marker was read and found free; "written": our record was written).
func (d *Driver) lockHook(stage string, sw config.Switch) {
	if d.testLockHook != nil {
		d.testLockHook(stage, sw)
	}
}
