package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// Position is a place in the configuration file (1-based; 0: unknown).
type Position struct{ Line, Column int }

func (p Position) String() string {
	switch {
	case p.Line == 0:
		return ""
	case p.Column == 0:
		return strconv.Itoa(p.Line)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// checkShape walks the YAML document along the Config type before it is
// decoded, and reports each value of the wrong type and each unknown key
// with its field path and position: the decoder (YAML converted to JSON,
// then encoding/json) reports "error unmarshaling JSON" with neither. The
// drivers' keys (those Fabric and Switch do not know) are left to the
// drivers, and types that decode themselves (UnmarshalJSON) to their own
// messages.
func checkShape(root *yamlv3.Node) []locatedProblem {
	if root == nil || len(root.Content) == 0 {
		return nil
	}
	var out []locatedProblem
	walkShape(root.Content[0], reflect.TypeOf(Config{}), "", &out)
	return out
}

type locatedProblem struct {
	pos     Position
	problem string
}

var (
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	fabricType      = reflect.TypeOf(Fabric{})
	switchType      = reflect.TypeOf(Switch{})
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func posOf(n *yamlv3.Node) Position { return Position{Line: n.Line, Column: n.Column} }

// describe names what a YAML node holds, for messages.
func describe(n *yamlv3.Node) string {
	switch n.Kind {
	case yamlv3.MappingNode:
		return "a mapping"
	case yamlv3.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!bool":
		return "the boolean " + n.Value
	case "!!int", "!!float":
		return "the number " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

func walkShape(n *yamlv3.Node, t reflect.Type, path string, out *[]locatedProblem) {
	for n.Kind == yamlv3.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yamlv3.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	bad := func(want string) {
		msg := fmt.Sprintf("%s, want %s", describe(n), want)
		if path != "" {
			msg = path + ": " + msg
		}
		*out = append(*out, locatedProblem{posOf(n), msg})
	}
	driverKeys := t == fabricType || t == switchType
	if !driverKeys && reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return // it checks itself, with its own message
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yamlv3.MappingNode {
			bad("a mapping (key: value)")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				if !driverKeys {
					*out = append(*out, locatedProblem{posOf(k), fmt.Sprintf("%s: unknown field", join(path, k.Value))})
				}
				continue
			}
			walkShape(v, f.Type, join(path, k.Value), out)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yamlv3.SequenceNode {
			bad("a list")
			return
		}
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if name := mapValue(e, "name"); path == "fabrics" && name != nil && name.Kind == yamlv3.ScalarNode && name.Value != "" {
				p = fmt.Sprintf("%s[%d] (%s)", path, i, name.Value)
			}
			walkShape(e, t.Elem(), p, out)
		}
	case reflect.Map:
		if n.Kind != yamlv3.MappingNode {
			bad("a mapping (key: value)")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkShape(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), out)
		}
	case reflect.String:
		// Any scalar is a string to a string field ("63500", on, 1.5).
		if n.Kind != yamlv3.ScalarNode {
			bad("a string")
		}
	case reflect.Bool:
		if n.Kind != yamlv3.ScalarNode || n.ShortTag() != "!!bool" {
			bad("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		lo, hi := int64(-1)<<(bits-1), int64(math.MaxInt64)>>(64-bits)
		var v int64
		if n.Kind != yamlv3.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v < lo || v > hi {
			if bits == 64 || t.Kind() == reflect.Int {
				bad("an integer")
			} else {
				bad(fmt.Sprintf("an integer from %d to %d", lo, hi))
			}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		hi := uint64(math.MaxUint64) >> (64 - t.Bits())
		var v uint64
		if n.Kind != yamlv3.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v > hi {
			bad(fmt.Sprintf("an integer from 0 to %d", hi))
		}
	case reflect.Float32, reflect.Float64:
		if n.Kind != yamlv3.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			bad("a number")
		}
	}
}

// fieldByKey finds the struct field a JSON key decodes into (exactly, else
// ignoring case, as encoding/json does), the fields of an embedded struct
// without a JSON name included as their own (as encoding/json inlines
// them: SessionSettings' fabric.SessionDefaults).
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for _, f := range jsonFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}

// jsonFields lists the fields encoding/json decodes into: the struct's
// own, then those of the structs it embeds without a JSON name (an outer
// field shadows an inner one of its name, as in encoding/json).
func jsonFields(t reflect.Type) []reflect.StructField {
	var out, inner []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			inner = append(inner, jsonFields(ft)...)
			continue
		}
		if f.IsExported() {
			out = append(out, f)
		}
	}
	return append(out, inner...)
}

var (
	pathNameRe = regexp.MustCompile(` \([^)]*\)`)
	pathRe     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\[\d+\])*( \([^)]*\))?(\.[A-Za-z][A-Za-z0-9_]*(\[\d+\])*( \([^)]*\))?)*$`)
	segmentRe  = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]*)((?:\[\d+\])*)$`)
	indexRe    = regexp.MustCompile(`\[(\d+)\]`)
)

// positionOf finds where a problem ("fabrics[0] (name).switches[1].sviPath:
// ...") is in the document: the key of the deepest field of its path that
// the document has (a missing field is reported where its parent is). A
// driver's problem with its own section continues the path after the
// section's ("fabrics[0] (name).<driver>: key.subkey: ...").
func positionOf(root *yamlv3.Node, problem string) Position {
	if root == nil || len(root.Content) == 0 {
		return Position{}
	}
	var segs []string
	for rest := problem; ; {
		path, after, ok := strings.Cut(rest, ": ")
		if !ok || !pathRe.MatchString(path) {
			break
		}
		segs = append(segs, strings.Split(pathNameRe.ReplaceAllString(path, ""), ".")...)
		rest = after
	}
	n := root.Content[0]
	var at Position
	for _, seg := range segs {
		m := segmentRe.FindStringSubmatch(seg)
		if m == nil || n.Kind != yamlv3.MappingNode {
			return at
		}
		var next *yamlv3.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == m[1] {
				at, next = posOf(n.Content[i]), n.Content[i+1]
				break
			}
		}
		if next == nil {
			return at
		}
		n = next
		for _, ix := range indexRe.FindAllStringSubmatch(m[2], -1) {
			i, _ := strconv.Atoi(ix[1])
			if n.Kind != yamlv3.SequenceNode || i >= len(n.Content) {
				return at
			}
			n = n.Content[i]
			at = posOf(n)
		}
	}
	return at
}

// yamlLineRe finds the line in a YAML syntax error ("yaml: line 5: ...").
var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError makes a YAML syntax error a located problem.
func syntaxError(err error) *ValidationError {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ValidationError{Problems: []string{"YAML: " + m[2]}, Positions: []Position{{Line: line}}}
	}
	return &ValidationError{Problems: []string{strings.TrimPrefix(msg, "yaml: ")}, Positions: []Position{{}}}
}
