package aci

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// Statuses of a POSTed object.
const (
	upsert   = "created,modified"
	modified = "modified" // must exist: used for containers the driver does not own
	deleted  = "deleted"
)

// passwordPlaceholder stands for a BGP password in rendered payloads: its
// fingerprint, which the peer's descr carries too, never its value.
func passwordPlaceholder(fp string) string { return "(sensitive, not shown; fingerprint " + fp + ")" }

// mo is one object of the payload.
type mo struct {
	class string
	rn    string
	attrs map[string]string
	kids  map[string]*mo
}

func (m *mo) child(class, rn string, attrs map[string]string) *mo {
	if c, ok := m.kids[rn]; ok {
		// An object reached twice: a write wins over a mere "modified"
		// container reference, and a delete never undoes a write.
		if c.attrs["status"] == modified && attrs["status"] != modified {
			c.attrs = attrs
		}
		return c
	}
	c := &mo{class: class, rn: rn, attrs: attrs, kids: map[string]*mo{}}
	m.kids[rn] = c
	return c
}

func (m *mo) MarshalJSON() ([]byte, error) {
	inner := map[string]any{"attributes": m.attrs}
	if len(m.kids) > 0 && m.attrs["status"] != deleted {
		rns := make([]string, 0, len(m.kids))
		for rn := range m.kids {
			rns = append(rns, rn)
		}
		sort.Strings(rns)
		kids := make([]*mo, len(rns))
		for i, rn := range rns {
			kids[i] = m.kids[rn]
		}
		inner["children"] = kids
	}
	return json.Marshal(map[string]any{m.class: inner})
}

// count counts the objects of the payload by status.
func (m *mo) count(into map[string]int) {
	if m.attrs["status"] != modified {
		into[m.attrs["status"]]++
	}
	if m.attrs["status"] == deleted {
		return
	}
	for _, k := range m.kids {
		k.count(into)
	}
}

// builder turns plan changes into one tenant payload. snap is the last
// observation (nil offline: containers are then assumed to exist).
type builder struct {
	d      *Driver
	n      names
	snap   *snapshot
	render bool // a payload to print: passwords as placeholders
	root   *mo
	// secrets are the passwords the payload carries, to be kept out of
	// whatever the APIC answers (redact).
	secrets []string

	// EPGs the payload deletes children of or writes into, by DN.
	epgDeletes map[string]map[string]bool
	epgWrites  map[string]bool
	epgNodes   map[string]*mo

	cur  fabric.Change // the change being added
	kept []kept        // owned objects kept because they hold foreign ones
}

// kept is an owned object a delete left in place, because it holds objects
// without this cluster's mark (deleting it would delete them too).
type kept struct {
	key     fabric.Key // the change that deleted around it ("" Kind: none)
	dn      string
	foreign []string // the DNs without the mark it holds
}

func (k kept) message() string {
	what := k.foreign[0]
	if len(k.foreign) > 1 {
		what += fmt.Sprintf(" and %d more", len(k.foreign)-1)
	}
	return fmt.Sprintf("kept %s: it holds %s without this cluster's mark; only this cluster's objects in it were deleted", k.dn, what)
}

// conflictError refuses a change because an object without this cluster's
// mark is in its way: it is reported as a conflict, not as a bad value.
type conflictError struct {
	owner string
	msg   string
}

func (e *conflictError) Error() string { return e.msg }

func inTheWay(o object, format string, a ...any) error {
	return &conflictError{owner: o.attrs["annotation"], msg: fmt.Sprintf(format, a...)}
}

// markText says which mark an object carries, for messages.
func markText(o object) string {
	if owner := o.attrs["annotation"]; owner != "" {
		return fmt.Sprintf("is owned by %q", owner)
	}
	return "exists without an ownership mark"
}

func (d *Driver) newBuilder(snap *snapshot, render bool) *builder {
	n := d.names
	return &builder{d: d, n: n, snap: snap, render: render,
		root:       &mo{class: "fvTenant", rn: "tn-" + n.tenant, attrs: map[string]string{"dn": n.tenantDN(), "status": modified}, kids: map[string]*mo{}},
		epgDeletes: map[string]map[string]bool{}, epgWrites: map[string]bool{}, epgNodes: map[string]*mo{}}
}

// observed returns an observed object (none offline).
func (b *builder) observed(dn string) (object, bool) {
	if b.snap == nil {
		return object{}, false
	}
	return b.snap.get(dn)
}

// exists reports whether an object was observed (true offline).
func (b *builder) exists(dn string) bool {
	if b.snap == nil {
		return true
	}
	_, ok := b.snap.get(dn)
	return ok
}

