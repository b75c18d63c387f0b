// Package gen makes synthetic clusters for benchmarks: N nodes in racks of
// a given size, each rack peering with its two ToRs through nodeSelector
// BGPPeers, one IP pool with a /26 block per node, and M LoadBalancer
// services with 1-3 ports, half of them Local with ready endpoints on 2-5
// nodes. It writes what `kubectl get -o json` and `calicoctl get -o json`
// would export, and a configuration for one FRR fabric of the ToRs.
package gen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Size is a synthetic cluster's size.
type Size struct {
	Name     string
	Nodes    int
	Services int
	Switches int // ToRs, two per rack
}

// Sizes are the benchmark's S, M and L.
var Sizes = []Size{
	{Name: "S", Nodes: 50, Services: 500, Switches: 4},
	{Name: "M", Nodes: 1000, Services: 10000, Switches: 40},
	{Name: "L", Nodes: 5000, Services: 50000, Switches: 100},
}

type obj = map[string]any

func list(items []obj) obj { return obj{"apiVersion": "v1", "kind": "List", "items": items} }

// Write writes the cluster of size s into dir (cluster/*.json and
// fabric.yaml) and returns the paths of the cluster folder and the
// configuration.
func Write(dir string, s Size) (clusterDir, configPath string, err error) {
	rng := rand.New(rand.NewPCG(uint64(s.Nodes), uint64(s.Services)))
	racks := max(s.Switches/2, 1)
	perRack := (s.Nodes + racks - 1) / racks
	var nodes, peers, blocks, services, slices []obj
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "cluster: bench\nfabrics:\n- name: tors\n  driver: frr\n  asn: 65000\n  ssh: {username: admin, passwordFile: /dev/null, insecureIgnoreHostKey: true}\n  switches:\n")
	for r := 0; r < racks; r++ {
		for side := 1; side <= 2; side++ {
			ip := fmt.Sprintf("10.%d.%d.%d", 100+r/250, r%250, 250+side)
			peers = append(peers, obj{"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
				"metadata": obj{"name": fmt.Sprintf("tor-%d-%d", r, side)},
				"spec":     obj{"peerIP": ip, "asNumber": 65000, "nodeSelector": fmt.Sprintf("rack == 'r%d'", r)}})
			fmt.Fprintf(&cfg, "  - {name: tor-%d-%d, peerIPs: [%s], address: '127.0.0.1:%d'}\n", r, side, ip, 20000+2*r+side)
		}
	}
	for i := 0; i < s.Nodes; i++ {
		r := i / perRack
		name := fmt.Sprintf("node-%d", i)
		nodes = append(nodes, obj{"apiVersion": "v1", "kind": "Node",
			"metadata": obj{"name": name, "labels": obj{"rack": fmt.Sprintf("r%d", r), "kubernetes.io/hostname": name},
				"annotations": obj{"projectcalico.org/IPv4Address": fmt.Sprintf("10.%d.%d.%d/24", 100+r/250, r%250, i%perRack+1),
					"projectcalico.org/ASNumber": fmt.Sprint(64600 + i%1000)}},
			"spec": obj{"podCIDR": fmt.Sprintf("172.16.%d.0/24", i%250)}})
		blocks = append(blocks, obj{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock",
			"metadata": obj{"name": fmt.Sprintf("b-%d", i)},
			"spec":     obj{"cidr": fmt.Sprintf("172.%d.%d.%d/26", 16+i/1024, (i/4)%256, (i%4)*64), "affinity": "host:" + name}})
	}
	calico := []obj{
		{"apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration", "metadata": obj{"name": "default"},
			"spec": obj{"nodeToNodeMeshEnabled": false, "serviceLoadBalancerIPs": []obj{{"cidr": "100.64.0.0/10"}}}},
		{"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": obj{"name": "pods"},
			"spec": obj{"cidr": "172.16.0.0/12", "blockSize": 26}},
	}
	services = append(services, obj{"apiVersion": "v1", "kind": "Service", "metadata": obj{"name": "kubernetes", "namespace": "default"},
		"spec": obj{"type": "ClusterIP", "ports": []obj{{"port": 443}}}})
	for i := 0; i < s.Services; i++ {
		ns, name := fmt.Sprintf("ns-%d", i%200), fmt.Sprintf("svc-%d", i)
		local := i%2 == 0
		policy := "Cluster"
		if local {
			policy = "Local"
		}
		var ports []obj
		for p := 0; p < 1+rng.IntN(3); p++ {
			ports = append(ports, obj{"name": fmt.Sprintf("p%d", p), "port": 8000 + p, "protocol": []string{"TCP", "UDP"}[p%2]})
		}
		ip := fmt.Sprintf("100.%d.%d.%d", 64+i/65536, (i/256)%256, i%256)
		services = append(services, obj{"apiVersion": "v1", "kind": "Service",
			"metadata": obj{"name": name, "namespace": ns, "creationTimestamp": "2024-01-01T00:00:00Z"},
			"spec":     obj{"type": "LoadBalancer", "externalTrafficPolicy": policy, "ports": ports},
			"status":   obj{"loadBalancer": obj{"ingress": []obj{{"ip": ip}}}}})
		if local {
			var eps []obj
			for e := 0; e < 2+rng.IntN(4); e++ {
				eps = append(eps, obj{"addresses": []string{"10.200.0.1"}, "nodeName": fmt.Sprintf("node-%d", rng.IntN(s.Nodes)),
					"conditions": obj{"ready": true}})
			}
			slices = append(slices, obj{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
				"metadata":    obj{"name": name + "-abcde", "namespace": ns, "labels": obj{"kubernetes.io/service-name": name}},
				"addressType": "IPv4", "endpoints": eps})
		}
	}
	clusterDir = filepath.Join(dir, "cluster")
	if err := os.MkdirAll(clusterDir, 0o755); err != nil {
		return "", "", err
	}
	for file, items := range map[string][]obj{"nodes.json": nodes, "bgppeers.json": peers, "calico.json": calico,
		"ipamblocks.json": blocks, "services.json": services, "endpointslices.json": slices} {
		b, err := json.Marshal(list(items))
		if err != nil {
			return "", "", err
		}
		if err := os.WriteFile(filepath.Join(clusterDir, file), b, 0o644); err != nil {
			return "", "", err
		}
	}
	configPath = filepath.Join(dir, "fabric.yaml")
	return clusterDir, configPath, os.WriteFile(configPath, []byte(cfg.String()), 0o644)
}
