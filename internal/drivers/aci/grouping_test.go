package aci

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// groupingFabric is a fabric of one leaf under the given grouping.
func groupingFabric(grouping string) config.Fabric {
	a := &Settings{L3Out: "L3O", ExternalEPGs: ExternalEPGs{Nodes: "EPG_NODES", Pods: "EPG_PODS",
		Service: "EPG_{namespace}_{name}"}, Contract: "CNT_{namespace}_{name}", ServiceGrouping: grouping}
	a.groupingDefaults()
	if a.APICVersion == "" {
		a.APICVersion = defaultAPICVersion
	}
	return config.Fabric{Name: "f", Driver: "aci", Platform: a}
}

func svc(ns, name, ip string, labels map[string]string, ports ...string) fabric.ServiceIntent {
	s := fabric.ServiceIntent{Namespace: ns, Name: name, Labels: labels}
	if ip != "" {
		s.OwnIPs = []netip.Addr{netip.MustParseAddr(ip)}
	}
	for _, p := range ports {
		var e fabric.ContractEntry
		fmt.Sscanf(strings.Replace(p, "/", " ", 1), "%s %d", &e.Protocol, &e.Port)
		s.Ports = append(s.Ports, e)
	}
	return s
}

func groupingIntent(services ...fabric.ServiceIntent) fabric.Intent {
	return fabric.Intent{Fabric: "f", Sessions: []fabric.Session{{Switch: "leaf201", Node: "n1",
		NodeAddress: netip.MustParsePrefix("192.168.9.193/28"), RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4}},
		Services: services}
}

// serviceView is what Desire made of the services: each service EPG's
// prefixes, and each contract as "provider: entries".
func serviceView(r fabric.Realized) (epgs map[string][]string, contracts map[string]string) {
	epgs, contracts = map[string][]string{}, map[string]string{}
	for _, s := range r.State.Subnets {
		if s.Group == "EPG_NODES" || s.Group == "EPG_PODS" {
			continue
		}
		epgs[s.Group] = append(epgs[s.Group], s.Prefix)
	}
	for _, ps := range epgs {
		sort.Strings(ps)
	}
	for _, c := range r.State.Contracts {
		var es []string
		for _, e := range c.Entries {
			es = append(es, e.String())
		}
		contracts[c.Name] = c.Provider + ": " + strings.Join(es, " ")
	}
	return epgs, contracts
}

// The example cluster of the grouping tests: two namespaces with
// services on two tiers, a service sharing a's web IP from namespace c,
// and a service without the tier label.
func groupingServices() []fabric.ServiceIntent {
	front, back := map[string]string{"tier": "front"}, map[string]string{"tier": "back"}
	shared := svc("c", "shared", "", map[string]string{"tier": "other"}, "udp/8080")
	shared.SharesWith = "a/web"
	return []fabric.ServiceIntent{
		svc("a", "web", "10.9.0.1", front, "tcp/80"),
		svc("a", "api", "10.9.0.2", back, "tcp/443"),
		svc("b", "db", "10.9.0.3", back, "tcp/5432"),
		svc("b", "web2", "10.9.0.5", front, "tcp/80"),
		shared,
		svc("c", "nolabel", "2001:db8::6", nil, "tcp/22"),
	}
}

