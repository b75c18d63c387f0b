package aci

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/ciscoecosystem/aci-go-client/v2/container"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// observedClasses are the classes Observe asks for: the objects the driver
// writes and the containers it writes under.
var observedClasses = []string{
	"fvTenant", "fvCtx", "fvRsCtxToBgpCtxAfPol", "bgpCtxAfPol",
	"l3extOut", "l3extLNodeP", "l3extLIfP", "l3extRsPathL3OutAtt", "bgpPeerP", "bgpAsP", "bgpLocalAsnP",
	"bgpRsPeerPfxPol", "bgpPeerPfxPol",
	"l3extInstP", "l3extSubnet", "fvRsProv", "fvRsCons",
	"vzBrCP", "vzSubj", "vzRsSubjFiltAtt", "vzFilter", "vzEntry",
	"rtctrlProfile", "rtctrlCtxP", "rtctrlRsCtxPToSubjP", "rtctrlSubjP", "rtctrlMatchRtDest", "bgpRsPeerToProfile",
	faultClass,
}

// faultClass is the class of the APIC's faults: read with the tenant, kept
// apart from the objects (a fault is nobody's configuration).
const faultClass = "faultInst"

// observeQuery is the one GET of an observation: the tenant's subtree,
// filtered to the classes above, as a flat list of objects with their DNs.
func (n names) observeQuery() string {
	return "/api/mo/" + n.tenantDN() + ".json?query-target=subtree&target-subtree-class=" + strings.Join(observedClasses, ",")
}

// object is one APIC object as observed.
type object struct {
	class string
	dn    string
	attrs map[string]string
}

// snapshot is what the tenant held at the last observation, by DN.
type snapshot struct {
	objs   map[string]object
	faults map[string]object // faultInst by DN
}

func (s *snapshot) get(dn string) (object, bool) {
	o, ok := s.objs[dn]
	return o, ok
}

// children lists the objects directly under dn, optionally of one class.
func (s *snapshot) children(dn, class string) []object {
	var out []object
	prefix := dn + "/"
	for k, o := range s.objs {
		if strings.HasPrefix(k, prefix) && !strings.Contains(splitTail(k[len(prefix):]), "/") && (class == "" || o.class == class) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dn < out[j].dn })
	return out
}

// splitTail hides the brackets' content of an RN tail so that '/' inside
// them does not count as a level.
func splitTail(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// below lists the observed objects under dn (not dn itself), sorted by DN.
func (s *snapshot) below(dn string) []object {
	var out []object
	prefix := dn + "/"
	for k, o := range s.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dn < out[j].dn })
	return out
}

// childrenOf lists the objects directly under any of dns.
func (s *snapshot) childrenOf(dns []string, class string) []object {
	var out []object
	seen := map[string]bool{}
	for _, dn := range dns {
		if seen[dn] {
			continue
		}
		seen[dn] = true
		out = append(out, s.children(dn, class)...)
	}
	return out
}

func (s *snapshot) byClass(class string) []object {
	var out []object
	for _, o := range s.objs {
		if o.class == class {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dn < out[j].dn })
	return out
}

// parseSnapshot reads the flat answer of observeQuery.
func parseSnapshot(cont *container.Container) (*snapshot, error) {
	s := &snapshot{objs: map[string]object{}, faults: map[string]object{}}
	items, err := cont.S("imdata").Children()
	if err != nil {
		if cont.S("imdata").Data() == nil {
			return nil, fmt.Errorf("the APIC's answer holds no imdata")
		}
		return s, nil // an empty list
	}
	for _, it := range items {
		m, ok := it.Data().(map[string]any)
		if !ok || len(m) != 1 {
			return nil, fmt.Errorf("unexpected object in the APIC's answer")
		}
		for cls, body := range m {
			bm, _ := body.(map[string]any)
			am, _ := bm["attributes"].(map[string]any)
			o := object{class: cls, attrs: map[string]string{}}
			for k, v := range am {
				if sv, ok := v.(string); ok {
					o.attrs[k] = sv
				}
			}
			o.dn = o.attrs["dn"]
			if o.dn == "" {
				return nil, fmt.Errorf("a %s in the APIC's answer has no dn", cls)
			}
			if cls == faultClass {
				s.faults[o.dn] = o
				continue
			}
			s.objs[o.dn] = o
		}
	}
	return s, nil
}

