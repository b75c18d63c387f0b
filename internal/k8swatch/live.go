package k8swatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Resource is one kind of object the Watcher watches.
type Resource struct {
	schema.GroupVersionResource
	Kind string
	// Namespace limits the watch to one namespace ("" = all).
	Namespace string
	// FieldSelector limits the watch to matching objects.
	FieldSelector string
}

// APIVersion is group/version, or "v1" for the core group.
func (r Resource) APIVersion() string { return r.GroupVersion().String() }

func (r Resource) String() string {
	s := r.Resource
	if r.Group != "" {
		s += "." + r.Group
	}
	s += "/" + r.Version
	if r.Namespace != "" {
		s += " in " + r.Namespace
	}
	if r.FieldSelector != "" {
		s += " (" + r.FieldSelector + ")"
	}
	return s
}

// The legacy MetalLB ConfigMap (MetalLB before 0.13).
const (
	metalLBNamespace     = "metallb-system"
	metalLBConfigMapName = "config"
)

// Legacy MetalLB ConfigMap modes.
const (
	LegacyMetalLBAuto = "auto"
	LegacyMetalLBOn   = "on"
	LegacyMetalLBOff  = "off"
)

// LiveOptions tune a Watcher.
type LiveOptions struct {
	Logger *slog.Logger
	// LegacyMetalLB says whether to watch MetalLB's pre-0.13 ConfigMap
	// metallb-system/config: "auto" (the default) watches it when the
	// cluster serves no metallb.io IPAddressPool and the watcher may read
	// ConfigMaps in metallb-system; "on" always; "off" never.
	LegacyMetalLB string
	// SecretNamespace is where the Secrets BGPPeer passwords name are
	// (calico-node's namespace); "" reads none. They are read by name when
	// the state is built, never listed or watched, so the RBAC may grant
	// get on exactly those Secrets.
	SecretNamespace string
}

// calicoKinds are the Calico kinds the builder reads, by kind: the
// projectcalico.org/v3 resource (served by the Calico API server) and the
// crd.projectcalico.org/v1 one (the Kubernetes datastore's CRDs). ""
// means that spelling has no such kind.
var calicoKinds = []struct{ kind, v3, crdv1 string }{
	{"Node", "nodes", ""}, // without the API server, Calico nodes live in core Node annotations
	{"BGPPeer", "bgppeers", "bgppeers"},
	{"BGPConfiguration", "bgpconfigurations", "bgpconfigurations"},
	{"IPPool", "ippools", "ippools"},
	{"BlockAffinity", "blockaffinities", "blockaffinities"},
	{"IPAMBlock", "", "ipamblocks"},
}

