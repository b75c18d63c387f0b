package clissh

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// The configuration every SSH driver (FRR, NX-OS) shares: the `ssh` and
// `prefixFilters` sections of a fabric and each switch's `address`, plus
// one section of the driver's own (`frr`, `nxos`). config hands these keys
// over (config.DriverSpec); docs/configuration.md documents them.

// SSH is how to reach the switches.
type SSH struct {
	Username       string `json:"username"`
	PasswordFile   string `json:"passwordFile,omitempty"`
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`
	// KnownHostsFile verifies the switches' host keys.
	KnownHostsFile string `json:"knownHostsFile,omitempty"`
	// InsecureIgnoreHostKey turns off host-key checking (labs only).
	InsecureIgnoreHostKey bool            `json:"insecureIgnoreHostKey,omitempty"`
	Timeout               config.Duration `json:"timeout,omitempty"`
}

// PrefixFilters controls the per-node inbound prefix filters.
type PrefixFilters struct {
	// Disabled turns the filters off; they are on by default.
	Disabled bool `json:"disabled,omitempty"`
}

// Settings are a CLI fabric's settings; Own is the driver's own section.
type Settings struct {
	SSH           SSH
	PrefixFilters PrefixFilters
	// Peering is how the switches peer with the nodes: PeeringNeighbors
	// (the default) or PeeringListen.
	Peering string
	Own     any
}

// The values of the `peering` setting.
const (
	// PeeringNeighbors: one neighbor and one inbound filter per node.
	PeeringNeighbors = "neighbors"
	// PeeringListen: one range of dynamic neighbors per address family,
	// all sessions alike (one peer group, one shared filter).
	PeeringListen = "listen"
)

// Listen reports whether a fabric peers by listen ranges.
func (s *Settings) Listen() bool { return s != nil && s.Peering == PeeringListen }

// Endpoint is a switch's own setting: its SSH endpoint, host:port.
type Endpoint struct {
	Address string `json:"address"`
}

// SettingsOf returns a fabric's CLI settings (config has parsed them).
func SettingsOf(f config.Fabric) *Settings {
	s, _ := f.Platform.(*Settings)
	return s
}

// AddressOf returns a switch's SSH endpoint.
func AddressOf(sw config.Switch) string {
	if e, ok := sw.Platform.(*Endpoint); ok {
		return e.Address
	}
	return ""
}

// ParseSettings reads a CLI fabric's sections: `ssh` (required),
// `prefixFilters`, and the driver's own section (named own, decoded into
// ownValue, then checked by check), and each switch's `address`.
func ParseSettings(f *config.Fabric, ctx config.ParseContext, driver, own string, ownValue any, check func(*config.Fabric, config.ParseContext) []string) []string {
	var errs []string
	add := func(format string, v ...any) { errs = append(errs, fmt.Sprintf(format, v...)) }
	s, parsed := f.Platform.(*Settings)
	if !parsed {
		s = &Settings{Own: ownValue}
		hasSSH := false
		for k, raw := range f.Raw {
			var err error
			switch k {
			case "ssh":
				hasSSH = true
				err = decodeStrict(raw, &s.SSH)
			case "prefixFilters":
				err = decodeStrict(raw, &s.PrefixFilters)
			case "peering":
				err = decodeStrict(raw, &s.Peering)
			case own:
				err = decodeStrict(raw, ownValue)
			default:
				add("%s: unknown field (driver %s)", k, driver)
			}
			if err != nil {
				add("%s: %v", k, err)
			}
		}
		if !hasSSH {
			add("ssh: required for driver %s", driver)
			f.Platform = s
			return errs
		}
	}
	switch s.Peering {
	case "":
		s.Peering = PeeringNeighbors
	case PeeringNeighbors:
	case PeeringListen:
		if s.PrefixFilters.Disabled {
			add("peering: listen always filters what the nodes send (one filter for the group): prefixFilters.disabled does not apply")
		}
	default:
		add("peering: %q is not neighbors or listen", s.Peering)
	}
	if s.SSH.Timeout.Duration == 0 {
		s.SSH.Timeout.Duration = 10 * time.Second
	}
	for _, p := range []*string{&s.SSH.PasswordFile, &s.SSH.PrivateKeyFile, &s.SSH.KnownHostsFile} {
		*p = ctx.Path(*p)
	}
	errs = append(errs, s.SSH.validate("ssh")...)
	f.Platform = s
	for j := range f.Switches {
		sw := &f.Switches[j]
		at := fmt.Sprintf("switches[%d]", j)
		e, _ := sw.Platform.(*Endpoint)
		if e == nil {
			e = &Endpoint{}
			for k, raw := range sw.Raw {
				if k != "address" {
					add("%s.%s: unknown field (driver %s)", at, k, driver)
					continue
				}
				if err := decodeStrict(raw, &e.Address); err != nil {
					add("%s.address: %v", at, err)
				}
			}
		}
		if err := checkHostPort(e.Address); err != nil {
			add("%s.address: %v", at, err)
		}
		sw.Platform = e
	}
	if check != nil {
		errs = append(errs, check(f, ctx)...)
	}
	return errs
}

func decodeStrict(raw json.RawMessage, v any) error { return config.DecodeSection(raw, v) }

var (
	portRe = regexp.MustCompile(`^[0-9]{1,5}$`)
	hostRe = regexp.MustCompile(`^[a-zA-Z0-9.:_-]+$`)
)

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

// WithAddress returns the switch with its SSH endpoint set, for a
// configuration built in code rather than read from a file.
func WithAddress(sw config.Switch, addr string) config.Switch {
	sw.Platform = &Endpoint{Address: addr}
	return sw
}

// WithSettings returns the fabric with its CLI settings set, for a
// configuration built in code.
func WithSettings(f config.Fabric, s Settings) config.Fabric {
	f.Platform = &s
	return f
}
