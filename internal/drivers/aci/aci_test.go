package aci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciscoecosystem/aci-go-client/v2/client"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const apicPW = "unit-apic-pw-4711"

type tlsMode int

const (
	tlsCA tlsMode = iota
	tlsNone
	tlsInsecure
)

// lab starts a seeded emulator and opens a driver on it.
func lab(t testing.TB, emu emulator.Options, mode tlsMode) (*emulator.Server, *Driver) {
	t.Helper()
	if emu.Users == nil {
		emu.Users = map[string]string{"admin": apicPW}
	}
	sim := emulator.New(emu)
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
	pwFile := filepath.Join(dir, "pw")
	caFile := filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(pwFile, []byte(apicPW+"\n"), 0o600)
	_ = os.WriteFile(caFile, srv.CertPEM, 0o600)
	tls := "caFile: " + caFile
	switch mode {
	case tlsNone:
		tls = ""
	case tlsInsecure:
		tls = "insecureSkipVerify: true"
	}
	yaml := `cluster: unit
fabrics:
- name: f
  driver: aci
  switches:
  - {name: leaf201, peerIPs: [192.168.9.204], sviPath: "topology/pod-1/paths-201/pathep-[eth1/33]", sviPathV6: "topology/pod-1/paths-201/pathep-[eth1/33]"}
  - {name: leaf202, peerIPs: [192.168.9.205], sviPath: "topology/pod-1/paths-202/pathep-[eth1/33]", sviPathV6: "topology/pod-1/paths-202/pathep-[eth1/33]"}
  aci:
    apic: {url: ` + srv.URL + `, username: admin, passwordFile: ` + pwFile + `, timeout: 5s, ` + tls + `}
    tenant: TEN_K8_C1
    vrf: VRF_K8_C1
    l3out: L3O_K8_C1
    nodeProfile: LNP_K8_C1
    interfaceProfile: LIP_K8_C1
    interfaceProfileV6: LIP_K8_C1_V6
    externalEPGs: {nodes: EPG_K8_NODES, pods: EPG_K8_PODS, service: "EPG_{namespace}_{name}", transitExport: L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS}
    consumers: [L3O_EXTERNAL/EPG_DEFAULT]
`
	cfg, err := config.Parse([]byte(strings.ReplaceAll(yaml, ", }", "}")))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg.Fabrics[0], drivers.Options{Cluster: cfg.Cluster})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return srv, d.(*Driver)
}

func peer(sw, addr string) fabric.BGPPeer {
	return fabric.BGPPeer{Switch: sw, Node: "node-" + addr, PeerAddress: addr, RemoteASN: 65001, LocalASN: 63500, AddressFamily: fabric.IPv4}
}

func sub(group, prefix string) fabric.ExternalSubnet {
	return fabric.ExternalSubnet{Group: group, Prefix: prefix, Scopes: []fabric.Scope{fabric.ScopeImportSecurity}}
}

func create(o fabric.Object) fabric.Change {
	k := fabric.KeyOf(o)
	return fabric.Change{Action: fabric.ActionCreate, Kind: k.Kind, Switch: k.Switch, ID: k.ID, After: o}
}

// reconcile observes, diffs and applies, as the reconciler does.
func reconcile(t *testing.T, d *Driver, want fabric.State) fabric.Changeset {
	t.Helper()
	ctx := context.Background()
	obs, err := d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{Name: "f", Driver: "aci", State: want}, obs)
	if _, err := d.Apply(ctx, plan); err != nil {
		t.Fatalf("apply: %v", err)
	}
	obs, err = d.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again := fabric.Diff(fabric.Target{Name: "f", State: want}, obs); len(again.Changes) != 0 {
		t.Fatalf("not converged after apply: %+v", again.Changes)
	}
	return plan
}

