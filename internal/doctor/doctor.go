// Package doctor checks a cluster's routing set-up and the fabric
// configuration without touching any switch: the mistakes that leave a
// LoadBalancer address unreachable, traffic black-holed or failover slow
// whatever the fabric holds (a MetalLB pool Calico does not advertise, a
// .0 address, the node-to-node mesh left on, MetalLB and Calico both
// peering with one ToR, an IP pool over the nodes' subnet, a maximum-paths
// below the number of advertisers, ...).
//
// Each finding has a stable id (Rules lists them), a severity, the objects
// involved and what to do. `fabric-reconciler doctor` prints them; `plan`
// shows the errors and warnings among its warnings, from the same checks.
package doctor

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// Severity says how bad a finding is.
type Severity string

const (
	// Error: traffic is lost, or the set-up cannot work. doctor exits 1.
	Error Severity = "error"
	// Warning: it works, worse than it should (slow failover, uneven or
	// partial load sharing, an address some routers drop).
	Warning Severity = "warning"
	// Info: what the input cannot tell (a switch default, a setting the
	// driver does not manage); the finding says what to check, usually
	// with `verify`.
	Info Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Object is a cluster object, or a part of the configuration (kind
// "Fabric" or "Switch"), a finding involves.
type Object struct {
	Kind string `json:"kind"`
	// APIGroup tells kinds of the same name apart (MetalLB's BGPPeer,
	// metallb.io, from Calico's); empty for core and Calico kinds.
	APIGroup  string `json:"apiGroup,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (o Object) String() string {
	k := o.Kind
	if o.APIGroup != "" {
		k += "." + o.APIGroup
	}
	if o.Namespace != "" {
		return k + "/" + o.Namespace + "/" + o.Name
	}
	return k + "/" + o.Name
}

// Finding is one problem found.
type Finding struct {
	// ID names the rule (Rules): stable, for scripts and suppression
	// lists.
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Message says what is wrong, Fix what to do about it.
	Message string   `json:"message"`
	Objects []Object `json:"objects"`
	Fix     string   `json:"fix"`
}

// String is the finding on one line, as plan lists it among its warnings.
func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s (fix: %s)", f.Severity, f.ID, f.Message, f.Fix)
}

// FormatVersion is the version of the JSON report.
const FormatVersion = 1

// Report is everything doctor found.
type Report struct {
	FormatVersion int       `json:"formatVersion"`
	Summary       Summary   `json:"summary"`
	Findings      []Finding `json:"findings"`
}

// Summary counts the findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// HasErrors reports whether any finding is an error.
func (r Report) HasErrors() bool { return r.Summary.Errors > 0 }

// Clean reports whether nothing worse than info was found.
func (r Report) Clean() bool { return r.Summary.Errors == 0 && r.Summary.Warnings == 0 }

// ByID returns the findings of one rule.
func (r Report) ByID(id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// PlanWarnings are the errors and warnings as plan shows them, one line
// each. Skipped input is left out: plan lists it already.
func (r Report) PlanWarnings() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == Info || f.ID == RuleInputSkipped {
			continue
		}
		out = append(out, f.String())
	}
	return out
}

// Check runs every rule on a cluster state and a configuration. It reads
// nothing else and contacts nothing: it is pure.
func Check(cs k8swatch.ClusterState, cfg *config.Config) Report {
	return CheckTranslated(cs, cfg, reconciler.TranslateWithIntents(cs, cfg, reconciler.TranslateOptions{CalicoNamespace: cfg.CalicoNamespace}))
}

// CheckTranslated is Check on a translation already made (plan makes one).
func CheckTranslated(cs k8swatch.ClusterState, cfg *config.Config, tr reconciler.Translation) Report {
	c := newChecker(cs, cfg, tr)
	for _, r := range rules {
		if r.check != nil { // rules reported by another's check have none
			r.check(c)
		}
	}
	return c.report()
}

// checker is the state the rules share.
type checker struct {
	cs       k8swatch.ClusterState
	cfg      *config.Config
	intents  []fabric.Intent
	desired  fabric.Desired
	peers    []k8swatch.NodePeer
	findings []Finding

	// switchOf maps every configured peer IP to its fabric and switch.
	switchOf map[netip.Addr]fabricSwitch
	// fabricPeered lists, per node, the switches it peers with.
	fabricPeered map[string]map[fabricSwitch]bool
}

type fabricSwitch struct {
	fabric, sw string
}

func newChecker(cs k8swatch.ClusterState, cfg *config.Config, tr reconciler.Translation) *checker {
	c := &checker{cs: cs, cfg: cfg, switchOf: map[netip.Addr]fabricSwitch{}, fabricPeered: map[string]map[fabricSwitch]bool{}}
	c.intents, c.desired = tr.Intents, tr.Desired
	c.peers, _ = cs.ResolvePeers()
	for _, f := range cfg.Fabrics {
		for _, s := range f.Switches {
			for _, ip := range s.PeerIPs {
				if a, err := netip.ParseAddr(ip); err == nil {
					c.switchOf[a.Unmap()] = fabricSwitch{f.Name, s.Name}
				}
			}
		}
	}
	for _, p := range c.peers {
		if fs, ok := c.switchOf[p.PeerIP]; ok {
			if c.fabricPeered[p.Node] == nil {
				c.fabricPeered[p.Node] = map[fabricSwitch]bool{}
			}
			c.fabricPeered[p.Node][fs] = true
		}
	}
	return c
}

// peersWithFabric reports whether any node peers with a configured switch.
func (c *checker) peersWithFabric() bool { return len(c.fabricPeered) > 0 }

func (c *checker) add(id string, sev Severity, objects []Object, fix, format string, a ...any) {
	c.findings = append(c.findings, Finding{ID: id, Severity: sev, Message: fmt.Sprintf(format, a...), Objects: objects, Fix: fix})
}

func (c *checker) report() Report {
	seen := map[string]bool{}
	var out []Finding
	for _, f := range c.findings {
		key := f.ID + "\x00" + f.Message
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].Severity.rank(), out[j].Severity.rank(); a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	r := Report{FormatVersion: FormatVersion, Findings: out}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, f := range out {
		switch f.Severity {
		case Error:
			r.Summary.Errors++
		case Warning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
	return r
}

// Objects of the cluster, as findings name them.

func nodeObj(name string) Object    { return Object{Kind: "Node", Name: name} }
func bgpPeerObj(name string) Object { return Object{Kind: "BGPPeer", Name: name} }
func ipPoolObj(name string) Object  { return Object{Kind: "IPPool", Name: name} }
func bgpConfigObj() Object          { return Object{Kind: "BGPConfiguration", Name: "default"} }
func fabricObj(name string) Object  { return Object{Kind: "Fabric", Name: name} }
func switchObj(fabric, sw string) Object {
	return Object{Kind: "Switch", Namespace: fabric, Name: sw}
}
func serviceObj(s k8swatch.Service) Object {
	return Object{Kind: "Service", Namespace: s.Namespace, Name: s.Name}
}

// lbPoolObj is the object a LoadBalancer pool was read from.
func lbPoolObj(p k8swatch.LBPool) Object {
	switch p.Source {
	case "metallb":
		return Object{Kind: "IPAddressPool", APIGroup: "metallb.io", Namespace: p.Namespace, Name: p.Name}
	case "metallb-configmap":
		return Object{Kind: "ConfigMap", Namespace: p.Namespace, Name: "config"}
	case "purelb":
		return Object{Kind: "ServiceGroup", APIGroup: "purelb.io", Namespace: p.Namespace, Name: p.Name}
	}
	return Object{Kind: p.Source, Namespace: p.Namespace, Name: p.Name}
}

// lbPoolName is how a message names a pool.
func lbPoolName(p k8swatch.LBPool) string {
	switch p.Source {
	case "metallb":
		return "MetalLB IPAddressPool " + p.Namespace + "/" + p.Name
	case "metallb-configmap":
		return "MetalLB ConfigMap " + p.Namespace + "/config address-pool " + p.Name
	case "purelb":
		return "PureLB ServiceGroup " + p.Namespace + "/" + p.Name
	}
	return p.Source + " pool " + p.Name
}

// covers reports whether r contains the whole of p.
func covers(r, p netip.Prefix) bool { return r.Bits() <= p.Bits() && r.Contains(p.Addr()) }

func prefixList(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}
