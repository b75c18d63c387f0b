package nxossim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Configuration checkpoints and rollback (Cisco's "Configuring Rollback"
// chapter of the NX-OS System Management Configuration Guides).
//
// What the emulator does, and why:
//   - `checkpoint [NAME] [description TEXT]` snapshots the running
//     configuration as a user checkpoint. Names are unique ("You cannot
//     overwrite previously saved checkpoints with the same name"), at most 80
//     characters without spaces; without a name the switch picks
//     user-checkpoint-N, N from 1 to 10. At most ten user checkpoints exist.
//   - `no checkpoint NAME` deletes one; `clear checkpoint database [user|
//     system]` deletes them all.
//   - `rollback running-config checkpoint NAME [atomic]` replaces the
//     running configuration with the checkpoint's, atomically (the default
//     rollback type, the only one emulated): all or nothing. The checkpoint
//     stays.
//   - `no feature bgp` on a switch that runs BGP makes a system checkpoint
//     "system-fm-bgp" first (the guide: system checkpoints are generated when
//     an enabled feature is disabled); system checkpoints do not count
//     against the ten.
//   - `show checkpoint summary [user|system]` and `show checkpoint NAME`.
//
// Checkpoints live until deleted (NX-OS keeps them across a supervisor
// switchover; `write erase` and reload clear them, which the emulator has
// not). Replies backed by public material: "Done" after the progress dots of
// `checkpoint`, the layout of `show checkpoint summary` (User/System
// Checkpoint Summary, "N) name:", Created by / Created at / Size is /
// Description), "Generating Rollback Patch" and "Rollback Patch is Empty"
// (napalm's NX-OS driver parses them), "Rollback completed successfully".
// The other lines of the rollback reply follow the NX-OS 9.x layout as
// remembered, not a recording; the ERROR replies are the emulator's own
// wording; "no checkpoint" printing nothing is an assumption. Each one is
// an entry of Replies (sources.go), listed in docs/nxossim.md with what the
// driver does if a real switch differs.

// maxUserCheckpoints is the documented limit ("You can create up to ten
// checkpoint copies").
const maxUserCheckpoints = 10

type checkpoint struct {
	name    string
	desc    string
	user    string
	created time.Time
	system  bool
	cfg     *Config
	size    int // bytes of the configuration as printed
}

// CheckpointInfo describes a checkpoint, for tests.
type CheckpointInfo struct {
	Name        string
	Description string
	System      bool
	Created     time.Time
}

// Checkpoints lists the checkpoints, user ones first, each in creation order.
func (s *Server) Checkpoints() []CheckpointInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckpointInfo
	for _, cp := range s.sortedCheckpoints() {
		out = append(out, CheckpointInfo{Name: cp.name, Description: cp.desc, System: cp.system, Created: cp.created})
	}
	return out
}

func (s *Server) sortedCheckpoints() []*checkpoint {
	var user, system []*checkpoint
	for _, cp := range s.checkpoints {
		if cp.system {
			system = append(system, cp)
		} else {
			user = append(user, cp)
		}
	}
	return append(user, system...)
}

func (s *Server) findCheckpoint(name string) (int, *checkpoint) {
	for i, cp := range s.checkpoints {
		if cp.name == name {
			return i, cp
		}
	}
	return -1, nil
}

func (s *Server) newCheckpoint(name, desc, user string, system bool, c *Config, now time.Time) *checkpoint {
	text := strings.Join(s.runningBody(c, ""), "\n")
	return &checkpoint{name: name, desc: desc, user: user, created: now, system: system, cfg: c.Clone(), size: len(text)}
}

// addSystemCheckpoint records the configuration as it was before a feature
// was disabled, replacing an older system checkpoint of the same name.
func (s *Server) addSystemCheckpoint(name, user string, before *Config, now time.Time) {
	if i, _ := s.findCheckpoint(name); i >= 0 {
		s.checkpoints = append(s.checkpoints[:i], s.checkpoints[i+1:]...)
	}
	s.checkpoints = append(s.checkpoints, s.newCheckpoint(name, "Created by Feature Manager.", user, true, before, now))
}

func hCheckpoint(sh *shell, a args) *cmd {
	name, desc := a["name"], a["desc"]
	return show(func(sh *shell) string {
		s := sh.srv
		users := 0
		for _, cp := range s.checkpoints {
			if !cp.system {
				users++
			}
		}
		if name == "" {
			for n := 1; n <= maxUserCheckpoints; n++ {
				cand := fmt.Sprintf("user-checkpoint-%d", n)
				if i, _ := s.findCheckpoint(cand); i < 0 {
					name = cand
					break
				}
			}
		}
		if i, cp := s.findCheckpoint(name); i >= 0 {
			if !s.opts.CheckpointOverwrite || cp.system {
				sh.failed = true
				return "ERROR: Checkpoint name " + name + " is already in use\n"
			}
			// Options.CheckpointOverwrite: the old one is replaced.
			s.checkpoints = append(s.checkpoints[:i], s.checkpoints[i+1:]...)
			users--
		}
		if users >= maxUserCheckpoints {
			sh.failed = true
			return fmt.Sprintf("ERROR: Maximum number of user checkpoints (%d) reached; delete one with \"no checkpoint NAME\"\n", maxUserCheckpoints)
		}
		s.checkpoints = append(s.checkpoints, s.newCheckpoint(name, desc, sh.user, false, s.running, sh.now))
		s.stats.Checkpoints++
		return ".....Done\n"
	})
}

