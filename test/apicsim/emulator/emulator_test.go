package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const pw = "sim-pw"

func TestSplitDN(t *testing.T) {
	for _, c := range []struct {
		dn   string
		want []string
		err  bool
	}{
		{"uni", []string{"uni"}, false},
		{"uni/tn-T/out-L", []string{"uni", "tn-T", "out-L"}, false},
		{"uni/tn-T/out-L/lnodep-N/lifp-I/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/15]]/peerP-[192.168.50.2]",
			[]string{"uni", "tn-T", "out-L", "lnodep-N", "lifp-I", "rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/15]]", "peerP-[192.168.50.2]"}, false},
		{"uni/tn-T/ctx-V/rsctxToBgpCtxAfPol-[P]-ipv6-ucast", []string{"uni", "tn-T", "ctx-V", "rsctxToBgpCtxAfPol-[P]-ipv6-ucast"}, false},
		{"uni/tn-T/out-L/instP-E/extsubnet-[2001:db8::/64]", []string{"uni", "tn-T", "out-L", "instP-E", "extsubnet-[2001:db8::/64]"}, false},
		{"uni/tn-[x", nil, true},
		{"uni/tn-x]", nil, true},
		{"uni//tn-x", nil, true},
		{"uni/tn-x/", nil, true},
	} {
		got, err := SplitDN(c.dn)
		if (err != nil) != c.err || (!c.err && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("SplitDN(%q) = %q, %v; want %q (error %v)", c.dn, got, err, c.want, c.err)
		}
	}
}

