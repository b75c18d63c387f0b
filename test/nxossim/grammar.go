package nxossim

import (
	"regexp"
	"strconv"
	"strings"
)

// Parameter types. Names: NX-OS documents prefix-list and route-map names as
// case-sensitive alphanumeric strings of up to 63 characters; the emulator
// also takes "_ . : - /", and nothing else (no ";", quotes or brackets).
var (
	nameRe   = regexp.MustCompile(`^[A-Za-z0-9_.:/-]+$`)
	vrfRe    = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	hostRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	sessRe   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	cpNameRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

	nameP  = &param{kind: pWord, re: nameRe, maxLen: 63}
	namesP = &param{kind: pNames, re: nameRe, maxLen: 63}
	vrfP   = &param{kind: pWord, re: vrfRe, maxLen: 32, refuse: func(s string) bool { return s == "default" }}
	hostP  = &param{kind: pWord, re: hostRe, maxLen: 63}
	sessP  = &param{kind: pWord, re: sessRe, maxLen: 63}
	// Checkpoint names: "any alphanumeric string up to 80 characters but
	// cannot contain spaces" (keywords of the command excluded).
	cpNameP = &param{kind: pWord, re: cpNameRe, maxLen: 80, refuse: func(s string) bool {
		return s == "description" || s == "file" || s == "summary"
	}}
	asnP   = &param{kind: pASN}
	ipv4P  = &param{kind: pIPv4}
	ipP    = &param{kind: pIP}
	ifaceP = &param{kind: pIface}
	pathsP = &param{kind: pNum, min: 1, max: 64}
	rmSeqP = &param{kind: pNum, min: 0, max: 65535}
	plSeqP = &param{kind: pNum, min: 1, max: 4294967294}
)

func lineP(max int) *param { return &param{kind: pLine, maxLen: max} }

// Command trees, one per mode. Keywords that real NX-OS has but the emulator
// does not implement are listed so that error carets fall where NX-OS puts
// them (it marks the first character no command could continue).
var (
	execTree       *node
	configTree     *node
	routerTree     *node // router bgp
	vrfTree        *node // router bgp / vrf
	routerAF4Tree  *node // address-family ipv4 unicast under router or vrf
	routerAF6Tree  *node
	neighborTree   *node
	neighborAFTree *node
	routeMapTree   *node
)

func init() {
	execTree = buildExec()
	configTree = buildConfig()
	routerTree = buildRouter(true)
	vrfTree = buildRouter(false)
	routerAF4Tree = buildRouterAF(false)
	routerAF6Tree = buildRouterAF(true)
	neighborTree = buildNeighbor()
	neighborAFTree = buildNeighborAF()
	routeMapTree = buildRouteMap()
}

func inSession(sh *shell) bool { return sh.sess != nil }

// sessionFeature tells whether the emulated configuration commands may be
// typed: always in configure terminal; in a configuration session only with
// Options.SessionAllFeatures, since Session Manager is documented for the ACL
// and QoS features only and the emulator implements neither. Hidden
// commands answer "% Invalid command at '^' marker." like any unknown one.
func sessionFeature(sh *shell) bool { return sh.sess == nil || sh.srv.opts.SessionAllFeatures }
func bgpEnabled(sh *shell) bool     { return sh.featureBGP() }

var execWords = []string{
	"attach", "blink", "callhome", "cd", "cfs", "cli", "clock",
	"debug", "delete", "diff-clean", "dir", "echo", "find", "format", "gunzip", "gzip",
	"install", "load", "locator-led", "mkdir", "move", "ping", "ping6", "purge", "pwd",
	"reload", "rmdir", "routing-context", "run-script", "save", "send", "setup",
	"sleep", "ssh", "ssh6", "system", "tac-pac", "tail", "tar", "tclsh", "telnet", "telnet6",
	"test", "traceroute", "traceroute6", "undebug", "where", "write", "xml",
}