func TestDerive(t *testing.T) {
	long := strings.Repeat("A", 64)
	for _, c := range []struct{ base, suffix string }{
		{"CNT_K8_APP_MCAST", "_flt"}, {long, "_flt"}, {long + "B", "_flt"}, {"BGP_ECMP_x", "-v6"}, {long, "-v6"},
	} {
		got := derive(c.base, c.suffix)
		if len(got) > 64 || !aciNameRe.MatchString(got) || !strings.HasSuffix(got, c.suffix) || got != derive(c.base, c.suffix) {
			t.Errorf("derive(%q, %q) = %q", c.base, c.suffix, got)
		}
	}
	if derive(long, "_flt") == derive(long+"B", "_flt") {
		t.Error("two long bases share a derived name")
	}
	if got := derive("short", "_flt"); got != "short_flt" {
		t.Errorf("derive kept nothing of a short base: %q", got)
	}
}

// TestRejectsBadValues: a value that could address another object, or is
// not valid, fails its own change; the good change beside it is applied.
func TestRejectsBadValues(t *testing.T) {
	_, d := lab(t, emulator.Options{}, tlsCA)
	good := create(sub("EPG_K8_PODS", "10.1.0.0/16"))
	for _, c := range []struct {
		name string
		bad  fabric.Change
		want string
	}{
		{"group with a bracket", create(sub("EPG]x", "10.2.0.0/16")), "EPG name must be"},
		{"group with a slash path", create(sub("a/b/c", "10.2.0.0/16")), "is not <l3out>/<epg>"},
		{"prefix with host bits", create(sub("EPG_K8_PODS", "10.2.0.1/16")), "host bits"},
		{"prefix with a bracket", create(sub("EPG_K8_PODS", "10.2.0.0/16]")), "not an IP prefix"},
		{"unknown scope", create(fabric.ExternalSubnet{Group: "EPG_K8_PODS", Prefix: "10.3.0.0/16", Scopes: []fabric.Scope{"import-security,shared-rtctrl"}}), "unknown scope"},
		{"peer address with a bracket", create(peer("leaf201", "192.168.9.1]")), "not an IP address"},
		{"node name with a newline", create(fabric.BGPPeer{Switch: "leaf201", Node: "n1\nshutdown", PeerAddress: "192.168.9.7", RemoteASN: 1, LocalASN: 2, AddressFamily: fabric.IPv4}), "ACI description"},
		{"unknown switch", create(peer("leaf999", "192.168.9.8")), "no valid sviPath"},
		{"contract name with a semicolon", create(fabric.Contract{Name: "C;x", Provider: "EPG_A", Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 1}}}), "not an ACI name"},
		{"sctp has no ports on ACI", create(fabric.Contract{Name: "C", Provider: "EPG_A", Entries: []fabric.ContractEntry{{Protocol: "sctp", Port: 1}}}), "tcp and udp only"},
		{"consumer EPG that does not exist", create(fabric.Contract{Name: "C", Provider: "EPG_A", Consumers: []string{"L3O_EXTERNAL/NOPE"}, Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 1}}}), "does not exist"},
		{"per-switch maximum paths", create(fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 2}), "per VRF"},
		{"too many paths", create(fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 65}), "1-64"},
		{"an IPv6 prefix in an IPv4 peer's import route map", create(fabric.PrefixFilter{Switch: "leaf201", PeerAddress: "192.168.9.9",
			Prefixes: []fabric.PrefixRule{{Prefix: "2001:db8::/64", LE: 64}}}), "does not fit the peer"},
		{"a prefix filter with le below its length", create(fabric.PrefixFilter{Switch: "leaf201", PeerAddress: "192.168.9.9",
			Prefixes: []fabric.PrefixRule{{Prefix: "10.0.0.0/16", LE: 8}}}), "does not fit the peer"},
		{"subnet on a foreign object", create(sub("L3O_EXTERNAL/EPG_DEFAULT", "0.0.0.0/0")), "without an ownership mark"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := d.Observe(context.Background()); err != nil {
				t.Fatal(err)
			}
			plan := fabric.Changeset{Name: "f", Changes: []fabric.Change{c.bad, good}}
			res, err := d.Apply(context.Background(), plan)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if len(res.Applied) != 1 || res.Applied[0].ID != good.ID {
				t.Fatalf("applied %v, want only the good change", res.Applied)
			}
			if len(res.Messages)+len(res.Conflicts) < 2 || !strings.HasPrefix(res.Messages[0], "APIC accepted one POST") {
				t.Fatalf("messages %q, conflicts %+v", res.Messages, res.Conflicts)
			}
		})
	}
}

