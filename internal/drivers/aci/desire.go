package aci

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// aciMaxPaths is the largest maxEcmp a bgpCtxAfPol takes (the APIC's range
// 1-64, in the class's metadata; docs/aci.md).
const aciMaxPaths = 64

// aciDefaultMaxEcmp is the maxEcmp of a VRF without a BGP address-family
// policy of its own: 16 [terraform-provider-aci
// docs/resources/bgp_address_family_context.md, max_ecmp "Default value:
// 16"; ansible-aci aci_bgp_address_family_context_policy integration tests
// assert maxEcmp "16" on a policy created without it]. The driver's policy
// is VRF-wide, so it never goes below this unless the configuration says so
// (maximumPathsAllowLower): other BGP L3Outs of the VRF would lose paths.
const aciDefaultMaxEcmp = 16

// aciProtocols are the protocols a vzEntry's prot takes with ports: ACI
// filters match ports of tcp and udp only (docs/aci.md).
var aciProtocols = map[string]bool{"tcp": true, "udp": true}

// Desire realizes an intent on an ACI fabric: a bgpPeerP per session, the
// VRF's maximum-paths once for the fabric, the cluster's prefixes as
// external-EPG subnets (nodes, pods, transit exports), and per LoadBalancer
// service an external EPG holding its IPs and a contract opening its ports.
// EPG and contract names come from the configuration's templates. What ACI
// cannot express (a port of another protocol than tcp or udp, a node name
// too long for a peer's descr) is skipped when the plan is made.
func Desire(cfg config.Fabric, in fabric.Intent) fabric.Realized {
	var r fabric.Realized
	a := settingsOf(cfg)
	if a == nil {
		return r
	}
	var accepted []fabric.Session
	var acceptedOpts []fabric.PeerOptions // before the per-peer ones are kept
	warned := map[fabric.PeerOption]bool{}
	switches := map[string]config.Switch{}
	for _, sw := range cfg.Switches {
		switches[sw.Name] = sw
	}
	clamped := false
	for _, s := range in.Sessions {
		opts := s.Options
		var dropped []fabric.PeerOption
		s.Options, dropped = s.Options.Keep(managedOptions)
		for _, opt := range dropped {
			if !warned[opt] && !policyOptions[opt] {
				warned[opt] = true
				r.Warnings = append(r.Warnings, fmt.Sprintf("ACI does not manage the peers' %s: %s; it is left as the APIC holds it", opt, unmanagedWhy[opt]))
			}
		}
		if m := s.Options.MaxPrefix; m != nil && m.Limit > aciMaxPrefix {
			c := *m
			c.Limit = aciMaxPrefix
			s.Options.MaxPrefix = &c
			if !clamped {
				clamped = true
				r.Warnings = append(r.Warnings, fmt.Sprintf("fabric %s: a prefix limit above %d is set to %d, the most an ACI bgpPeerPfxPol takes", in.Fabric, aciMaxPrefix, aciMaxPrefix))
			}
		}
		if _, ok := placeFor(a, switches[s.Switch], s.AddressFamily); !ok {
			r.Skipped = append(r.Skipped, fabric.Skip{Object: "Node/" + s.Node,
				Reason: fmt.Sprintf("fabric %s: switch %s: an IPv6 peer needs the switch's sviPathV6 and aci.interfaceProfileV6 (ACI keeps IPv6 on its own interface profile; never on the IPv4 path); its IPv6 peer is not planned", in.Fabric, s.Switch)})
			continue
		}
		if descr := peerDescr(s.Node, s.Options.Password.Fingerprint()); !descrRe.MatchString(descr) || strings.Contains(s.Node, " ") {
			r.Skipped = append(r.Skipped, fabric.Skip{Object: "Node/" + s.Node,
				Reason: fmt.Sprintf("fabric %s: its name cannot be an ACI peer's descr (at most 128 characters, %d with the password's fingerprint); its peers are not planned",
					in.Fabric, 128-len(pwTag)-16)})
			continue
		}
		accepted = append(accepted, s)
		acceptedOpts = append(acceptedOpts, opts)
		r.Add(s.Peer(), s.Sources...)
		if a.ImportControl == "peer" {
			// The same allowed-prefix set the CLI drivers filter with,
			// as the peer's import route map (routing.go).
			r.Add(s.Filter(), s.FilterSources...)
		}
	}
	paths := in.Paths
	if paths.Limit == 0 || paths.Limit > aciMaxPaths {
		paths.Limit = aciMaxPaths
	}
	wide := fabric.FabricWide(paths.PathsFor(accepted))
	for _, m := range wide {
		if m.Paths < aciDefaultMaxEcmp && !a.MaximumPathsAllowLower {
			m.Paths = aciDefaultMaxEcmp
		}
		r.Add(m, "Node/*", "Service/*", "BGPConfiguration/default")
	}
	desireSessionPolicy(in.Fabric, accepted, acceptedOpts, len(wide) > 0, &r)
	g := aciGroupsOf(a)
	for _, h := range in.Holds {
		r.Holds = append(r.Holds, g.holds(a, h)...)
		r.Holds = append(r.Holds, sessionPolicyHolds(h)...)
	}
	if len(accepted) == 0 {
		return r // no node reaches this fabric: nothing to classify or offer
	}

	subnets := map[string]*fabric.ExternalSubnet{}
	sources := map[string][]string{}
	add := func(group string, p netip.Prefix, scope fabric.Scope, from []string) {
		id := group + "/" + p.String()
		s := subnets[id]
		if s == nil {
			s = &fabric.ExternalSubnet{Group: group, Prefix: p.String()}
			subnets[id] = s
		}
		s.Scopes = append(s.Scopes, scope)
		sources[id] = append(sources[id], from...)
	}
	export := func(list []fabric.Sourced, scope fabric.Scope) {
		if g.transit == "" {
			return
		}
		for _, p := range list {
			add(g.transit, p.Prefix, scope, p.Sources)
		}
	}
	for _, p := range in.NodeSubnets {
		add(g.nodes, p.Prefix, fabric.ScopeImportSecurity, p.Sources)
	}
	// Transit export of what Calico advertises. The nodes' subnets are
	// routes of their own: exact export-rtctrl. Calico advertises a pool as
	// its blocks (/26 by default) and a service range as the range plus the
	// /32 of each Local service inside it: an export-rtctrl subnet matches
	// only its exact prefix (Cisco APIC Layer 3 Networking Configuration
	// Guide 5.1, "Scope and Aggregate Controls for Subnets"; routing.go), so
	// those are aggregate exports (a route-map match with aggregate), or,
	// with podSubnets: blocks, each block of an exported pool exactly.
	export(in.NodeSubnets, fabric.ScopeExportRtctrl)
	switch a.ExternalEPGs.PodSubnets {
	case "blocks":
		for _, p := range in.PodBlocks {
			add(g.pods, p.Prefix, fabric.ScopeImportSecurity, p.Sources)
		}
	default:
		for _, p := range in.PodPools {
			add(g.pods, p.Prefix, fabric.ScopeImportSecurity, p.Sources)
		}
	}
	if a.ExternalEPGs.PodSubnets == "blocks" {
		var blocks []fabric.Sourced
		for _, b := range in.PodBlocks {
			for _, pool := range in.ExportedPools {
				if pool.Prefix.Bits() <= b.Prefix.Bits() && pool.Prefix.Contains(b.Prefix.Addr()) {
					blocks = append(blocks, b)
					break
				}
			}
		}
		export(blocks, fabric.ScopeExportRtctrl)
	} else {
		export(in.ExportedPools, fabric.ScopeExportAggregate)
	}
	export(in.ServiceRanges, fabric.ScopeExportAggregate)

	consumers := make([]string, 0, len(a.Consumers))
	for _, c := range a.Consumers {
		consumers = append(consumers, groupRef(a, c))
	}
	serviceObjects(a, in, &r, consumers, add)

	ids := make([]string, 0, len(subnets))
	for id := range subnets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r.Add(*subnets[id], sources[id]...)
	}
	return r
}

