package reconciler

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/k8swatch"
)

// What cannot be seen is not deleted. This file holds the rules that keep a
// skipped input object's fabric objects in place, recognise an input that
// lacks a whole kind, keep what is established on the fabric in place
// against newcomers, and refuse prefixes too wide to be anybody's.

// checkPrefixes skips pools, service ranges and LoadBalancer pools wider
// than the configured minimum (0/0 always): in a filter they let a node
// announce anything, in an external EPG they classify the whole Internet.
func (t *translator) checkPrefixes() {
	tooWide := func(p netip.Prefix) bool {
		if p.Bits() == 0 {
			return true
		}
		if p.Addr().Is4() {
			return p.Bits() < t.cfg.MinPrefixLength.IPv4
		}
		return p.Bits() < t.cfg.MinPrefixLength.IPv6
	}
	reason := func(field string, p netip.Prefix) string {
		min := t.cfg.MinPrefixLength.IPv4
		if p.Addr().Is6() {
			min = t.cfg.MinPrefixLength.IPv6
		}
		return fmt.Sprintf("%s %s is wider than /%d, the shortest prefix accepted (minPrefixLength); it would let the fabric accept or classify far more than the cluster owns", field, p, min)
	}
	var pools []k8swatch.IPPool
	for _, p := range t.cs.IPPools {
		if tooWide(p.CIDR) {
			t.skip("IPPool/"+p.Name, reason("spec.cidr", p.CIDR), "")
			continue
		}
		pools = append(pools, p)
	}
	t.cs.IPPools = pools

	c := t.cs.BGPConfig
	keep := func(field string, in []netip.Prefix) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range in {
			if tooWide(p) {
				t.skip("BGPConfiguration/default", reason(field, p)+"; the range is left out", "")
				continue
			}
			out = append(out, p)
		}
		return out
	}
	c.ServiceLoadBalancerIPs = keep("spec.serviceLoadBalancerIPs", c.ServiceLoadBalancerIPs)
	c.ServiceClusterIPs = keep("spec.serviceClusterIPs", c.ServiceClusterIPs)
	c.ServiceExternalIPs = keep("spec.serviceExternalIPs", c.ServiceExternalIPs)
	t.cs.BGPConfig = c

	var lbPools []k8swatch.LBPool
	for _, p := range t.cs.LBPools {
		ok := true
		for _, pr := range p.Prefixes {
			if tooWide(pr) {
				t.skip(poolObject(p), reason("the address range", pr), "")
				ok = false
				break
			}
		}
		if ok {
			lbPools = append(lbPools, p)
		}
	}
	t.cs.LBPools = lbPools
}

func poolObject(p k8swatch.LBPool) string {
	switch p.Source {
	case "metallb":
		return "IPAddressPool/" + p.Namespace + "/" + p.Name
	case "purelb":
		return "ServiceGroup/" + p.Namespace + "/" + p.Name
	}
	return "ConfigMap/metallb-system/config"
}

// peeredNodes maps each BGP address the fabrics already peer with to the
// node the peer was made for.
func (t *translator) peeredNodes() map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for _, name := range sortedFabricNames(t.opts.Observed) {
		for _, o := range t.opts.Observed[name].Owned.Objects() {
			var node, addr string
			switch v := o.(type) {
			case fabric.BGPPeer:
				node, addr = v.Node, v.PeerAddress
			case fabric.PrefixFilter:
				node, addr = v.Node, v.PeerAddress
			default:
				continue
			}
			if a, err := netip.ParseAddr(addr); err == nil && node != "" {
				if _, seen := out[a.Unmap()]; !seen {
					out[a.Unmap()] = node
				}
			}
		}
	}
	return out
}

