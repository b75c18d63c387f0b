package aci

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// The node profile's BGP protocol profile: the session timers, graceful
// restart helper and AS-path multipath relax, which ACI sets for every peer
// of a node profile, not per peer (fabric.SessionPolicy).
//
//	uni/tn-T/out-L/lnodep-N/protp                      bgpProtP (owned; N is not)
//	  rsbgpNodeCtxPol    bgpRsBgpNodeCtxPol            tnBgpCtxPolName           -> BGP_TIMERS_<cluster> or ""
//	  rsBestPathCtrlPol  bgpRsBestPathCtrlPol          tnBgpBestPathCtrlPolName  -> BGP_BESTPATH_<cluster> or ""
//	uni/tn-T/bgpCtxP-BGP_TIMERS_<cluster>              bgpCtxPol: kaIntvl, holdIntvl, grCtrl helper, staleIntvl
//	uni/tn-T/bestpath-BGP_BESTPATH_<cluster>           bgpBestPathCtrlPol: ctrl asPathMultipathRelax
//
// Sources, each relied on below:
//   - bgpProtP, RN "protp" under l3extLNodeP, with children
//     bgpRsBgpNodeCtxPol (RN "rsbgpNodeCtxPol", tnBgpCtxPolName) and
//     bgpRsBestPathCtrlPol (RN "rsBestPathCtrlPol", tnBgpBestPathCtrlPolName),
//     both carrying an annotation: aci-go-client v2.32.2
//     client/bgpProtP_service.go (CreateRelationbgpRsBestPathCtrlPol,
//     CreateRelationbgpRsBgpNodeCtxPolFromL3outBGPProtocolProfile) and
//     terraform-provider-aci aci/resource_aci_bgpprotp.go (annotation on the
//     profile). The relations resolve to uni/tn-T/bestpath-{name} and
//     uni/tn-T/bgpCtxP-{name} (ansible-aci
//     tests/integration/targets/aci_l3out_bgp_protocol_profile asserting tDn
//     and state "formed" on a real APIC).
//   - bgpCtxPol, RN "bgpCtxP-{name}" in the tenant: kaIntvl (default 60),
//     holdIntvl (180), grCtrl ("helper"; "" is complete graceful restart),
//     staleIntvl ("default"), maxAsLimit (0) [ansible-aci
//     tests/integration/targets/aci_bgp_timers_policy: a policy created
//     without them reads back so on a real APIC, one created with
//     graceful_restart_controls complete reads grCtrl ""; cisco.aci
//     module_utils/constants.py MATCH_GRACEFUL_RESTART_CONTROLS_MAPPING
//     helper="helper", complete=""; aci-go-client models/bgp_ctx_pol.go for
//     the attribute names]. Ranges: keepalive 0-3600, hold 3-3600, stale
//     1-3600 or "default" [Cisco's Network as Code data model,
//     apic.tenants.policies.bgp_timer_policies, https://netascode.cisco.com/
//     docs/data_models/apic/tenants/bgp_timer_policy]. How many seconds
//     "default" stands for is not in these sources: the driver writes it
//     only when no graceful restart time is wanted, and reads it as "not
//     set".
//   - bgpBestPathCtrlPol, RN "bestpath-{name}" in the tenant, ctrl
//     "asPathMultipathRelax" or "" [aci-go-client client/
//     bgpBestPathCtrlPol_service.go; ansible-aci tests/integration/targets/
//     aci_bgp_best_path_policy asserting both values on a real APIC, and
//     cisco.aci MATCH_BEST_PATH_CONTROL_MAPPING enable="asPathMultipathRelax",
//     disable=""; terraform-provider-aci docs/resources/bgp_best_path_policy.md:
//     "asPathMultipathRelax", "0"]. Its default when ctrl is not sent is
//     disputed (cisco.aci aci_bgp_best_path_policy: "The APIC defaults to
//     enable when unset during creation"; terraform: "0"; Network as Code:
//     as_path_multipath_relax false): the driver always sends ctrl, and
//     makes the policy only to set relax.
//
// Assumptions (docs/aci.md lists them): the APIC may make both relations
// itself, naming no policy, when a bgpProtP is created without them (the
// driver writes both with its mark, so it does not depend on it, and reads
// an unmarked one naming ""/"default" as the APIC's own); a timers policy
// attached to the node profile governs every peer of the node profile.

