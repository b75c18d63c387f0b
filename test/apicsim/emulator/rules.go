package emulator

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ACI's semantic rules, checked after every accepted write the way an APIC
// checks them: the write is accepted (HTTP 200) and what cannot be deployed
// shows up as a fault (faultInst) on the object, cleared when the cause
// goes. Each rule cites its source; where the APIC's exact reaction (a
// fault, or a refusal at POST time) or its fault code and text are not
// documented, that is an assumption, listed in docs/aci.md, and the driver
// is written to survive the opposite (a refused POST is reported as such).

// deployFault is the code of a deployment failure: "Configuration failed
// for <dn> ... due to <reason>" [Cisco, "Address ACI Fault Code F0467",
// https://www.cisco.com/c/en/us/support/docs/software/aci-data-center/220876-address-aci-fault-code-f0467-invalid-vl.html].
// Using it for every rule below is an assumption (the APIC may use other
// codes for some of them).
const deployFault = "F0467"

// raisedFault is a fault a rule wants on an object.
type raisedFault struct {
	on, code, severity, cause, descr string
}

// Rule names, as the faults' rule property and in tests.
const (
	RuleDuplicatePrefix = "prefix-entry-already-in-use"
	RulePeerFamily      = "peer-address-family-mismatch"
	RuleAggregate       = "aggregate-not-0/0"
	RuleImportEnforce   = "import-rtctrl-not-enforced"
)

// checkRules evaluates every rule on the tree.
func checkRules(t *tree) []raisedFault {
	var out []raisedFault
	type secSubnet struct {
		dn, epg string
		uid     int
	}
	bucket := map[string][]secSubnet{} // vrf DN + prefix -> import-security subnets
	for _, tn := range t.root.sortedChildren() {
		if tn.Class != "fvTenant" {
			continue
		}
		for _, out3 := range tn.sortedChildren() {
			if out3.Class != "l3extOut" {
				continue
			}
			vrf := ""
			if r := out3.Children["rsectx"]; r != nil {
				vrf = r.Attrs["tnFvCtxName"]
			}
			importEnforced := hasFlag(out3.Attrs["enforceRtctrl"], "import")
			for _, c := range out3.sortedChildren() {
				switch c.Class {
				case "l3extInstP":
					for _, sn := range c.sortedChildren() {
						if sn.Class != "l3extSubnet" {
							continue
						}
						out = append(out, subnetRules(sn, importEnforced, out3.DN)...)
						if hasFlag(sn.Attrs["scope"], "import-security") && vrf != "" {
							key := tn.DN + "/ctx-" + vrf + "|" + sn.Attrs["ip"]
							uid, _ := strconv.Atoi(sn.UID)
							bucket[key] = append(bucket[key], secSubnet{dn: sn.DN, epg: c.DN, uid: uid})
						}
					}
				case "l3extLNodeP":
					c.walk(func(m *MO) {
						if m.Class != "l3extRsPathL3OutAtt" {
							return
						}
						for _, p := range m.sortedChildren() {
							if p.Class == "bgpPeerP" {
								out = append(out, peerRules(m, p, importEnforced, out3.DN)...)
							}
						}
					})
				}
			}
		}
	}
	// One import-security prefix in two external EPGs of one VRF: "an
	// External EPG classifies external subnets on a per-VRF basis, meaning
	// each subnet must be unique within its VRF context" [Cisco,
	// "Troubleshoot L3Out Subnet",
	// https://www.cisco.com/c/en/us/support/docs/cloud-systems-management/application-centric-infrastructure-simulator/224895-troubleshoot-l3out-subnet.html].
	// The later one (by creation) is the one that fails to deploy; the
	// fault's place (on the subnet) and text are assumed.
	keys := make([]string, 0, len(bucket))
	for k := range bucket {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		list := bucket[k]
		if len(list) < 2 {
			continue
		}
		sort.Slice(list, func(i, j int) bool { return list[i].uid < list[j].uid })
		first := list[0]
		for _, s := range list[1:] {
			if s.epg == first.epg {
				continue
			}
			_, prefix, _ := strings.Cut(k, "|")
			out = append(out, raisedFault{on: s.dn, code: deployFault, severity: "minor", cause: RuleDuplicatePrefix,
				descr: fmt.Sprintf("Configuration failed for %s due to Prefix Entry Already Used in Another EPG, debug message: prefix-entry-already-in-use: %s is already classified by %s in this VRF", s.epg, prefix, first.epg)})
		}
	}
	return out
}

