package k8swatch

import "net/netip"

// ServiceRanges are the ranges Calico advertises from every node: the
// BGPConfiguration's service CIDRs (LoadBalancer, cluster and external
// IPs) and the IP pools that hold LoadBalancer addresses and are exported
// (Calico's LoadBalancer IPAM, or disabled pools used as export filters, as
// PureLB does).
func (cs ClusterState) ServiceRanges() []netip.Prefix {
	c := cs.BGPConfig
	var out []netip.Prefix
	out = append(out, c.ServiceLoadBalancerIPs...)
	out = append(out, c.ServiceClusterIPs...)
	out = append(out, c.ServiceExternalIPs...)
	out = append(out, cs.LoadBalancerPoolRanges()...)
	return out
}

// LoadBalancerPoolRanges are the exported IP pools that hold LoadBalancer
// addresses.
func (cs ClusterState) LoadBalancerPoolRanges() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range cs.IPPools {
		if p.ForLoadBalancers() && !p.DisableBGPExport {
			out = append(out, p.CIDR)
		}
	}
	return out
}

// AdvertisesLoadBalancerIP reports whether Calico advertises a
// LoadBalancer IP at all: it is inside serviceLoadBalancerIPs,
// serviceExternalIPs, or an exported LoadBalancer IP pool.
func (cs ClusterState) AdvertisesLoadBalancerIP(ip netip.Addr) bool {
	for _, list := range [][]netip.Prefix{cs.BGPConfig.ServiceLoadBalancerIPs, cs.BGPConfig.ServiceExternalIPs, cs.LoadBalancerPoolRanges()} {
		for _, r := range list {
			if r.Contains(ip) {
				return true
			}
		}
	}
	return false
}
