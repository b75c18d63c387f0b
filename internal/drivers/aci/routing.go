package aci

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Route maps: transit export of what Calico advertises, and per-node import
// route control. Cisco documents both in the APIC Layer 3 Networking
// Configuration Guide, "Route Control" (4.1(1)):
// https://www.cisco.com/c/en/us/td/docs/switches/datacenter/aci/apic/sw/4-x/L3-configuration/Cisco-APIC-Layer-3-Networking-Configuration-Guide-411/Cisco-APIC-Layer-3-Networking-Configuration-Guide-411_chapter_0111.html
// - a route profile (rtctrlProfile) is an ordered set of contexts
//   (rtctrlCtxP) whose match rules (rtctrlSubjP) hold explicit prefixes
//   (rtctrlMatchRtDest), with "aggregate" matching the prefix and every
//   more specific one;
// - a "default-export" route map in an L3Out applies to the whole L3Out's
//   export without any association;
// - type "Match Prefix and Routing Policy" (combinable, the default) merges
//   the L3Out's export-rtctrl subnets with the profile, "Match Routing
//   Policy Only" (global) makes the profile the only source ("When explicit
//   prefix list is used, the type of the route profile should be set to
//   match routing policy only").

// exportRule is the tenant match rule holding the cluster's aggregate
// exports, and the name of its context in the transit L3Out's
// default-export route map.
func (n names) exportRule() string { return derive("fabric-reconciler.export."+n.cluster(), "") }

func (n names) cluster() string { return strings.TrimPrefix(n.mark, "orchestrator:fabric-reconciler.") }

// importName names the import route map (and its match rule) of one peer.
func (n names) importName(sw string, a netip.Addr) string {
	return derive("fabric-reconciler.import."+n.cluster()+"."+sw+"."+strings.ReplaceAll(a.String(), ":", "-"), "")
}

func (n names) profileDN(name string) string { return n.tenantDN() + "/prof-" + name }
func (n names) subjDN(name string) string    { return n.tenantDN() + "/subj-" + name }

// defaultExport is the route map ACI applies to everything an L3Out
// exports (see above).
const defaultExport = "default-export"

// dest is a match-rule prefix: exact, or aggregate up to le.
func dest(p netip.Prefix, le int) (string, map[string]string) {
	attrs := map[string]string{"ip": p.String(), "aggregate": "no", "fromPfxLen": "0", "toPfxLen": "0"}
	if le > p.Bits() {
		attrs["aggregate"] = "yes"
		attrs["fromPfxLen"] = strconv.Itoa(p.Bits())
		attrs["toPfxLen"] = strconv.Itoa(le)
	}
	return "dest-[" + p.String() + "]", attrs
}

// exportAggregate writes (or deletes) one aggregate export: a destination
// in the cluster's export match rule, which the transit L3Out's
// default-export route map (type combinable, so its export-rtctrl subnets
// still apply) permits. An export-rtctrl subnet would match the prefix
// exactly, never Calico's /26 blocks or a Local service's /32 inside it;
// aggregate export exists for 0.0.0.0/0 only [Cisco APIC Layer 3
// Networking Configuration Guide 5.1, "Scope and Aggregate Controls for
// Subnets": "Export Route Control Subnet—The control advertises specific
// transit routes out of the fabric", https://cisco.com/c/en/us/td/docs/dcn/aci/apic/5x/l3-configuration/cisco-apic-layer-3-networking-configuration-guide-51x/route-and-subnet-scope-51x.html;
// ansible-aci aci_l3out_extsubnet: aggregate export is for 0/0 subnets].
func (b *builder) exportAggregate(g group, p netip.Prefix, del bool) error {
	rule := b.n.exportRule()
	subjDN := b.n.subjDN(rule)
	destRN, attrs := dest(p, p.Addr().BitLen())
	destDN := subjDN + "/" + destRN
	if del {
		if !b.exists(destDN) {
			return nil
		}
		if err := b.mustOwn(destDN); err != nil {
			return err
		}
		b.ref(b.root, "rtctrlSubjP", "subj-"+rule, rule).child("rtctrlMatchRtDest", destRN, map[string]string{"ip": p.String(), "status": deleted})
		return nil
	}
	if err := b.require(b.n.l3outDN(g.l3out), "L3Out"); err != nil {
		return err
	}
	profDN := b.n.l3outDN(g.l3out) + "/prof-" + defaultExport
	ctxDN := profDN + "/ctx-" + rule
	for _, dn := range []string{subjDN, destDN, profDN, ctxDN, ctxDN + "/rsctxPToSubjP-" + rule} {
		if err := b.ownedOrAbsent(dn); err != nil {
			return fmt.Errorf("%w (the transit export of %s needs the L3Out's %s route map; add a context permitting match rule %s to it by hand, or remove the unmarked object)", err, p, defaultExport, rule)
		}
	}
	subj := b.root.child("rtctrlSubjP", "subj-"+rule, b.owned(map[string]string{"name": rule}))
	subj.child("rtctrlMatchRtDest", destRN, b.owned(attrs))
	prof := b.l3out(g.l3out).child("rtctrlProfile", "prof-"+defaultExport, b.owned(map[string]string{"name": defaultExport, "type": "combinable"}))
	ctx := prof.child("rtctrlCtxP", "ctx-"+rule, b.owned(map[string]string{"name": rule, "action": "permit", "order": "0"}))
	ctx.child("rtctrlRsCtxPToSubjP", "rsctxPToSubjP-"+rule, b.owned(map[string]string{"tnRtctrlSubjPName": rule}))
	return nil
}