// ownedOrAbsent reports whether dn is free for this cluster to write: not
// observed, observed with the mark, or made by the APIC itself.
func (b *builder) ownedOrAbsent(dn string) error {
	if b.snap == nil {
		return nil
	}
	o, ok := b.snap.get(dn)
	if !ok || b.n.owned(o) || b.n.implicit(o) {
		return nil
	}
	return inTheWay(o, "%s %s; it is left alone", dn, markText(o))
}

func (b *builder) require(dn, what string) error {
	if !b.exists(dn) {
		return fmt.Errorf("%s %s does not exist on the APIC; create it first (the reconciler never creates it)", what, dn)
	}
	return nil
}

func (b *builder) ref(parent *mo, class, rn, name string) *mo {
	return parent.child(class, rn, map[string]string{"name": name, "status": modified})
}

func (b *builder) l3out(name string) *mo { return b.ref(b.root, "l3extOut", "out-"+name, name) }

// path returns the SVI path node of a switch, which must exist.
func (b *builder) path(at place) (*mo, error) {
	for _, c := range []struct{ dn, what string }{
		{b.n.tenantDN(), "tenant"}, {b.n.l3outDN(b.n.l3out), "L3Out"},
		{b.n.l3outDN(b.n.l3out) + "/lnodep-" + b.n.nodeProfile, "node profile"}, {b.n.lifpDN(at.lifp), "interface profile"},
		{b.n.pathDN(at), "SVI path attachment"},
	} {
		if err := b.require(c.dn, c.what); err != nil {
			return nil, err
		}
	}
	np := b.ref(b.l3out(b.n.l3out), "l3extLNodeP", "lnodep-"+b.n.nodeProfile, b.n.nodeProfile)
	ip := b.ref(np, "l3extLIfP", "lifp-"+at.lifp, at.lifp)
	return ip.child("l3extRsPathL3OutAtt", "rspathL3OutAtt-["+at.svi+"]", map[string]string{"tDn": at.svi, "status": modified}), nil
}

// placeOf is where a switch's peers of a family go: IPv4 peers on
// interfaceProfile/sviPath, IPv6 peers on interfaceProfileV6/sviPathV6 (ACI
// puts an interface's IPv6 address on its own logical interface profile,
// docs/aci.md "Dual stack"). ok is false when the configuration names none.
func (d *Driver) placeOf(sw config.Switch, af fabric.AddressFamily) (place, bool) {
	return placeFor(d.aci, sw, af)
}

func placeFor(a *Settings, sw config.Switch, af fabric.AddressFamily) (place, bool) {
	l := leafOf(sw)
	if af == fabric.IPv6 {
		if a.InterfaceProfileV6 == "" || l.SVIPathV6 == "" {
			return place{}, false
		}
		return place{lifp: a.InterfaceProfileV6, svi: l.SVIPathV6}, true
	}
	return place{lifp: a.InterfaceProfile, svi: l.SVIPath}, true
}

// epg returns the node of an external EPG. One on the cluster's own L3Out
// that does not exist is created with the mark; any other must exist.
func (b *builder) epg(g group, write bool) (*mo, error) {
	if err := b.require(b.n.tenantDN(), "tenant"); err != nil {
		return nil, err
	}
	if err := b.require(b.n.l3outDN(g.l3out), "L3Out"); err != nil {
		return nil, err
	}
	dn := b.n.epgDN(g)
	attrs := map[string]string{"name": g.epg, "status": modified}
	if !b.exists(dn) {
		if g.l3out != b.n.l3out {
			return nil, fmt.Errorf("external EPG %s does not exist on the APIC; create it first (the reconciler creates EPGs on its own L3Out %s only)", dn, b.n.l3out)
		}
		attrs = map[string]string{"name": g.epg, "annotation": b.n.mark, "status": upsert}
	}
	if o, ok := b.observed(dn); ok && write && !b.n.owned(o) && !b.n.containers[dn] {
		// Not one the configuration names, and not ours: an EPG made by
		// hand (or by another owner) at a name this cluster derives. Never
		// adopted: nothing is written into it (case 4.4).
		return nil, inTheWay(o, "external EPG %s %s and is not one the configuration names (externalEPGs, consumers); nothing is written into it", dn, markText(o))
	}
	node := b.l3out(g.l3out).child("l3extInstP", "instP-"+g.epg, attrs)
	b.epgNodes[dn] = node
	if write {
		b.epgWrites[dn] = true
	}
	return node, nil
}

func (b *builder) deleteUnder(epgDN, childDN string) {
	if b.epgDeletes[epgDN] == nil {
		b.epgDeletes[epgDN] = map[string]bool{}
	}
	b.epgDeletes[epgDN][childDN] = true
}

func (b *builder) owned(extra map[string]string) map[string]string {
	extra["annotation"] = b.n.mark
	extra["status"] = upsert
	return extra
}