func TestServiceGrouping(t *testing.T) {
	for _, tc := range []struct {
		grouping  string
		epgs      map[string][]string
		contracts map[string]string
		warning   string
	}{
		{grouping: "service",
			epgs: map[string][]string{"EPG_a_web": {"10.9.0.1/32"}, "EPG_a_api": {"10.9.0.2/32"}, "EPG_b_db": {"10.9.0.3/32"},
				"EPG_b_web2": {"10.9.0.5/32"}, "EPG_c_nolabel": {"2001:db8::6/128"}},
			contracts: map[string]string{"CNT_a_web": "EPG_a_web: tcp/80", "CNT_a_api": "EPG_a_api: tcp/443", "CNT_b_db": "EPG_b_db: tcp/5432",
				"CNT_b_web2": "EPG_b_web2: tcp/80", "CNT_c_shared": "EPG_a_web: udp/8080", "CNT_c_nolabel": "EPG_c_nolabel: tcp/22"}},
		{grouping: "namespace",
			epgs: map[string][]string{"EPG_K8_NS_A": {"10.9.0.1/32", "10.9.0.2/32"}, "EPG_K8_NS_B": {"10.9.0.3/32", "10.9.0.5/32"},
				"EPG_K8_NS_C": {"2001:db8::6/128"}},
			contracts: map[string]string{"CNT_K8_NS_A": "EPG_K8_NS_A: tcp/80 tcp/443 udp/8080", "CNT_K8_NS_B": "EPG_K8_NS_B: tcp/80 tcp/5432",
				"CNT_K8_NS_C": "EPG_K8_NS_C: tcp/22"}},
		{grouping: "label:tier",
			epgs: map[string][]string{"EPG_K8_LBL_front": {"10.9.0.1/32", "10.9.0.5/32"}, "EPG_K8_LBL_back": {"10.9.0.2/32", "10.9.0.3/32"},
				"EPG_c_nolabel": {"2001:db8::6/128"}},
			contracts: map[string]string{"CNT_K8_LBL_front": "EPG_K8_LBL_front: tcp/80 udp/8080", "CNT_K8_LBL_back": "EPG_K8_LBL_back: tcp/443 tcp/5432",
				"CNT_c_nolabel": "EPG_c_nolabel: tcp/22"},
			warning: "1 service(s) have no label tier (c/nolabel): each keeps an external EPG and a contract of its own"},
		{grouping: "ports",
			epgs: map[string][]string{"EPG_K8_PORTS_TCP80-UDP8080": {"10.9.0.1/32"}, "EPG_K8_PORTS_TCP443": {"10.9.0.2/32"},
				"EPG_K8_PORTS_TCP5432": {"10.9.0.3/32"}, "EPG_K8_PORTS_TCP80": {"10.9.0.5/32"}, "EPG_K8_PORTS_TCP22": {"2001:db8::6/128"}},
			contracts: map[string]string{"CNT_K8_PORTS_TCP80-UDP8080": "EPG_K8_PORTS_TCP80-UDP8080: tcp/80 udp/8080",
				"CNT_K8_PORTS_TCP443": "EPG_K8_PORTS_TCP443: tcp/443", "CNT_K8_PORTS_TCP5432": "EPG_K8_PORTS_TCP5432: tcp/5432",
				"CNT_K8_PORTS_TCP80": "EPG_K8_PORTS_TCP80: tcp/80", "CNT_K8_PORTS_TCP22": "EPG_K8_PORTS_TCP22: tcp/22"}},
	} {
		t.Run(tc.grouping, func(t *testing.T) {
			r := Desire(groupingFabric(tc.grouping), groupingIntent(groupingServices()...))
			if len(r.Skipped) > 0 {
				t.Errorf("skipped %+v", r.Skipped)
			}
			epgs, contracts := serviceView(r)
			if !reflect.DeepEqual(epgs, tc.epgs) {
				t.Errorf("EPGs\n got %v\nwant %v", epgs, tc.epgs)
			}
			if !reflect.DeepEqual(contracts, tc.contracts) {
				t.Errorf("contracts\n got %v\nwant %v", contracts, tc.contracts)
			}
			warnings := strings.Join(r.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(warnings, tc.warning) || tc.warning == "" && warnings != "" {
				t.Errorf("warnings %q, want %q", warnings, tc.warning)
			}
			// Every member is a source of its group's objects.
			for _, c := range r.State.Contracts {
				if c.Name == "CNT_K8_NS_A" {
					got := r.Sources[fabric.KeyOf(c)]
					if want := []string{"Service/a/api", "Service/a/web", "Service/c/shared"}; !reflect.DeepEqual(got, want) {
						t.Errorf("sources of %s %v, want %v", c.Name, got, want)
					}
				}
			}
		})
	}
}

// The default is today's behaviour: no grouping key at all and
// "service" give the same objects (the goldens pin them further).
func TestServiceGroupingDefaultUnchanged(t *testing.T) {
	in := groupingIntent(groupingServices()...)
	unset := groupingFabric("")
	unset.Platform.(*Settings).ServiceGrouping = ""
	if a, b := Desire(unset, in), Desire(groupingFabric("service"), in); !reflect.DeepEqual(a, b) {
		t.Errorf("unset grouping and service differ:\n%+v\n%+v", a, b)
	}
}

// A service that moves from one group to another (a label changed) moves
// its /32: deleted from the old group's EPG, created in the new one, and
// the two contracts follow.
func TestServiceGroupingMembershipChange(t *testing.T) {
	cfg := groupingFabric("label:tier")
	before := Desire(cfg, groupingIntent(svc("a", "web", "10.9.0.1", map[string]string{"tier": "front"}, "tcp/80"),
		svc("a", "api", "10.9.0.2", map[string]string{"tier": "back"}, "tcp/443")))
	after := Desire(cfg, groupingIntent(svc("a", "web", "10.9.0.1", map[string]string{"tier": "back"}, "tcp/80"),
		svc("a", "api", "10.9.0.2", map[string]string{"tier": "back"}, "tcp/443")))
	plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: after.State, Sources: after.Sources},
		fabric.Observed{Owned: before.State})
	var got []string
	for _, c := range plan.Changes {
		got = append(got, fmt.Sprintf("%s %s %s", c.Action, c.Kind, c.ID))
	}
	sort.Strings(got)
	want := []string{
		"create ExternalSubnet EPG_K8_LBL_back/10.9.0.1/32",
		"delete Contract CNT_K8_LBL_front",
		"delete ExternalSubnet EPG_K8_LBL_front/10.9.0.1/32",
		"update Contract CNT_K8_LBL_back",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got %q\nwant %q", got, want)
	}
}