// TestLifecycle creates, updates and deletes every kind, and checks that
// the owned service EPG goes with its last object while the hand-made EPGs
// stay.
func TestLifecycle(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	tn := "uni/tn-TEN_K8_C1"
	cnt := fabric.Contract{Name: "CNT_WEB", Provider: "EPG_WEB", Consumers: []string{"L3O_EXTERNAL/EPG_DEFAULT"},
		Entries: []fabric.ContractEntry{{Protocol: "tcp", Port: 80}}}
	v1 := fabric.StateOf(peer("leaf201", "192.168.9.193"), peer("leaf202", "192.168.9.193"),
		sub("EPG_K8_NODES", "192.168.9.192/28"), sub("EPG_WEB", "172.29.0.6/32"), sub("L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS", "172.29.0.0/16"),
		fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 2}, fabric.MaximumPaths{AddressFamily: fabric.IPv6, Paths: 4}, cnt)
	if plan := reconcile(t, d, v1); len(plan.Changes) != 8 {
		t.Fatalf("first plan has %d changes", len(plan.Changes))
	}
	if _, a, ok := srv.Lookup(tn + "/out-L3O_K8_C1/instP-EPG_WEB"); !ok || a["annotation"] != "orchestrator:fabric-reconciler.unit" {
		t.Fatalf("service EPG: %v", a)
	}
	if _, a, ok := srv.Lookup(tn + "/bgpCtxAfP-BGP_ECMP_unit-v6"); !ok || a["maxEcmp"] != "4" {
		t.Fatalf("ipv6 ECMP policy: %v", a)
	}

	// Update: another port and a second consumer; more paths; a peer's AS.
	cnt2 := cnt
	cnt2.Entries = []fabric.ContractEntry{{Protocol: "tcp", Port: 8080}, {Protocol: "udp", Port: 53}}
	cnt2.Consumers = []string{"L3O_EXTERNAL/EPG_DEFAULT", "L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS"}
	p2 := peer("leaf201", "192.168.9.193")
	p2.RemoteASN = 65002
	v2 := fabric.StateOf(p2, peer("leaf202", "192.168.9.193"), sub("EPG_K8_NODES", "192.168.9.192/28"), sub("EPG_WEB", "172.29.0.6/32"),
		sub("L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS", "172.29.0.0/16"), fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 3}, cnt2)
	reconcile(t, d, v2)
	for dn, want := range map[string]bool{
		tn + "/flt-CNT_WEB_flt/e-tcp-80": false, tn + "/flt-CNT_WEB_flt/e-tcp-8080": true, tn + "/flt-CNT_WEB_flt/e-udp-53": true,
		tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS/rscons-CNT_WEB": true, tn + "/bgpCtxAfP-BGP_ECMP_unit-v6": false,
		tn + "/ctx-VRF_K8_C1/rsctxToBgpCtxAfPol-[BGP_ECMP_unit-v6]-ipv6-ucast": false,
	} {
		if _, _, ok := srv.Lookup(dn); ok != want {
			t.Errorf("after the update %s exists = %v, want %v", dn, ok, want)
		}
	}

	// Delete the service: its contract, filter, relations and its EPG go;
	// the hand-made EPGs stay.
	v3 := fabric.StateOf(p2, sub("EPG_K8_NODES", "192.168.9.192/28"))
	reconcile(t, d, v3)
	for dn, want := range map[string]bool{
		tn + "/out-L3O_K8_C1/instP-EPG_WEB": false, tn + "/brc-CNT_WEB": false, tn + "/flt-CNT_WEB_flt": false,
		tn + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT/rscons-CNT_WEB": false, tn + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT": true,
		tn + "/out-L3O_EXTERNAL/instP-EPG_TRANSIT_OUT_K8_CIDRS": true, tn + "/out-L3O_K8_C1/instP-EPG_K8_NODES": true,
		tn + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT/extsubnet-[0.0.0.0/0]": true, tn + "/bgpCtxAfP-BGP_ECMP_unit": false,
	} {
		if _, _, ok := srv.Lookup(dn); ok != want {
			t.Errorf("after the delete %s exists = %v, want %v", dn, ok, want)
		}
	}
}

