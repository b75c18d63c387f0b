package frr

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/conformance"
	"github.com/fabric-reconciler/fabric-reconciler/test/lab"
)

// lineCount counts the configuration lines an FRR driver reports accepted
// ("line accepted" at debug level): the lab's vtysh keeps no command log,
// so this is how the conformance run counts writes.
type lineCount struct {
	slog.Handler
	n *atomic.Int64
}

func (h lineCount) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "line accepted" {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h lineCount) WithAttrs(a []slog.Attr) slog.Handler {
	return lineCount{h.Handler.WithAttrs(a), h.n}
}
func (h lineCount) WithGroup(g string) slog.Handler { return lineCount{h.Handler.WithGroup(g), h.n} }

func confPeer(sw, addr, node string, remote, local uint32) fabric.BGPPeer {
	return fabric.BGPPeer{Switch: sw, Node: node, PeerAddress: addr, RemoteASN: remote, LocalASN: local,
		AddressFamily: fabric.FamilyOf(netip.MustParseAddr(addr))}
}

func confFilter(sw, addr, node string, rules ...fabric.PrefixRule) fabric.PrefixFilter {
	return fabric.PrefixFilter{Switch: sw, Node: node, PeerAddress: addr, Prefixes: append([]fabric.PrefixRule{}, rules...)}
}

// The BGP session passwords of the conformance run, before and after the
// update: secrets the suite greps for. FRR prints them in clear in its
// running configuration, so Dump masks them.
const (
	confBGPPassword        = "frr-conf-md5-2718"
	confBGPPasswordUpdated = "frr-conf-md5-1414"
)

// withConfOptions gives a peer session options: a password (salted for the
// cluster under test, conf-a), a prefix limit and timers.
func withConfOptions(p fabric.BGPPeer, pw string, limit uint32, action string) fabric.BGPPeer {
	p.PeerOptions = fabric.PeerOptions{Password: fabric.NewSecret(pw, fabric.PasswordSalt("conf-a", p.PeerAddress)),
		MaxPrefix: &fabric.MaxPrefix{Limit: limit, Action: action}, Keepalive: 3, Hold: 9}
	if action == fabric.MaxPrefixRestart {
		p.MaxPrefix.RestartMinutes = 5
	}
	return p
}

