// Package reconciler holds the policy: Translate turns a cluster's state into
// what each configured fabric must hold, and the loop observes, diffs and
// applies.
package reconciler

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/k8swatch/selector"
)

// TranslateOptions are what Translate needs besides the cluster and the
// configuration.
type TranslateOptions struct {
	// Observed is what each fabric holds now, by fabric name (empty for an
	// offline plan). What is in place keeps its place: a newcomer that
	// collides with it (the same BGP address, the same LoadBalancer IP) is
	// the one skipped, and a partial input is recognised against it.
	Observed map[string]fabric.Observed
	// AllowMissing lists input kinds (k8swatch.Kind*, or "all") whose
	// absence from the input is accepted as "there are none": their fabric
	// objects are then deleted instead of held.
	AllowMissing map[string]bool
}

// Translate derives the desired state of every configured fabric from the
// cluster state. It is a pure function: the same inputs give the same output.
// Bad input objects are skipped and listed in Desired.Skipped; they never stop
// the rest, and what the fabric holds for them is held as it is.
func Translate(cs k8swatch.ClusterState, cfg *config.Config, opts TranslateOptions) fabric.Desired {
	t := &translator{cs: cs, cfg: cfg, opts: opts, skippedNodes: map[string]bool{}, skippedServices: map[string]bool{}}
	for _, p := range cs.Problems {
		t.skip(p.Object, p.Reason, p.Source)
	}
	t.checkPrefixes()
	t.peers = t.resolvePeers()
	t.services = t.checkServices()

	var d fabric.Desired
	for i := range cfg.Fabrics {
		f := &cfg.Fabrics[i]
		t.sources = map[fabric.Key][]string{}
		st := t.fabric(f)
		d.Fabrics = append(d.Fabrics, fabric.FabricDesired{Name: f.Name, Driver: f.Driver, State: st, Sources: t.sources,
			Holds: t.holds(f, st)})
	}
	t.warnAdvertisement()
	d.Skipped = dedupeSkips(t.skips)
	d.Warnings = dedupeStrings(t.warnings)
	return d
}

type translator struct {
	cs              k8swatch.ClusterState
	cfg             *config.Config
	opts            TranslateOptions
	peers           []k8swatch.NodePeer
	services        []service
	skips           []fabric.Skip
	warnings        []string
	skippedNodes    map[string]bool
	skippedServices map[string]bool
	// sources collects the provenance of the fabric being translated.
	sources map[fabric.Key][]string
}

// from records that an object came from input objects.
func (t *translator) from(o fabric.Object, inputs ...string) {
	k := fabric.KeyOf(fabric.Canonical(o))
	for _, in := range inputs {
		if !slices.Contains(t.sources[k], in) {
			t.sources[k] = append(t.sources[k], in)
		}
	}
	sort.Strings(t.sources[k])
}

// service is a LoadBalancer service that passed validation, with the names
// its fabric objects get.
type service struct {
	k8swatch.Service
	epg      string // external EPG (ACI)
	contract string // contract (ACI)
	// ownIPs are the IPs whose subnets this service's EPG holds; a service
	// that shares its IPs with an earlier one (MetalLB allow-shared-ip)
	// provides its contract from that service's EPG instead.
	ownIPs   []netip.Addr
	provider string
}

func (t *translator) skip(object, reason, source string) {
	if source != "" {
		reason += " (" + source + ")"
	}
	t.skips = append(t.skips, fabric.Skip{Object: object, Reason: reason})
}

func (t *translator) warn(format string, a ...any) {
	t.warnings = append(t.warnings, fmt.Sprintf(format, a...))
}

