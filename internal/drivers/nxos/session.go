package nxos

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/scrapli/scrapligo/driver/network"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// sessionPriv is the privilege level the driver adds for "configure session":
// the cisco_nxos platform's configuration level excludes (config-s...)#
// prompts on purpose.
const sessionPriv = "configuration-session"

// extraFailures are NX-OS error replies missing from the platform's
// failed-when-contains list (scrapligo v1.4.3 cisco_nxos: "% Ambiguous
// command", "% Incomplete command", "% Invalid input detected", "% Unknown
// command", "% Invalid command", "ERROR:"). Every error of NX-OS's parser
// ends with "at '^' marker.": recorded are "% Invalid command", "%
// Incomplete command" (scrapli's NX-OS 9.2(4) fixtures), "% Invalid ip
// address" (Ansible's NX-OS integration logs), "Invalid range", printed
// without "%", and "% Missing password" (NX-OS 7.0(3)I7(3),
// ansible/ansible#65909). These strings apply to configuration lines and
// to the replies of checkpoint, rollback, verify, commit and abort, never
// to show output (clissh.Session.Query). Any other output of a
// configuration line is a refusal too, unless it is a known warning
// (clissh.Benign): NX-OS prints nothing for a line it takes.
var extraFailures = []string{"at '^' marker"}

// replyMarkers pick the line of a reply an error quotes (cli.Excerpt).
var replyMarkers = []string{"ERROR:", "at '^' marker", "%", "Rollback failed", "Failed"}

// excerpt is a switch's reply for an error: one bounded, escaped line of it.
func excerpt(out string) string { return cli.Excerpt(out, replyMarkers) }

// benign are the warnings NX-OS prints after a configuration line it has
// taken; any other output is a refusal (clissh.Benign). Each one has a
// recording behind it, and is recognised whatever line it follows. Unknown
// output stays a refusal: the apply is rolled back (or left as it is when
// someone else changed the switch meanwhile), never taken for success.
var benign = []clissh.Benign{
	{
		// "timers 2 6" under a neighbor is applied and answered with this
		// (cisco.nxos#82 and ansible/ansible#66228: "That message is
		// warning message", the configuration was applied; nxos_config's
		// generic "^% \w+" error pattern stopped the task).
		Pattern: regexp.MustCompile(`^% ISSU will be affected if hold time is less than system switchover time \(\d+ seconds\)$`),
		Source:  "ansible-collections/cisco.nxos#82 (ansible/ansible#66228)",
	},
}

// dontAsk turns confirmation prompts off for the session.
const dontAsk = "terminal dont-ask"

// session is the persistent SSH session to one switch (internal/drivers/clissh). Its
// lock is held for a whole observation or apply, so that the commands of one
// never interleave with another's; every method expects the caller to hold
// it.
type session struct {
	*clissh.Session
	cfgName string // configuration session name (session mode)
	// committing is set while "commit" is in flight, and stays set when
	// its reply was lost: the commit may or may not have been applied.
	committing bool
}

// sessionConfig is what every session to an NX-OS switch shares.
func sessionConfig(d *Driver) clissh.Config {
	return clissh.Config{
		SSH:      clissh.SettingsOf(d.fabric).SSH,
		Platform: "cisco_nxos",
		// Added to this driver instance only; the platform stays as shipped.
		Prepare: func(nd *network.Driver) {
			nd.Driver.FailedWhenContains = append(append([]string(nil), nd.Driver.FailedWhenContains...), extraFailures...)
			// After the platform's on-open (terminal width, length):
			// "terminal dont-ask", so that no checkpoint, rollback or
			// "no checkpoint" waits for a confirmation, as Ansible's
			// nxos_rollback (before "checkpoint file") and napalm's
			// nxos_ssh (around "rollback running-config") do. A switch
			// that refuses it is used anyway: the commands then time out
			// rather than hang.
			platformOpen := nd.OnOpen
			nd.OnOpen = func(nd *network.Driver) error {
				if platformOpen != nil {
					if err := platformOpen(nd); err != nil {
						return err
					}
				}
				r, err := nd.SendCommand(dontAsk)
				if err != nil {
					return err
				}
				if r.Failed != nil || len(cli.Lines(r.Result)) > 0 {
					d.log.Warn("the switch did not take \"terminal dont-ask\"; a confirmation prompt would stop the session", "reply", excerpt(r.Result))
				}
				return nil
			}
			nd.PrivilegeLevels[sessionPriv] = &network.PrivilegeLevel{
				Name:         sessionPriv,
				Pattern:      `(?im)^[\w.\-]{1,63}\(config\-s[\w.\-@/:\+]{0,32}\)#\s?$`,
				PreviousPriv: "privilege-exec",
				Deescalate:   "end",
				Escalate:     "configure session " + d.cpName,
			}
			nd.UpdatePrivileges()
		},
		ExecLevel:     "privilege-exec",
		Indent:        indent,
		Reply:         excerpt,
		Benign:        benign,
		LabelConnLoss: true,
		Log:           d.log,
	}
}