func sortedFabricNames(m map[string]fabric.Observed) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// establishedService returns the one service, among those claiming ip,
// whose external EPG already holds the IP on an ACI fabric; "" when none or
// several do.
func (t *translator) establishedService(ip netip.Addr, svcs []k8swatch.Service) string {
	found := ""
	for i := range t.cfg.Fabrics {
		f := &t.cfg.Fabrics[i]
		obs, ok := t.opts.Observed[f.Name]
		if f.Driver != config.DriverACI || f.ACI == nil || !ok {
			continue
		}
		held := map[string]bool{}
		for _, s := range obs.Owned.Subnets {
			if p, err := netip.ParsePrefix(s.Prefix); err == nil && p.Bits() == ip.BitLen() && p.Addr() == ip {
				held[s.Group] = true
			}
		}
		for _, s := range svcs {
			epg, err := expandTemplate(f.ACI.ExternalEPGs.Service, s.Namespace, s.Name)
			if err != nil || !held[epg] {
				continue
			}
			if found != "" && found != s.Key() {
				return ""
			}
			found = s.Key()
		}
	}
	return found
}

// skippedInput is one input object named in Desired.Skipped, split up.
type skippedInput struct {
	kind, namespace, name, object string
}

func parseObject(object string) skippedInput {
	parts := strings.SplitN(object, "/", 3)
	in := skippedInput{object: object, kind: parts[0]}
	switch len(parts) {
	case 2:
		in.name = parts[1]
	case 3:
		in.namespace, in.name = parts[1], parts[2]
	}
	return in
}

// aciGroups are the group names the cluster-wide external EPGs carry in
// ExternalSubnet.Group ("" for the transit EPG when there is none).
func aciGroups(a *config.ACI) (nodes, pods, transit string) {
	group := func(ref string) string {
		l3out, epg, _ := config.SplitEPG(ref)
		if l3out == "" || l3out == a.L3Out {
			return epg
		}
		return l3out + "/" + epg
	}
	if a.ExternalEPGs.TransitExport != "" {
		transit = group(a.ExternalEPGs.TransitExport)
	}
	return a.ExternalEPGs.Nodes, a.ExternalEPGs.Pods, transit
}

// holdKit builds the holds of one fabric.
type holdKit struct {
	f     *config.Fabric
	holds []fabric.Hold
}

func (h *holdKit) add(reason string, kind fabric.Kind, shrinkOnly bool, set func(*fabric.Hold)) {
	hd := fabric.Hold{Reason: reason, Kind: kind, ShrinkOnly: shrinkOnly}
	if set != nil {
		set(&hd)
	}
	h.holds = append(h.holds, hd)
}

// group holds the subnets of one ACI group ("" holds nothing).
func (h *holdKit) group(reason, g string, shrinkOnly bool) {
	if g != "" && h.f.ACI != nil {
		h.add(reason, fabric.KindExternalSubnet, shrinkOnly, func(hd *fabric.Hold) { hd.Group = g })
	}
}

// nodeDerived holds what the nodes produce together: the nodes' subnets,
// the pods' blocks and the transit exports may only grow, and so may
// maximum-paths.
func (h *holdKit) nodeDerived(reason string) {
	h.add(reason, fabric.KindMaximumPaths, true, nil)
	if h.f.ACI != nil {
		nodes, pods, transit := aciGroups(h.f.ACI)
		h.group(reason, nodes, true)
		h.group(reason, pods, true)
		h.group(reason, transit, true)
	}
}

// holds returns what must be held on a fabric: the objects of skipped
// inputs, those of kinds missing from the input, and, against what the
// fabric holds, the peers of nodes a partial input left out.
func (t *translator) holds(f *config.Fabric, st fabric.State) []fabric.Hold {
	// The first hold that matches gives the reason: a missing or partial
	// input explains more than the skips it causes.
	h := &holdKit{f: f}
	t.holdMissing(h, f)
	t.holdShrunkNodes(h, f)
	seen := map[string]bool{}
	for _, sk := range t.skips {
		if seen[sk.Object] {
			continue
		}
		seen[sk.Object] = true
		t.holdSkipped(h, f, parseObject(sk.Object))
	}
	return h.holds
}