// resolvePeers applies Calico's peer semantics, then drops nodes whose BGP
// address another node also claims: a duplicate IP cannot be peered safely.
func (t *translator) resolvePeers() []k8swatch.NodePeer {
	peers, problems := t.cs.ResolvePeers()
	badNodes := map[string]bool{}
	for _, p := range t.cs.Problems {
		if in := parseObject(p.Object); in.kind == "Node" {
			badNodes[in.name] = true
		}
	}
	for _, p := range problems {
		// A peer of a node that was itself skipped is not a peer of a
		// missing node: say so.
		if bp, ok := t.cs.BGPPeer(parseObject(p.Object).name); ok && bp.Node != "" && badNodes[bp.Node] {
			p.Reason = fmt.Sprintf("spec.node %q was skipped as bad input (see Node/%s)", bp.Node, bp.Node)
		}
		t.skip(p.Object, p.Reason, p.Source)
	}
	owners := map[netip.Addr][]string{}
	for _, n := range t.cs.Nodes {
		for _, a := range []netip.Prefix{n.BGP.IPv4Address, n.BGP.IPv6Address} {
			if a.IsValid() {
				owners[a.Addr()] = append(owners[a.Addr()], n.Name)
			}
		}
	}
	peered := t.peeredNodes()
	for _, n := range t.cs.Nodes {
		if errs := validation.IsDNS1123Subdomain(n.Name); len(errs) > 0 {
			t.skippedNodes[n.Name] = true
			t.skip("Node/"+n.Name, "invalid node name: "+strings.Join(errs, "; "), "")
			continue
		}
		for _, a := range []netip.Prefix{n.BGP.IPv4Address, n.BGP.IPv6Address} {
			if !a.IsValid() || len(owners[a.Addr()]) < 2 {
				continue
			}
			var others []string
			for _, o := range owners[a.Addr()] {
				if o != n.Name {
					others = append(others, o)
				}
			}
			// The node the fabric already peers with at this address keeps
			// it; only a newcomer is left out.
			holder, established := peered[a.Addr()]
			if established && slices.Contains(owners[a.Addr()], holder) {
				if holder == n.Name {
					continue
				}
				t.skippedNodes[n.Name] = true
				t.skip("Node/"+n.Name, fmt.Sprintf("BGP address %s is already peered on the fabric for node %s; this node is left out until its address changes",
					a.Addr(), holder), "")
				continue
			}
			t.skippedNodes[n.Name] = true
			t.skip("Node/"+n.Name, fmt.Sprintf("BGP address %s is also claimed by node %s; no peer is configured for either",
				a.Addr(), strings.Join(others, ", ")), "")
		}
	}
	var out []k8swatch.NodePeer
	for _, p := range peers {
		if !t.skippedNodes[p.Node] {
			out = append(out, p)
		}
	}
	return out
}

// checkServices decides who owns each LoadBalancer IP. When services claim
// one IP, the one created first keeps it and the later ones are skipped: a
// newcomer must not take an established service's fabric objects down. When
// their ages cannot tell them apart, all are skipped. Services that share an
// IP on purpose (the same MetalLB allow-shared-ip key) are not a conflict.
func (t *translator) checkServices() []service {
	byIP := map[netip.Addr][]k8swatch.Service{}
	var ips []netip.Addr
	for _, s := range t.cs.Services {
		for _, ip := range s.IPs {
			if byIP[ip] == nil {
				ips = append(ips, ip)
			}
			byIP[ip] = append(byIP[ip], s)
		}
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	ipOwner := map[netip.Addr]string{} // IP -> service key whose EPG holds it
	for _, ip := range ips {
		svcs := byIP[ip]
		if len(svcs) == 1 {
			ipOwner[ip] = svcs[0].Key()
			continue
		}
		shared := svcs[0].SharingKey != ""
		for _, s := range svcs[1:] {
			if s.SharingKey != svcs[0].SharingKey {
				shared = false
			}
		}
		if shared {
			ipOwner[ip] = svcs[0].Key() // services are sorted by key
			continue
		}
		sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].Created.Before(svcs[j].Created) })
		holder := t.establishedService(ip, svcs)
		if holder == "" && !svcs[0].Created.IsZero() && svcs[0].Created.Before(svcs[1].Created) {
			holder = svcs[0].Key()
		}
		if holder != "" {
			ipOwner[ip] = holder
		}
		for _, s := range svcs {
			if s.Key() == holder {
				continue
			}
			var others []string
			for _, o := range svcs {
				if o.Key() != s.Key() {
					others = append(others, o.Key())
				}
			}
			t.skippedServices[s.Key()] = true
			reason := fmt.Sprintf("LoadBalancer IP %s is already used by Service/%s, created earlier or already in place on the fabric", ip, holder)
			if holder == "" {
				reason = fmt.Sprintf("LoadBalancer IP %s is also used by %s and their creation times cannot tell which holds it; none gets fabric objects until one is moved",
					ip, strings.Join(others, ", "))
			}
			t.skip("Service/"+s.Key(), reason, "")
		}
	}
	var out []service
	for _, s := range t.cs.Services {
		if t.skippedServices[s.Key()] {
			continue
		}
		svc := service{Service: s}
		for _, ip := range s.IPs {
			if ipOwner[ip] == s.Key() {
				svc.ownIPs = append(svc.ownIPs, ip)
			}
		}
		out = append(out, svc)
	}
	return out
}

