package cli

import (
	"sort"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Phase is the step of an apply in which a change is made.
type Phase int

const (
	// PhaseFiltersUp creates and updates prefix filters: they exist before a
	// neighbor refers to them.
	PhaseFiltersUp Phase = iota + 1
	// PhasePolicyUp creates and updates maximum-paths: ECMP is in place
	// before routes arrive.
	PhasePolicyUp
	// PhasePeersDown deletes neighbors, before their filters go.
	PhasePeersDown
	// PhasePeersUp creates and updates neighbors.
	PhasePeersUp
	// PhaseFiltersDown deletes prefix filters no neighbor uses any more.
	PhaseFiltersDown
	// PhasePolicyDown deletes maximum-paths.
	PhasePolicyDown
	// PhaseOther holds kinds a CLI platform does not configure (external
	// subnets, contracts); a driver refuses them.
	PhaseOther
)

// PhaseOf returns the phase in which a change is made.
func PhaseOf(c fabric.Change) Phase {
	del := c.Action == fabric.ActionDelete
	switch c.Kind {
	case fabric.KindPrefixFilter:
		if del {
			return PhaseFiltersDown
		}
		return PhaseFiltersUp
	case fabric.KindMaximumPaths:
		if del {
			return PhasePolicyDown
		}
		return PhasePolicyUp
	case fabric.KindBGPPeer, fabric.KindBGPListen:
		// A listen group writes its own filter before itself.
		if del {
			return PhasePeersDown
		}
		return PhasePeersUp
	}
	return PhaseOther
}

// Order returns the changes in the order a CLI switch must receive them (see
// the package comment). The input is not modified; within a phase the
// changes keep their relative order.
func Order(changes []fabric.Change) []fabric.Change {
	out := append([]fabric.Change(nil), changes...)
	sort.SliceStable(out, func(i, j int) bool { return PhaseOf(out[i]) < PhaseOf(out[j]) })
	return out
}

// BySwitch splits changes by switch, keeping their order; switches are
// returned sorted.
func BySwitch(changes []fabric.Change) (switches []string, bySwitch map[string][]fabric.Change) {
	bySwitch = map[string][]fabric.Change{}
	for _, c := range changes {
		if _, ok := bySwitch[c.Switch]; !ok {
			switches = append(switches, c.Switch)
		}
		bySwitch[c.Switch] = append(bySwitch[c.Switch], c)
	}
	sort.Strings(switches)
	return switches, bySwitch
}
