package cli

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{" neighbor 10.9.9.9 password s3cr3t", " neighbor 10.9.9.9 password <redacted>"},
		{"    password 3 5ba8b3a5a4e0a5f1", "    password <redacted>"},
		{"username admin password 5 $5$abc$def  role network-admin", "username admin password <redacted>"},
		{"tacacs-server key 7 \"fewhg\"", "tacacs-server key <redacted>"},
		{"snmp-server user admin network-admin auth md5 0x12 priv 0x34 localizedkey", "snmp-server user admin network-admin auth <redacted>"},
		{"  description core uplink ERROR: see ticket 42", "  description core uplink ERROR: see ticket 42"},
		{"password", "password"}, // nothing after the keyword
		{"", ""},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeviceLine(t *testing.T) {
	long := strings.Repeat("x", MaxDeviceLine+50)
	tests := []struct{ in, want string }{
		{"% Invalid command at '^' marker.", "% Invalid command at '^' marker."},
		{"first\nsecond", "first"},
		{"esc\x1b[2Jx", `esc\x1b[2Jx`},
		{"neighbor 10.0.0.1 password hunter2", "neighbor 10.0.0.1 password <redacted>"},
		{long, strings.Repeat("x", MaxDeviceLine) + "..."},
	}
	for _, tt := range tests {
		got := DeviceLine(tt.in)
		if got != tt.want {
			t.Errorf("DeviceLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
		assertOneSafeLine(t, got)
	}
}

func TestExcerpt(t *testing.T) {
	nxosErr := "                       ^\r\n% Invalid command at '^' marker.\r\n"
	runningConfig := "!Command: show running-config bgp\n\nversion 9.3(8) Bios:version  \nrouter bgp 63500\n" +
		"  neighbor 10.9.9.8\n    description core uplink ERROR: see ticket 42\n" +
		"  neighbor 10.9.9.9\n    password 3 5ba8b3a5a4e0a5f1\n"
	tests := []struct {
		name, out string
		markers   []string
		want      string
	}{
		{"nothing", "\r\n  \r\n", nil, ""},
		{"caret dropped", nxosErr, []string{"% Invalid"}, "% Invalid command at '^' marker."},
		{"marker line picked", "Note: Applying config parallelly may fail Rollback verification\nERROR: Checkpoint x does not exist\n",
			[]string{"ERROR:"}, "ERROR: Checkpoint x does not exist (+1 more lines)"},
		{"first line without marker", "Verification Failed\nFailed command: 0004  local-as 63500\n", nil,
			"Verification Failed (+1 more lines)"},
		{"a configuration is never quoted whole", runningConfig, []string{"ERROR:"},
			"description core uplink ERROR: see ticket 42 (+6 more lines)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt(tt.out, tt.markers)
			if got != tt.want {
				t.Errorf("Excerpt = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "5ba8b3a5") {
				t.Errorf("Excerpt quotes another line's secret: %q", got)
			}
			assertOneSafeLine(t, got)
		})
	}
}
