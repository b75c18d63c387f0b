package k8swatch

// MetalLB's own BGP set-up: its BGPPeers and BGPAdvertisements, and the
// peers of its legacy ConfigMap. fabric-reconciler never drives them; it
// reads them because MetalLB and Calico cannot both hold a BGP session to
// one router (doctor says so).

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// MetalLB API versions that hold its BGP kinds (BGPPeer moved to v1beta2).
const MetalLBV1b2 = "metallb.io/v1beta2"

// Input kinds counted in ClusterState.Seen for MetalLB's BGP objects: not
// "BGPPeer", which is Calico's.
const (
	KindMetalLBBGPPeer          = "MetalLBBGPPeer"
	KindMetalLBBGPAdvertisement = "BGPAdvertisement"
)

// LBBGPPeer is a BGP session MetalLB's speakers open: a metallb.io
// BGPPeer, or a peer of the legacy ConfigMap.
type LBBGPPeer struct {
	// Source is "metallb" (BGPPeer) or "metallb-configmap".
	Source      string     `json:"source"`
	Namespace   string     `json:"namespace,omitempty"`
	Name        string     `json:"name"`
	PeerAddress netip.Addr `json:"peerAddress"`
	PeerASN     uint32     `json:"peerASN,omitempty"`
	MyASN       uint32     `json:"myASN,omitempty"`
}

// LBAdvertisement is a MetalLB BGPAdvertisement: MetalLB's speakers
// announce the pools it names (every pool when it names none).
type LBAdvertisement struct {
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	Pools     []string `json:"pools,omitempty"`
}

func (b *Builder) addMetalLBBGPPeer(env envelope) error {
	var spec struct {
		PeerAddress string          `json:"peerAddress"`
		PeerASN     json.RawMessage `json:"peerASN"`
		MyASN       json.RawMessage `json:"myASN"`
	}
	if err := decodeSpec(env.Spec, &spec); err != nil {
		return err
	}
	a, err := netip.ParseAddr(spec.PeerAddress)
	if err != nil {
		return fmt.Errorf("spec.peerAddress: %q is not an IP address", spec.PeerAddress)
	}
	p := LBBGPPeer{Source: "metallb", Namespace: env.Metadata.Namespace, Name: env.Metadata.Name, PeerAddress: a.Unmap()}
	if p.PeerASN, err = asnFromJSON(spec.PeerASN, "spec.peerASN"); err != nil {
		return err
	}
	if p.MyASN, err = asnFromJSON(spec.MyASN, "spec.myASN"); err != nil {
		return err
	}
	b.lbPeers["metallb/"+p.Namespace+"/"+p.Name] = p
	return nil
}

func (b *Builder) addMetalLBAdvertisement(env envelope) error {
	var spec struct {
		IPAddressPools []string `json:"ipAddressPools"`
	}
	if len(env.Spec) > 0 && string(env.Spec) != "null" {
		if err := json.Unmarshal(env.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
	}
	b.lbAdverts[env.Metadata.Namespace+"/"+env.Metadata.Name] = LBAdvertisement{Namespace: env.Metadata.Namespace,
		Name: env.Metadata.Name, Pools: spec.IPAddressPools}
	return nil
}

// legacyPeer is a peer of MetalLB's pre-0.13 ConfigMap.
type legacyPeer struct {
	PeerAddress string `json:"peer-address"`
	PeerASN     uint32 `json:"peer-asn"`
	MyASN       uint32 `json:"my-asn"`
}

func (b *Builder) addLegacyPeers(peers []legacyPeer) error {
	for i, p := range peers {
		a, err := netip.ParseAddr(p.PeerAddress)
		if err != nil {
			return fmt.Errorf("data.config: peers[%d].peer-address: %q is not an IP address", i, p.PeerAddress)
		}
		name := fmt.Sprintf("peers[%d]", i)
		b.lbPeers["metallb-configmap/"+name] = LBBGPPeer{Source: "metallb-configmap", Namespace: metalLBNamespace, Name: name,
			PeerAddress: a.Unmap(), PeerASN: p.PeerASN, MyASN: p.MyASN}
	}
	return nil
}
