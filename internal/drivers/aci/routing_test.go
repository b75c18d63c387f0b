package aci

import (
	"context"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

func routingIntent() fabric.Intent {
	src := func(p string) fabric.Sourced {
		return fabric.Sourced{Prefix: netip.MustParsePrefix(p), Sources: []string{"x"}}
	}
	return fabric.Intent{Fabric: "f",
		Sessions: []fabric.Session{
			{Switch: "leaf201", Node: "n1", NodeAddress: netip.MustParsePrefix("192.168.9.193/28"), RemoteASN: 63551, LocalASN: 63500,
				AddressFamily: fabric.IPv4, Allowed: []fabric.PrefixRule{{Prefix: "172.27.1.0/26", LE: 26}, {Prefix: "172.29.0.0/16", LE: 32}}},
			{Switch: "leaf201", Node: "n1", NodeAddress: netip.MustParsePrefix("2001:db8::193/64"), RemoteASN: 63551, LocalASN: 63500,
				AddressFamily: fabric.IPv6},
		},
		NodeSubnets:   []fabric.Sourced{src("192.168.9.192/28")},
		PodPools:      []fabric.Sourced{src("172.27.0.0/16"), src("172.28.0.0/16")},
		ExportedPools: []fabric.Sourced{src("172.27.0.0/16")},
		PodBlocks:     []fabric.Sourced{src("172.27.1.0/26"), src("172.28.5.0/26")},
		ServiceRanges: []fabric.Sourced{src("172.29.0.0/16")},
		Paths:         fabric.PathsIntent{Mode: "auto"},
	}
}

// TestDesireRouting: what Desire plans for transit export, import control,
// dual stack and ECMP, by configuration.
func TestDesireRouting(t *testing.T) {
	base := func() *Settings {
		return &Settings{L3Out: "L3O", InterfaceProfile: "LIP", ExternalEPGs: ExternalEPGs{Nodes: "EPG_NODES", Pods: "EPG_PODS",
			Service: "EPG_{namespace}_{name}", PodSubnets: "pools", TransitExport: "L3O_EXT/EPG_OUT"}, Contract: "CNT_{namespace}_{name}",
			ImportControl: "peer", ASNPropagate: "none"}
	}
	for _, c := range []struct {
		name    string
		tweak   func(*Settings, *Leaf)
		exports []string // transit subnets "prefix scope"
		filters int
		paths   int
		v6      bool // the IPv6 session is planned
	}{
		{"pools: the pool and the service range as aggregates", func(*Settings, *Leaf) {},
			[]string{"172.27.0.0/16 export-aggregate", "172.29.0.0/16 export-aggregate", "192.168.9.192/28 export-rtctrl"}, 1, 16, false},
		{"blocks: each block of an exported pool exactly", func(a *Settings, _ *Leaf) { a.ExternalEPGs.PodSubnets = "blocks" },
			[]string{"172.27.1.0/26 export-rtctrl", "172.29.0.0/16 export-aggregate", "192.168.9.192/28 export-rtctrl"}, 1, 16, false},
		{"import control off: no import route maps", func(a *Settings, _ *Leaf) { a.ImportControl = "none" },
			[]string{"172.27.0.0/16 export-aggregate", "172.29.0.0/16 export-aggregate", "192.168.9.192/28 export-rtctrl"}, 0, 16, false},
		{"maximum paths below 16 when allowed", func(a *Settings, _ *Leaf) { a.MaximumPathsAllowLower = true },
			[]string{"172.27.0.0/16 export-aggregate", "172.29.0.0/16 export-aggregate", "192.168.9.192/28 export-rtctrl"}, 1, 1, false},
		{"dual stack: the IPv6 peer on its own profile", func(a *Settings, l *Leaf) {
			a.InterfaceProfileV6 = "LIP_V6"
			l.SVIPathV6 = "topology/pod-1/paths-201/pathep-[eth1/33]"
		}, []string{"172.27.0.0/16 export-aggregate", "172.29.0.0/16 export-aggregate", "192.168.9.192/28 export-rtctrl"}, 2, 16, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, l := base(), &Leaf{SVIPath: "topology/pod-1/paths-201/pathep-[eth1/33]"}
			c.tweak(a, l)
			cfg := config.Fabric{Name: "f", Driver: "aci", Platform: a, Switches: []config.Switch{{Name: "leaf201", Platform: l}}}
			r := Desire(cfg, routingIntent())
			var exports []string
			for _, s := range r.State.Subnets {
				if s.Group == "L3O_EXT/EPG_OUT" {
					for _, sc := range s.Scopes {
						exports = append(exports, s.Prefix+" "+string(sc))
					}
				}
			}
			sort.Strings(exports)
			if !reflect.DeepEqual(exports, c.exports) {
				t.Errorf("exports %v, want %v", exports, c.exports)
			}
			if len(r.State.PrefixFilters) != c.filters {
				t.Errorf("filters %+v, want %d", r.State.PrefixFilters, c.filters)
			}
			if len(r.State.MaximumPaths) == 0 || r.State.MaximumPaths[0].Paths != c.paths {
				t.Errorf("maximum paths %+v, want %d", r.State.MaximumPaths, c.paths)
			}
			v6 := false
			for _, p := range r.State.Peers {
				v6 = v6 || p.AddressFamily == fabric.IPv6
			}
			skipped := false
			for _, s := range r.Skipped {
				skipped = skipped || strings.Contains(s.Reason, "IPv6 peer needs")
			}
			if v6 != c.v6 || skipped == c.v6 {
				t.Errorf("IPv6 peer planned %v (skipped %v), want planned %v: %+v", v6, skipped, c.v6, r.Skipped)
			}
		})
	}
}

