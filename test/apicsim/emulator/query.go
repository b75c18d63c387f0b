package emulator

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// queryOpts are the GET options the emulator implements.
type queryOpts struct {
	target       string          // self, children, subtree
	targetClass  map[string]bool // target-subtree-class
	filter       *filterExpr     // query-target-filter
	subtree      string          // no, children, full
	subtreeClass map[string]bool // rsp-subtree-class
	props        propInclude
	orderBy      []orderKey
	page         int
	pageSize     int
}

type orderKey struct {
	class, prop string
	desc        bool
}

func classSet(v string) (map[string]bool, *apicError) {
	if v == "" {
		return nil, nil
	}
	out := map[string]bool{}
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		if _, ok := Registry[c]; !ok && !operClasses[c] {
			return nil, errf(400, "400", "Request failed, unresolved class for %s", c)
		}
		out[c] = true
	}
	return out, nil
}

func parseQuery(q url.Values) (*queryOpts, *apicError) {
	o := &queryOpts{target: "self", subtree: "no", pageSize: -1}
	if v := q.Get("query-target"); v != "" {
		switch v {
		case "self", "children", "subtree":
			o.target = v
		default:
			return nil, errf(400, "400", "Request failed, invalid value %s for query-target", v)
		}
	}
	var err *apicError
	if o.targetClass, err = classSet(q.Get("target-subtree-class")); err != nil {
		return nil, err
	}
	if o.subtreeClass, err = classSet(q.Get("rsp-subtree-class")); err != nil {
		return nil, err
	}
	if v := q.Get("rsp-subtree"); v != "" {
		switch v {
		case "no", "children", "full":
			o.subtree = v
		default:
			return nil, errf(400, "400", "Request failed, invalid value %s for rsp-subtree", v)
		}
	}
	switch q.Get("rsp-prop-include") {
	case "", "all":
	case "config-only":
		o.props = propConfigOnly
	case "naming-only":
		o.props = propNamingOnly
	default:
		return nil, errf(400, "400", "Request failed, invalid value %s for rsp-prop-include", q.Get("rsp-prop-include"))
	}
	if v := q.Get("query-target-filter"); v != "" {
		f, perr := parseFilter(v)
		if perr != nil {
			return nil, errf(400, "400", "Request failed, invalid filter %s: %v", v, perr)
		}
		o.filter = f
	}
	if v := q.Get("order-by"); v != "" {
		for _, part := range strings.Split(v, ",") {
			spec, dir, _ := strings.Cut(part, "|")
			cls, prop, ok := strings.Cut(spec, ".")
			if !ok {
				return nil, errf(400, "400", "Request failed, invalid order-by %s", v)
			}
			o.orderBy = append(o.orderBy, orderKey{class: cls, prop: prop, desc: dir == "desc"})
		}
	}
	if v := q.Get("page-size"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 {
			return nil, errf(400, "400", "Request failed, invalid page-size %s", v)
		}
		o.pageSize = n
	}
	if v := q.Get("page"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 {
			return nil, errf(400, "400", "Request failed, invalid page %s", v)
		}
		o.page = n
	}
	return o, nil
}

// queryMO answers GET /api/mo/<dn>.json.
func (s *Sim) queryMO(t *tree, dn string, o *queryOpts) ([]Props, int) {
	target := t.lookup(dn)
	if target == nil {
		return nil, 0
	}
	var cands []*MO
	switch o.target {
	case "self":
		cands = []*MO{target}
	case "children":
		cands = target.sortedChildren()
	case "subtree":
		target.walk(func(m *MO) { cands = append(cands, m) })
	}
	if o.target != "self" && o.targetClass != nil {
		cands = filterClass(cands, o.targetClass)
	}
	return s.finish(t, cands, o)
}

// queryClass answers GET /api/class/<class>.json and the scoped
// /api/class/<dn>/<class>.json.
func (s *Sim) queryClass(t *tree, scope, class string, o *queryOpts) ([]Props, int, *apicError) {
	if _, ok := Registry[class]; !ok {
		return nil, 0, errf(400, "400", "Request failed, unresolved class for %s", class)
	}
	root := t.root
	if scope != "" {
		if root = t.lookup(scope); root == nil {
			return nil, 0, nil
		}
	}
	var cands []*MO
	root.walk(func(m *MO) {
		if m.Class == class {
			cands = append(cands, m)
		}
	})
	props, n := s.finish(t, cands, o)
	return props, n, nil
}

func filterClass(ms []*MO, classes map[string]bool) []*MO {
	var out []*MO
	for _, m := range ms {
		if classes[m.Class] {
			out = append(out, m)
		}
	}
	return out
}

