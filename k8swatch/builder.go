package k8swatch

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	calicov3 "github.com/projectcalico/api/pkg/apis/projectcalico/v3"
	"github.com/projectcalico/api/pkg/lib/numorstring"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fabric-reconciler/fabric-reconciler/k8swatch/selector"
)

// API groups and versions the builder understands.
const (
	CalicoV3    = "projectcalico.org/v3"
	CalicoCRDV1 = "crd.projectcalico.org/v1"
	MetalLBV1b1 = "metallb.io/v1beta1"
	PureLBV1    = "purelb.io/v1"
)

// Annotations through which Calico's Kubernetes datastore keeps a Calico
// Node's BGP spec on the core Node.
const (
	AnnotationIPv4Address             = "projectcalico.org/IPv4Address"
	AnnotationIPv6Address             = "projectcalico.org/IPv6Address"
	AnnotationASNumber                = "projectcalico.org/ASNumber"
	AnnotationRouteReflectorClusterID = "projectcalico.org/RouteReflectorClusterID"
)

// MetalLB's IP sharing annotations (current and pre-0.13 spelling).
var sharingAnnotations = []string{"metallb.io/allow-shared-ip", "metallb.universe.tf/allow-shared-ip"}

// Builder collects Kubernetes objects and builds a ClusterState from them.
// The YAML loader and the informers both feed a Builder, so the same objects
// give the same state whichever way they arrive. It is not safe for
// concurrent use.
type Builder struct {
	coreNodes   map[string]nodeEntry
	calicoNodes map[string]nodeEntry
	peers       map[string]prioritized[BGPPeer]
	bgpConfig   *prioritized[BGPConfig]
	pools       map[string]prioritized[IPPool]
	blocks      map[string]IPAMBlock // by CIDR
	affinities  map[string]IPAMBlock // by CIDR+node
	services    map[string]Service
	slices      map[string]sliceInfo // by namespace/slice name
	lbPools     map[string]LBPool
	problems    []Problem
	// Ignored counts objects of kinds the reconciler does not read.
	Ignored int
	// seen counts objects per kind; identities remembers the content of
	// each object (by API group, kind, namespace and name) to catch one
	// object given twice with different content; conflicted holds those.
	seen       map[string]int
	identities map[string]identity
	conflicted map[string]bool
	// blockKeys maps "IPAMBlock/<name>" and "BlockAffinity/<name>" to the
	// key the object is recorded under in blocks or affinities.
	blockKeys map[string]string
}

// identity is what the builder remembers of one input object.
type identity struct {
	sum    [sha256.Size]byte
	source string
}

// prioritized keeps the v3 spelling over the crd.projectcalico.org/v1 one
// when an export holds both for one name.
type prioritized[T any] struct {
	v  T
	v3 bool
}

type nodeEntry struct {
	node   Node
	hasBGP bool
}

type sliceInfo struct {
	service string // namespace/name
	nodes   []string
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		coreNodes: map[string]nodeEntry{}, calicoNodes: map[string]nodeEntry{},
		peers: map[string]prioritized[BGPPeer]{}, pools: map[string]prioritized[IPPool]{},
		blocks: map[string]IPAMBlock{}, affinities: map[string]IPAMBlock{},
		services: map[string]Service{}, slices: map[string]sliceInfo{}, lbPools: map[string]LBPool{},
		seen: map[string]int{}, identities: map[string]identity{}, conflicted: map[string]bool{}, blockKeys: map[string]string{},
	}
}

func (b *Builder) problem(source, object, format string, a ...any) {
	b.problems = append(b.problems, Problem{Object: object, Source: source, Reason: fmt.Sprintf(format, a...)})
}

