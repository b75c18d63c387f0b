package emulator

// Operational objects: what an APIC reports of its switches' state (BGP
// sessions, routing tables) under topology/pod-P/node-N/sys/... The
// emulator runs no switch, so a test sets them (SetOperational) and the
// emulator serves them read only, to object and class queries:
//
//	GET /api/node/mo/topology/pod-1/node-201/sys/bgp/inst/dom-T:V.json?query-target=subtree&target-subtree-class=bgpPeer,bgpPeerEntry,bgpPeerAfEntry
//	GET /api/node/mo/topology/pod-1/node-201/sys/uribv4/dom-T:V.json?query-target=subtree&target-subtree-class=uribv4Route,uribv4Nexthop
//	GET /api/node/class/bgpPeerEntry.json
//
// Only these classes are served (operClasses), with the properties a test
// gives them. The DNs, queries and properties the tests use follow public
// code that reads real APICs, datacenter/iserver (Cisco's iserver tool):
//
//   - lib/aci/proto/bgp/neighbor/info.py and its API log in the tool's
//     docs: a bgpPeer at topology/pod-1/node-201/sys/bgp/inst/dom-<tenant>:
//     <vrf>/peer-[<addr>/<len>] with adminSt and asn; its bgpPeerEntry
//     (operSt "established" / "idle", connAttempts, connDrop, connEst, rtrId,
//     type, addr); the bgpPeerAfEntry af-ipv4-ucast with acceptedPaths; one
//     query with target-subtree-class bgpPeer, bgpPeerEntry, bgpPeerAfEntry
//     on the leaf's bgpDom;
//   - lib/aci/proto/ipv4/route/api.py and info.py: the GET of
//     topology/pod-P/node-N/sys/uribv4/dom-<tenant>:<vrf> with query-target
//     subtree and target-subtree-class uribv4Route, uribv4Nexthop; a route's
//     next hops under its rt-[prefix] (the eighth RN); prefix on the route,
//     addr ("a.b.c.d/32"), routeType (ebgp, ibgp, static, local, direct)
//     and if on the next hop.
//
// bgpPeerEntry's holdIntvl, kaIntvl and lastFlapTs are as a public API
// sample of a border leaf's bgpPeerEntry shows them ("180", "60",
// "2024-03-18T22:44:05.672+00:00"). The nh-[...] RN of a next hop is the
// tests' own spelling; the driver reads next hops by class and parent.

import (
	"sort"
	"strings"
)

// operClasses are the operational classes the emulator serves.
var operClasses = map[string]bool{
	"bgpPeer": true, "bgpPeerEntry": true, "bgpPeerAfEntry": true,
	"uribv4Route": true, "uribv4Nexthop": true, "uribv6Route": true, "uribv6Nexthop": true,
}

// OperMO is one operational object: its class, DN and properties, as the
// APIC reports them.
type OperMO struct {
	Class string
	DN    string
	Attrs map[string]string
}

// SetOperational replaces the operational objects the emulator reports.
// An object of a class it does not serve, or with a DN outside topology/,
// is refused.
func (s *Sim) SetOperational(mos []OperMO) error {
	for _, m := range mos {
		if !operClasses[m.Class] {
			return errf(400, "400", "the emulator serves no operational class %s", m.Class)
		}
		if rns, err := SplitDN(m.DN); err != nil || rns[0] != "topology" {
			return errf(400, "400", "Invalid DN %s for operational class %s", m.DN, m.Class)
		}
	}
	cp := make([]OperMO, len(mos))
	for i, m := range mos {
		cp[i] = OperMO{Class: m.Class, DN: m.DN, Attrs: copyMap(m.Attrs)}
	}
	sort.SliceStable(cp, func(i, j int) bool { return cp[i].DN < cp[j].DN })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oper = cp
	return nil
}

// isOperDN tells a request for the operational tree.
func isOperDN(dn string) bool { return dn == "topology" || strings.HasPrefix(dn, "topology/") }

// queryOper answers an object query under topology/ (query-target self,
// children or subtree, target-subtree-class, query-target-filter, paging).
func (s *Sim) queryOper(dn string, o *queryOpts) ([]Props, int) {
	var cands []OperMO
	depth := len(mustSplit(dn))
	for _, m := range s.oper {
		switch {
		case m.DN == dn:
			if o.target == "self" || o.target == "subtree" {
				cands = append(cands, m)
			}
		case strings.HasPrefix(m.DN, dn+"/"):
			if o.target == "subtree" || (o.target == "children" && len(mustSplit(m.DN)) == depth+1) {
				cands = append(cands, m)
			}
		}
	}
	if o.target != "self" && o.targetClass != nil {
		var kept []OperMO
		for _, m := range cands {
			if o.targetClass[m.Class] {
				kept = append(kept, m)
			}
		}
		cands = kept
	}
	return s.finishOper(cands, o)
}

// queryOperClass answers a class query for an operational class.
func (s *Sim) queryOperClass(scope, class string, o *queryOpts) ([]Props, int) {
	var cands []OperMO
	for _, m := range s.oper {
		if m.Class == class && (scope == "" || m.DN == scope || strings.HasPrefix(m.DN, scope+"/")) {
			cands = append(cands, m)
		}
	}
	return s.finishOper(cands, o)
}

func (s *Sim) finishOper(cands []OperMO, o *queryOpts) ([]Props, int) {
	var out []Props
	for _, m := range cands {
		attrs := copyMap(m.Attrs)
		attrs["dn"] = m.DN
		if _, ok := attrs["status"]; !ok {
			attrs["status"] = ""
		}
		if o.filter != nil && !o.filter.eval(m.Class, attrs) {
			continue
		}
		out = append(out, Props{Class: m.Class, Attrs: attrs})
	}
	total := len(out)
	if o.pageSize > 0 {
		start := o.page * o.pageSize
		if start >= len(out) {
			out = nil
		} else {
			out = out[start:min(start+o.pageSize, len(out))]
		}
	}
	if out == nil {
		out = []Props{}
	}
	return out, total
}

func mustSplit(dn string) []string {
	rns, err := SplitDN(dn)
	if err != nil {
		return []string{dn}
	}
	return rns
}
