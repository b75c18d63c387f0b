package aci

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// The driver's configuration: the `aci` section of a fabric and each
// switch's `sviPath`. config hands these keys over (config.DriverSpec);
// docs/configuration.md documents them.

// Settings is the `aci` section: the APIC connection and the tenant objects
// the cluster uses.
type Settings struct {
	APIC             APIC         `json:"apic"`
	Tenant           string       `json:"tenant"`
	VRF              string       `json:"vrf"`
	L3Out            string       `json:"l3out"`
	NodeProfile      string       `json:"nodeProfile"`
	InterfaceProfile string       `json:"interfaceProfile"`
	ExternalEPGs     ExternalEPGs `json:"externalEPGs"`
	// Contract is the name template of the per-service contract.
	Contract string `json:"contract,omitempty"`
	// ContractScope is the vzBrCP scope: context (default), tenant,
	// application-profile or global.
	ContractScope string `json:"contractScope,omitempty"`
	// Consumers are the external EPGs ("<l3out>/<epg>" or "<epg>" on the
	// cluster's L3Out) that may reach LoadBalancer services.
	Consumers []string `json:"consumers,omitempty"`
	// LegacyBGPPasswordFile is the key the BGP password had before the
	// fabric's bgp.passwordFile took its place: it is read only to refuse
	// it with a message that says where the password goes now.
	LegacyBGPPasswordFile string `json:"bgpPasswordFile,omitempty"`
	// MaximumPathsPolicy names the bgpCtxAfPol the driver creates.
	MaximumPathsPolicy string `json:"maximumPathsPolicy,omitempty"`
	// ServiceGrouping is how LoadBalancer services share external EPGs
	// and contracts: service (one each, the default), namespace,
	// label:<key> or ports (grouping.go).
	ServiceGrouping string `json:"serviceGrouping,omitempty"`
	// GroupContract is the name template of a group's contract under a
	// grouping other than service (default per grouping, grouping.go).
	GroupContract string `json:"groupContract,omitempty"`
	// APICVersion is the APIC release whose verified scalability limits
	// plans are checked against, e.g. "6.1(2)" (limits.go).
	APICVersion string `json:"apicVersion,omitempty"`
	// MaximumPathsAllowLower lets maximumPaths set the VRF's maxEcmp below
	// ACI's default of 16. Without it the driver never goes below 16: the
	// policy is VRF-wide and caps every other BGP L3Out of the VRF too.
	MaximumPathsAllowLower bool `json:"maximumPathsAllowLower,omitempty"`
	// ASNPropagate is the bgpLocalAsnP asnPropagate of every local-AS the
	// driver writes: none (default: the local AS is prepended to routes
	// learned from the node, as NX-OS local-as does), no-prepend,
	// replace-as or dual-as.
	ASNPropagate string `json:"asnPropagate,omitempty"`
	// InterfaceProfileV6 is the logical interface profile (under
	// nodeProfile) of the switches' IPv6 SVI paths (sviPathV6). IPv6 peers
	// are made there only: ACI keeps an IPv6 address on its own interface
	// profile.
	InterfaceProfileV6 string `json:"interfaceProfileV6,omitempty"`
	// ImportControl is how the nodes' routes are filtered on the way in:
	// "peer" (default) gives every node peer an import route map permitting
	// what that node may advertise, which needs the L3Out's import route
	// control enforced (set by hand: the driver does not own the L3Out);
	// "none" leaves import open (ACI's default: everything is accepted).
	ImportControl string `json:"importControl,omitempty"`
}

// ExternalEPGs names the external EPGs the driver fills.
type ExternalEPGs struct {
	Nodes string `json:"nodes"`
	Pods  string `json:"pods"`
	// PodSubnets is "pools" (the enabled IP pools, default) or "blocks" (each
	// node's IPAM blocks).
	PodSubnets string `json:"podSubnets,omitempty"`
	// Service is the name template of the per-service external EPG.
	Service string `json:"service"`
	// ServiceGroup is the name template of a group's external EPG under a
	// grouping other than service (default per grouping, grouping.go).
	ServiceGroup string `json:"serviceGroup,omitempty"`
	// TransitExport is the external EPG ("<l3out>/<epg>") whose subnets are
	// marked export-rtctrl so other L3Outs advertise the cluster's prefixes.
	// Empty: no transit export.
	TransitExport string `json:"transitExport,omitempty"`
}