// aciNames gives each service its EPG and contract names for one fabric and
// skips services whose names collide or cannot be made valid.
func (t *translator) aciNames(aci *config.ACI) []service {
	svcs := append([]service(nil), t.services...)
	epgOwner, cntOwner := map[string]string{}, map[string]string{}
	var out []service
	for i := range svcs {
		s := &svcs[i]
		var err error
		if s.epg, err = expandTemplate(aci.ExternalEPGs.Service, s.Namespace, s.Name); err != nil {
			t.skip("Service/"+s.Key(), "external EPG name: "+err.Error(), "")
			continue
		}
		if s.contract, err = expandTemplate(aci.Contract, s.Namespace, s.Name); err != nil {
			t.skip("Service/"+s.Key(), "contract name: "+err.Error(), "")
			continue
		}
		if prev, dup := epgOwner[s.epg]; dup {
			t.skip("Service/"+s.Key(), fmt.Sprintf("external EPG name %s is already used by Service/%s (add {namespace} to the externalEPGs.service template)", s.epg, prev), "")
			continue
		}
		if prev, dup := cntOwner[s.contract]; dup {
			t.skip("Service/"+s.Key(), fmt.Sprintf("contract name %s is already used by Service/%s (add {namespace} to the contract template)", s.contract, prev), "")
			continue
		}
		for _, reserved := range []string{aci.ExternalEPGs.Nodes, aci.ExternalEPGs.Pods} {
			if s.epg == reserved {
				err = fmt.Errorf("external EPG name %s is the cluster's %s EPG", s.epg, reserved)
			}
		}
		if err != nil {
			t.skip("Service/"+s.Key(), err.Error(), "")
			continue
		}
		epgOwner[s.epg], cntOwner[s.contract] = s.Key(), s.Key()
		out = append(out, *s)
	}
	// A service that owns none of its IPs provides from the owner's EPG.
	epgOf := map[netip.Addr]string{}
	for _, s := range out {
		for _, ip := range s.ownIPs {
			epgOf[ip] = s.epg
		}
	}
	for i := range out {
		out[i].provider = out[i].epg
		if len(out[i].ownIPs) == 0 && len(out[i].IPs) > 0 {
			out[i].provider = epgOf[out[i].IPs[0]]
		}
	}
	return out
}

// fabricPeer is a node session that lands on one switch of the fabric.
type fabricPeer struct {
	k8swatch.NodePeer
	sw  config.Switch
	asn uint32 // the switch's AS
}

func family(ipv6 bool) fabric.AddressFamily {
	if ipv6 {
		return fabric.IPv6
	}
	return fabric.IPv4
}

