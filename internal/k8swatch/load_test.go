package k8swatch

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadFormats(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		// multi-document with comments and empty documents
		"a/multi.yaml": "# export\n---\n" + calicoNode("n1", "10.0.0.1/24", "", "65001") + "---\n# nothing\n---\n" +
			calicoNode("n2", "10.0.0.2/24", "", "65002"),
		// kubectl's generic List
		"a/list.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: projectcalico.org/v3\n  kind: BGPPeer\n  metadata: {name: p1}\n  spec: {peerIP: 10.0.0.254, asNumber: 65500}\n",
		// a typed list whose items leave out apiVersion and kind
		"b/typed.yml": "apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n- metadata: {name: pool}\n  spec: {cidr: 172.27.0.0/16}\n",
		// JSON, as `kubectl get -o json` writes it
		"b/svc.json": `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"demo"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]},"status":{"loadBalancer":{"ingress":[{"ip":"172.29.0.9"}]}}}`,
		// not read: other extensions and hidden folders
		"b/notes.txt":        "kind: Node",
		".hidden/node.yaml":  calicoNode("hidden", "10.0.0.9/24", "", "65009"),
		"c/unknown-kind.yml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
	})
	cs, err := LoadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Problems) != 0 {
		t.Fatalf("problems: %v", cs.Problems)
	}
	var names []string
	for _, n := range cs.Nodes {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "n1,n2" {
		t.Errorf("nodes = %v", names)
	}
	if len(cs.BGPPeers) != 1 || cs.BGPPeers[0].Name != "p1" {
		t.Errorf("peers = %+v", cs.BGPPeers)
	}
	if len(cs.IPPools) != 1 || cs.IPPools[0].CIDR != netip.MustParsePrefix("172.27.0.0/16") || cs.IPPools[0].BlockSize != 26 {
		t.Errorf("pools = %+v (block size must default to 26)", cs.IPPools)
	}
	if len(cs.Services) != 1 || cs.Services[0].Key() != "demo/web" || cs.Services[0].Ports[0].Protocol != "TCP" ||
		cs.Services[0].ExternalTrafficPolicy != "Cluster" {
		t.Errorf("services = %+v (protocol and policy must default to TCP and Cluster)", cs.Services)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"bad.yaml": "apiVersion: v1\nkind: Node\nmetadata: [unclosed\n"})
	if _, err := LoadFiles(filepath.Join(dir, "bad.yaml")); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("unparsable YAML: err = %v, want an error naming the file", err)
	}
	if _, err := LoadFiles(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
	empty := t.TempDir()
	if _, err := LoadFiles(empty); err == nil || !strings.Contains(err.Error(), "no .yaml") {
		t.Errorf("empty folder: err = %v", err)
	}
	if _, err := LoadFiles(); err == nil {
		t.Error("no paths: no error")
	}
}