var configWords = []string{
	"aaa", "banner", "boot", "callhome", "cdp", "class-map", "cli", "clock", "copp",
	"crypto", "diagnostic", "errdisable", "event", "fabric", "hardware", "interface", "key",
	"line", "logging", "mac", "monitor", "ntp", "nv", "object-group", "password",
	"policy-map", "port-channel", "radius-server", "role", "service", "snmp-server",
	"spanning-tree", "system", "tacacs-server", "track", "username", "vdc", "vlan", "vpc",
	"vrf",
}

func buildExec() *node {
	show := kw("show",
		kw("version").do(hShowVersion),
		kw("hostname").do(hShowHostname),
		kw("running-config",
			kwAs("sect", "bgp").do(hShowRun),
			kwAs("sect", "rpm").do(hShowRun),
		).do(hShowRun).add(unimpl("all", "interface", "vrf", "aaa", "vlan", "vdc-all", "diff",
			"exclude", "ipqos", "routing", "sorted", "copp", "ip")...),
		kw("ip",
			kw("bgp",
				kw("summary",
					kw("vrf", prm("vrf", &param{kind: pWord, re: vrfRe, maxLen: 32}).do(hShowBGPSum)),
				).do(hShowBGPSum),
			).when(bgpEnabled).add(unimpl("neighbors", "all", "vrf", "community", "paths", "prefix-list", "route-map")...),
			kw("route",
				kw("bgp",
					kw("vrf", prm("vrf", &param{kind: pWord, re: vrfRe, maxLen: 32}).do(hShowRouteBGP(false))),
				).do(hShowRouteBGP(false)),
			).add(unimpl("static", "direct", "local", "ospf", "summary", "vrf", "detail")...),
		).add(unimpl("interface", "arp", "prefix-list", "access-lists", "ospf", "pim",
			"igmp", "static-route", "adjacency", "community-list")...),
		kw("ipv6",
			kw("route",
				kw("bgp",
					kw("vrf", prm("vrf", &param{kind: pWord, re: vrfRe, maxLen: 32}).do(hShowRouteBGP(true))),
				).do(hShowRouteBGP(true)),
			).add(unimpl("static", "direct", "local", "summary", "vrf", "detail")...),
		).add(unimpl("interface", "neighbor", "prefix-list", "bgp")...),
		kw("bgp",
			kwAs("af", "ipv4", kw("unicast", kw("neighbors",
				kw("vrf", prm("vrf", &param{kind: pWord, re: vrfRe, maxLen: 32}).do(hShowBGPNeighbors)),
			).do(hShowBGPNeighbors)).add(unimpl("summary")...)),
			kwAs("af", "ipv6", kw("unicast", kw("neighbors",
				kw("vrf", prm("vrf", &param{kind: pWord, re: vrfRe, maxLen: 32}).do(hShowBGPNeighbors)),
			).do(hShowBGPNeighbors)).add(unimpl("summary")...)),
		).when(bgpEnabled).add(unimpl("all", "l2vpn", "vrf", "sessions", "process", "neighbors", "summary")...),
		kw("configuration",
			kw("session",
				kwAs("what", "summary").do(hShowSession),
				kwAs("what", "status",
					prm("name", &param{kind: pWord, re: sessRe, maxLen: 63}).do(hShowSession),
				).do(hShowSession),
				prm("name", &param{kind: pWord, re: sessRe, maxLen: 63}).do(hShowSession),
			).do(hShowSession),
		),
	).add(unimpl("interface", "vlan", "clock", "logging", "users", "inventory", "module",
		"feature", "cdp", "lldp", "mac", "spanning-tree", "vrf", "hardware", "license",
		"processes", "environment", "accounting", "startup-config", "tech-support", "terminal",
		"route-map", "vpc", "port-channel", "policy-map", "class-map", "boot",
		"cli", "ntp", "snmp", "ssh", "system", "file", "diff")...)
	show.add(kw("checkpoint",
		kw("summary",
			kwAs("which", "user").do(hShowCheckpointSummary),
			kwAs("which", "system").do(hShowCheckpointSummary),
		).do(hShowCheckpointSummary),
		prm("name", cpNameP).do(hShowCheckpoint).add(unimpl("all")...),
	).add(unimpl("system")...))

	configure := kw("configure",
		kw("terminal").do(hConfigTerminal),
		kw("session", prm("name", sessP).do(hConfigSession)),
	).do(hConfigTerminal).add(unimpl("replace", "sync", "profile", "maintenance", "candidate", "dual-stage", "jobs")...)

	terminal := kw("terminal",
		kw("length", prm("n", &param{kind: pNum, min: 0, max: 511}).do(hTermLength)),
		kw("width", prm("n", &param{kind: pNum, min: 24, max: 511}).do(hTermWidth)),
		kw("dont-ask").do(hTermDontAsk(true)),
	).add(unimpl("monitor", "session-timeout", "type", "alias", "log-all", "edit-mode", "history", "redirection-mode", "color", "output")...)

	checkpointCmd := kw("checkpoint",
		prm("name", cpNameP,
			kw("description", prm("desc", lineP(80)).do(hCheckpoint)),
		).do(hCheckpoint),
		kw("description", prm("desc", lineP(80)).do(hCheckpoint)),
	).do(hCheckpoint).add(unimpl("file")...)
	rollback := kw("rollback", kw("running-config",
		kw("checkpoint", prm("name", cpNameP,
			kw("atomic").do(hRollback),
		).do(hRollback).add(unimpl("best-effort", "stop-at-first-failure", "verbose")...)),
	).add(unimpl("file")...))
	clear := kw("clear", kw("checkpoint", kw("database",
		kwAs("which", "user").do(hClearCheckpoints),
		kwAs("which", "system").do(hClearCheckpoints),
	).do(hClearCheckpoints))).add(unimpl("counters", "ip", "ipv6", "bgp", "logging", "mac", "arp", "line", "users", "screen")...)

	root := kw("",
		show, configure, terminal, checkpointCmd, rollback, clear,
		kw("no", kw("checkpoint", prm("name", cpNameP).do(hNoCheckpoint)),
			kw("terminal", kw("dont-ask").do(hTermDontAsk(false)))),
		kw("copy", kw("running-config", kw("startup-config").do(hCopyRunStart))).add(unimpl("startup-config", "bootflash:", "scp:", "tftp:", "ftp:", "sftp:", "http:", "volatile:")...),
		kw("exit").do(hLogout),
	)
	return root.add(unimpl(execWords...)...)
}