// owned reports whether an object carries this cluster's mark.
func (n names) owned(o object) bool { return o.attrs["annotation"] == n.mark }

func (n names) foreign(kind fabric.Kind, sw, id string, o object) fabric.Foreign {
	return fabric.Foreign{Kind: kind, Switch: sw, ID: id, Owner: o.attrs["annotation"]}
}

// foreignBelow returns the first observed object under dn that does not
// carry this cluster's mark (one the APIC made itself aside): an owned
// object holding it is not wholly this cluster's, so it is neither adopted
// nor deleted with its subtree.
func (n names) foreignBelow(s *snapshot, dn string) (object, bool) {
	for _, o := range s.below(dn) {
		if !n.owned(o) && !n.implicit(o) {
			return o, true
		}
	}
	return object{}, false
}

// relationInOurPlace reports whether a provider or consumer relation sits
// where the driver writes such relations: in an external EPG of the
// cluster's own L3Out that the configuration does not name (a service EPG,
// where rsprov goes) or in a configured consumer EPG (where rscons goes).
func (n names) relationInOurPlace(r object) bool {
	g, ok := n.epgOf(r.dn)
	if !ok {
		return false
	}
	dn := n.epgDN(g)
	if r.class == "fvRsCons" && n.consumers[dn] {
		return true
	}
	return g.l3out == n.l3out && !n.containers[dn]
}

// contractForeign returns an object without this cluster's mark that
// occupies a place of contract name: the contract, its filter, anything
// observed under either (subject, filter relation, entry), or a provider
// or consumer relation to it where the driver writes those. The whole
// contract is then a conflict: the driver never writes into it.
func (n names) contractForeign(s *snapshot, name string) (object, bool) {
	for _, dn := range []string{n.brcDN(name), n.fltDN(filterName(name))} {
		if o, ok := s.get(dn); ok && !n.owned(o) {
			return o, true
		}
		if o, ok := n.foreignBelow(s, dn); ok {
			return o, true
		}
	}
	for _, cls := range []string{"fvRsProv", "fvRsCons"} {
		for _, r := range s.byClass(cls) {
			if r.attrs["tnVzBrCPName"] == name && !n.owned(r) && n.relationInOurPlace(r) {
				return r, true
			}
		}
	}
	return object{}, false
}

// epgOf returns the group of a DN under .../out-L/instP-E/...
func (n names) epgOf(dn string) (group, bool) {
	prefix := n.tenantDN() + "/out-"
	if !strings.HasPrefix(dn, prefix) {
		return group{}, false
	}
	rest := dn[len(prefix):]
	l3out, rest, ok := strings.Cut(rest, "/instP-")
	if !ok || strings.Contains(l3out, "/") {
		return group{}, false
	}
	epg, _, _ := strings.Cut(rest, "/")
	return group{l3out: l3out, epg: epg}, true
}

