package nxos

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/conformance"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

// blockOf returns a line of a running configuration, exactly as written
// (indentation included), with the lines under it (more indented); "" when
// the line is not there.
func blockOf(cfg, header string) string {
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	lines := strings.Split(cfg, "\n")
	for i, l := range lines {
		if l != header {
			continue
		}
		out := []string{l}
		for _, m := range lines[i+1:] {
			if strings.TrimSpace(m) == "" || indent(m) <= indent(l) {
				break
			}
			out = append(out, m)
		}
		return strings.Join(out, "\n")
	}
	return ""
}

func confPeer(sw, addr, node string, remote, local uint32) fabric.BGPPeer {
	return fabric.BGPPeer{Switch: sw, Node: node, PeerAddress: addr, RemoteASN: remote, LocalASN: local, AddressFamily: fabric.IPv4}
}

func confFilter(sw, addr, node string, rules ...fabric.PrefixRule) fabric.PrefixFilter {
	return fabric.PrefixFilter{Switch: sw, Node: node, PeerAddress: addr, Prefixes: append([]fabric.PrefixRule{}, rules...)}
}

// confPassword is the leaves' SSH password in the conformance run.
const confPassword = "nxos-conformance-pw-2718"

// The BGP session passwords of the conformance run, before and after the
// update: secrets the suite greps for.
const (
	confBGPPassword        = "nxos-conf-md5-3141"
	confBGPPasswordUpdated = "nxos-conf-md5-1618"
)

// withConfOptions gives a peer session options: a password, a prefix
// limit and timers, or TTL security and a maintenance shutdown.
func withConfOptions(p fabric.BGPPeer, pw string, limit uint32, action string) fabric.BGPPeer {
	p.PeerOptions = fabric.PeerOptions{Password: fabric.NewSecret(pw, fabric.PasswordSalt("conf-a", p.PeerAddress)),
		MaxPrefix: &fabric.MaxPrefix{Limit: limit, Action: action}, Keepalive: 3, Hold: 9}
	if action == fabric.MaxPrefixRestart {
		p.MaxPrefix.RestartMinutes = 5
	}
	return p
}

