package reconciler

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

func editedCluster(t *testing.T, edit func(dir string)) string {
	return testenv.HaystackCluster(t, edit)
}

func replaceIn(t *testing.T, path, old, new string) { testenv.ReplaceInFile(t, path, old, new) }

func writeIn(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// converged is what a fabric holds after the haystack cluster was synced.
func converged(t *testing.T, cfg *config.Config) map[string]fabric.Observed {
	t.Helper()
	d := Translate(load(t, filepath.Join(haystack, "cluster")), cfg, TranslateOptions{})
	out := map[string]fabric.Observed{}
	for _, f := range d.Fabrics {
		out[f.Name] = fabric.Observed{Owned: f.State}
	}
	return out
}

// TestWhatCannotBeSeenIsNotDeleted: from a converged fabric, every partial
// or bad input of the safety review plans no delete and no update that takes
// anything away; what came from the bad or missing input is held, with the
// reason. Each case deleted or rewrote live objects before.
func TestWhatCannotBeSeenIsNotDeleted(t *testing.T) {
	nodeDoc := func(name, addr, asn string) string {
		return "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n  annotations: {projectcalico.org/IPv4Address: " + addr +
			", projectcalico.org/ASNumber: '" + asn + "'}\n---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: leaf201-" + name +
			"}\nspec: {peerIP: 192.168.9.204, asNumber: 63500, node: " + name + "}\n"
	}
	tests := []struct {
		name    string
		edit    func(t *testing.T, dir string)
		held    []string // keys that must be held (on the ACI fabric, or the FRR one when prefixed "frr:")
		skipped []string
		// aciCreates are allowed on ACI (a newcomer's own objects); nothing
		// else anywhere.
		aciCreates int
	}{
		{
			name: "a node's AS annotation is malformed",
			edit: func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, "nodes.yaml"), `ASNumber: "63553"`, `ASNumber: "63553x"`)
			},
			held:    []string{"BGPPeer leaf201/192.168.9.195", "BGPPeer leaf202/192.168.9.195", "frr:PrefixFilter leaf201/192.168.9.195"},
			skipped: []string{"BGPPeer/leaf201-k8c1s2", "BGPPeer/leaf202-k8c1s2", "Node/k8c1s2"},
		},
		{
			name: "a service has one bad field",
			edit: func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, "services.yaml"), "externalTrafficPolicy: Local", "externalTrafficPolicy: local")
			},
			held:    []string{"ExternalSubnet EPG_K8_APP_MULTICAST_MCAST/172.29.0.6/32", "Contract CNT_K8_APP_MULTICAST_MCAST"},
			skipped: []string{"Service/multicast/mcast"},
		},
		{
			name: "the BGPConfiguration has one bad CIDR",
			edit: func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, "calico.yaml"), "  - cidr: 172.29.0.0/16", "  - cidr: 172.29.0.0/16\n  - cidr: 172.30.0.0/33")
			},
			held:    []string{"ExternalSubnet L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS/172.29.0.0/16", "frr:PrefixFilter leaf201/192.168.9.193", "frr:MaximumPaths leaf201/ipv4"},
			skipped: []string{"BGPConfiguration/default"},
		},
		{
			name: "a new node claims an established node's BGP address",
			edit: func(t *testing.T, dir string) {
				writeIn(t, filepath.Join(dir, "zz-newcomer.yaml"), nodeDoc("k8c1x1", "192.168.9.193/28", "63560"))
			},
			skipped: []string{"Node/k8c1x1"},
		},
		{
			name:    "the Services file is missing",
			edit:    func(t *testing.T, dir string) { remove(t, filepath.Join(dir, "services.yaml")) },
			held:    []string{"ExternalSubnet EPG_K8_APP_MULTICAST_MCAST/172.29.0.6/32", "Contract CNT_K8_APP_MULTICAST_MCAST", "Contract CNT_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD"},
			skipped: nil,
		},
		{
			name:    "the nodes file holds one of the three nodes",
			edit:    func(t *testing.T, dir string) { testenv.KeepFirstNode(t, dir) },
			held:    []string{"BGPPeer leaf201/192.168.9.194", "BGPPeer leaf202/192.168.9.195", "frr:PrefixFilter leaf202/192.168.9.194"},
			skipped: []string{"BGPPeer/leaf201-k8c1s1", "BGPPeer/leaf201-k8c1s2", "BGPPeer/leaf202-k8c1s1", "BGPPeer/leaf202-k8c1s2"},
		},
		{
			name:    "the IPAM blocks file is missing",
			edit:    func(t *testing.T, dir string) { remove(t, filepath.Join(dir, "ipam.yaml")) },
			held:    []string{"frr:PrefixFilter leaf201/192.168.9.193", "frr:PrefixFilter leaf202/192.168.9.195"},
			skipped: nil,
		},
		{
			name: "the BGPConfiguration is missing",
			edit: func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, "calico.yaml"), "kind: BGPConfiguration", "kind: BGPConfigurationGone")
			},
			held:    []string{"frr:PrefixFilter leaf201/192.168.9.193", "frr:MaximumPaths leaf202/ipv4"},
			skipped: nil,
		},
		{
			name: "the same node is given twice with different AS numbers",
			edit: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(filepath.Join(dir, "nodes.yaml"))
				writeIn(t, filepath.Join(dir, "nodes-old.yaml"), strings.Replace(string(b), `ASNumber: "63551"`, `ASNumber: "63599"`, 1))
			},
			held: []string{"BGPPeer leaf201/192.168.9.193", "frr:PrefixFilter leaf202/192.168.9.193"},
			// The older copy differs only for k8c1m0.
			skipped: []string{"BGPPeer/leaf201-k8c1m0", "BGPPeer/leaf202-k8c1m0", "Node/k8c1m0"},
		},
		{
			name: "a newer service in an earlier namespace with the same name",
			edit: func(t *testing.T, dir string) {
				writeIn(t, filepath.Join(dir, "zz.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: mcast, namespace: aaa, creationTimestamp: \"2025-01-01T00:00:00Z\"}\n"+
					"spec: {type: LoadBalancer, ports: [{port: 22, protocol: TCP}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.29.0.99}]}}\n")
			},
			aciCreates: 2, // its own /32 and contract; the established service is untouched
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := editedCluster(t, func(dir string) { tt.edit(t, dir) })
			held := map[string]bool{}
			for _, cfg := range []*config.Config{exampleConfig(t), frrConfig(t, "")} {
				obs := converged(t, cfg)
				d := Translate(load(t, dir), cfg, TranslateOptions{Observed: obs})
				var skipped []string
				for _, s := range d.Skipped {
					skipped = append(skipped, s.Object)
				}
				if strings.Join(skipped, ",") != strings.Join(tt.skipped, ",") {
					t.Errorf("%s: skipped %v, want %v", cfg.Fabrics[0].Driver, d.Skipped, tt.skipped)
				}
				for _, fd := range d.Fabrics {
					f := fabricConfig(cfg, fd.Name)
					p := PlanFabric(fd, obs[fd.Name], GuardsFor(f, Options{}))
					creates := 0
					for _, c := range p.Changes {
						if c.Action == fabric.ActionCreate {
							creates++
							continue
						}
						t.Errorf("%s: %s %s planned", f.Driver, c.Action, c.Key())
					}
					if want := map[bool]int{true: tt.aciCreates}[f.Driver == "aci"]; creates != want {
						t.Errorf("%s: %d creates, want %d", f.Driver, creates, want)
					}
					for _, h := range p.Held {
						if h.Reason == "" {
							t.Errorf("held %s without a reason", h.Key())
						}
						k := h.Key().String()
						if f.Driver == "frr" {
							k = "frr:" + k
						}
						held[k] = true
					}
				}
			}
			for _, k := range tt.held {
				if !held[k] {
					t.Errorf("%s is not held; held: %v", k, held)
				}
			}
		})
	}
}

