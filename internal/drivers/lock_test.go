package drivers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLockRecordRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	req := LockRequest{Holder: "host-a:1234", RunID: "r-01", TTL: 90 * time.Second, Now: func() time.Time { return now }}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := req.Record()
	got, err := ParseLockRecord(rec.String())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Same(rec) || !got.Expires.Equal(now.Add(90*time.Second)) {
		t.Fatalf("round trip: %+v != %+v", got, rec)
	}
	if got.Expired(now) || !got.Expired(now.Add(90*time.Second)) {
		t.Fatal("expiry is wrong")
	}
}

func TestParseLockRecordRefusesGarbage(t *testing.T) {
	for _, s := range []string{
		"", "hand-made description", "holder=a run=b", "holder=a run=b until=x",
		"holder=a run=b until=1 holder=c", "holder=a\nno router bgp run=b until=1",
		"holder=" + strings.Repeat("a", 65) + " run=b until=1", "holder=a;b run=c until=1",
	} {
		if _, err := ParseLockRecord(s); err == nil {
			t.Errorf("%q: parsed, want an error", s)
		}
	}
}

func TestLockRequestValidate(t *testing.T) {
	for _, r := range []LockRequest{
		{Holder: "", RunID: "r", TTL: time.Minute},
		{Holder: "a b", RunID: "r", TTL: time.Minute},
		{Holder: "a", RunID: "r\n", TTL: time.Minute},
		{Holder: "a", RunID: "r", TTL: 0},
		{Holder: "a", RunID: "r", TTL: 48 * time.Hour},
	} {
		if err := r.Validate(); err == nil {
			t.Errorf("%+v: valid, want an error", r)
		}
	}
}

type fakeLocker struct {
	heldFor int // TryLock calls answered "held" before it is free
	calls   int
}

func (f *fakeLocker) TryLock(ctx context.Context, req LockRequest) (Unlock, error) {
	f.calls++
	if f.calls <= f.heldFor {
		return nil, &HeldError{Record: LockRecord{Holder: "other", RunID: "x", Expires: time.Now().Add(time.Hour)}, Where: "test"}
	}
	return func(context.Context) error { return nil }, nil
}

func TestAcquireLockWaitsThenGivesUp(t *testing.T) {
	req := LockRequest{Holder: "me", RunID: "r", TTL: time.Minute}
	f := &fakeLocker{heldFor: 2}
	if _, err := AcquireLock(context.Background(), f, req, time.Second, 10*time.Millisecond); err != nil || f.calls != 3 {
		t.Fatalf("err %v after %d calls, want success on the 3rd", err, f.calls)
	}
	f = &fakeLocker{heldFor: 1 << 30}
	_, err := AcquireLock(context.Background(), f, req, 50*time.Millisecond, 10*time.Millisecond)
	var held *HeldError
	if !errors.As(err, &held) || held.Record.Holder != "other" {
		t.Fatalf("err %v, want a HeldError naming the holder", err)
	}
	if !strings.Contains(err.Error(), "other") {
		t.Fatalf("error %q does not name the holder", err)
	}
}
