package nxossim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Configuration sessions (NX-OS Session Manager).
//
// What the emulator does, and why:
//   - `configure session <name>` creates the session or re-enters it. A
//     session outlives the SSH connection that opened it (NX-OS keeps
//     sessions until commit or abort; they are lost only on reload), so a
//     client that reconnects after a drop finds its queued lines still there.
//   - Each line is checked by the parser when typed, as NX-OS's CLI parser
//     does in every mode: a syntax error is answered at once and the line is
//     not queued. Checks that need the configuration (the "validation" and
//     "verification" phases of the Session Manager documentation) run at
//     `verify` and again at `commit`, against a copy of the running
//     configuration with all queued lines applied in order.
//   - `commit` applies the copy in one step, or nothing (NX-OS documents
//     commit as atomic, reverting on failure), then leaves configuration
//     mode. A failed commit keeps the session and its mode.
//   - `abort` discards the session and leaves configuration mode.
//
// The success replies ("Config Session started, Session ID is N",
// "Verification Successful", "Commit Successful") and the layouts of `show
// configuration session [summary|status]` follow public recordings; the
// failure replies ("Verification Failed", "Commit Failed" followed by an
// ERROR: line and the failing command) are the emulator's own wording.

const maxSessions = 32 // NX-OS's documented limit

type queuedLine struct {
	text    string
	path    []frame
	apply   applyFn
	feature *bool
	reject  string // set by a RejectRule fault: verify/commit fail here
}

type cfgSession struct {
	name       string
	id         int
	owner      string
	created    time.Time
	lines      []queuedLine
	lastAction string
	lastStatus string
	lastReason string
	lastTime   time.Time
}

// SessionInfo describes a configuration session, for tests.
type SessionInfo struct {
	Name     string
	ID       int
	Owner    string
	Created  time.Time
	Commands []string
}

func hConfigSession(sh *shell, a args) *cmd {
	name := a["name"]
	return show(func(sh *shell) string {
		s := sh.srv
		cs := s.sessions[name]
		if cs == nil {
			if len(s.sessions) >= maxSessions {
				sh.failed = true
				return fmt.Sprintf("ERROR: Maximum number of configuration sessions (%d) reached\n", maxSessions)
			}
			s.nextSessionID++
			cs = &cfgSession{name: name, id: s.nextSessionID, owner: sh.user, created: sh.now, lastAction: "None", lastStatus: "Success", lastReason: "-NA-"}
			s.sessions[name] = cs
			s.stats.SessionsStarted++
		}
		sh.setFrames([]frame{{kind: fConfig}})
		sh.sess = cs
		return fmt.Sprintf("Config Session started, Session ID is %d\n"+
			"Enter configuration commands, one per line. End with CNTL/Z.\n", cs.id)
	})
}

// candidate applies a session's lines to a copy of the running
// configuration. On failure it returns the reply lines naming the reason
// and the command.
func (s *Server) candidate(cs *cfgSession, now time.Time) (*Config, string) {
	c := s.running.Clone()
	for i, q := range cs.lines {
		reason := q.reject
		if reason == "" {
			if err := q.apply(c, q.path, now); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			return nil, fmt.Sprintf("%s\nFailed command: %04d  %s\n", reason, i+1, q.text)
		}
	}
	return c, ""
}

