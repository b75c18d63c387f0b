// Package config reads and validates the fabric-reconciler configuration
// file: which fabrics exist, which switches they hold, which Calico peer IPs
// designate each switch, and the per-platform settings (APIC tenant and
// L3Out, SSH endpoints, ...). docs/configuration.md documents every field;
// keep the two in step.
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
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Driver names.
const (
	DriverACI  = "aci"
	DriverFRR  = "frr"
	DriverNXOS = "nxos"
)

// DefaultMaximumPathsLimit caps maximum-paths when the config gives no limit.
const DefaultMaximumPathsLimit = 64

// Config is the whole configuration file.
type Config struct {
	// Cluster names the cluster; it is the ownership mark every fabric object
	// carries, so two clusters can share a fabric.
	Cluster string `json:"cluster"`
	// IPAM is how the cluster gives pods their addresses: "calico" (Calico
	// IPAM blocks, the default) or "host-local" (each node's Kubernetes
	// podCIDR). It decides what a node's inbound filter permits.
	IPAM string `json:"ipam,omitempty"`
	// MinPrefixLength refuses pools and service ranges wider than this:
	// such a prefix in a filter or an external EPG lets a node announce,
	// or the fabric classify, far more than the cluster owns.
	MinPrefixLength MinPrefixLength `json:"minPrefixLength"`
	Fabrics         []Fabric        `json:"fabrics"`

	// Digest is the SHA-256 of the file the configuration was read from:
	// a saved plan records it, and apply refuses when it changed.
	Digest string `json:"-"`
}

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
	PrefixFilter PrefixFilterConf  `json:"prefixFilters"`
	ACI          *ACI              `json:"aci,omitempty"`
	SSH          *SSH              `json:"ssh,omitempty"`
	FRR          *FRR              `json:"frr,omitempty"`
	NXOS         *NXOS             `json:"nxos,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	// Policy says which changes a reconcile may make: sync (default),
	// upsert-only or create-only.
	Policy string `json:"policy,omitempty"`
	// DeletionBudget refuses a plan that deletes too much at once.
	DeletionBudget DeletionBudget `json:"deletionBudget"`
}

// Switch is one switch (an ACI leaf, an FRR router, a Nexus switch).
type Switch struct {
	Name string `json:"name"`
	// PeerIPs are the Calico BGPPeer peerIP values that designate this switch.
	PeerIPs []string `json:"peerIPs"`
	// ASN overrides the fabric's ASN for this switch.
	ASN uint32 `json:"asn,omitempty"`
	// Address is the SSH endpoint (host:port) of an FRR or NX-OS switch.
	Address string `json:"address,omitempty"`
	// SVIPath is the ACI path (l3extRsPathL3OutAtt tDn) of the leaf's SVI
	// towards the nodes, under which the BGP peers are created.
	SVIPath string `json:"sviPath,omitempty"`
}

// MaximumPaths controls the maximum-paths (ECMP) setting.
type MaximumPaths struct {
	// Mode is "auto" (from how many nodes advertise a prefix), "fixed" (Paths)
	// or "off" (not managed).
	Mode  PathsMode `json:"mode,omitempty"`
	Paths int       `json:"paths,omitempty"`
	// Limit caps the automatic value (the platform's maximum); default 64.
	Limit int `json:"limit,omitempty"`
}

// PrefixFilterConf controls per-node inbound prefix filters (FRR, NX-OS).
type PrefixFilterConf struct {
	// Disabled turns the filters off; they are on by default.
	Disabled bool `json:"disabled,omitempty"`
}

// ACI holds the APIC connection and the tenant objects the cluster uses.
type ACI struct {
	APIC             APIC         `json:"apic"`
	Tenant           string       `json:"tenant"`
	VRF              string       `json:"vrf"`
	L3Out            string       `json:"l3out"`
	NodeProfile      string       `json:"nodeProfile"`
	InterfaceProfile string       `json:"interfaceProfile"`
	ExternalEPGs     ExternalEPGs `json:"externalEPGs"`
	// Contract is the name template of the per-service contract.
	Contract string `json:"contract,omitempty"`
	// ContractScope is the vzBrCP scope: context (default), tenant,
	// application-profile or global.
	ContractScope string `json:"contractScope,omitempty"`
	// Consumers are the external EPGs ("<l3out>/<epg>" or "<epg>" on the
	// cluster's L3Out) that may reach LoadBalancer services.
	Consumers []string `json:"consumers,omitempty"`
	// BGPPasswordFile holds the BGP peer password (optional).
	BGPPasswordFile string `json:"bgpPasswordFile,omitempty"`
	// MaximumPathsPolicy names the bgpCtxAfPol the reconciler creates.
	MaximumPathsPolicy string `json:"maximumPathsPolicy,omitempty"`
}

// ExternalEPGs names the external EPGs the reconciler fills.
type ExternalEPGs struct {
	Nodes string `json:"nodes"`
	Pods  string `json:"pods"`
	// PodSubnets is "pools" (the enabled IP pools, default) or "blocks" (each
	// node's IPAM blocks).
	PodSubnets string `json:"podSubnets,omitempty"`
	// Service is the name template of the per-service external EPG.
	Service string `json:"service"`
	// TransitExport is the external EPG ("<l3out>/<epg>") whose subnets are
	// marked export-rtctrl so other L3Outs advertise the cluster's prefixes.
	// Empty: no transit export.
	TransitExport string `json:"transitExport,omitempty"`
}

// APIC is how to reach and log in to the APIC.
type APIC struct {
	// URL of the APIC, e.g. https://apic.example.net. Required: there is no
	// default address.
	URL      string `json:"url"`
	Username string `json:"username"`
	// PasswordFile holds the password (password login).
	PasswordFile string `json:"passwordFile,omitempty"`
	// PrivateKeyFile and CertificateName select certificate-signature login.
	PrivateKeyFile  string `json:"privateKeyFile,omitempty"`
	CertificateName string `json:"certificateName,omitempty"`
	// CAFile is a PEM bundle that verifies the APIC's certificate.
	CAFile string `json:"caFile,omitempty"`
	// InsecureSkipVerify turns off TLS verification (labs only).
	InsecureSkipVerify bool     `json:"insecureSkipVerify,omitempty"`
	Timeout            Duration `json:"timeout,omitempty"`
}

// SSH is how to reach FRR and NX-OS switches.
type SSH struct {
	Username       string `json:"username"`
	PasswordFile   string `json:"passwordFile,omitempty"`
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`
	// KnownHostsFile verifies the switches' host keys.
	KnownHostsFile string `json:"knownHostsFile,omitempty"`
	// InsecureIgnoreHostKey turns off host-key checking (labs only).
	InsecureIgnoreHostKey bool     `json:"insecureIgnoreHostKey,omitempty"`
	Timeout               Duration `json:"timeout,omitempty"`
}