// TestMalformedObjects: each malformed known object is reported with its file
// and name, and left out; the other objects still load.
func TestMalformedObjects(t *testing.T) {
	tests := []struct {
		name, doc, object, reason string
	}{
		{"IPPool invalid CIDR", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: bad}\nspec: {cidr: 172.27.0.0/33}", "IPPool/bad", "not a valid CIDR"},
		{"IPPool host bits", "apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: bad}\nspec: {cidr: 172.27.0.1/16}", "IPPool/bad", "host bits are set"},
		{"IPPool block size", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: bad}\nspec: {cidr: 172.27.0.0/16, blockSize: 8}", "IPPool/bad", "blockSize"},
		{"node annotation ASN 0", "apiVersion: v1\nkind: Node\nmetadata:\n  name: bad\n  annotations: {projectcalico.org/ASNumber: '0'}", "Node/bad", "AS number 0"},
		{"node annotation ASN too large", "apiVersion: v1\nkind: Node\nmetadata:\n  name: bad\n  annotations: {projectcalico.org/ASNumber: '4294967296'}", "Node/bad", "not 1-4294967295"},
		{"node annotation bad address", "apiVersion: v1\nkind: Node\nmetadata:\n  name: bad\n  annotations: {projectcalico.org/IPv4Address: 192.168.9.300/28}", "Node/bad", "IPv4Address"},
		{"node v6 annotation holds v4", "apiVersion: v1\nkind: Node\nmetadata:\n  name: bad\n  annotations: {projectcalico.org/IPv6Address: 192.168.9.3/28}", "Node/bad", "not an IPv6 address"},
		{"calico node bad ASN", calicoNode("bad", "10.0.0.1/24", "", "99999999999"), "Node/bad", "spec.bgp.asNumber"},
		{"node name with ]", "apiVersion: v1\nkind: Node\nmetadata: {name: 'bad]'}", "Node/bad]", "invalid Node name"},
		{"node name with newline", "apiVersion: v1\nkind: Node\nmetadata: {name: \"bad\\nexit\"}", "Node/bad\nexit", "invalid Node name"},
		{"service name 300 characters", "apiVersion: v1\nkind: Service\nmetadata: {name: " + strings.Repeat("s", 300) + ", namespace: ns}\nspec: {type: LoadBalancer}", "Service/ns/" + strings.Repeat("s", 300), "invalid Service name"},
		{"service bad ingress", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.300}]}}", "Service/ns/web", "ingress[0].ip"},
		{"service bad protocol", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {type: LoadBalancer, ports: [{port: 80, protocol: ICMP}]}", "Service/ns/web", "protocol"},
		{"service wrong type in field", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {type: LoadBalancer, ports: [{port: eighty}]}", "Service/ns/web", "cannot unmarshal"},
		{"BGPConfiguration bad CIDR", "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceLoadBalancerIPs: [{cidr: 172.29.0.0/99}]}", "BGPConfiguration/default", "serviceLoadBalancerIPs[0]"},
		{"IPAMBlock bad CIDR", "apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: b}\nspec: {cidr: nope, affinity: 'host:n1'}", "IPAMBlock/b", "spec.cidr"},
		{"BlockAffinity bad deleted", "apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: b}\nspec: {cidr: 172.27.0.0/26, node: n1, state: confirmed, deleted: maybe}", "BlockAffinity/b", "spec.deleted"},
		{"MetalLB pool bad range", "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [172.29.0.9-172.29.0.1]}", "IPAddressPool/metallb-system/p", "not a valid address range"},
		{"spec missing", "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p}", "BGPPeer/p", "spec is missing"},
		{"name missing", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {}\nspec: {cidr: 10.0.0.0/8}", "IPPool/<unnamed>", "metadata.name is missing"},
	}
	good := calicoNode("good", "10.0.0.1/24", "", "65001")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"cluster.yaml": good + "---\n" + tt.doc})
			cs, err := LoadFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs.Problems) != 1 {
				t.Fatalf("problems = %v, want one", cs.Problems)
			}
			p := cs.Problems[0]
			if p.Object != tt.object || !strings.Contains(p.Reason, tt.reason) || !strings.Contains(p.Source, "cluster.yaml (document 2)") {
				t.Errorf("problem = %+v, want object %q, reason containing %q, source naming the file and document", p, tt.object, tt.reason)
			}
			if _, ok := cs.Node("good"); !ok {
				t.Error("the good node was dropped")
			}
		})
	}
}

func TestNodeSpellingsMerge(t *testing.T) {
	core := `apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {rack: a}
  annotations:
    projectcalico.org/IPv4Address: 10.0.0.1/24
    projectcalico.org/ASNumber: "65001"
    projectcalico.org/RouteReflectorClusterID: 1.0.0.1
spec:
  podCIDRs: [172.27.1.0/24]
status:
  addresses: [{type: InternalIP, address: 10.0.0.1}, {type: Hostname, address: n1}]
`
	v3 := calicoNode("n1", "10.0.0.11/24", "", "65011", "zone", "z1")
	tests := []struct {
		name string
		docs []string
		want Node
	}{
		{"core node with KDD annotations", []string{core}, Node{Name: "n1", Labels: map[string]string{"rack": "a"},
			InternalIPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("172.27.1.0/24")},
			BGP: NodeBGP{IPv4Address: netip.MustParsePrefix("10.0.0.1/24"), ASN: 65001, RouteReflectorClusterID: "1.0.0.1"}}},
		{"calico v3 node alone", []string{v3}, Node{Name: "n1", Labels: map[string]string{"zone": "z1"},
			BGP: NodeBGP{IPv4Address: netip.MustParsePrefix("10.0.0.11/24"), ASN: 65011}}},
		{"both: v3 BGP spec wins, labels merge, core addresses kept", []string{core, v3}, Node{Name: "n1",
			Labels:      map[string]string{"rack": "a", "zone": "z1"},
			InternalIPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("172.27.1.0/24")},
			BGP: NodeBGP{IPv4Address: netip.MustParsePrefix("10.0.0.11/24"), ASN: 65011}}},
		{"order does not matter", []string{v3, core}, Node{Name: "n1",
			Labels:      map[string]string{"rack": "a", "zone": "z1"},
			InternalIPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("172.27.1.0/24")},
			BGP: NodeBGP{IPv4Address: netip.MustParsePrefix("10.0.0.11/24"), ASN: 65011}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := stateFrom(t, tt.docs...)
			if len(cs.Problems) > 0 || len(cs.Nodes) != 1 {
				t.Fatalf("nodes %+v, problems %v", cs.Nodes, cs.Problems)
			}
			if !reflect.DeepEqual(cs.Nodes[0], tt.want) {
				t.Errorf("node:\n got %+v\nwant %+v", cs.Nodes[0], tt.want)
			}
		})
	}
}

