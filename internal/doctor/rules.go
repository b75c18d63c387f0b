package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
)

// The rules' ids. They are stable: scripts and dashboards key on them.
const (
	RuleLBPoolNotAdvertised          = "lb-pool-not-advertised"
	RuleAdvertisedRangeWithoutPool   = "advertised-range-without-pool"
	RuleLBPoolBuggyIPs               = "lb-pool-buggy-ips"
	RuleServiceBuggyIP               = "service-buggy-ip"
	RuleLBIPNotAdvertised            = "lb-ip-not-advertised"
	RuleLocalServiceWithoutEndpoints = "local-service-without-endpoints"
	RuleLocalServiceAggregateOnly    = "local-service-aggregate-only"
	RuleNodeMeshWithFabricPeers      = "node-mesh-with-fabric-peers"
	RuleMetalLBPeerOnFabricSwitch    = "metallb-peer-on-fabric-switch"
	RuleMetalLBPeerElsewhere         = "metallb-peer-elsewhere"
	RuleMetalLBAdvertisement         = "metallb-bgp-advertisement"
	RuleIPPoolOverlapsNodes          = "ip-pool-overlaps-nodes"
	RuleIPPoolOverlapsServiceRange   = "ip-pool-overlaps-service-range"
	RuleMaximumPathsBelowAdvertisers = "maximum-paths-below-advertisers"
	RuleMaximumPathsUnmanaged        = "maximum-paths-unmanaged"
	RuleMultipathRelaxUnmanaged      = "multipath-relax-unmanaged"
	RuleBGPPeerUnknownSwitch         = "bgppeer-unknown-switch"
	RuleNodeMissingSwitchPeer        = "node-missing-switch-peer"
	RuleNodeWithoutFabricPeer        = "node-without-fabric-peer"
	RuleHoldTimeSlow                 = "hold-time-slow"
	RuleHoldTimeDefault              = "hold-time-default"
	RuleBGPPeerSecretMissing         = "bgppeer-password-secret-missing"
	RuleInputSkipped                 = "input-skipped"
)

// SlowHoldTime is the longest BGP hold time (seconds) doctor accepts
// without a warning: a node that dies without closing its sessions keeps
// attracting traffic until the hold time runs out.
const SlowHoldTime = 30

// Rule describes one check.
type Rule struct {
	ID string `json:"id"`
	// Severity is the worst the rule reports.
	Severity Severity `json:"severity"`
	What     string   `json:"what"`
}

type rule struct {
	Rule
	check func(*checker)
}