// Label values come from the cluster and name APIC objects: a value that
// is not a Kubernetes label value is refused (the service is skipped with
// the reason), and nothing of it reaches a name.
func TestServiceGroupingHostileLabels(t *testing.T) {
	cfg := groupingFabric("label:team")
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"blue", true}, {"Blue.Team_2-x", true}, {strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false}, {"../../uni", false}, {"a]b", false}, {"a/b", false}, {"x\ny", false},
		{"-lead", false}, {"trail.", false}, {"sp ace", false}, {"é", false}, {"a[b", false}, {"tn-x", true},
	} {
		t.Run(fmt.Sprintf("%q", tc.value), func(t *testing.T) {
			r := Desire(cfg, groupingIntent(svc("a", "web", "10.9.0.1", map[string]string{"team": tc.value}, "tcp/80")))
			epgs, contracts := serviceView(r)
			if !tc.ok {
				if len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Reason, "is not a Kubernetes label value") || len(epgs) != 0 || len(contracts) != 0 {
					t.Fatalf("skipped %+v, EPGs %v, contracts %v: want the service skipped and nothing planned", r.Skipped, epgs, contracts)
				}
				return
			}
			if len(r.Skipped) != 0 || len(epgs) != 1 || len(contracts) != 1 {
				t.Fatalf("skipped %+v, EPGs %v, contracts %v", r.Skipped, epgs, contracts)
			}
			for name := range epgs {
				if !aciNameRe.MatchString(name) {
					t.Errorf("EPG name %q is not an ACI name", name)
				}
			}
			for name := range contracts {
				if !aciNameRe.MatchString(name) || !aciNameRe.MatchString(filterName(name)) {
					t.Errorf("contract name %q is not an ACI name", name)
				}
			}
		})
	}
}