func TestMatchRN(t *testing.T) {
	for _, c := range []struct {
		format, rn string
		want       map[string]string
	}{
		{"tn-{name}", "tn-TEN_K8_C1", map[string]string{"name": "TEN_K8_C1"}},
		{"rspathL3OutAtt-[{tDn}]", "rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]", map[string]string{"tDn": "topology/pod-1/paths-201/pathep-[eth1/33]"}},
		{"rsctxToBgpCtxAfPol-[{tnBgpCtxAfPolName}]-{af}", "rsctxToBgpCtxAfPol-[BGP_ECMP]-ipv4-ucast", map[string]string{"tnBgpCtxAfPolName": "BGP_ECMP", "af": "ipv4-ucast"}},
		{"as", "as", map[string]string{}},
		{"as", "asx", nil},
		{"tn-{name}", "ctx-x", nil},
		{"peerP-[{addr}]", "peerP-[10.0.0.1", nil},
		{"peerP-[{addr}]", "peerP-[]", nil},
	} {
		got, ok := matchRN(c.format, c.rn)
		if c.want == nil {
			if ok {
				t.Errorf("matchRN(%q, %q) = %v, want no match", c.format, c.rn, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("matchRN(%q, %q) = %v, %v; want %v", c.format, c.rn, got, ok, c.want)
		}
	}
}

// lab starts an emulator seeded with the reference lab's baseline tenant.
func lab(t *testing.T, opts Options) (*Server, *http.Client) {
	t.Helper()
	if opts.Users == nil {
		opts.Users = map[string]string{"admin": pw}
	}
	sim := New(opts)
	seed, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "haystack", "apic-baseline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Post("uni", seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv, err := Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CertPEM)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return srv, hc
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("not JSON (%v): %s", err, a.body)
	}
	return m
}

// apicErr returns code and text of an error answer.
func (a answer) apicErr(t *testing.T) (string, string) {
	m := a.json(t)
	im, _ := m["imdata"].([]any)
	if len(im) == 0 {
		return "", ""
	}
	e, _ := im[0].(map[string]any)["error"].(map[string]any)
	if e == nil {
		return "", ""
	}
	at := e["attributes"].(map[string]any)
	return at["code"].(string), at["text"].(string)
}

func do(t *testing.T, hc *http.Client, srv *Server, method, path, body, cookie string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func login(t *testing.T, hc *http.Client, srv *Server) string {
	t.Helper()
	a := do(t, hc, srv, "POST", "/api/aaaLogin.json", `{"aaaUser":{"attributes":{"name":"admin","pwd":"`+pw+`"}}}`, "")
	if a.status != 200 {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	if n := len(a.header.Values("Set-Cookie")); n != 1 {
		t.Fatalf("login sent %d Set-Cookie headers, want exactly one", n)
	}
	tok := a.json(t)["imdata"].([]any)[0].(map[string]any)["aaaLogin"].(map[string]any)["attributes"].(map[string]any)["token"].(string)
	if !strings.HasPrefix(a.header.Get("Set-Cookie"), "APIC-cookie="+tok+";") {
		t.Fatalf("Set-Cookie %q does not carry the token", a.header.Get("Set-Cookie"))
	}
	return "APIC-cookie=" + tok
}

const tn = "uni/tn-TEN_K8_C1"

func TestWriteSemantics(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	epg := tn + "/out-L3O_K8_C1/instP-EPG_X"
	for _, c := range []struct {
		name, path, body string
		status           int
		code, text       string // expected error
		imdata           int    // expected imdata length on success
	}{
		{"create with created", "/api/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"name":"EPG_X","status":"created"}}}`, 200, "", "", 0},
		{"created again is 103", "/api/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"name":"EPG_X","status":"created"}}}`, 400,
			"103", "Cannot create External Network Instance Profile (l3extInstP); object " + epg + " already exists.", 0},
		{"a contract created twice is 103 (the driver's lock relies on it)", "/api/mo/" + tn + "/brc-LOCK.json",
			`{"vzBrCP":{"attributes":{"name":"LOCK","descr":"holder:a run:r until:1","status":"created"}}}`, 200, "", "", 0},
		{"the second create of the contract", "/api/mo/" + tn + "/brc-LOCK.json",
			`{"vzBrCP":{"attributes":{"name":"LOCK","descr":"holder:b run:r until:1","status":"created"}}}`, 400,
			"103", "Cannot create Contract (vzBrCP); object " + tn + "/brc-LOCK already exists.", 0},
		{"a child created under a missing parent is 102", "/api/mo/" + tn + "/brc-NOPE/subj-takeover-x.json",
			`{"vzSubj":{"attributes":{"name":"takeover-x","status":"created"}}}`, 400, "102", "configured object ((Dn0)) not found Dn0=" + tn + "/brc-NOPE, ", 0},
		{"upsert with the client's spaced status", "/api/node/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"name":"EPG_X","descr":"x","status":"created, modified"}}}`, 200, "", "", 0},
		{"modified on a missing object is 102", "/api/mo/" + tn + "/out-L3O_K8_C1/instP-NOPE.json", `{"l3extInstP":{"attributes":{"status":"modified"}}}`, 400,
			"102", "configured object ((Dn0)) not found Dn0=" + tn + "/out-L3O_K8_C1/instP-NOPE, ", 0},
		{"missing parent is 102", "/api/mo/uni/tn-NOPE/out-X.json", `{"l3extOut":{"attributes":{"name":"X"}}}`, 400,
			"102", "configured object ((Dn0)) not found Dn0=uni/tn-NOPE, ", 0},
		{"unknown class is 122", "/api/mo/" + tn + ".json", `{"fvFoobar":{"attributes":{"name":"x"}}}`, 400, "122", "unknown managed object class fvFoobar", 0},
		{"unknown attribute", "/api/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"description":"x"}}}`, 400, "400", "unknown attribute 'description' in element 'l3extInstP'", 0},
		{"bad enum is 120", "/api/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"prio":"2768"}}}`, 400,
			"120", "unknown property value 2768, name prio, class l3extInstP [(Dn0)] Dn0=" + epg + ", ", 0},
		{"regex failure is 801", "/api/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"descr":"a[b"}}}`, 400,
			"801", "property descr of " + epg + " failed validation for value 'a[b'", 0},
		{"out of range is 801", "/api/mo/" + tn + "/bgpCtxAfP-P.json", `{"bgpCtxAfPol":{"attributes":{"name":"P","maxEcmp":"65"}}}`, 400,
			"801", "property maxEcmp of " + tn + "/bgpCtxAfP-P failed validation for value '65'", 0},
		{"attributes missing", "/api/mo/" + epg + ".json", `{"l3extInstP":{"children":[]}}`, 400,
			"400", "invalid data at line '1'. Attributes are missing, tag 'attributes' must be specified first, before any other tag", 0},
		{"bad JSON", "/api/mo/" + epg + ".json", `{"l3extInstP":{"attributes":{"name":"x`, 400, "400", "JSON parsing failed - incomplete attribute value at line: 1", 0},
		{"a class that cannot live there", "/api/mo/" + epg + ".json", `{"bgpCtxAfPol":{"attributes":{"name":"P"}}}`, 400,
			"400", "Invalid DN " + epg + "/bgpCtxAfP-P, wrong rn prefix bgpCtxAfP-P at position 43", 0},
		{"a payload child its parent cannot contain", "/api/mo/" + tn + ".json",
			`{"fvTenant":{"attributes":{"name":"TEN_K8_C1"},"children":[{"l3extLNodeP":{"attributes":{"name":"N"}}}]}}`, 400,
			"400", "Invalid request. Cannot contain child l3extLNodeP under parent fvTenant", 0},
		{"a naming value in redundant brackets names the plain RN", "/api/mo/" + tn + "/rttag-[RT].json?rsp-subtree=modified",
			`{"l3extRouteTagPol":{"attributes":{"name":"RT"}}}`, 200, "", "", 1},
		{"and is found there again", "/api/mo/" + tn + "/rttag-RT.json?rsp-subtree=modified",
			`{"l3extRouteTagPol":{"attributes":{"name":"RT","tag":"4294967295"}}}`, 200, "", "", 0},
		{"a child posted to its parent's URL", "/api/mo/" + epg + ".json", `{"l3extSubnet":{"attributes":{"ip":"10.0.0.0/8"}}}`, 200, "", "", 0},
		{"a tenant posted to uni", "/api/mo/uni.json", `{"fvTenant":{"attributes":{"name":"OTHER"}}}`, 200, "", "", 0},
		{"a dn outside the URL", "/api/mo/" + epg + ".json", `{"fvTenant":{"attributes":{"dn":"uni/tn-OTHER"}}}`, 400, "400", "", 0},
		{"rsp-subtree=modified shows the change", "/api/mo/" + epg + ".json?rsp-subtree=modified", `{"l3extInstP":{"attributes":{"descr":"y"}}}`, 200, "", "", 1},
		{"rsp-subtree=modified with nothing changed is empty", "/api/mo/" + epg + ".json?rsp-subtree=modified", `{"l3extInstP":{"attributes":{"descr":"y"}}}`, 200, "", "", 0},
		{"delete", "/api/mo/" + epg + ".json?rsp-subtree=modified", `{"l3extInstP":{"attributes":{"status":"deleted"}}}`, 200, "", "", 1},
		{"delete of a missing object changes nothing", "/api/mo/" + epg + ".json?rsp-subtree=modified", `{"l3extInstP":{"attributes":{"status":"deleted"}}}`, 200, "", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, hc, srv, "POST", c.path, c.body, ck)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if c.status != 200 {
				code, text := a.apicErr(t)
				if code != c.code || (c.text != "" && text != c.text) {
					t.Fatalf("error %s %q, want %s %q", code, text, c.code, c.text)
				}
				return
			}
			m := a.json(t)
			if n := len(m["imdata"].([]any)); n != c.imdata {
				t.Fatalf("imdata has %d objects, want %d: %s", n, c.imdata, a.body)
			}
		})
	}
}

// TestAtomicPost: one bad object anywhere rejects the whole POST.
func TestAtomicPost(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	before := srv.Dump(tn)
	body := `{"fvTenant":{"attributes":{"dn":"uni/tn-TEN_K8_C1"},"children":[
	  {"bgpCtxAfPol":{"attributes":{"name":"GOOD","maxEcmp":"4"}}},
	  {"l3extOut":{"attributes":{"name":"L3O_K8_C1"},"children":[
	    {"l3extInstP":{"attributes":{"name":"EPG_NEW"},"children":[
	      {"l3extSubnet":{"attributes":{"ip":"10.1.0.0/16","scope":"import-security"}}},
	      {"l3extSubnet":{"attributes":{"ip":"10.2.0.0/16","scope":"import-securityX"}}}]}}]}}]}}`
	a := do(t, hc, srv, "POST", "/api/mo/"+tn+".json", body, ck)
	if code, _ := a.apicErr(t); a.status != 400 || code != "120" {
		t.Fatalf("got %d %s, want 400 code 120", a.status, a.body)
	}
	if after := srv.Dump(tn); !reflect.DeepEqual(before, after) {
		t.Fatalf("a rejected POST changed the tree")
	}
	if _, _, ok := srv.Lookup(tn + "/bgpCtxAfP-GOOD"); ok {
		t.Fatalf("the good part of a rejected POST was written")
	}
}

func TestCanonicalValues(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	body := `{"fvTenant":{"attributes":{"dn":"uni/tn-TEN_K8_C1"},"children":[
	  {"vzFilter":{"attributes":{"name":"F"},"children":[
	    {"vzEntry":{"attributes":{"name":"e1","etherT":"ip","prot":"6","dFromPort":"443","dToPort":"443"}}},
	    {"vzEntry":{"attributes":{"name":"e2","etherT":"ip","prot":"udp","dFromPort":"8443","dToPort":"http"}}}]}},
	  {"l3extOut":{"attributes":{"name":"L3O_K8_C1"},"children":[
	    {"l3extInstP":{"attributes":{"name":"E"},"children":[
	      {"l3extSubnet":{"attributes":{"ip":"2001:0db8:0000::/48","scope":"shared-rtctrl,import-security,export-rtctrl"}}}]}}]}}]}}`
	if a := do(t, hc, srv, "POST", "/api/mo/"+tn+".json", body, ck); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	for _, c := range []struct{ dn, attr, want string }{
		{tn + "/flt-F/e-e1", "prot", "tcp"},
		{tn + "/flt-F/e-e1", "dFromPort", "https"},
		{tn + "/flt-F/e-e2", "dFromPort", "8443"},
		{tn + "/flt-F/e-e2", "dToPort", "http"},
		{tn + "/flt-F/e-e2", "stateful", "no"},
		{tn + "/out-L3O_K8_C1/instP-E/extsubnet-[2001:db8::/48]", "scope", "export-rtctrl,import-security,shared-rtctrl"},
		{tn + "/out-L3O_K8_C1/instP-E/extsubnet-[2001:db8::/48]", "aggregate", ""},
		{tn + "/out-L3O_K8_C1/instP-E", "matchT", "AtleastOne"},
		{tn + "/out-L3O_K8_C1/instP-E", "pcEnfPref", "unenforced"},
	} {
		_, attrs, ok := srv.Lookup(c.dn)
		if !ok || attrs[c.attr] != c.want {
			t.Errorf("%s %s = %q (exists %v), want %q", c.dn, c.attr, attrs[c.attr], ok, c.want)
		}
	}
}

func TestQueries(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	out := tn + "/out-L3O_EXTERNAL"
	for _, c := range []struct {
		name, path string
		status     int
		total      string
		check      func(t *testing.T, im []any)
	}{
		{"self has dn", "/api/mo/" + out + ".json", 200, "1", func(t *testing.T, im []any) {
			at := im[0].(map[string]any)["l3extOut"].(map[string]any)["attributes"].(map[string]any)
			if at["dn"] != out || at["status"] != "" || at["lcOwn"] != "local" {
				t.Errorf("attributes %v", at)
			}
		}},
		{"unknown DN is empty", "/api/mo/uni/tn-NOPE.json", 200, "0", nil},
		{"node/mo works too", "/api/node/mo/" + out + ".json", 200, "1", nil},
		{"children with rn and no dn", "/api/mo/" + out + ".json?rsp-subtree=children", 200, "1", func(t *testing.T, im []any) {
			kids := im[0].(map[string]any)["l3extOut"].(map[string]any)["children"].([]any)
			if len(kids) != 4 {
				t.Fatalf("%d children, want 4", len(kids))
			}
			for _, k := range kids {
				for _, v := range k.(map[string]any) {
					at := v.(map[string]any)["attributes"].(map[string]any)
					if _, hasDN := at["dn"]; hasDN || at["rn"] == "" {
						t.Errorf("child attributes %v: want rn and no dn", at)
					}
				}
			}
		}},
		{"subtree by class", "/api/mo/" + tn + ".json?query-target=subtree&target-subtree-class=l3extInstP", 200, "3", nil},
		{"subtree includes the target", "/api/mo/" + tn + ".json?query-target=subtree&target-subtree-class=fvTenant,l3extOut", 200, "3", nil},
		{"children query", "/api/mo/" + out + ".json?query-target=children&target-subtree-class=l3extInstP", 200, "2", nil},
		{"filter eq", "/api/class/l3extInstP.json?query-target-filter=eq(l3extInstP.name,\"EPG_DEFAULT\")", 200, "1", nil},
		{"filter wcard and not", "/api/class/l3extInstP.json?query-target-filter=and(wcard(l3extInstP.name,\"EPG_\"),not(eq(l3extInstP.name,\"EPG_DEFAULT\")))", 200, "2", nil},
		{"filter or", "/api/class/l3extInstP.json?query-target-filter=or(eq(l3extInstP.name,\"EPG_DEFAULT\"),eq(l3extInstP.name,\"EPG_K8_NODES\"))", 200, "2", nil},
		{"scoped class query", "/api/node/class/" + out + "/l3extInstP.json", 200, "2", nil},
		{"full subtree limited by class", "/api/mo/" + out + ".json?rsp-subtree=full&rsp-subtree-class=l3extSubnet", 200, "1", func(t *testing.T, im []any) {
			kids := im[0].(map[string]any)["l3extOut"].(map[string]any)["children"].([]any)
			if len(kids) != 1 {
				t.Fatalf("%d children, want only the EPG that holds a subnet", len(kids))
			}
		}},
		{"config-only drops read-only properties", "/api/mo/" + out + ".json?rsp-prop-include=config-only", 200, "1", func(t *testing.T, im []any) {
			at := im[0].(map[string]any)["l3extOut"].(map[string]any)["attributes"].(map[string]any)
			if _, ok := at["modTs"]; ok || at["name"] != "L3O_EXTERNAL" || at["dn"] != out {
				t.Errorf("config-only attributes %v", at)
			}
		}},
		{"naming-only", "/api/mo/" + out + ".json?rsp-prop-include=naming-only", 200, "1", func(t *testing.T, im []any) {
			at := im[0].(map[string]any)["l3extOut"].(map[string]any)["attributes"].(map[string]any)
			if len(at) != 2 {
				t.Errorf("naming-only attributes %v, want dn and name", at)
			}
		}},
		{"relation resolves its target", "/api/mo/" + out + "/rsectx.json", 200, "1", func(t *testing.T, im []any) {
			at := im[0].(map[string]any)["l3extRsEctx"].(map[string]any)["attributes"].(map[string]any)
			if at["state"] != "formed" || at["tDn"] != tn+"/ctx-VRF_K8_C1" || at["tCl"] != "fvCtx" {
				t.Errorf("relation %v", at)
			}
		}},
		{"paging", "/api/class/l3extInstP.json?order-by=l3extInstP.name|desc&page=1&page-size=2", 200, "3", func(t *testing.T, im []any) {
			if len(im) != 1 {
				t.Fatalf("page 1 of size 2 holds %d, want 1", len(im))
			}
			at := im[0].(map[string]any)["l3extInstP"].(map[string]any)["attributes"].(map[string]any)
			if at["name"] != "EPG_DEFAULT" {
				t.Errorf("last in descending order is %v", at["name"])
			}
		}},
		{"unknown class", "/api/class/fvTenantt.json", 400, "", nil},
		{"unknown subtree class", "/api/mo/" + tn + ".json?query-target=subtree&target-subtree-class=nope", 400, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, hc, srv, "GET", c.path, "", ck)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			m := a.json(t)
			if c.status != 200 {
				if code, text := a.apicErr(t); code != "400" || !strings.HasPrefix(text, "Request failed, unresolved class for ") {
					t.Errorf("error %s %q", code, text)
				}
				return
			}
			if m["totalCount"] != c.total {
				t.Fatalf("totalCount %v, want %s: %s", m["totalCount"], c.total, a.body)
			}
			if c.check != nil {
				c.check(t, m["imdata"].([]any))
			}
		})
	}
}

func TestAuth(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	srv, hc := lab(t, Options{TokenTTL: 60 * time.Second, Now: clock})
	get := "/api/mo/" + tn + ".json"

	a := do(t, hc, srv, "POST", "/api/aaaLogin.json", `{"aaaUser":{"attributes":{"name":"admin","pwd":"wrong"}}}`, "")
	if code, text := a.apicErr(t); a.status != 401 || code != "401" || text != textBadLogin {
		t.Errorf("bad login: %d %s %q", a.status, code, text)
	}
	a = do(t, hc, srv, "GET", get, "", "")
	if code, text := a.apicErr(t); a.status != 403 || code != "403" || text != textNeedToken {
		t.Errorf("no cookie: %d %s %q", a.status, code, text)
	}
	ck := login(t, hc, srv)
	if a = do(t, hc, srv, "GET", get, "", strings.Replace(ck, "APIC-cookie", "APIC-Cookie", 1)); a.status != 200 {
		t.Errorf("the cookie name must match case-insensitively: %d", a.status)
	}
	// Ansible sends the whole Set-Cookie value back.
	if a = do(t, hc, srv, "GET", get, "", ck+"; path=/; HttpOnly; Secure"); a.status != 200 {
		t.Errorf("cookie with attributes: %d", a.status)
	}
	// Refresh gives a new token in the aaaLogin shape.
	a = do(t, hc, srv, "GET", "/api/aaaRefresh.json", "", ck)
	if a.status != 200 || !strings.Contains(string(a.body), `"aaaLogin"`) {
		t.Fatalf("refresh: %d %s", a.status, a.body)
	}
	// Expiry.
	now = now.Add(61 * time.Second)
	a = do(t, hc, srv, "GET", get, "", ck)
	if code, text := a.apicErr(t); a.status != 403 || code != "403" || text != textTokenTimeout {
		t.Errorf("expired token: %d %s %q", a.status, code, text)
	}
	// Logout ends the session.
	ck = login(t, hc, srv)
	if a = do(t, hc, srv, "POST", "/api/aaaLogout.json", `{"aaaUser":{"attributes":{"name":"admin"}}}`, ck); a.status != 200 {
		t.Fatalf("logout: %d", a.status)
	}
	if a = do(t, hc, srv, "GET", get, "", ck); a.status != 403 {
		t.Errorf("a logged-out token still works: %d", a.status)
	}
	c := srv.Counters()
	if c.Logins != 2 || c.FailedLogins != 1 || c.Refreshes != 1 || c.Logouts != 1 {
		t.Errorf("counters %+v", c)
	}
}

func TestDuplicateCookie(t *testing.T) {
	for _, c := range []struct {
		mode        string
		staleFirst  int
		staleSecond int
	}{
		{CookieFirst, 403, 200},
		{CookieLast, 200, 403},
		{CookieAny, 200, 200},
	} {
		t.Run(c.mode, func(t *testing.T) {
			srv, hc := lab(t, Options{DuplicateCookie: c.mode})
			good := login(t, hc, srv)
			stale := "APIC-Cookie=expired-token"
			get := "/api/mo/" + tn + ".json"
			if a := do(t, hc, srv, "GET", get, "", stale+"; "+good); a.status != c.staleFirst {
				t.Errorf("stale then good: %d, want %d", a.status, c.staleFirst)
			}
			if a := do(t, hc, srv, "GET", get, "", good+"; "+stale); a.status != c.staleSecond {
				t.Errorf("good then stale: %d, want %d", a.status, c.staleSecond)
			}
		})
	}
}

func TestSignatureAuth(t *testing.T) {
	srv, hc := lab(t, Options{})
	uc := testenv.NewUserCert(t)
	key, cert := uc.Key, uc.CertPEM
	if err := srv.AddCertificate("admin", "fr", cert); err != nil {
		t.Fatal(err)
	}
	sign := func(method, uri, body string) string {
		sum := sha256.Sum256([]byte(method + uri + body))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return "APIC-Request-Signature=" + base64.StdEncoding.EncodeToString(sig) +
			"; APIC-Certificate-Algorithm=v1.0; APIC-Certificate-Fingerprint=fingerprint; APIC-Certificate-DN=uni/userext/user-admin/usercert-fr"
	}
	uri := "/api/mo/" + tn + ".json?query-target=self"
	body := `{"fvTenant":{"attributes":{"descr":"signed"}}}`
	for _, c := range []struct {
		name, method, path, body, cookie string
		status                           int
	}{
		{"signed GET", "GET", uri, "", sign("GET", uri, ""), 200},
		{"signed POST", "POST", "/api/mo/" + tn + ".json", body, sign("POST", "/api/mo/"+tn+".json", body), 200},
		{"signature over another URI", "GET", uri, "", sign("GET", "/api/mo/uni.json", ""), 403},
		{"signature over another body", "POST", "/api/mo/" + tn + ".json", body, sign("POST", "/api/mo/"+tn+".json", "{}x"), 403},
		{"unknown certificate", "GET", uri, "", strings.Replace(sign("GET", uri, ""), "usercert-fr", "usercert-other", 1), 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			if a := do(t, hc, srv, c.method, c.path, c.body, c.cookie); a.status != c.status {
				t.Errorf("%d, want %d: %s", a.status, c.status, a.body)
			}
		})
	}
	if got := srv.Counters(); got.Logins != 0 || got.SignedRequests != 2 || got.BadSignatures != 3 {
		t.Errorf("counters %+v", got)
	}
}

func TestFaults(t *testing.T) {
	get := "/api/mo/" + tn + ".json"
	for _, c := range []struct {
		name  string
		fault Fault
		check func(t *testing.T, srv *Server, hc *http.Client, ck string)
	}{
		{"throttle 503 with Retry-After, twice", Fault{Kind: FaultThrottle, Method: "GET", Times: 2, RetryAfter: "1"},
			func(t *testing.T, srv *Server, hc *http.Client, ck string) {
				for i := 0; i < 2; i++ {
					a := do(t, hc, srv, "GET", get, "", ck)
					if a.status != 503 || a.header.Get("Retry-After") != "1" || !strings.Contains(string(a.body), "<center>nginx</center>") {
						t.Fatalf("%d %v %s", a.status, a.header, a.body)
					}
				}
				if a := do(t, hc, srv, "GET", get, "", ck); a.status != 200 {
					t.Fatalf("after the burst: %d", a.status)
				}
			}},
		{"429", Fault{Kind: FaultThrottle, Status: 429, Times: 1}, func(t *testing.T, srv *Server, hc *http.Client, ck string) {
			if a := do(t, hc, srv, "GET", get, "", ck); a.status != 429 {
				t.Fatalf("%d", a.status)
			}
		}},
		{"5xx after skipping one", Fault{Kind: FaultServerError, Status: 502, Skip: 1, Times: 1}, func(t *testing.T, srv *Server, hc *http.Client, ck string) {
			if a := do(t, hc, srv, "GET", get, "", ck); a.status != 200 {
				t.Fatalf("skipped request: %d", a.status)
			}
			if a := do(t, hc, srv, "GET", get, "", ck); a.status != 502 {
				t.Fatalf("%d", a.status)
			}
		}},
		{"token timeout ends the session", Fault{Kind: FaultTokenTimeout, Method: "GET", Times: 1}, func(t *testing.T, srv *Server, hc *http.Client, ck string) {
			a := do(t, hc, srv, "GET", get, "", ck)
			if code, text := a.apicErr(t); a.status != 403 || code != "403" || text != textTokenTimeout {
				t.Fatalf("%d %s %s", a.status, code, text)
			}
			if a = do(t, hc, srv, "GET", get, "", ck); a.status != 403 {
				t.Fatalf("the timed-out token still works: %d", a.status)
			}
		}},
		{"latency", Fault{Kind: FaultLatency, Delay: 50 * time.Millisecond, Times: 1}, func(t *testing.T, srv *Server, hc *http.Client, ck string) {
			if a := do(t, hc, srv, "GET", get, "", ck); a.status != 200 {
				t.Fatalf("%d", a.status)
			}
			if log := srv.Requests(); log[len(log)-1].Fault != string(FaultLatency) {
				t.Fatalf("the log does not show the latency fault: %+v", log[len(log)-1])
			}
		}},
		{"reset before processing writes nothing", Fault{Kind: FaultReset, Method: "POST", PathPrefix: "/api/mo/", Times: 1},
			func(t *testing.T, srv *Server, hc *http.Client, ck string) {
				req, _ := http.NewRequest("POST", srv.URL+"/api/mo/"+tn+"/bgpCtxAfP-R.json", strings.NewReader(`{"bgpCtxAfPol":{"attributes":{"name":"R"}}}`))
				req.Header.Set("Cookie", ck)
				if _, err := hc.Do(req); err == nil || !isReset(err) {
					t.Fatalf("want a connection reset, got %v", err)
				}
				if _, _, ok := srv.Lookup(tn + "/bgpCtxAfP-R"); ok {
					t.Fatal("the reset POST was applied")
				}
			}},
		{"reset after commit", Fault{Kind: FaultResetAfterCommit, Method: "POST", PathPrefix: "/api/mo/", Times: 1},
			func(t *testing.T, srv *Server, hc *http.Client, ck string) {
				req, _ := http.NewRequest("POST", srv.URL+"/api/mo/"+tn+"/bgpCtxAfP-R.json", strings.NewReader(`{"bgpCtxAfPol":{"attributes":{"name":"R"}}}`))
				req.Header.Set("Cookie", ck)
				if _, err := hc.Do(req); err == nil {
					t.Fatal("want a connection error")
				}
				if _, _, ok := srv.Lookup(tn + "/bgpCtxAfP-R"); !ok {
					t.Fatal("the POST was not applied before the reset")
				}
			}},
		{"latency after commit: the client gives up on a committed write", Fault{Kind: FaultLatencyAfterCommit, Method: "POST", PathPrefix: "/api/mo/", Times: 1, Delay: 2 * time.Second},
			func(t *testing.T, srv *Server, hc *http.Client, ck string) {
				req, _ := http.NewRequest("POST", srv.URL+"/api/mo/"+tn+"/bgpCtxAfP-R.json", strings.NewReader(`{"bgpCtxAfPol":{"attributes":{"name":"R"}}}`))
				req.Header.Set("Cookie", ck)
				short := &http.Client{Timeout: 300 * time.Millisecond, Transport: hc.Transport}
				start := time.Now()
				if _, err := short.Do(req); err == nil || !strings.Contains(err.Error(), "Timeout") {
					t.Fatalf("want a client timeout, got %v", err)
				}
				if d := time.Since(start); d > time.Second {
					t.Fatalf("the client waited %v", d)
				}
				if _, _, ok := srv.Lookup(tn + "/bgpCtxAfP-R"); !ok {
					t.Fatal("the POST was not committed before the late answer")
				}
				if log := srv.Requests(); log[len(log)-1].Status != 200 || log[len(log)-1].Fault != string(FaultLatencyAfterCommit) {
					t.Fatalf("log: %+v", log[len(log)-1])
				}
				// A patient client gets the answer.
				srv.AddFault(Fault{Kind: FaultLatencyAfterCommit, Method: "POST", PathPrefix: "/api/mo/", Times: 1, Delay: 200 * time.Millisecond})
				a := do(t, hc, srv, "POST", "/api/mo/"+tn+"/bgpCtxAfP-S.json?rsp-subtree=modified", `{"bgpCtxAfPol":{"attributes":{"name":"S"}}}`, ck)
				if a.status != 200 || !strings.Contains(string(a.body), `"status":"created"`) {
					t.Fatalf("late answer: %d %s", a.status, a.body)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, hc := lab(t, Options{})
			ck := login(t, hc, srv)
			srv.AddFault(c.fault)
			c.check(t, srv, hc, ck)
			if srv.Counters().FaultsFired == 0 {
				t.Error("no fault fired")
			}
		})
	}
}

func isReset(err error) bool {
	s := err.Error()
	return strings.Contains(s, "reset") || strings.Contains(s, "EOF") || errors.Is(err, io.EOF)
}

// TestJournal: each committed HTTP write lists the objects it changed, a
// subtree delete every object it took; reads, refused writes and direct
// seeding are not journaled.
func TestJournal(t *testing.T) {
	srv, hc := lab(t, Options{Journal: true})
	ck := login(t, hc, srv)
	flt := tn + "/flt-HAND_flt"
	body := `{"vzFilter":{"attributes":{"dn":"` + flt + `","annotation":"x"},"children":[` +
		`{"vzEntry":{"attributes":{"name":"ssh","etherT":"ip","prot":"tcp","dFromPort":"22","dToPort":"22"}}}]}}`
	if a := do(t, hc, srv, "POST", "/api/mo/"+flt+".json", body, ck); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	do(t, hc, srv, "GET", "/api/mo/"+flt+".json?query-target=subtree", "", ck)
	if a := do(t, hc, srv, "POST", "/api/mo/"+flt+".json", `{"vzFilter":{"attributes":{"dn":"`+flt+`","descr":"edited"}}}`, ck); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if a := do(t, hc, srv, "POST", "/api/mo/"+tn+".json", `{"fvTenant":{"attributes":{"nope":"x"}}}`, ck); a.status == 200 {
		t.Fatal("a bad property was accepted")
	}
	if a := do(t, hc, srv, "DELETE", "/api/mo/"+flt+".json", "", ck); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	j := srv.Journal()
	var got []string
	for _, e := range j {
		for _, c := range e.Changes {
			got = append(got, e.Method+" "+c.Status+" "+strings.TrimPrefix(c.DN, tn+"/"))
		}
	}
	want := []string{"POST created flt-HAND_flt", "POST created flt-HAND_flt/e-ssh", "POST modified flt-HAND_flt",
		"DELETE deleted flt-HAND_flt", "DELETE deleted flt-HAND_flt/e-ssh"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("journal:\n%q\nwant\n%q", got, want)
	}
	if m := j[1].Changes[0]; m.Before["descr"] != "" || m.After["descr"] != "edited" || m.After["annotation"] != "x" {
		t.Fatalf("modified: %+v", m)
	}
	srv.ResetLog()
	if len(srv.Journal()) != 0 {
		t.Fatal("ResetLog kept the journal")
	}
}

func TestRequestLog(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	do(t, hc, srv, "GET", "/api/mo/"+tn+".json?query-target=children", "", ck)
	do(t, hc, srv, "GET", "/api/nope.json", "", ck)
	a := do(t, hc, srv, "GET", "/_emulator/requests", "", "")
	var got []map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"method": "POST", "path": "/api/aaaLogin.json", "query": "", "status": float64(200)},
		{"method": "GET", "path": "/api/mo/" + tn + ".json", "query": "query-target=children", "status": float64(200)},
		{"method": "GET", "path": "/api/nope.json", "query": "", "status": float64(404)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request log %v, want %v", got, want)
	}
	if n := srv.Count("GET", "/api/mo/"); n != 1 {
		t.Errorf("Count = %d", n)
	}
	// The Go log also says who each request acted for, as an APIC's audit
	// log does: tests tell writers apart by it.
	var users []string
	for _, r := range srv.Requests() {
		users = append(users, r.User)
	}
	if strings.Join(users, ",") != "admin,admin,admin" {
		t.Errorf("users = %q", users)
	}
	do(t, hc, srv, "GET", "/api/mo/"+tn+".json", "", "")
	if last := srv.Requests()[len(srv.Requests())-1]; last.User != "" || last.Status != 403 {
		t.Errorf("unauthenticated request logged as %+v", last)
	}
}

// TestFaultEndpoint: the program switches faults over HTTP.
func TestFaultEndpoint(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	for _, c := range []struct {
		method, body string
		status       int
	}{
		{"POST", `{"kind":"throttle","method":"GET","times":1,"retryAfter":"2"}`, 204},
		{"POST", `{"kind":"nonsense"}`, 400},
		{"GET", "", 405},
	} {
		if a := do(t, hc, srv, c.method, "/_emulator/faults", c.body, ""); a.status != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.body, a.status, c.status)
		}
	}
	if a := do(t, hc, srv, "GET", "/api/mo/"+tn+".json", "", ck); a.status != 503 || a.header.Get("Retry-After") != "2" {
		t.Fatalf("the posted fault did not fire: %d", a.status)
	}
	srv.AddFault(Fault{Kind: FaultServerError})
	if a := do(t, hc, srv, "DELETE", "/_emulator/faults", "", ""); a.status != 204 {
		t.Fatal(a.status)
	}
	if a := do(t, hc, srv, "GET", "/api/mo/"+tn+".json", "", ck); a.status != 200 {
		t.Fatalf("faults were not cleared: %d", a.status)
	}
}

