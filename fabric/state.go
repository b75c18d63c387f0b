package fabric

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// State is a set of fabric objects: what one fabric should hold (desired) or
// what it holds and this cluster owns (observed).
type State struct {
	Peers         []BGPPeer
	Subnets       []ExternalSubnet
	MaximumPaths  []MaximumPaths
	Contracts     []Contract
	PrefixFilters []PrefixFilter
	Listens       []BGPListen
	Sessions      []SessionPolicy
}

// Objects returns every object of the state, each in canonical form, sorted
// by switch, kind and id.
func (s State) Objects() []Object {
	out := s.objects()
	sortObjects(out)
	return out
}

// PeerNode is one node session's node name and peer address, as a BGPPeer
// or a PrefixFilter of a state names them.
type PeerNode struct {
	Node, PeerAddress string
}

// PeerNodes returns the node and address of every peer and prefix filter,
// in the order Objects gives those objects, without canonicalizing the
// rest (a filter's rules are not needed to know whose session it is).
func (s State) PeerNodes() []PeerNode {
	type keyed struct {
		k  Key
		pn PeerNode
	}
	ks := make([]keyed, 0, len(s.Peers)+len(s.PrefixFilters))
	for _, p := range s.Peers {
		a := p.canonicalID()
		ks = append(ks, keyed{Key{Kind: KindBGPPeer, Switch: p.Switch, ID: a}, PeerNode{p.Node, a}})
	}
	for _, f := range s.PrefixFilters {
		a := f.canonicalID()
		ks = append(ks, keyed{Key{Kind: KindPrefixFilter, Switch: f.Switch, ID: a}, PeerNode{f.Node, a}})
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return compareKey(a.k, b.k) })
	out := make([]PeerNode, len(ks))
	for i := range ks {
		out[i] = ks[i].pn
	}
	return out
}

// objects is Objects unsorted.
func (s State) objects() []Object {
	out := make([]Object, 0, s.Len())
	for _, o := range s.Peers {
		out = append(out, o.canonical())
	}
	for _, o := range s.Subnets {
		out = append(out, o.canonical())
	}
	for _, o := range s.MaximumPaths {
		out = append(out, o.canonical())
	}
	for _, o := range s.Contracts {
		out = append(out, o.canonical())
	}
	for _, o := range s.PrefixFilters {
		out = append(out, o.canonical())
	}
	for _, o := range s.Listens {
		out = append(out, o.canonical())
	}
	for _, o := range s.Sessions {
		out = append(out, o.canonical())
	}
	return out
}

// Add puts one object into the state.
func (s *State) Add(o Object) {
	switch v := o.(type) {
	case BGPPeer:
		s.Peers = append(s.Peers, v)
	case ExternalSubnet:
		s.Subnets = append(s.Subnets, v)
	case MaximumPaths:
		s.MaximumPaths = append(s.MaximumPaths, v)
	case Contract:
		s.Contracts = append(s.Contracts, v)
	case PrefixFilter:
		s.PrefixFilters = append(s.PrefixFilters, v)
	case BGPListen:
		s.Listens = append(s.Listens, v)
	case SessionPolicy:
		s.Sessions = append(s.Sessions, v)
	default:
		panic(fmt.Sprintf("fabric: unknown object type %T", o))
	}
}

// StateOf builds a state from objects.
func StateOf(objs ...Object) State {
	var s State
	for _, o := range objs {
		s.Add(o)
	}
	return s
}

// Len is the number of objects in the state.
func (s State) Len() int {
	return len(s.Peers) + len(s.Subnets) + len(s.MaximumPaths) + len(s.Contracts) + len(s.PrefixFilters) + len(s.Listens) + len(s.Sessions)
}

func sortObjects(objs []Object) {
	// Each key made once: KeyOf builds some IDs from parts.
	type keyed struct {
		k Key
		o Object
	}
	ks := make([]keyed, len(objs))
	for i, o := range objs {
		ks[i] = keyed{KeyOf(o), o}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return compareKey(a.k, b.k) })
	for i := range ks {
		objs[i] = ks[i].o
	}
}

// lessKey orders fabric-wide objects first (their switch is ""), then by
// switch, kind rank and id.
func lessKey(a, b Key) bool { return compareKey(a, b) < 0 }

// compareKey orders keys by switch, then kind (in declaration order), then id.
func compareKey(a, b Key) int {
	if c := strings.Compare(a.Switch, b.Switch); c != 0 {
		return c
	}
	if ra, rb := kindRank(a.Kind), kindRank(b.Kind); ra != rb {
		return cmp.Compare(ra, rb)
	}
	return strings.Compare(a.ID, b.ID)
}

// Foreign is an object found on the fabric at a place the cluster would write,
// that this cluster does not own (another owner's mark, or none).
type Foreign struct {
	Kind   Kind   `json:"kind"`
	Switch string `json:"switch"`
	ID     string `json:"id"`
	// Owner is the mark the object carries, "" when it carries none.
	Owner string `json:"owner"`
	// Adoption, set only by drivers.Adopter.ObserveForAdoption on objects
	// without a mark, is the object as the driver would read it, or why it
	// cannot be adopted (see Adoption). JSON: see MarshalJSON.
	Adoption *Adoptable `json:"-"`
}

// AnyID, as the last part of a foreign object's id ("EPG_X/*"), makes it
// stand for every id under that prefix: a container the cluster does not
// own, so that nothing it would put into it is planned.
const AnyID = "*"

// Key returns the key the foreign object occupies.
func (f Foreign) Key() Key { return Key{Kind: f.Kind, Switch: f.Switch, ID: f.ID} }

