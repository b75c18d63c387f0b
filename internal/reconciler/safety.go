package reconciler

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
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
		for _, pn := range t.opts.Observed[name].Owned.PeerNodes() {
			node, addr := pn.Node, pn.PeerAddress
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
// whose objects for that IP a fabric already holds; "" when none or several
// do. Which objects a service's IP gives is the driver's business, so each
// candidate is realized alone and its objects looked up in the observation.
func (t *translator) establishedService(ip netip.Addr, svcs []k8swatch.Service) string {
	found := ""
	for i := range t.cfg.Fabrics {
		f := &t.cfg.Fabrics[i]
		obs, ok := t.opts.Observed[f.Name]
		desire, known := drivers.DesireFunc(f.Driver)
		if !ok || !known || obs.Owned.Len() == 0 {
			continue
		}
		have := map[fabric.Key]bool{}
		for _, o := range obs.Owned.Objects() {
			have[fabric.KeyOf(o)] = true
		}
		// One node session makes the fabric offer services at all.
		sess := fabric.Session{Switch: "-", Node: "-", NodeAddress: netip.PrefixFrom(ip, ip.BitLen()), AddressFamily: family(ip.Is6())}
		for _, s := range svcs {
			in := fabric.Intent{Fabric: f.Name, Cluster: t.cfg.Cluster, Sessions: []fabric.Session{sess},
				Services: []fabric.ServiceIntent{{Namespace: s.Namespace, Name: s.Name, OwnIPs: []netip.Addr{ip}}}}
			for _, o := range desire(*f, in).State.Objects() {
				if sub, isSubnet := o.(fabric.ExternalSubnet); !isSubnet || !have[fabric.KeyOf(o)] || sub.Prefix != netip.PrefixFrom(ip, ip.BitLen()).String() {
					continue
				}
				if found != "" && found != s.Key() {
					return ""
				}
				found = s.Key()
			}
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

// holdKit collects the holds of one fabric.
type holdKit struct{ holds []fabric.IntentHold }

func (h *holdKit) add(reason string, scope fabric.HoldScope, shrinkOnly bool) {
	h.holds = append(h.holds, fabric.IntentHold{Reason: reason, Scope: scope, ShrinkOnly: shrinkOnly})
}

// nodeDerived holds what the nodes produce together: the nodes' subnets,
// the pods' prefixes and the exports may only grow, and so may
// maximum-paths.
func (h *holdKit) nodeDerived(reason string) {
	for _, s := range []fabric.HoldScope{fabric.HoldPaths, fabric.HoldNodeSubnets, fabric.HoldPodPrefixes, fabric.HoldExports} {
		h.add(reason, s, true)
	}
}

// holds returns what must be held on a fabric: what came from kinds missing
// from the input, from nodes a partial input left out (against what the
// fabric holds), and from skipped inputs. The first hold that matches gives
// the reason: a missing or partial input explains more than the skips it
// causes.
func (t *translator) holds(f *config.Fabric) []fabric.IntentHold {
	h := &holdKit{}
	t.holdMissing(h)
	t.holdShrunkNodes(h, f)
	seen := map[string]bool{}
	for _, sk := range t.skips {
		if seen[sk.Object] {
			continue
		}
		seen[sk.Object] = true
		t.holdSkipped(h, parseObject(sk.Object))
	}
	return h.holds
}

func (t *translator) holdSkipped(h *holdKit, in skippedInput) {
	reason := fmt.Sprintf("input %s was skipped as bad (see Skipped); what came from it is kept", in.object)
	switch in.kind {
	case "Node":
		h.holds = append(h.holds, fabric.IntentHold{Reason: reason, Scope: fabric.HoldNode, Node: in.name})
		h.nodeDerived(reason)
	case "Service":
		h.holds = append(h.holds, fabric.IntentHold{Reason: reason, Scope: fabric.HoldService, Service: in.namespace + "/" + in.name})
		h.add(reason, fabric.HoldPaths, true)
	case "EndpointSlice":
		h.add(reason, fabric.HoldPaths, true)
	case "BGPPeer":
		h.add(reason, fabric.HoldPeers, false)
		h.add(reason, fabric.HoldFilters, false)
		h.nodeDerived(reason)
	case "BGPConfiguration":
		t.holdBGPConfig(h, reason)
	case "IPPool", "IPAMBlock", "BlockAffinity":
		h.add(reason, fabric.HoldFilters, true)
		h.nodeDerived(reason)
	case "IPAddressPool", "ServiceGroup", "ConfigMap", "Fabric":
		// LoadBalancer pools only give warnings: nothing on the fabric
		// comes from them. A fabric skipped whole plans nothing.
	default:
		// Input that could not even be told apart: anything may have come
		// from it, so nothing may shrink.
		for _, s := range []fabric.HoldScope{fabric.HoldPeers, fabric.HoldFilters, fabric.HoldServices} {
			h.add(reason, s, true)
		}
		h.nodeDerived(reason)
	}
}

// holdBGPConfig holds what the BGPConfiguration decides: the AS numbers of
// nodes without their own (peers), the service ranges (filters, exports)
// and, with them, maximum-paths.
func (t *translator) holdBGPConfig(h *holdKit, reason string) {
	h.add(reason, fabric.HoldPeers, false)
	h.add(reason, fabric.HoldFilters, true)
	h.add(reason, fabric.HoldPaths, true)
	h.add(reason, fabric.HoldExports, true)
}

func (t *translator) allowMissing(kind string) bool {
	return t.cs.Complete || t.opts.AllowMissing["all"] || t.opts.AllowMissing[kind]
}

func missingReason(what, kind string) string {
	return fmt.Sprintf("%s; what came from them is kept (pass --allow-missing %s if the cluster really has none)", what, kind)
}

// holdMissing holds the objects of input kinds that are missing altogether:
// an export that left out a file is not a cluster without those objects.
func (t *translator) holdMissing(h *holdKit) {
	if !t.cs.Has(k8swatch.KindService) && !t.allowMissing(k8swatch.KindService) {
		reason := missingReason("the input holds no Service at all (a real cluster has at least default/kubernetes): was the Services export left out?", k8swatch.KindService)
		h.add(reason, fabric.HoldServices, false)
		h.add(reason, fabric.HoldPaths, true)
	}
	if !t.cs.Has(k8swatch.KindNode) && !t.allowMissing(k8swatch.KindNode) {
		reason := missingReason("the input holds no Node at all: was the Nodes export left out?", k8swatch.KindNode)
		h.add(reason, fabric.HoldPeers, false)
		h.add(reason, fabric.HoldFilters, false)
		h.nodeDerived(reason)
	}
	if !t.cs.Has(k8swatch.KindBGPPeer) && !t.allowMissing(k8swatch.KindBGPPeer) {
		reason := missingReason("the input holds no BGPPeer at all: was the Calico export left out?", k8swatch.KindBGPPeer)
		h.add(reason, fabric.HoldPeers, false)
		h.add(reason, fabric.HoldFilters, false)
		h.nodeDerived(reason)
	}
	if !t.cs.Has(k8swatch.KindBGPConfiguration) && !t.allowMissing(k8swatch.KindBGPConfiguration) {
		t.holdBGPConfig(h, missingReason("the input holds no BGPConfiguration: was the Calico export left out?", k8swatch.KindBGPConfiguration))
	}
	if !t.cs.Has(k8swatch.KindIPPool) && !t.allowMissing(k8swatch.KindIPPool) {
		reason := missingReason("the input holds no IPPool: was the Calico export left out?", k8swatch.KindIPPool)
		h.add(reason, fabric.HoldFilters, true)
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
		h.add(reason, fabric.HoldFilters, true)
		h.nodeDerived(reason)
	}
	locals := false
	for _, s := range t.cs.Services {
		locals = locals || s.ExternalTrafficPolicy == "Local"
	}
	if locals && !t.cs.Has(k8swatch.KindEndpointSlice) && !t.allowMissing(k8swatch.KindEndpointSlice) {
		h.add(missingReason("the input holds Local services but no EndpointSlice: was the EndpointSlices export left out?", k8swatch.KindEndpointSlice),
			fabric.HoldPaths, true)
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
		if _, ok := t.node(n); !ok {
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
		h.holds = append(h.holds, fabric.IntentHold{Reason: reason, Scope: fabric.HoldNode, Node: n})
	}
	h.nodeDerived(reason)
}
