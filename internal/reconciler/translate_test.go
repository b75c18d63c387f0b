package reconciler

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var haystack = filepath.Join(testenv.RepoRoot(), "examples", "haystack")

func exampleConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join(haystack, "fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// frrConfig describes the haystack leaves as FRR switches.
func frrConfig(t testing.TB, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`cluster: haystack
fabrics:
- name: haystack-frr
  driver: frr
  asn: 63500
  switches:
  - {name: leaf201, peerIPs: [192.168.9.204], address: "127.0.0.1:2201"}
  - {name: leaf202, peerIPs: [192.168.9.205], address: "127.0.0.1:2202"}
  ssh: {username: admin, passwordFile: /dev/null, insecureIgnoreHostKey: true}
` + extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func load(t testing.TB, paths ...string) k8swatch.ClusterState {
	t.Helper()
	cs, err := k8swatch.LoadFiles(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func planOf(d fabric.Desired) fabric.Plan {
	var fps []fabric.Changeset
	for _, f := range d.Fabrics {
		fps = append(fps, fabric.Diff(f, fabric.Observed{}))
	}
	return fabric.NewPlan(fps, d.Skipped, d.Warnings)
}

func planJSON(t testing.TB, p fabric.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := fabric.WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSpellingsGiveSamePlan: the reference lab's cluster written as calicoctl v3
// objects, as crd.projectcalico.org/v1 CRDs with KDD node annotations, and as
// the mixed export in examples/ gives one and the same plan.
func TestSpellingsGiveSamePlan(t *testing.T) {
	shared := []string{
		filepath.Join(haystack, "cluster", "services.yaml"),
		filepath.Join(haystack, "cluster", "endpointslices.yaml"),
		filepath.Join(haystack, "cluster", "metallb-config.yaml"),
	}
	spellings := map[string][]string{
		"v3 (calicoctl)":              append([]string{filepath.Join("testdata", "spellings", "v3")}, shared...),
		"crd.projectcalico.org/v1":    append([]string{filepath.Join("testdata", "spellings", "crdv1")}, shared...),
		"KDD annotations + v3 export": {filepath.Join(haystack, "cluster")},
	}
	for _, cfg := range []*config.Config{exampleConfig(t), frrConfig(t, "")} {
		var first, firstName string
		for name, paths := range spellings {
			cs := load(t, paths...)
			if len(cs.Problems) > 0 {
				t.Fatalf("%s: problems %v", name, cs.Problems)
			}
			got := planJSON(t, planOf(Translate(cs, cfg, TranslateOptions{})))
			if first == "" {
				first, firstName = got, name
				continue
			}
			if got != first {
				t.Errorf("driver %s: %s and %s give different plans:\n%s\n---\n%s", cfg.Fabrics[0].Driver, firstName, name, first, got)
			}
		}
	}
}

func TestHaystackACI(t *testing.T) {
	d := Translate(load(t, filepath.Join(haystack, "cluster")), exampleConfig(t), TranslateOptions{})
	if len(d.Skipped) != 0 {
		t.Fatalf("skipped %v", d.Skipped)
	}
	// The reference lab: the fabric runs AS 65000 and presents local-AS
	// 63500 to every node (each peer's localASN below); a design, not a
	// warning.
	if len(d.Warnings) != 0 {
		t.Errorf("warnings %v", d.Warnings)
	}
	st := d.Fabrics[0].State
	var peers []string
	for _, p := range st.Peers {
		peers = append(peers, p.Switch+">"+p.PeerAddress+"/"+k8swatch.FormatASN(p.RemoteASN)+"/"+k8swatch.FormatASN(p.LocalASN))
	}
	want := []string{
		"leaf201>192.168.9.193/63551/63500", "leaf202>192.168.9.193/63551/63500",
		"leaf201>192.168.9.194/63552/63500", "leaf202>192.168.9.194/63552/63500",
		"leaf201>192.168.9.195/63553/63500", "leaf202>192.168.9.195/63553/63500",
	}
	if !reflect.DeepEqual(peers, want) {
		t.Errorf("peers:\n got %v\nwant %v", peers, want)
	}
	var subnets []string
	for _, s := range st.Subnets {
		subnets = append(subnets, s.Group+" "+s.Prefix+" "+string(s.Scopes[0]))
	}
	wantSubnets := []string{
		"EPG_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD 172.29.0.7/32 import-security",
		"EPG_K8_APP_MULTICAST_MCAST 172.29.0.6/32 import-security",
		"EPG_K8_NODES 192.168.9.192/28 import-security",
		"EPG_K8_PODS 172.27.0.0/16 import-security",
		// Calico advertises the pool's /26 blocks and the Local services'
		// /32s inside the range: aggregate exports (a route map), not
		// export-rtctrl subnets, which match the exact prefix only.
		"L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS 172.27.0.0/16 export-aggregate",
		"L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS 172.29.0.0/16 export-aggregate",
		"L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS 192.168.9.192/28 export-rtctrl",
	}
	if !reflect.DeepEqual(subnets, wantSubnets) {
		t.Errorf("subnets:\n got %v\nwant %v", subnets, wantSubnets)
	}
	wantContracts := []fabric.Contract{
		{Name: "CNT_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD", Provider: "EPG_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD", Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"}, Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 443}}},
		{Name: "CNT_K8_APP_MULTICAST_MCAST", Provider: "EPG_K8_APP_MULTICAST_MCAST", Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"}, Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 80}}},
	}
	if !reflect.DeepEqual(st.Contracts, wantContracts) {
		t.Errorf("contracts:\n got %+v\nwant %+v", st.Contracts, wantContracts)
	}
	// Three nodes need 3 paths; ACI's VRF-wide default of 16 is kept.
	if !reflect.DeepEqual(st.MaximumPaths, []fabric.MaximumPaths{{AddressFamily: fabric.IPv4, Paths: 16}}) {
		t.Errorf("maximum paths = %+v", st.MaximumPaths)
	}
	// One import route map per peer: its node's block and the service range.
	if len(st.PrefixFilters) != 6 {
		t.Errorf("prefix filters %+v, want one per peer", st.PrefixFilters)
	}
	for _, f := range st.PrefixFilters {
		if len(f.Prefixes) != 2 || f.Prefixes[1] != (fabric.PrefixRule{Prefix: "172.29.0.0/16", LE: 32}) {
			t.Errorf("prefix filter %+v", f)
		}
	}
	for _, o := range st.Objects() {
		if err := o.Validate(); err != nil {
			t.Errorf("invalid object from Translate: %v", err)
		}
	}
}

func TestHaystackFRRPrefixFilters(t *testing.T) {
	d := Translate(load(t, filepath.Join(haystack, "cluster")), frrConfig(t, ""), TranslateOptions{})
	st := d.Fabrics[0].State
	if len(st.Subnets) != 0 || len(st.Contracts) != 0 {
		t.Errorf("FRR gets no external subnets or contracts: %+v %+v", st.Subnets, st.Contracts)
	}
	got := map[string]string{}
	for _, f := range st.PrefixFilters {
		var rules []string
		for _, r := range f.Prefixes {
			rules = append(rules, r.Prefix+" le "+k8swatch.FormatASN(uint32(r.LE)))
		}
		got[f.Switch+">"+f.PeerAddress+" "+f.Node] = strings.Join(rules, ", ")
	}
	want := map[string]string{
		"leaf201>192.168.9.193 k8c1m0": "172.27.114.0/26 le 26, 172.29.0.0/16 le 32",
		"leaf202>192.168.9.193 k8c1m0": "172.27.114.0/26 le 26, 172.29.0.0/16 le 32",
		"leaf201>192.168.9.194 k8c1s1": "172.27.15.192/26 le 26, 172.29.0.0/16 le 32",
		"leaf202>192.168.9.194 k8c1s1": "172.27.15.192/26 le 26, 172.29.0.0/16 le 32",
		"leaf201>192.168.9.195 k8c1s2": "172.27.111.192/26 le 26, 172.29.0.0/16 le 32",
		"leaf202>192.168.9.195 k8c1s2": "172.27.111.192/26 le 26, 172.29.0.0/16 le 32",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prefix filters:\n got %v\nwant %v", got, want)
	}
	wantMP := []fabric.MaximumPaths{{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 3}, {Switch: "leaf202", AddressFamily: fabric.IPv4, Paths: 3}}
	if !reflect.DeepEqual(st.MaximumPaths, wantMP) {
		t.Errorf("maximum paths = %+v", st.MaximumPaths)
	}
	// Prefix filters can be turned off.
	off := Translate(load(t, filepath.Join(haystack, "cluster")), frrConfig(t, "  prefixFilters: {disabled: true}\n"), TranslateOptions{})
	if n := len(off.Fabrics[0].State.PrefixFilters); n != 0 {
		t.Errorf("disabled prefix filters: got %d", n)
	}
}

// TestBadInputIsSkipped adds one bad object to the haystack cluster: it is
// reported and skipped, and the rest of the plan is unchanged.
func TestBadInputIsSkipped(t *testing.T) {
	cluster := filepath.Join(haystack, "cluster")
	baseline := planOf(Translate(load(t, cluster), exampleConfig(t), TranslateOptions{}))
	tests := []struct {
		name string
		doc  string
		// skipped objects and a reason substring for each
		want map[string]string
	}{
		{"invalid CIDR", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: extra-pool}\nspec: {cidr: 172.30.0.0/33}",
			map[string]string{"IPPool/extra-pool": "not a valid CIDR"}},
		{"ASN 0 on a new node, and its BGPPeer", "apiVersion: v1\nkind: Node\nmetadata:\n  name: k8c1s3\n  annotations: {projectcalico.org/IPv4Address: 192.168.9.196/28, projectcalico.org/ASNumber: '0'}\n---\n" +
			"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: leaf201-k8c1s3}\nspec: {peerIP: 192.168.9.204, asNumber: 63500, node: k8c1s3}",
			map[string]string{"Node/k8c1s3": "AS number 0 is reserved", "BGPPeer/leaf201-k8c1s3": "was skipped as bad input"}},
		{"ASN above 4294967295", "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: leaf201-big}\nspec: {peerIP: 192.168.9.204, asNumber: 4294967296, node: k8c1m0}",
			map[string]string{"BGPPeer/leaf201-big": "is not 1-4294967295"}},
		{"LoadBalancer IP used by a newer service", "apiVersion: v1\nkind: Service\nmetadata: {name: copycat, namespace: default, creationTimestamp: '2022-01-01T00:00:00Z'}\nspec: {type: LoadBalancer, ports: [{port: 8080}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.6}]}}",
			map[string]string{"Service/default/copycat": "already used by Service/multicast/mcast"}},
		{"300-character service name", "apiVersion: v1\nkind: Service\nmetadata: {name: " + strings.Repeat("a", 300) + ", namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.20}]}}",
			map[string]string{"Service/default/" + strings.Repeat("a", 300): "invalid Service name"}},
		{"service name with a newline", "apiVersion: v1\nkind: Service\nmetadata: {name: \"evil\\n exit\\n no router bgp 63500\", namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.21}]}}",
			map[string]string{"Service/default/evil\n exit\n no router bgp 63500": "invalid Service name"}},
		{"node name with ]", "apiVersion: v1\nkind: Node\nmetadata:\n  name: 'k8c1s9]/peerP-[1.2.3.4'\n  annotations: {projectcalico.org/IPv4Address: 192.168.9.199/28}",
			map[string]string{"Node/k8c1s9]/peerP-[1.2.3.4": "invalid Node name"}},
		{"namespace with ]", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: 'a]b'}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.22}]}}",
			map[string]string{"Service/a]b/web": "invalid Namespace name"}},
		{"BGPPeer naming a missing node", "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: leaf202-ghost}\nspec: {peerIP: 192.168.9.205, asNumber: 63500, node: ghost}",
			map[string]string{"BGPPeer/leaf202-ghost": `"ghost" names a node that does not exist`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(extra, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			p := planOf(Translate(load(t, cluster, extra), exampleConfig(t), TranslateOptions{}))
			got := map[string]string{}
			for _, s := range p.Skipped {
				got[s.Object] = s.Reason
			}
			if len(got) != len(tt.want) {
				t.Errorf("skipped = %v, want %v", got, tt.want)
			}
			for obj, reason := range tt.want {
				if !strings.Contains(got[obj], reason) {
					t.Errorf("skip for %q = %q, want it to contain %q", obj, got[obj], reason)
				}
			}
			p.Skipped = baseline.Skipped
			if planJSON(t, p) != planJSON(t, baseline) {
				t.Errorf("the rest of the plan changed:\n%s\n---\n%s", planJSON(t, p), planJSON(t, baseline))
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	cluster := filepath.Join(haystack, "cluster")
	tests := []struct {
		name, doc string
		skipped   []string
		check     func(t *testing.T, st fabric.State)
	}{
		{
			name: "two services claim one IP and their ages cannot tell: both skipped",
			doc: "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec: {type: LoadBalancer, ports: [{port: 1}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.30}]}}\n---\n" +
				"apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: x}\nspec: {type: LoadBalancer, ports: [{port: 2}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.30}]}}",
			skipped: []string{"Service/x/a", "Service/x/b"},
		},
		{
			name: "MetalLB IP sharing: one EPG holds the IP, both contracts are provided by it",
			doc: "apiVersion: v1\nkind: Service\nmetadata: {name: dns-tcp, namespace: x, annotations: {metallb.universe.tf/allow-shared-ip: dns}}\nspec: {type: LoadBalancer, ports: [{port: 53}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.53}]}}\n---\n" +
				"apiVersion: v1\nkind: Service\nmetadata: {name: dns-udp, namespace: x, annotations: {metallb.universe.tf/allow-shared-ip: dns}}\nspec: {type: LoadBalancer, ports: [{port: 53, protocol: UDP}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.53}]}}",
			check: func(t *testing.T, st fabric.State) {
				n := 0
				for _, s := range st.Subnets {
					if s.Prefix == "172.29.0.53/32" {
						n++
						if s.Group != "EPG_K8_APP_X_DNS-TCP" {
							t.Errorf("shared IP in %s", s.Group)
						}
					}
				}
				if n != 1 {
					t.Errorf("shared IP in %d EPGs", n)
				}
				for _, c := range st.Contracts {
					if strings.HasPrefix(c.Name, "CNT_K8_APP_DNS") && c.Provider != "EPG_K8_APP_X_DNS-TCP" {
						t.Errorf("contract %s provided by %s", c.Name, c.Provider)
					}
				}
			},
		},
		{
			name: "two nodes claim one BGP address: both skipped",
			doc: "apiVersion: v1\nkind: Node\nmetadata:\n  name: k8c1s3\n  annotations: {projectcalico.org/IPv4Address: 192.168.9.195/28, projectcalico.org/ASNumber: '63554'}\n---\n" +
				"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: leaf201-k8c1s3}\nspec: {peerIP: 192.168.9.204, asNumber: 63500, node: k8c1s3}",
			skipped: []string{"Node/k8c1s2", "Node/k8c1s3"},
			check: func(t *testing.T, st fabric.State) {
				for _, p := range st.Peers {
					if p.PeerAddress == "192.168.9.195" {
						t.Errorf("peer for a duplicate address: %+v", p)
					}
				}
			},
		},
		{
			// The configuration insists on templates that cannot map two
			// services to one name, so a newcomer never takes over an
			// established service's EPG.
			name: "same service name in two namespaces: each its own EPG and contract",
			doc:  "apiVersion: v1\nkind: Service\nmetadata: {name: mcast, namespace: aaa}\nspec: {type: LoadBalancer, ports: [{port: 22}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.99}]}}",
			check: func(t *testing.T, st fabric.State) {
				groups := map[string]string{}
				for _, s := range st.Subnets {
					groups[s.Prefix] = s.Group
				}
				if groups["172.29.0.6/32"] != "EPG_K8_APP_MULTICAST_MCAST" || groups["172.29.0.99/32"] != "EPG_K8_APP_AAA_MCAST" {
					t.Errorf("EPGs: %v", groups)
				}
				n := 0
				for _, c := range st.Contracts {
					if strings.HasSuffix(c.Name, "_MCAST") {
						n++
					}
				}
				if n != 2 {
					t.Errorf("%d mcast contracts, want 2: %+v", n, st.Contracts)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := filepath.Join(t.TempDir(), "dup.yaml")
			if err := os.WriteFile(extra, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			d := Translate(load(t, cluster, extra), exampleConfig(t), TranslateOptions{})
			var got []string
			for _, s := range d.Skipped {
				got = append(got, s.Object)
			}
			if strings.Join(got, ",") != strings.Join(tt.skipped, ",") {
				t.Errorf("skipped %v, want %v (%+v)", got, tt.skipped, d.Skipped)
			}
			if tt.check != nil {
				tt.check(t, d.Fabrics[0].State)
			}
		})
	}
}

func TestMaximumPaths(t *testing.T) {
	nodes := `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: n1, annotations: {projectcalico.org/IPv4Address: 10.0.0.1/24, projectcalico.org/ASNumber: '65001'}}}
- {apiVersion: v1, kind: Node, metadata: {name: n2, annotations: {projectcalico.org/IPv4Address: 10.0.0.2/24, projectcalico.org/ASNumber: '65002'}}}
- {apiVersion: v1, kind: Node, metadata: {name: n3, annotations: {projectcalico.org/IPv4Address: 10.0.0.3/24, projectcalico.org/ASNumber: '65003'}}}
- {apiVersion: v1, kind: Node, metadata: {name: n4, annotations: {projectcalico.org/IPv4Address: 10.0.0.4/24, projectcalico.org/ASNumber: '65004'}}}
- {apiVersion: projectcalico.org/v3, kind: BGPPeer, metadata: {name: tor}, spec: {peerIP: 192.168.9.204, asNumber: 63500}}
`
	lbRange := "\n---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceLoadBalancerIPs: [{cidr: 172.29.0.0/16}]}\n"
	local := func(ip string, eps ...string) string {
		s := "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: l" + strings.ReplaceAll(ip, ".", "-") + ", namespace: x}\nspec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: " + ip + "}]}}\n"
		s += "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e" + strings.ReplaceAll(ip, ".", "-") + ", namespace: x, labels: {kubernetes.io/service-name: l" + strings.ReplaceAll(ip, ".", "-") + "}}\naddressType: IPv4\nendpoints:\n"
		for _, n := range eps {
			s += "- {addresses: [10.9.9.9], nodeName: " + n + "}\n"
		}
		return s
	}
	tests := []struct {
		name, docs, cfgExtra string
		want                 int // 0: no MaximumPaths object
	}{
		{"only pod blocks: one node per prefix", nodes, "", 1},
		{"service LB range: all BGP nodes advertise it", nodes + lbRange, "", 4},
		{"service cluster range counts too", nodes + "\n---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {serviceClusterIPs: [{cidr: 172.28.0.0/16}]}\n", "", 4},
		{"Local service without a range: nodes with ready endpoints", nodes + "\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: lb}\nspec: {cidr: 172.30.0.0/24, disabled: true}\n" + local("172.30.0.5", "n1", "n3"), "", 4},
		{"Local service outside any advertised range: Calico does not advertise it", nodes + local("172.31.0.5", "n1", "n3"), "", 1},
		{"capped by the limit", nodes + lbRange, "  maximumPaths: {limit: 2}\n", 2},
		{"fixed", nodes + lbRange, "  maximumPaths: {mode: fixed, paths: 8}\n", 8},
		{"off", nodes + lbRange, "  maximumPaths: {mode: off}\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := k8swatch.NewBuilder()
			if err := b.AddDocuments("t.yaml", []byte(tt.docs)); err != nil {
				t.Fatal(err)
			}
			cs := b.Build()
			if len(cs.Problems) > 0 {
				t.Fatal(cs.Problems)
			}
			cfg := frrConfig(t, tt.cfgExtra)
			st := Translate(cs, cfg, TranslateOptions{}).Fabrics[0].State
			var got []int
			for _, m := range st.MaximumPaths {
				if m.Switch == "leaf201" {
					got = append(got, m.Paths)
				}
			}
			switch {
			case tt.want == 0 && len(got) != 0:
				t.Errorf("maximum paths %v, want none", got)
			case tt.want != 0 && (len(got) != 1 || got[0] != tt.want):
				t.Errorf("maximum paths on leaf201 = %v, want %d", got, tt.want)
			}
		})
	}
}

func TestTranslateIsDeterministic(t *testing.T) {
	cs := load(t, filepath.Join(haystack, "cluster"))
	cfg := exampleConfig(t)
	first := planJSON(t, planOf(Translate(cs, cfg, TranslateOptions{})))
	for i := 0; i < 20; i++ {
		if got := planJSON(t, planOf(Translate(cs, cfg, TranslateOptions{}))); got != first {
			t.Fatal("Translate gave a different plan for the same input")
		}
	}
}

// FuzzTranslate feeds arbitrary cluster YAML, added to the haystack lab, to
// the loader and Translate for an ACI and an FRR fabric: nothing may panic,
// and every object Translate emits must be valid for a driver.
func FuzzTranslate(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: w, namespace: n}\nspec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 1, protocol: UDP}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.6}, {ip: '2001:db8::6'}]}}"))
	f.Add([]byte("apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: v6, labels: {a: b}}\nspec: {bgp: {ipv4Address: 192.168.9.193/28, ipv6Address: '2001:db8::1/64', asNumber: '1.1'}}"))
	f.Add([]byte("apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: g}\nspec: {peerIP: '[2001:db8::fe]:179', asNumber: 63500, nodeSelector: a == 'b' || !has(c)}"))
	f.Add([]byte("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: '2001:db8:1::/48', blockSize: 122, allowedUses: [LoadBalancer]}"))
	f.Add([]byte("apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: b}\nspec: {cidr: 172.27.0.0/26, node: k8c1m0, state: confirmed, deleted: 'false'}"))
	files, _ := filepath.Glob(filepath.Join(haystack, "cluster", "*.yaml"))
	contents := map[string][]byte{}
	for _, file := range files {
		contents[file], _ = os.ReadFile(file)
	}
	aci := exampleConfig(f)
	frr := frrConfig(f, "")
	f.Fuzz(func(t *testing.T, data []byte) {
		b := k8swatch.NewBuilder()
		for _, file := range files {
			if err := b.AddDocuments(file, contents[file]); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.AddDocuments("fuzz.yaml", data); err != nil {
			return
		}
		cs := b.Build()
		for _, cfg := range []*config.Config{aci, frr} {
			d := Translate(cs, cfg, TranslateOptions{})
			for _, fd := range d.Fabrics {
				for _, o := range fd.State.Objects() {
					if err := o.Validate(); err != nil {
						t.Fatalf("Translate emitted an invalid object: %v (%+v)", err, o)
					}
				}
				_ = fabric.Diff(fd, fabric.Observed{Owned: fd.State})
			}
		}
	})
}
