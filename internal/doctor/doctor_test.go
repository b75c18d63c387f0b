package doctor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/doctor"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/aci"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/builtin"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var examples = filepath.Join(testenv.RepoRoot(), "examples")

func loadConfig(t *testing.T, name string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join(examples, "haystack", name))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// setup is one cluster and configuration: the reference lab's, changed.
type setup struct {
	// config is the haystack configuration file (default fabric.yaml, ACI).
	config string
	// edit changes the copy of the haystack cluster files.
	edit func(t *testing.T, dir string)
	// extra are more objects (YAML documents).
	extra string
	// cfg changes the configuration.
	cfg func(c *config.Config)
}

func (s setup) run(t *testing.T) doctor.Report {
	t.Helper()
	dir := testenv.HaystackCluster(t, func(dir string) {
		if s.edit != nil {
			s.edit(t, dir)
		}
		if s.extra != "" {
			if err := os.WriteFile(filepath.Join(dir, "zz-extra.yaml"), []byte(s.extra), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	cs, err := k8swatch.LoadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := s.config
	if name == "" {
		name = "fabric.yaml"
	}
	cfg := loadConfig(t, name)
	if s.cfg != nil {
		s.cfg(cfg)
	}
	return doctor.Check(cs, cfg)
}

func replace(old, new string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		for _, f := range []string{"calico.yaml", "metallb-config.yaml", "nodes.yaml", "services.yaml", "endpointslices.yaml", "ipam.yaml"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if strings.Contains(string(b), old) {
				testenv.ReplaceInFile(t, filepath.Join(dir, f), old, new)
				return
			}
		}
		t.Fatalf("test bug: %q is in no haystack cluster file", old)
	}
}

func service(name, ip, policy string) string {
	return `apiVersion: v1
kind: Service
metadata: {name: ` + name + `, namespace: x, creationTimestamp: "2022-01-01T00:00:00Z"}
spec: {type: LoadBalancer, externalTrafficPolicy: ` + policy + `, ports: [{port: 80, protocol: TCP}]}
status: {loadBalancer: {ingress: [{ip: ` + ip + `}]}}
`
}

func metalLBPool(name, addresses string, avoid bool) string {
	a := "false"
	if avoid {
		a = "true"
	}
	return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ` + name + `, namespace: metallb-system}
spec: {addresses: [` + addresses + `], avoidBuggyIPs: ` + a + `}
`
}

func ipPool(name, cidr string, disabled bool) string {
	d := "false"
	if disabled {
		d = "true"
	}
	return `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: ` + name + `}
spec: {cidr: ` + cidr + `, blockSize: 26, disabled: ` + d + `}
`
}

func extraSwitch(name, ip, rack string) func(c *config.Config) {
	return func(c *config.Config) {
		s := c.Fabrics[0].Switches[1]
		s.Name, s.PeerIPs, s.Rack = name, []string{ip}, rack
		c.Fabrics[0].Switches = append(c.Fabrics[0].Switches, s)
	}
}

// TestRules runs each rule on a cluster that triggers it and on one, as
// close as can be, that does not.
func TestRules(t *testing.T) {
	cases := []struct {
		rule            string
		fires, notFires setup
		// want is a piece of the message.
		want string
	}{
		{rule: doctor.RuleLBPoolNotAdvertised,
			fires:    setup{extra: metalLBPool("outside", "10.208.1.0/24", true)},
			notFires: setup{extra: metalLBPool("inside", "172.29.5.0/24", true)},
			want:     "MetalLB IPAddressPool metallb-system/outside: 10.208.1.0/24 is not inside BGPConfiguration serviceLoadBalancerIPs"},
		{rule: doctor.RuleAdvertisedRangeWithoutPool,
			fires:    setup{edit: replace("  - cidr: 172.29.0.0/16\n", "  - cidr: 172.29.0.0/16\n  - cidr: 172.30.0.0/16\n")},
			notFires: setup{edit: replace("  - cidr: 172.29.0.0/16\n", "  - cidr: 172.29.0.0/16\n  - cidr: 172.30.0.0/16\n"), extra: metalLBPool("second", "172.30.0.0/24", true)},
			want:     "advertises 172.30.0.0/16 (serviceLoadBalancerIPs) from every node, but no LoadBalancer pool"},
		{rule: doctor.RuleLBPoolBuggyIPs,
			fires:    setup{edit: replace("avoid-buggy-ips: true", "avoid-buggy-ips: false")},
			notFires: setup{extra: metalLBPool("ranged", "172.29.1.1-172.29.1.254", false)},
			want:     "MetalLB ConfigMap metallb-system/config address-pool default can hand out addresses ending in .0 or .255 (172.29.0.0/16)"},
		{rule: doctor.RuleServiceBuggyIP,
			fires:    setup{extra: service("zero", "172.29.1.0", "Cluster")},
			notFires: setup{extra: service("one", "172.29.1.1", "Cluster")},
			want:     "Service x/zero holds LoadBalancer IP 172.29.1.0, ending in .0"},
		{rule: doctor.RuleLBIPNotAdvertised,
			fires:    setup{extra: service("outside", "10.208.1.5", "Cluster")},
			notFires: setup{extra: service("inside", "172.29.0.9", "Cluster")},
			want:     "Service x/outside: LoadBalancer IP 10.208.1.5 is outside every BGPConfiguration serviceLoadBalancerIPs CIDR"},
		{rule: doctor.RuleLocalServiceWithoutEndpoints,
			fires:    setup{extra: service("edge", "172.29.1.1", "Local")},
			notFires: setup{extra: service("edge", "172.29.1.1", "Cluster")},
			want:     "Service x/edge: externalTrafficPolicy Local with no ready endpoint, so no node advertises 172.29.1.1"},
		{rule: doctor.RuleLocalServiceAggregateOnly,
			fires:    setup{edit: replace("  serviceLoadBalancerIPs:\n", "  serviceExternalIPs:\n")},
			notFires: setup{},
			want:     "Service multicast/mcast is externalTrafficPolicy Local, but 172.29.0.6 is advertised only through the aggregate 172.29.0.0/16"},
		{rule: doctor.RuleNodeMeshWithFabricPeers,
			fires:    setup{edit: replace("nodeToNodeMeshEnabled: false", "nodeToNodeMeshEnabled: true")},
			notFires: setup{},
			want:     "nodeToNodeMeshEnabled is true while 3 node(s) peer with the fabric (k8c1m0, k8c1s1, k8c1s2)"},
		{rule: doctor.RuleNodeMeshWithFabricPeers + " (not set)",
			fires:    setup{edit: replace("  nodeToNodeMeshEnabled: false\n", "")},
			notFires: setup{edit: replace("  nodeToNodeMeshEnabled: false\n", ""), cfg: func(c *config.Config) { c.Fabrics[0].Switches = c.Fabrics[0].Switches[:0] }},
			want:     "nodeToNodeMeshEnabled is not set, and Calico's default is true"},
		{rule: doctor.RuleMetalLBPeerOnFabricSwitch,
			fires: setup{extra: `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {peerAddress: 192.168.9.204, peerASN: 63500, myASN: 63551}
`},
			notFires: setup{extra: `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: spine, namespace: metallb-system}
spec: {peerAddress: 10.0.0.1, peerASN: 65000, myASN: 63551}
`},
			want: "MetalLB BGPPeer metallb-system/tor peers with 192.168.9.204, which is switch leaf201 of fabric haystack-aci"},
		{rule: doctor.RuleMetalLBPeerOnFabricSwitch + " (ConfigMap)",
			fires:    setup{edit: replace("    address-pools:\n", "    peers:\n    - peer-address: 192.168.9.205\n      peer-asn: 63500\n      my-asn: 63551\n    address-pools:\n")},
			notFires: setup{edit: replace("    address-pools:\n", "    peers: []\n    address-pools:\n")},
			want:     "MetalLB ConfigMap metallb-system/config peers[0] peers with 192.168.9.205, which is switch leaf202"},
		{rule: doctor.RuleMetalLBPeerElsewhere,
			fires: setup{extra: `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: spine, namespace: metallb-system}