var rules = []rule{
	{Rule{RuleLBPoolNotAdvertised, Error, "a MetalLB or PureLB pool (a part of it) outside serviceLoadBalancerIPs and every exported LoadBalancer IP pool: Calico never advertises its addresses"}, lbPoolNotAdvertised},
	{Rule{RuleAdvertisedRangeWithoutPool, Warning, "a serviceLoadBalancerIPs range no LoadBalancer pool and no Service address is in: every node attracts traffic for addresses nobody assigns"}, advertisedRangeWithoutPool},
	{Rule{RuleLBPoolBuggyIPs, Warning, "a LoadBalancer pool that can hand out an address ending in .0 or .255 (no avoidBuggyIPs)"}, lbPoolBuggyIPs},
	{Rule{RuleServiceBuggyIP, Warning, "a Service that already holds an address ending in .0 or .255"}, serviceBuggyIP},
	{Rule{RuleLBIPNotAdvertised, Error, "a Service's LoadBalancer address Calico does not advertise"}, lbIPNotAdvertised},
	{Rule{RuleLocalServiceWithoutEndpoints, Warning, "an externalTrafficPolicy Local Service without a ready endpoint: no node advertises its address"}, localServiceWithoutEndpoints},
	{Rule{RuleLocalServiceAggregateOnly, Warning, "an externalTrafficPolicy Local Service whose /32 Calico does not advertise while an aggregate covers it: part of its traffic goes to nodes without an endpoint"}, localServiceAggregateOnly},
	{Rule{RuleNodeMeshWithFabricPeers, Warning, "nodeToNodeMeshEnabled on (Calico's default) while the nodes peer with the fabric"}, nodeMeshWithFabricPeers},
	{Rule{RuleMetalLBPeerOnFabricSwitch, Error, "a MetalLB BGP peer on a router Calico already peers with: only one of them can hold the session"}, metalLBPeers},
	{Rule{RuleMetalLBPeerElsewhere, Info, "a MetalLB BGP peer on a router Calico does not peer with (the spine workaround): not managed here"}, nil},
	{Rule{RuleMetalLBAdvertisement, Warning, "a MetalLB BGPAdvertisement while Calico advertises the LoadBalancer addresses"}, metalLBAdvertisements},
	{Rule{RuleIPPoolOverlapsNodes, Error, "an enabled IP pool overlapping the nodes' subnet (Calico's default 192.168.0.0/16 pool trap)"}, ipPoolOverlaps},
	{Rule{RuleIPPoolOverlapsServiceRange, Error, "a pod IP pool overlapping a service range or a LoadBalancer pool"}, nil},
	{Rule{RuleMaximumPathsBelowAdvertisers, Warning, "maximum-paths (fixed, or its limit) below the number of nodes that advertise one prefix to a switch"}, maximumPaths},
	{Rule{RuleMaximumPathsUnmanaged, Info, "maximum-paths not managed (mode off) while several nodes advertise one prefix"}, nil},
	{Rule{RuleMultipathRelaxUnmanaged, Info, "nodes in different AS numbers advertise one prefix to a switch whose AS-path multipath relax the driver does not set"}, nil},
	{Rule{RuleBGPPeerUnknownSwitch, Warning, "a Calico BGPPeer whose peerIP designates no configured switch"}, bgpPeerUnknownSwitch},
	{Rule{RuleNodeMissingSwitchPeer, Warning, "a node with no session to a switch of its rack (or to one of its fabric's switches)"}, nodeSwitchPeers},
	{Rule{RuleNodeWithoutFabricPeer, Warning, "a BGP node that peers with no configured switch while other nodes do"}, nil},
	{Rule{RuleHoldTimeSlow, Warning, fmt.Sprintf("a fabric's BGP hold time above %d s: failover waits that long for a node that dies silently", SlowHoldTime)}, holdTime},
	{Rule{RuleHoldTimeDefault, Info, "a fabric's BGP hold time not set: the platforms' default applies (180 s on NX-OS, ACI and FRR's traditional profile)"}, nil},
	{Rule{RuleBGPPeerSecretMissing, Error, "a BGPPeer whose password Secret (or its key) does not exist"}, bgpPeerSecrets},
	{Rule{RuleInputSkipped, Error, "an input object left out as malformed (plan lists it under Skipped)"}, inputSkipped},
}

// Rules lists every rule doctor runs.
func Rules() []Rule {
	var out []Rule
	for _, r := range rules {
		out = append(out, r.Rule)
	}
	return out
}

// lbRanges are the ranges that make Calico advertise LoadBalancer
// addresses, and where each is configured.
func (c *checker) lbRanges() []netip.Prefix {
	var out []netip.Prefix
	out = append(out, c.cs.BGPConfig.ServiceLoadBalancerIPs...)
	out = append(out, c.cs.BGPConfig.ServiceExternalIPs...)
	out = append(out, c.cs.LoadBalancerPoolRanges()...)
	return out
}

func lbPoolNotAdvertised(c *checker) {
	for _, pool := range c.cs.LBPools {
		for _, p := range pool.Prefixes {
			covered := false
			for _, r := range c.lbRanges() {
				covered = covered || covers(r, p)
			}
			if covered {
				continue
			}
			c.add(RuleLBPoolNotAdvertised, Error, []Object{lbPoolObj(pool), bgpConfigObj()},
				fmt.Sprintf("add %s to spec.serviceLoadBalancerIPs of BGPConfiguration default (Calico then advertises it from every node), or shrink the pool to the advertised ranges", p),
				"%s: %s is not inside BGPConfiguration serviceLoadBalancerIPs (or an exported Calico IP pool), so Calico does not advertise the addresses it hands out", lbPoolName(pool), p)
		}
	}
}

