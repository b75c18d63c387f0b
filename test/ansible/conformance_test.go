// Package ansible runs real Ansible cisco.aci playbooks against the APIC
// emulator: the emulator must be indistinguishable from an APIC for them.
package ansible

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

const password = "ansible-lab-pw"

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
	if first.failed != 0 || first.unreachable != 0 || first.ok != 7 || first.changed != 7 {
		t.Fatalf("first run: %+v, want ok=7 changed=7 failed=0:\n%s", first, out1)
	}
	if got := sim.Counters().Logins; got != 7 {
		t.Errorf("the first run logged in %d times, want one login per task (7)", got)
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
	if second.failed != 0 || second.ok != 7 || second.changed != 0 {
		t.Fatalf("second run is not idempotent: %+v, want ok=7 changed=0:\n%s", second, out2)
	}
	after := sim.Counters()
	// Six modules read twice (existing, then current); aci_rest posts once.
	if after.Logins != before.Logins || after.BadSignatures != 0 || after.SignedRequests-before.SignedRequests != 13 {
		t.Errorf("second run: %d logins, %d bad signatures, %d signed requests; want 0, 0, 13",
			after.Logins-before.Logins, after.BadSignatures, after.SignedRequests-before.SignedRequests)
	}
	if strings.Contains(out1+out2, password) {
		t.Errorf("the password appears in Ansible's output")
	}

	// What the modules left in the tree, as an APIC would hold it.
	tn := "uni/tn-TEN_K8_C1"
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
	} {
		cls, attrs, ok := sim.Lookup(c.dn)
		if !ok || cls != c.class {
			t.Errorf("%s: got class %q (exists %v), want %s", c.dn, cls, ok, c.class)
			continue
		}
		for k, v := range c.attrs {
			if attrs[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.dn, k, attrs[k], v)
			}
		}
	}
}
