package aci

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// Cisco's verified scalability limits, checked when a plan is made: a plan
// that would leave the fabric above one of them is refused, with the
// numbers, before anything is sent (drivers.Spec.Check; the reconciler
// refuses it like the deletion guards).
//
// The numbers are those of Cisco's "Verified Scalability Guide for Cisco
// APIC" of the configured release (aci.apicVersion). Cisco publishes one
// guide per release at
// https://www.cisco.com/c/en/us/support/cloud-systems-management/application-policy-infrastructure-controller-apic/tsd-products-support-series-home.html
// ("These values are based on a profile where each feature was scaled to
// the numbers specified in the tables. These numbers do not represent the
// theoretically possible Cisco ACI fabric scale"). The guide's tables
// themselves could not be read from here; the 6.1(2) numbers below are as
// Cisco's own Cilium/ACI design guide quotes them from the 6.1(2) guide
// (scaleSource6_1_2), and the project's ACI review quotes the same two external-EPG numbers.
// Numbers for other releases are not recorded: any other version is
// checked against the nearest recorded release (the highest not above it,
// else the lowest), and the plan says so in a warning. docs/aci.md lists
// the table and what is assumed.

// scaleSource6_1_2 is where the 6.1(2) numbers were read: Cisco's
// datacenter/cilium-dc-design, "ACI Scale Testing", which lists them as
// "metric for ACI 6.1.2" from the Verified Scalability Guide.
const scaleSource6_1_2 = "Cisco APIC Verified Scalability Guide 6.1(2), as quoted in " +
	"https://github.com/datacenter/cilium-dc-design/blob/2dcbd3b1e3fd8ddba4ad158c44766e66b6188780/docs/aci/aci_tested_scale.md"

// defaultAPICVersion is the release checked against when aci.apicVersion
// is not set: the lowest (and only) release whose numbers are recorded.
const defaultAPICVersion = "6.1(2)"

// What a limit counts.
const (
	limitEPGsPerL3Out  = "external EPGs per L3Out"
	limitEPGsPerFabric = "external EPGs per fabric"
	limitPeersPerLeaf  = "BGP neighbors per leaf"
)

// scaleLimit is one verified limit of one APIC release.
type scaleLimit struct {
	what   string
	limit  int
	source string
}

// scaleLimits are the recorded limits by APIC release. Checked: external
// EPGs per L3Out and per fabric (each l3extInstP is one), and BGP
// neighbors per leaf (each bgpPeerP is one on its leaf). Recorded but not
// checked, because a plan does not create what they count (docs/aci.md):
// 20,000 BGP neighbors per fabric (the guide ties it to 70,000 external
// prefixes with a single path; a cluster's sessions are far below it long
// after the per-leaf limit), and about 20,000 IPv4 LPM entries per leaf
// with the default dual-stack profile (routes the leaf learns; the /32
// classification subnets of external EPGs are not routes).
var scaleLimits = map[string][]scaleLimit{
	"6.1(2)": {
		{what: limitEPGsPerL3Out, limit: 250, source: scaleSource6_1_2},
		{what: limitEPGsPerFabric, limit: 600, source: scaleSource6_1_2},
		{what: limitPeersPerLeaf, limit: 2000, source: scaleSource6_1_2},
	},
}

// apicVersion is a parsed APIC release: major.minor(maintenance[patch]).
type apicVersion struct {
	major, minor, maint int
	text                string
}

var apicVersionRe = regexp.MustCompile(`^([0-9]{1,3})\.([0-9]{1,3})\(([0-9]{1,3})([a-z]{0,2})\)$`)

func parseAPICVersion(s string) (apicVersion, error) {
	m := apicVersionRe.FindStringSubmatch(s)
	if m == nil {
		return apicVersion{}, fmt.Errorf("%s is not an APIC release such as 6.1(2) or 5.2(8e)", printable(s))
	}
	v := apicVersion{text: s}
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	v.maint, _ = strconv.Atoi(m[3])
	return v, nil
}

func (v apicVersion) less(w apicVersion) bool {
	if v.major != w.major {
		return v.major < w.major
	}
	if v.minor != w.minor {
		return v.minor < w.minor
	}
	return v.maint < w.maint
}

// limitsFor returns the limits checked for a configured release and the
// release they were recorded for: the configured one when recorded, else
// the highest recorded below it, else the lowest recorded.
func limitsFor(configured string) (rows []scaleLimit, of string) {
	want, err := parseAPICVersion(configured)
	if err != nil {
		want, _ = parseAPICVersion(defaultAPICVersion)
	}
	var known []apicVersion
	for k := range scaleLimits {
		v, _ := parseAPICVersion(k)
		known = append(known, v)
	}
	sort.Slice(known, func(i, j int) bool { return known[i].less(known[j]) })
	pick := known[0]
	for _, v := range known {
		if !want.less(v) {
			pick = v
		}
	}
	return scaleLimits[pick.text], pick.text
}

// limitsWarning says, for people, when the configured release's numbers
// are not recorded and another release's are checked instead.
func limitsWarning(a *Settings) string {
	_, of := limitsFor(a.APICVersion)
	want, err := parseAPICVersion(a.APICVersion)
	if err != nil {
		return ""
	}
	if got, _ := parseAPICVersion(of); got.less(want) || want.less(got) {
		return fmt.Sprintf("no verified scalability limits are recorded for APIC %s: plans are checked against those of APIC %s (internal/drivers/aci/limits.go); check Cisco's Verified Scalability Guide of %s",
			a.APICVersion, of, a.APICVersion)
	}
	return ""
}