func advertisedRangeWithoutPool(c *checker) {
	var pools []netip.Prefix
	for _, pool := range c.cs.LBPools {
		pools = append(pools, pool.Prefixes...)
	}
	pools = append(pools, c.cs.LoadBalancerPoolRanges()...)
	if len(pools) == 0 {
		return // no pool in the input: nothing to compare with
	}
	for _, r := range c.cs.BGPConfig.ServiceLoadBalancerIPs {
		used := false
		for _, p := range pools {
			used = used || r.Overlaps(p)
		}
		for _, s := range c.cs.Services {
			for _, ip := range s.IPs {
				used = used || r.Contains(ip)
			}
		}
		if used {
			continue
		}
		c.add(RuleAdvertisedRangeWithoutPool, Warning, []Object{bgpConfigObj()},
			fmt.Sprintf("remove %s from serviceLoadBalancerIPs, or give MetalLB (or PureLB) a pool inside it", r),
			"BGPConfiguration default advertises %s (serviceLoadBalancerIPs) from every node, but no LoadBalancer pool and no Service address is inside it: the fabric sends the cluster traffic for addresses nobody assigns", r)
	}
}

// buggyIPs reports whether a prefix holds an IPv4 address ending in .0
// or .255.
func buggyIPs(p netip.Prefix) bool {
	if !p.Addr().Is4() {
		return false
	}
	if p.Bits() <= 24 {
		return true
	}
	first, last := p.Masked().Addr().As4(), lastAddr(p).As4()
	return first[3] == 0 || last[3] == 255
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func isBuggyIP(ip netip.Addr) (byte, bool) {
	if !ip.Is4() {
		return 0, false
	}
	b := ip.As4()
	return b[3], b[3] == 0 || b[3] == 255
}

func lbPoolBuggyIPs(c *checker) {
	for _, pool := range c.cs.LBPools {
		if pool.AvoidBuggyIPs || !pool.AutoAssign {
			continue
		}
		var bad []netip.Prefix
		for _, p := range pool.Prefixes {
			if buggyIPs(p) {
				bad = append(bad, p)
			}
		}
		if len(bad) == 0 {
			continue
		}
		fix := "set avoidBuggyIPs: true on the pool (MetalLB then skips .0 and .255)"
		switch pool.Source {
		case "metallb-configmap":
			fix = "set avoid-buggy-ips: true on the address pool (MetalLB then skips .0 and .255)"
		case "purelb":
			fix = "write the pool as a range without the .0 and .255 addresses (for example 10.208.1.1-10.208.1.254)"
		}
		c.add(RuleLBPoolBuggyIPs, Warning, []Object{lbPoolObj(pool)}, fix,
			"%s can hand out addresses ending in .0 or .255 (%s), which some routers and clients treat as network or broadcast addresses and drop", lbPoolName(pool), prefixList(bad))
	}
}

func serviceBuggyIP(c *checker) {
	for _, s := range c.cs.Services {
		for _, ip := range s.IPs {
			if last, bad := isBuggyIP(ip); bad {
				c.add(RuleServiceBuggyIP, Warning, []Object{serviceObj(s)},
					"give the Service another address: MetalLB does not move an assigned address when the pool changes, so recreate the Service (or set spec.loadBalancerIP) after setting avoidBuggyIPs on its pool",
					"Service %s holds LoadBalancer IP %s, ending in .%d, which some routers and clients drop", s.Key(), ip, last)
			}
		}
	}
}

func lbIPNotAdvertised(c *checker) {
	for _, s := range c.cs.Services {
		for _, ip := range s.IPs {
			if c.cs.AdvertisesLoadBalancerIP(ip) {
				continue
			}
			c.add(RuleLBIPNotAdvertised, Error, []Object{serviceObj(s), bgpConfigObj()},
				fmt.Sprintf("add a range holding %s to spec.serviceLoadBalancerIPs of BGPConfiguration default (and keep the LoadBalancer pool inside the advertised ranges)", ip),
				"Service %s: LoadBalancer IP %s is outside every BGPConfiguration serviceLoadBalancerIPs CIDR, so Calico does not advertise it and the fabric has no route to it", s.Key(), ip)
		}
	}
}

func localServiceWithoutEndpoints(c *checker) {
	for _, s := range c.cs.Services {
		if s.ExternalTrafficPolicy != "Local" || len(s.IPs) == 0 || len(s.EndpointNodes) > 0 {
			continue
		}
		c.add(RuleLocalServiceWithoutEndpoints, Warning, []Object{serviceObj(s)},
			"give the Service a ready endpoint (check its pods and selector), or set externalTrafficPolicy: Cluster",
			"Service %s: externalTrafficPolicy Local with no ready endpoint, so no node advertises %s; traffic that reaches the cluster through an aggregate is dropped", s.Key(), s.IPs[0])
	}
}

// perAddress reports whether Calico (or PureLB) advertises a Local
// service's address as a /32 from the nodes with an endpoint, and the
// aggregate that covers it otherwise.
func (c *checker) perAddress(ip netip.Addr) (bool, netip.Prefix) {
	for _, r := range c.cs.BGPConfig.ServiceLoadBalancerIPs {
		if r.Contains(ip) {
			return true, netip.Prefix{}
		}
	}
	for _, pool := range c.cs.LBPools {
		if pool.Source != "purelb" {
			continue
		}
		for _, p := range pool.Prefixes {
			if p.Contains(ip) && pool.Aggregation == "/32" {
				return true, netip.Prefix{}
			}
			if p.Contains(ip) {
				// PureLB puts the address on kube-lb0 with the pool's
				// mask: Calico exports the subnet, not the address.
				return false, p
			}
		}
	}
	for _, r := range c.cs.BGPConfig.ServiceExternalIPs {
		if r.Contains(ip) && r.Bits() < ip.BitLen() {
			return false, r
		}
	}
	return true, netip.Prefix{}
}

func localServiceAggregateOnly(c *checker) {
	for _, s := range c.cs.Services {
		if s.ExternalTrafficPolicy != "Local" || len(s.EndpointNodes) == 0 {
			continue
		}
		for _, ip := range s.IPs {
			if !c.cs.AdvertisesLoadBalancerIP(ip) {
				continue
			}
			ok, agg := c.perAddress(ip)
			if ok {
				continue
			}
			c.add(RuleLocalServiceAggregateOnly, Warning, []Object{serviceObj(s), bgpConfigObj()},
				fmt.Sprintf("put %s inside spec.serviceLoadBalancerIPs of BGPConfiguration default (Calico then advertises %s/32 from the nodes with an endpoint only), or set externalTrafficPolicy: Cluster", agg, ip),
				"Service %s is externalTrafficPolicy Local, but %s is advertised only through the aggregate %s, from every node: the fabric spreads its traffic over nodes without an endpoint, which drop it (nodes with one: %s)",
				s.Key(), ip, agg, strings.Join(s.EndpointNodes, ", "))
		}
	}
}

func nodeMeshWithFabricPeers(c *checker) {
	if !c.peersWithFabric() {
		return
	}
	mesh := c.cs.BGPConfig.NodeToNodeMesh
	if mesh != nil && !*mesh {
		return
	}
	var nodes []string
	for n := range c.fabricPeered {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	why := "nodeToNodeMeshEnabled is true"
	if mesh == nil {
		why = "nodeToNodeMeshEnabled is not set, and Calico's default is true"
		if !c.cs.Has(k8swatch.KindBGPConfiguration) {
			why = "the input holds no BGPConfiguration default, and Calico's default is the full mesh"
		}
	}
	c.add(RuleNodeMeshWithFabricPeers, Warning, []Object{bgpConfigObj()},
		"set spec.nodeToNodeMeshEnabled: false in BGPConfiguration default: the switches carry the routes between the nodes",
		"%s while %d node(s) peer with the fabric (%s): every node also holds a session to every other node, which grows with the square of the nodes and hides a node's lost fabric sessions", why, len(nodes), strings.Join(nodes, ", "))
}

// calicoPeerIPs are the addresses Calico nodes peer with: the configured
// switches' and every BGPPeer's peerIP.
func (c *checker) calicoPeerIPs() map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for a, fs := range c.switchOf {
		out[a] = "switch " + fs.sw + " of fabric " + fs.fabric
	}
	for _, p := range c.peers {
		if _, ok := out[p.PeerIP]; !ok {
			out[p.PeerIP] = "the router of BGPPeer " + p.BGPPeer
		}
	}
	return out
}

func lbPeerObj(p k8swatch.LBBGPPeer) Object {
	if p.Source == "metallb-configmap" {
		return Object{Kind: "ConfigMap", Namespace: p.Namespace, Name: "config"}
	}
	return Object{Kind: "BGPPeer", APIGroup: "metallb.io", Namespace: p.Namespace, Name: p.Name}
}

func lbPeerName(p k8swatch.LBBGPPeer) string {
	if p.Source == "metallb-configmap" {
		return "MetalLB ConfigMap " + p.Namespace + "/config " + p.Name
	}
	return "MetalLB BGPPeer " + p.Namespace + "/" + p.Name
}

func metalLBPeers(c *checker) {
	if len(c.peers) == 0 {
		return // Calico holds no session: MetalLB may speak BGP itself
	}
	calico := c.calicoPeerIPs()
	for _, p := range c.cs.LBBGPPeers {
		if who, ok := calico[p.PeerAddress]; ok {
			c.add(RuleMetalLBPeerOnFabricSwitch, Error, []Object{lbPeerObj(p)},
				"delete the MetalLB peer and let Calico advertise the LoadBalancer addresses (BGPConfiguration serviceLoadBalancerIPs); MetalLB then only assigns addresses",
				"%s peers with %s, which is %s that Calico's nodes already peer with: a router keeps one session per pair of addresses, so MetalLB's and Calico's sessions reject each other", lbPeerName(p), p.PeerAddress, who)
			continue
		}
		c.add(RuleMetalLBPeerElsewhere, Info, []Object{lbPeerObj(p)},
			"nothing, if this is meant (MetalLB peering with spines while Calico peers with the ToRs); fabric-reconciler does not manage that router",
			"%s peers with %s, a router Calico's nodes do not peer with", lbPeerName(p), p.PeerAddress)
	}
}

func metalLBAdvertisements(c *checker) {
	if !c.peersWithFabric() {
		return
	}
	for _, a := range c.cs.LBAdvertisements {
		pools := "every pool"
		if len(a.Pools) > 0 {
			pools = "pools " + strings.Join(a.Pools, ", ")
		}
		c.add(RuleMetalLBAdvertisement, Warning, []Object{{Kind: "BGPAdvertisement", APIGroup: "metallb.io", Namespace: a.Namespace, Name: a.Name}},
			"delete the BGPAdvertisement: with Calico advertising the addresses (serviceLoadBalancerIPs), MetalLB runs without one",
			"MetalLB BGPAdvertisement %s/%s makes MetalLB's speakers announce %s, while Calico's nodes hold the BGP sessions with the fabric and advertise the LoadBalancer addresses", a.Namespace, a.Name, pools)
	}
}

func ipPoolOverlaps(c *checker) {
	for _, pool := range c.cs.IPPools {
		if pool.Disabled {
			continue
		}
		var hit []string
		var nodes []Object
		for _, n := range c.cs.Nodes {
			var why string
			for _, a := range []netip.Prefix{n.BGP.IPv4Address, n.BGP.IPv6Address} {
				if a.IsValid() && pool.CIDR.Overlaps(a.Masked()) {
					why = a.Masked().String()
				}
			}
			for _, ip := range n.InternalIPs {
				if why == "" && pool.CIDR.Contains(ip) {
					why = ip.String()
				}
			}
			if why != "" {
				hit = append(hit, n.Name+" ("+why+")")
				nodes = append(nodes, nodeObj(n.Name))
			}
		}
		if len(hit) > 0 {
			c.add(RuleIPPoolOverlapsNodes, Error, append([]Object{ipPoolObj(pool.Name)}, nodes...),
				"give the pool a range of its own, away from the nodes' network (create the new pool, then disable and drain this one); at install, set the operator's or calico-node's pool CIDR before the first node joins",
				"IPPool %s (%s) overlaps the nodes' network: %s; pods get addresses of the nodes' subnet and the routes to them fight the connected ones (Calico's default pool 192.168.0.0/16 is the usual cause)",
				pool.Name, pool.CIDR, strings.Join(hit, ", "))
		}
		if !pool.ForWorkloads() {
			continue
		}
		type ranged struct {
			p     netip.Prefix
			what  string
			owner Object
		}
		var ranges []ranged
		cfg := c.cs.BGPConfig
		for _, r := range cfg.ServiceClusterIPs {
			ranges = append(ranges, ranged{r, "serviceClusterIPs", bgpConfigObj()})
		}
		for _, r := range cfg.ServiceExternalIPs {
			ranges = append(ranges, ranged{r, "serviceExternalIPs", bgpConfigObj()})
		}
		for _, r := range cfg.ServiceLoadBalancerIPs {
			ranges = append(ranges, ranged{r, "serviceLoadBalancerIPs", bgpConfigObj()})
		}
		for _, lp := range c.cs.LBPools {
			for _, p := range lp.Prefixes {
				ranges = append(ranges, ranged{p, lbPoolName(lp), lbPoolObj(lp)})
			}
		}
		for _, r := range ranges {
			if !pool.CIDR.Overlaps(r.p) {
				continue
			}
			c.add(RuleIPPoolOverlapsServiceRange, Error, []Object{ipPoolObj(pool.Name), r.owner},
				"give the pods and the services separate ranges: move the pool (create the new one, disable and drain this one) or the service range",
				"IPPool %s (%s) gives pods addresses inside %s %s: a pod and a service can get the same address, and the fabric cannot tell their routes apart",
				pool.Name, pool.CIDR, r.what, r.p)
		}
	}
}

// fabricConfig returns the configuration of a fabric.
func (c *checker) fabricConfig(name string) *config.Fabric {
	for i := range c.cfg.Fabrics {
		if c.cfg.Fabrics[i].Name == name {
			return &c.cfg.Fabrics[i]
		}
	}
	return nil
}

func maximumPaths(c *checker) {
	for _, in := range c.intents {
		f := c.fabricConfig(in.Fabric)
		if f == nil || len(in.Sessions) == 0 {
			continue
		}
		p := in.Paths
		p.Mode, p.Limit, p.Fixed = "auto", 0, 0
		needed := p.PathsFor(in.Sessions)
		spec, _ := config.DriverSpecOf(f.Driver)
		relax, relaxSwitches := map[relaxKey]map[uint32]bool{}, map[relaxKey][]string{}
		var order []relaxKey
		for _, m := range needed {
			if m.Paths < 2 {
				continue
			}
			sw := switchObj(f.Name, m.Switch)
			switch f.MaximumPaths.Mode {
			case "off":
				c.add(RuleMaximumPathsUnmanaged, Info, []Object{fabricObj(f.Name), sw},
					fmt.Sprintf("check that %s has maximum-paths %d or more for %s (and AS-path multipath relax), or set maximumPaths.mode: auto; `verify` shows the paths installed", m.Switch, m.Paths, m.AddressFamily),
					"fabric %s does not manage maximum-paths (mode off), and %d nodes advertise one %s prefix to switch %s", f.Name, m.Paths, m.AddressFamily, m.Switch)
				continue
			case "fixed":
				if f.MaximumPaths.Paths < m.Paths {
					c.add(RuleMaximumPathsBelowAdvertisers, Warning, []Object{fabricObj(f.Name), sw},
						fmt.Sprintf("set maximumPaths.paths to %d or more, or maximumPaths.mode: auto", m.Paths),
						"fabric %s sets maximum-paths %d (fixed), but %d nodes advertise one %s prefix to switch %s: only %d of them carry its traffic, and losing one of those moves all of it",
						f.Name, f.MaximumPaths.Paths, m.Paths, m.AddressFamily, m.Switch, f.MaximumPaths.Paths)
				}
			default:
				if f.MaximumPaths.Limit > 0 && f.MaximumPaths.Limit < m.Paths {
					c.add(RuleMaximumPathsBelowAdvertisers, Warning, []Object{fabricObj(f.Name), sw},
						fmt.Sprintf("raise maximumPaths.limit to %d or more (the platform allows %d)", m.Paths, spec.MaxPaths),
						"fabric %s caps maximum-paths at %d (maximumPaths.limit), but %d nodes advertise one %s prefix to switch %s: only %d of them carry its traffic",
						f.Name, f.MaximumPaths.Limit, m.Paths, m.AddressFamily, m.Switch, f.MaximumPaths.Limit)
				}
			}
			if spec.MultipathRelax {
				continue // the driver sets it with maximum-paths
			}
			k := relaxKey{m.AddressFamily}
			for _, s := range in.Sessions {
				if s.Switch == m.Switch && s.AddressFamily == m.AddressFamily && s.RemoteASN != s.LocalASN {
					if relax[k] == nil {
						relax[k] = map[uint32]bool{}
						order = append(order, k)
					}
					relax[k][s.RemoteASN] = true
					if !slices.Contains(relaxSwitches[k], m.Switch) {
						relaxSwitches[k] = append(relaxSwitches[k], m.Switch)
					}
				}
			}
		}
		for _, k := range order {
			if len(relax[k]) < 2 {
				continue
			}
			var list []string
			for a := range relax[k] {
				list = append(list, k8swatch.FormatASN(a))
			}
			sort.Strings(list)
			objs := []Object{fabricObj(f.Name)}
			for _, sw := range relaxSwitches[k] {
				objs = append(objs, switchObj(f.Name, sw))
			}
			c.add(RuleMultipathRelaxUnmanaged, Info, objs, multipathRelaxFix(f.Driver, strings.Join(relaxSwitches[k], ", ")),
				"the nodes that advertise one %s prefix to %s (fabric %s) are in %d AS numbers (%s): without AS-path multipath relax a switch installs one path whatever maximum-paths is, and driver %s does not set it here",
				k.af, strings.Join(relaxSwitches[k], ", "), f.Name, len(relax[k]), strings.Join(list, ", "), f.Driver)
		}
	}
}

type relaxKey struct{ af fabric.AddressFamily }

func multipathRelaxFix(driver, sw string) string {
	if driver == "aci" {
		return "give the L3Out's BGP protocol profile a BGP best path policy with AS-path multipath relax (bgpBestPathCtrlPol ctrl asPathMultipathRelax); `verify` shows the paths installed on " + sw
	}
	return "set AS-path multipath relax on " + sw + " (bgp bestpath as-path multipath-relax), or let the driver manage maximum-paths (maximumPaths.mode auto or fixed); `verify` shows the paths installed"
}

func bgpPeerUnknownSwitch(c *checker) {
	nodeAddrs := map[netip.Addr]bool{}
	for _, n := range c.cs.Nodes {
		for _, a := range []netip.Prefix{n.BGP.IPv4Address, n.BGP.IPv6Address} {
			if a.IsValid() {
				nodeAddrs[a.Addr()] = true
			}
		}
	}
	for _, p := range c.cs.BGPPeers {
		if !p.PeerIP.IsValid() || p.PeerSelector != "" || nodeAddrs[p.PeerIP] {
			continue
		}
		if _, ok := c.switchOf[p.PeerIP]; ok {
			continue
		}
		c.add(RuleBGPPeerUnknownSwitch, Warning, []Object{bgpPeerObj(p.Name)},
			fmt.Sprintf("add the switch with peerIPs [%s] to a fabric of the configuration, or correct the BGPPeer's peerIP; if it is a router fabric-reconciler is not meant to manage, nothing", p.PeerIP),
			"BGPPeer %s peers with %s, which designates no switch of the configuration: no switch is configured for these sessions", p.Name, p.PeerIP)
	}
}

func nodeSwitchPeers(c *checker) {
	if !c.peersWithFabric() {
		return
	}
	// Without racks in the configuration, every switch of a fabric is
	// expected of its nodes only where some node peers with at least half
	// of them (the lab's every node to both leaves): in a fabric of
	// per-rack ToRs whose racks are not configured, each node peers with
	// two of many, which tells nothing about which switches are its own,
	// and expecting all of them would flag every node once per switch.
	everySwitch := map[string]bool{}
	for _, f := range c.cfg.Fabrics {
		for _, n := range c.cs.Nodes {
			peers := 0
			for _, s := range f.Switches {
				if c.fabricPeered[n.Name][fabricSwitch{f.Name, s.Name}] {
					peers++
				}
			}
			if peers > 0 && 2*peers >= len(f.Switches) {
				everySwitch[f.Name] = true
				break
			}
		}
	}
	for _, n := range c.cs.Nodes {
		if !n.HasBGPAddress() {
			continue
		}
		rack := n.Labels[c.cfg.RackLabel]
		peered := c.fabricPeered[n.Name]
		inRack := false
		for _, f := range c.cfg.Fabrics {
			peersFabric := false
			for fs := range peered {
				peersFabric = peersFabric || fs.fabric == f.Name
			}
			for _, s := range f.Switches {
				expected := (s.Rack != "" && s.Rack == rack) || (s.Rack == "" && peersFabric && everySwitch[f.Name])
				inRack = inRack || (s.Rack != "" && s.Rack == rack)
				if !expected || peered[fabricSwitch{f.Name, s.Name}] {
					continue
				}
				why := fmt.Sprintf("node %s peers with fabric %s but not with its switch %s", n.Name, f.Name, s.Name)
				if s.Rack != "" {
					why = fmt.Sprintf("node %s is in rack %s (label %s), but has no session with %s, a switch of that rack", n.Name, rack, c.cfg.RackLabel, s.Name)
				}
				c.add(RuleNodeMissingSwitchPeer, Warning, []Object{nodeObj(n.Name), switchObj(f.Name, s.Name)},
					fmt.Sprintf("give the node a BGPPeer to %s (peerIP %s): per node, or one with a nodeSelector for the rack", s.Name, strings.Join(s.PeerIPs, ", ")),
					"%s: when the switch it peers with fails, the node's routes go with it", why)
			}
		}
		if len(peered) == 0 && !inRack {
			c.add(RuleNodeWithoutFabricPeer, Warning, []Object{nodeObj(n.Name)},
				"give the node BGPPeers to the switches of its rack (check its labels against the BGPPeers' nodeSelectors)",
				"node %s runs BGP but peers with no switch of the configuration while %d other node(s) do: its pods and the services it advertises are not reachable from the fabric", n.Name, len(c.fabricPeered))
		}
	}
}

func holdTime(c *checker) {
	for _, f := range c.cfg.Fabrics {
		sessions := false
		for _, in := range c.intents {
			sessions = sessions || (in.Fabric == f.Name && len(in.Sessions) > 0)
		}
		if !sessions {
			continue
		}
		switch {
		case f.BGP.Hold == 0:
			c.add(RuleHoldTimeDefault, Info, []Object{fabricObj(f.Name)},
				fmt.Sprintf("set fabrics[].bgp.hold (and keepalive) to %d s or less, for example keepalive 3 and hold 9, where the driver manages session timers; `verify` reports the hold time each session negotiated", SlowHoldTime),
				"fabric %s does not set a BGP hold time: the switches' default applies (180 s on NX-OS and ACI, and on FRR unless its datacenter profile gives 9 s; Calico's BIRD offers 240 s), so a node that dies without closing its sessions may attract traffic for minutes", f.Name)
		case f.BGP.Hold > SlowHoldTime:
			c.add(RuleHoldTimeSlow, Warning, []Object{fabricObj(f.Name)},
				fmt.Sprintf("lower fabrics[].bgp.hold to %d s or less (keepalive a third of it)", SlowHoldTime),
				"fabric %s sets a BGP hold time of %d s: a node that dies without closing its sessions attracts traffic that long", f.Name, f.BGP.Hold)
		}
	}
}

func bgpPeerSecrets(c *checker) {
	ns := c.cfg.CalicoNamespace
	for _, p := range c.cs.BGPPeers {
		if p.Password == nil {
			continue
		}
		if _, ok := c.cs.Secret(ns, *p.Password); ok {
			continue
		}
		where := "which the input does not hold (export it with kubectl get secret -n " + ns + " " + p.Password.Name + " -o yaml)"
		if c.cs.Complete {
			where = "which does not exist"
		}
		c.add(RuleBGPPeerSecretMissing, Error, []Object{bgpPeerObj(p.Name), {Kind: "Secret", Namespace: ns, Name: p.Password.Name}},
			fmt.Sprintf("create Secret %s/%s with key %s (the session password), or correct the BGPPeer's password.secretKeyRef; check calicoNamespace in the configuration", ns, p.Password.Name, p.Password.Key),
			"BGPPeer %s takes its password from Secret %s/%s key %s, %s: calico-node cannot open the session, and fabric-reconciler plans none for it",
			p.Name, ns, p.Password.Name, p.Password.Key, where)
	}
}

func inputSkipped(c *checker) {
	covered := map[string]bool{}
	for _, f := range c.findings {
		if f.ID == RuleBGPPeerSecretMissing {
			for _, o := range f.Objects {
				covered[o.Kind+"/"+o.Name] = true
			}
		}
	}
	for _, s := range c.desired.Skipped {
		if covered[s.Object] {
			continue
		}
		c.add(RuleInputSkipped, Error, []Object{objectOf(s.Object)},
			"correct the object (plan and sync hold what the fabric has for it until then)",
			"%s is left out: %s", s.Object, s.Reason)
	}
}

// objectOf reads "Kind/name" or "Kind/namespace/name".
func objectOf(s string) Object {
	parts := strings.SplitN(s, "/", 3)
	switch len(parts) {
	case 3:
		return Object{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
	case 2:
		return Object{Kind: parts[0], Name: parts[1]}
	}
	return Object{Kind: "object", Name: s}
}
