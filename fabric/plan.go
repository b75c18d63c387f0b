package fabric

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// FormatVersion is the version of the JSON plan format. It changes only when
// a change would break a reader of the previous version.
const FormatVersion = 1

// Action is what a change does to one object.
type Action string

const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Change is one object to create, update or delete. Before is nil for a
// create and After is nil for a delete.
type Change struct {
	Action Action
	Kind   Kind
	Switch string
	ID     string
	Before Object
	After  Object
	// Sources are the input objects the desired object came from (not set
	// on deletes).
	Sources []string
}

// Key returns the key of the object the change touches.
func (c Change) Key() Key { return Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID} }

// Object returns the object as it will be after the change, or as it was
// before a delete.
func (c Change) Object() Object {
	if c.After != nil {
		return c.After
	}
	return c.Before
}

type changeJSON struct {
	Action  Action          `json:"action"`
	Kind    Kind            `json:"kind"`
	Switch  string          `json:"switch"`
	ID      string          `json:"id"`
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
	Sources []string        `json:"sources,omitempty"`
}

func (c Change) MarshalJSON() ([]byte, error) {
	j := changeJSON{Action: c.Action, Kind: c.Kind, Switch: c.Switch, ID: c.ID,
		Before: json.RawMessage("null"), After: json.RawMessage("null"), Sources: c.Sources}
	var err error
	if c.Before != nil {
		if j.Before, err = json.Marshal(c.Before); err != nil {
			return nil, err
		}
	}
	if c.After != nil {
		if j.After, err = json.Marshal(c.After); err != nil {
			return nil, err
		}
	}
	return json.Marshal(j)
}

func (c *Change) UnmarshalJSON(b []byte) error {
	var j changeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Change{Action: j.Action, Kind: j.Kind, Switch: j.Switch, ID: j.ID, Sources: j.Sources}
	switch j.Action {
	case ActionCreate, ActionUpdate, ActionDelete, ActionAdopt:
	default:
		return fmt.Errorf("change %s %s: unknown action %q", j.Kind, j.ID, j.Action)
	}
	var err error
	if len(j.Before) > 0 && !bytes.Equal(j.Before, []byte("null")) {
		if c.Before, err = DecodeObject(j.Kind, j.Switch, j.ID, j.Before); err != nil {
			return err
		}
	}
	if len(j.After) > 0 && !bytes.Equal(j.After, []byte("null")) {
		if c.After, err = DecodeObject(j.Kind, j.Switch, j.ID, j.After); err != nil {
			return err
		}
	}
	if (c.Action == ActionCreate && (c.After == nil || c.Before != nil)) ||
		(c.Action == ActionDelete && (c.Before == nil || c.After != nil)) ||
		((c.Action == ActionUpdate || c.Action == ActionAdopt) && (c.Before == nil || c.After == nil)) {
		return fmt.Errorf("change %s %s: before/after do not fit action %s", j.Kind, j.ID, j.Action)
	}
	return nil
}

// Conflict is a desired object whose place on the fabric is taken by an
// object this cluster does not own. The reconciler leaves it alone.
type Conflict struct {
	Kind   Kind   `json:"kind"`
	Switch string `json:"switch"`
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Reason string `json:"reason"`
}

// Summary counts the changes of a plan by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
	// Adopt counts adoptions (only in plans of the adopt command).
	Adopt int `json:"adopt,omitempty"`
}

// Total is the number of changes.
func (s Summary) Total() int { return s.Create + s.Update + s.Delete + s.Adopt }

func (s *Summary) add(o Summary) {
	s.Create += o.Create
	s.Update += o.Update
	s.Delete += o.Delete
	s.Adopt += o.Adopt
}

// Held is a change the plan holds back, and why.
type Held struct {
	Change
	Reason string
}

func (h Held) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(h.Change)
	if err != nil {
		return nil, err
	}
	r, _ := json.Marshal(h.Reason)
	return append(append(b[:len(b)-1], `,"reason":`...), append(r, '}')...), nil
}

func (h *Held) UnmarshalJSON(b []byte) error {
	var r struct {
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &h.Change); err != nil {
		return err
	}
	h.Reason = r.Reason
	return nil
}

// Changeset is one fabric's part of a Plan: the changes that bring it to
// its Target.
type Changeset struct {
	Name      string
	Driver    string
	Changes   []Change
	Conflicts []Conflict
	// Held are changes kept back: their objects came from skipped or
	// missing input, or the fabric's policy does not allow them.
	Held []Held
	// Refused, when set, says why no change of this plan may be applied
	// (a safety guard: too many deletes, an empty desired state).
	Refused string
	// Error, when set, says why the fabric could not be planned (its
	// observation failed); Changes is then empty and means nothing.
	Error string
}

