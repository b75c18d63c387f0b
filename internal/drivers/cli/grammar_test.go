package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

func TestAddr(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "192.168.9.193", want: "192.168.9.193"},
		{in: "2001:db8::1", want: "2001:db8::1"},
		{in: "2001:DB8:0::1", want: "2001:db8::1"},
		{in: "::ffff:192.168.9.193", want: "192.168.9.193"},
		{in: "192.168.9.193\nrouter bgp 1", err: "line break"},
		{in: "192.168.9.193;", err: `contains ';'`},
		{in: "192.168.9.193]", err: `contains ']'`},
		{in: "192.168.9.193\x00", err: "control character"},
		{in: "192.168.9.1933", err: "not an IP address"},
		{in: "fe80::1%eth0", err: "zone"},
		{in: "0.0.0.0", err: "not a unicast"},
		{in: "224.0.0.5", err: "not a unicast"},
		{in: "127.0.0.1", err: "not a unicast"},
		{in: "", err: "not an IP address"},
		{in: "１.2.3.4", err: "non-ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Addr("peer address", tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Addr(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != "peer address" {
					t.Fatalf("error %v is not an *InputError for the field", err)
				}
				if strings.ContainsAny(err.Error(), "\n\x00") {
					t.Fatalf("error message carries the raw control characters: %q", err.Error())
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("Addr(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{in: "172.27.114.0/26"},
		{in: "172.29.0.0/16"},
		{in: "2001:db8::/64"},
		{in: "172.27.114.1/26", err: "host bits"},
		{in: "172.27.114.0/33", err: "not a prefix"},
		{in: "172.27.114.0", err: "not a prefix"},
		{in: "::ffff:10.0.0.0/104", err: "IPv4 form"},
		{in: "10.0.0.0/8 le 32", err: "not a prefix"},
		{in: "10.0.0.0/8\r", err: "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Prefix("prefix", tt.in)
			if (err != nil) != (tt.err != "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Prefix(%q) = %v, want error %q", tt.in, err, tt.err)
			}
		})
	}
}

func TestPrefixRange(t *testing.T) {
	tests := []struct {
		prefix string
		le     int
		ok     bool
	}{
		{"172.29.0.0/16", 32, true},
		{"172.29.0.0/16", 16, true},
		{"172.29.0.0/16", 15, false},
		{"172.29.0.0/16", 33, false},
		{"2001:db8::/64", 128, true},
		{"2001:db8::/64", 129, false},
	}
	for _, tt := range tests {
		p, _ := Prefix("p", tt.prefix)
		if err := PrefixRange("p", p, tt.le); (err == nil) != tt.ok {
			t.Errorf("PrefixRange(%s, %d) = %v, want ok=%v", tt.prefix, tt.le, err, tt.ok)
		}
	}
}

func TestASN(t *testing.T) {
	tests := []struct {
		n  uint32
		ok bool
	}{{1, true}, {63500, true}, {4200000000, true}, {4294967294, true}, {0, false}, {23456, false}, {4294967295, false}}
	for _, tt := range tests {
		if err := ASN("AS", tt.n); (err == nil) != tt.ok {
			t.Errorf("ASN(%d) = %v, want ok=%v", tt.n, err, tt.ok)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		in  string
		max int
		err string
	}{
		{in: "k8c1m0"},
		{in: "node-1.example.net"},
		{in: "Node_1"},
		{in: "", err: "empty"},
		{in: "-node", err: "only letters"},
		{in: "node 1", err: "only letters"},
		{in: "node\nexit", err: "line break"},
		{in: "node;reboot", err: "';'"},
		{in: "node?", err: "only letters"},
		{in: "node%", err: "only letters"},
		{in: "node!", err: "only letters"},
		{in: "abcdef", max: 5, err: "longer than 5"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := Name("node name", tt.in, tt.max)
			if (err != nil) != (tt.err != "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Name(%q) = %v, want error %q", tt.in, err, tt.err)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in  string
		err string
	}{
		{in: "orchestrator:fabric-reconciler.haystack node=k8c1m0"},
		{in: "a/b, c@d +e"},
		{in: "x\ny", err: "line break"},
		{in: "x;y", err: "';'"},
		{in: "x]", err: "']'"},
		{in: "x?", err: "only letters"},
		{in: "x # y", err: "only letters"},
		{in: "x % y", err: "only letters"},
		{in: " x", err: "spaces"},
		{in: "x  y", err: "spaces"},
		{in: "x\ty", err: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := Text("description", tt.in, 0)
			if (err != nil) != (tt.err != "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Text(%q) = %v, want error %q", tt.in, err, tt.err)
			}
		})
	}
	if err := Text("description", strings.Repeat("a", 81), 80); err == nil {
		t.Fatal("Text accepted 81 characters with max 80")
	}
}

