package frr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// TestLockMarkerRead: what a switch's lock marker says, and what Apply
// makes of it, from recorded running configurations (no switch).
func TestLockMarkerRead(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	ours := drivers.LockRecord{Holder: "host-a:1", RunID: "r1", Expires: now.Add(time.Minute)}
	const group = " neighbor FR-haystack-MARK-LOCK peer-group\n"
	marker := func(holder string, until time.Time) string {
		return group + fmt.Sprintf(" neighbor FR-haystack-MARK-LOCK description orchestrator:fabric-reconciler.haystack lock holder=%s run=r1 until=%d\n", holder, until.Unix())
	}
	tests := []struct {
		name     string
		lines    string              // lines added to the fixture's "router bgp 63500"
		held     *drivers.LockRecord // the lock this driver holds
		record   string              // the holder the marker names
		members  int
		readErr  string
		heldBy   string // Apply's check fails with a HeldError naming this holder
		applyErr string
	}{
		{name: "no marker, no lock held"},
		{name: "no marker, our lock held", held: &ours, applyErr: "no longer holds this writer's lock record"},
		{name: "our record, held", lines: marker("host-a:1", ours.Expires), held: &ours, record: "host-a:1"},
		{name: "another writer's live record", lines: marker("host-b:2", now.Add(time.Hour)), record: "host-b:2", heldBy: "host-b:2"},
		{name: "another writer's live record while we believe we hold it", lines: marker("host-b:2", now.Add(time.Hour)), held: &ours,
			record: "host-b:2", heldBy: "host-b:2", applyErr: "this writer's lock was taken over"},
		{name: "another writer's expired record", lines: marker("host-b:2", now.Add(-time.Second)), record: "host-b:2"},
		{name: "our record, expired", lines: marker("host-a:1", ours.Expires),
			held: &drivers.LockRecord{Holder: "host-a:1", RunID: "r1", Expires: now.Add(-time.Second)}, record: "host-a:1",
			applyErr: "this writer's lock expired"},
		{name: "the peer-group between a writer's two lines is free", lines: group},
		{name: "a description changed by hand is not a free lock",
			lines:   group + " neighbor FR-haystack-MARK-LOCK description set by hand\n",
			readErr: `description "set by hand" is not this cluster's lock record`, applyErr: "is not this cluster's lock record"},
		{name: "a record that does not parse is not a free lock",
			lines:   group + " neighbor FR-haystack-MARK-LOCK description orchestrator:fabric-reconciler.haystack lock holder=x\n",
			readErr: "not holder=H run=R until=UNIX", applyErr: "not holder=H run=R until=UNIX"},
		{name: "members put in the group by hand are seen", lines: marker("host-a:1", ours.Expires) + " neighbor 10.7.7.7 peer-group FR-haystack-MARK-LOCK\n",
			held: &ours, record: "host-a:1", members: 1},
		{name: "the name configured as something else",
			lines:   " neighbor FR-haystack-MARK-LOCK interface remote-as external\n",
			readErr: "not as a peer-group", applyErr: "not as a peer-group"},
		{name: "another cluster's lock is not ours to read", lines: strings.ReplaceAll(marker("host-b:2", now.Add(time.Hour)), "haystack", "other")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDriver(t, testFabric(63500, ""))
			d.held.set(tt.held, func() time.Time { return now })
			text := strings.Replace(fixture(t), " neighbor SPINES peer-group\n", " neighbor SPINES peer-group\n"+tt.lines, 1)
			cfg, err := parseRunningConfig(text)
			if err != nil {
				t.Fatal(err)
			}
			sw, _ := d.switches.ByName("leaf202")
			st, err := d.readLock(sw, cfg)
			if (tt.readErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.readErr)) {
				t.Fatalf("readLock error %v, want %q", err, tt.readErr)
			}
			if got := ""; st.record != nil {
				got = st.record.Holder
				if got != tt.record {
					t.Fatalf("record of %q, want %q", got, tt.record)
				}
			} else if tt.record != "" {
				t.Fatalf("no record, want one of %q", tt.record)
			}
			if len(st.members) != tt.members {
				t.Fatalf("members %v, want %d", st.members, tt.members)
			}
			err = d.checkLock(sw, cfg)
			var held *drivers.HeldError
			if got := errors.As(err, &held); got != (tt.heldBy != "") || (got && held.Record.Holder != tt.heldBy) {
				t.Fatalf("checkLock %v, want a HeldError naming %q", err, tt.heldBy)
			}
			if want := tt.applyErr; (want == "" && tt.heldBy == "") != (err == nil) || (want != "" && (err == nil || !strings.Contains(err.Error(), want))) {
				t.Fatalf("checkLock %v, want %q", err, want)
			}
			// Observe never reports the marker.
			owned, foreign, err := d.observeSwitch(context.Background(), sw, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(describe(owned, foreign), "\n") {
				if strings.Contains(line, "LOCK") {
					t.Errorf("observed %s", line)
				}
			}
		})
	}
}
