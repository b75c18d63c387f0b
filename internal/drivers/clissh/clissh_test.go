package clissh

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		addr   string
		host   string
		port   int
		errHas string
	}{
		{addr: "127.0.0.1:2201", host: "127.0.0.1", port: 2201},
		{addr: "[::1]:22", host: "::1", port: 22},
		{addr: "leaf201.example.net:22", host: "leaf201.example.net", port: 22},
		{addr: "leaf201", errHas: `address "leaf201" is not host:port`},
		{addr: "leaf201:0", errHas: "bad port"},
		{addr: "leaf201:65536", errHas: "bad port"},
		{addr: "leaf201:ssh", errHas: "bad port"},
		{addr: ":22", errHas: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			host, port, err := SplitHostPort(tt.addr)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil || host != tt.host || port != tt.port {
				t.Fatalf("got %q %d %v, want %q %d", host, port, err, tt.host, tt.port)
			}
		})
	}
}

func TestCheckSwitches(t *testing.T) {
	tests := []struct {
		name   string
		sw     config.Switch
		errHas string
	}{
		{name: "fine", sw: WithAddress(config.Switch{Name: "leaf201"}, "127.0.0.1:22")},
		{name: "no port", sw: WithAddress(config.Switch{Name: "leaf201"}, "127.0.0.1"), errHas: "switch leaf201: address"},
		{name: "AS_TRANS", sw: WithAddress(config.Switch{Name: "leaf201", ASN: 23456}, "127.0.0.1:22"), errHas: "switch leaf201: switch AS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSwitches(config.Fabric{ASN: 63500, Switches: []config.Switch{tt.sw}})
			if (tt.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.errHas)) {
				t.Fatalf("error %v, want %q", err, tt.errHas)
			}
		})
	}
}

// The drivers' error texts depend on these: FRR's errors quote a lost
// connection alone, NX-OS's say "connection lost"; either way the apply can
// tell a lost connection from a refusal.
func TestErrorTexts(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
		conn bool
	}{
		{name: "line error, one mode", err: &LineError{Switch: "leaf201", Line: " neighbor 10.0.0.1 local-as 1", Reply: "% Unknown command"},
			want: `switch leaf201 refused "neighbor 10.0.0.1 local-as 1": % Unknown command`},
		{name: "line error, named mode", err: &LineError{Switch: "leaf201", Line: "  remote-as 1", Reply: "% Invalid command", Where: "configure terminal"},
			want: `switch leaf201 refused "remote-as 1" in configure terminal: % Invalid command`},
		{name: "connection error", err: fmt.Errorf("switch leaf201: %q: %w", "show running-config", &ConnError{Err: io.EOF}),
			want: `switch leaf201: "show running-config": EOF`, conn: true},
		{name: "labelled connection error", err: fmt.Errorf("switch leaf201: %w", &ConnError{Err: io.EOF, label: true}),
			want: `switch leaf201: connection lost: EOF`, conn: true},
		{name: "other", err: errors.New("no"), want: "no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
			if IsConnError(tt.err) != tt.conn {
				t.Fatalf("IsConnError = %v", !tt.conn)
			}
		})
	}
}

func TestReadErrorQuotesOneLine(t *testing.T) {
	err := &ReadError{Switch: "leaf201", Cmd: "show running-config bgp", Why: errors.New("not a configuration"),
		First: "% Permission denied for the role"}
	want := `switch leaf201: "show running-config bgp": not a configuration; the switch printed: % Permission denied for the role`
	if err.Error() != want {
		t.Fatalf("%q, want %q", err.Error(), want)
	}
	err.First = ""
	if !strings.HasSuffix(err.Error(), "the switch printed nothing") {
		t.Fatalf("%q", err.Error())
	}
}

func TestMatchBenign(t *testing.T) {
	known := []Benign{{Pattern: regexp.MustCompile(`^% ISSU will be affected if hold time is less than system switchover time \(\d+ seconds\)$`), Source: "s"}}
	tests := []struct {
		name  string
		lines []string
		ok    bool
	}{
		{"the known warning", []string{"% ISSU will be affected if hold time is less than system switchover time (8 seconds)"}, true},
		{"nothing said is not a warning", nil, false},
		{"an error after it", []string{"% ISSU will be affected if hold time is less than system switchover time (8 seconds)", "% Invalid command at '^' marker."}, false},
		{"an error in the same line", []string{"% ISSU will be affected if hold time is less than system switchover time (8 seconds) ERROR: x"}, false},
		{"unknown output", []string{"Warning: something new"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := MatchBenign(known, tt.lines); ok != tt.ok {
				t.Fatalf("MatchBenign = %v, want %v", ok, tt.ok)
			}
		})
	}
}