// Group names never take the cluster's own EPGs, nor each other's: a
// label value that spells another group's name is skipped with the reason.
func TestServiceGroupingNameCollisions(t *testing.T) {
	cfg := groupingFabric("label:team")
	a := cfg.Platform.(*Settings)
	a.ExternalEPGs.ServiceGroup, a.GroupContract = "EPG_{label}", "CNT_{label}"
	r := Desire(cfg, groupingIntent(
		svc("x", "y", "10.9.0.1", nil, "tcp/80"),                              // per service: EPG_x_y
		svc("p", "q", "10.9.0.2", map[string]string{"team": "x_y"}, "tcp/81"), // group EPG_x_y: taken
		svc("p", "r", "10.9.0.3", map[string]string{"team": "NODES"}, "tcp/82"),
	))
	epgs, _ := serviceView(r)
	if want := map[string][]string{"EPG_x_y": {"10.9.0.1/32"}}; !reflect.DeepEqual(epgs, want) {
		t.Errorf("EPGs %v, want %v", epgs, want)
	}
	var why []string
	for _, s := range r.Skipped {
		why = append(why, s.Object+": "+s.Reason)
	}
	all := strings.Join(why, "\n")
	for _, want := range []string{"Service/p/q: fabric f: group label/x_y: external EPG name EPG_x_y is already that of group service/x/y",
		"Service/p/r: fabric f: group label/NODES: external EPG name EPG_NODES is the cluster's EPG_NODES EPG"} {
		if !strings.Contains(all, want) {
			t.Errorf("skips lack %q:\n%s", want, all)
		}
	}
}

