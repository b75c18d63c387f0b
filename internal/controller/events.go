package controller

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/doctor"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// Event reasons.
const (
	ReasonCreated  = "FabricObjectCreated"
	ReasonUpdated  = "FabricObjectUpdated"
	ReasonDeleted  = "FabricObjectDeleted"
	ReasonConflict = "FabricConflict"
	// ReasonRefused: a safety guard refused a fabric's whole plan.
	ReasonRefused = "FabricPlanRefused"
)

// referencer finds the cluster object an event is about.
type referencer interface {
	Reference(kind, namespace, name string) (corev1.ObjectReference, bool)
}

// eventer puts a Kubernetes Event on the Service or Node whose fabric
// objects changed, and a warning when one of its objects is blocked by a
// foreign object on the fabric (once, when the conflict appears).
type eventer struct {
	rec  record.EventRecorder
	refs referencer
	log  *slog.Logger

	// anchor is the object refusals are reported on (the Lease): the
	// objects a refused plan would delete are often gone from the cluster.
	anchor corev1.ObjectReference

	mu        sync.Mutex
	conflicts map[string]map[fabric.Key]bool // by fabric
	refused   map[string]string              // by fabric: the refusal last reported
}

func newEventer(rec record.EventRecorder, refs referencer, log *slog.Logger, anchor corev1.ObjectReference) *eventer {
	return &eventer{rec: rec, refs: refs, log: log, anchor: anchor, conflicts: map[string]map[fabric.Key]bool{}, refused: map[string]string{}}
}

func (e *eventer) Translated(k8swatch.ClusterState, reconciler.Translation) {}

func (e *eventer) Reconciled(r reconciler.Round) {
	groups := serviceGroups(r)
	for _, c := range r.Result.Applied {
		reason, verb := ReasonUpdated, "updated"
		switch c.Action {
		case fabric.ActionCreate:
			reason, verb = ReasonCreated, "created"
		case fabric.ActionDelete:
			reason, verb = ReasonDeleted, "deleted"
		}
		for _, ref := range e.targets(r.Cluster, groups, c.Key(), c.Object()) {
			e.rec.Eventf(&ref, corev1.EventTypeNormal, reason, "fabric %s: %s %s", r.Fabric, verb, c.Key())
		}
	}
	if r.Stage == reconciler.StageObserve {
		return // no plan: conflicts unknown
	}
	e.mu.Lock()
	last := e.refused[r.Fabric]
	e.refused[r.Fabric] = r.Plan.Refused
	e.mu.Unlock()
	if r.Plan.Refused != "" && r.Plan.Refused != last {
		ref := e.anchor
		e.rec.Eventf(&ref, corev1.EventTypeWarning, ReasonRefused, "fabric %s: plan refused, nothing applied: %s", r.Fabric, r.Plan.Refused)
	}
	current := map[fabric.Key]bool{}
	e.mu.Lock()
	seen := e.conflicts[r.Fabric]
	e.conflicts[r.Fabric] = current
	e.mu.Unlock()
	for _, c := range r.Plan.Conflicts {
		k := fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}
		current[k] = true
		if seen[k] {
			continue
		}
		for _, ref := range e.targets(r.Cluster, groups, k, nil) {
			e.rec.Eventf(&ref, corev1.EventTypeWarning, ReasonConflict, "fabric %s: %s: %s", r.Fabric, k, c.Reason)
		}
	}
}

// serviceGroups maps each external EPG (group) that holds a service's
// host route to that service's IP, from everything the round saw.
func serviceGroups(r reconciler.Round) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	add := func(o fabric.Object) {
		s, ok := o.(fabric.ExternalSubnet)
		if !ok {
			return
		}
		if p, err := netip.ParsePrefix(s.Prefix); err == nil && p.IsSingleIP() {
			out[s.Group] = append(out[s.Group], p.Addr())
		}
	}
	for _, o := range r.Observed.Owned.Objects() {
		add(o)
	}
	for _, c := range r.Plan.Changes {
		add(c.Object())
	}
	return out
}