func (t *translator) fabric(f *config.Fabric) fabric.State {
	var st fabric.State
	switchOf := map[netip.Addr]config.Switch{}
	for _, s := range f.Switches {
		for _, ip := range s.PeerIPs {
			a, _ := netip.ParseAddr(ip)
			switchOf[a.Unmap()] = s
		}
	}
	var fps []fabricPeer
	for _, p := range t.peers {
		sw, ok := switchOf[p.PeerIP]
		if !ok {
			continue
		}
		fp := fabricPeer{NodePeer: p, sw: sw, asn: f.SwitchASN(sw)}
		if p.PeerASN != fp.asn {
			t.warn("BGPPeer %s gives node %s peer %s in AS %d, but switch %s is in AS %d: the switch presents AS %d to that node (local-as)",
				p.BGPPeer, p.Node, p.PeerIP, p.PeerASN, sw.Name, fp.asn, p.PeerASN)
		}
		fps = append(fps, fp)
	}
	fps = t.dedupeSessions(f, fps)
	for _, fp := range fps {
		p := fabric.BGPPeer{Switch: fp.sw.Name, Node: fp.Node, PeerAddress: fp.NodeAddress.Addr().String(),
			RemoteASN: fp.NodeASN, LocalASN: fp.PeerASN, AddressFamily: family(fp.IPv6)}
		t.from(p, "Node/"+fp.Node, "BGPPeer/"+fp.BGPPeer)
		st.Peers = append(st.Peers, p)
	}

	switch f.Driver {
	case config.DriverACI:
		t.aciObjects(f, fps, &st)
		st.MaximumPaths = t.maximumPaths(f, fps, true)
	default:
		if !f.PrefixFilter.Disabled {
			st.PrefixFilters = t.prefixFilters(fps)
		}
		st.MaximumPaths = t.maximumPaths(f, fps, false)
	}
	for _, m := range st.MaximumPaths {
		t.from(m, "Node/*", "Service/*", "BGPConfiguration/default")
	}
	return st
}

// dedupeSessions keeps one session per (switch, node address): a node that
// reaches one switch through two of its peer IPs gets one neighbor.
func (t *translator) dedupeSessions(f *config.Fabric, fps []fabricPeer) []fabricPeer {
	type key struct {
		sw   string
		addr netip.Addr
	}
	seen := map[key]fabricPeer{}
	var out []fabricPeer
	for _, fp := range fps {
		k := key{fp.sw.Name, fp.NodeAddress.Addr()}
		if prev, dup := seen[k]; dup {
			if prev.PeerASN != fp.PeerASN {
				t.skip("BGPPeer/"+fp.BGPPeer, fmt.Sprintf("node %s reaches switch %s (fabric %s) through BGPPeer %s with AS %d already; this AS %d is ignored",
					fp.Node, fp.sw.Name, f.Name, prev.BGPPeer, prev.PeerASN, fp.PeerASN), "")
			}
			continue
		}
		seen[k] = fp
		out = append(out, fp)
	}
	return out
}