// importDescr is the descr of a peer's import route map: it names the
// switch and the peer, so that Observe can tell whose it is.
func importDescr(sw string, a netip.Addr) string { return "import " + sw + " " + a.String() }

// filter writes (or deletes) a peer's import route map: a tenant route
// profile of type global ("match routing policy only": the explicit prefix
// list is all it permits) whose one context permits the peer's match rule,
// one destination per allowed prefix (aggregate up to le). The peer points
// at it with its bgpRsPeerToProfile import relation (peer).
func (b *builder) filter(c fabric.Change) error {
	f, ok := c.Object().(fabric.PrefixFilter)
	if !ok {
		return fmt.Errorf("not a prefix filter")
	}
	a, err := canonAddr(f.PeerAddress)
	if err != nil {
		return err
	}
	if !aciNameRe.MatchString(c.Switch) || !descrRe.MatchString(importDescr(c.Switch, a)) {
		return fmt.Errorf("switch name %s cannot name a route map", printable(c.Switch))
	}
	name := b.n.importName(c.Switch, a)
	profDN, subjDN := b.n.profileDN(name), b.n.subjDN(name)
	// The peer's relation to the map: written with the map when the peer
	// exists (a new peer writes it itself), deleted with it.
	var (
		at     place
		placed bool
	)
	for _, sw := range b.d.cfg.Switches {
		if sw.Name == c.Switch {
			at, placed = b.d.placeOf(sw, fabric.FamilyOf(a))
		}
	}
	peerDN := b.n.pathDN(at) + "/peerP-[" + a.String() + "]"
	relRN := b.importRelRN(c.Switch, a)
	relation := func(status map[string]string) error {
		if !placed || b.snap == nil || !b.exists(peerDN) {
			return nil
		}
		if err := b.ownedOrAbsent(peerDN + "/" + relRN); err != nil {
			return err
		}
		if o, ok := b.snap.get(peerDN); !ok || !b.n.owned(o) {
			return nil // not our peer: nothing is written under it
		}
		path, err := b.path(at)
		if err != nil {
			return err
		}
		path.child("bgpPeerP", "peerP-["+a.String()+"]", map[string]string{"addr": a.String(), "status": modified}).
			child("bgpRsPeerToProfile", relRN, status)
		return nil
	}
	if c.Action == fabric.ActionDelete {
		if b.exists(peerDN + "/" + relRN) {
			if err := relation(map[string]string{"tDn": profDN, "direction": "import", "status": deleted}); err != nil {
				return err
			}
		}
		for _, dn := range []string{profDN, subjDN} {
			if err := b.mustOwn(dn); err != nil {
				return err
			}
		}
		if b.exists(profDN) {
			b.remove(b.root, "rtctrlProfile", profDN, map[string]string{"name": name})
		}
		if b.exists(subjDN) {
			b.remove(b.root, "rtctrlSubjP", subjDN, map[string]string{"name": name})
		}
		return nil
	}
	if err := b.require(b.n.tenantDN(), "tenant"); err != nil {
		return err
	}
	ctxDN := profDN + "/ctx-permit"
	for _, dn := range []string{profDN, ctxDN, ctxDN + "/rsctxPToSubjP-" + name, subjDN} {
		if err := b.ownedOrAbsent(dn); err != nil {
			return err
		}
	}
	want := map[string]bool{}
	subj := b.root.child("rtctrlSubjP", "subj-"+name, b.owned(map[string]string{"name": name}))
	for _, r := range f.Prefixes {
		p, err := canonPrefix(r.Prefix)
		if err != nil {
			return err
		}
		if fabric.FamilyOf(p.Addr()) != fabric.FamilyOf(a) || r.LE < p.Bits() || r.LE > p.Addr().BitLen() {
			return fmt.Errorf("prefix filter %s: %s le %d does not fit the peer", a, p, r.LE)
		}
		if err := b.ownedOrAbsent(subjDN + "/dest-[" + p.String() + "]"); err != nil {
			return err
		}
		rn, attrs := dest(p, r.LE)
		want[rn] = true
		subj.child("rtctrlMatchRtDest", rn, b.owned(attrs))
	}
	if b.snap != nil {
		for _, d := range b.snap.children(subjDN, "rtctrlMatchRtDest") {
			if rn := lastRN(d.dn); b.n.owned(d) && !want[rn] {
				subj.child("rtctrlMatchRtDest", rn, map[string]string{"ip": d.attrs["ip"], "status": deleted})
			}
		}
	}
	if err := relation(b.owned(map[string]string{"tDn": profDN, "direction": "import"})); err != nil {
		return err
	}
	prof := b.root.child("rtctrlProfile", "prof-"+name, b.owned(map[string]string{"name": name, "type": "global", "descr": importDescr(c.Switch, a)}))
	ctx := prof.child("rtctrlCtxP", "ctx-permit", b.owned(map[string]string{"name": "permit", "action": "permit", "order": "0"}))
	ctx.child("rtctrlRsCtxPToSubjP", "rsctxPToSubjP-"+name, b.owned(map[string]string{"tnRtctrlSubjPName": name}))
	return nil
}

