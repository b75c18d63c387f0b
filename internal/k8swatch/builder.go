package k8swatch

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// API groups and versions the builder understands.
const (
	CalicoV3    = "projectcalico.org/v3"
	CalicoCRDV1 = "crd.projectcalico.org/v1"
	MetalLBV1b1 = "metallb.io/v1beta1"
	PureLBV1    = "purelb.io/v1"
)

// Annotations through which Calico's Kubernetes datastore keeps a Calico
// Node's BGP spec on the core Node.
const (
	AnnotationIPv4Address             = "projectcalico.org/IPv4Address"
	AnnotationIPv6Address             = "projectcalico.org/IPv6Address"
	AnnotationASNumber                = "projectcalico.org/ASNumber"
	AnnotationRouteReflectorClusterID = "projectcalico.org/RouteReflectorClusterID"
)

// MetalLB's IP sharing annotations (current and pre-0.13 spelling).
var sharingAnnotations = []string{"metallb.io/allow-shared-ip", "metallb.universe.tf/allow-shared-ip"}

// Builder collects Kubernetes objects and builds a ClusterState from them.
// The YAML loader and the informers both feed a Builder, so the same objects
// give the same state whichever way they arrive. It is not safe for
// concurrent use.
type Builder struct {
	coreNodes   map[string]nodeEntry
	calicoNodes map[string]nodeEntry
	peers       map[string]prioritized[BGPPeer]
	bgpConfig   *prioritized[BGPConfig]
	pools       map[string]prioritized[IPPool]
	blocks      map[string]IPAMBlock // by CIDR
	affinities  map[string]IPAMBlock // by CIDR+node
	services    map[string]Service
	slices      map[string]sliceInfo // by namespace/slice name
	lbPools     map[string]LBPool
	lbPeers     map[string]LBBGPPeer
	lbAdverts   map[string]LBAdvertisement
	problems    []Problem
	// Ignored counts objects of kinds the reconciler does not read.
	Ignored int
	// seen counts objects per kind; identities remembers the content of
	// each object (by API group, kind, namespace and name) to catch one
	// object given twice with different content; conflicted holds those.
	seen       map[string]int
	identities map[string]identity
	conflicted map[string]bool
	// blockKeys maps "IPAMBlock/<name>" and "BlockAffinity/<name>" to the
	// key the object is recorded under in blocks or affinities.
	blockKeys map[string]string
	// secrets are every Secret's keys read, until Build keeps those a
	// BGPPeer names.
	secrets map[string]SecretValue
}

// identity is what the builder remembers of one input object: its JSON as
// given (which slices the file's data; nothing is copied), compared in full
// only when the object comes again.
type identity struct {
	raw    []byte
	source string
}

// prioritized keeps the v3 spelling over the crd.projectcalico.org/v1 one
// when an export holds both for one name.
type prioritized[T any] struct {
	v  T
	v3 bool
}

type nodeEntry struct {
	node   Node
	hasBGP bool
}

type sliceInfo struct {
	service string // namespace/name
	nodes   []string
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		coreNodes: map[string]nodeEntry{}, calicoNodes: map[string]nodeEntry{},
		peers: map[string]prioritized[BGPPeer]{}, pools: map[string]prioritized[IPPool]{},
		blocks: map[string]IPAMBlock{}, affinities: map[string]IPAMBlock{},
		services: map[string]Service{}, slices: map[string]sliceInfo{}, lbPools: map[string]LBPool{},
		lbPeers: map[string]LBBGPPeer{}, lbAdverts: map[string]LBAdvertisement{},
		seen: map[string]int{}, identities: map[string]identity{}, conflicted: map[string]bool{}, blockKeys: map[string]string{}, secrets: map[string]SecretValue{},
	}
}

func (b *Builder) problem(source, object, format string, a ...any) {
	b.problems = append(b.problems, Problem{Object: object, Source: source, Reason: fmt.Sprintf(format, a...)})
}