// TestPeerSessionClasses: the classes a BGP peer's options use. A new
// bgpPeerP gets its prefix-policy relation from the APIC unless the
// payload holds one; bgpPeerPfxPol takes the APIC's values and defaults;
// the relation resolves to it.
func TestPeerSessionClasses(t *testing.T) {
	srv, hc := lab(t, Options{Journal: true})
	ck := login(t, hc, srv)
	path := tn + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]"
	post := func(body string) answer {
		t.Helper()
		a := do(t, hc, srv, "POST", "/api/mo/"+tn+".json?rsp-subtree=modified", body, ck)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		return a
	}
	peerBody := func(addr, children string) string {
		return `{"bgpPeerP":{"attributes":{"dn":"` + path + `/peerP-[` + addr + `]"},"children":[` + children + `]}}`
	}
	a := do(t, hc, srv, "POST", "/api/mo/"+path+".json?rsp-subtree=modified", peerBody("192.168.9.201", ""), ck)
	if a.status != 200 || !strings.Contains(string(a.body), `"rspeerPfxPol"`) {
		t.Fatalf("the implicit relation is not reported created: %d %s", a.status, a.body)
	}
	_, rel, ok := srv.Lookup(path + "/peerP-[192.168.9.201]/rspeerPfxPol")
	if !ok || rel["tnBgpPeerPfxPolName"] != "" || rel["annotation"] != "" {
		t.Fatalf("implicit relation %v (exists %v)", rel, ok)
	}
	// A payload that holds the relation keeps its own.
	if a := do(t, hc, srv, "POST", "/api/mo/"+path+".json", peerBody("192.168.9.202",
		`{"bgpRsPeerPfxPol":{"attributes":{"tnBgpPeerPfxPolName":"PFX","annotation":"x"}}}`), ck); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if _, rel, _ := srv.Lookup(path + "/peerP-[192.168.9.202]/rspeerPfxPol"); rel["tnBgpPeerPfxPolName"] != "PFX" || rel["annotation"] != "x" {
		t.Fatalf("relation %v", rel)
	}

	post(`{"fvTenant":{"attributes":{"dn":"` + tn + `"},"children":[{"bgpPeerPfxPol":{"attributes":{"name":"PFX"}}}]}}`)
	_, pol, _ := srv.Lookup(tn + "/bgpPfxP-PFX")
	for k, want := range map[string]string{"action": "reject", "maxPfx": "20000", "restartTime": "infinite", "thresh": "75"} {
		if pol[k] != want {
			t.Errorf("default %s = %q, want %q", k, pol[k], want)
		}
	}
	post(`{"fvTenant":{"attributes":{"dn":"` + tn + `"},"children":[{"bgpPeerPfxPol":{"attributes":{"name":"PFX","action":"restart","maxPfx":"300000","restartTime":"10"}}}]}}`)
	if _, pol, _ := srv.Lookup(tn + "/bgpPfxP-PFX"); pol["maxPfx"] != "300000" || pol["restartTime"] != "10" || pol["action"] != "restart" {
		t.Fatalf("policy %v", pol)
	}
	for _, bad := range []string{`"maxPfx":"300001"`, `"maxPfx":"0"`, `"restartTime":"0"`, `"restartTime":"65536"`, `"action":"shutdown"`, `"thresh":"101"`} {
		a := do(t, hc, srv, "POST", "/api/mo/"+tn+"/bgpPfxP-PFX.json", `{"bgpPeerPfxPol":{"attributes":{`+bad+`}}}`, ck)
		if a.status != 400 {
			t.Errorf("%s accepted", bad)
		}
	}
	q := do(t, hc, srv, "GET", "/api/mo/"+path+"/peerP-[192.168.9.202]/rspeerPfxPol.json", "", ck)
	if !strings.Contains(string(q.body), `"tDn":"`+tn+`/bgpPfxP-PFX"`) || !strings.Contains(string(q.body), `"state":"formed"`) {
		t.Fatalf("the relation does not resolve to the policy: %s", q.body)
	}
}

