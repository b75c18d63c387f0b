package fabric

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ActionAdopt puts the cluster's ownership mark on an object that is on the
// fabric without any mark and is identical to the desired one: nothing else
// of the object changes. Only Adoption plans it, never Diff: adopting is a
// deliberate, reviewed step (the "adopt" command), never part of a sync.
const ActionAdopt Action = "adopt"

// Adoptable is what a driver tells about a foreign object when asked for
// adoption (drivers.Adopter): the object as the driver would read it were it
// marked, or why it cannot be adopted.
type Adoptable struct {
	// Object is the foreign object read as the driver reads its own; nil
	// when it cannot be adopted.
	Object Object
	// Rewrites are the attributes (JSON names) that adopting writes along
	// with the mark, and that are therefore not compared: on CLI platforms
	// the description that carries the mark also carries the node name.
	Rewrites []string
	// Why says why the object cannot be adopted (Object nil): a mark that
	// would be a new name, a parent without the mark, ...
	Why string
}

type adoptableJSON struct {
	Spec     json.RawMessage `json:"spec,omitempty"`
	Rewrites []string        `json:"rewrites,omitempty"`
	Why      string          `json:"why,omitempty"`
}

// marshalAdoptable renders the adoptable part of a foreign object.
func (a *Adoptable) marshal() (adoptableJSON, error) {
	j := adoptableJSON{Rewrites: a.Rewrites, Why: a.Why}
	if a.Object != nil {
		b, err := json.Marshal(a.Object.canonical())
		if err != nil {
			return j, err
		}
		j.Spec = b
	}
	return j, nil
}

type foreignJSON struct {
	Kind   Kind   `json:"kind"`
	Switch string `json:"switch"`
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	// Adoption: present only in observations made for adoption.
	Adoption *adoptableJSON `json:"adoption,omitempty"`
}

func (f Foreign) MarshalJSON() ([]byte, error) {
	j := foreignJSON{Kind: f.Kind, Switch: f.Switch, ID: f.ID, Owner: f.Owner}
	if f.Adoption != nil {
		a, err := f.Adoption.marshal()
		if err != nil {
			return nil, err
		}
		j.Adoption = &a
	}
	return json.Marshal(j)
}

func (f *Foreign) UnmarshalJSON(b []byte) error {
	var j foreignJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Foreign{Kind: j.Kind, Switch: j.Switch, ID: j.ID, Owner: j.Owner}
	if j.Adoption != nil {
		f.Adoption = &Adoptable{Rewrites: j.Adoption.Rewrites, Why: j.Adoption.Why}
		if len(j.Adoption.Spec) > 0 && !bytes.Equal(j.Adoption.Spec, []byte("null")) {
			o, err := DecodeObject(j.Kind, j.Switch, j.ID, j.Adoption.Spec)
			if err != nil {
				return fmt.Errorf("foreign %s: %w", Key{Kind: j.Kind, Switch: j.Switch, ID: j.ID}, err)
			}
			f.Adoption.Object = o.canonical()
		}
	}
	return nil
}

// text is the foreign object in one comparable line: equal lines, equal
// objects (attributes included).
func (f Foreign) text() string {
	b, _ := json.Marshal(f)
	return string(b)
}

