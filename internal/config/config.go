// Package config reads and validates the fabric-reconciler configuration
// file: the cluster, which fabrics exist, which switches they hold and which
// Calico peer IPs designate each switch, and the safety settings. Each
// fabric's platform settings (how to reach its switches, what to name
// things) belong to its driver: config hands the keys it does not know to
// the driver registered for the fabric (RegisterDriver), which parses and
// validates them. docs/configuration.md documents every field; keep the two
// in step.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Config is the whole configuration file.
type Config struct {
	// Cluster names the cluster; it is the ownership mark every fabric object
	// carries, so two clusters can share a fabric.
	Cluster string `json:"cluster"`
	// CalicoNamespace is where calico-node runs: a BGPPeer's password
	// Secret is read there (default calico-system, the Tigera operator's;
	// kube-system with the manifest install).
	CalicoNamespace string `json:"calicoNamespace,omitempty"`
	// IPAM is how the cluster gives pods their addresses: "calico" (Calico
	// IPAM blocks, the default) or "host-local" (each node's Kubernetes
	// podCIDR). It decides what a node's inbound filter permits.
	IPAM string `json:"ipam,omitempty"`
	// MinPrefixLength refuses pools and service ranges wider than this:
	// such a prefix in a filter or an external EPG lets a node announce,
	// or the fabric classify, far more than the cluster owns.
	MinPrefixLength MinPrefixLength `json:"minPrefixLength"`
	// RackLabel is the node label that names a node's rack (default
	// "rack", as in Calico's reference architecture): doctor checks that
	// each node peers with every switch of its rack (Switch.Rack).
	RackLabel string   `json:"rackLabel,omitempty"`
	Fabrics   []Fabric `json:"fabrics"`

	// Digest is the SHA-256 of the file the configuration was read from:
	// a saved plan records it, and apply refuses when it changed.
	Digest string `json:"-"`
}

// DefaultRackLabel is the node label that names a node's rack when the
// configuration names none.
const DefaultRackLabel = "rack"

// IPAM modes (Config.IPAM).
const (
	IPAMCalico    = "calico"
	IPAMHostLocal = "host-local"
)

// MinPrefixLength is the shortest prefix length accepted per family.
type MinPrefixLength struct {
	IPv4 int `json:"ipv4,omitempty"`
	IPv6 int `json:"ipv6,omitempty"`
}

// Defaults of MinPrefixLength: no pool or service range wider than a /8
// (IPv4) or /32 (IPv6); 0/0 is refused whatever the setting.
const (
	DefaultMinPrefixLengthIPv4 = 8
	DefaultMinPrefixLengthIPv6 = 32
)

// Policies (Fabric.Policy), as external-dns names them.
const (
	// PolicySync creates, updates and deletes: the fabric follows the
	// cluster. The default.
	PolicySync = "sync"
	// PolicyUpsertOnly creates and updates, never deletes.
	PolicyUpsertOnly = "upsert-only"
	// PolicyCreateOnly only creates; what exists is never changed.
	PolicyCreateOnly = "create-only"
)

// SessionSettings are the fabric-wide settings of the switches' BGP
// sessions with the nodes. Per-session settings Calico has (a BGPPeer's
// password, ttlSecurity, maxRestartTime) come from the cluster.
type SessionSettings struct {
	// PasswordFile holds the password of every session whose BGPPeer names
	// none (optional). It is read when the configuration is.
	PasswordFile string `json:"passwordFile,omitempty"`
	// SessionDefaults are the peer options the fabric sets for its
	// sessions (keepalive, hold): their keys are this section's, and the
	// options' own checks validate them. A new one is a field there, not
	// here.
	fabric.SessionDefaults
	// MaxPrefix limits what each node may send.
	MaxPrefix MaxPrefixSettings `json:"maxPrefix"`
	// Shutdown lists nodes whose sessions are held administratively down
	// (maintenance).
	Shutdown []string `json:"shutdown,omitempty"`

	// Password is PasswordFile's content (never printed).
	Password Sensitive `json:"-"`
}