// FRR holds FRR settings.
type FRR struct {
	// VRF is the BGP instance's VRF ("" for the default instance).
	VRF string `json:"vrf,omitempty"`
}

// NX-OS commit modes (NXOS.CommitMode).
const (
	// CommitCheckpoint: "checkpoint <name>", configure terminal, the lines,
	// and "rollback running-config checkpoint <name>" on any error. Works on
	// every NX-OS for every feature; the default.
	CommitCheckpoint = "checkpoint"
	// CommitSession: "configure session <name>", the lines, verify, commit
	// (abort on any error). Cisco documents Session Manager for ACL and QoS
	// only, so only for switches known to take BGP lines in a session.
	CommitSession = "session"
)

// NXOS holds NX-OS settings.
type NXOS struct {
	// VRF is the BGP VRF context; default "default".
	VRF string `json:"vrf,omitempty"`
	// SessionName names the configuration session (session mode) or the
	// checkpoint (checkpoint mode); default derived from the cluster name.
	SessionName string `json:"sessionName,omitempty"`
	// CommitMode is how a change is made atomic: "checkpoint" (default) or
	// "session".
	CommitMode string `json:"commitMode,omitempty"`
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

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.resolveFiles(filepath.Dir(path))
	return c, nil
}

// resolveFiles makes relative secret and CA file paths relative to the
// configuration file's folder, so a config works from any working directory.
func (c *Config) resolveFiles(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Fabrics {
		f := &c.Fabrics[i]
		if f.ACI != nil {
			abs(&f.ACI.APIC.PasswordFile)
			abs(&f.ACI.APIC.PrivateKeyFile)
			abs(&f.ACI.APIC.CAFile)
			abs(&f.ACI.BGPPasswordFile)
		}
		if f.SSH != nil {
			abs(&f.SSH.PasswordFile)
			abs(&f.SSH.PrivateKeyFile)
			abs(&f.SSH.KnownHostsFile)
		}
	}
}

