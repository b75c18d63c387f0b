package fabric

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
)

// Diff computes the changes that turn what a fabric holds (observed, owned
// objects only) into what it should hold (desired).
//
//   - a desired object that is not observed is created, unless a foreign
//     object occupies its place: that is a conflict and nothing is planned;
//   - a desired object that is observed with other attributes is updated;
//   - an observed owned object that is not desired is deleted.
//
// Foreign objects are never updated or deleted.
func Diff(desired Target, observed Observed) Changeset {
	plan := Changeset{Name: desired.Name, Driver: desired.Driver}

	// Indexed unsorted (the keys are sorted below): the first of
	// duplicate keys still wins, as objects() keeps the state's order.
	want := indexObjects(desired.State.objects())
	have := indexObjects(observed.Owned.objects())
	foreign := map[Key]Foreign{}
	var wide []Foreign   // ids ending in "/*": every object under that prefix
	var ranges []Foreign // peer kinds with a prefix for id: every address in it
	for _, f := range observed.Foreign {
		foreign[f.Key()] = f
		if strings.HasSuffix(f.ID, "/"+AnyID) {
			wide = append(wide, f)
		}
		if _, ok := peerRange(f); ok {
			ranges = append(ranges, f)
		}
	}
	foreignAt := func(k Key) (Foreign, bool) {
		if f, ok := foreign[k]; ok {
			return f, true
		}
		for _, f := range wide {
			if f.Kind == k.Kind && f.Switch == k.Switch && strings.HasPrefix(k.ID, strings.TrimSuffix(f.ID, AnyID)) {
				return f, true
			}
		}
		if a, err := netip.ParseAddr(k.ID); err == nil {
			for _, f := range ranges {
				if p, _ := peerRange(f); f.Kind == k.Kind && f.Switch == k.Switch && p.Contains(a.Unmap()) {
					return f, true
				}
			}
		}
		return Foreign{}, false
	}

	for _, k := range sortedKeys(want) {
		w := want[k]
		h, ok := have[k]
		switch {
		case ok && !equalObjects(w, h):
			plan.Changes = append(plan.Changes, Change{Action: ActionUpdate, Kind: k.Kind, Switch: k.Switch, ID: k.ID, Before: h, After: w})
		case ok:
			// In place and equal.
		default:
			if f, taken := foreignAt(k); taken {
				plan.Conflicts = append(plan.Conflicts, Conflict{Kind: k.Kind, Switch: k.Switch, ID: k.ID, Owner: f.Owner, Reason: conflictReason(f)})
				continue
			}
			// A contract provided by a group the cluster does not own
			// would have to write into that group.
			if c, isContract := w.(Contract); isContract {
				if f, taken := foreignAt(Key{Kind: KindExternalSubnet, ID: c.Provider + "/"}); taken {
					plan.Conflicts = append(plan.Conflicts, Conflict{Kind: k.Kind, Switch: k.Switch, ID: k.ID, Owner: f.Owner,
						Reason: "its provider " + conflictReason(f)})
					continue
				}
			}
			plan.Changes = append(plan.Changes, Change{Action: ActionCreate, Kind: k.Kind, Switch: k.Switch, ID: k.ID, After: w})
		}
	}
	for _, k := range sortedKeys(have) {
		if _, ok := want[k]; !ok {
			plan.Changes = append(plan.Changes, Change{Action: ActionDelete, Kind: k.Kind, Switch: k.Switch, ID: k.ID, Before: have[k]})
		}
	}
	slices.SortStableFunc(plan.Changes, func(a, b Change) int { return compareKey(a.Key(), b.Key()) })
	plan = plan.HoldBack(desired.Holds)
	for i, c := range plan.Changes {
		if c.Action != ActionDelete {
			plan.Changes[i].Sources = desired.Sources[c.Key()]
		}
	}
	return plan
}

// HoldBack moves the changes a hold covers from Changes to Held.
func (p Changeset) HoldBack(holds []Hold) Changeset {
	if len(holds) == 0 {
		return p
	}
	kept := p.Changes[:0:0]
	for _, c := range p.Changes {
		reason := ""
		for _, h := range holds {
			if h.holds(c) {
				reason = h.Reason
				break
			}
		}
		if reason == "" {
			kept = append(kept, c)
			continue
		}
		p.Held = append(p.Held, Held{Change: c, Reason: reason})
	}
	p.Changes = kept
	return p
}

// peerRange is the prefix of a foreign peer or filter whose id is a
// prefix: a range of addresses the switch accepts sessions from (a dynamic
// neighbor range, FRR "bgp listen range", an NX-OS prefix neighbor). It
// stands for every address in it.
func peerRange(f Foreign) (netip.Prefix, bool) {
	if f.Kind != KindBGPPeer && f.Kind != KindPrefixFilter {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(f.ID)
	return p.Masked(), err == nil
}

func conflictReason(f Foreign) string {
	if p, ok := peerRange(f); ok {
		return fmt.Sprintf("the address is in %s, a range of dynamic neighbors without this cluster's mark; nothing is configured for it", p)
	}
	if strings.HasSuffix(f.ID, "/"+AnyID) {
		where := strings.TrimSuffix(f.ID, "/"+AnyID)
		if f.Owner == "" {
			return fmt.Sprintf("%s, without an ownership mark, is in the way; nothing is added to it", where)
		}
		return fmt.Sprintf("%s, owned by %q, is in the way; nothing is added to it", where, f.Owner)
	}
	if f.Owner == "" {
		return "an object without an ownership mark is in the way; it is left alone"
	}
	return fmt.Sprintf("an object owned by %q is in the way; it is left alone", f.Owner)
}

// indexObjects keys objects; on a duplicate key the first object wins, so a
// malformed input can never make Diff panic.
func indexObjects(objs []Object) map[Key]Object {
	m := make(map[Key]Object, len(objs))
	for _, o := range objs {
		k := KeyOf(o)
		if _, dup := m[k]; !dup {
			m[k] = o
		}
	}
	return m
}

func sortedKeys(m map[Key]Object) []Key {
	keys := make([]Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKey) // keys are unique: any sort gives one order
	return keys
}

// equalObjects compares two canonical objects by their public attributes.
func equalObjects(a, b Object) bool {
	if a.SwitchName() != b.SwitchName() {
		return false
	}
	// Identical values encode identically: the encoding is only needed
	// when they differ somewhere (a secret encodes as its fingerprint).
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb) && a.SwitchName() == b.SwitchName()
}

// Equal reports whether two objects mean the same thing.
func Equal(a, b Object) bool { return equalObjects(a.canonical(), b.canonical()) }
