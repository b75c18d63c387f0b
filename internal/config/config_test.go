// The configuration as operators write it, with the built-in drivers'
// sections: config hands those to the drivers, so these tests run with them.
package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/aci"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/frr"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/nxos"
)

const validACI = `cluster: haystack
fabrics:
- name: haystack-aci
  driver: aci
  asn: 63500
  switches:
  - {name: leaf201, peerIPs: [192.168.9.204], sviPath: "topology/pod-1/paths-201/pathep-[eth1/33]"}
  aci:
    apic: {url: "https://127.0.0.1:8443", username: admin, passwordFile: pw}
    tenant: T
    vrf: V
    l3out: L
    nodeProfile: NP
    interfaceProfile: IP
    externalEPGs: {nodes: N, pods: P, service: "S_{namespace}_{name}", transitExport: OTHER/X}
    consumers: [OTHER/EPG_DEFAULT]
`

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(validACI))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Fabrics[0]
	a, ok := f.Platform.(*aci.Settings)
	if !ok {
		t.Fatalf("the aci section was not parsed by its driver: %T", f.Platform)
	}
	if f.MaximumPaths.Mode != "auto" || f.MaximumPaths.Limit != 64 || a.ExternalEPGs.PodSubnets != "pools" ||
		a.ContractScope != "context" || a.Contract != "CNT_K8_{NAMESPACE}_{NAME}" || a.APIC.Timeout.Seconds() != 30 {
		t.Errorf("defaults not applied: %+v %+v", f.MaximumPaths, a)
	}
	if c.OwnerMark() != "orchestrator:fabric-reconciler.haystack" {
		t.Errorf("owner mark = %q", c.OwnerMark())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"empty cluster", "cluster: haystack", "cluster: ''", `cluster: "" must be 1-40 characters`},
		{"cluster with colon", "cluster: haystack", "cluster: 'a:b'", "cluster:"},
		{"unknown field", "  asn: 63500", "  asn: 63500\n  asnn: 1", "asnn: unknown field"},
		{"unknown driver", "driver: aci", "driver: eos", `driver: "eos" is not one of aci, frr, nxos`},
		// ACI reads the fabric's AS from the APIC (asn is optional there),
		// and a switch cannot have an AS of its own.
		{"aci switch with its own asn", "sviPath:", "asn: 1, sviPath:", "a switch cannot have its own"},
		{"asn too large", "asn: 63500", "asn: 4294967296", "invalid configuration"},
		{"bad peer IP", "peerIPs: [192.168.9.204]", "peerIPs: [192.168.9.304]", `peerIPs: "192.168.9.304" is not an IP address`},
		{"no peer IPs", "peerIPs: [192.168.9.204]", "peerIPs: []", "at least one Calico peerIP"},
		{"bad svi path", "topology/pod-1/paths-201/pathep-[eth1/33]", "pod-1/eth1/33", "sviPath"},
		{"svi path injection", "topology/pod-1/paths-201/pathep-[eth1/33]", "topology/pod-1/paths-201/pathep-[eth1/33]]/x", "sviPath"},
		{"http url", "https://127.0.0.1:8443", "http://127.0.0.1:8443", "must be an https:// URL"},
		{"url with path", "https://127.0.0.1:8443", "https://127.0.0.1:8443/api", "no path"},
		{"no url", `url: "https://127.0.0.1:8443", `, "", "the APIC URL is required; there is no default"},
		{"no credentials", "passwordFile: pw", "caFile: ca", "passwordFile or privateKeyFile+certificateName is required"},
		{"key without cert name", "passwordFile: pw", "privateKeyFile: key", "certificateName: required with privateKeyFile"},
		{"bad tenant", "tenant: T", "tenant: 'T T'", `tenant: "T T" must be 1-64 characters`},
		{"template without name", `service: "S_{namespace}_{name}"`, `service: "S_FIXED"`, "must contain {namespace} and {name}"},
		{"template without namespace", `service: "S_{namespace}_{name}"`, `service: "S_{NAME}"`, "must contain {namespace} and {name}"},
		{"template without a separator", `service: "S_{namespace}_{name}"`, `service: "S_{namespace}{name}"`, "separate the two placeholders"},
		{"template with a separator of name characters", `service: "S_{namespace}_{name}"`, `service: "S_{namespace}-x-{name}"`, "separate the two placeholders"},
		{"template with a placeholder twice", `service: "S_{namespace}_{name}"`, `service: "S_{namespace}_{name}_{NAME}"`, "once each"},
		{"policy", `  asn: 63500`, "  asn: 63500\n  policy: upsert-all", "policy"},
		{"deletion budget", `  asn: 63500`, "  asn: 63500\n  deletionBudget: {percent: 101}", "deletionBudget.percent"},
		{"ipam", `cluster: haystack`, "cluster: haystack\nipam: dhcp", "ipam"},
		{"min prefix length 0", `cluster: haystack`, "cluster: haystack\nminPrefixLength: {ipv4: 33}", "minPrefixLength.ipv4"},
		{"template with other placeholder", `service: "S_{namespace}_{name}"`, `service: "S_{namespace}_{name}_{uid}"`, "placeholders"},
		{"bad consumer", "consumers: [OTHER/EPG_DEFAULT]", "consumers: [a/b/c]", "is not <l3out>/<epg>"},
		{"nodes and pods equal", "pods: P", "pods: N", "nodes and pods must be different"},
		{"ssh on aci", "  aci:", "  ssh: {username: a}\n  aci:", "ssh: unknown field (driver aci)"},
		{"address on an aci switch", "sviPath:", "address: '127.0.0.1:22', sviPath:", "switches[0].address: unknown field (driver aci)"},
		{"fixed without paths", "  aci:", "  maximumPaths: {mode: fixed}\n  aci:", "maximumPaths.paths: 0 must be 1-64"},
		{"limit above ACI", "  aci:", "  maximumPaths: {limit: 65}\n  aci:", "driver aci allows 1-64"},
		{"mode true", "  aci:", "  maximumPaths: {mode: true}\n  aci:", "is not one of auto, fixed, off"},
		{"no fabrics", "fabrics:", "fabrics: []\nx:", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(validACI, tt.from, tt.to, 1)
			if doc == validACI {
				t.Fatalf("test bug: %q not found", tt.from)
			}
			_, err := Parse([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseSSHDrivers(t *testing.T) {
	base := `cluster: c
fabrics:
- name: f
  driver: frr
  asn: 65000
  switches:
  - {name: s1, peerIPs: [10.0.0.1], address: "127.0.0.1:2201"}
  ssh: {username: admin, passwordFile: pw, knownHostsFile: kh}
`
	if _, err := Parse([]byte(base)); err != nil {
		t.Fatalf("valid frr config: %v", err)
	}
	c, err := Parse([]byte(strings.Replace(base, "driver: frr", "driver: nxos", 1)))
	if err != nil {
		t.Fatalf("valid nxos config: %v", err)
	}
	if set, ok := c.Fabrics[0].Platform.(*clissh.Settings); !ok || set.SSH.Username != "admin" || set.SSH.Timeout.Seconds() != 10 {
		t.Errorf("the ssh section was not parsed by the driver: %+v", c.Fabrics[0].Platform)
	}
	if got := clissh.AddressOf(c.Fabrics[0].Switches[0]); got != "127.0.0.1:2201" {
		t.Errorf("the switch address was not parsed by the driver: %q", got)
	}
	for name, tt := range map[string]struct{ from, to, want string }{
		"no address":          {`address: "127.0.0.1:2201"`, `address: ""`, "there is no default"},
		"address no port":     {`address: "127.0.0.1:2201"`, `address: "127.0.0.1"`, "is not host:port"},
		"ipv6 unbracketed":    {`address: "127.0.0.1:2201"`, `address: "::1:22"`, "[addr]:port"},
		"no host key check":   {"knownHostsFile: kh", "knownHostsFile: ''", "knownHostsFile: required (or insecureIgnoreHostKey"},
		"no ssh":              {"  ssh: {username: admin, passwordFile: pw, knownHostsFile: kh}", "", "ssh: required for driver frr"},
		"duplicate peer":      {"- {name: s1, peerIPs: [10.0.0.1], address: \"127.0.0.1:2201\"}", "- {name: s1, peerIPs: [10.0.0.1], address: \"127.0.0.1:2201\"}\n  - {name: s2, peerIPs: [10.0.0.1], address: \"127.0.0.1:2202\"}", "already designates f/s1"},
		"duplicate switch":    {"- {name: s1, peerIPs: [10.0.0.1], address: \"127.0.0.1:2201\"}", "- {name: s1, peerIPs: [10.0.0.1], address: \"127.0.0.1:2201\"}\n  - {name: s1, peerIPs: [10.0.0.2], address: \"127.0.0.1:2202\"}", "duplicate switch name"},
		"bad vrf":             {"  ssh:", "  frr: {vrf: 'a b'}\n  ssh:", "frr.vrf"},
		"bad commit mode":     {"driver: frr", "driver: nxos\n  nxos: {commitMode: candidate}", `nxos.commitMode "candidate" is not checkpoint or session`},
		"nxos vrf too long":   {"driver: frr", "driver: nxos\n  nxos: {vrf: " + strings.Repeat("v", 40) + "}", "nxos.vrf"},
		"frr section on nxos": {"driver: frr", "driver: nxos\n  frr: {vrf: x}", "frr: unknown field (driver nxos)"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(base, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// The bgp section's session defaults are read as written, a key in other
// case too (as encoding/json does), and reach the session options.
func TestSessionDefaultsKeys(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(validACI, "  aci:", "  bgp: {passwordFile: '', Keepalive: 3, HOLD: 9}\n  aci:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Fabrics[0].BGP; b.Keepalive != 3 || b.Hold != 9 || b.SessionDefaults.Options().Hold != 9 {
		t.Errorf("session defaults %+v", b.SessionDefaults)
	}
}

func TestModeOffUnquoted(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(validACI, "  aci:", "  maximumPaths:\n    mode: off\n  aci:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fabrics[0].MaximumPaths.Mode != "off" {
		t.Errorf("mode = %q", c.Fabrics[0].MaximumPaths.Mode)
	}
}

func TestLoadResolvesSecretPaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fabric.yaml")
	if err := os.WriteFile(p, []byte(validACI), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Fabrics[0].Platform.(*aci.Settings)
	if got := a.APIC.PasswordFile; got != filepath.Join(dir, "pw") {
		t.Errorf("password file = %q", got)
	}
	pw, err := ReadSecretFile(a.APIC.PasswordFile)
	if err != nil || pw != "s3cret" {
		t.Errorf("ReadSecretFile = %q, %v", pw, err)
	}
	_, err = ReadSecretFile(filepath.Join(dir, "missing"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("missing secret: %v", err)
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	doc := strings.NewReplacer("pods: P", "pods: N", "tenant: T", "tenant: ''", "driver: aci", "driver: aci").Replace(validACI)
	_, err := Parse([]byte(doc))
	ve, ok := err.(*ValidationError)
	_ = nxos.Name
	if !ok || len(ve.Problems) < 2 {
		t.Fatalf("want every problem reported at once, got %v", err)
	}
}

// The bgp section's maxPrefix.limit is "auto" or a number, and YAML writes
// a number unquoted.
func TestMaxPrefixLimitNumberOrAuto(t *testing.T) {
	for yaml, want := range map[string]PrefixLimit{"50": "50", "'50'": "50", "auto": "auto"} {
		c, err := Parse([]byte(strings.Replace(validACI, "  aci:", "  bgp: {maxPrefix: {limit: "+yaml+"}}\n  aci:", 1)))
		if err != nil {
			t.Errorf("limit %s: %v", yaml, err)
			continue
		}
		if got := c.Fabrics[0].BGP.MaxPrefix.Limit; got != want {
			t.Errorf("limit %s = %q", yaml, got)
		}
	}
	if _, err := Parse([]byte(strings.Replace(validACI, "  aci:", "  bgp: {maxPrefix: {limit: [1]}}\n  aci:", 1))); err == nil {
		t.Error("a list as the limit accepted")
	}
}

// TestErrorsNameFileLineAndField: every configuration error says which
// file, which line and which field, whether the decoder (a value of the
// wrong type, an unknown key), the validation or a driver found it.
func TestErrorsNameFileLineAndField(t *testing.T) {
	tests := []struct {
		name, from, to string
		want           []string // each "LINE:COL: message part"
	}{
		{"string for a number", "asn: 63500", "asn: abc",
			[]string{`:5:8: fabrics[0] (haystack-aci).asn: the string "abc", want an integer from 0 to 4294967295`}},
		{"number out of range", "asn: 63500", "asn: 4294967296",
			[]string{`:5:8: fabrics[0] (haystack-aci).asn: the number 4294967296, want an integer from 0 to 4294967295`}},
		{"list for a number", "  aci:", "  maximumPaths: {limit: [1]}\n  aci:",
			[]string{`:8:25: fabrics[0] (haystack-aci).maximumPaths.limit: a list, want an integer`}},
		{"mapping for a list", "peerIPs: [192.168.9.204]", "peerIPs: {a: b}",
			[]string{`:7:30: fabrics[0] (haystack-aci).switches[0].peerIPs: a mapping, want a list`}},
		{"unknown top-level key", "cluster: haystack", "cluster: haystack\nclusterr: x",
			[]string{`:2:1: clusterr: unknown field`}},
		{"two at once", "asn: 63500", "asn: true\n  deletionBudget: {percent: x}",
			[]string{`:5:8: fabrics[0] (haystack-aci).asn: the boolean true`, `:6:29: fabrics[0] (haystack-aci).deletionBudget.percent: the string "x"`}},
		{"validation", "asn: 63500", "asn: 63500\n  policy: bogus",
			[]string{`:6:3: fabrics[0] (haystack-aci).policy: "bogus" is not one of sync`}},
		// The bgp section's session defaults (fabric.SessionDefaults,
		// embedded) are its own keys, checked by the options' checks.
		{"session defaults out of range", "  aci:", "  bgp: {keepalive: 5, hold: 2}\n  aci:",
			[]string{`:8:23: fabrics[0] (haystack-aci).bgp.hold: 2 must be 0 or 3-65535 seconds`,
				`:8:9: fabrics[0] (haystack-aci).bgp.keepalive: 5 must be 0-65535 seconds and less than the hold time`}},
		{"session default of the wrong type", "  aci:", "  bgp:\n    hold: nine\n  aci:",
			[]string{`:9:11: fabrics[0] (haystack-aci).bgp.hold: the string "nine", want an integer`}},
		{"unknown key beside the session defaults", "  aci:", "  bgp:\n    hold: 9\n    holdd: 9\n  aci:",
			[]string{`:10:5: fabrics[0] (haystack-aci).bgp.holdd: unknown field`}},
		{"driver: unknown key", "    tenant: T", "    tenant: T\n    tenantt: T",
			[]string{`:11:5: fabrics[0] (haystack-aci).aci: tenantt: unknown field`}},
		{"driver: wrong type", "    tenant: T", "    tenant: [T]",
			[]string{`:10:5: fabrics[0] (haystack-aci).aci: tenant: a list, want a string`}},
		{"YAML syntax", "  asn: 63500", "  asn: 63500: x",
			[]string{`:5: YAML: mapping values are not allowed in this context`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(validACI, tt.from, tt.to, 1)
			if doc == validACI {
				t.Fatalf("test bug: %q not found", tt.from)
			}
			p := filepath.Join(t.TempDir(), "fabric.yaml")
			if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), p+w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, p+w)
				}
			}
			if strings.Contains(err.Error(), "unmarshaling JSON") {
				t.Errorf("the decoder's message, without line or field: %v", err)
			}
		})
	}
}