// subnetRules are the rules of one external-EPG subnet.
func subnetRules(sn *MO, importEnforced bool, l3out string) []raisedFault {
	var out []raisedFault
	scope, agg := sn.Attrs["scope"], sn.Attrs["aggregate"]
	// Aggregate export/import/shared applies to 0.0.0.0/0 only, and each
	// aggregate flag needs its scope flag [ansible-aci
	// plugins/modules/aci_l3out_extsubnet.py, and its integration tests,
	// which refuse these client-side; Cisco APIC Layer 3 Networking
	// Configuration Guide 5.1, "Scope and Aggregate Controls for Subnets"].
	// A fault rather than a refusal is assumed.
	if agg != "" {
		p, err := netip.ParsePrefix(sn.Attrs["ip"])
		zero := err == nil && p.Bits() == 0
		for _, f := range strings.Split(agg, ",") {
			switch {
			case !zero:
				out = append(out, raisedFault{on: sn.DN, code: deployFault, severity: "minor", cause: RuleAggregate,
					descr: fmt.Sprintf("Configuration failed for %s due to Invalid Configuration: aggregate %s is allowed on 0.0.0.0/0 or ::/0 only, not %s", sn.DN, f, sn.Attrs["ip"])})
			case !hasFlag(scope, f):
				out = append(out, raisedFault{on: sn.DN, code: deployFault, severity: "minor", cause: RuleAggregate,
					descr: fmt.Sprintf("Configuration failed for %s due to Invalid Configuration: aggregate %s needs scope %s", sn.DN, f, f)})
			}
		}
	}
	// "Import Route Control Subnet—This control allows routes to be
	// advertised into the fabric ... when Import Route Control Enforcement
	// is configured" [Cisco APIC Layer 3 Networking Configuration Guide 5.1,
	// route-and-subnet-scope-51x.html]: without the L3Out's enforceRtctrl
	// import, the subnet does nothing. A fault is assumed.
	if hasFlag(scope, "import-rtctrl") && !importEnforced {
		out = append(out, raisedFault{on: sn.DN, code: deployFault, severity: "minor", cause: RuleImportEnforce,
			descr: fmt.Sprintf("Configuration failed for %s due to Invalid Configuration: import route control is not enforced on %s (enforceRtctrl lacks import)", sn.DN, l3out)})
	}
	return out
}