// aciObjects adds the external subnets and contracts of an ACI fabric.
func (t *translator) aciObjects(f *config.Fabric, fps []fabricPeer, st *fabric.State) {
	aci := f.ACI
	group := func(ref string) string {
		l3out, epg, _ := config.SplitEPG(ref)
		if l3out == "" || l3out == aci.L3Out {
			return epg
		}
		return l3out + "/" + epg
	}
	subnets := map[string]fabric.ExternalSubnet{}
	subnetSources := map[string][]string{}
	add := func(g string, p netip.Prefix, scope fabric.Scope, sources ...string) {
		id := g + "/" + p.String()
		s := subnets[id]
		s.Group, s.Prefix = g, p.String()
		s.Scopes = append(s.Scopes, scope)
		subnets[id] = s
		subnetSources[id] = append(subnetSources[id], sources...)
	}
	transit := ""
	if aci.ExternalEPGs.TransitExport != "" {
		transit = group(aci.ExternalEPGs.TransitExport)
	}
	exported := map[netip.Prefix]bool{}
	export := func(p netip.Prefix, sources ...string) {
		switch {
		case transit == "":
		case !exported[p]:
			exported[p] = true
			add(transit, p, fabric.ScopeExportRtctrl, sources...)
		default:
			id := transit + "/" + p.String()
			subnetSources[id] = append(subnetSources[id], sources...)
		}
	}

	// Nodes: the subnets of the peering nodes' BGP addresses.
	peering := map[string]bool{}
	for _, fp := range fps {
		peering[fp.Node] = true
		p := fp.NodeAddress.Masked()
		add(aci.ExternalEPGs.Nodes, p, fabric.ScopeImportSecurity, "Node/"+fp.Node)
		export(p, "Node/"+fp.Node)
	}
	if len(fps) == 0 {
		return // no node reaches this fabric: nothing to classify or offer
	}

	// Pods: the workload pools, or each peering node's blocks.
	for _, pool := range t.cs.IPPools {
		if !pool.ForWorkloads() {
			continue
		}
		if aci.ExternalEPGs.PodSubnets == "pools" {
			add(aci.ExternalEPGs.Pods, pool.CIDR, fabric.ScopeImportSecurity, "IPPool/"+pool.Name)
		}
		if !pool.DisableBGPExport {
			export(pool.CIDR, "IPPool/"+pool.Name)
		}
	}
	if aci.ExternalEPGs.PodSubnets == "blocks" {
		for _, b := range t.cs.Blocks {
			if peering[b.Node] && !t.skippedNodes[b.Node] {
				add(aci.ExternalEPGs.Pods, b.CIDR, fabric.ScopeImportSecurity, "IPAMBlock/*", "Node/"+b.Node)
			}
		}
	}
	for _, p := range t.serviceRanges() {
		export(p, "BGPConfiguration/default")
	}

	// One external EPG and one contract per LoadBalancer service.
	consumers := make([]string, 0, len(aci.Consumers))
	for _, c := range aci.Consumers {
		consumers = append(consumers, group(c))
	}
	for _, s := range t.aciNames(aci) {
		for _, ip := range s.ownIPs {
			add(s.epg, netip.PrefixFrom(ip, ip.BitLen()), fabric.ScopeImportSecurity, "Service/"+s.Key())
		}
		if len(s.IPs) == 0 || len(s.Ports) == 0 || s.provider == "" {
			continue
		}
		c := fabric.Contract{Name: s.contract, Provider: s.provider, Consumers: consumers}
		for _, p := range s.Ports {
			c.Entries = append(c.Entries, fabric.ContractEntry{Protocol: strings.ToLower(p.Protocol), Port: p.Port})
		}
		t.from(c, "Service/"+s.Key())
		st.Contracts = append(st.Contracts, c)
	}

	ids := make([]string, 0, len(subnets))
	for id := range subnets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		st.Subnets = append(st.Subnets, subnets[id])
		t.from(subnets[id], subnetSources[id]...)
	}
}

// serviceRanges are the ranges Calico advertises from every node: the
// BGPConfiguration service CIDRs, and pools that hold LoadBalancer addresses
// (Calico LB IPAM, or disabled pools used as export filters as PureLB does).
func (t *translator) serviceRanges() []netip.Prefix {
	c := t.cs.BGPConfig
	var out []netip.Prefix
	out = append(out, c.ServiceLoadBalancerIPs...)
	out = append(out, c.ServiceClusterIPs...)
	out = append(out, c.ServiceExternalIPs...)
	for _, p := range t.cs.IPPools {
		if p.ForLoadBalancers() && !p.DisableBGPExport {
			out = append(out, p.CIDR)
		}
	}
	return out
}

// advertised reports whether Calico advertises a LoadBalancer IP at all.
func (t *translator) advertised(ip netip.Addr) bool {
	for _, r := range t.cs.BGPConfig.ServiceLoadBalancerIPs {
		if r.Contains(ip) {
			return true
		}
	}
	for _, r := range t.cs.BGPConfig.ServiceExternalIPs {
		if r.Contains(ip) {
			return true
		}
	}
	for _, p := range t.cs.IPPools {
		if p.ForLoadBalancers() && !p.DisableBGPExport && p.CIDR.Contains(ip) {
			return true
		}
	}
	return false
}

