package nxos

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
)

// Recovery after an apply that was cut off (the SSH connection dropped, the
// process died): in checkpoint mode the switch holds the driver's checkpoint
// and part of the change; in session mode it holds an uncommitted
// configuration session.
//
// A leftover checkpoint is rolled back to before anything else is done, but
// only when the running configuration differs from it in nothing but objects
// this cluster owns (its neighbors, prefix-lists, route-maps and marked
// settings): a rollback would otherwise also undo what someone changed by
// hand since. Observe reports the configuration the checkpoint holds, so the
// plan is made against the state the rollback restores.

// cpEntry is one user checkpoint of "show checkpoint summary".
type cpEntry struct {
	Name        string
	Description string
}

var cpEntryRe = regexp.MustCompile(`^\d+\) (\S+):$`)

// parseCheckpointSummary reads the user checkpoints of "show checkpoint
// summary".
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

// leftover is a checkpoint of the driver found on a switch, with the
// configuration it holds.
type leftover struct {
	name string
	text string // "show checkpoint NAME"
}

// findLeftover looks for the driver's checkpoint on a switch. It returns nil
// when there is none, and an error when there is one the driver must not roll
// back to. The caller holds the session's lock.
func (d *Driver) findLeftover(ctx context.Context, sw config.Switch, s *session) (*leftover, error) {
	out, err := s.Read(ctx, "show checkpoint summary")
	d.observeRequest("show checkpoint summary", err)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(parseCheckpointSummary(out), func(e cpEntry) bool { return e.Name == d.cpName })
	if i < 0 {
		return nil, nil
	}
	entry := parseCheckpointSummary(out)[i]
	if entry.Description != string(d.own.Mark) {
		return nil, fmt.Errorf("switch %s: a checkpoint named %s exists that fabric-reconciler did not make (its description is %s, not %s); "+
			"delete it (no checkpoint %s) or set another nxos.sessionName", sw.Name, d.cpName, cli.Quote(entry.Description), d.own.Mark, d.cpName)
	}
	cpText, err := s.Read(ctx, "show checkpoint "+d.cpName)
	d.observeRequest("show checkpoint", err)
	if err != nil {
		return nil, err
	}
	run, err := s.Read(ctx, "show running-config")
	d.observeRequest("show running-config", err)
	if err != nil {
		return nil, err
	}
	if diff, err := d.foreignDiff(cpText, run); err != nil {
		return nil, fmt.Errorf("switch %s: reading checkpoint %s: %w", sw.Name, d.cpName, err)
	} else if len(diff) > 0 {
		if len(diff) > 5 {
			diff = append(diff[:5], fmt.Sprintf("... %d more", len(diff)-5))
		}
		return nil, fmt.Errorf("switch %s: checkpoint %s was left by an interrupted apply, but the running configuration has changed "+
			"since outside fabric-reconciler's objects (%s); rolling back would undo that too, so nothing is done: check "+
			"\"show diff rollback-patch checkpoint %s running-config\", then delete the checkpoint (no checkpoint %s)",
			sw.Name, d.cpName, strings.Join(diff, "; "), d.cpName, d.cpName)
	}
	return &leftover{name: d.cpName, text: cpText}, nil
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
			diff = append(diff, "+ "+l)
		case n < 0:
			diff = append(diff, "- "+l)
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

// recover rolls a switch back to the driver's leftover checkpoint and
// deletes it, and aborts a leftover configuration session. It returns what
// it did, for the apply's messages. The caller holds the session's lock.
func (d *Driver) recover(ctx context.Context, sw config.Switch, s *session) ([]string, error) {
	var msgs []string
	lo, err := d.findLeftover(ctx, sw, s)
	if err != nil {
		return nil, err
	}
	if lo != nil {
		if err := d.rollback(ctx, s); err != nil {
			return nil, fmt.Errorf("switch %s: rolling back to the checkpoint %s left by an interrupted apply: %w", sw.Name, d.cpName, err)
		}
		if err := d.deleteCheckpoint(ctx, s); err != nil {
			return nil, err
		}
		d.log.Warn("rolled back to the checkpoint of an interrupted apply", "switch", sw.Name, "checkpoint", d.cpName)
		msgs = append(msgs, fmt.Sprintf("switch %s: rolled back to checkpoint %s, left by an interrupted apply, and deleted it", sw.Name, d.cpName))
	}
	if d.mode == config.CommitSession {
		// "show configuration session summary" pads names to 24 columns
		// and runs longer ones into the owner: ask for the session itself.
		out, failed, err := s.Query(ctx, "show configuration session "+d.cpName)
		d.observeRequest("show configuration session", err)
		if err != nil {
			return nil, err
		}
		if !failed && strings.Contains(out, "config session name "+d.cpName) {
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
		return fmt.Errorf("abort: %s", reply(out))
	}
	return nil
}

// rollback runs "rollback running-config checkpoint NAME" (atomic, NX-OS's
// default) and requires the switch to confirm it.
func (d *Driver) rollback(ctx context.Context, s *session) error {
	out, failed, err := s.Exec(ctx, "rollback running-config checkpoint "+d.cpName, s.slowTimeout())
	d.observeRequest("rollback", err)
	if err != nil {
		return err
	}
	if failed || !(strings.Contains(out, "Rollback completed successfully") || strings.Contains(out, "Rollback Patch is Empty")) {
		return fmt.Errorf("the switch answered: %s", reply(out))
	}
	return nil
}

func (d *Driver) deleteCheckpoint(ctx context.Context, s *session) error {
	out, failed, err := s.Exec(ctx, "no checkpoint "+d.cpName, s.Timeout())
	d.observeRequest("no checkpoint", err)
	if err != nil {
		return err
	}
	if failed || reply(out) != "" {
		return fmt.Errorf("switch %s: deleting checkpoint %s: %s", s.Name(), d.cpName, reply(out))
	}
	return nil
}

// takeCheckpoint runs "checkpoint NAME description MARK" and requires the
// switch to confirm it ("Done").
func (d *Driver) takeCheckpoint(ctx context.Context, s *session) error {
	out, failed, err := s.Exec(ctx, "checkpoint "+d.cpName+" description "+string(d.own.Mark), s.slowTimeout())
	d.observeRequest("checkpoint", err)
	if err != nil {
		return err
	}
	if failed || !strings.Contains(out, "Done") {
		return fmt.Errorf("switch %s: checkpoint %s: %s", s.Name(), d.cpName, reply(out))
	}
	return nil
}