// DiscoverResources decides what to watch from what the cluster serves:
// core Nodes, Services and EndpointSlices always; each Calico kind in its
// projectcalico.org/v3 spelling when the Calico API server serves it, else
// its crd.projectcalico.org/v1 one; MetalLB IPAddressPools, BGPPeers and
// BGPAdvertisements and PureLB ServiceGroups when their CRDs exist;
// MetalLB's legacy ConfigMap as
// LiveOptions.LegacyMetalLB says.
func DiscoverResources(ctx context.Context, client kubernetes.Interface, opts LiveOptions) ([]Resource, error) {
	res := []Resource{
		{GroupVersionResource: schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, Kind: "Node"},
		{GroupVersionResource: schema.GroupVersionResource{Version: "v1", Resource: "services"}, Kind: "Service"},
		{GroupVersionResource: schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, Kind: "EndpointSlice"},
	}
	served := func(gv string) (map[string]bool, error) {
		rl, err := client.Discovery().ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			return map[string]bool{}, nil
		}
		if err != nil {
			// An aggregated API whose server is down answers 503: a
			// transient state, not "not installed".
			return nil, fmt.Errorf("discovery of %s: %w", gv, err)
		}
		m := map[string]bool{}
		for _, r := range rl.APIResources {
			if !strings.Contains(r.Name, "/") && hasVerbs(r.Verbs, "list", "watch") {
				m[r.Name] = true
			}
		}
		return m, nil
	}
	v3, err := served(CalicoV3)
	if err != nil {
		return nil, err
	}
	crdv1, err := served(CalicoCRDV1)
	if err != nil {
		return nil, err
	}
	for _, k := range calicoKinds {
		switch {
		case k.v3 != "" && v3[k.v3]:
			res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: k.v3}, Kind: k.kind})
		case k.crdv1 != "" && crdv1[k.crdv1]:
			res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: k.crdv1}, Kind: k.kind})
		}
	}
	metallb, err := served(MetalLBV1b1)
	if err != nil {
		return nil, err
	}
	if metallb["ipaddresspools"] {
		res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}, Kind: "IPAddressPool"})
	}
	// MetalLB's own BGP set-up, read for doctor: advertisements in
	// v1beta1, peers in v1beta2 (v1beta1 in MetalLB before 0.13.10).
	if metallb["bgpadvertisements"] {
		res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "bgpadvertisements"}, Kind: "BGPAdvertisement"})
	}
	metallb2, err := served(MetalLBV1b2)
	if err != nil {
		return nil, err
	}
	switch {
	case metallb2["bgppeers"]:
		res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta2", Resource: "bgppeers"}, Kind: "BGPPeer"})
	case metallb["bgppeers"]:
		res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "bgppeers"}, Kind: "BGPPeer"})
	}
	purelb, err := served(PureLBV1)
	if err != nil {
		return nil, err
	}
	if purelb["servicegroups"] {
		res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Group: "purelb.io", Version: "v1", Resource: "servicegroups"}, Kind: "ServiceGroup"})
	}

	legacy := false
	switch opts.LegacyMetalLB {
	case LegacyMetalLBOn:
		legacy = true
	case LegacyMetalLBOff:
	case LegacyMetalLBAuto, "":
		if !metallb["ipaddresspools"] {
			// Without permission the informer would never sync and hold
			// every reconcile back; ask first.
			legacy, err = mayWatchConfigMap(ctx, client)
			if err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("legacy MetalLB ConfigMap mode %q: use auto, on or off", opts.LegacyMetalLB)
	}
	if legacy {
		res = append(res, Resource{GroupVersionResource: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap",
			Namespace: metalLBNamespace, FieldSelector: "metadata.name=" + metalLBConfigMapName})
	}
	return res, nil
}

func hasVerbs(have metav1.Verbs, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

func mayWatchConfigMap(ctx context.Context, client kubernetes.Interface) (bool, error) {
	for _, verb := range []string{"list", "watch"} {
		r, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: metalLBNamespace, Verb: verb, Resource: "configmaps", Name: metalLBConfigMapName}},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, fmt.Errorf("access review for configmaps in %s: %w", metalLBNamespace, err)
		}
		if !r.Status.Allowed {
			return false, nil
		}
	}
	return true, nil
}

// Watcher keeps informer caches of every object the reconciler reads and
// builds a ClusterState from them with the same Builder the YAML loader
// uses, so the same objects give the same state.
type Watcher struct {
	log       *slog.Logger
	resources []Resource
	informers []cache.SharedIndexInformer
	changed   chan struct{}

	relevant, ignored atomic.Uint64

	mu   sync.Mutex
	memo map[string]memoEntry

	// client and secretNS read the Secrets BGPPeer passwords name.
	client   kubernetes.Interface
	secretNS string
}

type memoEntry struct {
	rv   string
	json []byte
}

// NewWatcher discovers what the cluster serves and sets up the informers.
// Nothing is listed before Start.
func NewWatcher(ctx context.Context, cfg *rest.Config, opts LiveOptions) (*Watcher, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	res, err := DiscoverResources(ctx, client, opts)
	if err != nil {
		return nil, err
	}
	return NewWatcherFor(client, dc, res, opts)
}