// add puts one change into the payload, or says why it cannot be made.
func (b *builder) add(c fabric.Change) error {
	b.cur = c
	switch c.Kind {
	case fabric.KindBGPPeer:
		return b.peer(c)
	case fabric.KindExternalSubnet:
		return b.subnet(c)
	case fabric.KindMaximumPaths:
		return b.maxPaths(c)
	case fabric.KindContract:
		return b.contract(c)
	case fabric.KindPrefixFilter:
		return b.filter(c)
	case fabric.KindSessionPolicy:
		return b.sessionPolicy(c)
	}
	return fmt.Errorf("%s is not something the ACI driver manages", printable(string(c.Kind)))
}

func (b *builder) peer(c fabric.Change) error {
	p, ok := c.Object().(fabric.BGPPeer)
	if !ok {
		return fmt.Errorf("not a BGP peer")
	}
	a, err := canonAddr(p.PeerAddress)
	if err != nil {
		return err
	}
	var (
		at    place
		found bool
	)
	for _, s := range b.d.cfg.Switches {
		if s.Name == c.Switch {
			at, found = b.d.placeOf(s, fabric.FamilyOf(a))
		}
	}
	if !found || !sviPathRe.MatchString(at.svi) || !aciNameRe.MatchString(at.lifp) {
		if fabric.FamilyOf(a) == fabric.IPv6 {
			return fmt.Errorf("switch %s: an IPv6 peer needs sviPathV6 and aci.interfaceProfileV6 in the configuration (never an IPv6 peer on the IPv4 path)", printable(c.Switch))
		}
		return fmt.Errorf("switch %s has no valid sviPath in the configuration", printable(c.Switch))
	}
	swASN := b.d.fabricAS()
	dn := b.n.pathDN(at) + "/peerP-[" + a.String() + "]"
	if c.Action == fabric.ActionDelete {
		if !b.exists(b.n.pathDN(at)) || !b.exists(dn) {
			return nil // already gone
		}
		if err := b.mustOwn(dn); err != nil {
			return err
		}
		path, err := b.path(at)
		if err != nil {
			return err
		}
		b.remove(path, "bgpPeerP", dn, map[string]string{"addr": a.String()})
		return nil
	}
	if !descrRe.MatchString(p.Node) || strings.Contains(p.Node, " ") {
		return fmt.Errorf("node name %s cannot be an ACI description", printable(p.Node))
	}
	descr := peerDescr(p.Node, p.Password.Fingerprint())
	if !descrRe.MatchString(descr) {
		return fmt.Errorf("node name %s with the password's fingerprint is longer than an ACI description (128 characters)", printable(p.Node))
	}
	if p.RemoteASN == 0 || p.LocalASN == 0 {
		return fmt.Errorf("BGP peer %s: AS numbers must be 1-4294967295", a)
	}
	relDN := dn + "/rspeerPfxPol"
	// The peer and the children written with it: an unmarked remote or
	// local AS, or a prefix-policy relation someone set, under our peer is
	// never taken over.
	importRelDN := dn + "/" + b.importRelRN(c.Switch, a)
	for _, d := range []string{dn, dn + "/as", dn + "/localasn", relDN, importRelDN} {
		if err := b.ownedOrAbsent(d); err != nil {
			return err
		}
	}
	was := b.peerNow(c, dn)
	pol := ""
	if p.MaxPrefix != nil {
		if pol, err = b.n.prefixPolicyName(*p.MaxPrefix); err != nil {
			return fmt.Errorf("BGP peer %s: %w", a, err)
		}
		if err := b.ownedOrAbsent(b.n.pfxPolDN(pol)); err != nil {
			return err
		}
	}
	path, err := b.path(at)
	if err != nil {
		return err
	}
	attrs := b.owned(map[string]string{"addr": a.String(), "descr": descr})
	// The password only when it differs from the one last sent (by
	// fingerprint) or the peer is new: the APIC cannot tell a password
	// sent again from a new one, and a new password may reset the session.
	if fp := p.Password.Fingerprint(); !was.exists || fp != was.fp {
		switch {
		case p.Password != nil && b.render:
			attrs["password"] = passwordPlaceholder(fp)
		case p.Password != nil && p.Password.Value() == "":
			return fmt.Errorf("BGP peer %s: its password (fingerprint %s) must be sent, and this plan holds only its fingerprint (a plan read from a file): plan again from the cluster", a, fp)
		case p.Password != nil:
			attrs["password"] = p.Password.Value()
			b.secrets = append(b.secrets, p.Password.Value())
		case was.fp != "":
			attrs["password"] = "" // no password any more
		}
	}
	writePeerAttrs(attrs, p.PeerOptions, was.attrs)
	peer := path.child("bgpPeerP", "peerP-["+a.String()+"]", attrs)
	peer.child("bgpAsP", "as", b.owned(map[string]string{"asn": strconv.FormatUint(uint64(p.RemoteASN), 10)}))
	// Per-node import route control: a new peer points at its import route
	// map (routing.go, filter) through a per-peer route-control relation
	// [terraform-provider-aci docs/resources/bgp_peer_connectivity_profile.md,
	// relation_bgp_rs_peer_to_profile with direction import/export]; an
	// existing peer gets it, or loses it, with its filter.
	if b.d.aci.ImportControl == "peer" && !was.exists {
		peer.child("bgpRsPeerToProfile", b.importRelRN(c.Switch, a),
			b.owned(map[string]string{"tDn": b.n.profileDN(b.n.importName(c.Switch, a)), "direction": "import"}))
	}
	// A local-AS override whenever the node expects another AS than the
	// fabric's own (uni/fabric/bgpInstP-default/as): the APIC's
	// bgpLocalAsnP exists to present a different AS [terraform-provider-aci
	// docs/resources/bgp_peer_connectivity_profile.md, local_asn and
	// local_asn_propagate]. swASN 0 (offline, no asn configured): the
	// fabric's AS is unknown and the override is written.
	switch {
	case p.LocalASN != swASN:
		peer.child("bgpLocalAsnP", "localasn", b.owned(map[string]string{"localAsn": strconv.FormatUint(uint64(p.LocalASN), 10),
			"asnPropagate": b.d.aci.ASNPropagate}))
	case b.exists(dn + "/localasn"):
		if err := b.mustOwn(dn + "/localasn"); err != nil {
			return err
		}
		peer.child("bgpLocalAsnP", "localasn", map[string]string{"status": deleted})
	}
	// The prefix limit: the peer's relation names the policy of its
	// values. A new peer gets the relation written with the mark (naming
	// none without a limit), so that no unmarked child the APIC would make
	// stays under it; an existing one only when the name changes.
	if !was.exists || pol != was.policy {
		peer.child("bgpRsPeerPfxPol", "rspeerPfxPol", b.owned(map[string]string{"tnBgpPeerPfxPolName": pol}))
	}
	if m := p.MaxPrefix; m != nil {
		pa := map[string]string{"name": pol, "maxPfx": strconv.FormatUint(uint64(m.Limit), 10), "action": pfxActions[m.Action]}
		if m.Action == fabric.MaxPrefixRestart {
			pa["restartTime"] = strconv.Itoa(m.RestartMinutes)
		}
		b.root.child("bgpPeerPfxPol", "bgpPfxP-"+pol, b.owned(pa))
	}
	return nil
}