// TestRoutingOnTheEmulator: the import route maps and aggregate exports
// land on the emulator as ACI's objects, converge, and go again.
func TestRoutingOnTheEmulator(t *testing.T) {
	const tn = "uni/tn-TEN_K8_C1"
	p := peer("leaf201", "192.168.9.193")
	filter := fabric.PrefixFilter{Switch: "leaf201", Node: p.Node, PeerAddress: "192.168.9.193",
		Prefixes: []fabric.PrefixRule{{Prefix: "172.27.1.0/26", LE: 26}, {Prefix: "172.29.0.0/16", LE: 32}}}
	agg := fabric.ExternalSubnet{Group: "L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS", Prefix: "172.27.0.0/16", Scopes: []fabric.Scope{fabric.ScopeExportAggregate}}
	srv, d := lab(t, emulator.Options{}, tlsCA)
	name := d.names.importName("leaf201", netip.MustParseAddr("192.168.9.193"))
	rule := d.names.exportRule()
	for _, step := range []struct {
		name    string
		want    fabric.State
		present map[string]map[string]string // DN -> attributes it must have
		absent  []string
	}{
		{"a peer with its import route map and an aggregate export", fabric.StateOf(p, filter, agg), map[string]map[string]string{
			tn + "/prof-" + name:                           {"type": "global"},
			tn + "/subj-" + name + "/dest-[172.27.1.0/26]": {"aggregate": "no"},
			tn + "/subj-" + name + "/dest-[172.29.0.0/16]": {"aggregate": "yes", "fromPfxLen": "16", "toPfxLen": "32"},
			tn + "/out-L3O_EXTERNAL/prof-default-export":   {"type": "combinable"},
			tn + "/subj-" + rule + "/dest-[172.27.0.0/16]": {"aggregate": "yes"},
			tn + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]/peerP-[192.168.9.193]/rspeerToProfile-[" + tn + "/prof-" + name + "]-import": {"direction": "import"},
		}, []string{tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS/extsubnet-[172.27.0.0/16]"}},
		{"the filter narrows", fabric.StateOf(p, fabric.PrefixFilter{Switch: "leaf201", Node: p.Node, PeerAddress: "192.168.9.193",
			Prefixes: []fabric.PrefixRule{{Prefix: "172.27.1.0/26", LE: 26}}}, agg), map[string]map[string]string{
			tn + "/subj-" + name + "/dest-[172.27.1.0/26]": {"aggregate": "no"},
		}, []string{tn + "/subj-" + name + "/dest-[172.29.0.0/16]"}},
		{"filter and export gone", fabric.StateOf(p), nil,
			[]string{tn + "/prof-" + name, tn + "/subj-" + name, tn + "/subj-" + rule + "/dest-[172.27.0.0/16]"}},
	} {
		reconcile(t, d, step.want)
		for dn, attrs := range step.present {
			_, got, ok := srv.Lookup(dn)
			if !ok {
				t.Errorf("%s: %s missing", step.name, dn)
				continue
			}
			for k, v := range attrs {
				if got[k] != v {
					t.Errorf("%s: %s %s=%q, want %q", step.name, dn, k, got[k], v)
				}
			}
		}
		for _, dn := range step.absent {
			if _, _, ok := srv.Lookup(dn); ok {
				t.Errorf("%s: %s present", step.name, dn)
			}
		}
		if f := srv.Faults(tn); len(f) != 0 {
			t.Errorf("%s: faults %+v", step.name, f)
		}
	}
}

// TestFaultsMakeApplyFail: a setting the APIC accepts but cannot deploy
// raises a fault on the owned object; Apply reports the fabric as not
// converged with the fault's code and text. One case per semantic rule the
// driver's own writes can meet.
func TestFaultsMakeApplyFail(t *testing.T) {
	v6 := fabric.BGPPeer{Switch: "leaf202", Node: "k8c1s1", PeerAddress: "2001:db8::10", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv6}
	for _, c := range []struct {
		name   string
		setup  func(*emulator.Server)
		want   fabric.State
		reason string // "" converged
	}{
		{"a node subnet unique in its VRF", func(*emulator.Server) {}, fabric.StateOf(sub("EPG_K8_PODS", "10.77.0.0/16")), ""},
		{"an import-security prefix another EPG of the VRF holds", func(*emulator.Server) {}, fabric.StateOf(sub("EPG_K8_PODS", "0.0.0.0/0")),
			emulator.RuleDuplicatePrefix},
		{"an IPv6 peer on a path with an IPv6 address", func(s *emulator.Server) { seedV6(t, s, "2001:db8::1/64") }, fabric.StateOf(v6), ""},
		{"an IPv6 peer on a path with an IPv4 address", func(s *emulator.Server) { seedV6(t, s, "192.168.9.205/28") }, fabric.StateOf(v6),
			emulator.RulePeerFamily},
		{"an import route map where import control is not enforced", func(s *emulator.Server) {
			s.SetAttr("uni/tn-TEN_K8_C1/out-L3O_K8_C1", "enforceRtctrl", "export")
		}, fabric.StateOf(peer("leaf201", "192.168.9.193")), emulator.RuleImportEnforce},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, emulator.Options{}, tlsCA)
			c.setup(srv)
			ctx := context.Background()
			obs, err := d.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res, err := d.Apply(ctx, fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: c.want}, obs))
			if c.reason == "" {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				return
			}
			faults := srv.Faults("uni/tn-TEN_K8_C1")
			if len(faults) != 1 || faults[0].Attrs["cause"] != c.reason {
				t.Fatalf("emulator faults %+v, want one %s", faults, c.reason)
			}
			if err == nil || !strings.Contains(err.Error(), "not converged") || !strings.Contains(err.Error(), "F0467") ||
				!strings.Contains(err.Error(), faults[0].Attrs["descr"]) {
				t.Fatalf("apply error %v, want not converged with the fault's code and text", err)
			}
			if !strings.Contains(strings.Join(res.Messages, "\n"), "not converged: fault F0467 "+c.reason) {
				t.Errorf("messages %v", res.Messages)
			}
		})
	}
}