// sessionCtl adds verify/commit/abort, available in every configuration
// mode of a session.
func sessionCtl() []*node {
	return []*node{
		kw("verify").do(hVerify).when(inSession),
		kw("commit").do(hCommit).when(inSession),
		kw("abort").do(hAbort).when(inSession),
	}
}

func modeCommon() []*node {
	return append([]*node{kw("exit").do(hExit), kw("end").do(hEnd)}, sessionCtl()...)
}

func plEntries(v6 bool, h handler) []*node {
	max, pk := int64(32), pPrefix4
	if v6 {
		max, pk = 128, pPrefix6
	}
	lenP := &param{kind: pNum, min: 1, max: max}
	le := func() *node { return kw("le", prm("le", lenP).do(h)) }
	entry := func(action string) *node {
		return kwAs("action", action,
			prm("prefix", &param{kind: pk},
				kw("ge", prm("ge", lenP, le()).do(h)),
				le(),
			).do(h))
	}
	return []*node{entry("permit"), entry("deny")}
}

func prefixListNode(v6 bool) *node {
	h := hPrefixList(v6)
	return kw("prefix-list", prm("name", nameP,
		kw("description", prm("desc", lineP(90)).do(h)),
		kw("seq", prm("seq", plSeqP, plEntries(v6, h)...)),
	).add(plEntries(v6, h)...))
}