// importRelRN is the RN of a peer's relation to its import route map.
func (b *builder) importRelRN(sw string, a netip.Addr) string {
	return "rspeerToProfile-[" + b.n.profileDN(b.n.importName(sw, a)) + "]-import"
}

// peerState is what a peer holds of what the payload may rewrite.
type peerState struct {
	exists bool
	fp     string            // the password's fingerprint in descr
	attrs  map[string]string // the attributes of peerAttrs (peeroptions.go)
	policy string            // the prefix-limit policy its relation names ("" none)
}

// peerNow is the peer as the last observation holds it; offline, as the
// change's Before says.
func (b *builder) peerNow(c fabric.Change, dn string) peerState {
	if b.snap == nil {
		before, ok := c.Before.(fabric.BGPPeer)
		if !ok {
			return peerState{}
		}
		st := peerState{exists: true, fp: before.Password.Fingerprint(), attrs: peerAttrsOf(before.PeerOptions)}
		if before.MaxPrefix != nil {
			st.policy, _ = b.n.prefixPolicyName(*before.MaxPrefix)
		}
		return st
	}
	o, ok := b.snap.get(dn)
	if !ok {
		return peerState{}
	}
	_, fp := parseDescr(o.attrs["descr"])
	st := peerState{exists: true, fp: fp, attrs: o.attrs}
	if r, ok := b.snap.get(dn + "/rspeerPfxPol"); ok && !b.n.implicit(r) {
		st.policy = r.attrs["tnBgpPeerPfxPolName"]
	}
	return st
}

// mustOwn refuses to delete an object that does not carry the mark.
func (b *builder) mustOwn(dn string) error {
	if b.snap == nil {
		return nil
	}
	if o, ok := b.snap.get(dn); ok && !b.n.owned(o) {
		return inTheWay(o, "%s does not carry this cluster's mark; it is left alone", dn)
	}
	return nil
}