// ACI's ranges of the bgpCtxPol values [Network as Code data model,
// bgp_timer_policies: keepalive_interval 0-3600, hold_interval 3-3600,
// stale_interval 1-3600 or "default"; see above].
const (
	aciMaxKeepalive = 3600
	aciMinHold      = 3
	aciMaxHold      = 3600
	aciMaxStale     = 3600
	// The APIC's defaults of a bgpCtxPol (kaIntvl "60", holdIntvl "180"
	// read back from a policy created without them, ansible-aci
	// aci_bgp_timers_policy integration test): a policy written for
	// graceful restart alone states them, so that it reads back as written.
	aciDefaultKeepalive = 60
	aciDefaultHold      = 180
	// relaxCtrl is bgpBestPathCtrlPol's ctrl flag for AS-path multipath
	// relax (ansible-aci aci_bgp_best_path_policy integration test; see
	// above).
	relaxCtrl = "asPathMultipathRelax"
)

func init() {
	observedClasses = append(observedClasses, "bgpProtP", "bgpRsBgpNodeCtxPol", "bgpRsBestPathCtrlPol", "bgpCtxPol", "bgpBestPathCtrlPol")
	namingProps["bgpProtP"] = nil
	namingProps["bgpRsBgpNodeCtxPol"] = nil
	namingProps["bgpRsBestPathCtrlPol"] = nil
	namingProps["bgpCtxPol"] = []string{"name"}
	namingProps["bgpBestPathCtrlPol"] = []string{"name"}
	// The relations the APIC may make itself under a bgpProtP (assumed,
	// see above): unmarked and naming no policy, they are nobody's.
	implicitRelations["bgpRsBgpNodeCtxPol"] = "tnBgpCtxPolName"
	implicitRelations["bgpRsBestPathCtrlPol"] = "tnBgpBestPathCtrlPolName"
}

// policyOptions are the peer options ACI sets for the node profile as a
// whole, in the session policy, rather than per bgpPeerP.
var policyOptions = map[fabric.PeerOption]bool{fabric.OptionTimers: true, fabric.OptionGracefulRestart: true}

func (n names) nodeProfileDN() string { return n.l3outDN(n.l3out) + "/lnodep-" + n.nodeProfile }
func (n names) protDN() string        { return n.nodeProfileDN() + "/protp" }
func (n names) timersRelDN() string   { return n.protDN() + "/rsbgpNodeCtxPol" }
func (n names) bestRelDN() string     { return n.protDN() + "/rsBestPathCtrlPol" }
func (n names) timersName() string    { return derive("BGP_TIMERS_"+n.cluster(), "") }
func (n names) bestPathName() string  { return derive("BGP_BESTPATH_"+n.cluster(), "") }
func (n names) timersPolDN() string   { return n.tenantDN() + "/bgpCtxP-" + n.timersName() }
func (n names) bestPolDN() string     { return n.tenantDN() + "/bestpath-" + n.bestPathName() }

// desireSessionPolicy derives the session policy from the sessions the
// plan keeps (opts are their options before the per-peer ones were kept):
// the timers and the graceful restart time every session agrees on, and
// AS-path multipath relax when maximum-paths is managed and the nodes are
// in more than one AS. What the sessions disagree on, or ACI cannot take,
// is left as the APIC holds it, with a warning.
func desireSessionPolicy(fab string, accepted []fabric.Session, opts []fabric.PeerOptions, pathsManaged bool, r *fabric.Realized) {
	if len(accepted) == 0 {
		return
	}
	var p fabric.SessionPolicy
	type timers struct{ ka, hold int }
	seenT, seenGR := map[timers]bool{}, map[int]bool{}
	for _, o := range opts {
		seenT[timers{o.Keepalive, o.Hold}] = true
		seenGR[o.GracefulRestart] = true
	}
	warn := func(format string, a ...any) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("fabric %s: ", fab)+fmt.Sprintf(format, a...))
	}
	switch {
	case len(seenT) > 1:
		var list []string
		for t := range seenT {
			list = append(list, fmt.Sprintf("%d/%d", t.ka, t.hold))
		}
		sort.Strings(list)
		warn("the sessions want different BGP timers (keepalive/hold %s), and ACI sets one timers policy (bgpCtxPol) for every peer of the node profile: the timers are left as the APIC holds them", strings.Join(list, ", "))
	default:
		for t := range seenT {
			ka, hold := t.ka, t.hold
			// One given, the other derived as the CLI drivers do (RFC 4271
			// section 10: keepalive a third of the hold time).
			switch {
			case hold > 0 && ka == 0:
				ka = max(1, hold/3)
			case ka > 0 && hold == 0:
				hold = 3 * ka
			}
			if ka == 0 && hold == 0 {
				break
			}
			if ka > aciMaxKeepalive || hold < aciMinHold || hold > aciMaxHold || ka >= hold {
				warn("BGP timers keepalive %d hold %d: an ACI timers policy takes keepalive 1-%d and hold %d-%d seconds, keepalive below hold; the timers are left as the APIC holds them",
					ka, hold, aciMaxKeepalive, aciMinHold, aciMaxHold)
				break
			}
			p.Keepalive, p.Hold = ka, hold
		}
	}
	switch {
	case len(seenGR) > 1:
		var list []string
		for gr := range seenGR {
			list = append(list, strconv.Itoa(gr))
		}
		sort.Strings(list)
		warn("the sessions' BGPPeers want different graceful restart times (maxRestartTime %s s; 0: not set), and ACI sets one stale-path time for every peer of the node profile: it is left as the APIC holds it", strings.Join(list, ", "))
	default:
		for gr := range seenGR {
			if gr > aciMaxStale {
				warn("graceful restart time %d s: an ACI timers policy keeps stale routes 1-%d seconds; it is left as the APIC holds it", gr, aciMaxStale)
				break
			}
			p.GracefulRestart = gr
		}
	}
	if p.GracefulRestart != 0 && p.Hold == 0 {
		// The policy states every value it governs: the APIC's defaults.
		p.Keepalive, p.Hold = aciDefaultKeepalive, aciDefaultHold
	}
	if pathsManaged {
		asns := map[uint32]bool{}
		for _, s := range accepted {
			if s.RemoteASN != s.LocalASN {
				asns[s.RemoteASN] = true
			}
		}
		p.MultipathRelax = len(asns) > 1
	}
	if p.Empty() {
		return
	}
	r.Add(p, "Node/*", "BGPPeer/*", "fabric/"+fab+"/bgp")
}

