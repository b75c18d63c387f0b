package cli

import (
	"fmt"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Dialect is what a Script needs to know about a platform's modes.
type Dialect struct {
	// Exit returns the command that leaves a mode, given the command that
	// entered it ("exit" when nil).
	Exit func(mode string) string
	// Indent is the indentation of one mode level in Text (default " ").
	Indent string
}

// Line is one line of a script.
type Line struct {
	Text string
	// Depth is the number of modes the line is typed in, below the
	// configuration's top level.
	Depth int
	// Change is the index of the change the line belongs to (see
	// Script.Changes): lines that enter or leave modes belong to the change
	// that needed them.
	Change int
	// secret goes where Text holds Sensitive when the line is typed
	// (InSecret, Wire).
	secret string
}

type changeState struct {
	change   fabric.Change
	refused  error
	conflict *fabric.Conflict
}

// Script collects the CLI lines of several changes for one switch.
type Script struct {
	d       Dialect
	changes []changeState
	lines   []Line
	mode    []string
	cur     int
}

// NewScript starts an empty script.
func NewScript(d Dialect) *Script {
	if d.Exit == nil {
		d.Exit = func(string) string { return "exit" }
	}
	if d.Indent == "" {
		d.Indent = " "
	}
	return &Script{d: d, cur: -1}
}

// Begin starts a change: the lines added until the next Begin belong to it.
func (s *Script) Begin(c fabric.Change) {
	s.changes = append(s.changes, changeState{change: c})
	s.cur = len(s.changes) - 1
}

// Refuse records that the current change produces no line, because of err
// (a value that failed the grammar, a dependency that was refused).
func (s *Script) Refuse(err error) {
	s.mustHaveChange()
	s.changes[s.cur].refused = err
}

// Conflict records that the current change found an object it does not own
// in its way at apply time; it produces no line.
func (s *Script) Conflict(owner, reason string) {
	s.mustHaveChange()
	c := s.changes[s.cur].change
	s.changes[s.cur].conflict = &fabric.Conflict{Kind: c.Kind, Switch: c.Switch, ID: c.ID, Owner: owner, Reason: reason}
}

func (s *Script) mustHaveChange() {
	if s.cur < 0 {
		panic("cli: Script used before Begin")
	}
}

// In adds lines in a mode path (nil: the configuration's top level),
// leaving and entering modes as needed.
func (s *Script) In(mode []string, lines ...string) {
	s.mustHaveChange()
	common := 0
	for common < len(s.mode) && common < len(mode) && s.mode[common] == mode[common] {
		common++
	}
	for len(s.mode) > common {
		top := s.mode[len(s.mode)-1]
		s.lines = append(s.lines, Line{Text: s.d.Exit(top), Depth: len(s.mode) - 1, Change: s.cur})
		s.mode = s.mode[:len(s.mode)-1]
	}
	for _, m := range mode[common:] {
		s.lines = append(s.lines, Line{Text: m, Depth: len(s.mode), Change: s.cur})
		s.mode = append(s.mode, m)
	}
	for _, l := range lines {
		s.lines = append(s.lines, Line{Text: l, Depth: len(s.mode), Change: s.cur})
	}
}

// Top adds lines at the configuration's top level.
func (s *Script) Top(lines ...string) { s.In(nil, lines...) }

// Lines returns the lines in the order they are sent.
func (s *Script) Lines() []Line { return s.lines }

// Changes returns the changes in the order they were begun.
func (s *Script) Changes() []fabric.Change {
	out := make([]fabric.Change, len(s.changes))
	for i, c := range s.changes {
		out[i] = c.change
	}
	return out
}

// Refused returns the changes that produced no line because of an error.
func (s *Script) Refused() []Refusal {
	var out []Refusal
	for _, c := range s.changes {
		if c.refused != nil {
			out = append(out, Refusal{Change: c.change, Err: c.refused})
		}
	}
	return out
}

// Refusal is a change that was not sent, and why.
type Refusal struct {
	Change fabric.Change
	Err    error
}

// Conflicts returns the objects found in the way at apply time.
func (s *Script) Conflicts() []fabric.Conflict {
	var out []fabric.Conflict
	for _, c := range s.changes {
		if c.conflict != nil {
			out = append(out, *c.conflict)
		}
	}
	return out
}

// Applied returns the changes that went through when the first accepted
// lines were accepted by the switch: every line of the change was accepted,
// and it was neither refused nor in conflict. A change that needed no line
// (the switch already held it) counts as applied.
func (s *Script) Applied(accepted int) []fabric.Change {
	if accepted > len(s.lines) {
		accepted = len(s.lines)
	}
	failed := make([]bool, len(s.changes))
	for _, l := range s.lines[accepted:] {
		failed[l.Change] = true
	}
	var out []fabric.Change
	for i, c := range s.changes {
		if !failed[i] && c.refused == nil && c.conflict == nil {
			out = append(out, c.change)
		}
	}
	return out
}

// ChangeOf returns the change line i belongs to.
func (s *Script) ChangeOf(i int) fabric.Change { return s.changes[s.lines[i].Change].change }

// Result builds the apply result after the first accepted lines went
// through: the applied changes, the conflicts, and one message per refusal.
func (s *Script) Result(accepted int) fabric.ApplyResult {
	res := fabric.ApplyResult{Applied: s.Applied(accepted), Conflicts: s.Conflicts()}
	for _, r := range s.Refused() {
		res.Messages = append(res.Messages, fmt.Sprintf("refused %s %s: %v", CommentID(string(r.Change.Action)), CommentKey(r.Change.Key()), r.Err))
	}
	return res
}

// Text renders the lines with their mode indentation, one per line.
func (s *Script) Text() string {
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(strings.Repeat(s.d.Indent, l.Depth))
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