// LineError is a configuration line the switch refused.
type LineError = clissh.LineError

// StepError is a session step (verify, commit) that did not succeed.
type StepError struct {
	Switch string
	Step   string
	Reply  string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("switch %s: %s failed: %s", e.Switch, e.Step, e.Reply)
}

// slowTimeout bounds checkpoint and rollback, which take seconds to minutes
// on a real switch (the whole configuration is saved or replayed).
func (s *session) slowTimeout() time.Duration { return max(6*s.Timeout(), 2*time.Minute) }

// configure sends lines in configure terminal, one by one, and stops at the
// first one the switch refuses (an error reply, or any output at all). It
// returns how many lines were accepted, and leaves configuration mode.
func (s *session) configure(ctx context.Context, lines []cli.Line) (int, error) {
	if _, err := s.Ensure(); err != nil {
		return 0, err
	}
	if err := s.Enter("configuration"); err != nil {
		return 0, fmt.Errorf("switch %s: entering configuration mode: %w", s.Name(), err)
	}
	n, err := s.SendLines(ctx, lines, "configure terminal")
	s.Leave()
	return n, err
}

// configureSession sends lines in the configuration session, then verify
// and commit. On a refused line or a failed step it aborts the session; the
// running configuration is then unchanged. It returns how many lines were
// queued.
func (s *session) configureSession(ctx context.Context, lines []cli.Line) (int, error) {
	if _, err := s.Ensure(); err != nil {
		return 0, err
	}
	s.committing = false
	where := "configuration session " + s.cfgName
	if err := s.Enter(sessionPriv); err != nil {
		return 0, fmt.Errorf("switch %s: entering %s: %w", s.Name(), where, err)
	}
	if n, err := s.SendLines(ctx, lines, where); err != nil {
		if clissh.IsConnError(err) {
			return n, err
		}
		return n, s.abortWith(err)
	}
	for _, step := range []struct{ cmd, ok string }{{"verify", "Verification Successful"}, {"commit", "Commit Successful"}} {
		if err := ctx.Err(); err != nil && step.cmd == "verify" {
			return len(lines), s.abortWith(err)
		}
		s.committing = step.cmd == "commit"
		out, failed, err := s.Send(step.cmd, s.slowTimeout())
		if err != nil {
			return len(lines), fmt.Errorf("switch %s: %s: %w", s.Name(), step.cmd, err)
		}
		if failed || !strings.Contains(out, step.ok) {
			return len(lines), s.abortWith(&StepError{Switch: s.Name(), Step: step.cmd, Reply: excerpt(out)})
		}
	}
	// commit left configuration mode; scrapligo finds out from the prompt.
	s.committing = false
	return len(lines), nil
}

// abortWith aborts the configuration session the driver is in and returns
// cause, with the abort's own failure if it had one.
func (s *session) abortWith(cause error) error {
	if !s.Connected() {
		return cause
	}
	out, failed, err := s.Send("abort", 0)
	switch {
	case err != nil:
		return fmt.Errorf("%w; abort: %w (the session %s stays on the switch and is aborted on the next apply)", cause, err, s.cfgName)
	case failed:
		s.Leave()
		return fmt.Errorf("%w; abort failed: %s", cause, excerpt(out))
	}
	return cause
}