func fabricConfig(cfg *config.Config, name string) *config.Fabric {
	for i := range cfg.Fabrics {
		if cfg.Fabrics[i].Name == name {
			return &cfg.Fabrics[i]
		}
	}
	return nil
}

// TestAllowMissingLetsDeletesThrough: the override turns a hold into the
// delete it was holding back.
func TestAllowMissingLetsDeletesThrough(t *testing.T) {
	dir := editedCluster(t, func(dir string) { remove(t, filepath.Join(dir, "services.yaml")) })
	cfg := exampleConfig(t)
	obs := converged(t, cfg)
	d := Translate(load(t, dir), cfg, TranslateOptions{Observed: obs, AllowMissing: map[string]bool{"Service": true}})
	p := PlanFabric(d.Fabrics[0], obs[d.Fabrics[0].Name], GuardsFor(&cfg.Fabrics[0], Options{}))
	if len(p.Held) != 0 || p.Summary().Delete != 4 {
		t.Fatalf("held %v, %d deletes; want none held and the 4 service objects deleted", p.Held, p.Summary().Delete)
	}
}

// TestTooWidePrefixes: a pool or service range wider than the minimum is
// skipped as bad input, and nothing planned covers 0/0.
func TestTooWidePrefixes(t *testing.T) {
	dir := editedCluster(t, func(dir string) {
		writeIn(t, filepath.Join(dir, "zz.yaml"), "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: everything}\nspec: {cidr: 0.0.0.0/0, blockSize: 26}\n---\n"+
			"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: everything6}\nspec: {cidr: '::/0', blockSize: 122}\n---\n"+
			"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: wide}\nspec: {cidr: 10.0.0.0/7, blockSize: 26}\n---\n"+
			"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: all, namespace: metallb-system}\nspec: {addresses: [0.0.0.0-255.255.255.255]}\n")
		replaceIn(t, filepath.Join(dir, "calico.yaml"), "  - cidr: 172.29.0.0/16", "  - cidr: 172.29.0.0/16\n  - cidr: 0.0.0.0/0")
	})
	for _, cfg := range []*config.Config{exampleConfig(t), frrConfig(t, "")} {
		d := Translate(load(t, dir), cfg, TranslateOptions{})
		want := map[string]string{"IPPool/everything": "wider than /8", "IPPool/everything6": "wider than /32", "IPPool/wide": "wider than /8",
			"BGPConfiguration/default": "0.0.0.0/0", "IPAddressPool/metallb-system/all": "wider than /8"}
		got := map[string]string{}
		for _, s := range d.Skipped {
			got[s.Object] = s.Reason
		}
		for obj, reason := range want {
			if !strings.Contains(got[obj], reason) {
				t.Errorf("%s: skip of %s = %q, want it to contain %q", cfg.Fabrics[0].Driver, obj, got[obj], reason)
			}
		}
		for _, f := range d.Fabrics {
			for _, o := range f.State.Objects() {
				j := planJSON(t, fabric.NewPlan([]fabric.Changeset{{Changes: []fabric.Change{{Action: fabric.ActionCreate, Kind: o.Kind(), ID: o.ID(), After: o}}}}, nil, nil))
				if strings.Contains(j, "0.0.0.0/0") || strings.Contains(j, `"::/0"`) || strings.Contains(j, "10.0.0.0/7") {
					t.Errorf("%s: planned %s", cfg.Fabrics[0].Driver, fabric.KeyOf(o))
				}
			}
		}
	}
}

