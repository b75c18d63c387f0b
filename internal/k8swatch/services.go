package k8swatch

// The core objects behind LoadBalancer services: Services and their
// EndpointSlices.

import (
	"encoding/json"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func (b *Builder) addService(raw []byte) error {
	var s slimService
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	return b.recordService(&s)
}

func (b *Builder) recordService(s *slimService) error {
	if s.Spec.Type != string(corev1.ServiceTypeLoadBalancer) {
		return nil
	}
	if err := checkName("Namespace", s.Namespace); err != nil {
		return err
	}
	if err := checkName("Service", s.Name); err != nil {
		return err
	}
	svc := Service{Namespace: s.Namespace, Name: s.Name, LoadBalancerIP: s.Spec.LoadBalancerIP,
		ExternalTrafficPolicy: string(s.Spec.ExternalTrafficPolicy), Created: s.CreationTimestamp.UTC(), Labels: s.Labels}
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
	var es slimEndpointSlice
	if err := json.Unmarshal(raw, &es); err != nil {
		return err
	}
	return b.recordEndpointSlice(&es)
}

func (b *Builder) recordEndpointSlice(es *slimEndpointSlice) error {
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
