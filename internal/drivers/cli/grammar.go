package cli

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// InputError reports a value that must not reach a switch CLI.
type InputError struct {
	Field  string // what the value is, e.g. "node name"
	Value  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Field, Quote(e.Value), e.Reason)
}

// Quote returns v as a Go string literal, control characters escaped and cut
// to 80 characters, so that a hostile value is safe to log or print.
func Quote(v string) string {
	const max = 80
	if len(v) > max {
		return strconv.Quote(v[:max]) + "..."
	}
	return strconv.Quote(v)
}

func inputErr(field, value, format string, a ...any) error {
	return &InputError{Field: field, Value: value, Reason: fmt.Sprintf(format, a...)}
}

// Addr parses an IP address strictly: IPv4 dotted quad or IPv6, no zone, not
// unspecified, multicast or loopback. IPv4-mapped IPv6 is returned as IPv4.
func Addr(field, s string) (netip.Addr, error) {
	if err := plain(field, s); err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, inputErr(field, s, "not an IP address")
	}
	if a.Zone() != "" {
		return netip.Addr{}, inputErr(field, s, "an address with a zone cannot be configured")
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		return netip.Addr{}, inputErr(field, s, "not a unicast address")
	}
	return a, nil
}

// Prefix parses a prefix strictly: no host bits set, no zone.
func Prefix(field, s string) (netip.Prefix, error) {
	if err := plain(field, s); err != nil {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, inputErr(field, s, "not a prefix (address/length)")
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, inputErr(field, s, "a prefix with a zone cannot be configured")
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, inputErr(field, s, "write an IPv4 prefix in IPv4 form")
	}
	if p.Masked() != p {
		return netip.Prefix{}, inputErr(field, s, "host bits are set (the prefix is %s)", p.Masked())
	}
	return p, nil
}

// PrefixRange checks "le" for a prefix: from the prefix length to the
// family's maximum.
func PrefixRange(field string, p netip.Prefix, le int) error {
	max := 32
	if p.Addr().Is6() {
		max = 128
	}
	if le < p.Bits() || le > max {
		return inputErr(field, fmt.Sprintf("%s le %d", p, le), "le must be %d-%d", p.Bits(), max)
	}
	return nil
}

// ASN checks a BGP AS number: 1-4294967294, and not 23456 (AS_TRANS, which
// only appears on the wire).
func ASN(field string, n uint32) error {
	switch {
	case n == 0 || n == 4294967295:
		return inputErr(field, strconv.FormatUint(uint64(n), 10), "AS numbers are 1-4294967294")
	case n == 23456:
		return inputErr(field, "23456", "AS 23456 (AS_TRANS) cannot be a peer's AS")
	}
	return nil
}

// Name checks an identifier (node name, object name): letters and digits,
// then also '_', '.', '-'; at most max characters (0: no limit).
func Name(field, s string, max int) error {
	if err := plain(field, s); err != nil {
		return err
	}
	if s == "" {
		return inputErr(field, s, "empty")
	}
	if max > 0 && len(s) > max {
		return inputErr(field, s, "longer than %d characters", max)
	}
	if !isName(s) {
		return inputErr(field, s, "only letters, digits, '_', '.' and '-' are allowed, starting with a letter or digit")
	}
	return nil
}

// isName is nameRe.MatchString(s) without the regexp engine: Desire checks
// every node and object name of a large fabric on every reconcile
// (TestIsNameIsNameRe holds the two together).
func isName(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

var textRe = regexp.MustCompile(`^[A-Za-z0-9_.:=/,@+ -]*$`)

// Text checks free text such as a description: letters, digits, space and
// _.-:=/,@+ only, no leading or trailing space, at most max characters
// (0: no limit). Characters a CLI could read as syntax ('?' asks for help,
// '!' and '#' start comments, ';' and ']' end statements) never pass.
func Text(field, s string, max int) error {
	if err := plain(field, s); err != nil {
		return err
	}
	if max > 0 && len(s) > max {
		return inputErr(field, s, "longer than %d characters", max)
	}
	if strings.TrimSpace(s) != s || strings.Contains(s, "  ") {
		return inputErr(field, s, "leading, trailing or repeated spaces")
	}
	if !textRe.MatchString(s) {
		return inputErr(field, s, "only letters, digits, spaces and _.-:=/,@+ are allowed")
	}
	return nil
}

// Count checks an integer setting.
func Count(field string, n, min, max int) error {
	if n < min || n > max {
		return inputErr(field, strconv.Itoa(n), "must be %d-%d", min, max)
	}
	return nil
}

// plain rejects what must never reach a CLI whatever the field: line breaks,
// other control characters, statement separators and non-ASCII.
func plain(field, s string) error {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			return inputErr(field, s, "contains a line break")
		case r < 0x20 || r == 0x7f:
			return inputErr(field, s, "contains a control character")
		case r == ';' || r == ']':
			return inputErr(field, s, "contains %q", r)
		case r > 0x7e:
			return inputErr(field, s, "contains a non-ASCII character")
		}
	}
	return nil
}

// MaxNodeName is the longest node name the checks accept (a Kubernetes
// object name).
const MaxNodeName = 253

// CheckPeer validates every value of a BGP peer that a CLI line would carry.
func CheckPeer(p fabric.BGPPeer) error {
	a, err := Addr("peer address", p.PeerAddress)
	if err != nil {
		return err
	}
	if fabric.FamilyOf(a) != p.AddressFamily {
		return inputErr("address family", string(p.AddressFamily), "does not match peer address %s", a)
	}
	if err := Name("node name", p.Node, MaxNodeName); err != nil {
		return err
	}
	if err := Name("switch name", p.Switch, 63); err != nil {
		return err
	}
	if err := ASN("remote AS", p.RemoteASN); err != nil {
		return err
	}
	if err := ASN("local AS", p.LocalASN); err != nil {
		return err
	}
	return CheckOptions(p.PeerOptions)
}

// CheckPrefixFilter validates a per-peer prefix filter.
func CheckPrefixFilter(f fabric.PrefixFilter) error {
	a, err := Addr("peer address", f.PeerAddress)
	if err != nil {
		return err
	}
	if err := Name("node name", f.Node, MaxNodeName); err != nil {
		return err
	}
	if err := Name("switch name", f.Switch, 63); err != nil {
		return err
	}
	for _, r := range f.Prefixes {
		p, err := Prefix("filter prefix", r.Prefix)
		if err != nil {
			return err
		}
		if p.Addr().Is4() != a.Is4() {
			return inputErr("filter prefix", r.Prefix, "is not of the peer's address family")
		}
		if err := PrefixRange("filter prefix", p, r.LE); err != nil {
			return err
		}
	}
	return nil
}

// CheckMaximumPaths validates a maximum-paths setting against the
// platform's limit.
func CheckMaximumPaths(m fabric.MaximumPaths, max int) error {
	if m.AddressFamily != fabric.IPv4 && m.AddressFamily != fabric.IPv6 {
		return inputErr("address family", string(m.AddressFamily), "must be ipv4 or ipv6")
	}
	if err := Name("switch name", m.Switch, 63); err != nil {
		return err
	}
	return Count("maximum-paths", m.Paths, 1, max)
}
