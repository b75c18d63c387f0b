package k8swatch

// The LoadBalancer address pools the builder reads: MetalLB IPAddressPools,
// MetalLB's legacy ConfigMap and PureLB ServiceGroups.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

func (b *Builder) addMetalLBPool(env envelope) error {
	var spec struct {
		Addresses     []string `json:"addresses"`
		AutoAssign    *bool    `json:"autoAssign"`
		AvoidBuggyIPs bool     `json:"avoidBuggyIPs"`
	}
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	pool := LBPool{Source: "metallb", Namespace: env.Metadata.Namespace, Name: env.Metadata.Name,
		AvoidBuggyIPs: spec.AvoidBuggyIPs, AutoAssign: spec.AutoAssign == nil || *spec.AutoAssign}
	for i, a := range spec.Addresses {
		ps, err := parseAddressRange(a)
		if err != nil {
			return fmt.Errorf("spec.addresses[%d]: %v", i, err)
		}
		pool.Prefixes = append(pool.Prefixes, ps...)
	}
	b.lbPools["metallb/"+pool.Namespace+"/"+pool.Name] = pool
	return nil
}

// addMetalLBConfigMap reads MetalLB's pre-0.13 ConfigMap metallb-system/config.
func (b *Builder) addMetalLBConfigMap(env envelope) error {
	if env.Metadata.Namespace != "metallb-system" || env.Metadata.Name != "config" {
		b.Ignored++
		return nil
	}
	var data map[string]string
	if len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, &data); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	var cfg struct {
		AddressPools []struct {
			Name          string   `json:"name"`
			Protocol      string   `json:"protocol"`
			Addresses     []string `json:"addresses"`
			AvoidBuggyIPs bool     `json:"avoid-buggy-ips"`
			AutoAssign    *bool    `json:"auto-assign"`
		} `json:"address-pools"`
		Peers []legacyPeer `json:"peers"`
	}
	if err := yamlToJSONInto([]byte(data["config"]), &cfg); err != nil {
		return fmt.Errorf("data.config: %v", err)
	}
	for i, p := range cfg.AddressPools {
		if p.Name == "" {
			return fmt.Errorf("data.config: address-pools[%d] has no name", i)
		}
		pool := LBPool{Source: "metallb-configmap", Namespace: env.Metadata.Namespace, Name: p.Name,
			AvoidBuggyIPs: p.AvoidBuggyIPs, AutoAssign: p.AutoAssign == nil || *p.AutoAssign}
		for j, a := range p.Addresses {
			ps, err := parseAddressRange(a)
			if err != nil {
				return fmt.Errorf("data.config: address-pools[%d].addresses[%d]: %v", i, j, err)
			}
			pool.Prefixes = append(pool.Prefixes, ps...)
		}
		b.lbPools["metallb-configmap/"+pool.Name] = pool
	}
	return b.addLegacyPeers(cfg.Peers)
}

type pureLBPool struct {
	Subnet      string `json:"subnet"`
	Pool        string `json:"pool"`
	Aggregation string `json:"aggregation"`
}

func (b *Builder) addPureLBServiceGroup(env envelope) error {
	var spec struct {
		Local *struct {
			pureLBPool
			V4Pools []pureLBPool `json:"v4pools"`
			V6Pools []pureLBPool `json:"v6pools"`
		} `json:"local"`
	}
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	if spec.Local == nil {
		return nil // netbox and other allocators: no local ranges to read
	}
	pool := LBPool{Source: "purelb", Namespace: env.Metadata.Namespace, Name: env.Metadata.Name, AutoAssign: true}
	all := append([]pureLBPool{}, spec.Local.V4Pools...)
	all = append(all, spec.Local.V6Pools...)
	if spec.Local.Pool != "" || spec.Local.Subnet != "" {
		all = append(all, spec.Local.pureLBPool)
	}
	for i, p := range all {
		if p.Subnet != "" {
			if _, err := parseCIDR(p.Subnet); err != nil {
				return fmt.Errorf("spec.local pool %d: subnet: %v", i, err)
			}
		}
		rng := p.Pool
		if rng == "" {
			rng = p.Subnet
		}
		ps, err := parseAddressRange(rng)
		if err != nil {
			return fmt.Errorf("spec.local pool %d: pool: %v", i, err)
		}
		pool.Prefixes = append(pool.Prefixes, ps...)
		if pool.Aggregation == "" {
			pool.Aggregation = p.Aggregation
		}
	}
	b.lbPools["purelb/"+pool.Namespace+"/"+pool.Name] = pool
	return nil
}

// parseAddressRange reads a CIDR or a "first-last" range and returns the
// prefixes that cover it exactly.
func parseAddressRange(s string) ([]netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(first))
		z, err2 := netip.ParseAddr(strings.TrimSpace(last))
		if err1 != nil || err2 != nil || a.Is4() != z.Is4() || z.Less(a) {
			return nil, fmt.Errorf("%q is not a valid address range", s)
		}
		return rangeToPrefixes(a, z), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a CIDR or an address range", s)
	}
	return []netip.Prefix{p.Masked()}, nil
}

// rangeToPrefixes splits [a, z] into the fewest prefixes that cover it.
func rangeToPrefixes(a, z netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	bits := a.BitLen()
	for {
		// Grow the prefix at a while it stays aligned and inside the range.
		n := bits
		for n > 0 {
			p := netip.PrefixFrom(a, n-1).Masked()
			if p.Addr() != a || lastAddr(p).Compare(z) > 0 {
				break
			}
			n--
		}
		p := netip.PrefixFrom(a, n)
		out = append(out, p)
		last := lastAddr(p)
		if last.Compare(z) >= 0 {
			return out
		}
		a = last.Next()
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
