package nxos

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// Recovery after an apply that was cut off (the SSH connection dropped, the
// process died): in checkpoint mode the switch holds the checkpoint of that
// apply and part of the change; in session mode it holds an uncommitted
// configuration session.
//
// Every apply takes its own checkpoint, named after its run (runCheckpoint),
// and only under the fabric's writer lock (lock.go). A checkpoint of this
// fabric found on a switch is therefore either the apply checkpoint of the
// run that holds the lock now, which nobody else may touch, or one left by a
// run that is gone. The writer that holds the lock rolls back to a leftover
// before anything else, but only when the running configuration differs from
// it in nothing but objects this cluster owns (its neighbors, prefix-lists,
// route-maps and marked settings): a rollback would otherwise also undo what
// someone changed by hand since. Observe reports the configuration a leftover
// holds (the state the next apply starts from), except while another run
// holds the lock: then what is there may be that run's apply in progress.

// cpEntry is one user checkpoint of "show checkpoint summary".
type cpEntry struct {
	Name        string
	Description string
	Created     time.Time // zero when the line could not be read
}

var cpEntryRe = regexp.MustCompile(`^\d+\) (\S+):$`)

// cpTimeLayout is how "show checkpoint summary" prints "Created at" (Mon,
// 07:37:22 29 Sep 2014; test/nxossim/testdata/checkpoint_replies.txt).
const cpTimeLayout = "Mon, 15:04:05 02 Jan 2006"

// parseCheckpointSummary reads the user checkpoints of "show checkpoint
// summary", in the order the switch lists them.
func parseCheckpointSummary(out string) []cpEntry {
	var list []cpEntry
	user := false
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "User Checkpoint Summary":
			user = true
		case l == "System Checkpoint Summary":
			user = false
		case !user:
		case cpEntryRe.MatchString(l):
			list = append(list, cpEntry{Name: cpEntryRe.FindStringSubmatch(l)[1]})
		case strings.HasPrefix(l, "Created at ") && len(list) > 0:
			if t, err := time.Parse(cpTimeLayout, strings.TrimPrefix(l, "Created at ")); err == nil {
				list[len(list)-1].Created = t
			}
		case strings.HasPrefix(l, "Description: ") && len(list) > 0:
			d := strings.TrimPrefix(l, "Description: ")
			if d == "None" {
				d = ""
			}
			list[len(list)-1].Description = d
		}
	}
	return list
}

// cpState is what a switch's checkpoints say about this fabric's writers.
type cpState struct {
	// mine is true when the lock this driver holds is on the switch, with
	// this driver's record.
	mine bool
	// other is a live lock of another run (nil when none): its apply may be
	// in progress.
	other *drivers.HeldError
	// expired are lock checkpoints of runs whose lease ran out.
	expired []string
	// leftovers are the fabric's apply checkpoints, oldest first.
	leftovers []cpEntry
}

// checkpointState reads "show checkpoint summary" and sorts this fabric's
// checkpoints: locks (lockName) and apply checkpoints (runCheckpoint, and
// the single name of versions before the lock, nxos.sessionName). An apply
// checkpoint without the cluster's mark, or a lock whose record cannot be
// read, is an error: the driver never uses or deletes what it did not make.
// The caller holds the session's lock.
func (d *Driver) checkpointState(ctx context.Context, sw config.Switch, s *session, held *heldLock) (cpState, error) {
	began := time.Now()
	out, err := s.Read(ctx, "show checkpoint summary", isCheckpointSummary)
	d.observeRequest("show checkpoint summary", time.Since(began), err)
	if err != nil {
		return cpState{}, err
	}
	var st cpState
	now := time.Now()
	if held != nil {
		now = held.req.Clock()
	}
	for _, e := range parseCheckpointSummary(out) {
		switch {
		case d.isLockName(e.Name):
			rec, err := drivers.ParseLockRecord(e.Description)
			if err != nil {
				return cpState{}, fmt.Errorf("switch %s: checkpoint %s is named like this fabric's writer lock, but its description is not a lock record (%v); "+
					"delete it (no checkpoint %s) once no fabric-reconciler run is writing", sw.Name, e.Name, err, e.Name)
			}
			switch {
			case held != nil && e.Name == held.name && rec.Same(held.rec) && rec.Expires.Equal(held.rec.Expires):
				// Its lease too: a record of an earlier run that reused
				// the run id is not this lock.
				st.mine = true
			case rec.Expired(now):
				st.expired = append(st.expired, e.Name)
			case st.other == nil:
				st.other = &drivers.HeldError{Record: rec, Where: "switch " + sw.Name + ", checkpoint " + e.Name}
			}
		case d.isApplyCheckpoint(e.Name):
			if e.Description != string(d.own.Mark) {
				return cpState{}, fmt.Errorf("switch %s: a checkpoint named %s exists that fabric-reconciler did not make (its description is %s, not %s); "+
					"delete it (no checkpoint %s) or set another nxos.sessionName", sw.Name, e.Name, cli.Quote(e.Description), d.own.Mark, e.Name)
			}
			st.leftovers = append(st.leftovers, e)
		}
	}
	// Oldest first; entries whose time could not be read keep the
	// switch's order.
	slices.SortStableFunc(st.leftovers, func(a, b cpEntry) int { return a.Created.Compare(b.Created) })
	return st, nil
}

