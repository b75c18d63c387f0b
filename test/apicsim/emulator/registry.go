package emulator

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The class registry: for every class the emulator knows, its RN format,
// naming properties, allowed parents, writable properties (with their
// validators and the defaults the APIC reports) and, for named relations,
// the target class. Compiled from /work/shared/design/aci-classes.yaml (APIC
// jsonmeta where it exists, aci-go-client models and cisco.aci test
// assertions otherwise).

// attrKind is how a property's value is checked.
type attrKind int

const (
	kindString  attrKind = iota // free text checked by regex/maxLen
	kindEnum                    // one of Enum
	kindBitmask                 // comma-separated subset of Enum, canonically sorted
	kindRange                   // integer in [Min, Max]
	kindIP                      // an IP address, canonicalised
	kindPrefix                  // an IP prefix, canonicalised
	kindPort                    // 0-65535, a well-known name, or unspecified
	kindProt                    // an IP protocol name or 0-255
)

// AttrMeta describes one writable property.
type AttrMeta struct {
	Kind      attrKind
	Default   string
	Enum      []string
	Min, Max  int64
	Regex     *regexp.Regexp
	MaxLen    int
	WriteOnly bool // accepted, never returned (password)
	// Words are named values a range property takes besides its numbers
	// (bgpPeerPfxPol restartTime "infinite"), stored as written.
	Words []string
}

// ClassMeta describes one class.
type ClassMeta struct {
	Name     string
	Label    string // as the APIC names it in error texts
	RNFormat string // e.g. "tn-{name}", "rspathL3OutAtt-[{tDn}]"
	Naming   []string
	Parents  []string
	Attrs    map[string]*AttrMeta
	// Relation, when set, makes the class a named relation to Target, looked
	// up by NameAttr in the tenant, then in tenant common.
	Relation *RelationMeta
	// TDnRelation marks a relation that names its target by tDn.
	TDnRelation bool
	// Implicit are the children the APIC makes itself when an object of
	// the class is created and the payload does not hold them (a new
	// bgpPeerP gets a bgpRsPeerPfxPol): no annotation, defaults and the
	// properties given here.
	Implicit []Implicit
}

// Implicit is a child the APIC creates with its parent.
type Implicit struct {
	Class string
	Attrs map[string]string
}

// RelationMeta is a named relation's target.
type RelationMeta struct {
	NameAttr    string
	TargetClass string
	TargetRN    string // format with {name}
}

var (
	nameRe       = regexp.MustCompile(`^[a-zA-Z0-9_.:-]+$`)
	tenantNameRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	aliasRe      = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	annotationRe = regexp.MustCompile(`^[a-zA-Z0-9_.:-]+$`)
	descrRe      = regexp.MustCompile(`^[a-zA-Z0-9\\!#$%()*,\-./:;@ _{|}~?&+]+$`)
	tDnRe        = regexp.MustCompile(`^[a-zA-Z0-9_.:/\[\]-]+$`)
	encapRe      = regexp.MustCompile(`^(unknown|vlan-[0-9]{1,4}|vxlan-[0-9]{1,8})$`)
	anyTextRe    = regexp.MustCompile(`^[^\x00-\x1f\[\]"]*$`)
)

func str(re *regexp.Regexp, max int) *AttrMeta {
	return &AttrMeta{Kind: kindString, Regex: re, MaxLen: max}
}
func strDef(re *regexp.Regexp, max int, def string) *AttrMeta {
	return &AttrMeta{Kind: kindString, Regex: re, MaxLen: max, Default: def}
}
func enum(def string, vals ...string) *AttrMeta {
	return &AttrMeta{Kind: kindEnum, Enum: vals, Default: def}
}
func bitmask(def string, vals ...string) *AttrMeta {
	return &AttrMeta{Kind: kindBitmask, Enum: vals, Default: def}
}
func rng(def string, min, max int64) *AttrMeta {
	return &AttrMeta{Kind: kindRange, Min: min, Max: max, Default: def}
}