func TestServiceGroupingConfig(t *testing.T) {
	base := func(extra string) string {
		return `cluster: unit
fabrics:
- name: f
  driver: aci
  asn: 63500
  switches:
  - {name: leaf201, peerIPs: [192.168.9.204], sviPath: "topology/pod-1/paths-201/pathep-[eth1/33]"}
  aci:
    apic: {url: "https://127.0.0.1:1", username: admin, passwordFile: /dev/null}
    tenant: T
    vrf: V
    l3out: L
    nodeProfile: N
    interfaceProfile: I
    externalEPGs: {nodes: EN, pods: EP, service: "EPG_{namespace}_{name}"` + extra
	}
	for _, tc := range []struct {
		name, yaml, err string
	}{
		{"default", base("}\n"), ""},
		{"namespace", base("}\n    serviceGrouping: namespace\n"), ""},
		{"label with prefix", base("}\n    serviceGrouping: label:app.kubernetes.io/part-of\n"), ""},
		{"ports", base("}\n    serviceGrouping: ports\n"), ""},
		{"own templates", base(", serviceGroup: \"X_{ports}\"}\n    groupContract: \"C.{PORTS}\"\n    serviceGrouping: ports\n"), ""},
		{"unknown", base("}\n    serviceGrouping: cluster\n"), "is not one of service, namespace, label:<key>, ports"},
		{"label without key", base("}\n    serviceGrouping: \"label:\"\n"), "is not a Kubernetes label key"},
		{"label bad key", base("}\n    serviceGrouping: \"label:a b\"\n"), "is not a Kubernetes label key"},
		{"label bad prefix", base("}\n    serviceGrouping: \"label:Ex_ample/x\"\n"), "prefix must be a DNS subdomain"},
		{"LABEL refused", base(", serviceGroup: \"E_{LABEL}\"}\n    serviceGrouping: label:team\n"), "upper-casing would give two values one name"},
		{"wrong placeholder", base("}\n    groupContract: \"C_{namespace}\"\n    serviceGrouping: ports\n"), "must hold the placeholder {ports} or {PORTS} exactly once"},
		{"two placeholders", base(", serviceGroup: \"E_{namespace}_{NAMESPACE}\"}\n    serviceGrouping: namespace\n"), "exactly once"},
		{"bad characters", base(", serviceGroup: \"E/{namespace}\"}\n    serviceGrouping: namespace\n"), "must be ACI name characters"},
		{"group template under service", base(", serviceGroup: \"E_{namespace}\"}\n"), "used only with serviceGrouping namespace, label:<key> or ports"},
		{"apic version", base("}\n    apicVersion: 5.2(8e)\n"), ""},
		{"bad apic version", base("}\n    apicVersion: \"6.1\"\n"), "is not an APIC release such as 6.1(2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.yaml))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				a := settingsOf(cfg.Fabrics[0])
				if a.APICVersion == "" || a.ServiceGrouping == "" {
					t.Errorf("defaults not applied: %+v", a)
				}
				if g := groupingOf(a); g.mode != groupByService && (a.ExternalEPGs.ServiceGroup == "" || a.GroupContract == "") {
					t.Errorf("group templates not defaulted: %+v", a)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// limitPlan makes a plan (against an empty fabric, or obs) that holds n
// service EPGs on the cluster's L3Out.
func limitPlan(n int, obs fabric.Observed) fabric.Changeset {
	var st fabric.State
	for i := 0; i < n; i++ {
		st.Add(fabric.ExternalSubnet{Group: fmt.Sprintf("EPG_%d", i), Prefix: fmt.Sprintf("10.%d.%d.1/32", i/256, i%256),
			Scopes: []fabric.Scope{fabric.ScopeImportSecurity}})
	}
	return fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: st}, obs)
}

func TestScaleLimits(t *testing.T) {
	cfg := groupingFabric("service")
	have := func(n int) fabric.Observed {
		p := limitPlan(n, fabric.Observed{})
		var st fabric.State
		for _, c := range p.Changes {
			st.Add(c.After)
		}
		return fabric.Observed{Owned: st}
	}
	peers := func(n int) fabric.Changeset {
		var st fabric.State
		for i := 0; i < n; i++ {
			st.Add(fabric.BGPPeer{Switch: "leaf201", Node: fmt.Sprintf("n%d", i), PeerAddress: fmt.Sprintf("10.1.%d.%d", i/256, i%256),
				RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4})
		}
		return fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: st}, fabric.Observed{})
	}
	for _, tc := range []struct {
		name    string
		version string
		plan    fabric.Changeset
		obs     fabric.Observed
		refused []string
	}{
		// The cluster's nodes and pods EPGs count: 248 services + 2 = 250.
		{name: "at the limit", plan: limitPlan(248, fabric.Observed{})},
		{name: "one above", plan: limitPlan(249, fabric.Observed{}), refused: []string{
			"it would create 249 external EPGs on L3Out L3O, which would then hold 251",
			"Cisco's verified limit for APIC 6.1(2) is 250 per L3Out (source: Cisco APIC Verified Scalability Guide 6.1(2), as quoted in https://github.com/datacenter/cilium-dc-design/",
			"group the services by namespace, label:<key> or ports"}},
		{name: "fabric", plan: limitPlan(600, fabric.Observed{}), refused: []string{
			"it would create 600 external EPGs on fabric f, which would then hold 602", "is 600 per fabric"}},
		{name: "already above, going down", plan: limitPlan(300, have(400)), obs: have(400)},
		{name: "already above, going up", plan: limitPlan(301, have(300)), obs: have(300), refused: []string{
			"it would create 1 external EPGs on L3Out L3O, which would then hold 303"}},
		{name: "another release", version: "5.2(8e)", plan: limitPlan(249, fabric.Observed{}), refused: []string{
			"Cisco's verified limit for APIC 6.1(2) is 250 per L3Out"}},
		{name: "peers per leaf", plan: peers(2001), refused: []string{
			"it would create 2,001 BGP neighbors on leaf leaf201, which would then hold 2,001", "is 2,000 per leaf"}},
		{name: "peers at the limit", plan: peers(2000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			a := *c.Platform.(*Settings)
			if tc.version != "" {
				a.APICVersion = tc.version
			}
			c.Platform = &a
			got := checkPlan(c, fabric.Target{}, tc.obs, tc.plan)
			if len(tc.refused) == 0 {
				if got != "" {
					t.Errorf("refused: %s", got)
				}
				return
			}
			for _, want := range tc.refused {
				if !strings.Contains(got, want) {
					t.Errorf("refusal %q lacks %q", got, want)
				}
			}
		})
	}
}