// MaxPrefixSettings set the per-session prefix limit.
type MaxPrefixSettings struct {
	// Limit is "auto" (what the node may send, with Headroom), a number,
	// or "" (no limit).
	Limit PrefixLimit `json:"limit,omitempty"`
	// Headroom multiplies the automatic limit (default 2): a node that
	// gains a block or a service between two syncs is not cut off.
	Headroom float64 `json:"headroom,omitempty"`
	// Action on overflow: "shutdown" (default), "restart" (after
	// RestartMinutes) or "warning-only".
	Action         string `json:"action,omitempty"`
	RestartMinutes int    `json:"restartMinutes,omitempty"`
}

// PrefixLimit is "auto", a number of prefixes, or "" (no limit). YAML's
// "limit: 50" is a number, "limit: auto" a string: both are read.
type PrefixLimit string

// UnmarshalJSON reads a string or a number.
func (l *PrefixLimit) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*l = PrefixLimit(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("limit: want auto or a number of prefixes")
	}
	*l = PrefixLimit(s)
	return nil
}

// Sensitive is a secret read from a file: it never prints.
type Sensitive struct{ value string }

// Reveal returns the secret.
func (s Sensitive) Reveal() string   { return s.value }
func (s Sensitive) String() string   { return "(sensitive)" }
func (s Sensitive) GoString() string { return "(sensitive)" }

// DeletionBudget bounds how much one reconcile may delete on a fabric: a
// plan that deletes more than Percent of the objects the cluster owns
// there, and more than Objects objects, is refused whole.
type DeletionBudget struct {
	Percent int `json:"percent,omitempty"`
	Objects int `json:"objects,omitempty"`
}

// Defaults of DeletionBudget.
const (
	DefaultDeletionBudgetPercent = 25
	DefaultDeletionBudgetObjects = 10
)

// Fabric is one set of switches driven by one driver.
type Fabric struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
	// ASN is the switches' BGP AS number (a switch may override it).
	ASN          uint32            `json:"asn"`
	Switches     []Switch          `json:"switches"`
	MaximumPaths MaximumPaths      `json:"maximumPaths"`
	Labels       map[string]string `json:"labels,omitempty"`
	// Policy says which changes a reconcile may make: sync (default),
	// upsert-only or create-only.
	Policy string `json:"policy,omitempty"`
	// DeletionBudget refuses a plan that deletes too much at once.
	DeletionBudget DeletionBudget `json:"deletionBudget"`
	// BGP says how the switches run their sessions with the nodes.
	BGP SessionSettings `json:"bgp"`

	// Raw holds the keys of the fabric's entry that config does not know,
	// as written (YAML text): the driver's own settings. The driver parses
	// them (DecodeSection) into Platform.
	Raw      map[string]json.RawMessage `json:"-"`
	Platform any                        `json:"-"`
}

// Switch is one switch of a fabric.
type Switch struct {
	Name string `json:"name"`
	// PeerIPs are the Calico BGPPeer peerIP values that designate this switch.
	PeerIPs []string `json:"peerIPs"`
	// ASN overrides the fabric's ASN for this switch.
	ASN uint32 `json:"asn,omitempty"`
	// Rack names the rack the switch serves (the value of the nodes'
	// RackLabel): doctor checks that each node of the rack peers with it.
	// Empty: the switch serves every node that peers with its fabric.
	Rack string `json:"rack,omitempty"`

	// Raw and Platform: the driver's own keys for this switch (how to
	// reach it, where its peers go), as for Fabric.
	Raw      map[string]json.RawMessage `json:"-"`
	Platform any                        `json:"-"`
}

