package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// The reference lab's baseline with hand-built peers, as the network team made
// them before automation: three identical to what the tool would write
// (leaf201 and leaf202 to k8c1m0, leaf201 to k8c1s2; local-AS 63500 on the
// fabric's AS 65000, as the reference lab shows), one with another
// remote AS (leaf201 to k8c1s1) and one with a local-AS override (leaf202
// to k8c1s1). leaf202 to k8c1s2 is missing.
const handBuiltPeers = "testdata/aci/handbuilt-peers.json"

var (
	peersDN = tenantDN + "/out-L3O_K8_C1/lnodep-LNP_K8_C1/lifp-LIP_K8_C1"
	leafDN  = func(leaf, addr string) string {
		return peersDN + "/rspathL3OutAtt-[topology/pod-1/paths-" + leaf + "/pathep-[eth1/33]]/peerP-[" + addr + "]"
	}
	identicalPeers = []string{leafDN("201", "192.168.9.193"), leafDN("202", "192.168.9.193"), leafDN("201", "192.168.9.195")}
	differentPeers = []string{leafDN("201", "192.168.9.194"), leafDN("202", "192.168.9.194")}
)

func newHandBuiltLab(t *testing.T) *aciLab {
	t.Helper()
	l := newACILab(t, labOpts{})
	b, err := os.ReadFile(handBuiltPeers)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.sim.Post(tenantDN, b); err != nil {
		t.Fatalf("hand-built peers: %v", err)
	}
	return l
}

func (l *aciLab) annotation(t *testing.T, dn string) string {
	t.Helper()
	_, attrs, ok := l.sim.Lookup(dn)
	if !ok {
		t.Fatalf("%s is missing", dn)
	}
	return attrs["annotation"]
}

// TestAdoptReferenceLabHandBuiltPeers: adopt on the reference lab's baseline with its
// hand-built peers adopts exactly the identical ones, only after review
// (a saved plan applied, or --yes), and afterwards a plan shows them as
// owned with no change; the differing ones stay conflicts that say what
// differs, byte for byte as they were. plan and sync never adopt.
func TestAdoptReferenceLabHandBuiltPeers(t *testing.T) {
	const mark = "orchestrator:fabric-reconciler.haystack"
	for _, c := range []struct {
		name  string
		adopt func(t *testing.T, l *aciLab) cliRun
	}{
		{"saved plan, then apply", func(t *testing.T, l *aciLab) cliRun {
			p := filepath.Join(t.TempDir(), "adopt.plan")
			r := l.cli(t, "adopt", "--out", p)
			if r.code != 0 || !strings.Contains(r.stdout, "Nothing was changed") {
				t.Fatalf("adopt --out: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			return l.cli(t, "apply", p)
		}},
		{"--yes", func(t *testing.T, l *aciLab) cliRun { return l.cli(t, "adopt", "--yes") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newHandBuiltLab(t)
			before := l.tenant(t)

			// Review: the plan lists exactly the identical peers; nothing changes.
			r := l.cli(t, "adopt")
			if r.code != 0 {
				t.Fatalf("adopt: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, want := range []string{"@ BGPPeer 192.168.9.193", "@ BGPPeer 192.168.9.195", "3 to adopt",
				"! BGPPeer leaf201/192.168.9.194: an object without an ownership mark is in the way and differs from the desired one (remoteASN 63599 on the fabric, 63552 desired)",
				"! BGPPeer leaf202/192.168.9.194: an object without an ownership mark is in the way and differs from the desired one (localASN 65000 on the fabric, 63500 desired)"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("adopt output lacks %q:\n%s", want, r.stdout)
				}
			}
			if l.tenant(t) != before {
				t.Fatal("adopt without --yes or apply changed the tenant")
			}
			// Neither plan nor sync adopts.
			if p := planJSON(t, l); p.Summary().Adopt != 0 || len(p.Fabrics[0].Conflicts) != 5 {
				t.Fatalf("plan: %+v", p.Fabrics[0])
			}

			r = c.adopt(t, l)
			if r.code != 0 || !strings.Contains(r.stdout, "annotated for 3 adoption(s)") {
				t.Fatalf("adopt: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, dn := range identicalPeers {
				for _, x := range []string{dn, dn + "/as"} {
					if got := l.annotation(t, x); got != mark {
						t.Errorf("%s: annotation %q, want %q", x, got, mark)
					}
				}
			}
			for _, dn := range differentPeers {
				for _, x := range []string{dn, dn + "/as"} {
					if got := l.annotation(t, x); got != "" {
						t.Errorf("%s (differs) was adopted: %q", x, got)
					}
				}
			}

			// Afterwards: the adopted peers are owned, with no change; the
			// differing ones are still conflicts; nothing left to adopt.
			p := planJSON(t, l)
			f := p.Fabrics[0]
			for _, ch := range f.Changes {
				if ch.Kind == fabric.KindBGPPeer && ch.Key().String() != "BGPPeer leaf202/192.168.9.195" {
					t.Errorf("plan after adopt changes %s %s", ch.Action, ch.Key())
				}
			}
			var conflicts []string
			for _, cf := range f.Conflicts {
				if cf.Kind == fabric.KindBGPPeer {
					conflicts = append(conflicts, cf.Switch+"/"+cf.ID)
				}
			}
			if strings.Join(conflicts, ",") != "leaf201/192.168.9.194,leaf202/192.168.9.194" {
				t.Errorf("peer conflicts after adopt: %v", conflicts)
			}
			if r := l.cli(t, "adopt"); r.code != 0 || !strings.Contains(r.stdout, "Nothing to adopt") {
				t.Errorf("second adopt: exit %d:\n%s", r.code, r.stdout)
			}
		})
	}
}

// TestAdoptRefusedWhenChanged: a saved adoption is not applied when a
// hand-built peer changed after it was planned; nothing is adopted.
func TestAdoptRefusedWhenChanged(t *testing.T) {
	l := newHandBuiltLab(t)
	p := filepath.Join(t.TempDir(), "adopt.plan")
	if r := l.cli(t, "adopt", "--out", p); r.code != 0 {
		t.Fatalf("adopt --out: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	l.sim.SetAttr(leafDN("201", "192.168.9.193")+"/as", "asn", "63500")
	before := l.tenant(t)
	r := l.cli(t, "apply", p)
	if r.code != 1 || !strings.Contains(r.stdout, "BGPPeer leaf201/192.168.9.193 (not ours) is gone or changed") {
		t.Fatalf("apply: exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if l.tenant(t) != before {
		t.Fatal("a refused adoption changed the tenant")
	}
}
