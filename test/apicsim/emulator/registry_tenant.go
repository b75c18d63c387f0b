package emulator

// Classes that cisco.aci's tenant, VRF, L3Out, contract and route-tag
// modules write or name in their queries, beyond the driver's own (which
// registry.go holds). A module that names a class in rsp-subtree-class must
// find it registered, or the emulator answers "unresolved class" where an
// APIC answers. Each class cites its source; what has none is listed in
// docs/aci.md ("What the emulator assumes").
//
// Sources, cited below by short name:
//   - [jsonmeta X]: terraform-provider-aci gen/meta/X.json (APIC jsonmeta:
//     rnFormat, containedBy, validValues, defaults);
//   - [aci-go-client F]: the aci-go-client v2 file F vendored in
//     terraform-provider-aci (RN formats);
//   - [tf doc R]: terraform-provider-aci docs/resources/R.md (defaults and
//     allowed values);
//   - [cisco.aci M]: the cisco.aci 2.6.0 module M (class, RN, parent and the
//     properties it writes), and [cisco.aci test M]: its integration test
//     (tests/integration/targets/M/tasks/main.yml), which asserts what a
//     real APIC returned.

var dscpDefault = func() *AttrMeta { return enum("unspecified", dscpEnum...) }

func init() {
	// The L3 domain an L3Out's l3extRsL3DomAtt names (tDn uni/l3dom-{name}):
	// class l3extDomP, RN l3dom-{name} under uni [cisco.aci aci_domain,
	// domain_type l3dom: aci_class l3extDomP, "uni/l3dom-{0}";
	// aci-go-client via terraform aci/resource_aci_l3extdomp.go
	// "l3dom-%s" under "uni"]. aci_domain writes name, nameAlias and, for
	// l3dom, targetDscp [cisco.aci aci_domain]; targetDscp's default
	// "unspecified" is assumed (as for every other targetDscp here).
	register(&ClassMeta{Name: "l3extDomP", Label: "L3 Domain Profile", RNFormat: "l3dom-{name}", Naming: []string{"name"},
		Parents: []string{"polUni"},
		Attrs:   map[string]*AttrMeta{"name": str(nameRe, 64), "targetDscp": dscpDefault()}})

	// vzAny, the VRF's "EPG collection": RN any under fvCtx; matchT
	// All|AtleastOne|AtmostOne|None, default AtleastOne; prefGrMemb
	// enabled|disabled, default disabled; name 0-64 [jsonmeta vzAny;
	// tf doc any]. aci_vrf queries it (child_classes ["vzAny"]) and writes
	// it when preferred_group or match_type is given [cisco.aci aci_vrf;
	// cisco.aci test aci_vrf: vzAny matchT "All", prefGrMemb "enabled"].
	// The APIC makes one with every VRF; no source here shows its
	// properties on a VRF created without it, and no module's idempotency
	// depends on it, so it is not implicit (docs/aci.md).
	register(&ClassMeta{Name: "vzAny", Label: "EPG Collection for Context", RNFormat: "any", Parents: []string{"fvCtx"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "matchT": enum("AtleastOne", matchTEnum...),
			"prefGrMemb": enum("disabled", "enabled", "disabled")}})

	// The L3Out's routing protocols besides bgpExtP: aci_l3out queries
	// bgpExtP, ospfExtP, eigrpExtP and pimExtP and writes the one
	// l3protocol names with descr and nameAlias (eigrpExtP also asn)
	// [cisco.aci aci_l3out].
	//   - ospfExtP: RN ospfExtP [aci-go-client client/ospfExtP_service.go];
	//     areaCost default 1; areaCtrl redistribute|summary|suppress-fa|
	//     unspecified, default redistribute,summary; areaType
	//     nssa|regular|stub, default nssa; multipodInternal no|yes, default
	//     no [tf doc l3out_ospf_external_policy]. The range of areaCost
	//     (1-16777215) is assumed; areaId is not modelled.
	//   - pimExtP: RN pimextp [aci-go-client models/pim_ext_p.go RnPimExtP].
	//   - eigrpExtP: asn [cisco.aci aci_l3out; cisco.aci test aci_l3out
	//     (the newer one on main) reads eigrpExtP asn "1" back]. Its RN
	//     eigrpExtP and the range 1-65535 are assumed.
	register(&ClassMeta{Name: "ospfExtP", Label: "OSPF External Policy", RNFormat: "ospfExtP", Parents: []string{"l3extOut"},
		Attrs: map[string]*AttrMeta{"areaCost": rng("1", 1, 16777215),
			"areaCtrl":         bitmask("redistribute,summary", "redistribute", "summary", "suppress-fa", "unspecified"),
			"areaType":         enum("nssa", "nssa", "regular", "stub"),
			"multipodInternal": enum("no", "no", "yes")}})
	register(&ClassMeta{Name: "pimExtP", Label: "PIM External Policy", RNFormat: "pimextp", Parents: []string{"l3extOut"}})
	register(&ClassMeta{Name: "eigrpExtP", Label: "EIGRP External Policy", RNFormat: "eigrpExtP", Parents: []string{"l3extOut"},
		Attrs: map[string]*AttrMeta{"asn": rng("1", 1, 65535)}})

	// The logical interface profile's policy relations, which
	// aci_l3out_logical_interface_profile writes on every run with an empty
	// name unless told otherwise (nd_policy, ingress_dpp_policy,
	// egress_dpp_policy default "") and queries as child classes
	// [cisco.aci aci_l3out_logical_interface_profile]. RNs rsNdIfPol,
	// rsingressQosDppPol, rsegressQosDppPol [aci-go-client
	// client/l3extLIfP_service.go]; targets ndIfPol uni/tn-{t}/ndifpol-{name}
	// [tf doc neighbor_discovery_interface_policy] and qosDppPol
	// uni/tn-{t}/qosdpppol-{name} [tf doc data_plane_policing_policy]. A
	// real APIC keeps the empty names as written: the module's second run
	// is "not changed" [cisco.aci test aci_l3out_logical_interface_profile,
	// "Add profile again, check if idempotency works"].
	for _, r := range []struct{ class, label, rn, attr, target, targetRN string }{
		{"l3extRsNdIfPol", "ND Interface Policy Relation", "rsNdIfPol", "tnNdIfPolName", "ndIfPol", "ndifpol-{name}"},
		{"l3extRsIngressQosDppPol", "Ingress Data Plane Policing Relation", "rsingressQosDppPol", "tnQosDppPolName", "qosDppPol", "qosdpppol-{name}"},
		{"l3extRsEgressQosDppPol", "Egress Data Plane Policing Relation", "rsegressQosDppPol", "tnQosDppPolName", "qosDppPol", "qosdpppol-{name}"},
	} {
		register(&ClassMeta{Name: r.class, Label: r.label, RNFormat: r.rn, Parents: []string{"l3extLIfP"},
			Attrs:    map[string]*AttrMeta{r.attr: str(nameRe, 64)},
			Relation: &RelationMeta{NameAttr: r.attr, TargetClass: r.target, TargetRN: r.targetRN}})
	}

	// A subject's one-way filter chains: vzInTerm (consumer to provider,
	// RN intmnl) and vzOutTerm (provider to consumer, RN outtmnl) under
	// vzSubj, with name, prio and targetDscp [aci-go-client
	// models/vz_in_term.go, vz_out_term.go; cisco.aci aci_contract_subject
	// writes prio and targetDscp with the subject's choices]. Their default
	// "unspecified" is assumed (the subject's own). Their filters are
	// vzRsFiltAtt, RN rsfiltAtt-{tnVzFilterName} [tf doc
	// contract_subject_one_way_filter], with the properties
	// aci_contract_subject_to_filter writes to either relation (action,
	// directives, priorityOverride) [cisco.aci
	// aci_contract_subject_to_filter; cisco.aci test of it reads action
	// "permit", directives "" back from a vzRsFiltAtt].
	//
	// No implicit terms: aci_contract_subject and
	// aci_contract_subject_to_filter read a subject with
	// rsp-subtree-class=vzInTerm,vzOutTerm and take any children as "the
	// subject is one-way", refusing direction "both" [cisco.aci
	// aci_contract_subject: direction_options]; their test creates a
	// two-way subject and binds filters "both" to it, so a real APIC
	// creates neither term with a subject.
	for _, term := range []struct{ class, label, rn string }{
		{"vzInTerm", "Inbound Term", "intmnl"}, {"vzOutTerm", "Outbound Term", "outtmnl"},
	} {
		register(&ClassMeta{Name: term.class, Label: term.label, RNFormat: term.rn, Parents: []string{"vzSubj"},
			Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "prio": enum("unspecified", prioEnum...), "targetDscp": dscpDefault()}})
	}
	register(&ClassMeta{Name: "vzRsFiltAtt", Label: "Filter Relation", RNFormat: "rsfiltAtt-{tnVzFilterName}", Naming: []string{"tnVzFilterName"},
		Parents: []string{"vzInTerm", "vzOutTerm"},
		Attrs: map[string]*AttrMeta{"tnVzFilterName": str(nameRe, 64), "action": enum("permit", "permit", "deny"),
			"directives": bitmask("", "log", "no_stats"), "priorityOverride": enum("default", "default", "level1", "level2", "level3")},
		Relation: &RelationMeta{NameAttr: "tnVzFilterName", TargetClass: "vzFilter", TargetRN: "flt-{name}"}})

	// Route tag policy: l3extRouteTagPol, RN rttag-{name} under fvTenant
	// [cisco.aci aci_l3out_route_tag_policy; terraform
	// aci/resource_aci_l3extroutetagpol.go "rttag-%s"]; tag default
	// 4294967295 [tf doc l3out_route_tag_policy; cisco.aci test
	// aci_l3out_route_tag_policy (main) reads "4294967295" for a policy
	// created without a tag]. The range 0-4294967295 is assumed.
	register(&ClassMeta{Name: "l3extRouteTagPol", Label: "Route Tag Policy", RNFormat: "rttag-{name}", Naming: []string{"name"},
		Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"tag": rng("4294967295", 0, 4294967295)}})
}
