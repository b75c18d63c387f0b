package nxos

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

// TestRollbackAfterSomeoneElseChanged: an operator changes the switch
// while an apply is under way, then the switch refuses a later line. A
// rollback to the apply's checkpoint would undo the operator's change too,
// so the driver does not roll back: it says what changed (its secret
// redacted) and that the switch keeps the lines sent so far, deletes its
// checkpoint, and the next sync completes the change. Without the
// operator, the same refusal is rolled back (TestRefusedLineLeavesNothing).
func TestRollbackAfterSomeoneElseChanged(t *testing.T) {
	l := newLab(t, labOpts{startup: handMade("see")})
	d := l.driver(t, l.fabric(t, nil))
	sim := l.sims["leaf201"]
	sim.SetFaults(nxossim.Faults{
		OtherUser: nxossim.OtherUser{AfterConfigLines: 5, Lines: []string{
			"router bgp 63500", "neighbor 10.9.9.9", "description password 3 0badc0ffee0ddf00d", "exit", "neighbor 10.9.9.7", "remote-as 65007"}},
		RejectLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^remote-as 63553$`)}},
	})
	_, res, err := reconcile(t, l.ctx, d, haystack())
	if err == nil {
		t.Fatal("apply reported no error")
	}
	for _, want := range []string{
		`switch leaf201 refused "remote-as 63553" in configure terminal: ERROR: configuration rejected (nxossim fault injection)`,
		"not rolled back: the running configuration changed outside fabric-reconciler's objects since checkpoint fabric-reconciler-haystack-run-",
		"+ router bgp 63500 > neighbor 10.9.9.7",
		"+ router bgp 63500 > neighbor 10.9.9.9 > description password <redacted>",
		"- router bgp 63500 > neighbor 10.9.9.9 > description password <redacted>",
		"the switch keeps the first",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	t.Logf("the error: %v", err)
	all := err.Error() + strings.Join(res.Messages, "\n") + l.log.String()
	for _, secret := range []string{"0badc0ffee0ddf00d", secretStandIn} {
		if strings.Contains(all, secret) {
			t.Errorf("a changed line's secret %q reached the error, messages or log", secret)
		}
	}
	st := sim.Stats()
	if st.Rollbacks != 0 {
		t.Errorf("%d rollback(s): the operator's change was undone", st.Rollbacks)
	}
	if cps := sim.Checkpoints(); len(cps) != 0 {
		t.Errorf("checkpoints left after the lock was released: %+v", cps)
	}
	body := l.body(t, "leaf201")
	for _, want := range []string{"neighbor 10.9.9.7\n    remote-as 65007", "description password 3 0badc0ffee0ddf00d", "FR-haystack-IN-192.168.9.193"} {
		if !strings.Contains(body, want) {
			t.Errorf("leaf201 lacks %q:\n%s", want, body)
		}
	}
	if len(res.Applied) == 0 {
		t.Errorf("the changes whose lines stay are not reported applied: %v", res.Messages)
	}
	// The next sync completes the change; the operator's lines stay.
	sim.SetFaults(nxossim.Faults{})
	if _, _, err := reconcile(t, l.ctx, d, haystack()); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, l.ctx, d, haystack())
	if body := l.body(t, "leaf201"); !strings.Contains(body, "neighbor 10.9.9.7\n    remote-as 65007") {
		t.Errorf("the operator's neighbor is gone:\n%s", body)
	}
}

// TestKnownWarningIsNotARefusal: NX-OS prints "% ISSU will be affected if
// hold time is less than system switchover time (8 seconds)" after a
// neighbor's "timers" line it took (cisco.nxos#82). A known warning after
// a line is logged, with its source, and the apply goes on; any other
// output is still a refusal, rolled back once. The emulator prints the
// warnings after a line the driver sends today (it sends no timers).
func TestKnownWarningIsNotARefusal(t *testing.T) {
	const issu = "% ISSU will be affected if hold time is less than system switchover time (8 seconds)"
	cases := []struct {
		name      string
		reply     string
		wantErr   string
		rollbacks int
	}{
		{name: "known warning", reply: issu},
		{name: "unknown warning", reply: "Warning: this is new to the driver", rollbacks: 1,
			wantErr: `switch leaf201 refused "remote-as 63552" in configure terminal: Warning: this is new to the driver; rolled back to checkpoint`},
		{name: "known warning with an error after it", reply: issu + "\nERROR: but this was refused", rollbacks: 1,
			wantErr: `refused "remote-as 63552" in configure terminal: ERROR: but this was refused (+1 more lines); rolled back`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{})
			d := l.driver(t, l.fabric(t, nil))
			sim := l.sims["leaf201"]
			sim.SetFaults(nxossim.Faults{WarnLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^remote-as 63552$`), Reply: tc.reply}}})
			_, _, err := reconcile(t, l.ctx, d, haystack())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				assertConverged(t, l.ctx, d, haystack())
				if log := l.log.String(); !strings.Contains(log, "the switch took the line with a known warning") || !strings.Contains(log, "cisco.nxos#82") {
					t.Errorf("the warning is not logged with its source:\n%s", log)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if st := sim.Stats(); st.Rollbacks != tc.rollbacks {
				t.Errorf("%d rollbacks, want %d", st.Rollbacks, tc.rollbacks)
			}
		})
	}
}

// TestNoCheckpointReply: that "no checkpoint NAME" prints nothing is an
// assumption (docs/nxossim.md). When it prints something, the driver reads
// the summary: a checkpoint that is gone was deleted, one still listed was
// not.
func TestNoCheckpointReply(t *testing.T) {
	t.Run("a message, and the checkpoint is gone", func(t *testing.T) {
		l := newLab(t, labOpts{})
		d := l.driver(t, l.fabric(t, nil))
		l.sims["leaf201"].SetFaults(nxossim.Faults{WarnLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^no checkpoint `), Reply: "Checkpoint deleted"}}})
		if _, _, err := reconcile(t, l.ctx, d, haystack()); err != nil {
			t.Fatal(err)
		}
		if cps := l.sims["leaf201"].Checkpoints(); len(cps) != 0 {
			t.Errorf("checkpoints left: %+v", cps)
		}
		if !strings.Contains(l.log.String(), `\"no checkpoint\" printed a reply; the checkpoint is gone`) {
			t.Errorf("log:\n%s", l.log.String())
		}
	})
	t.Run("a message, and the checkpoint is still there", func(t *testing.T) {
		l := newLab(t, labOpts{})
		d := l.driver(t, l.fabric(t, nil))
		l.sims["leaf201"].SetFaults(nxossim.Faults{RejectExec: []nxossim.RejectRule{{Match: regexp.MustCompile(`^no checkpoint .*-run-`), Reply: "Done"}}})
		_, _, err := reconcile(t, l.ctx, d, haystack())
		if err == nil || !strings.Contains(err.Error(), "the switch answered Done, and the checkpoint is still there") {
			t.Fatalf("error %v", err)
		}
	})
}
