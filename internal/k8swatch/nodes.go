package k8swatch

// The core and Calico Nodes the builder reads: names, labels, addresses,
// podCIDRs, and the BGP spec (Calico's node, or its annotations).

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/projectcalico/api/pkg/lib/numorstring"
	corev1 "k8s.io/api/core/v1"
)

func (b *Builder) addCoreNode(raw []byte) error {
	var n slimNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	return b.recordCoreNode(&n)
}

func (b *Builder) recordCoreNode(n *slimNode) error {
	if err := checkName("Node", n.Name); err != nil {
		return err
	}
	node := Node{Name: n.Name, Labels: copyLabels(n.Labels)}
	for _, a := range n.Status.Addresses {
		if a.Type != string(corev1.NodeInternalIP) {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			return fmt.Errorf("status.addresses: InternalIP %q is not an IP address", a.Address)
		}
		node.InternalIPs = append(node.InternalIPs, ip)
	}
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil || p.Masked() != p {
			return fmt.Errorf("spec.podCIDRs: %q is not a valid CIDR", c)
		}
		node.PodCIDRs = append(node.PodCIDRs, p)
	}
	bgp, has, err := bgpFromAnnotations(n.Annotations)
	if err != nil {
		return err
	}
	node.BGP = bgp
	b.coreNodes[n.Name] = nodeEntry{node: node, hasBGP: has}
	return nil
}

func bgpFromAnnotations(ann map[string]string) (NodeBGP, bool, error) {
	var bgp NodeBGP
	has := false
	if v := ann[AnnotationIPv4Address]; v != "" {
		p, err := parseNodeAddress(v, false)
		if err != nil {
			return bgp, false, fmt.Errorf("annotation %s: %v", AnnotationIPv4Address, err)
		}
		bgp.IPv4Address, has = p, true
	}
	if v := ann[AnnotationIPv6Address]; v != "" {
		p, err := parseNodeAddress(v, true)
		if err != nil {
			return bgp, false, fmt.Errorf("annotation %s: %v", AnnotationIPv6Address, err)
		}
		bgp.IPv6Address, has = p, true
	}
	if v := ann[AnnotationASNumber]; v != "" {
		asn, err := parseASN(v)
		if err != nil {
			return bgp, false, fmt.Errorf("annotation %s: %v", AnnotationASNumber, err)
		}
		bgp.ASN = asn
	}
	bgp.RouteReflectorClusterID = ann[AnnotationRouteReflectorClusterID]
	if id := bgp.RouteReflectorClusterID; id != "" {
		if _, err := netip.ParseAddr(id); err != nil {
			return bgp, false, fmt.Errorf("annotation %s: %q is not an IPv4 address", AnnotationRouteReflectorClusterID, id)
		}
	}
	return bgp, has, nil
}

// parseNodeAddress reads a Calico node BGP address: "a.b.c.d/len" (the
// address with its subnet), or a bare address (taken as a host route).
func parseNodeAddress(s string, v6 bool) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("%q is not an address/prefix-length", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("%q is not an IP address", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is6() != v6 || p.Addr().Is4In6() {
		if v6 {
			return p, fmt.Errorf("%q is not an IPv6 address", s)
		}
		return p, fmt.Errorf("%q is not an IPv4 address", s)
	}
	if !p.Addr().IsGlobalUnicast() && !p.Addr().IsPrivate() {
		return p, fmt.Errorf("%q is not a unicast address", s)
	}
	return p, nil
}

// parseASN reads an AS number in plain or dotted (asdot) notation and
// rejects 0 and anything above 4294967295.
func parseASN(s string) (uint32, error) {
	a, err := numorstring.ASNumberFromString(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("AS number %q is not 1-4294967295 or asdot", s)
	}
	if a == 0 {
		return 0, fmt.Errorf("AS number 0 is reserved; use 1-4294967295")
	}
	return uint32(a), nil
}

// asnFromJSON checks an AS number decoded by Calico's ASNumber type.
func asnFromJSON(raw json.RawMessage, field string) (uint32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var a numorstring.ASNumber
	if err := json.Unmarshal(raw, &a); err != nil {
		return 0, fmt.Errorf("%s: AS number %s is not 1-4294967295", field, raw)
	}
	if a == 0 {
		return 0, fmt.Errorf("%s: AS number 0 is reserved; use 1-4294967295", field)
	}
	return uint32(a), nil
}

// calicoNodeSpec is the part of the projectcalico.org/v3 Node spec the
// reconciler reads (the type is not in github.com/projectcalico/api).
type calicoNodeSpec struct {
	BGP *struct {
		IPv4Address             string          `json:"ipv4Address"`
		IPv6Address             string          `json:"ipv6Address"`
		ASNumber                json.RawMessage `json:"asNumber"`
		RouteReflectorClusterID string          `json:"routeReflectorClusterID"`
	} `json:"bgp"`
}

func (b *Builder) addCalicoNode(env envelope) error {
	if err := checkName("Node", env.Metadata.Name); err != nil {
		return err
	}
	var spec calicoNodeSpec
	if len(env.Spec) > 0 {
		if err := json.Unmarshal(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
	}
	node := Node{Name: env.Metadata.Name, Labels: copyLabels(env.Metadata.Labels)}
	has := false
	if spec.BGP != nil {
		if spec.BGP.IPv4Address != "" {
			p, err := parseNodeAddress(spec.BGP.IPv4Address, false)
			if err != nil {
				return fmt.Errorf("spec.bgp.ipv4Address: %v", err)
			}
			node.BGP.IPv4Address, has = p, true
		}
		if spec.BGP.IPv6Address != "" {
			p, err := parseNodeAddress(spec.BGP.IPv6Address, true)
			if err != nil {
				return fmt.Errorf("spec.bgp.ipv6Address: %v", err)
			}
			node.BGP.IPv6Address, has = p, true
		}
		asn, err := asnFromJSON(spec.BGP.ASNumber, "spec.bgp.asNumber")
		if err != nil {
			return err
		}
		node.BGP.ASN = asn
		node.BGP.RouteReflectorClusterID = spec.BGP.RouteReflectorClusterID
	}
	b.calicoNodes[node.Name] = nodeEntry{node: node, hasBGP: has}
	return nil
}

func copyLabels(l map[string]string) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}
