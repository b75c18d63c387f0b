package main

// How the fault table (faults_test.go) counts what a row did to objects
// this cluster does not own. Every platform is reduced to a map from an
// object's key to its content, holding only the objects without this
// cluster's mark; comparing two such maps gives the objects created,
// modified and deleted between them. docs/faults.md describes the rules.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

const (
	// faultMark is the haystack cluster's ownership mark: ACI annotations,
	// CLI descriptions.
	faultMark = "orchestrator:fabric-reconciler.haystack"
	// faultPrefix starts the name of every prefix-list and route-map the
	// haystack cluster owns on a CLI switch.
	faultPrefix = "FR-haystack-"
)

// marked reports whether a text carries the mark, as a word ("...haystack2"
// is another cluster's).
func marked(s string) bool {
	i := strings.Index(s, faultMark)
	if i < 0 {
		return false
	}
	rest := s[i+len(faultMark):]
	return rest == "" || rest[0] == ' '
}

// changeSets are the keys of the unowned objects a row created, modified
// and deleted.
type changeSets struct {
	created, modified, deleted map[string]bool
}

func newChangeSets() changeSets {
	return changeSets{created: map[string]bool{}, modified: map[string]bool{}, deleted: map[string]bool{}}
}

// diff adds what changed from before to after.
func (c changeSets) diff(before, after map[string]string) {
	for k, v := range after {
		if old, ok := before[k]; !ok {
			c.created[k] = true
		} else if old != v {
			c.modified[k] = true
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			c.deleted[k] = true
		}
	}
}

// sequence adds every step of a series of snapshots.
func (c changeSets) sequence(states []map[string]string) {
	for i := 1; i < len(states); i++ {
		c.diff(states[i-1], states[i])
	}
}

func (c changeSets) counts() (int, int, int) { return len(c.created), len(c.modified), len(c.deleted) }

// String lists the keys, for a failing row's message.
func (c changeSets) String() string {
	var b strings.Builder
	for _, s := range []struct {
		what string
		m    map[string]bool
	}{{"created", c.created}, {"modified", c.modified}, {"deleted", c.deleted}} {
		keys := make([]string, 0, len(s.m))
		for k := range s.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %q; ", s.what, k)
		}
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// aciUnowned keeps the objects of a tenant dump whose annotation is not the
// mark, by DN, with their class and configured properties.
func aciUnowned(dump []emulator.DumpEntry) map[string]string {
	out := map[string]string{}
	for _, e := range dump {
		if e.Attrs["annotation"] == faultMark {
			continue
		}
		b, _ := json.Marshal(e.Attrs) // map keys are sorted
		out[e.DN] = e.Class + " " + string(b)
	}
	return out
}

// aciJournal adds the unowned objects the emulator's journal shows written:
// created without the mark, or modified or deleted while not carrying it.
func (c changeSets) aciJournal(entries []emulator.JournalEntry) {
	for _, e := range entries {
		for _, ch := range e.Changes {
			switch {
			case ch.Status == "created" && ch.After["annotation"] != faultMark:
				c.created[ch.DN] = true
			case ch.Status == "modified" && ch.Before["annotation"] != faultMark:
				c.modified[ch.DN] = true
			case ch.Status == "deleted" && ch.Before["annotation"] != faultMark:
				c.deleted[ch.DN] = true
			}
		}
	}
}

// cfgNode is a line of a running configuration with the lines indented
// under it.
type cfgNode struct {
	text     string
	indent   int
	children []*cfgNode
}

// skipLine: lines that are not configuration (FRR's and NX-OS's headers,
// comments, the separators and mode exits they print).
func skipLine(t string) bool {
	switch t {
	case "", "!", "end", "exit", "exit-address-family", "exit-vrf", "Building configuration...", "Current configuration:":
		return true
	}
	return strings.HasPrefix(t, "!")
}

// parseCfg reads a running configuration (FRR or NX-OS) into a tree by
// indentation.
func parseCfg(text string) []*cfgNode {
	root := &cfgNode{indent: -1}
	stack := []*cfgNode{root}
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \r")
		t := strings.TrimSpace(line)
		if skipLine(t) {
			continue
		}
		ind := len(line) - len(strings.TrimLeft(line, " "))
		for len(stack) > 1 && stack[len(stack)-1].indent >= ind {
			stack = stack[:len(stack)-1]
		}
		n := &cfgNode{text: t, indent: ind}
		parent := stack[len(stack)-1]
		parent.children = append(parent.children, n)
		stack = append(stack, n)
	}
	return root.children
}