// toObserved derives the fabric objects this cluster owns from a snapshot,
// and the foreign objects found where it would write.
func (d *Driver) toObserved(s *snapshot) fabric.Observed {
	n := d.names
	var obs fabric.Observed

	// BGP peers under each configured switch's SVI path.
	fas := d.fabricAS()
	for _, sw := range d.cfg.Switches {
		var paths []string
		for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
			if at, ok := d.placeOf(sw, af); ok {
				paths = append(paths, n.pathDN(at))
			}
		}
		for _, p := range s.childrenOf(paths, "bgpPeerP") {
			a, err := canonAddr(p.attrs["addr"])
			if err != nil {
				continue // a dynamic (prefix) peer: never one of ours
			}
			if !n.owned(p) {
				obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindBGPPeer, sw.Name, a.String(), p))
				continue
			}
			if f, ok := n.foreignBelow(s, p.dn); ok {
				// An unmarked remote or local AS under our peer: the peer is
				// not wholly ours and is left alone.
				d.log.Info("a BGP peer of this cluster holds an object without its mark; reported as a conflict", "dn", p.dn, "foreign", f.dn)
				obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindBGPPeer, sw.Name, a.String(), f))
				continue
			}
			// Without a local-AS override the switch presents the fabric's AS.
			node, fp := parseDescr(p.attrs["descr"])
			peer := fabric.BGPPeer{Switch: sw.Name, Node: node, PeerAddress: a.String(), AddressFamily: fabric.FamilyOf(a),
				LocalASN: fas}
			if as, ok := s.get(p.dn + "/as"); ok && n.owned(as) {
				peer.RemoteASN = parseASN(as.attrs["asn"])
			}
			if la, ok := s.get(p.dn + "/localasn"); ok && n.owned(la) {
				peer.LocalASN = parseASN(la.attrs["localAsn"])
				if prop := la.attrs["asnPropagate"]; prop != "" && prop != d.aci.ASNPropagate {
					peer.LocalASN = 0 // another asnPropagate: rewritten
				}
			}
			// The options, read back as Desire writes them: the password by
			// the fingerprint the driver keeps in descr (the APIC never
			// returns the password), shutdown and the other peerAttrs from
			// their attributes, the prefix limit from the policy the peer's
			// own relation names.
			if fp != "" {
				peer.Password = fabric.ObservedSecret(fp)
			}
			readPeerAttrs(p.attrs, &peer.PeerOptions)
			if r, ok := s.get(p.dn + "/rspeerPfxPol"); ok && n.owned(r) && r.attrs["tnBgpPeerPfxPolName"] != "" {
				peer.MaxPrefix = n.prefixLimit(s, r.attrs["tnBgpPeerPfxPolName"])
			}
			obs.Owned.Peers = append(obs.Owned.Peers, peer)
		}
	}

	// An external EPG of the cluster's L3Out that the configuration does
	// not name, and that carries no mark of this cluster, is someone
	// else's: every subnet the cluster would put into it is a conflict, in
	// the plan already (a group-wide foreign entry, "<epg>/*").
	for _, epg := range s.byClass("l3extInstP") {
		g, ok := n.epgOf(epg.dn)
		if !ok || g.l3out != n.l3out || n.containers[epg.dn] || n.owned(epg) {
			continue
		}
		obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindExternalSubnet, "", n.groupName(g)+"/"+fabric.AnyID, epg))
	}

	// External subnets anywhere in the tenant's L3Outs.
	for _, sn := range s.byClass("l3extSubnet") {
		g, ok := n.epgOf(sn.dn)
		if !ok {
			continue
		}
		p, err := netip.ParsePrefix(sn.attrs["ip"])
		if err != nil {
			continue
		}
		id := n.groupName(g) + "/" + p.Masked().String()
		if !n.owned(sn) {
			obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindExternalSubnet, "", id, sn))
			continue
		}
		sub := fabric.ExternalSubnet{Group: n.groupName(g), Prefix: p.Masked().String()}
		for _, sc := range splitScope(sn.attrs["scope"]) {
			sub.Scopes = append(sub.Scopes, fabric.Scope(sc))
		}
		obs.Owned.Subnets = append(obs.Owned.Subnets, sub)
	}

	d.observeRouting(s, &obs)

	// Maximum paths: our policy per address family, attached to the VRF.
	for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
		pol := n.policyName(string(af))
		po, havePol := s.get(n.tenantDN() + "/bgpCtxAfP-" + pol)
		if havePol && !n.owned(po) {
			obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindMaximumPaths, "", string(af), po))
			continue
		}
		var ours, theirs *object
		for _, r := range s.children(n.vrfDN(), "fvRsCtxToBgpCtxAfPol") {
			if r.attrs["af"] != afUcast(string(af)) {
				continue
			}
			r := r
			if n.owned(r) && r.attrs["tnBgpCtxAfPolName"] == pol {
				ours = &r
			} else if !n.owned(r) {
				theirs = &r
			}
		}
		if theirs != nil {
			obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindMaximumPaths, "", string(af), *theirs))
			continue
		}
		if havePol && ours != nil {
			paths, _ := strconv.Atoi(po.attrs["maxEcmp"])
			obs.Owned.MaximumPaths = append(obs.Owned.MaximumPaths, fabric.MaximumPaths{AddressFamily: af, Paths: paths})
		}
	}

	// Contracts, their filter, and who provides and consumes them. A
	// contract any of whose places holds an object without the mark is
	// reported as foreign as a whole (see contractForeign).
	foreignContract := map[string]bool{}
	addForeign := func(name string, o object) {
		if !foreignContract[name] {
			foreignContract[name] = true
			obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindContract, "", name, o))
		}
	}
	provs, cons := map[string][]string{}, map[string][]string{}
	for _, cls := range []string{"fvRsProv", "fvRsCons"} {
		for _, r := range s.byClass(cls) {
			g, ok := n.epgOf(r.dn)
			name := r.attrs["tnVzBrCPName"]
			if !ok || n.isLock(name) {
				continue
			}
			if !n.owned(r) {
				if n.relationInOurPlace(r) {
					addForeign(name, r)
				}
				continue
			}
			if cls == "fvRsProv" {
				provs[name] = append(provs[name], n.groupName(g))
			} else {
				cons[name] = append(cons[name], n.groupName(g))
			}
		}
	}
	for _, f := range s.byClass("vzFilter") {
		// A filter at the name derived for a contract that does not exist
		// yet (a contract that exists is checked below).
		name, ok := strings.CutSuffix(f.attrs["name"], "_flt")
		if _, exists := s.get(n.brcDN(name)); ok && !exists && !n.owned(f) && filterName(name) == f.attrs["name"] {
			addForeign(name, f)
		}
	}
	for _, b := range s.byClass("vzBrCP") {
		name := b.attrs["name"]
		if n.isLock(name) {
			continue // a writer lock's marker (lock.go) is no fabric object
		}
		if f, ok := n.contractForeign(s, name); ok {
			if n.owned(b) {
				d.log.Info("a contract of this cluster holds an object without its mark; reported as a conflict", "dn", b.dn, "foreign", f.dn)
			}
			addForeign(name, f)
			continue
		}
		c := fabric.Contract{Name: name, Consumers: cons[name]}
		if p := provs[name]; len(p) > 0 {
			sort.Strings(p)
			c.Provider = p[0]
		}
		flt := filterName(name)
		_, okS := s.get(b.dn + "/subj-" + subjectName)
		_, okR := s.get(b.dn + "/subj-" + subjectName + "/rssubjFiltAtt-" + flt)
		fo, okF := s.get(n.fltDN(flt))
		if okS && okR && okF {
			for _, e := range s.children(fo.dn, "vzEntry") {
				port, okP := parsePort(e.attrs["dFromPort"])
				if !okP || e.attrs["dToPort"] != e.attrs["dFromPort"] || e.attrs["etherT"] != "ip" {
					port = 0 // not an entry we write: the contract gets rewritten
				}
				c.Entries = append(c.Entries, fabric.ContractEntry{Protocol: e.attrs["prot"], Port: port})
			}
		}
		obs.Owned.Contracts = append(obs.Owned.Contracts, c)
	}
	d.observeSessionPolicy(s, &obs)
	return obs
}

