package aci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// The writer lock (drivers.Locker) lives on the APIC, so that two writers
// of one cluster (two syncs, a sync beside the controller) never
// interleave their POSTs on one tenant.
//
// The marker is a contract (vzBrCP) named fabric-reconciler.lock.<cluster>
// in the tenant, carrying the cluster's annotation and, in descr, the lock
// record "holder:H run:R until:UNIX". A contract is harmless to the fabric:
// it takes effect only through EPGs that provide or consume it, and its
// subjects permit only what their filters match [Cisco APIC "ACI
// Fundamentals", Labels, Filters, Aliases, and Subjects: "Contract subjects
// contain associations to the filters ... applied between EPGs that provide
// and consume the contract"]; the marker has no provider, no consumer and
// no filter. Observe never reports it (names.isLock).
//
// Taking the lock is a POST of the marker with status "created": the APIC
// answers an existing object with HTTP 400, error 103 "Cannot create ...;
// object ... already exists." [terraform-provider-aci
// aci/resource_aci_l3extinstp.go, the comment on error 103; the HTTP status
// is from aci-apic-notes.md section 1.3], so of two writers that race, one
// creates it and the other learns that it exists. aci-go-client treats 103
// as success (client/client.go and client/service_manager.go,
// CheckForErrors): the driver reads the APIC's answer itself.
//
// An expired lock is taken over without rewriting the marker: the taker
// creates, with status "created", a subject under the marker named after
// the expired record (takeover-<hash of its text>) and holding its own
// record. The lock's holder is found by following these links from the
// marker's record: takeover-<hash(record)> holds the next record, until no
// link exists; the last record is the holder. Two writers taking over the
// same expired record create the same subject: one creates it, the other
// gets 103. This needs no more than 103 on creating one object; it does not
// rely on a POST being applied all or nothing (which no source states), and
// a taker whose request arrives late, after the marker was released and
// made again, only adds a link that no chain reaches. A writer reads the
// chain back after writing and holds the lock only when its own record ends
// it. The subjects have no filter: they match no traffic.
//
// Unlock deletes the marker (and its links) only while the chain ends in
// this run's record and its lease has not run out: after that, another
// writer may be taking it over.

// lockText is a lock record as the marker's descr holds it. The APIC's descr
// allows no '=' (jsonmeta of fvTenant in terraform-provider-aci
// gen/meta/fvTenant.json: at most 128 characters of
// [a-zA-Z0-9\\!#$%()*,-./:;@ _{|}~?&+]), so the record's "k=v" fields are
// written "k:v"; its keys hold no ':', its values may.
func lockText(r drivers.LockRecord) string {
	return strings.Replace(strings.Replace(strings.Replace(r.String(), "holder=", "holder:", 1), " run=", " run:", 1), " until=", " until:", 1)
}

// parseLockText reads a marker's descr.
func parseLockText(s string) (drivers.LockRecord, error) {
	var fields []string
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, ":")
		if !ok {
			return drivers.LockRecord{}, fmt.Errorf("lock marker text %s: not holder:H run:R until:UNIX", printable(s))
		}
		fields = append(fields, k+"="+v)
	}
	return drivers.ParseLockRecord(strings.Join(fields, " "))
}

// lockState is what the marker's place holds.
type lockState struct {
	exists bool
	marker object
	// rec ends the chain of records (the holder); last is the object
	// holding it (the marker, or the last takeover subject).
	rec  drivers.LockRecord
	last object
	// bad says why the place cannot be used: the marker or a link lacks
	// this cluster's mark, or holds no lock record.
	bad     error
	foreign []string // objects under the marker without the mark
}

// takeoverName is the link created to take over a record.
func takeoverName(text string) string { return "takeover-" + shortHash(text) }

