// Package reconciler holds the policy: Translate turns a cluster's state into
// what each configured fabric must hold, and the loop observes, diffs and
// applies.
package reconciler

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch/selector"
)

// TranslateOptions are what Translate needs besides the cluster and the
// configuration.
type TranslateOptions struct {
	// Observed is what each fabric holds now, by fabric name (empty for an
	// offline plan). What is in place keeps its place: a newcomer that
	// collides with it (the same BGP address, the same LoadBalancer IP) is
	// the one skipped, and a partial input is recognised against it.
	Observed map[string]fabric.Observed
	// AllowMissing lists input kinds (k8swatch.Kind*, or "all") whose
	// absence from the input is accepted as "there are none": their fabric
	// objects are then deleted instead of held.
	AllowMissing map[string]bool
	// CalicoNamespace is where calico-node runs: where a BGPPeer's
	// password Secret is (DefaultCalicoNamespace when empty).
	CalicoNamespace string
}

// Translate derives the desired state of every configured fabric from the
// cluster state. It is a pure function: the same inputs give the same output.
// Bad input objects are skipped and listed in Desired.Skipped; they never stop
// the rest, and what the fabric holds for them is held as it is.
//
// Set-ups of the cluster that no fabric can make work (a LoadBalancer pool
// Calico does not advertise, a .0 address, ...) are doctor's findings
// (package doctor), not Translate's: plan shows them by running the same
// checks.
func Translate(cs k8swatch.ClusterState, cfg *config.Config, opts TranslateOptions) fabric.Desired {
	return TranslateWithIntents(cs, cfg, opts).Desired
}

// Translation is Translate's result with each fabric's intent behind it,
// in the configuration's order.
type Translation struct {
	Desired fabric.Desired
	Intents []fabric.Intent
}

// TranslateWithIntents is Translate, keeping the intents (what doctor and
// verify check against) instead of translating twice.
func TranslateWithIntents(cs k8swatch.ClusterState, cfg *config.Config, opts TranslateOptions) Translation {
	t := newTranslator(cs, cfg, opts)
	var tr Translation
	for i := range cfg.Fabrics {
		fd, in := t.desire(&cfg.Fabrics[i])
		tr.Desired.Fabrics = append(tr.Desired.Fabrics, fd)
		tr.Intents = append(tr.Intents, in)
	}
	tr.Desired.Skipped = dedupeSkips(t.skips)
	tr.Desired.Warnings = dedupeStrings(t.warnings)
	return tr
}

// Intents are what each configured fabric must provide for the cluster,
// before its driver names and shapes it (what Translate hands each
// driver's Desire), in the configuration's order: the sessions, prefixes
// and services that doctor and verify check against.
func Intents(cs k8swatch.ClusterState, cfg *config.Config, opts TranslateOptions) []fabric.Intent {
	t := newTranslator(cs, cfg, opts)
	var out []fabric.Intent
	for i := range cfg.Fabrics {
		in := t.intent(&cfg.Fabrics[i])
		in.Cluster = cfg.Cluster
		out = append(out, in)
	}
	return out
}

// newTranslator checks the input: bad objects are skipped, peers resolved,
// LoadBalancer IPs given their holders.
func newTranslator(cs k8swatch.ClusterState, cfg *config.Config, opts TranslateOptions) *translator {
	t := &translator{cs: cs, cfg: cfg, opts: opts, skippedNodes: map[string]bool{}, skippedServices: map[string]bool{}}
	for _, p := range cs.Problems {
		t.skip(p.Object, p.Reason, p.Source)
	}
	t.checkPrefixes()
	t.peers = t.resolvePeers()
	t.services = t.checkServices()
	return t
}

type translator struct {
	cs              k8swatch.ClusterState
	cfg             *config.Config
	opts            TranslateOptions
	peers           []k8swatch.NodePeer
	services        []service
	skips           []fabric.Skip
	warnings        []string
	skippedNodes    map[string]bool
	skippedServices map[string]bool

	// byName and blocks index the cluster's nodes and IPAM blocks by node
	// (built on first use): a cluster of thousands of nodes looks each up
	// once per session.
	byName map[string]k8swatch.Node
	blocks map[string][]netip.Prefix
}

func (t *translator) node(name string) (k8swatch.Node, bool) {
	if t.byName == nil {
		t.byName = make(map[string]k8swatch.Node, len(t.cs.Nodes))
		for _, n := range t.cs.Nodes {
			t.byName[n.Name] = n
		}
	}
	n, ok := t.byName[name]
	return n, ok
}

