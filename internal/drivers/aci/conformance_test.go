package aci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/conformance"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The BGP peer passwords of the conformance peers (the desired state's,
// then the updated one's): sent to the APIC, never printed.
const (
	confBGPPW  = "conf-bgp-peer-pw-0815"
	confBGPPW2 = "conf-bgp-peer-pw-4711"
)

// confFabric is the APIC emulator the conformance suite drives, seeded
// with the haystack tenant; Reset starts a fresh one.
type confFabric struct {
	srv    *emulator.Server
	pwFile string
	caFile string
}

func (f *confFabric) reset(t *testing.T) {
	t.Helper()
	sim := emulator.New(emulator.Options{Users: map[string]string{"admin": apicPW}})
	seed, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "apic-baseline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Post("uni", seed); err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	f.srv = srv
	f.pwFile, f.caFile = filepath.Join(dir, "pw"), filepath.Join(dir, "ca.pem")
	for name, content := range map[string]string{f.pwFile: apicPW + "\n", f.caFile: string(srv.CertPEM)} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// open builds the driver for a cluster from that cluster's configuration
// (each cluster derives its own names, as its own config file would).
func (f *confFabric) open(t *testing.T, opts drivers.Options) drivers.Driver {
	t.Helper()
	yaml := `cluster: ` + opts.Cluster + `
fabrics:
- name: conformance
  driver: aci
  switches:
  - {name: leaf201, peerIPs: [192.168.9.204], sviPath: "topology/pod-1/paths-201/pathep-[eth1/33]"}
  - {name: leaf202, peerIPs: [192.168.9.205], sviPath: "topology/pod-1/paths-202/pathep-[eth1/33]"}
  aci:
    apic: {url: ` + f.srv.URL + `, username: admin, passwordFile: ` + f.pwFile + `, timeout: 5s, caFile: ` + f.caFile + `}
    tenant: TEN_K8_C1
    vrf: VRF_K8_C1
    l3out: L3O_K8_C1
    nodeProfile: LNP_K8_C1
    interfaceProfile: LIP_K8_C1
    externalEPGs: {nodes: EPG_K8_NODES, pods: EPG_K8_PODS, service: "EPG_{namespace}_{name}", transitExport: L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS}
    consumers: [L3O_EXTERNAL/EPG_DEFAULT]
`
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	d, err := drivers.Open(cfg.Fabrics[0], opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dump is the tenant's subtree, configured properties only.
func (f *confFabric) dump(t *testing.T) string {
	b, err := json.MarshalIndent(f.srv.Dump(tnDN), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writes counts the POSTs and DELETEs of tenant objects, the writer locks'
// markers aside.
func (f *confFabric) writes(t *testing.T) int {
	n := 0
	for _, r := range f.srv.Requests() {
		if (r.Method == "POST" || r.Method == "DELETE") && strings.HasPrefix(r.Path, "/api/mo/") && !strings.Contains(r.Path, "/brc-fabric-reconciler.lock.") {
			n++
		}
	}
	return n
}

// handMake makes, as the network team would (no annotation): a BGP peer at
// a desired address, a subnet in the nodes EPG, an ECMP policy attached to
// the VRF for IPv6, and a contract at a desired name.
func (f *confFabric) handMake(t *testing.T) ([]fabric.Key, func(*testing.T) string) {
	t.Helper()
	const vrf = tnDN + "/ctx-VRF_K8_C1"
	handMade(t, f.srv, leaf201, "bgpPeerP", map[string]string{"addr": "192.168.9.193", "descr": "set by hand"})
	handMade(t, f.srv, ourL3Out+"/instP-EPG_K8_NODES", "l3extSubnet", map[string]string{"ip": "192.168.9.192/28"})
	handMade(t, f.srv, tnDN, "bgpCtxAfPol", map[string]string{"name": "HAND_ECMP", "maxEcmp": "8"})
	handMade(t, f.srv, vrf, "fvRsCtxToBgpCtxAfPol", map[string]string{"tnBgpCtxAfPolName": "HAND_ECMP", "af": "ipv6-ucast"})
	handMade(t, f.srv, tnDN, "vzBrCP", map[string]string{"name": "CNT_DB", "descr": "set by hand"})
	dns := []string{leaf201 + "/peerP-[192.168.9.193]", ourL3Out + "/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]",
		tnDN + "/bgpCtxAfP-HAND_ECMP", vrf + "/rsctxToBgpCtxAfPol-[HAND_ECMP]-ipv6-ucast", tnDN + "/brc-CNT_DB"}
	show := func(t *testing.T) string {
		var b strings.Builder
		for _, dn := range dns {
			if _, _, ok := f.srv.Lookup(dn); !ok {
				t.Fatalf("the hand-made %s is gone", dn)
			}
			b.WriteString(dump(f.srv, dn) + "\n")
		}
		return b.String()
	}
	return []fabric.Key{
		{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193"},
		{Kind: fabric.KindExternalSubnet, ID: "EPG_K8_NODES/192.168.9.192/28"},
		{Kind: fabric.KindMaximumPaths, ID: "ipv6"},
		{Kind: fabric.KindContract, ID: "CNT_DB"},
	}, show
}

func confPeer(sw, addr string, remote, local uint32, opts ...func(*fabric.PeerOptions)) fabric.BGPPeer {
	p := fabric.BGPPeer{Switch: sw, Node: "k8-" + strings.ReplaceAll(addr, ".", "-"), PeerAddress: addr, RemoteASN: remote, LocalASN: local,
		AddressFamily: fabric.IPv4}
	for _, o := range opts {
		o(&p.PeerOptions)
	}
	return p
}

// The options the driver manages, for confPeer.
func withPassword(pw string) func(*fabric.PeerOptions) {
	return func(o *fabric.PeerOptions) { o.Password = fabric.NewSecret(pw, "conformance") }
}

func withLimit(limit uint32, action string, minutes int) func(*fabric.PeerOptions) {
	return func(o *fabric.PeerOptions) {
		o.MaxPrefix = &fabric.MaxPrefix{Limit: limit, Action: action, RestartMinutes: minutes}
	}
}

func shutdown(o *fabric.PeerOptions) { o.Shutdown = true }

func confSub(group, prefix string, scopes ...fabric.Scope) fabric.ExternalSubnet {
	if len(scopes) == 0 {
		scopes = []fabric.Scope{fabric.ScopeImportSecurity}
	}
	return fabric.ExternalSubnet{Group: group, Prefix: prefix, Scopes: scopes}
}

func confContract(name, provider string, ports ...int) fabric.Contract {
	c := fabric.Contract{Name: name, Provider: provider, Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"}}
	for _, p := range ports {
		c.Entries = append(c.Entries, fabric.ContractEntry{Protocol: "tcp", Port: p})
	}
	return c
}

// TestConformance runs the driver conformance suite against the APIC
// emulator.
func TestConformance(t *testing.T) {
	f := &confFabric{}
	desired := fabric.StateOf(
		confPeer("leaf201", "192.168.9.193", 65001, 63500, withPassword(confBGPPW)), // hand-made
		confPeer("leaf201", "192.168.9.194", 65002, 63500, withPassword(confBGPPW), withLimit(100, fabric.MaxPrefixShutdown, 0)),
		confPeer("leaf202", "192.168.9.193", 65001, 64999, withLimit(100, fabric.MaxPrefixShutdown, 0)), // a local-AS override
		confPeer("leaf202", "192.168.9.194", 65002, 63500),                                              // the other cluster's
		confSub("EPG_K8_NODES", "192.168.9.192/28"),                                                     // hand-made
		confSub("EPG_K8_NODES", "10.10.0.0/16"),                                                         // the other cluster's
		confSub("EPG_K8_NODES", "10.20.0.0/16"),
		confSub("EPG_WEB", "172.29.0.6/32"),
		confSub("EPG_DB", "172.29.0.7/32"),
		confSub("L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS", "172.29.0.0/16", fabric.ScopeExportRtctrl),
		fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 2}, // the other cluster's
		fabric.MaximumPaths{AddressFamily: fabric.IPv6, Paths: 4}, // hand-made
		confContract("CNT_WEB", "EPG_WEB", 80),
		confContract("CNT_DB", "EPG_DB", 5432), // hand-made
	)
	updated := fabric.StateOf(
		confPeer("leaf201", "192.168.9.193", 65001, 63500),
		// Another password, another limit, held down.
		confPeer("leaf201", "192.168.9.194", 65012, 63500, withPassword(confBGPPW2), withLimit(200, fabric.MaxPrefixRestart, 5), shutdown),
		confPeer("leaf202", "192.168.9.193", 65001, 63500), // no limit any more
		confPeer("leaf202", "192.168.9.195", 65003, 63500, withPassword(confBGPPW2), withLimit(50, fabric.MaxPrefixWarn, 0)),
		confSub("EPG_K8_NODES", "192.168.9.192/28", fabric.ScopeImportSecurity, fabric.ScopeSharedSecurity),
		confSub("EPG_K8_NODES", "10.20.0.0/16"),
		confSub("EPG_WEB", "172.29.0.6/32"),
		confSub("EPG_WEB", "172.29.0.8/32"),
		fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 3},
		confContract("CNT_WEB", "EPG_WEB", 80, 443),
	)
	conformance.Run(t, conformance.Harness{
		Driver: Name,
		Open:   func(t *testing.T, opts drivers.Options) drivers.Driver { return f.open(t, opts) },
		Reset:  f.reset,
		Dump:   f.dump,
		Writes: f.writes,

		Desired:  desired,
		Updated:  updated,
		HandMake: f.handMake,
		Other: fabric.StateOf(
			confPeer("leaf202", "192.168.9.194", 65002, 63500),
			confSub("EPG_K8_NODES", "10.10.0.0/16"),
			fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 2},
		),

		Refused: []fabric.Object{
			// A node name with a line break is no ACI description.
			fabric.BGPPeer{Switch: "leaf201", Node: "k8evil\nshutdown", PeerAddress: "192.168.9.197", RemoteASN: 65007, LocalASN: 63500,
				AddressFamily: fabric.IPv4},
			// A group that is no <l3out>/<epg> would address another object.
			confSub("k8evil/x/y", "10.99.0.0/16"),
		},
		RefusedText: "k8evil",
		// The APIC refuses the POST (an injected 400): it applies a POST
		// all or nothing, so nothing of the plan is applied.
		PlatformRefuses: func(t *testing.T) (fabric.Object, func()) {
			f.srv.AddFault(emulator.Fault{Kind: emulator.FaultServerError, Status: 400, Method: "POST", PathPrefix: "/api/mo/" + tnDN + ".json"})
			return confSub("EPG_K8_NODES", "10.30.0.0/16"), f.srv.ClearFaults
		},
		Refusal:    conformance.RefusalFailsPlan,
		Lock:       conformance.LockCallersDuty,
		ApplyBasis: conformance.ApplyGoesByObservation,
		Secrets:    []string{apicPW, confBGPPW, confBGPPW2},
	})
}
