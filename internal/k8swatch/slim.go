package k8swatch

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The fields of the core objects the builder reads, decoded as their
// k8s.io/api types spell them and nothing else: decoding a whole
// corev1.Service for its type, ports and ingress costs most of the time a
// cluster of 50,000 services takes to read.

type objectMetaFields struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	CreationTimestamp metav1.Time       `json:"creationTimestamp"`
}

// slimService is a core/v1 Service.
type slimService struct {
	objectMetaFields `json:"metadata"`
	Spec             struct {
		Type                  string            `json:"type"`
		LoadBalancerIP        string            `json:"loadBalancerIP"`
		ExternalTrafficPolicy string            `json:"externalTrafficPolicy"`
		Ports                 []slimServicePort `json:"ports"`
	} `json:"spec"`
	Status struct {
		LoadBalancer struct {
			Ingress []slimIngress `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

// slimEndpointSlice is a discovery.k8s.io/v1 EndpointSlice.
type slimEndpointSlice struct {
	objectMetaFields `json:"metadata"`
	Endpoints        []slimEndpoint `json:"endpoints"`
}

// slimNode is a core/v1 Node.
type slimNode struct {
	objectMetaFields `json:"metadata"`
	Spec             struct {
		PodCIDR  string   `json:"podCIDR"`
		PodCIDRs []string `json:"podCIDRs"`
	} `json:"spec"`
	Status struct {
		Addresses []slimNodeAddress `json:"addresses"`
	} `json:"status"`
}

type slimServicePort struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Port     int32  `json:"port"`
}

type slimIngress struct {
	IP string `json:"ip"`
}

type slimEndpoint struct {
	NodeName   *string `json:"nodeName"`
	Conditions struct {
		Ready *bool `json:"ready"`
	} `json:"conditions"`
}

type slimNodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}