// fabricKeys and switchKeys are the keys config itself reads.
var (
	fabricKeys = keysOf(struct {
		Name, Driver, ASN, Switches, MaximumPaths, Labels, Policy, DeletionBudget, BGP any
	}{}, "name", "driver", "asn", "switches", "maximumPaths", "labels", "policy", "deletionBudget", "bgp")
	switchKeys = keysOf(struct{ Name, PeerIPs, ASN, Rack any }{}, "name", "peerIPs", "asn", "rack")
)

func keysOf(_ any, keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// splitKeys decodes the keys config knows into v (strictly) and returns the
// others.
func splitKeys(b []byte, known map[string]bool, v any) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	mine, rest := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for k, raw := range all {
		if known[k] {
			mine[k] = raw
		} else {
			rest[k] = raw
		}
	}
	kb, _ := json.Marshal(mine)
	dec := json.NewDecoder(bytes.NewReader(kb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, err
	}
	return rest, nil
}

func (f *Fabric) UnmarshalJSON(b []byte) error {
	type plain Fabric
	var v plain
	rest, err := splitKeys(b, fabricKeys, &v)
	if err != nil {
		return err
	}
	*f = Fabric(v)
	f.Raw = rest
	return nil
}

func (s *Switch) UnmarshalJSON(b []byte) error {
	type plain Switch
	var v plain
	rest, err := splitKeys(b, switchKeys, &v)
	if err != nil {
		return err
	}
	*s = Switch(v)
	s.Raw = rest
	return nil
}

// keepDriverYAML replaces the drivers' keys (Raw) by their YAML text as
// written: YAML's typing depends on the target type (a value "N" or "on"
// is a string to a string field), which only the driver knows, so the
// driver decodes them (DecodeSection) and not config.
func (c *Config) keepDriverYAML(root *yamlv3.Node) error {
	if len(root.Content) == 0 {
		return nil
	}
	fabrics := mapValue(root.Content[0], "fabrics")
	if fabrics == nil || fabrics.Kind != yamlv3.SequenceNode {
		return nil
	}
	keep := func(m *yamlv3.Node, known map[string]bool, raw map[string]json.RawMessage) error {
		for k := 0; m != nil && m.Kind == yamlv3.MappingNode && k+1 < len(m.Content); k += 2 {
			key := m.Content[k].Value
			if known[key] {
				continue
			}
			out, err := yamlv3.Marshal(m.Content[k+1])
			if err != nil {
				return err
			}
			raw[key] = out
		}
		return nil
	}
	for i, fn := range fabrics.Content {
		if i >= len(c.Fabrics) {
			break
		}
		if err := keep(fn, fabricKeys, c.Fabrics[i].Raw); err != nil {
			return err
		}
		sws := mapValue(fn, "switches")
		for j := 0; sws != nil && sws.Kind == yamlv3.SequenceNode && j < len(sws.Content) && j < len(c.Fabrics[i].Switches); j++ {
			if err := keep(sws.Content[j], switchKeys, c.Fabrics[i].Switches[j].Raw); err != nil {
				return err
			}
		}
	}
	return nil
}

func mapValue(m *yamlv3.Node, key string) *yamlv3.Node {
	for k := 0; m != nil && m.Kind == yamlv3.MappingNode && k+1 < len(m.Content); k += 2 {
		if m.Content[k].Value == key {
			return m.Content[k+1]
		}
	}
	return nil
}

// DecodeSection decodes a driver's key (Raw) into v, strictly: a field v
// does not have is an error. The text is YAML (or JSON, which is YAML).
// Errors name the fields ("apic.timeout: ...; tenantt: unknown field"),
// relative to the section, so that the file's line can be found.
func DecodeSection(raw json.RawMessage, v any) error {
	err := yaml.UnmarshalStrict(raw, v)
	if err == nil {
		return nil
	}
	var n yamlv3.Node
	if yamlv3.Unmarshal(raw, &n) == nil && len(n.Content) > 0 {
		var out []locatedProblem
		walkShape(n.Content[0], reflect.TypeOf(v), "", &out)
		var msgs []string
		for _, p := range out {
			msgs = append(msgs, p.problem)
		}
		if len(msgs) > 0 {
			return errors.New(strings.Join(msgs, "; "))
		}
	}
	return err
}

// DriverSpec is what config needs from a driver: its settings, parsed and
// validated, and its limits.
type DriverSpec struct {
	// Parse reads the fabric's and its switches' Raw keys into their
	// Platform (unless the Platform is set already: a configuration built
	// or changed in code), applies the driver's defaults, and returns every
	// problem (each "<key>: <what is wrong>"; a key it does not know is
	// one).
	Parse func(f *Fabric, ctx ParseContext) []string
	// MaxPaths is the platform's largest maximum-paths.
	MaxPaths int
	// ASNFromFabric: the driver reads the switches' AS from the fabric
	// itself, so the fabric's asn is optional (when given, the driver
	// checks it against the fabric's).
	ASNFromFabric bool
	// MultipathRelax is true when the driver, managing maximum-paths,
	// also makes the switches treat paths of different AS paths as equal
	// (bestpath as-path multipath-relax): nodes have their own AS numbers,
	// and without it a switch installs one path however high maximum-paths
	// is.
	MultipathRelax bool
}

// DriverSpecOf returns a registered driver's configuration spec.
func DriverSpecOf(name string) (DriverSpec, bool) { return driverSpec(name) }

// ParseContext is what a driver's Parse may need besides the fabric.
type ParseContext struct {
	// Cluster is the cluster's name (some defaults derive from it).
	Cluster string
	// Dir is the configuration file's folder: relative file paths are
	// relative to it ("" when the configuration did not come from a file).
	Dir string
}

// Path resolves a file path of the configuration against its folder.
func (c ParseContext) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

var (
	driversMu sync.Mutex
	driverSet = map[string]DriverSpec{}
)

// RegisterDriver makes a driver's settings known under its name. drivers.
// Register calls it; config itself knows no driver.
func RegisterDriver(name string, spec DriverSpec) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if _, dup := driverSet[name]; dup {
		panic("config: duplicate driver " + name)
	}
	driverSet[name] = spec
}