func TestCheckObjects(t *testing.T) {
	peer := fabric.BGPPeer{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500, AddressFamily: fabric.IPv4}
	filter := fabric.PrefixFilter{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193",
		Prefixes: []fabric.PrefixRule{{Prefix: "172.27.114.0/26", LE: 26}, {Prefix: "172.29.0.0/16", LE: 32}}}
	mp := fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 3}
	tests := []struct {
		name string
		obj  fabric.Object
		err  string
	}{
		{"peer", peer, ""},
		{"peer node with newline", func() fabric.BGPPeer { p := peer; p.Node = "k8c1m0\nrouter bgp 1"; return p }(), "line break"},
		{"peer node with semicolon", func() fabric.BGPPeer { p := peer; p.Node = "k8c1m0;x"; return p }(), "';'"},
		{"peer address", func() fabric.BGPPeer { p := peer; p.PeerAddress = "192.168.9.193 remote-as 1"; return p }(), "not an IP"},
		{"peer family", func() fabric.BGPPeer { p := peer; p.AddressFamily = fabric.IPv6; return p }(), "does not match"},
		{"peer AS 0", func() fabric.BGPPeer { p := peer; p.RemoteASN = 0; return p }(), "AS numbers"},
		{"filter", filter, ""},
		{"filter prefix with bracket", func() fabric.PrefixFilter {
			f := filter
			f.Prefixes = []fabric.PrefixRule{{Prefix: "10.0.0.0/8]", LE: 8}}
			return f
		}(), "']'"},
		{"filter wrong family", func() fabric.PrefixFilter {
			f := filter
			f.Prefixes = []fabric.PrefixRule{{Prefix: "2001:db8::/64", LE: 64}}
			return f
		}(), "address family"},
		{"filter le", func() fabric.PrefixFilter {
			f := filter
			f.Prefixes = []fabric.PrefixRule{{Prefix: "10.0.0.0/8", LE: 7}}
			return f
		}(), "le must be"},
		{"maximum-paths", mp, ""},
		{"maximum-paths over limit", fabric.MaximumPaths{Switch: "leaf201", AddressFamily: fabric.IPv4, Paths: 300}, "must be 1-64"},
		{"maximum-paths family", fabric.MaximumPaths{Switch: "leaf201", AddressFamily: "ipx", Paths: 3}, "ipv4 or ipv6"},
		{"contract", fabric.Contract{Name: "c"}, "not configured on this platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkObject(tt.obj, 64)
			if (err != nil) != (tt.err != "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Check = %v, want error %q", err, tt.err)
			}
		})
	}
}

// checkObject validates any object the way the planner does before a line
// is written: each kind by its own check.
func checkObject(o fabric.Object, maxPaths int) error {
	switch v := o.(type) {
	case fabric.BGPPeer:
		return CheckPeer(v)
	case fabric.PrefixFilter:
		return CheckPrefixFilter(v)
	case fabric.MaximumPaths:
		return CheckMaximumPaths(v, maxPaths)
	}
	return fmt.Errorf("%s objects are not configured on this platform", o.Kind())
}

// TestIsNameIsNameRe: isName accepts exactly what the name grammar's
// regular expression does, for every string of up to 4 characters over
// an alphabet holding each class's edges and what lies just outside them.
func TestIsNameIsNameRe(t *testing.T) {
	nameRe := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	alphabet := []string{"a", "z", "A", "Z", "0", "9", "_", ".", "-", "/", "@", "[", "`", "{", ":", " ", "\n", "\x00", "\xc3", "é"}
	strs := []string{""}
	for n := 0; n < 4; n++ {
		var next []string
		for _, s := range strs {
			for _, c := range alphabet {
				next = append(next, s+c)
			}
		}
		for _, s := range next {
			if got, want := isName(s), nameRe.MatchString(s); got != want {
				t.Fatalf("isName(%q) = %v, the grammar says %v", s, got, want)
			}
		}
		strs = next
	}
}
