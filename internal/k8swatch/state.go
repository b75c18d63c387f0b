// Package k8swatch reads a cluster's routing state (Kubernetes and Calico
// objects, MetalLB and PureLB pools) into one ClusterState value: from
// exported YAML files, or live through client-go informers. It knows
// Kubernetes and Calico, and nothing about switches.
package k8swatch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"time"
)

// ClusterState is everything the reconciler needs from a cluster. A value is
// never modified after Build returns it; slices are sorted so that the same
// objects always give an equal value.
type ClusterState struct {
	Nodes     []Node      `json:"nodes"`
	BGPPeers  []BGPPeer   `json:"bgpPeers"`
	BGPConfig BGPConfig   `json:"bgpConfiguration"`
	IPPools   []IPPool    `json:"ipPools"`
	Blocks    []IPAMBlock `json:"ipamBlocks"`
	Services  []Service   `json:"services"`
	LBPools   []LBPool    `json:"lbPools"`
	// LBBGPPeers and LBAdvertisements are MetalLB's own BGP set-up, read
	// to warn: MetalLB and Calico cannot both hold a session to one router.
	LBBGPPeers       []LBBGPPeer       `json:"lbBGPPeers,omitempty"`
	LBAdvertisements []LBAdvertisement `json:"lbAdvertisements,omitempty"`
	// Secrets are the values of the Secret keys the BGPPeers name, by
	// "namespace/name/key" (only those: nothing else of a Secret is kept).
	Secrets map[string]SecretValue `json:"secrets,omitempty"`
	// Problems are input objects that were malformed and left out.
	Problems []Problem `json:"problems"`
	// Seen counts the input objects of each kind read (Kind* constants),
	// valid or not, and whatever their type (every Service, not only the
	// LoadBalancer ones): a kind with no object at all is missing from the
	// input, which is not the same as empty.
	Seen map[string]int `json:"seen,omitempty"`
	// Complete is true when the source lists every kind it reads (the
	// informers after their caches synced): a kind without objects is then
	// really empty. Exported files are never complete: a file may be
	// missing.
	Complete bool `json:"complete,omitempty"`
}

// Input kinds counted in ClusterState.Seen, whatever their API group.
const (
	KindNode             = "Node"
	KindService          = "Service"
	KindEndpointSlice    = "EndpointSlice"
	KindBGPPeer          = "BGPPeer"
	KindBGPConfiguration = "BGPConfiguration"
	KindIPPool           = "IPPool"
	KindIPAMBlock        = "IPAMBlock"
	KindBlockAffinity    = "BlockAffinity"
)

// Has reports whether the input held at least one object of the kind, or
// the source is complete (so none means none).
func (cs ClusterState) Has(kind string) bool { return cs.Complete || cs.Seen[kind] > 0 }

// Node is a Kubernetes node with its Calico BGP settings, merged from the
// core Node (labels, addresses, podCIDRs, projectcalico.org/* annotations)
// and the projectcalico.org/v3 Node, whichever the input holds.
type Node struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	InternalIPs []netip.Addr      `json:"internalIPs,omitempty"`
	PodCIDRs    []netip.Prefix    `json:"podCIDRs,omitempty"`
	BGP         NodeBGP           `json:"bgp"`
}

// NodeBGP is a Calico node's BGP spec. Zero prefixes mean "no address";
// ASN 0 means "not set" (the global AS applies).
type NodeBGP struct {
	IPv4Address             netip.Prefix `json:"ipv4Address"`
	IPv6Address             netip.Prefix `json:"ipv6Address"`
	ASN                     uint32       `json:"asNumber,omitempty"`
	RouteReflectorClusterID string       `json:"routeReflectorClusterID,omitempty"`
}

// BGPPeer is a Calico BGPPeer as written; ResolvePeers applies Calico's
// semantics to it.
type BGPPeer struct {
	Name         string     `json:"name"`
	Node         string     `json:"node,omitempty"`
	NodeSelector string     `json:"nodeSelector,omitempty"`
	PeerSelector string     `json:"peerSelector,omitempty"`
	PeerIP       netip.Addr `json:"peerIP"`
	PeerPort     uint16     `json:"peerPort,omitempty"`
	ASN          uint32     `json:"asNumber,omitempty"`
	// Password names the Secret key holding the session's password, in the
	// namespace calico-node runs in (Calico: "a key of a secret in the node
	// pod's namespace").
	Password *SecretKeyRef `json:"password,omitempty"`
	// TTLSecurity is the GTSM hop count (0: off); MaxRestartTime the
	// graceful restart time in seconds (0: not set).
	TTLSecurity    int `json:"ttlSecurity,omitempty"`
	MaxRestartTime int `json:"maxRestartTime,omitempty"`
}

// SecretKeyRef names one key of a Secret.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// SecretValue is a value read from a Secret. It never prints, and JSON
// carries only a digest of it (for a cluster state's digest).
type SecretValue struct{ value string }

// Reveal returns the value, for the one place that writes it.
func (s SecretValue) Reveal() string { return s.value }

func (s SecretValue) String() string   { return "(sensitive)" }
func (s SecretValue) GoString() string { return "(sensitive)" }

// MarshalJSON writes a digest only.
func (s SecretValue) MarshalJSON() ([]byte, error) {
	sum := sha256.Sum256([]byte("k8swatch-secret\x00" + s.value))
	return json.Marshal("sha256:" + hex.EncodeToString(sum[:]))
}