func hNoCheckpoint(sh *shell, a args) *cmd {
	name := a["name"]
	return show(func(sh *shell) string {
		s := sh.srv
		i, cp := s.findCheckpoint(name)
		if cp == nil || cp.system {
			sh.failed = true
			return "ERROR: No user checkpoint named " + name + "\n"
		}
		s.checkpoints = append(s.checkpoints[:i], s.checkpoints[i+1:]...)
		return ""
	})
}

func hClearCheckpoints(sh *shell, a args) *cmd {
	which := a["which"]
	return show(func(sh *shell) string {
		s := sh.srv
		kept := s.checkpoints[:0]
		for _, cp := range s.checkpoints {
			if (which == "user" && cp.system) || (which == "system" && !cp.system) {
				kept = append(kept, cp)
			}
		}
		s.checkpoints = kept
		return ""
	})
}

const rollbackHead = "Note: Applying config parallelly may fail Rollback verification\n" +
	"Collecting Running-Config\n" +
	"#Generating Rollback Patch\n"

func hRollback(sh *shell, a args) *cmd {
	name := a["name"]
	return show(func(sh *shell) string {
		s := sh.srv
		_, cp := s.findCheckpoint(name)
		if cp == nil {
			sh.failed = true
			return "ERROR: Checkpoint " + name + " does not exist\n"
		}
		s.stats.Rollbacks++
		if s.faults.FailNextRollback != "" {
			msg := s.faults.FailNextRollback
			s.faults.FailNextRollback = ""
			s.stats.RollbackFailures++
			sh.failed = true
			// Atomic: the switch reverts what it applied of the patch.
			return rollbackHead + "Executing Rollback Patch\n" + msg + "\n" +
				"Rollback failed. Reverting to the original configuration (atomic rollback).\n"
		}
		if strings.Join(s.runningBody(s.running, ""), "\n") == strings.Join(s.runningBody(cp.cfg, ""), "\n") {
			return rollbackHead + "Rollback Patch is Empty\n"
		}
		s.running = cp.cfg.Clone()
		s.lastChange = sh.now
		return rollbackHead + "Executing Rollback Patch\n" +
			"Generating Running-config for verification\n" +
			"Generating Patch for verification\n" +
			"Verification is Successful.\n\n" +
			"Rollback completed successfully.\n"
	})
}

// checkpointTime is how `show checkpoint summary` prints a creation time.
func checkpointTime(t time.Time) string { return t.Format("Mon, 15:04:05 02 Jan 2006") }

func commaInt(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func hShowCheckpointSummary(sh *shell, a args) *cmd {
	which := a["which"]
	return show(func(sh *shell) string {
		var b strings.Builder
		n := 0
		section := func(title string, system bool) {
			if (which == "user" && system) || (which == "system" && !system) {
				return
			}
			// The system section appears only when it has entries.
			if system && which == "" && !slices.ContainsFunc(sh.srv.checkpoints, func(cp *checkpoint) bool { return cp.system }) {
				return
			}
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(title + "\n" + strings.Repeat("-", 80) + "\n")
			for _, cp := range sh.srv.sortedCheckpoints() {
				if cp.system != system {
					continue
				}
				n++
				desc := cp.desc
				if desc == "" {
					desc = "None"
				}
				fmt.Fprintf(&b, "%d) %s:\nCreated by %s\nCreated at %s\nSize is %s bytes\nDescription: %s\n",
					n, cp.name, cp.user, checkpointTime(cp.created), commaInt(cp.size), desc)
			}
		}
		section("User Checkpoint Summary", false)
		section("System Checkpoint Summary", true)
		return b.String()
	})
}

func hShowCheckpoint(sh *shell, a args) *cmd {
	name := a["name"]
	return show(func(sh *shell) string {
		s := sh.srv
		_, cp := s.findCheckpoint(name)
		if cp == nil {
			sh.failed = true
			return "ERROR: Checkpoint " + name + " does not exist\n"
		}
		lines := []string{strings.Repeat("-", 80), "Name: " + cp.name,
			"!Command: Checkpoint cmd vdc 1", "!Time: " + cp.created.Format(time.ANSIC), "",
			fmt.Sprintf("version %s Bios:version %s ", s.platform.Version, s.platform.BIOSVersion)}
		lines = append(lines, s.runningBody(cp.cfg, "")...)
		return strings.Join(lines, "\n") + "\n\n"
	})
}