// finish filters, orders and pages the candidates and renders them.
func (s *Sim) finish(t *tree, cands []*MO, o *queryOpts) ([]Props, int) {
	if o.filter != nil {
		var kept []*MO
		for _, m := range cands {
			if o.filter.eval(m.Class, s.render(t, m, true, propAll)) {
				kept = append(kept, m)
			}
		}
		cands = kept
	}
	if len(o.orderBy) > 0 {
		sort.SliceStable(cands, func(i, j int) bool {
			for _, k := range o.orderBy {
				a, b := cands[i].Attrs[k.prop], cands[j].Attrs[k.prop]
				if k.prop == "dn" {
					a, b = cands[i].DN, cands[j].DN
				}
				if a == b {
					continue
				}
				if k.desc {
					return a > b
				}
				return a < b
			}
			return false
		})
	}
	total := len(cands)
	if o.pageSize > 0 {
		start := o.page * o.pageSize
		end := min(start+o.pageSize, len(cands))
		if start >= len(cands) {
			cands = nil
		} else {
			cands = cands[start:end]
		}
	}
	out := make([]Props, 0, len(cands))
	for _, m := range cands {
		out = append(out, s.renderTree(t, m, true, o))
	}
	return out, total
}

// renderTree renders one result with its rsp-subtree.
func (s *Sim) renderTree(t *tree, m *MO, top bool, o *queryOpts) Props {
	p := Props{Class: m.Class, Attrs: s.render(t, m, top, o.props)}
	if o.subtree == "no" {
		return p
	}
	for _, c := range m.sortedChildren() {
		if o.subtreeClass != nil && !o.subtreeClass[c.Class] && !(o.subtree == "full" && hasDescendantOf(c, o.subtreeClass)) {
			continue
		}
		if o.subtree == "children" {
			p.Children = append(p.Children, Props{Class: c.Class, Attrs: s.render(t, c, false, o.props)})
			continue
		}
		p.Children = append(p.Children, s.renderTree(t, c, false, o))
	}
	return p
}

func hasDescendantOf(m *MO, classes map[string]bool) bool {
	for _, c := range m.Children {
		if classes[c.Class] || hasDescendantOf(c, classes) {
			return true
		}
	}
	return false
}

// filterExpr is a parsed query-target-filter: eq, ne, lt, gt, le, ge,
// wcard, and, or, not.
type filterExpr struct {
	op          string
	class, prop string
	value       string
	re          *regexp.Regexp
	args        []*filterExpr
}

func (f *filterExpr) eval(class string, attrs map[string]string) bool {
	switch f.op {
	case "and":
		for _, a := range f.args {
			if !a.eval(class, attrs) {
				return false
			}
		}
		return true
	case "or":
		for _, a := range f.args {
			if a.eval(class, attrs) {
				return true
			}
		}
		return false
	case "not":
		return !f.args[0].eval(class, attrs)
	}
	if f.class != class {
		return false
	}
	v, ok := attrs[f.prop]
	if !ok {
		return false
	}
	switch f.op {
	case "eq":
		return v == f.value
	case "ne":
		return v != f.value
	case "wcard":
		return f.re.MatchString(v)
	case "lt", "gt", "le", "ge":
		a, ea := strconv.ParseFloat(v, 64)
		b, eb := strconv.ParseFloat(f.value, 64)
		if ea != nil || eb != nil {
			return compareOp(f.op, strings.Compare(v, f.value))
		}
		switch {
		case a < b:
			return compareOp(f.op, -1)
		case a > b:
			return compareOp(f.op, 1)
		}
		return compareOp(f.op, 0)
	}
	return false
}

func compareOp(op string, c int) bool {
	switch op {
	case "lt":
		return c < 0
	case "gt":
		return c > 0
	case "le":
		return c <= 0
	}
	return c >= 0
}

func parseFilter(s string) (*filterExpr, error) {
	p := &filterParser{s: s}
	f, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("trailing text at %d", p.i)
	}
	return f, nil
}

type filterParser struct {
	s string
	i int
}

func (p *filterParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *filterParser) expr() (*filterExpr, error) {
	p.space()
	j := p.i
	for j < len(p.s) && p.s[j] >= 'a' && p.s[j] <= 'z' {
		j++
	}
	op := p.s[p.i:j]
	p.i = j
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("expected '(' after %q", op)
	}
	p.i++
	f := &filterExpr{op: op}
	switch op {
	case "and", "or", "not":
		for {
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			f.args = append(f.args, a)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			break
		}
		if op == "not" && len(f.args) != 1 {
			return nil, fmt.Errorf("not takes one argument")
		}
	case "eq", "ne", "lt", "gt", "le", "ge", "wcard":
		p.space()
		k := strings.IndexAny(p.s[p.i:], ",)")
		if k < 0 {
			return nil, fmt.Errorf("unterminated %s", op)
		}
		cp := strings.TrimSpace(p.s[p.i : p.i+k])
		cls, prop, ok := strings.Cut(cp, ".")
		if !ok {
			return nil, fmt.Errorf("%q is not class.property", cp)
		}
		f.class, f.prop = cls, prop
		p.i += k
		if p.s[p.i] != ',' {
			return nil, fmt.Errorf("%s needs a value", op)
		}
		p.i++
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, fmt.Errorf("value must be quoted")
		}
		end := strings.IndexByte(p.s[p.i+1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("unterminated value")
		}
		f.value = p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		if op == "wcard" {
			re, err := regexp.Compile(f.value)
			if err != nil {
				return nil, err
			}
			f.re = re
		}
	default:
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, fmt.Errorf("expected ')'")
	}
	p.i++
	return f, nil
}
