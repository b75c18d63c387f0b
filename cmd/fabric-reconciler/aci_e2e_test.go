package main

// End-to-end tests of plan and sync with the ACI driver against the APIC
// emulator, seeded with the tenant a network engineer built by hand before
// automation (examples/haystack/apic-baseline.json). They run the real
// command code (execute) and the real aci-go-client.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const (
	tenantDN  = "uni/tn-TEN_K8_C1"
	goldenACI = "testdata/aci/haystack-tenant.golden.json"
)

type aciLab struct {
	sim        *emulator.Server
	dir        string
	config     string
	apicPW     string
	bgpPW      string
	keyPEM     string
	clusterDir string
}

type labOpts struct {
	cert        bool // certificate-signature login instead of a password
	bgpPassword bool
	emu         emulator.Options
}

func randomSecret(t *testing.T, prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// newACILab starts a seeded emulator and writes a configuration for it: the
// example's, pointed at the emulator, with TLS verified against the
// emulator's certificate.
func newACILab(t *testing.T, o labOpts) *aciLab {
	t.Helper()
	l := &aciLab{dir: t.TempDir(), apicPW: randomSecret(t, "apic-pw-"), bgpPW: randomSecret(t, "bgp-pw-"),
		clusterDir: filepath.Join(testenv.RepoRoot(), "examples", "haystack", "cluster")}
	if o.emu.Users == nil {
		o.emu.Users = map[string]string{"admin": l.apicPW}
	}
	sim := emulator.New(o.emu)
	seed, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "apic-baseline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Post("uni", seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if l.sim, err = emulator.Start(sim, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.sim.Close() })

	write := func(name, content string) string {
		p := filepath.Join(l.dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("apic-ca.pem", string(l.sim.CertPEM))
	example, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	replace := func(old, new string) {
		if !strings.Contains(cfg, old) {
			t.Fatalf("examples/haystack/fabric.yaml no longer contains %q", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	replace("url: https://127.0.0.1:8443", "url: "+l.sim.URL)
	replace("insecureSkipVerify: true", "caFile: "+ca)
	if o.cert {
		uc := testenv.NewUserCert(t)
		key, certPEM := string(uc.KeyPEM), uc.CertPEM
		l.keyPEM = key
		if err := l.sim.AddCertificate("admin", "fabric-reconciler", certPEM); err != nil {
			t.Fatal(err)
		}
		replace("passwordFile: secrets/apic-password", "privateKeyFile: "+write("apic-key.pem", key)+"\n      certificateName: fabric-reconciler")
	} else {
		replace("passwordFile: secrets/apic-password", "passwordFile: "+write("apic-password", l.apicPW+"\n"))
	}
	if o.bgpPassword {
		replace("  bgp:\n", "  bgp:\n    passwordFile: "+write("bgp-password", l.bgpPW)+"\n")
	}
	l.config = write("fabric.yaml", cfg)
	return l
}

type cliRun struct {
	code           int
	stdout, stderr string
}

// cli runs the command line in-process, as main would.
func (l *aciLab) cli(t *testing.T, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	full := append(args, "--config", l.config, "--cluster-state", l.clusterDir)
	code := execute(full, &out, &errb)
	return cliRun{code: code, stdout: out.String(), stderr: errb.String()}
}

func (l *aciLab) sync(t *testing.T) cliRun {
	t.Helper()
	r := l.cli(t, "sync", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("sync exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// checkGolden compares the emulator's tenant with the golden tree.
func (l *aciLab) checkGolden(t *testing.T) {
	t.Helper()
	got, err := json.MarshalIndent(l.sim.Dump(tenantDN), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *testenv.Update {
		if err := os.MkdirAll(filepath.Dir(goldenACI), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenACI, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenACI)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/fabric-reconciler -run ACI -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the emulator's tenant differs from %s; diff the files (go test -update rewrites it):\n%s", goldenACI, got)
	}
}

type reqLine struct{ method, path, query string }

func (l *aciLab) requests() []reqLine {
	var out []reqLine
	for _, r := range l.sim.Requests() {
		out = append(out, reqLine{r.Method, r.Path, r.Query})
	}
	return out
}

func observeGET() reqLine {
	return reqLine{"GET", "/api/mo/" + tenantDN + ".json", "query-target=subtree&target-subtree-class=fvTenant,fvCtx,fvRsCtxToBgpCtxAfPol," +
		"bgpCtxAfPol,l3extOut,l3extLNodeP,l3extLIfP,l3extRsPathL3OutAtt,bgpPeerP,bgpAsP,bgpLocalAsnP,bgpRsPeerPfxPol,bgpPeerPfxPol," +
		"l3extInstP,l3extSubnet,fvRsProv," +
		"fvRsCons,vzBrCP,vzSubj,vzRsSubjFiltAtt,vzFilter,vzEntry,rtctrlProfile,rtctrlCtxP,rtctrlRsCtxPToSubjP,rtctrlSubjP,rtctrlMatchRtDest," +
		"bgpRsPeerToProfile,faultInst,bgpProtP,bgpRsBgpNodeCtxPol,bgpRsBestPathCtrlPol,bgpCtxPol,bgpBestPathCtrlPol"}
}

// fabricASGET reads the fabric's BGP AS, with every observation.
var fabricASGET = reqLine{"GET", "/api/mo/uni/fabric/bgpInstP-default/as.json", ""}

var (
	loginPOST  = reqLine{"POST", "/api/aaaLogin.json", ""}
	logoutPOST = reqLine{"POST", "/api/aaaLogout.json", ""}
	tenantPOST = reqLine{"POST", "/api/mo/" + tenantDN + ".json", "rsp-subtree=modified"}
	// The writer lock: created, read back; at the end read and deleted.
	lockPOST = reqLine{"POST", "/api/mo/" + tenantDN + "/brc-fabric-reconciler.lock.haystack.json", ""}
	lockGET  = reqLine{"GET", "/api/mo/" + tenantDN + "/brc-fabric-reconciler.lock.haystack.json", "query-target=subtree"}
)

// TestACISyncCreatesReferenceLabObjects: one sync of the haystack example makes
// exactly the reference lab's objects in one POST: it observes, takes the writer
// lock (a POST and a read-back), observes again under it to check nothing
// changed since the plan, POSTs, and releases the lock (a read and a POST).
// The second sync makes one GET and takes no lock. Both login methods.
func TestACISyncCreatesReferenceLabObjects(t *testing.T) {
	for _, c := range []struct {
		name        string
		cert        bool
		first, next []reqLine
	}{
		// After the POST the tenant is read again for faults.
		{"password", false,
			[]reqLine{loginPOST, observeGET(), fabricASGET, lockPOST, lockGET, observeGET(), fabricASGET, tenantPOST, observeGET(), lockGET, lockPOST, logoutPOST},
			[]reqLine{loginPOST, observeGET(), fabricASGET, logoutPOST}},
		{"certificate", true,
			[]reqLine{observeGET(), fabricASGET, lockPOST, lockGET, observeGET(), fabricASGET, tenantPOST, observeGET(), lockGET, lockPOST},
			[]reqLine{observeGET(), fabricASGET}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newACILab(t, labOpts{cert: c.cert})
			hand := l.sim.Dump(tenantDN + "/out-L3O_K8_C1/instP-EPG_K8_NODES")[0]

			r := l.sync(t)
			if !strings.Contains(r.stdout, "23 to add, 0 to change, 0 to destroy") || !strings.Contains(r.stdout, "APIC accepted one POST") {
				t.Fatalf("first sync output:\n%s", r.stdout)
			}
			if got := l.requests(); !reflect.DeepEqual(got, c.first) {
				t.Fatalf("first sync requests:\n%v\nwant\n%v", got, c.first)
			}
			l.checkGolden(t)
			// The hand-made EPG got our subnet as a child, and is unchanged itself.
			if now := l.sim.Dump(tenantDN + "/out-L3O_K8_C1/instP-EPG_K8_NODES")[0]; !reflect.DeepEqual(now, hand) {
				t.Fatalf("the hand-made EPG_K8_NODES was modified: %v -> %v", hand, now)
			}

			l.sim.ResetLog()
			r = l.sync(t)
			if !strings.Contains(r.stdout, "already converged") {
				t.Fatalf("second sync output:\n%s", r.stdout)
			}
			if got := l.requests(); !reflect.DeepEqual(got, c.next) {
				t.Fatalf("second sync requests:\n%v\nwant\n%v", got, c.next)
			}
			if n := l.sim.Count("POST", "/api/mo/"); n != 0 {
				t.Fatalf("second sync sent %d config POSTs", n)
			}
			if c.cert && l.sim.Counters().Logins != 0 {
				t.Fatalf("certificate login logged in")
			}
		})
	}
}

func planJSON(t *testing.T, l *aciLab) fabric.Plan {
	t.Helper()
	r := l.cli(t, "plan", "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s %s", r.code, r.stdout, r.stderr)
	}
	p, err := fabric.ParsePlan([]byte(r.stdout))
	if err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	return p
}

// TestACIDrift: a subnet deleted on the APIC is exactly one create in the
// next plan, and the next sync puts it back.
func TestACIDrift(t *testing.T) {
	t.Parallel()
	l := newACILab(t, labOpts{})
	l.sync(t)
	pods := tenantDN + "/out-L3O_K8_C1/instP-EPG_K8_PODS/extsubnet-[172.27.0.0/16]"
	if !l.sim.Delete(pods) {
		t.Fatal("the pods subnet was not created")
	}
	p := planJSON(t, l)
	if len(p.Fabrics) != 1 || len(p.Fabrics[0].Changes) != 1 {
		t.Fatalf("plan after drift: %+v", p.Fabrics)
	}
	c := p.Fabrics[0].Changes[0]
	if c.Action != fabric.ActionCreate || c.Kind != fabric.KindExternalSubnet || c.ID != "EPG_K8_PODS/172.27.0.0/16" {
		t.Fatalf("plan after drift: %s %s %s", c.Action, c.Kind, c.ID)
	}
	l.sync(t)
	l.checkGolden(t)
}

// TestACIForeignSubnet: a subnet at one of our DNs with another owner's
// annotation, or none, is a conflict and is never modified or deleted.
func TestACIForeignSubnet(t *testing.T) {
	for _, owner := range []string{"", "orchestrator:terraform"} {
		t.Run("owner="+owner, func(t *testing.T) {
			t.Parallel()
			l := newACILab(t, labOpts{})
			nodes := tenantDN + "/out-L3O_K8_C1/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]"
			stray := tenantDN + "/out-L3O_K8_C1/instP-EPG_K8_NODES/extsubnet-[10.0.0.0/8]"
			for _, dn := range []string{nodes, stray} {
				ann := ""
				if owner != "" {
					ann = `,"annotation":"` + owner + `"`
				}
				body := `{"l3extSubnet":{"attributes":{"dn":"` + dn + `","scope":"shared-security"` + ann + `}}}`
				if err := l.sim.Post("", []byte(body)); err != nil {
					t.Fatal(err)
				}
			}
			before := l.sim.Dump(nodes)

			r := l.sync(t)
			if !strings.Contains(r.stdout, "ExternalSubnet EPG_K8_NODES/192.168.9.192/28") || !strings.Contains(r.stdout, "left alone") {
				t.Fatalf("sync did not report the conflict:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "22 to add") {
				t.Fatalf("want the other 22 objects applied:\n%s", r.stdout)
			}
			if after := l.sim.Dump(nodes); !reflect.DeepEqual(before, after) {
				t.Fatalf("the foreign subnet was modified: %v -> %v", before, after)
			}
			if _, _, ok := l.sim.Lookup(stray); !ok {
				t.Fatal("a foreign subnet that is not desired was deleted")
			}
			// A second sync still leaves it alone and changes nothing else.
			l.sim.ResetLog()
			r = l.sync(t)
			if n := l.sim.Count("POST", "/api/mo/"); n != 0 || !strings.Contains(r.stdout, "left alone") {
				t.Fatalf("second sync: %d config POSTs:\n%s", n, r.stdout)
			}
			if after := l.sim.Dump(nodes); !reflect.DeepEqual(before, after) {
				t.Fatalf("the foreign subnet was modified by the second sync")
			}
		})
	}
}

// TestACIOwnedTurnedForeign: when someone re-marks an object we created, we
// stop touching it.
func TestACIOwnedTurnedForeign(t *testing.T) {
	t.Parallel()
	l := newACILab(t, labOpts{})
	l.sync(t)
	pods := tenantDN + "/out-L3O_K8_C1/instP-EPG_K8_PODS/extsubnet-[172.27.0.0/16]"
	l.sim.SetAttr(pods, "annotation", "orchestrator:terraform")
	l.sim.SetAttr(pods, "scope", "shared-security")
	p := planJSON(t, l)
	f := p.Fabrics[0]
	if len(f.Changes) != 0 || len(f.Conflicts) != 1 || f.Conflicts[0].Owner != "orchestrator:terraform" {
		t.Fatalf("plan: changes %v conflicts %v", f.Changes, f.Conflicts)
	}
	l.sync(t)
	if _, attrs, _ := l.sim.Lookup(pods); attrs["scope"] != "shared-security" || attrs["annotation"] != "orchestrator:terraform" {
		t.Fatalf("the re-marked subnet was modified: %v", attrs)
	}
}

// TestACIFaults: each failure ends with the fabric converged, either within
// the same sync (the client retries) or on the next one, and never with a
// partial write.
func TestACIFaults(t *testing.T) {
	post := func(f emulator.Fault) emulator.Fault {
		f.Method, f.PathPrefix = "POST", "/api/mo/"+tenantDN+".json"
		return f
	}
	for _, c := range []struct {
		name   string
		fault  emulator.Fault
		failed bool // the first sync fails; a second converges
		check  func(t *testing.T, l *aciLab)
	}{
		{"503 burst honouring Retry-After", post(emulator.Fault{Kind: emulator.FaultThrottle, Times: 2, RetryAfter: "1"}), false,
			func(t *testing.T, l *aciLab) {
				var posts []emulator.Request
				for _, r := range l.sim.Requests() {
					if r.Method == "POST" && r.Path == "/api/mo/"+tenantDN+".json" {
						posts = append(posts, r)
					}
				}
				if len(posts) != 3 || posts[0].Status != 503 || posts[1].Status != 503 || posts[2].Status != 200 {
					t.Fatalf("POSTs: %+v", posts)
				}
				for i := 1; i < 3; i++ {
					if gap := posts[i].Time.Sub(posts[i-1].Time); gap < time.Second {
						t.Errorf("retry %d came %v after the 503, before its Retry-After of 1s", i, gap)
					}
				}
			}},
		{"token timeout in the middle of a sync", post(emulator.Fault{Kind: emulator.FaultTokenTimeout, Times: 1}), false,
			func(t *testing.T, l *aciLab) {
				want := []reqLine{loginPOST, observeGET(), fabricASGET, lockPOST, lockGET, observeGET(), fabricASGET, tenantPOST, loginPOST, tenantPOST,
					observeGET(), lockGET, lockPOST, logoutPOST}
				if got := l.requests(); !reflect.DeepEqual(got, want) {
					t.Fatalf("requests:\n%v\nwant\n%v", got, want)
				}
				// The replayed POST carried its body and one cookie.
				log := l.sim.Requests()
				if log[7].Status != 403 || log[9].Status != 200 || log[9].Body != log[7].Body || log[9].Body == "" {
					t.Fatalf("replayed POST: %d/%d, same body %v", log[7].Status, log[9].Status, log[9].Body == log[7].Body)
				}
				if l.sim.Counters().DuplicateCookies != 0 {
					t.Fatalf("a request carried two APIC cookies")
				}
			}},
		{"connection reset during the POST", post(emulator.Fault{Kind: emulator.FaultReset, Times: 1}), false,
			func(t *testing.T, l *aciLab) {
				log := l.sim.Requests()
				if log[7].Status != 0 || log[8].Status != 200 || log[8].Body != log[7].Body {
					t.Fatalf("requests: %+v", log)
				}
			}},
		{"connection reset after the APIC committed", post(emulator.Fault{Kind: emulator.FaultResetAfterCommit, Times: 1}), false, nil},
		{"5xx that outlasts every retry", post(emulator.Fault{Kind: emulator.FaultServerError, Status: 502}), true, nil},
		{"throttled past every retry", post(emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: "0"}), true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newACILab(t, labOpts{})
			baseline := l.sim.Dump(tenantDN)
			l.sim.AddFault(c.fault)
			r := l.cli(t, "sync")
			if c.failed {
				if r.code == 0 {
					t.Fatalf("sync succeeded through a persistent fault:\n%s", r.stdout)
				}
				if !strings.Contains(r.stdout, "FAILED at apply") {
					t.Fatalf("output:\n%s\n%s", r.stdout, r.stderr)
				}
				if now := l.sim.Dump(tenantDN); !reflect.DeepEqual(now, baseline) {
					t.Fatalf("a failed sync left a partial write")
				}
				l.sim.ClearFaults()
				r = l.cli(t, "sync")
			} else if c.check != nil {
				c.check(t, l)
			}
			if r.code != 0 {
				t.Fatalf("sync exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			l.checkGolden(t)
		})
	}
}

// TestACINoSecretsInOutput greps everything plan and sync print, at debug
// level, for the passwords, the key and every token the APIC issued.
func TestACINoSecretsInOutput(t *testing.T) {
	for _, cert := range []bool{false, true} {
		name := "password"
		if cert {
			name = "certificate"
		}
		t.Run(name, func(t *testing.T) {
			l := newACILab(t, labOpts{cert: cert, bgpPassword: true, emu: emulator.Options{TokenTTL: 2 * time.Second}})
			var all strings.Builder
			for _, args := range [][]string{
				{"plan", "-o", "native", "--offline"},
				{"plan", "-o", "native"},
				{"plan", "-o", "json"},
				{"sync", "--log-level", "debug"},
				{"sync", "-o", "json", "--log-level", "debug"},
				{"plan", "-o", "markdown"},
			} {
				r := l.cli(t, args...)
				all.WriteString(r.stdout + r.stderr)
			}
			out := all.String()
			if !strings.Contains(out, `"password": "(sensitive, not shown; fingerprint `) {
				t.Fatalf("plan -o native does not show the password placeholder:\n%s", out)
			}
			peer := tenantDN + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]/peerP-[192.168.9.193]"
			if got := l.sim.Secret(peer, "password"); got != l.bgpPW {
				t.Fatalf("the BGP password did not reach the APIC (got %q)", got)
			}
			// Sent by the first sync, which creates the peers; the second
			// finds them converged and sends nothing: a password sent again
			// is a change on the APIC, which may reset the session.
			sent := 0
			for _, r := range l.sim.Requests() {
				if r.Method == "POST" && strings.Contains(r.Body, l.bgpPW) {
					sent++
				}
			}
			if sent != 1 {
				t.Fatalf("the BGP password went out in %d POSTs, want 1", sent)
			}
			secrets := map[string]string{"APIC password": l.apicPW, "BGP password": l.bgpPW}
			if cert {
				for i, line := range strings.Split(l.keyPEM, "\n") {
					if len(line) > 20 && !strings.HasPrefix(line, "-----") {
						secrets["key line "+string(rune('0'+i%10))] = line
					}
				}
			}
			for _, tok := range l.sim.Tokens() {
				secrets["token "+tok[:6]] = tok
			}
			if !cert && len(l.sim.Tokens()) == 0 {
				t.Fatal("no token was issued")
			}
			for what, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("the %s appears in the output", what)
				}
			}
			if log.Writer() != io.Discard {
				t.Errorf("aci-go-client's global log output is not silenced")
			}
		})
	}
}

// TestACIPlan: plan --offline contacts nothing (also with -o native);
// plan without it observes with one GET and reads nothing else; -o native
// after a sync has nothing to POST.
func TestACIPlan(t *testing.T) {
	t.Parallel()
	l := newACILab(t, labOpts{cert: true})
	for _, args := range [][]string{{"plan", "--offline"}, {"plan", "--offline", "-o", "native"}, {"plan", "--offline", "-o", "json"}} {
		if r := l.cli(t, args...); r.code != 0 {
			t.Fatalf("%v exited %d: %s", args, r.code, r.stderr)
		}
	}
	if got := l.sim.Requests(); len(got) != 0 {
		t.Fatalf("plan --offline contacted the APIC: %+v", got)
	}
	r := l.cli(t, "plan", "-o", "native")
	if r.code != 0 || !strings.Contains(r.stdout, "# POST "+l.sim.URL+"/api/mo/"+tenantDN+".json?rsp-subtree=modified") {
		t.Fatalf("plan -o native exited %d:\n%s", r.code, r.stdout)
	}
	if got := l.requests(); !reflect.DeepEqual(got, []reqLine{observeGET(), fabricASGET}) {
		t.Fatalf("live plan requests: %v", got)
	}
	l.sync(t)
	if r = l.cli(t, "plan", "-o", "native"); !strings.Contains(r.stdout, "# nothing to POST") {
		t.Fatalf("plan -o native after sync:\n%s", r.stdout)
	}
	if r = l.cli(t, "plan", "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("plan --detailed-exitcode after sync exited %d:\n%s", r.code, r.stdout)
	}

	// observe saves what the driver owns; plan --fabric-state reads it
	// without asking the APIC.
	var out, errb bytes.Buffer
	if code := execute([]string{"observe", "--config", l.config}, &out, &errb); code != 0 {
		t.Fatalf("observe exited %d: %s", code, errb.String())
	}
	state := filepath.Join(l.dir, "observed.json")
	if err := os.WriteFile(state, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	l.sim.ResetLog()
	if r = l.cli(t, "plan", "--fabric-state", state, "--detailed-exitcode"); r.code != 0 || len(l.sim.Requests()) != 0 {
		t.Fatalf("plan --fabric-state exited %d after %d requests:\n%s", r.code, len(l.sim.Requests()), r.stdout)
	}
}

// TestACINativeEscapesTamperedState: plan -o native of a tampered saved
// observation (ids with line breaks) prints no line that is not a comment
// or the JSON body (case 2.3 for the ACI driver).
func TestACINativeEscapesTamperedState(t *testing.T) {
	t.Parallel()
	l := newACILab(t, labOpts{})
	evil := "10.9.9.9\nno router bgp 63500\n!"
	state := `{"formatVersion":1,"fabrics":[{"name":"haystack-aci","objects":[
	  {"kind":"BGPPeer","switch":"leaf201","id":` + strconv.Quote(evil) + `,"spec":{"node":"x","peerAddress":` + strconv.Quote(evil) +
		`,"remoteASN":1,"localASN":1,"addressFamily":"ipv4"}},
	  {"kind":"Contract","switch":"","id":"CNT\n}]}","spec":{"name":"CNT\n}]}","provider":"EPG_A","consumers":[],"entries":[]}}],
	 "foreign":[{"kind":"ExternalSubnet","switch":"","id":"EPG_K8_NODES/192.168.9.192/28\nforged","owner":"x\ny"}]}]}`
	path := filepath.Join(l.dir, "tampered.json")
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	r := l.cli(t, "plan", "--fabric-state", path, "-o", "native")
	if !strings.Contains(r.stdout, "# POST ") {
		t.Fatalf("plan -o native exited %d without a body:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	inBody := false
	for i, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "# POST "):
			inBody = true
		case line == "" || strings.HasPrefix(line, "#"):
			if line == "" {
				inBody = false
			}
		case !inBody:
			t.Errorf("line %d is neither a comment nor in the JSON body: %q", i+1, line)
		}
	}
	for _, forged := range []string{"\nno router bgp", "\nforged", "\n}]}"} {
		if strings.Contains(r.stdout, forged) {
			t.Errorf("the output holds the raw %q:\n%s", forged, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, `"10.9.9.9\nno router bgp 63500\n!"`) {
		t.Errorf("the refused peer is not named, escaped:\n%s", r.stdout)
	}
}
