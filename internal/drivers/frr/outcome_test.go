package frr

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clitest"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// TestApplyOutcomeUnknown: an apply whose last line may have reached the
// switch without its reply (the session dropped after the line was sent,
// an answer that is not a '%' refusal) wraps drivers.ErrOutcomeUnknown, so
// the caller observes again; a '%' refusal, and a failure before any
// configuration line was sent, do not. Against a fake vtysh on 127.0.0.1:
// the real lab cannot drop a session between a line and its reply.
func TestApplyOutcomeUnknown(t *testing.T) {
	const running = "!\nfrr version 8.4.4\nhostname leaf202\n!\nrouter bgp 63500\n bgp router-id 2.0.0.2\nexit\n!\nend\n"
	const remoteAs = "neighbor 192.168.9.196 remote-as 63554"
	spare := peer("192.168.9.196", "k8c1s3", 63554, 63500)
	spareFilter := filter("192.168.9.196", "k8c1s3", rule("172.27.200.0/26", 26))
	plan := fabric.Changeset{Name: "fake", Driver: Name, Changes: []fabric.Change{create(spareFilter), create(spare)}}
	tests := []struct {
		name     string
		fault    func(f *fakeVtysh)
		unknown  bool
		refused  bool   // the error is a *LineError
		errHas   string // "" when the apply succeeds
		applied  int    // changes in ApplyResult.Applied
		accepted int    // configuration lines the switch took (mode exits not counted)
	}{
		{name: "no fault", fault: func(*fakeVtysh) {}, applied: 2, accepted: 10},
		{name: "refused with a '%' reply: known, not applied",
			fault:   func(f *fakeVtysh) { f.refuseLine(remoteAs, "% Local-AS cannot be configured") },
			refused: true, errHas: `switch leaf202 refused "neighbor 192.168.9.196 remote-as 63554": % Local-AS cannot be configured`,
			applied: 1, accepted: 6},
		{name: "session dropped after the line was sent: unknown",
			fault:   func(f *fakeVtysh) { f.dropAfter(remoteAs, 1) },
			unknown: true, errHas: `sending "neighbor 192.168.9.196 remote-as 63554"`, applied: 1, accepted: 6},
		{name: "an answer that is not a '%' refusal: unknown",
			fault:   func(f *fakeVtysh) { f.refuseLine(remoteAs, "Warning: something happened") },
			unknown: true, refused: true, errHas: "Warning: something happened", applied: 1, accepted: 6},
		{name: "session dropped entering configuration mode: no line sent, retried on a new session",
			fault: func(f *fakeVtysh) { f.dropAfter("configure terminal", 1) }, applied: 2, accepted: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeVtysh(t, "leaf202", running)
			log := &testenv.LogBuffer{}
			d := clitest.Open(t, fake.fabric(t), "haystack", log).(*Driver)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tt.fault(fake)
			res, err := d.Apply(ctx, plan)
			if got := errors.Is(err, drivers.ErrOutcomeUnknown); got != tt.unknown {
				t.Errorf("errors.Is(err, ErrOutcomeUnknown) = %v, want %v (err: %v)", got, tt.unknown, err)
			}
			var le *LineError
			if got := errors.As(err, &le); got != tt.refused {
				t.Errorf("error is a LineError: %v, want %v (err: %v)", got, tt.refused, err)
			}
			if (tt.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.errHas)) {
				t.Fatalf("error %v, want %q", err, tt.errHas)
			}
			if len(res.Applied) != tt.applied {
				t.Errorf("applied %d changes, want %d: %v", len(res.Applied), tt.applied, res.Messages)
			}
			if got := len(fake.accepted()); got != tt.accepted {
				t.Errorf("the switch took %d lines, want %d: %q", got, tt.accepted, fake.accepted())
			}
			if strings.Contains(log.String(), fake.password) || (err != nil && strings.Contains(err.Error(), fake.password)) {
				t.Error("the password appears in the log or the error")
			}
		})
	}
}
