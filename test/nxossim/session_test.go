package nxossim

import (
	"regexp"
	"strings"
	"testing"
)

// TestSessionAtomicity checks that a configuration session touches the
// running configuration only at a successful commit, and then all at once.
func TestSessionAtomicity(t *testing.T) {
	const sp = "leaf201(config-s"
	type step struct {
		conn   int    // which of two terminals types the line
		line   string // "" with check set: only check
		prompt string // prompt suffix to wait for
		reply  string // substring of the reply ("" = no check)
		check  func(t *testing.T, s *Server)
	}
	bgpHas := func(want ...string) func(t *testing.T, s *Server) {
		return func(t *testing.T, s *Server) {
			t.Helper()
			body := runningBody(t, s, "bgp")
			for _, w := range want {
				if strings.HasPrefix(w, "!") {
					if strings.Contains(body, w[1:]) {
						t.Errorf("running config has %q:\n%s", w[1:], body)
					}
				} else if !strings.Contains(body, w) {
					t.Errorf("running config lacks %q:\n%s", w, body)
				}
			}
		}
	}
	sessions := func(n int) func(t *testing.T, s *Server) {
		return func(t *testing.T, s *Server) {
			t.Helper()
			if got := len(s.Sessions()); got != n {
				t.Errorf("%d sessions, want %d: %+v", got, n, s.Sessions())
			}
		}
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"lines apply only at commit", []step{
			{line: "configure session plan1", prompt: sp + ")# ", reply: "Config Session started, Session ID is 1"},
			{line: "router bgp 63500", prompt: "-router)# "},
			{line: "neighbor 192.168.9.193 remote-as 63551", prompt: "-neighbor)# "},
			{line: "neighbor 192.168.9.194 remote-as 63552", prompt: "-neighbor)# ", check: bgpHas("!192.168.9.193", "!192.168.9.194")},
			{line: "commit", prompt: "leaf201# ", reply: "Commit Successful", check: bgpHas("neighbor 192.168.9.193", "neighbor 192.168.9.194")},
			{check: sessions(0)},
		}},
		{"verify failure keeps everything out", []step{
			{line: "configure terminal", prompt: "(config)# "},
			{line: "router bgp 63500", prompt: "-router)# "},
			{line: "neighbor 10.0.0.1 remote-as 1", prompt: "-neighbor)# "},
			{line: "end", prompt: "leaf201# "},
			{line: "configure session plan2", prompt: sp + ")# "},
			{line: "router bgp 63500", prompt: "-router)# "},
			{line: "no neighbor 10.0.0.1", prompt: "-router)# "},
			{line: "neighbor 192.168.9.193", prompt: "-neighbor)# "},
			{line: "local-as 63500", prompt: "-neighbor)# "}, // accepted now, fails at verify
			{line: "remote-as 63551", prompt: "-neighbor)# "},
			{line: "verify", prompt: "-neighbor)# ", reply: "Verification Failed\nERROR: local-as cannot be the same as the router's AS 63500\nFailed command: 0004  local-as 63500"},
			{line: "commit", prompt: "-neighbor)# ", reply: "Commit Failed\nERROR: local-as", check: bgpHas("neighbor 10.0.0.1", "!192.168.9.193")},
			{line: "show configuration session status plan2", prompt: "-neighbor)# ", reply: "Last Action           : Commit\nLast Action Status    : Failed"},
			{line: "abort", prompt: "leaf201# ", check: bgpHas("neighbor 10.0.0.1", "!192.168.9.193")},
			{check: sessions(0)},
		}},
		{"abort discards", []step{
			{line: "configure session plan3", prompt: sp + ")# "},
			{line: "ip prefix-list FR-IN permit 172.27.0.0/16 le 26", prompt: sp + ")# "},
			{line: "abort", prompt: "leaf201# "},
			{check: func(t *testing.T, s *Server) {
				if body := runningBody(t, s, "rpm"); body != "" {
					t.Errorf("rpm: %q", body)
				}
			}},
			{check: sessions(0)},
		}},
		{"changes made meanwhile in configure terminal are kept", []step{
			{line: "configure session plan4", prompt: sp + ")# "},
			{line: "router bgp 63500", prompt: "-router)# "},
			{line: "neighbor 192.168.9.193 remote-as 63551", prompt: "-neighbor)# "},
			{conn: 1, line: "configure terminal", prompt: "(config)# "},
			{conn: 1, line: "router bgp 63500", prompt: "-router)# "},
			{conn: 1, line: "neighbor 10.77.0.1 remote-as 65077", prompt: "-neighbor)# ", check: bgpHas("neighbor 10.77.0.1", "!192.168.9.193")},
			{line: "commit", prompt: "leaf201# ", check: bgpHas("neighbor 10.77.0.1", "neighbor 192.168.9.193")},
		}},
		{"a session outlives its connection", []step{
			{line: "configure session plan5", prompt: sp + ")# "},
			{line: "router bgp 63500", prompt: "-router)# "},
			{line: "neighbor 192.168.9.195 remote-as 63553", prompt: "-neighbor)# "},
			{line: "CLOSE"},
			{conn: 1, line: "show configuration session plan5", prompt: "leaf201# ",
				reply: "config session name plan5\n0001  router bgp 63500\n0002  neighbor 192.168.9.195 remote-as 63553\n"},
			{conn: 1, line: "configure session plan5", prompt: sp + ")# ", reply: "Session ID is 1"},
			{conn: 1, line: "commit", prompt: "leaf201# ", check: bgpHas("neighbor 192.168.9.195")},
		}},
		{"feature bgp inside the session", []step{
			{line: "configure terminal", prompt: "(config)# "},
			{line: "no feature bgp", prompt: "(config)# "},
			{line: "end", prompt: "leaf201# "},
			{line: "configure session plan6", prompt: sp + ")# "},
			{line: "router bgp 1", prompt: sp + ")# ", reply: "% Invalid command at '^' marker."},
			{line: "feature bgp", prompt: sp + ")# "},
			{line: "router bgp 63500", prompt: "-router)# ", check: bgpHas("!feature bgp")},
			{line: "commit", prompt: "leaf201# ", check: bgpHas("feature bgp\n\nrouter bgp 63500")},
		}},
		{"failed commit fault leaves the running config", []step{
			{line: "configure session plan7", prompt: sp + ")# "},
			{line: "router bgp 63500", prompt: "-router)# "},
			{line: "FAILCOMMIT"},
			{line: "commit", prompt: "-router)# ", reply: "Commit Failed\nERROR: TCAM resources exhausted", check: bgpHas("!router bgp")},
			{line: "commit", prompt: "leaf201# ", reply: "Commit Successful", check: bgpHas("router bgp 63500")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, sessionsTakeBGP)
			terms := []*rawTerm{openTerm(t, s, 0), openTerm(t, s, 0)}
			for i, st := range tc.steps {
				switch st.line {
				case "":
				case "CLOSE":
					_ = terms[st.conn].c.Close()
					<-terms[st.conn].done
				case "FAILCOMMIT":
					s.SetFaults(Faults{FailNextCommit: "ERROR: TCAM resources exhausted"})
				default:
					out := terms[st.conn].run(st.line, st.prompt)
					if st.reply != "" && !strings.Contains(out, st.reply) {
						t.Fatalf("step %d %q: reply %q lacks %q", i, st.line, out, st.reply)
					}
					if strings.Contains(out, "%") && !strings.Contains(st.reply, "%") {
						t.Fatalf("step %d %q: unexpected error %q", i, st.line, out)
					}
				}
				if st.check != nil {
					st.check(t, s)
				}
			}
		})
	}
}

