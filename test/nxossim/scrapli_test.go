package nxossim

import (
	"os"
	"strings"
	"testing"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/transport"
)

// TestScrapligoCiscoNXOS drives the emulator with scrapligo's built-in
// cisco_nxos platform, unmodified, over both of its SSH transports.
func TestScrapligoCiscoNXOS(t *testing.T) {
	transports := []string{transport.StandardTransport}
	if _, err := os.Stat("/usr/bin/ssh"); err == nil {
		transports = append(transports, transport.SystemTransport)
	} else {
		t.Log("no /usr/bin/ssh (package openssh-client): system transport not tested")
	}
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, nil)
			d := scrapliDriver(t, s, tr)

			// The platform's on-open ran terminal width 511 and terminal length 0.
			var onOpen []string
			for _, e := range s.Log() {
				onOpen = append(onOpen, e.Line)
			}
			if strings.Join(onOpen, "|") != "terminal width 511|terminal length 0" {
				t.Errorf("on-open sent %q", onOpen)
			}

			steps := []struct {
				name  string
				run   func() (string, error)
				want  []string // substrings of the result
				fails bool     // scrapligo should flag the response as failed
			}{
				{"show version", func() (string, error) {
					r, err := d.SendCommand("show version")
					return result(r.Result, r.Failed, err)
				}, []string{" NXOS: version 9.3(8)", "Device name: leaf201", "cisco Nexus9000 C9300v Chassis"}, false},
				{"send configs", func() (string, error) {
					m, err := d.SendConfigs([]string{
						"router bgp 63500",
						"neighbor 192.168.9.193",
						"remote-as 63551",
						"description orchestrator:fabric-reconciler.haystack k8c1m0",
						"address-family ipv4 unicast",
						"prefix-list FR-IN-192.168.9.193 in",
						"ip prefix-list FR-IN-192.168.9.193 seq 5 permit 172.27.15.192/26",
					})
					if err != nil {
						return "", err
					}
					return result(m.JoinedResult(), m.Failed, nil)
				}, nil, false},
				{"show running-config bgp", func() (string, error) {
					r, err := d.SendCommand("show running-config bgp")
					return result(r.Result, r.Failed, err)
				}, []string{"!Command: show running-config bgp", "version 9.3(8) Bios:version", "feature bgp\n\nrouter bgp 63500\n" +
					"  neighbor 192.168.9.193\n    remote-as 63551\n" +
					"    description orchestrator:fabric-reconciler.haystack k8c1m0\n" +
					"    address-family ipv4 unicast\n      prefix-list FR-IN-192.168.9.193 in"}, false},
				{"show running-config rpm", func() (string, error) {
					r, err := d.SendCommand("show running-config rpm")
					return result(r.Result, r.Failed, err)
				}, []string{"ip prefix-list FR-IN-192.168.9.193 seq 5 permit 172.27.15.192/26"}, false},
				{"invalid config line is flagged", func() (string, error) {
					m, err := d.SendConfigs([]string{"router bgp 63500", "neighbour 192.168.9.194"})
					if err != nil {
						return "", err
					}
					return result(m.JoinedResult(), m.Failed, nil)
				}, []string{"% Invalid command at '^' marker."}, true},
				{"show ip bgp summary", func() (string, error) {
					r, err := d.SendCommand("show ip bgp summary")
					return result(r.Result, r.Failed, err)
				}, []string{"local AS number 63500", "192.168.9.193   4 63551"}, false},
			}
			for _, st := range steps {
				out, err := st.run()
				if st.fails {
					if err == nil {
						t.Errorf("%s: scrapligo did not flag the reply as failed: %q", st.name, out)
					}
				} else if err != nil {
					t.Errorf("%s: %v", st.name, err)
				}
				for _, w := range st.want {
					if !strings.Contains(out, w) {
						t.Errorf("%s: result lacks %q:\n%s", st.name, w, out)
					}
				}
			}
			if d.CurrentPriv != "privilege-exec" && d.CurrentPriv != "configuration" {
				t.Errorf("privilege level %q", d.CurrentPriv)
			}
		})
	}
}

func result(s string, failed, err error) (string, error) {
	if err != nil {
		return s, err
	}
	return s, failed
}

// sessionPriv is the privilege level the NX-OS driver adds to scrapligo's
// cisco_nxos platform for `configure session` (the platform itself excludes
// config-s prompts from its configuration level).
func addSessionPriv(d *network.Driver, name string) {
	d.PrivilegeLevels["configuration-session"] = &network.PrivilegeLevel{
		Name:         "configuration-session",
		Pattern:      `(?im)^[\w.\-]{1,63}\(config\-s[\w.\-@/:\+]{0,32}\)#\s?$`,
		PreviousPriv: "privilege-exec",
		Deescalate:   "end",
		Escalate:     "configure session " + name,
	}
	d.UpdatePrivileges()
}