var prioEnum = []string{"unspecified", "level1", "level2", "level3", "level4", "level5", "level6"}
var dscpEnum = []string{"unspecified", "CS0", "CS1", "AF11", "AF12", "AF13", "CS2", "AF21", "AF22", "AF23", "CS3", "AF31",
	"AF32", "AF33", "CS4", "AF41", "AF42", "AF43", "CS5", "VA", "EF", "CS6", "CS7"}
var matchTEnum = []string{"All", "AtleastOne", "AtmostOne", "None"}

// PortNames are the well-known ports the APIC reports by name.
var PortNames = map[string]string{"20": "ftpData", "25": "smtp", "53": "dns", "80": "http", "110": "pop3", "443": "https", "554": "rtsp"}

var protNames = []string{"unspecified", "icmp", "igmp", "tcp", "egp", "igp", "udp", "icmpv6", "eigrp", "ospfigp", "pim", "l2tp"}

// protNumbers maps the protocol numbers that have names to their names.
var protNumbers = map[string]string{"1": "icmp", "2": "igmp", "6": "tcp", "8": "egp", "9": "igp", "17": "udp", "58": "icmpv6",
	"88": "eigrp", "89": "ospfigp", "103": "pim", "115": "l2tp"}

// Registry maps class names to their metadata.
var Registry = map[string]*ClassMeta{}

func register(c *ClassMeta) {
	if c.Attrs == nil {
		c.Attrs = map[string]*AttrMeta{}
	}
	// Generic properties of every configurable class.
	for k, v := range map[string]*AttrMeta{
		"annotation": strDef(annotationRe, 128, ""),
		"nameAlias":  strDef(aliasRe, 63, ""),
		"descr":      strDef(descrRe, 128, ""),
		"userdom":    strDef(regexp.MustCompile(`^[a-zA-Z0-9_.:-]+$`), 1024, ":all:common:"),
	} {
		if _, ok := c.Attrs[k]; !ok {
			c.Attrs[k] = v
		}
	}
	Registry[c.Name] = c
}