// TestFabricAS: the fabric's AS is read from the APIC; the configuration's
// asn must match it; a peer gets a local-AS exactly when its node expects
// another AS, with the configured asnPropagate.
func TestFabricAS(t *testing.T) {
	const la = "uni/tn-TEN_K8_C1/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]/peerP-[192.168.9.193]/localasn"
	for _, c := range []struct {
		name      string
		cfgASN    uint32
		propagate string
		presented uint32
		wantErr   string
		wantLocal string // "" none
	}{
		{"the node expects the fabric's AS", 0, "none", 65000, "", ""},
		{"the node expects another AS", 0, "none", 63500, "", "63500"},
		{"with replace-as", 0, "replace-as", 63500, "", "63500"},
		{"the configuration's asn agrees", 65000, "none", 63500, "", "63500"},
		{"the configuration's asn disagrees", 63500, "none", 63500, "the configuration's asn 63500 is not the fabric's BGP AS 65000", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, emulator.Options{}, tlsCA)
			d.cfg.ASN = c.cfgASN
			d.aci.ASNPropagate = c.propagate
			p := peer("leaf201", "192.168.9.193")
			p.LocalASN = c.presented
			if c.wantErr != "" {
				if _, err := d.Observe(context.Background()); err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("observe: %v, want %q", err, c.wantErr)
				}
				return
			}
			reconcile(t, d, fabric.StateOf(p))
			_, a, ok := srv.Lookup(la)
			switch {
			case c.wantLocal == "" && ok:
				t.Errorf("local-AS %v", a)
			case c.wantLocal != "" && (!ok || a["localAsn"] != c.wantLocal || a["asnPropagate"] != c.propagate):
				t.Errorf("local-AS %v (present %v), want %s with %s", a, ok, c.wantLocal, c.propagate)
			}
		})
	}
}
