package nxossim

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/transport"
	"github.com/scrapli/scrapligo/util"
)

var planLines = []string{
	"router bgp 63500",
	"neighbor 192.168.9.193",
	"remote-as 63551",
	"description orchestrator:fabric-reconciler.haystack k8c1m0",
	"neighbor 192.168.9.194",
	"remote-as 63552",
}

// TestFaultUnreachableAfterDrop: once the drop has fired, the switch takes
// no new connection (its configuration stays as the drop left it) until
// the faults are set again.
func TestFaultUnreachableAfterDrop(t *testing.T) {
	s := startSim(t, nil)
	d := scrapliDriver(t, s, transport.StandardTransport, options.WithTimeoutOps(3*time.Second))
	s.SetFaults(Faults{DropAfterConfigLines: 3, UnreachableAfterDrop: true})
	if _, err := d.SendConfigs(planLines); err == nil {
		t.Fatal("SendConfigs survived the dropped connection")
	}
	want := "feature bgp\n\nrouter bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551"
	if got := runningBody(t, s, "bgp"); got != want {
		t.Errorf("running config:\n%s\nwant:\n%s", got, want)
	}
	for _, tc := range []struct {
		name   string
		faults *Faults
		reach  bool
	}{{"after the drop", nil, false}, {"faults set again", &Faults{}, true}} {
		if tc.faults != nil {
			s.SetFaults(*tc.faults)
		}
		p, err := platform.NewPlatform("cisco_nxos", s.Host(), options.WithPort(s.Port()), options.WithAuthUsername(testUser),
			options.WithAuthPassword(testPass), options.WithAuthNoStrictKey(), options.WithTransportType(transport.StandardTransport),
			options.WithTimeoutSocket(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		d2, err := p.GetNetworkDriver()
		if err != nil {
			t.Fatal(err)
		}
		err = d2.Open()
		if (err == nil) != tc.reach {
			t.Fatalf("%s: open: %v, want reachable %v", tc.name, err, tc.reach)
		}
		if err == nil {
			_ = d2.Close()
		}
	}
	if st := s.Stats(); st.Drops != 1 || st.Connections != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestFaultDropAfterExec: the matching exec command runs, then the
// connection drops before its reply (a rollback whose answer is lost).
func TestFaultDropAfterExec(t *testing.T) {
	s := startSim(t, nil)
	if _, err := s.Show("checkpoint cp1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Configure("router bgp 63500"); err != nil {
		t.Fatal(err)
	}
	d := scrapliDriver(t, s, transport.StandardTransport, options.WithTimeoutOps(3*time.Second))
	s.SetFaults(Faults{DropAfterExec: regexp.MustCompile(`^rollback `)})
	if r, err := d.SendCommand("show checkpoint summary"); err != nil || r.Failed != nil {
		t.Fatalf("a command that does not match: %v", err)
	}
	if _, err := d.SendCommand("rollback running-config checkpoint cp1"); err == nil {
		t.Fatal("the rollback's reply arrived")
	}
	if got := runningBody(t, s, "bgp"); got != "feature bgp" {
		t.Errorf("the rollback did not run: %q", got)
	}
	if st := s.Stats(); st.Drops != 1 || st.Rollbacks != 1 {
		t.Errorf("stats %+v", st)
	}
	// Once: a new connection runs it with its reply.
	d2 := scrapliDriver(t, s, transport.StandardTransport)
	if r, err := d2.SendCommand("rollback running-config checkpoint cp1"); err != nil || !strings.Contains(r.Result, "Rollback Patch is Empty") {
		t.Fatalf("after reconnect: %v %q", err, r.Result)
	}
}

// TestFaultDropConnection drops the SSH connection after N configuration
// lines, in configure terminal (what was typed is applied) and in a session
// (nothing is applied and the session survives for a reconnecting client).
func TestFaultDropConnection(t *testing.T) {
	cases := []struct {
		name     string
		session  bool
		dropAt   int
		wantBody string // show running-config bgp body after the drop
		queued   int    // lines left in the session
	}{
		{name: "configure terminal", dropAt: 3,
			wantBody: "feature bgp\n\nrouter bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551"},
		{name: "configuration session", session: true, dropAt: 4, wantBody: "feature bgp", queued: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, sessionsTakeBGP)
			d := scrapliDriver(t, s, transport.StandardTransport, options.WithTimeoutOps(3*time.Second))
			var opts []util.Option
			if tc.session {
				addSessionPriv(d, "fr-plan")
				opts = append(opts, opoptions.WithPrivilegeLevel("configuration-session"))
			}
			s.SetFaults(Faults{DropAfterConfigLines: tc.dropAt})
			if _, err := d.SendConfigs(planLines, opts...); err == nil {
				t.Fatal("SendConfigs survived the dropped connection")
			}
			if st := s.Stats(); st.Drops != 1 {
				t.Errorf("drops %d", st.Drops)
			}
			if got := runningBody(t, s, "bgp"); got != tc.wantBody {
				t.Errorf("running config:\n%s\nwant:\n%s", got, tc.wantBody)
			}
			ss := s.Sessions()
			if tc.session {
				if len(ss) != 1 || len(ss[0].Commands) != tc.queued || ss[0].Name != "fr-plan" {
					t.Fatalf("sessions after drop: %+v", ss)
				}
			} else if len(ss) != 0 {
				t.Fatalf("sessions: %+v", ss)
			}
			// The fault fired once: a new connection works, and a client
			// cleaning up finds and aborts the stale session.
			d2 := scrapliDriver(t, s, transport.StandardTransport)
			if tc.session {
				addSessionPriv(d2, "fr-plan")
				r, err := d2.SendConfig("abort", opoptions.WithPrivilegeLevel("configuration-session"))
				if err != nil || r.Failed != nil {
					t.Fatalf("abort: %v %v", err, r.Failed)
				}
			}
			m, err := d2.SendConfigs(planLines)
			if err != nil || m.Failed != nil {
				t.Fatalf("after reconnect: %v %v", err, m.Failed)
			}
			if len(s.Sessions()) != 0 {
				t.Errorf("sessions left: %+v", s.Sessions())
			}
			if body := runningBody(t, s, "bgp"); !strings.Contains(body, "neighbor 192.168.9.194\n    remote-as 63552") {
				t.Errorf("after reconnect:\n%s", body)
			}
		})
	}
}

// TestFaultRejectLine rejects a line in the middle of a plan.
func TestFaultRejectLine(t *testing.T) {
	match := regexp.MustCompile(`^description `)
	cases := []struct {
		name        string
		session     bool
		atEntry     bool
		sessionOnly bool
		wantReply   string // in the reply to the description line
		verify      string // in the reply to verify
		wantBody    string // running config after commit (or the plan in terminal mode)
	}{
		{name: "configure terminal", wantReply: "ERROR: no descriptions today",
			wantBody: "feature bgp\n\nrouter bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551\n  neighbor 192.168.9.194\n    remote-as 63552"},
		{name: "session, failing at verify", session: true,
			verify:   "Verification Failed\nERROR: no descriptions today\nFailed command: 0004  description orchestrator",
			wantBody: "feature bgp"},
		{name: "session, refused when typed", session: true, atEntry: true, wantReply: "ERROR: no descriptions today",
			verify:   "Verification Successful",
			wantBody: "feature bgp\n\nrouter bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551\n  neighbor 192.168.9.194\n    remote-as 63552"},
		{name: "session-only rule, configure terminal", sessionOnly: true,
			wantBody: "feature bgp\n\nrouter bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551\n" +
				"    description orchestrator:fabric-reconciler.haystack k8c1m0\n  neighbor 192.168.9.194\n    remote-as 63552"},
		{name: "session-only rule, session", session: true, sessionOnly: true, atEntry: true, wantReply: "ERROR: no descriptions today",
			verify:   "Verification Successful",
			wantBody: "feature bgp\n\nrouter bgp 63500\n  neighbor 192.168.9.193\n    remote-as 63551\n  neighbor 192.168.9.194\n    remote-as 63552"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, sessionsTakeBGP)
			s.SetFaults(Faults{RejectLines: []RejectRule{{Match: match, Reply: "ERROR: no descriptions today",
				AtEntry: tc.atEntry, SessionOnly: tc.sessionOnly}}})
			d := scrapliDriver(t, s, transport.StandardTransport)
			var opts []util.Option
			if tc.session {
				addSessionPriv(d, "fr-plan")
				opts = append(opts, opoptions.WithPrivilegeLevel("configuration-session"))
			}
			m, err := d.SendConfigs(planLines, opts...)
			if err != nil {
				t.Fatal(err)
			}
			desc := m.Responses[3]
			if tc.wantReply != "" {
				// "ERROR:" is in the platform's failed-when-contains list.
				if !strings.Contains(desc.Result, tc.wantReply) || desc.Failed == nil {
					t.Errorf("description reply %q failed=%v", desc.Result, desc.Failed)
				}
			} else if desc.Result != "" || desc.Failed != nil {
				t.Errorf("description line answered %q", desc.Result)
			}
			if tc.session {
				v, err := d.SendConfig("verify", opts...)
				if err != nil || !strings.Contains(v.Result, tc.verify) {
					t.Fatalf("verify: %v %q", err, v.Result)
				}
				final := "commit"
				if v.Failed != nil {
					final = "abort"
				}
				if _, err := d.SendConfig(final, opts...); err != nil {
					t.Fatal(err)
				}
			}
			if got := runningBody(t, s, "bgp"); got != tc.wantBody {
				t.Errorf("running config:\n%s\nwant:\n%s", got, tc.wantBody)
			}
		})
	}
}

