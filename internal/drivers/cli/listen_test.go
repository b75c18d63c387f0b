package cli

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// In listen peering each switch and family gets one group: the nodes'
// subnets, one set of options, the filter any node may use. A session the
// group cannot hold as it is (another password, another local AS, iBGP
// among eBGP) is skipped with the reason; maintenance shutdown cannot apply
// to one dynamic neighbor and is dropped with a warning.
func TestDesireListen(t *testing.T) {
	pw := func(v, addr string) *fabric.Secret { return fabric.NewSecret(v, fabric.PasswordSalt("haystack", addr)) }
	opts := func(addr string, limit uint32) fabric.PeerOptions {
		return fabric.PeerOptions{Password: pw(testPW, addr), Hold: 9,
			MaxPrefix: &fabric.MaxPrefix{Limit: limit, Action: fabric.MaxPrefixShutdown}}
	}
	m0, s1, s2 := session("k8c1m0", "192.168.9.193", 63551), session("k8c1s1", "192.168.9.194", 63552), session("k8c1s2", "10.9.0.5", 63553)
	m0.Options, s1.Options, s2.Options = opts("192.168.9.193", 10), opts("192.168.9.194", 14), opts("10.9.0.5", 12)
	s2.Options.Shutdown = true
	otherPW := session("k8c1s3", "192.168.9.196", 63554)
	otherPW.Options = opts("192.168.9.196", 10)
	otherPW.Options.Password = pw("another-one", "192.168.9.196")
	ibgp := session("k8c1s4", "192.168.9.197", 63500)
	ibgp.Options = opts("192.168.9.197", 10)
	in := fabric.Intent{Fabric: "f", Cluster: "haystack", Sessions: []fabric.Session{m0, s1, s2, otherPW, ibgp},
		AnyNodeAllowed: []fabric.PrefixRule{{Prefix: "172.27.0.0/16", LE: 26}, {Prefix: "172.29.0.0/16", LE: 32}, {Prefix: "2001:db8::/48", LE: 64}},
		AnyNodeSources: []string{"IPPool/default", "BGPConfiguration/default"},
		Paths:          fabric.PathsIntent{Mode: "auto", AllNodes: map[fabric.AddressFamily]bool{fabric.IPv4: true}}}
	r := Desire(in, Limits{PlatformName: "FRR", MaxPaths: 256, Listen: true,
		Options: map[fabric.PeerOption]bool{fabric.OptionPassword: true, fabric.OptionMaxPrefix: true, fabric.OptionTimers: true, fabric.OptionShutdown: true}})
	if len(r.State.Peers) != 0 || len(r.State.PrefixFilters) != 0 || len(r.State.Listens) != 1 {
		t.Fatalf("state %+v", r.State)
	}
	l := r.State.Listens[0]
	if strings.Join(l.Ranges, ",") != "192.168.9.192/28,10.9.0.0/28" || l.RemoteAS != fabric.RemoteASExternal || l.LocalASN != 63500 ||
		l.Limit != 100 || len(l.Prefixes) != 2 || l.MaxPrefix.Limit != 14 || l.Keepalive != 3 || l.Shutdown {
		t.Errorf("listen %+v", l)
	}
	if l.Password.Value() != testPW || l.Password.Fingerprint() != fabric.Fingerprint(testPW, ListenSalt("haystack", "leaf201", fabric.IPv4)) {
		t.Errorf("the group's password is not salted for the group: %v", l.Password)
	}
	if len(r.Skipped) != 2 || !strings.Contains(r.Skipped[0].Reason, "its password is not k8c1m0's") ||
		!strings.Contains(r.Skipped[1].Reason, "its session is internal BGP, k8c1m0's external BGP") {
		t.Errorf("skipped %+v", r.Skipped)
	}
	if len(r.State.MaximumPaths) != 1 || r.State.MaximumPaths[0].Paths != 3 {
		t.Errorf("maximum-paths %+v", r.State.MaximumPaths)
	}
	if w := strings.Join(r.Warnings, "\n"); !strings.Contains(w, "bgp.shutdown does not apply to k8c1s2") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if src := r.Sources[fabric.KeyOf(fabric.Canonical(l))]; !strings.Contains(strings.Join(src, ","), "IPPool/default") {
		t.Errorf("sources %v", src)
	}
	if err := CheckListen(l); err != nil {
		t.Errorf("CheckListen: %v", err)
	}
	for n, want := range map[int]int{1: 100, 50: 100, 51: 200, 2000: 4000} {
		if got := ListenLimit(n); got != want {
			t.Errorf("ListenLimit(%d) = %d, want %d", n, got, want)
		}
	}
}

// A platform that does not write listen groups refuses them; an address
// family that is not one refuses the delete; names are the cluster's.
func TestListenPlanning(t *testing.T) {
	fs := NewFilters()
	p := &toy{Planner: Planner{Script: NewScript(Dialect{}), Ownership: testOwnership(t, false), Switch: "leaf201", PlatformName: "toy",
		MaxPaths: 64, Filters: &fs}, neighbors: map[netip.Addr]*Neighbor{}, bound: map[netip.Addr]string{}}
	l := fabric.BGPListen{Switch: "leaf201", AddressFamily: fabric.IPv4, Ranges: []string{"192.168.9.192/28"}, RemoteAS: fabric.RemoteASExternal,
		LocalASN: 63500, Limit: 100, Prefixes: []fabric.PrefixRule{{Prefix: "172.29.0.0/16", LE: 32}}}
	p.Plan([]fabric.Change{
		{Action: fabric.ActionCreate, Kind: fabric.KindBGPListen, Switch: "leaf201", ID: "ipv4", After: l},
		{Action: fabric.ActionDelete, Kind: fabric.KindBGPListen, Switch: "leaf201", ID: "ipv4\nno router bgp 1"},
	}, p)
	refused := p.Refused()
	// Deletes come first (Order).
	if len(refused) != 2 || !strings.Contains(refused[1].Err.Error(), "listen peering is not configured on toy") ||
		!strings.Contains(refused[0].Err.Error(), "must be ipv4 or ipv6") || len(p.Lines()) != 0 {
		t.Fatalf("refused %v, lines %q", refused, p.Text())
	}
	if n := p.Naming.Listen(fabric.IPv6); n != "FR-haystack-NODES-IPV6" || !p.IsListenName(n) || p.IsFilterName(n) {
		t.Errorf("name %q", n)
	}
}
