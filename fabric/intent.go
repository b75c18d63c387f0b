package fabric

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
)

// Intent is what one fabric must provide for the cluster, before any
// platform has named or shaped it: the BGP sessions each switch holds with
// the nodes, what each node may advertise, the prefixes the cluster's nodes
// and pods live in, the service ranges, and each LoadBalancer service's
// addresses and ports. The reconciler derives it from the cluster; each
// driver turns it into the objects its platform holds (Desire), so that
// vendor naming and shape stay with the vendor.
type Intent struct {
	Fabric string
	// Cluster names the cluster: the objects' ownership mark.
	Cluster string
	// Sessions are the BGP sessions, one per (switch, node address).
	Sessions []Session
	// NodeSubnets are the subnets of the peering nodes' BGP addresses.
	NodeSubnets []Sourced
	// PodPools are the enabled pod pools; PodBlocks each peering node's
	// IPAM blocks.
	PodPools  []Sourced
	PodBlocks []Sourced
	// ServiceRanges are the ranges Calico advertises from every node: the
	// BGPConfiguration's service CIDRs and the LoadBalancer IP pools.
	ServiceRanges []Sourced
	// ExportedPools are the pod pools Calico exports (not disableBGPExport).
	ExportedPools []Sourced
	// AnyNodeAllowed is what any peering node may advertise, for a
	// platform that filters all the nodes' sessions alike (listen
	// peering): every block of the pod pools (a pool up to its block
	// size), and the service ranges with any more specific prefix.
	// AnyNodeSources are the input objects it came from.
	AnyNodeAllowed []PrefixRule
	AnyNodeSources []string
	// Services are the LoadBalancer services that passed validation.
	Services []ServiceIntent
	// Paths is how many equal-cost paths each (switch, family) needs, for
	// every session the platform accepts (see PathsFor).
	Paths PathsIntent
	// Holds say which input could not be seen; the driver maps each to
	// the objects of its own that came from it.
	Holds []IntentHold
}

// Sourced is a prefix with the input objects it came from.
type Sourced struct {
	Prefix  netip.Prefix
	Sources []string
}

// Session is one BGP session a switch holds with a node.
type Session struct {
	Switch        string
	Node          string
	NodeAddress   netip.Prefix // the node's address and subnet
	RemoteASN     uint32       // the node's AS
	LocalASN      uint32       // the AS the switch presents to the node
	AddressFamily AddressFamily
	// Options are how the session runs (password, limits, timers).
	Options PeerOptions
	// Allowed is what the node may advertise on the session (its pod
	// addresses exactly, the service ranges with any more specific).
	Allowed []PrefixRule
	// Sources are the input objects the session came from; FilterSources
	// those its Allowed prefixes came from.
	Sources, FilterSources []string
}

// Peer is the session as a fabric object.
func (s Session) Peer() BGPPeer {
	return BGPPeer{Switch: s.Switch, Node: s.Node, PeerAddress: s.NodeAddress.Addr().String(), RemoteASN: s.RemoteASN,
		LocalASN: s.LocalASN, AddressFamily: s.AddressFamily, PeerOptions: s.Options}
}

// Filter is the session's inbound filter as a fabric object.
func (s Session) Filter() PrefixFilter {
	return PrefixFilter{Switch: s.Switch, Node: s.Node, PeerAddress: s.NodeAddress.Addr().String(), Prefixes: s.Allowed}
}

// ServiceIntent is a LoadBalancer service as the fabric must offer it.
type ServiceIntent struct {
	Namespace, Name string
	// OwnIPs are the LoadBalancer IPs this service holds; a service that
	// shares its IPs with another (MetalLB allow-shared-ip) holds none and
	// names that service in SharesWith.
	OwnIPs     []netip.Addr
	SharesWith string
	// Ports are its protocols and ports (protocol lower-case).
	Ports []ContractEntry
	// Labels are the Service's labels, unchecked: a driver that names
	// anything after one validates it first.
	Labels map[string]string
}