// cliOwnership is what marks a CLI configuration's objects as the cluster's.
type cliOwnership struct {
	neighbors       map[string]bool // neighbor addresses whose description carries the mark
	maxPaths, relax bool            // the marker prefix-lists of maximum-paths and multipath-relax exist
}

func ownershipOf(nodes []*cfgNode) cliOwnership {
	o := cliOwnership{neighbors: map[string]bool{}}
	var walk func(ns []*cfgNode, inBGP bool)
	walk = func(ns []*cfgNode, inBGP bool) {
		for _, n := range ns {
			f := strings.Fields(n.text)
			switch {
			case len(f) >= 4 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list" && f[3] == "description" && marked(n.text):
				o.maxPaths = o.maxPaths || strings.HasPrefix(f[2], faultPrefix+"MARK-MAXPATHS-")
				o.relax = o.relax || f[2] == faultPrefix+"MARK-MULTIPATH-RELAX"
			case inBGP && len(f) >= 3 && f[0] == "neighbor" && f[2] == "description" && marked(n.text):
				o.neighbors[f[1]] = true // FRR: "neighbor X description <mark> node=..."
			case inBGP && len(f) == 2 && f[0] == "neighbor":
				for _, c := range n.children { // NX-OS: the neighbor's stanza
					if strings.HasPrefix(c.text, "description ") && marked(c.text) {
						o.neighbors[f[1]] = true
					}
				}
			}
			walk(n.children, inBGP || strings.HasPrefix(n.text, "router bgp "))
		}
	}
	walk(nodes, false)
	return o
}

// owns reports whether a line (with what it holds) is the cluster's: a
// prefix-list, route-map or peer-group named FR-haystack-..., a neighbor
// marked as the cluster's, maximum-paths and multipath-relax when their
// marker exists.
func (o cliOwnership) owns(n *cfgNode, top, inBGP bool) bool {
	f := strings.Fields(strings.TrimPrefix(n.text, "no "))
	switch {
	case top && len(f) >= 3 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list":
		return strings.HasPrefix(f[2], faultPrefix)
	case top && len(f) >= 2 && f[0] == "route-map":
		return strings.HasPrefix(f[1], faultPrefix)
	case !inBGP:
		return false
	case len(f) >= 2 && f[0] == "neighbor":
		// A marked neighbor, or a peer-group named as the cluster's (the
		// FRR writer lock's marker).
		return o.neighbors[f[1]] || strings.HasPrefix(f[1], faultPrefix)
	case f[0] == "maximum-paths":
		return o.maxPaths
	case strings.HasSuffix(n.text, "bestpath as-path multipath-relax"):
		return o.relax
	}
	return false
}

// lineKey is what identifies a line's object among its siblings, so that a
// changed value reads as a modification: the entry of a prefix-list, the
// attribute of a neighbor, a route-map's sequence, a setting's name.
func lineKey(text string) string {
	f := strings.Fields(strings.TrimPrefix(text, "no "))
	switch {
	case len(f) >= 5 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list" && f[3] == "seq":
		return strings.Join(f[:5], " ")
	case len(f) >= 4 && (f[0] == "ip" || f[0] == "ipv6") && f[1] == "prefix-list":
		return strings.Join(f[:4], " ")
	case len(f) >= 3 && f[0] == "neighbor":
		return strings.Join(f[:3], " ")
	case len(f) >= 4 && f[0] == "route-map":
		return "route-map " + f[1] + " " + f[3]
	case len(f) >= 2 && f[0] == "maximum-paths" && f[1] == "ibgp":
		return "maximum-paths ibgp"
	}
	return f[0]
}