// sessionPolicyHolds holds the session policy with the peers and the
// paths it derives from: input that cannot be seen changes neither.
func sessionPolicyHolds(h fabric.IntentHold) []fabric.Hold {
	switch h.Scope {
	case fabric.HoldPeers, fabric.HoldNode, fabric.HoldPaths:
		return []fabric.Hold{{Reason: h.Reason, Kind: fabric.KindSessionPolicy, ShrinkOnly: h.ShrinkOnly}}
	}
	return nil
}

// observeSessionPolicy reads the node profile's protocol profile back as
// the builder writes it. A bgpProtP without the mark (made by hand), or
// one of ours holding an object without it, or a policy at one of the
// derived names without it, is foreign: never adopted, never written.
func (d *Driver) observeSessionPolicy(s *snapshot, obs *fabric.Observed) {
	n := d.names
	foreign := func(o object) {
		obs.Foreign = append(obs.Foreign, n.foreign(fabric.KindSessionPolicy, "", fabric.SessionPolicyID, o))
	}
	for _, dn := range []string{n.timersPolDN(), n.bestPolDN()} {
		if o, ok := s.get(dn); ok && !n.owned(o) {
			foreign(o)
			return
		}
	}
	prot, ok := s.get(n.protDN())
	if !ok {
		return
	}
	if !n.owned(prot) {
		foreign(prot)
		return
	}
	if f, ok := n.foreignBelow(s, prot.dn); ok {
		d.log.Info("the BGP protocol profile of this cluster holds an object without its mark; reported as a conflict", "dn", prot.dn, "foreign", f.dn)
		foreign(f)
		return
	}
	var p fabric.SessionPolicy
	if r, ok := s.get(n.timersRelDN()); ok && n.owned(r) && r.attrs["tnBgpCtxPolName"] == n.timersName() {
		if pol, ok := s.get(n.timersPolDN()); ok && pol.attrs["grCtrl"] == "helper" {
			// Another grCtrl is not what the driver writes: read as no
			// timers, so that the policy is written again.
			p.Keepalive, _ = strconv.Atoi(pol.attrs["kaIntvl"])
			p.Hold, _ = strconv.Atoi(pol.attrs["holdIntvl"])
			p.GracefulRestart, _ = strconv.Atoi(pol.attrs["staleIntvl"]) // "default": 0
		}
	}
	if r, ok := s.get(n.bestRelDN()); ok && n.owned(r) && r.attrs["tnBgpBestPathCtrlPolName"] == n.bestPathName() {
		if pol, ok := s.get(n.bestPolDN()); ok {
			p.MultipathRelax = pol.attrs["ctrl"] == relaxCtrl
		}
	}
	obs.Owned.Add(p) // an owned profile that manages nothing is read so, and deleted
}