// TestSessionRefresh: with a 3 s token, concurrent observations over 3.5 s
// log in once, refresh before expiry (at half-life) and never meet a 403.
func TestSessionRefresh(t *testing.T) {
	srv, d := lab(t, emulator.Options{TokenTTL: 3 * time.Second}, tlsCA)
	stop := time.Now().Add(3500 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if _, err := d.Observe(context.Background()); err != nil {
					errs <- err
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := srv.Counters()
	if c.Logins != 1 || c.Refreshes < 1 {
		t.Fatalf("logins %d refreshes %d: want one login and refreshes", c.Logins, c.Refreshes)
	}
	for _, r := range srv.Requests() {
		if r.Status == 403 {
			t.Fatalf("a request met a 403: %+v", r)
		}
	}
}

// TestDuplicateCookieWorkaround: against an APIC that reads the first of
// two cookies, aci-go-client's own re-login after a token timeout fails;
// the driver's transport sends the new cookie only.
func TestDuplicateCookieWorkaround(t *testing.T) {
	log.SetOutput(io.Discard)
	srv, d := lab(t, emulator.Options{DuplicateCookie: emulator.CookieFirst}, tlsInsecure)

	raw := client.NewClient(srv.URL, "admin", client.Password(apicPW), client.Insecure(true), client.SkipLoggingPayload(true))
	if _, err := raw.GetViaURL("/api/mo/uni/tn-TEN_K8_C1.json"); err != nil {
		t.Fatal(err)
	}
	srv.AddFault(emulator.Fault{Kind: emulator.FaultTokenTimeout, Method: "GET", Times: 1})
	if _, err := raw.GetViaURL("/api/mo/uni/tn-TEN_K8_C1.json"); err == nil {
		t.Fatal("the plain client survived its duplicate cookie: the emulator does not read the first cookie")
	}
	if srv.Counters().DuplicateCookies == 0 {
		t.Fatal("the plain client sent no duplicate cookie")
	}

	if _, err := d.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.ResetLog()
	srv.AddFault(emulator.Fault{Kind: emulator.FaultTokenTimeout, Method: "GET", Times: 1})
	if _, err := d.Observe(context.Background()); err != nil {
		t.Fatalf("the driver did not recover from a token timeout: %v", err)
	}
	if c := srv.Counters(); c.DuplicateCookies != 0 || c.Logins != 1 {
		t.Fatalf("counters %+v: want one re-login and no duplicate cookie", c)
	}
}

func TestTLSVerification(t *testing.T) {
	for _, c := range []struct {
		name string
		mode tlsMode
		ok   bool
	}{
		{"verified by default: a self-signed APIC is refused", tlsNone, false},
		{"caFile", tlsCA, true},
		{"insecureSkipVerify", tlsInsecure, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, d := lab(t, emulator.Options{}, c.mode)
			_, err := d.Observe(context.Background())
			if (err == nil) != c.ok {
				t.Fatalf("observe: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("error does not say why: %v", err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		emu   emulator.Options
		fault *emulator.Fault
		ctx   time.Duration
		want  string
	}{
		{"wrong password", emulator.Options{Users: map[string]string{"admin": "other"}}, nil, 0, "APIC login as admin: APIC answered HTTP 401, error 401"},
		{"deadline", emulator.Options{}, &emulator.Fault{Kind: emulator.FaultLatency, Method: "GET", Delay: 3 * time.Second, Times: 1}, 300 * time.Millisecond, "deadline exceeded"},
		{"429 past every retry", emulator.Options{}, &emulator.Fault{Kind: emulator.FaultThrottle, Status: 429, Method: "GET", RetryAfter: "0"}, 0, "429"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, d := lab(t, c.emu, tlsCA)
			if c.fault != nil {
				srv.AddFault(*c.fault)
			}
			ctx := context.Background()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			_, err := d.Observe(ctx)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), apicPW) {
				t.Fatal("the password is in the error")
			}
		})
	}
}

// TestRetryAfter429: one 429 with Retry-After: 1 delays the retry by a second.
func TestRetryAfter429(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	srv.AddFault(emulator.Fault{Kind: emulator.FaultThrottle, Status: 429, Method: "GET", Times: 1, RetryAfter: "1"})
	if _, err := d.Observe(context.Background()); err != nil {
		t.Fatal(err)
	}
	var gets []emulator.Request
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.Path == "/api/mo/uni/tn-TEN_K8_C1.json" {
			gets = append(gets, r)
		}
	}
	if len(gets) != 2 || gets[0].Status != 429 || gets[1].Status != 200 {
		t.Fatalf("GETs %+v", gets)
	}
	if gap := gets[1].Time.Sub(gets[0].Time); gap < time.Second {
		t.Fatalf("retried after %v, before Retry-After", gap)
	}
}

// TestRenderOffline: without an observation Render says so and prints the
// body as JSON, the BGP password as a placeholder.
func TestRenderOffline(t *testing.T) {
	_, d := lab(t, emulator.Options{}, tlsCA)
	p := peer("leaf201", "192.168.9.193")
	p.Password = fabric.NewSecret("render-offline-pw-1", "salt")
	plan := fabric.Changeset{Name: "f", Changes: []fabric.Change{create(p), create(sub("EPG_K8_PODS", "172.27.0.0/16"))}}
	out, err := d.Render(plan)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(out, "\n")
	if !strings.HasPrefix(lines[0], "# offline") || !strings.HasPrefix(lines[1], "# POST "+d.aci.APIC.URL+"/api/mo/uni/tn-TEN_K8_C1.json?rsp-subtree=modified") {
		t.Fatalf("header:\n%s", out)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(strings.Join(lines[2:], "")), &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, out)
	}
	if strings.Contains(out, "render-offline-pw-1") || !strings.Contains(out, passwordPlaceholder(p.Password.Fingerprint())) || !strings.Contains(out, `"rspathL3OutAtt-[`) && !strings.Contains(out, `"tDn": "topology/pod-1/paths-201/pathep-[eth1/33]"`) {
		t.Fatalf("render:\n%s", out)
	}
}