// prefixFilters gives each session the prefixes the node may advertise: its
// pod addresses (podRules) and the service ranges with any more specific
// prefix. Everything else is denied.
func (t *translator) prefixFilters(fps []fabricPeer) []fabric.PrefixFilter {
	var out []fabric.PrefixFilter
	ranges := t.serviceRanges()
	for _, fp := range fps {
		af := family(fp.IPv6)
		f := fabric.PrefixFilter{Switch: fp.sw.Name, Node: fp.Node, PeerAddress: fp.NodeAddress.Addr().String()}
		for _, r := range t.podRules(fp.Node) {
			if p := netip.MustParsePrefix(r.Prefix); p.Addr().Is6() == fp.IPv6 {
				f.Prefixes = append(f.Prefixes, r)
			}
		}
		for _, p := range ranges {
			if p.Addr().Is6() == fp.IPv6 {
				f.Prefixes = append(f.Prefixes, fabric.PrefixRule{Prefix: p.String(), LE: af.MaxPrefixLen()})
			}
		}
		t.from(f, "Node/"+fp.Node)
		t.from(f, t.podSources(fp.Node)...)
		if len(ranges) > 0 {
			t.from(f, "BGPConfiguration/default")
		}
		out = append(out, f)
	}
	return out
}

// podRules are the pod prefixes a node may advertise. With Calico IPAM (the
// default): its IPAM blocks exactly; a node without blocks yet gets the
// enabled pools that may give it one, up to the block size (Calico hands a
// node a new block whenever it needs one, and a node may send any block of
// the pool). Never the node's Kubernetes podCIDR: Calico IPAM does not use
// it, so a filter built from it refuses the routes Calico really sends.
// With host-local IPAM: the node's podCIDRs exactly.
func (t *translator) podRules(node string) []fabric.PrefixRule {
	var out []fabric.PrefixRule
	if t.cfg.IPAM == config.IPAMHostLocal {
		if n, ok := t.cs.Node(node); ok {
			for _, p := range n.PodCIDRs {
				out = append(out, fabric.PrefixRule{Prefix: p.String(), LE: p.Bits()})
			}
		}
		return out
	}
	for _, p := range t.cs.NodeBlocks(node) {
		out = append(out, fabric.PrefixRule{Prefix: p.String(), LE: p.Bits()})
	}
	if len(out) > 0 {
		return out
	}
	n, _ := t.cs.Node(node)
	for _, pool := range t.cs.IPPools {
		if !pool.ForWorkloads() || pool.BlockSize < pool.CIDR.Bits() || !poolSelects(pool, n) {
			continue
		}
		out = append(out, fabric.PrefixRule{Prefix: pool.CIDR.String(), LE: pool.BlockSize})
	}
	return out
}

func (t *translator) podSources(node string) []string {
	if t.cfg.IPAM == config.IPAMHostLocal {
		return []string{"Node/" + node}
	}
	if len(t.cs.NodeBlocks(node)) > 0 {
		return []string{"IPAMBlock/*"}
	}
	var out []string
	for _, pool := range t.cs.IPPools {
		out = append(out, "IPPool/"+pool.Name)
	}
	return out
}

// poolSelects reports whether an IP pool may give blocks to a node.
func poolSelects(p k8swatch.IPPool, n k8swatch.Node) bool {
	sel, err := selector.Parse(p.NodeSelector)
	if err != nil {
		return false
	}
	return sel.Matches(n.Labels)
}