// Observed is what a driver found on one fabric.
type Observed struct {
	// Owned are the objects carrying this cluster's mark.
	Owned State
	// Foreign are objects at desired places that this cluster does not own.
	Foreign []Foreign
}

// Target is the state one fabric should reach for the cluster (a Changeset
// brings it there).
type Target struct {
	Name   string
	Driver string
	State  State
	// Sources names, for each desired object, the input objects it was
	// derived from ("Node/k8c1m0", "Service/multicast/mcast", ...): its
	// provenance, shown in plans.
	Sources map[Key][]string
	// Holds keep fabric objects as they are although the desired state
	// lacks or changes them: they came from input that was skipped or is
	// missing.
	Holds []Hold
}

// Skip is an input object that produced no fabric objects because it was bad.
type Skip struct {
	Object string `json:"object"` // Kind/namespace/name or Kind/name
	Reason string `json:"reason"`
}

// Desired is the translation of a cluster into every configured fabric.
type Desired struct {
	Fabrics  []Target
	Skipped  []Skip
	Warnings []string
}

// Fabric returns the desired state of the named fabric.
func (d Desired) Fabric(name string) (Target, bool) {
	for _, f := range d.Fabrics {
		if f.Name == name {
			return f, true
		}
	}
	return Target{}, false
}

// Record is the serialised form of one object, used for saved observations.
type Record struct {
	Kind   Kind            `json:"kind"`
	Switch string          `json:"switch"`
	ID     string          `json:"id"`
	Spec   json.RawMessage `json:"spec"`
}

// Snapshot is a saved observation of several fabrics: the --fabric-state file.
type Snapshot struct {
	FormatVersion int              `json:"formatVersion"`
	Fabrics       []SnapshotFabric `json:"fabrics"`
}

// SnapshotFabric is one fabric's saved observation.
type SnapshotFabric struct {
	Name    string    `json:"name"`
	Objects []Record  `json:"objects"`
	Foreign []Foreign `json:"foreign,omitempty"`
}

// NewSnapshotFabric records an observation.
func NewSnapshotFabric(name string, obs Observed) SnapshotFabric {
	sf := SnapshotFabric{Name: name, Objects: []Record{}, Foreign: obs.Foreign}
	for _, o := range obs.Owned.Objects() {
		b, _ := json.Marshal(o)
		sf.Objects = append(sf.Objects, Record{Kind: o.Kind(), Switch: o.SwitchName(), ID: o.ID(), Spec: b})
	}
	return sf
}

// Observed rebuilds the observation from its records.
func (sf SnapshotFabric) Observed() (Observed, error) {
	var obs Observed
	for i, r := range sf.Objects {
		o, err := DecodeObject(r.Kind, r.Switch, r.ID, r.Spec)
		if err != nil {
			return Observed{}, fmt.Errorf("fabric %s, object %d: %w", sf.Name, i, err)
		}
		obs.Owned.Add(o)
	}
	obs.Foreign = sf.Foreign
	return obs, nil
}

// ParseSnapshot reads a saved observation.
func ParseSnapshot(b []byte) (Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("fabric state: %w", err)
	}
	if s.FormatVersion != 1 {
		return s, fmt.Errorf("fabric state: formatVersion %d is not supported (want 1)", s.FormatVersion)
	}
	return s, nil
}

// CompareObserved lists, for people, how two observations of one fabric
// differ: owned objects that appeared, disappeared or changed, and foreign
// objects that appeared or disappeared. Empty when they hold the same.
func CompareObserved(a, b Observed) []string {
	var out []string
	ha, hb := indexObjects(a.Owned.Objects()), indexObjects(b.Owned.Objects())
	for _, k := range sortedKeys(ha) {
		ob, ok := hb[k]
		switch {
		case !ok:
			out = append(out, Safe(k.String())+" is gone")
		case !equalObjects(ha[k], ob):
			out = append(out, Safe(k.String())+" changed")
		}
	}
	for _, k := range sortedKeys(hb) {
		if _, ok := ha[k]; !ok {
			out = append(out, Safe(k.String())+" appeared")
		}
	}
	// Foreign objects compare with what was read of them for adoption:
	// an unmarked object that changed since an adoption was planned is
	// "gone" and "appeared".
	fa, fb := map[string]bool{}, map[string]bool{}
	for _, f := range a.Foreign {
		fa[f.text()] = true
	}
	for _, f := range b.Foreign {
		fb[f.text()] = true
	}
	for _, f := range a.Foreign {
		if !fb[f.text()] {
			out = append(out, Safe(f.Key().String())+" (not ours) is gone or changed")
		}
	}
	for _, f := range b.Foreign {
		if !fa[f.text()] {
			out = append(out, Safe(f.Key().String())+" (not ours) appeared or changed")
		}
	}
	return out
}

// Fingerprint is a digest of an observation: equal observations have equal
// fingerprints, whatever order the driver listed them in.
func (o Observed) Fingerprint() string {
	var b strings.Builder
	for _, obj := range o.Owned.Objects() {
		j, _ := json.Marshal(obj)
		fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\n", obj.Kind(), obj.SwitchName(), obj.ID(), j)
	}
	fs := append([]Foreign(nil), o.Foreign...)
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Key() != fs[j].Key() {
			return lessKey(fs[i].Key(), fs[j].Key())
		}
		return fs[i].Owner < fs[j].Owner
	})
	for _, f := range fs {
		fmt.Fprintf(&b, "foreign\x00%s\x00%s\x00%s\x00%s\n", f.Kind, f.Switch, f.ID, f.Owner)
		if f.Adoption != nil {
			fmt.Fprintf(&b, "adoption\x00%s\n", f.text())
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