type countingObserver struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *countingObserver) ObserveRequest(fabricName, driver, op string, took time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := fabricName + "/" + driver + "/" + op
	if err != nil {
		key += "/error"
	}
	c.ops[key]++
}

// TestMetrics: every request is reported to the metrics observer.
func TestMetrics(t *testing.T) {
	_, d := lab(t, emulator.Options{}, tlsCA)
	m := &countingObserver{ops: map[string]int{}}
	d.apic.metrics = m
	reconcile(t, d, fabric.StateOf(sub("EPG_K8_PODS", "10.5.0.0/16")))
	// Each Observe reads the tenant and the fabric's AS; the faults are
	// read once after the POST.
	want := map[string]int{"f/aci/login": 1, "f/aci/observe": 4, "f/aci/apply": 1, "f/aci/faults": 1}
	for k, v := range want {
		if m.ops[k] != v {
			t.Errorf("%s counted %d times, want %d (all: %v)", k, m.ops[k], v, m.ops)
		}
	}
}

// TestMissingContainers: without the tenant's infrastructure nothing is
// created; every change says what is missing.
func TestMissingContainers(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	d.names.tenant = "TEN_NOT_THERE"
	obs, err := d.Observe(context.Background())
	if err != nil || obs.Owned.Len() != 0 {
		t.Fatalf("observe of a missing tenant: %+v, %v", obs, err)
	}
	want := fabric.StateOf(peer("leaf201", "192.168.9.193"), sub("EPG_K8_PODS", "10.1.0.0/16"), fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 2})
	res, err := d.Apply(context.Background(), fabric.Diff(fabric.Target{Name: "f", State: want}, obs))
	if err == nil || len(res.Applied) != 0 || len(res.Messages) != 3 {
		t.Fatalf("apply: %v, %+v", err, res)
	}
	for _, m := range res.Messages {
		if !strings.Contains(m, "tenant uni/tn-TEN_NOT_THERE does not exist") {
			t.Errorf("message %q does not name the missing tenant", m)
		}
	}
	if n := srv.Count("POST", "/api/mo/"); n != 0 {
		t.Fatalf("%d POSTs for nothing to apply", n)
	}
}