// maximumPaths derives how many equal-cost paths each switch needs: the
// largest number of its peering nodes that advertise one prefix. Service
// ranges and Cluster-policy services are advertised by every node; a Local
// service only by nodes with a ready endpoint; a pod block by one node. ACI
// sets it once per VRF, so fabricWide takes the largest over all switches.
func (t *translator) maximumPaths(f *config.Fabric, fps []fabricPeer, fabricWide bool) []fabric.MaximumPaths {
	if f.MaximumPaths.Mode == "off" {
		return nil
	}
	type swaf struct {
		sw string
		af fabric.AddressFamily
	}
	nodes := map[swaf]map[string]bool{}
	var order []swaf
	for _, fp := range fps {
		k := swaf{fp.sw.Name, family(fp.IPv6)}
		if nodes[k] == nil {
			nodes[k] = map[string]bool{}
			order = append(order, k)
		}
		nodes[k][fp.Node] = true
	}
	hasRange := map[fabric.AddressFamily]bool{}
	for _, p := range t.serviceRanges() {
		hasRange[family(p.Addr().Is6())] = true
	}
	paths := map[swaf]int{}
	for _, k := range order {
		n := 1
		if hasRange[k.af] {
			n = len(nodes[k])
		}
		for _, s := range t.services {
			for _, ip := range s.IPs {
				if family(ip.Is6()) != k.af || !t.advertised(ip) {
					continue
				}
				count := len(nodes[k])
				if s.ExternalTrafficPolicy == "Local" {
					count = 0
					for _, en := range s.EndpointNodes {
						if nodes[k][en] {
							count++
						}
					}
				}
				n = max(n, count)
			}
		}
		if f.MaximumPaths.Mode == "fixed" {
			n = f.MaximumPaths.Paths
		}
		paths[k] = min(n, f.MaximumPaths.Limit)
	}
	var out []fabric.MaximumPaths
	if fabricWide {
		best := map[fabric.AddressFamily]int{}
		for k, n := range paths {
			best[k.af] = max(best[k.af], n)
		}
		for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
			if n, ok := best[af]; ok {
				out = append(out, fabric.MaximumPaths{AddressFamily: af, Paths: n})
			}
		}
		return out
	}
	for _, k := range order {
		out = append(out, fabric.MaximumPaths{Switch: k.sw, AddressFamily: k.af, Paths: paths[k]})
	}
	return out
}

// warnAdvertisement reports cluster set-ups that leave a LoadBalancer
// address unreachable no matter what the fabric holds (seed 001's list).
func (t *translator) warnAdvertisement() {
	for _, s := range t.services {
		for _, ip := range s.IPs {
			if !t.advertised(ip) {
				t.warn("Service/%s: LoadBalancer IP %s is outside every BGPConfiguration serviceLoadBalancerIPs CIDR, so Calico does not advertise it", s.Key(), ip)
			}
			if b := ip.As16(); ip.Is4() && (b[15] == 0 || b[15] == 255) {
				t.warn("Service/%s: LoadBalancer IP %s ends in .%d, which some routers and clients drop; set avoidBuggyIPs on the pool", s.Key(), ip, b[15])
			}
		}
		if s.ExternalTrafficPolicy == "Local" && len(s.IPs) > 0 && len(s.EndpointNodes) == 0 {
			t.warn("Service/%s: externalTrafficPolicy Local with no ready endpoint, so no node advertises %s", s.Key(), s.IPs[0])
		}
	}
	for _, pool := range t.cs.LBPools {
		for _, p := range pool.Prefixes {
			covered := false
			for _, r := range t.serviceRanges() {
				if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
					covered = true
				}
			}
			if !covered {
				t.warn("%s pool %s: %s is not inside BGPConfiguration serviceLoadBalancerIPs (or an exported Calico IP pool), so Calico will not advertise its addresses",
					poolKind(pool.Source), poolName(pool), p)
			}
		}
	}
}

func poolKind(source string) string {
	switch source {
	case "metallb":
		return "MetalLB IPAddressPool"
	case "metallb-configmap":
		return "MetalLB ConfigMap address-pool"
	case "purelb":
		return "PureLB ServiceGroup"
	}
	return source
}

func poolName(p k8swatch.LBPool) string {
	if p.Namespace != "" && p.Source != "metallb-configmap" {
		return p.Namespace + "/" + p.Name
	}
	return p.Name
}

// dedupeSkips sorts skips and drops repeats (a service is checked once per
// ACI fabric).
func dedupeSkips(skips []fabric.Skip) []fabric.Skip {
	sort.SliceStable(skips, func(i, j int) bool { return skips[i].Object < skips[j].Object })
	seen := map[fabric.Skip]bool{}
	out := []fabric.Skip{}
	for _, s := range skips {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func dedupeStrings(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