// sessionPolicy puts the node profile's protocol profile and its policies
// into the payload, or deletes them.
func (b *builder) sessionPolicy(c fabric.Change) error {
	n := b.n
	if c.Switch != "" {
		return fmt.Errorf("ACI sets BGP timers and best-path policy per node profile, not per switch (%s)", printable(c.Switch))
	}
	for _, name := range []string{n.timersName(), n.bestPathName()} {
		if err := checkName("BGP policy", name); err != nil {
			return err
		}
	}
	for _, x := range []struct{ dn, what string }{
		{n.tenantDN(), "tenant"}, {n.l3outDN(n.l3out), "L3Out"}, {n.nodeProfileDN(), "node profile"},
	} {
		if err := b.require(x.dn, x.what); err != nil {
			return err
		}
	}
	np := func() *mo { return b.ref(b.l3out(n.l3out), "l3extLNodeP", "lnodep-"+n.nodeProfile, n.nodeProfile) }
	if c.Action == fabric.ActionDelete {
		for _, dn := range []string{n.protDN(), n.timersPolDN(), n.bestPolDN()} {
			if err := b.mustOwn(dn); err != nil {
				return err
			}
		}
		if b.exists(n.protDN()) {
			b.remove(np(), "bgpProtP", n.protDN(), map[string]string{})
		}
		b.dropPolicy("bgpCtxPol", "bgpCtxP-", n.timersName(), "bgpRsBgpNodeCtxPol", "tnBgpCtxPolName")
		b.dropPolicy("bgpBestPathCtrlPol", "bestpath-", n.bestPathName(), "bgpRsBestPathCtrlPol", "tnBgpBestPathCtrlPolName")
		return nil
	}
	p, ok := c.Object().(fabric.SessionPolicy)
	if !ok {
		return fmt.Errorf("not a session policy")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Keepalive > aciMaxKeepalive || (p.Hold != 0 && (p.Hold < aciMinHold || p.Hold > aciMaxHold)) || p.GracefulRestart > aciMaxStale {
		return fmt.Errorf("BGP timers keepalive %d hold %d stale %d: ACI takes keepalive 0-%d, hold %d-%d, stale 1-%d seconds",
			p.Keepalive, p.Hold, p.GracefulRestart, aciMaxKeepalive, aciMinHold, aciMaxHold, aciMaxStale)
	}
	for _, dn := range []string{n.protDN(), n.timersRelDN(), n.bestRelDN(), n.timersPolDN(), n.bestPolDN()} {
		if err := b.ownedOrAbsent(dn); err != nil {
			return err
		}
	}
	if b.snap != nil {
		if f, ok := n.foreignBelow(b.snap, n.protDN()); ok {
			return inTheWay(f, "%s holds %s, which %s; nothing is written into it", n.protDN(), f.dn, markText(f))
		}
	}
	prot := np().child("bgpProtP", "protp", b.owned(map[string]string{}))
	timers := ""
	if p.Keepalive != 0 || p.Hold != 0 || p.GracefulRestart != 0 {
		timers = n.timersName()
		stale := "default"
		if p.GracefulRestart != 0 {
			stale = strconv.Itoa(p.GracefulRestart)
		}
		b.root.child("bgpCtxPol", "bgpCtxP-"+timers, b.owned(map[string]string{"name": timers,
			"kaIntvl": strconv.Itoa(p.Keepalive), "holdIntvl": strconv.Itoa(p.Hold), "grCtrl": "helper", "staleIntvl": stale}))
	}
	prot.child("bgpRsBgpNodeCtxPol", "rsbgpNodeCtxPol", b.owned(map[string]string{"tnBgpCtxPolName": timers}))
	best := ""
	if p.MultipathRelax {
		best = n.bestPathName()
		b.root.child("bgpBestPathCtrlPol", "bestpath-"+best, b.owned(map[string]string{"name": best, "ctrl": relaxCtrl}))
	}
	prot.child("bgpRsBestPathCtrlPol", "rsBestPathCtrlPol", b.owned(map[string]string{"tnBgpBestPathCtrlPolName": best}))
	if timers == "" {
		b.dropPolicy("bgpCtxPol", "bgpCtxP-", n.timersName(), "bgpRsBgpNodeCtxPol", "tnBgpCtxPolName")
	}
	if best == "" {
		b.dropPolicy("bgpBestPathCtrlPol", "bestpath-", n.bestPathName(), "bgpRsBestPathCtrlPol", "tnBgpBestPathCtrlPolName")
	}
	return nil
}

// dropPolicy deletes this cluster's policy name of class when no relation
// other than this cluster's protocol profile's names it (named relations
// resolve by name in the tenant: another node profile may use it).
func (b *builder) dropPolicy(class, rnPrefix, name, relClass, relAttr string) {
	if b.snap == nil {
		return // offline: what the APIC holds is unknown
	}
	pol, ok := b.snap.get(b.n.tenantDN() + "/" + rnPrefix + name)
	if !ok || !b.n.owned(pol) {
		return
	}
	for _, r := range b.snap.byClass(relClass) {
		if r.attrs[relAttr] == name && !strings.HasPrefix(r.dn, b.n.protDN()+"/") {
			return
		}
	}
	b.root.child(class, rnPrefix+name, map[string]string{"name": name, "status": deleted})
}
