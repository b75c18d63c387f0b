package k8swatch

// The Calico objects the builder reads: BGPPeers, the BGPConfiguration,
// IP pools, IPAM blocks and block affinities.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	calicov3 "github.com/projectcalico/api/pkg/apis/projectcalico/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch/selector"
)

// bgpPeerSpec mirrors calicov3.BGPPeerSpec but keeps asNumber raw so that a
// bad value is reported with its text.
type bgpPeerSpec struct {
	calicov3.BGPPeerSpec
	ASNumber json.RawMessage `json:"asNumber,omitempty"`
}

func (b *Builder) addBGPPeer(env envelope) error {
	if err := checkName("BGPPeer", env.Metadata.Name); err != nil {
		return err
	}
	var spec bgpPeerSpec
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	p := BGPPeer{Name: env.Metadata.Name, Node: spec.Node, NodeSelector: spec.NodeSelector, PeerSelector: spec.PeerSelector}
	if spec.Node != "" {
		if err := checkName("Node", spec.Node); err != nil {
			return fmt.Errorf("spec.node: %v", err)
		}
	}
	if spec.Node != "" && spec.NodeSelector != "" {
		return fmt.Errorf("spec.node and spec.nodeSelector cannot both be set")
	}
	if spec.PeerIP != "" && spec.PeerSelector != "" {
		return fmt.Errorf("spec.peerIP and spec.peerSelector cannot both be set")
	}
	if spec.PeerIP == "" && spec.PeerSelector == "" {
		return fmt.Errorf("spec.peerIP or spec.peerSelector is required")
	}
	for field, sel := range map[string]string{"nodeSelector": spec.NodeSelector, "peerSelector": spec.PeerSelector} {
		if sel != "" {
			if _, err := selector.Parse(sel); err != nil {
				return fmt.Errorf("spec.%s: %v", field, err)
			}
		}
	}
	if spec.PeerIP != "" {
		ip, port, err := parsePeerIP(spec.PeerIP)
		if err != nil {
			return fmt.Errorf("spec.peerIP: %v", err)
		}
		p.PeerIP, p.PeerPort = ip, port
		asn, err := asnFromJSON(spec.ASNumber, "spec.asNumber")
		if err != nil {
			return err
		}
		if asn == 0 {
			return fmt.Errorf("spec.asNumber is required with spec.peerIP")
		}
		p.ASN = asn
	}
	if pw := spec.Password; pw != nil && pw.SecretKeyRef != nil {
		ref := SecretKeyRef{Name: pw.SecretKeyRef.Name, Key: pw.SecretKeyRef.Key}
		if err := checkName("Secret", ref.Name); err != nil {
			return fmt.Errorf("spec.password.secretKeyRef.name: %v", err)
		}
		if errs := validation.IsConfigMapKey(ref.Key); len(errs) > 0 {
			return fmt.Errorf("spec.password.secretKeyRef.key %q: %s", truncate(ref.Key, 80), strings.Join(errs, "; "))
		}
		p.Password = &ref
	}
	if t := spec.TTLSecurity; t != nil {
		if *t < 1 || *t > 254 {
			return fmt.Errorf("spec.ttlSecurity %d is not 1-254", *t)
		}
		p.TTLSecurity = int(*t)
	}
	if d := spec.MaxRestartTime; d != nil {
		secs := int(d.Duration.Seconds())
		if d.Duration < 0 || secs > 4095 {
			return fmt.Errorf("spec.maxRestartTime %s is not 0-4095s", d.Duration)
		}
		p.MaxRestartTime = secs
	}
	if prev, ok := b.peers[p.Name]; ok && prev.v3 && env.APIVersion != CalicoV3 {
		return nil
	}
	b.peers[p.Name] = prioritized[BGPPeer]{v: p, v3: env.APIVersion == CalicoV3}
	return nil
}