// TestPasswordResentIsAChange: a write-only password sent again with the
// value it holds is a change, in rsp-subtree=modified and in the journal,
// and its value shows nowhere.
func TestPasswordResentIsAChange(t *testing.T) {
	srv, hc := lab(t, Options{Journal: true})
	ck := login(t, hc, srv)
	const secret = "peer-secret-2718"
	dn := tn + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]/peerP-[192.168.9.201]"
	body := func(attrs string) string { return `{"bgpPeerP":{"attributes":{"dn":"` + dn + `"` + attrs + `}}}` }
	var out strings.Builder
	send := func(attrs string, changed bool) {
		t.Helper()
		a := do(t, hc, srv, "POST", "/api/mo/"+dn+".json?rsp-subtree=modified", body(attrs), ck)
		out.Write(a.body)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		if n := len(a.json(t)["imdata"].([]any)); (n > 0) != changed {
			t.Fatalf("%s: imdata %s, want changed=%v", attrs, a.body, changed)
		}
	}
	send(`,"password":"`+secret+`"`, true)
	srv.ResetLog()
	send(`,"descr":"n1"`, true)
	send(`,"descr":"n1"`, false)
	send(`,"descr":"n1","password":"`+secret+`"`, true)
	if got := srv.Secret(dn, "password"); got != secret {
		t.Fatalf("stored %q", got)
	}
	j := srv.Journal()
	if len(j) != 2 || len(j[1].Changes) != 1 || !reflect.DeepEqual(j[1].Changes[0].Secrets, []string{"password"}) ||
		!reflect.DeepEqual(j[1].Changes[0].Before, j[1].Changes[0].After) {
		t.Fatalf("journal %+v: want the descr write, then the password re-sent", j)
	}
	if j[0].Changes[0].Secrets != nil {
		t.Fatalf("a descr write journaled as a password write: %+v", j[0].Changes[0])
	}
	b, _ := json.Marshal(j)
	out.Write(b)
	q := do(t, hc, srv, "GET", "/api/mo/"+dn+".json", "", ck)
	out.Write(q.body)
	if strings.Contains(out.String(), secret) {
		t.Fatal("the password shows in an answer or the journal")
	}
	if !strings.Contains(out.String(), `"password":""`) {
		t.Fatalf("rsp-subtree=modified does not name the password: %s", out.String())
	}
}