// namingProps are the naming properties of the classes the driver observes,
// which a payload object needs besides its status.
var namingProps = map[string][]string{
	"fvTenant": {"name"}, "fvCtx": {"name"}, "fvRsCtxToBgpCtxAfPol": {"tnBgpCtxAfPolName", "af"}, "bgpCtxAfPol": {"name"},
	"l3extOut": {"name"}, "l3extLNodeP": {"name"}, "l3extLIfP": {"name"}, "l3extRsPathL3OutAtt": {"tDn"},
	"bgpPeerP": {"addr"}, "bgpAsP": {}, "bgpLocalAsnP": {}, "bgpRsPeerPfxPol": {}, "bgpPeerPfxPol": {"name"},
	"l3extInstP": {"name"}, "l3extSubnet": {"ip"},
	"fvRsProv": {"tnVzBrCPName"}, "fvRsCons": {"tnVzBrCPName"}, "vzBrCP": {"name"}, "vzSubj": {"name"},
	"vzRsSubjFiltAtt": {"tnVzFilterName"}, "vzFilter": {"name"}, "vzEntry": {"name"},
	"bgpRsPeerToProfile": {"tDn", "direction"}, "rtctrlProfile": {"name"}, "rtctrlCtxP": {"name"},
	"rtctrlRsCtxPToSubjP": {"tnRtctrlSubjPName"}, "rtctrlSubjP": {"name"}, "rtctrlMatchRtDest": {"ip"},
}

// remove deletes the owned object at dn, a child of parent. status:
// deleted removes a whole subtree on the APIC (aci-apic-notes.md section
// 1.2), so when the observation shows objects without this cluster's mark
// below it, only this cluster's objects are deleted: the object stays, with
// what it holds, and is reported (case 4.6). Offline (no observation) it is
// deleted whole: Render says so.
func (b *builder) remove(parent *mo, class, dn string, naming map[string]string) {
	o, ok := b.observed(dn)
	if !ok {
		if b.snap == nil {
			attrs := copyAttrs(naming)
			attrs["status"] = deleted
			parent.child(class, lastRN(dn), attrs)
		}
		return
	}
	b.removeObserved(parent, o)
}

func (b *builder) removeObserved(parent *mo, o object) {
	attrs := map[string]string{}
	for _, k := range namingProps[o.class] {
		attrs[k] = o.attrs[k]
	}
	var foreign []string
	for _, x := range b.snap.below(o.dn) {
		if !b.n.owned(x) && !b.n.implicit(x) {
			foreign = append(foreign, x.dn)
		}
	}
	if len(foreign) == 0 {
		attrs["status"] = deleted
		parent.child(o.class, lastRN(o.dn), attrs)
		return
	}
	attrs["status"] = modified
	node := parent.child(o.class, lastRN(o.dn), attrs)
	for _, ch := range b.snap.children(o.dn, "") {
		if b.n.owned(ch) {
			b.removeObserved(node, ch)
		}
	}
	b.kept = append(b.kept, kept{key: b.cur.Key(), dn: o.dn, foreign: foreign})
}

func copyAttrs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

var knownScopes = map[fabric.Scope]bool{fabric.ScopeImportSecurity: true, fabric.ScopeExportRtctrl: true, fabric.ScopeImportRtctrl: true,
	fabric.ScopeExportAggregate: true,
	fabric.ScopeSharedSecurity:  true, fabric.ScopeSharedRtctrl: true}

func (b *builder) subnet(c fabric.Change) error {
	s, ok := c.Object().(fabric.ExternalSubnet)
	if !ok {
		return fmt.Errorf("not an external subnet")
	}
	g, err := b.n.groupOf(s.Group)
	if err != nil {
		return err
	}
	p, err := canonPrefix(s.Prefix)
	if err != nil {
		return err
	}
	rn := "extsubnet-[" + p.String() + "]"
	epgDN := b.n.epgDN(g)
	dn := epgDN + "/" + rn
	// An aggregate export is a route-map entry, not a subnet scope
	// (routing.go); the other scopes make the l3extSubnet.
	hadAgg := false
	if before, ok := c.Before.(fabric.ExternalSubnet); ok {
		hadAgg = hasScope(before.Scopes, fabric.ScopeExportAggregate)
	}
	wantAgg := c.Action != fabric.ActionDelete && hasScope(s.Scopes, fabric.ScopeExportAggregate)
	if wantAgg || hadAgg {
		if err := b.exportAggregate(g, p, !wantAgg); err != nil {
			return err
		}
	}
	var rest []fabric.Scope
	for _, sc := range s.Scopes {
		if sc != fabric.ScopeExportAggregate {
			rest = append(rest, sc)
		}
	}
	if c.Action != fabric.ActionDelete && len(rest) == 0 {
		if b.exists(dn) && b.snap != nil {
			c.Action = fabric.ActionDelete // the l3extSubnet part went
		} else {
			return nil
		}
	}
	s.Scopes = rest
	if c.Action == fabric.ActionDelete {
		if !b.exists(epgDN) || !b.exists(dn) {
			return nil
		}
		if err := b.mustOwn(dn); err != nil {
			return err
		}
		node, err := b.epg(g, false)
		if err != nil {
			return err
		}
		node.child("l3extSubnet", rn, map[string]string{"ip": p.String(), "status": deleted})
		b.deleteUnder(epgDN, dn)
		return nil
	}
	var scopes []string
	for _, sc := range s.Scopes {
		if !knownScopes[sc] {
			return fmt.Errorf("subnet %s: unknown scope %s", p, printable(string(sc)))
		}
		scopes = append(scopes, string(sc))
	}
	if len(scopes) == 0 {
		return fmt.Errorf("subnet %s: no scope", p)
	}
	sort.Strings(scopes)
	if err := b.ownedOrAbsent(dn); err != nil {
		return err
	}
	node, err := b.epg(g, true)
	if err != nil {
		return err
	}
	node.child("l3extSubnet", rn, b.owned(map[string]string{"ip": p.String(), "scope": strings.Join(dedupe(scopes), ",")}))
	return nil
}

