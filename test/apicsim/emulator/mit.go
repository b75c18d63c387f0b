package emulator

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MO is one managed object of the management information tree.
type MO struct {
	Class  string
	DN     string
	Attrs  map[string]string // configured properties, defaults filled in
	Secret map[string]string // write-only properties (never reported)
	// Writes counts the writes of each write-only property: each one is a
	// change, whatever the value (post.go), and the journal says so.
	Writes   map[string]int
	Children map[string]*MO // by RN
	ModTs    string
	UID      string
}

func (m *MO) clone() *MO {
	c := &MO{Class: m.Class, DN: m.DN, Attrs: make(map[string]string, len(m.Attrs)), Children: make(map[string]*MO, len(m.Children)),
		ModTs: m.ModTs, UID: m.UID}
	for k, v := range m.Attrs {
		c.Attrs[k] = v
	}
	if m.Secret != nil {
		c.Secret = map[string]string{}
		for k, v := range m.Secret {
			c.Secret[k] = v
		}
		c.Writes = map[string]int{}
		for k, v := range m.Writes {
			c.Writes[k] = v
		}
	}
	for k, v := range m.Children {
		c.Children[k] = v.clone()
	}
	return c
}

// setSecret stores a write-only property and counts the write.
func (m *MO) setSecret(k, v string) {
	if m.Secret == nil {
		m.Secret, m.Writes = map[string]string{}, map[string]int{}
	}
	m.Secret[k] = v
	m.Writes[k]++
}

// sortedChildren returns the children in RN order.
func (m *MO) sortedChildren() []*MO {
	rns := make([]string, 0, len(m.Children))
	for rn := range m.Children {
		rns = append(rns, rn)
	}
	sort.Strings(rns)
	out := make([]*MO, len(rns))
	for i, rn := range rns {
		out[i] = m.Children[rn]
	}
	return out
}

// walk visits m and its subtree depth-first in RN order.
func (m *MO) walk(fn func(*MO)) {
	fn(m)
	for _, c := range m.sortedChildren() {
		c.walk(fn)
	}
}

// tree is the MIT: the polUni root and everything under it.
type tree struct {
	root *MO
	uid  int
}

func newTree() *tree {
	return &tree{root: &MO{Class: "polUni", DN: "uni", Attrs: map[string]string{"name": ""}, Children: map[string]*MO{}, ModTs: apicTime(time.Now())}}
}

func (t *tree) clone() *tree { return &tree{root: t.root.clone(), uid: t.uid} }

// lookup finds an object by DN.
func (t *tree) lookup(dn string) *MO {
	rns, err := SplitDN(dn)
	if err != nil || rns[0] != "uni" {
		return nil
	}
	m := t.root
	for _, rn := range rns[1:] {
		m = m.Children[rn]
		if m == nil {
			return nil
		}
	}
	return m
}

// apicTime formats a time the way the APIC reports modTs.
func apicTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-07:00") }

func (t *tree) nextUID() string {
	t.uid++
	return strconv.Itoa(15374 + t.uid)
}

// Props is an object as a client sees it: class, properties and children.
type Props struct {
	Class    string
	Attrs    map[string]string
	Children []Props
}

// MarshalJSON renders {"class":{"attributes":{...},"children":[...]}}.
func (p Props) MarshalJSON() ([]byte, error) {
	inner := map[string]any{"attributes": p.Attrs}
	if len(p.Children) > 0 {
		inner["children"] = p.Children
	}
	return json.Marshal(map[string]any{p.Class: inner})
}

// propInclude is the rsp-prop-include option.
type propInclude int

const (
	propAll propInclude = iota
	propConfigOnly
	propNamingOnly
)

// render builds the properties a GET reports for an object: dn at the top,
// rn in children, read-only properties, relation state.
func (s *Sim) render(t *tree, m *MO, top bool, inc propInclude) map[string]string {
	c := Registry[m.Class]
	out := map[string]string{}
	if top {
		out["dn"] = m.DN
	} else {
		out["rn"] = lastRN(m.DN)
	}
	switch inc {
	case propNamingOnly:
		for _, n := range c.Naming {
			out[n] = m.Attrs[n]
		}
		return out
	case propConfigOnly:
		for k, v := range m.Attrs {
			out[k] = v
		}
		return out
	}
	for k, v := range m.Attrs {
		out[k] = v
	}
	out["childAction"] = ""
	out["extMngdBy"] = ""
	out["lcOwn"] = "local"
	out["modTs"] = m.ModTs
	out["status"] = ""
	out["uid"] = m.UID
	if c.Relation != nil {
		s.fillRelation(t, m, c, out)
	}
	if c.TDnRelation {
		out["state"] = "formed"
		out["stateQual"] = "none"
		out["forceResolve"] = "yes"
		out["rType"] = "mo"
		out["tType"] = "mo"
	}
	return out
}

// fillRelation resolves a named relation: first in the object's tenant,
// then in tenant common. A missing target is not an error: the relation
// reports state missing-target.
func (s *Sim) fillRelation(t *tree, m *MO, c *ClassMeta, out map[string]string) {
	name := m.Attrs[c.Relation.NameAttr]
	out["forceResolve"] = "yes"
	out["rType"] = "mo"
	out["tType"] = "name"
	out["tCl"] = c.Relation.TargetClass
	out["stateQual"] = "none"
	rn, _ := buildRN(c.Relation.TargetRN, map[string]string{"name": name})
	tenant := ""
	if rns, err := SplitDN(m.DN); err == nil && len(rns) > 1 && strings.HasPrefix(rns[1], "tn-") {
		tenant = rns[1]
	}
	out["state"] = "missing-target"
	out["stateQual"] = "default-target"
	out["tDn"] = ""
	out["tRn"] = rn
	if name == "" {
		return
	}
	for _, tn := range []string{tenant, "tn-common"} {
		if tn == "" {
			continue
		}
		if t.lookup("uni/"+tn+"/"+rn) != nil {
			out["state"] = "formed"
			out["stateQual"] = "none"
			out["tDn"] = "uni/" + tn + "/" + rn
			return
		}
	}
}