// APIC is how to reach and log in to the APIC.
type APIC struct {
	// URL of the APIC, e.g. https://apic.example.net. Required: there is no
	// default address.
	URL      string `json:"url"`
	Username string `json:"username"`
	// PasswordFile holds the password (password login).
	PasswordFile string `json:"passwordFile,omitempty"`
	// PrivateKeyFile and CertificateName select certificate-signature login.
	PrivateKeyFile  string `json:"privateKeyFile,omitempty"`
	CertificateName string `json:"certificateName,omitempty"`
	// CAFile is a PEM bundle that verifies the APIC's certificate.
	CAFile string `json:"caFile,omitempty"`
	// InsecureSkipVerify turns off TLS verification (labs only).
	InsecureSkipVerify bool            `json:"insecureSkipVerify,omitempty"`
	Timeout            config.Duration `json:"timeout,omitempty"`
}

// Leaf is a switch's own setting: the path of its SVI towards the nodes
// (an l3extRsPathL3OutAtt tDn), under which its BGP peers are created.
type Leaf struct {
	SVIPath string `json:"sviPath"`
	// SVIPathV6 is the switch's path under interfaceProfileV6, where its
	// IPv6 peers are made (often the same port as sviPath).
	SVIPathV6 string `json:"sviPathV6,omitempty"`
}

// settingsOf returns a fabric's ACI settings (config has parsed them).
func settingsOf(f config.Fabric) *Settings {
	s, _ := f.Platform.(*Settings)
	return s
}

// leafOf returns a switch's ACI settings.
func leafOf(sw config.Switch) Leaf {
	if l, ok := sw.Platform.(*Leaf); ok {
		return *l
	}
	return Leaf{}
}

// templateRe: ACI name characters plus the {namespace}/{name} placeholders.
var templateRe = regexp.MustCompile(`^([a-zA-Z0-9_.-]|\{(namespace|name|NAMESPACE|NAME)\})+$`)

// configSpec is what the driver tells config.
// ASNFromFabric: the fabric's AS is read from the APIC (fabricas.go).
// MultipathRelax: with maximum-paths, the driver sets AS-path multipath
// relax in the node profile's BGP best-path policy (protocol.go).
var configSpec = config.DriverSpec{Parse: parseSettings, MaxPaths: aciMaxPaths, ASNFromFabric: true, MultipathRelax: true}

// decodeStrict decodes a section, refusing unknown keys.
func decodeStrict(raw json.RawMessage, v any) error { return config.DecodeSection(raw, v) }

// parseSettings reads the `aci` section and each switch's `sviPath`,
// applies the defaults and validates them.
func parseSettings(f *config.Fabric, ctx config.ParseContext) []string {
	var errs []string
	add := func(format string, v ...any) { errs = append(errs, fmt.Sprintf(format, v...)) }
	a, _ := f.Platform.(*Settings)
	if a == nil {
		for k, raw := range f.Raw {
			switch k {
			case "aci":
				a = &Settings{}
				if err := decodeStrict(raw, a); err != nil {
					add("aci: %v", err)
					a = nil
				}
			default:
				add("%s: unknown field (driver aci)", k)
			}
		}
	}
	if a == nil {
		if len(errs) == 0 {
			add("aci: required for driver aci")
		}
		return errs
	}
	a.defaults(ctx)
	errs = append(errs, a.validate("aci")...)
	f.Platform = a

	sviPaths := map[string]string{}
	for j := range f.Switches {
		sw := &f.Switches[j]
		at := fmt.Sprintf("switches[%d]", j)
		leaf, _ := sw.Platform.(*Leaf)
		if leaf == nil {
			leaf = &Leaf{}
			for k, raw := range sw.Raw {
				var into *string
				switch k {
				case "sviPath":
					into = &leaf.SVIPath
				case "sviPathV6":
					into = &leaf.SVIPathV6
				default:
					add("%s.%s: unknown field (driver aci)", at, k)
					continue
				}
				if err := decodeStrict(raw, into); err != nil {
					add("%s.%s: %v", at, k, err)
				}
			}
		}
		if sw.ASN != 0 && sw.ASN != f.ASN {
			add("%s.asn: an ACI fabric runs one BGP AS (uni/fabric/bgpInstP-default/as); a switch cannot have its own", at)
		}
		if leaf.SVIPathV6 != "" {
			if !sviPathRe.MatchString(leaf.SVIPathV6) {
				add("%s.sviPathV6: %q is not an ACI path such as topology/pod-1/paths-201/pathep-[eth1/1]", at, leaf.SVIPathV6)
			} else if a.InterfaceProfileV6 == "" {
				add("%s.sviPathV6: needs aci.interfaceProfileV6 (the IPv6 interface profile it sits in)", at)
			}
		}
		if !sviPathRe.MatchString(leaf.SVIPath) {
			add("%s.sviPath: %q is not an ACI path such as topology/pod-1/paths-201/pathep-[eth1/1]", at, leaf.SVIPath)
		} else if prev, dup := sviPaths[leaf.SVIPath]; dup {
			add("%s.sviPath: %s is already used by %s (for a vPC SVI, list both peer IPs on one switch)", at, leaf.SVIPath, prev)
		}
		sviPaths[leaf.SVIPath] = sw.Name
		sw.Platform = leaf
	}
	return errs
}