func (t *translator) holdSkipped(h *holdKit, f *config.Fabric, in skippedInput) {
	reason := fmt.Sprintf("input %s was skipped as bad (see Skipped); what came from it is kept", in.object)
	switch in.kind {
	case "Node":
		h.add(reason, fabric.KindBGPPeer, false, func(hd *fabric.Hold) { hd.Node = in.name })
		h.add(reason, fabric.KindPrefixFilter, false, func(hd *fabric.Hold) { hd.Node = in.name })
		h.nodeDerived(reason)
	case "Service":
		h.add(reason, fabric.KindMaximumPaths, true, nil)
		if f.ACI == nil {
			return
		}
		if epg, err := expandTemplate(f.ACI.ExternalEPGs.Service, in.namespace, in.name); err == nil {
			h.group(reason, epg, false)
		}
		if cnt, err := expandTemplate(f.ACI.Contract, in.namespace, in.name); err == nil {
			h.add(reason, fabric.KindContract, false, func(hd *fabric.Hold) { hd.ID = cnt })
		}
	case "EndpointSlice":
		h.add(reason, fabric.KindMaximumPaths, true, nil)
	case "BGPPeer":
		h.add(reason, fabric.KindBGPPeer, false, nil)
		h.add(reason, fabric.KindPrefixFilter, false, nil)
		h.nodeDerived(reason)
	case "BGPConfiguration":
		t.holdBGPConfig(h, f, reason)
	case "IPPool", "IPAMBlock", "BlockAffinity":
		h.add(reason, fabric.KindPrefixFilter, true, nil)
		h.nodeDerived(reason)
	case "IPAddressPool", "ServiceGroup", "ConfigMap":
		// LoadBalancer pools only give warnings: nothing on the fabric
		// comes from them.
	default:
		// Input that could not even be told apart: anything may have come
		// from it, so nothing may shrink.
		for _, k := range fabric.Kinds {
			h.add(reason, k, true, nil)
		}
	}
}

// holdBGPConfig holds what the BGPConfiguration decides: the AS numbers of
// nodes without their own (peers), the service ranges (filters, transit
// exports) and, with them, maximum-paths.
func (t *translator) holdBGPConfig(h *holdKit, f *config.Fabric, reason string) {
	h.add(reason, fabric.KindBGPPeer, false, nil)
	h.add(reason, fabric.KindPrefixFilter, true, nil)
	h.add(reason, fabric.KindMaximumPaths, true, nil)
	if f.ACI != nil {
		_, _, transit := aciGroups(f.ACI)
		h.group(reason, transit, true)
	}
}

func (t *translator) allowMissing(kind string) bool {
	return t.cs.Complete || t.opts.AllowMissing["all"] || t.opts.AllowMissing[kind]
}

func missingReason(what, kind string) string {
	return fmt.Sprintf("%s; what came from them is kept (pass --allow-missing %s if the cluster really has none)", what, kind)
}