spec: {peerAddress: 10.0.0.1, peerASN: 65000, myASN: 63551}
`},
			notFires: setup{},
			want:     "MetalLB BGPPeer metallb-system/spine peers with 10.0.0.1, a router Calico's nodes do not peer with"},
		{rule: doctor.RuleMetalLBAdvertisement,
			fires: setup{extra: `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {}
`},
			// Calico peers with no switch of this configuration:
			// MetalLB may then announce the pools itself.
			notFires: setup{extra: `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {}
`, cfg: func(c *config.Config) { c.Fabrics[0].Switches = c.Fabrics[0].Switches[:0] }},
			want: "MetalLB BGPAdvertisement metallb-system/all makes MetalLB's speakers announce every pool"},
		{rule: doctor.RuleIPPoolOverlapsNodes,
			fires:    setup{extra: ipPool("default-trap", "192.168.0.0/16", false)},
			notFires: setup{extra: ipPool("elsewhere", "10.244.0.0/16", false)},
			want:     "IPPool default-trap (192.168.0.0/16) overlaps the nodes' network: k8c1m0 (192.168.9.192/28)"},
		{rule: doctor.RuleIPPoolOverlapsServiceRange,
			fires:    setup{extra: ipPool("pods-in-lb", "172.29.128.0/24", false)},
			notFires: setup{extra: ipPool("lb-export", "172.29.128.0/24", true)},
			want:     "IPPool pods-in-lb (172.29.128.0/24) gives pods addresses inside serviceLoadBalancerIPs 172.29.0.0/16"},
		{rule: doctor.RuleMaximumPathsBelowAdvertisers,
			fires:    setup{cfg: func(c *config.Config) { c.Fabrics[0].MaximumPaths.Mode, c.Fabrics[0].MaximumPaths.Paths = "fixed", 2 }},
			notFires: setup{cfg: func(c *config.Config) { c.Fabrics[0].MaximumPaths.Mode, c.Fabrics[0].MaximumPaths.Paths = "fixed", 3 }},
			want:     "fabric haystack-aci sets maximum-paths 2 (fixed), but 3 nodes advertise one ipv4 prefix to switch leaf201"},
		{rule: doctor.RuleMaximumPathsBelowAdvertisers + " (limit)",
			fires:    setup{cfg: func(c *config.Config) { c.Fabrics[0].MaximumPaths.Limit = 2 }},
			notFires: setup{cfg: func(c *config.Config) { c.Fabrics[0].MaximumPaths.Limit = 3 }},
			want:     "fabric haystack-aci caps maximum-paths at 2 (maximumPaths.limit), but 3 nodes advertise"},
		{rule: doctor.RuleMaximumPathsUnmanaged,
			fires:    setup{cfg: func(c *config.Config) { c.Fabrics[0].MaximumPaths.Mode = "off" }},
			notFires: setup{},
			want:     "fabric haystack-aci does not manage maximum-paths (mode off), and 3 nodes advertise one ipv4 prefix to switch leaf201"},
		// Every built-in driver sets relax with maximum-paths (ACI in the
		// node profile's best-path policy): the rule fires for a driver
		// that does not (noRelaxDriver, the ACI driver declaring no relax).
		{rule: doctor.RuleMultipathRelaxUnmanaged,
			fires:    setup{cfg: func(c *config.Config) { c.Fabrics[0].Driver = noRelaxDriver }},
			notFires: setup{},
			want:     "are in 3 AS numbers (63551, 63552, 63553): without AS-path multipath relax a switch installs one path whatever maximum-paths is, and driver " + noRelaxDriver + " does not set it"},
		{rule: doctor.RuleBGPPeerUnknownSwitch,
			fires: setup{extra: `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: border}