// TestConformance runs the driver conformance suite against the real FRR
// leaves of the driver tests' lab, reset before each behaviour.
func TestConformance(t *testing.T) {
	var (
		l     *lab.Lab
		lines atomic.Int64
	)
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		return c
	}
	running := func(t *testing.T, leaf string) string {
		c, err := l.RunningConfig(ctx(t), leaf)
		if err != nil {
			t.Fatal(err)
		}
		// A dump may be printed when a behaviour fails: FRR shows the
		// passwords in clear.
		for i, pw := range []string{confBGPPassword, confBGPPasswordUpdated} {
			c = strings.ReplaceAll(c, " password "+pw+"\n", fmt.Sprintf(" password (masked %d)\n", i+1))
		}
		return c
	}
	var desired, updated fabric.State
	for _, sw := range []string{"leaf201", "leaf202"} {
		maint := confPeer(sw, "2001:db8::9", "k8v6", 65009, 63500)
		maint.TTLSecurityHops, maint.Shutdown = 1, true
		desired.Add(withConfOptions(confPeer(sw, "192.168.9.193", "k8c1m0", 63551, 63500), confBGPPassword, 20, fabric.MaxPrefixShutdown))
		desired.Add(confPeer(sw, "192.168.9.194", "k8c1s1", 63552, 63501)) // a local-AS override
		desired.Add(maint)
		desired.Add(confFilter(sw, "192.168.9.193", "k8c1m0", fabric.PrefixRule{Prefix: "172.27.114.0/26", LE: 26}, fabric.PrefixRule{Prefix: "172.29.0.0/16", LE: 32}))
		desired.Add(confFilter(sw, "192.168.9.194", "k8c1s1")) // permits nothing
		desired.Add(confFilter(sw, "2001:db8::9", "k8v6", fabric.PrefixRule{Prefix: "2001:db8:1::/64", LE: 64}))
		desired.Add(fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv4, Paths: 3})
		desired.Add(fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv6, Paths: 2})

		updated.Add(withConfOptions(confPeer(sw, "192.168.9.193", "k8c1m0", 63551, 63500), confBGPPasswordUpdated, 30, fabric.MaxPrefixRestart))
		updated.Add(withConfOptions(confPeer(sw, "192.168.9.194", "k8c1s1", 63562, 63500), confBGPPassword, 10, fabric.MaxPrefixWarn))
		updated.Add(confPeer(sw, "192.168.9.195", "k8c1s2", 63553, 63500))
		updated.Add(confFilter(sw, "192.168.9.193", "k8c1m0", fabric.PrefixRule{Prefix: "172.27.114.0/26", LE: 28}))
		updated.Add(confFilter(sw, "192.168.9.194", "k8c1s1", fabric.PrefixRule{Prefix: "172.27.15.192/26", LE: 26}))
		updated.Add(confFilter(sw, "192.168.9.195", "k8c1s2", fabric.PrefixRule{Prefix: "172.27.111.192/26", LE: 26}))
		updated.Add(fabric.MaximumPaths{Switch: sw, AddressFamily: fabric.IPv4, Paths: 4})
	}
	pw, err := config.ReadSecretFile(lab.PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	conformance.Run(t, conformance.Harness{
		Driver: Name,
		Open: func(t *testing.T, opts drivers.Options) drivers.Driver {
			opts.Logger = slog.New(lineCount{opts.Logger.Handler(), &lines})
			env := &labEnv{lab: l}
			d, err := drivers.Open(env.fabric(nil), opts)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		// One lab for the whole run (the package's, brought up once);
		// each behaviour restarts the leaves on their baseline.
		Reset: func(t *testing.T) {
			l = lab.Shared(t, driverLab, driverPortShift)
			if err := l.Reset(ctx(t)); err != nil {
				t.Fatal(err)
			}
		},
		Dump: func(t *testing.T) string {
			return "== leaf201\n" + running(t, "leaf201") + "== leaf202\n" + running(t, "leaf202")
		},
		Writes: func(t *testing.T) int { return int(lines.Load()) },

		Desired: desired,
		Updated: updated,
		HandMake: func(t *testing.T) ([]fabric.Key, func(*testing.T) string) {
			if err := l.Configure(ctx(t), "leaf201", "router bgp 63500",
				"neighbor 192.168.9.193 remote-as 65193", "neighbor 192.168.9.193 description set by hand",
				"address-family ipv6 unicast", "maximum-paths 4"); err != nil {
				t.Fatal(err)
			}
			show := func(t *testing.T) string {
				var out []string
				inV6 := false
				for _, line := range strings.Split(running(t, "leaf201"), "\n") {
					switch {
					case line == " address-family ipv6 unicast":
						inV6 = true
					case line == " exit-address-family":
						inV6 = false
					}
					if strings.Contains(line, "192.168.9.193") || inV6 && strings.HasPrefix(line, "  maximum-paths") {
						out = append(out, line)
					}
				}
				return strings.Join(out, "\n")
			}
			return []fabric.Key{
				{Kind: fabric.KindBGPPeer, Switch: "leaf201", ID: "192.168.9.193"},
				{Kind: fabric.KindPrefixFilter, Switch: "leaf201", ID: "192.168.9.193"},
				{Kind: fabric.KindMaximumPaths, Switch: "leaf201", ID: "ipv6"},
			}, show
		},
		Other: fabric.StateOf(
			confPeer("leaf202", "192.168.9.194", "k8c1s1", 63552, 63501),
			confFilter("leaf202", "192.168.9.194", "k8c1s1", fabric.PrefixRule{Prefix: "10.0.0.0/8", LE: 24}),
			fabric.MaximumPaths{Switch: "leaf202", AddressFamily: fabric.IPv4, Paths: 3},
		),

		Refused: []fabric.Object{
			confPeer("leaf201", "192.168.9.197", "k8evil\nrouter bgp 1", 63557, 63500),
			confFilter("leaf201", "192.168.9.197", "k8evil\nrouter bgp 1", fabric.PrefixRule{Prefix: "172.27.97.0/26", LE: 26}),
		},
		RefusedText: "k8evil",
		// FRR takes local-as for eBGP neighbors only: an iBGP node (its
		// AS is the leaf's) with another local AS passes the driver's
		// grammar and is refused by bgpd at the local-as line, the
		// neighbor's last.
		PlatformRefuses: func(t *testing.T) (fabric.Object, func()) {
			return confPeer("leaf201", "192.168.9.198", "k8c1s8", 63500, 63502), func() {}
		},
		Refusal:    conformance.RefusalStopsSwitch,
		Lock:       conformance.LockHeldByOtherRefused,
		ApplyBasis: conformance.ApplyReadsFabric,
		Secrets:    []string{pw, confBGPPassword, confBGPPasswordUpdated},
		Timeout:    5 * time.Minute,
	})
}