// TestConformance runs the driver conformance suite against two emulated
// Nexus leaves (test/nxossim), fresh for each behaviour.
func TestConformance(t *testing.T) {
	var l *lab
	var desired, updated fabric.State
	for _, sw := range leafNames {
		local := uint32(63500)
		if sw == "leaf202" {
			local = 63501 // a local-AS override
		}
		maint := confPeer(sw, "192.168.9.195", "k8c1s2", 63553, local)
		maint.TTLSecurityHops, maint.Shutdown = 1, true
		desired.Add(withConfOptions(confPeer(sw, "192.168.9.193", "k8c1m0", 63551, 63500), confBGPPassword, 20, fabric.MaxPrefixShutdown))
		desired.Add(confPeer(sw, "192.168.9.194", "k8c1s1", 63552, 63500))
		desired.Add(maint)
		desired.Add(confFilter(sw, "192.168.9.193", "k8c1m0", fabric.PrefixRule{Prefix: "172.27.114.0/26", LE: 26}, fabric.PrefixRule{Prefix: "172.29.0.0/16", LE: 32}))
		desired.Add(confFilter(sw, "192.168.9.194", "k8c1s1", fabric.PrefixRule{Prefix: "172.27.15.192/26", LE: 26}))
		desired.Add(confFilter(sw, "192.168.9.195", "k8c1s2")) // permits nothing
		desired.Add(fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv4, Paths: 3})

		updated.Add(withConfOptions(confPeer(sw, "192.168.9.193", "k8c1m0", 63551, 63500), confBGPPasswordUpdated, 30, fabric.MaxPrefixRestart))
		updated.Add(withConfOptions(confPeer(sw, "192.168.9.194", "k8c1s1", 63562, 63501), confBGPPassword, 10, fabric.MaxPrefixWarn))
		updated.Add(confPeer(sw, "192.168.9.196", "k8c1s3", 63554, 63500))
		updated.Add(confFilter(sw, "192.168.9.193", "k8c1m0", fabric.PrefixRule{Prefix: "172.27.114.0/26", LE: 28}))
		updated.Add(confFilter(sw, "192.168.9.194", "k8c1s1", fabric.PrefixRule{Prefix: "172.27.15.192/26", LE: 26}, fabric.PrefixRule{Prefix: "172.29.0.0/16", LE: 32}))
		updated.Add(confFilter(sw, "192.168.9.196", "k8c1s3", fabric.PrefixRule{Prefix: "172.27.200.0/26", LE: 26}))
		updated.Add(fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv4, Paths: 4})
	}
	conformance.Run(t, conformance.Harness{
		Driver: Name,
		Open: func(t *testing.T, opts drivers.Options) drivers.Driver {
			// Each cluster names its checkpoints after itself, as its own
			// configuration would.
			d, err := drivers.Open(l.fabric(t, func(f *config.Fabric) { nxosOf(f).SessionName = "" }), opts)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Reset: func(t *testing.T) { l = newLab(t, labOpts{password: confPassword}) },
		Dump: func(t *testing.T) string {
			var b strings.Builder
			for _, leaf := range leafNames {
				b.WriteString("== " + leaf + "\n" + l.body(t, leaf))
			}
			return b.String()
		},
		// docs/nxos.md, Limits: the router's address-family block made for
		// maximum-paths stays when the cluster stops managing it.
		Leftovers: []string{"  address-family ipv4 unicast"},
		Writes: func(t *testing.T) int {
			n := 0
			for _, leaf := range leafNames {
				n += len(configLines(l.sims[leaf]))
			}
			return n
		},

		Desired: desired,
		Updated: updated,
		HandMake: func(t *testing.T) ([]fabric.Key, func(*testing.T) string) {
			if err := l.sims["leaf201"].Configure("router bgp 63500",
				"neighbor 192.168.9.193", "remote-as 65193", "description set by hand", "exit",
				"address-family ipv4 unicast", "maximum-paths 2", "exit"); err != nil {
				t.Fatal(err)
			}
			show := func(t *testing.T) string {
				body := l.body(t, "leaf201")
				return blockOf(body, "  neighbor 192.168.9.193") + "\n" + blockOf(body, "  address-family ipv4 unicast")
			}
			return []fabric.Key{
				{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193"},
				{Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: "192.168.9.193"},
				{Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv4"},
			}, show
		},
		Other: fabric.StateOf(
			confPeer("leaf202", "192.168.9.194", "k8c1s1", 63552, 63500),
			confFilter("leaf202", "192.168.9.194", "k8c1s1", fabric.PrefixRule{Prefix: "10.0.0.0/8", LE: 24}),
		),

		Refused: []fabric.Object{
			confPeer("leaf201", "192.168.9.197", "k8evil\nrouter bgp 1", 63557, 63500),
			confFilter("leaf201", "192.168.9.197", "k8evil\nrouter bgp 1", fabric.PrefixRule{Prefix: "172.27.97.0/26", LE: 26}),
		},
		RefusedText: "k8evil",
		// leaf201 refuses the new neighbor's remote-as line: the driver
		// rolls the switch back to its checkpoint.
		PlatformRefuses: func(t *testing.T) (fabric.Object, func()) {
			sim := l.sims["leaf201"]
			sim.SetFaults(nxossim.Faults{RejectLines: []nxossim.RejectRule{{Match: regexp.MustCompile(`^remote-as 65198$`)}}})
			return confPeer("leaf201", "192.168.9.198", "k8c1s8", 65198, 63500), func() { sim.SetFaults(nxossim.Faults{}) }
		},
		Refusal:    conformance.RefusalFailsSwitch,
		Lock:       conformance.LockRequired,
		ApplyBasis: conformance.ApplyReadsFabric,
		Secrets:    []string{confPassword, confBGPPassword, confBGPPasswordUpdated},
	})
}