// TestScrapligoConfigSession runs the flow the NX-OS driver uses: the
// unmodified platform plus a caller-added privilege level for (config-s)#,
// lines, verify, then commit or abort.
func TestScrapligoConfigSession(t *testing.T) {
	lines := []string{
		"router bgp 63500",
		"bestpath as-path multipath-relax",
		"address-family ipv4 unicast",
		"maximum-paths 3",
		"neighbor 192.168.9.194",
		"remote-as 63552",
		"description orchestrator:fabric-reconciler.haystack k8c1s1",
		"address-family ipv4 unicast",
		"prefix-list FR-IN-192.168.9.194 in",
		"ip prefix-list FR-IN-192.168.9.194 seq 5 permit 172.27.15.192/26",
		"ip prefix-list FR-IN-192.168.9.194 seq 10 permit 172.29.0.0/16 le 32",
	}
	cases := []struct {
		name      string
		setup     []string // configure terminal before the session
		lines     []string
		verifyOK  bool
		final     string // commit or abort
		wantBody  string // show running-config bgp body afterwards
		wantStats Stats
	}{
		{
			name: "verify and commit", lines: lines, verifyOK: true, final: "commit",
			wantBody: "feature bgp\n\nrouter bgp 63500\n  bestpath as-path multipath-relax\n" +
				"  address-family ipv4 unicast\n    maximum-paths 3\n  neighbor 192.168.9.194\n" +
				"    remote-as 63552\n    description orchestrator:fabric-reconciler.haystack k8c1s1\n" +
				"    address-family ipv4 unicast\n      prefix-list FR-IN-192.168.9.194 in",
			wantStats: Stats{SessionsStarted: 1, Verifies: 1, Commits: 1},
		},
		{
			// Another AS runs already: the session takes the lines, verify
			// fails, the caller aborts and nothing changes.
			name: "verify fails then abort", setup: []string{"router bgp 65000"},
			lines: lines, verifyOK: false, final: "abort",
			wantBody:  "feature bgp\n\nrouter bgp 65000",
			wantStats: Stats{SessionsStarted: 1, Verifies: 1, Aborts: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, func(o *Options) { o.StartupConfig = append(o.StartupConfig, tc.setup...); sessionsTakeBGP(o) })
			d := scrapliDriver(t, s, transport.StandardTransport)
			addSessionPriv(d, "fabric-reconciler")
			s.ResetLog()
			before := runningBody(t, s, "bgp")

			m, err := d.SendConfigs(tc.lines, opoptions.WithPrivilegeLevel("configuration-session"))
			if err != nil || m.Failed != nil {
				t.Fatalf("session lines: %v %v", err, m.Failed)
			}
			if got := runningBody(t, s, "bgp"); got != before {
				t.Fatalf("running config changed before commit:\n%s", got)
			}
			if ss := s.Sessions(); len(ss) != 1 || len(ss[0].Commands) != len(tc.lines) {
				t.Fatalf("sessions: %+v", ss)
			}
			v, err := d.SendConfig("verify", opoptions.WithPrivilegeLevel("configuration-session"))
			if err != nil {
				t.Fatal(err)
			}
			if ok := v.Failed == nil && strings.Contains(v.Result, "Verification Successful"); ok != tc.verifyOK {
				t.Fatalf("verify: failed=%v result=%q", v.Failed, v.Result)
			}
			if !tc.verifyOK && !strings.Contains(v.Result, "Failed command: 0001  router bgp 63500") {
				t.Errorf("verify failure does not name the command: %q", v.Result)
			}
			r, err := d.SendConfig(tc.final, opoptions.WithPrivilegeLevel("configuration-session"))
			if err != nil || r.Failed != nil {
				t.Fatalf("%s: %v %v %q", tc.final, err, r.Failed, r.Result)
			}
			if tc.final == "commit" && !strings.Contains(r.Result, "Commit Successful") {
				t.Errorf("commit reply %q", r.Result)
			}
			// Both leave configuration mode; scrapligo finds the exec prompt.
			if p, err := d.GetPrompt(); err != nil || strings.TrimSpace(p) != "leaf201#" {
				t.Errorf("prompt after %s: %q %v", tc.final, p, err)
			}
			if got := runningBody(t, s, "bgp"); got != tc.wantBody {
				t.Errorf("running config:\n%s\nwant:\n%s", got, tc.wantBody)
			}
			if len(s.Sessions()) != 0 {
				t.Errorf("session left open: %+v", s.Sessions())
			}
			st := s.Stats()
			got := Stats{SessionsStarted: st.SessionsStarted, Verifies: st.Verifies, Commits: st.Commits, Aborts: st.Aborts}
			if got != tc.wantStats {
				t.Errorf("stats %+v, want %+v", got, tc.wantStats)
			}
		})
	}
}