spec: {peerIP: 192.168.9.250, asNumber: 65000, node: k8c1m0}
`},
			notFires: setup{extra: `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: reflectors}
spec: {nodeSelector: all(), peerSelector: "route-reflector == 'true'"}
`},
			want: "BGPPeer border peers with 192.168.9.250, which designates no switch of the configuration"},
		{rule: doctor.RuleNodeMissingSwitchPeer,
			fires:    setup{cfg: extraSwitch("leaf203", "192.168.9.207", "")},
			notFires: setup{cfg: extraSwitch("leaf203", "192.168.9.207", "r2")},
			want:     "node k8c1m0 peers with fabric haystack-aci but not with its switch leaf203"},
		{rule: doctor.RuleNodeMissingSwitchPeer + " (racks not configured)",
			// Each node peers with 2 of 5 switches: per-rack ToRs whose
			// racks the configuration does not name are not expected.
			fires: setup{cfg: extraSwitch("leaf203", "192.168.9.207", "")},
			notFires: setup{cfg: func(c *config.Config) {
				for i, ip := range []string{"192.168.9.207", "192.168.9.208", "192.168.9.209"} {
					extraSwitch(fmt.Sprintf("tor%d", i), ip, "")(c)
				}
			}},
			want: "node k8c1m0 peers with fabric haystack-aci but not with its switch leaf203"},
		{rule: doctor.RuleNodeMissingSwitchPeer + " (rack)",
			fires:    setup{cfg: extraSwitch("leaf203", "192.168.9.207", "r1")},
			notFires: setup{cfg: extraSwitch("leaf203", "192.168.9.207", "r2")},
			want:     "node k8c1s1 is in rack r1 (label rack), but has no session with leaf203, a switch of that rack"},
		{rule: doctor.RuleNodeWithoutFabricPeer,
			fires: setup{extra: `apiVersion: v1
