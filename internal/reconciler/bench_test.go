package reconciler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
)

// largeCluster writes a cluster of n nodes in racks of 40 (each rack peering
// with its two ToRs through a nodeSelector BGPPeer), one /26 block per node
// and svcs LoadBalancer services with two endpoints each.
func largeCluster(b *testing.B, n, svcs int) (k8swatch.ClusterState, string) {
	var docs []string
	racks := (n + 39) / 40
	var switches strings.Builder
	for r := 0; r < racks; r++ {
		for _, side := range []int{1, 2} {
			ip := fmt.Sprintf("10.%d.%d.25%d", 100+r/250, r%250, side)
			docs = append(docs, fmt.Sprintf("apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor-%d-%d}\nspec: {peerIP: %s, asNumber: 65000, nodeSelector: rack == 'r%d'}", r, side, ip, r))
			fmt.Fprintf(&switches, "  - {name: tor-%d-%d, peerIPs: [%s], address: '127.0.0.1:%d'}\n", r, side, ip, 20000+2*r+side)
		}
	}
	for i := 0; i < n; i++ {
		r := i / 40
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-%d\n  labels: {rack: r%d}\n  annotations: {projectcalico.org/IPv4Address: 10.%d.%d.%d/24, projectcalico.org/ASNumber: '%d'}",
			i, r, 100+r/250, r%250, i%40+1, 64600+i))
		docs = append(docs, fmt.Sprintf("apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: b%d}\nspec: {cidr: 172.16.%d.%d/26, affinity: 'host:node-%d'}", i, i/4, (i%4)*64, i))
	}
	docs = append(docs, "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceLoadBalancerIPs: [{cidr: 172.29.0.0/16}]}")
	for i := 0; i < svcs; i++ {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: ns-%d}\nspec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 443}, {port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.%d.%d}]}}", i, i%50, i/250, i%250+1))
		docs = append(docs, fmt.Sprintf("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e%d, namespace: ns-%d, labels: {kubernetes.io/service-name: svc-%d}}\naddressType: IPv4\nendpoints: [{addresses: [10.9.9.9], nodeName: node-%d}, {addresses: [10.9.9.8], nodeName: node-%d}]", i, i%50, i, i%n, (i+7)%n))
	}
	bld := k8swatch.NewBuilder()
	if err := bld.AddDocuments("large.yaml", []byte(strings.Join(docs, "\n---\n"))); err != nil {
		b.Fatal(err)
	}
	return bld.Build(), switches.String()
}

// BenchmarkTranslate: a 1000-node, 2000-service cluster into an FRR fabric of
// 50 ToR pairs (prefix filters and per-switch maximum-paths included).
func BenchmarkTranslate(b *testing.B) {
	cs, switches := largeCluster(b, 1000, 2000)
	cfg, err := torConfig(switches)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := Translate(cs, cfg, TranslateOptions{})
		if len(d.Fabrics[0].State.Peers) != 2000 {
			b.Fatalf("peers = %d", len(d.Fabrics[0].State.Peers))
		}
	}
}

// BenchmarkDiff: diffing that desired state against an observation that
// differs in one peer in ten.
func BenchmarkDiff(b *testing.B) {
	cs, switches := largeCluster(b, 1000, 2000)
	cfg, err := torConfig(switches)
	if err != nil {
		b.Fatal(err)
	}
	want := Translate(cs, cfg, TranslateOptions{}).Fabrics[0]
	var have fabric.State
	for i, o := range want.State.Objects() {
		if p, ok := o.(fabric.BGPPeer); ok && i%10 == 0 {
			p.RemoteASN++
			o = p
		}
		have.Add(o)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := fabric.Diff(want, fabric.Observed{Owned: have})
		if len(p.Changes) == 0 {
			b.Fatal("no changes")
		}
	}
}

// torConfig is an FRR fabric of the given switches.
func torConfig(switches string) (*config.Config, error) {
	return config.Parse([]byte("cluster: big\nfabrics:\n- name: tors\n  driver: frr\n  asn: 65000\n  switches:\n" + switches +
		"  ssh: {username: admin, passwordFile: /dev/null, insecureIgnoreHostKey: true}\n"))
}
