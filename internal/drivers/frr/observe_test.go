package frr

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// testFabric is a fabric whose switches nothing listens for: unit tests must
// never reach a switch.
func testFabric(asn uint32, vrf string) config.Fabric {
	f := config.Fabric{
		Name: "haystack-frr", Driver: "frr", ASN: asn,
		Switches: []config.Switch{
			clissh.WithAddress(config.Switch{Name: "leaf201", PeerIPs: []string{"192.168.9.204"}}, "127.0.0.1:1"),
			clissh.WithAddress(config.Switch{Name: "leaf202", PeerIPs: []string{"192.168.9.205"}}, "127.0.0.1:1"),
		},
		MaximumPaths: config.MaximumPaths{Mode: "auto", Limit: 64},
		Platform:     &clissh.Settings{SSH: clissh.SSH{Username: "admin", PasswordFile: "/nonexistent", InsecureIgnoreHostKey: true, Timeout: config.Duration{Duration: time.Second}}},
	}
	if vrf != "" {
		f.Platform.(*clissh.Settings).Own = &Settings{VRF: vrf}
	}
	return f
}

func newTestDriver(t *testing.T, f config.Fabric) *Driver {
	t.Helper()
	d, err := New(f, drivers.Options{Cluster: "haystack"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d.(*Driver)
}

func fixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/running-config-leaf202.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// describe renders observed objects and foreign places one per line, sorted.
func describe(owned []fabric.Object, foreign []fabric.Foreign) string {
	var out []string
	for _, o := range owned {
		b, _ := json.Marshal(fabric.Canonical(o))
		out = append(out, "owned "+fabric.KeyOf(o).String()+" "+string(b))
	}
	for _, f := range foreign {
		out = append(out, "foreign "+fabric.Key{Kind: f.Kind, Switch: f.Switch, ID: f.ID}.String()+" owner="+f.Owner)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func sorted(lines []string) string {
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestObserveFixture(t *testing.T) {
	full := fixture(t)
	base := strings.Join([]string{
		`foreign BGPPeer leaf202/192.168.9.206 owner=`,
		`foreign BGPPeer leaf202/192.168.9.250 owner=orchestrator:fabric-reconciler.other`,
		`foreign PrefixFilter leaf202/192.168.9.206 owner=`,
		`foreign PrefixFilter leaf202/192.168.9.250 owner=orchestrator:fabric-reconciler.other`,
		`owned BGPPeer leaf202/192.168.9.193 {"node":"k8c1m0","peerAddress":"192.168.9.193","remoteASN":63551,"localASN":63500,"addressFamily":"ipv4"}`,
		`owned BGPPeer leaf202/192.168.9.194 {"node":"k8c1s1","peerAddress":"192.168.9.194","remoteASN":63552,"localASN":63501,"addressFamily":"ipv4"}`,
		`owned BGPPeer leaf202/192.168.9.195 {"node":"k8c1s2","peerAddress":"192.168.9.195","remoteASN":63553,"localASN":63500,"addressFamily":"ipv4"}`,
		`owned BGPPeer leaf202/2001:db8::9 {"node":"k8v6","peerAddress":"2001:db8::9","remoteASN":65009,"localASN":63500,"addressFamily":"ipv6"}`,
		`owned MaximumPaths leaf202/ipv4 {"paths":3}`,
		`owned PrefixFilter leaf202/192.168.9.193 {"node":"k8c1m0","peerAddress":"192.168.9.193","prefixes":[{"prefix":"172.27.114.0/26","le":26},{"prefix":"172.29.0.0/16","le":32}]}`,
		`owned PrefixFilter leaf202/192.168.9.194 {"node":"k8c1s1","peerAddress":"192.168.9.194","prefixes":[{"prefix":"172.27.15.192/26","le":26},{"prefix":"172.29.0.0/16","le":32}]}`,
		`owned PrefixFilter leaf202/192.168.9.195 {"node":"k8c1s2","peerAddress":"192.168.9.195","prefixes":[{"prefix":"172.27.111.192/26","le":26},{"prefix":"172.29.0.0/16","le":32}]}`,
		`owned PrefixFilter leaf202/2001:db8::9 {"node":"k8v6","peerAddress":"2001:db8::9","prefixes":[{"prefix":"2001:db8:1::/64","le":64}]}`,
	}, "\n")
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("fixture has no %q", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	swap := func(lines ...string) string {
		out := base
		for i := 0; i+1 < len(lines); i += 2 {
			if !strings.Contains(out, lines[i]) {
				t.Fatalf("expected output has no %q", lines[i])
			}
			out = strings.Replace(out, lines[i], lines[i+1], 1)
		}
		return out
	}
	tests := []struct {
		name   string
		edit   func(string) string
		asn    uint32
		vrf    string
		ecmp   int
		want   string
		errHas string
	}{
		{name: "as read from leaf202", want: base},
		{name: "without the header", edit: replace("Building configuration...\n\nCurrent configuration:\n", ""), want: base},
		{name: "filter unbound by hand",
			edit: replace("  neighbor 192.168.9.194 route-map FR-haystack-IN-192.168.9.194 in\n", ""),
			want: swap(`{"node":"k8c1s1","peerAddress":"192.168.9.194","remoteASN"`, `{"node":"(incomplete: route-map FR-haystack-IN-192.168.9.194 not applied)","peerAddress":"192.168.9.194","remoteASN"`,
				`{"node":"k8c1s1","peerAddress":"192.168.9.194","prefixes"`, `{"node":"(incomplete: not applied to the neighbor)","peerAddress":"192.168.9.194","prefixes"`)},
		{name: "route-map deleted by hand",
			edit: replace("route-map FR-haystack-IN-192.168.9.195 permit 10\n description orchestrator:fabric-reconciler.haystack node=k8c1s2\n match ip address prefix-list FR-haystack-IN-192.168.9.195\nexit\n", ""),
			want: swap(`{"node":"k8c1s2","peerAddress":"192.168.9.195","prefixes"`, `{"node":"(incomplete: route-map missing)","peerAddress":"192.168.9.195","prefixes"`)},
		{name: "deny entry added to an owned prefix-list",
			edit: replace("ip prefix-list FR-haystack-IN-192.168.9.193 seq 10 permit 172.29.0.0/16 le 32\n",
				"ip prefix-list FR-haystack-IN-192.168.9.193 seq 10 permit 172.29.0.0/16 le 32\nip prefix-list FR-haystack-IN-192.168.9.193 seq 15 deny 10.0.0.0/8\n"),
			want: swap(`{"node":"k8c1m0","peerAddress":"192.168.9.193","prefixes"`, `{"node":"(incomplete: unexpected prefix-list entry)","peerAddress":"192.168.9.193","prefixes"`)},
		{name: "IPv6 neighbor active in IPv4 unicast (FRR activates every new neighbor there)",
			edit: replace("  no neighbor 2001:db8::9 activate\n", ""),
			want: swap(`{"node":"k8v6","peerAddress":"2001:db8::9","remoteASN"`, `{"node":"(incomplete: active in ipv4 unicast without this cluster's filter)","peerAddress":"2001:db8::9","remoteASN"`)},
		{name: "IPv6 neighbor activated in IPv4 unicast by hand, on a switch without default activation",
			edit: func(s string) string {
				return replace(" bgp router-id 2.0.0.2\n", " bgp router-id 2.0.0.2\n no bgp default ipv4-unicast\n")(
					replace("  no neighbor 2001:db8::9 activate\n", "  neighbor 2001:db8::9 activate\n")(s))
			},
			want: swap(`{"node":"k8v6","peerAddress":"2001:db8::9","remoteASN"`, `{"node":"(incomplete: active in ipv4 unicast without this cluster's filter)","peerAddress":"2001:db8::9","remoteASN"`,
				`{"node":"k8c1m0","peerAddress":"192.168.9.193","remoteASN"`, `{"node":"(incomplete: not activated in ipv4 unicast)","peerAddress":"192.168.9.193","remoteASN"`,
				`{"node":"k8c1s1","peerAddress":"192.168.9.194","remoteASN"`, `{"node":"(incomplete: not activated in ipv4 unicast)","peerAddress":"192.168.9.194","remoteASN"`,
				`{"node":"k8c1s2","peerAddress":"192.168.9.195","remoteASN"`, `{"node":"(incomplete: not activated in ipv4 unicast)","peerAddress":"192.168.9.195","remoteASN"`)},
		{name: "bgp default ipv6-unicast: IPv4 neighbors active in IPv6 unicast too",
			edit: replace(" bgp router-id 2.0.0.2\n", " bgp router-id 2.0.0.2\n bgp default ipv6-unicast\n"),
			want: swap(`{"node":"k8c1m0","peerAddress":"192.168.9.193","remoteASN"`, `{"node":"(incomplete: active in ipv6 unicast without this cluster's filter)","peerAddress":"192.168.9.193","remoteASN"`,
				`{"node":"k8c1s1","peerAddress":"192.168.9.194","remoteASN"`, `{"node":"(incomplete: active in ipv6 unicast without this cluster's filter)","peerAddress":"192.168.9.194","remoteASN"`,
				`{"node":"k8c1s2","peerAddress":"192.168.9.195","remoteASN"`, `{"node":"(incomplete: active in ipv6 unicast without this cluster's filter)","peerAddress":"192.168.9.195","remoteASN"`)},
		{name: "bgp default ipv6-unicast, IPv4 neighbors deactivated there: as written",
			edit: func(s string) string {
				return replace(" address-family ipv6 unicast\n", " address-family ipv6 unicast\n  no neighbor 192.168.9.193 activate\n  no neighbor 192.168.9.194 activate\n  no neighbor 192.168.9.195 activate\n")(
					replace(" bgp router-id 2.0.0.2\n", " bgp router-id 2.0.0.2\n bgp default ipv6-unicast\n")(s))
			},
			want: base},
		{name: "owned neighbor activated in l2vpn evpn by hand",
			edit: replace("exit\n!\nrouter bgp 65055 vrf BLUE\n", " !\n address-family l2vpn evpn\n  neighbor 192.168.9.193 activate\n exit-address-family\nexit\n!\nrouter bgp 65055 vrf BLUE\n"),
			want: swap(`{"node":"k8c1m0","peerAddress":"192.168.9.193","remoteASN"`, `{"node":"(incomplete: active in l2vpn evpn without this cluster's filter)","peerAddress":"192.168.9.193","remoteASN"`)},
		{name: "multipath-relax removed by hand", edit: replace(" bgp bestpath as-path multipath-relax\n", ""),
			want: swap(`{"paths":3}`, `{"paths":0}`)},
		{name: "ibgp maximum-paths changed by hand", edit: replace("  maximum-paths ibgp 3\n", "  maximum-paths ibgp 4\n"),
			want: swap(`{"paths":3}`, `{"paths":0}`)},
		{name: "maximum-paths at FRR's default", ecmp: 256,
			edit: func(s string) string {
				return replace("  maximum-paths ibgp 3\n", "")(replace("  maximum-paths 3\n", "")(s))
			},
			want: swap(`{"paths":3}`, `{"paths":256}`)},
		{name: "maximum-paths without the marker is foreign",
			edit: replace("ip prefix-list FR-haystack-MARK-MAXPATHS-IPV4 description orchestrator:fabric-reconciler.haystack owns maximum-paths ipv4\n", ""),
			want: swap(`owned MaximumPaths leaf202/ipv4 {"paths":3}`, `foreign MaximumPaths leaf202/ipv4 owner=`)},
		{name: "neighbor description changed by hand: foreign",
			edit: replace(" neighbor 192.168.9.195 description orchestrator:fabric-reconciler.haystack node=k8c1s2\n", " neighbor 192.168.9.195 description taken over by hand\n"),
			want: sorted(append(strings.Split(strings.Replace(base,
				`owned BGPPeer leaf202/192.168.9.195 {"node":"k8c1s2","peerAddress":"192.168.9.195","remoteASN":63553,"localASN":63500,"addressFamily":"ipv4"}`+"\n", "", 1), "\n"),
				`foreign BGPPeer leaf202/192.168.9.195 owner=`, `foreign PrefixFilter leaf202/192.168.9.195 owner=`))},
		{name: "the VRF instance", vrf: "BLUE", asn: 65055,
			want: strings.Join([]string{
				`foreign BGPPeer leaf202/10.1.1.1 owner=`,
				`foreign MaximumPaths leaf202/ipv4 owner=`,
				`foreign PrefixFilter leaf202/10.1.1.1 owner=`,
			}, "\n")},
		{name: "no instance in the VRF", vrf: "GREEN", errHas: `no BGP instance in VRF GREEN: configure "router bgp 63500 vrf GREEN" first`},
		{name: "another AS", asn: 64999, errHas: "the BGP instance in the default VRF is AS 63500, but the configuration says AS 64999"},
		{name: "no BGP at all", edit: func(string) string {
			return "Building configuration...\n\nCurrent configuration:\n!\nhostname leaf202\n!\nend\n"
		},
			errHas: `no BGP instance in the default VRF: configure "router bgp 63500" first`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := full
			if tt.edit != nil {
				text = tt.edit(text)
			}
			asn := tt.asn
			if asn == 0 {
				asn = 63500
			}
			d := newTestDriver(t, testFabric(asn, tt.vrf))
			cfg, err := parseRunningConfig(text)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ecmpMax = tt.ecmp
			sw, _ := d.switches.ByName("leaf202")
			owned, foreign, err := d.observeSwitch(context.Background(), sw, cfg)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error = %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := describe(owned, foreign), sorted(strings.Split(tt.want, "\n")); got != want {
				t.Fatalf("observed:\n%s\n\nwant:\n%s", got, want)
			}
		})
	}
}

func TestParseRunningConfig(t *testing.T) {
	cfg, err := parseRunningConfig(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != "leaf202" || len(cfg.BGP) != 2 {
		t.Fatalf("hostname %q, %d instances", cfg.Hostname, len(cfg.BGP))
	}
	inst := cfg.instance("")
	if inst.ASN != 63500 || !inst.MultipathRelax || inst.NoDefaultIPv4 {
		t.Fatalf("instance %+v", inst)
	}
	n := inst.Neighbors["192.168.9.194"]
	if n.LocalAS != 63501 || n.LocalASFlags != "no-prepend replace-as" || n.RemoteAS != "63552" {
		t.Fatalf("neighbor .194 %+v", n)
	}
	if d := inst.Neighbors["192.168.9.206"].Description; d != "border router, configured by hand" {
		t.Fatalf("description %q", d)
	}
	if pg := inst.Neighbors["SPINES"]; !pg.IsPeerGroup || pg.Addr.IsValid() || pg.RemoteAS != "external" {
		t.Fatalf("peer-group %+v", pg)
	}
	pl := cfg.PrefixLists[cli.PrefixListKey{Family: "ip", Name: "HANDMADE-BORDER-OUT"}]
	if len(pl.Entries) != 2 || pl.Entries[0].LE != 24 || !pl.Entries[1].Any || pl.Entries[1].Action != "deny" {
		t.Fatalf("prefix-list %+v", pl)
	}
	if rm := cfg.RouteMaps["FR-other-IN-192.168.9.250"]; len(rm.Entries) != 1 || rm.Entries[0].Lines[0] != "match ip address prefix-list FR-other-IN-192.168.9.250" {
		t.Fatalf("route-map %+v", rm)
	}
	if v := cfg.instance("BLUE"); v == nil || v.ASN != 65055 || v.AFs["ipv4 unicast"].MaxPaths != 8 {
		t.Fatalf("VRF BLUE %+v", v)
	}
	b, _ := os.ReadFile("testdata/show-zebra.txt")
	if got := parseECMPMax(string(b)); got != 256 {
		t.Fatalf("ECMP maximum %d, want 256", got)
	}

	for _, bad := range []string{
		"router bgp x\n",
		"router bgp 1\nrouter bgp 2\n",
		"ip prefix-list A seq x permit 10.0.0.0/8\n",
		"ip prefix-list A seq 5 permit 10.0.0.0/33\n",
		"ip prefix-list A seq 5 permit 10.0.0.0/8 foo 3\n",
		"route-map A allow 10\n",
		"router bgp 1\n neighbor 10.0.0.1 local-as x\n",
	} {
		if _, err := parseRunningConfig(bad); err == nil {
			t.Errorf("parseRunningConfig(%q) accepted it", bad)
		}
	}
}