// TestFaultCommandDelay slows every reply down: a client with a shorter
// operation timeout times out.
func TestFaultCommandDelay(t *testing.T) {
	s := startSim(t, nil)
	d := scrapliDriver(t, s, transport.StandardTransport, options.WithTimeoutOps(100*time.Millisecond))
	s.SetFaults(Faults{CommandDelay: 400 * time.Millisecond})
	_, err := d.SendCommand("show version")
	if !errors.Is(err, util.ErrTimeoutError) {
		t.Errorf("got %v, want a scrapligo timeout", err)
	}
	s.SetFaults(Faults{})
}

// TestConfigHistory: with RecordConfigs, every line that changed the
// running configuration leaves a version, the last the current one, a drop
// in the middle included; shows and Configure's setup are versions only
// when they change something, and ResetLog starts again from the current
// configuration.
func TestConfigHistory(t *testing.T) {
	s := startSim(t, func(o *Options) { o.RecordConfigs = true })
	if h := s.ConfigHistory(); len(h) != 1 || !strings.Contains(h[0], "feature bgp") {
		t.Fatalf("history at start: %q", h)
	}
	if err := s.Configure("ip prefix-list HAND seq 5 permit 10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	s.ResetLog()
	d := scrapliDriver(t, s, transport.StandardTransport, options.WithTimeoutOps(3*time.Second))
	if _, err := d.SendCommand("show running-config bgp"); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(Faults{DropAfterConfigLines: 4})
	if _, err := d.SendConfigs(planLines); err == nil {
		t.Fatal("SendConfigs survived the dropped connection")
	}
	h := s.ConfigHistory()
	// Before; router bgp 63500; its neighbor; remote-as. The description
	// line dropped the connection after it ran: a fourth change.
	if len(h) != 5 {
		t.Fatalf("%d versions:\n%s", len(h), strings.Join(h, "\n=====\n"))
	}
	if !strings.Contains(h[0], "ip prefix-list HAND") || strings.Contains(h[0], "router bgp") {
		t.Errorf("first version:\n%s", h[0])
	}
	if !strings.Contains(h[3], "remote-as 63551") || strings.Contains(h[3], "description") || !strings.Contains(h[4], "description") {
		t.Errorf("versions 3 and 4:\n%s\n=====\n%s", h[3], h[4])
	}
	body, err := s.ConfigBody("bgp", "rpm")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if l != "!" && !strings.Contains(h[4], l) {
			t.Errorf("the last version lacks %q", l)
		}
	}
}