// NewWatcherFor sets up informers for the given resources.
func NewWatcherFor(client kubernetes.Interface, dc dynamic.Interface, res []Resource, opts LiveOptions) (*Watcher, error) {
	w := &Watcher{log: opts.Logger, resources: res, changed: make(chan struct{}, 1), memo: map[string]memoEntry{},
		client: client, secretNS: opts.SecretNamespace}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	// One informer per Resource, made here rather than by a
	// SharedInformerFactory (or dynamicinformer's factory). A factory
	// applies one namespace and one list-options tweak to every informer
	// it makes, while each Resource carries its own: today the core kinds
	// and the CRDs are cluster-wide and unfiltered, and only MetalLB's
	// legacy ConfigMap is limited (metallb-system, metadata.name=config),
	// so it would need a factory of its own, beside the typed factory and
	// the dynamic one for the CRDs. And a factory's gain, one informer per
	// type shared by several consumers, is none here: the Watcher is the
	// only consumer, and what it watches is discovered at run time.
	for _, r := range res {
		var inf cache.SharedIndexInformer
		switch r.Kind + "@" + r.APIVersion() {
		case "Node@v1":
			inf = cache.NewSharedIndexInformer(listWatch(client.CoreV1().RESTClient(), r), &corev1.Node{}, 0, nil)
		case "Service@v1":
			inf = cache.NewSharedIndexInformer(listWatch(client.CoreV1().RESTClient(), r), &corev1.Service{}, 0, nil)
		case "ConfigMap@v1":
			inf = cache.NewSharedIndexInformer(listWatch(client.CoreV1().RESTClient(), r), &corev1.ConfigMap{}, 0, nil)
		case "EndpointSlice@discovery.k8s.io/v1":
			inf = cache.NewSharedIndexInformer(listWatch(client.DiscoveryV1().RESTClient(), r), &discoveryv1.EndpointSlice{}, 0, nil)
		default:
			if r.Group == "" {
				return nil, fmt.Errorf("watch %s: not a kind the watcher knows", r)
			}
			var tweak dynamicinformer.TweakListOptionsFunc
			if r.FieldSelector != "" {
				sel := r.FieldSelector
				tweak = func(o *metav1.ListOptions) { o.FieldSelector = sel }
			}
			inf = dynamicinformer.NewFilteredDynamicInformer(dc, r.GroupVersionResource, r.Namespace, 0, cache.Indexers{}, tweak).Informer()
		}
		if err := inf.SetTransform(Strip); err != nil {
			return nil, err
		}
		res := r
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			w.log.Warn("watch failed; retrying", "resource", res.String(), "error", err)
		})
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { w.relevant.Add(1); w.notify() },
			UpdateFunc: func(old, cur any) {
				if sameContent(old, cur) {
					w.ignored.Add(1)
					return
				}
				w.relevant.Add(1)
				w.notify()
			},
			DeleteFunc: func(any) { w.relevant.Add(1); w.notify() },
		}); err != nil {
			return nil, err
		}
		w.informers = append(w.informers, inf)
	}
	return w, nil
}

func listWatch(c rest.Interface, r Resource) *cache.ListWatch {
	sel := fields.Everything()
	if r.FieldSelector != "" {
		sel = fields.ParseSelectorOrDie(r.FieldSelector)
	}
	return cache.NewListWatchFromClient(c, r.Resource, r.Namespace, sel)
}

// EventCounts returns how many informer events changed something the
// reconciler reads (relevant) and how many did not (ignored: a Node's
// heartbeat, a Service field nobody reads).
func (w *Watcher) EventCounts() (relevant, ignored uint64) {
	return w.relevant.Load(), w.ignored.Load()
}

// Resources lists what the watcher watches.
func (w *Watcher) Resources() []Resource { return append([]Resource(nil), w.resources...) }

// Changed delivers a value after any watched object changed in a way the
// reconciler can see, and once when every cache has synced. Changes that
// arrive while a value is pending are merged into it.
func (w *Watcher) Changed() <-chan struct{} { return w.changed }

