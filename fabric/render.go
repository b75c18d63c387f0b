package fabric

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type attr struct{ name, value string }

// attributes lists an object's attributes for people, in the order its
// type declares them, from the JSON attributes of its kind: a kind's
// attributes are declared once, on its type, and every rendering follows.
// Strings are quoted; values with a String method (a contract entry, a
// prefix rule) print that; lists print their elements in brackets.
func attributes(o Object) []attr {
	return structAttributes(reflect.ValueOf(o))
}

// structAttributes lists a struct's JSON attributes, flattening embedded
// structs as encoding/json does and leaving out empty omitempty ones.
func structAttributes(v reflect.Value) []attr {
	t := v.Type()
	var out []attr
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, structAttributes(v.Field(i))...)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
			continue
		}
		out = append(out, attr{name, attrValue(v.Field(i))})
	}
	return out
}

func attrValue(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Slice, reflect.Array:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = attrValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

var actionSymbol = map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionDelete: "-", ActionAdopt: "@"}

// WriteText renders the plan the way Terraform renders its plans: grouped by
// fabric and switch, one +/~/- line per object with its attributes, then the
// skipped inputs, warnings and a closing summary line.
func WriteText(w io.Writer, p Plan) error {
	var b strings.Builder
	for _, f := range p.Fabrics {
		fmt.Fprintf(&b, "Fabric %s (driver %s)\n", Safe(f.Name), Safe(f.Driver))
		if f.Error != "" {
			fmt.Fprintf(&b, "  NOT PLANNED: %s\n\n", Safe(f.Error))
			continue
		}
		if len(f.Changes) == 0 && len(f.Conflicts) == 0 && len(f.Held) == 0 {
			b.WriteString("  No changes: the fabric matches the cluster.\n\n")
			continue
		}
		for _, sw := range f.Switches() {
			if sw == "" {
				b.WriteString("\n  fabric-wide:\n")
			} else {
				fmt.Fprintf(&b, "\n  switch %s:\n", Safe(sw))
			}
			for _, c := range f.Changes {
				if c.Switch == sw {
					writeChangeText(&b, c)
				}
			}
		}
		if len(f.Conflicts) > 0 {
			b.WriteString("\n  conflicts (left alone):\n")
			for _, c := range f.Conflicts {
				fmt.Fprintf(&b, "  ! %s: %s\n", Safe(Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String()), Safe(c.Reason))
			}
		}
		if len(f.Held) > 0 {
			b.WriteString("\n  held (kept as they are, not changed):\n")
			for _, h := range f.Held {
				fmt.Fprintf(&b, "  = %s %s: %s\n", h.Action, Safe(h.Key().String()), Safe(h.Reason))
			}
		}
		s := f.Summary()
		fmt.Fprintf(&b, "\n  %s: %d to add, %d to change, %d to destroy%s%s.\n", Safe(f.Name), s.Create, s.Update, s.Delete, adoptNote(s.Adopt), heldNote(len(f.Held)))
		if f.Refused != "" {
			fmt.Fprintf(&b, "  REFUSED, nothing of this plan is applied: %s\n", Safe(f.Refused))
		}
		b.WriteString("\n")
	}
	if len(p.Skipped) > 0 {
		b.WriteString("Skipped (bad input; their fabric objects are held as they are):\n")
		for _, s := range p.Skipped {
			fmt.Fprintf(&b, "  - %s: %s\n", Safe(s.Object), Safe(s.Reason))
		}
		b.WriteString("\n")
	}
	if len(p.Warnings) > 0 {
		b.WriteString("Warnings:\n")
		for _, s := range p.Warnings {
			fmt.Fprintf(&b, "  - %s\n", Safe(s))
		}
		b.WriteString("\n")
	}
	s := p.Summary()
	held := 0
	for _, f := range p.Fabrics {
		held += len(f.Held)
	}
	fmt.Fprintf(&b, "Plan: %d to add, %d to change, %d to destroy%s%s.\n", s.Create, s.Update, s.Delete, adoptNote(s.Adopt), heldNote(held))
	_, err := io.WriteString(w, b.String())
	return err
}

// adoptNote counts adoptions, which only the adopt command plans.
func adoptNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d to adopt (mark as owned, nothing else changes)", n)
}

func heldNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d held", n)
}

// SafeMax bounds every name, id or reason a plan prints.
const SafeMax = 300