// leftover is a checkpoint of the driver found on a switch, with the
// configuration it holds, and every apply checkpoint of the fabric there
// (all are deleted once the switch is rolled back to the oldest).
type leftover struct {
	name string
	text string // "show checkpoint NAME"
	all  []string
}

// findLeftover looks for a checkpoint of an interrupted apply among st's. It
// returns nil when there is none, and an error when rolling back to it would
// undo changes made outside the cluster's objects. The caller holds the
// session's lock and makes sure no live run owns the checkpoints.
func (d *Driver) findLeftover(ctx context.Context, sw config.Switch, s *session, st cpState) (*leftover, error) {
	if len(st.leftovers) == 0 {
		return nil, nil
	}
	name := st.leftovers[0].Name
	cpText, diff, err := d.changedOutside(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if len(diff) > 0 {
		diff = quoteDiff(diff)
		return nil, fmt.Errorf("switch %s: checkpoint %s was left by an interrupted apply, but the running configuration has changed "+
			"since outside fabric-reconciler's objects (%s); rolling back would undo that too, so nothing is done: check "+
			"\"show diff rollback-patch checkpoint %s running-config\", then delete the checkpoint (no checkpoint %s)",
			sw.Name, name, strings.Join(diff, "; "), name, name)
	}
	lo := &leftover{name: name, text: cpText}
	for _, e := range st.leftovers {
		lo.all = append(lo.all, e.Name)
	}
	return lo, nil
}

// changedOutside compares the running configuration with checkpoint name
// outside the objects this cluster owns (foreignDiff): what someone else
// changed since the checkpoint, which a rollback to it would undo too. It
// returns the checkpoint's configuration and the lines that differ.
func (d *Driver) changedOutside(ctx context.Context, s *session, name string) (string, []string, error) {
	began := time.Now()
	cpText, err := s.Read(ctx, "show checkpoint "+name, isConfig)
	d.observeRequest("show checkpoint", time.Since(began), err)
	if err != nil {
		return "", nil, err
	}
	began = time.Now()
	run, err := s.Read(ctx, "show running-config", isConfig)
	d.observeRequest("show running-config", time.Since(began), err)
	if err != nil {
		return "", nil, err
	}
	diff, err := d.foreignDiff(cpText, run)
	if err != nil {
		return "", nil, fmt.Errorf("switch %s: reading checkpoint %s: %w", s.Name(), name, err)
	}
	return cpText, diff, nil
}

// quoteDiff renders the lines of a foreignDiff for a message: at most five,
// each through cli.DeviceLine (a changed line may be someone's "password 3
// ..." line, whose key must not reach a log).
func quoteDiff(diff []string) []string {
	var out []string
	for i, l := range diff {
		if i == 5 {
			out = append(out, fmt.Sprintf("... %d more", len(diff)-5))
			break
		}
		out = append(out, cli.DeviceLine(l))
	}
	return out
}

// foreignDiff lists the configuration lines, outside the objects this
// cluster owns, that differ between two whole configurations ("+" only in b,
// "-" only in a).
func (d *Driver) foreignDiff(a, b string) ([]string, error) {
	ca, err := parseConfig(a)
	if err != nil {
		return nil, err
	}
	cb, err := parseConfig(b)
	if err != nil {
		return nil, err
	}
	own := d.ownedParts(ca, cb)
	la, lb := own.foreign(parseTree(a)), own.foreign(parseTree(b))
	count := map[string]int{}
	for _, l := range la {
		count[l]--
	}
	for _, l := range lb {
		count[l]++
	}
	var diff []string
	for l, n := range count {
		switch {
		case n > 0:
			diff = append(diff, "+ "+maskPassword(l))
		case n < 0:
			diff = append(diff, "- "+maskPassword(l))
		}
	}
	slices.Sort(diff)
	return diff, nil
}

// ownedParts is what this cluster owns in either of two configurations.
type ownedParts struct {
	neighbors map[string]bool // "<vrf>/<neighbor>"
	vrf       string          // the driver's VRF context
	maxPaths  map[string]bool // address families ("ipv4 unicast") whose maximum-paths is owned
	relax     bool
	isName    func(string) bool
}

func (d *Driver) ownedParts(cfgs ...*runningConfig) ownedParts {
	o := ownedParts{neighbors: map[string]bool{}, maxPaths: map[string]bool{}, vrf: d.vrf,
		isName: func(n string) bool { return d.own.IsFilterName(n) || d.own.IsMarkerName(n) }}
	for _, c := range cfgs {
		if c.BGP != nil {
			for name, v := range c.BGP.VRFs {
				for id, n := range v.Neighbors {
					if d.own.Mark.Owns(n.Description) {
						o.neighbors[name+"/"+id] = true
					}
				}
			}
		}
		for _, af := range afNames {
			if d.own.HasMarker(&c.Filters, cli.MarkerMaxPaths(af)) {
				o.maxPaths[cli.AFName(af)] = true
			}
		}
		o.relax = o.relax || d.own.HasMarker(&c.Filters, cli.MarkerRelax)
	}
	return o
}

// foreign flattens a configuration tree into "parent > child" lines, leaving
// out what the cluster owns, and address-family blocks left empty by that.
func (o ownedParts) foreign(roots []*cfgNode) []string {
	var out []string
	for _, n := range roots {
		f := strings.Fields(n.text)
		switch {
		case len(f) >= 3 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list" && o.isName(f[2]):
		case len(f) >= 2 && f[0] == "route-map" && o.isName(f[1]):
		case len(f) == 3 && f[0] == "router" && f[1] == "bgp":
			out = append(out, n.text)
			for _, k := range n.kids {
				kf := strings.Fields(k.text)
				if len(kf) == 2 && kf[0] == "vrf" {
					out = append(out, n.text+" > "+k.text)
					for _, vk := range k.kids {
						out = append(out, o.vrfLines(kf[1], vk, n.text+" > "+k.text+" > ")...)
					}
					continue
				}
				out = append(out, o.vrfLines("default", k, n.text+" > ")...)
			}
		default:
			out = append(out, flatten(n, "")...)
		}
	}
	return out
}

func (o ownedParts) vrfLines(v string, n *cfgNode, path string) []string {
	f := strings.Fields(n.text)
	ours := v == o.vrf
	switch {
	case len(f) >= 2 && f[0] == "neighbor" && o.neighbors[v+"/"+f[1]]:
		return nil
	case len(f) == 2 && f[0] == "neighbor" && len(n.kids) == 0:
		// A bare neighbor line does nothing; it is what an apply cut off
		// right after entering a new neighbor leaves.
		return nil
	case n.text == relaxLine && ours && o.relax:
		return nil
	case len(f) == 3 && f[0] == "address-family":
		var kids []string
		for _, k := range n.kids {
			if ours && o.maxPaths[f[1]+" "+f[2]] && strings.HasPrefix(k.text, "maximum-paths ") {
				continue
			}
			kids = append(kids, flatten(k, path+n.text+" > ")...)
		}
		if len(kids) == 0 {
			return nil
		}
		return append([]string{path + n.text}, kids...)
	}
	return flatten(n, path)
}

func flatten(n *cfgNode, path string) []string {
	p := path + n.text
	out := []string{p}
	for _, k := range n.kids {
		out = append(out, flatten(k, p+" > ")...)
	}
	return out
}

// recover makes sure this driver holds the fabric's lock on the switch,
// rolls the switch back to a leftover checkpoint and deletes the fabric's
// apply checkpoints, and aborts a leftover configuration session. It returns
// what it did, for the apply's messages. The caller holds the session's
// lock.
func (d *Driver) recover(ctx context.Context, sw config.Switch, s *session, held *heldLock) ([]string, error) {
	var msgs []string
	st, err := d.checkpointState(ctx, sw, s, held)
	if err != nil {
		return nil, err
	}
	if !st.mine {
		return nil, d.lostLock(sw, held, st)
	}
	// The lock is ours: every apply checkpoint here is a dead run's (or an
	// earlier attempt of this one).
	lo, err := d.findLeftover(ctx, sw, s, st)
	if err != nil {
		return nil, err
	}
	if lo != nil {
		if err := d.rollback(ctx, s, lo.name); err != nil {
			return nil, fmt.Errorf("switch %s: rolling back to the checkpoint %s left by an interrupted apply: %w", sw.Name, lo.name, err)
		}
		for _, name := range lo.all {
			if err := d.deleteCheckpoint(ctx, s, name); err != nil {
				return nil, err
			}
		}
		d.log.Warn("rolled back to the checkpoint of an interrupted apply", "switch", sw.Name, "checkpoint", lo.name)
		msgs = append(msgs, fmt.Sprintf("switch %s: rolled back to checkpoint %s, left by an interrupted apply, and deleted it", sw.Name, lo.name))
		if len(lo.all) > 1 {
			msgs = append(msgs, fmt.Sprintf("switch %s: deleted the other checkpoints of interrupted applies: %s", sw.Name, strings.Join(lo.all[1:], ", ")))
		}
	}
	if d.mode == CommitSession {
		// "show configuration session summary" pads names to 24 columns
		// and runs longer ones into the owner: ask for the session itself.
		began := time.Now()
		out, err := s.Query(ctx, "show configuration session "+d.cpName)
		d.observeRequest("show configuration session", time.Since(began), err)
		if err != nil {
			return nil, err
		}
		if hasSession(out, d.cpName) {
			if err := s.abortLeftover(); err != nil {
				return nil, fmt.Errorf("switch %s: aborting the configuration session %s left by an interrupted apply: %w", sw.Name, d.cpName, err)
			}
			d.log.Warn("aborted the configuration session of an interrupted apply", "switch", sw.Name, "session", d.cpName)
			msgs = append(msgs, fmt.Sprintf("switch %s: aborted configuration session %s, left uncommitted by an interrupted apply", sw.Name, d.cpName))
		}
	}
	return msgs, nil
}

// abortLeftover re-enters the driver's configuration session and aborts it.
func (s *session) abortLeftover() error {
	if _, err := s.Ensure(); err != nil {
		return err
	}
	if err := s.Enter(sessionPriv); err != nil {
		return err
	}
	out, failed, err := s.Send("abort", 0)
	if err != nil {
		return err
	}
	if failed {
		s.Leave()
		return fmt.Errorf("abort: %s", excerpt(out))
	}
	return nil
}

// rollback runs "rollback running-config checkpoint NAME" (atomic, NX-OS's
// default) and requires the switch to confirm it.
func (d *Driver) rollback(ctx context.Context, s *session, name string) error {
	began := time.Now()
	out, failed, err := s.Exec(ctx, "rollback running-config checkpoint "+name, s.slowTimeout())
	d.observeRequest("rollback", time.Since(began), err)
	if err != nil {
		return err
	}
	if !rollbackDone(out, failed) {
		return fmt.Errorf("the switch answered: %s", excerpt(out))
	}
	return nil
}

// deleteCheckpoint runs "no checkpoint NAME". No public recording shows
// its reply: the emulator prints nothing, like NX-OS for other commands
// that succeed without a message (an assumption, docs/nxossim.md). A reply
// the platform flags as failed is a failure; any other reply is checked
// against "show checkpoint summary", and the deletion succeeded if the
// checkpoint is no longer listed.
func (d *Driver) deleteCheckpoint(ctx context.Context, s *session, name string) error {
	began := time.Now()
	out, failed, err := s.Exec(ctx, "no checkpoint "+name, s.Timeout())
	d.observeRequest("no checkpoint", time.Since(began), err)
	if err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("switch %s: deleting checkpoint %s: %s", s.Name(), name, excerpt(out))
	}
	if len(cli.Lines(out)) == 0 {
		return nil
	}
	began = time.Now()
	sum, err := s.Read(ctx, "show checkpoint summary", isCheckpointSummary)
	d.observeRequest("show checkpoint summary", time.Since(began), err)
	if err != nil {
		return fmt.Errorf("switch %s: deleting checkpoint %s: the switch answered %s, and whether it is gone could not be read: %w",
			s.Name(), name, excerpt(out), err)
	}
	for _, e := range parseCheckpointSummary(sum) {
		if e.Name == name {
			return fmt.Errorf("switch %s: deleting checkpoint %s: the switch answered %s, and the checkpoint is still there", s.Name(), name, excerpt(out))
		}
	}
	d.log.Info("\"no checkpoint\" printed a reply; the checkpoint is gone", "switch", s.Name(), "checkpoint", name, "reply", excerpt(out))
	return nil
}

// takeCheckpoint runs "checkpoint NAME description TEXT" and requires the
// switch to confirm it ("Done").
func (d *Driver) takeCheckpoint(ctx context.Context, s *session, name, desc string) error {
	began := time.Now()
	out, failed, err := s.Exec(ctx, "checkpoint "+name+" description "+desc, s.slowTimeout())
	d.observeRequest("checkpoint", time.Since(began), err)
	if err != nil {
		return err
	}
	if !checkpointDone(out, failed) {
		return fmt.Errorf("switch %s: checkpoint %s: %s", s.Name(), name, excerpt(out))
	}
	return nil
}