// TestSessionShowOutputs checks show configuration session without a name
// and the summary with several sessions and owners.
func TestSessionShowOutputs(t *testing.T) {
	s := startSim(t, func(o *Options) { o.Now = fixedClock(); sessionsTakeBGP(o) })
	if out, _ := s.Show("show configuration session"); out != "" {
		t.Errorf("no sessions: %q", out)
	}
	rt := openTerm(t, s, 0)
	rt.run("configure session a", "(config-s)# ")
	rt.run("hostname x1", "(config-s)# ")
	rt.run("end", "leaf201# ")
	rt.run("configure session b", "(config-s)# ")
	rt.run("end", "leaf201# ")
	out, err := s.Show("show configuration session")
	if err != nil {
		t.Fatal(err)
	}
	want := "config session name a\n0001  hostname x1\nconfig session name b\nNumber of active configuration sessions = 2\n"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	out, _ = s.Show("show configuration session summary")
	rows := regexp.MustCompile(`(?m)^(a|b) {23}admin {19}17:22:38 UTC Mar 05 2024$`).FindAllString(out, -1)
	if len(rows) != 2 {
		t.Errorf("summary rows: %q", out)
	}
	if _, err := s.Show("show configuration session nosuch"); err == nil {
		t.Error("unknown session: no error")
	}
}