// Safe makes a string from the cluster or a saved file fit for one line of
// output: text with control or invalid characters is printed quoted and
// escaped (so it can never start a line of its own), and anything longer
// than SafeMax is cut.
func Safe(s string) string {
	if len(s) > SafeMax {
		s = strings.ToValidUTF8(s[:SafeMax], "") + "..."
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}

func writeChangeText(b *strings.Builder, c Change) {
	fmt.Fprintf(b, "  %s %s %s\n", actionSymbol[c.Action], c.Kind, Safe(c.ID))
	switch c.Action {
	case ActionCreate, ActionDelete, ActionAdopt:
		attrs := attributes(c.Object())
		width := attrWidth(attrs)
		for _, a := range attrs {
			fmt.Fprintf(b, "      %-*s = %s\n", width, a.name, a.value)
		}
	case ActionUpdate:
		before, after := attributes(c.Before), attributes(c.After)
		width := attrWidth(after)
		for i, a := range after {
			if i < len(before) && before[i].value != a.value {
				fmt.Fprintf(b, "    ~ %-*s = %s -> %s\n", width, a.name, before[i].value, a.value)
			} else {
				fmt.Fprintf(b, "      %-*s = %s\n", width, a.name, a.value)
			}
		}
	}
}

func attrWidth(attrs []attr) int {
	w := 0
	for _, a := range attrs {
		if len(a.name) > w {
			w = len(a.name)
		}
	}
	return w
}

// WriteJSON renders the plan in the public JSON format (formatVersion 1).
//
// It writes what json.Encoder with a two-space indent writes for p, change
// by change: encoding a plan of 100,000 changes whole made encoding/json
// re-read every change's bytes three times over (each Marshaler's output is
// compacted again by its caller, then indented), for a plan that may be
// most of a run's output.
func WriteJSON(w io.Writer, p Plan) error {
	skel := planJSON{FormatVersion: p.FormatVersion, Skipped: p.Skipped, Warnings: p.Warnings}
	for _, f := range p.Fabrics {
		skel.Fabrics = append(skel.Fabrics, f.jsonForm([]Change{}))
	}
	if skel.Fabrics == nil && p.Fabrics != nil {
		skel.Fabrics = []fabricPlanJSON{}
	}
	head, err := json.MarshalIndent(skel, "", "  ")
	if err != nil {
		return err
	}
	// Each fabric's empty change list, at the depth of a fabric's fields;
	// strings hold no raw newline, so this is the field, in fabric order.
	const hole = "\n      \"changes\": []"
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, f := range p.Fabrics {
		i := bytes.Index(head, []byte(hole))
		if i < 0 {
			return fmt.Errorf("plan JSON: no place for fabric %s's changes", f.Name)
		}
		bw.Write(head[:i])
		head = head[i+len(hole):]
		if len(f.Changes) == 0 {
			bw.WriteString(hole)
			continue
		}
		bw.WriteString("\n      \"changes\": [")
		var b []byte
		for j, c := range f.Changes {
			var err error
			if b, err = appendChangeIndented(b[:0], c, "        "); err != nil {
				return err
			}
			bw.WriteString("\n        ")
			bw.Write(b)
			if j < len(f.Changes)-1 {
				bw.WriteByte(',')
			}
		}
		bw.WriteString("\n      ]")
	}
	bw.Write(head)
	bw.WriteByte('\n')
	return bw.Flush()
}

// WriteMarkdown renders the plan as a change request a network team can
// review: one table per fabric, then skipped inputs and warnings.
func WriteMarkdown(w io.Writer, p Plan) error {
	var b strings.Builder
	s := p.Summary()
	b.WriteString("# Fabric change request\n\n")
	fmt.Fprintf(&b, "**Plan: %d to add, %d to change, %d to destroy.**\n\n", s.Create, s.Update, s.Delete)
	for _, f := range p.Fabrics {
		fs := f.Summary()
		fmt.Fprintf(&b, "## Fabric `%s` (driver `%s`): %d to add, %d to change, %d to destroy\n\n", f.Name, f.Driver, fs.Create, fs.Update, fs.Delete)
		if f.Error != "" {
			fmt.Fprintf(&b, "**Not planned:** %s\n\n", md(f.Error))
			continue
		}
		if f.Refused != "" {
			fmt.Fprintf(&b, "**Refused, nothing of this plan is applied:** %s\n\n", md(f.Refused))
		}
		if len(f.Changes) == 0 {
			b.WriteString("No changes.\n\n")
		} else {
			b.WriteString("| action | switch | kind | id | attributes |\n|---|---|---|---|---|\n")
			for _, c := range f.Changes {
				sw := c.Switch
				if sw == "" {
					sw = "fabric-wide"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s |\n", c.Action, md(sw), c.Kind, md(c.ID), changeAttrText(c))
			}
			b.WriteString("\n")
		}
		if len(f.Conflicts) > 0 {
			b.WriteString("Conflicts (left alone):\n\n")
			for _, c := range f.Conflicts {
				fmt.Fprintf(&b, "- %s `%s` on %s: %s\n", c.Kind, md(c.ID), md(orFabricWide(c.Switch)), md(c.Reason))
			}
			b.WriteString("\n")
		}
		if len(f.Held) > 0 {
			b.WriteString("Held (kept as they are, not changed):\n\n")
			for _, h := range f.Held {
				fmt.Fprintf(&b, "- %s %s `%s` on %s: %s\n", h.Action, h.Kind, md(h.ID), md(orFabricWide(h.Switch)), md(h.Reason))
			}
			b.WriteString("\n")
		}
	}
	if len(p.Skipped) > 0 {
		b.WriteString("## Skipped input\n\n| object | reason |\n|---|---|\n")
		for _, sk := range p.Skipped {
			fmt.Fprintf(&b, "| `%s` | %s |\n", md(sk.Object), md(sk.Reason))
		}
		b.WriteString("\n")
	}
	if len(p.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		for _, wr := range p.Warnings {
			fmt.Fprintf(&b, "- %s\n", md(wr))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orFabricWide(sw string) string {
	if sw == "" {
		return "fabric-wide"
	}
	return sw
}

// changeAttrText lists the attributes of a change, escaped for a table cell.
func changeAttrText(c Change) string {
	var parts []string
	switch c.Action {
	case ActionUpdate:
		before, after := attributes(c.Before), attributes(c.After)
		for i, a := range after {
			if i < len(before) && before[i].value != a.value {
				parts = append(parts, md(fmt.Sprintf("%s: %s → %s", a.name, before[i].value, a.value)))
			}
		}
	default:
		for _, a := range attributes(c.Object()) {
			parts = append(parts, md(a.name+": "+a.value))
		}
	}
	return strings.Join(parts, "<br>")
}

// md escapes text for a Markdown table cell. Cluster input reaches a change
// request, so nothing in it may break the table or inject markup.
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'", "<", "&lt;", ">", "&gt;")
	return r.Replace(Safe(s))
}

// appendChangeIndented appends what json.MarshalIndent(c, prefix, "  ")
// gives, byte for byte (TestAppendChangeIndented), without its three passes
// over each change (Change.MarshalJSON marshals the objects, then the
// envelope, which encoding/json validates, compacts and indents again):
// the plan of a large cluster spends most of its JSON time there.
func appendChangeIndented(b []byte, c Change, prefix string) ([]byte, error) {
	in1, in2 := prefix+"  ", prefix+"    "
	b = append(b, "{\n"...)
	field := func(name string) {
		b = append(b, in1...)
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, "\": "...)
	}
	field("action")
	b = appendJSONString(b, string(c.Action))
	b = append(b, ",\n"...)
	field("kind")
	b = appendJSONString(b, string(c.Kind))
	b = append(b, ",\n"...)
	field("switch")
	b = appendJSONString(b, c.Switch)
	b = append(b, ",\n"...)
	field("id")
	b = appendJSONString(b, c.ID)
	for _, o := range []struct {
		name string
		obj  Object
	}{{"before", c.Before}, {"after", c.After}} {
		b = append(b, ",\n"...)
		field(o.name)
		if o.obj == nil {
			b = append(b, "null"...)
			continue
		}
		raw, err := json.Marshal(o.obj)
		if err != nil {
			return nil, err
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, raw, in1, "  "); err != nil {
			return nil, err
		}
		b = append(b, ind.Bytes()...)
	}
	if len(c.Sources) > 0 {
		b = append(b, ",\n"...)
		field("sources")
		b = append(b, "[\n"...)
		for i, src := range c.Sources {
			b = append(b, in2...)
			b = appendJSONString(b, src)
			if i < len(c.Sources)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		b = append(b, in1...)
		b = append(b, ']')
	}
	b = append(b, '\n')
	b = append(b, prefix...)
	b = append(b, '}')
	return b, nil
}

// appendJSONString appends s as encoding/json writes it: printable ASCII
// other than the quote, the backslash and <, >, & (escaped for HTML) goes
// as it is; anything else goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