func (w *Watcher) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Start runs the informers until ctx ends.
func (w *Watcher) Start(ctx context.Context) {
	var syncs []cache.InformerSynced
	for _, inf := range w.informers {
		go inf.RunWithContext(ctx)
		syncs = append(syncs, inf.HasSynced)
	}
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), syncs...) {
			w.log.Info("informer caches synced", "resources", len(w.informers))
			w.notify()
		}
	}()
}

// Synced reports whether every informer has listed its objects once. Until
// then the caches may miss objects, and a state built from them must not be
// acted on: it could delete what the fabric rightly holds.
func (w *Watcher) Synced() bool {
	for _, inf := range w.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// WaitForSync blocks until every informer has synced or ctx ends.
func (w *Watcher) WaitForSync(ctx context.Context) bool {
	var syncs []cache.InformerSynced
	for _, inf := range w.informers {
		syncs = append(syncs, inf.HasSynced)
	}
	return cache.WaitForCacheSync(ctx.Done(), syncs...)
}

// ErrNotSynced is State's answer before every informer has synced.
var ErrNotSynced = errors.New("the informer caches have not synced yet")

// State builds the ClusterState of the cached objects.
func (w *Watcher) State() (ClusterState, error) {
	if !w.Synced() {
		return ClusterState{}, ErrNotSynced
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	b := NewBuilder()
	memo := make(map[string]memoEntry, len(w.memo))
	for i, inf := range w.informers {
		r := w.resources[i]
		for _, obj := range inf.GetStore().List() {
			m, err := metaOf(obj)
			if err != nil {
				continue
			}
			key := r.String() + "|" + m.GetNamespace() + "/" + m.GetName()
			e, ok := w.memo[key]
			if !ok || e.rv != m.GetResourceVersion() {
				js, err := ObjectJSON(obj)
				if err != nil {
					b.problem("", objectName(r.Kind, m.GetNamespace(), m.GetName()), "cannot encode: %v", err)
					continue
				}
				e = memoEntry{rv: m.GetResourceVersion(), json: js}
			}
			memo[key] = e
			b.Add("", e.json)
		}
	}
	w.memo = memo
	w.readSecrets(b)
	cs := b.Build()
	// The informers list every kind they read: none means none.
	cs.Complete = true
	return cs, nil
}

// Reference returns a reference to a cached Node or Service (for Events).
func (w *Watcher) Reference(kind, namespace, name string) (corev1.ObjectReference, bool) {
	for i, inf := range w.informers {
		r := w.resources[i]
		if r.Kind != kind || r.Group != "" {
			continue
		}
		key := name
		if namespace != "" {
			key = namespace + "/" + name
		}
		obj, ok, err := inf.GetStore().GetByKey(key)
		if err != nil || !ok {
			return corev1.ObjectReference{}, false
		}
		m, err := metaOf(obj)
		if err != nil {
			return corev1.ObjectReference{}, false
		}
		return corev1.ObjectReference{APIVersion: r.APIVersion(), Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName(),
			UID: m.GetUID(), ResourceVersion: m.GetResourceVersion()}, true
	}
	return corev1.ObjectReference{}, false
}

// LoadLive reads a cluster once: it lists every watched resource, waits
// for the caches to sync (or ctx to end) and returns the state.
func LoadLive(ctx context.Context, cfg *rest.Config, opts LiveOptions) (ClusterState, error) {
	w, err := NewWatcher(ctx, cfg, opts)
	if err != nil {
		return ClusterState{}, err
	}
	var cancel context.CancelFunc
	if _, has := ctx.Deadline(); has {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, defaultSyncTimeout)
	}
	defer cancel()
	w.Start(ctx)
	if !w.WaitForSync(ctx) {
		var pending []string
		for i, inf := range w.informers {
			if !inf.HasSynced() {
				pending = append(pending, w.resources[i].String())
			}
		}
		sort.Strings(pending)
		return ClusterState{}, fmt.Errorf("reading the cluster: %w (still listing %s)", ctx.Err(), strings.Join(pending, ", "))
	}
	return w.State()
}

// --- transforms: keep only what the builder reads ---

func metaOf(obj any) (metav1.Object, error) {
	if m, ok := obj.(metav1.Object); ok {
		return m, nil
	}
	return nil, fmt.Errorf("%T has no object metadata", obj)
}

// Strip is the informers' transform: it drops every field the reconciler
// never reads (managed fields, status conditions, most annotations, a
// Service's cluster IPs, an IPAM block's allocations, ...), so that the
// caches stay small in large clusters. It is idempotent, and it keeps name,
// namespace, uid and resourceVersion, which the informers need.
func Strip(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Node:
		return stripNode(o), nil
	case *corev1.Service:
		return stripService(o), nil
	case *discoveryv1.EndpointSlice:
		return stripEndpointSlice(o), nil
	case *corev1.ConfigMap:
		out := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: slimMeta(o.ObjectMeta, false, nil)}
		if v, ok := o.Data["config"]; ok {
			out.Data = map[string]string{"config": v}
		}
		return out, nil
	case *unstructured.Unstructured:
		return stripUnstructured(o), nil
	}
	return obj, nil // tombstones and anything else pass through
}