kind: Node
metadata:
  name: k8c1s4
  annotations: {projectcalico.org/IPv4Address: 192.168.9.197/28, projectcalico.org/ASNumber: "63555"}
`},
			notFires: setup{extra: `apiVersion: v1
kind: Node
metadata: {name: k8c1s4}
`},
			want: "node k8c1s4 runs BGP but peers with no switch of the configuration while 3 other node(s) do"},
		{rule: doctor.RuleHoldTimeSlow,
			fires:    setup{cfg: func(c *config.Config) { c.Fabrics[0].BGP.Keepalive, c.Fabrics[0].BGP.Hold = 60, 180 }},
			notFires: setup{cfg: func(c *config.Config) { c.Fabrics[0].BGP.Keepalive, c.Fabrics[0].BGP.Hold = 3, 9 }},
			want:     "fabric haystack-aci sets a BGP hold time of 180 s"},
		{rule: doctor.RuleHoldTimeDefault,
			fires:    setup{cfg: func(c *config.Config) { c.Fabrics[0].BGP.Keepalive, c.Fabrics[0].BGP.Hold = 0, 0 }},
			notFires: setup{},
			want:     "fabric haystack-aci does not set a BGP hold time"},
		{rule: doctor.RuleBGPPeerSecretMissing,
			fires: setup{edit: replace("    node: k8c1m0\n", "    node: k8c1m0\n    password: {secretKeyRef: {name: bgp-passwords, key: k8c1m0}}\n")},
			notFires: setup{edit: replace("    node: k8c1m0\n", "    node: k8c1m0\n    password: {secretKeyRef: {name: bgp-passwords, key: k8c1m0}}\n"), extra: `apiVersion: v1
