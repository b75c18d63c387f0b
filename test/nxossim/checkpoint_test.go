package nxossim

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/transport"
)

// recordedBlocks splits a replies file into command -> reply blocks (the
// first block of each command).
func recordedBlocks(t *testing.T, name string, commands ...string) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	lines := strings.Split(readTestdata(t, name), "\n")
	isCmd := func(l string) bool {
		for _, c := range commands {
			if strings.HasPrefix(l, c) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(lines); i++ {
		if !isCmd(lines[i]) {
			continue
		}
		cmd := lines[i]
		var reply []string
		for i+1 < len(lines) && !isCmd(lines[i+1]) && !strings.HasPrefix(lines[i+1], "#") && lines[i+1] != "" {
			i++
			reply = append(reply, lines[i])
		}
		key := strings.Fields(cmd)[0]
		if strings.HasPrefix(cmd, "show checkpoint summary") {
			key = "summary"
		}
		out[key] = append(out[key], reply)
	}
	return out
}

// TestGoldenCheckpointReplies compares the checkpoint replies and the
// show checkpoint summary layout with the public recordings.
func TestGoldenCheckpointReplies(t *testing.T) {
	rec := recordedBlocks(t, "checkpoint_replies.txt", "checkpoint ", "show checkpoint summary", "rollback ")
	s := startSim(t, func(o *Options) { o.Now = fixedClock() })
	rt := openTerm(t, s, 255)
	reply := func(line string) []string {
		out := strings.TrimSuffix(rt.run(line, "leaf201# "), "leaf201# ")
		out = strings.TrimPrefix(out, line+"\n")
		return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}

	if got, want := reply("checkpoint Checkpoint-1 description *** Testing the checkpoint feature ***"), rec["checkpoint"][0]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("checkpoint: %q, recorded %q", got, want)
	}
	got := reply("show checkpoint summary")
	want := rec["summary"][0]
	if len(got) != len(want) {
		t.Fatalf("summary:\n%s\nrecorded:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Same words, own values: numbers, sizes and times differ.
	pattern := []*regexp.Regexp{
		regexp.MustCompile(`^User Checkpoint Summary$`),
		regexp.MustCompile(`^-{80}$`),
		regexp.MustCompile(`^1\) Checkpoint-1:$`),
		regexp.MustCompile(`^Created by admin$`),
		regexp.MustCompile(`^Created at (.+)$`),
		regexp.MustCompile(`^Size is \d{1,3}(,\d{3})* bytes$`),
		regexp.MustCompile(`^Description: \*\*\* Testing the checkpoint feature \*\*\*$`),
	}
	for i, re := range pattern {
		if !re.MatchString(want[i]) {
			t.Fatalf("recording line %d %q does not match %s (fix the test)", i, want[i], re)
		}
		if !re.MatchString(got[i]) {
			t.Errorf("summary line %d %q does not match the recorded %q", i, got[i], want[i])
		}
	}
	// Both recorded times parse with the emulator's layout, and it prints
	// the fixed clock with it.
	for _, block := range rec["summary"] {
		for _, l := range block {
			if ts, ok := strings.CutPrefix(l, "Created at "); ok {
				if _, err := time.Parse("Mon, 15:04:05 02 Jan 2006", ts); err != nil {
					t.Errorf("recorded time %q: %v", ts, err)
				}
			}
		}
	}
	if got[4] != "Created at Tue, 17:22:38 05 Mar 2024" {
		t.Errorf("time line %q", got[4])
	}

	// The rollback lines napalm parses, for a rollback that changes nothing.
	rb := strings.Join(reply("rollback running-config checkpoint Checkpoint-1"), "\n")
	for _, w := range rec["rollback"][0] {
		if !strings.Contains(rb, w) {
			t.Errorf("rollback reply lacks the recorded %q:\n%s", w, rb)
		}
	}
}

// TestCheckpointRollback walks the checkpoint commands and checks what each
// does to the running configuration and the checkpoint list.
func TestCheckpointRollback(t *testing.T) {
	type step struct {
		line   string
		reply  []string // substrings of the reply
		failed bool
		check  func(t *testing.T, s *Server)
	}
	base := "feature bgp\n\nrouter bgp 63500\n  neighbor 10.9.9.9\n    remote-as 65009"
	bgpIs := func(want string) func(t *testing.T, s *Server) {
		return func(t *testing.T, s *Server) {
			t.Helper()
			if got := runningBody(t, s, "bgp"); got != want {
				t.Errorf("running config:\n%s\nwant:\n%s", got, want)
			}
		}
	}
	names := func(want ...string) func(t *testing.T, s *Server) {
		return func(t *testing.T, s *Server) {
			t.Helper()
			var got []string
			for _, cp := range s.Checkpoints() {
				n := cp.Name
				if cp.System {
					n = "system:" + n
				}
				got = append(got, n)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("checkpoints %v, want %v", got, want)
			}
		}
	}
	ten := func() []step {
		var out []step
		for i := 1; i <= 9; i++ {
			out = append(out, step{line: fmt.Sprintf("checkpoint c%d", i), reply: []string{"Done"}})
		}
		return out
	}
	silent := func(t *testing.T, s *Server) {
		t.Helper()
		log := s.Log()
		if e := log[len(log)-1]; e.Reply != "" || e.Failed {
			t.Errorf("%q answered %q", e.Line, e.Reply)
		}
	}
	descIs := func(name, want string) func(t *testing.T, s *Server) {
		return func(t *testing.T, s *Server) {
			t.Helper()
			for _, cp := range s.Checkpoints() {
				if cp.Name == name && cp.Description != want {
					t.Errorf("%s: description %q, want %q", name, cp.Description, want)
				}
			}
		}
	}
	cases := []struct {
		name      string
		overwrite bool // Options.CheckpointOverwrite
		steps     []step
	}{
		{"rollback undoes configure terminal", false, []step{
			{line: "checkpoint fabric-reconciler-haystack description orchestrator:fabric-reconciler.haystack", reply: []string{".....Done"}},
			{line: "configure terminal"},
			{line: "router bgp 63500"},
			{line: "neighbor 192.168.9.193 remote-as 63551"},
			{line: "ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.15.192/26"},
			{line: "end", check: bgpIs(base + "\n  neighbor 192.168.9.193\n    remote-as 63551")},
			{line: "rollback running-config checkpoint fabric-reconciler-haystack", reply: []string{"Executing Rollback Patch", "Rollback completed successfully."},
				check: func(t *testing.T, s *Server) {
					bgpIs(base)(t, s)
					if rpm := runningBody(t, s, "rpm"); rpm != "" {
						t.Errorf("prefix-list survived the rollback: %q", rpm)
					}
				}},
			{line: "show checkpoint summary", reply: []string{"1) fabric-reconciler-haystack:", "Description: orchestrator:fabric-reconciler.haystack"},
				check: names("fabric-reconciler-haystack")},
			{line: "no checkpoint fabric-reconciler-haystack", check: names()},
			{line: "show checkpoint summary", reply: []string{"User Checkpoint Summary"}},
		}},
		{"rollback from a configuration mode, patch empty", false, []step{
			{line: "checkpoint cp1", reply: []string{"Done"}},
			{line: "configure terminal"},
			{line: "rollback running-config checkpoint cp1 atomic", reply: []string{"Rollback Patch is Empty"}, check: bgpIs(base)},
		}},
		{"names are unique", false, []step{
			{line: "checkpoint cp1 description first", reply: []string{"Done"}},
			{line: "checkpoint cp1 description second", reply: []string{"ERROR: Checkpoint name cp1 is already in use"}, failed: true,
				check: descIs("cp1", "first")},
		}},
		{"a switch that overwrites", true, []step{
			{line: "checkpoint cp1 description first", reply: []string{"Done"}},
			{line: "checkpoint cp2", reply: []string{"Done"}},
			{line: "checkpoint cp1 description second", reply: []string{".....Done"}, check: func(t *testing.T, s *Server) {
				names("cp2", "cp1")(t, s)
				descIs("cp1", "second")(t, s)
			}},
		}},
		{"default names", false, []step{
			{line: "checkpoint", reply: []string{"Done"}},
			{line: "checkpoint description second", reply: []string{"Done"}, check: names("user-checkpoint-1", "user-checkpoint-2")},
		}},
		{"at most ten user checkpoints", false, append(ten(), []step{
			{line: "checkpoint c10", reply: []string{"Done"}},
			{line: "checkpoint c11", reply: []string{"ERROR: Maximum number of user checkpoints (10) reached"}, failed: true},
			{line: "no checkpoint c1"},
			{line: "checkpoint c11", reply: []string{"Done"}},
		}...)},
		{"terminal dont-ask, as clients send it around checkpoints", false, []step{
			{line: "terminal dont-ask", check: silent},
			{line: "checkpoint cp1", reply: []string{".....Done"}},
			{line: "no checkpoint cp1", check: silent},
			{line: "no terminal dont-ask", check: silent},
		}},
		{"unknown checkpoint", false, []step{
			{line: "rollback running-config checkpoint nope", reply: []string{"ERROR: Checkpoint nope does not exist"}, failed: true},
			{line: "no checkpoint nope", reply: []string{"ERROR: No user checkpoint named nope"}, failed: true},
			{line: "show checkpoint nope", reply: []string{"ERROR: Checkpoint nope does not exist"}, failed: true},
		}},
		{"a failing rollback changes nothing", false, []step{
			{line: "checkpoint cp1", reply: []string{"Done"}},
			{line: "configure terminal"},
			{line: "router bgp 63500"},
			{line: "neighbor 192.168.9.193 remote-as 63551"},
			{line: "end", check: func(t *testing.T, s *Server) { s.SetFaults(Faults{FailNextRollback: "ERROR: patch failed"}) }},
			{line: "rollback running-config checkpoint cp1", reply: []string{"ERROR: patch failed", "Rollback failed"}, failed: true,
				check: bgpIs(base + "\n  neighbor 192.168.9.193\n    remote-as 63551")},
			{line: "rollback running-config checkpoint cp1", reply: []string{"Rollback completed successfully."}, check: bgpIs(base)},
		}},
		{"show checkpoint prints the saved configuration", false, []step{
			{line: "checkpoint cp1"},
			{line: "configure terminal"},
			{line: "no router bgp 63500"},
			{line: "end"},
			{line: "show checkpoint cp1", reply: []string{"Name: cp1", "!Command: Checkpoint cmd vdc 1", "version 9.3(8) Bios:version",
				"hostname leaf201", "router bgp 63500\n  neighbor 10.9.9.9\n    remote-as 65009"}},
		}},
		{"no feature bgp makes a system checkpoint", false, []step{
			{line: "configure terminal"},
			{line: "no feature bgp", check: names("system:system-fm-bgp")},
			{line: "end"},
			{line: "show checkpoint summary system", reply: []string{"System Checkpoint Summary", "1) system-fm-bgp:", "Description: Created by Feature Manager."}},
			{line: "rollback running-config checkpoint system-fm-bgp", reply: []string{"Rollback completed successfully."}, check: bgpIs(base)},
			{line: "clear checkpoint database", check: names()},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, func(o *Options) {
				o.StartupConfig = append(o.StartupConfig, "router bgp 63500", "neighbor 10.9.9.9", "remote-as 65009")
				o.CheckpointOverwrite = tc.overwrite
			})
			rt := openTerm(t, s, 255)
			for _, st := range tc.steps {
				before := len(s.Log())
				out := rt.run(st.line, "# ")
				log := s.Log()
				if len(log) != before+1 {
					t.Fatalf("%q: %d log entries", st.line, len(log)-before)
				}
				if e := log[len(log)-1]; e.Failed != st.failed {
					t.Errorf("%q: failed=%v, want %v: %q", st.line, e.Failed, st.failed, out)
				}
				for _, w := range st.reply {
					if !strings.Contains(out, w) {
						t.Errorf("%q: reply lacks %q:\n%s", st.line, w, out)
					}
				}
				if st.check != nil {
					st.check(t, s)
				}
			}
		})
	}
}

// TestScrapligoCheckpoint runs the checkpoint commands through scrapligo's
// cisco_nxos platform, unmodified: replies of successful commands are not
// flagged, a failed rollback is.
func TestScrapligoCheckpoint(t *testing.T) {
	s := startSim(t, nil)
	d := scrapliDriver(t, s, transport.StandardTransport)
	for _, c := range []struct {
		cmd    string
		want   string
		failed bool
	}{
		{"checkpoint fr description orchestrator:fabric-reconciler.haystack", "Done", false},
		{"show checkpoint summary", "1) fr:", false},
		{"rollback running-config checkpoint fr", "Rollback Patch is Empty", false},
		{"checkpoint fr", "ERROR: Checkpoint name fr is already in use", true},
		{"no checkpoint fr", "", false},
		{"rollback running-config checkpoint fr", "ERROR: Checkpoint fr does not exist", true},
	} {
		r, err := d.SendCommand(c.cmd)
		if err != nil {
			t.Fatalf("%s: %v", c.cmd, err)
		}
		if (r.Failed != nil) != c.failed || !strings.Contains(r.Result, c.want) {
			t.Errorf("%s: failed=%v result=%q, want failed=%v with %q", c.cmd, r.Failed, r.Result, c.failed, c.want)
		}
	}
}

// TestSessionRefusesUndocumentedFeatures: by default a configuration
// session takes none of the emulated commands (Session Manager is
// documented for ACL and QoS only): each is answered like an unknown
// command and not queued; exec commands and the session controls work.
// With SessionAllFeatures the same lines are queued.
func TestSessionRefusesUndocumentedFeatures(t *testing.T) {
	// Prompt "leaf201(config-s)# " is 19 characters.
	cases := []struct {
		line string
		col  int // caret column, prompt included
	}{
		{"router bgp 63500", 19 + 4},                         // "rout" continues routing-context (exec)
		{"ip prefix-list PL permit 10.0.0.0/8", 19 + 4},      // "p" continues ip pim
		{"ipv6 prefix-list PL permit 2001:db8::/32", 19 + 6}, // and ipv6 pim
		{"route-map RM permit 10", 19 + 4},
		{"feature bgp", 19 + 1}, // "f" continues find (exec)
		{"hostname x", 19 + 1},  // "h" continues hardware
		{"no router bgp 63500", 19 + 3},
	}
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("SessionAllFeatures=%v", all), func(t *testing.T) {
			t.Parallel()
			s := startSim(t, func(o *Options) { o.SessionAllFeatures = all })
			rt := openTerm(t, s, 255)
			rt.run("configure session s1", "(config-s)# ")
			for _, c := range cases {
				out := rt.run(c.line, "# ")
				if all {
					if strings.Contains(out, "%") {
						t.Errorf("%q refused: %q", c.line, out)
					}
					rt.run("configure session s1", "(config-s)# ")
					continue
				}
				if want := c.line + "\n" + caret(c.col, msgInvalid) + "leaf201(config-s)# "; out != want {
					t.Errorf("%q:\n got %q\nwant %q", c.line, out, want)
				}
			}
			if out := rt.run("show hostname", "(config-s)# "); !strings.Contains(out, "leaf201\n") {
				t.Errorf("show in a session: %q", out)
			}
			ss := s.Sessions()
			if len(ss) != 1 {
				t.Fatalf("sessions %+v", ss)
			}
			if queued := len(ss[0].Commands); (queued > 0) != all {
				t.Errorf("%d lines queued: %q", queued, ss[0].Commands)
			}
			if out := rt.run("abort", "leaf201# "); strings.Contains(out, "%") {
				t.Errorf("abort: %q", out)
			}
		})
	}
}

// TestFaultRejectExec: an exec command matching a RejectExec rule is
// answered with the rule's reply and not run; other commands run.
func TestFaultRejectExec(t *testing.T) {
	s := startSim(t, nil)
	s.SetFaults(Faults{RejectExec: []RejectRule{{Match: regexp.MustCompile(`^checkpoint `), Reply: "ERROR: busy"}}})
	rt := openTerm(t, s, 255)
	if out := rt.run("checkpoint cp1", "leaf201# "); !strings.Contains(out, "ERROR: busy") {
		t.Errorf("reply %q", out)
	}
	if len(s.Checkpoints()) != 0 {
		t.Error("the rejected checkpoint was made")
	}
	if out := rt.run("show hostname", "leaf201# "); !strings.Contains(out, "leaf201\n") {
		t.Errorf("show hostname: %q", out)
	}
	if e := s.Log()[0]; !e.Failed || s.Log()[1].Failed {
		t.Errorf("log %+v", s.Log())
	}
}