// TestNoBlocksNeverFallsBackToPodCIDR: without IPAM blocks a node may send
// any block of its pools; its Kubernetes podCIDR, which Calico IPAM does not
// use, never appears. With host-local IPAM the podCIDR is what it sends.
func TestNoBlocksNeverFallsBackToPodCIDR(t *testing.T) {
	dir := editedCluster(t, func(dir string) { remove(t, filepath.Join(dir, "ipam.yaml")) })
	for _, tc := range []struct {
		extra, want, not string
	}{
		{"", "172.27.0.0/16 le 26", "172.27.0.0/24"},
		{"ipam: host-local\n", "172.27.0.0/24 le 24", "172.27.0.0/16"},
	} {
		cfg := frrConfig(t, "")
		if tc.extra != "" {
			cfg.IPAM = config.IPAMHostLocal
		}
		d := Translate(load(t, dir), cfg, TranslateOptions{AllowMissing: map[string]bool{"IPAMBlock": true}})
		for _, f := range d.Fabrics[0].State.PrefixFilters {
			if f.Node != "k8c1m0" {
				continue
			}
			var rules []string
			for _, r := range f.Prefixes {
				rules = append(rules, r.Prefix+" le "+strconv.Itoa(r.LE))
			}
			s := strings.Join(rules, ", ")
			if !strings.Contains(s, tc.want) || strings.Contains(s, tc.not+" ") {
				t.Errorf("%q: filter of %s permits %s; want %s and not %s", tc.extra, f.PeerAddress, s, tc.want, tc.not)
			}
		}
	}
}