func TestIPAMAndPools(t *testing.T) {
	cs := stateFrom(t,
		"apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: a}\nspec: {cidr: 172.27.0.0/26, affinity: 'host:n1', deleted: false}",
		"apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: b}\nspec: {cidr: 172.27.0.64/26, affinity: 'host:n2', deleted: true}",
		"apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: c}\nspec: {cidr: 172.27.0.128/26}",
		"apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: d}\nspec: {cidr: 172.27.0.0/26, node: n1, state: confirmed, deleted: 'false'}",
		"apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: e}\nspec: {cidr: 172.27.1.0/26, node: n3, state: pending, deleted: 'false'}",
		"apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: {name: f}\nspec: {cidr: 172.27.2.0/26, node: n3, state: confirmed, deleted: false}",
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.208.1.0/24, 10.208.2.1-10.208.2.6], avoidBuggyIPs: true, autoAssign: false}",
		"apiVersion: purelb.io/v1\nkind: ServiceGroup\nmetadata: {name: ipv4-routed, namespace: purelb}\nspec:\n  local: {aggregation: /32, pool: 172.30.200.155-172.30.200.160, subnet: 172.30.200.0/24}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata:\n  config: |\n    address-pools:\n    - name: default\n      protocol: bgp\n      avoid-buggy-ips: true\n      addresses: [172.29.0.0/16]\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: other}\ndata: {config: 'not metallb'}",
	)
	if len(cs.Problems) > 0 {
		t.Fatal(cs.Problems)
	}
	var blocks []string
	for _, b := range cs.Blocks {
		blocks = append(blocks, b.CIDR.String()+"@"+b.Node)
	}
	// released, unaffine and pending blocks are not the node's
	if got := strings.Join(blocks, " "); got != "172.27.0.0/26@n1 172.27.2.0/26@n3" {
		t.Errorf("blocks = %s", got)
	}
	pools := map[string]LBPool{}
	for _, p := range cs.LBPools {
		pools[p.Source+"/"+p.Name] = p
	}
	mp := pools["metallb/p"]
	if !mp.AvoidBuggyIPs || mp.AutoAssign || prefixes(mp.Prefixes) != "10.208.1.0/24 10.208.2.1/32 10.208.2.2/31 10.208.2.4/31 10.208.2.6/32" {
		t.Errorf("metallb pool = %+v", mp)
	}
	if pl := pools["purelb/ipv4-routed"]; prefixes(pl.Prefixes) != "172.30.200.155/32 172.30.200.156/30 172.30.200.160/32" || pl.Aggregation != "/32" {
		t.Errorf("purelb pool = %+v", pl)
	}
	if cm := pools["metallb-configmap/default"]; prefixes(cm.Prefixes) != "172.29.0.0/16" || !cm.AvoidBuggyIPs || !cm.AutoAssign {
		t.Errorf("configmap pool = %+v", cm)
	}
	if len(pools) != 3 {
		t.Errorf("pools = %v", pools)
	}
}