// scaleCount is what a fabric holds that Cisco's limits count.
type scaleCount struct {
	epgsPerL3Out map[string]map[string]bool // L3Out -> EPG names
	epgs         map[string]bool            // "<l3out>/<epg>"
	peersPerLeaf map[string]int
}

// countScale counts the external EPGs and BGP peers of a set of objects
// this cluster owns, and the external EPGs the configuration names (which
// exist on the fabric whether the cluster writes into them or not).
func countScale(a *Settings, objs []fabric.Object) scaleCount {
	c := scaleCount{epgsPerL3Out: map[string]map[string]bool{}, epgs: map[string]bool{}, peersPerLeaf: map[string]int{}}
	epg := func(ref string) {
		l3out, name, err := splitEPG(ref)
		if err != nil {
			return
		}
		if l3out == "" {
			l3out = a.L3Out
		}
		if c.epgsPerL3Out[l3out] == nil {
			c.epgsPerL3Out[l3out] = map[string]bool{}
		}
		c.epgsPerL3Out[l3out][name] = true
		c.epgs[l3out+"/"+name] = true
	}
	for _, ref := range append([]string{a.ExternalEPGs.Nodes, a.ExternalEPGs.Pods, a.ExternalEPGs.TransitExport}, a.Consumers...) {
		if ref != "" {
			epg(ref)
		}
	}
	for _, o := range objs {
		switch o := o.(type) {
		case fabric.ExternalSubnet:
			epg(o.Group)
		case fabric.Contract:
			epg(o.Provider)
			for _, cs := range o.Consumers {
				epg(cs)
			}
		case fabric.BGPPeer:
			c.peersPerLeaf[o.Switch]++
		}
	}
	return c
}

// finalObjects is what the cluster owns on the fabric once the plan is
// applied: what it owns now, with the plan's changes made (changes the
// policy holds back are not in plan.Changes: their objects stay as they
// are, and count).
func finalObjects(obs fabric.Observed, plan fabric.Changeset) []fabric.Object {
	now := obs.Owned.Objects()
	final := make(map[fabric.Key]fabric.Object, len(now)+len(plan.Changes))
	for _, o := range now {
		final[fabric.KeyOf(o)] = o
	}
	for _, c := range plan.Changes {
		if c.Action == fabric.ActionDelete {
			delete(final, c.Key())
		} else if c.After != nil {
			final[c.Key()] = c.After
		}
	}
	out := make([]fabric.Object, 0, len(final))
	for _, o := range final {
		out = append(out, o)
	}
	return out
}

// checkPlan is the driver's plan check (drivers.PlanCheck): it refuses a
// plan after which the fabric would hold more than a verified limit
// allows, counting what this cluster owns and the EPGs the configuration
// names. A plan that does not make a count worse is let through, so that a
// fabric already above a limit can be brought down (by grouping services)
// rather than stuck. Hand-made external EPGs on the L3Out and other
// tenants' are not counted: the observation holds only what this cluster
// owns and what is in its places, so the real totals can be higher.
func checkPlan(cfg config.Fabric, _ fabric.Target, obs fabric.Observed, plan fabric.Changeset) string {
	a := settingsOf(cfg)
	if a == nil || len(plan.Changes) == 0 {
		return ""
	}
	rows, of := limitsFor(a.APICVersion)
	before := countScale(a, obs.Owned.Objects())
	after := countScale(a, finalObjects(obs, plan))
	var out []string
	refuse := func(what string, have, had int, where string, l scaleLimit, per string) {
		if have <= l.limit || have <= had {
			return
		}
		out = append(out, fmt.Sprintf("it would create %s %s %s, which would then hold %s (this cluster's and those the configuration names); "+
			"Cisco's verified limit for APIC %s is %s %s (source: %s)",
			thousands(have-had), what, where, thousands(have), of, thousands(l.limit), per, l.source))
	}
	for _, l := range rows {
		switch l.what {
		case limitEPGsPerL3Out:
			for _, l3out := range sortedKeys(after.epgsPerL3Out) {
				refuse("external EPGs", len(after.epgsPerL3Out[l3out]), len(before.epgsPerL3Out[l3out]), "on L3Out "+l3out, l, "per L3Out")
			}
		case limitEPGsPerFabric:
			refuse("external EPGs", len(after.epgs), len(before.epgs), "on fabric "+cfg.Name, l, "per fabric")
		case limitPeersPerLeaf:
			for _, sw := range sortedKeys(after.peersPerLeaf) {
				refuse("BGP neighbors", after.peersPerLeaf[sw], before.peersPerLeaf[sw], "on leaf "+sw, l, "per leaf")
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	if g := groupingOf(a); g.mode == groupByService && len(after.epgsPerL3Out[a.L3Out]) > len(before.epgsPerL3Out[a.L3Out]) {
		out = append(out, "one external EPG per service (aci.serviceGrouping: service) does not scale: group the services by namespace, label:<key> or ports")
	}
	return strings.Join(out, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// thousands prints n with thousands separators: 50000 -> "50,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