// Adoption plans taking over, for one fabric, the objects the desired state
// wants that are on the fabric without any ownership mark. For each desired
// object that the cluster does not own and whose place an unmarked object
// takes:
//
//   - identical (every attribute the driver manages, except those the mark
//     itself rewrites): an adopt change, which puts the mark on it;
//   - otherwise a conflict that says what differs, or why it cannot be
//     adopted.
//
// An object owned by another cluster, or inside a container the cluster
// does not own, is never adopted. Nothing else is planned (no create,
// update or delete: those are sync's), so an adoption changes nothing but
// marks. The observation must come from drivers.Adopter.ObserveForAdoption.
func Adoption(desired Target, observed Observed) Changeset {
	plan := Changeset{Name: desired.Name, Driver: desired.Driver}
	want := indexObjects(desired.State.Objects())
	have := indexObjects(observed.Owned.Objects())
	exact := map[Key]Foreign{}
	var wide []Foreign
	for _, f := range observed.Foreign {
		if strings.HasSuffix(f.ID, "/"+AnyID) {
			wide = append(wide, f)
			continue
		}
		if _, dup := exact[f.Key()]; !dup {
			exact[f.Key()] = f
		}
	}
	wideAt := func(k Key) (Foreign, bool) {
		for _, f := range wide {
			if f.Kind == k.Kind && f.Switch == k.Switch && strings.HasPrefix(k.ID, strings.TrimSuffix(f.ID, AnyID)) {
				return f, true
			}
		}
		return Foreign{}, false
	}
	conflict := func(k Key, owner, reason string) {
		plan.Conflicts = append(plan.Conflicts, Conflict{Kind: k.Kind, Switch: k.Switch, ID: k.ID, Owner: owner, Reason: reason})
	}
	for _, k := range sortedKeys(want) {
		if _, owned := have[k]; owned {
			continue
		}
		f, taken := exact[k]
		if w, in := wideAt(k); in {
			// Never adopt a child of a container the cluster does not own.
			conflict(k, w.Owner, conflictReason(w)+"; it cannot be adopted: its container is not the cluster's")
			continue
		}
		if !taken {
			continue // nothing in the way: a create, which is sync's
		}
		if f.Owner != "" {
			conflict(k, f.Owner, conflictReason(f)+"; it is never adopted: it carries another owner's mark")
			continue
		}
		a := f.Adoption
		switch {
		case a == nil:
			conflict(k, "", conflictReason(f)+"; it cannot be adopted: the driver did not read it for adoption")
			continue
		case a.Object == nil:
			why := a.Why
			if why == "" {
				why = "the driver cannot read it as one of its objects"
			}
			conflict(k, "", conflictReason(f)+"; it cannot be adopted: "+why)
			continue
		}
		if diffs := Differences(a.Object, want[k], a.Rewrites); len(diffs) > 0 {
			conflict(k, "", "an object without an ownership mark is in the way and differs from the desired one ("+
				strings.Join(diffs, "; ")+"); it is left alone and cannot be adopted")
			continue
		}
		plan.Changes = append(plan.Changes, Change{Action: ActionAdopt, Kind: k.Kind, Switch: k.Switch, ID: k.ID,
			Before: a.Object.canonical(), After: want[k]})
	}
	slices.SortStableFunc(plan.Changes, func(a, b Change) int { return compareKey(a.Key(), b.Key()) })
	plan = plan.HoldBack(desired.Holds)
	for i, c := range plan.Changes {
		plan.Changes[i].Sources = desired.Sources[c.Key()]
	}
	return plan
}

// Differences lists, for people, the attributes in which the object on the
// fabric (have) differs from the desired one (want), leaving out the
// attributes in skip: "remoteASN 63551 on the fabric, 63552 desired".
// Empty when they are identical.
func Differences(have, want Object, skip []string) []string {
	if have.Kind() != want.Kind() {
		return []string{fmt.Sprintf("it is a %s, not a %s", have.Kind(), want.Kind())}
	}
	var out []string
	if have.SwitchName() != want.SwitchName() {
		out = append(out, fmt.Sprintf("switch %q on the fabric, %q desired", have.SwitchName(), want.SwitchName()))
	}
	hm, wm := jsonAttrs(have.canonical()), jsonAttrs(want.canonical())
	names := map[string]bool{}
	for n := range hm {
		names[n] = true
	}
	for n := range wm {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == n
		}
		if !skipped {
			sorted = append(sorted, n)
		}
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		h, w := hm[n], wm[n]
		if bytes.Equal(h, w) {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s on the fabric, %s desired", n, attrText(h), attrText(w)))
	}
	return out
}

func jsonAttrs(o Object) map[string]json.RawMessage {
	b, _ := json.Marshal(o)
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &m)
	return m
}

func attrText(v json.RawMessage) string {
	if len(v) == 0 {
		return "(none)"
	}
	return string(v)
}

// AdoptOnly reports whether every change of the plan is an adoption: how a
// driver's Adopt checks that it is given nothing else.
func (p Changeset) AdoptOnly() bool {
	for _, c := range p.Changes {
		if c.Action != ActionAdopt {
			return false
		}
	}
	return true
}
