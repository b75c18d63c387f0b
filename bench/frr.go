package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/lab"
)

// The bench's own lab, so it never shares one with a test run: namespaces
// frbench-*, SSH forwarders on 127.0.0.1:2701/2702.
const (
	benchLab       = "frbench"
	benchPortShift = 500
	frrNewNodes    = 100
)

var appliedRe = regexp.MustCompile(`applied (\d+) change`)

// frrSection: on the FRR lab (two FRR leaves in network namespaces, root),
// a sync that adds 100 nodes (a neighbour and its prefix filter on each
// leaf), and a sync that finds nothing to change.
func frrSection(e *env) (string, error) {
	var b strings.Builder
	b.WriteString("\n## FRR: `sync` on the lab (test/lab: two FRR 8.4 leaves in network namespaces, SSH on loopback)\n\n")
	b.WriteString(fmt.Sprintf("Each run resets the leaves to their baseline and converges the reference cluster (untimed); then *%d neighbours* syncs the cluster plus %d nodes ", frrNewNodes, frrNewNodes))
	b.WriteString("(each a Calico Node with BGPPeers to both leaves and an IPAM block: on each leaf a neighbour, its inbound prefix list and route map), ")
	b.WriteString("and *no change* syncs the same again. Wall time of the whole command (process start, SSH logins to both leaves in parallel, observe, apply).\n\n")
	b.WriteString("| Sync | Wall time | Changes applied |\n|---|---|---|\n")
	if os.Geteuid() != 0 {
		return b.String(), errors.New("needs root (network namespaces): run make bench as root")
	}
	l, err := lab.New(benchLab, benchPortShift)
	if err != nil {
		return b.String(), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := l.Lock(ctx); err != nil {
		return b.String(), err
	}
	defer l.Unlock()
	e.log("frr: bringing lab %s up", benchLab)
	if err := l.Up(ctx); err != nil {
		return b.String(), err
	}
	if l.Started {
		defer func() {
			dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
			defer dcancel()
			if err := l.Down(dctx); err != nil {
				e.log("frr: lab down: %v", err)
			}
		}()
	}
	cfg, err := frrConfig(e, l)
	if err != nil {
		return b.String(), err
	}
	nodes := filepath.Join(e.tmp, "frr-100-nodes.yaml")
	if err := frrNodes(nodes, frrNewNodes); err != nil {
		return b.String(), err
	}
	base := []string{filepath.Join(e.root, "examples", "haystack", "cluster"), filepath.Join(lab.Dir(), "cluster")}
	runs := 3
	if e.quick {
		runs = 1
	}
	var add, noop sample
	var addN, noopN string
	for i := 0; i < runs; i++ {
		if err := l.Reset(ctx); err != nil {
			return b.String(), err
		}
		if _, _, err := e.sync(cfg, base...); err != nil {
			return b.String(), err
		}
		d, out, err := e.sync(cfg, append(base, nodes)...)
		if err != nil {
			return b.String(), err
		}
		add = append(add, ms(d))
		addN = applied(out)
		d, out, err = e.sync(cfg, append(base, nodes)...)
		if err != nil {
			return b.String(), err
		}
		noop = append(noop, ms(d))
		noopN = applied(out)
	}
	if err := l.Reset(ctx); err != nil {
		e.log("frr: reset: %v", err)
	}
	fmt.Fprintf(&b, "| %d neighbours with their filters | %s | %s |\n", frrNewNodes, add.format(0, "ms"), addN)
	fmt.Fprintf(&b, "| no change | %s | %s |\n", noop.format(0, "ms"), noopN)
	return b.String(), nil
}

func applied(out string) string {
	var parts []string
	for _, m := range appliedRe.FindAllStringSubmatch(out, -1) {
		parts = append(parts, m[1])
	}
	if len(parts) == 0 {
		return "0 (already converged)"
	}
	return strings.Join(parts, " + ") + " (per fabric)"
}

// frrConfig is examples/haystack/fabric-frr.yaml pointed at the bench's lab.
func frrConfig(e *env, l *lab.Lab) (string, error) {
	b, err := os.ReadFile(filepath.Join(e.root, "examples", "haystack", "fabric-frr.yaml"))
	if err != nil {
		return "", err
	}
	cfg := string(b)
	for old, new := range map[string]string{
		"address: 127.0.0.1:2201":                                   "address: " + l.Address("leaf201"),
		"address: 127.0.0.1:2202":                                   "address: " + l.Address("leaf202"),
		"passwordFile: secrets/frr-password":                        "passwordFile: " + lab.PasswordFile(),
		"knownHostsFile: ../../test/lab/run/frlab/keys/known_hosts": "knownHostsFile: " + l.KnownHosts(),
	} {
		if !strings.Contains(cfg, old) {
			return "", fmt.Errorf("examples/haystack/fabric-frr.yaml no longer holds %q", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	p := filepath.Join(e.tmp, "fabric-frr.yaml")
	return p, os.WriteFile(p, []byte(cfg), 0o644)
}

// frrNodes writes n Calico nodes peering with both leaves, each with an
// IPAM block (10.77.0.0/16 addresses, 172.27.128.0/17 blocks).
func frrNodes(path string, n int) error {
	var b strings.Builder
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-%d", i)
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Node
metadata:
  name: %[1]s
  labels: {kubernetes.io/hostname: %[1]s}
  annotations: {projectcalico.org/IPv4Address: 10.77.%[2]d.%[3]d/16, projectcalico.org/ASNumber: "%[4]d"}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: leaf201-%[1]s}
spec: {peerIP: 192.168.9.204, asNumber: 63500, node: %[1]s}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: leaf202-%[1]s}
spec: {peerIP: 192.168.9.205, asNumber: 63500, node: %[1]s}
---
apiVersion: crd.projectcalico.org/v1
kind: IPAMBlock
metadata: {name: bench-block-%[5]d}
spec: {cidr: 172.27.%[5]d.0/26, affinity: "host:%[1]s", strictAffinity: false}
`, name, i/250, 1+i%250, 64000+i, 128+i)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