// Parse decodes and validates configuration YAML. Unknown fields are errors,
// so a misspelt setting is never silently ignored.
func Parse(b []byte) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the configuration is empty")
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
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
		if f.MaximumPaths.Mode == "" {
			f.MaximumPaths.Mode = "auto"
		}
		if f.MaximumPaths.Limit == 0 {
			f.MaximumPaths.Limit = DefaultMaximumPathsLimit
		}
		if f.ACI != nil {
			a := f.ACI
			if a.ExternalEPGs.PodSubnets == "" {
				a.ExternalEPGs.PodSubnets = "pools"
			}
			if a.ContractScope == "" {
				a.ContractScope = "context"
			}
			if a.Contract == "" {
				a.Contract = "CNT_K8_{NAMESPACE}_{NAME}"
			}
			if a.MaximumPathsPolicy == "" {
				a.MaximumPathsPolicy = "BGP_ECMP_" + c.Cluster
			}
			if a.APIC.Timeout.Duration == 0 {
				a.APIC.Timeout.Duration = 30 * time.Second
			}
		}
		if f.SSH != nil && f.SSH.Timeout.Duration == 0 {
			f.SSH.Timeout.Duration = 10 * time.Second
		}
		if f.Driver == DriverNXOS {
			if f.NXOS == nil {
				f.NXOS = &NXOS{}
			}
			if f.NXOS.VRF == "" {
				f.NXOS.VRF = "default"
			}
			if f.NXOS.SessionName == "" {
				f.NXOS.SessionName = "fabric-reconciler-" + c.Cluster
			}
			if f.NXOS.CommitMode == "" {
				f.NXOS.CommitMode = CommitCheckpoint
			}
		}
	}
}

