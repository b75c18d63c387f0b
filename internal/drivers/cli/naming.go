package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
)

// Mark is the ownership mark a CLI driver writes into the description of the
// objects it creates, e.g. "orchestrator:fabric-reconciler.haystack"
// (config.Config.OwnerMark).
type Mark string

// markFamily is what every fabric-reconciler mark starts with, whatever the
// cluster: a description starting so belongs to some cluster.
const markFamily = "orchestrator:fabric-reconciler."

// Describe returns the description of an object that belongs to a node:
// "<mark> node=<node>". The node name must have passed Name.
func (m Mark) Describe(node string) string {
	if node == "" {
		return string(m)
	}
	return string(m) + " node=" + node
}

// DescribeSetting returns the description of a marker object that records
// the ownership of a setting that cannot carry a mark itself, e.g.
// "<mark> owns maximum-paths ipv4".
func (m Mark) DescribeSetting(setting string) string {
	return string(m) + " owns " + setting
}

// Parse reads a description written by Describe (by any cluster): the owner
// mark ("" when the description carries none) and the node ("" when absent).
func Parse(desc string) (owner, node string) {
	desc = strings.TrimSpace(desc)
	if !strings.HasPrefix(desc, markFamily) {
		return "", ""
	}
	fields := strings.Fields(desc)
	owner = fields[0]
	for _, f := range fields[1:] {
		if v, ok := strings.CutPrefix(f, "node="); ok {
			node = v
		}
	}
	return owner, node
}

// Owns reports whether a description carries exactly this mark.
func (m Mark) Owns(desc string) bool {
	owner, _ := Parse(desc)
	return owner == string(m)
}

// Naming builds and recognises the names of the objects a driver creates
// (prefix-lists, route-maps, markers). All start with one prefix derived
// from the cluster name, which is how a driver tells its own objects apart.
type Naming struct {
	prefix string
	suffix string
	max    int
}

// Name parts after the prefix.
const (
	peerFilterPart = "IN-"
	markerPart     = "MARK-"
)

// longestAddr is the length of the longest IPv6 address text.
const longestAddr = len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")

// NewNaming returns the naming of a cluster's objects: names start with
// "<tag>-<cluster>-" (tag "FR" by default). scope, when not empty (a VRF),
// ends every name as "_<scope>": objects such as prefix-lists are global on a
// switch, and one cluster may drive several VRFs of it. Addresses never
// contain '_', so a name parses back to one address and one scope. maxLen is
// the platform's longest object name (0: no limit); when a name for an IPv6
// peer would not fit, the cluster part is cut and completed with a hash of
// the full cluster name, so that names stay unique per cluster.
func NewNaming(tag, cluster, scope string, maxLen int) (Naming, error) {
	if tag == "" {
		tag = "FR"
	}
	if err := Name("name tag", tag, 16); err != nil {
		return Naming{}, err
	}
	if err := Name("cluster name", cluster, 0); err != nil {
		return Naming{}, err
	}
	suffix := ""
	if scope != "" {
		if err := Name("name scope", scope, 32); err != nil {
			return Naming{}, err
		}
		suffix = "_" + scope
	}
	part := cluster
	if maxLen > 0 {
		room := maxLen - len(tag) - 2 - len(peerFilterPart) - longestAddr - len(suffix)
		if room < 8 {
			return Naming{}, fmt.Errorf("names of at most %d characters leave no room for the cluster name", maxLen)
		}
		if len(part) > room {
			sum := sha256.Sum256([]byte(cluster))
			h := hex.EncodeToString(sum[:])[:6]
			part = cluster[:room-7] + "-" + h
		}
	}
	return Naming{prefix: tag + "-" + part + "-", suffix: suffix, max: maxLen}, nil
}

// Prefix is what every name starts with.
func (n Naming) Prefix() string { return n.prefix }

// PeerFilter is the name of the inbound prefix-list and route-map of one
// peer: "<prefix>IN-<address>[_<scope>]", ':' written as '-' in IPv6
// addresses (some platforms refuse ':' in names).
func (n Naming) PeerFilter(a netip.Addr) string {
	return n.prefix + peerFilterPart + strings.ReplaceAll(a.Unmap().String(), ":", "-") + n.suffix
}

// ParsePeerFilter reads the peer address back from a PeerFilter name; ok is
// false for any other name.
func (n Naming) ParsePeerFilter(name string) (netip.Addr, bool) {
	rest, ok := strings.CutPrefix(name, n.prefix+peerFilterPart)
	if !ok {
		return netip.Addr{}, false
	}
	rest, _, _ = strings.Cut(rest, "_")
	a, err := netip.ParseAddr(strings.ReplaceAll(rest, "-", ":"))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	// Only the canonical spelling is ours: a name must map to one address
	// and back.
	if n.PeerFilter(a) != name {
		return netip.Addr{}, false
	}
	return a, true
}

// Marker is the name of a marker object recording that the cluster owns a
// setting: "<prefix>MARK-<what>[_<scope>]", what being letters, digits and '-'.
func (n Naming) Marker(what string) string { return n.prefix + markerPart + what + n.suffix }

// IsMarker reports whether name is the marker of what.
func (n Naming) IsMarker(name, what string) bool { return name == n.Marker(what) }
