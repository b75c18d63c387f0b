package aci

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Everything that enters a DN or a property is checked here again, whatever
// config and the reconciler already checked: a name with '/', ']' or a
// control character would otherwise address another object.
var (
	aciNameRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
	// sviPathRe accepts port, port-channel and vPC path DNs.
	sviPathRe = regexp.MustCompile(`^topology/pod-[0-9]+/(paths-[0-9]+|protpaths-[0-9]+-[0-9]+)/pathep-\[[a-zA-Z0-9_./:-]+\]$`)
	// descr: the APIC's descr grammar, which a Kubernetes node name fits.
	descrRe = regexp.MustCompile(`^[a-zA-Z0-9\\!#$%()*,\-./:;@ _{|}~?&+]{0,128}$`)
)

func checkName(what, s string) error {
	if !aciNameRe.MatchString(s) {
		return fmt.Errorf("%s %s is not an ACI name (1-64 characters of [a-zA-Z0-9_.-])", what, printable(s))
	}
	return nil
}

// canonAddr checks an IP address and returns its canonical text.
func canonAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%s is not an IP address", printable(s))
	}
	return a.Unmap(), nil
}

// canonPrefix checks a prefix (no host bits) and returns it canonical.
func canonPrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s is not an IP prefix", printable(s))
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set", printable(s))
	}
	return p, nil
}

// derive makes a name from base and suffix that stays within 64 characters:
// a base too long is cut and given a hash of itself, so the result is
// deterministic and two long bases never share it.
func derive(base, suffix string) string {
	if len(base)+len(suffix) <= 64 {
		return base + suffix
	}
	sum := sha256.Sum256([]byte(base))
	h := "-" + hex.EncodeToString(sum[:])[:10]
	return base[:64-len(suffix)-len(h)] + h + suffix
}

// group is an external EPG: its L3Out and name.
type group struct{ l3out, epg string }

func (g group) valid() error {
	if err := checkName("L3Out", g.l3out); err != nil {
		return err
	}
	return checkName("external EPG", g.epg)
}

// names holds the tenant's fixed names and builds DNs.
type names struct {
	tenant, vrf, l3out, nodeProfile, ifProfile string
	policy                                     string // bgpCtxAfPol for ipv4
	pfxBase                                    string // bgpPeerPfxPol names start so
	mark                                       string
	lock                                       string // the writer lock's marker (a vzBrCP)

	// containers are the DNs of the external EPGs the configuration names
	// (externalEPGs nodes, pods, transitExport; consumers): EPGs the team
	// may have made by hand, that the driver writes its own children into
	// whatever their mark. Any other external EPG the driver writes into
	// must carry the mark or not exist (it then creates it).
	containers map[string]bool
	// consumers are the DNs of the configured consumer EPGs.
	consumers map[string]bool
}