// objectMeta is the part of metadata the builder reads.
type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type envelope struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   objectMeta      `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
	Data       json.RawMessage `json:"data"`
}

// Add decodes one object (its JSON form, as kubectl or calicoctl export it)
// and records it. Unknown kinds are counted and ignored; malformed known
// objects become Problems naming source and object. It reports whether the
// object was of a known kind.
func (b *Builder) Add(source string, raw []byte) bool {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		b.problem(source, "object", "not a Kubernetes object: %v", err)
		return false
	}
	obj := objectName(env.Kind, env.Metadata.Namespace, env.Metadata.Name)
	if !b.knownKind(env.APIVersion, env.Kind) {
		b.Ignored++
		return false
	}
	b.seen[seenKind(env.Kind)]++
	if env.Metadata.Name == "" {
		b.problem(source, obj, "metadata.name is missing")
		return true
	}
	if !b.firstOrSame(source, obj, env, raw) {
		return true
	}
	var err error
	switch env.APIVersion + "/" + env.Kind {
	case "v1/Node":
		err = b.addCoreNode(raw)
	case "v1/Service":
		err = b.addService(raw)
	case "v1/ConfigMap":
		err = b.addMetalLBConfigMap(env)
	case "discovery.k8s.io/v1/EndpointSlice":
		err = b.addEndpointSlice(raw)
	case CalicoV3 + "/Node":
		err = b.addCalicoNode(env)
	case CalicoV3 + "/BGPPeer", CalicoCRDV1 + "/BGPPeer":
		err = b.addBGPPeer(env)
	case CalicoV3 + "/BGPConfiguration", CalicoCRDV1 + "/BGPConfiguration":
		err = b.addBGPConfig(env)
	case CalicoV3 + "/IPPool", CalicoCRDV1 + "/IPPool":
		err = b.addIPPool(env)
	case CalicoCRDV1 + "/IPAMBlock":
		err = b.addIPAMBlock(env)
	case CalicoV3 + "/BlockAffinity", CalicoCRDV1 + "/BlockAffinity":
		err = b.addBlockAffinity(env)
	case MetalLBV1b1 + "/IPAddressPool":
		err = b.addMetalLBPool(env)
	case PureLBV1 + "/ServiceGroup":
		err = b.addPureLBServiceGroup(env)
	}
	if err != nil {
		b.problem(source, obj, "%v", err)
	}
	return true
}

// seenKind is the kind an object counts as in ClusterState.Seen.
func seenKind(kind string) string {
	if kind == "ConfigMap" || kind == "IPAddressPool" || kind == "ServiceGroup" {
		return "LBPool"
	}
	return kind
}

// firstOrSame reports whether an object should be read: the first time its
// identity is seen, yes; again with the same content (the same file given
// twice), no, silently; again with other content, no, and the object is
// left out altogether: which copy is right cannot be told, and file order
// must not decide.
func (b *Builder) firstOrSame(source, obj string, env envelope, raw []byte) bool {
	id := env.APIVersion + "|" + env.Kind + "|" + env.Metadata.Namespace + "|" + env.Metadata.Name
	sum := contentSum(raw)
	prev, dup := b.identities[id]
	switch {
	case !dup:
		b.identities[id] = identity{sum: sum, source: source}
		return true
	case b.conflicted[id]:
		return false
	case prev.sum == sum:
		return false
	}
	b.conflicted[id] = true
	b.forget(env)
	where := "earlier in the input"
	if prev.source != "" {
		where = "in " + prev.source
	}
	b.problem(source, obj, "the same object is also given %s with different content; neither copy is used", where)
	return false
}

// contentSum hashes an object's content in a canonical form (keys sorted),
// without the metadata that changes on every read.
func contentSum(raw []byte) [sha256.Size]byte {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return sha256.Sum256(raw)
	}
	if m, ok := v["metadata"].(map[string]any); ok {
		for _, k := range []string{"resourceVersion", "managedFields", "generation", "uid", "selfLink"} {
			delete(m, k)
		}
	}
	delete(v, "status")
	if v["kind"] == "Service" {
		// A Service's status (its LoadBalancer IPs) is what the fabric
		// follows: two copies that differ there differ.
		var full map[string]any
		_ = json.Unmarshal(raw, &full)
		v["status"] = full["status"]
	}
	b, _ := json.Marshal(v) // encoding/json sorts map keys
	return sha256.Sum256(b)
}

// forget drops what an earlier copy of an object recorded.
func (b *Builder) forget(env envelope) {
	name, ns := env.Metadata.Name, env.Metadata.Namespace
	switch env.Kind {
	case "Node":
		if env.APIVersion == "v1" {
			delete(b.coreNodes, name)
		} else {
			delete(b.calicoNodes, name)
		}
	case "Service":
		delete(b.services, ns+"/"+name)
	case "EndpointSlice":
		delete(b.slices, ns+"/"+name)
	case "BGPPeer":
		delete(b.peers, name)
	case "BGPConfiguration":
		if name == "default" {
			b.bgpConfig = nil
		}
	case "IPPool":
		delete(b.pools, name)
	case "IPAMBlock":
		delete(b.blocks, b.blockKeys[env.Kind+"/"+name])
	case "BlockAffinity":
		delete(b.affinities, b.blockKeys[env.Kind+"/"+name])
	case "IPAddressPool":
		delete(b.lbPools, "metallb/"+ns+"/"+name)
	case "ServiceGroup":
		delete(b.lbPools, "purelb/"+ns+"/"+name)
	case "ConfigMap":
		for k := range b.lbPools {
			if strings.HasPrefix(k, "metallb-configmap/") {
				delete(b.lbPools, k)
			}
		}
	}
}

func (b *Builder) knownKind(apiVersion, kind string) bool {
	switch apiVersion + "/" + kind {
	case "v1/Node", "v1/Service", "discovery.k8s.io/v1/EndpointSlice",
		CalicoV3 + "/Node", CalicoV3 + "/BGPPeer", CalicoV3 + "/BGPConfiguration", CalicoV3 + "/IPPool", CalicoV3 + "/BlockAffinity",
		CalicoCRDV1 + "/BGPPeer", CalicoCRDV1 + "/BGPConfiguration", CalicoCRDV1 + "/IPPool", CalicoCRDV1 + "/IPAMBlock", CalicoCRDV1 + "/BlockAffinity",
		MetalLBV1b1 + "/IPAddressPool", PureLBV1 + "/ServiceGroup":
		return true
	case "v1/ConfigMap":
		return true // only metallb-system/config is read; others are ignored below
	}
	return false
}

func objectName(kind, ns, name string) string {
	if kind == "" {
		kind = "object"
	}
	if name == "" {
		name = "<unnamed>"
	}
	if ns != "" {
		return kind + "/" + ns + "/" + name
	}
	return kind + "/" + name
}

// checkName validates a cluster object name before anything derived from it
// can reach a switch.
func checkName(kind, name string) error {
	var errs []string
	switch kind {
	case "Service":
		errs = validation.IsDNS1035Label(name)
	case "Namespace":
		errs = validation.IsDNS1123Label(name)
	default:
		errs = validation.IsDNS1123Subdomain(name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid %s name %q: %s", kind, truncate(name, 80), strings.Join(errs, "; "))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func decodeSpec(spec json.RawMessage, into any) error {
	if len(spec) == 0 || string(spec) == "null" {
		return fmt.Errorf("spec is missing")
	}
	if err := json.Unmarshal(spec, into); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}

// --- Nodes ---

func (b *Builder) addCoreNode(raw []byte) error {
	var n corev1.Node
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	if err := checkName("Node", n.Name); err != nil {
		return err
	}
	node := Node{Name: n.Name, Labels: copyLabels(n.Labels)}
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
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

// --- Calico BGP objects ---

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
	if prev, ok := b.peers[p.Name]; ok && prev.v3 && env.APIVersion != CalicoV3 {
		return nil
	}
	b.peers[p.Name] = prioritized[BGPPeer]{v: p, v3: env.APIVersion == CalicoV3}
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

// --- Services ---

func (b *Builder) addService(raw []byte) error {
	var s corev1.Service
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	if err := checkName("Namespace", s.Namespace); err != nil {
		return err
	}
	if err := checkName("Service", s.Name); err != nil {
		return err
	}
	svc := Service{Namespace: s.Namespace, Name: s.Name, LoadBalancerIP: s.Spec.LoadBalancerIP,
		ExternalTrafficPolicy: string(s.Spec.ExternalTrafficPolicy), Created: s.CreationTimestamp.UTC()}
	if svc.ExternalTrafficPolicy == "" {
		svc.ExternalTrafficPolicy = string(corev1.ServiceExternalTrafficPolicyCluster)
	}
	switch svc.ExternalTrafficPolicy {
	case "Cluster", "Local":
	default:
		return fmt.Errorf("spec.externalTrafficPolicy %q is not Cluster or Local", svc.ExternalTrafficPolicy)
	}
	for _, key := range sharingAnnotations {
		if v := s.Annotations[key]; v != "" {
			svc.SharingKey = v
		}
	}
	for i, ing := range s.Status.LoadBalancer.Ingress {
		if ing.IP == "" {
			continue // a hostname-only ingress has nothing to route
		}
		a, err := netip.ParseAddr(ing.IP)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("status.loadBalancer.ingress[%d].ip: %q is not an IP address", i, ing.IP)
		}
		a = a.Unmap()
		if !a.IsGlobalUnicast() && !a.IsPrivate() {
			return fmt.Errorf("status.loadBalancer.ingress[%d].ip: %s is not a unicast address", i, a)
		}
		svc.IPs = append(svc.IPs, a)
	}
	for i, p := range s.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		switch proto {
		case "TCP", "UDP", "SCTP":
		default:
			return fmt.Errorf("spec.ports[%d].protocol %q is not TCP, UDP or SCTP", i, p.Protocol)
		}
		if p.Port < 1 || p.Port > 65535 {
			return fmt.Errorf("spec.ports[%d].port %d is not 1-65535", i, p.Port)
		}
		svc.Ports = append(svc.Ports, ServicePort{Name: p.Name, Protocol: proto, Port: int(p.Port)})
	}
	b.services[svc.Key()] = svc
	return nil
}

func (b *Builder) addEndpointSlice(raw []byte) error {
	var es discoveryv1.EndpointSlice
	if err := json.Unmarshal(raw, &es); err != nil {
		return err
	}
	svc := es.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return nil // not managed for a Service
	}
	info := sliceInfo{service: es.Namespace + "/" + svc}
	for _, ep := range es.Endpoints {
		// A nil ready condition means ready (discovery.k8s.io/v1 API docs).
		if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
			continue
		}
		if ep.NodeName == nil || *ep.NodeName == "" {
			continue
		}
		if err := checkName("Node", *ep.NodeName); err != nil {
			return fmt.Errorf("endpoints: %v", err)
		}
		info.nodes = append(info.nodes, *ep.NodeName)
	}
	b.slices[es.Namespace+"/"+es.Name] = info
	return nil
}

// --- LoadBalancer pools ---

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
	return nil
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

// --- Build ---

// Build returns the ClusterState of everything added so far.
func (b *Builder) Build() ClusterState {
	var cs ClusterState

	names := map[string]bool{}
	for n := range b.coreNodes {
		names[n] = true
	}
	for n := range b.calicoNodes {
		names[n] = true
	}
	for name := range names {
		core, hasCore := b.coreNodes[name]
		cal, hasCal := b.calicoNodes[name]
		node := core.node
		if !hasCore {
			node = cal.node
		} else if hasCal {
			// The v3 Node is the Calico view of the same node: its labels
			// and BGP spec take precedence over the annotations.
			for k, v := range cal.node.Labels {
				if node.Labels == nil {
					node.Labels = map[string]string{}
				}
				node.Labels[k] = v
			}
			if cal.hasBGP || cal.node.BGP.ASN != 0 {
				node.BGP = cal.node.BGP
			}
		}
		cs.Nodes = append(cs.Nodes, node)
	}
	sort.Slice(cs.Nodes, func(i, j int) bool { return cs.Nodes[i].Name < cs.Nodes[j].Name })

	for _, p := range b.peers {
		cs.BGPPeers = append(cs.BGPPeers, p.v)
	}
	sort.Slice(cs.BGPPeers, func(i, j int) bool { return cs.BGPPeers[i].Name < cs.BGPPeers[j].Name })

	if b.bgpConfig != nil {
		cs.BGPConfig = b.bgpConfig.v
	}

	for _, p := range b.pools {
		cs.IPPools = append(cs.IPPools, p.v)
	}
	sort.Slice(cs.IPPools, func(i, j int) bool { return cs.IPPools[i].Name < cs.IPPools[j].Name })

	blocks := map[string]IPAMBlock{}
	for k, blk := range b.blocks {
		blocks[k+"@"+blk.Node] = blk
	}
	for k, blk := range b.affinities {
		blocks[k] = blk
	}
	for _, blk := range blocks {
		cs.Blocks = append(cs.Blocks, blk)
	}
	sort.Slice(cs.Blocks, func(i, j int) bool {
		if c := cs.Blocks[i].CIDR.Addr().Compare(cs.Blocks[j].CIDR.Addr()); c != 0 {
			return c < 0
		}
		return cs.Blocks[i].Node < cs.Blocks[j].Node
	})

	endpointNodes := map[string]map[string]bool{}
	for _, si := range b.slices {
		if endpointNodes[si.service] == nil {
			endpointNodes[si.service] = map[string]bool{}
		}
		for _, n := range si.nodes {
			endpointNodes[si.service][n] = true
		}
	}
	for key, svc := range b.services {
		for n := range endpointNodes[key] {
			svc.EndpointNodes = append(svc.EndpointNodes, n)
		}
		sort.Strings(svc.EndpointNodes)
		cs.Services = append(cs.Services, svc)
	}
	sort.Slice(cs.Services, func(i, j int) bool { return cs.Services[i].Key() < cs.Services[j].Key() })

	for _, p := range b.lbPools {
		cs.LBPools = append(cs.LBPools, p)
	}
	sort.Slice(cs.LBPools, func(i, j int) bool {
		a, c := cs.LBPools[i], cs.LBPools[j]
		return a.Source+"/"+a.Namespace+"/"+a.Name < c.Source+"/"+c.Namespace+"/"+c.Name
	})

	cs.Seen = maps.Clone(b.seen)
	cs.Problems = append([]Problem(nil), b.problems...)
	sort.SliceStable(cs.Problems, func(i, j int) bool { return cs.Problems[i].Object < cs.Problems[j].Object })
	return cs
}

// FormatASN prints an AS number as plain digits.
func FormatASN(a uint32) string { return strconv.FormatUint(uint64(a), 10) }