// nodeBlocks returns the IPAM blocks affine to a node, in address order.
func (t *translator) nodeBlocks(node string) []netip.Prefix {
	if t.blocks == nil {
		t.blocks = map[string][]netip.Prefix{}
		for _, b := range t.cs.Blocks {
			t.blocks[b.Node] = append(t.blocks[b.Node], b.CIDR)
		}
	}
	return t.blocks[node]
}

// service is a LoadBalancer service that passed validation.
type service struct {
	k8swatch.Service
	// ownIPs are the IPs this service holds; a service that shares its IPs
	// with an earlier one (MetalLB allow-shared-ip) holds none, and
	// sharesWith names the one that does.
	ownIPs     []netip.Addr
	sharesWith string
}

func (t *translator) skip(object, reason, source string) {
	if source != "" {
		reason += " (" + source + ")"
	}
	t.skips = append(t.skips, fabric.Skip{Object: object, Reason: reason})
}

func (t *translator) warn(format string, a ...any) {
	t.warnings = append(t.warnings, fmt.Sprintf(format, a...))
}

// resolvePeers applies Calico's peer semantics, then drops nodes whose BGP
// address another node also claims: a duplicate IP cannot be peered safely.
func (t *translator) resolvePeers() []k8swatch.NodePeer {
	peers, problems := t.cs.ResolvePeers()
	badNodes := map[string]bool{}
	for _, p := range t.cs.Problems {
		if in := parseObject(p.Object); in.kind == "Node" {
			badNodes[in.name] = true
		}
	}
	for _, p := range problems {
		// A peer of a node that was itself skipped is not a peer of a
		// missing node: say so.
		if bp, ok := t.cs.BGPPeer(parseObject(p.Object).name); ok && bp.Node != "" && badNodes[bp.Node] {
			p.Reason = fmt.Sprintf("spec.node %q was skipped as bad input (see Node/%s)", bp.Node, bp.Node)
		}
		t.skip(p.Object, p.Reason, p.Source)
	}
	owners := map[netip.Addr][]string{}
	for _, n := range t.cs.Nodes {
		for _, a := range []netip.Prefix{n.BGP.IPv4Address, n.BGP.IPv6Address} {
			if a.IsValid() {
				owners[a.Addr()] = append(owners[a.Addr()], n.Name)
			}
		}
	}
	peered := t.peeredNodes()
	for _, n := range t.cs.Nodes {
		if errs := validation.IsDNS1123Subdomain(n.Name); len(errs) > 0 {
			t.skippedNodes[n.Name] = true
			t.skip("Node/"+n.Name, "invalid node name: "+strings.Join(errs, "; "), "")
			continue
		}
		for _, a := range []netip.Prefix{n.BGP.IPv4Address, n.BGP.IPv6Address} {
			if !a.IsValid() || len(owners[a.Addr()]) < 2 {
				continue
			}
			var others []string
			for _, o := range owners[a.Addr()] {
				if o != n.Name {
					others = append(others, o)
				}
			}
			// The node the fabric already peers with at this address keeps
			// it; only a newcomer is left out.
			holder, established := peered[a.Addr()]
			if established && slices.Contains(owners[a.Addr()], holder) {
				if holder == n.Name {
					continue
				}
				t.skippedNodes[n.Name] = true
				t.skip("Node/"+n.Name, fmt.Sprintf("BGP address %s is already peered on the fabric for node %s; this node is left out until its address changes",
					a.Addr(), holder), "")
				continue
			}
			t.skippedNodes[n.Name] = true
			t.skip("Node/"+n.Name, fmt.Sprintf("BGP address %s is also claimed by node %s; no peer is configured for either",
				a.Addr(), strings.Join(others, ", ")), "")
		}
	}
	var out []k8swatch.NodePeer
	for _, p := range peers {
		if !t.skippedNodes[p.Node] {
			out = append(out, p)
		}
	}
	return out
}