// readLock reads the marker and follows its chain of records.
func (d *Driver) readLock(ctx context.Context) (lockState, error) {
	dn := d.names.lockDN()
	cont, err := d.apic.request(ctx, "lock", "GET", "/api/mo/"+dn+".json?query-target=subtree", nil)
	if err != nil {
		return lockState{}, fmt.Errorf("read the lock %s: %w", dn, err)
	}
	snap, err := parseSnapshot(cont)
	if err != nil {
		return lockState{}, fmt.Errorf("read the lock %s: %w", dn, err)
	}
	st := lockState{}
	if st.marker, st.exists = snap.get(dn); !st.exists {
		return st, nil
	}
	for _, o := range snap.below(dn) {
		if !d.names.owned(o) {
			st.foreign = append(st.foreign, o.dn)
		}
	}
	st.last = st.marker
	for seen := map[string]bool{}; ; {
		if !d.names.owned(st.last) {
			st.bad = fmt.Errorf("%s %s; it is left alone (rename or delete it: the lock needs this name)", st.last.dn, markText(st.last))
			return st, nil
		}
		text := st.last.attrs["descr"]
		if st.rec, err = parseLockText(text); err != nil || seen[text] {
			st.bad = fmt.Errorf("%s carries this cluster's mark but no lock record (%s); it is left alone (delete the marker if no writer runs)",
				st.last.dn, printable(text))
			return st, nil
		}
		seen[text] = true
		next, ok := snap.get(dn + "/subj-" + takeoverName(text))
		if !ok {
			return st, nil
		}
		st.last = next
	}
}

// ours reports whether the chain ends in exactly this record.
func (d *Driver) ours(st lockState, rec drivers.LockRecord) bool {
	return st.exists && st.bad == nil && st.rec.Same(rec) && st.rec.Expires.Equal(rec.Expires)
}

