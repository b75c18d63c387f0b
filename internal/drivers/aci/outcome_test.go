package aci

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// TestApplyOutcome: a POST whose answer was not seen after it was sent
// (a reset, a timeout, the call's deadline during a retry) may have been
// committed: the error wraps drivers.ErrOutcomeUnknown and never says
// "nothing was changed". Only a refusal or a failure before sending says
// it (case 5.4 of the safety review).
func TestApplyOutcome(t *testing.T) {
	const subnetDN = "uni/tn-TEN_K8_C1/out-L3O_K8_C1/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]"
	for _, c := range []struct {
		name      string
		faults    []emulator.Fault
		ctx       time.Duration          // deadline of the Apply call (0: none)
		before    func(*emulator.Server) // after Observe, before Apply
		unknown   bool                   // the error must wrap ErrOutcomeUnknown
		committed bool                   // what the emulator holds in the end
		settle    time.Duration          // wait before looking (a late commit)
		want      string                 // in the error
		dropConns bool                   // the client forgets its open connections
	}{
		{name: "reset after commit on every attempt", faults: []emulator.Fault{{Kind: emulator.FaultResetAfterCommit, Method: "POST"}},
			ctx: time.Second, unknown: true, committed: true},
		{name: "reset after the request was read and before it was processed", faults: []emulator.Fault{{Kind: emulator.FaultReset, Method: "POST"}},
			ctx: time.Second, unknown: true, committed: false},
		{name: "deadline while the APIC works on it", faults: []emulator.Fault{{Kind: emulator.FaultLatency, Method: "POST", Delay: 1500 * time.Millisecond, Times: 1}},
			ctx: 700 * time.Millisecond, unknown: true, committed: true, settle: 1200 * time.Millisecond, want: "deadline"},
		{name: "503 with Retry-After then the deadline passes during the retried POST (case 5.4)",
			faults: []emulator.Fault{{Kind: emulator.FaultThrottle, Method: "POST", Times: 1, RetryAfter: "1"},
				{Kind: emulator.FaultLatency, Method: "POST", Delay: 1500 * time.Millisecond, Times: 1}},
			ctx: 1800 * time.Millisecond, unknown: true, committed: true, settle: 1000 * time.Millisecond},
		{name: "throttled on every attempt so never processed", faults: []emulator.Fault{{Kind: emulator.FaultThrottle, Status: 429, Method: "POST", RetryAfter: "0"}},
			unknown: false, committed: false, want: "nothing was changed"},
		{name: "deadline while waiting out Retry-After so never resent", faults: []emulator.Fault{{Kind: emulator.FaultThrottle, Method: "POST", Times: 1, RetryAfter: "5"}},
			ctx: 800 * time.Millisecond, unknown: false, committed: false, want: "nothing was changed"},
		{name: "an APIC error answer refuses it whole", before: func(s *emulator.Server) { s.Delete("uni/tn-TEN_K8_C1/out-L3O_K8_C1/instP-EPG_K8_NODES") },
			unknown: false, committed: false, want: "error 102"},
		{name: "the APIC is gone so it is never sent", before: func(s *emulator.Server) { s.Close() }, dropConns: true,
			ctx: 300 * time.Millisecond, unknown: false, committed: false, want: "nothing was changed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // mostly waiting: deadlines, Retry-After, the client's backoff
			srv, d := lab(t, emulator.Options{}, tlsCA)
			if _, err := d.Observe(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c.before != nil {
				c.before(srv)
			}
			if c.dropConns {
				d.apic.transport.CloseIdleConnections()
			}
			for _, f := range c.faults {
				srv.AddFault(f)
			}
			ctx := context.Background()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			plan := fabric.Changeset{Name: "f", Changes: []fabric.Change{create(sub("EPG_K8_NODES", "192.168.9.192/28"))}}
			res, err := d.Apply(ctx, plan)
			if err == nil {
				t.Fatalf("apply succeeded: %+v", res)
			}
			if got := errors.Is(err, drivers.ErrOutcomeUnknown); got != c.unknown {
				t.Errorf("errors.Is(err, ErrOutcomeUnknown) = %v, want %v: %v", got, c.unknown, err)
			}
			if said := strings.Contains(err.Error(), "nothing was changed"); said == c.unknown {
				t.Errorf("the error says nothing was changed = %v, with the outcome unknown = %v: %v", said, c.unknown, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if len(res.Applied) != 0 {
				t.Errorf("reported as applied: %v", res.Applied)
			}
			time.Sleep(c.settle)
			if _, _, ok := srv.Lookup(subnetDN); ok != c.committed {
				t.Errorf("the emulator holds the subnet = %v, want %v", ok, c.committed)
			}
			if !c.committed && c.unknown {
				t.Logf("(nothing was committed, but the driver cannot know it: %v)", err)
			}
		})
	}
}
