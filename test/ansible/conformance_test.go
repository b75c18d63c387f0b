// Package ansible runs real Ansible cisco.aci playbooks against the APIC
// emulator: the emulator must be indistinguishable from an APIC for them.
package ansible

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const password = "ansible-lab-pw"

// The playbook's tasks: writeTasks create or change one object each (all
// changed on the first run, none on the second), five cisco.aci queries
// read back, and one assert checks what they read.
const (
	writeTasks    = 20
	queryTasks    = 5
	moduleTasks   = writeTasks + queryTasks
	playbookTasks = moduleTasks + 1
)

var recapRe = regexp.MustCompile(`apic-emulator\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

type recap struct{ ok, changed, unreachable, failed int }

func runPlaybook(t *testing.T, port string, auth ...string) (recap, string) {
	t.Helper()
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Fatalf("ansible-playbook is not installed; run scripts/setup-test-deps.sh (Debian package ansible, see scripts/apt-needs.d/aci.txt)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	args := []string{"conformance.yml", "-e", "apic_port=" + port}
	for _, a := range auth {
		args = append(args, "-e", a)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = "."
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(mustAbs(t, "."), "ansible.cfg"),
		"ANSIBLE_LOCAL_TEMP="+tmp, "ANSIBLE_REMOTE_TEMP="+tmp, "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
		"HOME="+tmp, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	out, err := cmd.CombinedOutput()
	m := recapRe.FindSubmatch(out)
	if m == nil {
		t.Fatalf("ansible-playbook printed no recap (err %v):\n%s", err, out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(string(m[i])); return v }
	return recap{ok: n(1), changed: n(2), unreachable: n(3), failed: n(4)}, string(out)
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAnsibleConformance runs the playbook twice: the first run (password
// login) creates every object, the second (certificate-signed requests) must
// find them as it left them (changed=0).
func TestAnsibleConformance(t *testing.T) {
	sim := emulator.New(emulator.Options{Users: map[string]string{"admin": password}})
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
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	first, out1 := runPlaybook(t, port, "apic_password="+password)
	if first.failed != 0 || first.unreachable != 0 || first.ok != playbookTasks || first.changed != writeTasks {
		t.Fatalf("first run: %+v, want ok=%d changed=%d failed=0:\n%s", first, playbookTasks, writeTasks, out1)
	}
	if got := sim.Counters().Logins; got != moduleTasks {
		t.Errorf("the first run logged in %d times, want one login per cisco.aci task (%d)", got, moduleTasks)
	}

	// The second run signs its requests with a certificate instead: the
	// emulator's signature check must agree with Python's signing, and
	// the run must find everything as the first left it.
	keyFile := filepath.Join(t.TempDir(), "ansible.key")
	uc := testenv.NewUserCert(t)
	keyPEM, certPEM := uc.KeyPEM, uc.CertPEM
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCertificate("admin", "ansible", certPEM); err != nil {
		t.Fatal(err)
	}
	before := sim.Counters()
	second, out2 := runPlaybook(t, port, "apic_private_key="+keyFile, "apic_cert_name=ansible")
	if second.failed != 0 || second.ok != playbookTasks || second.changed != 0 {
		t.Fatalf("second run is not idempotent: %+v, want ok=%d changed=0:\n%s", second, playbookTasks, out2)
	}
	after := sim.Counters()
	// With nothing to change, each write module reads twice (existing, then
	// current) and posts nothing; aci_contract_subject_to_filter reads the
	// subject first (3 reads); aci_rest posts once; a query reads once.
	wantSigned := 2*(writeTasks-1) + 1 + 1 + queryTasks
	if got := after.SignedRequests - before.SignedRequests; after.Logins != before.Logins || after.BadSignatures != 0 || got != wantSigned {
		t.Errorf("second run: %d logins, %d bad signatures, %d signed requests; want 0, 0, %d",
			after.Logins-before.Logins, after.BadSignatures, got, wantSigned)
	}
	if strings.Contains(out1+out2, password) {
		t.Errorf("the password appears in Ansible's output")
	}

	// What the modules left in the tree, as an APIC would hold it.
	tn := "uni/tn-TEN_K8_C1"
	tn2 := "uni/tn-TEN_ANSIBLE"
	l3o2 := tn2 + "/out-L3O_ANSIBLE"
	lnp2 := l3o2 + "/lnodep-LNP_ANSIBLE"
	peer := tn + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1/rspathL3OutAtt-[topology/pod-1/paths-201/pathep-[eth1/33]]/peerP-[192.168.9.200]"
	for _, c := range []struct {
		dn, class string
		attrs     map[string]string
	}{
		{tn + "/out-L3O_K8_C1/instP-EPG_ANSIBLE", "l3extInstP", map[string]string{"annotation": "orchestrator:ansible", "descr": "made by ansible", "prefGrMemb": "exclude"}},
		{tn + "/out-L3O_K8_C1/instP-EPG_ANSIBLE/extsubnet-[10.99.0.0/24]", "l3extSubnet", map[string]string{"scope": "export-rtctrl,import-security"}},
		{peer, "bgpPeerP", map[string]string{"ttl": "2", "ctrl": "nh-self,send-com", "addrTCtrl": "af-ucast"}},
		{peer + "/as", "bgpAsP", map[string]string{"asn": "65001"}},
		{tn + "/brc-CNT_ANSIBLE", "vzBrCP", map[string]string{"scope": "context"}},
		{tn + "/flt-FLT_ANSIBLE/e-tcp-443", "vzEntry", map[string]string{"dFromPort": "https", "dToPort": "https", "prot": "tcp", "etherT": "ip"}},
		{tn + "/bgpCtxAfP-BGP_ECMP_ANSIBLE", "bgpCtxAfPol", map[string]string{"maxEcmp": "8", "maxEcmpIbgp": "16", "eDist": "20"}},
		{tn + "/ctx-VRF_K8_C1/rsctxToBgpCtxAfPol-[BGP_ECMP_ANSIBLE]-ipv4-ucast", "fvRsCtxToBgpCtxAfPol", map[string]string{"af": "ipv4-ucast"}},
		{tn + "/brc-CNT_ANSIBLE/subj-SUBJ_ANSIBLE", "vzSubj", map[string]string{"revFltPorts": "yes", "consMatchT": "AtleastOne"}},
		{tn + "/brc-CNT_ANSIBLE/subj-SUBJ_ANSIBLE/rssubjFiltAtt-FLT_ANSIBLE", "vzRsSubjFiltAtt", map[string]string{"action": "permit", "directives": ""}},
		{tn + "/out-L3O_K8_C1/instP-EPG_ANSIBLE/rsprov-CNT_ANSIBLE", "fvRsProv", map[string]string{"matchT": "AtleastOne", "annotation": "orchestrator:ansible"}},
		{tn + "/out-L3O_K8_C1/instP-EPG_ANSIBLE/rscons-CNT_ANSIBLE", "fvRsCons", map[string]string{"prio": "unspecified"}},
		{"uni/l3dom-L3D_ANSIBLE", "l3extDomP", map[string]string{"name": "L3D_ANSIBLE"}},
		{tn2, "fvTenant", map[string]string{"descr": "made by ansible"}},
		{tn2 + "/ctx-VRF_ANSIBLE", "fvCtx", map[string]string{"pcEnfPref": "enforced", "pcEnfDir": "ingress"}},
		{l3o2, "l3extOut", map[string]string{"enforceRtctrl": "export", "annotation": "orchestrator:ansible"}},
		{l3o2 + "/rsectx", "l3extRsEctx", map[string]string{"tnFvCtxName": "VRF_ANSIBLE"}},
		{l3o2 + "/rsl3DomAtt", "l3extRsL3DomAtt", map[string]string{"tDn": "uni/l3dom-L3D_ANSIBLE"}},
		{l3o2 + "/bgpExtP", "bgpExtP", map[string]string{"descr": ""}},
		{lnp2, "l3extLNodeP", map[string]string{"tag": "yellow-green"}},
		{lnp2 + "/rsnodeL3OutAtt-[topology/pod-1/node-211]", "l3extRsNodeL3OutAtt", map[string]string{"rtrId": "10.211.0.1", "rtrIdLoopBack": "no"}},
		// Posted at lifp-[LIP_ANSIBLE], stored at the plain RN.
		{lnp2 + "/lifp-LIP_ANSIBLE", "l3extLIfP", map[string]string{"name": "LIP_ANSIBLE", "prio": "unspecified"}},
		{lnp2 + "/lifp-LIP_ANSIBLE/rsNdIfPol", "l3extRsNdIfPol", map[string]string{"tnNdIfPolName": ""}},
		{lnp2 + "/lifp-LIP_ANSIBLE/rsingressQosDppPol", "l3extRsIngressQosDppPol", map[string]string{"tnQosDppPolName": ""}},
		{lnp2 + "/lifp-LIP_ANSIBLE/rsegressQosDppPol", "l3extRsEgressQosDppPol", map[string]string{"tnQosDppPolName": ""}},
		{lnp2 + "/lifp-LIP_ANSIBLE/rspathL3OutAtt-[topology/pod-1/paths-211/pathep-[eth1/10]]", "l3extRsPathL3OutAtt",
			map[string]string{"ifInstT": "ext-svi", "encap": "vlan-2011", "addr": "10.211.11.1/24", "mtu": "9000", "mode": "regular"}},
		{tn2 + "/rttag-RTP_ANSIBLE", "l3extRouteTagPol", map[string]string{"tag": "1000"}},
	} {
		cls, attrs, ok := sim.Lookup(c.dn)
		if !ok || cls != c.class {
			t.Errorf("%s: got class %q (exists %v), want %s", c.dn, cls, ok, c.class)
			continue
		}
		// Containment: the parent is of a class the registry lets hold it.
		if p := emulator.ParentDN(c.dn); p != "" {
			pcls, _, _ := sim.Lookup(p)
			if !slices.Contains(emulator.Registry[cls].Parents, pcls) {
				t.Errorf("%s: %s under a %s, which may not contain it (parents %v)", c.dn, cls, pcls, emulator.Registry[cls].Parents)
			}
		}
		for k, v := range c.attrs {
			if attrs[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.dn, k, attrs[k], v)
			}
		}
	}
	if _, _, ok := sim.Lookup(lnp2 + "/lifp-[LIP_ANSIBLE]"); ok {
		t.Errorf("the bracketed RN lifp-[LIP_ANSIBLE] was stored as an object of its own")
	}

	// An object posted under a parent of the wrong class is refused with the
	// APIC's text ("Invalid request. Cannot contain child [child] under
	// parent [parent]", Troubleshooting Cisco Application Centric
	// Infrastructure, REST API, Symptom 5), and nothing of the POST stays.
	err = sim.Post(tn2, []byte(`{"fvTenant":{"attributes":{"name":"TEN_ANSIBLE"},"children":[
		{"l3extRouteTagPol":{"attributes":{"name":"RTP_OK"}}},
		{"l3extLNodeP":{"attributes":{"name":"LNP_MISPLACED"}}}]}}`))
	if err == nil || err.Error() != "400: Invalid request. Cannot contain child l3extLNodeP under parent fvTenant" {
		t.Errorf("a node profile posted under a tenant: %v, want the APIC's containment error", err)
	}
	for _, dn := range []string{tn2 + "/lnodep-LNP_MISPLACED", tn2 + "/rttag-RTP_OK"} {
		if _, _, ok := sim.Lookup(dn); ok {
			t.Errorf("%s exists after a refused POST", dn)
		}
	}
}