func init() {
	register(&ClassMeta{Name: "polUni", Label: "Policy Universe", RNFormat: "uni", Attrs: map[string]*AttrMeta{"name": str(nameRe, 64)}})
	register(&ClassMeta{Name: "fvTenant", Label: "Tenant", RNFormat: "tn-{name}", Naming: []string{"name"}, Parents: []string{"polUni"},
		Attrs: map[string]*AttrMeta{"name": str(tenantNameRe, 63), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64)},
		// A new tenant gets fvEpTags, fvRsTenantMonPol and vnsSvcCont
		// nobody posted [aci-apic-notes.md section 1.2: a recorded run
		// against an APIC 6.1(4h)]. Their RNs are the APIC model's
		// (eptags, rsTenantMonPol, svcCont; Cisco APIC Management
		// Information Model Reference); the monitoring relation names no
		// policy, so it resolves to tenant common's default (assumed).
		Implicit: []Implicit{{Class: "fvEpTags"}, {Class: "fvRsTenantMonPol", Attrs: map[string]string{"tnMonEPGPolName": ""}}, {Class: "vnsSvcCont"}}})
	register(&ClassMeta{Name: "fvEpTags", Label: "Endpoint Tags", RNFormat: "eptags", Parents: []string{"fvTenant"}})
	register(&ClassMeta{Name: "fvRsTenantMonPol", Label: "Monitoring Policy Relation", RNFormat: "rsTenantMonPol", Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"tnMonEPGPolName": str(nameRe, 64)}})
	register(&ClassMeta{Name: "vnsSvcCont", Label: "Service Container", RNFormat: "svcCont", Parents: []string{"fvTenant"}})
	register(&ClassMeta{Name: "fvCtx", Label: "Private Network", RNFormat: "ctx-{name}", Naming: []string{"name"}, Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"pcEnfPref": enum("enforced", "enforced", "unenforced"), "pcEnfDir": enum("ingress", "ingress", "egress"),
			"ipDataPlaneLearning": enum("enabled", "enabled", "disabled"), "knwMcastAct": enum("permit", "permit", "deny"),
			"bdEnforcedEnable": enum("no", "yes", "no"), "prio": enum("unspecified", prioEnum...)}})
	register(&ClassMeta{Name: "fvRsCtxToBgpCtxAfPol", Label: "BGP Address Family Context Policy Relation",
		RNFormat: "rsctxToBgpCtxAfPol-[{tnBgpCtxAfPolName}]-{af}", Naming: []string{"tnBgpCtxAfPolName", "af"}, Parents: []string{"fvCtx"},
		Attrs:    map[string]*AttrMeta{"tnBgpCtxAfPolName": str(nameRe, 64), "af": enum("ipv4-ucast", "ipv4-ucast", "ipv6-ucast")},
		Relation: &RelationMeta{NameAttr: "tnBgpCtxAfPolName", TargetClass: "bgpCtxAfPol", TargetRN: "bgpCtxAfP-{name}"}})
	register(&ClassMeta{Name: "bgpCtxAfPol", Label: "BGP Address Family Context Policy", RNFormat: "bgpCtxAfP-{name}", Naming: []string{"name"},
		Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"maxEcmp": rng("16", 1, 64), "maxEcmpIbgp": rng("16", 1, 64), "maxLocalEcmp": rng("0", 0, 64),
			"eDist": rng("20", 1, 255), "iDist": rng("200", 1, 255), "localDist": rng("220", 1, 255), "ctrl": bitmask("", "host-rt-leak")}})
	register(&ClassMeta{Name: "l3extOut", Label: "L3 Outside", RNFormat: "out-{name}", Naming: []string{"name"}, Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"enforceRtctrl": bitmask("export", "export", "import"), "targetDscp": enum("unspecified", dscpEnum...),
			"mplsEnabled": enum("no", "yes", "no")}})
	register(&ClassMeta{Name: "l3extRsEctx", Label: "Private Network Relation", RNFormat: "rsectx", Parents: []string{"l3extOut"},
		Attrs:    map[string]*AttrMeta{"tnFvCtxName": str(nameRe, 64)},
		Relation: &RelationMeta{NameAttr: "tnFvCtxName", TargetClass: "fvCtx", TargetRN: "ctx-{name}"}})
	register(&ClassMeta{Name: "l3extRsL3DomAtt", Label: "L3 Domain Relation", RNFormat: "rsl3DomAtt", Parents: []string{"l3extOut"},
		Attrs: map[string]*AttrMeta{"tDn": str(tDnRe, 512)}, TDnRelation: true})
	register(&ClassMeta{Name: "bgpExtP", Label: "BGP External Policy", RNFormat: "bgpExtP", Parents: []string{"l3extOut"}})
	register(&ClassMeta{Name: "l3extLNodeP", Label: "Logical Node Profile", RNFormat: "lnodep-{name}", Naming: []string{"name"},
		Parents: []string{"l3extOut"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"tag": strDef(regexp.MustCompile(`^[a-z-]*$`), 64, "yellow-green"), "targetDscp": enum("unspecified", dscpEnum...)}})
	register(&ClassMeta{Name: "l3extRsNodeL3OutAtt", Label: "Fabric Node", RNFormat: "rsnodeL3OutAtt-[{tDn}]", Naming: []string{"tDn"},
		Parents: []string{"l3extLNodeP"}, TDnRelation: true,
		Attrs: map[string]*AttrMeta{"tDn": str(tDnRe, 512), "rtrId": {Kind: kindIP}, "rtrIdLoopBack": enum("yes", "yes", "no")}})
	register(&ClassMeta{Name: "l3extLoopBackIfP", Label: "Loop Back Interface Profile", RNFormat: "lbp-[{addr}]", Naming: []string{"addr"},
		Parents: []string{"l3extRsNodeL3OutAtt"}, Attrs: map[string]*AttrMeta{"addr": {Kind: kindIP}}})
	register(&ClassMeta{Name: "bgpProtP", Label: "BGP Protocol Profile", RNFormat: "protp", Parents: []string{"l3extLNodeP"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64)}})
	register(&ClassMeta{Name: "l3extLIfP", Label: "Logical Interface Profile", RNFormat: "lifp-{name}", Naming: []string{"name"},
		Parents: []string{"l3extLNodeP"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"prio": enum("unspecified", prioEnum...), "tag": strDef(regexp.MustCompile(`^[a-z-]*$`), 64, "yellow-green")}})
	register(&ClassMeta{Name: "l3extRsPathL3OutAtt", Label: "L3 Out Path Attachment", RNFormat: "rspathL3OutAtt-[{tDn}]", Naming: []string{"tDn"},
		Parents: []string{"l3extLIfP"}, TDnRelation: true,
		Attrs: map[string]*AttrMeta{"tDn": str(tDnRe, 512),
			"ifInstT": enum("unspecified", "ext-svi", "l3-port", "sub-interface", "unspecified"),
			"encap":   {Kind: kindString, Regex: encapRe, MaxLen: 20, Default: "unknown"},
			"addr":    {Kind: kindPrefix, Default: "0.0.0.0"}, "mode": enum("regular", "regular", "native", "untagged"),
			"encapScope": enum("local", "local", "ctx"), "mtu": {Kind: kindString, Regex: regexp.MustCompile(`^(inherit|[0-9]{3,4})$`), MaxLen: 7, Default: "inherit"},
			"autostate": enum("disabled", "enabled", "disabled"), "ipv6Dad": enum("enabled", "enabled", "disabled"),
			"llAddr": {Kind: kindIP, Default: "::"}, "mac": strDef(regexp.MustCompile(`^[0-9A-Fa-f:]{17}$`), 17, "00:22:BD:F8:19:FF"),
			"targetDscp": enum("unspecified", dscpEnum...)}})
	register(&ClassMeta{Name: "l3extMember", Label: "Member", RNFormat: "mem-{side}", Naming: []string{"side"}, Parents: []string{"l3extRsPathL3OutAtt"},
		Attrs: map[string]*AttrMeta{"side": enum("A", "A", "B"), "addr": {Kind: kindPrefix, Default: "0.0.0.0"},
			"ipv6Dad": enum("enabled", "enabled", "disabled"), "llAddr": {Kind: kindIP, Default: "::"}}})
	register(&ClassMeta{Name: "l3extIp", Label: "IP Address", RNFormat: "addr-[{addr}]", Naming: []string{"addr"},
		Parents: []string{"l3extRsPathL3OutAtt", "l3extMember"},
		Attrs:   map[string]*AttrMeta{"addr": {Kind: kindPrefix}, "ipv6Dad": enum("enabled", "enabled", "disabled")}})
	register(&ClassMeta{Name: "bgpPeerP", Label: "BGP Peer Connectivity Profile", RNFormat: "peerP-[{addr}]", Naming: []string{"addr"},
		Parents: []string{"l3extRsPathL3OutAtt", "l3extLNodeP"},
		Attrs: map[string]*AttrMeta{"addr": {Kind: kindPrefix}, "name": str(nameRe, 64),
			"ctrl":             bitmask("", "allow-self-as", "as-override", "dis-peer-as-check", "nh-self", "send-com", "send-ext-com"),
			"peerCtrl":         bitmask("", "bfd", "dis-conn-check"),
			"addrTCtrl":        bitmask("af-ucast", "af-mcast", "af-ucast"),
			"privateASctrl":    bitmask("", "remove-all", "remove-exclusive", "replace-as"),
			"ttl":              rng("1", 1, 255),
			"weight":           rng("0", 0, 65535),
			"allowedSelfAsCnt": rng("3", 1, 10),
			"adminSt":          enum("enabled", "enabled", "disabled"),
			"password":         {Kind: kindString, Regex: regexp.MustCompile(`^[^\x00-\x1f]*$`), MaxLen: 80, WriteOnly: true}},
		// A bgpPeerP created without a prefix-policy relation gets one that
		// names no policy: a peer made on a real APIC with
		// rsp-subtree-class=bgpRsPeerPfxPol,bgpAsP,bgpLocalAsnP reports three
		// children though the client sent two, and one is left when both AS
		// children are deleted [ansible-aci
		// tests/integration/targets/aci_l3out_bgp_peer/tasks/main.yml,
		// "Create BGP Peer with password": children.0 bgpLocalAsnP, children.2
		// bgpAsP, then "children | length == 1"; the module sends no
		// bgpRsPeerPfxPol for a bgpPeerP]. Its name is assumed empty (a named
		// relation nobody set; not verified: it may read "default").
		Implicit: []Implicit{{Class: "bgpRsPeerPfxPol", Attrs: map[string]string{"tnBgpPeerPfxPolName": ""}}}})
	register(&ClassMeta{Name: "bgpAsP", Label: "Autonomous System Profile", RNFormat: "as", Parents: []string{"bgpPeerP"},
		Attrs: map[string]*AttrMeta{"asn": rng("0", 1, 4294967295), "name": str(nameRe, 64)}})
	register(&ClassMeta{Name: "bgpLocalAsnP", Label: "Local Autonomous System Profile", RNFormat: "localasn", Parents: []string{"bgpPeerP"},
		Attrs: map[string]*AttrMeta{"localAsn": rng("0", 1, 4294967295), "name": str(nameRe, 64),
			"asnPropagate": enum("none", "none", "no-prepend", "replace-as", "dual-as")}})
	register(&ClassMeta{Name: "bgpRsPeerPfxPol", Label: "Peer Prefix Policy Relation", RNFormat: "rspeerPfxPol", Parents: []string{"bgpPeerP"},
		Attrs:    map[string]*AttrMeta{"tnBgpPeerPfxPolName": str(nameRe, 64)},
		Relation: &RelationMeta{NameAttr: "tnBgpPeerPfxPolName", TargetClass: "bgpPeerPfxPol", TargetRN: "bgpPfxP-{name}"}})
	// The prefix limit a bgpPeerP's relation names, in the tenant: RN
	// bgpPfxP-{name} [cisco.aci aci_bgp_peer_prefix_policy: aci_rn
	// "bgpPfxP-{0}"]; action log|reject|restart|shut, default reject;
	// maxPfx 1-300000, default 20000; restartTime in minutes, default
	// "infinite"; thresh 1-100, default 75 [defaults: ansible-aci
	// tests/integration/targets/aci_bgp_peer_prefix_policy asserting
	// "reject", "20000", "infinite", "75" on a real APIC; ranges: Cisco's
	// netascode data model apic.tenants.policies.bgp_peer_prefix_policies
	// (max_prefixes 1-300000, threshold 1-100, restart_time 1-65535) and
	// cisco.mso ndo_tenant_bgp_peer_prefix_policy ("between 1 and 300000")].
	// Whether the APIC reports a written 65535 as "infinite" is not known:
	// the emulator keeps what was written.
	register(&ClassMeta{Name: "bgpPeerPfxPol", Label: "BGP Peer Prefix Policy", RNFormat: "bgpPfxP-{name}", Naming: []string{"name"},
		Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"action": enum("reject", "log", "reject", "restart", "shut"), "maxPfx": rng("20000", 1, 300000),
			"restartTime": {Kind: kindRange, Min: 1, Max: 65535, Default: "infinite", Words: []string{"infinite"}},
			"thresh":      rng("75", 1, 100)}})
	register(&ClassMeta{Name: "bgpRsPeerToProfile", Label: "Route Control Profile Relation", RNFormat: "rspeerToProfile-[{tDn}]-{direction}",
		Naming: []string{"tDn", "direction"}, Parents: []string{"bgpPeerP"}, TDnRelation: true,
		Attrs: map[string]*AttrMeta{"tDn": str(tDnRe, 512), "direction": enum("import", "import", "export")}})
	register(&ClassMeta{Name: "l3extInstP", Label: "External Network Instance Profile", RNFormat: "instP-{name}", Naming: []string{"name"},
		Parents: []string{"l3extOut"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"prefGrMemb": enum("exclude", "include", "exclude"), "matchT": enum("AtleastOne", matchTEnum...),
			"floodOnEncap": enum("disabled", "enabled", "disabled"), "pcEnfPref": enum("unenforced", "enforced", "unenforced"),
			"prio": enum("unspecified", prioEnum...), "targetDscp": enum("unspecified", dscpEnum...), "exceptionTag": str(anyTextRe, 512)}})
	register(&ClassMeta{Name: "l3extSubnet", Label: "L3 Subnet", RNFormat: "extsubnet-[{ip}]", Naming: []string{"ip"}, Parents: []string{"l3extInstP"},
		Attrs: map[string]*AttrMeta{"ip": {Kind: kindPrefix}, "name": str(nameRe, 64),
			"scope":     bitmask("import-security", "import-rtctrl", "export-rtctrl", "import-security", "shared-security", "shared-rtctrl"),
			"aggregate": bitmask("", "import-rtctrl", "export-rtctrl", "shared-rtctrl")}})
	register(&ClassMeta{Name: "vzBrCP", Label: "Contract", RNFormat: "brc-{name}", Naming: []string{"name"}, Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64),
			"scope": enum("context", "application-profile", "context", "global", "tenant"), "prio": enum("unspecified", prioEnum...),
			"targetDscp": enum("unspecified", dscpEnum...), "intent": enum("install", "install", "estimate_add")}})
	register(&ClassMeta{Name: "vzSubj", Label: "Subject", RNFormat: "subj-{name}", Naming: []string{"name"}, Parents: []string{"vzBrCP"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "revFltPorts": enum("yes", "yes", "no"),
			"consMatchT": enum("AtleastOne", matchTEnum...), "provMatchT": enum("AtleastOne", matchTEnum...),
			"prio": enum("unspecified", prioEnum...), "targetDscp": enum("unspecified", dscpEnum...)}})
	register(&ClassMeta{Name: "vzRsSubjFiltAtt", Label: "Filter Relation", RNFormat: "rssubjFiltAtt-{tnVzFilterName}", Naming: []string{"tnVzFilterName"},
		Parents: []string{"vzSubj"},
		Attrs: map[string]*AttrMeta{"tnVzFilterName": str(nameRe, 64), "action": enum("permit", "permit", "deny"),
			"directives": bitmask("", "log", "no_stats"), "priorityOverride": enum("default", "default", "level1", "level2", "level3")},
		Relation: &RelationMeta{NameAttr: "tnVzFilterName", TargetClass: "vzFilter", TargetRN: "flt-{name}"}})
	register(&ClassMeta{Name: "vzFilter", Label: "Filter", RNFormat: "flt-{name}", Naming: []string{"name"}, Parents: []string{"fvTenant"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64), "ownerKey": str(anyTextRe, 128), "ownerTag": str(anyTextRe, 64)}})
	register(&ClassMeta{Name: "vzEntry", Label: "Filter Entry", RNFormat: "e-{name}", Naming: []string{"name"}, Parents: []string{"vzFilter"},
		Attrs: map[string]*AttrMeta{"name": str(nameRe, 64),
			"etherT":    enum("unspecified", "unspecified", "ipv4", "ip", "ipv6", "arp", "fcoe", "mac_security", "mpls_ucast", "trill"),
			"prot":      {Kind: kindProt, Default: "unspecified"},
			"dFromPort": {Kind: kindPort, Default: "unspecified"}, "dToPort": {Kind: kindPort, Default: "unspecified"},
			"sFromPort": {Kind: kindPort, Default: "unspecified"}, "sToPort": {Kind: kindPort, Default: "unspecified"},
			"stateful": enum("no", "yes", "no"), "applyToFrag": enum("no", "yes", "no"),
			"tcpRules":  bitmask("", "ack", "est", "fin", "rst", "syn", "unspecified"),
			"arpOpc":    enum("unspecified", "unspecified", "req", "reply"),
			"icmpv4T":   enum("unspecified", "unspecified", "echo-rep", "dst-unreach", "src-quench", "echo", "time-exceeded"),
			"icmpv6T":   enum("unspecified", "unspecified", "dst-unreach", "time-exceeded", "echo-req", "echo-rep", "nbr-solicit", "nbr-advert", "redirect"),
			"matchDscp": enum("unspecified", dscpEnum...)}})
	register(&ClassMeta{Name: "fvRsProv", Label: "Provided Contract", RNFormat: "rsprov-{tnVzBrCPName}", Naming: []string{"tnVzBrCPName"},
		Parents: []string{"l3extInstP"},
		Attrs: map[string]*AttrMeta{"tnVzBrCPName": str(nameRe, 64), "matchT": enum("AtleastOne", matchTEnum...),
			"prio": enum("unspecified", prioEnum...), "intent": enum("install", "install", "estimate_add", "estimate_delete")},
		Relation: &RelationMeta{NameAttr: "tnVzBrCPName", TargetClass: "vzBrCP", TargetRN: "brc-{name}"}})
	register(&ClassMeta{Name: "fvRsCons", Label: "Consumed Contract", RNFormat: "rscons-{tnVzBrCPName}", Naming: []string{"tnVzBrCPName"},
		Parents: []string{"l3extInstP"},
		Attrs: map[string]*AttrMeta{"tnVzBrCPName": str(nameRe, 64), "prio": enum("unspecified", prioEnum...),
			"intent": enum("install", "install", "estimate_add", "estimate_delete")},
		Relation: &RelationMeta{NameAttr: "tnVzBrCPName", TargetClass: "vzBrCP", TargetRN: "brc-{name}"}})
}