// TestMetalLBBGP: MetalLB's own BGP set-up is read (its BGPPeers in both
// versions, BGPAdvertisements, the legacy ConfigMap's peers) and counted
// apart from Calico's BGPPeers.
func TestMetalLBBGP(t *testing.T) {
	cs := stateFrom(t,
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: tor, namespace: metallb-system}\nspec: {peerAddress: 192.168.9.204, peerASN: 63500, myASN: 63551}",
		"apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: old, namespace: metallb-system}\nspec: {peerAddress: '10.0.0.1', peerASN: 65000, myASN: 64512}",
		"apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: adv, namespace: metallb-system}\nspec: {ipAddressPools: [p1]}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata:\n  config: |\n    peers:\n    - peer-address: 192.168.9.205\n      peer-asn: 63500\n      my-asn: 63552\n    address-pools: []\n",
		"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: calico}\nspec: {peerIP: 192.168.9.204, asNumber: 63500}",
	)
	if len(cs.Problems) > 0 {
		t.Fatal(cs.Problems)
	}
	var peers []string
	for _, p := range cs.LBBGPPeers {
		peers = append(peers, fmt.Sprintf("%s/%s/%s %s %d %d", p.Source, p.Namespace, p.Name, p.PeerAddress, p.PeerASN, p.MyASN))
	}
	want := "metallb-configmap/metallb-system/peers[0] 192.168.9.205 63500 63552, metallb/metallb-system/old 10.0.0.1 65000 64512, metallb/metallb-system/tor 192.168.9.204 63500 63551"
	if got := strings.Join(peers, ", "); got != want {
		t.Errorf("MetalLB peers:\n got %s\nwant %s", got, want)
	}
	if len(cs.LBAdvertisements) != 1 || cs.LBAdvertisements[0].Name != "adv" || strings.Join(cs.LBAdvertisements[0].Pools, ",") != "p1" {
		t.Errorf("advertisements = %+v", cs.LBAdvertisements)
	}
	if len(cs.BGPPeers) != 1 || cs.Seen[KindBGPPeer] != 1 || cs.Seen[KindMetalLBBGPPeer] != 2 || cs.Seen[KindMetalLBBGPAdvertisement] != 1 {
		t.Errorf("Calico peers %v, seen %v", cs.BGPPeers, cs.Seen)
	}
	bad := stateFrom(t, "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: x, namespace: metallb-system}\nspec: {peerAddress: nowhere, peerASN: 1}")
	if len(bad.Problems) != 1 || !strings.Contains(bad.Problems[0].Reason, "spec.peerAddress") {
		t.Errorf("problems = %v", bad.Problems)
	}
}

func prefixes(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

func TestServicesAndEndpoints(t *testing.T) {
	cs := stateFrom(t,
		"apiVersion: v1\nkind: Service\nmetadata: {name: cip, namespace: ns}\nspec: {type: ClusterIP, ports: [{port: 80}]}",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: ns\n  annotations: {metallb.universe.tf/allow-shared-ip: k}\nspec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}, {port: 53, protocol: UDP}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.1}, {hostname: lb.example}]}}",
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: ns, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints:\n- {addresses: [10.1.0.1], nodeName: n2, conditions: {ready: true}}\n- {addresses: [10.1.0.2], nodeName: n1}\n- {addresses: [10.1.0.3], nodeName: n3, conditions: {ready: false}}",
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-2, namespace: ns, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints:\n- {addresses: [10.1.0.4], nodeName: n2}",
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: other, namespace: other, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints:\n- {addresses: [10.1.0.5], nodeName: n9}",
	)
	if len(cs.Problems) > 0 || len(cs.Services) != 1 {
		t.Fatalf("services %+v problems %v", cs.Services, cs.Problems)
	}
	s := cs.Services[0]
	want := Service{Namespace: "ns", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("172.29.0.1")},
		Ports:                 []ServicePort{{Protocol: "TCP", Port: 80}, {Protocol: "UDP", Port: 53}},
		ExternalTrafficPolicy: "Local", EndpointNodes: []string{"n1", "n2"}, SharingKey: "k"}
	s.Created = want.Created
	if !reflect.DeepEqual(s, want) {
		t.Errorf("service:\n got %+v\nwant %+v", s, want)
	}
}