// DriverNames lists the registered drivers.
func DriverNames() []string {
	driversMu.Lock()
	defer driversMu.Unlock()
	var out []string
	for n := range driverSet {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func driverSpec(name string) (DriverSpec, bool) {
	driversMu.Lock()
	defer driversMu.Unlock()
	s, ok := driverSet[name]
	return s, ok
}

// MaximumPaths controls the maximum-paths (ECMP) setting.
type MaximumPaths struct {
	// Mode is "auto" (from how many nodes advertise a prefix), "fixed" (Paths)
	// or "off" (not managed).
	Mode  PathsMode `json:"mode,omitempty"`
	Paths int       `json:"paths,omitempty"`
	// Limit caps the automatic value; default and maximum: the platform's
	// largest (DriverSpec.MaxPaths).
	Limit int `json:"limit,omitempty"`
}

// PathsMode is a maximumPaths mode. YAML reads an unquoted `off` as the
// boolean false; that is taken as "off" too, so `mode: off` works as written.
type PathsMode string

func (m *PathsMode) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "false":
		*m = "off"
		return nil
	case "true":
		return fmt.Errorf(`maximumPaths.mode: true is not one of auto, fixed, off`)
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("maximumPaths.mode: %s is not one of auto, fixed, off", b)
	}
	*m = PathsMode(s)
	return nil
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration struct{ time.Duration }

func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %s", b)
	}
	d.Duration = v
	return nil
}

// Load reads and validates a configuration file. Relative file paths in it
// are relative to its folder, so a configuration works from any working
// directory.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseIn(b, filepath.Dir(path))
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		// Each problem names the file, its line and the field.
		ve.File = path
		return nil, ve
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates configuration YAML. Unknown fields are errors,
// so a misspelt setting is never silently ignored.
func Parse(b []byte) (*Config, error) { return ParseIn(b, "") }