// Summary counts the fabric's changes.
func (p Changeset) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case ActionCreate:
			s.Create++
		case ActionUpdate:
			s.Update++
		case ActionDelete:
			s.Delete++
		case ActionAdopt:
			s.Adopt++
		}
	}
	return s
}

// Switches returns the switches the plan touches, "" (fabric-wide) first.
func (p Changeset) Switches() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Changes {
		if !seen[c.Switch] {
			seen[c.Switch] = true
			out = append(out, c.Switch)
		}
	}
	sort.Strings(out)
	return out
}

// ForSwitch returns the part of the plan that touches one switch.
func (p Changeset) ForSwitch(sw string) Changeset {
	out := Changeset{Name: p.Name, Driver: p.Driver}
	for _, c := range p.Changes {
		if c.Switch == sw {
			out.Changes = append(out.Changes, c)
		}
	}
	for _, c := range p.Conflicts {
		if c.Switch == sw {
			out.Conflicts = append(out.Conflicts, c)
		}
	}
	for _, h := range p.Held {
		if h.Switch == sw {
			out.Held = append(out.Held, h)
		}
	}
	return out
}

type fabricPlanJSON struct {
	Name      string     `json:"name"`
	Driver    string     `json:"driver"`
	Changes   []Change   `json:"changes"`
	Summary   Summary    `json:"summary"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
	Held      []Held     `json:"held,omitempty"`
	Refused   string     `json:"refused,omitempty"`
	Error     string     `json:"error,omitempty"`
}

func (p Changeset) MarshalJSON() ([]byte, error) {
	ch := p.Changes
	if ch == nil {
		ch = []Change{}
	}
	return json.Marshal(p.jsonForm(ch))
}

// jsonForm is the plan's JSON form with the given changes (its summary
// counts its own).
func (p Changeset) jsonForm(changes []Change) fabricPlanJSON {
	return fabricPlanJSON{Name: p.Name, Driver: p.Driver, Changes: changes, Summary: p.Summary(), Conflicts: p.Conflicts,
		Held: p.Held, Refused: p.Refused, Error: p.Error}
}

func (p *Changeset) UnmarshalJSON(b []byte) error {
	var j fabricPlanJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Changeset{Name: j.Name, Driver: j.Driver, Changes: j.Changes, Conflicts: j.Conflicts, Held: j.Held, Refused: j.Refused, Error: j.Error}
	if got := p.Summary(); got != j.Summary {
		return fmt.Errorf("fabric %s: summary %+v does not match its %d changes", j.Name, j.Summary, len(j.Changes))
	}
	return nil
}

// Plan is the whole dry-run result: one plan per fabric, plus the input
// objects that were skipped and warnings about the cluster's own setup.
type Plan struct {
	FormatVersion int         `json:"formatVersion"`
	Fabrics       []Changeset `json:"fabrics"`
	Skipped       []Skip      `json:"skipped"`
	Warnings      []string    `json:"warnings,omitempty"`
}

// planJSON is Plan as WriteJSON lays it out; it must list Plan's fields
// (TestWriteJSONIsTheEncoding holds them together).
type planJSON struct {
	FormatVersion int              `json:"formatVersion"`
	Fabrics       []fabricPlanJSON `json:"fabrics"`
	Skipped       []Skip           `json:"skipped"`
	Warnings      []string         `json:"warnings,omitempty"`
}

// NewPlan assembles a plan.
func NewPlan(fabrics []Changeset, skipped []Skip, warnings []string) Plan {
	if fabrics == nil {
		fabrics = []Changeset{}
	}
	if skipped == nil {
		skipped = []Skip{}
	}
	return Plan{FormatVersion: FormatVersion, Fabrics: fabrics, Skipped: skipped, Warnings: warnings}
}

// Summary counts the changes of every fabric.
func (p Plan) Summary() Summary {
	var s Summary
	for _, f := range p.Fabrics {
		s.add(f.Summary())
	}
	return s
}

// HasChanges reports whether applying the plan would change anything.
func (p Plan) HasChanges() bool { return p.Summary().Total() > 0 }

// ParsePlan reads a JSON plan and checks its format version.
func ParsePlan(b []byte) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("plan: %w", err)
	}
	if p.FormatVersion != FormatVersion {
		return p, fmt.Errorf("plan: formatVersion %d is not supported (want %d)", p.FormatVersion, FormatVersion)
	}
	return p, nil
}

// ApplyResult is what a driver reports after applying a plan.
type ApplyResult struct {
	// Applied are the changes the fabric accepted.
	Applied []Change
	// Conflicts are objects found in the way at apply time; left alone.
	Conflicts []Conflict
	// Messages summarise what the switch or controller answered, for people.
	Messages []string
}