// keepAnnotation reports whether the builder reads an annotation.
func keepAnnotation(k string) bool {
	if strings.HasPrefix(k, "projectcalico.org/") {
		return true
	}
	for _, s := range sharingAnnotations {
		if k == s {
			return true
		}
	}
	return false
}

func slimMeta(m metav1.ObjectMeta, labels bool, onlyLabel []string) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp}
	if labels {
		out.Labels = m.Labels
	}
	for _, k := range onlyLabel {
		if v, ok := m.Labels[k]; ok {
			if out.Labels == nil {
				out.Labels = map[string]string{}
			}
			out.Labels[k] = v
		}
	}
	for k, v := range m.Annotations {
		if keepAnnotation(k) {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	return out
}

func stripNode(n *corev1.Node) *corev1.Node {
	out := &corev1.Node{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: slimMeta(n.ObjectMeta, true, nil)}
	out.Spec.PodCIDR = n.Spec.PodCIDR
	out.Spec.PodCIDRs = n.Spec.PodCIDRs
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			out.Status.Addresses = append(out.Status.Addresses, a)
		}
	}
	return out
}

func stripService(s *corev1.Service) *corev1.Service {
	// Labels are kept: a driver may group services by one.
	out := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: slimMeta(s.ObjectMeta, true, nil)}
	out.Spec.Type = s.Spec.Type
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		out.Annotations, out.Labels = nil, nil
		return out // only a change of type matters
	}
	out.Spec.ExternalTrafficPolicy = s.Spec.ExternalTrafficPolicy
	out.Spec.LoadBalancerIP = s.Spec.LoadBalancerIP
	for _, p := range s.Spec.Ports {
		out.Spec.Ports = append(out.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port})
	}
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			out.Status.LoadBalancer.Ingress = append(out.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ing.IP})
		}
	}
	return out
}

func stripEndpointSlice(es *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	out := &discoveryv1.EndpointSlice{TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: slimMeta(es.ObjectMeta, false, []string{discoveryv1.LabelServiceName}), AddressType: es.AddressType}
	out.Annotations = nil
	seen := map[string]bool{}
	for _, ep := range es.Endpoints {
		// The builder counts ready endpoints with a node, once per node.
		if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
			continue
		}
		if ep.NodeName == nil || *ep.NodeName == "" || seen[*ep.NodeName] {
			continue
		}
		seen[*ep.NodeName] = true
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{NodeName: ep.NodeName})
	}
	sort.Slice(out.Endpoints, func(i, j int) bool { return *out.Endpoints[i].NodeName < *out.Endpoints[j].NodeName })
	return out
}