// noPrefixListNode is "no ip prefix-list NAME", "no ip prefix-list NAME
// description [TEXT]" and the no-form of an entry, which Cisco documents
// with its action and prefix: "no ip prefix-list name [seq number] {permit |
// deny} prefix [eq length | [ge length] [le length]]" (Cisco Nexus 3548
// Switch NX-OS Unicast Routing Command Reference, "ip prefix-list"; the
// same in the Nexus 5000 one). cisco.nxos removes entries that way ("no ip
// prefix-list plist1 seq 10 permit 192.168.1.0/24") and a description as
// "no ip prefix-list plist1 description Test plist1". Following the
// reference, the short "no ip prefix-list NAME seq N" is refused as a
// command cut short (% Incomplete command): no source shows a Nexus taking
// it, and the driver no longer sends it.
func noPrefixListNode(v6 bool) *node {
	h := hNoPrefixList(v6)
	return kw("prefix-list", prm("name", nameP,
		kwAs("what", "description", prm("desc", lineP(90)).do(h)).do(h),
		kw("seq", prm("seq", plSeqP, plEntries(v6, h)...)),
	).do(h).add(plEntries(v6, h)...))
}

func routeMapNode(h handler) *node {
	return kw("route-map", prm("rm", nameP,
		kwAs("action", "permit", prm("seq", rmSeqP).do(h)).do(h),
		kwAs("action", "deny", prm("seq", rmSeqP).do(h)).do(h),
		prm("seq", rmSeqP).do(h),
	).do(h))
}

func buildConfig() *node {
	root := kw("",
		kw("feature", kw("bgp").do(hFeatureBGP(true))).add(unimpl("ospf", "ospfv3", "eigrp", "isis",
			"interface-vlan", "lacp", "lldp", "nxapi", "bfd", "pim", "vpc", "hsrp", "vrrp", "scp-server",
			"netconf", "grpc", "telnet", "tacacs+", "nv", "fabric", "vn-segment-vlan-based", "ssh", "bash-shell", "dhcp")...).when(sessionFeature),
		kw("hostname", prm("host", hostP).do(hHostname)).when(sessionFeature),
		kw("router",
			kw("bgp", prm("asn", asnP).do(hRouterBGP)).when(bgpEnabled),
		).add(unimpl("ospf", "ospfv3", "eigrp", "isis", "rip")...).when(sessionFeature),
		kw("ip", prefixListNode(false).when(sessionFeature)).add(unimpl("route", "access-list", "domain-name", "domain-lookup",
			"name-server", "community-list", "as-path", "extcommunity-list", "igmp", "pim", "tcp", "arp", "host", "dhcp")...),
		kw("ipv6", prefixListNode(true).when(sessionFeature)).add(unimpl("route", "access-list", "nd", "pim", "host")...),
		routeMapNode(hRouteMap).when(sessionFeature),
		kw("no",
			kw("feature", kw("bgp").do(hFeatureBGP(false))).when(sessionFeature),
			kw("hostname").do(hNoHostname).when(sessionFeature),
			kw("router", kw("bgp", prm("asn", asnP).do(hNoRouterBGP)).when(bgpEnabled)).when(sessionFeature),
			kw("ip", noPrefixListNode(false).when(sessionFeature)),
			kw("ipv6", noPrefixListNode(true).when(sessionFeature)),
			routeMapNode(hNoRouteMap).when(sessionFeature),
		),
	)
	root.add(modeCommon()...)
	return root.add(unimpl(configWords...)...)
}

func afNodes(h func(AF) handler) *node {
	return kw("address-family",
		kw("ipv4", kw("unicast").do(h(IPv4Unicast))).add(unimpl("multicast", "labeled-unicast", "mvpn", "flowspec")...),
		kw("ipv6", kw("unicast").do(h(IPv6Unicast))).add(unimpl("multicast", "labeled-unicast", "mvpn", "flowspec")...),
	).add(unimpl("l2vpn", "vpnv4", "vpnv6", "link-state")...)
}