// modeLine reports whether a line enters a configuration mode: the BGP
// instance, an NX-OS neighbor, an address family, a route-map entry, a
// VRF. It is not an object of its own, even when nothing is under it yet
// (an NX-OS neighbor the driver has just typed, before its description).
func modeLine(n *cfgNode, inBGP bool) bool {
	f := strings.Fields(n.text)
	switch {
	case len(f) >= 2 && f[0] == "router" && f[1] == "bgp",
		f[0] == "address-family", f[0] == "vrf", f[0] == "template",
		len(f) == 4 && f[0] == "route-map" && (f[2] == "permit" || f[2] == "deny"),
		inBGP && len(f) == 2 && f[0] == "neighbor":
		return true
	}
	return len(n.children) > 0
}

// cliUnowned keeps the lines of a running configuration the cluster does
// not own, keyed by where they are ("router bgp 63500 > address-family
// ipv4 unicast > neighbor 192.168.9.206 prefix-list") and prefixed with the
// switch's name. A mode (modeLine) is not an object of its own: the lines
// under it are. Two sibling lines with one key are both kept by their full
// text.
func cliUnowned(sw, text string) map[string]string {
	nodes := parseCfg(text)
	o := ownershipOf(nodes)
	out := map[string]string{}
	var walk func(ns []*cfgNode, path string, inBGP bool)
	walk = func(ns []*cfgNode, path string, inBGP bool) {
		byKey := map[string][]string{}
		for _, n := range ns {
			if o.owns(n, path == "", inBGP) {
				continue
			}
			if modeLine(n, inBGP) {
				walk(n.children, path+n.text+" > ", inBGP || strings.HasPrefix(n.text, "router bgp "))
				continue
			}
			k := lineKey(n.text)
			byKey[k] = append(byKey[k], n.text)
		}
		for k, texts := range byKey {
			if len(texts) == 1 {
				out[sw+": "+path+k] = texts[0]
				continue
			}
			for _, t := range texts {
				out[sw+": "+path+t] = t
			}
		}
	}
	walk(nodes, "", false)
	return out
}