// observeRouting adds the owned route-map objects to an observation: the
// aggregate exports (when the whole chain to the transit L3Out's
// default-export is in place and owned) and the peers' import route maps.
func (d *Driver) observeRouting(s *snapshot, obs *fabric.Observed) {
	n := d.names
	if g := aciGroupsOf(d.aci).transit; g != "" {
		if tg, err := n.groupOf(g); err == nil {
			rule := n.exportRule()
			profDN := n.l3outDN(tg.l3out) + "/prof-" + defaultExport
			chain := true
			for _, dn := range []string{n.subjDN(rule), profDN, profDN + "/ctx-" + rule, profDN + "/ctx-" + rule + "/rsctxPToSubjP-" + rule} {
				o, ok := s.get(dn)
				chain = chain && ok && n.owned(o)
			}
			if o, ok := s.get(profDN); ok && !n.owned(o) {
				obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindExternalSubnet, "", g+"/"+fabric.AnyID, o))
			}
			if chain {
				for _, dst := range s.children(n.subjDN(rule), "rtctrlMatchRtDest") {
					p, err := netip.ParsePrefix(dst.attrs["ip"])
					if err != nil || !n.owned(dst) || dst.attrs["aggregate"] != "yes" {
						continue
					}
					mergeSubnet(obs, fabric.ExternalSubnet{Group: g, Prefix: p.Masked().String(), Scopes: []fabric.Scope{fabric.ScopeExportAggregate}})
				}
			}
		}
	}
	for _, prof := range s.children(n.tenantDN(), "rtctrlProfile") {
		f := strings.Fields(prof.attrs["descr"])
		if !n.owned(prof) || len(f) != 3 || f[0] != "import" {
			continue
		}
		a, err := canonAddr(f[2])
		if err != nil {
			continue
		}
		name := prof.attrs["name"]
		if name != n.importName(f[1], a) {
			continue
		}
		pf := fabric.PrefixFilter{Switch: f[1], PeerAddress: a.String()}
		related := false // the peer points at the map
		for _, sw := range d.cfg.Switches {
			if sw.Name != f[1] {
				continue
			}
			if at, ok := d.placeOf(sw, fabric.FamilyOf(a)); ok {
				if p, ok := s.get(n.pathDN(at) + "/peerP-[" + a.String() + "]"); ok {
					pf.Node, _ = parseDescr(p.attrs["descr"])
					rel, ok := s.get(p.dn + "/rspeerToProfile-[" + prof.dn + "]-import")
					related = ok && n.owned(rel)
				}
			}
		}
		// A map the peer does not point at filters nothing: observed
		// empty, so that it is written again, relation and all.
		_, okC := s.get(prof.dn + "/ctx-permit/rsctxPToSubjP-" + name)
		if okC && related {
			for _, dst := range s.children(n.subjDN(name), "rtctrlMatchRtDest") {
				p, err := netip.ParsePrefix(dst.attrs["ip"])
				if err != nil {
					continue
				}
				le := p.Bits()
				if dst.attrs["aggregate"] == "yes" {
					le, _ = strconv.Atoi(dst.attrs["toPfxLen"])
					if le == 0 {
						le = p.Addr().BitLen()
					}
				}
				pf.Prefixes = append(pf.Prefixes, fabric.PrefixRule{Prefix: p.Masked().String(), LE: le})
			}
		}
		obs.Owned.PrefixFilters = append(obs.Owned.PrefixFilters, pf)
	}
}

// mergeSubnet adds an observed subnet, merging its scopes into one of the
// same group and prefix.
func mergeSubnet(obs *fabric.Observed, sub fabric.ExternalSubnet) {
	for i, o := range obs.Owned.Subnets {
		if o.Group == sub.Group && o.Prefix == sub.Prefix {
			obs.Owned.Subnets[i].Scopes = append(obs.Owned.Subnets[i].Scopes, sub.Scopes...)
			sort.Slice(obs.Owned.Subnets[i].Scopes, func(a, b int) bool { return obs.Owned.Subnets[i].Scopes[a] < obs.Owned.Subnets[i].Scopes[b] })
			return
		}
	}
	obs.Owned.Subnets = append(obs.Owned.Subnets, sub)
}