// ParseIn is Parse for a configuration read from the folder dir.
func ParseIn(b []byte, dir string) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the configuration is empty")
	}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(b, &root); err != nil {
		return nil, syntaxError(err)
	}
	// Wrong types and unknown keys, each with its line and field, before
	// the decoder reports the first of them without either.
	if shape := checkShape(&root); len(shape) > 0 {
		ve := &ValidationError{}
		for _, p := range shape {
			ve.Problems, ve.Positions = append(ve.Problems, p.problem), append(ve.Positions, p.pos)
		}
		return nil, ve
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	if err := c.keepDriverYAML(&root); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	c.applyDefaults()
	if err := c.validate(dir); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				ve.Positions = append(ve.Positions, positionOf(&root, p))
			}
		}
		return nil, err
	}
	sum := sha256.Sum256(b)
	c.Digest = hex.EncodeToString(sum[:])
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.IPAM == "" {
		c.IPAM = IPAMCalico
	}
	if c.CalicoNamespace == "" {
		c.CalicoNamespace = "calico-system"
	}
	if c.RackLabel == "" {
		c.RackLabel = DefaultRackLabel
	}
	if c.MinPrefixLength.IPv4 == 0 {
		c.MinPrefixLength.IPv4 = DefaultMinPrefixLengthIPv4
	}
	if c.MinPrefixLength.IPv6 == 0 {
		c.MinPrefixLength.IPv6 = DefaultMinPrefixLengthIPv6
	}
	for i := range c.Fabrics {
		f := &c.Fabrics[i]
		if f.Policy == "" {
			f.Policy = PolicySync
		}
		if f.DeletionBudget.Percent == 0 {
			f.DeletionBudget.Percent = DefaultDeletionBudgetPercent
		}
		if f.DeletionBudget.Objects == 0 {
			f.DeletionBudget.Objects = DefaultDeletionBudgetObjects
		}
		if f.BGP.MaxPrefix.Headroom == 0 {
			f.BGP.MaxPrefix.Headroom = 2
		}
		if f.BGP.MaxPrefix.Action == "" {
			f.BGP.MaxPrefix.Action = "shutdown"
		}
		if f.MaximumPaths.Mode == "" {
			f.MaximumPaths.Mode = "auto"
		}
	}
}