func parseASN(s string) uint32 {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// fabricActions are the fabric's names of a bgpPeerPfxPol's actions.
var fabricActions = map[string]string{"shut": fabric.MaxPrefixShutdown, "restart": fabric.MaxPrefixRestart, "log": fabric.MaxPrefixWarn}

// prefixLimit reads the prefix limit of the bgpPeerPfxPol a peer's relation
// names. What the driver would not write (a missing policy, ACI's "reject",
// which drops the excess prefixes and keeps the session) reads as a limit
// no intent asks for, so the peer is written again.
func (n names) prefixLimit(s *snapshot, name string) *fabric.MaxPrefix {
	pol, ok := s.get(n.pfxPolDN(name))
	if !ok {
		return &fabric.MaxPrefix{Action: "(policy " + printable(name) + " is missing)"}
	}
	limit, _ := strconv.ParseUint(pol.attrs["maxPfx"], 10, 32)
	m := &fabric.MaxPrefix{Limit: uint32(limit), Action: fabricActions[pol.attrs["action"]]}
	if m.Action == "" {
		m.Action = "(ACI action " + printable(pol.attrs["action"]) + ")"
	}
	if m.Action == fabric.MaxPrefixRestart {
		// "infinite" is the APIC's default; read as the largest number in
		// case the APIC reports a written 65535 so (not verified).
		if rt := pol.attrs["restartTime"]; rt == "infinite" {
			m.RestartMinutes = 65535
		} else {
			m.RestartMinutes, _ = strconv.Atoi(rt)
		}
	}
	return m
}