// checkServices decides who owns each LoadBalancer IP. When services claim
// one IP, the one created first keeps it and the later ones are skipped: a
// newcomer must not take an established service's fabric objects down. When
// their ages cannot tell them apart, all are skipped. Services that share an
// IP on purpose (the same MetalLB allow-shared-ip key) are not a conflict.
func (t *translator) checkServices() []service {
	all := t.cs.Services
	// first: IP -> the first service (index) that uses it; most IPs have
	// one service, so only the others are grouped, and by index: copying
	// 50,000 Services into per-IP slices cost more than the checks.
	first := make(map[netip.Addr]int, len(all))
	var multi map[netip.Addr][]int
	for i, s := range all {
		for _, ip := range s.IPs {
			j, used := first[ip]
			if !used {
				first[ip] = i
				continue
			}
			if multi == nil {
				multi = map[netip.Addr][]int{}
			}
			if multi[ip] == nil {
				multi[ip] = []int{j}
			}
			multi[ip] = append(multi[ip], i)
		}
	}
	ips := make([]netip.Addr, 0, len(multi))
	for ip := range multi {
		ips = append(ips, ip)
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	sharedOwner := map[netip.Addr]string{} // IP used by several -> key of the service whose EPG holds it ("" none)
	for _, ip := range ips {
		svcs := make([]k8swatch.Service, len(multi[ip]))
		for k, i := range multi[ip] {
			svcs[k] = all[i]
		}
		shared := svcs[0].SharingKey != ""
		for _, s := range svcs[1:] {
			if s.SharingKey != svcs[0].SharingKey {
				shared = false
			}
		}
		if shared {
			sharedOwner[ip] = svcs[0].Key() // services are sorted by key
			continue
		}
		sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].Created.Before(svcs[j].Created) })
		holder := t.establishedService(ip, svcs)
		if holder == "" && !svcs[0].Created.IsZero() && svcs[0].Created.Before(svcs[1].Created) {
			holder = svcs[0].Key()
		}
		sharedOwner[ip] = holder
		for _, s := range svcs {
			if s.Key() == holder {
				continue
			}
			var others []string
			for _, o := range svcs {
				if o.Key() != s.Key() {
					others = append(others, o.Key())
				}
			}
			t.skippedServices[s.Key()] = true
			reason := fmt.Sprintf("LoadBalancer IP %s is already used by Service/%s, created earlier or already in place on the fabric", ip, holder)
			if holder == "" {
				reason = fmt.Sprintf("LoadBalancer IP %s is also used by %s and their creation times cannot tell which holds it; none gets fabric objects until one is moved",
					ip, strings.Join(others, ", "))
			}
			t.skip("Service/"+s.Key(), reason, "")
		}
	}
	out := make([]service, 0, len(all))
	for i, s := range all {
		key := s.Key()
		if t.skippedServices[key] {
			continue
		}
		svc := service{Service: s}
		for _, ip := range s.IPs {
			if owner, several := sharedOwner[ip]; several && owner == key || !several && first[ip] == i {
				svc.ownIPs = append(svc.ownIPs, ip)
			}
		}
		if len(svc.ownIPs) == 0 && len(s.IPs) > 0 {
			if owner, several := sharedOwner[s.IPs[0]]; several {
				svc.sharesWith = owner
			} else {
				svc.sharesWith = all[first[s.IPs[0]]].Key()
			}
		}
		out = append(out, svc)
	}
	return out
}

// fabricPeer is a node session that lands on one switch of the fabric.
type fabricPeer struct {
	k8swatch.NodePeer
	sw  config.Switch
	asn uint32 // the switch's AS
}

func family(ipv6 bool) fabric.AddressFamily {
	if ipv6 {
		return fabric.IPv6
	}
	return fabric.IPv4
}