func stripUnstructured(u *unstructured.Unstructured) *unstructured.Unstructured {
	meta := map[string]any{"name": u.GetName()}
	if ns := u.GetNamespace(); ns != "" {
		meta["namespace"] = ns
	}
	if uid := u.GetUID(); uid != "" {
		meta["uid"] = string(uid)
	}
	if rv := u.GetResourceVersion(); rv != "" {
		meta["resourceVersion"] = rv
	}
	if l, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "labels"); ok && l != nil {
		meta["labels"] = l
	}
	ann := map[string]any{}
	for k, v := range u.GetAnnotations() {
		if keepAnnotation(k) {
			ann[k] = v
		}
	}
	if len(ann) > 0 {
		meta["annotations"] = ann
	}
	out := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": meta}
	spec, ok := u.Object["spec"]
	if ok && u.GetKind() == "IPAMBlock" {
		// A block's allocations and attributes grow with its pods; the
		// builder reads only its CIDR, affinity and deleted flag.
		if m, isMap := spec.(map[string]any); isMap {
			slim := map[string]any{}
			for _, k := range []string{"cidr", "affinity", "deleted"} {
				if v, has := m[k]; has {
					slim[k] = v
				}
			}
			spec = slim
		}
	}
	if ok {
		out["spec"] = spec
	}
	if data, has := u.Object["data"]; has {
		out["data"] = data
	}
	return &unstructured.Unstructured{Object: out}
}

// ObjectJSON is an object's JSON form as the Builder reads it (apiVersion
// and kind set), without its resourceVersion.
func ObjectJSON(obj any) ([]byte, error) {
	switch o := obj.(type) {
	case *corev1.Node:
		c := *o
		c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}
		c.ResourceVersion = ""
		return json.Marshal(&c)
	case *corev1.Service:
		c := *o
		c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
		c.ResourceVersion = ""
		return json.Marshal(&c)
	case *corev1.ConfigMap:
		c := *o
		c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
		c.ResourceVersion = ""
		return json.Marshal(&c)
	case *discoveryv1.EndpointSlice:
		c := *o
		c.TypeMeta = metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}
		c.ResourceVersion = ""
		return json.Marshal(&c)
	case *unstructured.Unstructured:
		top := make(map[string]any, len(o.Object))
		for k, v := range o.Object {
			top[k] = v
		}
		if m, ok := top["metadata"].(map[string]any); ok {
			mc := make(map[string]any, len(m))
			for k, v := range m {
				if k != "resourceVersion" {
					mc[k] = v
				}
			}
			top["metadata"] = mc
		}
		return json.Marshal(top)
	}
	return nil, fmt.Errorf("unexpected object type %T", obj)
}

// sameContent reports whether an update changed nothing the builder reads
// (a Node heartbeat, a Service's unrelated field): such updates need no
// reconcile.
func sameContent(a, b any) bool {
	ja, err1 := ObjectJSON(a)
	jb, err2 := ObjectJSON(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// defaultSyncTimeout bounds LoadLive's wait when ctx has no deadline.
const defaultSyncTimeout = 2 * time.Minute

// readSecrets gets, by name, the Secrets the BGPPeers' passwords name. A
// Secret that cannot be read is left out: the reconciler then skips the
// BGPPeer, and so holds its sessions, rather than configure them without
// their password.
func (w *Watcher) readSecrets(b *Builder) {
	if w.client == nil || w.secretNS == "" {
		return
	}
	names := map[string]bool{}
	for _, p := range b.peers {
		if p.v.Password != nil {
			names[p.v.Password.Name] = true
		}
	}
	for name := range names {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sec, err := w.client.CoreV1().Secrets(w.secretNS).Get(ctx, name, metav1.GetOptions{})
		cancel()
		if err != nil {
			w.log.Warn("cannot read a BGPPeer password's Secret", "namespace", w.secretNS, "name", name, "error", err)
			continue
		}
		for k, v := range sec.Data {
			b.secrets[w.secretNS+"/"+name+"/"+k] = SecretValue{value: string(v)}
		}
	}
}