// Key is namespace/name.
func (s ServiceIntent) Key() string { return s.Namespace + "/" + s.Name }

// PathsIntent is the input of the maximum-paths rule: how many nodes
// advertise each prefix, per switch and family.
type PathsIntent struct {
	// Mode is "auto", "fixed" or "off"; Fixed the paths in fixed mode;
	// Limit caps the result.
	Mode         string
	Fixed, Limit int
	// AllNodes is true per family when a service range is advertised by
	// every node: then every peering node of a switch counts.
	AllNodes map[AddressFamily]bool
	// Advertisers lists, per advertised LoadBalancer IP, the nodes that
	// advertise it (every node for a Cluster service, the nodes with a
	// ready endpoint for a Local one).
	Advertisers []Advertised
}

// Advertised is one LoadBalancer IP and the nodes that advertise it: every
// peering node, or only Nodes.
type Advertised struct {
	Family AddressFamily
	Every  bool
	Nodes  []string
}

// PathsFor derives how many equal-cost paths each switch needs for each
// family, counting only the sessions given (those the platform accepts):
// the largest number of its peering nodes that advertise one prefix.
// Service ranges and Cluster-policy services are advertised by every node,
// a Local service only by the nodes with a ready endpoint, a pod block by
// one node.
func (p PathsIntent) PathsFor(sessions []Session) []MaximumPaths {
	if p.Mode == "off" {
		return nil
	}
	type swaf struct {
		sw string
		af AddressFamily
	}
	nodes := map[swaf]map[string]bool{}
	// where lists, per node and family, the switches it peers with: a
	// Local service's advertisers are counted per switch through it, so
	// the work grows with the endpoints, not endpoints times switches.
	where := map[string]map[AddressFamily][]swaf{}
	var order []swaf
	for _, s := range sessions {
		k := swaf{s.Switch, s.AddressFamily}
		if nodes[k] == nil {
			nodes[k] = map[string]bool{}
			order = append(order, k)
		}
		if !nodes[k][s.Node] {
			nodes[k][s.Node] = true
			if where[s.Node] == nil {
				where[s.Node] = map[AddressFamily][]swaf{}
			}
			where[s.Node][s.AddressFamily] = append(where[s.Node][s.AddressFamily], k)
		}
	}
	best := map[swaf]int{}
	every := map[AddressFamily]bool{}
	count := map[swaf]int{}
	for _, a := range p.Advertisers {
		if a.Every {
			every[a.Family] = true
			continue
		}
		clear(count)
		for _, n := range a.Nodes {
			for _, k := range where[n][a.Family] {
				count[k]++
			}
		}
		for k, c := range count {
			best[k] = max(best[k], c)
		}
	}
	var out []MaximumPaths
	for _, k := range order {
		n := max(1, best[k])
		if p.AllNodes[k.af] || every[k.af] {
			n = max(n, len(nodes[k]))
		}
		if p.Mode == "fixed" {
			n = p.Fixed
		}
		if p.Limit > 0 {
			n = min(n, p.Limit)
		}
		out = append(out, MaximumPaths{Switch: k.sw, AddressFamily: k.af, Paths: n})
	}
	return out
}

// FabricWide folds per-switch maximum-paths into one per family (the
// largest), for platforms that set it once for the whole fabric.
func FabricWide(perSwitch []MaximumPaths) []MaximumPaths {
	best := map[AddressFamily]int{}
	for _, m := range perSwitch {
		best[m.AddressFamily] = max(best[m.AddressFamily], m.Paths)
	}
	var out []MaximumPaths
	for _, af := range []AddressFamily{IPv4, IPv6} {
		if n, ok := best[af]; ok {
			out = append(out, MaximumPaths{AddressFamily: af, Paths: n})
		}
	}
	return out
}

// HoldScope names a part of what a fabric holds for the cluster, for
// IntentHold: each driver knows which of its objects belong to it.
type HoldScope string