var routerWords = []string{"timers", "graceful-restart", "graceful-restart-helper", "confederation",
	"cluster-id", "template", "shutdown", "isolate", "enforce-first-as", "fast-external-fallover",
	"event-history", "maxas-limit", "dynamic-med-interval", "reconnect-interval", "flush-routes",
	"nexthop", "local-as", "rd", "suppress-fib-pending", "disable-policy-batching"}

func buildRouter(withVRF bool) *node {
	no := kw("no",
		kw("router-id", prm("rid", ipv4P).do(hNoRouterID)).do(hNoRouterID),
		kw("bestpath", kw("as-path", kw("multipath-relax").do(hNoMultipathRelax))),
		kw("log-neighbor-changes").do(hNoLogNeighbor),
		afNodes(hNoRouterAF),
		kw("neighbor", prm("ip", ipP, kw("remote-as", prm("ras", asnP).do(hNoNeighbor))).do(hNoNeighbor),
			prm("pfx", pfx4P, prefixNeighborRemote(hNoNeighbor)).do(hNoNeighbor),
			prm("pfx", pfx6P, prefixNeighborRemote(hNoNeighbor)).do(hNoNeighbor)),
	)
	root := kw("",
		kw("router-id", prm("rid", ipv4P).do(hRouterID)),
		kw("bestpath", kw("as-path", kw("multipath-relax").do(hMultipathRelax)).add(unimpl("ignore")...)).add(
			unimpl("always-compare-med", "compare-routerid", "compare-neighborid", "med", "cost-community")...),
		kw("log-neighbor-changes").do(hLogNeighbor),
		afNodes(hRouterAF),
		kw("neighbor", prm("ip", ipP, kw("remote-as", prm("ras", asnP).do(hNeighbor))).do(hNeighbor),
			prm("pfx", pfx4P, prefixNeighborRemote(hNeighbor)).do(hNeighbor),
			prm("pfx", pfx6P, prefixNeighborRemote(hNeighbor)).do(hNeighbor)),
		no,
	)
	if withVRF {
		// VRFs nest one level only: no "vrf" inside "vrf".
		root.add(kw("vrf", prm("vrf", vrfP).do(hVRF)))
		no.add(kw("vrf", prm("vrf", vrfP).do(hNoVRF)))
	}
	root.add(modeCommon()...)
	return root.add(unimpl(routerWords...)...)
}

// Prefix neighbors: "neighbor {ip-prefix/length | ipv6-prefix/length}
// [remote-as {as-num | route-map name}]" (NX-OS unicast routing command
// reference, "neighbor"; a recorded one: "neighbor 10.30.4.0/24 remote-as
// route-map AS_FILTER").
var (
	pfx4P = &param{kind: pPrefix4}
	pfx6P = &param{kind: pPrefix6}
)

func prefixNeighborRemote(h handler) *node {
	return kw("remote-as", prm("ras", asnP).do(h), kw("route-map", prm("rasmap", nameP).do(h)))
}

// passwordP is a BGP password: one word of printable characters ("?" asks
// for help), up to 80 (TCP MD5's key length).
var passwordP = &param{kind: pWord, re: regexp.MustCompile(`^[!-~]+$`), maxLen: 80, refuse: func(s string) bool { return strings.Contains(s, "?") }}

func passwordNode() *node {
	return kw("password",
		kwAs("pwtype", "0", prm("pw", passwordP).do(hPassword)),
		kwAs("pwtype", "3", prm("pw", passwordP).do(hPassword)),
		kwAs("pwtype", "7", prm("pw", passwordP).do(hPassword)),
		prm("pw", passwordP).do(hPassword))
}