// addSecret keeps the data of a Secret (base64 in data, plain in
// stringData), for the BGPPeer passwords that name it; Build drops what no
// BGPPeer names.
func (b *Builder) addSecret(env envelope, raw []byte) error {
	var s struct {
		Data       map[string][]byte `json:"data"`
		StringData map[string]string `json:"stringData"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("data: not base64 text")
	}
	for k, v := range s.Data {
		b.secrets[env.Metadata.Namespace+"/"+env.Metadata.Name+"/"+k] = SecretValue{value: string(v)}
	}
	for k, v := range s.StringData {
		b.secrets[env.Metadata.Namespace+"/"+env.Metadata.Name+"/"+k] = SecretValue{value: v}
	}
	return nil
}

// parsePeerIP reads "ip", "ip:port" or "[ipv6]:port".
func parsePeerIP(s string) (netip.Addr, uint16, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), 0, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q is not an IP address or IP:port", s)
	}
	if ap.Port() == 0 {
		return netip.Addr{}, 0, fmt.Errorf("%q: port 0 is not valid", s)
	}
	return ap.Addr().Unmap(), ap.Port(), nil
}

type bgpConfigSpec struct {
	calicov3.BGPConfigurationSpec
	ASNumber json.RawMessage `json:"asNumber,omitempty"`
}

func (b *Builder) addBGPConfig(env envelope) error {
	if env.Metadata.Name != "default" {
		// Per-node configurations (node.<name>) set nothing the fabric needs.
		return nil
	}
	var spec bgpConfigSpec
	if len(env.Spec) > 0 {
		if err := json.Unmarshal(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
	}
	var c BGPConfig
	asn, err := asnFromJSON(spec.ASNumber, "spec.asNumber")
	if err != nil {
		return err
	}
	c.ASN = asn
	c.NodeToNodeMesh = spec.NodeToNodeMeshEnabled
	for i, blk := range spec.ServiceLoadBalancerIPs {
		p, err := parseCIDR(blk.CIDR)
		if err != nil {
			return fmt.Errorf("spec.serviceLoadBalancerIPs[%d].cidr: %v", i, err)
		}
		c.ServiceLoadBalancerIPs = append(c.ServiceLoadBalancerIPs, p)
	}
	for i, blk := range spec.ServiceClusterIPs {
		p, err := parseCIDR(blk.CIDR)
		if err != nil {
			return fmt.Errorf("spec.serviceClusterIPs[%d].cidr: %v", i, err)
		}
		c.ServiceClusterIPs = append(c.ServiceClusterIPs, p)
	}
	for i, blk := range spec.ServiceExternalIPs {
		p, err := parseCIDR(blk.CIDR)
		if err != nil {
			return fmt.Errorf("spec.serviceExternalIPs[%d].cidr: %v", i, err)
		}
		c.ServiceExternalIPs = append(c.ServiceExternalIPs, p)
	}
	for i, pa := range spec.PrefixAdvertisements {
		p, err := parseCIDR(pa.CIDR)
		if err != nil {
			return fmt.Errorf("spec.prefixAdvertisements[%d].cidr: %v", i, err)
		}
		c.PrefixAdvertisements = append(c.PrefixAdvertisements, PrefixAdvertisement{CIDR: p, Communities: append([]string(nil), pa.Communities...)})
	}
	if b.bgpConfig != nil && b.bgpConfig.v3 && env.APIVersion != CalicoV3 {
		return nil
	}
	b.bgpConfig = &prioritized[BGPConfig]{v: c, v3: env.APIVersion == CalicoV3}
	return nil
}

// parseCIDR reads a CIDR and insists on a network address: Calico rejects
// host bits, and so does every switch.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return p, fmt.Errorf("%q is not a valid CIDR", s)
	}
	if p.Addr().Is4In6() {
		return p, fmt.Errorf("%q: IPv4-mapped IPv6 prefixes are not supported", s)
	}
	if p.Masked() != p {
		return p, fmt.Errorf("%q is not a valid CIDR: host bits are set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

func (b *Builder) addIPPool(env envelope) error {
	if err := checkName("IPPool", env.Metadata.Name); err != nil {
		return err
	}
	var spec calicov3.IPPoolSpec
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	p, err := parseCIDR(spec.CIDR)
	if err != nil {
		return fmt.Errorf("spec.cidr: %v", err)
	}
	pool := IPPool{Name: env.Metadata.Name, CIDR: p, BlockSize: spec.BlockSize, Disabled: spec.Disabled,
		DisableBGPExport: spec.DisableBGPExport, NodeSelector: spec.NodeSelector}
	if pool.BlockSize == 0 {
		pool.BlockSize = 26 // Calico's default for IPv4
		if p.Addr().Is6() {
			pool.BlockSize = 122
		}
	}
	if pool.BlockSize < p.Bits() || pool.BlockSize > p.Addr().BitLen() {
		return fmt.Errorf("spec.blockSize %d does not fit %s", pool.BlockSize, p)
	}
	if pool.NodeSelector != "" {
		if _, err := selector.Parse(pool.NodeSelector); err != nil {
			return fmt.Errorf("spec.nodeSelector: %v", err)
		}
	}
	for _, u := range spec.AllowedUses {
		pool.AllowedUses = append(pool.AllowedUses, string(u))
	}
	sort.Strings(pool.AllowedUses)
	if prev, ok := b.pools[pool.Name]; ok && prev.v3 && env.APIVersion != CalicoV3 {
		return nil
	}
	b.pools[pool.Name] = prioritized[IPPool]{v: pool, v3: env.APIVersion == CalicoV3}
	return nil
}

type ipamBlockSpec struct {
	CIDR     string  `json:"cidr"`
	Affinity *string `json:"affinity"`
	Deleted  bool    `json:"deleted"`
}

func (b *Builder) addIPAMBlock(env envelope) error {
	var spec ipamBlockSpec
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	p, err := parseCIDR(spec.CIDR)
	if err != nil {
		return fmt.Errorf("spec.cidr: %v", err)
	}
	if spec.Deleted || spec.Affinity == nil || !strings.HasPrefix(*spec.Affinity, "host:") {
		return nil // released, or not affine to a host
	}
	node := strings.TrimPrefix(*spec.Affinity, "host:")
	if err := checkName("Node", node); err != nil {
		return fmt.Errorf("spec.affinity: %v", err)
	}
	b.blocks[p.String()] = IPAMBlock{CIDR: p, Node: node}
	b.blockKeys["IPAMBlock/"+env.Metadata.Name] = p.String()
	return nil
}

type blockAffinitySpec struct {
	State   string          `json:"state"`
	Node    string          `json:"node"`
	CIDR    string          `json:"cidr"`
	Deleted json.RawMessage `json:"deleted"`
}

func (b *Builder) addBlockAffinity(env envelope) error {
	var spec blockAffinitySpec
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	p, err := parseCIDR(spec.CIDR)
	if err != nil {
		return fmt.Errorf("spec.cidr: %v", err)
	}
	if err := checkName("Node", spec.Node); err != nil {
		return fmt.Errorf("spec.node: %v", err)
	}
	// crd.projectcalico.org/v1 keeps "deleted" as a string, v3 as a bool.
	deleted := false
	switch d := strings.Trim(string(spec.Deleted), `"`); d {
	case "", "null", "false":
	case "true":
		deleted = true
	default:
		return fmt.Errorf("spec.deleted: %s is not true or false", spec.Deleted)
	}
	if deleted || (spec.State != "" && spec.State != "confirmed") {
		return nil
	}
	b.affinities[p.String()+"@"+spec.Node] = IPAMBlock{CIDR: p, Node: spec.Node}
	b.blockKeys["BlockAffinity/"+env.Metadata.Name] = p.String() + "@" + spec.Node
	return nil
}