// TestFaultOtherUser: another user's lines land right after the Nth line a
// client typed, between two of the client's lines.
func TestFaultOtherUser(t *testing.T) {
	s := startSim(t, nil)
	d := scrapliDriver(t, s, transport.StandardTransport)
	s.SetFaults(Faults{OtherUser: OtherUser{AfterConfigLines: 3, Lines: []string{"router bgp 63500", "neighbor 10.9.9.9", "remote-as 65009"}}})
	if _, err := d.SendConfigs(planLines); err != nil {
		t.Fatal(err)
	}
	body := runningBody(t, s, "bgp")
	for _, want := range []string{"neighbor 10.9.9.9\n    remote-as 65009", "neighbor 192.168.9.194\n    remote-as 63552"} {
		if !strings.Contains(body, want) {
			t.Errorf("running config lacks %q:\n%s", want, body)
		}
	}
	var users []string
	for _, e := range s.Log() {
		users = append(users, e.User)
	}
	if strings.Contains(strings.Join(users, " "), "operator") {
		t.Errorf("the other user's lines are in the client's log: %v", users)
	}
}

// TestFaultWarnLines: a line matching a WarnLines rule is applied and
// answered with the rule's reply.
func TestFaultWarnLines(t *testing.T) {
	s := startSim(t, nil)
	d := scrapliDriver(t, s, transport.StandardTransport)
	const warn = "% ISSU will be affected if hold time is less than system switchover time (8 seconds)"
	s.SetFaults(Faults{WarnLines: []RejectRule{{Match: regexp.MustCompile(`^remote-as 63552$`), Reply: warn}}})
	r, err := d.SendConfigs(planLines)
	if err != nil {
		t.Fatal(err)
	}
	last := r.Responses[len(r.Responses)-1]
	if strings.TrimSpace(last.Result) != warn {
		t.Errorf("reply %q, want the warning", last.Result)
	}
	if body := runningBody(t, s, "bgp"); !strings.Contains(body, "neighbor 192.168.9.194\n    remote-as 63552") {
		t.Errorf("the warned line was not applied:\n%s", body)
	}
}
