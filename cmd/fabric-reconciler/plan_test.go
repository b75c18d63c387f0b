package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var (
	haystack    = filepath.Join(testenv.RepoRoot(), "examples", "haystack")
	haystackCfg = filepath.Join(haystack, "fabric.yaml")
	haystackCS  = filepath.Join(haystack, "cluster")
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestHaystackPlanGolden pins the reference lab's plan in every output format.
func TestHaystackPlanGolden(t *testing.T) {
	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := run(t, "plan", "--offline", "--config", haystackCfg, "--cluster-state", haystackCS, "-o", format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			ext := map[string]string{"text": "txt", "json": "json", "markdown": "md"}[format]
			testenv.Golden(t, "haystack-aci.plan."+ext, out)
		})
	}
}

// TestHaystackPlanContent checks the reference lab's facts in the JSON plan, so the
// golden file cannot drift into something wrong unnoticed.
func TestHaystackPlanContent(t *testing.T) {
	out, _, code := run(t, "plan", "--offline", "--config", haystackCfg, "--cluster-state", haystackCS, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	p, err := fabric.ParsePlan([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fabrics) != 1 || len(p.Skipped) != 0 {
		t.Fatalf("plan: %d fabrics, skipped %v", len(p.Fabrics), p.Skipped)
	}
	count := map[fabric.Kind]int{}
	var asns, subnets, contracts []string
	for _, c := range p.Fabrics[0].Changes {
		if c.Action != fabric.ActionCreate {
			t.Errorf("empty fabric, yet %s %s", c.Action, c.Key())
		}
		count[c.Kind]++
		switch o := c.After.(type) {
		case fabric.BGPPeer:
			asns = append(asns, c.Switch+":"+o.PeerAddress+":"+jsonString(o.RemoteASN)+"/"+jsonString(o.LocalASN))
		case fabric.ExternalSubnet:
			subnets = append(subnets, o.Group+" "+o.Prefix)
		case fabric.Contract:
			contracts = append(contracts, o.Name+" "+o.Entries[0].String()+" "+strings.Join(o.Consumers, ","))
		case fabric.MaximumPaths:
			// Three nodes need 3, but ACI's VRF-wide default of 16 is kept.
			if o.Paths != 16 {
				t.Errorf("maximum-paths %d, want 16", o.Paths)
			}
		}
	}
	if count[fabric.KindBGPPeer] != 6 || count[fabric.KindContract] != 2 || count[fabric.KindMaximumPaths] != 1 {
		t.Errorf("kinds: %v", count)
	}
	for _, want := range []string{"leaf201:192.168.9.193:63551/63500", "leaf202:192.168.9.195:63553/63500"} {
		if !strings.Contains(strings.Join(asns, " "), want) {
			t.Errorf("peers %v lack %s", asns, want)
		}
	}
	for _, want := range []string{"EPG_K8_NODES 192.168.9.192/28", "EPG_K8_PODS 172.27.0.0/16", "EPG_K8_APP_MULTICAST_MCAST 172.29.0.6/32",
		"EPG_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD 172.29.0.7/32", "L3O_EXTERNAL/EPG_TRANSIT_OUT_K8_CIDRS 172.29.0.0/16"} {
		if !strings.Contains(strings.Join(subnets, ","), want) {
			t.Errorf("subnets %v lack %s", subnets, want)
		}
	}
	if strings.Join(contracts, ";") != "CNT_K8_APP_KUBERNETES-DASHBOARD_KUBERNETES-DASHBOARD tcp/443 L3O_EXTERNAL/EPG_DEFAULT;CNT_K8_APP_MULTICAST_MCAST tcp/80 L3O_EXTERNAL/EPG_DEFAULT" {
		t.Errorf("contracts: %v", contracts)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestPlanExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: broken}\nspec: {cidr: 10.0.0.0/40}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A saved observation that holds exactly what the cluster wants.
	inSync := filepath.Join(dir, "in-sync.json")
	out, _, _ := run(t, "plan", "--offline", "--config", haystackCfg, "--cluster-state", haystackCS, "-o", "json")
	p, err := fabric.ParsePlan([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var owned fabric.State
	for _, c := range p.Fabrics[0].Changes {
		owned.Add(c.After)
	}
	snap := fabric.Snapshot{FormatVersion: 1, Fabrics: []fabric.SnapshotFabric{fabric.NewSnapshotFabric("haystack-aci", fabric.Observed{Owned: owned})}}
	b, _ := json.Marshal(snap)
	if err := os.WriteFile(inSync, b, 0o644); err != nil {
		t.Fatal(err)
	}

	base := []string{"plan", "--config", haystackCfg, "--cluster-state", haystackCS}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"changes, plain", []string{"--offline"}, 0, "Plan: 23 to add, 0 to change, 0 to destroy.", ""},
		{"changes, detailed", []string{"--offline", "--detailed-exitcode"}, 2, "23 to add", ""},
		{"in sync, detailed", []string{"--fabric-state", inSync, "--detailed-exitcode"}, 0, "No changes", ""},
		{"skipped input", []string{"--offline", "--cluster-state", bad}, 1, "IPPool/broken", "skipped as bad"},
		{"skipped input allowed", []string{"--offline", "--cluster-state", bad, "--allow-skips"}, 0, "Skipped (bad input", ""},
		{"skipped input allowed, detailed", []string{"--offline", "--cluster-state", bad, "--allow-skips", "--detailed-exitcode"}, 2, "", ""},
		{"bad format", []string{"--offline", "-o", "yaml"}, 1, "", `-o "yaml"`},
		{"offline and fabric state", []string{"--offline", "--fabric-state", inSync}, 1, "", "exclude each other"},
		{"unknown fabric", []string{"--offline", "--fabric", "nope"}, 1, "", `--fabric "nope": no such fabric`},
		{"missing fabric state", []string{"--fabric-state", filepath.Join(dir, "missing.json")}, 1, "", "missing.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, append(append([]string{}, base...), tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}

func TestPlanNeedsInputs(t *testing.T) {
	// Without --cluster-state plan reads the cluster kubectl would: there
	// is none here.
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBECONFIG", "")
	noHomeKubeconfig(t)
	for _, args := range [][]string{
		{"plan", "--offline", "--cluster-state", haystackCS},
		{"plan", "--offline", "--config", haystackCfg},
		{"plan", "--offline", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--cluster-state", haystackCS},
	} {
		if _, errOut, code := run(t, args...); code != 1 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a message", args, code, errOut)
		}
	}
}