func hasScope(list []fabric.Scope, sc fabric.Scope) bool {
	for _, x := range list {
		if x == sc {
			return true
		}
	}
	return false
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (b *builder) maxPaths(c fabric.Change) error {
	m, ok := c.Object().(fabric.MaximumPaths)
	if !ok {
		return fmt.Errorf("not a maximum-paths setting")
	}
	if c.Switch != "" {
		return fmt.Errorf("ACI sets maximum paths per VRF, not per switch (%s)", printable(c.Switch))
	}
	af := string(m.AddressFamily)
	if af != "ipv4" && af != "ipv6" {
		return fmt.Errorf("unknown address family %s", printable(af))
	}
	pol := b.n.policyName(af)
	if err := checkName("maximum-paths policy", pol); err != nil {
		return err
	}
	polRN := "bgpCtxAfP-" + pol
	relRN := "rsctxToBgpCtxAfPol-[" + pol + "]-" + afUcast(af)
	if err := b.require(b.n.tenantDN(), "tenant"); err != nil {
		return err
	}
	if c.Action == fabric.ActionDelete {
		for _, dn := range []string{b.n.tenantDN() + "/" + polRN, b.n.vrfDN() + "/" + relRN} {
			if err := b.mustOwn(dn); err != nil {
				return err
			}
		}
		if b.exists(b.n.vrfDN()) && b.exists(b.n.vrfDN()+"/"+relRN) {
			b.ref(b.root, "fvCtx", "ctx-"+b.n.vrf, b.n.vrf).child("fvRsCtxToBgpCtxAfPol", relRN,
				map[string]string{"tnBgpCtxAfPolName": pol, "af": afUcast(af), "status": deleted})
		}
		if b.exists(b.n.tenantDN() + "/" + polRN) {
			b.root.child("bgpCtxAfPol", polRN, map[string]string{"name": pol, "status": deleted})
		}
		return nil
	}
	if m.Paths < 1 || m.Paths > 64 {
		return fmt.Errorf("maximum paths %d: ACI allows 1-64", m.Paths)
	}
	if err := b.require(b.n.vrfDN(), "VRF"); err != nil {
		return err
	}
	for _, dn := range []string{b.n.tenantDN() + "/" + polRN, b.n.vrfDN() + "/" + relRN} {
		if err := b.ownedOrAbsent(dn); err != nil {
			return err
		}
	}
	// The VRF's relation for the family is the place, whatever policy
	// it names: one without the mark is in the way, as Observe says.
	if b.snap != nil {
		for _, r := range b.snap.children(b.n.vrfDN(), "fvRsCtxToBgpCtxAfPol") {
			if r.attrs["af"] == afUcast(af) && !b.n.owned(r) {
				return inTheWay(r, "%s %s; it is left alone", r.dn, markText(r))
			}
		}
	}
	b.root.child("bgpCtxAfPol", polRN, b.owned(map[string]string{"name": pol, "maxEcmp": strconv.Itoa(m.Paths)}))
	b.ref(b.root, "fvCtx", "ctx-"+b.n.vrf, b.n.vrf).child("fvRsCtxToBgpCtxAfPol", relRN,
		b.owned(map[string]string{"tnBgpCtxAfPolName": pol, "af": afUcast(af)}))
	return nil
}

func (b *builder) contract(c fabric.Change) error {
	var before, after *fabric.Contract
	if v, ok := c.Before.(fabric.Contract); ok {
		before = &v
	}
	if v, ok := c.After.(fabric.Contract); ok {
		after = &v
	}
	name := c.ID
	if err := checkName("contract", name); err != nil {
		return err
	}
	if b.n.isLock(name) {
		return fmt.Errorf("contract %s: the name of a writer lock's marker, never a fabric contract", name)
	}
	flt := filterName(name)
	brcDN := b.n.brcDN(name)
	fltDN := b.n.fltDN(flt)
	if err := b.require(b.n.tenantDN(), "tenant"); err != nil {
		return err
	}

	// Relations to drop: every owned provider/consumer relation of this
	// contract that the new state does not keep.
	keep := map[string]bool{}
	var provG *group
	var consG []group
	if after != nil {
		g, err := b.n.groupOf(after.Provider)
		if err != nil {
			return fmt.Errorf("contract %s provider: %w", name, err)
		}
		provG = &g
		keep[b.n.epgDN(g)+"/rsprov-"+name] = true
		for _, cs := range after.Consumers {
			g, err := b.n.groupOf(cs)
			if err != nil {
				return fmt.Errorf("contract %s consumer: %w", name, err)
			}
			consG = append(consG, g)
			keep[b.n.epgDN(g)+"/rscons-"+name] = true
		}
		for _, e := range after.Entries {
			if e.Protocol != "tcp" && e.Protocol != "udp" {
				return fmt.Errorf("contract %s: protocol %s has no ports on ACI filters (tcp and udp only)", name, printable(e.Protocol))
			}
			if e.Port < 1 || e.Port > 65535 {
				return fmt.Errorf("contract %s: port %d out of range", name, e.Port)
			}
		}
		// Any object without the mark in the contract's places makes the
		// whole contract a conflict: nothing is written into it, and no
		// unmarked entry is taken over (case 4.5).
		if b.snap != nil {
			if f, ok := b.n.contractForeign(b.snap, name); ok {
				return inTheWay(f, "contract %s: %s %s; nothing is written into the contract", name, f.dn, markText(f))
			}
		}
		for dn := range keep {
			if err := b.ownedOrAbsent(dn); err != nil {
				return err
			}
		}
	}
	var drop []string
	if b.snap != nil {
		for _, cls := range []string{"fvRsProv", "fvRsCons"} {
			for _, r := range b.snap.byClass(cls) {
				if r.attrs["tnVzBrCPName"] == name && b.n.owned(r) && !keep[r.dn] {
					drop = append(drop, r.dn)
				}
			}
		}
	} else if before != nil {
		if g, err := b.n.groupOf(before.Provider); err == nil && !keep[b.n.epgDN(g)+"/rsprov-"+name] {
			drop = append(drop, b.n.epgDN(g)+"/rsprov-"+name)
		}
		for _, cs := range before.Consumers {
			if g, err := b.n.groupOf(cs); err == nil && !keep[b.n.epgDN(g)+"/rscons-"+name] {
				drop = append(drop, b.n.epgDN(g)+"/rscons-"+name)
			}
		}
	}
	for _, dn := range drop {
		g, ok := b.n.epgOf(dn)
		if !ok {
			continue
		}
		node, err := b.epg(g, false)
		if err != nil {
			continue // its EPG is gone, and the relation with it
		}
		rn := lastRN(dn)
		cls := "fvRsCons"
		if strings.HasPrefix(rn, "rsprov-") {
			cls = "fvRsProv"
		}
		node.child(cls, rn, map[string]string{"tnVzBrCPName": name, "status": deleted})
		b.deleteUnder(b.n.epgDN(g), dn)
	}

	if after == nil {
		for _, dn := range []string{brcDN, fltDN} {
			if err := b.mustOwn(dn); err != nil {
				return err
			}
		}
		if b.exists(brcDN) {
			b.remove(b.root, "vzBrCP", brcDN, map[string]string{"name": name})
		}
		if b.exists(fltDN) {
			b.remove(b.root, "vzFilter", fltDN, map[string]string{"name": flt})
		}
		return nil
	}

	// The filter and its entries; owned entries no longer wanted go.
	fnode := b.root.child("vzFilter", "flt-"+flt, b.owned(map[string]string{"name": flt}))
	want := map[string]bool{}
	for _, e := range after.Entries {
		en := entryName(e.Protocol, e.Port)
		want[en] = true
		port := strconv.Itoa(e.Port)
		fnode.child("vzEntry", "e-"+en, b.owned(map[string]string{"name": en, "etherT": "ip", "prot": e.Protocol,
			"dFromPort": port, "dToPort": port}))
	}
	if b.snap != nil {
		for _, e := range b.snap.children(fltDN, "vzEntry") {
			if en := e.attrs["name"]; b.n.owned(e) && !want[en] {
				fnode.child("vzEntry", "e-"+en, map[string]string{"name": en, "status": deleted})
			}
		}
	}
	scope := b.d.aci.ContractScope
	if scope == "" {
		scope = "context"
	}
	brc := b.root.child("vzBrCP", "brc-"+name, b.owned(map[string]string{"name": name, "scope": scope}))
	subj := brc.child("vzSubj", "subj-"+subjectName, b.owned(map[string]string{"name": subjectName}))
	subj.child("vzRsSubjFiltAtt", "rssubjFiltAtt-"+flt, b.owned(map[string]string{"tnVzFilterName": flt}))

	pnode, err := b.epg(*provG, true)
	if err != nil {
		return err
	}
	pnode.child("fvRsProv", "rsprov-"+name, b.owned(map[string]string{"tnVzBrCPName": name}))
	for _, g := range consG {
		cnode, err := b.epg(g, true)
		if err != nil {
			return err
		}
		cnode.child("fvRsCons", "rscons-"+name, b.owned(map[string]string{"tnVzBrCPName": name}))
	}
	return nil
}

// finish deletes owned EPGs that the payload empties (every observed child
// is deleted and nothing is written into them), and this cluster's
// prefix-limit policies that no peer names any more.
func (b *builder) finish() {
	if b.snap == nil {
		return
	}
	b.dropUnusedPolicies()
	for dn, dels := range b.epgDeletes {
		if b.epgWrites[dn] {
			continue
		}
		o, ok := b.snap.get(dn)
		if !ok || !b.n.owned(o) {
			continue
		}
		empty := true
		var foreign []string
		for _, ch := range b.snap.children(dn, "") {
			if !dels[ch.dn] {
				empty = false
				if !b.n.owned(ch) {
					foreign = append(foreign, ch.dn)
				}
			}
		}
		if !empty && len(foreign) > 0 && b.ownedChildrenGo(dn, dels) {
			// Emptied of this cluster's objects, but it holds others: kept
			// (case 4.7), and said so.
			b.kept = append(b.kept, kept{dn: dn, foreign: foreign})
		}
		if empty {
			node := b.epgNodes[dn]
			node.attrs = map[string]string{"name": node.attrs["name"], "status": deleted}
			node.kids = map[string]*mo{}
		}
	}
}

// ownedChildrenGo reports whether the payload deletes every owned child of
// an EPG.
func (b *builder) ownedChildrenGo(dn string, dels map[string]bool) bool {
	for _, ch := range b.snap.children(dn, "") {
		if b.n.owned(ch) && !dels[ch.dn] {
			return false
		}
	}
	return true
}

func lastRN(dn string) string {
	depth := 0
	for i := len(dn) - 1; i >= 0; i-- {
		switch dn[i] {
		case ']':
			depth++
		case '[':
			depth--
		case '/':
			if depth == 0 {
				return dn[i+1:]
			}
		}
	}
	return dn
}

// dropUnusedPolicies deletes the owned bgpPeerPfxPols that no relation in
// the tenant will name once the payload is applied. A policy is shared by
// the peers of one limit, so it goes with the last of them (or when the
// last one's limit changes). A relation named by anyone, ours or not,
// keeps it: named relations resolve by name in the tenant.
func (b *builder) dropUnusedPolicies() {
	gone, written := map[string]bool{}, map[string]string{}
	b.root.walk(b.n.tenantDN(), func(dn string, m *mo) {
		switch {
		case m.attrs["status"] == deleted:
			gone[dn] = true
		case m.class == "bgpRsPeerPfxPol":
			written[dn] = m.attrs["tnBgpPeerPfxPolName"]
		case m.class == "bgpPeerPfxPol":
			written[dn] = m.attrs["name"] // being written: in use
		}
	})
	goes := func(dn string) bool {
		for ; dn != ""; dn = parentDN(dn) {
			if gone[dn] {
				return true
			}
		}
		return false
	}
	used := map[string]bool{}
	for _, name := range written {
		used[name] = true
	}
	for _, r := range b.snap.byClass("bgpRsPeerPfxPol") {
		if _, rewritten := written[r.dn]; !rewritten && !goes(r.dn) {
			used[r.attrs["tnBgpPeerPfxPolName"]] = true
		}
	}
	for _, p := range b.snap.children(b.n.tenantDN(), "bgpPeerPfxPol") {
		if name := p.attrs["name"]; b.n.owned(p) && !used[name] && !gone[p.dn] {
			b.root.child("bgpPeerPfxPol", "bgpPfxP-"+name, map[string]string{"name": name, "status": deleted})
		}
	}
}

// walk visits the payload below m (m is at dn), with each object's DN.
func (m *mo) walk(dn string, fn func(string, *mo)) {
	for rn, k := range m.kids {
		fn(dn+"/"+rn, k)
		k.walk(dn+"/"+rn, fn)
	}
}

// parentDN is the DN above dn ("" above the top).
func parentDN(dn string) string {
	rn := lastRN(dn)
	if rn == dn {
		return ""
	}
	return dn[:len(dn)-len(rn)-1]
}
