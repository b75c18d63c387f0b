package emulator

// The BGP protocol profile of a node profile and the two tenant policies it
// names: the timers policy (bgpCtxPol) and the best-path policy
// (bgpBestPathCtrlPol). This file's init runs after registry.go's (files
// initialise in name order), so bgpProtP, registered there, is extended
// here.
//
// Sources:
//   - RNs and containment: bgpProtP "protp" under l3extLNodeP;
//     bgpRsBgpNodeCtxPol "rsbgpNodeCtxPol" and bgpRsBestPathCtrlPol
//     "rsBestPathCtrlPol" under it [aci-go-client v2.32.2
//     client/bgpProtP_service.go]; bgpCtxPol "bgpCtxP-{name}" and
//     bgpBestPathCtrlPol "bestpath-{name}" under fvTenant [aci-go-client
//     client/bgpCtxPol_service.go, client/bgpBestPathCtrlPol_service.go;
//     the relations' tDn uni/tn-T/bestpath-X and uni/tn-T/bgpCtxP-Y asserted
//     on a real APIC in ansible-aci tests/integration/targets/
//     aci_l3out_bgp_protocol_profile].
//   - Defaults: kaIntvl "60", holdIntvl "180", grCtrl "helper", staleIntvl
//     "default", maxAsLimit "0" [ansible-aci tests/integration/targets/
//     aci_bgp_timers_policy, a policy created without them on a real APIC];
//     grCtrl "" for "complete" [same test; cisco.aci constants
//     MATCH_GRACEFUL_RESTART_CONTROLS_MAPPING]; ctrl "asPathMultipathRelax"
//     or "" [ansible-aci tests/integration/targets/aci_bgp_best_path_policy].
//     ctrl's default when not sent is disputed (cisco.aci
//     aci_bgp_best_path_policy: "The APIC defaults to enable when unset
//     during creation"; terraform-provider-aci
//     docs/resources/bgp_best_path_policy.md: "0"; Cisco's Network as Code
//     data model: as_path_multipath_relax false); the emulator takes "",
//     and the driver always sends ctrl.
//   - Ranges: keepalive 0-3600, hold 3-3600, stale 1-3600 or "default",
//     maximum AS limit 0-2000 [Cisco's netascode data model,
//     apic.tenants.policies.bgp_timer_policies].
//
// Not verified: whether a real APIC makes the two relations itself when a
// bgpProtP is created without them (a template of Cisco's calico/ACI
// integration lists both under bgpProtP with empty names); the emulator
// does, naming no policy, so that the driver is tested against it.
func init() {
	prot := Registry["bgpProtP"]
	if prot == nil {
		panic("emulator: registry_protp.go initialised before registry.go")
	}
	prot.Implicit = []Implicit{
		{Class: "bgpRsBgpNodeCtxPol", Attrs: map[string]string{"tnBgpCtxPolName": ""}},
		{Class: "bgpRsBestPathCtrlPol", Attrs: map[string]string{"tnBgpBestPathCtrlPolName": ""}},
	}
	register(&ClassMeta{Name: "bgpRsBgpNodeCtxPol", Label: "BGP Timers Policy Relation", RNFormat: "rsbgpNodeCtxPol", Parents: []string{"bgpProtP"},
		Attrs:    map[string]*AttrMeta{"tnBgpCtxPolName": str(nameRe, 64)},
		Relation: &RelationMeta{NameAttr: "tnBgpCtxPolName", TargetClass: "bgpCtxPol", TargetRN: "bgpCtxP-{name}"}})
	register(&ClassMeta{Name: "bgpRsBestPathCtrlPol", Label: "BGP Best Path Policy Relation", RNFormat: "rsBestPathCtrlPol", Parents: []string{"bgpProtP"},
		Attrs:    map[string]*AttrMeta{"tnBgpBestPathCtrlPolName": str(nameRe, 64)},
		Relation: &RelationMeta{NameAttr: "tnBgpBestPathCtrlPolName", TargetClass: "bgpBestPathCtrlPol", TargetRN: "bestpath-{name}"}})
	register(&ClassMeta{Name: "bgpCtxPol", Label: "BGP Timers Policy", RNFormat: "bgpCtxP-{name}", Naming: []string{"name"}, Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"kaIntvl": rng("60", 0, 3600), "holdIntvl": rng("180", 3, 3600), "grCtrl": bitmask("helper", "helper"),
			"staleIntvl": {Kind: kindRange, Min: 1, Max: 3600, Default: "default", Words: []string{"default"}},
			"maxAsLimit": rng("0", 0, 2000)}})
	register(&ClassMeta{Name: "bgpBestPathCtrlPol", Label: "BGP Best Path Policy", RNFormat: "bestpath-{name}", Naming: []string{"name"},
		Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"ctrl": bitmask("", "asPathMultipathRelax")}})
}