kind: Secret
metadata: {name: bgp-passwords, namespace: calico-system}
stringData: {k8c1m0: s3cret-pw}
`},
			want: "BGPPeer leaf201-k8c1m0 takes its password from Secret calico-system/bgp-passwords key k8c1m0, which the input does not hold"},
		{rule: doctor.RuleInputSkipped,
			fires:    setup{extra: service("broken", "300.1.1.1", "Cluster")},
			notFires: setup{extra: service("fine", "172.29.1.1", "Cluster")},
			want:     "Service/x/broken is left out"},
	}
	tested := map[string]bool{}
	for _, tc := range cases {
		id := strings.Fields(tc.rule)[0]
		tested[id] = true
		t.Run(tc.rule, func(t *testing.T) {
			r := tc.fires.run(t)
			got := r.ByID(id)
			if len(got) == 0 {
				t.Fatalf("rule %s did not fire; findings:\n%s", id, text(t, r))
			}
			found := false
			for _, f := range got {
				found = found || strings.Contains(f.Message, tc.want)
				if f.Fix == "" || len(f.Objects) == 0 {
					t.Errorf("finding without fix or objects: %+v", f)
				}
			}
			if !found {
				t.Errorf("no %s finding says %q:\n%s", id, tc.want, text(t, r))
			}
			if r := tc.notFires.run(t); len(r.ByID(id)) != 0 {
				t.Errorf("rule %s fired on the near miss:\n%s", id, text(t, r))
			}
		})
	}
	for _, r := range doctor.Rules() {
		if !tested[r.ID] {
			t.Errorf("rule %s has no test case", r.ID)
		}
	}
}

func text(t *testing.T, r doctor.Report) string {
	var b bytes.Buffer
	if err := doctor.WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReferenceLabIsClean: the reference lab has no finding at all, not
// even a note, with each of its configurations: they set the session
// timers (bgp keepalive 3, hold 9), and every driver sets AS-path multipath
// relax with maximum-paths (ACI in the node profile's best-path policy).
func TestReferenceLabIsClean(t *testing.T) {
	for _, name := range []string{"fabric.yaml", "fabric-frr.yaml", "fabric-nxos.yaml"} {
		t.Run(name, func(t *testing.T) {
			r := setup{config: name}.run(t)
			if len(r.Findings) != 0 {
				t.Errorf("the reference lab is not clean:\n%s", text(t, r))
			}
		})
	}
}

// noRelaxDriver is the ACI driver as a driver that manages maximum-paths
// but not AS-path multipath relax would declare itself.
const noRelaxDriver = "aci-norelax"

func init() {
	spec, ok := config.DriverSpecOf("aci")
	if !ok {
		panic("the aci driver is not registered")
	}
	spec.MultipathRelax = false
	drivers.Register(noRelaxDriver, drivers.Spec{Open: aci.New, Desire: aci.Desire, Config: spec})
}

// TestBrokenExample: examples/broken makes every rule fire.
func TestBrokenExample(t *testing.T) {
	cs, err := k8swatch.LoadFiles(filepath.Join(examples, "broken", "cluster"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(examples, "broken", "fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := doctor.Check(cs, cfg)
	for _, rule := range doctor.Rules() {
		if rule.ID == doctor.RuleMultipathRelaxUnmanaged {
			continue // no built-in driver leaves it unset: TestRules has it
		}
		if len(r.ByID(rule.ID)) == 0 {
			t.Errorf("rule %s does not fire on examples/broken", rule.ID)
		}
	}
	if !r.HasErrors() {
		t.Error("examples/broken has no error")
	}
	t.Log("\n" + text(t, r))
}

// TestJSON: the JSON report is stable and names every field.
func TestJSON(t *testing.T) {
	r := setup{extra: service("outside", "10.208.1.5", "Cluster")}.run(t)
	var b bytes.Buffer
	if err := doctor.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		FormatVersion int            `json:"formatVersion"`
		Summary       map[string]int `json:"summary"`
		Findings      []map[string]any
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.FormatVersion != 1 || got.Summary["errors"] != 1 || len(got.Findings) == 0 {
		t.Fatalf("report: %s", b.String())
	}
	f := got.Findings[0]
	for _, k := range []string{"id", "severity", "message", "objects", "fix"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q: %v", k, f)
		}
	}
	objs, _ := f["objects"].([]any)
	first, _ := objs[0].(map[string]any)
	if first["kind"] != "Service" || first["namespace"] != "x" || first["name"] != "outside" {
		t.Errorf("objects[0] = %v", first)
	}
}

// TestFindingsCannotForgeLines: cluster input that reaches a message
// cannot start a line of its own in the text report.
func TestFindingsCannotForgeLines(t *testing.T) {
	r := doctor.Report{Findings: []doctor.Finding{{ID: "x", Severity: doctor.Error, Message: "a\nERROR forged", Fix: "b\rc"}}}
	out := text(t, r)
	if strings.Contains(out, "\nERROR forged") || strings.Contains(out, "\r") {
		t.Errorf("a control character reached the output: %q", out)
	}
}