func TestExampleLoadsCleanly(t *testing.T) {
	cs, err := LoadFiles(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "cluster"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Problems) > 0 {
		t.Fatalf("problems: %v", cs.Problems)
	}
	if len(cs.Nodes) != 3 || len(cs.BGPPeers) != 6 || len(cs.Blocks) != 3 || len(cs.Services) != 2 || len(cs.LBPools) != 1 {
		t.Errorf("haystack: %d nodes, %d peers, %d blocks, %d services, %d LB pools", len(cs.Nodes), len(cs.BGPPeers), len(cs.Blocks), len(cs.Services), len(cs.LBPools))
	}
	// Build is deterministic: the same input gives byte-identical JSON.
	again, _ := LoadFiles(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "cluster"))
	a, _ := json.Marshal(cs)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Error("two loads of the same files differ")
	}
}

func TestRangeToPrefixes(t *testing.T) {
	tests := []struct{ from, to, want string }{
		{"10.0.0.0", "10.0.0.255", "10.0.0.0/24"},
		{"10.0.0.1", "10.0.0.1", "10.0.0.1/32"},
		{"10.0.0.1", "10.0.0.254", "10.0.0.1/32 10.0.0.2/31 10.0.0.4/30 10.0.0.8/29 10.0.0.16/28 10.0.0.32/27 10.0.0.64/26 10.0.0.128/26 10.0.0.192/27 10.0.0.224/28 10.0.0.240/29 10.0.0.248/30 10.0.0.252/31 10.0.0.254/32"},
		{"0.0.0.0", "255.255.255.255", "0.0.0.0/0"},
		{"2001:db8::1", "2001:db8::ffff", "2001:db8::1/128 2001:db8::2/127 2001:db8::4/126 2001:db8::8/125 2001:db8::10/124 2001:db8::20/123 2001:db8::40/122 2001:db8::80/121 2001:db8::100/120 2001:db8::200/119 2001:db8::400/118 2001:db8::800/117 2001:db8::1000/116 2001:db8::2000/115 2001:db8::4000/114 2001:db8::8000/113"},
	}
	for _, tt := range tests {
		got := prefixes(rangeToPrefixes(netip.MustParseAddr(tt.from), netip.MustParseAddr(tt.to)))
		if got != tt.want {
			t.Errorf("%s-%s = %s, want %s", tt.from, tt.to, got, tt.want)
		}
	}
}

// FuzzLoad feeds arbitrary bytes to the loader: it may report problems or
// refuse the file, but it must never panic, and the state it builds must
// marshal.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(calicoNode("n1", "10.0.0.1/24", "2001:db8::1/64", "65001", "rack", "a")))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: projectcalico.org/v3\n  kind: BGPPeer\n  metadata: {name: p}\n  spec: {peerIP: '10.0.0.254:179', asNumber: 65500, nodeSelector: has(a)}\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata:\n  config: |\n    address-pools:\n    - {name: d, addresses: [10.0.0.1-10.0.0.9]}\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"w","namespace":"n"},"spec":{"type":"LoadBalancer","ports":[{"port":1}]},"status":{"loadBalancer":{"ingress":[{"ip":"::ffff:1.2.3.4"}]}}}`))
	f.Add([]byte("apiVersion: purelb.io/v1\nkind: ServiceGroup\nmetadata: {name: g}\nspec: {local: {v6pools: [{pool: '2001:db8::1-2001:db8::9'}]}}"))
	for _, p := range []string{"nodes.yaml", "calico.yaml", "ipam.yaml", "services.yaml", "endpointslices.yaml", "metallb-config.yaml"} {
		if b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "cluster", p)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder()
		if err := b.AddDocuments("fuzz.yaml", data); err != nil {
			return
		}
		cs := b.Build()
		if _, err := json.Marshal(cs); err != nil {
			t.Fatalf("state does not marshal: %v", err)
		}
		cs.ResolvePeers()
	})
}