func (a *Settings) defaults(ctx config.ParseContext) {
	if a.ExternalEPGs.PodSubnets == "" {
		a.ExternalEPGs.PodSubnets = "pools"
	}
	if a.ContractScope == "" {
		a.ContractScope = "context"
	}
	if a.Contract == "" {
		a.Contract = "CNT_K8_{NAMESPACE}_{NAME}"
	}
	if a.ASNPropagate == "" {
		a.ASNPropagate = "none"
	}
	if a.ImportControl == "" {
		a.ImportControl = "peer"
	}
	if a.MaximumPathsPolicy == "" {
		a.MaximumPathsPolicy = "BGP_ECMP_" + ctx.Cluster
	}
	a.groupingDefaults()
	if a.APICVersion == "" {
		a.APICVersion = defaultAPICVersion
	}
	if a.APIC.Timeout.Duration == 0 {
		a.APIC.Timeout.Duration = 30 * time.Second
	}
	// Relative file paths are relative to the configuration's folder.
	for _, p := range []*string{&a.APIC.PasswordFile, &a.APIC.PrivateKeyFile, &a.APIC.CAFile} {
		*p = ctx.Path(*p)
	}
}

func (a *Settings) validate(at string) []string {
	var errs []string
	add := func(format string, v ...any) { errs = append(errs, fmt.Sprintf(format, v...)) }
	for _, n := range []struct{ field, v string }{
		{"tenant", a.Tenant}, {"vrf", a.VRF}, {"l3out", a.L3Out}, {"nodeProfile", a.NodeProfile},
		{"interfaceProfile", a.InterfaceProfile}, {"externalEPGs.nodes", a.ExternalEPGs.Nodes},
		{"externalEPGs.pods", a.ExternalEPGs.Pods}, {"maximumPathsPolicy", a.MaximumPathsPolicy},
	} {
		if !aciNameRe.MatchString(n.v) {
			add("%s.%s: %q must be 1-64 characters of [a-zA-Z0-9_.-]", at, n.field, n.v)
		}
	}
	if len(a.Tenant) > 63 {
		add("%s.tenant: at most 63 characters", at)
	}
	if a.ExternalEPGs.Nodes == a.ExternalEPGs.Pods {
		add("%s.externalEPGs: nodes and pods must be different EPGs", at)
	}
	for _, t := range []struct{ field, v string }{{"externalEPGs.service", a.ExternalEPGs.Service}, {"contract", a.Contract}} {
		if !templateRe.MatchString(t.v) {
			add("%s.%s: %q must be ACI name characters with {namespace} and {name} placeholders", at, t.field, t.v)
		} else if err := checkInjective(t.v); err != nil {
			add("%s.%s: %q %v", at, t.field, t.v, err)
		}
	}
	errs = append(errs, a.validateGrouping(at)...)
	if _, err := parseAPICVersion(a.APICVersion); err != nil {
		add("%s.apicVersion: %v", at, err)
	}
	switch a.ExternalEPGs.PodSubnets {
	case "pools", "blocks":
	default:
		add("%s.externalEPGs.podSubnets: %q is not one of pools, blocks", at, a.ExternalEPGs.PodSubnets)
	}
	if a.InterfaceProfileV6 != "" {
		if !aciNameRe.MatchString(a.InterfaceProfileV6) {
			add("%s.interfaceProfileV6: %q must be 1-64 characters of [a-zA-Z0-9_.-]", at, a.InterfaceProfileV6)
		} else if a.InterfaceProfileV6 == a.InterfaceProfile {
			add("%s.interfaceProfileV6: must differ from interfaceProfile (ACI keeps IPv6 on its own interface profile)", at)
		}
	}
	switch a.ASNPropagate {
	case "none", "no-prepend", "replace-as", "dual-as":
	default:
		add("%s.asnPropagate: %q is not one of none, no-prepend, replace-as, dual-as", at, a.ASNPropagate)
	}
	switch a.ImportControl {
	case "peer", "none":
	default:
		add("%s.importControl: %q is not one of peer, none", at, a.ImportControl)
	}
	switch a.ContractScope {
	case "context", "tenant", "application-profile", "global":
	default:
		add("%s.contractScope: %q is not one of context, tenant, application-profile, global", at, a.ContractScope)
	}
	if a.ExternalEPGs.TransitExport != "" {
		if _, _, err := splitEPG(a.ExternalEPGs.TransitExport); err != nil {
			add("%s.externalEPGs.transitExport: %v", at, err)
		}
	}
	for _, c := range a.Consumers {
		if _, _, err := splitEPG(c); err != nil {
			add("%s.consumers: %v", at, err)
		}
	}
	if a.LegacyBGPPasswordFile != "" {
		// Refused rather than read on: config has no channel for a
		// deprecation warning, and a key read quietly would keep a second
		// password source that the cluster's BGPPeer Secrets do not
		// override. Ignoring it would create new peers without the password.
		add("%s.bgpPasswordFile: no longer read; move it to the fabric's bgp section as bgp.passwordFile (the same file; it applies to every peer whose Calico BGPPeer names no password Secret)", at)
	}
	if err := checkURL(a.APIC.URL); err != nil {
		add("%s.apic.url: %v", at, err)
	}
	if a.APIC.Username == "" && a.APIC.CertificateName == "" {
		add("%s.apic.username: required", at)
	}
	hasPw, hasKey := a.APIC.PasswordFile != "", a.APIC.PrivateKeyFile != ""
	switch {
	case hasPw && hasKey:
		add("%s.apic: give passwordFile or privateKeyFile+certificateName, not both", at)
	case !hasPw && !hasKey:
		add("%s.apic: passwordFile or privateKeyFile+certificateName is required", at)
	case hasKey && a.APIC.CertificateName == "":
		add("%s.apic.certificateName: required with privateKeyFile", at)
	}
	return errs
}