// TestCLIUnowned checks the counting rules on an FRR and an NX-OS
// configuration: owned names, marked neighbors and marker-owned settings
// are left out; another cluster's look-alike names are not; a changed
// value is a modification.
func TestCLIUnowned(t *testing.T) {
	frr := `Building configuration...

Current configuration:
!
frr version 8.4.4
hostname leaf201
!
router bgp 63500
 bgp router-id 2.0.0.1
 bgp bestpath as-path multipath-relax
 neighbor 192.168.9.193 remote-as 63551
 neighbor 192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0
 neighbor 192.168.9.194 remote-as 63552
 neighbor 192.168.9.194 description orchestrator:fabric-reconciler.haystack2 node=x
 neighbor 192.168.9.206 remote-as 65000
 !
 address-family ipv4 unicast
  maximum-paths 3
  neighbor 192.168.9.193 route-map FR-haystack-IN-192.168.9.193 in
  neighbor 192.168.9.206 prefix-list HANDMADE-BORDER-OUT out
 exit-address-family
exit
!
ip prefix-list HANDMADE-BORDER-OUT seq 5 permit 172.16.0.0/12 le 24
ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26
ip prefix-list FR-haystack2-IN-192.168.9.193 seq 5 permit 172.27.114.0/26
ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4
!
route-map FR-haystack-IN-192.168.9.193 permit 10
 match ip address prefix-list FR-haystack-IN-192.168.9.193
exit
!
route-map HAND-RM permit 10
 match ip address prefix-list HANDMADE-BORDER-OUT
exit
!
end
`
	got := cliUnowned("leaf201", frr)
	// Two "bgp ..." lines share a key: both are kept by their text. The
	// relax line is the network team's: there is no relax marker.
	want := map[string]string{
		"leaf201: frr":      "frr version 8.4.4",
		"leaf201: hostname": "hostname leaf201",
		"leaf201: router bgp 63500 > bgp router-id 2.0.0.1":                                            "bgp router-id 2.0.0.1",
		"leaf201: router bgp 63500 > bgp bestpath as-path multipath-relax":                             "bgp bestpath as-path multipath-relax",
		"leaf201: router bgp 63500 > neighbor 192.168.9.194 remote-as":                                 "neighbor 192.168.9.194 remote-as 63552",
		"leaf201: router bgp 63500 > neighbor 192.168.9.194 description":                               "neighbor 192.168.9.194 description orchestrator:fabric-reconciler.haystack2 node=x",
		"leaf201: router bgp 63500 > neighbor 192.168.9.206 remote-as":                                 "neighbor 192.168.9.206 remote-as 65000",
		"leaf201: router bgp 63500 > address-family ipv4 unicast > neighbor 192.168.9.206 prefix-list": "neighbor 192.168.9.206 prefix-list HANDMADE-BORDER-OUT out",
		"leaf201: ip prefix-list HANDMADE-BORDER-OUT seq 5":                                            "ip prefix-list HANDMADE-BORDER-OUT seq 5 permit 172.16.0.0/12 le 24",
		"leaf201: ip prefix-list FR-haystack2-IN-192.168.9.193 seq 5":                                  "ip prefix-list FR-haystack2-IN-192.168.9.193 seq 5 permit 172.27.114.0/26",
		"leaf201: route-map HAND-RM permit 10 > match":                                                 "match ip address prefix-list HANDMADE-BORDER-OUT",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("FRR unowned:\n%v\nwant\n%v", got, want)
	}

	nxos := `hostname leaf201
feature bgp
ip prefix-list CORE-IN seq 5 permit 0.0.0.0/0
ip prefix-list FR-haystack-IN-192.168.9.193 description orchestrator:fabric-reconciler.haystack node=k8c1m0
ip prefix-list FR-haystack-IN-192.168.9.193 seq 5 permit 172.27.114.0/26
route-map FR-haystack-IN-192.168.9.193 permit 10
  match ip address prefix-list FR-haystack-IN-192.168.9.193
router bgp 63500
  router-id 192.168.9.204
  neighbor 192.168.9.193
    remote-as 63551
    description orchestrator:fabric-reconciler.haystack node=k8c1m0
    address-family ipv4 unicast
      route-map FR-haystack-IN-192.168.9.193 in
  neighbor 192.168.9.250
    remote-as 65250
    description uplink to the core (hand-made)
    address-family ipv4 unicast
      prefix-list CORE-IN in
`
	before := cliUnowned("leaf201", nxos)
	if len(before) != 7 {
		t.Errorf("NX-OS unowned: %d lines:\n%v", len(before), before)
	}
	for k := range before {
		if strings.Contains(k, "192.168.9.193") {
			t.Errorf("an owned line counted: %s", k)
		}
	}
	edited := strings.Replace(nxos, "remote-as 65250", "remote-as 65251", 1)
	edited = strings.Replace(edited, "ip prefix-list CORE-IN seq 5 permit 0.0.0.0/0\n", "", 1)
	edited = strings.Replace(edited, "    remote-as 63551\n", "    remote-as 63559\n", 1)
	edited += "ip prefix-list NEW seq 5 permit 10.0.0.0/8\n"
	c := newChangeSets()
	c.diff(before, cliUnowned("leaf201", edited))
	if cr, mo, de := c.counts(); cr != 1 || mo != 1 || de != 1 {
		t.Errorf("changes: %s", c)
	}
}