// maximumPrefixNode is "maximum-prefix maximum [threshold] [restart
// restart-interval | warning-only]" (Nexus 3548 NX-OS Unicast Routing
// Command Reference: maximum 1-300000, threshold 1-100).
func maximumPrefixNode(h handler) *node {
	restart := func() *node {
		return kwAs("restartkw", "restart", prm("restart", &param{kind: pNum, min: 1, max: 65535}).do(h))
	}
	warn := func() *node { return kwAs("warn", "warning-only").do(h) }
	return kw("maximum-prefix", prm("max", &param{kind: pNum, min: 1, max: 300000},
		prm("thr", &param{kind: pNum, min: 1, max: 100}, restart(), warn()).do(h),
		restart(), warn(),
	).do(h))
}

func buildRouterAF(v6 bool) *node {
	pk := pPrefix4
	if v6 {
		pk = pPrefix6
	}
	netP := &param{kind: pk}
	root := kw("",
		kw("maximum-paths", prm("n", pathsP).do(hMaxPaths),
			kwAs("ibgp", "ibgp", prm("n", pathsP).do(hMaxPaths)),
		).add(unimpl("eibgp", "local", "mixed")...),
		kw("network", prm("net", netP).do(hNetwork).add(unimpl("route-map")...)),
		// "no maximum-paths [ibgp] N" is what cisco.nxos sends
		// (rm_templates/bgp_address_family.py builds it from "maximum-paths
		// {{ parallel_paths }}"; its unit tests send "no maximum-paths eibgp
		// 68"), and what the driver sends. The bare "no maximum-paths
		// [ibgp]" is still taken: no source shows a Nexus refusing or
		// taking it (an assumption, docs/nxossim.md). Either resets the
		// family to its default, whatever N.
		kw("no",
			kw("maximum-paths", prm("n", pathsP).do(hNoMaxPaths),
				kwAs("ibgp", "ibgp", prm("n", pathsP).do(hNoMaxPaths)).do(hNoMaxPaths),
			).do(hNoMaxPaths),
			kw("network", prm("net", netP).do(hNoNetwork)),
		),
	)
	root.add(modeCommon()...)
	return root.add(unimpl("redistribute", "aggregate-address", "dampening", "distance",
		"default-information", "additional-paths", "client-to-client", "suppress-inactive",
		"nexthop", "table-map", "wait-igp-convergence", "inject-map", "allocate-label", "default-metric")...)
}

func localASNode(h handler) *node {
	return kw("local-as", prm("las", asnP,
		kwAs("np", "no-prepend",
			kwAs("ra", "replace-as", kwAs("da", "dual-as").do(h)).do(h),
		).do(h),
	).do(h))
}

func buildNeighbor() *node {
	root := kw("",
		kw("remote-as", prm("ras", asnP).do(hRemoteAS)).add(unimpl("route-map")...),
		localASNode(hLocalAS),
		kw("description", prm("desc", lineP(80)).do(hDescription)),
		kw("update-source", prm("ifc", ifaceP).do(hUpdateSource)),
		passwordNode(),
		kw("timers", prm("ka", timerP, prm("hold", timerP).do(hTimers))),
		kw("ttl-security", kw("hops", prm("hops", hopsP).do(hTTLSecurity))),
		kw("shutdown").do(hShutdown(true)),
		kw("maximum-peers", prm("n", &param{kind: pNum, min: 1, max: 1000}).do(hMaximumPeers)),
		afNodes(hNeighborAF),
		kw("no",
			kw("remote-as", prm("ras", asnP).do(hNoRemoteAS)).do(hNoRemoteAS),
			localASNode(hNoLocalAS).do(hNoLocalAS),
			kw("description", prm("desc", lineP(80)).do(hNoDescription)).do(hNoDescription),
			kw("update-source", prm("ifc", ifaceP).do(hNoUpdateSource)).do(hNoUpdateSource),
			kw("password", prm("pwtype", &param{kind: pNum, min: 0, max: 7}, prm("pw", passwordP).do(hNoPassword)).do(hNoPassword),
				prm("pw", passwordP).do(hNoPassword)).do(hNoPassword),
			kw("timers", prm("ka", timerP, prm("hold", timerP).do(hNoTimers))).do(hNoTimers),
			kw("ttl-security", kw("hops", prm("hops", hopsP).do(hNoTTLSecurity)).do(hNoTTLSecurity)),
			kw("shutdown").do(hShutdown(false)),
			kw("maximum-peers", prm("n", &param{kind: pNum, min: 1, max: 1000}).do(hNoMaximumPeers)).do(hNoMaximumPeers),
			afNodes(hNoNeighborAF),
		),
	)
	root.add(modeCommon()...)
	return root.add(unimpl("bfd", "ebgp-multihop", "transport",
		"inherit", "capability", "disable-connected-check", "dont-capability-negotiate",
		"dynamic-capability", "low-memory", "remove-private-as",
		"peer-type", "log-neighbor-changes", "graceful-shutdown")...)
}

