package nxos

import (
	"errors"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// How the driver tells what a show command printed. The platform's failure
// strings ("ERROR:", "% Invalid command") are not applied to show output: a
// running configuration holds the network team's descriptions and banners,
// and "description core uplink ERROR: see ticket 42" must not make a switch
// unreadable (clissh.Session.Query). Each show command's output is checked
// by its structure instead, and one that does not have it is an error
// quoting its first line only (clissh.ReadError).

// isConfig checks that a "show running-config [bgp|rpm]" or "show checkpoint
// NAME" printed a configuration: NX-OS starts one with "!Command: ..." and
// a "version ..." line. Recorded: "!Command: show running-config bgp" and
// "version 9.3(8) Bios:version" (genieparser's NX-OS 9.3(7) and 9.3(8)
// recordings, test/nxossim/testdata), "!Command: Checkpoint cmd vdc 1" and
// "version 9.2(3) Bios:version" at the top of a checkpoint's configuration
// (a public transcript of napalm's NX-OS checkpoint file). Either line is
// enough, so that a release that drops one still reads. A refusal ("%
// Permission denied for the role", "% Invalid command at '^' marker.") has
// neither.
func isConfig(out string) error {
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "!Command: ") || strings.HasPrefix(l, "version ") {
			return nil
		}
	}
	return errors.New(`not a configuration (no "!Command:" or "version" line)`)
}

// isCheckpointSummary checks that "show checkpoint summary" printed the
// summary: its lines are the section titles, dashes, "N) NAME:", "Created
// by", "Created at", "Size is" and "Description: ..."
// (test/nxossim/testdata/checkpoint_replies.txt). What NX-OS prints when
// there is no checkpoint is not recorded, so anything is accepted except
// a reply whose line starts like an error: "%" or "ERROR:" (a description
// is always after "Description: ").
func isCheckpointSummary(out string) error {
	for _, l := range cli.Lines(out) {
		if strings.HasPrefix(l, "%") || strings.HasPrefix(l, "ERROR:") {
			return errors.New("an error reply, not a checkpoint summary")
		}
	}
	return nil
}

// hasSession tells whether "show configuration session NAME" shows the
// session: its first line is "config session name NAME" (Cisco's Session
// Manager guide, "Verifying the Session Manager Configuration";
// test/nxossim/testdata/session_manager_replies.txt). A session that does
// not exist is answered with an error the driver does not need to read;
// its queued lines are numbered ("0001  ...") and cannot look like that
// line.
func hasSession(out, name string) bool {
	for _, l := range cli.Lines(out) {
		if l == "config session name "+name {
			return true
		}
	}
	return false
}

// rollbackDone tells whether "rollback running-config checkpoint NAME"
// succeeded. napalm's nxos_ssh takes a reply with "completed" (any case) as
// success and one with "Rollback failed." as a failure
// (napalm/nxos_ssh/nxos_ssh.py, rollback and _load_cfg_from_checkpoint);
// "Rollback Patch is Empty" is what a rollback to an identical
// configuration prints (napalm/nxos/nxos.py, _get_diff;
// test/nxossim/testdata/checkpoint_replies.txt). The platform's failure
// strings ("ERROR:") apply to this reply.
func rollbackDone(out string, failed bool) bool {
	if failed || strings.Contains(out, "Rollback failed") {
		return false
	}
	return strings.Contains(strings.ToLower(out), "completed") || strings.Contains(out, "Rollback Patch is Empty")
}

// checkpointDone tells whether "checkpoint NAME description TEXT" succeeded:
// NX-OS prints progress dots, then "Done" (".....Done", recorded in the
// learnduty.com and firewall.cx write-ups, test/nxossim/testdata).
func checkpointDone(out string, failed bool) bool {
	return !failed && strings.Contains(out, "Done")
}