func TestAPICVersions(t *testing.T) {
	for _, tc := range []struct{ configured, of, warning string }{
		{"6.1(2)", "6.1(2)", ""},
		{"6.1(2g)", "6.1(2)", ""},
		{"6.1(3)", "6.1(2)", "no verified scalability limits are recorded for APIC 6.1(3): plans are checked against those of APIC 6.1(2)"},
		{"5.2(8e)", "6.1(2)", "recorded for APIC 5.2(8e)"},
	} {
		if _, of := limitsFor(tc.configured); of != tc.of {
			t.Errorf("%s: limits of %s, want %s", tc.configured, of, tc.of)
		}
		w := limitsWarning(&Settings{APICVersion: tc.configured})
		if tc.warning == "" && w != "" || !strings.Contains(w, tc.warning) {
			t.Errorf("%s: warning %q, want %q", tc.configured, w, tc.warning)
		}
	}
	if thousands(50000) != "50,000" || thousands(250) != "250" || thousands(1234567) != "1,234,567" {
		t.Error("thousands")
	}
}

// Under a grouping, ownership works as per service: a hand-made EPG at a
// group's name is a conflict (nothing is written into it, its services'
// subnets and contract are left out), the other groups are created with
// the mark, and the next plan has nothing new to do.
func TestServiceGroupingNeverAdopts(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	ctx := context.Background()
	d.aci.ServiceGrouping = "namespace"
	d.aci.groupingDefaults()
	nsEPG := ourL3Out + "/instP-EPG_K8_NS_WEB"
	handMade(t, srv, ourL3Out, "l3extInstP", map[string]string{"name": "EPG_K8_NS_WEB", "descr": "hand-made"})
	before := dump(srv, nsEPG)

	r := Desire(d.cfg, groupingIntent(svc("web", "a", "172.29.0.6", nil, "tcp/80"), svc("web", "b", "172.29.0.7", nil, "tcp/443"),
		svc("shop", "c", "172.29.0.8", nil, "tcp/8443")))
	want := fabric.StateOf(filterServices(r.State)...)
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: want}, obs)
	wantConflicts := []string{"Contract CNT_K8_NS_WEB", "ExternalSubnet EPG_K8_NS_WEB/172.29.0.6/32", "ExternalSubnet EPG_K8_NS_WEB/172.29.0.7/32"}
	if got := keys(plan.Conflicts); strings.Join(got, "\n") != strings.Join(wantConflicts, "\n") {
		t.Errorf("plan conflicts %q, want %q", got, wantConflicts)
	}
	if _, err := d.Apply(ctx, plan); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if now := dump(srv, nsEPG); now != before {
		t.Errorf("the hand-made EPG was changed:\n%s\n->\n%s", before, now)
	}
	for _, dn := range []string{ourL3Out + "/instP-EPG_K8_NS_SHOP/extsubnet-[172.29.0.8/32]", tnDN + "/brc-CNT_K8_NS_SHOP"} {
		if _, attrs, ok := srv.Lookup(dn); !ok || attrs["annotation"] != ourMark {
			t.Errorf("%s: not created with the mark (%v)", dn, attrs)
		}
	}
	obs, err = d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again := fabric.Diff(fabric.Target{Name: "f", State: want}, obs); len(again.Changes) != 0 {
		t.Errorf("second plan changes %q", changeKeys(again.Changes))
	}
}

// filterServices keeps the subnets and contracts (the intents of these
// tests have no node or pod prefixes).
func filterServices(st fabric.State) []fabric.Object {
	var out []fabric.Object
	for _, o := range st.Objects() {
		switch o := o.(type) {
		case fabric.ExternalSubnet:
			out = append(out, o)
		case fabric.Contract:
			out = append(out, o)
		}
	}
	return out
}