func newNames(a *Settings, cluster string) (names, error) {
	n := names{tenant: a.Tenant, vrf: a.VRF, l3out: a.L3Out, nodeProfile: a.NodeProfile, ifProfile: a.InterfaceProfile,
		policy: a.MaximumPathsPolicy, pfxBase: "BGP_PFX_" + cluster, mark: "orchestrator:fabric-reconciler." + cluster}
	for _, c := range []struct{ what, v string }{{"tenant", n.tenant}, {"vrf", n.vrf}, {"l3out", n.l3out},
		{"nodeProfile", n.nodeProfile}, {"interfaceProfile", n.ifProfile}, {"maximumPathsPolicy", n.policy}} {
		if err := checkName(c.what, c.v); err != nil {
			return n, err
		}
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9_.:-]{1,128}$`).MatchString(n.mark) {
		return n, fmt.Errorf("cluster %q cannot form an ACI annotation", cluster)
	}
	n.lock = derive(lockPrefix+cluster, "")
	n.containers, n.consumers = map[string]bool{}, map[string]bool{}
	for _, s := range []string{a.ExternalEPGs.Nodes, a.ExternalEPGs.Pods, a.ExternalEPGs.TransitExport} {
		if g, err := n.groupOf(s); s != "" && err == nil {
			n.containers[n.epgDN(g)] = true
		}
	}
	for _, s := range a.Consumers {
		if g, err := n.groupOf(s); err == nil {
			n.containers[n.epgDN(g)] = true
			n.consumers[n.epgDN(g)] = true
		}
	}
	return n, nil
}

// lockPrefix starts the name of every cluster's writer-lock marker.
const lockPrefix = "fabric-reconciler.lock."

// isLock reports whether a contract name is a writer lock's marker (this
// cluster's or another's): never a fabric object.
func (n names) isLock(name string) bool { return strings.HasPrefix(name, lockPrefix) }

// groupOf parses a fabric group: "<epg>" on the cluster's L3Out, or
// "<l3out>/<epg>".
func (n names) groupOf(s string) (group, error) {
	l3out, epg, err := splitEPG(s)
	if err != nil {
		if len(s) > maxQuoted {
			return group{}, fmt.Errorf("group %s is not <l3out>/<epg> or <epg> of ACI names", printable(s))
		}
		return group{}, err
	}
	if l3out == "" {
		l3out = n.l3out
	}
	g := group{l3out: l3out, epg: epg}
	return g, g.valid()
}

// groupName is the fabric name of a group.
func (n names) groupName(g group) string {
	if g.l3out == n.l3out {
		return g.epg
	}
	return g.l3out + "/" + g.epg
}

func (n names) tenantDN() string            { return "uni/tn-" + n.tenant }
func (n names) l3outDN(l3out string) string { return n.tenantDN() + "/out-" + l3out }
func (n names) epgDN(g group) string        { return n.l3outDN(g.l3out) + "/instP-" + g.epg }
func (n names) lifpDN(lifp string) string {
	return n.l3outDN(n.l3out) + "/lnodep-" + n.nodeProfile + "/lifp-" + lifp
}

// place is where a switch's peers of one address family go: an interface
// profile and the switch's path in it.
type place struct{ lifp, svi string }

func (n names) pathDN(p place) string    { return n.lifpDN(p.lifp) + "/rspathL3OutAtt-[" + p.svi + "]" }
func (n names) vrfDN() string            { return n.tenantDN() + "/ctx-" + n.vrf }
func (n names) brcDN(name string) string { return n.tenantDN() + "/brc-" + name }
func (n names) fltDN(name string) string { return n.tenantDN() + "/flt-" + name }
func (n names) lockDN() string           { return n.brcDN(n.lock) }

// policyName is the bgpCtxAfPol of an address family.
func (n names) policyName(af string) string {
	if af == "ipv6" {
		return derive(n.policy, "-v6")
	}
	return n.policy
}

func afUcast(af string) string { return af + "-ucast" }

// Derived contract object names.
const subjectName = "k8s-service"

func filterName(contract string) string { return derive(contract, "_flt") }

func entryName(protocol string, port int) string { return protocol + "-" + strconv.Itoa(port) }

// portNumbers maps the names the APIC reports well-known ports by.
var portNumbers = map[string]int{"ftpData": 20, "smtp": 25, "dns": 53, "http": 80, "pop3": 110, "https": 443, "rtsp": 554, "ssh": 22}

func parsePort(s string) (int, bool) {
	if n, ok := portNumbers[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0 && n < 65536
}

// splitScope splits a bitmask property.
func splitScope(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// A peer's descr holds the node's name and, when the session has a
// password, the fingerprint of the password the driver last sent
// ("<node> pw:<fingerprint>"): the APIC never returns a password, so this
// is how Observe reads it back and how Apply knows not to send it again.
// Node names are DNS names, so the space cannot be part of one.
const pwTag = " pw:"

var descrFPRe = regexp.MustCompile(`^(.*) pw:([0-9a-f]{16})$`)

// peerDescr is the descr of a peer of node whose password has fingerprint
// fp ("" for none).
func peerDescr(node, fp string) string {
	if fp == "" {
		return node
	}
	return node + pwTag + fp
}

// parseDescr splits a peer's descr into the node name and the password's
// fingerprint.
func parseDescr(descr string) (node, fp string) {
	if m := descrFPRe.FindStringSubmatch(descr); m != nil {
		return m[1], m[2]
	}
	return descr, ""
}

// aciMaxPrefix is the largest maxPfx a bgpPeerPfxPol takes (docs/aci.md).
const aciMaxPrefix = 300000

// ACI's names of what a bgpPeerPfxPol does at its limit, by the fabric's.
var pfxActions = map[string]string{
	fabric.MaxPrefixShutdown: "shut", fabric.MaxPrefixRestart: "restart", fabric.MaxPrefixWarn: "log",
}

// prefixPolicyName names the bgpPeerPfxPol of a prefix limit after its
// values, so that peers with one limit share one policy:
// BGP_PFX_<cluster>_<limit>_<shut|log|restart<minutes>>.
func (n names) prefixPolicyName(m fabric.MaxPrefix) (string, error) {
	act, ok := pfxActions[m.Action]
	if !ok {
		return "", fmt.Errorf("maximum-prefix action %s is not one of shutdown, restart, warning-only", printable(m.Action))
	}
	if m.Limit < 1 || m.Limit > aciMaxPrefix {
		return "", fmt.Errorf("maximum-prefix %d: ACI's bgpPeerPfxPol takes 1-%d", m.Limit, aciMaxPrefix)
	}
	if act == "restart" {
		if m.RestartMinutes < 1 || m.RestartMinutes > 65535 {
			return "", fmt.Errorf("maximum-prefix restart after %d minutes: ACI takes 1-65535", m.RestartMinutes)
		}
		act += strconv.Itoa(m.RestartMinutes)
	}
	name := derive(n.pfxBase, "_"+strconv.FormatUint(uint64(m.Limit), 10)+"_"+act)
	return name, checkName("prefix-limit policy", name)
}

func (n names) pfxPolDN(name string) string { return n.tenantDN() + "/bgpPfxP-" + name }

// implicit reports whether an object is one the APIC makes itself and
// nobody configured: a peer's prefix-policy relation (or a protocol
// profile's timers or best-path relation, protocol.go) without a mark that
// names no policy (or the default one). It is neither someone else's
// object in the driver's way nor a reason to keep a peer; the driver
// writes over it with its mark when the peer gets a prefix limit.
func (n names) implicit(o object) bool {
	attr, ok := implicitRelations[o.class]
	if !ok || n.owned(o) {
		return false
	}
	name := o.attrs[attr]
	return name == "" || name == "default"
}

// implicitRelations are the relations the APIC makes itself, by class,
// with the property naming their policy.
var implicitRelations = map[string]string{"bgpRsPeerPfxPol": "tnBgpPeerPfxPolName"}