// holdMissing holds the objects of input kinds that are missing altogether:
// an export that left out a file is not a cluster without those objects.
func (t *translator) holdMissing(h *holdKit, f *config.Fabric) {
	if !t.cs.Has(k8swatch.KindService) && !t.allowMissing(k8swatch.KindService) {
		reason := missingReason("the input holds no Service at all (a real cluster has at least default/kubernetes): was the Services export left out?", k8swatch.KindService)
		h.add(reason, fabric.KindContract, false, nil)
		h.add(reason, fabric.KindMaximumPaths, true, nil)
		if f.ACI != nil {
			nodes, pods, transit := aciGroups(f.ACI)
			h.add(reason, fabric.KindExternalSubnet, false, func(hd *fabric.Hold) {
				for _, g := range []string{nodes, pods, transit} {
					if g != "" {
						hd.NotGroups = append(hd.NotGroups, g)
					}
				}
			})
		}
	}
	if !t.cs.Has(k8swatch.KindNode) && !t.allowMissing(k8swatch.KindNode) {
		reason := missingReason("the input holds no Node at all: was the Nodes export left out?", k8swatch.KindNode)
		h.add(reason, fabric.KindBGPPeer, false, nil)
		h.add(reason, fabric.KindPrefixFilter, false, nil)
		h.nodeDerived(reason)
	}
	if !t.cs.Has(k8swatch.KindBGPPeer) && !t.allowMissing(k8swatch.KindBGPPeer) {
		reason := missingReason("the input holds no BGPPeer at all: was the Calico export left out?", k8swatch.KindBGPPeer)
		h.add(reason, fabric.KindBGPPeer, false, nil)
		h.add(reason, fabric.KindPrefixFilter, false, nil)
		h.nodeDerived(reason)
	}
	if !t.cs.Has(k8swatch.KindBGPConfiguration) && !t.allowMissing(k8swatch.KindBGPConfiguration) {
		t.holdBGPConfig(h, f, missingReason("the input holds no BGPConfiguration: was the Calico export left out?", k8swatch.KindBGPConfiguration))
	}
	if !t.cs.Has(k8swatch.KindIPPool) && !t.allowMissing(k8swatch.KindIPPool) {
		reason := missingReason("the input holds no IPPool: was the Calico export left out?", k8swatch.KindIPPool)
		h.add(reason, fabric.KindPrefixFilter, true, nil)
		h.nodeDerived(reason)
	}
	pools := 0
	for _, p := range t.cs.IPPools {
		if p.ForWorkloads() {
			pools++
		}
	}
	if t.cfg.IPAM == config.IPAMCalico && pools > 0 && !t.cs.Has(k8swatch.KindIPAMBlock) && !t.cs.Has(k8swatch.KindBlockAffinity) &&
		!t.allowMissing(k8swatch.KindIPAMBlock) {
		reason := missingReason(fmt.Sprintf("the input holds %d IP pool(s) but no IPAM block: was the IPAM export left out? (with host-local IPAM, set ipam: host-local)", pools),
			k8swatch.KindIPAMBlock)
		h.add(reason, fabric.KindPrefixFilter, true, nil)
		h.nodeDerived(reason)
	}
	locals := false
	for _, s := range t.cs.Services {
		locals = locals || s.ExternalTrafficPolicy == "Local"
	}
	if locals && !t.cs.Has(k8swatch.KindEndpointSlice) && !t.allowMissing(k8swatch.KindEndpointSlice) {
		h.add(missingReason("the input holds Local services but no EndpointSlice: was the EndpointSlices export left out?", k8swatch.KindEndpointSlice),
			fabric.KindMaximumPaths, true, nil)
	}
}

// holdShrunkNodes compares the input with what the fabric holds: when the
// input names fewer than half of the nodes the fabric has peers for, it is
// taken for a partial export, and the absent nodes' peers are held.
func (t *translator) holdShrunkNodes(h *holdKit, f *config.Fabric) {
	obs, ok := t.opts.Observed[f.Name]
	if !ok || t.allowMissing(k8swatch.KindNode) {
		return
	}
	peered := map[string]bool{}
	for _, p := range obs.Owned.Peers {
		if p.Node != "" {
			peered[p.Node] = true
		}
	}
	var absent []string
	for n := range peered {
		if _, ok := t.cs.Node(n); !ok {
			absent = append(absent, n)
		}
	}
	present := len(peered) - len(absent)
	if len(peered) < 2 || 2*present >= len(peered) {
		return
	}
	sort.Strings(absent)
	reason := fmt.Sprintf("the input holds only %d of the %d nodes this fabric has BGP peers for (a partial export?); the others' peers are kept (pass --allow-missing %s if they really left)",
		present, len(peered), k8swatch.KindNode)
	for _, n := range absent {
		h.add(reason, fabric.KindBGPPeer, false, func(hd *fabric.Hold) { hd.Node = n })
		h.add(reason, fabric.KindPrefixFilter, false, func(hd *fabric.Hold) { hd.Node = n })
	}
	h.nodeDerived(reason)
}