// Neighbor timers: "timers keepalive-time hold-time", 0-3600 seconds
// each (NX-OS BGP configuration guides); TTL security hops 1-254.
var (
	timerP = &param{kind: pNum, min: 0, max: 3600}
	hopsP  = &param{kind: pNum, min: 1, max: 254}
)

func dirNodes(h handler) []*node {
	return []*node{kwAs("dir", "in").do(h), kwAs("dir", "out").do(h)}
}

func buildNeighborAF() *node {
	root := kw("",
		kw("prefix-list", prm("pl", nameP, dirNodes(hNbrPrefixList)...)),
		kw("route-map", prm("rm", nameP, dirNodes(hNbrRouteMap)...)),
		kw("send-community",
			kwAs("sc", "extended").do(hSendCommunity),
			kwAs("sc", "both").do(hSendCommunity),
		).do(hSendCommunity),
		maximumPrefixNode(hMaxPrefix),
		kw("no",
			maximumPrefixNode(hNoMaxPrefix).do(hNoMaxPrefix),
			kw("prefix-list", prm("pl", nameP, dirNodes(hNoNbrPrefixList)...)),
			kw("route-map", prm("rm", nameP, dirNodes(hNoNbrRouteMap)...)),
			kw("send-community",
				kwAs("sc", "extended").do(hNoSendCommunity),
				kwAs("sc", "both").do(hNoSendCommunity),
			).do(hNoSendCommunity),
		),
	)
	root.add(modeCommon()...)
	return root.add(unimpl("allowas-in", "as-override", "default-originate",
		"next-hop-self", "route-reflector-client", "soft-reconfiguration", "filter-list", "weight",
		"disable-peer-as-check", "capability", "suppress-inactive", "unsuppress-map", "advertise-map",
		"advertisement-interval", "inherit", "next-hop-third-party", "rewrite-evpn-rt-asn")...)
}

func buildRouteMap() *node {
	matchPL := func(h handler) *node {
		return kw("address", kw("prefix-list", prm("names", namesP).do(h)))
	}
	root := kw("",
		kw("match",
			kw("ip", matchPL(hMatchPL(false))).add(unimpl("next-hop", "route-source", "multicast")...),
			kw("ipv6", matchPL(hMatchPL(true))).add(unimpl("next-hop", "route-source", "multicast")...),
		).add(unimpl("as-path", "community", "extcommunity", "interface", "tag", "route-type",
			"metric", "source-protocol", "mac-list", "as-number", "large-community", "vlan")...),
		kw("description", prm("desc", lineP(90)).do(hRMDescription)),
		kw("no",
			kw("match",
				kw("ip", kw("address", kw("prefix-list", prm("names", namesP).do(hNoMatchPL(false))).do(hNoMatchPL(false)))),
				kw("ipv6", kw("address", kw("prefix-list", prm("names", namesP).do(hNoMatchPL(true))).do(hNoMatchPL(true)))),
			),
			kw("description", prm("desc", lineP(90)).do(hNoRMDescription)).do(hNoRMDescription),
		),
	)
	root.add(modeCommon()...)
	return root.add(unimpl("set", "continue")...)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
