package frr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/util"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// session is the persistent SSH session to one switch's vtysh (internal/drivers/clissh),
// with what the driver caches per session. Its methods take the session's
// lock for each command.
type session struct {
	*clissh.Session
	ecmpMax int // cached "ECMP Maximum" of the switch (0: not read yet), under the lock
}

// sessionConfig is what every session to an FRR switch shares.
func sessionConfig(d *Driver) clissh.Config {
	return clissh.Config{
		SSH:      clissh.SettingsOf(d.fabric).SSH,
		Platform: platformYAML,
		// A wide terminal: readline would redraw the echo of long lines.
		Options:   []util.Option{options.WithTermWidth(511)},
		ExecLevel: "exec",
		Indent:    indent,
		Reply:     func(out string) string { return cli.Excerpt(out, replyMarkers) },
		// None: FRR 8.4 prints nothing for every line the driver sends
		// (typed one by one in the lab; docs/frr.md). A reply that is not
		// a "%" refusal is reported as an unknown outcome (outcome).
		Benign: nil,
		Log:    d.log,
	}
}

// replyMarkers pick the line of a reply an error quotes: FRR's refusals
// start with "%" ("% Unknown command", "% Can not configure the local
// system as neighbor"), except "BGP is already running; AS is N"
// (bgpd/bgp_vty.c, router bgp).
var replyMarkers = []string{"%", "is already running"}

// LineError is a configuration line the switch refused.
type LineError = clissh.LineError

// command runs one show command and returns its output, which check says
// is what the command prints (clissh.Session.Read: the platform's failure
// strings are not applied to show output, which holds the network team's
// descriptions). A command that fails on an established session is retried
// once on a new one.
func (s *session) command(ctx context.Context, cmd string, check func(string) error) (string, error) {
	s.Lock()
	defer s.Unlock()
	return s.Read(ctx, cmd, check)
}

// isRunningConfig checks that "show running-config ..." printed a
// configuration: vtysh starts every one with "Building configuration..."
// and "Current configuration:" (vtysh/vtysh.c, vtysh_write_terminal,
// frr-8.4 and master; the "no-header" option, which the driver does not
// use, leaves them out). A refusal ("% Unknown command", a vtysh that
// cannot reach bgpd) has neither.
func isRunningConfig(out string) error {
	for _, l := range cli.Lines(out) {
		if l == "Current configuration:" {
			return nil
		}
	}
	return errors.New(`not a running configuration (no "Current configuration:" line)`)
}

// isShowZebra checks that "show zebra" printed its table.
func isShowZebra(out string) error {
	if parseECMPMax(out) == 0 {
		return errors.New(`no "ECMP Maximum" line`)
	}
	return nil
}

// configure enters configuration mode, sends the lines one by one and stops
// at the first line the switch refuses (a '%' reply, or any output at all:
// FRR prints nothing for a line it accepts). It returns how many lines were
// accepted.
//
// When the line at the stop may have been applied, the error wraps
// drivers.ErrOutcomeUnknown: the session failed after the line was sent and
// before its reply was read (a dropped connection, a timeout), or the
// switch answered with something that is not one of FRR's "% ..." refusals
// (a warning printed for a line it did apply would look so). A '%' reply is
// a refusal: FRR did not apply the line (an assumption, see docs/frr.md).
// Failing to enter configuration mode sends no configuration line, and is
// not unknown.
func (s *session) configure(ctx context.Context, lines []cli.Line) (int, error) {
	s.Lock()
	defer s.Unlock()
	if len(lines) == 0 {
		return 0, nil
	}
	fresh, err := s.Ensure()
	if err != nil {
		return 0, err
	}
	if err := s.Enter("configuration"); err != nil {
		if fresh {
			return 0, fmt.Errorf("switch %s: entering configuration mode: %w", s.Name(), err)
		}
		// The session died since its last use: nothing was sent, so retry once.
		if _, err := s.Ensure(); err != nil {
			return 0, err
		}
		if err := s.Enter("configuration"); err != nil {
			return 0, fmt.Errorf("switch %s: entering configuration mode: %w", s.Name(), err)
		}
	}
	n, err := s.SendLines(ctx, lines, "")
	s.Leave()
	return n, outcome(err)
}

// outcome marks an error of SendLines whose line may have been applied
// with drivers.ErrOutcomeUnknown (see configure).
func outcome(err error) error {
	var le *LineError
	switch {
	case err == nil:
		return nil
	case clissh.IsConnError(err):
	case errors.As(err, &le) && !strings.HasPrefix(le.Reply, "%"):
	default:
		return err // a '%' refusal, or stopped before the line was sent
	}
	return fmt.Errorf("%w; %w: observe the switch again", err, drivers.ErrOutcomeUnknown)
}

// open opens the session if it is not open yet.
func (s *session) open() error {
	s.Lock()
	defer s.Unlock()
	_, err := s.Ensure()
	return err
}

// ecmp returns the switch's default maximum-paths (zebra's ECMP limit),
// read once per session.
func (s *session) ecmp(ctx context.Context) int {
	if v := s.cachedECMP(); v > 0 {
		return v
	}
	out, err := s.command(ctx, "show zebra", isShowZebra)
	if err != nil {
		return 0
	}
	v := parseECMPMax(out)
	s.Lock()
	s.ecmpMax = v
	s.Unlock()
	return v
}

func (s *session) cachedECMP() int {
	s.Lock()
	defer s.Unlock()
	return s.ecmpMax
}