func apicCode(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// postLock posts one object of the lock: the marker, or a link under it.
func (d *Driver) postLock(ctx context.Context, class, dn string, attrs map[string]string) error {
	attrs["dn"] = dn
	b, _ := json.Marshal(map[string]any{class: map[string]any{"attributes": attrs}})
	_, err := d.apic.request(ctx, "lock", "POST", "/api/mo/"+dn+".json", b)
	return err
}

// link adds rec to the chain after the record in text: it fails with 103
// when another writer linked a record there first.
func (d *Driver) link(ctx context.Context, text string, rec drivers.LockRecord) error {
	name := takeoverName(text)
	return d.postLock(ctx, "vzSubj", d.names.lockDN()+"/subj-"+name,
		map[string]string{"name": name, "annotation": d.names.mark, "descr": lockText(rec), "status": "created"})
}

// lockRounds bounds how often TryLock starts over when the marker changes
// under it (released, taken over by another writer).
const lockRounds = 3

// TryLock takes the fabric's writer lock, or returns a *drivers.HeldError
// naming the writer that holds it. It never waits.
func (d *Driver) TryLock(ctx context.Context, req drivers.LockRequest) (drivers.Unlock, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	rec := req.Record()
	text := lockText(rec)
	if !descrRe.MatchString(text) {
		return nil, fmt.Errorf("lock holder and run id are too long for the marker's descr (the APIC takes 128 characters; %q is %d)", text, len(text))
	}
	dn := d.names.lockDN()
	unlock := func(ctx context.Context) error { return d.unlock(ctx, req, rec) }
	for round := 0; round < lockRounds; round++ {
		err := d.postLock(ctx, "vzBrCP", dn, map[string]string{"name": d.names.lock, "annotation": d.names.mark, "descr": text, "status": "created"})
		if err != nil && apicCode(err) != "103" && !errors.Is(err, drivers.ErrOutcomeUnknown) {
			return nil, fmt.Errorf("take the lock %s: %w", dn, err)
		}
		// Created, or it exists (103), or the answer was lost: what the
		// chain says now decides.
		st, rerr := d.readLock(ctx)
		if rerr != nil {
			return nil, lockReadErr(dn, err, rerr)
		}
		switch {
		case !st.exists:
			continue // released meanwhile, or our create was not committed
		case st.bad != nil:
			return nil, fmt.Errorf("lock %s: %w", dn, st.bad)
		case d.ours(st, rec):
			d.log.Debug("took the writer lock", "dn", dn, "holder", req.Holder, "run", req.RunID)
			return unlock, nil
		case !st.rec.Expired(req.Clock()):
			return nil, &drivers.HeldError{Record: st.rec, Where: dn}
		}
		// The holder's lease ran out: take it over by linking our record
		// after its own.
		err = d.link(ctx, st.last.attrs["descr"], rec)
		switch code := apicCode(err); {
		case err == nil, errors.Is(err, drivers.ErrOutcomeUnknown):
		case code == "103", code == "102":
			continue // another writer took it over first, or it was released
		default:
			return nil, fmt.Errorf("take over the expired lock %s (%s, run %s): %w", dn, st.rec.Holder, st.rec.RunID, err)
		}
		prev := st.rec
		if st, rerr = d.readLock(ctx); rerr != nil {
			return nil, lockReadErr(dn, err, rerr)
		}
		if d.ours(st, rec) {
			d.log.Info("took over an expired writer lock", "dn", dn, "from", prev.Holder, "run", prev.RunID, "holder", req.Holder)
			return unlock, nil
		}
	}
	return nil, fmt.Errorf("take the lock %s: it changed hands %d times while trying; try again", dn, lockRounds)
}

// lockReadErr reports a failed read-back. When the write before it may
// have been committed, the lock may be this run's until its record
// expires: the error then wraps drivers.ErrOutcomeUnknown.
func lockReadErr(dn string, write, read error) error {
	if errors.Is(write, drivers.ErrOutcomeUnknown) {
		return fmt.Errorf("take the lock %s: %w; it may be held in this run's name until its lease ends (reading it back: %v)", dn, drivers.ErrOutcomeUnknown, read)
	}
	return fmt.Errorf("take the lock %s: %w", dn, read)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// unlockMargin: a lease this close to its end is not released by deleting
// the marker, since another writer whose clock runs this much ahead may be
// taking it over (writers' clocks are assumed to agree within it).
const unlockMargin = 2 * time.Second

// unlock releases the lock when the marker still carries this run's
// record and its lease has not run out.
func (d *Driver) unlock(ctx context.Context, req drivers.LockRequest, rec drivers.LockRecord) error {
	dn := d.names.lockDN()
	st, err := d.readLock(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("release the lock: %w", err)
	case !st.exists:
		return nil // already gone
	case st.bad != nil:
		return fmt.Errorf("release the lock %s: %w", dn, st.bad)
	case !d.ours(st, rec):
		return fmt.Errorf("release the lock %s: it is held by %s, run %s, now (this run's lease ran out and it was taken over); it is left alone",
			dn, st.rec.Holder, st.rec.RunID)
	case !req.Clock().Before(rec.Expires.Add(-unlockMargin)):
		// Another writer may be taking it over right now: deleting the
		// marker could delete its link. It expires by itself.
		return fmt.Errorf("release the lock %s: this run's lease ran out at %s before it finished; the marker is left to expire",
			dn, rec.Expires.Format(time.RFC3339))
	case len(st.foreign) > 0:
		// Deleting the marker would delete what it holds: release it by
		// linking a record whose lease has already ended.
		done := rec
		done.Expires = req.Clock().UTC().Truncate(time.Second)
		if err := d.link(ctx, st.last.attrs["descr"], done); err != nil {
			return fmt.Errorf("release the lock %s: %w", dn, err)
		}
		return fmt.Errorf("released the lock %s by ending its lease, not by deleting the marker: it holds %s without this cluster's mark", dn, st.foreign[0])
	}
	if err := d.postLock(ctx, "vzBrCP", dn, map[string]string{"name": d.names.lock, "status": "deleted"}); err != nil {
		return fmt.Errorf("release the lock %s: %w", dn, err)
	}
	d.log.Debug("released the writer lock", "dn", dn)
	return nil
}

var _ drivers.Locker = (*Driver)(nil)