// targets returns the cluster objects a fabric object stands for: the Node
// of a BGP peer or prefix filter, the Service of a LoadBalancer IP's subnet
// or of the contract its EPG provides. Fabric-wide objects (maximum-paths,
// the node and pod subnets) stand for no single object.
func (e *eventer) targets(cs k8swatch.ClusterState, groups map[string][]netip.Addr, k fabric.Key, o fabric.Object) []corev1.ObjectReference {
	var nodes []string
	var ips []netip.Addr
	switch v := o.(type) {
	case fabric.BGPPeer:
		nodes = append(nodes, v.Node)
	case fabric.PrefixFilter:
		nodes = append(nodes, v.Node)
	case fabric.ExternalSubnet:
		if p, err := netip.ParsePrefix(v.Prefix); err == nil && p.IsSingleIP() {
			ips = append(ips, p.Addr())
		}
	case fabric.Contract:
		ips = append(ips, groups[v.Provider]...)
	case nil:
		// A conflict carries only its key.
		switch k.Kind {
		case fabric.KindBGPPeer, fabric.KindPrefixFilter:
			if a, err := netip.ParseAddr(k.ID); err == nil {
				for _, n := range cs.Nodes {
					if n.BGP.IPv4Address.Addr() == a || n.BGP.IPv6Address.Addr() == a {
						nodes = append(nodes, n.Name)
					}
				}
			}
		case fabric.KindExternalSubnet:
			// The id is "<group>/<prefix>"; the prefix holds one slash.
			if i := strings.LastIndex(k.ID, "/"); i > 0 {
				if j := strings.LastIndex(k.ID[:i], "/"); j >= 0 {
					if p, err := netip.ParsePrefix(k.ID[j+1:]); err == nil && p.IsSingleIP() {
						ips = append(ips, p.Addr())
					}
				}
			}
		}
	}
	var refs []corev1.ObjectReference
	for _, n := range nodes {
		if ref, ok := e.refs.Reference("Node", "", n); ok {
			refs = append(refs, ref)
		}
	}
	seen := map[string]bool{}
	for _, ip := range ips {
		for _, s := range cs.Services {
			for _, sip := range s.IPs {
				if sip != ip || seen[s.Key()] {
					continue
				}
				seen[s.Key()] = true
				if ref, ok := e.refs.Reference("Service", s.Namespace, s.Name); ok {
					refs = append(refs, ref)
				}
			}
		}
	}
	return refs
}

// hooks fans one loop's hooks out to several listeners.
type hooks []reconciler.Hooks

func (h hooks) Translated(cs k8swatch.ClusterState, tr reconciler.Translation) {
	for _, x := range h {
		x.Translated(cs, tr)
	}
}

func (h hooks) Reconciled(r reconciler.Round) {
	for _, x := range h {
		x.Reconciled(r)
	}
}

// logHooks logs what translation skipped and doctor's errors and warnings
// (the cluster set-ups no fabric can make work), once per change of the
// list.
type logHooks struct {
	log  *slog.Logger
	cfg  *config.Config
	mu   sync.Mutex
	last string
}

func (l *logHooks) Translated(cs k8swatch.ClusterState, tr reconciler.Translation) {
	d := tr.Desired
	if l.cfg != nil {
		d.Warnings = append(slices.Clip(d.Warnings), doctor.CheckTranslated(cs, l.cfg, tr).PlanWarnings()...)
	}
	var b strings.Builder
	for _, s := range d.Skipped {
		fmt.Fprintf(&b, "%s: %s\n", s.Object, s.Reason)
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	l.mu.Lock()
	changed := b.String() != l.last
	l.last = b.String()
	l.mu.Unlock()
	if !changed {
		return
	}
	for _, s := range d.Skipped {
		l.log.Warn("cluster object skipped", "object", s.Object, "reason", s.Reason)
	}
	for _, w := range d.Warnings {
		l.log.Warn("translation warning", "warning", w)
	}
}

func (l *logHooks) Reconciled(reconciler.Round) {}