// One object given twice: the same content is read once, silently; other
// content leaves the object out altogether, whatever the file order, and
// says where both copies were.
func TestDuplicateObjects(t *testing.T) {
	node := func(asn string) string { return calicoNode("n1", "10.0.0.1/24", "", asn) }
	svc := func(ip string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: demo}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: " + ip + "}]}}\n"
	}
	for _, tc := range []struct {
		name          string
		files         map[string]string
		nodes, svcs   int
		problemObject string
	}{
		{"same node twice", map[string]string{"a.yaml": node("65001"), "b.yaml": node("65001")}, 1, 0, ""},
		{"node with two ASNs", map[string]string{"a.yaml": node("65001"), "b.yaml": node("65002")}, 0, 0, "Node/n1"},
		{"node with two ASNs, other order", map[string]string{"z.yaml": node("65001"), "b.yaml": node("65002")}, 0, 0, "Node/n1"},
		{"node three times", map[string]string{"a.yaml": node("65001"), "b.yaml": node("65002"), "c.yaml": node("65001")}, 0, 0, "Node/n1"},
		{"service status differs", map[string]string{"a.yaml": svc("172.29.0.9"), "b.yaml": svc("172.29.0.10")}, 0, 0, "Service/demo/web"},
		{"service identical", map[string]string{"a.yaml": svc("172.29.0.9"), "b.yaml": svc("172.29.0.9")}, 0, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := LoadFiles(writeFiles(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(cs.Nodes) != tc.nodes || len(cs.Services) != tc.svcs {
				t.Fatalf("%d nodes, %d services; want %d, %d", len(cs.Nodes), len(cs.Services), tc.nodes, tc.svcs)
			}
			if tc.problemObject == "" {
				if len(cs.Problems) != 0 {
					t.Fatalf("problems: %v", cs.Problems)
				}
				return
			}
			if len(cs.Problems) != 1 || cs.Problems[0].Object != tc.problemObject ||
				!strings.Contains(cs.Problems[0].Reason, "different content") || !strings.Contains(cs.Problems[0].Reason, ".yaml") {
				t.Fatalf("problems: %v, want one for %s naming both files", cs.Problems, tc.problemObject)
			}
		})
	}
}

// Seen tells a missing kind from an empty one.
func TestSeenKinds(t *testing.T) {
	cs, err := LoadFiles(writeFiles(t, map[string]string{
		"a.yaml": calicoNode("n1", "10.0.0.1/24", "", "65001") +
			"---\napiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\nspec: {type: ClusterIP, ports: [{port: 443}]}\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !cs.Has(KindNode) || !cs.Has(KindService) || cs.Has(KindIPAMBlock) || cs.Has(KindBGPConfiguration) {
		t.Fatalf("seen %v", cs.Seen)
	}
	if len(cs.Services) != 0 {
		t.Fatalf("a ClusterIP service became %v", cs.Services)
	}
	cs.Complete = true
	if !cs.Has(KindIPAMBlock) {
		t.Fatal("a complete source has every kind")
	}
}

// A BGPPeer's password comes from the Secret key it names; the loader keeps
// that key only, and never prints it.
func TestBGPPeerPasswordFromSecret(t *testing.T) {
	const pw = "BGP-MD5-KIWI-4410"
	cs, err := LoadFiles(writeFiles(t, map[string]string{
		"peer.yaml": "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: leaf201}\nspec:\n  peerIP: 10.0.0.254\n  asNumber: 65000\n" +
			"  ttlSecurity: 1\n  maxRestartTime: 2m\n  password: {secretKeyRef: {name: bgp-secrets, key: leaf201}}\n",
		"secrets.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: bgp-secrets, namespace: calico-system}\n" +
			"data: {leaf201: QkdQLU1ENS1LSVdJLTQ0MTA=, other: c2VjcmV0Mg==}\n---\n" +
			"apiVersion: v1\nkind: Secret\nmetadata: {name: unrelated, namespace: calico-system}\nstringData: {token: t0k3n}\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Problems) > 0 || len(cs.BGPPeers) != 1 {
		t.Fatalf("problems %v, peers %v", cs.Problems, cs.BGPPeers)
	}
	p := cs.BGPPeers[0]
	if p.Password == nil || p.Password.Name != "bgp-secrets" || p.TTLSecurity != 1 || p.MaxRestartTime != 120 {
		t.Fatalf("peer %+v", p)
	}
	v, ok := cs.Secret("calico-system", *p.Password)
	if !ok || v.Reveal() != pw {
		t.Fatalf("secret %v %v", v, ok)
	}
	if len(cs.Secrets) != 1 {
		t.Errorf("kept %d secret keys, want only the one a BGPPeer names", len(cs.Secrets))
	}
	js, _ := json.Marshal(cs)
	if out := fmt.Sprintf("%v %+v %#v %s", cs, cs, cs, js); strings.Contains(out, pw) || strings.Contains(out, "QkdQ") {
		t.Fatal("the password shows in the cluster state's printed or JSON form")
	}
}