// seedV6 gives the baseline's node profile an IPv6 interface profile whose
// leaf202 path has the address addr.
func seedV6(t *testing.T, srv *emulator.Server, addr string) {
	t.Helper()
	if err := srv.Post("uni/tn-TEN_K8_C1/out-L3O_K8_C1/lnodep-LNP_K8_C1", []byte(`{"l3extLIfP":{"attributes":{"name":"LIP_K8_C1_V6"},"children":[
		{"l3extRsPathL3OutAtt":{"attributes":{"tDn":"topology/pod-1/paths-202/pathep-[eth1/33]","ifInstT":"ext-svi","encap":"vlan-1500","addr":"`+addr+`"}}}]}}`)); err != nil {
		t.Fatal(err)
	}
}

// TestIPv6: IPv6 peers go on the IPv6 interface profile's path (never the
// IPv4 one), and IPv6 peers and prefixes round-trip in canonical form.
func TestIPv6(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	seedV6(t, srv, "2001:db8::1/64")
	p := fabric.BGPPeer{Switch: "leaf202", Node: "k8c1s1", PeerAddress: "2001:db8:0:0::10", RemoteASN: 4200000001, LocalASN: 63500, AddressFamily: fabric.IPv6}
	reconcile(t, d, fabric.StateOf(p, sub("EPG_K8_PODS", "2001:db8:0:1::/64")))
	tn := "uni/tn-TEN_K8_C1/out-L3O_K8_C1"
	if _, a, ok := srv.Lookup(tn + "/lnodep-LNP_K8_C1/lifp-LIP_K8_C1_V6/rspathL3OutAtt-[topology/pod-1/paths-202/pathep-[eth1/33]]/peerP-[2001:db8::10]/as"); !ok || a["asn"] != "4200000001" {
		t.Fatalf("IPv6 peer: %v", a)
	}
	if _, _, ok := srv.Lookup(tn + "/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-202/pathep-[eth1/33]]/peerP-[2001:db8::10]"); ok {
		t.Fatal("IPv6 peer on the IPv4 path")
	}
	if _, _, ok := srv.Lookup(tn + "/instP-EPG_K8_PODS/extsubnet-[2001:db8:0:1::/64]"); !ok {
		t.Fatal("IPv6 subnet missing")
	}
}

// TestLocalASOverride: a bgpLocalAsnP is written only when the node expects
// another AS than the switch's own, and removed again when it no longer does.
func TestLocalASOverride(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	dn := "uni/tn-TEN_K8_C1/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]/peerP-[192.168.9.193]/localasn"
	same := peer("leaf201", "192.168.9.193")
	same.LocalASN = 65000 // the fabric's AS in the baseline
	other := same
	other.LocalASN = 64999
	for _, step := range []struct {
		name string
		p    fabric.BGPPeer
		want string // "" = no bgpLocalAsnP
	}{
		{"switch's own AS: no override", same, ""},
		{"another AS: override", other, "64999"},
		{"back to the switch's AS: override removed", same, ""},
	} {
		reconcile(t, d, fabric.StateOf(step.p))
		_, a, ok := srv.Lookup(dn)
		switch {
		case step.want == "" && ok:
			t.Errorf("%s: bgpLocalAsnP present: %v", step.name, a)
		case step.want != "" && (!ok || a["localAsn"] != step.want):
			t.Errorf("%s: bgpLocalAsnP = %v (present %v), want localAsn %s", step.name, a, ok, step.want)
		}
	}
}

// TestRefusedBeforeCommit: which APIC answers say a write was not applied.
func TestRefusedBeforeCommit(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&APIError{Status: 400, Code: "801", Text: "failed validation"}, true},
		{&APIError{Status: 400, Code: "103", Text: "already exists"}, true},
		{&APIError{Status: 403, Code: "403", Text: "Token timeout"}, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Status: 200, Code: "122", Text: "an error document in a 200"}, true},
		{&APIError{Status: 500, Code: "1", Text: "internal"}, false},
		{&APIError{Status: 502}, false},
		{&APIError{Status: 504}, false},
		{&APIError{Status: 200, Text: "empty answer"}, false},
		{fmt.Errorf("POST /api/mo/x: %w", &APIError{Status: 400, Code: "102"}), true},
		{errors.New("connection reset by peer"), false},
	} {
		if got := refusedBeforeCommit(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}