func (cs *cfgSession) record(action, status, reason string, now time.Time) {
	cs.lastAction, cs.lastStatus, cs.lastReason, cs.lastTime = action, status, reason, now
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func hVerify(sh *shell, a args) *cmd {
	return show(func(sh *shell) string {
		s, cs := sh.srv, sh.sess
		s.stats.Verifies++
		if _, fail := s.candidate(cs, sh.now); fail != "" {
			sh.failed = true
			cs.record("Verify", "Failed", firstLine(fail), sh.now)
			return "Verification Failed\n" + fail
		}
		cs.record("Verify", "Success", "-NA-", sh.now)
		return "Verification Successful\n"
	})
}

func hCommit(sh *shell, a args) *cmd {
	return show(func(sh *shell) string {
		s, cs := sh.srv, sh.sess
		c, fail := s.candidate(cs, sh.now)
		if fail == "" && s.faults.FailNextCommit != "" {
			fail = s.faults.FailNextCommit + "\n"
			s.faults.FailNextCommit = ""
		}
		if fail != "" {
			s.stats.CommitFailures++
			sh.failed = true
			cs.record("Commit", "Failed", firstLine(fail), sh.now)
			return "Commit Failed\n" + fail
		}
		s.stats.Commits++
		if len(cs.lines) > 0 {
			s.running = c
			s.lastChange = sh.now
		}
		delete(s.sessions, cs.name)
		sh.setFrames(nil)
		return "Commit Successful\n"
	})
}

func hAbort(sh *shell, a args) *cmd {
	return show(func(sh *shell) string {
		s := sh.srv
		s.stats.Aborts++
		delete(s.sessions, sh.sess.name)
		sh.setFrames(nil)
		return ""
	})
}

func (s *Server) sortedSessions() []*cfgSession {
	out := make([]*cfgSession, 0, len(s.sessions))
	for _, cs := range s.sessions {
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (cs *cfgSession) contents() string {
	var b strings.Builder
	b.WriteString("config session name " + cs.name + "\n")
	for i, q := range cs.lines {
		fmt.Fprintf(&b, "%04d  %s\n", i+1, q.text)
	}
	return b.String()
}

func sessionTime(t time.Time) string {
	return t.UTC().Format("15:04:05 UTC Jan 02 2006")
}

func hShowSession(sh *shell, a args) *cmd {
	what, name := a["what"], a["name"]
	return show(func(sh *shell) string {
		s := sh.srv
		all := s.sortedSessions()
		count := fmt.Sprintf("Number of active configuration sessions = %d\n", len(all))
		switch what {
		case "summary":
			var b strings.Builder
			b.WriteString("Name                    Session Owner           Creation Time\n")
			b.WriteString(strings.Repeat("-", 68) + "\n")
			for _, cs := range all {
				fmt.Fprintf(&b, "%-24s%-24s%s\n", cs.name, cs.owner, sessionTime(cs.created))
			}
			return b.String() + count
		case "status":
			var b strings.Builder
			for _, cs := range all {
				if name != "" && cs.name != name {
					continue
				}
				if b.Len() > 0 {
					b.WriteString("\n")
				}
				ts := "00:00:00 UTC Jan 01 1970"
				if !cs.lastTime.IsZero() {
					ts = sessionTime(cs.lastTime)
				}
				fmt.Fprintf(&b, "Session Name          : %s\nLast Action           : %s\n"+
					"Last Action Status    : %s\nLast Action Reason    : %s\nLast Action Timestamp : %s\n",
					cs.name, cs.lastAction, cs.lastStatus, cs.lastReason, ts)
			}
			if name != "" && b.Len() == 0 {
				sh.failed = true
				return "ERROR: Session " + name + " does not exist\n"
			}
			return b.String()
		}
		if name != "" {
			cs := s.sessions[name]
			if cs == nil {
				sh.failed = true
				return "ERROR: Session " + name + " does not exist\n"
			}
			return cs.contents()
		}
		if len(all) == 0 {
			return ""
		}
		var b strings.Builder
		for _, cs := range all {
			b.WriteString(cs.contents())
		}
		return b.String() + count
	})
}

func (s *Server) sessionInfos() []SessionInfo {
	var out []SessionInfo
	for _, cs := range s.sortedSessions() {
		si := SessionInfo{Name: cs.name, ID: cs.id, Owner: cs.owner, Created: cs.created}
		for _, q := range cs.lines {
			si.Commands = append(si.Commands, q.text)
		}
		out = append(out, si)
	}
	return out
}