// BGPConfig is the global ("default") Calico BGPConfiguration.
type BGPConfig struct {
	ASN                    uint32                `json:"asNumber,omitempty"`
	NodeToNodeMesh         *bool                 `json:"nodeToNodeMeshEnabled,omitempty"`
	ServiceLoadBalancerIPs []netip.Prefix        `json:"serviceLoadBalancerIPs,omitempty"`
	ServiceClusterIPs      []netip.Prefix        `json:"serviceClusterIPs,omitempty"`
	ServiceExternalIPs     []netip.Prefix        `json:"serviceExternalIPs,omitempty"`
	PrefixAdvertisements   []PrefixAdvertisement `json:"prefixAdvertisements,omitempty"`
}

// DefaultASN is Calico's AS number when neither the node nor the global
// BGPConfiguration sets one.
const DefaultASN = 64512

// PrefixAdvertisement tags a CIDR with BGP communities.
type PrefixAdvertisement struct {
	CIDR        netip.Prefix `json:"cidr"`
	Communities []string     `json:"communities"`
}

// IPPool is a Calico IP pool.
type IPPool struct {
	Name             string       `json:"name"`
	CIDR             netip.Prefix `json:"cidr"`
	BlockSize        int          `json:"blockSize"`
	Disabled         bool         `json:"disabled,omitempty"`
	DisableBGPExport bool         `json:"disableBGPExport,omitempty"`
	NodeSelector     string       `json:"nodeSelector,omitempty"`
	AllowedUses      []string     `json:"allowedUses,omitempty"`
}

// ForWorkloads reports whether pods get addresses from the pool.
func (p IPPool) ForWorkloads() bool {
	if p.Disabled {
		return false
	}
	if len(p.AllowedUses) == 0 {
		return true
	}
	for _, u := range p.AllowedUses {
		if u == "Workload" {
			return true
		}
	}
	return false
}

// ForLoadBalancers reports whether the pool holds LoadBalancer addresses:
// Calico's own LB IPAM (allowedUses LoadBalancer), or a disabled pool that
// only makes Calico export a range (the PureLB pattern).
func (p IPPool) ForLoadBalancers() bool {
	for _, u := range p.AllowedUses {
		if u == "LoadBalancer" {
			return true
		}
	}
	return p.Disabled
}

// IPAMBlock is an IPAM block affine to a node.
type IPAMBlock struct {
	CIDR netip.Prefix `json:"cidr"`
	Node string       `json:"node"`
}

// Service is a Service of type LoadBalancer.
type Service struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// IPs are the assigned LoadBalancer addresses (status.loadBalancer.ingress).
	IPs []netip.Addr `json:"ips,omitempty"`
	// LoadBalancerIP is the requested address (spec.loadBalancerIP), if any.
	LoadBalancerIP        string        `json:"loadBalancerIP,omitempty"`
	Ports                 []ServicePort `json:"ports"`
	ExternalTrafficPolicy string        `json:"externalTrafficPolicy"`
	// EndpointNodes are the nodes with at least one ready endpoint.
	EndpointNodes []string `json:"endpointNodes,omitempty"`
	// SharingKey is MetalLB's allow-shared-ip annotation.
	SharingKey string `json:"sharingKey,omitempty"`
	// Labels are the Service's labels, as the cluster holds them: a
	// driver may group services by one (the ACI driver's serviceGrouping
	// label:<key>) and checks the value itself before it names anything.
	Labels map[string]string `json:"labels,omitempty"`
	// Created is metadata.creationTimestamp: when two services claim one IP,
	// the older keeps it.
	Created time.Time `json:"created,omitzero"`
}

// Key is namespace/name.
func (s Service) Key() string { return s.Namespace + "/" + s.Name }

// ServicePort is one port of a Service.
type ServicePort struct {
	Name     string `json:"name,omitempty"`
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
}

// LBPool is an address pool a LoadBalancer implementation assigns from.
type LBPool struct {
	// Source is "metallb" (IPAddressPool), "metallb-configmap" (legacy
	// ConfigMap) or "purelb" (ServiceGroup).
	Source    string `json:"source"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Prefixes cover the pool's addresses exactly (ranges are split).
	Prefixes      []netip.Prefix `json:"prefixes"`
	AvoidBuggyIPs bool           `json:"avoidBuggyIPs,omitempty"`
	AutoAssign    bool           `json:"autoAssign"`
	// Aggregation is PureLB's advertised prefix length ("/32", "default").
	Aggregation string `json:"aggregation,omitempty"`
}

// Problem is an input object that was malformed and left out.
type Problem struct {
	Object string `json:"object"` // Kind/name or Kind/namespace/name
	Source string `json:"source,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.Source != "" {
		return p.Source + ": " + p.Object + ": " + p.Reason
	}
	return p.Object + ": " + p.Reason
}

// Node returns the node with that name.
func (cs ClusterState) Node(name string) (Node, bool) {
	for _, n := range cs.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// BGPPeer returns the BGPPeer with that name.
func (cs ClusterState) BGPPeer(name string) (BGPPeer, bool) {
	for _, p := range cs.BGPPeers {
		if p.Name == name {
			return p, true
		}
	}
	return BGPPeer{}, false
}

// SecretKey is the key of a value in ClusterState.Secrets.
func SecretKey(namespace string, ref SecretKeyRef) string {
	return namespace + "/" + ref.Name + "/" + ref.Key
}

// Secret returns a Secret key's value, if the input held it.
func (cs ClusterState) Secret(namespace string, ref SecretKeyRef) (SecretValue, bool) {
	v, ok := cs.Secrets[SecretKey(namespace, ref)]
	return v, ok
}