var (
	clusterRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}$`)
	nameRe    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)
	aciNameRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
	// aciPathRe accepts port, port-channel and vPC path DNs.
	aciPathRe = regexp.MustCompile(`^topology/pod-[0-9]+/(paths-[0-9]+|protpaths-[0-9]+-[0-9]+)/pathep-\[[a-zA-Z0-9_./:-]+\]$`)
	// templateRe: ACI name characters plus the {namespace}/{name} placeholders.
	templateRe = regexp.MustCompile(`^([a-zA-Z0-9_.-]|\{(namespace|name|NAMESPACE|NAME)\})+$`)
	portRe     = regexp.MustCompile(`^[0-9]{1,5}$`)
	hostRe     = regexp.MustCompile(`^[a-zA-Z0-9.:_-]+$`)
)

// Validate checks the whole configuration and reports every problem at once,
// each with its location.
func (c *Config) Validate() error {
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
		switch f.Driver {
		case DriverACI, DriverFRR, DriverNXOS:
		default:
			add("%s.driver: %q is not one of aci, frr, nxos", at, f.Driver)
		}
		if f.ASN == 0 {
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
		switch f.MaximumPaths.Mode {
		case "auto", "off":
		case "fixed":
			if f.MaximumPaths.Paths < 1 || f.MaximumPaths.Paths > f.MaximumPaths.Limit {
				add("%s.maximumPaths.paths: %d must be 1-%d in fixed mode", at, f.MaximumPaths.Paths, f.MaximumPaths.Limit)
			}
		default:
			add("%s.maximumPaths.mode: %q is not one of auto, fixed, off", at, f.MaximumPaths.Mode)
		}
		if f.MaximumPaths.Limit < 1 || (f.Driver == DriverACI && f.MaximumPaths.Limit > 64) {
			add("%s.maximumPaths.limit: %d out of range (ACI allows 1-64)", at, f.MaximumPaths.Limit)
		}
		if len(f.Switches) == 0 {
			add("%s.switches: at least one switch is required", at)
		}
		swNames := map[string]bool{}
		sviPaths := map[string]string{}
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
			switch f.Driver {
			case DriverFRR, DriverNXOS:
				if err := checkHostPort(s.Address); err != nil {
					add("%s.address: %v", sat, err)
				}
			case DriverACI:
				if !aciPathRe.MatchString(s.SVIPath) {
					add("%s.sviPath: %q is not an ACI path such as topology/pod-1/paths-201/pathep-[eth1/1]", sat, s.SVIPath)
				} else if prev, dup := sviPaths[s.SVIPath]; dup {
					add("%s.sviPath: %s is already used by %s (for a vPC SVI, list both peer IPs on one switch)", sat, s.SVIPath, prev)
				}
				sviPaths[s.SVIPath] = s.Name
			}
		}
		switch f.Driver {
		case DriverACI:
			if f.ACI == nil {
				add("%s.aci: required for driver aci", at)
			} else {
				errs = append(errs, f.ACI.validate(at+".aci")...)
			}
			if f.SSH != nil {
				add("%s.ssh: not used by driver aci", at)
			}
		case DriverFRR, DriverNXOS:
			if f.SSH == nil {
				add("%s.ssh: required for driver %s", at, f.Driver)
			} else {
				errs = append(errs, f.SSH.validate(at+".ssh")...)
			}
			if f.ACI != nil {
				add("%s.aci: only for driver aci", at)
			}
		}
		if f.FRR != nil && f.Driver != DriverFRR {
			add("%s.frr: only for driver frr", at)
		}
		if f.NXOS != nil && f.Driver != DriverNXOS {
			add("%s.nxos: only for driver nxos", at)
		}
		if f.FRR != nil && f.FRR.VRF != "" && !nameRe.MatchString(f.FRR.VRF) {
			add("%s.frr.vrf: %q must be 1-63 characters of [a-zA-Z0-9_.-]", at, f.FRR.VRF)
		}
		if f.NXOS != nil {
			if !nameRe.MatchString(f.NXOS.VRF) {
				add("%s.nxos.vrf: %q must be 1-63 characters of [a-zA-Z0-9_.-]", at, f.NXOS.VRF)
			}
			if !nameRe.MatchString(f.NXOS.SessionName) {
				add("%s.nxos.sessionName: %q must be 1-63 characters of [a-zA-Z0-9_.-]", at, f.NXOS.SessionName)
			}
			switch f.NXOS.CommitMode {
			case CommitCheckpoint, CommitSession:
			default:
				add("%s.nxos.commitMode: %q is not one of checkpoint, session", at, f.NXOS.CommitMode)
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Problems: errs}
	}
	return nil
}

func (a *ACI) validate(at string) []string {
	var errs []string
	add := func(format string, v ...any) { errs = append(errs, fmt.Sprintf(format, v...)) }
	for _, n := range []struct{ field, v string }{
		{"tenant", a.Tenant}, {"vrf", a.VRF}, {"l3out", a.L3Out}, {"nodeProfile", a.NodeProfile},
		{"interfaceProfile", a.InterfaceProfile}, {"externalEPGs.nodes", a.ExternalEPGs.Nodes},
		{"externalEPGs.pods", a.ExternalEPGs.Pods}, {"maximumPathsPolicy", a.MaximumPathsPolicy},
	} {
		if !aciNameRe.MatchString(n.v) {
			add("%s.%s: %q must be 1-64 characters of [a-zA-Z0-9_.-]", at, n.field, n.v)
		}
	}
	if len(a.Tenant) > 63 {
		add("%s.tenant: at most 63 characters", at)
	}
	if a.ExternalEPGs.Nodes == a.ExternalEPGs.Pods {
		add("%s.externalEPGs: nodes and pods must be different EPGs", at)
	}
	for _, t := range []struct{ field, v string }{{"externalEPGs.service", a.ExternalEPGs.Service}, {"contract", a.Contract}} {
		if !templateRe.MatchString(t.v) {
			add("%s.%s: %q must be ACI name characters with {namespace} and {name} placeholders", at, t.field, t.v)
		} else if err := checkInjective(t.v); err != nil {
			add("%s.%s: %q %v", at, t.field, t.v, err)
		}
	}
	switch a.ExternalEPGs.PodSubnets {
	case "pools", "blocks":
	default:
		add("%s.externalEPGs.podSubnets: %q is not one of pools, blocks", at, a.ExternalEPGs.PodSubnets)
	}
	switch a.ContractScope {
	case "context", "tenant", "application-profile", "global":
	default:
		add("%s.contractScope: %q is not one of context, tenant, application-profile, global", at, a.ContractScope)
	}
	if a.ExternalEPGs.TransitExport != "" {
		if _, _, err := SplitEPG(a.ExternalEPGs.TransitExport); err != nil {
			add("%s.externalEPGs.transitExport: %v", at, err)
		}
	}
	for _, c := range a.Consumers {
		if _, _, err := SplitEPG(c); err != nil {
			add("%s.consumers: %v", at, err)
		}
	}
	if err := checkURL(a.APIC.URL); err != nil {
		add("%s.apic.url: %v", at, err)
	}
	if a.APIC.Username == "" && a.APIC.CertificateName == "" {
		add("%s.apic.username: required", at)
	}
	hasPw, hasKey := a.APIC.PasswordFile != "", a.APIC.PrivateKeyFile != ""
	switch {
	case hasPw && hasKey:
		add("%s.apic: give passwordFile or privateKeyFile+certificateName, not both", at)
	case !hasPw && !hasKey:
		add("%s.apic: passwordFile or privateKeyFile+certificateName is required", at)
	case hasKey && a.APIC.CertificateName == "":
		add("%s.apic.certificateName: required with privateKeyFile", at)
	}
	return errs
}

var placeholderRe = regexp.MustCompile(`\{(namespace|name|NAMESPACE|NAME)\}`)

// checkInjective insists that a name template gives two services two
// names: it holds {namespace} and {name} once each, separated by text with a
// '_' or '.', which no namespace or service name contains (both are DNS
// labels: [a-z0-9-]). Without that, "EPG_{name}" gives services of the same
// name in two namespaces one EPG, and "{namespace}{name}" maps a/bc and ab/c
// to one name: one service could take over another's EPG and contract.
func checkInjective(tmpl string) error {
	locs := placeholderRe.FindAllStringIndex(tmpl, -1)
	var ns, name int
	for _, l := range locs {
		switch strings.ToLower(tmpl[l[0]:l[1]]) {
		case "{namespace}":
			ns++
		case "{name}":
			name++
		}
	}
	if ns != 1 || name != 1 || len(locs) != 2 {
		return errors.New("must contain {namespace} and {name} (or {NAMESPACE}, {NAME}) once each, so that two services never share a name (e.g. EPG_K8_{NAMESPACE}_{NAME})")
	}
	if between := tmpl[locs[0][1]:locs[1][0]]; !strings.ContainsAny(between, "_.") {
		return fmt.Errorf("must separate the two placeholders with text holding '_' or '.' (found %q), which no namespace or service name contains", between)
	}
	return nil
}

func (s *SSH) validate(at string) []string {
	var errs []string
	if s.Username == "" {
		errs = append(errs, fmt.Sprintf("%s.username: required", at))
	}
	if s.PasswordFile == "" && s.PrivateKeyFile == "" {
		errs = append(errs, fmt.Sprintf("%s: passwordFile or privateKeyFile is required", at))
	}
	if s.KnownHostsFile == "" && !s.InsecureIgnoreHostKey {
		errs = append(errs, fmt.Sprintf("%s.knownHostsFile: required (or insecureIgnoreHostKey: true, for labs only)", at))
	}
	return errs
}

// SplitEPG splits "<l3out>/<epg>" or "<epg>" (on the cluster's own L3Out, l3out "").
func SplitEPG(s string) (l3out, epg string, err error) {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		epg = parts[0]
	case 2:
		l3out, epg = parts[0], parts[1]
		if !aciNameRe.MatchString(l3out) {
			return "", "", fmt.Errorf("%q: L3Out name must be 1-64 characters of [a-zA-Z0-9_.-]", s)
		}
	default:
		return "", "", fmt.Errorf("%q is not <l3out>/<epg> or <epg>", s)
	}
	if !aciNameRe.MatchString(epg) {
		return "", "", fmt.Errorf("%q: EPG name must be 1-64 characters of [a-zA-Z0-9_.-]", s)
	}
	return l3out, epg, nil
}

func checkHostPort(addr string) error {
	if addr == "" {
		return errors.New("the switch's SSH endpoint (host:port) is required; there is no default")
	}
	host, port, ok := strings.Cut(addr, ":")
	if strings.HasPrefix(addr, "[") {
		i := strings.LastIndex(addr, "]:")
		if i < 0 {
			return fmt.Errorf("%q is not host:port", addr)
		}
		host, port, ok = addr[1:i], addr[i+2:], true
	} else if strings.Count(addr, ":") > 1 {
		return fmt.Errorf("%q: write an IPv6 address as [addr]:port", addr)
	}
	if !ok || host == "" || port == "" {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if !portRe.MatchString(port) {
		return fmt.Errorf("%q: bad port", addr)
	}
	if !hostRe.MatchString(host) {
		return fmt.Errorf("%q: bad host", addr)
	}
	return nil
}

func checkURL(u string) error {
	if u == "" {
		return errors.New("the APIC URL is required; there is no default")
	}
	if !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("%q must be an https:// URL", u)
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/")
	if rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return fmt.Errorf("%q must be https://host[:port] with no path", u)
	}
	return nil
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// SwitchASN is the AS number of a switch: its own, else the fabric's.
func (f *Fabric) SwitchASN(s Switch) uint32 {
	if s.ASN != 0 {
		return s.ASN
	}
	return f.ASN
}

// OwnerMark is the mark (the ACI annotation, the CLI descriptions' prefix)
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