var (
	clusterRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}$`)
	nameRe    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)
)

// Validate checks a configuration (for one built or changed in code: a
// file's is checked when it is read).
func (c *Config) Validate() error { return c.validate("") }

// validate checks the whole configuration and reports every problem at once,
// each with its location. Each fabric's own settings are its driver's to
// check (DriverSpec.Parse), so that plan rejects what apply would.
func (c *Config) validate(dir string) error {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }

	if !clusterRe.MatchString(c.Cluster) {
		add("cluster: %q must be 1-40 characters of [a-zA-Z0-9_.-], starting with a letter or digit (it becomes the ownership mark)", c.Cluster)
	}
	if len(c.Fabrics) == 0 {
		add("fabrics: at least one fabric is required")
	}
	switch c.IPAM {
	case IPAMCalico, IPAMHostLocal:
	default:
		add("ipam: %q is not one of calico, host-local", c.IPAM)
	}
	if c.MinPrefixLength.IPv4 < 1 || c.MinPrefixLength.IPv4 > 32 {
		add("minPrefixLength.ipv4: %d must be 1-32 (0.0.0.0/0 is never accepted)", c.MinPrefixLength.IPv4)
	}
	if c.MinPrefixLength.IPv6 < 1 || c.MinPrefixLength.IPv6 > 128 {
		add("minPrefixLength.ipv6: %d must be 1-128 (::/0 is never accepted)", c.MinPrefixLength.IPv6)
	}
	if errs := validation.IsQualifiedName(c.RackLabel); len(errs) > 0 {
		add("rackLabel: %q is not a label key: %s", c.RackLabel, strings.Join(errs, "; "))
	}
	fabricNames := map[string]bool{}
	peerIPOwner := map[netip.Addr]string{}
	for i, f := range c.Fabrics {
		at := fmt.Sprintf("fabrics[%d]", i)
		if f.Name != "" {
			at = fmt.Sprintf("fabrics[%d] (%s)", i, f.Name)
		}
		if !nameRe.MatchString(f.Name) {
			add("%s.name: %q must be 1-63 characters of [a-zA-Z0-9_.-]", at, f.Name)
		}
		if fabricNames[f.Name] {
			add("%s.name: duplicate fabric name", at)
		}
		fabricNames[f.Name] = true
		spec, known := driverSpec(f.Driver)
		if !known {
			add("%s.driver: %q is not one of %s", at, f.Driver, strings.Join(DriverNames(), ", "))
		}
		if f.ASN == 0 && !(known && spec.ASNFromFabric) {
			add("%s.asn: the switches' AS number (1-4294967295) is required", at)
		}
		switch f.Policy {
		case PolicySync, PolicyUpsertOnly, PolicyCreateOnly:
		default:
			add("%s.policy: %q is not one of sync, upsert-only, create-only", at, f.Policy)
		}
		if f.DeletionBudget.Percent < 1 || f.DeletionBudget.Percent > 100 {
			add("%s.deletionBudget.percent: %d must be 1-100", at, f.DeletionBudget.Percent)
		}
		if f.DeletionBudget.Objects < 1 {
			add("%s.deletionBudget.objects: %d must be at least 1", at, f.DeletionBudget.Objects)
		}
		for _, problem := range c.Fabrics[i].BGP.check(dir) {
			add("%s.%s", at, problem)
		}
		if known && f.MaximumPaths.Limit == 0 {
			c.Fabrics[i].MaximumPaths.Limit = spec.MaxPaths
			f.MaximumPaths.Limit = spec.MaxPaths
		}
		if known && (f.MaximumPaths.Limit < 1 || f.MaximumPaths.Limit > spec.MaxPaths) {
			add("%s.maximumPaths.limit: %d out of range (driver %s allows 1-%d)", at, f.MaximumPaths.Limit, f.Driver, spec.MaxPaths)
		}
		switch f.MaximumPaths.Mode {
		case "auto", "off":
		case "fixed":
			if f.MaximumPaths.Paths < 1 || f.MaximumPaths.Paths > f.MaximumPaths.Limit {
				add("%s.maximumPaths.paths: %d must be 1-%d in fixed mode", at, f.MaximumPaths.Paths, f.MaximumPaths.Limit)
			}
		default:
			add("%s.maximumPaths.mode: %q is not one of auto, fixed, off", at, f.MaximumPaths.Mode)
		}
		if len(f.Switches) == 0 {
			add("%s.switches: at least one switch is required", at)
		}
		swNames := map[string]bool{}
		for j, s := range f.Switches {
			sat := fmt.Sprintf("%s.switches[%d]", at, j)
			if !nameRe.MatchString(s.Name) {
				add("%s.name: %q must be 1-63 characters of [a-zA-Z0-9_.-]", sat, s.Name)
			}
			if swNames[s.Name] {
				add("%s.name: duplicate switch name %q", sat, s.Name)
			}
			swNames[s.Name] = true
			if len(s.PeerIPs) == 0 {
				add("%s.peerIPs: at least one Calico peerIP must designate the switch", sat)
			}
			if errs := validation.IsValidLabelValue(s.Rack); len(errs) > 0 {
				add("%s.rack: %q is not a label value: %s", sat, s.Rack, strings.Join(errs, "; "))
			}
			for _, ip := range s.PeerIPs {
				a, err := netip.ParseAddr(ip)
				if err != nil {
					add("%s.peerIPs: %q is not an IP address", sat, ip)
					continue
				}
				a = a.Unmap()
				if prev, dup := peerIPOwner[a]; dup {
					add("%s.peerIPs: %s already designates %s", sat, a, prev)
				}
				peerIPOwner[a] = f.Name + "/" + s.Name
			}
		}
		if known {
			for _, problem := range spec.Parse(&c.Fabrics[i], ParseContext{Cluster: c.Cluster, Dir: dir}) {
				add("%s.%s", at, problem)
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Problems: errs}
	}
	return nil
}

// ValidationError lists every problem found in a configuration, each
// ("fabrics[0] (name).asn: ...") with its position in the file when known.
type ValidationError struct {
	Problems []string
	// Positions[i] is where Problems[i] is (zero when unknown); File is
	// the file's name when the configuration came from one (Load).
	Positions []Position
	File      string
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		var pos Position
		if i < len(e.Positions) {
			pos = e.Positions[i]
		}
		switch {
		case e.File != "" && pos.Line > 0:
			p = e.File + ":" + pos.String() + ": " + p
		case e.File != "":
			p = e.File + ": " + p
		case pos.Line > 0:
			p = "line " + pos.String() + ": " + p
		}
		lines[i] = p
	}
	if len(lines) == 1 {
		return "invalid configuration: " + lines[0]
	}
	return "invalid configuration:\n  - " + strings.Join(lines, "\n  - ")
}

// SwitchASN is the AS number of a switch: its own, else the fabric's.
func (f *Fabric) SwitchASN(s Switch) uint32 {
	if s.ASN != 0 {
		return s.ASN
	}
	return f.ASN
}

// OwnerMark is the ownership mark
// of the objects that are this cluster's.
func (c *Config) OwnerMark() string { return OwnerMarkOf(c.Cluster) }

// OwnerMarkOf is the ownership mark of a cluster's objects.
func OwnerMarkOf(cluster string) string { return "orchestrator:fabric-reconciler." + cluster }

// ReadSecretFile reads a secret (password, key) from a file, trimming one
// trailing newline. The error never contains the file's content.
func ReadSecretFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("no secret file configured")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// check validates the session settings and reads the password file. Each
// problem is relative to the fabric ("bgp.hold: ...").
func (b *SessionSettings) check(dir string) []string {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, "bgp."+fmt.Sprintf(format, a...)) }
	for _, err := range b.SessionDefaults.Check() {
		var oe *fabric.OptionError
		if !errors.As(err, &oe) {
			errs = append(errs, "bgp: "+err.Error()) // no key to name
			continue
		}
		add("%s: %v %s", oe.Key, oe.Value, oe.Rule)
	}
	m := b.MaxPrefix
	if m.Limit != "" && m.Limit != "auto" {
		if n, err := strconv.ParseUint(string(m.Limit), 10, 32); err != nil || n < 1 {
			add("maxPrefix.limit: %q is not auto or a number of prefixes", m.Limit)
		}
	}
	if m.Headroom < 1 || m.Headroom > 100 {
		add("maxPrefix.headroom: %g must be 1-100", m.Headroom)
	}
	switch m.Action {
	case "shutdown", "warning-only":
	case "restart":
		if m.RestartMinutes < 1 || m.RestartMinutes > 65535 {
			add("maxPrefix.restartMinutes: %d must be 1-65535 with action restart", m.RestartMinutes)
		}
	default:
		add("maxPrefix.action: %q is not one of shutdown, restart, warning-only", m.Action)
	}
	for _, n := range b.Shutdown {
		if !nodeNameRe.MatchString(n) {
			add("shutdown: %q is not a node name", n)
		}
	}
	if b.PasswordFile != "" {
		p := ParseContext{Dir: dir}.Path(b.PasswordFile)
		pw, err := ReadSecretFile(p)
		switch {
		case err != nil:
			add("passwordFile: %v", err)
		case pw == "" || len(pw) > 80 || strings.ContainsAny(pw, "\r\n"):
			add("passwordFile: the password must be 1-80 characters on one line")
		default:
			b.PasswordFile, b.Password = p, Sensitive{value: pw}
		}
	}
	return errs
}

var nodeNameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
