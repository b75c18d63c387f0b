package reconciler

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// DefaultCalicoNamespace is where calico-node runs with the Tigera
// operator: a BGPPeer's password Secret is looked up there (Calico: "a key
// of a secret in the node pod's namespace").
const DefaultCalicoNamespace = "calico-system"

// peerOptions derives how a session runs: the fabric's session defaults
// (the timers), the password the node's BGPPeer names (else the fabric's),
// the fabric's prefix limit, the BGPPeer's TTL security and graceful
// restart time, and a maintenance shutdown.
func (t *translator) peerOptions(f *config.Fabric, fp fabricPeer, allowed []fabric.PrefixRule) (fabric.PeerOptions, error) {
	o := f.BGP.SessionDefaults.Options()
	bp, _ := t.cs.BGPPeer(fp.BGPPeer)
	salt := fabric.PasswordSalt(t.cfg.Cluster, fp.NodeAddress.Addr().String())
	switch {
	case bp.Password != nil:
		ns := t.opts.CalicoNamespace
		if ns == "" {
			ns = DefaultCalicoNamespace
		}
		v, ok := t.cs.Secret(ns, *bp.Password)
		if !ok {
			return o, fmt.Errorf("its password is in Secret %s key %s, which the input does not hold (give the Secret, or the namespace calico-node runs in)",
				ns+"/"+bp.Password.Name, bp.Password.Key)
		}
		if pw := v.Reveal(); pw == "" || len(pw) > 80 {
			return o, fmt.Errorf("its password (Secret %s key %s) must be 1-80 characters", ns+"/"+bp.Password.Name, bp.Password.Key)
		}
		o.Password = fabric.NewSecret(v.Reveal(), salt)
	case f.BGP.Password.Reveal() != "":
		o.Password = fabric.NewSecret(f.BGP.Password.Reveal(), salt)
	}
	o.GracefulRestart, o.TTLSecurityHops = bp.MaxRestartTime, bp.TTLSecurity
	o.Shutdown = slices.Contains(f.BGP.Shutdown, fp.Node)
	o.MaxPrefix = t.maxPrefix(f, fp, allowed)
	return o, nil
}

// maxPrefix is the session's prefix limit: a number from the
// configuration, or, with "auto", what the node may legitimately send with
// headroom: one route per exact pod prefix, the blocks a pool may give it,
// each service range (Calico advertises the range from every node) and the
// /32 of each Local service it has an endpoint of.
func (t *translator) maxPrefix(f *config.Fabric, fp fabricPeer, allowed []fabric.PrefixRule) *fabric.MaxPrefix {
	m := f.BGP.MaxPrefix
	if m.Limit == "" {
		return nil
	}
	limit := uint64(0)
	if m.Limit == "auto" {
		count := 0.0
		for _, r := range allowed {
			p, err := netip.ParsePrefix(r.Prefix)
			if err != nil {
				continue
			}
			switch {
			case r.LE == p.Bits():
				count++
			case t.isRange(p):
				count++ // the range itself; its /32s are counted below
			default:
				count += math.Pow(2, float64(min(r.LE-p.Bits(), 20))) // a pool's blocks
			}
		}
		for _, s := range t.services {
			if s.ExternalTrafficPolicy != "Local" || !slices.Contains(s.EndpointNodes, fp.Node) {
				continue
			}
			for _, ip := range s.IPs {
				if ip.Is6() == fp.IPv6 {
					count++
				}
			}
		}
		limit = uint64(math.Ceil(max(count*m.Headroom, count+10)))
	} else {
		limit, _ = strconv.ParseUint(string(m.Limit), 10, 32)
	}
	limit = min(limit, math.MaxUint32)
	return &fabric.MaxPrefix{Limit: uint32(limit), Action: m.Action, RestartMinutes: m.RestartMinutes}
}

func (t *translator) isRange(p netip.Prefix) bool {
	return slices.Contains(t.serviceRanges(), p)
}