// peerRules are the rules of one interface BGP peer.
func peerRules(path, peer *MO, importEnforced bool, l3out string) []raisedFault {
	var out []raisedFault
	// An IPv6 peer needs an IPv6 address on its interface: dual stack takes
	// one logical interface profile per address family [Cisco APIC Layer 3
	// Networking Configuration Guide, "IPv6 support" for L3Outs; the audit's
	// F3]. A peer whose family no address of the path has (the path's addr,
	// a vPC side's addr, a secondary l3extIp) cannot come up; a fault is
	// assumed.
	pa, err := netip.ParsePrefix(peer.Attrs["addr"])
	if err != nil {
		if a, e := netip.ParseAddr(peer.Attrs["addr"]); e == nil {
			pa = netip.PrefixFrom(a, a.BitLen())
			err = nil
		}
	}
	if err == nil {
		v6 := pa.Addr().Is6()
		found := false
		var seen []string
		path.walk(func(m *MO) {
			if m == peer || (m.Class != "l3extRsPathL3OutAtt" && m.Class != "l3extMember" && m.Class != "l3extIp") {
				return
			}
			a := m.Attrs["addr"]
			if p, e := netip.ParsePrefix(a); e == nil && !(p.Addr().IsUnspecified()) {
				seen = append(seen, a)
				found = found || p.Addr().Is6() == v6
			}
		})
		if !found {
			fam := "ipv4"
			if v6 {
				fam = "ipv6"
			}
			out = append(out, raisedFault{on: peer.DN, code: deployFault, severity: "minor", cause: RulePeerFamily,
				descr: fmt.Sprintf("Configuration failed for %s due to Invalid Configuration: the %s peer %s has no %s address on its interface %s (addresses: %s)",
					peer.DN, fam, peer.Attrs["addr"], fam, path.Attrs["tDn"], strings.Join(seen, ", "))})
		}
	}
	// An import route map on a peer takes effect with the L3Out's import
	// route control enforced only (assumed, by analogy with the import-rtctrl
	// subnets above).
	for _, r := range peer.sortedChildren() {
		if r.Class == "bgpRsPeerToProfile" && r.Attrs["direction"] == "import" && !importEnforced {
			out = append(out, raisedFault{on: r.DN, code: deployFault, severity: "minor", cause: RuleImportEnforce,
				descr: fmt.Sprintf("Configuration failed for %s due to Invalid Configuration: import route control is not enforced on %s (enforceRtctrl lacks import)", r.DN, l3out)})
		}
	}
	return out
}

func hasFlag(mask, flag string) bool {
	for _, f := range strings.Split(mask, ",") {
		if strings.TrimSpace(f) == flag {
			return true
		}
	}
	return false
}

// raiseFaults brings the tree's rule faults in line with the rules: new
// ones are raised (lc raised), gone ones removed, lasting ones kept with
// their creation time. Faults from other sources (RaiseFault) are left.
func raiseFaults(t *tree, now time.Time) {
	want := map[string]raisedFault{}
	for _, f := range checkRules(t) {
		key := f.on + "/fault-" + f.code
		if prev, ok := want[key]; ok {
			f.descr = prev.descr + "; " + f.descr
		}
		want[key] = f
	}
	var stale []*MO
	t.root.walk(func(m *MO) {
		if m.Class == faultClass && m.Attrs["rule"] == ruleMark {
			if _, ok := want[m.DN]; !ok {
				stale = append(stale, m)
			}
		}
	})
	for _, m := range stale {
		if p := t.lookup(ParentDN(m.DN)); p != nil {
			delete(p.Children, lastRN(m.DN))
		}
	}
	for dn, f := range want {
		parent := t.lookup(f.on)
		if parent == nil {
			continue
		}
		attrs := map[string]string{"code": f.code, "severity": f.severity, "descr": f.descr, "lc": "raised", "cause": f.cause,
			"rule": ruleMark, "type": "config", "domain": "tenant", "subject": "management", "ack": "no", "occur": "1",
			"origSeverity": f.severity, "prevSeverity": f.severity, "highestSeverity": f.severity, "changeSet": ""}
		if old := t.lookup(dn); old != nil {
			attrs["created"], attrs["lastTransition"] = old.Attrs["created"], old.Attrs["lastTransition"]
			old.Attrs = attrs
			continue
		}
		attrs["created"], attrs["lastTransition"] = apicTime(now), apicTime(now)
		parent.Children[lastRN(dn)] = &MO{Class: faultClass, DN: dn, Attrs: attrs, Children: map[string]*MO{}, ModTs: apicTime(now), UID: t.nextUID()}
	}
}

// ruleMark is the rule property of the faults the rules raise.
const ruleMark = "apicsim-semantic-rule"

// Faults lists the raised faults under dn (tests).
func (s *Sim) Faults(dn string) []DumpEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.tree.lookup(dn)
	if m == nil {
		return nil
	}
	var out []DumpEntry
	m.walk(func(o *MO) {
		if o.Class == faultClass {
			out = append(out, DumpEntry{DN: o.DN, Class: o.Class, Attrs: copyMap(o.Attrs)})
		}
	})
	return out
}
