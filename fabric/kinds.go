package fabric

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// KindSpec declares one kind of fabric object, in one place: its Go type
// (New), and so its id, JSON attributes, text rendering and validation (the
// type's methods and tags: every renderer and decoder follows them), where
// it comes in a plan, and which updates take something away. Which drivers
// write it is each driver's business (drivers.Spec.Desire produces it).
//
// Adding an attribute to a kind is adding a field to its type; adding a
// kind is adding its type, a row here, and its list in State.
type KindSpec struct {
	Kind Kind
	// New returns the zero value of the kind's type.
	New func() Object
	// Shrinks reports whether an update takes something away (for holds
	// that let additions through); nil: every update does.
	Shrinks func(before, after Object) bool
}

// kindSpecs lists every kind in the order plans present and drivers create
// them: filters and policies before the peers that use them.
var kindSpecs = []KindSpec{
	{Kind: KindPrefixFilter, New: func() Object { return PrefixFilter{} },
		Shrinks: func(b, a Object) bool { return !subset(b.(PrefixFilter).Prefixes, a.(PrefixFilter).Prefixes) }},
	{Kind: KindMaximumPaths, New: func() Object { return MaximumPaths{} },
		Shrinks: func(b, a Object) bool { return a.(MaximumPaths).Paths < b.(MaximumPaths).Paths }},
	{Kind: KindSessionPolicy, New: func() Object { return SessionPolicy{} }},
	// Any change to a BGP peer (its AS numbers, its family) resets the
	// session.
	{Kind: KindBGPPeer, New: func() Object { return BGPPeer{} }},
	{Kind: KindBGPListen, New: func() Object { return BGPListen{} }, Shrinks: listenShrinks},
	{Kind: KindExternalSubnet, New: func() Object { return ExternalSubnet{} },
		Shrinks: func(b, a Object) bool { return !subset(b.(ExternalSubnet).Scopes, a.(ExternalSubnet).Scopes) }},
	{Kind: KindContract, New: func() Object { return Contract{} },
		Shrinks: func(b, a Object) bool {
			bc, ac := b.(Contract), a.(Contract)
			return ac.Provider != bc.Provider || !subset(bc.Entries, ac.Entries) || !subset(bc.Consumers, ac.Consumers)
		}},
}

// Kinds lists every kind, in plan order.
var Kinds = func() []Kind {
	out := make([]Kind, len(kindSpecs))
	for i, s := range kindSpecs {
		out[i] = s.Kind
	}
	return out
}()

// SpecOf returns a kind's declaration.
func SpecOf(k Kind) (KindSpec, bool) {
	for _, s := range kindSpecs {
		if s.Kind == k {
			return s, true
		}
	}
	return KindSpec{}, false
}

func kindRank(k Kind) int {
	for i, s := range kindSpecs {
		if s.Kind == k {
			return i
		}
	}
	return len(kindSpecs)
}

// idSetter is implemented by kinds whose id is not among their JSON
// attributes (maximum-paths: the address family).
type idSetter interface{ withID(id string) Object }

func (m MaximumPaths) withID(id string) Object {
	m.AddressFamily = AddressFamily(id)
	return m
}

// DecodeObject rebuilds an object from its kind, switch, id and JSON
// attributes (the "before"/"after" of a plan change, or a Record's spec).
func DecodeObject(kind Kind, sw, id string, attrs []byte) (Object, error) {
	spec, ok := SpecOf(kind)
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	ptr := reflect.New(reflect.TypeOf(spec.New()))
	if err := json.Unmarshal(attrs, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	o := ptr.Elem().Interface().(Object)
	if s, ok := o.(idSetter); ok {
		o = s.withID(id)
	}
	o = o.withSwitch(sw)
	if id != "" && o.ID() != id {
		return nil, fmt.Errorf("%s: id %q does not match its attributes (%q)", kind, id, o.ID())
	}
	return o, nil
}
