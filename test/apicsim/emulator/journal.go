package emulator

import (
	"maps"
	"net/http"
	"sort"
	"time"
)

// JournalEntry is one write a client committed over HTTP (Options.Journal):
// every object it created, modified or deleted.
type JournalEntry struct {
	Time    time.Time
	Method  string
	Path    string
	Changes []MOChange
}

// MOChange is one object a committed write changed. Before is nil for a
// created object, After for a deleted one; both hold the configured
// properties (as Dump shows them). Children deleted with their parent are
// listed one by one: an APIC subtree delete takes them too.
type MOChange struct {
	DN     string
	Class  string
	Status string // created, modified, deleted
	Before map[string]string
	After  map[string]string
	// Secrets names the write-only properties (password) the write set,
	// even to the value they held: never their values.
	Secrets []string `json:",omitempty"`
}

// Journal returns the writes committed since the last ResetLog (empty
// unless Options.Journal is set).
func (s *Sim) Journal() []JournalEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]JournalEntry(nil), s.journal...)
}

// commit swaps in a tree a write produced (with s.mu held) and journals
// what it changed.
func (s *Sim) commit(r *http.Request, work *tree) {
	raiseFaults(work, s.now())
	old := s.tree
	s.tree = work
	s.publish(old, work)
	if !s.opts.Journal {
		return
	}
	changes := diffTrees(old, work)
	if len(changes) == 0 {
		return
	}
	s.journal = append(s.journal, JournalEntry{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Changes: changes})
}

// diffTrees lists the objects that differ between two trees, by DN.
func diffTrees(a, b *tree) []MOChange {
	index := func(t *tree) map[string]*MO {
		out := map[string]*MO{}
		t.root.walk(func(m *MO) { out[m.DN] = m })
		return out
	}
	before, after := index(a), index(b)
	var out []MOChange
	for dn, m := range before {
		n, ok := after[dn]
		switch {
		case !ok:
			out = append(out, MOChange{DN: dn, Class: m.Class, Status: "deleted", Before: copyMap(m.Attrs)})
		case n.Class != m.Class || !maps.Equal(n.Attrs, m.Attrs) || !maps.Equal(n.Writes, m.Writes):
			out = append(out, MOChange{DN: dn, Class: n.Class, Status: "modified", Before: copyMap(m.Attrs), After: copyMap(n.Attrs),
				Secrets: secretsWritten(m.Writes, n.Writes)})
		}
	}
	for dn, n := range after {
		if _, ok := before[dn]; !ok {
			out = append(out, MOChange{DN: dn, Class: n.Class, Status: "created", After: copyMap(n.Attrs), Secrets: secretsWritten(nil, n.Writes)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DN < out[j].DN })
	return out
}

// secretsWritten lists the write-only properties written between two
// versions of an object.
func secretsWritten(before, after map[string]int) []string {
	var out []string
	for k, n := range after {
		if before[k] != n {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