const (
	// HoldNode: the objects of one node (IntentHold.Node): its peers and
	// filters.
	HoldNode HoldScope = "node"
	// HoldService: the objects of one service (IntentHold.Service).
	HoldService HoldScope = "service"
	// HoldPeers, HoldFilters, HoldPaths: every peer, filter or
	// maximum-paths setting.
	HoldPeers   HoldScope = "peers"
	HoldFilters HoldScope = "filters"
	HoldPaths   HoldScope = "paths"
	// HoldNodeSubnets, HoldPodPrefixes, HoldExports: the prefixes of the
	// nodes' subnets, of the pods, and those exported for the cluster.
	HoldNodeSubnets HoldScope = "node-subnets"
	HoldPodPrefixes HoldScope = "pod-prefixes"
	HoldExports     HoldScope = "exports"
	// HoldServices: every service's objects.
	HoldServices HoldScope = "services"
)

// IntentHold says that something the fabric holds came from input that
// cannot be seen, and must stay as it is.
type IntentHold struct {
	Scope   HoldScope
	Node    string // with HoldNode
	Service string // namespace/name, with HoldService
	// ShrinkOnly lets changes through that only add.
	ShrinkOnly bool
	Reason     string
}

// CommonHolds maps the scopes every platform shares (a node's peers and
// filters, all peers, filters and paths) to fabric holds; a driver adds
// those of its own kinds.
func CommonHolds(h IntentHold) []Hold {
	hold := func(k Kind, node string) Hold {
		return Hold{Reason: h.Reason, Kind: k, Node: node, ShrinkOnly: h.ShrinkOnly}
	}
	switch h.Scope {
	case HoldNode:
		return []Hold{hold(KindBGPPeer, h.Node), hold(KindPrefixFilter, h.Node)}
	case HoldPeers:
		return []Hold{hold(KindBGPPeer, "")}
	case HoldFilters:
		return []Hold{hold(KindPrefixFilter, "")}
	case HoldPaths:
		return []Hold{hold(KindMaximumPaths, "")}
	}
	return nil
}

// Realized is what a driver makes of an intent: the objects, where each
// came from, what is held, and the intent's parts the platform cannot
// express (skipped, with the driver's reason; nothing derived from them is
// planned).
type Realized struct {
	State   State
	Sources map[Key][]string
	Holds   []Hold
	Skipped []Skip
	// Warnings say what the platform does not manage (a peer option it
	// cannot set yet), for people.
	Warnings []string
}

// KeepOptions clears from a session the options the platform does not
// manage, and warns once per option that was set.
func (d *Realized) KeepOptions(platform string, s *Session, managed map[PeerOption]bool, warned map[PeerOption]bool) {
	var dropped []PeerOption
	s.Options, dropped = s.Options.Keep(managed)
	for _, opt := range dropped {
		if !warned[opt] {
			warned[opt] = true
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s does not manage the peers' %s: it is left as the switches hold it", platform, opt))
		}
	}
}

// From records that an object came from input objects.
func (d *Realized) From(o Object, inputs ...string) {
	if d.Sources == nil {
		d.Sources = map[Key][]string{}
	}
	k := canonicalKey(o)
	// An object has a handful of sources: a scan beats a set.
	srcs := d.Sources[k]
	for _, in := range inputs {
		if !slices.Contains(srcs, in) {
			srcs = append(srcs, in)
		}
	}
	sort.Strings(srcs)
	d.Sources[k] = srcs
}

// canonicalKey is KeyOf(o.canonical()), without canonicalizing what the
// key does not read when the kind can say its canonical ID directly.
func canonicalKey(o Object) Key {
	if c, ok := o.(interface{ canonicalID() string }); ok {
		return Key{Kind: o.Kind(), Switch: o.SwitchName(), ID: c.canonicalID()}
	}
	return KeyOf(o.canonical())
}

// Add puts an object into the state with its sources.
func (d *Realized) Add(o Object, inputs ...string) {
	d.State.Add(o)
	d.From(o, inputs...)
}