// objectMeta is the part of metadata the builder reads.
type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type envelope struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   objectMeta      `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
	Data       json.RawMessage `json:"data"`
}

// Add decodes one object (its JSON form, as kubectl or calicoctl export it)
// and records it. Unknown kinds are counted and ignored; malformed known
// objects become Problems naming source and object. It reports whether the
// object was of a known kind.
func (b *Builder) Add(source string, raw []byte) bool {
	head, _ := scanHeader(raw)
	return b.add(source, raw, head)
}

// add is Add with the object's header already read. The kinds a large
// cluster has many of (Services, EndpointSlices, Nodes) are decoded once,
// straight into the fields the builder reads; if that decode fails the
// object takes the general path, so its Problem reads as it always has.
func (b *Builder) add(source string, raw []byte, head header) bool {
	if d, ok := decodeSlim(head, raw); ok {
		return b.addSlim(source, raw, d)
	}
	return b.addDecoded(source, raw)
}

// addSlim records an object decodeSlim has decoded.
func (b *Builder) addSlim(source string, raw []byte, d slimObject) bool {
	env := d.env
	obj := objectName(env.Kind, env.Metadata.Namespace, env.Metadata.Name)
	b.seen[seenKind(env.APIVersion, env.Kind)]++
	if env.Metadata.Name == "" {
		b.problem(source, obj, "metadata.name is missing")
		return true
	}
	if !b.firstOrSame(source, obj, env, raw) {
		return true
	}
	var err error
	switch {
	case d.service != nil:
		err = b.recordService(d.service)
	case d.slice != nil:
		err = b.recordEndpointSlice(d.slice)
	case d.node != nil:
		err = b.recordCoreNode(d.node)
	}
	if err != nil {
		b.problem(source, obj, "%v", err)
	}
	return true
}

// slimObject is a Service, EndpointSlice or core Node in its slim form,
// with the envelope the bookkeeping reads.
type slimObject struct {
	env     envelope
	service *slimService
	slice   *slimEndpointSlice
	node    *slimNode
}

// decodeSlim decodes a Service, EndpointSlice or core Node into its slim
// form (slimscan.go directly, else encoding/json). ok is false for other
// kinds and on any error. It touches no
// Builder state, so list items can be decoded in parallel.
func decodeSlim(head header, raw []byte) (d slimObject, ok bool) {
	meta := func(m objectMetaFields) envelope {
		return envelope{APIVersion: head.APIVersion, Kind: head.Kind,
			Metadata: objectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}}
	}
	switch head.APIVersion + "/" + head.Kind {
	case "v1/Service":
		s := new(slimService)
		if scanService(raw, s) || json.Unmarshal(raw, new2(&s)) == nil {
			return slimObject{env: meta(s.objectMetaFields), service: s}, true
		}
	case "discovery.k8s.io/v1/EndpointSlice":
		es := new(slimEndpointSlice)
		if scanEndpointSlice(raw, es) || json.Unmarshal(raw, new2(&es)) == nil {
			return slimObject{env: meta(es.objectMetaFields), slice: es}, true
		}
	case "v1/Node":
		n := new(slimNode)
		if scanNode(raw, n) || json.Unmarshal(raw, new2(&n)) == nil {
			return slimObject{env: meta(n.objectMetaFields), node: n}, true
		}
	}
	return slimObject{}, false
}

// new2 points *p at a new zero value and returns it: what a direct decoder
// left half-filled is not what encoding/json starts from.
func new2[T any](p **T) *T {
	*p = new(T)
	return *p
}

// addDecoded is Add through the general envelope.
func (b *Builder) addDecoded(source string, raw []byte) bool {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		b.problem(source, "object", "not a Kubernetes object: %v", err)
		return false
	}
	obj := objectName(env.Kind, env.Metadata.Namespace, env.Metadata.Name)
	if !b.knownKind(env.APIVersion, env.Kind) {
		b.Ignored++
		return false
	}
	b.seen[seenKind(env.APIVersion, env.Kind)]++
	if env.Metadata.Name == "" {
		b.problem(source, obj, "metadata.name is missing")
		return true
	}
	if !b.firstOrSame(source, obj, env, raw) {
		return true
	}
	var err error
	switch env.APIVersion + "/" + env.Kind {
	case "v1/Node":
		err = b.addCoreNode(raw)
	case "v1/Service":
		err = b.addService(raw)
	case "v1/ConfigMap":
		err = b.addMetalLBConfigMap(env)
	case "v1/Secret":
		err = b.addSecret(env, raw)
	case "discovery.k8s.io/v1/EndpointSlice":
		err = b.addEndpointSlice(raw)
	case CalicoV3 + "/Node":
		err = b.addCalicoNode(env)
	case CalicoV3 + "/BGPPeer", CalicoCRDV1 + "/BGPPeer":
		err = b.addBGPPeer(env)
	case CalicoV3 + "/BGPConfiguration", CalicoCRDV1 + "/BGPConfiguration":
		err = b.addBGPConfig(env)
	case CalicoV3 + "/IPPool", CalicoCRDV1 + "/IPPool":
		err = b.addIPPool(env)
	case CalicoCRDV1 + "/IPAMBlock":
		err = b.addIPAMBlock(env)
	case CalicoV3 + "/BlockAffinity", CalicoCRDV1 + "/BlockAffinity":
		err = b.addBlockAffinity(env)
	case MetalLBV1b1 + "/IPAddressPool":
		err = b.addMetalLBPool(env)
	case PureLBV1 + "/ServiceGroup":
		err = b.addPureLBServiceGroup(env)
	case MetalLBV1b1 + "/BGPPeer", MetalLBV1b2 + "/BGPPeer":
		err = b.addMetalLBBGPPeer(env)
	case MetalLBV1b1 + "/BGPAdvertisement":
		err = b.addMetalLBAdvertisement(env)
	}
	if err != nil {
		b.problem(source, obj, "%v", err)
	}
	return true
}

// seenKind is the kind an object counts as in ClusterState.Seen.
func seenKind(apiVersion, kind string) string {
	switch {
	case kind == "ConfigMap" || kind == "IPAddressPool" || kind == "ServiceGroup":
		return "LBPool"
	case kind == "BGPPeer" && (apiVersion == MetalLBV1b1 || apiVersion == MetalLBV1b2):
		return KindMetalLBBGPPeer
	}
	return kind
}

// firstOrSame reports whether an object should be read: the first time its
// identity is seen, yes; again with the same content (the same file given
// twice), no, silently; again with other content, no, and the object is
// left out altogether: which copy is right cannot be told, and file order
// must not decide.
func (b *Builder) firstOrSame(source, obj string, env envelope, raw []byte) bool {
	id := env.APIVersion + "|" + env.Kind + "|" + env.Metadata.Namespace + "|" + env.Metadata.Name
	prev, dup := b.identities[id]
	switch {
	case !dup:
		b.identities[id] = identity{raw: raw, source: source}
		return true
	case b.conflicted[id]:
		return false
	case bytes.Equal(prev.raw, raw) || contentSum(prev.raw) == contentSum(raw):
		return false
	}
	b.conflicted[id] = true
	b.forget(env)
	where := "earlier in the input"
	if prev.source != "" {
		where = "in " + prev.source
	}
	b.problem(source, obj, "the same object is also given %s with different content; neither copy is used", where)
	return false
}

// contentSum hashes an object's content in a canonical form (keys sorted),
// without the metadata that changes on every read.
func contentSum(raw []byte) [sha256.Size]byte {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return sha256.Sum256(raw)
	}
	if m, ok := v["metadata"].(map[string]any); ok {
		for _, k := range []string{"resourceVersion", "managedFields", "generation", "uid", "selfLink"} {
			delete(m, k)
		}
	}
	if v["kind"] != "Service" {
		// A Service's status (its LoadBalancer IPs) is what the fabric
		// follows: two copies that differ there differ. Other objects'
		// status changes on every read.
		delete(v, "status")
	}
	b, _ := json.Marshal(v) // encoding/json sorts map keys
	return sha256.Sum256(b)
}

// forget drops what an earlier copy of an object recorded.
func (b *Builder) forget(env envelope) {
	name, ns := env.Metadata.Name, env.Metadata.Namespace
	switch env.Kind {
	case "Node":
		if env.APIVersion == "v1" {
			delete(b.coreNodes, name)
		} else {
			delete(b.calicoNodes, name)
		}
	case "Service":
		delete(b.services, ns+"/"+name)
	case "EndpointSlice":
		delete(b.slices, ns+"/"+name)
	case "BGPPeer":
		if env.APIVersion == MetalLBV1b1 || env.APIVersion == MetalLBV1b2 {
			delete(b.lbPeers, "metallb/"+ns+"/"+name)
			break
		}
		delete(b.peers, name)
	case "BGPAdvertisement":
		delete(b.lbAdverts, ns+"/"+name)
	case "BGPConfiguration":
		if name == "default" {
			b.bgpConfig = nil
		}
	case "IPPool":
		delete(b.pools, name)
	case "IPAMBlock":
		delete(b.blocks, b.blockKeys[env.Kind+"/"+name])
	case "BlockAffinity":
		delete(b.affinities, b.blockKeys[env.Kind+"/"+name])
	case "IPAddressPool":
		delete(b.lbPools, "metallb/"+ns+"/"+name)
	case "ServiceGroup":
		delete(b.lbPools, "purelb/"+ns+"/"+name)
	case "ConfigMap":
		for k := range b.lbPools {
			if strings.HasPrefix(k, "metallb-configmap/") {
				delete(b.lbPools, k)
			}
		}
		for k := range b.lbPeers {
			if strings.HasPrefix(k, "metallb-configmap/") {
				delete(b.lbPeers, k)
			}
		}
	}
}

func (b *Builder) knownKind(apiVersion, kind string) bool {
	switch apiVersion + "/" + kind {
	case "v1/Node", "v1/Service", "discovery.k8s.io/v1/EndpointSlice",
		CalicoV3 + "/Node", CalicoV3 + "/BGPPeer", CalicoV3 + "/BGPConfiguration", CalicoV3 + "/IPPool", CalicoV3 + "/BlockAffinity",
		CalicoCRDV1 + "/BGPPeer", CalicoCRDV1 + "/BGPConfiguration", CalicoCRDV1 + "/IPPool", CalicoCRDV1 + "/IPAMBlock", CalicoCRDV1 + "/BlockAffinity",
		MetalLBV1b1 + "/IPAddressPool", PureLBV1 + "/ServiceGroup",
		MetalLBV1b1 + "/BGPPeer", MetalLBV1b2 + "/BGPPeer", MetalLBV1b1 + "/BGPAdvertisement":
		return true
	case "v1/ConfigMap":
		return true // only metallb-system/config is read; others are ignored below
	case "v1/Secret":
		return true // only the keys BGPPeer passwords name are kept (Build)
	}
	return false
}

func objectName(kind, ns, name string) string {
	if kind == "" {
		kind = "object"
	}
	if name == "" {
		name = "<unnamed>"
	}
	if ns != "" {
		return kind + "/" + ns + "/" + name
	}
	return kind + "/" + name
}

// checkName validates a cluster object name before anything derived from it
// can reach a switch.
func checkName(kind, name string) error {
	if plainName(kind, name) {
		return nil
	}
	var errs []string
	switch kind {
	case "Service":
		errs = validation.IsDNS1035Label(name)
	case "Namespace":
		errs = validation.IsDNS1123Label(name)
	default:
		errs = validation.IsDNS1123Subdomain(name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid %s name %q: %s", kind, truncate(name, 80), strings.Join(errs, "; "))
	}
	return nil
}

// plainName accepts, without the validation package's regular expressions
// (a tenth of reading a large export), the names that are plainly valid:
// lower-case letters and digits in dash-separated runs (a Service name
// starting with a letter), dot-separated labels for a subdomain, within the
// length limits. Anything else goes to the validation package, which also
// words the error.
func plainName(kind, name string) bool {
	dots := kind != "Service" && kind != "Namespace"
	if name == "" || (dots && len(name) > 253) || (!dots && len(name) > 63) {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] == '.' && dots || i == len(name) {
			label := name[start:i]
			if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
				return false
			}
			if kind == "Service" && (label[0] < 'a' || label[0] > 'z') {
				return false
			}
			start = i + 1
			continue
		}
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func decodeSpec(spec json.RawMessage, into any) error {
	if len(spec) == 0 || string(spec) == "null" {
		return fmt.Errorf("spec is missing")
	}
	if err := json.Unmarshal(spec, into); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}