var placeholderRe = regexp.MustCompile(`\{(namespace|name|NAMESPACE|NAME)\}`)

// checkInjective insists that a name template gives two services two
// names: it holds {namespace} and {name} once each, separated by text with a
// '_' or '.', which no namespace or service name contains (both are DNS
// labels: [a-z0-9-]). Without that, "EPG_{name}" gives services of the same
// name in two namespaces one EPG, and "{namespace}{name}" maps a/bc and ab/c
// to one name: one service could take over another's EPG and contract.
func checkInjective(tmpl string) error {
	locs := placeholderRe.FindAllStringIndex(tmpl, -1)
	var ns, name int
	for _, l := range locs {
		switch strings.ToLower(tmpl[l[0]:l[1]]) {
		case "{namespace}":
			ns++
		case "{name}":
			name++
		}
	}
	if ns != 1 || name != 1 || len(locs) != 2 {
		return errors.New("must contain {namespace} and {name} (or {NAMESPACE}, {NAME}) once each, so that two services never share a name (e.g. EPG_K8_{NAMESPACE}_{NAME})")
	}
	if between := tmpl[locs[0][1]:locs[1][0]]; !strings.ContainsAny(between, "_.") {
		return fmt.Errorf("must separate the two placeholders with text holding '_' or '.' (found %q), which no namespace or service name contains", between)
	}
	return nil
}

// splitEPG splits "<l3out>/<epg>" or "<epg>" (on the cluster's own L3Out, l3out "").
func splitEPG(s string) (l3out, epg string, err error) {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		epg = parts[0]
	case 2:
		l3out, epg = parts[0], parts[1]
		if !aciNameRe.MatchString(l3out) {
			return "", "", fmt.Errorf("%q: L3Out name must be 1-64 characters of [a-zA-Z0-9_.-]", s)
		}
	default:
		return "", "", fmt.Errorf("%q is not <l3out>/<epg> or <epg>", s)
	}
	if !aciNameRe.MatchString(epg) {
		return "", "", fmt.Errorf("%q: EPG name must be 1-64 characters of [a-zA-Z0-9_.-]", s)
	}
	return l3out, epg, nil
}

func checkURL(u string) error {
	if u == "" {
		return errors.New("the APIC URL is required; there is no default")
	}
	if !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("%q must be an https:// URL", u)
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/")
	if rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return fmt.Errorf("%q must be https://host[:port] with no path", u)
	}
	return nil
}

var _ = errors.New
var _ = strings.Contains
