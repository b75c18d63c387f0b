package reconciler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// The options of each session: the password from the Secret its BGPPeer
// names (else the fabric's password file), the fabric's timers, an
// automatic prefix limit from what the node may send, the BGPPeer's TTL
// security and restart time, and a maintenance shutdown.
func TestPeerOptions(t *testing.T) {
	const pw, fabricPW = "BGP-MD5-KIWI-4410", "FABRIC-PW-0001"
	dir := testenv.HaystackCluster(t, func(dir string) {
		testenv.ReplaceInFile(t, filepath.Join(dir, "calico.yaml"), "    name: leaf201-k8c1m0\n  spec:\n",
			"    name: leaf201-k8c1m0\n  spec:\n    password: {secretKeyRef: {name: bgp, key: leaf201}}\n    ttlSecurity: 1\n    maxRestartTime: 90s\n")
		if err := os.WriteFile(filepath.Join(dir, "secret.yaml"), []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: bgp, namespace: calico-system}\nstringData: {leaf201: "+pw+"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(fabricPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := frrConfig(t, "  bgp: {passwordFile: "+pwFile+", keepalive: 3, hold: 9, maxPrefix: {limit: auto, action: restart, restartMinutes: 5}, shutdown: [k8c1s2]}\n")
	tr := &translator{cs: load(t, dir), cfg: cfg, skippedNodes: map[string]bool{}, skippedServices: map[string]bool{}}
	tr.checkPrefixes()
	tr.peers = tr.resolvePeers()
	tr.services = tr.checkServices()
	in := tr.intent(&cfg.Fabrics[0])
	if len(tr.skips) != 0 || len(in.Sessions) != 6 {
		t.Fatalf("skips %v, %d sessions", tr.skips, len(in.Sessions))
	}
	for _, s := range in.Sessions {
		o := s.Options
		salt := "haystack/" + s.NodeAddress.Addr().String()
		wantPW := fabric.Fingerprint(fabricPW, salt)
		if s.Switch == "leaf201" && s.Node == "k8c1m0" {
			wantPW = fabric.Fingerprint(pw, salt)
			if o.TTLSecurityHops != 1 || o.GracefulRestart != 90 {
				t.Errorf("%s/%s: %+v, want TTL security 1 and restart 90s from its BGPPeer", s.Switch, s.Node, o)
			}
		}
		if o.Password.Fingerprint() != wantPW || o.Password.Value() == "" {
			t.Errorf("%s/%s: password %v, want fingerprint %s", s.Switch, s.Node, o.Password, wantPW)
		}
		if o.Keepalive != 3 || o.Hold != 9 || o.Shutdown != (s.Node == "k8c1s2") {
			t.Errorf("%s/%s: %+v", s.Switch, s.Node, o)
		}
		// One block and the LB range, with headroom: max(2*2, 2+10) = 12;
		// a Local service's /32 on the nodes with its endpoints.
		if o.MaxPrefix == nil || o.MaxPrefix.Action != fabric.MaxPrefixRestart || o.MaxPrefix.Limit < 12 || o.MaxPrefix.Limit > 14 {
			t.Errorf("%s/%s: max prefix %v", s.Switch, s.Node, o.MaxPrefix)
		}
	}

	// A BGPPeer whose password Secret is not in the input: its sessions are
	// skipped (and so held), never configured without the password.
	if err := os.Remove(filepath.Join(dir, "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	d := Translate(load(t, dir), cfg, TranslateOptions{})
	found := false
	for _, s := range d.Skipped {
		found = found || (s.Object == "BGPPeer/leaf201-k8c1m0" && strings.Contains(s.Reason, "Secret calico-system/bgp key leaf201"))
	}
	if !found {
		t.Errorf("skipped %+v", d.Skipped)
	}
	for _, p := range d.Fabrics[0].State.Peers {
		if p.Switch == "leaf201" && p.Node == "k8c1m0" {
			t.Errorf("a session without its password is planned: %+v", p)
		}
	}
}

// In listen peering (FRR) each switch gets one group: the nodes' subnet,
// and one filter that lets any node send any block of the pool and the
// service ranges.
func TestListenPeering(t *testing.T) {
	cfg := frrConfig(t, "  peering: listen\n  bgp: {hold: 9, maxPrefix: {limit: 50}}\n")
	d := Translate(load(t, testenv.HaystackCluster(t, nil)), cfg, TranslateOptions{})
	st := d.Fabrics[0].State
	if len(st.Peers) != 0 || len(st.PrefixFilters) != 0 || len(st.Listens) != 2 {
		t.Fatalf("state %+v (skipped %+v)", st, d.Skipped)
	}
	for _, l := range st.Listens {
		var rules []string
		for _, r := range l.Prefixes {
			rules = append(rules, r.String())
		}
		if strings.Join(l.Ranges, ",") != "192.168.9.192/28" || l.RemoteAS != fabric.RemoteASExternal || l.LocalASN != 63500 ||
			strings.Join(rules, ",") != "172.27.0.0/16 le 26,172.29.0.0/16 le 32" || l.Hold != 9 || l.Keepalive != 3 || l.MaxPrefix.Limit != 50 || l.Limit != 100 {
			t.Errorf("%s: %+v", l.Switch, l)
		}
	}
	if len(st.MaximumPaths) != 2 || st.MaximumPaths[0].Paths != 3 {
		t.Errorf("maximum-paths %+v", st.MaximumPaths)
	}
}