// intent derives what one fabric must provide, before its platform names
// and shapes it.
func (t *translator) intent(f *config.Fabric) fabric.Intent {
	in := fabric.Intent{Fabric: f.Name}
	switchOf := map[netip.Addr]config.Switch{}
	for _, s := range f.Switches {
		for _, ip := range s.PeerIPs {
			a, _ := netip.ParseAddr(ip)
			switchOf[a.Unmap()] = s
		}
	}
	fps := make([]fabricPeer, 0, len(t.peers))
	for _, p := range t.peers {
		sw, ok := switchOf[p.PeerIP]
		if !ok {
			continue
		}
		// A BGPPeer AS other than the switch's is a local-AS on the switch:
		// a design every platform supports (the reference lab presents
		// 63500 from a fabric in 65000), shown in each peer's localASN,
		// not a warning.
		fps = append(fps, fabricPeer{NodePeer: p, sw: sw, asn: f.SwitchASN(sw)})
	}
	fps = t.dedupeSessions(f, fps)
	ranges := t.serviceRanges()
	in.Sessions = make([]fabric.Session, 0, len(fps))
	for _, fp := range fps {
		s := fabric.Session{Switch: fp.sw.Name, Node: fp.Node, NodeAddress: fp.NodeAddress, RemoteASN: fp.NodeASN,
			LocalASN: fp.PeerASN, AddressFamily: family(fp.IPv6), Sources: []string{"Node/" + fp.Node, "BGPPeer/" + fp.BGPPeer}}
		s.Allowed, s.FilterSources = t.allowed(fp, ranges)
		opts, err := t.peerOptions(f, fp, s.Allowed)
		if err != nil {
			t.skip("BGPPeer/"+fp.BGPPeer, fmt.Sprintf("fabric %s, node %s: %v; its session is not planned", f.Name, fp.Node, err), "")
			continue
		}
		s.Options = opts
		in.Sessions = append(in.Sessions, s)
	}
	if len(fps) == 0 {
		in.Paths = fabric.PathsIntent{Mode: string(f.MaximumPaths.Mode)}
		return in // no node reaches this fabric: nothing to classify or offer
	}

	peering := map[string]bool{}
	seenSubnet := map[netip.Prefix]int{}
	for _, fp := range fps {
		peering[fp.Node] = true
		p := fp.NodeAddress.Masked()
		if i, ok := seenSubnet[p]; ok {
			in.NodeSubnets[i].Sources = appendNew(in.NodeSubnets[i].Sources, "Node/"+fp.Node)
			continue
		}
		seenSubnet[p] = len(in.NodeSubnets)
		in.NodeSubnets = append(in.NodeSubnets, fabric.Sourced{Prefix: p, Sources: []string{"Node/" + fp.Node}})
	}
	for _, pool := range t.cs.IPPools {
		if !pool.ForWorkloads() {
			continue
		}
		in.PodPools = append(in.PodPools, fabric.Sourced{Prefix: pool.CIDR, Sources: []string{"IPPool/" + pool.Name}})
		if !pool.DisableBGPExport {
			in.ExportedPools = append(in.ExportedPools, fabric.Sourced{Prefix: pool.CIDR, Sources: []string{"IPPool/" + pool.Name}})
		}
	}
	for _, b := range t.cs.Blocks {
		if peering[b.Node] && !t.skippedNodes[b.Node] {
			in.PodBlocks = append(in.PodBlocks, fabric.Sourced{Prefix: b.CIDR, Sources: []string{"IPAMBlock/*", "Node/" + b.Node}})
		}
	}
	in.ServiceRanges = t.sourcedRanges()
	in.AnyNodeAllowed, in.AnyNodeSources = t.anyNodeAllowed(fps, ranges)
	// One allocation for all services and one for all their ports.
	in.Services = make([]fabric.ServiceIntent, 0, len(t.services))
	nports := 0
	for _, s := range t.services {
		nports += len(s.Ports)
	}
	ports := make([]fabric.ContractEntry, 0, nports)
	for _, s := range t.services {
		si := fabric.ServiceIntent{Namespace: s.Namespace, Name: s.Name, OwnIPs: s.ownIPs, SharesWith: s.sharesWith, Labels: s.Labels}
		if len(s.Ports) > 0 {
			from := len(ports)
			for _, p := range s.Ports {
				ports = append(ports, fabric.ContractEntry{Protocol: strings.ToLower(p.Protocol), Port: p.Port})
			}
			si.Ports = ports[from:len(ports):len(ports)]
		}
		in.Services = append(in.Services, si)
	}
	in.Paths = t.pathsIntent(f)
	return in
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// desire turns one fabric's intent into its platform's objects through its
// driver, and adds the holds and skips.
func (t *translator) desire(f *config.Fabric) (fabric.Target, fabric.Intent) {
	in := t.intent(f)
	in.Cluster = t.cfg.Cluster
	in.Holds = t.holds(f)
	fd := fabric.Target{Name: f.Name, Driver: f.Driver}
	desire, ok := drivers.DesireFunc(f.Driver)
	if !ok {
		t.skip("Fabric/"+f.Name, fmt.Sprintf("driver %q is not built in; nothing is planned for this fabric", f.Driver), "")
		return fd, in
	}
	d := desire(*f, in)
	for _, sk := range d.Skipped {
		t.skips = append(t.skips, sk)
	}
	for _, w := range d.Warnings {
		t.warn("fabric %s: %s", f.Name, w)
	}
	fd.State, fd.Sources, fd.Holds = d.State, d.Sources, d.Holds
	return fd, in
}

// dedupeSessions keeps one session per (switch, node address): a node that
// reaches one switch through two of its peer IPs gets one neighbor.
func (t *translator) dedupeSessions(f *config.Fabric, fps []fabricPeer) []fabricPeer {
	type key struct {
		sw   string
		addr netip.Addr
	}
	seen := make(map[key]int, len(fps)) // -> index in out
	out := make([]fabricPeer, 0, len(fps))
	for _, fp := range fps {
		k := key{fp.sw.Name, fp.NodeAddress.Addr()}
		if i, dup := seen[k]; dup {
			prev := out[i]
			if prev.PeerASN != fp.PeerASN {
				t.skip("BGPPeer/"+fp.BGPPeer, fmt.Sprintf("node %s reaches switch %s (fabric %s) through BGPPeer %s with AS %d already; this AS %d is ignored",
					fp.Node, fp.sw.Name, f.Name, prev.BGPPeer, prev.PeerASN, fp.PeerASN), "")
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, fp)
	}
	return out
}

// serviceRanges are the ranges Calico advertises from every node (see
// k8swatch.ClusterState.ServiceRanges).
func (t *translator) serviceRanges() []netip.Prefix { return t.cs.ServiceRanges() }

// sourcedRanges are the service ranges with the input each came from.
func (t *translator) sourcedRanges() []fabric.Sourced {
	c := t.cs.BGPConfig
	var out []fabric.Sourced
	for _, list := range [][]netip.Prefix{c.ServiceLoadBalancerIPs, c.ServiceClusterIPs, c.ServiceExternalIPs} {
		for _, p := range list {
			out = append(out, fabric.Sourced{Prefix: p, Sources: []string{"BGPConfiguration/default"}})
		}
	}
	for _, p := range t.cs.IPPools {
		if p.ForLoadBalancers() && !p.DisableBGPExport {
			out = append(out, fabric.Sourced{Prefix: p.CIDR, Sources: []string{"IPPool/" + p.Name}})
		}
	}
	return out
}

// advertised reports whether Calico advertises a LoadBalancer IP at all.
func (t *translator) advertised(ip netip.Addr) bool { return t.cs.AdvertisesLoadBalancerIP(ip) }

// allowed is what a node may advertise on a session: its pod addresses
// (podRules) exactly, and the service ranges with any more specific
// prefix. Everything else is denied.
func (t *translator) allowed(fp fabricPeer, ranges []netip.Prefix) ([]fabric.PrefixRule, []string) {
	af := family(fp.IPv6)
	var rules []fabric.PrefixRule
	for _, r := range t.podRules(fp.Node) {
		if p := netip.MustParsePrefix(r.Prefix); p.Addr().Is6() == fp.IPv6 {
			rules = append(rules, r)
		}
	}
	hasRange := false
	for _, p := range ranges {
		if p.Addr().Is6() == fp.IPv6 {
			rules = append(rules, fabric.PrefixRule{Prefix: p.String(), LE: af.MaxPrefixLen()})
			hasRange = true
		}
	}
	sources := append([]string{"Node/" + fp.Node}, t.podSources(fp.Node)...)
	if hasRange {
		sources = append(sources, "BGPConfiguration/default")
	}
	return rules, sources
}

// anyNodeAllowed is what any of the peering nodes may advertise, for a
// filter all their sessions share: with Calico IPAM every block of every
// workload pool (the pool up to its block size: Calico hands any node any
// block), with host-local IPAM each node's podCIDRs exactly; and the
// service ranges with any more specific prefix.
func (t *translator) anyNodeAllowed(fps []fabricPeer, ranges []netip.Prefix) ([]fabric.PrefixRule, []string) {
	var rules []fabric.PrefixRule
	var sources []string
	seen := map[fabric.PrefixRule]bool{}
	add := func(r fabric.PrefixRule) {
		if !seen[r] {
			seen[r] = true
			rules = append(rules, r)
		}
	}
	if t.cfg.IPAM == config.IPAMHostLocal {
		for _, fp := range fps {
			for _, r := range t.podRules(fp.Node) {
				add(r)
			}
			sources = appendNew(sources, "Node/"+fp.Node)
		}
	} else {
		for _, pool := range t.cs.IPPools {
			if !pool.ForWorkloads() || pool.BlockSize < pool.CIDR.Bits() {
				continue
			}
			add(fabric.PrefixRule{Prefix: pool.CIDR.String(), LE: pool.BlockSize})
			sources = appendNew(sources, "IPPool/"+pool.Name)
		}
	}
	for _, p := range ranges {
		add(fabric.PrefixRule{Prefix: p.String(), LE: family(p.Addr().Is6()).MaxPrefixLen()})
		sources = appendNew(sources, "BGPConfiguration/default")
	}
	return rules, sources
}

// podRules are the pod prefixes a node may advertise. With Calico IPAM (the
// default): its IPAM blocks exactly; a node without blocks yet gets the
// enabled pools that may give it one, up to the block size (Calico hands a
// node a new block whenever it needs one, and a node may send any block of
// the pool). Never the node's Kubernetes podCIDR: Calico IPAM does not use
// it, so a filter built from it refuses the routes Calico really sends.
// With host-local IPAM: the node's podCIDRs exactly.
func (t *translator) podRules(node string) []fabric.PrefixRule {
	var out []fabric.PrefixRule
	if t.cfg.IPAM == config.IPAMHostLocal {
		if n, ok := t.node(node); ok {
			for _, p := range n.PodCIDRs {
				out = append(out, fabric.PrefixRule{Prefix: p.String(), LE: p.Bits()})
			}
		}
		return out
	}
	for _, p := range t.nodeBlocks(node) {
		out = append(out, fabric.PrefixRule{Prefix: p.String(), LE: p.Bits()})
	}
	if len(out) > 0 {
		return out
	}
	n, _ := t.node(node)
	for _, pool := range t.cs.IPPools {
		if !pool.ForWorkloads() || pool.BlockSize < pool.CIDR.Bits() || !poolSelects(pool, n) {
			continue
		}
		out = append(out, fabric.PrefixRule{Prefix: pool.CIDR.String(), LE: pool.BlockSize})
	}
	return out
}

func (t *translator) podSources(node string) []string {
	if t.cfg.IPAM == config.IPAMHostLocal {
		return []string{"Node/" + node}
	}
	if len(t.nodeBlocks(node)) > 0 {
		return []string{"IPAMBlock/*"}
	}
	var out []string
	for _, pool := range t.cs.IPPools {
		out = append(out, "IPPool/"+pool.Name)
	}
	return out
}

// poolSelects reports whether an IP pool may give blocks to a node.
func poolSelects(p k8swatch.IPPool, n k8swatch.Node) bool {
	sel, err := selector.Parse(p.NodeSelector)
	if err != nil {
		return false
	}
	return sel.Matches(n.Labels)
}

// pathsIntent gathers what the maximum-paths rule needs (see
// fabric.PathsIntent.PathsFor): service ranges and Cluster-policy services
// are advertised by every node, a Local service only by the nodes with a
// ready endpoint.
func (t *translator) pathsIntent(f *config.Fabric) fabric.PathsIntent {
	p := fabric.PathsIntent{Mode: string(f.MaximumPaths.Mode), Fixed: f.MaximumPaths.Paths, Limit: f.MaximumPaths.Limit,
		AllNodes: map[fabric.AddressFamily]bool{}}
	for _, r := range t.serviceRanges() {
		p.AllNodes[family(r.Addr().Is6())] = true
	}
	n := 0
	for _, s := range t.services {
		n += len(s.IPs)
	}
	p.Advertisers = make([]fabric.Advertised, 0, n)
	for _, s := range t.services {
		for _, ip := range s.IPs {
			if !t.advertised(ip) {
				continue
			}
			a := fabric.Advertised{Family: family(ip.Is6()), Every: s.ExternalTrafficPolicy != "Local"}
			if !a.Every {
				a.Nodes = s.EndpointNodes
			}
			p.Advertisers = append(p.Advertisers, a)
		}
	}
	return p
}

// dedupeSkips sorts skips and drops repeats (each fabric's driver may skip
// the same input).
func dedupeSkips(skips []fabric.Skip) []fabric.Skip {
	sort.SliceStable(skips, func(i, j int) bool { return skips[i].Object < skips[j].Object })
	seen := map[fabric.Skip]bool{}
	out := []fabric.Skip{}
	for _, s := range skips {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func dedupeStrings(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