// namedService is a service with its EPG and contract names.
type namedService struct {
	fabric.ServiceIntent
	epg, contract string
}

// serviceNames names each service's EPG and contract from the templates. A
// service whose names cannot be made, or would take one of the cluster's
// own EPGs, is skipped.
func serviceNames(a *Settings, in fabric.Intent, r *fabric.Realized) []namedService {
	skip := func(key, reason string) {
		r.Skipped = append(r.Skipped, fabric.Skip{Object: "Service/" + key, Reason: fmt.Sprintf("fabric %s: %s", in.Fabric, reason)})
	}
	var out []namedService
	for _, s := range in.Services {
		epg, err := expandTemplate(a.ExternalEPGs.Service, s.Namespace, s.Name)
		if err != nil {
			skip(s.Key(), "external EPG name: "+err.Error())
			continue
		}
		cnt, err := expandTemplate(a.Contract, s.Namespace, s.Name)
		if err != nil {
			skip(s.Key(), "contract name: "+err.Error())
			continue
		}
		if epg == a.ExternalEPGs.Nodes || epg == a.ExternalEPGs.Pods {
			skip(s.Key(), fmt.Sprintf("external EPG name %s is the cluster's %s EPG", epg, epg))
			continue
		}
		out = append(out, namedService{ServiceIntent: s, epg: epg, contract: cnt})
	}
	return out
}