// relationReadOnly are the properties a relation reports but nobody writes.
var relationReadOnly = []string{"forceResolve", "rType", "state", "stateQual", "tCl", "tContextDn", "tDn", "tRn", "tType"}

// genericReadOnly are the properties every object reports on GET.
var genericReadOnly = []string{"childAction", "extMngdBy", "lcOwn", "modTs", "status", "uid"}

// apicError is an APIC error answer: HTTP status, code and text.
type apicError struct {
	HTTP int
	Code string
	Text string
}

func (e *apicError) Error() string { return e.Code + ": " + e.Text }

func errf(http int, code, format string, a ...any) *apicError {
	return &apicError{HTTP: http, Code: code, Text: fmt.Sprintf(format, a...)}
}

// normalize checks one property value against the class metadata and
// returns its canonical form, as the APIC stores and reports it.
func (c *ClassMeta) normalize(dn, attr, v string) (string, *apicError) {
	m, ok := c.Attrs[attr]
	if !ok {
		return "", errf(400, "400", "unknown attribute '%s' in element '%s'", attr, c.Name)
	}
	bad := func() *apicError {
		return errf(400, "801", "property %s of %s failed validation for value '%s'", attr, dn, v)
	}
	badEnum := func() *apicError {
		return errf(400, "120", "unknown property value %s, name %s, class %s [(Dn0)] Dn0=%s, ", v, attr, c.Name, dn)
	}
	switch m.Kind {
	case kindString:
		if v == "" {
			return v, nil
		}
		if (m.MaxLen > 0 && len(v) > m.MaxLen) || (m.Regex != nil && !m.Regex.MatchString(v)) {
			return "", bad()
		}
		return v, nil
	case kindEnum:
		for _, e := range m.Enum {
			if e == v {
				return v, nil
			}
		}
		return "", badEnum()
	case kindBitmask:
		if v == "" {
			return "", nil
		}
		seen := map[string]bool{}
		var out []string
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			found := false
			for _, e := range m.Enum {
				found = found || e == p
			}
			if !found {
				return "", badEnum()
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		sort.Strings(out)
		return strings.Join(out, ","), nil
	case kindRange:
		for _, w := range m.Words {
			if v == w {
				return v, nil
			}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < m.Min || n > m.Max {
			return "", bad()
		}
		return strconv.FormatInt(n, 10), nil
	case kindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", bad()
		}
		return a.Unmap().String(), nil
	case kindPrefix:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.Unmap().String(), nil
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "", bad()
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).String(), nil
	case kindPort:
		if v == "unspecified" {
			return v, nil
		}
		for num, name := range PortNames {
			if v == name {
				return name, nil
			}
			if v == num {
				return name, nil
			}
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return "", badEnum()
		}
		return strconv.Itoa(n), nil
	case kindProt:
		for _, p := range protNames {
			if v == p {
				return v, nil
			}
		}
		if name, ok := protNumbers[v]; ok {
			return name, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			return "", badEnum()
		}
		return strconv.Itoa(n), nil
	}
	return v, nil
}

// childClasses returns the classes that may be contained in parent.
func childClasses(parent string) []*ClassMeta {
	var out []*ClassMeta
	for _, c := range Registry {
		for _, p := range c.Parents {
			if p == parent {
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
