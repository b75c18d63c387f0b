package emulator

import "regexp"

// Classes of the fabric BGP instance, route control (route maps) and
// faults: what the ACI driver's routing features write and read. Each
// class cites its source; what has none is listed as an assumption in
// docs/aci.md ("What the emulator assumes").

// faultClass is the class of a raised fault. Faults are children of the
// object they are raised on, RN fault-<code> [Cisco "Address ACI Fault
// Code F0467", https://www.cisco.com/c/en/us/support/docs/software/aci-data-center/220876-address-aci-fault-code-f0467-invalid-vl.html:
// "dn : .../nwissues/fault-F0467"]. Nobody writes them: a POST holding one
// is refused (assumed: the APIC's model marks faultInst non-configurable).
const faultClass = "faultInst"

func init() {
	// The fabric's BGP instance policy and its AS: uni/fabric/bgpInstP-default/as,
	// class bgpAsP, attribute asn [ansible-aci plugins/modules/aci_bgp_rr_asn.py,
	// which reads and writes the fabric AS at that DN].
	register(&ClassMeta{Name: "fabricInst", Label: "Fabric Policies", RNFormat: "fabric", Parents: []string{"polUni"}})
	register(&ClassMeta{Name: "bgpInstPol", Label: "BGP Instance Policy", RNFormat: "bgpInstP-{name}", Naming: []string{"name"},
		Parents: []string{"fabricInst"}, Attrs: map[string]*AttrMeta{"name": str(nameRe, 64)}})
	if as := Registry["bgpAsP"]; as != nil {
		as.Parents = append(as.Parents, "bgpInstPol")
	}

	// Route maps: rtctrlProfile (prof-{name}) in a tenant or an L3Out, its
	// ordered contexts rtctrlCtxP (ctx-{name}: action permit|deny, default
	// permit; order 0-9, default 0) pointing at match rules rtctrlSubjP
	// (subj-{name}, tenant) through rtctrlRsCtxPToSubjP; a match rule's
	// prefixes are rtctrlMatchRtDest (dest-[{ip}]: aggregate yes|no,
	// fromPfxLen/toPfxLen). Sources: Cisco APIC Layer 3 Networking
	// Configuration Guide 4.1(1), "Route Control" (rtctrlProfile,
	// rtctrlCtxP, rtctrlSubjP, rtctrlMatchRtDest; "default-export" /
	// "default-import" route maps in the L3Out; types "Match Prefix and
	// Routing Policy" (combinable, the default) and "Match Routing Policy
	// Only" (global)),
	// https://www.cisco.com/c/en/us/td/docs/switches/datacenter/aci/apic/sw/4-x/L3-configuration/Cisco-APIC-Layer-3-Networking-Configuration-Guide-411/Cisco-APIC-Layer-3-Networking-Configuration-Guide-411_chapter_0111.html;
	// netascode's APIC data model (type combinable|global default
	// combinable; context action default permit, order 0-9 default 0),
	// https://netascode.cisco.com/docs/data_models/apic/tenants/route_control_route_map.
	// The prefix-length range 0-128 of fromPfxLen/toPfxLen is assumed.
	register(&ClassMeta{Name: "rtctrlProfile", Label: "Route Control Profile", RNFormat: "prof-{name}", Naming: []string{"name"},
		Parents: []string{"fvTenant", "l3extOut"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"type": enum("combinable", "combinable", "global")}})
	register(&ClassMeta{Name: "rtctrlCtxP", Label: "Route Control Context", RNFormat: "ctx-{name}", Naming: []string{"name"},
		Parents: []string{"rtctrlProfile"},
		Attrs:   map[string]*AttrMeta{"name": str(nameRe, 64), "action": enum("permit", "permit", "deny"), "order": rng("0", 0, 9)}})
	register(&ClassMeta{Name: "rtctrlRsCtxPToSubjP", Label: "Match Rule Relation", RNFormat: "rsctxPToSubjP-{tnRtctrlSubjPName}",
		Naming: []string{"tnRtctrlSubjPName"}, Parents: []string{"rtctrlCtxP"},
		Attrs:    map[string]*AttrMeta{"tnRtctrlSubjPName": str(nameRe, 64)},
		Relation: &RelationMeta{NameAttr: "tnRtctrlSubjPName", TargetClass: "rtctrlSubjP", TargetRN: "subj-{name}"}})
	register(&ClassMeta{Name: "rtctrlSubjP", Label: "Match Rule", RNFormat: "subj-{name}", Naming: []string{"name"}, Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64)}})
	register(&ClassMeta{Name: "rtctrlMatchRtDest", Label: "Match Route Destination Rule", RNFormat: "dest-[{ip}]", Naming: []string{"ip"},
		Parents: []string{"rtctrlSubjP"},
		Attrs: map[string]*AttrMeta{"ip": {Kind: kindPrefix}, "name": str(nameRe, 64), "aggregate": enum("no", "yes", "no"),
			"fromPfxLen": rng("0", 0, 128), "toPfxLen": rng("0", 0, 128)}})

	// faultInst: read-only. Properties as moquery shows them [the F0467
	// document above: code, descr, dn]; severity, lc, cause, rule, type,
	// created, occur: the fault properties aci-containers and cisco.aci read
	// (assumed set).
	faultAttrs := map[string]*AttrMeta{}
	for _, k := range []string{"code", "severity", "descr", "lc", "cause", "rule", "type", "created", "lastTransition", "occur",
		"domain", "subject", "ack", "origSeverity", "prevSeverity", "highestSeverity", "changeSet"} {
		faultAttrs[k] = str(regexp.MustCompile(`.*`), 512)
	}
	register(&ClassMeta{Name: faultClass, Label: "Fault", RNFormat: "fault-{code}", Naming: []string{"code"}, Attrs: faultAttrs})
}