// groupRef is the fabric group of a configured EPG reference: "<epg>" on
// the cluster's own L3Out, "<l3out>/<epg>" on another.
func groupRef(a *Settings, ref string) string {
	l3out, epg, _ := splitEPG(ref)
	if l3out == "" || l3out == a.L3Out {
		return epg
	}
	return l3out + "/" + epg
}

// aciGroups are the group names of the cluster's own external EPGs.
type aciGroups struct{ nodes, pods, transit string }

func aciGroupsOf(a *Settings) aciGroups {
	g := aciGroups{nodes: a.ExternalEPGs.Nodes, pods: a.ExternalEPGs.Pods}
	if a.ExternalEPGs.TransitExport != "" {
		g.transit = groupRef(a, a.ExternalEPGs.TransitExport)
	}
	return g
}

// holds maps an intent hold to the ACI objects that came from it: a
// service's EPG subnets and contract, the subnets of the nodes', pods' and
// transit EPGs, and the shared scopes.
func (g aciGroups) holds(a *Settings, h fabric.IntentHold) []fabric.Hold {
	group := func(name string) []fabric.Hold {
		if name == "" {
			return nil
		}
		return []fabric.Hold{{Reason: h.Reason, Kind: fabric.KindExternalSubnet, Group: name, ShrinkOnly: h.ShrinkOnly}}
	}
	switch h.Scope {
	case fabric.HoldService:
		if out, ok := groupedServiceHolds(a, g, h); ok {
			return out
		}
		ns, name, _ := strings.Cut(h.Service, "/")
		var out []fabric.Hold
		if epg, err := expandTemplate(a.ExternalEPGs.Service, ns, name); err == nil {
			out = append(out, group(epg)...)
		}
		if cnt, err := expandTemplate(a.Contract, ns, name); err == nil {
			out = append(out, fabric.Hold{Reason: h.Reason, Kind: fabric.KindContract, ID: cnt, ShrinkOnly: h.ShrinkOnly})
		}
		return out
	case fabric.HoldServices:
		var not []string
		for _, n := range []string{g.nodes, g.pods, g.transit} {
			if n != "" {
				not = append(not, n)
			}
		}
		return []fabric.Hold{
			{Reason: h.Reason, Kind: fabric.KindContract, ShrinkOnly: h.ShrinkOnly},
			{Reason: h.Reason, Kind: fabric.KindExternalSubnet, NotGroups: not, ShrinkOnly: h.ShrinkOnly},
		}
	case fabric.HoldNodeSubnets:
		return group(g.nodes)
	case fabric.HoldPodPrefixes:
		return group(g.pods)
	case fabric.HoldExports:
		return group(g.transit)
	}
	return fabric.CommonHolds(h)
}