// TestNewTenantImplicitChildren: a tenant created by a POST gets the three
// children a real APIC adds (fvEpTags, fvRsTenantMonPol, vnsSvcCont),
// unannotated; a tenant the payload already holds them for keeps its own.
func TestNewTenantImplicitChildren(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	a := do(t, hc, srv, "POST", "/api/mo/uni/tn-TEN_NEW.json?rsp-subtree=modified", `{"fvTenant":{"attributes":{"dn":"uni/tn-TEN_NEW","annotation":"orchestrator:x"}}}`, ck)
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	for rn, class := range map[string]string{"eptags": "fvEpTags", "rsTenantMonPol": "fvRsTenantMonPol", "svcCont": "vnsSvcCont"} {
		c, attrs, ok := srv.Lookup("uni/tn-TEN_NEW/" + rn)
		if !ok || c != class || attrs["annotation"] != "" {
			t.Errorf("%s: class %q attrs %v exists %v", rn, c, attrs, ok)
		}
		if !strings.Contains(string(a.body), `"`+class+`"`) {
			t.Errorf("%s is not reported created: %s", class, a.body)
		}
	}
	q := do(t, hc, srv, "GET", "/api/mo/uni/tn-TEN_NEW.json?query-target=children", "", ck)
	if n := strings.Count(string(q.body), `"dn":`); n != 3 {
		t.Errorf("%d children, want the 3 implicit ones: %s", n, q.body)
	}
	if _, rel, _ := srv.Lookup("uni/tn-TEN_NEW/rsTenantMonPol"); rel["tnMonEPGPolName"] != "" {
		t.Errorf("monitoring relation %v", rel)
	}
}
